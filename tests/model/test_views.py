"""generator/model/: the typed views the model carries (Incus objects, hosts, workloads, stored models),
in file order where infra.yml's order is theirs."""

from __future__ import annotations

import textwrap

import yaml

from generator.model.core import Infra, build, without
from generator.model.hosts import Pool, Taint
from generator.model.storage import StoredModel, pool_of, stored_models
from generator.model.workloads import WorkloadModel

DOCUMENT = """
project_name: views
global: {gpu_policy: shared, compose: {command: podman-compose}}
domains:
  lab:
    trust_level: untrusted
    profiles:
      vgpu: {devices: {gpu: {type: gpu, gputype: mdev, mdev: nvidia-63}, root: {type: disk}}}
      cuda: {config: {nvidia.runtime: "true"}, devices: {gpu: {type: gpu}}}
    machines:
      zeta: {type: vm, profiles: [vgpu, cuda], devices: {card: {type: gpu, pci: "0000:01:00.0"}}}
      alpha: {profiles: [cuda], devices: {gpu: {type: disk, path: /x, source: /srv/x}}}
hosts:
  box:
    platform: kubernetes
    cpu_vendor: amd
    psu_watts: 750
    storage: {root: {size_gb: 20, free_gb: 2}, fast: {free_gb: 500}}
    labels: {tier: fast}
    taints: [{key: dedicated, value: llm, effect: NoSchedule}, {key: gpu}]
    gpus:
      zz: {vendor: nvidia, vram_gb: 16, index: 1, mapping: big-gpu}
      aa: {vendor: nvidia, vram_gb: 8, index: 0}
workloads:
  web: {target: compose, host: box, gpu: false, service: frontend, environment: {LOG: info},
        model: {name: tiny, disk_gb: 1, pool: fast}}
  llm: {target: kubernetes, host: box, kind: StatefulSet, namespace: ai, name: llm-0, dedicated_node: true,
        gpu: {vram_gb: 6, pin: zz}, model: {name: big, vram_gb: 5, disk_gb: 3}}
  vm: {target: proxmox, host: box, vmid: 100, machine: q35, model: {vram_gb: 4}}
"""


def model() -> Infra:
    return build(yaml.safe_load(textwrap.dedent(DOCUMENT)))


def test_the_incus_objects_in_file_order_with_the_gpu_devices_they_end_up_with():
    infra = model()
    domain = infra.domains["lab"]
    assert (domain.name, domain.trust_level, domain.path) == ("lab", "untrusted", ("domains", "lab"))
    assert list(domain.profiles) == ["vgpu", "cuda"] and list(domain.machines) == ["zeta", "alpha"]
    cuda = domain.profiles["cuda"]
    assert cuda.config == {"nvidia.runtime": "true"} and cuda.path == ("domains", "lab", "profiles", "cuda")
    zeta, alpha = domain.machines["zeta"], domain.machines["alpha"]
    assert (zeta.type, zeta.type_written, zeta.profiles) == ("vm", True, ("vgpu", "cuda"))
    assert (alpha.type, alpha.type_written, alpha.config) == ("lxc", False, {})
    # Profiles in the machine's order, a later device of the same name replacing an earlier one.
    assert [d.path for d in zeta.expanded_gpu_devices] == [("domains", "lab", "profiles", "cuda", "devices", "gpu"),
                                                          ("domains", "lab", "machines", "zeta", "devices", "card")]
    assert alpha.expanded_gpu_devices == ()   # its own disk device `gpu` replaces the profile's GPU
    assert [d.label for d in infra.gpu_devices] == [
        "profile 'vgpu' device 'gpu'", "profile 'cuda' device 'gpu'", "machine 'zeta' device 'card'"]
    assert infra.gpu_devices[0].gputype == "mdev" and infra.gpu_devices[1].gputype == "physical"


def test_a_host_carries_its_pools_labels_taints_and_its_gpus_as_listed():
    host = model().hosts["box"]
    assert (host.cpu_vendor, host.psu_watts, dict(host.labels)) == ("amd", 750, {"tier": "fast"})
    assert list(host.storage.values()) == [Pool("root", 20, 2, ("hosts", "box", "storage", "root")),
                                           Pool("fast", None, 500, ("hosts", "box", "storage", "fast"))]
    assert host.taints == (Taint("dedicated", "llm", "NoSchedule", ("hosts", "box", "taints", 0)),
                           Taint("gpu", None, None, ("hosts", "box", "taints", 1)))
    assert [t.text for t in host.taints] == ["dedicated=llm:NoSchedule", "gpu"]
    assert [g.name for g in host.gpus] == ["aa", "zz"] and [g.name for g in host.listed] == ["zz", "aa"]
    assert [g.mapping for g in host.listed] == ["big-gpu", None]


def test_every_workload_gpu_consumer_or_not_with_the_keys_as_written():
    infra = model()
    assert list(infra.workloads) == ["web", "llm", "vm"] and "web" not in infra.consumers
    web, llm, vm = infra.workloads.values()
    assert (web.target, web.host, web.service, dict(web.environment)) == ("compose", "box", "frontend", {"LOG": "info"})
    assert web.model == WorkloadModel("tiny", None, 1, "fast")
    assert (llm.kind, llm.namespace, llm.object_name, llm.dedicated_node) == ("StatefulSet", "ai", "llm-0", True)
    assert (llm.service, llm.vmid, llm.machine) == ("llm", None, None)
    assert (vm.vmid, vm.machine, vm.kind, vm.dedicated_node) == (100, "q35", None, False)
    assert vm.model == WorkloadModel(None, 4, None, None)
    assert infra.compose_command == "podman-compose"


def test_where_a_consumer_writes_its_vram_and_its_pin():
    infra = model()
    llm, vm, zeta = infra.consumers["llm"], infra.consumers["vm"], infra.consumers["zeta"]
    assert llm.vram_path == ("workloads", "llm", "gpu", "vram_gb") and llm.request.pin_written
    assert vm.vram_path == ("workloads", "vm", "model", "vram_gb") and not vm.request.pin_written
    # The machine is pinned by its device's `pci`, which infra.yml writes as no pin.
    assert zeta.request.pin == "pci:0000:01:00.0" and not zeta.request.pin_written
    assert zeta.vram_path == ("domains", "lab", "machines", "zeta")


def test_stored_models_go_to_their_pool_or_the_only_one():
    infra = model()
    assert pool_of(infra.workloads["web"], infra.hosts) == ("box", "fast")
    assert pool_of(infra.workloads["llm"], infra.hosts) is None   # several pools, none named
    assert stored_models(infra) == {("box", "fast"): [StoredModel("web", "tiny", 1.0, "box", "fast")]}
    one_pool = model().data
    del one_pool["hosts"]["box"]["storage"]["fast"]
    del one_pool["workloads"]["web"]
    assert stored_models(build(one_pool)) == {("box", "root"): [StoredModel("llm", "big", 3.0, "box", "root")]}


def test_without_keeps_the_listed_gpus_the_same_as_the_gpus():
    gone = without(model(), ("box/zz",))
    host = gone.hosts["box"]
    assert [g.status for g in host.listed] == ["unavailable", "ok"]
    assert host.listed[0] is gone.gpus["box/zz"] and host.gpus[1] is gone.gpus["box/zz"]
