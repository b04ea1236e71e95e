"""Shared by the detect tests: the fixtures, and an infra.yml built around a detected block."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import REPO

FIXTURES = REPO / "tests" / "fixtures" / "detect"
# Seed 000's impossible host, kept on purpose: nvidia-smi lists the RTX 5070 Ti (open modules only) and the GTX
# 970 (proprietary only) on one driver, and a host loads one nvidia.ko, so psot answers DRV003 (DRV003_SEED_000).
SEED_000 = [FIXTURES / "seed000-nvidia-smi.csv", FIXTURES / "seed000-lspci.txt"]
# What the machine reports of the flavour it loaded: the open modules (the GTX 970 becomes unavailable, DRV004).
OPEN_MODULES = FIXTURES / "pve-nvidia-version.txt"
# The same machine made possible: seed 000's outputs with the kernel modules it runs.
SEED_000_OPEN = [*SEED_000, OPEN_MODULES]
DRV003_SEED_000 = (
    "error[DRV003] host 'ws' drives NVIDIA GPUs that no one kernel-module flavour runs: ws/rtx-5070-ti "
    "(GeForce RTX 5070 Ti) needs the open modules (Blackwell), ws/gtx-970 (GeForce GTX 970) needs the proprietary "
    "modules (Maxwell); a host loads one nvidia.ko. Pass one card through to a VM (gpu.passthrough), which runs its "
    "own driver, or take it out of the inventory; or set hosts.ws.nvidia.kernel_modules to the flavour the host "
    "runs, and the GPUs it cannot drive become unavailable")
SEED_001 = [FIXTURES / "seed001-nvidia-smi.csv"]
MIXED = [FIXTURES / "mixed-lspci.txt", FIXTURES / "mixed-nvidia-smi.csv", FIXTURES / "mixed-rocm-smi.json",
         FIXTURES / "mixed-amd-smi.json"]
# Seed 000's machine as a Proxmox host: the GTX 970 bound to vfio-pci for a VM, the 5070 Ti on the open modules.
PVE = [FIXTURES / "pve-nvidia-smi.csv", FIXTURES / "pve-lspci.txt", FIXTURES / "pve-iommu-groups.txt",
       FIXTURES / "pve-nvidia-version.txt"]
# A mini PC's APU, a Radeon 780M: its VRAM is a 512 MiB carve-out, its GTT 31 GB.
APU = [FIXTURES / "apu-rocm-smi.json", FIXTURES / "apu-amd-smi.json", FIXTURES / "apu-amd-smi-metric.json",
       FIXTURES / "apu-lspci.txt"]
# Saved outputs that list no GPU: facts about the GPUs the others list (IOMMU groups, GTT) or about the host.
LISTINGS = [FIXTURES / name for name in ("apu-amd-smi-metric.json", "mixed-iommu-groups-ls.txt",
                                         "pve-iommu-groups.txt", "pve-modinfo-nvidia.txt", "pve-nvidia-version.txt")]
# Every saved tool output that lists GPUs (the README describes them, it is not one).
OUTPUTS = sorted(p for p in FIXTURES.iterdir() if p.name != "README.md" and p not in LISTINGS)
# The smallest infra.yml that compiles, without `hosts:`: a printed block pastes below it as it is.
MINIMAL_INFRA = "project_name: pasted\nglobal: {}\ndomains: {}\n"


def with_host_flavour(files: list[Path]) -> list[Path]:
    """`files`, with the open modules' /proc/driver/nvidia/version when they are seed 000's nvidia-smi listing
    without a flavour: the possible machine, for tests whose point is that detect's output compiles."""
    flavours = {OPEN_MODULES.name, "pve-modinfo-nvidia.txt"}
    if FIXTURES / "seed000-nvidia-smi.csv" in files and not any(p.name in flavours for p in files):
        return [*files, OPEN_MODULES]
    return files


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def infra_around(block_text: str, tmp_path: Path, platform: str = "docker", gpu_policy: str = "exclusive") -> Path:
    """A complete infra.yml whose host is the pasted block, with a platform and a compose workload per GPU."""
    block = yaml.safe_load(block_text)
    (host, spec), = block["hosts"].items()
    spec["platform"] = platform
    workloads = {f"svc-{i}": {"target": "compose", "host": host, "gpu": {"vram_gb": 1, "pin": gpu}}
                 for i, gpu in enumerate(spec["gpus"])}
    data = {"project_name": "detected", "global": {"gpu_policy": gpu_policy}, "domains": {},
            "hosts": block["hosts"], "workloads": workloads}
    path = tmp_path / "infra.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def completed(block_text: str, vram_gb: float) -> str:
    """The block edited as its note asks: each `<GB>` filled in, the commented GPUs uncommented (one `# `
    less on each line), and `gpus: {}` deleted when they come as a `gpus:` mapping of their own."""
    lines = block_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("# fill in vram_gb")) + 1
    head, tail = lines[:start - 2], [line.replace("# ", "", 1) for line in lines[start:]]
    if tail[0].strip() == "gpus:":
        head = [line for line in head if line.strip() != "gpus: {}"]
    return "\n".join(head + tail).replace("<GB>", f"{vram_gb:g}") + "\n"
