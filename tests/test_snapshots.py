"""Snapshots of the generated tree of every example and of the default infra.yml.

A change here is a change of what users get: review the snapshot diff like
code. Regenerate with `make test PYTEST_ARGS="--snapshot-update"`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.pipeline import compile_infra
from tests.conftest import EXAMPLES, REPO

# Examples that show a mistake psot catches: they must fail to compile, and
# their own tests assert the exact findings (tests/rules/test_storage.py,
# tests/rules/test_driver_flavour_conflict.py).
FAILING_EXAMPLES = {"blackwell-bringup", "flavour-conflict"}


def _name(path: Path) -> str:
    return "-".join(path.parent.relative_to(EXAMPLES).parts)


# An example is an infra.yml, or an AnKLuMe project in today's layout (its anklume.yml, domains/, policies.yml).
ALL_EXAMPLES = {_name(p): p for p in sorted([*EXAMPLES.rglob("infra.yml"), *EXAMPLES.rglob("anklume.yml")])
                if "generated" not in p.parts}
INPUTS = {n: p for n, p in ALL_EXAMPLES.items() if n not in FAILING_EXAMPLES} | {"default": REPO / "infra.yml"}


def nested(tree: dict[str, bytes]) -> dict:
    """{"a/b.yml": bytes} -> {"a": {"b.yml": str}}, the shape assert_match_dir compares."""
    root: dict = {}
    for path, content in tree.items():
        *dirs, name = path.split("/")
        node = root
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = content.decode("utf-8")
    return root


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_generated_tree_matches_snapshot(name, snapshot, tmp_path):
    # A fresh output directory (no previous placement.yml to stay close to: low churn), beside a copy of the
    # input, where generated/ sits beside infra.yml as in the example (paths of the project, such as the
    # kustomization's base, are written relative to it).
    source = INPUTS[name]
    if source.name == "anklume.yml":   # the whole project, in a directory of the example's name (its project_name)
        copy = tmp_path / source.parent.name / source.name
        shutil.copytree(source.parent, copy.parent, ignore=shutil.ignore_patterns("generated"))
    elif source.parent != REPO:        # the example's directory: its files (a kustomize base) are its input too
        copy = tmp_path / source.name
        shutil.copytree(source.parent, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("generated"))
    else:
        copy = tmp_path / "infra.yml"
        copy.write_bytes(source.read_bytes())
    result = compile_infra(copy, output_dir=copy.parent / "generated")
    assert result.ok, [f.format() for f in result.diag.findings]
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots"
    snapshot.assert_match_dir(nested(result.tree), name)


def test_examples_compile_or_fail_as_documented():
    assert len(INPUTS) >= 4
    for name, path in ALL_EXAMPLES.items():
        result = compile_infra(path)
        assert result.ok == (name not in FAILING_EXAMPLES), (name, [f.format() for f in result.diag.findings])
