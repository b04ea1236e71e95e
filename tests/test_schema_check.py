"""The fast schema check (generator/schema_check.py) gives jsonschema's answer, always.

schema.validate trusts a "valid" from the fast check and skips jsonschema,
so a document the check accepts and jsonschema refuses would reach the
rules unchecked. These tests hold the two to the same yes/no on every input
the repository has and on thousands of documents mutated from them.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest
import yaml

from generator import schema, schema_check
from generator.findings import Diagnostics
from generator.loader import load
from tests.conftest import EXAMPLES, REPO

INPUTS = sorted(p for p in EXAMPLES.rglob("infra.yml") if "generated" not in p.parts) + [REPO / "infra.yml"]


def jsonschema_valid(data) -> bool:
    return next(iter(schema._validator().iter_errors(data)), None) is None


def documents() -> list:
    docs = []
    for path in INPUTS:
        doc = load(path, Diagnostics())
        assert doc is not None, path
        docs.append(doc.data)
    return docs


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_input_gets_the_same_answer(path):
    data = load(path, Diagnostics()).data
    assert schema_check.valid(data) == jsonschema_valid(data)


def test_the_schema_compiles():
    """If infra.schema.json gains a keyword the check lacks, every document silently takes the slow path."""
    assert schema_check.infra_check() is not None


def test_unknown_keywords_are_refused():
    with pytest.raises(schema_check.Unsupported):
        schema_check.compile_schema({"type": "object", "dependentRequired": {"a": ["b"]}})
    with pytest.raises(schema_check.Unsupported):
        schema_check.compile_schema({"$ref": "https://example.com/other.json"})


SAMPLES = [0, 1, -3, 2 ** 53, 8.0, 0.5, -1.5, True, False, None, "", "x", "8", "a\nb", [], [1], {}, {"a": 1}]


@pytest.mark.parametrize("kind", sorted(schema_check.TYPES))
def test_types_mean_what_psots_validator_means(kind):
    checker = schema._validator().TYPE_CHECKER
    for value in SAMPLES:
        assert schema_check.TYPES[kind](value) == checker.is_type(value, kind), (kind, value)


def test_equality_is_json_equality():
    assert not schema_check.equal(True, 1) and not schema_check.equal(0, False)
    assert schema_check.equal(1, 1.0) and schema_check.equal([1, "a"], [1.0, "a"])
    assert not schema_check.equal({"a": True}, {"a": 1}) and schema_check.equal({"a": [1]}, {"a": [1]})


def _paths(node, prefix=()):
    """Every path into a document (keys and list indices), parents before children."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


def _values_in_schema() -> list:
    """Every enum and const value of the schema: mutations that land on valid branches too."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            found.extend(node.get("enum", []))
            if "const" in node:
                found.append(node["const"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(json.loads((REPO / "schemas" / "infra.schema.json").read_text()))
    return found


def _mutate(rng: random.Random, data, pool: list):
    doc = copy.deepcopy(data)
    paths = [p for p in _paths(doc) if p]
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            move = rng.random()
            if move < 0.45:
                parent[key] = copy.deepcopy(rng.choice(pool))
            elif move < 0.6 and isinstance(parent, dict):
                del parent[key]
            elif move < 0.7 and isinstance(parent, dict):
                parent[key + rng.choice(["x", "_", "s"])] = parent.pop(key)
            elif move < 0.8 and isinstance(parent, list):
                parent.append(copy.deepcopy(parent[key]))
            elif move < 0.9 and isinstance(parent[key], dict):
                parent[key][rng.choice(["extra", "Bad Name", "a" * 70, "ok-name"])] = rng.choice(pool)
            elif isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
                parent[key] = rng.choice([-1, 0, 10 ** 6, parent[key] + 0.5, -parent[key]])
        except (KeyError, IndexError, TypeError):
            continue
    return doc


def test_mutated_documents_get_the_same_answer():
    rng = random.Random(20240601)
    docs = documents()
    pool = SAMPLES + _values_in_schema() + ["0000:01:00.0", "10de:2c05", "8.6", "570.86.16", "VRAM_GB", "gpu-1",
                                             "a b", "UPPER", "/abs/path", {"type": "gpu"}, ["default"]]
    seen = {True: 0, False: 0}
    for i in range(3000):
        doc = _mutate(rng, docs[i % len(docs)], pool)
        expected = jsonschema_valid(doc)
        assert schema_check.valid(doc) == expected, yaml.safe_dump(doc, sort_keys=False)
        seen[expected] += 1
    assert min(seen.values()) > 300, seen   # both answers are well exercised


def test_validate_takes_the_fast_path_only_for_valid_documents(monkeypatch):
    """A valid document never builds the jsonschema validator; one with an unknown key still gets its warning."""
    doc = load(REPO / "infra.yml", Diagnostics())
    calls = []
    monkeypatch.setattr(schema, "_validator", lambda: calls.append(1) or pytest.fail("jsonschema was used"))
    assert schema.validate(doc, Diagnostics(doc))
    assert calls == []
    monkeypatch.undo()
    doc.data["global"]["colour"] = "blue"
    diag = Diagnostics(doc)
    assert schema.validate(doc, diag)
    assert [f.code for f in diag.findings] == ["KEY001"] and "colour" not in doc.data["global"]
