"""psot works when installed from a built wheel: schemas/ and templates/ ship inside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import REPO, SEED_001


def test_wheel_carries_schemas_and_templates_and_runs(tmp_path):
    dist = tmp_path / "dist"
    # With the locked setuptools of this venv (no build isolation: that would fetch the newest one).
    # Built from a clean copy: setuptools reuses a build/ directory, which would hide a package missing from
    # pyproject.toml behind the copy an earlier build left there.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "generated", ".hypothesis", ".pytest_cache", "out",
        "__pycache__", "snapshots", "tests"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                            "--disable-pip-version-check", "-w", str(dist), str(source)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("psot-*.whl"))
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                              "--disable-pip-version-check", "--target", str(target), str(wheel)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    assert (target / "generator" / "schemas" / "infra.schema.json").is_file()
    assert (target / "generator" / "templates" / "header.j2").is_file()
    # Every package of the source tree is in the wheel (pyproject.toml lists them one by one).
    packages = sorted(str(p.parent.relative_to(REPO)) for p in (REPO / "generator").rglob("__init__.py"))
    assert [p for p in packages if not (target / p / "__init__.py").is_file()] == []

    # Run from a directory outside the checkout so only the installed copy can be imported.
    work = tmp_path / "work"
    work.mkdir()
    (work / "infra.yml").write_text(SEED_001.read_text())
    env = dict(os.environ, PYTHONPATH=str(target))
    where = subprocess.run([sys.executable, "-c", "import generator; print(generator.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(target)), where.stdout + where.stderr
    sync = subprocess.run([sys.executable, "-m", "generator", "sync"], cwd=work, env=env,
                          capture_output=True, text=True)
    assert sync.returncode == 0, sync.stderr
    assert (work / "generated" / "compose" / "ws" / "docker-compose.gpu-override.yml").is_file()
