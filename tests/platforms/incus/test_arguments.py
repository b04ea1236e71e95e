"""What psot hands the real incusd (tests/incusd.py): arguments that are never options, keys set the same on
create as on update, and only the bytes psot renders.

Under CI the incusd tests fail when incusd cannot start; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
from pathlib import Path

import pytest
import yaml

from generator.apply.engine import run_step
from generator.apply.units import Step
from generator.platforms.incus.apply import instance_steps
from tests.conftest import run_psot
from tests.incusd import Incusd, running_incusd

INFRA = """\
project_name: incus-args
global:
  base_subnet: "10.110"
domains:
  lab:
    description: argument tests
    profiles:
      locked:
        config:
          security.privileged: "false"
{profile}    machines:
      box:
        type: lxc
        os_image: tiny
        profiles: [default, locked]
        config:
{config}
        devices:
          root: {{type: disk, pool: default, path: /}}
"""


def write_infra(root: Path, profile: str = "", **config: str) -> None:
    lines = "".join(f"          {key}: {json.dumps(value)}\n" for key, value in config.items())
    (root / "infra.yml").write_text(INFRA.format(config=lines, profile=profile), encoding="utf-8")


def psot(root: Path, incusd: Incusd, *args: str):
    return run_psot(*args, cwd=root, env=incusd.env)


def commands(root: Path) -> list[str]:
    body = json.loads((root / ".generated.psot-state" / "last-apply.json").read_text())
    return [c["command"] for unit in body["units"] for c in unit["commands"]]


def run(step: Step, incusd: Incusd):
    """The step as apply runs it (engine.run_step), with the test incusd's client."""
    return run_step(dataclasses.replace(step, env=tuple(incusd.env.items())), Path.cwd())


def live(incusd: Incusd, what: str) -> dict:
    return json.loads(incusd.check("query", "--", what))


def tiny_image(path: Path) -> Path:
    """An image incusd can create a container from without a network: metadata and an empty rootfs."""
    meta = b"architecture: x86_64\ncreation_date: 1700000000\nproperties:\n  description: tiny\n"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("metadata.yaml")
        info.size, info.mtime = len(meta), 1700000000
        tar.addfile(info, io.BytesIO(meta))
        rootfs = tarfile.TarInfo("rootfs")
        rootfs.type, rootfs.mode, rootfs.mtime = tarfile.DIRTYPE, 0o755, 1700000000
        tar.addfile(rootfs)
    return path


@pytest.fixture(scope="module")
def incusd():
    yield from running_incusd()


FIRST: list[str] = []      # the commands of the fixture's apply that created the instance
REFUSED: list[str] = []    # what the fixture's first apply said


@pytest.fixture(scope="module")
def project(incusd: Incusd, tmp_path_factory) -> Path:
    """psot refuses to apply while image `tiny` is nowhere on the server; once it is imported (into project
    default, as `incus image import` does), psot creates project `lab`, copies the image into it, creates its
    profiles and the instance."""
    root = tmp_path_factory.mktemp("incus-args")
    write_infra(root, **{"limits.cpu": "1", "user.note": "a=b", "user.flag": "-x"})
    assert psot(root, incusd, "sync").returncode == 0
    first = psot(root, incusd, "apply", "--yes")
    assert first.returncode == 1, first.stdout + first.stderr
    REFUSED[:] = first.stderr.splitlines()
    assert not (root / ".generated.psot-state" / "last-apply.json").exists()
    incusd.check("image", "import", str(tiny_image(root / "tiny.tar.gz")), "--alias", "tiny")
    done = psot(root, incusd, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    FIRST[:] = commands(root)
    return root


def test_an_image_that_is_nowhere_refuses_before_anything_runs(project: Path, incusd: Incusd):
    assert REFUSED == [
        "psot: apply would fail: incus/lab/instances/box.yaml: image 'tiny' is neither in project lab (Incus keeps "
        "images per project: its features.images is true) nor in project default: import it with `incus image "
        "import FILE --alias tiny` (psot copies it from project default into a project that keeps its own images), "
        "or use a remote's image (e.g. `images:debian/12`), then apply again; nothing was run."]


def test_names_and_images_come_after_double_dash(project: Path, incusd: Incusd):
    # From an empty server: the project, its profiles, the image copied from project default, the instance.
    assert FIRST == [
        "incus project create -- lab < generated/incus/lab/project.yaml",
        "incus profile edit --project lab -- default < generated/incus/lab/profiles/default.yaml",
        "incus profile create --project lab -- locked < generated/incus/lab/profiles/locked.yaml",
        "incus image copy --project default --target-project lab --copy-aliases --mode relay -- tiny local:",
        "incus create --project lab -- tiny box < generated/incus/lab/instances/box.yaml",
    ]
    assert incusd.check("image", "list", "--project", "lab", "--format", "csv").split(",")[0] == "tiny"
    config = live(incusd, "/1.0/instances/box?project=lab")["config"]
    assert {k: config[k] for k in ("limits.cpu", "user.note", "user.flag")} == {
        "limits.cpu": "1", "user.note": "a=b", "user.flag": "-x"}


def test_an_update_sets_the_same_keys_as_the_create(project: Path, incusd: Incusd):
    """Values with '=' or a leading '-' go after `--` as KEY=VALUE: Incus splits at the first '=', the key's."""
    write_infra(project, **{"limits.cpu": "2", "user.note": "c=d=e", "user.flag": "--help"})
    assert psot(project, incusd, "sync").returncode == 0
    done = psot(project, incusd, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert commands(project) == [
        "incus config set --project lab -- box limits.cpu=2 user.flag=--help user.note=c=d=e"]
    config = live(incusd, "/1.0/instances/box?project=lab")["config"]
    assert {k: v for k, v in config.items() if k.startswith(("user.", "limits."))} == {
        "limits.cpu": "2", "user.note": "c=d=e", "user.flag": "--help"}
    # The file psot created the instance from says the same.
    created = yaml.safe_load((project / "generated/incus/lab/instances/box.yaml").read_text())
    assert {k: created["config"][k] for k in ("limits.cpu", "user.note", "user.flag")} == {
        "limits.cpu": "2", "user.note": "c=d=e", "user.flag": "--help"}


def test_device_names_and_options_come_after_double_dash(project: Path, incusd: Incusd):
    old = {"config": {}, "devices": {}}
    new = {"config": {}, "devices": {"gpu": {"type": "gpu", "gputype": "physical", "pci": "0000:07:00.0"}}}
    steps = instance_steps("box", "lab", old, new, gone=old)
    assert [s.display() for s in steps] == [
        "incus config device add --project lab -- box gpu gpu gputype=physical pci=0000:07:00.0"]
    assert run(steps[0], incusd).returncode == 0
    assert live(incusd, "/1.0/instances/box?project=lab")["devices"]["gpu"] == {
        "type": "gpu", "gputype": "physical", "pci": "0000:07:00.0"}
    unset = instance_steps("box", "lab", new, {"config": {}, "devices": {"gpu": {"type": "gpu",
                                                                                       "gputype": "physical"}}}, new)
    assert [s.display() for s in unset] == ["incus config device unset --project lab -- box gpu pci"]
    assert run(unset[0], incusd).returncode == 0
    assert "pci" not in live(incusd, "/1.0/instances/box?project=lab")["devices"]["gpu"]


def test_a_key_that_is_an_option_fails_at_incusd_instead_of_printing_help(project: Path, incusd: Incusd):
    """Without `--`, `incus config set box --help` prints its help and exits 0: an update recorded as applied that
    changed nothing. After `--` it is a key, and incusd refuses it (INC006 refuses it long before)."""
    assert incusd.incus("config", "set", "box", "--help", "--project", "lab").returncode == 0
    step = instance_steps("box", "lab", {}, {"config": {"--help": "x"}}, gone={})[0]
    assert step.argv == ("incus", "config", "set", "--project", "lab", "--", "box", "--help=x")
    done = run(step, incusd)
    assert done.returncode != 0
    assert "Unknown configuration key: --help" in done.stderr


def test_apply_refuses_a_key_incus_would_read_otherwise_and_runs_nothing(project: Path, incusd: Incusd):
    before = live(incusd, "/1.0/instances/box?project=lab")["config"]
    write_infra(project, **{"limits.cpu": "2", "user.note=x": "y"})
    refused = psot(project, incusd, "apply", "--yes")
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[0] == (
        "infra.yml:18:11: error[INC006] machine 'box' config key 'user.note=x' is not an Incus key (dotted words of "
        "letters, digits, '_' and '-', e.g. limits.cpu): it has '='; Incus would read 'user.note' = 'x=y' on update")
    assert live(incusd, "/1.0/instances/box?project=lab")["config"] == before


def test_a_hand_edit_incus_reads_otherwise_is_never_sent(project: Path, incusd: Incusd):
    """A merge key after the explicit key: PyYAML reads `false`, incusd's YAML reader `true`."""
    # The profile changes in infra.yml and is synced (and reviewed); then generated/ is edited by hand.
    write_infra(project, profile='          limits.memory: "1GiB"\n',
                **{"limits.cpu": "2", "user.note": "c=d=e", "user.flag": "--help"})
    assert psot(project, incusd, "sync").returncode == 0
    profile = project / "generated/incus/lab/profiles/locked.yaml"
    psots = profile.read_bytes()
    assert b"  security.privileged: 'false'\n" in psots
    edited = psots.replace(b"  security.privileged: 'false'\n",
                           b"  security.privileged: 'false'\n  <<: {security.privileged: 'true'}\n")
    assert yaml.safe_load(edited) == yaml.safe_load(psots)
    profile.write_bytes(edited)
    record = (project / ".generated.psot-state/last-apply.json").read_bytes()

    refused = psot(project, incusd, "apply", "--yes")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "generated/incus/lab/profiles/locked.yaml" in refused.stderr
    assert "nothing was applied" in refused.stderr
    assert (project / ".generated.psot-state/last-apply.json").read_bytes() == record
    assert live(incusd, "/1.0/profiles/locked?project=lab")["config"] == {"security.privileged": "false"}
    assert profile.read_bytes() == edited          # refused, and left as it was

    # Once generated/ holds psot's bytes again, apply sends them (and only them).
    profile.write_bytes(psots)
    done = psot(project, incusd, "apply", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert commands(project) == [
        "incus profile edit --project lab -- locked < generated/incus/lab/profiles/locked.yaml"]
    assert live(incusd, "/1.0/profiles/locked?project=lab")["config"] == {"limits.memory": "1GiB",
                                                                          "security.privileged": "false"}
