"""A plan saved by `psot plan --out FILE`, and `psot apply FILE`, which applies exactly it or refuses.

The file holds the plan, the commands it implies, and what it was made from: the SHA-256 of every input
file, of generated/ and of the applied state, and of the tree psot compiled. Applying it checks all of
them as a real run does, compiles again, derives the commands again and runs those, never the file's:
the file only says what was reviewed, and any difference from it is a refusal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import __version__
from generator.apply import units as tg
from generator.apply.service import (
    Failed,
    Refused,
    Result,
    Run,
    bytes_refusal,
    context,
    os_failure,
    programs,
    run_units,
    timeout_refusal,
    unit_dict,
)
from generator.apply.state import State, tree_digest
from generator.pipeline import Compilation, compile_infra
from generator.plan.changes import MANIFEST, Plan, digest, make_plan, read_tree
from generator.resources import data_dir
from generator.workspace.atomic import replace_file
from generator.workspace.writer import WriteError, locked, write

PLAN_FORMAT = "psot-plan"
PLAN_VERSION = 2              # 2: with `commands`, the programs apply will use
PLAN_SCHEMA = "plan.schema.json"


def infra_digests(path: Path) -> dict[str, str]:
    """SHA-256 of every input file: infra.yml, or every file of an infra/ directory."""
    if path.is_dir():
        return {str(p.relative_to(path)): digest(p.read_bytes())
                for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink()}
    return {path.name: digest(path.read_bytes())} if path.is_file() else {}


def generated_digest(output_dir: Path) -> str:
    tree = read_tree(output_dir)
    manifest = output_dir / MANIFEST
    if manifest.is_file():
        tree = dict(tree) | {MANIFEST: manifest.read_bytes()}
    return tree_digest(tree)


def save(result: Compilation, the_plan: Plan, out: Path) -> None:
    """`psot plan --out FILE`: `the_plan`, the commands it implies, and what it was made from."""
    state = State(result.output_dir)
    ctx = context(result, result.output_dir, False)
    units = tg.units(result.need_tree(), state.applied(), ctx)
    body = {
        "format": PLAN_FORMAT, "version": PLAN_VERSION, "psot": __version__,
        "infra": str(result.source.resolve()),
        "inputs": infra_digests(result.source),
        "output_dir": str(result.output_dir.resolve()),
        "generated": generated_digest(result.output_dir),
        "applied": state.digest(),
        "tree": tree_digest(result.need_tree()),
        "changes": the_plan.to_dict()["changes"],
        "commands": [p.to_dict() for p in programs(result)],
        "apply": [unit_dict(u) for u in units],
    }
    replace_file(out, (json.dumps(body, indent=2) + "\n").encode())


# --- reading one ----------------------------------------------------------------------------------

def _field(path) -> str:
    """`apply[0].commands` from a JSON path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


def problem(saved: dict) -> str | None:
    """The first field of a saved plan that is not as `psot plan --out` writes it, or None."""
    from jsonschema import Draft202012Validator
    schema = json.loads((data_dir("schemas") / PLAN_SCHEMA).read_text(encoding="utf-8"))
    errors = sorted(Draft202012Validator(schema).iter_errors(saved),
                    key=lambda e: ([str(p) for p in e.absolute_path], e.validator))
    if not errors:
        return None
    error = errors[0]
    field = _field(error.absolute_path)
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return f"`{_field([*error.absolute_path, missing])}` is missing"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"`{_field([*error.absolute_path, extra[0]])}` is not a field of a saved plan"
    if error.validator == "type":
        value = error.validator_value
        wanted: list[str] = value if isinstance(value, list) else [value]
        words = {"object": "an object", "array": "a list", "string": "a string", "null": "null",
                 "integer": "an integer", "number": "a number", "boolean": "a boolean"}
        return (f"`{field}` must be {' or '.join(words.get(w, w) for w in wanted)}, not "
                f"{_JSON_TYPES.get(type(error.instance), 'that')}")
    if error.validator == "pattern":
        return f"`{field}` must be a SHA-256 (64 hex digits)"
    if error.validator == "enum":
        return f"`{field}` must be one of {', '.join(map(str, error.validator_value))}"
    if error.validator == "const":
        return f"`{field}` must be {json.dumps(error.validator_value)}"
    if error.validator == "minLength":
        return f"`{field}` must not be empty"
    return f"`{field}`: {error.message}"


def _units_difference(saved: list[dict], derived: list[dict]) -> str:
    """Where the saved commands and the ones apply derives now first part."""
    for was, now in zip(saved, derived):
        if was != now:
            files = ", ".join(now["files"])
            extra = [c for c in was["commands"] if c not in now["commands"]]
            if extra:
                return f"for {files} the plan has `{extra[0]}`, which apply does not derive"
            return (f"for {files} apply derives {json.dumps(now['commands'])}, the plan has "
                    f"{json.dumps(was['commands'])}")
    if len(saved) > len(derived):
        return f"the plan has {len(saved) - len(derived)} more unit(s) than apply derives"
    return f"apply derives {len(derived) - len(saved)} more unit(s) than the plan has"


def _again(path: Path) -> str:
    return "make a new one with `psot plan --out " + path.name + "` and review it"


def _saved_refusal(saved: dict, path: Path, result: Compilation, units: list[tg.Unit], the_plan: Plan) -> str | None:
    """Why the plan apply derives now is not the saved one, or None when it is."""
    again = _again(path)
    if the_plan.to_dict()["changes"] != saved["changes"]:
        return f"the file changes in {path.name} are not the plan's (the file was edited?): {again}"
    if [p.to_dict() for p in programs(result)] != saved["commands"]:
        return f"the programs apply would use are not the ones in {path.name} (the file was edited?): {again}"
    derived = [unit_dict(u) for u in units]
    if derived != saved["apply"]:
        return (f"the commands apply derives now are not the ones in {path.name} (the machines changed since it "
                f"was saved, or the file was edited): {_units_difference(saved['apply'], derived)}; {again}")
    return None


def _refused(message: str) -> Refused:
    return Refused(message, ending="; nothing was applied.")


# --- applying one ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputErrors:
    """The input the plan was saved from compiles with errors now (`result` has them): exit 1."""
    result: Compilation


@dataclass(frozen=True)
class Checked:
    """--dry-run: the saved plan checks out; `units` are what applying it would run (nothing ran)."""
    path: Path
    plan: Plan
    programs: list[tg.Program]
    units: list[tg.Unit]


def apply_saved(path: Path, run: Run) -> Result | InputErrors | Checked:
    """Check a saved plan exactly as a real run does, re-derive its commands and run those, never the file's.

    With --dry-run (`run.dry_run`) every check is made and the re-derived units are the outcome; nothing is
    written or run. Otherwise generated/ is written as the plan says (when it changes anything), then the
    checks are made again under the lock, and the units run.
    """
    refused = timeout_refusal()
    if refused is not None:
        return refused
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return _refused(f"{path} is not a plan saved by `psot plan --out` ({exc})")
    if not isinstance(saved, dict) or saved.get("format") != PLAN_FORMAT:
        return _refused(f"{path} is not a plan saved by `psot plan --out`")
    again = _again(path)
    if saved.get("version") != PLAN_VERSION:
        return _refused(f"{path} was saved in another plan format (version {json.dumps(saved.get('version'))}, "
                        f"this psot reads {PLAN_VERSION}): {again}")
    wrong = problem(saved)
    if wrong is not None:
        return _refused(f"{path} is not a plan as `psot plan --out` saves it: {wrong}")
    try:
        return _apply_checked(saved, path, run)
    except WriteError as exc:
        return Failed(str(exc))
    except OSError as exc:
        return os_failure(exc)


def _apply_checked(saved: dict[str, Any], path: Path, run: Run) -> Result | InputErrors | Checked:
    """Apply a saved plan whose fields are as `psot plan --out` writes them."""
    again = _again(path)
    infra = Path(saved["infra"])
    output_dir = Path(saved["output_dir"])
    changed = sorted(set(saved["inputs"].items()) ^ set(infra_digests(infra).items()))
    if changed:
        return _refused(f"{', '.join(sorted({name for name, _ in changed}))} changed since the plan was saved: "
                        f"{again}")
    if generated_digest(output_dir) != saved["generated"]:
        return _refused(f"{output_dir.name}/ changed since the plan was saved: {again}")
    state = State(output_dir)
    if state.digest() != saved["applied"]:
        return _refused(f"the applied state changed since the plan was saved (another apply or rollback ran): "
                        f"{again}")
    result = compile_infra(infra, output_dir=output_dir)
    if not result.ok:
        return InputErrors(result)
    if tree_digest(result.need_tree()) != saved["tree"]:
        return _refused(f"{infra.name} compiles to another tree than when the plan was saved (another psot "
                        f"version?): {again}")
    the_plan = make_plan(result.need_tree(), output_dir)
    touched = frozenset(c.path for c in the_plan.changes)
    if any(d.path in touched for d in the_plan.drift):
        return _refused(f"{output_dir.name}/ has files edited by hand that the plan rewrites; run `psot plan` to "
                        "see them")
    # What the plan does not rewrite must already be psot's bytes, as for `psot apply`.
    refused = bytes_refusal(result, skip=touched)
    if refused is not None:
        return refused
    ctx = context(result, output_dir, False)
    units = tg.units(result.need_tree(), state.applied(), ctx)
    why = _saved_refusal(saved, path, result, units, the_plan)
    if why is not None:
        return _refused(why)
    if run.dry_run:
        return Checked(path, the_plan, programs(result), units)
    if the_plan.changes:
        write(the_plan, result.need_tree())
        run.progress(f"Wrote {output_dir.name}/: {len(the_plan.changes)} file(s) changed.")
    with locked(output_dir):
        if state.digest() != saved["applied"]:
            return _refused(f"the applied state changed while the plan was being applied: {again}")
        refused = bytes_refusal(result)
        if refused is not None:
            return refused
        ctx = context(result, output_dir, False)
        units = tg.units(result.need_tree(), state.applied(), ctx)
        why = _saved_refusal(saved, path, result, units, the_plan)
        if why is not None:
            return _refused(why)
        return run_units(units, result, state, Run(progress=run.progress), kind="apply",
                         desired=dict(result.need_tree()), ctx=ctx)
