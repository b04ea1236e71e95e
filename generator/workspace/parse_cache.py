"""Parsed top-level entries by content: a one-machine edit of a large infra.yml parses one domain again.

A file of infra.yml (or of infra/) is cut into its top-level entries (`project_name:`, `global:`,
`hosts:`, ... each from its key line to the next), and `domains:` into its domains. Each entry's text
parses alone into the same values and, line for line and column for column (the entry keeps its
indentation), the same positions as in the whole file. `.NAME.psot-parse`, beside the output
directory like the other caches (workspace/incremental.py: written by sync alone, keyed on psot's
fingerprint, checksummed, ignored whole when in doubt), keeps each entry's values and positions under
the SHA-256 of its text; a compile parses only the entries not there, and moves the others' positions
to the lines where they now start.

Only a file whose structure the cut can be sure of is cut; any other is parsed whole, as always:
- every line before the first key is blank or a comment; every line at column 0 is a plain key
  (`name:`) or a comment (no `---`, `%YAML`, tab, list or flow collection at the top);
- under `domains:` (alone on its line), every line at the domains' indentation is a plain key;
- no `*` anywhere (no alias: an anchor used across entries, and the alias expansion limit, are the
  whole file's), no nesting that could come near the depth limit (see `_shallow`);
- every entry parses alone without any finding (a cut inside a quoted or flow value leaves it
  unterminated: an error), into a mapping of exactly the key its line names, and no two entries
  name the same key. A duplicate key, an odd value, any finding at all: the whole file is parsed,
  and reports it as it always did.
An entry's values are stored with `marshal` (the values of YAML's safe loader: str, int, float, bool,
None, lists and dicts; an entry holding anything else, a date, is parsed every time).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import re
from pathlib import Path
from typing import Any

from generator.diagnostics.findings import Diagnostics
from generator.load.loader import MAX_DEPTH, Document, parse_text
from generator.workspace import sidecars
from generator.workspace.incremental import read_store, write_store

PARSE_VERSION = 1
_TOP_LINE = re.compile(r"^[^ #\n].*", re.MULTILINE)     # a line at column 0 that is no comment
_CONTENT = re.compile(r"^ *[^ #\n]", re.MULTILINE)       # a line that is no comment and not blank
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.-]*):(?: |$)")
_DOMAINS_HEAD = re.compile(r"domains:[ ]*(?:#.*)?")
_FIRST_INNER = re.compile(r"^( +)[^ #\n]", re.MULTILINE)
_COMPACT_NESTING = re.compile(r"[-?:][ \t]+[-?][ \t]")   # as the loader's: block collections nested on one line
_Entry = tuple[tuple, str, int, int, int]   # (prefix: () or ("domains",), key, start, end offset, first line)


def _cut(text: str) -> tuple[list[_Entry], int | None] | None:
    """The entries of a file's text and the line of `domains:` when it is cut into domains; None: not cut."""
    tops = list(_TOP_LINE.finditer(text))
    if not tops or _CONTENT.search(text, 0, tops[0].start()):
        return None
    entries: list[_Entry] = []
    head, line, counted = None, 0, 0

    def line_at(offset: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, offset)
        counted = offset
        return line

    for top, end in zip(tops, [t.start() for t in tops[1:]] + [len(text)]):
        match = _KEY.match(top[0])
        if match is None:
            return None
        key, first = match[1], _FIRST_INNER.search(text, top.end(), end)
        if key != "domains" or not _DOMAINS_HEAD.fullmatch(top[0]) or first is None:
            entries.append(((), key, top.start(), end, line_at(top.start())))
            continue
        level = len(first[1])
        if head is not None:
            return None   # `domains:` twice: the whole file reports the duplicate
        if re.compile(rf"^ {{0,{level - 1}}}[^ #\n]", re.MULTILINE).search(text, top.end(), end):
            return None   # a line less indented than the domains
        head = line_at(top.start())
        starts = list(re.compile(rf"^ {{{level}}}[^ #\n].*", re.MULTILINE).finditer(text, top.end(), end))
        for start, stop in zip(starts, [t.start() for t in starts[1:]] + [end]):
            name = _KEY.match(start[0], level)
            if name is None:
                return None
            entries.append((("domains",), name[1], start.start(), stop, line_at(start.start())))
    return entries, head


def _shallow(text: str) -> bool:
    """No node of the text nests anywhere near MAX_DEPTH (parsed alone, a domain is one level less deep,
    so the depth limit must be out of reach of both): a level takes an indentation step or a bracket."""
    room = MAX_DEPTH - 3 - text.count("[") - text.count("{")
    return room > 0 and not re.search(rf"^ {{{room + 1},}}", text, re.MULTILINE) and not _COMPACT_NESTING.search(text)


class ParseMemo:
    """The parse of each top-level entry by the SHA-256 of its text; `parse` stands in for loader.parse_text."""

    def __init__(self, known: dict[bytes, bytes] | None = None) -> None:
        self._known = known or {}
        self.used: dict[bytes, bytes] = {}   # every entry this compilation parsed: the next cache
        self.hits = 0

    @classmethod
    def beside(cls, output_dir: Path) -> ParseMemo:
        return cls(read_store(sidecars.parse_cache(output_dir), "psot-parse", PARSE_VERSION))

    def save(self, output_dir: Path) -> None:
        write_store(sidecars.parse_cache(output_dir), "psot-parse", PARSE_VERSION, self.used)

    def parse(self, text: str, display: str, diag: Diagnostics) -> tuple[bool, Any, Document]:
        """loader.parse_text(text, display, diag), the entries that did not change from the memo."""
        cut = None if "*" in text or "\t" in text or "\r" in text or not _shallow(text) else _cut(text)
        doc = None
        if cut is not None:
            entries, head = cut
            parsed = self._entries(text, entries, display)
            doc = None if parsed is None else _assemble(entries, parsed, head, display)
        if doc is None:
            return parse_text(text, display, diag)   # the whole file, which reports what is wrong as always
        return True, doc.data, doc

    def _entries(self, text: str, entries: list[_Entry], display: str) -> list[tuple] | None:
        """Each entry's (first line, values, key positions, value positions), from the memo or parsed now;
        None when one does not parse alone into a mapping of its key, without a finding."""
        out = []
        for prefix, key, start, end, line in entries:
            body = text[start:end]
            digest = hashlib.sha256(f"{display}\0{prefix}\0{body}".encode()).digest()
            stored = self._known.get(digest)
            if stored is not None:
                with contextlib.suppress(ValueError, EOFError, TypeError):
                    entry = marshal.loads(stored)
                    if type(entry) is tuple and len(entry) == 4 and type(entry[1]) is dict and \
                            list(entry[1]) == [key]:
                        self.hits += 1
                        self.used[digest] = stored
                        out.append(entry)
                        continue
            alone = Diagnostics(default_file=display)
            ok, data, sub = parse_text(body, display, alone)
            if not ok or alone.findings or type(data) is not dict or list(data) != [key]:
                return None
            entry = (line, data, _absolute(sub.keys, prefix, line, display),
                     _absolute(sub.values, prefix, line, display))
            with contextlib.suppress(ValueError):   # values marshal cannot hold (a date): parsed every time
                self.used[digest] = marshal.dumps(entry)
            out.append(entry)
        return out


def _absolute(table: dict, prefix: tuple, line: int, display: str) -> dict:
    """An entry's position table (its text parsed alone) as the whole file's: paths under `prefix`, lines
    from `line` on; without the entry's own root (the file's root is the file's)."""
    return {prefix + path: (display, line + mark.line + 1, mark.column + 1) for path, mark in table.items() if path}


def _assemble(entries: list[_Entry], parsed: list[tuple], head: int | None, display: str) -> Document | None:
    """The file's values and positions from its entries', as parsing it whole makes them (in the same order);
    None when two entries have the same key."""
    doc = Document(None, (display,))
    keys, values = doc.keys, doc.values
    values[()] = (display, entries[0][4] + 1, 1)   # a block mapping starts at its first key
    data: dict = {}
    opened = False   # the domains of `domains:` (one such line at most, see _cut)
    for (prefix, key, _, _, line), (then, entry, entry_keys, entry_values) in zip(entries, parsed):
        if prefix and not opened:
            if "domains" in data:
                return None   # a `domains:` entry before it: a duplicate key, which parse_text reports
            opened = True
            data["domains"] = {}
            keys[("domains",)] = values[("domains",)] = (display, (head or 0) + 1, 1)
        target = data["domains"] if prefix else data
        if key in target:
            return None   # a duplicate key: parse_text reports it
        target[key] = entry[key]
        if line == then:
            keys.update(entry_keys)
            values.update(entry_values)
        else:   # lines added or removed above the entry since it was parsed
            keys.update({p: (f, n + line - then, c) for p, (f, n, c) in entry_keys.items()})
            values.update({p: (f, n + line - then, c) for p, (f, n, c) in entry_values.items()})
    doc.data = data
    return doc
