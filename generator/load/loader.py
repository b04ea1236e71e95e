"""Load stage: infra.yml (or an infra/ directory, or an AnKLuMe project) into plain data with positions.

PyYAML's safe loader (libyaml's C parser when present) composes the node
graph; this module then builds the Python values itself so that it can
record where every key and value came from, refuse duplicate keys (which
PyYAML silently lets the last one win), refuse non-string keys (YAML 1.1
reads `no:` as `False:`), and bound alias expansion and nesting (a
billion-laughs file is a finding, not an out-of-memory kill).
"""

from __future__ import annotations

import functools
import gc
import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.diagnostics.findings import Diagnostics, format_path
from generator.load import anklume
from generator.load.resolve import BaseLoader, CachedSafeLoader

SafeLoader = BaseLoader

# Inputs larger than this are refused with a finding (LOAD004). A real
# inventory of 10 000 consumers is about 2 MB; 16 MiB leaves ample room.
MAX_INPUT_BYTES = 16 * 1024 * 1024
# Mappings and sequences nested deeper than this are refused (YAML004).
MAX_DEPTH = 64
# Aliases may re-expand shared nodes; a document may expand to at most this
# many nodes beyond ten times the nodes actually written (YAML004).
ALIAS_EXPANSION_SLACK = 100_000
# Numbers beyond ±2**53 are refused (YAML005): every value then converts to a
# float exactly, sums of them stay finite, and JSON readers agree on it.
MAX_NUMBER = 2 ** 53
# A file may hold at most this many nodes (scalars, lists, mappings; LOAD008),
# and aliases may expand it to at most this many values (YAML004). The largest
# bench input (8.7 MiB) has 670 000; a million nodes load in about 4 s and
# 700 MB, where a 16 MiB `[0,0,0,...]` would take a minute and 5 GB.
MAX_NODES = 1_000_000

_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")
_INTEGER = re.compile(r"[-+]?[0-9][0-9_]*")
_DEEP_INDENT = re.compile(rf"^[ \t]{{{2 * MAX_DEPTH},}}", re.MULTILINE)
# Block collections nested on one line (`- - - x`, `? ? x`, `: - - x`): each
# level costs two characters, not a line of indentation, so a one-line file
# can nest as deep as it is long.
_COMPACT_NESTING = re.compile(r"[-?:][ \t]+[-?][ \t]")

Path_ = tuple
Location = tuple  # (file, line, column), 1-based
# Positions are recorded as the node's own libyaml Mark (0-based, its file being the
# document's first one) and turned into a Location only when a finding asks: a load
# records hundreds of thousands of them and looks up a handful.


@dataclass
class Document:
    """Loaded data and the source position of every key and value in it."""

    data: Any
    files: tuple[str, ...]
    keys: dict[Path_, Mark | Location] = field(default_factory=dict)
    values: dict[Path_, Mark | Location] = field(default_factory=dict)

    def locate(self, path: Path_, at: str = "value") -> Location:
        """Position of the node at `path`; its key with `at="key"`.

        A path that does not exist in the source (a default, a computed
        value) is located at its nearest ancestor that does.
        """
        path = tuple(path)
        if at == "key" and path in self.keys:
            return self.position(self.keys[path])
        while path:
            if path in self.values:
                return self.position(self.values[path])
            path = path[:-1]
        return self.position(self.values.get((), (self.files[0] if self.files else "infra.yml", 1, 1)))

    def position(self, recorded: Any) -> Location:
        """A recorded position as (file, line, column): a Location already, or a Mark of the first file."""
        if type(recorded) is tuple:
            return recorded
        return (self.files[0] if self.files else "infra.yml", recorded.line + 1, recorded.column + 1)


class _Abort(Exception):
    """Raised inside the walk when the document cannot be built further."""


class _Builder:
    """Builds Python values from one file's node graph, recording positions."""

    def __init__(self, loader: Any, file: str, diag: Diagnostics, doc: Document, aliases: bool = True):
        self.loader = loader
        self.file = file
        self.diag = diag
        self.doc = doc
        # Without an alias (`*name`) every node is visited once and none can contain itself:
        # the bookkeeping below, a third of the walk, is then skipped.
        self.aliases = aliases
        self.seen: set[int] = set()
        self.visits = 0
        self.active: set[int] = set()

    def _loc(self, node: Node) -> Location:
        mark = node.start_mark
        return (self.file, mark.line + 1, mark.column + 1)

    def _fail(self, code: str, message: str, node: Node, path: Path_) -> None:
        file, line, col = self._loc(node)
        self.diag.at_location(code, "error", message, file, line, col, format_path(path))

    def build(self, node: Node, path: Path_ = (), depth: int = 0) -> Any:
        aliases = self.aliases
        if aliases:
            self.visits += 1
            if id(node) not in self.seen:
                self.seen.add(id(node))
            elif self.visits > min(10 * len(self.seen) + ALIAS_EXPANSION_SLACK, MAX_NODES):
                self._fail("YAML004", "aliases expand this document beyond the allowed size (a 'billion laughs' "
                           "file?); write the repeated values out or use fewer nested aliases", node, path)
                raise _Abort
        if depth > MAX_DEPTH:
            self._fail("YAML004", f"nesting deeper than {MAX_DEPTH} levels; infra.yml never needs this much",
                       node, path)
            raise _Abort
        self.doc.values[path] = node.start_mark
        if isinstance(node, ScalarNode):
            value = node.value if node.tag == _STR_TAG else self._scalar(node, path)
            if type(value) is float and not math.isfinite(value):
                # NaN passes every range check (all comparisons are false) and inf breaks arithmetic.
                self._fail("YAML005", f"{node.value!r} is not a finite number; write a number like 24 or 0.5",
                           node, path)
            elif type(value) in (int, float) and not -MAX_NUMBER <= value <= MAX_NUMBER:
                # 10**400 cannot become a float at all; near 1e308 sums overflow to inf.
                self._fail("YAML005", f"{node.value[:40]!r} is too large a number; psot reads numbers between "
                           f"-{MAX_NUMBER} and {MAX_NUMBER}", node, path)
            return value
        if aliases and id(node) in self.active:
            self._fail("YAML004", "recursive alias: this node contains itself", node, path)
            raise _Abort
        if node.tag not in _PLAIN_COLLECTIONS:
            # The builder makes plain lists and dicts: `!!python/object:...`, `!!set` or `!foo`
            # on a collection would otherwise be silently dropped.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._fail("YAML001", f"unsupported tag '{tag}': infra.yml holds plain mappings, lists and values; "
                       "remove the tag", node, path)
            return None
        if aliases:
            self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(child, path + (i,), depth + 1) for i, child in enumerate(node.value)]
            return self._mapping(cast(MappingNode, node), path, depth)   # a scalar returned above
        finally:
            if aliases:
                self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: Path_, depth: int) -> dict:
        result: dict = {}
        own: dict[Any, tuple[Node, Node]] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.extend(value_node.value if isinstance(value_node, SequenceNode) else [value_node])
                continue
            key = self._key(key_node, path)
            if key in own:
                first = own[key][0].start_mark
                self._fail("YAML002", f"duplicate key '{key}' (first defined at line {first.line + 1}, column "
                           f"{first.column + 1}); remove one of them", key_node, path + (key,))
                continue
            own[key] = (key_node, value_node)
        # Merged keys (`<<: *defaults`) come first so that the mapping's own
        # keys override them, as YAML specifies; only own keys can clash.
        for source in merges:
            if not isinstance(source, MappingNode):
                self._fail("YAML001", "'<<' merge needs a mapping or a list of mappings", source, path)
                continue
            if id(source) in self.active:
                self._fail("YAML004", "recursive alias: this mapping merges itself", source, path)
                raise _Abort
            self.active.add(id(source))
            try:
                merged = self._mapping(source, path, depth + 1)
            finally:
                self.active.discard(id(source))
            for key, value in merged.items():
                result.setdefault(key, value)
        keys, values = self.doc.keys, self.doc.values
        # A string value needs none of build's checks but the depth's (and, with aliases, its count
        # of visits): written here, it saves a call per value, a fifth of the walk.
        inline_strings = not self.aliases and depth < MAX_DEPTH
        for key, (key_node, value_node) in own.items():
            child = path + (key,)
            key_mark = keys[child] = key_node.start_mark
            if inline_strings and value_node.tag == _STR_TAG and type(value_node) is ScalarNode:
                values[child] = value_node.start_mark
                result[key] = value_node.value
                continue
            result[key] = self.build(value_node, child, depth + 1)
            if not isinstance(value_node, ScalarNode):
                # A finding about a whole mapping or list points at its key line.
                values[child] = key_mark
        return result

    def _scalar(self, node: ScalarNode, path: Path_) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:
            # The resolvers match by pattern, the constructors then fail: `2024-13-45`
            # (a date), `!!int 0x`, an integer of more than 4300 digits.
            if node.tag.endswith(":int") and _INTEGER.fullmatch(node.value):
                self._fail("YAML005", f"{node.value[:40]!r} is too large a number; psot reads numbers between "
                           f"-{MAX_NUMBER} and {MAX_NUMBER}", node, path)
            else:
                kind = node.tag.replace("tag:yaml.org,2002:", "!!")
                self._fail("YAML001", f"{node.value[:40]!r} cannot be read as {kind} ({exc}); quote it if it "
                           "is text", node, path)
            return node.value

    def _key(self, key_node: Node, path: Path_) -> str:
        if key_node.tag == _STR_TAG and isinstance(key_node, ScalarNode):
            return key_node.value
        if not isinstance(key_node, ScalarNode):
            self._fail("YAML003", "a key must be a plain name, not a list or mapping", key_node, path)
            return f"<complex key at line {key_node.start_mark.line + 1}>"
        key = self._scalar(key_node, path + (key_node.value,))
        if not isinstance(key, str):
            kind = "boolean" if isinstance(key, bool) else "null" if key is None else type(key).__name__
            self._fail("YAML003", f"key {key_node.value!r} is read by YAML 1.1 as a {kind}, not a name; "
                       f"quote it: \"{key_node.value}\":", key_node, path + (key_node.value,))
            return str(key_node.value)
        return key


class InputError(Exception):
    """An input file that psot does not read: `code` (LOAD001, LOAD002, LOAD004 or LOAD009) and why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _not_regular(mode: int, path: Path) -> InputError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    via = f"a symlink to {os.path.realpath(path)}, " if os.path.islink(path) else ""
    return InputError("LOAD009", f"is {via}{kind}, not a regular file: psot reads only regular files (a device "
                      "or a pipe may never end, or never start); write the YAML in a file")


def read_input(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the input file `path`; InputError when it is not a regular file of at most `limit` bytes.

    Never hangs and never reads without bound: the path is stat'ed and refused unless it is a regular
    file (a device is never opened: opening one can have effects), then opened non-blocking (a FIFO
    swapped in meanwhile does not block the open), checked again on the open descriptor, and read up
    to `limit` + 1 bytes, whatever its size says (a file may grow, and /proc files say 0).
    """
    try:
        before = os.stat(path)
        if stat.S_ISDIR(before.st_mode):
            raise InputError("LOAD001", "is a directory, expected a YAML file")
        if not stat.S_ISREG(before.st_mode):
            raise _not_regular(before.st_mode, path)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        if os.path.islink(path):
            raise InputError("LOAD001", f"is a symlink to {os.readlink(path)}, which does not exist; point it at "
                             "a file, or remove it") from None
        raise InputError("LOAD001", "file not found; create it, or pass the path of your infra.yml") from None
    except OSError as exc:
        raise InputError("LOAD002", f"cannot read file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(st.st_mode, path)
        if st.st_size > limit:
            raise InputError("LOAD004", f"file is {st.st_size} bytes; psot reads at most {limit} bytes "
                             "(split it into infra/base.yml and infra/domains/*.yml)")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(limit + 1 - total, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputError("LOAD002", f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if total > limit:
        raise InputError("LOAD004", f"file is more than {limit} bytes; psot reads at most {limit} bytes "
                         "(split it into infra/base.yml and infra/domains/*.yml)")
    return b"".join(chunks)


def _read_text(path: Path, display: str, diag: Diagnostics) -> str | None:
    try:
        raw = read_input(path)
    except InputError as exc:
        diag.at_location(exc.code, "error", exc.message, display, 1, 1)
        return None
    if b"\x00" in raw:
        diag.at_location("LOAD003", "error", "binary file (contains NUL bytes); infra.yml must be UTF-8 text",
                         display, 1, 1)
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        diag.at_location("LOAD003", "error", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                         display, line, column)
        return None


def _nesting_beyond_limit(text: str) -> Any:
    """Mark where nesting first exceeds MAX_DEPTH, or None.

    libyaml's composer recurses on the C stack and crashes the process on
    very deep nesting, so texts that could nest deeply (many brackets, very
    deep indentation, or block collections nested on one line) are first
    scanned event by event, which does not recurse. Ordinary files skip the scan.
    """
    if (text.count("[") + text.count("{") <= MAX_DEPTH and not _DEEP_INDENT.search(text)
            and not _COMPACT_NESTING.search(text)):
        return None
    try:
        return _deepest_event(text, SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if SafeLoader is yaml.SafeLoader or mark is None:
            return None  # the real load reports the syntax error with its position
        # libyaml has nesting limits of its own (0.2.6 refuses 1 000 flow levels while
        # scanning, before it yields the first event); which layer notices first must not
        # change the finding. PyYAML's Python parser has no such limit: it reads the text up
        # to where libyaml stopped and says whether psot's limit was crossed before that.
        try:
            return _deepest_event(text[: mark.index + 1], yaml.SafeLoader)
        except yaml.YAMLError:
            return None


def _deepest_event(text: str, loader: type) -> Any:
    """Start mark of the first collection nested deeper than MAX_DEPTH, or None (raises on bad YAML)."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def _nodes_beyond_limit(text: str) -> Any:
    """Mark of the first node beyond MAX_NODES, or None.

    libyaml composes the whole node graph before psot sees any of it, so a
    file is counted first when it could hold that many nodes. Every node
    starts after one of `:` `,` `-` `?` (each brings at most a key and its
    value), `[` or `{` (a flow mapping also brings its first key and value),
    so this bound never undercounts; bench inputs stay well below it.
    """
    bound = (2 * (text.count(":") + text.count(",") + text.count("-") + text.count("?"))
             + 3 * text.count("{") + text.count("[") + 2)
    if bound <= MAX_NODES:
        return None
    nodes = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                nodes += 1
                if nodes > MAX_NODES:
                    return event.start_mark
    except yaml.YAMLError:
        return None  # the real load reports the syntax error with its position
    return None


# A file's text (within the limits) into (ok, data, its positions): `parse_text`, or what stands in for it
# (workspace/parse_cache.py: the same results, of the top-level entries that did not change, from a cache).
Parse = Callable[[str, str, Diagnostics], "tuple[bool, Any, Document]"]


def _load_file(path: Path, display: str, diag: Diagnostics, doc: Document, prefix: Path_ = (),
               parse: Parse | None = None) -> tuple[bool, Any]:
    """Load one YAML file into `doc`'s position maps under `prefix`.

    Returns (ok, data); ok is False when nothing usable came out of it.
    """
    text = _read_text(path, display, diag)
    if text is None:
        return False, None
    too_deep = _nesting_beyond_limit(text)
    if too_deep is not None:
        diag.at_location("YAML004", "error", f"nesting deeper than {MAX_DEPTH} levels; infra.yml never needs this much",
                         display, too_deep.line + 1, too_deep.column + 1)
        return False, None
    too_many = _nodes_beyond_limit(text)
    if too_many is not None:
        diag.at_location("LOAD008", "error", f"more than {MAX_NODES} YAML nodes (values, lists, mappings); split "
                         "it into infra/base.yml and infra/domains/*.yml", display, too_many.line + 1,
                         too_many.column + 1)
        return False, None
    ok, data, sub = (parse or parse_text)(text, display, diag)
    if not ok:
        return False, None
    if not prefix and not doc.keys and not doc.values:
        doc.keys, doc.values = sub.keys, sub.values  # the first (or only) file: nothing to re-key
    else:
        _copy_locations(sub, doc, prefix)
    return True, data


def parse_text(text: str, display: str, diag: Diagnostics) -> tuple[bool, Any, Document]:
    """One file's text, within the limits, into (ok, data, the positions of its keys and values)."""
    sub = Document(None, (display,))
    loader = CachedSafeLoader(text)
    # Composing and building create millions of small objects and no reference
    # cycles, so the cyclic collector would only cost time here (two thirds of
    # the load time of a 3 MB file); it runs again as soon as loading is done.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        node = loader.get_single_node()
        if node is None:
            diag.at_location("LOAD005", "error", "file is empty; infra.yml must be a mapping with project_name, "
                             "global and domains", display, 1, 1)
            return False, None, sub
        data = _Builder(loader, display, diag, sub, aliases="*" in text).build(node)
    except _Abort:
        return False, None, sub
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        diag.at_location("YAML001", "error", f"not valid YAML: {problem}", display, line, column)
        return False, None, sub
    except yaml.YAMLError as exc:
        diag.at_location("YAML001", "error", f"not valid YAML: {exc}", display, 1, 1)
        return False, None, sub
    except RecursionError:
        diag.at_location("YAML004", "error", "nesting too deep to read", display, 1, 1)
        return False, None, sub
    finally:
        loader.dispose()
        if gc_was_on:
            gc.enable()
    return True, data, sub


def display_name(path: Path) -> str:
    """How findings name a file: relative to the working directory when under it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)


def default_infra_path(cwd: Path | None = None) -> Path:
    """SPEC §6: `infra/` when it exists, else `infra.yml`; AnKLuMe's `anklume.yml` when only it exists."""
    cwd = cwd or Path.cwd()
    if (cwd / "infra").is_dir():
        return cwd / "infra"
    if not os.path.lexists(cwd / "infra.yml") and os.path.lexists(cwd / anklume.CONFIG):
        return cwd / anklume.CONFIG
    return cwd / "infra.yml"


def load(path: Path, diag: Diagnostics, parse: Parse | None = None) -> Document | None:
    """Load infra.yml, an infra/ directory or an AnKLuMe project. None when it cannot be loaded at all.

    `parse`: what parses each file of infra.yml or infra/ (default `parse_text`)."""
    path = Path(path)
    root = anklume.project_root(path)
    if root is not None:
        return _load_anklume(root, diag)
    if path.is_dir():
        return _load_directory(path, diag, parse)
    display = display_name(path)
    doc = Document(None, (display,))
    diag.document = doc
    diag.default_file = display
    ok, data = _load_file(path, display, diag, doc, parse=parse)
    if not ok:
        return None
    doc.data = data
    return doc


def input_files(path: Path) -> list[Path]:
    """Every file a load of `path` reads, in order: the file itself, or a directory's
    base.yml, then domains/*.yml sorted, then policies.yml when there is one; for an
    AnKLuMe project, anklume.yml in base.yml's place.

    Whatever is there under those names (a FIFO, a dangling symlink, a directory) is
    listed: reading it says what it is (see read_input)."""
    root = anklume.project_root(path)
    if root is not None:
        first = root / anklume.CONFIG
    elif path.is_dir():
        root, first = path, path / "base.yml"
    else:
        return [path]
    domains = root / "domains"
    policies = root / "policies.yml"
    return ([first] + (sorted(domains.glob("*.yml")) if domains.is_dir() else [])
            + ([policies] if os.path.lexists(policies) else []))


def project_dir(path: Path) -> Path:
    """The project: the directory holding infra.yml, or holding the infra/ directory, or an AnKLuMe
    project's own directory (the one holding anklume.yml), symlinks resolved."""
    root = anklume.project_root(Path(path))
    return root.resolve() if root is not None else Path(path).resolve().parent


def _leaves_project(file: Path, project: Path, display: str, diag: Diagnostics) -> bool:
    """A file of an infra/ directory that is (or runs through) a symlink leading out of the project: LOAD010.

    What a review of the project's repository shows is what psot reads; a file elsewhere (a shared
    path on one machine, the CI runner's credentials) would change the output unseen.
    """
    real = Path(os.path.realpath(file))
    if real.is_relative_to(project):
        return False
    shown = display_name(project)
    shown = "the working directory" if shown == "." else f"{shown}/"
    diag.at_location("LOAD010", "error", f"leads through a symlink to {display_name(real)}, outside the project "
                     f"({shown}): psot reads only files inside the project, which a review sees; copy the file "
                     "into the project", display, 1, 1)
    return True


def _open_layout(root: Path, first: Path, first_display: str, diag: Diagnostics, parse: Parse | None = None
                 ) -> tuple[Document, list[Path], set[Path], Path] | None:
    """What a directory layout (base.yml or anklume.yml first, then domains/, then policies.yml) starts
    with: its files, those leaving the project (LOAD010, reported for every file at once; none of them is
    read), and the document holding the first file's data. None when the first file cannot be used."""
    files = input_files(root)
    project = project_dir(root)
    outside = {f for f in files if _leaves_project(f, project, display_name(f), diag)}
    doc = Document(None, tuple(display_name(f) for f in files))
    diag.document = doc
    if first in outside:
        return None
    ok, data = _load_file(first, first_display, diag, doc, parse=parse)
    if not ok:
        return None
    doc.data = data
    return doc, files, outside, root / "policies.yml"


def _load_directory(root: Path, diag: Diagnostics, parse: Parse | None = None) -> Document | None:
    """Directory mode: base.yml, then domains/*.yml in sorted order, then policies.yml."""
    base = root / "base.yml"
    base_display = display_name(base)
    diag.default_file = base_display
    if not os.path.lexists(base):
        diag.at_location("LOAD006", "error", f"directory {display_name(root)}/ has no base.yml; create it with "
                         "project_name, global and domains (or pass an infra.yml file)", base_display, 1, 1)
        return None
    opened = _open_layout(root, base, base_display, diag, parse)
    if opened is None:
        return None
    doc, files, outside, policies = opened
    domain_files = [f for f in files[1:] if f != policies]
    if not isinstance(doc.data, dict):
        return doc  # the schema reports the wrong top-level type
    ok_all = not outside
    for file in domain_files:
        if file not in outside:
            ok_all &= _merge_part(file, diag, doc, ("domains",), "domain ", "a domain file ({domain-name: domain})",
                                  parse=parse)
    if policies in files and policies not in outside:
        ok_all &= _merge_part(policies, diag, doc, (), "", "policies.yml (e.g. network_policies: [...])",
                              parse=parse)
    return doc if ok_all else None


def _load_anklume(root: Path, diag: Diagnostics) -> Document | None:
    """AnKLuMe's layout: anklume.yml, then domains/*.yml in sorted order (each one domain, named by the
    file), then policies.yml, each translated into infra.yml's shape (see generator/load/anklume.py)."""
    config = root / anklume.CONFIG
    config_display = display_name(config)
    diag.default_file = config_display
    opened = _open_layout(root, config, config_display, diag)
    if opened is None:
        return None
    doc, files, outside, policies = opened
    domain_files = [f for f in files[1:] if f != policies]
    if not isinstance(doc.data, dict):
        return doc  # the schema reports the wrong top-level type
    translated = anklume.translate_config(doc.data, doc, diag, project_dir(root).name)
    doc.data = translated.data
    ok_all = not outside
    machines: dict[str, Location] = {}
    for file in domain_files:
        if file not in outside:
            reshape = functools.partial(anklume.translate_domain, file.stem, config=translated, machines=machines,
                                        diag=diag)
            ok_all &= _merge_part(file, diag, doc, ("domains",), "domain ",
                                  "an AnKLuMe domain file (description, machines, ...)", reshape)
    if policies in files and policies not in outside:
        ok_all &= _merge_part(policies, diag, doc, (), "", "policies.yml (policies: [...])",
                              lambda body, part: anklume.translate_policies(body, part, diag))
    return doc if ok_all else None


def _merge_part(file: Path, diag: Diagnostics, doc: Document, prefix: Path_, noun: str, shape: str,
                reshape: Callable[[dict, Document], dict] | None = None, parse: Parse | None = None) -> bool:
    """Load `file`, a mapping, and add its keys to the document under `prefix`; `reshape` turns the
    file's mapping (and its positions) into those keys first: a file of an AnKLuMe project's.

    A key that is already there is an error naming both places (AnKLuMe
    silently lets the later file win; a compiler should not lose data).
    """
    display = display_name(file)
    part_doc = Document(None, (display,))
    ok, part = _load_file(file, display, diag, part_doc, parse=parse)
    if not ok:
        return False
    if not isinstance(part, dict):
        if reshape is None:
            diag.at_location("LOAD007", "error", f"{shape} must be a mapping", display, 1, 1)
        else:
            diag.at_location("LOAD015", "error", f"{shape} must be a mapping", display, 1, 1)
        return False
    if reshape is not None:
        part = reshape(part, part_doc)
    target = doc.data
    for key in prefix:
        target = target.setdefault(key, {})
    if not isinstance(target, dict):
        return True  # the schema reports the wrong type in base.yml
    added = set()
    for key, value in part.items():
        path = prefix + (key,)
        if key in target:
            where = doc.locate(path, at="key")
            file_, line, col = part_doc.position(part_doc.keys.get((key,), (display, 1, 1)))
            diag.at_location("YAML002", "error", f"{noun}'{key}' is already defined at {where[0]}:{where[1]}:"
                             f"{where[2]}; define it in one file", file_, line, col, format_path(path))
            continue
        target[key] = value
        added.add(key)
    _copy_locations(part_doc, doc, prefix, added)
    return True


def _copy_locations(src: Document, dst: Document, dst_prefix: Path_, only: set | None = None) -> None:
    """Every position of `src` into `dst`, its paths under `dst_prefix`: in one pass over `src`'s tables
    (a pass per top-level key made directory mode quadratic in the domains of one file).

    `only`: copy the paths under these top-level keys alone (the domains merged; not a duplicate's).
    """
    for table_src, table_dst in ((src.keys, dst.keys), (src.values, dst.values)):
        for p, loc in table_src.items():
            if only is None or (p and p[0] in only):
                table_dst[dst_prefix + p] = src.position(loc)  # marks of src's file, as Locations
