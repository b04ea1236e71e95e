"""Every Incus example, applied with `psot apply --yes` to a real incusd started empty (tests/incusd.py).

As a user runs it: copy the example, `psot sync`, `psot apply --yes --target incus`, then read back what the
server made of it (`incus config show --expanded`) and start what this machine can start. Two things differ
from a user's machine, and each copy says so: this incusd has no network, so AnKLuMe's remote image
`images:debian/13` is replaced by a local image of the same alias (`debian/13`, imported into project
`default` as `incus image import` does; psot copies it into the projects that keep their own images), and
when incusd cannot run VMs here (no vhost_vsock, no QEMU) the examples' VMs are left out of the copy.

Under CI the tests fail when incusd cannot start; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, REPO, run_psot
from tests.incusd import Incusd, running_incusd
from tests.platforms.incus.images import living_image

IMAGE = "debian/13"
CASES = {
    "default": REPO,
    "anklume-gpu-exclusive": EXAMPLES / "anklume-gpu" / "exclusive",
    "anklume-gpu-shared": EXAMPLES / "anklume-gpu" / "shared",
    "anklume-gpu-current-layout": EXAMPLES / "anklume-gpu" / "current-layout",
}


def _copy(source: Path, into: Path) -> Path:
    """The example's input files (for the repository's own infra.yml, only its top-level files)."""
    if source == REPO:
        into.mkdir()
        for path in sorted(source.iterdir()):
            if path.is_file() and path.suffix in (".yml", ".yaml"):
                shutil.copy(path, into / path.name)
    else:
        shutil.copytree(source, into)
    return into


def _offline(root: Path, vms: bool) -> None:
    """The remote image becomes the local one; without VM support the VMs go."""
    for path in sorted(root.rglob("*.yml")):
        text = path.read_text(encoding="utf-8").replace("images:debian/13", IMAGE)
        if not vms:
            data = yaml.safe_load(text)
            domains = data.get("domains") if isinstance(data, dict) and "domains" in data else {"": data}
            for domain in (domains or {}).values():
                machines = (domain or {}).get("machines") if isinstance(domain, dict) else None
                for name in [n for n, m in (machines or {}).items() if (m or {}).get("type") == "vm"]:
                    del machines[name]
            text = yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")


def _runs_vms(incusd: Incusd) -> bool:
    return "qemu" in json.loads(incusd.check("query", "--", "/1.0"))["environment"]["driver"]


@pytest.fixture(scope="module", params=sorted(CASES))
def applied(request, tmp_path_factory):
    """(root, incusd): the example synced and applied to an incusd that held nothing but the image; the tests
    of one example go on from the state the one before left (the last one starts containers)."""
    tmp_path = tmp_path_factory.mktemp("live")
    for incusd in running_incusd():
        root = _copy(CASES[request.param], tmp_path / request.param)
        _offline(root, _runs_vms(incusd))
        incusd.check("image", "import", str(living_image(tmp_path / "image.tar.gz")), "--alias", IMAGE)
        synced = run_psot("sync", cwd=root, env=incusd.env)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        done = run_psot("apply", "--yes", "--target", "incus", cwd=root, env=incusd.env)
        assert done.returncode == 0, done.stdout + done.stderr
        yield root, incusd


def _instances(root: Path) -> list[tuple[str, str, dict]]:
    """(project, name, file) of every instance file psot generated."""
    out = []
    for path in sorted((root / "generated" / "incus").glob("*/instances/*.yaml")):
        out.append((path.parts[-3], path.stem, yaml.safe_load(path.read_text(encoding="utf-8"))))
    return out


def _rendered_gpus(root: Path, project: str, instance: dict) -> dict:
    """The `gpu` devices psot's files give the instance: its profiles' in order, then its own."""
    devices: dict = {}
    for profile in instance.get("profiles") or []:
        path = root / "generated" / "incus" / project / "profiles" / f"{profile}.yaml"
        if path.exists():
            devices |= (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("devices") or {}
    devices |= instance.get("devices") or {}
    return {name: d for name, d in devices.items() if d.get("type") == "gpu"}


def _placed_pci(root: Path, name: str) -> set[str] | None:
    """The PCI addresses (from the inventory) of the GPUs placement.yml gave the machine; None when there is
    no inventory to place on."""
    placement = yaml.safe_load((root / "generated" / "placement.yml").read_text(encoding="utf-8"))
    entry = (placement.get("assignments") or {}).get(name)
    if not placement.get("gpus") or entry is None:
        return None
    source = root / "infra.yml" if (root / "infra.yml").exists() else root
    inventory = compile_infra(source, until="place").infra.gpus
    return {inventory[key].pci for key in entry["gpus"] if inventory[key].pci}


def test_every_instance_exists_with_root_disk_nic_and_exactly_its_gpus(applied):
    root, incusd = applied
    instances = _instances(root)
    assert instances
    for project, name, instance in instances:
        expanded = yaml.safe_load(incusd.check("config", "show", "--expanded", "--project", project, "--", name))
        devices = expanded["devices"]
        assert any(d["type"] == "disk" and d.get("path") == "/" for d in devices.values()), (name, devices)
        assert any(d["type"] == "nic" for d in devices.values()), (name, devices)
        live_gpus = {n: d for n, d in devices.items() if d["type"] == "gpu"}
        assert live_gpus == _rendered_gpus(root, project, instance), name
        placed = _placed_pci(root, name)
        if placed is not None:
            assert {d.get("pci") for d in live_gpus.values()} == placed, name
        volumes = {n: d for n, d in (instance.get("devices") or {}).items() if d.get("type") == "disk"
                   and "pool" in d}
        assert {n: devices.get(n) for n in volumes} == volumes, name


def test_every_storage_volume_exists_with_its_config(applied):
    root, incusd = applied
    for path in sorted((root / "generated" / "incus").glob("*/volumes/*/*.yaml")):
        project, pool, volume = path.parts[-4], path.parts[-2], path.stem
        live = json.loads(incusd.check("query", "--", f"/1.0/storage-pools/{pool}/volumes/custom/{volume}"
                                                      f"?project={project}"))
        wanted = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert {k: live["config"].get(k) for k in wanted["config"]} == wanted["config"], path


def test_a_second_apply_runs_nothing(applied):
    root, incusd = applied
    again = run_psot("apply", "--yes", "--target", "incus", cwd=root, env=incusd.env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Nothing to apply" in again.stdout
    assert run_psot("plan", cwd=root, env=incusd.env).returncode == 0


def test_containers_without_a_gpu_start_and_see_none_and_gpu_ones_say_why_they_cannot(applied):
    """This machine has none of the examples' GPUs: a container given one cannot start here, and incusd must
    say it is for that GPU device (or for NVIDIA's runtime, which needs the driver this machine lacks); every
    other container starts, runs, and has no /dev/dri."""
    root, incusd = applied
    running = []
    for project, name, instance in _instances(root):
        if instance.get("type") == "virtual-machine":
            continue
        started = incusd.incus("start", "--project", project, "--", name)
        if _rendered_gpus(root, project, instance):
            assert started.returncode != 0, name
            log = incusd.incus("info", "--show-log", "--project", project, "--", name).stdout
            assert "gpu" in (started.stderr + log).lower() or "nvidia" in (started.stderr + log).lower(), (
                name, started.stderr)
            continue
        assert started.returncode == 0, (name, started.stderr)
        state = json.loads(incusd.check("query", "--", f"/1.0/instances/{name}/state?project={project}"))
        assert state["status"] == "Running", name
        seen = incusd.check("exec", "--project", project, "--", name, "/bin/sh", "-c",
                            "if [ -e /dev/dri ]; then echo gpu; else echo none; fi")
        assert seen.strip() == "none", name
        running.append(name)
    if root.name == "anklume-gpu-current-layout":
        assert running == ["ai-tools-webui", "pro-dev"]          # its containers without GPU access


def test_every_domain_removed_is_deleted_with_clean_orphans(applied):
    """Running containers, profiles, volumes, the project, then its network and ACL (the project's default
    profile holds the network until the project is gone): the server is left as it was before psot."""
    root, incusd = applied
    if (root / "infra.yml").exists():
        data = yaml.safe_load((root / "infra.yml").read_text(encoding="utf-8"))
        data["domains"] = {}
        data.pop("network_policies", None)
        (root / "infra.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    else:
        for path in sorted((root / "domains").glob("*.yml")) + [root / "policies.yml"]:
            path.unlink()
    synced = run_psot("sync", "--clean-orphans", cwd=root, env=incusd.env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    done = run_psot("apply", "--yes", "--target", "incus", "--clean-orphans", cwd=root, env=incusd.env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(incusd.check("query", "--", "/1.0/projects")) == ["/1.0/projects/default"]
    networks = json.loads(incusd.check("query", "--", "/1.0/networks?project=default"))
    assert not [n for n in networks if n.rsplit("/", 1)[-1].startswith("net-")]
    assert json.loads(incusd.check("query", "--", "/1.0/network-acls?project=default")) == []
