"""The stages of SPEC §1: load → validate → place → render, each a function with a typed result.

`load(path)` gives a `Loaded`, `validate(loaded)` a `Validated` (the model), `place(validated)` a `Placed`
(the placement) and `render(placed)` a `Rendered` (the tree): each result has every field of the one
before it and its own, all present. A stage that cannot make its result at all (infra.yml unreadable,
a schema error, a strategy or `--without` name refused) gives a `Stopped` instead. `STAGES` names them;
`run(path, until=...)` chains them and stops at the first stage whose result has an error, so nothing
downstream (and nothing on disk) ever sees an input that failed validation.

The stages of one run share its Diagnostics: each adds its findings to those of its input, so a result
feeds one next stage (and validate changes its input's document: the schema drops the unknown keys it
ignores). `compile_infra` runs them for the commands and gathers the results into a `Compilation`.
Plan and write are separate (see generator/cli/), because only `sync` writes.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from generator import modes, rules
from generator.diagnostics.findings import Diagnostics, Finding, one_line
from generator.load import anklume, loader
from generator.load.loader import Document
from generator.model import core as model
from generator.model.core import Infra
from generator.placement import core as placement_core
from generator.placement.core import Placement
from generator.rules.base import gpu_choices
from generator.serialize import load_yaml
from generator.validate import schema

if TYPE_CHECKING:
    from generator.workspace.incremental import RenderMemo
    from generator.workspace.parse_cache import ParseMemo

DEFAULT_OUTPUT_DIR = "generated"
MODES_DIR = "modes"      # generated/modes/<mode>/: each mode's tree
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    """What every stage's result has: the input, the output directory its tree is for, the findings so far."""
    source: Path
    output_dir: Path
    diag: Diagnostics

    @property
    def ok(self) -> bool:
        return not self.diag.has_errors


@dataclass(frozen=True)
class Loaded(Result):
    """infra.yml (or infra/) read and parsed, every node's position known."""
    document: Document


@dataclass(frozen=True)
class Validated(Result):
    """The document passed the schema; its model, judged by the rules of the model stage."""
    infra: Infra
    # The findings of load and validate: generator/placement/failover.py places again from there.
    model_findings: tuple[Finding, ...]
    mode: str | None       # the mode the model is of (generator/modes/), None for the base file alone


@dataclass(frozen=True)
class Placed(Validated):
    """Every consumer placed, and the placement judged by the rules of the placement stage."""
    # `infra` is the model placed: with the GPUs of `without` unavailable.
    placement: Placement
    previous: dict[str, tuple[str, ...]]   # the previous placement placement started from (previous_placement)
    without: tuple[str, ...]               # the GPUs placed as gone (`host/gpu`), as `without` named them resolved


@dataclass(frozen=True)
class Rendered(Placed):
    """The tree of generated files, `{relative path: bytes}`, as sync would write it."""
    tree: dict[str, bytes]
    memo: RenderMemo = field(compare=False)   # the bytes rendered by content, which sync leaves for the next compile


@dataclass(frozen=True)
class Stopped(Result):
    """A stage that could not make its result; its errors are in `diag`."""
    stage: str
    reached: Loaded | Validated | None     # the result the stage started from (None: nothing was loaded)


Outcome = Loaded | Validated | Placed | Rendered | Stopped
R = TypeVar("R", bound=Result)


def _grown(cls: type[R], result: Result, **more: Any) -> R:
    """The `cls` of `result`'s fields and `more`: the result of the stage after the one that made `result`."""
    return cls(**{f.name: getattr(result, f.name) for f in fields(cls) if f.name not in more}, **more)


@dataclass
class Compilation:
    """What the commands work with: how far one run of the stages went, every stage's product in one place."""
    source: Path
    output_dir: Path
    diag: Diagnostics
    infra: Infra | None = None
    placement: Placement | None = None
    tree: dict[str, bytes] | None = None
    # The previous placement placement started from (consumer -> GPUs), see previous_placement.
    previous: dict[str, tuple[str, ...]] | None = None
    without: tuple[str, ...] = ()   # the GPUs placed as gone (`host/gpu`), as `without` named them resolved
    # The findings before placement (the model's rules): generator/placement/failover.py places again from there.
    model_findings: tuple[Finding, ...] = ()
    # The mode compiled (generator/modes/): `--mode`, else global.mode; None for the base file alone.
    mode: str | None = None
    memo: RenderMemo | None = None   # what the render stage serialised (workspace/incremental.py)
    parse_memo: ParseMemo | None = None   # what the load stage parsed (workspace/parse_cache.py)

    @property
    def ok(self) -> bool:
        return not self.diag.has_errors

    # The fields above are None until their stage has run. A caller that has checked how far
    # the compilation went (`ok`, `until=`) takes the value from these, typed without the None;
    # reaching one whose stage did not run is a bug in psot, not something a user can cause.
    def need_infra(self) -> Infra:
        """The typed model: validation passed."""
        return _reached(self.infra, "validate")

    def need_placement(self) -> Placement:
        """The placement: the compilation ran the place stage without an error before it."""
        return _reached(self.placement, "place")

    def need_tree(self) -> dict[str, bytes]:
        """The rendered tree: the compilation ran the render stage without an error before it."""
        return _reached(self.tree, "render")

    def take(self, outcome: Outcome) -> None:
        """Take the products of `outcome` (and of the stages before it)."""
        reached = outcome.reached if isinstance(outcome, Stopped) else outcome
        if isinstance(reached, Validated):
            self.infra, self.model_findings, self.mode = reached.infra, reached.model_findings, reached.mode
        if isinstance(reached, Placed):
            self.placement, self.previous, self.without = reached.placement, reached.previous, reached.without
        if isinstance(reached, Rendered):
            self.tree, self.memo = reached.tree, reached.memo


class StageNotRun(RuntimeError):
    """A stage's result was asked of a compilation that stopped before that stage (a bug in psot)."""


def _reached(value: T | None, stage: str) -> T:
    if value is None:
        raise StageNotRun(f"the compilation stopped before the {stage} stage")
    return value


def source_label(path: Path) -> str:
    """How generated headers name the input: `infra.yml`, `infra/` in directory mode, `anklume.yml` for an
    AnKLuMe project (given as its directory or as its anklume.yml: the same tree either way).

    A file name may hold a line break, which would end the header's comment line: escaped.
    """
    if anklume.project_root(path) is not None:
        return anklume.CONFIG
    return one_line(f"{path.name}/" if path.is_dir() else path.name)


def output_override(override: Path, project_root: Path, diag: Diagnostics) -> Path:
    """`--output-dir` as the writer uses it (absolute, no symlink on its way), PATH002 when psot must not write it.

    The writer replaces the whole output directory with a new one, so it must be a directory of psot's
    own: not the project nor a directory holding it, not a symlink, a file or a mount point, and, when it
    exists already, either empty or holding psot's manifest (.psot/manifest.json), the proof that psot
    made it. Nothing is read or written there before these checks pass.
    """
    given = Path(override)
    absolute = given.absolute()
    # Its parent resolved, so that the writer's sibling staging directory and lock are where the
    # checks looked; the last name kept, so that a symlink there is seen as one (`.`/`..` have no name).
    target = absolute.parent.resolve() / absolute.name if absolute.name not in ("", "..") else absolute.resolve()
    why = _unfit_output(target, project_root, given)
    if why is not None:
        diag.at_location("PATH002", "error", f"--output-dir {given}: {why}", "<command line>", 1, 1, "--output-dir")
    return target


def _unfit_output(target: Path, project_root: Path, given: Path) -> str | None:
    """Why psot must not replace `target` with a tree of its own, or None."""
    from generator.plan.changes import MANIFEST, STATE_DIR  # not imported by `psot validate` (see generator/cli/)
    fix = "pass a directory of its own (a new or an empty one, or one psot wrote before)"
    if target == project_root:
        return f"is the project itself ({target}); psot replaces the whole output directory: {fix}, such as " \
               f"{DEFAULT_OUTPUT_DIR}"
    if project_root.is_relative_to(target):
        return f"holds the project ({project_root}); psot replaces the whole output directory: {fix}"
    if os.path.islink(target):
        return f"is a symlink (to {os.readlink(target)}); psot replaces the output directory and never follows " \
               "a symlink there: pass the directory itself"
    existing = next(p for p in (target, *target.parents) if os.path.lexists(p))
    if not existing.is_dir():
        return f"{'is a file' if existing == target else f'leads through {existing}, which is a file'}, not a " \
               f"directory: {fix}"
    if existing != target:
        return None   # psot creates it
    if os.path.ismount(target):
        return "is a mount point; psot replaces the output directory by renaming a new one into its place, " \
               f"which cannot be done to a mount point: pass a directory inside it, such as " \
               f"{given / DEFAULT_OUTPUT_DIR}"
    try:
        with os.scandir(target) as listing:
            if next(listing, None) is None:
                return None   # empty: nothing of anyone's to lose
        if stat.S_ISDIR(os.lstat(target / STATE_DIR).st_mode) and stat.S_ISREG(os.lstat(target / MANIFEST).st_mode):
            return None
    except OSError:
        pass
    return f"holds files psot did not write (it has no {MANIFEST}); psot replaces the whole output directory, " \
           f"so it writes only to a directory it made or an empty one: {fix}"


def _output_dir(path: Path, data: dict | None, override: Path | None, diag: Diagnostics) -> Path:
    """`--output-dir`, else `global.output_dir`, else generated/ beside infra.yml (or infra/)."""
    project_root = loader.project_dir(path)
    if override is not None:
        return output_override(override, project_root, diag)
    # This runs before the schema has checked anything: `global` may be any type here.
    glob = data.get("global") if isinstance(data, dict) else None
    configured = glob.get("output_dir") if isinstance(glob, dict) else None
    if isinstance(configured, str):
        rel = PurePosixPath(configured)
        # The writer swaps the whole directory: it must be one of its own, strictly inside the
        # project, also once symlinks on the way are followed (`.` would swap the project itself).
        target = project_root / rel
        resolved = target.resolve()
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            diag.error("PATH001", f"output_dir '{configured}' must stay inside the project: write a relative "
                       "path to a directory of its own, without '..' (or pass --output-dir)", ("global", "output_dir"))
        elif resolved == project_root or not resolved.is_relative_to(project_root):
            diag.error("PATH001", f"output_dir '{configured}' leads to {resolved} through a symlink, outside the "
                       "project: write a path inside the project (or pass --output-dir)", ("global", "output_dir"))
        else:
            return target
    return project_root / DEFAULT_OUTPUT_DIR


def expected_output_dir(infra: Path, override: Path | None) -> Path | None:
    """Where the records beside the output directory are looked for before infra.yml is read: `--output-dir`,
    else generated/ beside it. An input whose `global.output_dir` puts the tree elsewhere gets none (see
    workspace/cache.py). None: `--output-dir` is refused (PATH002), which compiling reports; nothing is
    read there."""
    if override is None:
        return infra.resolve().parent / DEFAULT_OUTPUT_DIR
    refused = Diagnostics()
    output_dir = output_override(override, infra.resolve().parent, refused)
    return None if refused.has_errors else output_dir


def _check_kubernetes_base(path: Path, data: dict | None, diag: Diagnostics) -> None:
    """`global.kubernetes.base` names the user's kustomize directory, which the generated overlay lists as a
    resource: like output_dir, it must stay inside the project (what a review of it sees), also once
    symlinks on the way are followed (PATH003)."""
    glob = data.get("global") if isinstance(data, dict) else None
    kubernetes = glob.get("kubernetes") if isinstance(glob, dict) else None
    base = kubernetes.get("base") if isinstance(kubernetes, dict) else None
    if not isinstance(base, str) or not base:
        return   # absent (k8s), or the schema reports it
    project_root = loader.project_dir(path)
    rel = PurePosixPath(base)
    resolved = (project_root / rel).resolve()
    where = ("global", "kubernetes", "base")
    if rel.is_absolute() or ".." in rel.parts:
        diag.error("PATH003", f"kubernetes.base '{base}' must stay inside the project: write the path of your "
                   "kustomize directory relative to infra.yml, without '..'", where)
    elif not resolved.is_relative_to(project_root):
        diag.error("PATH003", f"kubernetes.base '{base}' leads to {resolved} through a symlink, outside the "
                   "project: write a path inside the project", where)


def _relative_output(path: Path, output_dir: Path) -> str:
    """Where the output directory is, seen from infra.yml's directory (even when --output-dir is elsewhere)."""
    return PurePosixPath(os.path.relpath(output_dir.resolve(), loader.project_dir(path))).as_posix()


def previous_placement(output_dir: Path, strategy: str | None = None) -> dict[str, tuple[str, ...]]:
    """Consumer -> GPUs of the placement.yml already in `output_dir` (if it was made by `strategy`, when given).

    Placement prefers to leave consumers where they were (low churn); anything
    unreadable there is simply no previous placement.
    """
    try:
        data = load_yaml((output_dir / "placement.yml").read_bytes())
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("assignments"), dict) or (
            strategy is not None and data.get("strategy") != strategy):
        return {}
    out = {}
    for name, entry in data["assignments"].items():
        if isinstance(entry, dict) and isinstance(entry.get("gpus"), list):
            out[str(name)] = tuple(g for g in entry["gpus"] if isinstance(g, str))
    return out


def place_and_judge(infra: Infra, diag: Diagnostics, strategy: str,
                    previous: dict[str, tuple[str, ...]]) -> Placement | None:
    """Place, then run the rules that judge the placement; None when the strategy cannot run."""
    placement = placement_core.place(infra, diag, strategy, previous)
    if placement is None:
        return None
    judged = Diagnostics(diag.document, diag.default_file)
    rules.run("placement", infra, placement, judged)
    diag.extend(judged.findings)
    # placement.yml carries the placement's findings and those of the rules that judged it.
    return replace(placement, findings=tuple(sorted(placement.findings + tuple(judged.findings),
                                                    key=Finding.sort_key)))


def _without_keys(infra: Infra, names: tuple[str, ...], diag: Diagnostics) -> tuple[str, ...]:
    """The `host/gpu` keys of the GPUs `--without` names, each as a pin may name it: a GPU name used
    on one host only, or `host/gpu` (REF005 for a name that matches none, or several)."""
    keys = []
    for name in names:
        matches = [] if name.startswith("pci:") else model.match_pin(name, None, infra.gpus)
        if len(matches) == 1:
            keys.append(matches[0])
        elif matches:
            diag.at_location("REF005", "error", f"--without {name}: GPUs of that name are on several hosts; "
                             f"write host/gpu, one of: {', '.join(matches)}", "<command line>", 1, 1, "--without")
        else:
            diag.at_location("REF005", "error", f"--without {name}: no such GPU" + gpu_choices(name, infra.gpus),
                             "<command line>", 1, 1, "--without")
    return tuple(dict.fromkeys(keys))


def load(path: Path, output_dir: Path | None = None, parse: loader.Parse | None = None) -> Loaded | Stopped:
    """Read infra.yml (or infra/) and find the output directory: `output_dir` (`--output-dir`), else
    `global.output_dir`, else generated/ beside it (PATH001, PATH002); PATH003 for a kustomize base
    outside the project. `parse`: what parses each file (loader.load's)."""
    path = Path(path)
    diag = Diagnostics(default_file=loader.display_name(path))
    doc = loader.load(path, diag, parse)
    data = doc.data if doc else None
    target = _output_dir(path, data, output_dir, diag)
    _check_kubernetes_base(path, data, diag)
    if doc is None:
        return Stopped(path, target, diag, "load", None)
    return Loaded(path, target, diag, doc)


def validate(loaded: Loaded, mode: str | None = None) -> Validated | Stopped:
    """Check the document against the schema, apply the mode (`mode`, else global.mode: see
    generator/modes/), build its model and run the rules of the model stage.

    The findings are located in the document the mode makes, whose overridden nodes are the mode's text.
    """
    if not schema.validate(loaded.document, loaded.diag):
        return Stopped(loaded.source, loaded.output_dir, loaded.diag, "validate", loaded)
    path, diag = loaded.source, loaded.diag
    modes.check(loaded.document, diag)
    chosen = modes.select(loaded.document, mode, diag)
    document = modes.apply(loaded.document, chosen) if chosen is not None else loaded.document
    diag.document = document
    infra = replace(model.build(document.data), output_dir=_relative_output(path, loaded.output_dir),
                    project_dir=loader.project_dir(path).as_posix())
    rules.run("model", infra, None, diag)
    return Validated(path, loaded.output_dir, diag, infra, tuple(diag.findings), chosen)


def place(validated: Validated, strategy: str | None = None, without: tuple[str, ...] = ()) -> Placed | Stopped:
    """Place every consumer by `strategy` (default: global.placement.strategy), from the placement.yml in
    the output directory, with the GPUs `without` names (a GPU name or `host/gpu`, as a pin names them)
    gone, then run the rules of the placement stage."""
    diag = validated.diag
    errors = diag.error_count
    keys = _without_keys(validated.infra, without, diag)
    if diag.error_count > errors:
        return Stopped(validated.source, validated.output_dir, diag, "place", validated)
    infra = model.without(validated.infra, keys) if without else validated.infra
    chosen = strategy or infra.strategy
    previous = previous_placement(validated.output_dir, chosen)
    placement = place_and_judge(infra, diag, chosen, previous)
    if placement is None:
        return Stopped(validated.source, validated.output_dir, diag, "place", validated)
    return _grown(Placed, replace(validated, infra=infra), placement=placement, previous=previous, without=keys)


def render(placed: Placed, memo: RenderMemo | None = None) -> Rendered:
    """The tree of every platform's files and placement.yml; `memo` (default: the one the last sync of the
    output directory left) gives the bytes of data serialised before."""
    from generator import render  # the renderers and their imports: not needed to validate or place
    from generator.workspace.incremental import RenderMemo
    memo = memo if memo is not None else RenderMemo.beside(placed.output_dir)
    tree = render.render(placed.infra, placed.placement, source_label(placed.source), memo)
    return _grown(Rendered, placed, tree=tree, memo=memo)


# The stages by name, in the order they run.
STAGES: dict[str, Callable[..., Outcome]] = {"load": load, "validate": validate, "place": place, "render": render}


def run(path: Path, until: str = "render", *, strategy: str | None = None, output_dir: Path | None = None,
        without: tuple[str, ...] = (), mode: str | None = None, mode_tree: bool = False,
        memo: RenderMemo | None = None, parse_memo: ParseMemo | None = None) -> Outcome:
    """The stages on `path` up to `until` (a name of STAGES); the result of the last stage run, which is the
    first whose result has an error when one has. `strategy` and `without` are place's, `mode` validate's.

    `mode_tree`: compile `mode` for its tree under generated/modes/<mode>/ (its previous placement and the
    paths its files name are those of that directory). `memo`: render's (default: the output directory's);
    `parse_memo`: load's (default: none, every file parsed whole)."""
    if until not in STAGES:
        raise ValueError(f"no stage {until!r}: one of {', '.join(STAGES)}")
    loaded = load(path, output_dir, parse_memo.parse if parse_memo is not None else None)
    if until == "load" or isinstance(loaded, Stopped) or not loaded.ok:
        return loaded
    if memo is None and until == "render":
        from generator.workspace.incremental import RenderMemo  # not needed to validate or place
        memo = RenderMemo.beside(loaded.output_dir)   # beside the output directory, also for a mode's tree
    if mode_tree and mode is not None:
        loaded = replace(loaded, output_dir=loaded.output_dir / MODES_DIR / mode)
    validated = validate(loaded, mode)
    if until == "validate" or isinstance(validated, Stopped) or not validated.ok:
        return validated
    placed = place(validated, strategy, without)
    if until == "place" or isinstance(placed, Stopped) or not placed.ok:
        return placed
    return render(placed, memo)


def place_stage(result: Compilation, strategy: str | None, without: tuple[str, ...]) -> None:
    """Place `result.infra` (modelled, without errors) into `result`, with the GPUs `without` gone;
    `result.placement` stays None when the names or the strategy are refused."""
    validated = Validated(result.source, result.output_dir, result.diag, result.need_infra(), result.model_findings,
                          result.mode)
    result.take(place(validated, strategy, without))


def compile_infra(path: Path, *, strategy: str | None = None, output_dir: Path | None = None,
                  until: str = "render", without: tuple[str, ...] = (), mode: str | None = None) -> Compilation:
    """Run the pipeline on `path` up to `until` ("validate", "place" or "render"), with `mode` applied
    (None: global.mode when infra.yml sets it, else the base file alone); `Compilation.mode` is the mode
    compiled.

    "validate" places too, as "place" does: `psot validate` reports the findings of the rules that judge
    the placement. `without`: GPUs (a GPU name or `host/gpu`, as a pin names them) to treat as gone, to
    see what would move if they failed.

    Every mode of infra.yml is validated and placed too: each finding of a mode that the compilation
    itself does not have joins it, its message prefixed `mode 'ai': `, so a mode that breaks a rule fails
    the compile. "render" adds each mode's tree under `modes/<mode>/` (see `mode_trees`).
    """
    stage = "place" if until in ("validate", "place") else "render"
    parse_memo = None
    if stage == "render":   # the commands that render (plan, sync, apply); validate's start-up stays lean
        from generator.workspace.parse_cache import ParseMemo
        home = expected_output_dir(Path(path), output_dir)
        parse_memo = ParseMemo.beside(home) if home is not None else None
    outcome = run(path, stage, strategy=strategy, output_dir=output_dir, without=without, mode=mode,
                  parse_memo=parse_memo)
    result = Compilation(outcome.source, outcome.output_dir, outcome.diag, parse_memo=parse_memo)
    result.take(outcome)
    if result.infra is None:
        return result   # the file or its schema failed: every mode would report the same
    others = {name: run(path, stage, strategy=strategy, output_dir=output_dir, without=without, mode=name,
                        mode_tree=True, memo=result.memo, parse_memo=parse_memo)
              for name in modes.mode_names(result.infra)}
    _join_mode_findings(result, others)
    if result.tree is not None and result.ok:
        result.tree.update(mode_trees(others))
    return result


def _join_mode_findings(result: Compilation, others: dict[str, Outcome]) -> None:
    """Each finding of a mode's compilation that `result` does not have, prefixed with the mode's name."""
    own = {(f.code, f.message, f.file, f.line, f.column) for f in result.diag.findings}
    for name, outcome in others.items():
        if name == result.mode:
            continue
        for f in outcome.diag.findings:
            if (f.code, f.message, f.file, f.line, f.column) not in own:
                result.diag.extend([replace(f, message=f"mode '{name}': {f.message}")])


def mode_trees(others: dict[str, Outcome]) -> dict[str, bytes]:
    """`modes/<mode>/<path>` for every file of every mode's tree: each mode's whole tree, as sync would
    write it with that mode active, so a pull request shows what every mode becomes."""
    return {f"{MODES_DIR}/{name}/{rel}": content for name, outcome in others.items()
            if isinstance(outcome, Rendered) for rel, content in outcome.tree.items()}
