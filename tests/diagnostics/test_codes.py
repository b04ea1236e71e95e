"""The table of finding codes (generator/diagnostics/codes.py): complete, alive, and its examples true.

Every code psot emits is in the table and every code in the table is
emitted somewhere; `Diagnostics` refuses the others. Every example of a
non-rule code is run: the failing one must print exactly the finding the
table shows, the passing one no finding of that code and no error (the rule
codes' examples are their docstrings', run by tests/rules/test_docstrings.py).
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli.main import cli
from generator.detect.records import Parsed, finding
from generator.diagnostics import codes
from generator.diagnostics.findings import Diagnostics
from generator.rules import RULES, examples
from tests.conftest import REPO

CODE = re.compile(r"[A-Z][A-Z0-9]*[0-9]{3}")
# A single `psot ...` line with plain arguments runs in this process; anything else through bash.
PLAIN_COMMAND = re.compile(r"psot(?: [-\w./=:]+)*")
EMITTERS = {"error", "warning", "add", "at_location", "warn", "finding", "_fail", "InputError"}


def run_example(example: codes.Example, directory: Path) -> tuple[int, str]:
    """Write the example's files in `directory`, run its command there: (exit code, what it printed)."""
    directory.mkdir(parents=True)
    for name, text in example.files:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    line = example.command.split("#")[0].strip()
    if PLAIN_COMMAND.fullmatch(line):
        with contextlib.chdir(directory):
            result = CliRunner().invoke(cli, shlex.split(line)[1:], env=dict(example.env), standalone_mode=False,
                                        catch_exceptions=False)
        return result.return_value, result.output
    env = {**os.environ, **dict(example.env), "PSOT_PYTHON": sys.executable, "PYTHONPATH": str(REPO)}
    env.pop("PSOT_DEBUG", None)
    script = 'psot() { "$PSOT_PYTHON" -m generator "$@"; }\n' + example.command + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=directory, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def findings_of(output: str, code: str) -> list[str]:
    return [line for line in output.splitlines() if f"[{code}]" in line]


WRITTEN_WITH_EXAMPLES = sorted(code for code, entry in codes.WRITTEN.items() if entry.fails is not None)


@pytest.mark.parametrize("code", WRITTEN_WITH_EXAMPLES)
def test_failing_example_prints_its_finding(code, tmp_path):
    entry = codes.WRITTEN[code]
    status, output = run_example(entry.fails, tmp_path / "fails")
    assert "Traceback" not in output and "internal error" not in output, output
    assert entry.fails.finding in output.splitlines(), output
    assert entry.fails.finding.split(": ", 1)[1].startswith(f"{entry.severity}[{code}] ")
    assert status != 0 or entry.severity == "warning", output


@pytest.mark.parametrize("code", WRITTEN_WITH_EXAMPLES)
def test_passing_example_prints_no_finding_of_its_code(code, tmp_path):
    entry = codes.WRITTEN[code]
    assert entry.passes is not None and entry.passes.finding is None
    status, output = run_example(entry.passes, tmp_path / "passes")
    assert "Traceback" not in output and "internal error" not in output, output
    assert findings_of(output, code) == [] and ": error[" not in output, output
    assert status in (0, 2), output


def _sources() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted((REPO / "generator").rglob("*.py")) if path != REPO / "generator" / "codes.py"}


def _emitted() -> set[str]:
    """Codes passed to the calls that make findings, and the `CODE` of every rule module."""
    found = set()
    for tree in _sources().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name in EMITTERS and isinstance(node.args[0].value, str) and CODE.fullmatch(node.args[0].value):
                    found.add(node.args[0].value)
    return found | {module.CODE for module in RULES.values()}


def test_every_code_the_source_names_is_in_the_table():
    """A string shaped like a code of a known family (DRV099) must be a registered code; chip names such as
    GB203 share the shape but not a family prefix."""
    prefixes = {code.rstrip("0123456789") for code in codes.registry()}
    named = {node.value for tree in _sources().values() for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value)
             and node.value.rstrip("0123456789") in prefixes}
    assert named - set(codes.registry()) == set()


def test_every_code_in_the_table_is_emitted_somewhere():
    assert set(codes.registry()) - _emitted() == set()
    assert _emitted() - set(codes.registry()) == set()


def test_the_table_holds_each_code_once_with_its_rule_or_written_entry():
    assert set(codes.WRITTEN).isdisjoint(RULES)
    assert list(codes.registry()) == sorted(codes.registry(), key=lambda c: (
        codes.FAMILIES.index(codes.registry()[c].family), c.rstrip("0123456789"), int(c[-3:])))
    for code, entry in codes.registry().items():
        assert CODE.fullmatch(code) and entry.code == code
        assert entry.severity in ("error", "warning") and entry.family in codes.FAMILIES
        assert entry.summary and "\n" not in entry.summary and entry.explanation and entry.fix


def test_rule_entries_come_from_the_rule_modules():
    entry, module = codes.registry()["GPU001"], RULES["GPU001"]
    assert (entry.severity, entry.family) == ("error", "placement rule")
    assert entry.summary == "Under `gpu_policy: exclusive`, two or more instances have access to the same GPU."
    assert entry.fails.files == (("infra.yml", examples(module)["failing"]),)
    assert entry.passes.files == (("infra.yml", examples(module)["passing"]),)
    assert entry.fails.files[0][1].startswith("project_name: lab\nglobal: {gpu_policy: exclusive}\ndomains:\n")
    assert entry.explanation.startswith("As AnKLuMe counts them: 0 or 1 GPU instance is fine;")
    assert entry.fix.startswith("Leave GPU access to one instance per GPU:")
    assert entry.fails.command == entry.passes.command == "psot validate"
    assert entry.fails.finding == ("infra.yml:11:7: error[GPU001] GPU policy is 'exclusive' but 2 instances have GPU "
                                   "access: gpu-server, work-gpu. Set global.gpu_policy: shared to allow this.")
    assert entry.passes.finding is None


def test_every_entry_has_examples_except_the_one_no_input_can_reach():
    assert [code for code, entry in codes.registry().items() if entry.fails is None] == ["PLACE001"]
    assert codes.registry()["PLACE001"].passes is None


def test_the_table_stands_on_its_own():
    """It ships with psot and is printed to users: no reference to documents that do not ship."""
    for code, entry in codes.WRITTEN.items():
        said = " ".join([entry.summary, entry.explanation, entry.fix])
        assert not re.search(r"\bseed\b|\bSPEC\b|§|issue \d", said, re.IGNORECASE), code


def test_severity_of_and_check():
    assert codes.severity_of("YAML002") == "error" and codes.severity_of("GPU002") == "warning"
    assert codes.severity_of("NOPE001") is None
    codes.check("KEY001", "warning")
    with pytest.raises(codes.CodeError, match="'NOPE001' is not in the table of codes"):
        codes.check("NOPE001", "error")
    with pytest.raises(codes.CodeError, match="KEY001 has severity 'warning' in the table of codes, not 'error'"):
        codes.check("KEY001", "error")


def test_diagnostics_refuse_a_code_not_in_the_table():
    diag = Diagnostics()
    for report in (lambda: diag.error("NOPE001", "x"), lambda: diag.warning("NOPE001", "x"),
                   lambda: diag.add("NOPE001", "error", "x"),
                   lambda: diag.at_location("NOPE001", "error", "x", "infra.yml", 1, 1)):
        with pytest.raises(codes.CodeError):
            report()
    assert diag.findings == []


def test_diagnostics_refuse_a_severity_the_table_does_not_give():
    diag = Diagnostics()
    with pytest.raises(codes.CodeError, match="YAML002 has severity 'error'"):
        diag.warning("YAML002", "duplicate key")
    with pytest.raises(codes.CodeError, match="GPU002 has severity 'warning'"):
        diag.add("GPU002", "error", "shared")
    with pytest.raises(codes.CodeError, match="LOAD001 has severity 'error'"):
        diag.at_location("LOAD001", "warning", "file not found", "infra.yml", 1, 1)
    diag.error("YAML002", "duplicate key")
    assert [f.format() for f in diag.findings] == ["infra.yml:1:1: error[YAML002] duplicate key"]


def test_detect_findings_are_checked_too():
    with pytest.raises(codes.CodeError):
        finding("DETECT999", "warning", "x", "nvidia.csv")
    with pytest.raises(codes.CodeError):
        Parsed("lspci", "lspci.txt").warn("DETECT001", "not lspci output")   # DETECT001 is an error
    parsed = Parsed("lspci", "lspci.txt")
    parsed.error("DETECT001", "not lspci output")
    assert [f.format() for f in parsed.findings] == ["lspci.txt:1:1: error[DETECT001] not lspci output"]


def test_lookup_and_closest():
    assert codes.lookup("gpu001").code == codes.lookup(" GPU001 ").code == "GPU001"
    assert codes.lookup("GPU1") is None
    assert codes.closest("GPU01") == ["GPU001", "GPU002", "PVE001"]
    assert codes.closest("yaml2") == ["YAML002", "YAML001", "YAML003"]
    assert codes.closest("???") == []
