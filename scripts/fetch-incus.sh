#!/usr/bin/env bash
# Fetch Incus 6.0 LTS (incusd and the incus client) from Debian's
# bookworm-backports, unpacked into a cache directory, for the tests that load
# psot's generated Incus files into a real incusd (tests/incusd.py).
#
# Nothing is installed on the system: apt-get runs with a sources list, package
# lists and an archive cache of its own, and the .debs are unpacked with
# `dpkg-deb -x`. Idempotent: a second run with the same package list does
# nothing. Prints the cache directory on success.
#
#   scripts/fetch-incus.sh            # into ${PSOT_INCUS_CACHE:-~/.cache/psot/incus}
#   PSOT_INCUS_CACHE=/tmp/x scripts/fetch-incus.sh
set -euo pipefail

CACHE="${PSOT_INCUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/psot/incus}"
ROOT="$CACHE/root"
STAMP="$CACHE/.fetched"

# incusd and the client, the shared libraries bookworm itself lacks (or has too
# old), and the tools incusd refuses to start without (rsync, setfattr,
# unsquashfs), nft and dnsmasq for the managed bridges of the domains, liblxc-common for LXC's hooks
# (INCUS_LXC_HOOK: incusd refuses nvidia.runtime without the nvidia hook). The other libraries incusd links (libuv1, libseccomp2,
# libapparmor1, libsqlite3-0, libudev1, liblz4-1) are on Debian 12 as shipped.
PACKAGES=(incus-base incus-client liblxc1 libcowsql0 libraft0 rsync libpopt0 attr squashfs-tools liblzo2-2
          nftables libnftables1 libnftnl11 libjansson4 libxtables12 dnsmasq-base libnetfilter-conntrack3 libnfnetlink0
          liblxc-common)

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "${PACKAGES[*]}" && -x "$ROOT/usr/libexec/incus/incusd" ]]; then
    echo "$CACHE"
    exit 0
fi

for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "fetch-incus: $tool not found (Debian/Ubuntu only)" >&2; exit 1; }
done
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r "$KEYRING" ]] || { echo "fetch-incus: $KEYRING missing (apt-get install debian-archive-keyring)" >&2; exit 1; }

APT="$CACHE/apt"
rm -rf "$APT" "$ROOT" "$STAMP"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$ROOT"
cat > "$APT/sources.list" <<SOURCES
deb [signed-by=$KEYRING] http://deb.debian.org/debian bookworm main
deb [signed-by=$KEYRING] http://deb.debian.org/debian bookworm-backports main
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
"$ROOT/usr/bin/incus" --version >/dev/null
printf '%s' "${PACKAGES[*]}" > "$STAMP"
echo "$CACHE"
