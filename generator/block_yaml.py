"""A fast writer of block YAML: the bytes libyaml's emitter writes for psot's options, without its Python layers.

`yaml.dump(..., Dumper=CSafeDumper)` spends most of its time in Python, not in C: the
representer builds a node per value, the serializer resolves every scalar's tag twice
through the Python resolver (psot's quotes for every reader, see serialize.py), and only
then does libyaml write text. This writer produces the same text directly, for the subset
of data renderers build and whose bytes are certain: dicts with str keys, lists, and
str, int, float, bool and None scalars, each container met once (PyYAML writes an object
met twice as an anchor and an alias). It returns None for anything else, and the caller
then uses the reference dumper; tests/test_block_yaml.py checks the bytes against it.

The rules followed are libyaml's emitter (src/emitter.c of github.com/yaml/libyaml,
yaml_emitter_analyze_scalar, yaml_emitter_select_scalar_style and
yaml_emitter_check_simple_key) for block style, indent 2, unicode allowed and width 4096:

- a string is written plain when it is not empty, has no leading or trailing space, no
  indicator where YAML reads one (`#`, `,`, `[`, `]`, `{`, `}`, `&`, `*`, `!`, `|`, `>`,
  `'`, `"`, `%`, `@` or a backquote first; `-`, `?` or `:` first and followed by a space
  or the end; `: ` or `:` last anywhere; ` #` anywhere; `---` or `...` first) and the
  resolver reads the plain text back as a string; else single-quoted, `'` doubled;
- strings with a character libyaml does not print as it is (controls, tabs, line breaks,
  U+0080-U+009F, U+2028, U+2029, surrogates, U+FEFF, U+FFFE, U+FFFF, anything beyond
  U+FFFF) or that libyaml could fold at the width (longer than MAX_TEXT) are not handled;
- a key longer than 128 UTF-8 bytes is not a simple key for libyaml (`? key`): not handled;
- a sequence that is a mapping's value is not indented (`key:` then `- item` at the key's
  column), a sequence or mapping inside a sequence starts on the item's line (`- - a`,
  `- k: v`); empty ones are `[]` and `{}`; the root must be a mapping or a sequence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# Longest string written here: with MAX_DEPTH levels of indent and a key of 128 bytes, the line
# stays far below libyaml's width of 4096, past which it may fold a line at a space.
MAX_TEXT = 1000
MAX_DEPTH = 40
_MAX_KEY_BYTES = 128
_CACHE_LIMIT = 500_000

# The characters libyaml does not write as they are (outside its IS_PRINTABLE with unicode on: controls
# and the tab included, U+007F-U+009F, surrogates, U+FEFF, U+FFFE, U+FFFF, beyond U+FFFF) and its line
# breaks U+2028 and U+2029: any of them makes this writer give up. Written as the excluded ranges, as a
# class of the allowed ones takes 15 ms to compile. Both patterns are compiled by the first BlockWriter:
# this module is on the import path of `psot validate`, which writes nothing.
_UNHANDLED_CHAR = "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff\U00010000-\U0010ffff]"
# Where libyaml's analysis finds an indicator that forbids a plain scalar in block context.
_BLOCK_INDICATOR = r"""(?x)
    ^[#,\[\]{}&*!|>'"%@`]     # an indicator first
  | ^[-?:](?:\ |$)            # '-', '?' or ':' first, then a space or the end
  | :(?:\ |$)                 # ':' before a space or at the end, anywhere
  | \ \#                      # '#' after a space
  | ^(?:---|\.\.\.)           # a document marker first
"""

_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"


class _Unhandled(Exception):
    """Raised inside the walk: the data holds something this writer leaves to the reference dumper."""


class BlockWriter:
    """Writes data as the reference dumper does, or says it cannot (see the module docstring).

    `plain_tag(text)` is the reference dumper's resolver for a plain scalar: the tag a reader
    gives `text` written plain. A string is written plain only when that is the str tag, and
    every decision is cached per distinct string (a tree repeats its names and values).
    """

    def __init__(self, plain_tag: Callable[[str], str]):
        self._plain_tag = plain_tag
        self._unhandled_char = re.compile(_UNHANDLED_CHAR).search
        self._block_indicator = re.compile(_BLOCK_INDICATOR).search
        self._values: dict[str, str] = {}
        self._keys: dict[str, str] = {}

    def dump(self, data: Any) -> str | None:
        """The YAML text of `data` (a dict or list), or None when it holds what this writer does not handle."""
        if len(self._values) > _CACHE_LIMIT or len(self._keys) > _CACHE_LIMIT:
            self._values.clear()
            self._keys.clear()
        out: list[str] = []
        try:
            if type(data) is dict:
                if not data:
                    return "{}\n"
                self._mapping(data, 0, False, out, set())
            elif type(data) is list:
                if not data:
                    return "[]\n"
                self._sequence(data, 0, False, out, set())
            else:
                return None
        except _Unhandled:
            return None
        return "".join(out)

    def _string(self, text: str) -> str:
        """A str value as written: plain or single-quoted."""
        written = self._values.get(text)
        if written is None:
            if len(text) > MAX_TEXT or self._unhandled_char(text):
                raise _Unhandled
            if (text and text[0] != " " and text[-1] != " " and not self._block_indicator(text)
                    and self._plain_tag(text) == _STR_TAG):
                written = text
            else:
                written = "'" + text.replace("'", "''") + "'"
            self._values[text] = written
        return written

    def _key(self, key: Any) -> str:
        if type(key) is not str:
            raise _Unhandled
        written = self._keys.get(key)
        if written is None:
            if len(key.encode("utf-8")) > _MAX_KEY_BYTES:
                raise _Unhandled
            written = self._keys[key] = self._string(key)   # '' is quoted: it reads as null
        return written

    def _scalar(self, value: Any) -> str:
        kind = type(value)
        if kind is str:
            return self._string(value)
        if kind is bool:
            return "true" if value else "false"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        if kind is float:
            return self._float(value)
        raise _Unhandled

    def _float(self, value: float) -> str:
        # PyYAML's SafeRepresenter.represent_float (representer.py): repr, lower case, `.0` before a bare
        # exponent (1e+17 is not a YAML 1.1 float), .nan / .inf / -.inf.
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
        if self._plain_tag(text) != _FLOAT_TAG:
            raise _Unhandled
        return text

    def _mapping(self, data: dict, indent: int, inline: bool, out: list[str], seen: set[int]) -> None:
        self._enter(data, indent, seen)
        pad = " " * indent
        for key, value in data.items():
            if inline:
                inline = False
            else:
                out.append(pad)
            out.append(self._key(key))
            kind = type(value)
            if kind is dict and value:
                out.append(":\n")
                self._mapping(value, indent + 2, False, out, seen)
            elif kind is list and value:
                out.append(":\n")
                self._sequence(value, indent, False, out, seen)   # a mapping's sequence is not indented
            else:
                out.append(": ")
                out.append(self._empty(value, seen) if kind is dict or kind is list else self._scalar(value))
                out.append("\n")

    def _sequence(self, data: list, indent: int, inline: bool, out: list[str], seen: set[int]) -> None:
        self._enter(data, indent, seen)
        pad = " " * indent
        for item in data:
            if inline:
                inline = False
            else:
                out.append(pad)
            kind = type(item)
            if kind is dict and item:
                out.append("- ")
                self._mapping(item, indent + 2, True, out, seen)
            elif kind is list and item:
                out.append("- ")
                self._sequence(item, indent + 2, True, out, seen)
            else:
                out.append("- ")
                out.append(self._empty(item, seen) if kind is dict or kind is list else self._scalar(item))
                out.append("\n")

    @staticmethod
    def _enter(container: dict | list, indent: int, seen: set[int]) -> None:
        """Refuse a container met before (PyYAML would write an anchor) and nesting past MAX_DEPTH."""
        if id(container) in seen or indent > 2 * MAX_DEPTH:
            raise _Unhandled
        seen.add(id(container))

    @staticmethod
    def _empty(container: dict | list, seen: set[int]) -> str:
        if id(container) in seen:
            raise _Unhandled
        seen.add(id(container))
        return "{}" if type(container) is dict else "[]"
