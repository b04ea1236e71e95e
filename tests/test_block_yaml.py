"""The fast YAML writer (generator/block_yaml.py) writes exactly the bytes of the reference dumper.

The reference is serialize.reference_dump_yaml (PyYAML's CSafeDumper with psot's resolver). Random data
of the shapes renderers build, with strings chosen to hit every quoting rule, must come out the same
from serialize.dump_yaml; what the fast writer handles it must write the same itself, and it must handle
every tree the repository's snapshots hold and the data it is meant for, not quietly hand everything back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import serialize
from generator.block_yaml import MAX_TEXT

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SNAPSHOTS = Path(__file__).parent / "snapshots"

# Strings that a quoting rule of libyaml or of psot's resolver is about (YAML 1.1 and 1.2 words and
# numbers, go-yaml's, indicators first / inside / last, document markers, spaces, breaks, quotes).
TRICKY = ["", " ", "on", "off", "y", "n", "yes", "No", "true", "False", "null", "~", "NULL", "08", "0o17", "017",
          "1e3", "1_000", "0x1F", "0b101", "1:20", "+1", "-1", ".5", ".inf", "-.inf", ".nan", "<<", "=",
          "2024-01-01", "2024-1-2 3:04:05", "1.0", "12.", ":", "a:", "a: b", "a:b", ":a", "#", "a #b", "a#b",
          "-", "- a", "-a", "?", "? a", "?a", "---", "--- a", "...", "..a", "[x]", "{x}", "a,b", ",a", "&a", "*a",
          "!a", "|", ">", "'", "'a'", "a'b", '"', "%a", "@a", "`a", " a", "a ", "a  b", "a\nb", "a\n", "\n",
          "a\tb", "é", "日本語", "a\u00a0b", "\u0085", "\u2028", "\ufeff", "😀", "\x7f", "\x00", "a" * 130,
          "x" * (MAX_TEXT + 1), "/dev/dri/renderD128", "nvidia.com/gpu=all", "8080:80", "${VAR}", "a=b c",
          "--gpus all", "echo 'hi'"]
KEYS = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12), st.from_regex(r"[a-z][a-z0-9_.-]{0,20}",
                                                                             fullmatch=True))
TEXT = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40),
                 st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=20))
SCALARS = st.one_of(TEXT, st.integers(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())


def trees(scalars: st.SearchStrategy, keys: st.SearchStrategy) -> st.SearchStrategy:
    """Nested dicts and lists (empty ones too) down to `scalars`, rooted at a dict or a list."""
    nested = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=25)
    return st.one_of(st.dictionaries(keys, nested, max_size=6), st.lists(nested, max_size=6))


@PROPERTY
@given(data=trees(SCALARS, KEYS))
def test_dump_yaml_is_the_reference_on_random_data(data):
    reference = serialize.reference_dump_yaml(data)
    fast = serialize.block_writer(serialize.Dumper).dump(data)
    assert fast is None or fast == reference
    assert serialize.dump_yaml(data) == reference


# What the fast writer is for: printable text without breaks, within its length bound, any key of
# at most 128 bytes, numbers, booleans and nulls. It must write all of it itself.
PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFFFD,
                                           blacklist_characters="\x7f\u2028\u2029\ufeff",
                                           blacklist_categories=("Cs", "Cc")), max_size=30)
HANDLED_TEXT = st.one_of(st.sampled_from([
    t for t in TRICKY if len(t) <= 128
    and all(" " <= c <= "~" or "\u00a0" <= c <= "\ufffd" and c not in "\u2028\u2029\ufeff" for c in t)]), PRINTABLE)


@PROPERTY
@given(data=trees(st.one_of(HANDLED_TEXT, st.integers(), st.floats(), st.booleans(), st.none()), HANDLED_TEXT))
def test_the_fast_writer_handles_what_renderers_build(data):
    assert serialize.block_writer(serialize.Dumper).dump(data) == serialize.reference_dump_yaml(data)


@pytest.mark.parametrize("data", [
    {"a": "x\ty"},                      # a tab: libyaml double-quotes it
    {"a": "line\nbreak"},               # a line break
    {"a": "😀"},                        # beyond U+FFFF: libyaml escapes it
    {"k" * 129: 1},                     # not a simple key for libyaml
    {"a": "x" * (MAX_TEXT + 1)},        # could be folded at the width
    {1: "a"},                           # a key that is not a string
    {"a": (1, 2)},                      # a tuple: the reference refuses it
    "scalar",                           # a root that is not a collection
], ids=["tab", "break", "astral", "long-key", "long-text", "int-key", "tuple", "scalar-root"])
def test_what_the_fast_writer_leaves_to_the_reference(data):
    assert serialize.block_writer(serialize.Dumper).dump(data) is None


def test_a_container_met_twice_is_left_to_the_reference_which_writes_an_alias():
    shared = {"b": 1}
    data = {"x": shared, "y": shared}
    assert serialize.block_writer(serialize.Dumper).dump(data) is None
    assert serialize.dump_yaml(data) == "x: &id001\n  b: 1\n'y': *id001\n"


def test_exact_bytes_of_each_block_shape():
    data = {"a": [1, [2, 3], {"b": None, "c": []}, {}], "d": {"e": {"f": 1.5e17}}, "g": "on", "": "#x",
            "h": [[{"i": "a: b"}]]}
    expected = ("a:\n- 1\n- - 2\n  - 3\n- b: null\n  c: []\n- {}\nd:\n  e:\n    f: 1.5e+17\ng: 'on'\n'': '#x'\n"
                "h:\n- - i: 'a: b'\n")
    assert serialize.block_writer(serialize.Dumper).dump(data) == expected == serialize.reference_dump_yaml(data)


def _snapshot_trees() -> list[Path]:
    return sorted(p for p in SNAPSHOTS.rglob("*") if p.suffix in (".yml", ".yaml")
                  and b"!override" not in p.read_bytes())


def test_every_snapshot_tree_without_line_breaks_is_written_by_the_fast_writer_byte_for_byte():
    files = _snapshot_trees()
    assert len(files) > 50
    left = []
    for path in files:
        raw = path.read_bytes()
        body = raw.split(b"\n", 1)[1].decode("utf-8")   # the header line aside
        data = yaml.load(body, Loader=yaml.CSafeLoader)
        fast = serialize.block_writer(serialize.Dumper).dump(data)
        if fast is None:
            left.append(path.relative_to(SNAPSHOTS).as_posix())
        else:
            assert fast == serialize.reference_dump_yaml(data) == body, path
    # The one tree holding multi-line strings (the device plugin's embedded config): the reference writes them.
    assert left == ["heterogeneous-k8s/kubernetes/nvidia-device-plugin-config.yaml"]
