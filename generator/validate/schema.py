"""Validate stage, first half: infra.yml against schemas/infra.schema.json.

jsonschema finds the violations; this module words them as a compiler
would (what was expected, what was found, what to write instead) and
applies SPEC §3's rule for unknown keys: a warning, and the key is ignored,
unless it is within edit distance 2 of a key allowed there, which makes it
an error that says `did you mean '…'?`. Two more slips are that error, so
that `gpu: {vram: 20}` is not silently placed as a request for 0 GB: a key
that only lacks its unit (`vram` where `vram_gb` is allowed), and a known
alias (`_ALIASES`).

Two engines: jsonschema-rs (compiled Rust, ~3 ms to import) answers yes/no
for a document whose values both engines read alike (`_alike`); only a
document it refuses, or one outside that set, imports python-jsonschema
(~40 ms), whose errors this module words. So a valid infra.yml never pays
for python-jsonschema, and every finding is worded from the same errors as
before (tests/validate/test_engines.py checks that both paths agree).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from generator.diagnostics.findings import Diagnostics
from generator.load.loader import Document
from generator.platforms import PLATFORMS, Platform
from generator.resources import data_dir

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "infra.schema.json"

# Human wording of the patterns the schema uses, keyed by the pattern itself.
_PATTERN_HINTS = {
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$":
        "use lower-case letters, digits and '-', starting and ending with a letter or digit",
    r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$": "write a PCI address like 0000:01:00.0",
    r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$": "write vendor:device like 10de:2c05",
    r"^[0-9]+\.[0-9]+$": "write a version like \"8.6\" (quoted)",
    r"^[0-9]+(\.[0-9]+)*$": "write a version like \"570.86.16\" (quoted)",
    r"^[A-Z_][A-Z0-9_]*$": "use upper-case letters, digits and '_' (an environment variable name)",
}


@functools.cache
def infra_schema() -> dict:
    return json.loads((data_dir("schemas") / SCHEMA_FILE).read_text(encoding="utf-8"))


def _pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterable[ValidationError]:
    """`pattern`, refusing line breaks: Python's `$` matches before a trailing newline, so
    `"gpu\\n"` would pass `^[a-z0-9-]+$` and carry a line break into a file name or a text
    format. No value psot constrains with a pattern may span lines."""
    if validator.is_type(instance, "string") and ("\n" in instance or "\r" in instance
                                                   or not re.search(pattern, instance)):
        from jsonschema.exceptions import ValidationError
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_integer(checker, instance: Any) -> bool:
    """An int, not a float like 8.0: JSON Schema calls 8.0 an integer, but psot writes
    integers into qm.conf keys and file names (`cores: 8.0`, `100.0.conf`)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


def platform_enums(platforms: Iterable[Platform]) -> dict[tuple[str, ...], list[str]]:
    """Where the schema names a platform (the node holding the `enum`), and the names the registry allows there."""
    platforms = list(platforms)
    hosts = [h for p in platforms for h in p.host_platforms if h is not None]
    return {
        ("$defs", "global", "properties", "targets", "items"): [p.name for p in platforms],
        ("$defs", "host", "properties", "platform"): list(dict.fromkeys(hosts)),
        ("$defs", "workload", "properties", "target"): [p.name for p in platforms if p.workloads],
    }


def with_platforms(schema: dict, platforms: Iterable[Platform]) -> dict:
    """The schema accepting exactly the registered platforms where infra.yml names one.

    The schema file lists them too, for editors (tests/platforms/test_registry.py checks that
    it lists the registry's); the order it lists them in is kept, as findings quote it, and a
    platform it does not list comes last. Only the mappings on the way to an `enum` are copied; the
    rest is shared with `schema`, which stays as it was (a deep copy was a tenth of `psot validate`'s
    own work).
    """
    out = dict(schema)
    for path, names in platform_enums(platforms).items():
        node = out
        for key in path:
            node[key] = dict(node[key])
            node = node[key]
        written = node["enum"]
        node["enum"] = [n for n in written if n in names] + [n for n in names if n not in written]
    return out


def _validator() -> Draft202012Validator:
    return _compiled(tuple(PLATFORMS.values()))


@functools.cache
def _compiled(platforms: tuple[Platform, ...]) -> Draft202012Validator:
    # Imported here, by the validate stage only: jsonschema and its referencing stack take
    # ~40 ms to import, which `psot --help`, a no-op sync, detect and apply need not pay.
    from jsonschema import Draft202012Validator, validators
    extended = validators.extend(Draft202012Validator, {"pattern": _pattern},
                                 type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer))
    return extended(dereferenced(with_platforms(infra_schema(), platforms)))


# Keywords that would make a `$ref` mean more than "apply that schema here": they change the
# base URI or the dynamic scope, or collect annotations across applicators.
_SCOPED = {"$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor",
           "unevaluatedProperties", "unevaluatedItems"}
_ANNOTATIONS = {"description", "title", "default", "examples", "$comment", "deprecated", "readOnly", "writeOnly"}
_VALUES = {"enum", "const", "default", "examples"}           # data, not schemas
_MAPS = {"properties", "patternProperties", "$defs"}          # names -> schemas


class _AsWritten(Exception):
    """The schema uses something dereferenced() does not rewrite: it is used as written."""


def dereferenced(schema: dict) -> dict:
    """The schema with every `#/$defs/...` reference replaced by the definition it names.

    jsonschema looks a `$ref` up again at every node it checks (a URI join, a JSON-pointer
    walk, one more validator): a third of validating 2 000 machines. In JSON Schema 2020-12 a
    `$ref` applies its target in place, as `allOf` does, so resolving each one once here
    leaves jsonschema the same constraints and the same error messages. A schema that nests
    an `$id`, anchors, dynamic or recursive references, `unevaluated*`, a reference to
    anything but a definition, or a definition that refers to itself, is returned as is.
    """
    definitions = schema.get("$defs", {})
    done: dict[str, Any] = {}
    active: set[str] = set()

    def definition(name: str) -> Any:
        if name not in definitions or name in active:
            raise _AsWritten(name)
        if name not in done:
            active.add(name)
            done[name] = visit(definitions[name], nested=True)
            active.discard(name)
        return done[name]

    def visit(node: Any, nested: bool) -> Any:
        if isinstance(node, list):
            return [visit(item, nested) for item in node]
        if not isinstance(node, dict):
            return node
        if nested and _SCOPED & node.keys():
            raise _AsWritten(sorted(_SCOPED & node.keys()))
        out: dict[str, Any] = {}
        for keyword, value in node.items():
            if keyword == "$ref":
                continue
            if keyword in _VALUES:
                out[keyword] = value
            elif keyword == "$defs" and not nested:
                out[keyword] = {name: definition(name) for name in value}
            elif keyword in _MAPS:
                out[keyword] = {name: visit(sub, True) for name, sub in value.items()}
            else:
                out[keyword] = visit(value, True)
        if "$ref" not in node:
            return out
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or "/" in ref[len("#/$defs/"):]:
            raise _AsWritten(ref)
        target = definition(ref[len("#/$defs/"):])
        if out.keys() <= _ANNOTATIONS:
            return target
        out["allOf"] = out.get("allOf", []) + [target]
        return out

    try:
        return visit(schema, nested=False)
    except _AsWritten:
        return schema


@functools.cache
def _fast_check() -> Callable[[Any], bool]:
    """jsonschema-rs's yes/no answer for the schema with the registered platforms."""
    import jsonschema_rs
    validator = jsonschema_rs.Draft202012Validator(with_platforms(infra_schema(), tuple(PLATFORMS.values())))

    def is_valid(data: Any) -> bool:
        try:
            return bool(validator.is_valid(data))
        except (ValueError, TypeError, OverflowError):      # a value it cannot convert: ask the reference
            return False
    return is_valid


# Where the engines could differ, psot departs from plain JSON Schema or Rust's regex from Python's:
# a line break (`_pattern` refuses it; a `\s` inside a Rust pattern matches it), other control
# characters and whitespace other than the space (Python's `\s` matches U+001C-U+001F, Rust's does
# not: https://docs.rs/regex/latest/regex/#perl-character-classes-unicode-friendly), integers past
# 64 bits, infinities. A document holding any of them is left to python-jsonschema.
_ODD_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]|[^\S ]")


class _Unlike(Exception):
    """The document holds a value the two engines may read differently."""


def _alike(value: Any) -> Any:
    """`value` as jsonschema-rs should see it to answer as psot's python-jsonschema would.

    An integral float (`disk_gb: 2.0`) becomes the next float up: `_is_integer` refuses 8.0 where
    the schema wants an integer, which JSON Schema (and so jsonschema-rs) accepts. The next float
    is no integer either, and it meets every bound and type the float met or fails one, so the
    reference decides; infra.schema.json applies no `not`, and its `if`s, `oneOf` and
    `uniqueItems` lists are about strings. Raises _Unlike for the values in `_ODD_CHARACTER`'s note.
    """
    if isinstance(value, dict):
        return {_alike_key(k): _alike(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_alike(item) for item in value]
    if isinstance(value, str):
        if _ODD_CHARACTER.search(value):
            raise _Unlike(value)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unlike(value)
        return math.nextafter(value, math.inf) if value.is_integer() else value
    if isinstance(value, bool) or value is None or (isinstance(value, int) and -2**63 <= value < 2**63):
        return value
    raise _Unlike(value)


def _alike_key(key: Any) -> str:
    if not isinstance(key, str):
        raise _Unlike(key)
    return cast(str, _alike(key))


def _fast_valid(data: Any) -> bool:
    """True when jsonschema-rs finds `data` valid and python-jsonschema would too (see `_alike`)."""
    try:
        return _fast_check()(_alike(data))
    except _Unlike:
        return False


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: Levenshtein plus adjacent transpositions."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


# Other names for a key psot has: what nvidia-smi, docker or CUDA's documentation call it. Each maps to
# the keys it may mean, the first one allowed where it is written wins (`cc` is a minimum in a request,
# the card's own value in the inventory). Only names no AnKLuMe or psot mapping uses for something else:
# `memory` is left out, SPEC §7 gives inventory GPUs a `memory: dedicated | unified`.
_ALIASES = {
    "cc": ("min_compute_capability", "compute_capability"),
    "compute": ("min_compute_capability", "compute_capability"),
    "compute_cap": ("min_compute_capability", "compute_capability"),   # nvidia-smi --query-gpu=compute_cap
    "min_cc": ("min_compute_capability",),
    "compute_capability": ("min_compute_capability",),                 # the inventory's key, in a request
    "gpus": ("count",),                                                # docker run --gpus 2
    "gpu_count": ("count",),
    "num_gpus": ("count",),
}
# psot names quantities with their unit; the key without it is the common slip.
_UNIT_SUFFIXES = ("_gb", "_mb", "_watts")


def meant_key(key: str, allowed: list[str]) -> str | None:
    """The allowed key an unknown `key` stands for: an alias, the key with its unit, or one within 2 edits."""
    for target in _ALIASES.get(key, ()):
        if target in allowed:
            return target
    with_unit = [key + suffix for suffix in _UNIT_SUFFIXES if key + suffix in allowed]
    if len(with_unit) == 1:
        return with_unit[0]
    return closest(key, allowed)


def closest(word: str, candidates: Iterable[str], limit: int = 2) -> str | None:
    """The candidate nearest to `word` within `limit` edits (ties: alphabetical)."""
    # The distance is at least the difference in length: skipping those keeps a
    # megabyte-long key from costing minutes of quadratic work.
    scored = sorted((edit_distance(word, c), c) for c in candidates
                    if isinstance(c, str) and abs(len(c) - len(word)) <= limit)
    return scored[0][1] if scored and scored[0][0] <= limit else None


# bool before int: True is an int to isinstance, but a boolean to the user.
_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
          (list, "a list"), (dict, "a mapping"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return next((word for kind, word in _KINDS if isinstance(value, kind)), f"a {type(value).__name__}")


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true/false", "null": "null"}


def _expected(types: Any) -> str:
    types = types if isinstance(types, list) else [types]
    # `null` is tolerated where AnKLuMe reads a missing section as empty; it is not advice.
    words = [_TYPE_WORDS.get(t, t) for t in types if t != "null" or len(types) == 1]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _field(path: tuple) -> str:
    for part in reversed(path):
        if isinstance(part, str):
            return part
    return "value"


def validate(doc: Document, diag: Diagnostics) -> bool:
    """Report schema violations; drop unknown keys that are only warnings.

    Returns True when the document has no schema error, i.e. later stages
    may rely on its types.
    """
    errors_before = diag.error_count
    if _fast_valid(doc.data):
        return True
    ignored: list[tuple] = []
    for error in _validator().iter_errors(doc.data):
        _report(error, diag, ignored)
    for path in sorted(ignored, key=lambda p: (len(p), [str(x) for x in p]), reverse=True):
        parent = doc.data
        for part in path[:-1]:
            parent = parent[part]
        parent.pop(path[-1], None)
    return diag.error_count == errors_before


# types-jsonschema lets a ValidationError's fields be jsonschema's "unset" marker (for an error
# made by hand); every error iter_errors yields has them, so psot reads them as plain values.
def _value(error: ValidationError) -> Any:
    return error.validator_value


def _schema(error: ValidationError) -> Any:
    return error.schema


def _instance(error: ValidationError) -> Any:
    return error.instance


def _report(error: ValidationError, diag: Diagnostics, ignored: list[tuple]) -> None:
    path = tuple(error.absolute_path)
    kind = error.validator
    if "propertyNames" in error.absolute_schema_path:
        _report_name(error, diag, path)
        return
    if kind in ("anyOf", "oneOf") and error.context:
        _report_alternatives(error, diag, ignored)
        return
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        _report_unknown_keys(error, diag, path, ignored)
        return
    if kind == "type":
        if not path:
            diag.error("SCHEMA001", f"infra.yml must be a mapping with project_name, global and domains; "
                       f"got {_kind(error.instance)}", path)
        elif type(error.instance) is float and error.instance.is_integer():
            diag.error("SCHEMA001", f"'{_field(path)}' must be {_expected(_value(error))}, "
                       f"got {error.instance!r}; write {int(error.instance)}", path)
        else:
            diag.error("SCHEMA001", f"'{_field(path)}' must be {_expected(_value(error))}, "
                       f"got {_kind(error.instance)}", path)
        return
    if kind == "enum":
        options = [o for o in _value(error) if isinstance(o, str)]
        hint = closest(error.instance, options) if isinstance(error.instance, str) else None
        message = f"{error.instance!r} is not a valid {_field(path)}; expected one of: " + ", ".join(
            str(o) for o in _value(error))
        if hint:
            message += f" (did you mean '{hint}'?)"
        diag.error("SCHEMA001", message, path)
        return
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        for key in _value(error):
            if key not in present:
                where = f"'{_field(path)}'" if path else "infra.yml"
                diag.error("SCHEMA001", f"{where} is missing the required key '{key}'", path, at="key")
        return
    if kind == "pattern":
        hint = _PATTERN_HINTS.get(_value(error), f"it must match {_value(error)}")
        diag.error("SCHEMA001", f"{error.instance!r} is not a valid {_field(path)}: {hint}", path)
        return
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if kind in bounds:
        diag.error("SCHEMA001", f"'{_field(path)}' must be {bounds[kind]} {_value(error)}, "
                   f"got {error.instance}", path)
        return
    if kind in ("maxLength", "minLength"):
        word = "at most" if kind == "maxLength" else "at least"
        diag.error("SCHEMA001", f"'{_field(path)}' must be {word} {_value(error)} characters", path)
        return
    if kind == "uniqueItems":
        diag.error("SCHEMA001", f"'{_field(path)}' lists the same item twice", path)
        return
    diag.error("SCHEMA001", f"'{_field(path)}': {error.message}", path)


def _report_name(error: ValidationError, diag: Diagnostics, path: tuple) -> None:
    name = error.instance
    container = _field(path)
    if error.validator == "maxLength":
        problem = f"is longer than {_value(error)} characters"
    elif error.validator == "pattern":
        problem = "is not a valid name: " + _PATTERN_HINTS.get(_value(error), error.message)
    else:
        problem = f"is not a valid name: {error.message}"
    diag.error("NAME001", f"{container} name {name!r} {problem} (names become file names)", path + (name,), at="key")


def _report_alternatives(error: ValidationError, diag: Diagnostics, ignored: list[tuple]) -> None:
    """`gpu: true` or a request mapping: report against the branch the value's type chose."""
    here = list(error.absolute_path)
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(cast(int, sub.relative_schema_path[0]), []).append(sub)   # the branch index
    type_misses = {i for i, errs in branches.items()
                   if any(e.validator == "type" and list(e.absolute_path) == here for e in errs)}
    matching = [errs for i, errs in sorted(branches.items()) if i not in type_misses]
    if len(matching) == 1:
        for sub in matching[0]:
            _report(sub, diag, ignored)
        return
    if not matching:
        expected = []
        for errs in branches.values():
            for e in errs:
                if e.validator == "type" and list(e.absolute_path) == here:
                    # A branch that is one word (`count: all`) is that word to the user, not "a string".
                    words = _schema(e).get("enum")
                    expected.append(" or ".join(f"'{w}'" for w in words) if words else _expected(_value(e)))
        path = tuple(error.absolute_path)
        got = _kind(error.instance)
        if type(error.instance) is float and error.instance.is_integer() and "an integer" in expected:
            got = f"{error.instance!r}; write {int(error.instance)}"
        diag.error("SCHEMA001", f"'{_field(path)}' must be {' or '.join(dict.fromkeys(expected))}, got {got}", path)
        return
    from jsonschema.exceptions import best_match
    _report(best_match(error.context), diag, ignored)


def _report_unknown_keys(error: ValidationError, diag: Diagnostics, path: tuple, ignored: list[tuple]) -> None:
    allowed = list(_schema(error).get("properties", {}))
    patterns = [re.compile(p) for p in _schema(error).get("patternProperties", {})]
    for key in _instance(error):
        if key in allowed or any(p.search(key) for p in patterns):
            continue
        hint = meant_key(key, allowed)
        where = f"in '{_field(path)}'" if path else "at the top level"
        if hint:
            diag.error("KEY002", f"unknown key '{key}' {where}: did you mean '{hint}'?", path + (key,), at="key")
        else:
            diag.warning("KEY001", f"unknown key '{key}' {where} is ignored; allowed keys: " + ", ".join(allowed),
                         path + (key,), at="key")
            ignored.append(path + (key,))
