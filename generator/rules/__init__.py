"""Policy rules (SPEC §3): one module per finding code.

Every module of this package that defines `CODE` is a rule (see base.py for
what a rule module contains), so adding a rule is adding its file. The
README's rule table is generated from the modules' docstrings
(`make docs`; a test fails when it is stale).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from types import ModuleType

from generator.diagnostics.findings import Diagnostics
from generator.model.core import Infra
from generator.placement.core import Placement
from generator.rules.base import Context


def _discover() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "base":
            continue  # __main__ (the docs command) and the shared types are not rules
        module = importlib.import_module(f"{__name__}.{info.name}")
        code = getattr(module, "CODE", None)
        if code is None:
            continue
        if code in found:
            raise RuntimeError(f"rule code {code} is defined by {found[code].__name__} and {module.__name__}")
        found[code] = module
    return dict(sorted(found.items()))


RULES: dict[str, ModuleType] = _discover()


def run(stage: str, infra: Infra, placement: Placement | None, diag: Diagnostics) -> None:
    """Run every rule of `stage` ("model" or "placement") and report what they find."""
    ctx = Context(infra, placement)
    for code, module in RULES.items():
        if stage != module.STAGE:
            continue
        for problem in module.check(ctx):
            diag.add(code, module.SEVERITY, problem.message, problem.path, at=problem.at)


def _doc(module: ModuleType) -> str:
    """A rule's docstring, which every rule has (tests/rules/test_docstrings.py)."""
    doc = inspect.getdoc(module)
    if doc is None:
        raise ValueError(f"{module.__name__} has no docstring")
    return doc


def description(module: ModuleType) -> str:
    return _doc(module).splitlines()[0].strip()


def explanation(module: ModuleType) -> str:
    """What a rule's docstring says between its first line and its first block: why the rule exists."""
    from generator.diagnostics.codes import prose
    body = _doc(module).split("\n", 1)[1]
    return prose(re.split(r"^\w+::$", body, maxsplit=1, flags=re.MULTILINE)[0])


def examples(module: ModuleType) -> dict[str, str]:
    """The `Fix::`, `Passing::`, `Failing::` and `Finding::` blocks of a rule's docstring."""
    doc = _doc(module)
    out = {}
    for name in ("Fix", "Passing", "Failing", "Finding"):
        match = re.search(rf"^{name}::\n\n((?:(?: {{4}}.*)?\n)+)", doc + "\n", re.MULTILINE)
        if match:
            out[name.lower()] = inspect.cleandoc(match.group(1)) + "\n"
    return out


def table_markdown() -> str:
    rows = ["| code | severity | stage | rule |", "|---|---|---|---|"]
    for code, module in RULES.items():
        rows.append(f"| {code} | {module.SEVERITY} | {module.STAGE} | {description(module)} |")
    return "\n".join(rows) + "\n"
