"""A fast yes/no check of a document against infra.schema.json.

jsonschema finds every violation and says where it is, which schema.py
turns into findings; it also costs about a second per 10 000 consumers and
a tenth of a second to import. Most documents have no violation at all, so
schema.py first asks this module, which compiles the schema once into plain
Python closures that only answer "valid or not": about ten times faster,
and jsonschema is imported only when the answer is "not".

The compiler knows exactly the keywords infra.schema.json uses, with the
meaning psot's jsonschema validator gives them (schema.py): `integer` is
an int and never a float or a bool, `pattern` refuses line breaks. A schema
with any other keyword is not compiled (`Unsupported`) and every document
then goes through jsonschema. tests/test_schema_check.py holds the two to
the same answer on every example and on thousands of mutated documents.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable

from generator.resources import data_dir

Check = Callable[[Any], bool]

SCHEMA_FILE = "infra.schema.json"

# Keywords that only annotate; they never make a document invalid.
_ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
                "deprecated", "readOnly", "writeOnly"}


class Unsupported(Exception):
    """The schema uses a keyword this module does not implement."""


def is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": is_integer,
    "number": is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def equal(a: Any, b: Any) -> bool:
    """JSON equality, as jsonschema has it: true is not 1, 1 is 1.0, containers compare by content."""
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for c in checks:
            if not c(value):
                return False
        return True
    return check


class _Compiler:
    def __init__(self, root: dict):
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, pointer: str) -> Check:
        """`#/$defs/x`, compiled when first used: a small file checks against a small part of
        the schema, and `psot validate` should not pay for compiling the rest."""
        if not pointer.startswith("#/"):
            raise Unsupported(f"$ref {pointer}")
        target: Any = self.root
        for part in pointer[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        if pointer not in self.refs:
            cell: list[Check] = []

            def check(value: Any) -> bool:
                if not cell:
                    cell.append(self.compile(target))
                return cell[0](value)
            self.refs[pointer] = check
        return self.refs[pointer]


    def compile(self, schema: Any) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema {schema!r}")
        checks = []
        if "type" in schema:
            checks.append(_type(schema["type"]))
        for keyword, build in _KEYWORDS.items():
            if keyword != "type" and keyword in schema:
                checks.append(build(self, schema))
        return _all([c for c in checks if c is not _always])


def _type(names: Any) -> Check:
    names = names if isinstance(names, list) else [names]
    preds = [TYPES[n] for n in names]
    if len(preds) == 1:
        return preds[0]
    return lambda value: any(p(value) for p in preds)


def _enum(c: _Compiler, schema: dict) -> Check:
    options = schema["enum"]
    if all(isinstance(o, str) for o in options):
        allowed = frozenset(options)
        return lambda value: isinstance(value, str) and value in allowed
    return lambda value: any(equal(value, o) for o in options)


def _const(c: _Compiler, schema: dict) -> Check:
    expected = schema["const"]
    return lambda value: equal(value, expected)


def _object(c: _Compiler, schema: dict) -> Check:
    """properties, patternProperties and additionalProperties together: each key is checked once."""
    props: dict[str, Check] = {}
    for key, sub in schema.get("properties", {}).items():
        props[key] = _compiled_on_first_use(c, sub, props, key)
    patterns = [(re.compile(p), c.compile(s)) for p, s in schema.get("patternProperties", {}).items()]
    additional = c.compile(schema["additionalProperties"]) if "additionalProperties" in schema else None

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            sub = props.get(key)
            if sub is not None and not sub(item):
                return False
            matched = sub is not None
            for regex, pattern_check in patterns:
                if regex.search(key):
                    matched = True
                    if not pattern_check(item):
                        return False
            if not matched and additional is not None and not additional(item):
                return False
        return True
    return check


def _compiled_on_first_use(c: _Compiler, schema: Any, table: dict, key: str) -> Check:
    """A property's check, compiled (and put in `table` in place of this stub) when a
    document first has the property: most files use few of the keys the schema knows."""
    def stub(value: Any) -> bool:
        table[key] = c.compile(schema)
        return table[key](value)
    return stub


def _properties(c: _Compiler, schema: dict) -> Check:
    if "additionalProperties" in schema:
        return _always  # _additional checks every key
    return _object(c, schema)


def _additional(c: _Compiler, schema: dict) -> Check:
    return _object(c, schema)


def _pattern_properties(c: _Compiler, schema: dict) -> Check:
    if "properties" in schema or "additionalProperties" in schema:
        return _always
    return _object(c, schema)


def _required(c: _Compiler, schema: dict) -> Check:
    names = tuple(schema["required"])
    return lambda value: not isinstance(value, dict) or all(n in value for n in names)


def _min_properties(c: _Compiler, schema: dict) -> Check:
    least = schema["minProperties"]
    return lambda value: not isinstance(value, dict) or len(value) >= least


def _property_names(c: _Compiler, schema: dict) -> Check:
    sub = c.compile(schema["propertyNames"])
    return lambda value: not isinstance(value, dict) or all(sub(k) for k in value)


def _items(c: _Compiler, schema: dict) -> Check:
    sub = c.compile(schema["items"])
    return lambda value: not isinstance(value, list) or all(sub(x) for x in value)


def _unique(c: _Compiler, schema: dict) -> Check:
    if not schema["uniqueItems"]:
        return _always

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        if all(isinstance(x, str) for x in value):
            return len(set(value)) == len(value)
        return not any(equal(a, b) for i, a in enumerate(value) for b in value[i + 1:])
    return check


def _min_length(c: _Compiler, schema: dict) -> Check:
    least = schema["minLength"]
    return lambda value: not isinstance(value, str) or len(value) >= least


def _max_length(c: _Compiler, schema: dict) -> Check:
    most = schema["maxLength"]
    return lambda value: not isinstance(value, str) or len(value) <= most


def _pattern(c: _Compiler, schema: dict) -> Check:
    """As schema.py's `pattern`: re.search, and no line break anywhere."""
    regex = re.compile(schema["pattern"])
    return lambda value: not isinstance(value, str) or (
        "\n" not in value and "\r" not in value and regex.search(value) is not None)


def _bound(keyword: str, holds: Callable[[Any, Any], bool]) -> Callable[[_Compiler, dict], Check]:
    def build(c: _Compiler, schema: dict) -> Check:
        limit = schema[keyword]
        return lambda value: not is_number(value) or holds(value, limit)
    return build


def _ref(c: _Compiler, schema: dict) -> Check:
    return c.ref(schema["$ref"])


def _all_of(c: _Compiler, schema: dict) -> Check:
    return _all([c.compile(s) for s in schema["allOf"]])


def _any_of(c: _Compiler, schema: dict) -> Check:
    subs = [c.compile(s) for s in schema["anyOf"]]
    return lambda value: any(s(value) for s in subs)


def _one_of(c: _Compiler, schema: dict) -> Check:
    subs = [c.compile(s) for s in schema["oneOf"]]
    return lambda value: sum(1 for s in subs if s(value)) == 1


def _not(c: _Compiler, schema: dict) -> Check:
    sub = c.compile(schema["not"])
    return lambda value: not sub(value)


def _if(c: _Compiler, schema: dict) -> Check:
    test = c.compile(schema["if"])
    then = c.compile(schema.get("then", True))
    other = c.compile(schema.get("else", True))
    return lambda value: then(value) if test(value) else other(value)


_KEYWORDS: dict[str, Callable[[_Compiler, dict], Check]] = {
    "type": lambda c, s: _type(s["type"]),
    "enum": _enum,
    "const": _const,
    "properties": _properties,
    "additionalProperties": _additional,
    "patternProperties": _pattern_properties,
    "required": _required,
    "minProperties": _min_properties,
    "propertyNames": _property_names,
    "items": _items,
    "uniqueItems": _unique,
    "minLength": _min_length,
    "maxLength": _max_length,
    "pattern": _pattern,
    "minimum": _bound("minimum", lambda v, lim: v >= lim),
    "maximum": _bound("maximum", lambda v, lim: v <= lim),
    "exclusiveMinimum": _bound("exclusiveMinimum", lambda v, lim: v > lim),
    "exclusiveMaximum": _bound("exclusiveMaximum", lambda v, lim: v < lim),
    "$ref": _ref,
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
}


# Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_SUBSCHEMA = {"additionalProperties", "propertyNames", "items", "not", "if", "then", "else"}
_SUBSCHEMAS = {"allOf", "anyOf", "oneOf"}
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs"}


def _scan(schema: Any) -> None:
    """Raise Unsupported for any keyword this module lacks, anywhere in `schema`.

    Definitions are compiled when first used, so the whole schema is looked at once, up
    front: a check must never stop halfway through a document.
    """
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise Unsupported(f"schema {schema!r}")
    unknown = set(schema) - _ANNOTATIONS - set(_KEYWORDS) - {"then", "else"}
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    if "$ref" in schema and not schema["$ref"].startswith("#/"):
        raise Unsupported(f"$ref {schema['$ref']}")
    for keyword, value in schema.items():
        if keyword in _SUBSCHEMA:
            _scan(value)
        elif keyword in _SUBSCHEMAS:
            for sub in value:
                _scan(sub)
        elif keyword in _SCHEMA_MAPS:
            for sub in value.values():
                _scan(sub)


def compile_schema(schema: dict) -> Check:
    """A function that tells whether a document is valid against `schema`; Unsupported if it cannot."""
    _scan(schema)
    return _Compiler(schema).compile(schema)


@functools.cache
def infra_check() -> Check | None:
    """The compiled check of infra.schema.json; None when it uses a keyword this module lacks."""
    schema = json.loads((data_dir("schemas") / SCHEMA_FILE).read_text(encoding="utf-8"))
    try:
        return compile_schema(schema)
    except Unsupported:
        return None


def valid(document: Any) -> bool:
    """True when `document` has no schema violation; False when it has one, or this check cannot tell."""
    check = infra_check()
    return check is not None and check(document)
