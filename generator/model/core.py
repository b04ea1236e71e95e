"""The model's core: the schema-valid document as typed data.

Builds the GPU inventory (hosts and their GPUs) and the list of GPU
consumers (Incus machines with GPU access, and workloads), and resolves the
names they refer to where it can (a request's `pin`). It reports nothing:
the rules in generator/rules/ judge the model. Every object keeps the data
path it came from, so a finding can point at it. `build` also makes the views of
the other modules of this package (incus.py, hosts.py, workloads.py), which the
model carries.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, overload

from generator.hardware import driver_status
from generator.model.hosts import Pool, Taint, pools_of, taints_of
from generator.model.incus import Domain, GpuDevice, all_gpu_devices, domain_views, machine_gpu_devices
from generator.model.workloads import Workload, workload_views
from generator.platforms import PLATFORMS, incus

DEFAULT_STRATEGY = "vram_based"
DEFAULT_HEADROOM_GB = 0.5
DEFAULT_BUDGET_ENV = "VRAM_BUDGET_GB"


@dataclass(frozen=True)
class PciFunction:
    """Another function of a GPU's card (its HDMI audio, a USB-C controller): bound for passthrough with it."""
    pci: str
    pci_id: str | None
    class_: str | None        # the PCI class code as lspci prints it: 0403 (audio device)


@dataclass(frozen=True)
class Gpu:
    host: str
    name: str
    vendor: str
    vram_gb: float
    index: int | None
    pci: str | None
    pci_id: str | None
    model: str | None
    architecture: str | None
    compute_capability: str | None
    driver: str | None
    tdp_watts: float | None
    speed: float | None
    mapping: str | None       # proxmox: the name of its cluster PCI mapping
    # For consumers on the host's driver (containers): the worse of `declared_status` and what that driver
    # allows (see _host_driver_status). A consumer it is passed through to sees `declared_status`
    # (placement/eligibility.py status).
    status: str
    declared_status: str      # as written in infra.yml (default ok); unavailable once `--without` takes it
    path: tuple
    uuid: str | None = None                              # NVIDIA's GPU-… identifier
    functions: tuple[PciFunction, ...] | None = None
    iommu_group: int | None = None
    subsystem_id: str | None = None                      # vvvv:dddd, the board's maker and model
    driver_in_use: str | None = None                     # the kernel driver bound to it: nvidia, vfio-pci
    memory: str | None = None                            # dedicated, or unified (an APU)

    @functools.cached_property
    def key(self) -> str:
        # Cached: placement asks millions of times on a large inventory.
        return f"{self.host}/{self.name}"


@dataclass(frozen=True)
class Host:
    name: str
    platform: str | None
    iommu: bool
    gpus: tuple[Gpu, ...]              # by name
    listed: tuple[Gpu, ...]            # the same, in the order infra.yml lists them
    cpu_vendor: str | None
    psu_watts: float | None
    storage: Mapping[str, Pool]        # in file order
    labels: Mapping[str, str]          # Kubernetes node labels
    taints: tuple[Taint, ...]          # Kubernetes node taints
    path: tuple
    spec: Mapping[str, Any]
    nvidia_kernel_modules: str | None = None             # open or proprietary, as the host declares


@dataclass(frozen=True)
class Budget:
    env: str
    gb: float
    path: tuple


@dataclass(frozen=True)
class Request:
    vram_gb: float
    # GPUs wanted. With `count: all` (count_all) placement gives every GPU eligible for the consumer on its
    # host (placement.wanted); count is then 1, the least that request can be met with.
    count: int = 1
    count_all: bool = False
    vendor: str = "any"
    min_compute_capability: str | None = None
    cuda: str | None = None         # the CUDA version its image is built for: 12.8
    pin: str | None = None          # as written in infra.yml (or `pci:<address>` from an Incus device)
    pin_gpu: str | None = None      # resolved `host/gpu`, None when unresolved
    latency_critical: bool = False
    isolate: bool = False
    passthrough: bool = False
    budget: Budget | None = None
    path: tuple = ()

    @property
    def pin_written(self) -> bool:
        """infra.yml writes the pin (`gpu.pin`); a `pci:` pin comes from an Incus device's `pci`."""
        return self.pin is not None and not self.pin.startswith("pci:")


@dataclass(frozen=True)
class Consumer:
    name: str
    kind: str                 # "machine" or "workload"
    target: str               # a platform's name (generator/platforms)
    host: str | None
    domain: str | None
    request: Request
    model_name: str | None
    path: tuple
    order: int                # position in infra.yml: messages list consumers as the file does
    spec: Mapping[str, Any] = field(repr=False)

    @property
    def label(self) -> str:
        """What messages call it: the model it loads when known (seed 001), else its name."""
        return self.model_name or self.name

    @property
    def vram_path(self) -> tuple:
        """Where its VRAM estimate is written: `gpu.vram_gb`, else `model.vram_gb`, else its request."""
        gpu = self.spec.get("gpu")
        if isinstance(gpu, dict) and "vram_gb" in gpu:
            return self.request.path + ("vram_gb",)
        model = self.spec.get("model")
        if isinstance(model, dict) and "vram_gb" in model:
            return self.path + ("model", "vram_gb")
        return self.request.path

    @property
    def is_vm(self) -> bool:
        return PLATFORMS[self.target].is_vm(self.spec)


@dataclass(frozen=True)
class Infra:
    project_name: str
    gpu_policy: str
    strategy: str
    headroom_gb: float
    targets: tuple[str, ...]
    hosts: Mapping[str, Host]
    gpus: Mapping[str, Gpu]            # `host/gpu` -> Gpu, sorted by key
    consumers: Mapping[str, Consumer]  # name -> Consumer, sorted by name
    duplicates: tuple[tuple[Consumer, Consumer], ...]  # (dropped consumer, the one that kept the name)
    domains: Mapping[str, Domain]      # the Incus objects, in file order
    gpu_devices: tuple[GpuDevice, ...]  # the domains' GPU devices: per domain, its profiles', then its machines'
    workloads: Mapping[str, Workload]  # every workload, GPU consumer or not, in file order
    compose_command: str | None        # global.compose.command
    data: Mapping[str, Any] = field(repr=False)
    # The output directory relative to infra.yml's directory (POSIX), set by the pipeline: what a generated file
    # that names a path of the project (the kustomization's base) is relative to.
    output_dir: str = "generated"
    project_dir: str = "/"             # infra.yml's directory, absolute: anchors the two relative paths above

    @functools.cached_property
    def dedicated_nodes(self) -> Mapping[str, frozenset[str]]:
        """Node -> the workloads with `dedicated_node: true` that run there by their `host` or their pin.

        Computed once per model (each consumer's eligibility asks it; placement/eligibility.py host_ok).
        A dedicated workload without either gets its node from placement: that node is not known before,
        and K8S002 judges who else placement put there."""
        owners: dict[str, set[str]] = {}
        for workload in self.workloads.values():
            if not workload.dedicated_node:
                continue
            consumer = self.consumers.get(workload.name)
            pinned = consumer.request.pin_gpu if consumer is not None and consumer.path == workload.path else None
            node = workload.host or (self.gpus[pinned].host if pinned is not None and pinned in self.gpus else None)
            if node is not None:
                owners.setdefault(node, set()).add(workload.name)
        return MappingProxyType({node: frozenset(names) for node, names in owners.items()})

    def gpu_label(self, key: str) -> str:
        """How every finding names a GPU: `GPU 1 (ws/rtx-a400)` (the driver's index, as nvidia-smi users
        know it, and the GPU's host/gpu) when infra.yml gives its `index`, else `ws/rtx-a400`."""
        gpu = self.gpus[key]
        return f"GPU {gpu.index} ({key})" if gpu.index is not None else key


@overload
def _num(value: Any, default: float) -> float: ...
@overload
def _num(value: Any, default: None = None) -> float | None: ...
def _num(value: Any, default: float | None = None) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def build(data: Mapping[str, Any]) -> Infra:
    """The typed model of a schema-valid document."""
    glob = data.get("global") or {}
    placement = glob.get("placement") or {}
    hosts, gpus = _hosts(data.get("hosts") or {})
    consumers: dict[str, Consumer] = {}
    duplicates = []
    found = _machines(data.get("domains") or {}) + _workloads(data.get("workloads") or {})
    for order, consumer in enumerate(found):
        consumer = replace(consumer, order=order)
        if consumer.name in consumers:
            duplicates.append((consumer, consumers[consumer.name]))
            continue
        consumers[consumer.name] = _resolve_pin(consumer, gpus)
    targets = tuple(glob.get("targets") or _targets_with_input(consumers, data))
    domains = domain_views(data.get("domains") or {})
    return Infra(
        project_name=str(data.get("project_name", "")),
        gpu_policy=glob.get("gpu_policy", "exclusive"),
        strategy=placement.get("strategy", DEFAULT_STRATEGY),
        headroom_gb=_num(placement.get("headroom_gb"), DEFAULT_HEADROOM_GB),
        targets=targets,
        hosts=MappingProxyType(dict(sorted(hosts.items()))),
        gpus=MappingProxyType(dict(sorted(gpus.items()))),
        consumers=MappingProxyType(dict(sorted(consumers.items()))),
        duplicates=tuple(duplicates),
        domains=MappingProxyType(domains),
        gpu_devices=all_gpu_devices(domains),
        workloads=MappingProxyType(workload_views(data.get("workloads") or {})),
        compose_command=(glob.get("compose") or {}).get("command"),
        data=data,
    )


def _targets_with_input(consumers: Mapping[str, Consumer], data: Mapping[str, Any]) -> list[str]:
    """Targets something in infra.yml is for: GPU consumers, and Incus for any domain with machines."""
    present = {c.target for c in consumers.values()}
    if any((d or {}).get("machines") for d in (data.get("domains") or {}).values()):
        present.add(incus.NAME)
    return [t for t in PLATFORMS if t in present]


def _hosts(section: Mapping[str, Any]) -> tuple[dict[str, Host], dict[str, Gpu]]:
    hosts: dict[str, Host] = {}
    gpus: dict[str, Gpu] = {}
    for host_name, spec in section.items():
        spec = spec or {}
        path = ("hosts", host_name)
        host_gpus = []
        for gpu_name, g in (spec.get("gpus") or {}).items():
            declared = g.get("status", "ok")
            gpu = Gpu(
                host=host_name, name=gpu_name, vendor=g["vendor"], vram_gb=float(g["vram_gb"]),
                index=g.get("index"), pci=_gpu_address(g.get("pci")), pci_id=g.get("pci_id"),
                model=g.get("model"), architecture=g.get("architecture"),
                compute_capability=g.get("compute_capability"), driver=g.get("driver"),
                tdp_watts=_num(g.get("tdp_watts")), speed=_num(g.get("speed")), mapping=g.get("mapping"),
                status=_host_driver_status(g, declared, (spec.get("nvidia") or {}).get("kernel_modules")),
                declared_status=declared, path=path + ("gpus", gpu_name),
                uuid=g.get("uuid"), functions=_functions(g.get("functions")), iommu_group=g.get("iommu_group"),
                subsystem_id=g.get("subsystem_id"), driver_in_use=g.get("driver_in_use"), memory=g.get("memory"),
            )
            host_gpus.append(gpu)
            gpus[gpu.key] = gpu
        hosts[host_name] = Host(
            host_name, spec.get("platform"), bool(spec.get("iommu", False)),
            gpus=tuple(sorted(host_gpus, key=lambda x: x.name)), listed=tuple(host_gpus),
            cpu_vendor=spec.get("cpu_vendor"), psu_watts=spec.get("psu_watts"), storage=pools_of(host_name, spec),
            labels=MappingProxyType(spec.get("labels") or {}), taints=taints_of(host_name, spec), path=path,
            spec=spec, nvidia_kernel_modules=(spec.get("nvidia") or {}).get("kernel_modules"))
    return hosts, gpus


def _host_driver_status(g: Mapping[str, Any], declared: str, kernel_modules: str | None) -> str:
    """The GPU's status for the consumers that run on the host's driver: the worse of `declared` and what
    that driver makes of it (generator/hardware/driver_status.py): below the architecture's minimum or above
    its last branch, or on a kernel-module flavour (the host's `nvidia.kernel_modules`) that cannot drive it.

    A GPU detect found on vfio-pci is reserved for a VM, which brings its own driver: only `declared` counts.
    """
    if g.get("driver_in_use") == "vfio-pci":
        return declared
    vendor, driver = g["vendor"], g.get("driver")
    statuses = [declared]
    assessment = driver_status.assess(vendor, g.get("architecture"), g.get("compute_capability"), driver,
                                      g.get("pci_id"))
    if assessment is not None:
        statuses.append(assessment.status)
    row = driver_status.architecture_of(vendor, g.get("architecture"), g.get("compute_capability"))
    if row is not None and (driver_status.beyond_last_branch(row, driver) or (
            kernel_modules is not None and driver_status.flavours(row)
            and kernel_modules not in driver_status.flavours(row))):
        statuses.append("unavailable")
    return driver_status.worst(*statuses)


def _gpu_address(raw: Any) -> str | None:
    """A GPU's `pci`, lower case; the slot form `0000:01:00` (the whole card, as Proxmox allows) is its function 0."""
    if not raw:
        return None
    pci = str(raw).lower()
    return pci if "." in pci else f"{pci}.0"


def _functions(raw: Any) -> tuple[PciFunction, ...] | None:
    if raw is None:
        return None
    return tuple(PciFunction(f["pci"].lower(), f.get("pci_id"), f.get("class")) for f in raw)


def _request(raw: Any, path: tuple, default_vram: float, passthrough_default: bool) -> Request:
    """A request from `gpu: true` or a request mapping (SPEC §2 "GPU consumers")."""
    if not isinstance(raw, dict):
        return Request(vram_gb=default_vram, passthrough=passthrough_default, path=path)
    budget = None
    if isinstance(raw.get("budget"), dict):
        b = raw["budget"]
        budget = Budget(env=b.get("env", DEFAULT_BUDGET_ENV), gb=float(b["gb"]), path=path + ("budget", "gb"))
    return Request(
        vram_gb=_num(raw.get("vram_gb"), default_vram),
        count=1 if raw.get("count") == "all" else int(raw.get("count", 1)),
        count_all=raw.get("count") == "all",
        vendor=raw.get("vendor", "any"),
        min_compute_capability=raw.get("min_compute_capability"),
        cuda=raw.get("cuda"),
        pin=raw.get("pin"),
        latency_critical=bool(raw.get("latency_critical", False)),
        isolate=bool(raw.get("isolate", False)),
        passthrough=bool(raw.get("passthrough", passthrough_default)),
        budget=budget,
        path=path,
    )


def _machines(domains: Mapping[str, Any]) -> list[Consumer]:
    """Incus machines with GPU access: `gpu:` (direct), a profile of their domain with a
    `gpu` device (AnKLuMe's indirect detection), or a `gpu` device of their own."""
    out = []
    for domain_name, domain in domains.items():
        domain = domain or {}
        for machine_name, machine in (domain.get("machines") or {}).items():
            machine = machine or {}
            path = ("domains", domain_name, "machines", machine_name)
            devices = machine_gpu_devices(domain_name, domain, machine_name, machine)
            gpu = machine.get("gpu", False)
            if gpu is False and not devices:
                continue
            request = _request(gpu, path + ("gpu",) if "gpu" in machine else path, 0.0,
                               PLATFORMS[incus.NAME].passthrough_default(machine))
            pci = next((d["pci"] for d in devices if isinstance(d.get("pci"), str)), None)
            if pci and request.pin is None:
                # A profile that names the card by PCI address pins the machine to it.
                request = replace(request, pin=f"pci:{pci.lower()}")
            out.append(Consumer(machine_name, "machine", incus.NAME, None, domain_name, request, None, path, 0,
                                machine))
    return out


def _workloads(section: Mapping[str, Any]) -> list[Consumer]:
    out = []
    for name, spec in section.items():
        spec = spec or {}
        gpu = spec.get("gpu", True)
        if gpu is False:
            continue
        path = ("workloads", name)
        model = spec.get("model") or {}
        target = spec["target"]
        request = _request(gpu, path + ("gpu",) if "gpu" in spec else path,
                           _num(model.get("vram_gb"), 0.0), PLATFORMS[target].passthrough_default(spec))
        out.append(Consumer(name, "workload", target, spec.get("host"), None, request, model.get("name"), path, 0,
                            spec))
    return out


def match_pin(pin: str, host: str | None, gpus: Mapping[str, Gpu]) -> list[str]:
    """The `host/gpu` keys a pin can mean: a GPU name, `host/gpu`, or `pci:<address>`.

    A bare name used on several hosts is narrowed to the consumer's host when it has one.
    """
    if pin.startswith("pci:"):
        return [k for k, g in gpus.items() if g.pci == pin[4:]]
    if "/" in pin:
        return [pin] if pin in gpus else []
    matches = [k for k, g in gpus.items() if g.name == pin]
    if len(matches) > 1 and host:
        matches = [k for k in matches if gpus[k].host == host]
    return matches


def _resolve_pin(consumer: Consumer, gpus: Mapping[str, Gpu]) -> Consumer:
    pin = consumer.request.pin
    if pin is None:
        return consumer
    matches = match_pin(pin, consumer.host, gpus)
    if len(matches) != 1:
        return consumer  # rule REF002 reports it (an Incus `pci:` without inventory is fine)
    return replace(consumer, request=replace(consumer.request, pin_gpu=matches[0]))


def without(infra: Infra, keys: tuple[str, ...]) -> Infra:
    """The same infrastructure with the GPUs `keys` gone (`psot place --without`): they become unavailable,
    to every consumer."""
    gpus = {k: replace(g, status="unavailable", declared_status="unavailable") if k in keys else g
            for k, g in infra.gpus.items()}
    hosts = {name: replace(h, gpus=tuple(gpus[g.key] for g in h.gpus), listed=tuple(gpus[g.key] for g in h.listed))
             for name, h in infra.hosts.items()}
    return replace(infra, gpus=MappingProxyType(gpus), hosts=MappingProxyType(hosts))
