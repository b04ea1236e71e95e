"""The no-op sync: an unchanged input against an untouched tree needs no compiling.

Like make, `psot sync` first asks whether anything the tree on disk was
compiled from has changed. A sync that compiled a tree and finds it on disk
leaves a record beside the output directory, `.generated.psot-cache`
(machine-local like the lock, ignored by git):

- the key: psot's fingerprint (the SHA-256 of its own code, schemas and
  templates, with the Python, PyYAML and Jinja2 versions that shape the
  text), the working directory and the INFRA argument (findings name files
  relative to them), every input file read (resolved path and SHA-256),
  and `--output-dir`;
- the SHA-256 of the tree's `.psot/manifest.json`;
- the findings of that compilation.

The next sync with the same key, against a tree whose manifest is that one,
where every file has the SHA-256 the manifest records and no other file
carries psot's header (no hand edit, no orphan), prints the recorded
findings and "No changes" without loading infra.yml. Anything else (no
record, another key, a changed file) and it compiles as always.

The answer is the one compiling would give. A compilation depends on its
input, on psot, and on the placement.yml already on disk (low churn, see
placement.py); the record is made only when compiling again from the
placement just written gives that same placement, which is checked by
placing once more whenever the placement changed. A record that cannot
vouch for the tree is not written; a stale one is never trusted, only
ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from generator.diagnostics.findings import Diagnostics, Finding
from generator.load import loader
from generator.pipeline import Compilation, expected_output_dir, place_and_judge
from generator.plan.changes import MANIFEST, Plan, digest, is_generated, manifest_bytes, read_tree, tree_identity
from generator.workspace import sidecars
from generator.workspace.atomic import replace_file
from generator.workspace.fingerprint import fingerprint

CACHE_VERSION = 1


def cache_file(output_dir: Path) -> Path:
    """`.generated.psot-cache` beside `generated/`."""
    return sidecars.cache(output_dir)


def _key(infra: Path, override: Path | None) -> dict | None:
    try:
        # Read as the loader reads them: a FIFO or a device among them is never read (compiling reports it).
        inputs = [[str(f.resolve()), digest(loader.read_input(f))] for f in loader.input_files(infra)]
    except (OSError, loader.InputError):
        return None
    return {"psot": fingerprint(), "cwd": os.getcwd(), "argument": str(infra), "inputs": inputs,
            "output_dir": None if override is None else str(Path(override).absolute())}


def lookup(infra: Path, override: Path | None) -> tuple[Compilation, Plan] | None:
    """The compilation and (empty) plan of an up-to-date tree, or None: then compile."""
    infra = Path(infra)
    output_dir = expected_output_dir(infra, override)
    if output_dir is None:
        return None
    try:
        record = json.loads(_read_no_follow(cache_file(output_dir)))
        manifest = (output_dir / MANIFEST).read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("psot-cache") != CACHE_VERSION:
        return None
    if record.get("output_dir") != str(output_dir.absolute()) or record.get("manifest") != digest(manifest):
        return None
    key = _key(infra, override)
    if key is None or record.get("key") != key:
        return None
    try:
        files = json.loads(manifest)["files"]
        findings = [Finding(**f) for f in record["findings"]]
    except (ValueError, KeyError, TypeError):
        return None
    base = tree_identity(output_dir)
    on_disk = read_tree(output_dir)
    if any(path not in on_disk or digest(on_disk[path]) != sha for path, sha in files.items()):
        return None  # a file edited by hand or gone: compiling reports it
    if any(path not in files and is_generated(content) for path, content in on_disk.items()):
        return None  # an orphan: compiling reports it
    diag = Diagnostics(default_file=loader.display_name(infra))
    diag.extend(findings)
    result = Compilation(infra, output_dir, diag, tree={path: on_disk[path] for path in files})
    return result, Plan((), output_dir, (), base)


def _read_no_follow(path: Path) -> bytes:
    """The record's bytes; a symlink planted in its place is not followed (OSError)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _settled(result: Compilation) -> bool:
    """Would compiling again, from the placement.yml this compilation wrote, place the same?

    "The same" as far as the tree and the findings can tell: SPEC §6's placement document
    (numbers rounded as placement.yml writes them; the renderers read only GPU keys and
    consumer names), findings with their locations. Free VRAM is a float sum whose last
    bits depend on the order consumers were added, which the previous placement changes.
    """
    placement = result.need_placement()
    written = {name: a.gpus for name, a in placement.assignments.items()}
    if written == result.previous:
        return True
    diag = Diagnostics(result.diag.document, result.diag.default_file)
    again = place_and_judge(result.need_infra(), diag, placement.strategy, written)
    return again is not None and again.to_dict() == placement.to_dict()


def record(result: Compilation, override: Path | None) -> None:
    """Leave the record of `result`, whose tree is on disk now; nothing when it cannot vouch for it."""
    if not result.ok or result.tree is None or result.placement is None or result.infra is None:
        return
    try:
        manifest = (result.output_dir / MANIFEST).read_bytes()
    except OSError:
        return
    if manifest != manifest_bytes({path: digest(content) for path, content in result.tree.items()}):
        return  # the tree on disk is not byte for byte this one (a concurrent sync, a reformatted file)
    key = _key(result.source, override)
    if key is None or expected_output_dir(result.source, override) != result.output_dir.absolute():
        return  # global.output_dir elsewhere: lookup would never look there
    if not _settled(result):
        return
    body = {"psot-cache": CACHE_VERSION, "key": key, "output_dir": str(result.output_dir.absolute()),
            "manifest": digest(manifest), "findings": [f.to_dict() for f in result.diag.findings]}
    # Readers see the old record or the new one, never half of one; machine-local, its owner's only.
    # A record that cannot be written is no record: the next sync compiles.
    with contextlib.suppress(OSError):
        replace_file(cache_file(result.output_dir), json.dumps(body).encode(), mode=0o600)
