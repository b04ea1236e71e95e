"""generator/yaml_block.py writes exactly what yaml.dump writes, or declines.

serialize.dump_yaml trusts its text byte for byte, so these tests compare
the two on every file of every generated tree and on random documents full
of strings that YAML reads as something else.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import render as render_module
from generator import serialize, yaml_block
from generator.pipeline import compile_infra
from generator.serialize import TextFile, _libyaml_dump
from tests.test_snapshots import INPUTS


def writer() -> yaml_block.BlockWriter:
    return yaml_block.BlockWriter(_libyaml_dump)


def same_or_declined(w: yaml_block.BlockWriter, data) -> bool:
    """True when the writer took `data`; fails the test when its text differs from yaml.dump's."""
    try:
        text = w.write(data)
    except yaml_block.Unsupported:
        return False
    assert text == _libyaml_dump(data), data
    return True


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_generated_yaml_file_is_written_by_the_block_writer_as_by_libyaml(name, tmp_path, monkeypatch):
    documents = []
    real = render_module.tree_bytes
    monkeypatch.setattr(render_module, "tree_bytes",
                        lambda files, source: documents.extend(files.values()) or real(files, source))
    result = compile_infra(INPUTS[name], output_dir=tmp_path / "generated")
    assert result.ok
    w = writer()
    yaml_documents = [d for d in documents if not isinstance(d, TextFile)]
    assert yaml_documents
    for data in yaml_documents:
        taken = same_or_declined(w, data)
        # Only a string on several lines (a ConfigMap's embedded file) sends a file to yaml.dump.
        assert taken or "\\n" in repr(data), data


TRICKY = ["", " ", "  lead", "trail ", "yes", "no", "on", "off", "y", "n", "true", "False", "null", "Null", "~",
          "1", "-1", "+1", "1.0", ".5", "1e3", "0x1F", "0o17", "017", "1_000", "1:30", "12:30:45", "2024-01-01",
          ".inf", "-.Inf", ".NaN", "- a", "-", "--", "---", "...", "? x", ":", "a:b", "a: b", "a #b", "#a", "!tag",
          "&a", "*a", "%x", "@x", "`x", "'", "\"", "it's", "say \"hi\"", "[a]", "{a: 1}", ",", "a,b", "|", ">",
          "\t", "a\tb", "é", "日本語", "emoji 🚀", "\x85", "\u2028", "\u2029", "\ufeff", "a\nb", "a\r\nb", "\x00",
          "\x1f", "\x7f", "a\\b", "C:\\path", "http://x.y/z?a=1&b=2", "0000:01:00.0", "10de:2c05", "8.6",
          "570.86.16", "nvidia.com/gpu", "limits.cpu", "x" * 120, "y " * 300, "z" * 1200, "w " * 1990,
          "v " * 2030]

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=20),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e17, 1e16, 0.1, 1.5, 100.0, 2.5e-7, math.pi]),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12), st.sampled_from(["k" * 99, "k" * 101, "k" * 140]))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.dictionaries(keys, documents, min_size=1, max_size=6), st.lists(documents, min_size=1)))
def test_random_documents_are_written_as_libyaml_writes_them_or_declined(data):
    same_or_declined(writer(), data)
    assert serialize.dump_yaml(data) == _libyaml_dump(data)


def test_the_same_writer_keeps_its_answers_across_documents():
    w = writer()
    for data in ({"a": "yes", "b": [1, 2.0, None]}, {"b": "no", "a": {"yes": True}}, [{"a": "yes"}, "1.0"]):
        assert same_or_declined(w, data)


@pytest.mark.parametrize("data", [
    {"a": (1, 2)},                          # a tuple: yaml.dump refuses it too
    {1: "a"},                               # a key that is not a string
    {"a": "line\nbreak"},                   # a scalar on two lines
    {"a": "x " * 2100},                     # long enough to be folded
    {"k" * 140: 1},                         # a key written as `? key`
    {},                                     # nothing at the top: `{}`
])
def test_what_it_declines(data):
    with pytest.raises(yaml_block.Unsupported):
        writer().write(data)


def test_a_container_that_appears_twice_is_left_to_libyaml_and_its_alias():
    shared = [1, 2]
    data = {"a": shared, "b": shared}
    with pytest.raises(yaml_block.Unsupported):
        writer().write(data)
    assert serialize.dump_yaml(data) == _libyaml_dump(data) and "&id001" in serialize.dump_yaml(data)
