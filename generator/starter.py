"""What `psot init [DIR]` does: write a starter infra.yml (the command, generator/cli/init.py, prints it).

It writes DIR/infra.yml, a file that compiles as it is and whose comments
teach the format: project_name, global, domains, one host with its GPUs and
a compose service that uses one. The host's block is the one `psot detect`
builds (`render.hosts_text`, from the same detection): from the saved tool
outputs given with --from, else from the tools this machine has. When there
is nothing to detect from, the host is an example, said to be one, to edit.

It never replaces a file: an existing DIR/infra.yml is a refusal (exit 1),
and the file is created by linking a complete temporary file to its name,
which fails if anything took that name meanwhile (`create_file` of
workspace/atomic.py). Before that, the text is compiled: a starter psot
itself cannot validate is a bug in psot, reported as one (exit 3), and not
written.

Exit codes: 0 written; 1 refused (the file exists, DIR is not a directory,
a bad --host, a --from file with errors); 3 the file could not be written,
or the starter did not compile.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.detect import normalise, render
from generator.detect.merge import (
    Detection,
    bad_host_name,
    could_not_run,
    gather,
    has_errors,
    host_or_this,
    incomplete,
    sorted_findings,
)
from generator.diagnostics.findings import Finding, one_line, summary_line
from generator.load import loader
from generator.resources import data_dir
from generator.serialize import dump_yaml, load_yaml
from generator.validate.schema import SCHEMA_FILE, infra_schema
from generator.workspace.atomic import create_file

EXIT_OK, EXIT_ERRORS, EXIT_TOOL = 0, 1, 3
INFRA_FILE = "infra.yml"
PLATFORM = "docker"            # the one platform whose example (a compose service) needs nothing else
EXAMPLE_GPU: dict[str, Any] = {"vendor": "nvidia", "model": "GeForce RTX 4090", "vram_gb": 24, "index": 0}
SERVICE = "ollama"


@dataclass
class Outcome:
    """What init did, for both outputs: the text report and the JSON document."""
    path: Path
    written: bool = False
    message: str = ""
    host: str | None = None
    hosts: dict | None = None
    example: bool = False
    tools: list[str] = field(default_factory=list)
    to_complete: list[str] = field(default_factory=list)   # GPUs commented out, their VRAM unknown
    schema: str | None = None
    findings: list[Finding] = field(default_factory=list)
    code: int = EXIT_ERRORS

    def refused(self, message: str, code: int = EXIT_ERRORS) -> Outcome:
        self.message, self.code = message, code
        return self

    def summary(self, directory: Path) -> str:
        """The text report of a written file: what is in it, what comes next."""
        if self.example:
            what = f"an example host, {self.host}, to edit"
        else:
            assert self.hosts is not None, "init wrote hosts when it wrote no example"
            count, pending = len(self.hosts[self.host]["gpus"]), len(self.to_complete)
            what = f"host {self.host} with {_gpus(count)}" if count else f"host {self.host}"
            if pending:
                what += (f"{' and' if count else ' with'} {_gpus(pending)} commented out to complete "
                         f"(no tool reported {'its' if pending == 1 else 'their'} VRAM)")
            what += f", from {', '.join(self.tools)}"
        where = "" if directory == Path(".") else f" {shlex.quote(str(self.path))}"
        return f"Wrote {self.path}: {what}. Edit it, then run `psot validate{where}` and `psot sync{where}`."

    def to_json(self) -> str:
        body = {"ok": self.written, "written": str(self.path) if self.written else None, "path": str(self.path),
                "host": self.host, "hosts": self.hosts, "example": self.example, "tools": self.tools,
                "to_complete": self.to_complete,
                "schema": self.schema,
                "message": self.message, "findings": [f.to_dict() for f in self.findings]}
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _gpus(count: int) -> str:
    return f"{count} GPU{'s' if count != 1 else ''}"


def schema_reference(directory: Path) -> str:
    """What the modeline gives the YAML language server as the schema of DIR/infra.yml.

    Inside a psot checkout (DIR or a directory above it has schemas/infra.schema.json
    with psot's `$id`): the path relative to DIR, like the examples' modelines, so it
    still holds when the checkout is moved or cloned, and it is that checkout's schema.
    Anywhere else: the absolute path of the schema this psot ships (inside the installed
    package; beside it in an editable install), which the language server reads as it
    is; a user's project has no schemas/ of its own to point to. A path that a space or
    a control character would cut short (the modeline ends at the first blank) is
    written as its file:// URI instead.
    """
    own_id = infra_schema().get("$id")
    for parent in (directory, *directory.parents):
        candidate = parent / "schemas" / SCHEMA_FILE
        if candidate.is_file() and _schema_id(candidate) == own_id:
            relative = os.path.relpath(candidate, directory)
            return relative if relative.startswith("..") else f"./{relative}"
    shipped = (data_dir("schemas") / SCHEMA_FILE).resolve()
    text = str(shipped)
    return text if text.isprintable() and not any(c.isspace() for c in text) else shipped.as_uri()


def _schema_id(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("$id") if isinstance(data, dict) else None


def _scalar(name: str) -> str:
    """A name as a YAML value: plain, unless YAML 1.1 would read it as something else (`yes`, `1e3`)."""
    return name if load_yaml(name) == name else json.dumps(name)


def project_name(directory: Path) -> str:
    """DIR's own name as a psot name (`~/My Homelab` -> `my-homelab`), else `my-infra`."""
    return normalise.host_name(directory.name) or "my-infra"


def request_gb(sizes: list[float]) -> float:
    """The example service's VRAM: 4 GB, or half of the largest GPU when that is smaller (0.5 GB steps),
    so that it fits whatever the host has; 4 GB when no GPU has a size yet."""
    if not sizes:
        return 4.0
    return max(0.5, math.floor(min(4.0, max(sizes) / 2) * 2) / 2)


HEADROOM_GB = 0.5


def headroom_gb(sizes: list[float]) -> float:
    """The headroom the starter keeps free on every GPU: 0.5 GB, less when the largest GPU is too small to hold
    the example service and that much (a 0.5 GB APU carve-out keeps none), so the starter compiles quietly."""
    if not sizes:
        return HEADROOM_GB
    return max(0.0, min(HEADROOM_GB, max(sizes) - request_gb(sizes)))


def starter_text(directory: Path, host: str, detection: Detection | None, why_example: str = "") -> str:
    """The whole of DIR/infra.yml. `detection` None: the host is an example (`why_example` says why)."""
    sizes = [EXAMPLE_GPU["vram_gb"]] if detection is None else \
        [g.vram_gb for g in detection.gpus if g.complete and g.vram_gb is not None]
    lines = [f"# yaml-language-server: $schema={schema_reference(directory)}",
             "#",
             "# infra.yml describes your machines, their GPUs and the services that use them.",
             "# `psot validate` checks it, `psot place` shows which GPU each service gets,",
             "# `psot plan` shows what would change in generated/ and `psot sync` writes it.",
             "# The first line lets editors with the YAML language server complete and check",
             "# this file as you type.",
             "",
             "# A name for this infrastructure.",
             f"project_name: {_scalar(project_name(directory))}",
             "",
             "global:",
             "  # exclusive: each GPU serves one consumer (a service, a VM, an Incus machine);",
             "  # shared: several may share a GPU, as long as their VRAM fits in it.",
             "  gpu_policy: exclusive",
             "  placement:",
             "    # How psot picks each consumer's GPU. vram_based: the largest request first,",
             "    # each on the GPU with the most free VRAM. The others: manual (you pin each",
             "    # one with gpu.pin), latency_optimized, isolation_first, balanced.",
             "    strategy: vram_based",
             "    # VRAM (GB) kept free on every GPU.",
             f"    headroom_gb: {headroom_gb(sizes):g}",
             "  # The platforms to write configuration for, any of incus, proxmox, compose and",
             "  # kubernetes. Without it, psot writes for every platform this file uses.",
             "  # targets: [compose]",
             "",
             "# Incus projects in the AnKLuMe format: each domain has profiles and machines",
             "# (containers or VMs); a machine with `gpu: true` gets a GPU. None yet.",
             "domains: {}",
             "",
             "# The physical machines and their GPUs: what psot places the consumers on.",
             "# platform: docker or podman (Compose), incus, proxmox, or kubernetes (a node).",
             "# Each GPU needs its vendor (nvidia, amd, intel) and vram_gb; index is the number",
             "# its driver gives it (CUDA, ROCm), pci its address (to pass it through to a VM).",
             ]
    if detection is None:
        lines += ["# AN EXAMPLE TO EDIT: this host and its GPU are made up, because",
                  f"# {why_example}.",
                  "# Replace them with yours: `psot detect` on the GPU machine prints its block,",
                  "# or run `psot init --from FILE...` with its tools' saved output.",
                  dump_yaml({"hosts": {host: {"platform": PLATFORM, "gpus": {"example-gpu": EXAMPLE_GPU}}}})
                  .rstrip("\n")]
    else:
        lines += [f"# Detected by psot from {', '.join(detection.tools)}; set platform to what the host runs.",
                  "# `psot detect --check infra.yml` tells when the machine no longer matches it.",
                  render.hosts_text(host, detection.gpus,
                                    {"platform": PLATFORM, **detection.host_fields()}).rstrip("\n")]
    return "\n".join(lines + [""] + _workloads(host, sizes)) + "\n"


def _workloads(host: str, sizes: list[float]) -> list[str]:
    """The example compose service (commented out when no GPU has a size), and a second one commented out."""
    intro = ["# GPU consumers that are not Incus machines: Compose services, Kubernetes",
             "# workloads, Proxmox VMs. Each names its target, the host it runs on and what",
             "# it needs of a GPU."]
    service = [f"# The service `{SERVICE}` of your compose file. `psot sync` writes",
               f"# generated/compose/{host}/docker-compose.gpu-override.yml, which gives it its GPU:",
               "# docker compose -f compose.yml -f <that file> up -d",
               f"{SERVICE}:",
               "  target: compose",
               f"  host: {_scalar(host)}",
               "  # What it loads; its vram_gb is what placement reserves on the GPU.",
               "  model:",
               "    name: llama3.2:3b",
               f"    vram_gb: {request_gb(sizes):g}",
               "  # count: how many GPUs (default 1). Also: vendor (nvidia, amd, intel, any),",
               "  # pin (the name of a GPU, to choose it yourself), min_compute_capability.",
               "  gpu:",
               "    count: 1"]
    second = ["# A second service: under gpu_policy exclusive it needs a GPU of its own, so",
              "# uncomment it on a host with two GPUs, or set gpu_policy: shared. Its VRAM",
              "# budget is passed in VRAM_BUDGET_GB, lowered to what the GPU has room for.",
              "# whisper:",
              "#   target: compose",
              f"#   host: {_scalar(host)}",
              "#   gpu:",
              "#     vram_gb: 2",
              "#     budget: {env: VRAM_BUDGET_GB, gb: 2}"]
    body = ["workloads:"] + [f"  {line}" for line in service] + [""] + [f"  {line}" for line in second]
    if sizes:
        return intro + body
    # `workloads` may be left out: commented out whole, the example uncomments into valid YAML.
    return intro + ["# No GPU above has its vram_gb yet, so the example is commented out: uncomment it",
                    "# once one has."] + [f"# {line}" if line else "#" for line in body]


def _self_check(text: str) -> list[Finding]:
    """The starter's findings when compiled as `psot validate` would (in a scratch directory)."""
    from generator.pipeline import compile_infra
    with tempfile.TemporaryDirectory(prefix="psot-init-") as scratch:
        path = Path(scratch) / INFRA_FILE
        path.write_text(text, encoding="utf-8")
        return compile_infra(path, until="validate").diag.findings


def run(directory: Path, sources: list[Path], host: str | None) -> Outcome:
    """Everything `psot init` does: refuse early, detect, make the text, check it, write it."""
    outcome = Outcome(path=directory / INFRA_FILE)
    if host is not None and (problem := bad_host_name(host)) is not None:
        return outcome.refused(f"--host: {problem}; nothing was written")
    if os.path.lexists(directory) and not directory.is_dir():
        return outcome.refused(f"{directory} is not a directory; nothing was written")
    if os.path.lexists(outcome.path):
        return outcome.refused(f"{outcome.path} already exists; nothing was written")
    if (directory / "infra").is_dir():
        return outcome.refused(f"{directory / 'infra'}/ exists, and psot reads it instead of {outcome.path}; "
                               "nothing was written")
    detection, findings = gather(sources)
    outcome.host = host_or_this(host)
    # Without --from, finding no tool that works (DETECT004, an error to detect) is what the example host is for.
    no_tool = not sources and could_not_run(findings)
    if no_tool:
        findings = [f for f in findings if f.code != "DETECT004"]
    if has_errors(findings):
        outcome.findings = sorted_findings(findings)
        return outcome.refused(f"{summary_line(findings)}; nothing was written")
    if detection.gpus:
        findings += incomplete(detection.gpus)
        why = ""
    elif no_tool:
        why = "psot found no GPU tool here that worked (nvidia-smi, rocm-smi, amd-smi, lspci)"
    else:
        read = [_shown(s["source"]) for s in detection.sources]
        why = f"{', '.join(read)} show{'s' if len(read) == 1 else ''} no GPU"
    outcome.findings = sorted_findings(findings)
    outcome.example, outcome.tools = not detection.gpus, detection.tools
    outcome.to_complete = [g.name for g in detection.gpus if not g.complete]
    resolved = directory.resolve()
    outcome.schema = schema_reference(resolved)
    text = starter_text(resolved, outcome.host, None if outcome.example else detection, why)
    outcome.hosts = load_yaml(text)["hosts"]
    # Compiled in a scratch directory, the text is located in the file it becomes: the same lines.
    checked = [replace(f, file=loader.display_name(outcome.path)) for f in _self_check(text)]
    if has_errors(checked):
        outcome.findings += checked
        return outcome.refused("the starter psot made does not compile, which is a bug in psot: please report it "
                               "with the findings above; nothing was written", EXIT_TOOL)
    outcome.findings += checked   # warnings the machine's state gives (an old driver, say): worth seeing now
    try:
        directory.mkdir(parents=True, exist_ok=True)
        create_file(outcome.path, text.encode("utf-8"))
    except FileExistsError:    # made meanwhile: DIR as a file, or infra.yml by someone else
        taken = directory if not directory.is_dir() else outcome.path
        return outcome.refused(f"{taken} {'already exists' if taken == outcome.path else 'is not a directory'}; "
                               "nothing was written")
    except NotADirectoryError:  # a part of DIR's path is a file
        return outcome.refused(f"{directory} is not a directory; nothing was written")
    except OSError as exc:
        return outcome.refused(f"cannot write {outcome.path}: {exc.strerror or exc}; nothing was written", EXIT_TOOL)
    outcome.written, outcome.code = True, EXIT_OK
    return outcome


def _shown(text: str) -> str:
    """A file name as it may go into a comment line: a line break in it would end the comment."""
    return one_line(text)
