"""Bad input of every kind: exit 1 and a located finding, never a traceback (issue 2 acceptance)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from generator.diagnostics.findings import Diagnostics
from tests.conftest import run_psot

VALID_HEAD = """\
project_name: demo
global:
  gpu_policy: exclusive
"""

CASES = [
    # (id, infra.yml text, expected "file:line:col: severity[CODE]" prefix, expected message fragment)
    ("empty-file", "", "infra.yml:1:1: error[LOAD005]", "file is empty"),
    ("not-yaml", "project_name: demo\nglobal: {gpu_policy: [exclusive\n",
     "infra.yml:3:1: error[YAML001]", "not valid YAML"),
    ("top-level-list", "- project_name: demo\n- global: {}\n",
     "infra.yml:1:1: error[SCHEMA001]",
     "infra.yml must be a mapping with project_name, global and domains; got a list"),
    ("domains-string", VALID_HEAD + "domains: \"ai-tools\"\n",
     "infra.yml:4:10: error[SCHEMA001]", "'domains' must be a mapping, got a string"),
    ("machines-list", VALID_HEAD + "domains:\n  ai-tools:\n    machines:\n      - gpu-server\n",
     "infra.yml:6:5: error[SCHEMA001]", "'machines' must be a mapping, got a list"),
    ("duplicate-key", VALID_HEAD + "domains:\n  ai-tools: {}\n  ai-tools: {}\n",
     "infra.yml:6:3: error[YAML002]", "duplicate key 'ai-tools' (first defined at line 5, column 3)"),
    ("gpu-yes", VALID_HEAD + "domains:\n  ai-tools:\n    machines:\n      gpu-server:\n        gpu: \"yes\"\n",
     "infra.yml:8:14: error[SCHEMA001]", "'gpu' must be true/false or a mapping, got a string"),
    ("gpu-policy-maybe", "project_name: demo\nglobal:\n  gpu_policy: maybe\ndomains: {}\n",
     "infra.yml:3:15: error[SCHEMA001]", "'maybe' is not a valid gpu_policy; expected one of: exclusive, shared"),
    ("did-you-mean", VALID_HEAD + "domains:\n  ai-tools:\n    machnes: {}\n",
     "infra.yml:6:5: error[KEY002]", "unknown key 'machnes' in 'ai-tools': did you mean 'machines'?"),
    ("name-with-slash", VALID_HEAD + "domains:\n  ai-tools:\n    machines:\n      a/b: {}\n",
     "infra.yml:7:7: error[NAME001]", "machines name 'a/b' is not a valid name"),
    ("name-with-dotdot", VALID_HEAD + "domains:\n  ../etc: {}\n",
     "infra.yml:5:3: error[NAME001]", "domains name '../etc' is not a valid name"),
    ("name-with-trailing-newline", VALID_HEAD + "domains:\n  \"ai\\n\": {}\n",
     "infra.yml:5:3: error[NAME001]", "domains name 'ai\\n' is not a valid name"),
    ("pci-with-newline", VALID_HEAD + "domains: {}\nhosts:\n  h:\n    gpus:\n      g: {vendor: nvidia, vram_gb: 8, "
     "pci: \"0000:01:00.0\\n\"}\n", "infra.yml:8:44: error[SCHEMA001]", "'0000:01:00.0\\n' is not a valid pci"),
    ("non-string-key", VALID_HEAD + "domains:\n  no: {}\n",
     "infra.yml:5:3: error[YAML003]", "key 'no' is read by YAML 1.1 as a boolean"),
    ("nan-vram", "project_name: demo\nglobal: {placement: {headroom_gb: .nan}}\ndomains: {}\n",
     "infra.yml:2:35: error[YAML005]", "'.nan' is not a finite number"),
    ("inf-vram", VALID_HEAD + "domains: {}\nworkloads:\n  x: {target: compose, host: h, gpu: {vram_gb: .inf}}\n",
     "infra.yml:6:48: error[YAML005]", "'.inf' is not a finite number"),
    ("count-all-misspelt", VALID_HEAD + "domains: {}\nworkloads:\n  x: {target: kubernetes, gpu: {count: al}}\n",
     "infra.yml:6:40: error[SCHEMA001]", "'al' is not a valid count; expected one of: all (did you mean 'all'?)"),
    ("count-float", VALID_HEAD + "domains: {}\nworkloads:\n  x: {target: kubernetes, gpu: {count: 2.0}}\n",
     "infra.yml:6:40: error[SCHEMA001]", "'count' must be an integer or 'all', got 2.0; write 2"),
    ("count-zero", VALID_HEAD + "domains: {}\nworkloads:\n  x: {target: kubernetes, gpu: {count: 0}}\n",
     "infra.yml:6:40: error[SCHEMA001]", "'count' must be >= 1, got 0"),
    ("binary-file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "infra.yml:1:1: error[LOAD003]", "binary file"),
    ("missing-required", "project_name: demo\ndomains: {}\n",
     "infra.yml:1:1: error[SCHEMA001]", "infra.yml is missing the required key 'global'"),
]


@pytest.mark.parametrize("text,prefix,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_located_finding(tmp_path, text, prefix, message):
    path = tmp_path / "infra.yml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    result = run_psot("validate", "infra.yml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith(prefix)]
    assert lines, f"no finding starting {prefix!r} in:\n{result.stdout}"
    assert message in lines[0]


def test_missing_file(tmp_path):
    result = run_psot("validate", "nowhere.yml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("nowhere.yml:1:1: error[LOAD001] file not found")
    assert "Traceback" not in result.stderr


def test_directory_without_base_yml(tmp_path):
    (tmp_path / "infra" / "domains").mkdir(parents=True)
    result = run_psot("validate", "infra", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("infra/base.yml:1:1: error[LOAD006] directory infra/ has no base.yml")


def test_default_input_is_infra_yml_in_the_working_directory(tmp_path):
    result = run_psot("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.startswith("infra.yml:1:1: error[LOAD001]")


def test_unknown_key_far_from_any_allowed_key_is_a_warning_and_ignored(infra_file):
    path = infra_file(VALID_HEAD + "domains: {}\nhomelab_notes: anything\n")
    result = run_psot("validate", str(path))
    assert result.returncode == 0, result.stdout
    assert re.search(r"infra.yml:5:1: warning\[KEY001\] unknown key 'homelab_notes' at the top level is ignored",
                     result.stdout)


def test_json_findings_have_the_spec_shape(tmp_path):
    (tmp_path / "infra.yml").write_text(VALID_HEAD + "domains:\n  ai-tools:\n    machnes: {}\n")
    result = run_psot("validate", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body == {"ok": False, "findings": [{
        "code": "KEY002", "severity": "error",
        "message": "unknown key 'machnes' in 'ai-tools': did you mean 'machines'?",
        "file": "infra.yml", "line": 6, "column": 5, "path": "domains.ai-tools.machnes"}]}


def test_findings_are_sorted_by_location(tmp_path):
    (tmp_path / "infra.yml").write_text(
        "project_name: demo\nglobal:\n  gpu_policy: maybe\ndomains:\n  b/c: {}\n  ai:\n    machnes: {}\n")
    result = run_psot("validate", cwd=tmp_path)
    positions = [tuple(int(x) for x in line.split(":")[1:3]) for line in result.stdout.splitlines()
                 if line.startswith("infra.yml:")]
    assert positions == sorted(positions) and len(positions) == 3


def test_nothing_is_written_when_there_is_an_error(tmp_path):
    (tmp_path / "infra.yml").write_text("project_name: demo\nglobal: {gpu_policy: maybe}\ndomains: {}\n")
    result = run_psot("sync", cwd=tmp_path)
    assert result.returncode == 1
    assert "nothing was written" in result.stderr
    assert not (tmp_path / "generated").exists()


class _ParserWithAShallowLimit(yaml.SafeLoader):
    """A YAML parser that gives up at 100 levels with an error of its own, as libyaml 0.2.6 does at
    1 000: psot's limit must still be the one reported, wherever the parser's own limit lies."""

    def check_event(self, *choices):
        if self.flow_level > 100:
            raise yaml.scanner.ScannerError(None, None, "parser's own depth limit", self.get_mark())
        return super().check_event(*choices)


@pytest.mark.parametrize("parser", ["libyaml", "python", "shallow-limit"])
@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000 + "\n", "{a: " * 2_000 + "x" + "}" * 2_000 + "\n"])
def test_deep_nesting_is_yaml004_at_the_65th_level_whichever_parser_reads_it(monkeypatch, tmp_path, parser, text):
    from generator.load import loader
    monkeypatch.setattr(loader, "SafeLoader", {"libyaml": getattr(yaml, "CSafeLoader", yaml.SafeLoader),
                                               "python": yaml.SafeLoader,
                                               "shallow-limit": _ParserWithAShallowLimit}[parser])
    monkeypatch.chdir(tmp_path)
    Path("infra.yml").write_text(text)
    diag = Diagnostics(default_file="infra.yml")
    loader.load(Path("infra.yml"), diag)
    column = 65 if text.startswith("[") else 4 * 64 + 1
    assert [f.format() for f in diag.findings] == [
        f"infra.yml:1:{column}: error[YAML004] nesting deeper than 64 levels; infra.yml never needs this much"]


@pytest.mark.parametrize("command", [("place",), ("place", "--compare")])
def test_place_never_writes_so_its_failure_says_only_the_count(tmp_path, command):
    (tmp_path / "infra.yml").write_text("project_name: demo\nglobal: {gpu_policy: maybe}\ndomains: {}\n")
    result = run_psot(*command, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "psot: 1 error, 0 warnings."


def test_a_key_without_its_unit_or_under_another_name_is_a_did_you_mean_error(infra_file):
    """`gpu: {vram: 20}` must not place a request for 0 GB with a mere warning: KEY002, like a typo."""
    path = infra_file("""
        project_name: t
        global: {placement: {headroom: 1}}
        domains: {}
        hosts:
          ws:
            psu: 850
            gpus:
              a: {vendor: nvidia, vram_gb: 24, index: 0, cc: "8.6", tdp: 230}
        workloads:
          llm: {target: compose, host: ws, gpu: {vram: 20, cc: "8.0", gpus: 1}, model: {name: x, disk: 3}}
          tts: {target: compose, host: ws, gpu: {compute_capability: "8.0", gpu_count: 1, latency: true}}
    """)
    result = run_psot("validate", str(path), "--format", "json")
    assert result.returncode == 1
    found = [(f["line"], f["column"], f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [
        (2, 22, "KEY002", "unknown key 'headroom' in 'placement': did you mean 'headroom_gb'?"),
        (6, 5, "KEY002", "unknown key 'psu' in 'ws': did you mean 'psu_watts'?"),
        (8, 50, "KEY002", "unknown key 'cc' in 'a': did you mean 'compute_capability'?"),
        (8, 61, "KEY002", "unknown key 'tdp' in 'a': did you mean 'tdp_watts'?"),
        (10, 42, "KEY002", "unknown key 'vram' in 'gpu': did you mean 'vram_gb'?"),
        (10, 52, "KEY002", "unknown key 'cc' in 'gpu': did you mean 'min_compute_capability'?"),
        (10, 63, "KEY002", "unknown key 'gpus' in 'gpu': did you mean 'count'?"),
        (10, 90, "KEY002", "unknown key 'disk' in 'model': did you mean 'disk_gb'?"),
        (11, 42, "KEY002", "unknown key 'compute_capability' in 'gpu': did you mean 'min_compute_capability'?"),
        (11, 69, "KEY002", "unknown key 'gpu_count' in 'gpu': did you mean 'count'?"),
        # Not a unit's slip nor an alias, and 8 edits from latency_critical: still only a warning.
        (11, 83, "KEY001", "unknown key 'latency' in 'gpu' is ignored; allowed keys: vram_gb, count, vendor, "
                           "min_compute_capability, cuda, pin, latency_critical, isolate, capabilities, "
                           "passthrough, budget"),
    ]
