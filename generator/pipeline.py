"""The stages of SPEC §1 chained: load → validate → place → render.

`compile_infra` runs them in order and stops at the first stage that
reports an error, so nothing downstream (and nothing on disk) ever sees an
input that failed validation. Plan and write are separate (see cli.py),
because only `sync` writes.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TypeVar

import yaml

from generator import rules
from generator.diagnostics.findings import Diagnostics, Finding, one_line
from generator.load import loader
from generator.model import core as model
from generator.model.core import Infra
from generator.placement.core import Placement, place
from generator.rules.base import gpu_choices
from generator.serialize import load_yaml
from generator.validate import schema

DEFAULT_OUTPUT_DIR = "generated"
T = TypeVar("T")


@dataclass
class Compilation:
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


class StageNotRun(RuntimeError):
    """A stage's result was asked of a compilation that stopped before that stage (a bug in psot)."""


def _reached(value: T | None, stage: str) -> T:
    if value is None:
        raise StageNotRun(f"the compilation stopped before the {stage} stage")
    return value


def source_label(path: Path) -> str:
    """How generated headers name the input: `infra.yml`, or `infra/` in directory mode.

    A file name may hold a line break, which would end the header's comment line: escaped.
    """
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
    from generator.plan.changes import MANIFEST, STATE_DIR  # not imported by `psot validate` (see cli.py)
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
    project_root = path.resolve().parent
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


def _check_kubernetes_base(path: Path, data: dict | None, diag: Diagnostics) -> None:
    """`global.kubernetes.base` names the user's kustomize directory, which the generated overlay lists as a
    resource: like output_dir, it must stay inside the project (what a review of it sees), also once
    symlinks on the way are followed (PATH003)."""
    glob = data.get("global") if isinstance(data, dict) else None
    kubernetes = glob.get("kubernetes") if isinstance(glob, dict) else None
    base = kubernetes.get("base") if isinstance(kubernetes, dict) else None
    if not isinstance(base, str) or not base:
        return   # absent (k8s), or the schema reports it
    project_root = path.resolve().parent
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
    return PurePosixPath(os.path.relpath(output_dir.resolve(), path.resolve().parent)).as_posix()


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
    placement = place(infra, diag, strategy, previous)
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


def place_stage(result: Compilation, strategy: str | None, without: tuple[str, ...]) -> None:
    """Place `result.infra` (modelled, without errors) into `result`, with the GPUs `without` gone;
    `result.placement` stays None when the names or the strategy are refused."""
    assert result.infra is not None
    diag = result.diag
    result.without = _without_keys(result.infra, without, diag)
    if diag.has_errors:
        return
    result.infra = model.without(result.infra, result.without) if without else result.infra
    chosen = strategy or result.infra.strategy
    result.previous = previous_placement(result.output_dir, chosen)
    result.placement = place_and_judge(result.infra, diag, chosen, result.previous)


def compile_infra(path: Path, *, strategy: str | None = None, output_dir: Path | None = None,
                  until: str = "render", without: tuple[str, ...] = ()) -> Compilation:
    """Run the pipeline on `path` up to `until` ("validate", "place" or "render").

    `without`: GPUs (a GPU name or `host/gpu`, as a pin names them) to treat as gone, to see what would
    move if they failed.
    """
    path = Path(path)
    diag = Diagnostics(default_file=loader.display_name(path))
    doc = loader.load(path, diag)
    result = Compilation(path, _output_dir(path, doc.data if doc else None, output_dir, diag), diag)
    _check_kubernetes_base(path, doc.data if doc else None, diag)
    if doc is None or diag.has_errors or not schema.validate(doc, diag):
        return result
    result.infra = replace(model.build(doc.data), output_dir=_relative_output(path, result.output_dir),
                           project_dir=path.resolve().parent.as_posix())
    rules.run("model", result.infra, None, diag)
    if diag.has_errors:
        return result
    result.model_findings = tuple(diag.findings)
    place_stage(result, strategy, without)
    if result.placement is None:
        return result
    if diag.has_errors or until == "validate" or until == "place":
        return result
    from generator.render_stage import render  # the renderers and their imports: not needed to validate or place
    result.tree = render(result.infra, result.placement, source_label(path))
    return result
