#!/usr/bin/env bash
# Fetch Debian 12's podman (4.3), unpacked into a cache directory, for the
# tests that run podman-compose's `--dry-run up` over psot's override
# (tests/platforms/compose/test_podman_compose.py): podman-compose asks
# podman for the project's containers and networks even in a dry run.
#
# Nothing is installed on the system: apt-get runs with a sources list, package
# lists and an archive cache of its own, and the .debs are unpacked with
# `dpkg-deb -x` (as scripts/fetch-incus.sh does for Incus). Idempotent: a second
# run with the same package list does nothing. Prints the cache directory on success.
#
#   scripts/fetch-podman.sh            # into ${PSOT_PODMAN_CACHE:-~/.cache/psot/podman}
set -euo pipefail

CACHE="${PSOT_PODMAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/psot/podman}"
ROOT="$CACHE/root"
STAMP="$CACHE/.fetched"

# podman, the configuration it reads (containers-common: registries, storage, policy), netavark (podman-compose
# creates the project's network even in a dry run: netavark writes its definition) and the shared
# libraries bookworm's base image lacks.
PACKAGES=(podman golang-github-containers-common golang-github-containers-image conmon crun libgpgme11 libassuan0
          libsubid4 libyajl2 netavark aardvark-dns)

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "${PACKAGES[*]}" && -x "$CACHE/bin/podman" ]]; then
    echo "$CACHE"
    exit 0
fi

for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "fetch-podman: $tool not found (Debian/Ubuntu only)" >&2; exit 1; }
done
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r "$KEYRING" ]] || { echo "fetch-podman: $KEYRING missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

APT="$CACHE/apt"
rm -rf "$APT" "$ROOT" "$STAMP" "$CACHE/bin" "$CACHE/state"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$ROOT"
cat > "$APT/sources.list" <<SOURCES
deb [signed-by=$KEYRING] http://deb.debian.org/debian bookworm main
SOURCES
OPTS=(-q -o "Dir::Etc::sourcelist=$APT/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$APT/lists"
      -o "Dir::Cache=$APT/cache" -o "Dir::State::status=/dev/null" -o APT::Sandbox::User=root
      -o APT::Architecture=amd64)

apt-get "${OPTS[@]}" update >&2
debs="$APT/debs"
mkdir -p "$debs"
(cd "$debs" && apt-get "${OPTS[@]}" download "${PACKAGES[@]}" >&2)
for deb in "$debs"/*.deb; do
    dpkg-deb -x "$deb" "$ROOT"
done
rm -rf "$APT/lists" "$APT/cache"
mkdir -p "$CACHE/bin" "$CACHE/state"
cat > "$CACHE/containers.conf" <<CONF
[engine]
helper_binaries_dir = ["$ROOT/usr/lib/podman"]
conmon_path = ["$ROOT/usr/bin/conmon"]
runtime = "crun"
static_dir = "$CACHE/state/root/libpod"
tmp_dir = "$CACHE/state/run/libpod"
[engine.runtimes]
crun = ["$ROOT/usr/bin/crun"]
[network]
network_backend = "netavark"
network_config_dir = "$CACHE/state/networks"
CONF
cat > "$CACHE/bin/podman" <<WRAPPER
#!/bin/sh
export LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu" CONTAINERS_CONF="$CACHE/containers.conf"
exec "$ROOT/usr/bin/podman" --root "$CACHE/state/root" --runroot "$CACHE/state/run" --storage-driver vfs "\$@"
WRAPPER
chmod +x "$CACHE/bin/podman"
"$CACHE/bin/podman" ps -a --format json >/dev/null
printf '%s' "${PACKAGES[*]}" > "$STAMP"
echo "$CACHE"
