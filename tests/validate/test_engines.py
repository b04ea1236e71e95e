"""jsonschema-rs answers valid documents; python-jsonschema words the findings of the others.

psot must find the same on every document whichever engine answered: the same
validity, the same findings with file:line:col, the same keys dropped. Documents
come from the schema itself (every branch it allows, hypothesis drawing values
that match its patterns and bounds) and from the repository's inputs, mutated
with the values where the two engines could read a document differently
(integral floats, line breaks and other control characters, odd whitespace,
integers past 64 bits).
"""

from __future__ import annotations

import copy
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.diagnostics.findings import Diagnostics
from generator.load.loader import load
from generator.platforms import PLATFORMS
from generator.validate import schema
from tests.validate.test_schema_dereferenced import INPUTS

SCHEMA = schema.dereferenced(schema.with_platforms(schema.infra_schema(), PLATFORMS.values()))
REFERENCE = schema._validator()
DOCUMENTS = [load(path, Diagnostics()).data for path in INPUTS]
ODD = [8.0, -0.0, 2**64, -2**63 - 1, float("inf"), "a\nb", "gpu\n", "a\rb", "a\tb", "a\x1fb", "a\x85b",
       "a\u00a0b", "a\u2028b", "\x00", "é", "a b c d\ne", 1, 0.5, True, None, "", [], {}, {"a": 1}]


def _merged(node: dict) -> dict:
    """`node` with its `allOf` branches folded in (dereferenced() writes a `$ref` beside keys as allOf)."""
    out = {k: v for k, v in node.items() if k != "allOf"}
    for branch in node.get("allOf", []):
        branch = _merged(branch)
        for key, value in branch.items():
            if key in ("properties", "patternProperties") and key in out:
                out[key] = {**branch[key], **out[key]}
            elif key == "required" and key in out:
                out[key] = sorted(set(out[key]) | set(value))
            else:
                out.setdefault(key, value)
    return out


def instances(node: Any, depth: int = 0) -> st.SearchStrategy:
    """Values the schema `node` describes (mostly valid: patterns, bounds, enums, required keys)."""
    if not isinstance(node, dict):
        return st.just(None)
    node = _merged(node)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            rest = {k: v for k, v in node.items() if k != key}
            return st.one_of([instances({**rest, **branch}, depth) for branch in node[key]])
    types = node.get("type", ["object"] if "properties" in node else ["string"])
    types = types if isinstance(types, list) else [types]
    return st.one_of([_typed(t, node, depth) for t in types])


def _typed(kind: str, node: dict, depth: int) -> st.SearchStrategy:
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low = node.get("minimum", node.get("exclusiveMinimum", -5) + 1 if "exclusiveMinimum" in node else -5)
        high = node.get("maximum", low + 100)
        ints = st.integers(int(low), int(high))
        return ints if kind == "integer" else st.one_of(ints, st.floats(low, high, allow_nan=False))
    if kind == "string":
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True, alphabet=st.characters(codec="ascii")).filter(
                lambda s: node.get("minLength", 0) <= len(s) <= node.get("maxLength", 10**6))
        return st.text(st.characters(codec="ascii", min_codepoint=32), min_size=node.get("minLength", 0),
                       max_size=min(node.get("maxLength", 12), 12))
    if depth > 5:
        return st.just([] if kind == "array" else {})
    if kind == "array":
        return st.lists(instances(node.get("items", {}), depth + 1), max_size=2)
    properties = node.get("properties", {})
    required = [k for k in node.get("required", []) if k in properties]
    optional = [k for k in properties if k not in required]
    names = node.get("propertyNames", {})
    extra = (st.dictionaries(instances({"type": "string", **names}, depth + 1), instances(node["additionalProperties"],
                                                                                           depth + 1), max_size=2)
             if isinstance(node.get("additionalProperties"), dict) else st.just({}))
    return st.builds(lambda fixed, more, other: {**other, **fixed, **more},
                     st.fixed_dictionaries({k: instances(properties[k], depth + 1) for k in required}),
                     st.fixed_dictionaries({}, optional={k: instances(properties[k], depth + 1) for k in optional}),
                     extra)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, prefix + (i,))
    return found


@st.composite
def mutated(draw, base: st.SearchStrategy) -> Any:
    """A document from `base` with up to 3 values replaced, keys renamed or added."""
    doc = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        move = draw(st.sampled_from(["value", "rename", "add"]))
        if move == "value":
            parent[path[-1]] = draw(st.sampled_from(ODD))
        elif isinstance(parent, dict):
            value = parent.pop(path[-1]) if move == "rename" else draw(st.sampled_from(ODD))
            parent[str(path[-1]) + draw(st.sampled_from(["x", "\n", "\x1f", " ", "_gb"]))] = value
    return doc


def outcome(data: Any, fast: bool) -> list:
    """What validate() reports on `data`: validity, the findings as printed, the data it leaves."""
    doc = load(INPUTS[0], Diagnostics())
    doc.data = copy.deepcopy(data)
    diag = Diagnostics(doc)
    if fast:
        ok = schema.validate(doc, diag)
    else:
        with mock.patch.object(schema, "_fast_check", lambda: lambda _data: False):
            ok = schema.validate(doc, diag)
    return [ok, [f.format() for f in diag.findings], doc.data]


def check(data: Any) -> None:
    assert outcome(data, fast=True) == outcome(data, fast=False)
    try:
        seen = schema._alike(data)
    except schema._Unlike:
        return
    assert schema._fast_check()(seen) == REFERENCE.is_valid(data), data


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.filter_too_much])


@FAST
@given(mutated(instances(SCHEMA)))
def test_documents_from_the_schema_get_the_same_findings(data):
    check(data)


@FAST
@given(mutated(st.sampled_from(DOCUMENTS)))
def test_mutated_inputs_get_the_same_findings(data):
    check(data)


def test_every_input_takes_the_fast_path():
    # The repository's inputs are what users write: valid, and answered without python-jsonschema.
    assert [schema._fast_valid(d) for d in DOCUMENTS] == [True] * len(DOCUMENTS)


def unlike(value: Any) -> bool:
    try:
        schema._alike(value)
    except schema._Unlike:
        return True
    return False


def test_what_is_left_to_the_reference():
    assert [unlike(v) for v in ODD[2:14]] == [True] * 12
    assert [unlike(v) for v in ("é", "a b c d e", 1, 0.5, True, None, [], {"a": 1})] == [False] * 8
    assert unlike({1: "a"}) and unlike({"a\nb": 1})


def test_an_integral_float_is_seen_as_the_next_float_up():
    assert schema._alike({"disk_gb": [2.0, -0.0, 0.5, 3]}) == {"disk_gb": [2.0000000000000004, 5e-324, 0.5, 3]}
