"""schema.dereferenced(): jsonschema gets infra.schema.json with its references resolved once.

The validator must find exactly what it finds on the schema as written: the
same errors (path, keyword, message) and so the same findings, on every
input of the repository and on thousands of documents mutated from them.
"""

from __future__ import annotations

import copy
import json
import random

import pytest
from jsonschema import Draft202012Validator, validators

from generator.diagnostics.findings import Diagnostics
from generator.load.loader import load
from generator.validate import schema
from tests.conftest import EXAMPLES, REPO

INPUTS = sorted(p for p in EXAMPLES.rglob("infra.yml") if "generated" not in p.parts) + [REPO / "infra.yml"]
_Extended = validators.extend(Draft202012Validator, {"pattern": schema._pattern},
                              type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", schema._is_integer))
AS_WRITTEN = _Extended(schema.infra_schema())
DEREFERENCED = _Extended(schema.dereferenced(schema.infra_schema()))


def errors(validator, data) -> list:
    found = [(tuple(e.absolute_path), e.validator, e.message, tuple(e.path)) for e in validator.iter_errors(data)]
    return sorted(found, key=repr)


def findings(validator, path_or_data, monkeypatch) -> list:
    monkeypatch.setattr(schema, "_validator", lambda: validator)
    doc = load(INPUTS[0], Diagnostics())
    doc.data = copy.deepcopy(path_or_data)
    diag = Diagnostics(doc)
    ok = schema.validate(doc, diag)
    return [ok, [f.format() for f in diag.findings], doc.data]


def test_every_reference_is_resolved():
    resolved = schema.dereferenced(schema.infra_schema())
    assert "$ref" not in json.dumps({k: v for k, v in resolved.items() if k != "$defs"})


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_input_is_valid_both_ways(path):
    data = load(path, Diagnostics()).data
    assert errors(AS_WRITTEN, data) == errors(DEREFERENCED, data) == []


def _mutations(rng: random.Random, data, pool: list, count: int):
    paths = []

    def walk(node, prefix):
        paths.append(prefix)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, prefix + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, prefix + (i,))
    walk(data, ())
    paths = paths[1:]
    for _ in range(count):
        doc = copy.deepcopy(data)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            parent = doc
            try:
                for part in path[:-1]:
                    parent = parent[part]
                key = path[-1]
                move = rng.random()
                if move < 0.5:
                    parent[key] = copy.deepcopy(rng.choice(pool))
                elif move < 0.65 and isinstance(parent, dict):
                    del parent[key]
                elif move < 0.8 and isinstance(parent, dict):
                    parent[key + rng.choice(["x", "_", "s"])] = parent.pop(key)
                elif isinstance(parent[key], dict):
                    parent[key][rng.choice(["extra", "Bad Name", "a" * 70, "ok-name"])] = rng.choice(pool)
            except (KeyError, IndexError, TypeError):
                continue
        yield doc


POOL = [0, 1, -3, 8.0, 0.5, True, False, None, "", "x", "8", "a\nb", [], [1], {}, {"a": 1}, "0000:01:00.0",
        "10de:2c05", "8.6", "570.86.16", "VRAM_GB", "gpu-1", "a b", "UPPER", "/abs/path", {"type": "gpu"},
        ["default"], "compose", "proxmox", "kubernetes", "lxc", "vm", "shared", "exclusive", "nvidia", "amd"]


def test_mutated_documents_get_the_same_errors_and_findings(monkeypatch):
    rng = random.Random(20240601)
    invalid = 0
    for path in INPUTS:
        data = load(path, Diagnostics()).data
        for doc in _mutations(rng, data, POOL, 300):
            expected = errors(AS_WRITTEN, doc)
            assert errors(DEREFERENCED, doc) == expected, doc
            invalid += bool(expected)
            if expected and rng.random() < 0.2:
                assert findings(DEREFERENCED, doc, monkeypatch) == findings(AS_WRITTEN, doc, monkeypatch)
    assert invalid > 500


@pytest.mark.parametrize("as_written", [
    {"$defs": {"a": {"$id": "https://example.com/a", "type": "string"}}, "$ref": "#/$defs/a"},
    {"$defs": {"a": {"items": {"$ref": "#/$defs/a"}}}, "$ref": "#/$defs/a"},
    {"$ref": "https://example.com/other.json"},
    {"$defs": {"a": {"$defs": {"b": {}}}}, "$ref": "#/$defs/a/$defs/b"},
    {"properties": {"x": {"unevaluatedProperties": False}}},
])
def test_what_it_leaves_as_written(as_written):
    assert schema.dereferenced(as_written) is as_written
