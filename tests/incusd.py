"""A real, throw-away incusd for the tests that load generated Incus files.

scripts/fetch-incus.sh unpacks Incus 6.0 LTS from Debian's bookworm-backports
into a cache directory (`make test` and .ci/run run it first). `Incusd`
starts incusd from there with its own INCUS_DIR under a temporary directory,
in a network and mount namespace of its own (`unshare --net --mount`: it has nothing to reach,
and its start-up look-up of image metadata fails at once instead of leaving
the machine), and stops it again. It needs root.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# What runs in incusd's namespaces before incusd. A fresh network namespace has no main routing table, and
# incusd's bridge set-up (`ip route flush dev BRIDGE proto static`) fails without one: a bridge of its own
# with a TEST-NET address makes it. The host's /sys shows the host's interfaces, not the namespace's, so a
# sysfs of the namespace is mounted (in a mount namespace of its own) over /sys/class/net and
# /sys/devices/virtual/net: incusd finds the bridges it made and the containers' veth pairs.
NAMESPACE_SETUP = (
    "ip link set lo up && ip link add psot0 type bridge && ip addr add 192.0.2.1/24 dev psot0"
    " && ip link set psot0 up && mkdir -p \"$INCUS_DIR/sysfs\" && mount -t sysfs sysfs \"$INCUS_DIR/sysfs\""
    " && mount --bind \"$INCUS_DIR/sysfs/class/net\" /sys/class/net"
    " && mount --bind \"$INCUS_DIR/sysfs/devices/virtual/net\" /sys/devices/virtual/net"
    # liblxc pins a container's rootfs on its compiled-in /usr/lib/x86_64-linux-gnu/lxc/rootfs, which only the
    # liblxc package creates: an overlay, seen by this namespace alone, adds it without touching the host.
    " && { [ -d /usr/lib/x86_64-linux-gnu/lxc/rootfs ] || { mkdir -p \"$INCUS_DIR/lxc-overlay/upper\""
    " \"$INCUS_DIR/lxc-overlay/work\" && mount -t overlay overlay -o lowerdir=/usr/lib/x86_64-linux-gnu,"
    "upperdir=\"$INCUS_DIR/lxc-overlay/upper\",workdir=\"$INCUS_DIR/lxc-overlay/work\" /usr/lib/x86_64-linux-gnu"
    " && mkdir -p /usr/lib/x86_64-linux-gnu/lxc/rootfs; }; } &&")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("PSOT_INCUS_CACHE") or Path(base) / "psot" / "incus")


def unavailable_reason() -> str | None:
    """Why incusd cannot be started here, or None when it can be tried."""
    root = cache_dir() / "root"
    if not (root / "usr" / "libexec" / "incus" / "incusd").is_file():
        return f"Incus is not unpacked in {cache_dir()}: run scripts/fetch-incus.sh (make test does)"
    if os.geteuid() != 0:
        return "incusd needs root"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) not found"
    return None


class Incusd:
    def __init__(self) -> None:
        self.root = cache_dir() / "root"
        self.dir = Path(tempfile.mkdtemp(prefix="psot-incusd-"))
        libs = [self.root / "usr/lib/x86_64-linux-gnu", self.root / "lib/x86_64-linux-gnu"]
        self.env = {
            "PATH": os.pathsep.join([str(self.dir / "bin"), str(self.root / "usr/bin"), str(self.root / "usr/sbin"),
                                     str(self.root / "sbin"), str(self.root / "usr/libexec/incus"),
                                     os.environ.get("PATH", "/usr/bin:/bin")]),
            "LD_LIBRARY_PATH": os.pathsep.join(str(p) for p in libs),
            "INCUS_DIR": str(self.dir),
            "HOME": str(self.dir),
            "LANG": "C.UTF-8",
            # LXC's hooks, unpacked: without the nvidia hook incusd refuses any change to a container with
            # nvidia.runtime. It runs only when such a container starts.
            "INCUS_LXC_HOOK": str(self.root / "usr/share/lxc/hooks"),
        }
        self.log = self.dir / "incusd.out"
        # incusd also refuses nvidia.runtime without NVIDIA's nvidia-container-cli on its PATH. This machine has
        # no NVIDIA driver: a stand-in that says so lets incusd take the config; a container using it would
        # not start (none is started here).
        cli = self.dir / "bin" / "nvidia-container-cli"
        cli.parent.mkdir()
        cli.write_text("#!/bin/sh\necho 'nvidia-container-cli: no NVIDIA driver on this test machine' >&2\n"
                       "exit 1\n")
        cli.chmod(0o755)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: int = 60) -> None:
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                ["unshare", "--net", "--mount", "sh", "-c", NAMESPACE_SETUP + ' exec "$0" "$@"',
                 str(self.root / "usr/libexec/incus/incusd"), "--group", "root",
                 "--logfile", str(self.dir / "incusd.log")],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        ready = self.incus("admin", "waitready", "--timeout", str(timeout), timeout=timeout + 10)
        if ready.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:]
            self.stop()
            raise RuntimeError(f"incusd did not start: {ready.stderr.strip()}\n{log}")
        # Instances need a root disk: a `dir` pool, as AnKLuMe's `default` pool.
        self.check("storage", "create", "default", "dir")

    def incus(self, *args: str, stdin: bytes | str | None = None, timeout: int = 60) -> subprocess.CompletedProcess:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        result = subprocess.run([str(self.root / "usr/bin/incus"), *args], env=self.env, input=data,
                                capture_output=True, timeout=timeout)
        return subprocess.CompletedProcess(result.args, result.returncode,
                                           result.stdout.decode(errors="replace"),
                                           result.stderr.decode(errors="replace"))

    def check(self, *args: str, stdin: bytes | str | None = None) -> str:
        result = self.incus(*args, stdin=stdin)
        if result.returncode != 0:
            raise AssertionError(f"incus {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def version(self) -> str:
        return self.check("version").strip()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.incus("admin", "shutdown", "--timeout", "30", timeout=40)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        self._unmount()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _unmount(self) -> None:
        """Anything incusd left mounted under its directory (deepest first), so it can be removed."""
        prefix = str(self.dir) + "/"
        mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
        for point in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
        time.sleep(0.1)


def running_incusd() -> Iterator[Incusd]:
    """A started incusd for a pytest fixture; stopped afterwards.

    Under CI (CI set, as .ci/run does) a missing incusd fails the test;
    elsewhere it is skipped with the reason.
    """
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"incusd is required under CI: {reason}")
        pytest.skip(reason)
    daemon = Incusd()
    try:
        daemon.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield daemon
    daemon.stop()
