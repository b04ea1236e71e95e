"""From changed files to each platform's commands: the frame every platform's apply.py fills.

`units(desired, applied, ctx)` compares the files to apply (`desired`) with
the applied state, groups the changed files by the platform whose folder
holds them (`target_of`), and hands each platform its changes, in registry
order (generator/platforms): its `apply.py` returns the units that make the
platform match them. Only what changed produces a command. `programs(tree,
infra_data)` asks each platform which programs apply runs for its files, and
where, for the plan.

Every command is an argument list, run without a shell. Where the CLI
reads `--` as the end of its options (`incus`, `kubectl` and Compose are
cobra CLIs, podman-compose uses argparse), every option comes first, then
`--`, then the names, keys and values from infra.yml: none of them can be
read as an option, whatever it starts with (the key grammar rules refuse
keys that could not be keys before anything runs: INC006, K8S005).

Commands that read a generated file from disk themselves (Compose's `-f`,
kubectl's `-k`) carry the bytes psot rendered for it (`Step.reads`); the
engine compares the file with them just before it runs the command.

Deleted files are left on the machines unless `--clean-orphans`: then each
platform removes the whole objects psot created (see its apply.py).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from generator.diagnostics.findings import one_line
from generator.platforms import PLATFORMS, load
from generator.serialize import load_yaml

TARGETS = tuple(PLATFORMS)       # the platforms `psot apply --target` may name
RECORD_ONLY = "record"          # placement.yml: kept in the applied state, applied to nothing

# A changed file: (path, content in the applied state or None, content to apply or None).
Change = tuple[str, bytes | None, bytes | None]


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    stdin: bytes | None = None
    stdin_label: str | None = None        # the file shown after `<`
    here: str | None = None               # a one-line stdin, shown as bash's here-string (`<<< word`)
    env: tuple[tuple[str, str], ...] = ()
    manual: bool = False                  # for the user to do; psot prints it and does not run it
    # Files the command reads from disk itself (path, the bytes psot rendered for it): checked just before it runs.
    reads: tuple[tuple[str, bytes], ...] = field(default=(), compare=False, repr=False)

    def display(self) -> str:
        """The command as one shell line. A word holding a line break or a terminal escape is
        written as bash's $'...' (escaped by findings.one_line): printed, it stays on one line
        and reaches the terminal as text; pasted into bash, it is the same word."""
        def word(v: str) -> str:
            if v.isprintable():
                return shlex.quote(v)
            return "$'" + one_line(v.replace("\\", "\\\\").replace("'", "\\'")) + "'"
        text = " ".join([f"{k}={word(v)}" for k, v in self.env] + [word(a) for a in self.argv])
        if self.stdin_label:
            text += f" < {word(self.stdin_label)}"
        elif self.here is not None:
            text += f" <<< {word(self.here)}"
        return text


@dataclass
class Unit:
    target: str
    action: str                                   # add, update, delete
    files: dict[str, bytes | None]                # path -> content in the applied state afterwards
    steps: list[Step] = field(default_factory=list)
    note: str = ""
    blocked: str = ""                             # why it cannot be applied now (stays pending)

    @property
    def label(self) -> str:
        return ", ".join(self.files)


def target_of(path: str) -> str:
    """The platform whose folder holds `path`, else RECORD_ONLY."""
    head = path.split("/", 1)[0]
    return head if head in PLATFORMS else RECORD_ONLY


Query = Callable[[tuple[str, ...]], "str | None"]


@dataclass
class Context:
    infra_data: Mapping[str, Any]
    project_root: Path
    source_root: Path                     # where the desired files are on disk
    clean_orphans: bool = False
    query: Query | None = None            # read-only command -> stdout, None when it failed or cannot run
    notes: list[str] = field(default_factory=list)
    # What makes the whole run refuse before any command runs (an image missing from its project), by file.
    refusals: list[str] = field(default_factory=list)

    def source_label(self, rel: str) -> str:
        """The desired file as a command names it: relative to infra.yml's directory when inside it."""
        full = (self.source_root / rel).resolve()
        root = self.project_root.resolve()
        try:
            return str(full.relative_to(root))
        except ValueError:
            return str(full)

    def source_path(self, rel: str) -> str:
        """The desired file's absolute path, where a command that reads it from disk finds it."""
        return str((self.source_root / rel).resolve())

    def ssh(self, host: str) -> str | None:
        entry = (self.infra_data.get("hosts") or {}).get(host)
        return entry.get("ssh") if isinstance(entry, dict) and isinstance(entry.get("ssh"), str) else None

    def on_host(self, host: str | None, argv: tuple[str, ...], **kwargs) -> Step:
        """`argv` on `host`: as is, or through `ssh` when the host has a destination."""
        dest = self.ssh(host) if host else None
        if dest:
            return Step(("ssh", "-o", "BatchMode=yes", dest, "--", shlex.join(argv)), **kwargs)
        return Step(argv, **kwargs)


def parse_yaml(content: bytes | None) -> Any:
    """A generated YAML file's data; None when there is no file or it does not parse."""
    if content is None:
        return None
    try:
        return load_yaml(content)
    except yaml.YAMLError:
        return None


def as_mapping(value: Any) -> dict:
    """`value` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def key_values(options: Mapping[str, Any]) -> list[str]:
    """`key=value` words, by key."""
    return [f"{k}={v}" for k, v in sorted(options.items())]


def path_argument(path: str) -> str:
    """A relative path as the value of an option: `./-x` for `-x`, which argparse would take for an option."""
    return f"./{path}" if path.startswith("-") else path


def action_of(pairs: list[tuple[bytes | None, bytes | None]]) -> str:
    """add, update or delete: what the (applied, desired) contents of a unit's files amount to."""
    if all(old is None for old, _ in pairs):
        return "add"
    return "delete" if all(new is None for _, new in pairs) else "update"


# --- what apply will run, for the plan ------------------------------------------------------------

@dataclass(frozen=True)
class Program:
    """The programs apply runs for one platform (on one host), where they run, and what chose them."""
    target: str
    host: str | None                      # None: the platform as a whole (incus, kubectl)
    programs: tuple[str, ...]             # command lines as run, e.g. "podman-compose", "qm"
    runs_on: str                          # "this machine", "ssh -o BatchMode=yes root@pve1", …
    settings: tuple[str, ...] = ()        # the infra.yml settings that chose them
    notes: tuple[str, ...] = ()           # what else a reviewer must know they do (a protection they lift)

    def to_dict(self) -> dict:
        out = {"target": self.target, "host": self.host, "programs": list(self.programs),
               "runs_on": self.runs_on, "settings": list(self.settings)}
        return out | ({"notes": list(self.notes)} if self.notes else {})

    def to_text(self) -> str:
        where = f"{self.target} on {self.host}" if self.host else self.target
        chosen = f" ({', '.join(self.settings)})" if self.settings else ""
        return f"{where}: {', '.join(self.programs)}, {self.runs_on}{chosen}" + "".join(f"; {n}" for n in self.notes)


@dataclass(frozen=True)
class LiveDrift:
    """An object psot applied that the machine has otherwise now (changed by hand): its file, and how."""
    path: str
    differences: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"path": self.path, "target": target_of(self.path), "differences": list(self.differences)}


UnitBuilder = Callable[[list[Change], Context, Mapping[str, bytes], Mapping[str, bytes]], list[Unit]]
ProgramFinder = Callable[[Mapping[str, bytes], Context], list[Program]]
DriftFinder = Callable[[Mapping[str, bytes], Context], list[LiveDrift]]


def _by_target(paths: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in paths:
        out.setdefault(target_of(path), []).append(path)
    return out


def programs(tree: Mapping[str, bytes], infra_data: Mapping[str, Any]) -> list[Program]:
    """Every program `psot apply` may run for `tree` (it also removes what --clean-orphans deletes), and
    where: what a reviewer must see besides the files, since none of it is in generated/."""
    ctx = Context(infra_data, Path("."), Path("."))
    found = _by_target(sorted(tree))
    out: list[Program] = []
    for name, platform in PLATFORMS.items():
        if name in found:
            finder = cast(ProgramFinder, load(platform.programs))
            out += finder({p: tree[p] for p in found[name]}, ctx)
    return out


def programs_text(found: list[Program]) -> str:
    """The plan's section: one line per platform (and host)."""
    if not found:
        return ""
    return "Commands apply will use:\n" + "".join(f"  {p.to_text()}\n" for p in found)


# --- what changed on the machines by hand ---------------------------------------------------------

def drift(applied: Mapping[str, bytes], ctx: Context, targets: tuple[str, ...] = ()) -> list[LiveDrift]:
    """The objects psot applied that the machines have otherwise now, read back from each platform that can
    say (its `DRIFT`); nothing without `ctx.query`."""
    if ctx.query is None:
        return []
    found = _by_target(sorted(applied))
    out: list[LiveDrift] = []
    for name, platform in PLATFORMS.items():
        if name in found and platform.drift is not None and (not targets or name in targets):
            finder = cast(DriftFinder, load(platform.drift))
            out += finder({p: applied[p] for p in found[name]}, ctx)
    return out


# --- all ------------------------------------------------------------------------------------------

def units(desired: Mapping[str, bytes], applied: Mapping[str, bytes], ctx: Context,
          targets: tuple[str, ...] = ()) -> list[Unit]:
    """Every unit that brings the machines from `applied` to `desired`, in the order they run: the files that
    differ, and those the machines no longer have as applied (`drift`), which are applied again."""
    drifted = {d.path for d in drift(applied, ctx, targets)}
    changes: dict[str, list[Change]] = {}
    for path in sorted(set(desired) | set(applied)):
        old, new = applied.get(path), desired.get(path)
        if old == new and (path not in drifted or new is None):
            continue
        target = target_of(path)
        if targets and target not in targets:
            continue
        changes.setdefault(target, []).append((path, old, new))
    out: list[Unit] = []
    for name, platform in PLATFORMS.items():
        if name in changes:
            builder = cast(UnitBuilder, load(platform.units))
            out += builder(changes[name], ctx, desired, applied)
    for path, old, new in changes.get(RECORD_ONLY, []):
        out.append(Unit(RECORD_ONLY, action_of([(old, new)]), {path: new}))
    return out


def pending(desired: Mapping[str, bytes], applied: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(action, path) of every file whose applied state differs from `desired`."""
    out = []
    for path in sorted(set(desired) | set(applied)):
        old, new = applied.get(path), desired.get(path)
        if old != new:
            out.append((action_of([(old, new)]), path))
    return out
