"""Running the tools this host has, and reading the outputs saved with `--from`.

Each tool runs only when `shutil.which` finds it, as a list of arguments (no
shell), with a timeout, stdin closed and LC_ALL=C. nvidia-smi is asked for
its CSV first and, when that fails (drivers before 510 refuse the
`compute_cap` field), for its XML report. A tool that is missing, fails,
hangs or prints what psot cannot read is a warning (DETECT005): the others
may still give the inventory. Only when none gives anything is it an error
(DETECT004), and the command exits 3: psot could not run its detection.

Once nvidia-smi has worked, the driver it talks to is loaded, and
/proc/driver/nvidia/version says which kernel modules that is (open or
proprietary): it is read with `cat`, as a user saves it, when `cat` is in
PATH. What it tells is optional, so its failure is no finding.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.detect import amd_smi, formats, lspci, nvidia_csv, nvidia_modules, nvidia_xml, rocm_smi
from generator.detect.records import Parsed, finding
from generator.diagnostics.findings import ERROR, WARNING, Finding
from generator.load.loader import InputError, read_input

TIMEOUT_S = 30
MAX_INPUT_BYTES = 16 * 1024 * 1024   # as for infra.yml (loader.py): no tool prints more about its GPUs
NO_FILE = "<detect>"                 # where findings that concern no file or output are located


@dataclass(frozen=True)
class Tool:
    name: str
    attempts: tuple[tuple[str, list[str]], ...]    # (format, command), tried in order until one works
    then: tuple[tuple[str, list[str]], ...] = ()   # (format, command) read once it has worked, if found in PATH


TOOLS = (
    Tool("nvidia-smi", ((nvidia_csv.FORMAT, nvidia_csv.COMMAND), (nvidia_xml.FORMAT, nvidia_xml.COMMAND)),
         then=((nvidia_modules.VERSION_FORMAT, nvidia_modules.VERSION_COMMAND),)),
    Tool("rocm-smi", ((rocm_smi.FORMAT, rocm_smi.COMMAND),)),
    Tool("amd-smi", ((amd_smi.FORMAT, amd_smi.COMMAND),)),
    Tool("lspci", ((lspci.FORMAT, lspci.COMMAND),)),
)
TOOL_NAMES = tuple(t.name for t in TOOLS)


def run_all(which: Callable[[str], str | None] = shutil.which, run: Callable = subprocess.run,
            timeout: float = TIMEOUT_S) -> tuple[list[Parsed], list[Finding]]:
    """Run every tool found in PATH; the outputs read, and findings about the tools that failed."""
    present = [(tool, path) for tool in TOOLS if (path := which(tool.name))]
    if not present:
        return [], [finding("DETECT004", ERROR, f"no GPU tool found on this host: looked for {', '.join(TOOL_NAMES)} "
                            "in PATH. Install pciutils for lspci (it sees every GPU, with or without a driver), or run "
                            "the tools on the GPU host and pass their saved output: psot detect --from FILE...",
                            NO_FILE)]
    outputs, findings = [], []
    for tool, path in present:
        parsed, problems = _run(tool, path, run, timeout)
        findings.extend(problems)
        if parsed is not None:
            outputs.append(parsed)
            outputs.extend(_then(tool, which, run, timeout))
    if not outputs:
        findings.append(finding("DETECT004", ERROR,
                                f"no tool gave a GPU inventory: {', '.join(t.name for t, _ in present)} "
                                "failed (see DETECT005). Fix them, or pass their saved output with --from FILE...",
                                NO_FILE))
    return outputs, findings


def _run(tool: Tool, path: str, run: Callable, timeout: float) -> tuple[Parsed | None, list[Finding]]:
    failures = []
    for format, command in tool.attempts:
        argv = [path, *command[1:]]
        shown = " ".join([tool.name, *command[1:]])
        try:
            done = run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False,
                       env={**os.environ, "LC_ALL": "C"})
        except subprocess.TimeoutExpired:
            failures.append(f"`{shown}` did not answer within {timeout:g} s")
            continue
        except OSError as exc:
            failures.append(f"`{shown}` could not be started: {exc.strerror or exc}")
            continue
        text = _decode(done.stdout)
        if done.returncode != 0:
            said = _first_line(_decode(done.stderr)) or _first_line(text) or "no message"
            failures.append(f"`{shown}` exited with status {done.returncode}: {said}")
            continue
        if formats.recognise(text) != format:
            failures.append(f"`{shown}` printed what psot cannot read: {_first_line(text) or 'nothing'!r}")
            continue
        parsed = formats.parse(text, tool.name, format)
        parsed.findings = [_demoted(tool.name, f) for f in parsed.findings]
        return parsed, []
    return None, [finding("DETECT005", WARNING, f"{tool.name}: {failure}", tool.name) for failure in failures]


def _then(tool: Tool, which: Callable[[str], str | None], run: Callable, timeout: float) -> list[Parsed]:
    """What the outputs a tool that worked is followed by say; nothing for those missing, failing or unreadable."""
    found = []
    for format, command in tool.then:
        program = which(command[0])
        if program is None:
            continue
        try:
            done = run([program, *command[1:]], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL,
                       check=False, env={**os.environ, "LC_ALL": "C"})
        except (subprocess.TimeoutExpired, OSError):
            continue
        text = _decode(done.stdout)
        if done.returncode == 0 and formats.recognise(text) == format:
            parsed = formats.parse(text, command[-1], format)     # the file cat read
            if not parsed.findings:
                found.append(parsed)
    return found


def _demoted(tool: str, f: Finding) -> Finding:
    """A tool's unreadable output is the tool's failure (DETECT005, a warning), not an error in the user's input."""
    if f.severity != ERROR:
        return f
    return finding("DETECT005", WARNING, f"{tool}: {f.message}", f.file, f.line, f.column)


def _decode(raw: bytes | str | None) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw[:MAX_INPUT_BYTES]
    return raw[:MAX_INPUT_BYTES].decode("utf-8", errors="replace")


def _first_line(text: str, limit: int = 160) -> str:
    line = next((each.strip() for each in text.splitlines() if each.strip()), "")
    return line if len(line) <= limit else line[:limit] + "…"


def read_files(paths: list[Path]) -> list[Parsed]:
    """Read saved outputs (`--from`); each file's format is told by its content."""
    return [read_file(path) for path in paths]


def read_file(path: Path) -> Parsed:
    source = str(path)
    problem = None
    try:
        # The loader's bounded read: a FIFO or a device given as a saved output is refused, not waited on.
        raw = read_input(path, MAX_INPUT_BYTES)
    except InputError as exc:
        if exc.code == "LOAD004":
            problem = (f"file is {os.stat(path).st_size} bytes; psot reads at most {MAX_INPUT_BYTES} bytes of a "
                       "tool's output")
        elif exc.code == "LOAD001" and not path.is_dir() and not os.path.islink(path):
            problem = "file not found; pass the path of a saved tool output"
        elif exc.code == "LOAD001" and path.is_dir():
            problem = "is a directory, expected a file with a tool's saved output"
        else:
            problem = exc.message
    if problem is not None:
        parsed = Parsed("unknown", source)
        parsed.error("DETECT002", problem)
        return parsed
    if b"\x00" in raw:
        return formats.parse("\x00", source)
    return formats.parse(raw.decode("utf-8-sig", errors="replace"), source)
