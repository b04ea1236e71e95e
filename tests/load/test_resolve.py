"""The loader's cached tag resolution reads every document exactly as PyYAML's safe loader does."""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.load.resolve import BaseLoader, CachedSafeLoader

REPO = Path(__file__).resolve().parents[2]
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Plain scalars each YAML 1.1 resolver is about, some twice in a document: the cache must answer the
# second time what the resolver answered the first.
WORDS = ["on", "Off", "yes", "n", "y", "~", "null", "", "true", "FALSE", "08", "0o17", "017", "0x1F", "0b101",
         "1_000", "1:20", "190:20:30", "1e3", "1.0e+3", "6.8523015e+5", ".5", ".inf", "-.Inf", ".NaN", "+12",
         "-0", "2024-01-01", "2001-12-14t21:59:43.10-05:00", "=", "<<", "a", "nvidia", "0.25"]
PLAIN = st.one_of(st.sampled_from(WORDS), st.from_regex(r"[a-z0-9][a-z0-9_.:+-]{0,8}", fullmatch=True))


def same(a, b) -> bool:
    """Equal, NaN included (NaN != NaN), and of the same types all the way down (1 == 1.0 == True)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_the_safe_loader_has_no_path_resolvers_the_cache_would_ignore():
    assert BaseLoader.yaml_path_resolvers == {} and CachedSafeLoader.yaml_path_resolvers == {}


@PROPERTY
@given(pairs=st.lists(st.tuples(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True),
                                st.lists(PLAIN, min_size=1, max_size=4)), min_size=1, max_size=12))
def test_plain_scalars_resolve_as_the_safe_loader_resolves_them(pairs):
    lines = []
    for key, values in pairs:
        lines.append(f"{key}_{len(lines)}: {values[0]}")
        lines.append(f"{key}_{len(lines)}: [{', '.join(values)}]")
        lines.append(f"{key}_{len(lines)}:")
        lines.extend(f"  - {value}" for value in values)
    text = "\n".join(lines) + "\n"
    try:
        expected = yaml.load(text, Loader=BaseLoader)
    except yaml.YAMLError:   # e.g. a '2024-13-45' date: the cached loader must fail alike
        try:
            yaml.load(text, Loader=CachedSafeLoader)
        except yaml.YAMLError:
            return
        raise AssertionError("the cached loader read what the safe loader refuses") from None
    assert same(yaml.load(text, Loader=CachedSafeLoader), expected)


def test_every_yaml_file_of_the_repository_loads_alike():
    files = sorted(p for pattern in ("*.yml", "*.yaml") for p in REPO.rglob(pattern)
                   if not {".venv", "out", "generated"} & set(p.relative_to(REPO).parts)
                   and b"!override" not in p.read_bytes())
    assert len(files) > 80   # the repository's own files: generated/ exists only after a sync (not in a fresh clone)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert same(yaml.load(text, Loader=CachedSafeLoader), yaml.load(text, Loader=BaseLoader)), path
