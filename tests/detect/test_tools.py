"""Running the tools this host has: fakes on PATH, failures, timeouts, none at all."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from generator.detect import tools
from tests.conftest import run_psot
from tests.detect.helpers import FIXTURES, SEED_000


def fake_tool(bin_dir: Path, name: str, script: str) -> None:
    """An executable `name` in bin_dir: a POSIX shell script (absolute paths: PATH holds only bin_dir)."""
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


def cat(fixture: str) -> str:
    return f"exec /bin/cat '{FIXTURES / fixture}'\n"


def detect_with(bin_dir: Path, *args: str):
    return run_psot("detect", "--host", "homelab", *args, env={"PATH": str(bin_dir)})


def test_no_tool_on_this_host_exits_3_and_suggests_from(tmp_path):
    run = detect_with(tmp_path)
    assert run.returncode == 3
    assert run.stdout == ""
    assert ("error[DETECT004] no GPU tool found on this host: looked for nvidia-smi, rocm-smi, amd-smi, lspci"
            in run.stderr)
    assert "psot detect --from FILE" in run.stderr and "Traceback" not in run.stderr


def test_tools_found_are_run_and_merged(tmp_path):
    fake_tool(tmp_path, "nvidia-smi", cat("seed000-nvidia-smi.csv"))
    fake_tool(tmp_path, "lspci", cat("seed000-lspci.txt"))
    run = detect_with(tmp_path)
    assert run.returncode == 0, run.stderr
    saved = run_psot("detect", "--host", "homelab", "--from", *map(str, SEED_000))
    assert yaml.safe_load(run.stdout) == yaml.safe_load(saved.stdout)
    assert "from nvidia-smi, lspci" in run.stdout


def test_old_driver_falls_back_to_the_xml_report(tmp_path):
    fake_tool(tmp_path, "nvidia-smi", 'case "$1" in\n'
              '  --query-gpu=*) echo \'Field "compute_cap" is not a valid field to query.\' >&2; exit 2 ;;\n'
              f'  -q) {cat("old-driver-nvidia-smi-q.xml")} ;;\n'
              'esac\nexit 9\n')
    run = detect_with(tmp_path)
    assert run.returncode == 0, run.stderr
    gpu = yaml.safe_load(run.stdout)["hosts"]["homelab"]["gpus"]["gtx-970"]
    assert (gpu["architecture"], gpu["driver"], gpu["vram_gb"]) == ("maxwell", "470.182.03", 4)
    assert "DETECT005" not in run.stderr      # the fallback is the design, not a failure


def test_a_failing_tool_is_a_warning_when_another_gives_the_inventory(tmp_path):
    fake_tool(tmp_path, "rocm-smi", "echo 'ERROR:root:Driver not initialized (amdgpu not found in modules)' >&2\n"
                                    "exit 1\n")
    fake_tool(tmp_path, "amd-smi", "echo 'this is not JSON'\n")
    fake_tool(tmp_path, "lspci", cat("mixed-lspci.txt"))
    run = detect_with(tmp_path)
    assert run.returncode == 0, run.stderr
    assert ("rocm-smi:1:1: warning[DETECT005] rocm-smi: `rocm-smi --showproductname --showmeminfo vram gtt "
            "--showbus --showdriverversion --json` exited with status 1: ERROR:root:Driver not initialized") \
        in run.stderr
    assert "warning[DETECT005] amd-smi: `amd-smi static --json` printed what psot cannot read: 'this is not JSON'" \
        in run.stderr
    assert "from lspci" in run.stdout


def test_every_tool_failing_exits_3(tmp_path):
    fake_tool(tmp_path, "nvidia-smi", "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
                                      "driver.\"\nexit 9\n")
    run = detect_with(tmp_path)
    assert run.returncode == 3
    assert "warning[DETECT005] nvidia-smi: `nvidia-smi --query-gpu=" in run.stderr
    assert "exited with status 9: NVIDIA-SMI has failed" in run.stderr
    assert "error[DETECT004] no tool gave a GPU inventory: nvidia-smi failed" in run.stderr


def test_truncated_live_output_is_the_tools_warning_not_an_input_error(tmp_path):
    text = (FIXTURES / "mixed-rocm-smi.json").read_text()
    (tmp_path / "cut.json").write_text(text[:len(text) // 2])
    fake_tool(tmp_path, "rocm-smi", f"exec /bin/cat '{tmp_path / 'cut.json'}'\n")
    fake_tool(tmp_path, "lspci", cat("mixed-lspci.txt"))
    run = detect_with(tmp_path)
    assert run.returncode == 0
    assert "warning[DETECT005] rocm-smi: rocm-smi JSON does not parse" in run.stderr


class Recorder:
    def __init__(self, outcome):
        self.calls, self.outcome = [], outcome

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def test_commands_are_argument_lists_with_a_timeout_and_no_shell():
    lspci = (FIXTURES / "seed000-lspci.txt").read_bytes()
    run = Recorder(subprocess.CompletedProcess([], 0, lspci, b""))
    outputs, findings = tools.run_all(which=lambda name: f"/usr/bin/{name}", run=run)
    argvs = [argv for argv, _ in run.calls]
    assert argvs == [
        ["/usr/bin/nvidia-smi", "--query-gpu=index,name,memory.total,pci.bus_id,compute_cap,uuid,driver_version,"
                                "power.limit", "--format=csv,noheader,nounits"],
        ["/usr/bin/nvidia-smi", "-q", "-x"],
        ["/usr/bin/rocm-smi", "--showproductname", "--showmeminfo", "vram", "gtt", "--showbus",
         "--showdriverversion", "--json"],
        ["/usr/bin/amd-smi", "static", "--json"],
        ["/usr/bin/lspci", "-nn", "-D", "-k", "-v"],
    ]
    for _, kwargs in run.calls:
        assert kwargs["timeout"] == tools.TIMEOUT_S and "shell" not in kwargs
        assert kwargs["stdin"] == subprocess.DEVNULL and kwargs["env"]["LC_ALL"] == "C"
    assert [p.format for p in outputs] == ["lspci"]       # the others got lspci's text: not theirs
    assert {f.code for f in findings} == {"DETECT005"}


def test_timeout_and_unstartable_tools_are_findings():
    outputs, findings = tools.run_all(which=lambda name: "/x/lspci" if name == "lspci" else None,
                                      run=Recorder(subprocess.TimeoutExpired(["lspci"], 30)))
    assert outputs == []
    assert [f.code for f in findings] == ["DETECT005", "DETECT004"]
    assert "did not answer within 30 s" in findings[0].message
    outputs, findings = tools.run_all(which=lambda name: "/x/lspci" if name == "lspci" else None,
                                      run=Recorder(PermissionError(13, "Permission denied")))
    assert "could not be started: Permission denied" in findings[0].message


def test_only_tools_found_in_path_are_run():
    run = Recorder(subprocess.CompletedProcess([], 0, b"", b""))
    tools.run_all(which=lambda name: None, run=run)
    assert run.calls == []


def test_once_nvidia_smi_worked_the_loaded_kernel_modules_are_read_with_cat(tmp_path):
    fake_tool(tmp_path, "nvidia-smi", cat("pve-nvidia-smi.csv"))
    fake_tool(tmp_path, "cat", f'[ "$1" = /proc/driver/nvidia/version ] && exec /bin/cat '
                               f'\'{FIXTURES / "pve-nvidia-version.txt"}\'\nexit 1\n')
    run = detect_with(tmp_path)
    assert run.returncode == 0, run.stderr
    assert yaml.safe_load(run.stdout)["hosts"]["homelab"]["nvidia"] == {"kernel_modules": "open"}
    body = json.loads(detect_with(tmp_path, "--format", "json").stdout)
    assert body["sources"][1] == {"source": "/proc/driver/nvidia/version", "format": "nvidia-proc-version",
                                  "tool": None, "gpus": 0}
    assert body["tools"] == ["nvidia-smi"] and body["findings"] == []


def test_the_kernel_modules_left_unread_say_nothing(tmp_path):
    """No cat in PATH, a cat that fails, or one that prints something else: no field, and no finding."""
    fake_tool(tmp_path, "nvidia-smi", cat("pve-nvidia-smi.csv"))
    alone = detect_with(tmp_path)
    for script in ("exit 1\n", "echo 'cat: /proc/driver/nvidia/version: No such file or directory'\n"):
        fake_tool(tmp_path, "cat", script)
        run = detect_with(tmp_path)
        assert run.returncode == 0 and run.stdout == alone.stdout and run.stderr == alone.stderr
    assert "nvidia:" not in alone.stdout


def test_cat_is_not_run_when_nvidia_smi_did_not_work():
    run = Recorder(subprocess.CompletedProcess([], 1, b"", b"NVIDIA-SMI has failed"))
    tools.run_all(which=lambda name: f"/usr/bin/{name}" if name in ("nvidia-smi", "cat") else None, run=run)
    assert [argv[0] for argv, _ in run.calls] == ["/usr/bin/nvidia-smi", "/usr/bin/nvidia-smi"]
    version = (FIXTURES / "pve-nvidia-version.txt").read_bytes()
    csv = (FIXTURES / "pve-nvidia-smi.csv").read_bytes()
    answers = iter([subprocess.CompletedProcess([], 0, csv, b""), subprocess.CompletedProcess([], 0, version, b"")])
    calls = []

    def answering(argv, **kwargs):
        calls.append(argv)
        return next(answers)
    outputs, findings = tools.run_all(which=lambda name: f"/usr/bin/{name}" if name in ("nvidia-smi", "cat") else None,
                                      run=answering)
    assert calls[1] == ["/usr/bin/cat", "/proc/driver/nvidia/version"]
    assert [p.format for p in outputs] == ["nvidia-smi-csv", "nvidia-proc-version"] and findings == []
