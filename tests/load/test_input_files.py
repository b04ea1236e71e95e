"""Input files are regular files of the project, read with a bound (issue 13, item 5).

A FIFO, a socket, a device, or a symlink to one, at any input's place (infra.yml, base.yml, a
domain file, policies.yml) is LOAD009 at its 1:1, at once: never a hang, never memory exhausted. A
file of an infra/ directory that leads through a symlink out of the project is LOAD010, and is not
read; a symlink to a file inside the project is fine.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli.main import cli
from generator.load import loader
from tests.conftest import REPO

BASE = "project_name: lab\nglobal: {}\ndomains: {}\n"
AI = "ai:\n  machines:\n    gpu-server: {type: lxc, gpu: true}\n"
NOT_REGULAR = ("not a regular file: psot reads only regular files (a device or a pipe may never end, or never "
               "start); write the YAML in a file")


def run(*args: str, cwd: Path) -> tuple[int, str, float]:
    """`psot ARGS` in a subprocess that must end within 20 s: exit code, stdout + stderr, seconds it took."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PSOT_DEBUG", None)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=20)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def in_process(*args: str, cwd: Path) -> tuple[int, float]:
    """The same command in this process (no interpreter start-up in the time): exit code, seconds."""
    cwd_before = os.getcwd()
    os.chdir(cwd)
    try:
        start = time.monotonic()
        result = CliRunner().invoke(cli, list(args), standalone_mode=False)
        return result.return_value, time.monotonic() - start
    finally:
        os.chdir(cwd_before)


def make(kind: str, path: Path) -> str:
    """Put a `kind` at `path`; what LOAD009 says it is."""
    if kind == "fifo":
        os.mkfifo(path)
        return "is a named pipe (FIFO)"
    if kind == "socket":
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(path))
        return "is a socket"
    if kind == "device":
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))   # a /dev/zero of the project's own
        return "is a character device"
    if kind in ("dev-zero", "dev-urandom"):
        target = f"/dev/{kind[4:]}"
        path.symlink_to(target)
        return f"is a symlink to {target}, a character device"
    raise AssertionError(kind)


KINDS = ["fifo", "socket", "device", "dev-zero", "dev-urandom"]


@pytest.mark.parametrize("kind", KINDS)
def test_infra_yml_that_is_not_a_regular_file_is_load009_at_once(tmp_path, kind):
    what = make(kind, tmp_path / "infra.yml")
    for command in ("validate", "sync", "plan"):
        code, output, _ = run(command, cwd=tmp_path)
        assert code == 1, output
        assert f"infra.yml:1:1: error[LOAD009] {what}, {NOT_REGULAR}" in output.splitlines()
    code, output, _ = run("sync", "--format", "json", cwd=tmp_path)
    assert code == 1 and json.loads(output)["findings"] == [
        {"code": "LOAD009", "severity": "error", "message": f"{what}, {NOT_REGULAR}", "file": "infra.yml",
         "line": 1, "column": 1, "path": ""}]
    code, seconds = in_process("validate", cwd=tmp_path)
    assert code == 1 and seconds < 1


@pytest.mark.parametrize("place", ["infra/base.yml", "infra/domains/ai.yml", "infra/policies.yml"])
@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_a_file_of_an_infra_directory_that_is_not_regular_is_load009_at_once(tmp_path, kind, place):
    (tmp_path / "infra" / "domains").mkdir(parents=True)
    if place != "infra/base.yml":
        (tmp_path / "infra" / "base.yml").write_text(BASE)
    what = make(kind, tmp_path / place)
    code, output, _ = run("validate", cwd=tmp_path)
    assert (code, output) == (1, f"{place}:1:1: error[LOAD009] {what}, {NOT_REGULAR}\n1 error, 0 warnings.\n")
    code, seconds = in_process("sync", cwd=tmp_path)
    assert code == 1 and seconds < 1
    assert sorted(os.listdir(tmp_path)) == ["infra"], "nothing was written"


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "/etc/hostname"])
def test_a_domain_file_leading_out_of_the_project_is_load010_and_not_read(tmp_path, target):
    (tmp_path / "infra" / "domains").mkdir(parents=True)
    (tmp_path / "infra" / "base.yml").write_text(BASE)
    (tmp_path / "infra" / "domains" / "ai.yml").symlink_to(target)
    code, output, _ = run("validate", cwd=tmp_path)
    assert (code, output) == (1, f"infra/domains/ai.yml:1:1: error[LOAD010] leads through a symlink to {target}, "
                                 "outside the project (the working directory): psot reads only files inside the "
                                 "project, which a review sees; copy the file into the project\n1 error, 0 warnings.\n")
    code, seconds = in_process("sync", cwd=tmp_path)
    assert code == 1 and seconds < 1


def test_every_bad_file_of_a_directory_is_reported_at_once(tmp_path):
    domains = tmp_path / "lab" / "infra" / "domains"
    domains.mkdir(parents=True)
    (tmp_path / "lab" / "infra" / "base.yml").write_text(BASE)
    (tmp_path / "shared.yml").write_text(AI)
    (domains / "a.yml").symlink_to(tmp_path / "shared.yml")
    os.mkfifo(domains / "b.yml")
    (domains / "c.yml").symlink_to("gone.yml")
    (domains / "d.yml").mkdir()
    (domains / "e.yml").write_text("web: {}\n")
    code, output, _ = run("validate", "lab/infra", cwd=tmp_path)
    assert code == 1
    assert output.splitlines() == [
        "lab/infra/domains/a.yml:1:1: error[LOAD010] leads through a symlink to shared.yml, outside the project "
        "(lab/): psot reads only files inside the project, which a review sees; copy the file into the project",
        f"lab/infra/domains/b.yml:1:1: error[LOAD009] is a named pipe (FIFO), {NOT_REGULAR}",
        "lab/infra/domains/c.yml:1:1: error[LOAD001] is a symlink to gone.yml, which does not exist; point it at "
        "a file, or remove it",
        "lab/infra/domains/d.yml:1:1: error[LOAD001] is a directory, expected a YAML file",
        "4 errors, 0 warnings."]


def test_symlinks_inside_the_project_are_followed(tmp_path):
    project = tmp_path / "lab"
    (project / "common" / "domains").mkdir(parents=True)
    (project / "infra").mkdir()
    (project / "common" / "base.yml").write_text(BASE)
    (project / "common" / "domains" / "ai.yml").write_text(AI)
    (project / "infra" / "base.yml").symlink_to("../common/base.yml")
    (project / "infra" / "domains").symlink_to("../common/domains")   # the whole directory
    code, output, _ = run("validate", cwd=project)
    assert (code, output) == (0, "0 errors, 0 warnings.\n")


def test_reads_are_bounded_whatever_the_size_says(tmp_path):
    big = tmp_path / "big.yml"
    big.write_bytes(b"#" * 101)
    with pytest.raises(loader.InputError) as caught:
        loader.read_input(big, limit=100)
    assert (caught.value.code, caught.value.message) == (
        "LOAD004", "file is 101 bytes; psot reads at most 100 bytes (split it into infra/base.yml and "
                   "infra/domains/*.yml)")
    # A /proc file is regular and says it has 0 bytes: the read stops at the limit all the same.
    assert os.stat("/proc/self/status").st_size == 0
    with pytest.raises(loader.InputError) as caught:
        loader.read_input(Path("/proc/self/status"), limit=10)
    assert (caught.value.code, caught.value.message) == (
        "LOAD004", "file is more than 10 bytes; psot reads at most 10 bytes (split it into infra/base.yml and "
                   "infra/domains/*.yml)")
    assert loader.read_input(big, limit=101) == b"#" * 101


def test_the_no_op_record_never_reads_a_fifo(tmp_path):
    """`sync` digests the inputs before compiling (sync_cache.py): a FIFO there is not opened for reading."""
    (tmp_path / "infra" / "domains").mkdir(parents=True)
    (tmp_path / "infra" / "base.yml").write_text(BASE)
    (tmp_path / "infra" / "domains" / "ai.yml").write_text(AI)
    assert run("sync", cwd=tmp_path)[0] == 0
    assert (tmp_path / ".generated.psot-cache").is_file()
    (tmp_path / "infra" / "domains" / "ai.yml").unlink()
    os.mkfifo(tmp_path / "infra" / "domains" / "ai.yml")
    code, output, _ = run("sync", cwd=tmp_path)
    assert code == 1 and f"infra/domains/ai.yml:1:1: error[LOAD009] is a named pipe (FIFO), {NOT_REGULAR}" in output
