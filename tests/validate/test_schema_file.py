"""The JSON Schema of infra.yml (schemas/infra.schema.json), tested as a file.

AnKLuMe's own infra.yml documents must validate unchanged (psot's format is a
superset of AnKLuMe's), a full psot document must validate, and typical
mistakes must be reported with the JSON Schema keyword the compiler turns
into its message (type, enum, additionalProperties, pattern, required).
"""

import copy
import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "infra.schema.json"


@pytest.fixture(scope="module")
def schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema):
    return Draft202012Validator(schema)


# AnKLuMe's GPU documentation (seed 004): exclusive GPU, zone addressing.
ANKLUME_EXCLUSIVE_GPU = """\
project_name: ai-stack
global:
  addressing:
    base_octet: 10
    zone_base: 100
  # gpu_policy: exclusive  # This is the default
domains:
  ai-tools:
    trust_level: semi-trusted
    profiles:
      nvidia-compute:
        devices:
          gpu:
            type: gpu
            gputype: physical
    machines:
      gpu-server:
        type: lxc
        gpu: true
        profiles: [default, nvidia-compute]
        roles: [base_system, ollama_server, stt_server]
"""

# Legacy addressing (base_subnet + subnet_id) with the rest of AnKLuMe's
# keys: policies, shared volumes, persistent data, resource policy, MCP
# services, boot and snapshot settings.
ANKLUME_MULTI_DOMAIN = """\
---
project_name: my-infra
global:
  base_subnet: "10.100"
  default_os_image: "images:debian/13"
  default_connection: community.general.incus
  default_user: root
  firewall_mode: vm
  nesting_prefix: false
  ai_access_policy: exclusive
  ai_access_default: pro
  ai_vram_flush: true
  shared_volumes_base: /mnt/anklume-data/shares
  persistent_data_base: /srv/anklume/data
  resource_policy:
    host_reserve:
      cpu: "20%"
      memory: "4GiB"
    mode: proportional
    cpu_mode: allowance
    memory_enforce: soft
    overcommit: false
domains:
  anklume:
    description: "Administration and orchestration"
    subnet_id: 0
    trust_level: admin
    ephemeral: false
    machines:
      anklume-instance:
        description: "Ansible controller"
        type: lxc
        ip: "10.100.0.10"
        config:
          security.nesting: "true"
          security.syscalls.intercept.mknod: "true"
        roles:
          - base_system
  pro:
    description: "Professional workspace"
    subnet_id: 2
    trust_level: trusted
    ai_provider: local-first
    ai_sanitize: always
    openclaw: true
    machines:
      pro-dev:
        description: "Development workspace"
        type: lxc
        ip: "10.100.2.10"
        weight: 3
        boot_autostart: true
        boot_priority: 50
        snapshots_schedule: "0 2 * * *"
        snapshots_expiry: "30d"
        config:
          limits.cpu: "4"
          limits.memory: "8GiB"
        persistent_data:
          projects:
            path: /home/user/projects
          config:
            path: /home/user/.config
            readonly: true
        roles: [base_system]
  vault:
    description: "Secrets"
    subnet_id: 3
    trust_level: trusted
    machines:
      vault-signer:
        type: lxc
        ip: "10.100.3.10"
        services:
          - name: file_sign
            tool: gpg_sign
            consumers: [pro-dev]
  ai-tools:
    description: "AI services domain"
    subnet_id: 10
    ephemeral: false
    profiles:
      nvidia-compute:
        description: "NVIDIA GPU passthrough"
        devices:
          gpu:
            type: gpu
        config:
          nvidia.runtime: "true"
    machines:
      gpu-server:
        description: "Ollama"
        type: lxc
        ip: "10.100.10.10"
        gpu: true
        profiles:
          - default
          - nvidia-compute
        storage_volumes:
          models:
            size: "200GiB"
            path: /data/models
        roles: [base_system, ollama_server]
  sandbox:
    description: "Disposable"
    subnet_id: 20
    trust_level: disposable
    ephemeral: true
    enabled: false
    machines:
      sbx-test:
        type: lxc
        ip: "10.100.20.10"
        ephemeral: true
network_policies:
  - description: "Pro accesses AI services"
    from: pro
    to: ai-tools
    ports: [3000, 8080]
    protocol: tcp
  - description: "Host accesses Ollama"
    from: host
    to: gpu-server
    ports: [11434]
    protocol: tcp
  - description: "Pro and vault talk freely"
    from: pro
    to: vault
    ports: all
    bidirectional: true
shared_volumes:
  docs:
    source: /mnt/anklume-data/shares/docs
    path: /shared/docs
    shift: true
    propagate: false
    consumers:
      pro: ro
      pro-dev: rw
      ai-tools: ro
"""

# Seed 004's VM passthrough profile, two GPU machines under gpu_policy: shared.
ANKLUME_VM_PASSTHROUGH = """\
project_name: llm-supervisor
global:
  addressing:
    base_octet: 10
    zone_base: 100
    zone_step: 10
  default_os_image: "images:debian/13"
  default_connection: community.general.incus
  default_user: root
  gpu_policy: shared
  resource_policy: true
domains:
  llm-alpha:
    trust_level: semi-trusted
    description: "First LLM instance"
    profiles:
      nvidia-compute:
        devices:
          gpu:
            type: gpu
            gputype: physical
            gid: "44"
        config: {}
    machines:
      llm-alpha-server:
        description: "Ollama server (primary model)"
        type: lxc
        gpu: true
        profiles: [default, nvidia-compute]
        roles: [base_system, ollama_server]
  homelab:
    trust_level: untrusted
    description: "GPU VM"
    profiles:
      gpu-passthrough:
        devices:
          gpu:
            type: gpu
            pci: "0000:01:00.0"
        config:
          security.secureboot: "false"
    machines:
      my-gpu-vm:
        type: vm
        gpu: true
        profiles: [default, gpu-passthrough]
        config:
          limits.cpu: "4"
          limits.memory: "8GiB"
"""

# Seed 001: RTX A5500 24 GB + RTX A400 4 GB and its five compose services.
PSOT_SEED_001 = """\
project_name: vision-stack
global:
  gpu_policy: shared
  placement:
    strategy: vram_based
    headroom_gb: 0.5
  targets: [compose]
  output_dir: generated
  compose:
    file: docker-compose.prod.yml
    command: podman-compose
domains: {}
hosts:
  ws:
    platform: podman
    ssh: admin@ws
    psu_watts: 850
    storage:
      models:
        size_gb: 2000
        free_gb: 850
    gpus:
      rtx-a5500:
        vendor: nvidia
        model: RTX A5500
        vram_gb: 24
        index: 0
        pci: "0000:01:00.0"
        pci_id: "10de:2233"
        architecture: ampere
        compute_capability: "8.6"
        driver: "570.86.16"
        tdp_watts: 230
      rtx-a400:
        vendor: nvidia
        model: RTX A400
        vram_gb: 4
        index: 1
        architecture: ampere
        compute_capability: "8.6"
        tdp_watts: 50
workloads:
  ai-llm:
    target: compose
    host: ws
    model: {name: Nemotron-30B, vram_gb: 21.7, disk_gb: 60, pool: models}
    gpu:
      vram_gb: 21.7
      vendor: nvidia
      latency_critical: true
  ai-yolo26:
    target: compose
    host: ws
    gpu: {vram_gb: 0.65}
  ai-florence:
    target: compose
    host: ws
    gpu: {vram_gb: 1.5}
  ai-clip:
    target: compose
    host: ws
    service: ai-clip
    gpu: {vram_gb: 1.2}
  ai-enrichment:
    target: compose
    host: ws
    environment:
      LOG_LEVEL: info
      WORKERS: 2
    gpu:
      vram_gb: 6.8
      budget:
        env: VRAM_BUDGET_GB
        gb: 6.8
"""

# Every other psot key at least once: Proxmox passthrough, Kubernetes nodes
# with labels and taints, an Incus machine with a GPU request.
PSOT_MULTI_PLATFORM = """\
project_name: homelab
global:
  gpu_policy: exclusive
  placement: {strategy: latency_optimized}
  targets: [incus, proxmox, kubernetes]
  kubernetes: {version: "1.34"}
domains:
  ai:
    trust_level: trusted
    machines:
      ai-gpu:
        type: vm
        gpu:
          count: 1
          vendor: nvidia
          min_compute_capability: "8.0"
          pin: pve1/rtx-5070-ti
          passthrough: true
hosts:
  pve1:
    platform: proxmox
    iommu: true
    cpu_vendor: amd
    psu_watts: 750
    gpus:
      rtx-5070-ti:
        vendor: nvidia
        model: GeForce RTX 5070 Ti
        vram_gb: 16
        index: 0
        pci: "0000:01:00.0"
        pci_id: "10de:2c05"
        architecture: blackwell
        compute_capability: "12.0"
        driver: "575.51.02"
        tdp_watts: 300
        speed: 100
        mapping: rtx-5070-ti
        primary_display: true
      gtx-970:
        vendor: nvidia
        vram_gb: 4
        index: 1
        status: degraded
  strix:
    platform: kubernetes
    labels:
      gpu.vendor: amd
      node-role.kubernetes.io/ai: ""
    taints:
      - {key: gpu, value: amd, effect: NoSchedule}
      - {key: dedicated}
    gpus:
      radeon-8060s:
        vendor: amd
        vram_gb: 96
workloads:
  gaming:
    target: proxmox
    host: pve1
    vmid: 200
    name: gaming-vm
    cores: 8
    memory_mb: 16384
    bios: ovmf
    machine: q35
    ostype: win11
    gpu: {passthrough: true, pin: rtx-5070-ti}
  llm:
    target: kubernetes
    kind: StatefulSet
    namespace: ai
    name: llm
    dedicated_node: true
    runtime_class: nvidia
    gpu: {vendor: amd, vram_gb: 40, isolate: true}
"""


def _load(text):
    return yaml.safe_load(text)


def _messages(errors):
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_schema_is_a_valid_draft_2020_12_schema(schema):
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    "text",
    [ANKLUME_EXCLUSIVE_GPU, ANKLUME_MULTI_DOMAIN, ANKLUME_VM_PASSTHROUGH],
    ids=["exclusive-gpu", "multi-domain", "vm-passthrough"],
)
def test_anklume_documents_validate_unchanged(validator, text):
    errors = list(validator.iter_errors(_load(text)))
    assert _messages(errors) == []


@pytest.mark.parametrize(
    "text", [PSOT_SEED_001, PSOT_MULTI_PLATFORM], ids=["seed-001", "multi-platform"]
)
def test_psot_documents_validate(validator, text):
    errors = list(validator.iter_errors(_load(text)))
    assert _messages(errors) == []


def _set(path, value):
    """A mutation that sets doc[path...] = value."""

    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _rename_machine(new_name):
    def mutate(doc):
        machines = doc["domains"]["ai-tools"]["machines"]
        machines[new_name] = machines.pop("gpu-server")

    return mutate


def _delete(path):
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


MACHINES = ["domains", "ai-tools", "machines"]

BAD_DOCUMENTS = [
    # (id, base document, mutation, expected keyword, path of the failing node)
    ("gpu-string", ANKLUME_EXCLUSIVE_GPU, _set([*MACHINES, "gpu-server", "gpu"], "yes"),
     "type", [*MACHINES, "gpu-server", "gpu"]),
    ("gpu-policy-maybe", ANKLUME_EXCLUSIVE_GPU, _set(["global", "gpu_policy"], "maybe"),
     "enum", ["global", "gpu_policy"]),
    ("machnes-typo", ANKLUME_EXCLUSIVE_GPU, _set(["domains", "ai-tools", "machnes"], {}),
     "additionalProperties", ["domains", "ai-tools"]),
    ("machine-name-dotdot", ANKLUME_EXCLUSIVE_GPU, _rename_machine("../etc"),
     "pattern", MACHINES),
    ("machine-name-slash", ANKLUME_EXCLUSIVE_GPU, _rename_machine("a/b"),
     "pattern", MACHINES),
    ("domains-string", ANKLUME_EXCLUSIVE_GPU, _set(["domains"], "x"),
     "type", ["domains"]),
    ("machines-list", ANKLUME_EXCLUSIVE_GPU, _set(MACHINES, []),
     "type", MACHINES),
    ("gpu-without-vram", PSOT_SEED_001, _delete(["hosts", "ws", "gpus", "rtx-a400", "vram_gb"]),
     "required", ["hosts", "ws", "gpus", "rtx-a400"]),
    ("proxmox-without-vmid", PSOT_MULTI_PLATFORM, _delete(["workloads", "gaming", "vmid"]),
     "required", ["workloads", "gaming"]),
]


@pytest.mark.parametrize(
    "base, mutate, keyword, path",
    [case[1:] for case in BAD_DOCUMENTS],
    ids=[case[0] for case in BAD_DOCUMENTS],
)
def test_mistakes_are_reported_with_their_keyword(validator, base, mutate, keyword, path):
    doc = copy.deepcopy(_load(base))
    mutate(doc)
    errors = list(validator.iter_errors(doc))
    assert any(
        e.validator == keyword and list(e.absolute_path) == path for e in errors
    ), _messages(errors)


def _subschemas(node, trail=()):
    """Every schema object in the schema, with where it is; if/then skipped
    (they only add constraints to properties declared elsewhere)."""
    if isinstance(node, dict):
        yield trail, node
        for key, value in node.items():
            if key in ("if", "then"):
                continue
            yield from _subschemas(value, (*trail, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _subschemas(value, (*trail, i))


def test_every_property_has_a_description(schema):
    missing = [
        "/".join(map(str, (*trail, "properties", name)))
        for trail, node in _subschemas(schema)
        if isinstance(node.get("properties"), dict) and "properties" not in trail[-1:]
        for name, sub in node["properties"].items()
        if "description" not in sub
    ]
    assert missing == []


def test_every_object_with_fixed_keys_closes_them(schema):
    """Unknown keys must surface as additionalProperties errors: the compiler
    turns them into warnings or 'did you mean' errors."""
    open_objects = [
        "/".join(map(str, trail))
        for trail, node in _subschemas(schema)
        if isinstance(node.get("properties"), dict)
        and "properties" not in trail[-1:]
        and "additionalProperties" not in node
    ]
    assert open_objects == []
