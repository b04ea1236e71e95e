"""`psot init`: a starter infra.yml that compiles, its hosts block from detect, and never a clobbered file."""

from __future__ import annotations

import errno
import json
import re
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from generator import starter
from generator.detect import normalise
from generator.resources import data_dir
from generator.serialize import load_yaml
from tests.conftest import REPO, run_psot
from tests.detect.helpers import (
    FIXTURES,
    MIXED,
    OUTPUTS,
    SEED_000,
    SEED_000_OPEN,
    SEED_001,
    completed,
    fixture,
    with_host_flavour,
)
from tests.detect.test_tools import cat, fake_tool

THIS_HOST = normalise.host_name(socket.gethostname()) or "localhost"
SHIPPED_SCHEMA = str((data_dir("schemas") / "infra.schema.json").resolve())


def init(*args: str, cwd: Path, path: Path | None = None):
    """`psot init ARGS` in `cwd`, with only `path` on PATH (an empty directory: no GPU tool)."""
    bin_dir = path if path is not None else cwd / ".no-tools"
    bin_dir.mkdir(exist_ok=True)
    return run_psot("init", *args, cwd=cwd, env={"PATH": str(bin_dir)})


def hosts_section(text: str) -> str:
    """From `hosts:` to the blank line that ends it."""
    lines = text.splitlines()
    start = lines.index("hosts:")
    end = lines.index("", start)
    return "\n".join(lines[start:end]) + "\n"


def test_init_in_an_empty_directory_then_validate_there(tmp_path):
    """The acceptance check as written: `psot init`, then `psot validate` with INFRA left to its default."""
    run = init(cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == (f"Wrote infra.yml: an example host, {THIS_HOST}, to edit. Edit it, then run "
                          "`psot validate` and `psot sync`.\n")
    assert run.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == [".no-tools", "infra.yml"]
    check = run_psot("validate", cwd=tmp_path)
    assert (check.returncode, check.stdout, check.stderr) == (0, "0 errors, 0 warnings.\n", "")


def test_a_second_init_refuses_and_leaves_the_file_as_it_was(tmp_path):
    assert init(cwd=tmp_path).returncode == 0
    path = tmp_path / "infra.yml"
    path.write_text(path.read_text() + "# my edit\n")
    before = path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns
    run = init(cwd=tmp_path)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == "psot: infra.yml already exists; nothing was written\n"
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == before
    again = init("--from", str(SEED_001[0]), cwd=tmp_path)
    assert again.returncode == 1 and again.stderr == run.stderr
    assert path.read_bytes() == before[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".no-tools", "infra.yml"]   # no temporary file left


def test_the_example_starter_teaches_the_format_in_comments(tmp_path):
    run = init("homelab", "--host", "ws", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "homelab" / "infra.yml").read_text()
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SHIPPED_SCHEMA}"
    assert yaml.safe_load(text) == {
        "project_name": "homelab",
        "global": {"gpu_policy": "exclusive", "placement": {"strategy": "vram_based", "headroom_gb": 0.5}},
        "domains": {},
        "hosts": {"ws": {"platform": "docker", "gpus": {"example-gpu": {
            "vendor": "nvidia", "model": "GeForce RTX 4090", "vram_gb": 24, "index": 0}}}},
        "workloads": {"ollama": {"target": "compose", "host": "ws",
                                 "model": {"name": "llama3.2:3b", "vram_gb": 4}, "gpu": {"count": 1}}}}
    # Every key is explained in a comment above it, the example host says it is one, and why.
    for explained in ("# A name for this infrastructure.", "# exclusive: each GPU serves one consumer",
                      "# How psot picks each consumer's GPU.", "# The platforms to write configuration for",
                      "# targets: [compose]", "# Incus projects in the AnKLuMe format",
                      "# The physical machines and their GPUs", "# GPU consumers that are not Incus machines",
                      "# What it loads; its vram_gb is what placement reserves on the GPU.",
                      "#     budget: {env: VRAM_BUDGET_GB, gb: 2}"):
        assert explained in text
    assert ("# AN EXAMPLE TO EDIT: this host and its GPU are made up, because\n"
            "# psot found no GPU tool here that worked (nvidia-smi, rocm-smi, amd-smi, lspci).\n") in text
    assert "seed" not in text.lower() and "SPEC" not in text and "§" not in text
    assert run.stdout == ("Wrote homelab/infra.yml: an example host, ws, to edit. Edit it, then run "
                          "`psot validate homelab/infra.yml` and `psot sync homelab/infra.yml`.\n")


@pytest.mark.parametrize("files", [[p] for p in OUTPUTS] + [SEED_000, MIXED],
                         ids=lambda files: "+".join(p.stem for p in files))
def test_from_saved_outputs_the_hosts_block_is_detects(files, tmp_path):
    # Seed 000's nvidia-smi listing alone is the impossible host (DRV003): the machine as it is, with its modules.
    flavoured = with_host_flavour(files) != files
    files = with_host_flavour(files)
    detected = run_psot("detect", "--host", "ws", "--from", *map(str, files))
    assert detected.returncode == 0, detected.stderr
    run = init("site", "--host", "ws", "--from", *map(str, files), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "site" / "infra.yml").read_text()
    # Line for line detect's block, with the platform the example service needs.
    assert hosts_section(text).replace("    platform: docker\n", "", 1) == hosts_section(detected.stdout + "\n")
    tools = detected.stdout.splitlines()[0].split("detected by `psot detect` from ")[1].rstrip(".")
    assert f"# Detected by psot from {tools}; set platform to what the host runs.\n" in text
    # The same findings on stderr as detect gives (DETECT006 for each GPU left to complete).
    # Then the starter's own warnings, as validate gives them: on the open modules the GTX 970 is unavailable.
    drv004 = ("warning[DRV004] ws/gtx-970 (GeForce GTX 970): host 'ws' runs the open NVIDIA kernel modules "
              "(nvidia.kernel_modules), which cannot drive Maxwell (it needs the proprietary ones); the GPU is "
              "treated as unavailable and its workloads fall back to ws/rtx-5070-ti (GeForce RTX 5070 Ti). Pass it "
              "through to a VM, which runs its own driver, or take it out of the inventory\n")
    head, _, starter_findings = run.stderr.partition("site/infra.yml:")
    assert head == detected.stderr.rsplit("psot: ", 1)[0]
    assert re.fullmatch(r"\d+:7: " + re.escape(drv004), starter_findings) if flavoured \
        else starter_findings == ""
    check = run_psot("validate", "site/infra.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "error[" not in check.stdout


def test_json_hosts_equal_detects_block(tmp_path):
    detected = json.loads(run_psot("detect", "--host", "ws", "--format", "json", "--from", *map(str, MIXED)).stdout)
    run = init("site", "--host", "ws", "--format", "json", "--from", *map(str, MIXED), cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == ""
    body = json.loads(run.stdout)
    expected_hosts = {"ws": {"platform": "docker", **detected["block"]["hosts"]["ws"]}}
    assert body == {"ok": True, "written": "site/infra.yml", "path": "site/infra.yml", "host": "ws",
                    "hosts": expected_hosts, "example": False,
                    "tools": ["nvidia-smi", "amd-smi", "rocm-smi", "lspci"], "to_complete": ["uhd-graphics-770"],
                    "schema": SHIPPED_SCHEMA, "message": "", "findings": detected["findings"]}
    assert yaml.safe_load((tmp_path / "site" / "infra.yml").read_text())["hosts"] == expected_hosts


def test_lspci_alone_gives_gpus_to_complete_and_a_commented_service(tmp_path):
    # With the kernel modules the host loads: completed, both cards would otherwise be the impossible host (DRV003).
    run = init("site", "--host", "ws", "--from", str(FIXTURES / "seed000-lspci.txt"),
               str(FIXTURES / "pve-nvidia-version.txt"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ("Wrote site/infra.yml: host ws with 2 GPUs commented out to complete (no tool reported "
                          "their VRAM), from lspci. Edit it, then run `psot validate site/infra.yml` and "
                          "`psot sync site/infra.yml`.\n")
    path = tmp_path / "site" / "infra.yml"
    text = path.read_text()
    assert "workloads" not in yaml.safe_load(text)
    # Completed as the comments say: the GPUs' VRAM and, for compose, index; then the service uncommented.
    hosts = hosts_section(text)
    done = completed(hosts, 16)
    for index, pci in enumerate(("0000:01:00.0", "0000:02:00.0")):
        done = done.replace(f"pci: '{pci}'", f"pci: '{pci}'\n        index: {index}")
    rest = text.replace(hosts, done).splitlines()
    start = rest.index("# workloads:")
    text = "\n".join(rest[:start] + [line[2:] if line.startswith("# ") else "" for line in rest[start:]]) + "\n"
    path.write_text(text)
    check = run_psot("validate", "site/infra.yml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr + text
    assert yaml.safe_load(text)["workloads"]["ollama"]["host"] == "ws"


def test_the_commented_second_service_compiles_uncommented_on_a_host_with_two_gpus(tmp_path):
    assert init("site", "--host", "ws", "--from", *map(str, SEED_001), cwd=tmp_path).returncode == 0
    path = tmp_path / "site" / "infra.yml"
    lines = path.read_text().splitlines()
    start = lines.index("  # whisper:")
    path.write_text("\n".join(lines[:start] + [line.replace("# ", "", 1) for line in lines[start:]]) + "\n")
    check = run_psot("place", "site/infra.yml", "--format", "json", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assignments = json.loads(check.stdout)["assignments"]
    assert {name: a["gpus"] for name, a in assignments.items()} == {"ollama": ["ws/rtx-a5500"],
                                                                    "whisper": ["ws/rtx-a400"]}
    assert assignments["whisper"]["budget_gb"] == 2


def test_without_from_the_machines_own_tools_give_the_host(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tool(bin_dir, "nvidia-smi", cat("seed000-nvidia-smi.csv"))
    fake_tool(bin_dir, "lspci", cat("seed000-lspci.txt"))
    # The machine's loaded kernel modules, the open ones: without them seed 000 is the impossible host (DRV003).
    fake_tool(bin_dir, "cat", f'[ "$1" = /proc/driver/nvidia/version ] && exec /bin/cat '
                              f'\'{FIXTURES / "pve-nvidia-version.txt"}\'\nexit 1\n')
    run = init("site", cwd=tmp_path, path=bin_dir)
    assert run.returncode == 0, run.stderr
    detected = run_psot("detect", env={"PATH": str(bin_dir)})
    text = (tmp_path / "site" / "infra.yml").read_text()
    assert hosts_section(text).replace("    platform: docker\n", "", 1) == hosts_section(detected.stdout + "\n")
    assert list(yaml.safe_load(text)["hosts"]) == [THIS_HOST]
    assert run.stdout.startswith(f"Wrote site/infra.yml: host {THIS_HOST} with 2 GPUs, from nvidia-smi, lspci.")


def test_tools_that_find_no_gpu_give_the_example_host_and_say_so(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "lspci.txt").write_text(fixture("seed000-lspci.txt").splitlines()[0] + "\n")
    fake_tool(bin_dir, "lspci", f"exec /bin/cat '{tmp_path / 'lspci.txt'}'\n")
    run = init("site", "--host", "ws", cwd=tmp_path, path=bin_dir)
    assert run.returncode == 0, run.stderr
    assert "warning[DETECT009] no GPU found" in run.stderr
    text = (tmp_path / "site" / "infra.yml").read_text()
    assert "# AN EXAMPLE TO EDIT: this host and its GPU are made up, because\n# lspci shows no GPU.\n" in text
    assert "example-gpu" in yaml.safe_load(text)["hosts"]["ws"]["gpus"]


def test_the_starters_warnings_are_shown_as_validate_gives_them(tmp_path):
    """A Blackwell card on a driver older than its minimum: the starter compiles, with the warnings to act on."""
    saved = tmp_path / "nvidia-smi.csv"
    saved.write_text(fixture("seed000-nvidia-smi.csv").splitlines()[0].replace("575.64.03", "550.54.14") + "\n")
    run = init("site", "--host", "ws", "--from", str(saved), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    check = run_psot("validate", "site/infra.yml", cwd=tmp_path)
    assert check.returncode == 0
    assert run.stderr == check.stdout.removesuffix("0 errors, 2 warnings.\n")
    assert [line.split(": ")[1].split(" ")[0] for line in run.stderr.splitlines()] == ["warning[DRV001]",
                                                                                    "warning[PLACE002]"]


def test_host_names_the_host_and_defaults_to_this_machine(tmp_path):
    named = init("a", "--host", "gpu-box", "--from", *map(str, SEED_001), cwd=tmp_path)
    default = init("b", "--from", *map(str, SEED_001), cwd=tmp_path)
    assert named.returncode == default.returncode == 0
    a = yaml.safe_load((tmp_path / "a" / "infra.yml").read_text())
    b = yaml.safe_load((tmp_path / "b" / "infra.yml").read_text())
    assert list(a["hosts"]) == ["gpu-box"] and a["workloads"]["ollama"]["host"] == "gpu-box"
    assert list(b["hosts"]) == [THIS_HOST] and b["workloads"]["ollama"]["host"] == THIS_HOST
    assert "generated/compose/gpu-box/docker-compose.gpu-override.yml" in (tmp_path / "a" / "infra.yml").read_text()


def test_a_host_name_yaml_would_read_as_a_boolean_is_quoted(tmp_path):
    run = init("site", "--host", "yes", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = yaml.safe_load((tmp_path / "site" / "infra.yml").read_text())
    assert list(data["hosts"]) == ["yes"] and data["workloads"]["ollama"]["host"] == "yes"
    assert run_psot("validate", "site/infra.yml", cwd=tmp_path).returncode == 0


def test_dir_is_created_with_its_parents(tmp_path):
    run = init("a/b/c", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "a" / "b" / "c" / "infra.yml").is_file()
    assert run_psot("validate", cwd=tmp_path / "a" / "b" / "c").returncode == 0
    assert yaml.safe_load((tmp_path / "a/b/c/infra.yml").read_text())["project_name"] == "c"


@pytest.mark.parametrize("name", ["My_Host", "../etc", "a/b", "-ws", "ws-", "a" * 64, "ws\nproject_name: x", ""])
def test_a_bad_host_name_is_refused_before_anything_is_written(name, tmp_path):
    run = init("site", "--host", name, cwd=tmp_path)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == (f"psot: --host: {name!r} is not a host name infra.yml accepts (lower-case letters, digits "
                          "and inner hyphens, at most 63 characters); nothing was written\n")
    assert not (tmp_path / "site").exists()
    body = json.loads(init("site", "--host", name, "--format", "json", cwd=tmp_path).stdout)
    assert body["ok"] is False and body["written"] is None and body["message"].startswith("--host: ")
    assert not (tmp_path / "site").exists()


def test_a_bad_from_file_gives_detects_findings_and_writes_nothing(tmp_path):
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello\n")
    files = [str(SEED_000[0]), str(garbage)]
    detected = run_psot("detect", "--host", "ws", "--from", *files)
    run = init("site", "--host", "ws", "--from", *files, cwd=tmp_path)
    assert (run.returncode, run.stdout) == (1, "")
    findings = detected.stderr.rsplit("psot: ", 1)[0]
    assert "error[DETECT001]" in findings
    assert run.stderr == findings + "psot: 1 error, 0 warnings; nothing was written\n"
    assert not (tmp_path / "site").exists()
    missing = init("site", "--from", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 1 and "error[DETECT002] file not found" in missing.stderr
    assert not (tmp_path / "site").exists()


def test_json_in_every_outcome(tmp_path):
    def body(*args):
        run = init(*args, "--format", "json", cwd=tmp_path)
        return run.returncode, json.loads(run.stdout)

    code, written = body("site", "--host", "ws")
    assert code == 0 and written["ok"] is True and written["written"] == "site/infra.yml"
    assert written["example"] is True and written["hosts"] == yaml.safe_load(
        (tmp_path / "site" / "infra.yml").read_text())["hosts"]
    code, exists = body("site", "--host", "ws")
    assert (code, exists["ok"], exists["written"]) == (1, False, None)
    assert exists["message"] == "site/infra.yml already exists; nothing was written"
    code, bad = body("other", "--from", str(tmp_path / "nope.csv"))
    assert code == 1 and [f["code"] for f in bad["findings"]] == ["DETECT002"]
    assert bad["message"] == "1 error, 0 warnings; nothing was written"
    code, usage = body("one", "two")
    assert code == 1
    assert usage["message"] == "init takes one DIR; saved tool outputs go after --from; nothing was written"
    assert not (tmp_path / "other").exists() and not (tmp_path / "one").exists()


def test_saved_outputs_may_follow_one_from_and_dir_comes_first(tmp_path):
    one = init("a", "--from", *map(str, SEED_000_OPEN), "--host", "h", cwd=tmp_path)
    other = init("b", "--host", "h", "--from", str(SEED_000_OPEN[0]), "--from", str(SEED_000_OPEN[1]),
                 "--from", str(SEED_000_OPEN[2]), cwd=tmp_path)
    assert one.returncode == other.returncode == 0
    assert (tmp_path / "a" / "infra.yml").read_text().replace("project_name: a", "") == \
        (tmp_path / "b" / "infra.yml").read_text().replace("project_name: b", "")
    late = init("--from", str(SEED_000[0]), str(SEED_000[1]), "c", cwd=tmp_path)
    assert late.returncode == 1
    assert late.stderr == ("psot: c is not a file: saved tool outputs follow --from, and DIR comes first; "
                           "nothing was written\n")
    assert not (tmp_path / "c").exists()


def test_dir_that_is_a_file_or_beside_an_infra_directory_is_refused(tmp_path):
    (tmp_path / "notes").write_text("mine\n")
    run = init("notes", cwd=tmp_path)
    assert (run.returncode, run.stderr) == (1, "psot: notes is not a directory; nothing was written\n")
    assert (tmp_path / "notes").read_text() == "mine\n"
    run = init("notes/sub", cwd=tmp_path)
    assert (run.returncode, run.stderr) == (1, "psot: notes/sub is not a directory; nothing was written\n")
    (tmp_path / "split" / "infra").mkdir(parents=True)
    run = init("split", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr == ("psot: split/infra/ exists, and psot reads it instead of split/infra.yml; "
                          "nothing was written\n")
    assert not (tmp_path / "split" / "infra.yml").exists()


def test_a_dangling_symlink_in_its_place_is_refused_and_not_followed(tmp_path):
    (tmp_path / "infra.yml").symlink_to(tmp_path / "elsewhere.yml")
    run = init(cwd=tmp_path)
    assert run.returncode == 1 and run.stderr == "psot: infra.yml already exists; nothing was written\n"
    assert not (tmp_path / "elsewhere.yml").exists()


@pytest.mark.parametrize("args", [["--host", "ws"], ["--host", "ws", "--from", *map(str, SEED_000_OPEN)],
                                  ["--host", "ws", "--from", *map(str, MIXED)]],
                         ids=["example", "seed-000", "mixed"])
def test_the_starter_places_and_syncs(args, tmp_path):
    assert init("site", *args, cwd=tmp_path).returncode == 0
    site = tmp_path / "site"
    place = run_psot("place", "--format", "json", cwd=site)
    assert place.returncode == 0, place.stderr
    placed = json.loads(place.stdout)
    assert list(placed["assignments"]) == ["ollama"] and placed["unplaced"] == []
    sync = run_psot("sync", "-o", "out", cwd=site)
    assert sync.returncode == 0, sync.stdout + sync.stderr
    assert sync.stdout.endswith("Plan: 2 to add, 0 to change, 0 to destroy.\nWrote out/: 2 files changed.\n")
    # The service gets the GPU placement chose, by the index the inventory gives it.
    host, gpu = placed["assignments"]["ollama"]["gpus"][0].split("/")
    entry = yaml.safe_load((site / "infra.yml").read_text())["hosts"][host]["gpus"][gpu]
    index = entry.get("uuid") or entry["index"]   # NVIDIA GPUs by UUID when detect found it
    override = load_yaml((site / "out" / "compose" / "ws" / "docker-compose.gpu-override.yml").read_text())
    devices = override["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"]
    assert len(devices) == 1 and devices[0]["device_ids"] == [str(index)]
    assert yaml.safe_load((site / "out" / "placement.yml").read_text())["assignments"]["ollama"]["gpus"] == \
        placed["assignments"]["ollama"]["gpus"]


# The modeline.

def _checkout(root: Path, schema_id: str | None = None) -> Path:
    """A directory laid out as a psot checkout: schemas/infra.schema.json (psot's, or one with another $id)."""
    (root / "schemas").mkdir(parents=True)
    schema = json.loads((REPO / "schemas" / "infra.schema.json").read_text())
    if schema_id is not None:
        schema["$id"] = schema_id
    (root / "schemas" / "infra.schema.json").write_text(json.dumps(schema))
    return root


def test_modeline_inside_a_checkout_is_relative_to_dir(tmp_path):
    root = _checkout(tmp_path / "psot")
    assert starter.schema_reference(root) == "./schemas/infra.schema.json"
    assert starter.schema_reference(root / "examples" / "mine") == "../../schemas/infra.schema.json"
    run = init("psot/examples/mine", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    first = (root / "examples" / "mine" / "infra.yml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/infra.schema.json"
    assert (root / "examples" / "mine" / "../../schemas/infra.schema.json").is_file()


def test_modeline_elsewhere_is_the_shipped_schemas_absolute_path(tmp_path):
    assert starter.schema_reference(tmp_path / "project") == SHIPPED_SCHEMA
    assert Path(SHIPPED_SCHEMA).is_absolute() and Path(SHIPPED_SCHEMA).is_file()
    # A schemas/infra.schema.json that is not psot's (another $id) is not taken for a checkout.
    other = _checkout(tmp_path / "other", schema_id="https://example.com/infra.schema.json")
    assert starter.schema_reference(other / "sub") == SHIPPED_SCHEMA


def test_modeline_of_a_schema_path_with_a_space_is_its_file_uri(tmp_path, monkeypatch):
    shipped = tmp_path / "my schemas" / "schemas"
    shipped.mkdir(parents=True)
    shutil.copy(REPO / "schemas" / "infra.schema.json", shipped / "infra.schema.json")
    monkeypatch.setattr(starter, "data_dir", lambda name: shipped)
    assert starter.schema_reference(tmp_path / "elsewhere") == (shipped / "infra.schema.json").as_uri()
    assert "%20" in starter.schema_reference(tmp_path / "elsewhere")


# Writing: whole or nothing, never in place of another file (tests/workspace/test_atomic.py: how).

def test_a_file_made_after_the_check_is_not_clobbered(tmp_path, monkeypatch):
    """Someone else writes infra.yml while init works (here: while it checks its text): theirs stays."""
    check = starter._self_check

    def racing(text):
        (tmp_path / "infra.yml").write_text("theirs\n")
        return check(text)
    monkeypatch.setattr(starter, "_self_check", racing)
    outcome = starter.run(tmp_path, [], "ws")
    assert (outcome.code, outcome.written) == (1, False)
    assert outcome.message == f"{tmp_path / 'infra.yml'} already exists; nothing was written"
    assert (tmp_path / "infra.yml").read_text() == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["infra.yml"]


def test_a_starter_that_does_not_compile_is_a_bug_reported_and_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(starter, "starter_text", lambda *args: "project_name: x\nglobal: {}\ndomains: []\nhosts: {}\n")
    outcome = starter.run(tmp_path / "site", [], "ws")
    assert outcome.code == 3 and not outcome.written
    assert outcome.message.startswith("the starter psot made does not compile, which is a bug in psot")
    assert [f.severity for f in outcome.findings] == ["error"]
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("sizes, expected", [([24, 4], 4), ([16], 4), ([6], 3), ([4], 2), ([2], 1), ([0.5], 0.5),
                                             ([], 4)])
def test_the_example_service_asks_for_what_the_largest_gpu_has_room_for(sizes, expected):
    assert starter.request_gb(sizes) == expected


@pytest.mark.parametrize("sizes, expected", [([24], 0.5), ([2], 0.5), ([1], 0.5), ([0.5], 0), ([], 0.5)])
def test_the_headroom_leaves_room_for_the_example_service(sizes, expected):
    assert starter.headroom_gb(sizes) == expected


def test_a_file_that_cannot_be_written_is_exit_3(tmp_path, monkeypatch):
    def denied(path, content):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))
    monkeypatch.setattr(starter, "create_file", denied)
    outcome = starter.run(tmp_path, [], "ws")
    assert (outcome.code, outcome.written) == (3, False)
    assert outcome.message == f"cannot write {tmp_path / 'infra.yml'}: Permission denied; nothing was written"
