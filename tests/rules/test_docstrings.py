"""Every rule documents itself: why it exists, how to fix what it finds, a passing and a failing
infra.yml and the exact finding.

These tests compile both examples of every rule's docstring: the passing one
must give no error and no finding of the rule; the failing one must give
exactly the documented finding (code, severity, line, column, message) and no
other finding of that rule. The docs cannot drift from the code.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from generator.diagnostics import codes
from generator.pipeline import compile_infra
from generator.rules import RULES, examples, explanation
from tests.conftest import REPO


def compile_text(directory: Path, text: str, monkeypatch):
    directory.mkdir()
    (directory / "infra.yml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(directory)
    return compile_infra(Path("infra.yml"))


@pytest.mark.parametrize("code", sorted(RULES))
def test_docstring_examples(code, tmp_path, monkeypatch):
    module = RULES[code]
    ex = examples(module)
    assert set(ex) == {"fix", "passing", "failing", "finding"}, \
        f"{code}: docstring needs Fix::, Passing::, Failing::, Finding::"
    assert explanation(module), f"{code}: docstring needs a paragraph that says why the rule exists"
    assert module.SEVERITY in ("error", "warning") and module.STAGE in ("model", "placement")

    passing = compile_text(tmp_path / "passing", ex["passing"], monkeypatch)
    assert [f.format() for f in passing.diag.findings if f.code == code or f.severity == "error"] == []

    failing = compile_text(tmp_path / "failing", ex["failing"], monkeypatch)
    assert [f.format() for f in failing.diag.findings if f.code == code] == [ex["finding"].strip()]


def test_codes_are_unique_and_well_formed():
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*[0-9]{3}", code) for code in RULES)
    assert len({m.__name__ for m in RULES.values()}) == len(RULES)


def test_what_a_rule_says_stands_on_its_own():
    """psot explain prints it to users, who have neither the specification nor the seeds it started from."""
    for code, module in RULES.items():
        said = inspect.getdoc(module).split("\nPassing::\n")[0]   # the description, the explanation, the fix
        assert not re.search(r"\bseed\b|\bSPEC\b|§", said, re.IGNORECASE), code


def test_explanation_is_the_prose_before_the_first_block():
    module = RULES["VRAM001"]
    assert explanation(module) == (
        "The budget (`gpu.budget`, read by the service at run time from its environment variable) is "
        "auto-adjusted to the GPU's VRAM less `placement.headroom_gb`, and the compose override carries the "
        "adjusted value.")
    assert examples(module)["fix"].startswith("Lower `gpu.budget` to what the GPU offers, or pin the consumer")


@pytest.mark.parametrize("name", sorted(codes.readme_blocks()))
def test_readme_tables_are_generated(name):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"<!-- {name}:begin -->\n(.*?)<!-- {name}:end -->", readme, re.DOTALL)
    assert block, f"README.md needs <!-- {name}:begin --> / <!-- {name}:end --> markers"
    assert block.group(1) == codes.readme_blocks()[name], f"README table {name} is stale: run `make docs`"
