"""The one finding type every stage reports through, and its two printed forms.

A finding is what a compiler calls a diagnostic: a stable code, a severity, a
message that says what to change, and the place in the source it is about.
Stages never print; they add findings to a `Diagnostics` collector, which
knows the loaded document and so can turn a data path into file:line:column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.load.loader import Document, Path_

ERROR = "error"
WARNING = "warning"
_SEVERITY_RANK = {ERROR: 0, WARNING: 1}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    file: str
    line: int
    column: int
    path: str

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.column, _SEVERITY_RANK[self.severity], self.code, self.message)

    def format(self) -> str:
        return f"{one_line(self.file)}:{self.line}:{self.column}: {self.severity}[{self.code}] {one_line(self.message)}"

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
        }


def one_line(text: str) -> str:
    r"""`text` escaped to one printable line, for every human output (findings, plans, tables, commands).

    A key or file name holding a line break (or a terminal escape) must not print a second,
    forged line, nor reach the terminal raw: each character that is not printable is written
    as an escape (`\n`, `\t`, `\r`, `\x1b`, `\u0085`, `\u202e`) that reads back as that
    character in a Python string literal and in bash's `$'...'` alike.
    """
    return text if text.isprintable() else "".join(c if c.isprintable() else _escape(c) for c in text)


_SHORT_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    # \xHH only below 0x80: bash reads $'\x85' as the byte 0x85, not as U+0085.
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def format_path(path: Iterable) -> str:
    """`("domains", "ai", "machines", "m", "profiles", 1)` -> `domains.ai.machines.m.profiles[1]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _check(code: str, severity: str) -> None:
    # The table is imported with the first finding: an input without findings does not pay for it.
    from generator.diagnostics import codes
    codes.check(code, severity)


class Diagnostics:
    """Collects findings for one compilation and locates them in the source.

    A code must be in the table of codes (generator/diagnostics/codes.py), with the severity the table gives it:
    anything else raises `generator.diagnostics.codes.CodeError`, a bug in psot that the tests catch.
    """

    def __init__(self, document: Document | None = None, default_file: str = "infra.yml"):
        self.document = document
        self.default_file = default_file
        self._findings: list[Finding] = []

    def add(self, code: str, severity: str, message: str, path: Path_ = (), *, at: str = "value") -> None:
        """Record a finding about the node at `path` (its key when `at="key"`)."""
        _check(code, severity)
        if self.document is not None:
            file, line, column = self.document.locate(tuple(path), at=at)
        else:
            file, line, column = self.default_file, 1, 1
        self._findings.append(Finding(code, severity, message, file, line, column, format_path(path)))

    def error(self, code: str, message: str, path: Path_ = (), *, at: str = "value") -> None:
        self.add(code, ERROR, message, path, at=at)

    def warning(self, code: str, message: str, path: Path_ = (), *, at: str = "value") -> None:
        self.add(code, WARNING, message, path, at=at)

    def at_location(self, code: str, severity: str, message: str, file: str, line: int, column: int,
                    path: str = "") -> None:
        """Record a finding whose place is known only as a position (YAML syntax errors, I/O)."""
        _check(code, severity)
        self._findings.append(Finding(code, severity, message, file, line, column, path))

    def extend(self, findings: Iterable[Finding]) -> None:
        self._findings.extend(findings)

    @property
    def findings(self) -> list[Finding]:
        return sorted(set(self._findings), key=Finding.sort_key)

    @property
    def error_count(self) -> int:
        return sum(1 for f in self._findings if f.severity == ERROR)

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0


def render_text(findings: Iterable[Finding]) -> str:
    return "".join(f.format() + "\n" for f in findings)


def summary_line(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.severity == ERROR)
    warnings = len(findings) - errors
    return f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"


def render_json(findings: list[Finding], **extra) -> str:
    body = {"ok": not any(f.severity == ERROR for f in findings), "findings": [f.to_dict() for f in findings]}
    body.update(extra)
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
