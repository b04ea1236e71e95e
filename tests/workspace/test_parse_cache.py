"""Parsing by top-level entry (generator/workspace/parse_cache.py) gives what parsing the whole file gives.

For random documents, written in the styles that change how a file can be cut (comments and blank
lines anywhere, quoted keys and values that run over several lines, block scalars, flow collections,
a duplicate key, an anchor, a tab, YAML 1.1 words as keys), the result of `ParseMemo.parse` (with no
cache, with the cache of the same text, with the cache of the text before an edit that added lines
above) must equal `loader.parse_text`'s: ok, the values, every key and value position in its order,
the findings.
"""

from __future__ import annotations

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from generator.diagnostics.findings import Diagnostics
from generator.load.loader import Document, parse_text
from generator.workspace.parse_cache import ParseMemo

NAMES = st.sampled_from(["dom-a", "dom-b", "web", "db", "x1", "yes", "null", "8080", "dom-a"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.sampled_from(["text", "two words", "4GiB", "", "a: b",
                                                                        "# not a comment", "line\nbreak"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(NAMES, inner, max_size=3)), max_leaves=8)
# Lines that may be put anywhere between two lines of the dumped text.
ODD_LINES = st.sampled_from(["", "# a comment", "  # an indented comment", "    # deeper", "\t", "---",
                             "  dom-z: {a: 1,", "  b: 2}", '  note: "open', '  quote"', "  block: |", "    text",
                             "  &anchor dom-y: 1", "  dom-x: *anchor", "domains: {}", "  dom-a: again"])


def result(parsed: tuple, diag: Diagnostics) -> tuple:
    ok, data, doc = parsed
    assert isinstance(doc, Document)
    return (ok, data, [(p, doc.position(v)) for p, v in doc.keys.items()],
            [(p, doc.position(v)) for p, v in doc.values.items()], [f.to_dict() for f in diag.findings])


def whole(text: str) -> tuple:
    diag = Diagnostics(default_file="infra.yml")
    return result(parse_text(text, "infra.yml", diag), diag)


def cut(text: str, memo: ParseMemo) -> tuple:
    diag = Diagnostics(default_file="infra.yml")
    return result(memo.parse(text, "infra.yml", diag), diag)


def document(domains: dict, top: dict, flow: bool) -> str:
    body = {"project_name": "p", **top, "domains": domains, "hosts": {"h": {"platform": "incus"}}}
    return "# header\n\n" + yaml.safe_dump(body, sort_keys=False, default_flow_style=None if flow else False)


@settings(max_examples=150, deadline=None)
# `domains:` twice, the first a flow mapping: the whole file's duplicate, not the domains merged.
@example(domains={"dom-a": []}, top={}, flow=False, odd=[(0, "domains: {}")], above=0)
@given(domains=st.dictionaries(NAMES, VALUES, max_size=4), top=st.dictionaries(st.sampled_from(["global", "x"]),
       VALUES, max_size=2), flow=st.booleans(),
       odd=st.lists(st.tuples(st.integers(0, 60), ODD_LINES), max_size=3), above=st.integers(0, 3))
def test_parsing_by_entry_is_parsing_the_whole_file(domains, top, flow, odd, above):
    lines = document(domains, top, flow).split("\n")
    for at, line in sorted(odd, reverse=True):
        lines.insert(min(at, len(lines)), line)
    text = "\n".join(lines)
    expected = whole(text)
    memo = ParseMemo()
    assert cut(text, memo) == expected
    assert cut(text, ParseMemo(dict(memo.used))) == expected
    moved = text.replace("project_name: p\n", "project_name: p\n" + "# moved\n" * above, 1)
    assert cut(moved, ParseMemo(dict(memo.used))) == whole(moved)


def test_an_unchanged_entry_is_not_parsed_again():
    text = document({f"dom-{i}": {"machines": {f"m{i}": {"type": "lxc"}}} for i in range(4)}, {}, flow=False)
    memo = ParseMemo()
    cut(text, memo)
    assert (memo.hits, len(memo.used)) == (0, 6)   # project_name, four domains, hosts (domains: is a head)
    edited = text.replace("m2:\n        type: lxc", "m2:\n        type: vm")
    assert edited != text
    again = ParseMemo(dict(memo.used))
    assert cut(edited, again) == whole(edited) and again.hits == 5
