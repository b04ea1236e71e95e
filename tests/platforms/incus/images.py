"""Images a test incusd (tests/incusd.py) creates containers from without a network.

`living_image` is a container that runs: its rootfs holds this machine's `dash` with the C library it links,
and `/sbin/init`, a dash script that blocks forever on a FIFO it holds open for reading and writing (no
other program is needed, so the image is the same on every Debian-like machine the suite runs on).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

MTIME = 1700000000
META = b"architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: psot test image\n"
INIT = b"#!/bin/sh\nexec 3<>/run/hold\nwhile :; do read -r line <&3; done\n"


def _add(tar: tarfile.TarFile, name: str, kind: bytes = tarfile.DIRTYPE, data: bytes = b"", mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, MTIME
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def _libraries(binary: Path) -> list[Path]:
    """The shared libraries `binary` loads, as ldd resolves them on this machine (the loader included)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("/"):
                found.append(Path(word))
    return found


def living_image(path: Path) -> Path:
    """An image whose container starts and stays running: dash as /bin/sh, its libraries, a blocking init."""
    dash = Path("/bin/sh").resolve()
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "metadata.yaml", tarfile.REGTYPE, META, 0o644)
        for folder in ("rootfs", "rootfs/bin", "rootfs/sbin", "rootfs/run", "rootfs/dev", "rootfs/proc",
                       "rootfs/sys", "rootfs/tmp", "rootfs/etc"):
            _add(tar, folder)
        _add(tar, "rootfs/bin/sh", tarfile.REGTYPE, dash.read_bytes())
        _add(tar, "rootfs/sbin/init", tarfile.REGTYPE, INIT)
        _add(tar, "rootfs/run/hold", tarfile.FIFOTYPE, mode=0o600)
        made = {"rootfs", "rootfs/bin", "rootfs/sbin", "rootfs/run"}
        for library in _libraries(dash):       # at the path the loader asks for, as plain files
            parts = library.parts[1:-1]
            for depth in range(1, len(parts) + 1):
                folder = "rootfs/" + "/".join(parts[:depth])
                if folder not in made:
                    made.add(folder)
                    _add(tar, folder)
            _add(tar, "rootfs" + str(library), tarfile.REGTYPE, library.resolve().read_bytes())
    return path
