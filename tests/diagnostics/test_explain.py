"""`psot explain [CODE]`: what a code means, how to fix it, a failing and a passing example."""

from __future__ import annotations

import json

from click.testing import CliRunner

from generator.cli.main import cli
from generator.diagnostics import codes
from tests.conftest import run_psot

GPU001 = """\
GPU001 (error, placement rule): Under `gpu_policy: exclusive`, two or more instances have access to the same GPU.

As AnKLuMe counts them: 0 or 1 GPU instance is fine; 2 or more is an error
under `exclusive` (the default). An instance has GPU access through `gpu: true`
(or a request mapping), a profile of its domain with a `type: gpu` device, or a
`gpu` device of its own. Without a `hosts` inventory all of them share the one
host GPU, as AnKLuMe counts; with one, `exclusive` means one instance per
physical GPU after placement, and the message names the GPU. A GPU passed
through to a VM is PASS001's concern.

Fix: Leave GPU access to one instance per GPU: remove `gpu: true` (or the GPU
profile) from the others, or give them GPUs of their own in the inventory. To
let instances share a GPU, set `global.gpu_policy: shared`; GPU002 then warns
instead.

Fails:

    $ cat infra.yml
    project_name: lab
    global: {gpu_policy: exclusive}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, gpu: true, profiles: [default, nvidia-compute]}
          work-gpu: {type: lxc, profiles: [default, nvidia-compute]}
    $ psot validate
    infra.yml:11:7: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU access: gpu-server, work-gpu. \
Set global.gpu_policy: shared to allow this.

Passes:

    $ cat infra.yml
    project_name: lab
    global: {gpu_policy: exclusive}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, gpu: true, profiles: [default, nvidia-compute]}
    $ psot validate
"""

YAML002 = """\
YAML002 (error, load): A key is written twice in one mapping, or a domain is defined in two files of an infra/ \
directory.

YAML parsers usually keep the last of two equal keys and silently drop the
first, so half of what was written would be lost without a word. psot refuses
the file instead and names both places. In directory mode the same holds for a
domain (or a policies key) that two files define.

Fix: Keep one of the two: delete the duplicate, merge the two entries into one,
or rename one of them when they were meant to be different things.

Fails:

    $ cat infra.yml
    project_name: lab
    global: {}
    domains:
      ai:
        machines:
          gpu-server: {type: lxc, gpu: true}
          gpu-server: {type: vm}
    $ psot validate
    infra.yml:7:7: error[YAML002] duplicate key 'gpu-server' (first defined at line 6, column 7); remove one of them

Passes:

    $ cat infra.yml
    project_name: lab
    global: {}
    domains:
      ai:
        machines:
          gpu-server: {type: lxc, gpu: true}
          gpu-vm: {type: vm}
    $ psot validate
"""


def explain(*args: str):
    result = CliRunner().invoke(cli, ["explain", *args], standalone_mode=False, catch_exceptions=False)
    return result.return_value, result.stdout, result.stderr


def test_a_rule_code():
    assert explain("GPU001") == (0, GPU001, "")


def test_a_code_is_case_insensitive():
    assert explain("gpu001") == (0, GPU001, "")


def test_a_load_code():
    assert explain("YAML002") == (0, YAML002, "")


def test_a_code_without_examples_prints_none():
    status, out, _ = explain("PLACE001")
    assert status == 0 and out.startswith("PLACE001 (error, placement): Placement was asked for a strategy that ")
    assert out.endswith("\n\nFix: Pass one of the five strategy names.\n") and "Fails:" not in out


def test_a_command_example_shows_its_files_and_commands():
    status, out, _ = explain("LOAD007")
    assert status == 0
    assert out.endswith("""\
Fails:

    $ cat infra/base.yml
    project_name: lab
    global: {}
    domains: {}
    $ cat infra/domains/ai.yml
    - gpu-server
    $ psot validate infra
    infra/domains/ai.yml:1:1: error[LOAD007] a domain file ({domain-name: domain}) must be a mapping

Passes:

    $ cat infra/base.yml
    project_name: lab
    global: {}
    domains: {}
    $ cat infra/domains/ai.yml
    ai:
      machines:
        gpu-server: {type: lxc, gpu: true}
    $ psot validate infra
""")


def test_an_unknown_code_names_the_closest():
    assert explain("NOPE1") == (1, "", "psot: unknown code 'NOPE1'; did you mean PVE001, COMPOSE001, MODE001?\n")
    assert explain("gpu01") == (1, "", "psot: unknown code 'gpu01'; did you mean GPU001, GPU002, PVE001?\n")


def test_an_unknown_code_like_no_other():
    assert explain("???") == (1, "", "psot: unknown code '???'; `psot explain` lists every code.\n")


def test_json():
    status, out, err = explain("yaml002", "--format", "json")
    assert (status, err) == (0, "")
    body = json.loads(out)
    assert body == codes.registry()["YAML002"].to_dict()
    assert list(body) == ["code", "severity", "family", "summary", "explanation", "fix", "fails", "passes"]
    assert (body["code"], body["severity"], body["family"]) == ("YAML002", "error", "load")
    assert body["fails"] == {
        "files": {"infra.yml": "project_name: lab\nglobal: {}\ndomains:\n  ai:\n    machines:\n"
                               "      gpu-server: {type: lxc, gpu: true}\n      gpu-server: {type: vm}\n"},
        "command": "psot validate",
        "finding": "infra.yml:7:7: error[YAML002] duplicate key 'gpu-server' (first defined at line 6, column 7); "
                   "remove one of them",
        "env": {}}
    assert body["passes"]["finding"] is None


def test_json_of_an_unknown_code():
    status, out, err = explain("NOPE1", "--format", "json")
    assert (status, err) == (1, "")
    assert json.loads(out) == {"error": "unknown code 'NOPE1'", "did_you_mean": ["PVE001", "COMPOSE001", "MODE001"]}


def test_without_a_code_every_code_is_listed():
    status, out, err = explain()
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == ("LOAD001     error    "
                        "The input file does not exist, or is a directory where a YAML file was expected.")
    assert ("GPU001      error    "
            "Under `gpu_policy: exclusive`, two or more instances have access to the same GPU.") in lines
    assert [line.split()[0] for line in lines[:-2]] == list(codes.registry())
    assert lines[-2:] == ["",
                          f"{len(codes.registry())} codes. `psot explain CODE` says what one means and how to fix it."]


def test_without_a_code_json_lists_every_entry():
    status, out, _ = explain("--format", "json")
    assert status == 0
    assert json.loads(out) == {"codes": [e.to_dict() for e in codes.registry().values()]}


def test_the_command_exits_as_it_says():
    """Through the console entry point, as a user runs it."""
    ok = run_psot("explain", "GPU001")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, GPU001, "")
    unknown = run_psot("explain", "NOPE1")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr == "psot: unknown code 'NOPE1'; did you mean PVE001, COMPOSE001, MODE001?\n"


def test_prose_is_wrapped_without_cutting_a_code_span():
    status, out, _ = explain("DRIFT001")
    assert status == 0
    assert ("Fix: Move the change into infra.yml and run `psot sync` again, or run\n"
            "`psot sync --force` to discard the hand edit.\n") in out
    for code in codes.registry():
        prose = explain(code)[1].split("\nFails:\n")[0].splitlines()[1:]   # after the summary line
        assert all(len(line) <= 79 and line.count("`") % 2 == 0 for line in prose), code
