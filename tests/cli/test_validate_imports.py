"""`psot validate` imports what validating needs and nothing more (issue 21: validate's time is mostly imports).

Validate loads, checks the schema, builds the model, places (the placement rules report too) and runs
every rule; it renders, plans, writes and applies nothing, so none of that is imported: the other commands
live in modules generator/cli/main.py loads only when they run. A module that starts importing one of
these at load time again shows here, in a subprocess that runs the command as a user does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

# Runs `psot validate INFRA` and, at exit, writes the names of every module it imported into OUT.
RUNNER = """
import atexit, json, sys
out, infra = sys.argv[1], sys.argv[2]
atexit.register(lambda: open(out, "w", encoding="utf-8").write(json.dumps(sorted(sys.modules))))
sys.argv = ["psot", "validate", infra]
from generator.cli.main import main
main()
"""

# Modules (and packages, with everything under them) `psot validate` must not import.
NOT_IMPORTED = (
    "generator.cli.apply", "generator.cli.apply_views", "generator.cli.detect", "generator.cli.explain",
    "generator.cli.init", "generator.cli.place", "generator.cli.switch", "generator.cli.tree",
    "generator.cli.views",
    "generator.placement.failover", "generator.placement.preview", "generator.placement.report",
    "generator.render", "generator.sync", "generator.plan.service", "generator.plan.markdown",
    "generator.platforms.incus.render", "generator.platforms.proxmox.render", "generator.modes.compare",
    "generator.apply", "generator.detect", "generator.switch", "generator.workspace",
    "jinja2", "jsonschema", "deepdiff",
)


def imported_by_validate(infra: Path, tmp_path: Path) -> set[str]:
    out = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", RUNNER, str(out), str(infra)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "0 errors, 0 warnings.\n", "")
    return set(json.loads(out.read_text(encoding="utf-8")))


def test_validate_imports_no_command_renderer_writer_or_reference_engine(tmp_path: Path):
    modules = imported_by_validate(REPO / "infra.yml", tmp_path)
    assert sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_IMPORTED)) == []
    # What it does need: the schema engine that answers for a valid file, the placement, every rule.
    assert {"jsonschema_rs", "generator.placement.core", "generator.rules.vram_budget",
            "generator.rules.incus_gputype"} <= modules
