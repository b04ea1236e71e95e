"""`psot plan --format markdown`: the plan as a pull-request comment (SPEC §6).

In order: the summary line; the destructive changes (deleted files, and
consumers that lose a GPU they had in the placement.yml on disk) as a
warning; the commands `psot apply` will use and where (the compose
command, ssh destinations: nothing in generated/ shows them); the
placement (consumer -> GPU and VRAM, then per GPU used/total and its
consumers); then one collapsible `<details>` block per changed file with
its unified diff.

A GitHub comment holds at most 65,000 characters, so the output never
exceeds `limit`. What has to give, gives in reverse order of importance:
first the diffs (the last diff shown is cut after a whole line, the files
after it are left out), then rows of the placement tables and items of
the destructive list and of the commands (each gets at least half the
room left when it and what follows have to be cut); each cut is said in a
note, fences and `<details>` are always closed, and no line is ever cut in
the middle. A pure function: the same input gives the same text.
"""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from generator.diagnostics.findings import one_line
from generator.placement.core import Placement, fmt_gb
from generator.plan.changes import Change, Plan
from generator.plan.marks import MARKS

if TYPE_CHECKING:
    from generator.apply.units import LiveDrift, Program

GITHUB_COMMENT_LIMIT = 65_000
MIN_LIMIT = 1_000                 # room for the summary, the section heads and the notes
MAX_KEYS_IN_SUMMARY = 5           # changed keys named in a file's <summary>
MAX_NAMES_IN_CELL = 10            # consumers named in one GPU's row, unplaced consumers named

_BACKTICKS = re.compile(r"`+")

Lines = list[str]


def render_markdown(plan: Plan, new_tree: dict[str, bytes], old_tree: dict[str, bytes],
                    placement: Placement, previous: Mapping[str, tuple[str, ...]],
                    limit: int = GITHUB_COMMENT_LIMIT, programs: Sequence[Program] = (),
                    live: Sequence[LiveDrift] = ()) -> str:
    """The plan as Markdown for a pull-request comment, at most `limit` characters.

    `new_tree` is the compiled tree, `old_tree` the content of generated/ on
    disk (`plan.read_tree`), `previous` consumer -> GPUs of the placement.yml
    on disk ({} when there is none), `programs` what apply will run
    (`apply.units.programs`), `live` what changed on the machines by hand
    (`apply.units.drift`), which apply puts back.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT} characters, not {limit}")
    summary = _summary(plan)
    destructive = _destructive_items(plan, placement, previous)
    blocks = [_file_block(change, old_tree, new_tree) for change in plan.changes]

    uses = [_program_item(p) for p in programs]
    hand = [_live_item(d) for d in live]
    full = summary + _destructive_section(destructive, len(destructive)) + _live_section(hand, len(hand))
    full += _programs_section(uses, len(uses))
    full += _placement_section(placement, None, None)
    for block in blocks:
        full += block.lines()
    text = _join(full)
    if len(text) <= limit:
        return text

    over = len(text) - limit
    reserve = _size(_files_note(len(blocks), over, limit)) if blocks else 0
    budget = limit - reserve
    out = list(summary)
    # Both the destructive list and the placement must survive: when they do not fit together,
    # the destructive list gets at least half the room, and all of it the placement leaves.
    room = budget - _size(out)
    wanted = _size(_placement_section(placement, None, None))
    out += _fit(lambda n: _destructive_section(destructive, n), len(destructive), max(room // 2, room - wanted))
    room = budget - _size(out)
    out += _fit(lambda n: _live_section(hand, n), len(hand), max(room // 2, room - wanted))
    room = budget - _size(out)
    out += _fit(lambda n: _programs_section(uses, n), len(uses), max(room // 2, room - wanted))
    out += _fit_placement(placement, budget - _size(out))

    shown, truncated = 0, False
    for block in blocks:
        room = budget - _size(out)
        if _size(block.lines()) <= room:
            out += block.lines()
            shown += 1
            continue
        n = _fit_count(block.lines_cut, len(block.body), room, at_least=1)
        if n is not None:
            out += block.lines_cut(n)
            shown += 1
            truncated = True
        break
    if shown < len(blocks) or truncated:
        out += _files_note(len(blocks) - shown, over, limit)
    result = _join(out)
    if len(result) > limit:     # only with absurdly long names; the summary and the note always fit
        result = _join(summary + (_files_note(len(blocks), over, limit) if blocks else []))
    return result


# --- the sections ------------------------------------------------------------------------------

def _summary(plan: Plan) -> Lines:
    if not plan.changes:
        return [f"**No changes.** {one_line(plan.output_dir.name)}/ is up to date.", ""]
    s = plan.summary
    return [f"**Plan: {s['add']} to add, {s['update']} to change, {s['delete']} to destroy.**", ""]


def _destructive_items(plan: Plan, placement: Placement, previous: Mapping[str, tuple[str, ...]]) -> Lines:
    """Deleted files in plan order, then consumers that lose a GPU, by name."""
    items = [f"{_code(one_line(c.path))} is deleted" for c in plan.changes if c.action == "delete"]
    for name in sorted(previous):
        before = tuple(previous[name])
        assignment = placement.assignments.get(name)
        after = assignment.gpus if assignment is not None else ()
        lost = [g for g in before if g not in after]
        if not lost:
            continue
        if assignment is None:
            items.append(f"{_code(name)}: no longer a consumer; loses {_codes(lost)}")
        elif not after:
            why = "unplaced now" if name in placement.unplaced else "no GPU now"
            items.append(f"{_code(name)}: loses {_codes(lost)} ({why})")
        elif set(after) <= set(before):
            items.append(f"{_code(name)}: loses {_codes(lost)}")
        else:
            items.append(f"{_code(name)}: moves from {_codes(before)} to {_codes(after)}")
    return items


def _destructive_section(items: Lines, n: int) -> Lines:
    """The first `n` destructive items as a GitHub warning; a note for the rest."""
    if not items:
        return []
    lines = ["> [!WARNING]", f"> **Destructive changes ({len(items)}):**", ">"]
    lines += [f"> - {item}" for item in items[:n]]
    if n < len(items):
        lines.append(f"> - _… and {_count(len(items) - n)} more not shown._")
    return lines + [""]


def _program_item(program: Program) -> str:
    where = f"{program.target} on {_code(program.host)}" if program.host else program.target
    chosen = f" ({_codes(program.settings)})" if program.settings else ""
    return f"{where}: {_codes(program.programs)}, {program.runs_on}{chosen}" + "".join(
        f"; {note}" for note in program.notes)


def _live_item(found: LiveDrift) -> str:
    return f"{_code(one_line(found.path))}: " + "; ".join(one_line(d) for d in found.differences)


def _live_section(items: Lines, n: int) -> Lines:
    """The first `n` objects changed on the machines by hand; a note for the rest."""
    if not items:
        return []
    lines = [f"### Changed on the machines by hand ({len(items)}; `psot apply` puts back what was applied)", ""]
    lines += [f"- {item}" for item in items[:n]]
    if n < len(items):
        lines.append(f"- _… and {_count(len(items) - n)} more not shown; run `psot plan` for all._")
    return lines + [""]


def _programs_section(items: Lines, n: int) -> Lines:
    """The first `n` programs apply will use; a note for the rest."""
    if not items:
        return []
    lines = ["### Commands apply will use", ""] + [f"- {item}" for item in items[:n]]
    if n < len(items):
        lines.append(f"- _… and {_count(len(items) - n)} more not shown; run `psot plan` for all._")
    return lines + [""]


def _placement_section(placement: Placement, n_consumers: int | None, n_gpus: int | None) -> Lines:
    """Both tables; `n_*` rows of each (None: all), a note under a table that was cut."""
    consumers = [(name, ", ".join(a.gpus) or "(none)", f"{fmt_gb(a.vram_gb)} GB")
                 for name, a in placement.assignments.items()]
    gpus = [(key, f"{fmt_gb(u.used_gb)}/{fmt_gb(u.capacity_gb)} GB"
                  + (" ⚠ over capacity" if u.used_gb > u.capacity_gb + 1e-9 else ""),
             _names(u.consumers))
            for key, u in placement.gpus.items()]
    lines = [f"### Placement ({_code(placement.strategy)})", ""]
    lines += _table(("consumer", "GPU", "VRAM"), consumers, n_consumers, "consumers")
    lines += _table(("GPU", "used/total", "consumers"), gpus, n_gpus, "GPUs")
    if placement.unplaced:
        lines += [f"**Unplaced:** {_names(placement.unplaced)}", ""]
    return lines


def _fit_placement(placement: Placement, room: int) -> Lines:
    """The placement in `room`: the GPU table keeps its rows first (it is the short one)."""
    total_c, total_g = len(placement.assignments), len(placement.gpus)
    if _size(_placement_section(placement, None, None)) <= room:
        return _placement_section(placement, None, None)
    n_gpus = _fit_count(lambda n: _placement_section(placement, 0, n), total_g, room)
    if n_gpus is None:
        return []
    n_consumers = _fit_count(lambda n: _placement_section(placement, n, n_gpus), total_c, room)
    return _placement_section(placement, n_consumers or 0, n_gpus)


def _table(head: tuple[str, ...], rows: Sequence[tuple[str, ...]], n: int | None, what: str) -> Lines:
    n = len(rows) if n is None else n
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows[:n]]
    lines.append("")
    if n < len(rows):
        lines += [f"_… {_count(len(rows) - n)} more {what} not shown; run `psot place` for all._", ""]
    return lines


class _Block:
    """One changed file: `<details>`, its summary, its diff in a fence longer than any backtick run."""

    def __init__(self, change: Change, body: Lines, fenced: bool):
        self.change = change
        self.body = body
        self.fenced = fenced
        longest = max((len(run) for line in body for run in _BACKTICKS.findall(line)), default=0)
        self.fence = "`" * max(3, longest + 1)

    def head(self) -> Lines:
        mark = MARKS[self.change.action]
        keys = self.change.keys
        what = f"{mark.sign} {mark.word}"
        if keys:
            what += "; " + ", ".join(f"<code>{html.escape(one_line(k))}</code>" for k in keys[:MAX_KEYS_IN_SUMMARY])
            if len(keys) > MAX_KEYS_IN_SUMMARY:
                what += f", +{len(keys) - MAX_KEYS_IN_SUMMARY} more"
        if self.change.same_data:
            what += "; same data, other bytes"
        return [f"<details><summary><code>{html.escape(one_line(self.change.path))}</code> ({what})</summary>", ""]

    def lines(self) -> Lines:
        if not self.fenced:
            return self.head() + self.body + ["", "</details>", ""]
        return self.head() + [self.fence + "diff"] + self.body + [self.fence, "", "</details>", ""]

    def lines_cut(self, n: int) -> Lines:
        """The block with only the first `n` lines of its diff, and a note."""
        rest = len(self.body) - n
        return (self.head() + [self.fence + "diff"] + self.body[:n] + [self.fence, ""]
                + [f"_… {_count(rest)} more lines of this diff not shown._", "", "</details>", ""])


def _file_block(change: Change, old_tree: dict[str, bytes], new_tree: dict[str, bytes]) -> _Block:
    old = b"" if change.action == "add" else old_tree.get(change.path, b"")
    new = b"" if change.action == "delete" else new_tree.get(change.path, b"")
    if b"\0" in old or b"\0" in new:
        return _Block(change, ["_Binary file; no diff shown._"], fenced=False)
    diff = list(difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(), new.decode("utf-8", "replace").splitlines(),
        "/dev/null" if change.action == "add" else f"a/{change.path}",
        "/dev/null" if change.action == "delete" else f"b/{change.path}", lineterm=""))
    if not diff:
        note = "_Empty file._" if change.action != "update" else "_No line differs (whitespace or line endings)._"
        return _Block(change, [note], fenced=False)
    return _Block(change, [one_line(line) for line in diff], fenced=True)  # a file on disk may hold anything


def _files_note(hidden: int, over: int, limit: int) -> Lines:
    what = f"{_count(hidden)} more file{'s' if hidden != 1 else ''} not shown" if hidden else "Diffs cut short"
    return [f"_… {what} ({_count(over)} characters over the {_count(limit)} limit of a GitHub comment); "
            "run `psot plan` locally for the full diff._", ""]


# --- helpers -----------------------------------------------------------------------------------

def _fit(section: Callable[[int], Lines], total: int, room: int) -> Lines:
    n = _fit_count(section, total, room)
    return [] if n is None else section(n)


def _fit_count(section: Callable[[int], Lines], total: int, room: int, at_least: int = 0) -> int | None:
    """The largest n in [at_least, total] with section(n) in `room` characters; None if none fits."""
    lo, hi = at_least, total
    if lo > hi or _size(section(lo)) > room:
        return None
    while lo < hi:          # section(n) grows with n: binary search
        mid = (lo + hi + 1) // 2
        if _size(section(mid)) <= room:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _size(lines: Lines) -> int:
    """Characters of `lines` joined by newlines, each ending in one (an upper bound of _join)."""
    return sum(len(line) + 1 for line in lines)


def _join(lines: Lines) -> str:
    while lines and lines[-1] == "":
        lines = lines[:-1]
    return "\n".join(lines) + "\n"


def _count(n: int) -> str:
    """65000 -> '65 000'."""
    return f"{n:,}".replace(",", " ")


def _code(text: str) -> str:
    """`text` as a code span, whatever backticks it holds."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    if not longest:
        return f"`{text}`"
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}"


def _codes(names) -> str:
    return ", ".join(_code(n) for n in names)


def _names(names: tuple[str, ...]) -> str:
    if not names:
        return "-"
    shown = ", ".join(names[:MAX_NAMES_IN_CELL])
    return shown + (f", … (+{len(names) - MAX_NAMES_IN_CELL} more)" if len(names) > MAX_NAMES_IN_CELL else "")


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
