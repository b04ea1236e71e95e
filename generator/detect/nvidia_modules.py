"""Which NVIDIA kernel modules the host has, open or proprietary: /proc/driver/nvidia/version, `modinfo nvidia`.

NVIDIA ships its Linux kernel modules in two flavours, one at a time
(driver README, chapter "Open Linux Kernel Modules"): the open ones,
"dual licensed MIT/GPLv2" and published as open-gpu-kernel-modules, and
the proprietary ones. Two outputs tell which:

- /proc/driver/nvidia/version (README, "Using the /proc File System
  Interface": "the installed driver revision and the version of the GNU C
  compiler used to build the Linux kernel module"), the module that is
  loaded. Its first line names the flavour:

      NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  575.64.03  Release Build  (...)  <date>
      NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.127.05  <date>

- `modinfo nvidia` (modinfo(8): `field: value` lines), the module file
  installed, which the next boot loads: its `license` is the
  MODULE_LICENSE of the source, `Dual MIT/GPL` for the open modules and
  `NVIDIA` for the proprietary ones (whose loading the kernel logs as
  "module license 'NVIDIA' taints kernel").

Neither lists GPUs: the flavour is the host's `nvidia.kernel_modules`.
"""

from __future__ import annotations

import re

from generator.detect.records import KernelModules, Parsed

VERSION_FORMAT = "nvidia-proc-version"
VERSION_COMMAND = ["cat", "/proc/driver/nvidia/version"]
MODINFO_FORMAT = "modinfo-nvidia"
MODINFO_COMMAND = ["modinfo", "nvidia"]

NVRM = re.compile(r"^NVRM version:\s+NVIDIA UNIX (?P<open>Open Kernel Module for \S+|\S+ Kernel Module)\s",
                  re.MULTILINE)
MODINFO_NAME = re.compile(r"^(?:name:\s+nvidia|filename:\s+\S*/nvidia\.ko(?:\.[a-z]+)?)\s*$", re.MULTILINE)
_LICENSE = re.compile(r"^license:\s+(.*?)\s*$")
_LICENSES = {"dual mit/gpl": "open", "nvidia": "proprietary"}


def parse_version(text: str, source: str) -> Parsed:
    parsed = Parsed(VERSION_FORMAT, source)
    found = NVRM.search(text)
    if found is None:
        parsed.error("DETECT001", "no `NVRM version: NVIDIA UNIX ... Kernel Module` line: not "
                     "/proc/driver/nvidia/version")
        return parsed
    flavour = "open" if found["open"].startswith("Open ") else "proprietary"
    line = text.count("\n", 0, found.start()) + 1
    parsed.kernel_modules = KernelModules(flavour, True, source, line)
    return parsed


def parse_modinfo(text: str, source: str) -> Parsed:
    parsed = Parsed(MODINFO_FORMAT, source)
    for number, line in enumerate(text.splitlines(), start=1):
        found = _LICENSE.match(line)
        if found is None:
            continue
        flavour = _LICENSES.get(found.group(1).lower())
        if flavour is None:
            parsed.problem(f"line {number}: license {found.group(1)[:40]!r} is neither the open modules' "
                           "(Dual MIT/GPL) nor the proprietary ones' (NVIDIA)", number)
        else:
            parsed.kernel_modules = KernelModules(flavour, False, source, number)
        return parsed
    parsed.error("DETECT001", "`modinfo nvidia` output without a `license:` line")
    return parsed
