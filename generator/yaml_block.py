"""Block-style YAML text for the data renderers build, as libyaml writes it, without PyYAML's representer.

`yaml.dump` builds a node per value in Python (the representer), and
libyaml calls back into Python twice per scalar to resolve its tag: for a
tree of 8 600 files, or a placement.yml of 300 000 values, that is most of
the time rendering takes, while the layout of block YAML is simple. This
module writes the layout itself and asks libyaml only for the text of each
distinct scalar (a name, a number, a quoted string...), once, in batches,
through the same `yaml.dump` and options as serialize.py. So every scalar is
exactly what libyaml writes (plain, quoted, escaped), and so is the text
around it:

    key: scalar            key:               key:          - scalar
    key: {}                  nested: scalar   - item        - key: scalar
    key: []                                   - item          other: scalar
                                                            - - nested item

It takes the shapes renderers produce: dicts with string keys, lists, and
str, int, float, bool and None. Anything else (another type, a container
that appears twice, which libyaml writes as an anchor and an alias, a
scalar that spans lines or is long enough to be folded, a key long enough
to need `? `) raises Unsupported, and serialize.py dumps that file with
`yaml.dump` as before. tests/test_yaml_block.py compares both on every
generated tree and on random documents.
"""

from __future__ import annotations

from typing import Any, Callable

Dump = Callable[[Any], str]

# libyaml folds a scalar at a space past the width (4096 columns): a line that could reach it
# is left to libyaml, and so is a key long enough (128 characters) to be written as `? key`.
MAX_LINE = 4000
MAX_SCALAR = 3800
MAX_KEY = 100
MAX_INDENT = 2000
_CACHE_LIMIT = 500_000


class Unsupported(Exception):
    """The data holds something this module does not write; dump it with yaml.dump."""


class BlockWriter:
    """Writes documents with `dump` (yaml.dump with the writer's options) as the authority on scalars."""

    def __init__(self, dump: Dump):
        self.dump = dump
        self.keys: dict[str, str | None] = {}       # key -> its text as a simple key, None: unsupported
        self.values: dict[Any, str | None] = {}     # _value_key(v) -> its text as a block value

    def write(self, data: Any) -> str:
        """The text of one document; Unsupported when this module does not write it."""
        text = self.write_all([data])[0]
        if text is None:
            raise Unsupported("see write_all")
        return text

    def write_all(self, documents: list[Any]) -> list[str | None]:
        """The text of every document (None for one this module does not write). The scalars
        of all of them are learnt together: a tree of 8 600 files asks libyaml once, not 8 600 times."""
        new_keys: set[str] = set()
        new_values: dict[Any, Any] = {}
        taken = []
        for data in documents:
            try:
                if type(data) not in (dict, list) or not data:
                    raise Unsupported("only a non-empty mapping or list at the top")
                self._collect(data, new_keys, new_values, set(), 0)
                taken.append(True)
            except Unsupported:
                taken.append(False)
        self._learn(new_keys, new_values)
        texts: list[str | None] = []
        for data, ok in zip(documents, taken):
            out: list[str] = []
            try:
                if not ok:
                    raise Unsupported("declined above")
                if type(data) is dict:
                    self._mapping(data, "", "", out)
                else:
                    self._sequence(data, "", "", out)
                texts.append("".join(out))
            except Unsupported:
                texts.append(None)
        return texts

    # -- pass 1: every container once, every scalar looked up -----------------------------

    def _collect(self, node: Any, new_keys: set, new_values: dict, seen: set, depth: int) -> None:
        if id(node) in seen:
            raise Unsupported("a container that appears twice (libyaml writes an alias)")
        seen.add(id(node))
        if depth > MAX_INDENT // 2:
            raise Unsupported("nested too deep")
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            if type(node) is dict:
                if type(key) is not str:
                    raise Unsupported(f"key {key!r} is not a string")
                if key not in self.keys:
                    new_keys.add(key)
            kind = type(value)
            if kind is dict or kind is list:
                if value:
                    self._collect(value, new_keys, new_values, seen, depth + 1)
            elif kind is str or kind is int or kind is float or kind is bool or value is None:
                vkey = _value_key(value)
                if vkey not in self.values:
                    new_values[vkey] = value
            else:
                raise Unsupported(f"a value of type {kind.__name__}")

    def _learn(self, new_keys: set[str], new_values: dict[Any, Any]) -> None:
        """Ask libyaml for the text of every scalar not seen yet: one dump per batch."""
        if len(self.keys) + len(self.values) > _CACHE_LIMIT:
            self.keys.clear()
            self.values.clear()
        if new_keys:
            keys = sorted(new_keys)
            texts = _lines(self.dump({k: 0 for k in keys}), len(keys))
            if texts is None or not all(t.endswith(": 0") for t in texts):
                texts = [_one_line(self.dump({k: 0})) for k in keys]
            for key, text in zip(keys, texts):
                text = text[:-3] if text is not None and text.endswith(": 0") else None
                if text is None or len(text) > MAX_KEY or text.startswith("? "):
                    text = None
                self.keys[key] = text
        if new_values:
            vkeys = list(new_values)
            texts = _lines(self.dump({f"k{i}": new_values[v] for i, v in enumerate(vkeys)}), len(vkeys))
            prefixes = [f"k{i}: " for i in range(len(vkeys))]
            if texts is None or not all(t.startswith(p) for t, p in zip(texts, prefixes)):
                texts = [_one_line(self.dump({"k0": new_values[v]})) for v in vkeys]
                prefixes = ["k0: "] * len(vkeys)
            for vkey, text, prefix in zip(vkeys, texts, prefixes):
                if text is None or not text.startswith(prefix) or len(text) - len(prefix) > MAX_SCALAR:
                    self.values[vkey] = None
                else:
                    self.values[vkey] = text[len(prefix):]

    # -- pass 2: the layout -----------------------------------------------------------------

    def _key(self, key: str) -> str:
        text = self.keys[key]
        if text is None:
            raise Unsupported(f"key {key!r}")
        return text

    def _scalar(self, value: Any) -> str:
        text = self.values[_value_key(value)]
        if text is None:
            raise Unsupported(f"value {value!r}")
        return text

    def _mapping(self, node: dict, indent: str, first: str, out: list[str]) -> None:
        """`node` with its keys at `indent`; the first line starts with `first` instead (a `- `)."""
        start = first or indent
        for key, value in node.items():
            kind = type(value)
            if kind is dict:
                if value:
                    out.append(f"{start}{self._key(key)}:\n")
                    self._mapping(value, indent + "  ", "", out)
                else:
                    out.append(f"{start}{self._key(key)}: {{}}\n")
            elif kind is list:
                if value:
                    out.append(f"{start}{self._key(key)}:\n")
                    self._sequence(value, indent, "", out)   # block sequences in a mapping are not indented
                else:
                    out.append(f"{start}{self._key(key)}: []\n")
            else:
                line = f"{start}{self._key(key)}: {self._scalar(value)}\n"
                if len(line) > MAX_LINE:
                    raise Unsupported("a line long enough to be folded")
                out.append(line)
            start = indent

    def _sequence(self, node: list, indent: str, first: str, out: list[str]) -> None:
        """`node` with its `- ` at `indent`; the first item starts with `first` instead."""
        start = first or indent
        for item in node:
            kind = type(item)
            if kind is dict:
                if item:
                    self._mapping(item, indent + "  ", start + "- ", out)
                else:
                    out.append(f"{start}- {{}}\n")
            elif kind is list:
                if item:
                    self._sequence(item, indent + "  ", start + "- ", out)
                else:
                    out.append(f"{start}- []\n")
            else:
                line = f"{start}- {self._scalar(item)}\n"
                if len(line) > MAX_LINE:
                    raise Unsupported("a line long enough to be folded")
                out.append(line)
            start = indent


def _value_key(value: Any) -> Any:
    """A dict key per distinct scalar: 1, 1.0 and True are equal in Python, not in YAML."""
    if type(value) is str:
        return value
    if type(value) is float:
        return (float, repr(value))
    return (type(value), value)


# What YAML (and libyaml) count as line breaks; a scalar written with one inside spans lines,
# and its continuation is indented by where it sits.
_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def _lines(text: str, count: int) -> list[str] | None:
    """`text` as `count` lines, or None when it has more, or a line break other than \\n."""
    if any(b in text for b in _BREAKS):
        return None
    lines = text.split("\n")
    if lines[-1] != "" or len(lines) != count + 1:
        return None
    return lines[:-1]


def _one_line(text: str) -> str | None:
    lines = _lines(text, 1)
    return lines[0] if lines else None

