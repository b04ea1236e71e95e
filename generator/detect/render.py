"""What `psot detect` prints: the `hosts.<host>.gpus` block to paste, and the `--check` report.

The block is YAML written by the project's one writer (serialize.dump_yaml),
valid for the schema as it stands, so it pastes into infra.yml and compiles
as printed. A GPU whose VRAM no tool reported (only lspci saw it) cannot be
in it as a GPU, since `vram_gb` is required and a made-up size would be
placed on: it follows commented out, with `vram_gb: <GB>` to fill in
(DETECT006 says so). The commented lines are written so that removing one
`# ` from each gives valid YAML in place: under the other GPUs when there
are some, else as a `gpus:` mapping of their own that replaces `gpus: {}`
(the real, empty mapping the host has until then). Uncommented but not
filled in, `<GB>` is a located schema error at that very line. A GPU
bound to vfio-pci is said to be so in a comment under the host: reserved
for a VM, the host's driver does not serve it (which is why no tool of the
host reports its VRAM).
"""

from __future__ import annotations

import json

from generator.detect.check import CheckReport
from generator.detect.merge import PRECEDENCE, Detection, Gpu
from generator.diagnostics.findings import one_line
from generator.placement import report
from generator.placement.core import fmt_gb
from generator.serialize import dump_yaml

_HOST_INDENT = " " * 4  # hosts: / <host>: / <field>
_GPU_INDENT = " " * 6   # hosts: / <host>: / gpus: / <gpu>:
VRAM_PLACEHOLDER = "<GB>"


def block(host: str, gpus: list[Gpu], fields: dict | None = None) -> dict:
    """`{"hosts": {host: {**fields, "gpus": {name: fields}}}}` for the GPUs that are complete."""
    return {"hosts": {host: {**(fields or {}), "gpus": {g.name: g.fields() for g in gpus if g.complete}}}}


def block_text(host: str, gpus: list[Gpu], tools: list[str], fields: dict | None = None) -> str:
    """The block to paste: `fields` are the host's own (Detection.host_fields), before its GPUs."""
    count = f"{len(gpus)} GPU{'s' if len(gpus) != 1 else ''}"
    return (f"# {count} of {host}, detected by `psot detect` from {', '.join(tools) or 'no tool'}.\n"
            f"# Paste into infra.yml (merging with its `hosts:`) and set hosts.{host}.platform.\n"
            + hosts_text(host, gpus, fields))


def hosts_text(host: str, gpus: list[Gpu], fields: dict | None = None) -> str:
    """The `hosts:` block of one host as YAML text: its `fields` (e.g. platform), then its GPUs.

    The GPUs without a VRAM size follow commented out, in a form that is valid
    YAML once each line loses one `# ` (see the module docstring).
    """
    complete = {**(fields or {}), "gpus": {g.name: g.fields() for g in gpus if g.complete}}
    out = dump_yaml({"hosts": {host: complete}}).rstrip("\n").splitlines()
    out[2:2] = [f"{_HOST_INDENT}# {g.name} ({g.pci}) is bound to vfio-pci: reserved for a VM, the host's own "
                "driver does not serve it." for g in gpus if g.bound_to_vfio]
    pending = [g for g in gpus if not g.complete]
    if not pending:
        return "\n".join(out) + "\n"
    entries = {g.name: _with_placeholder(g) for g in pending}
    seen = sorted({t for g in pending for t in g.tools}, key=lambda t: PRECEDENCE.get(t, 9))
    note = [f"Only {' and '.join(seen)} saw the GPU{'s' if len(pending) != 1 else ''} below, and infra.yml "
            "requires a vram_gb no tool reported:"]
    if len(entries) < len(gpus):
        indent, commented = _GPU_INDENT, entries
        them = "it" if len(pending) == 1 else "them"
        note.append(f"fill in vram_gb (and index, for compose), then uncomment {them}.")
    else:
        indent, commented = _HOST_INDENT, {"gpus": entries}
        note.append("fill in vram_gb (and index, for compose), uncomment the `gpus:` lines and delete `gpus: {}`.")
    out += [f"{indent}# {line}" for line in note]
    for line in dump_yaml(commented).splitlines():
        if line.strip() == f"vram_gb: {VRAM_PLACEHOLDER}":
            line += "  # its memory in GB"
        out.append(f"{indent}# {line}")
    return "\n".join(out) + "\n"


def _with_placeholder(gpu: Gpu) -> dict:
    """The GPU's fields with `vram_gb: <GB>` in its place, after vendor and model."""
    fields = gpu.fields()
    head = {k: fields[k] for k in ("vendor", "model") if k in fields}
    return {**head, "vram_gb": VRAM_PLACEHOLDER, **{k: v for k, v in fields.items() if k not in head}}


def detect_json(host: str, detection: Detection, findings: list) -> str:
    body = {"ok": not any(f.severity == "error" for f in findings), "host": host, "tools": detection.tools,
            "sources": detection.sources, "gpus": [g.to_dict() for g in detection.gpus],
            "block": block(host, detection.gpus, detection.host_fields()), "findings": [f.to_dict() for f in findings]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def check_text(result: CheckReport, tools: list[str]) -> str:
    host = result.host
    if result.in_sync:
        return (f"Inventory of {host} in {result.source} matches what {', '.join(tools)} report "
                f"({len(result.matched)} GPU{'s' if len(result.matched) != 1 else ''}).\n")
    counts = f"{len(result.missing)} missing, {len(result.new)} new, {len({c.gpu for c in result.changes})} changed"
    if result.unusable:
        counts += f", {len(result.unusable)} unusable"
    if result.host_changes:
        counts += f", {len(result.host_changes)} host setting{'s' if len(result.host_changes) != 1 else ''} changed"
    out = [f"Inventory of {host} in {result.source} against what {', '.join(tools)} report: {counts}.", ""]
    for gpu in result.missing:
        out.append(f"  - {gpu.key}{f' ({gpu.model})' if gpu.model else ''}: not detected, treated as unavailable")
    by_key = {inv.key: det for inv, det in result.matched}
    for gpu in result.unusable:
        out.append(f"  ! {gpu.key}{f' ({gpu.model})' if gpu.model else ''}: on the bus, but "
                   f"{' and '.join(by_key[gpu.key].unusable_by)} does not list it: treated as unavailable")
    for change in result.changes:
        out.append(f"  ~ {change.gpu}: {change.field} {_shown(change.inventory)} -> {_shown(change.detected)}")
    for setting in result.host_changes:
        out.append(f"  ~ {setting.host}: {setting.field} {_shown(setting.inventory)} -> {_shown(setting.detected)}")
    for found in result.new:
        out.append(f"  + {found.label()}: new, as {host}/{found.name}")
    for gpu in result.unchecked:
        out.append(f"  ? {gpu.key}: not checked (no tool that ran sees {gpu.vendor} GPUs)")
    if result.gone and result.without is not None and result.without.placement is not None:
        gone = ", ".join(g.key for g in result.gone)
        moved = len(result.moves)
        out += ["", f"Without {gone}: " + (f"{moved} consumer{'s move' if moved != 1 else ' moves'}" if moved
                                           else "nothing moves")]
        out += [f"  {move.text()}" for move in result.moves]
        out += ["", report.placement_table(result.without.need_infra(), result.without.placement).rstrip("\n")]
        if result.simulated:
            out += ["", "That placement would report:"] + [f"  {f.format()}" for f in result.simulated]
    if result.new:
        out += ["", f"New GPUs, to add under hosts.{host}.gpus in {result.source}:",
                block_text(host, result.new, tools).rstrip("\n")]
    # Models and names come from the tools' output: each line escaped, so that none reaches the terminal raw.
    return "".join(one_line(line) + "\n" for line in "\n".join(out).split("\n"))


def check_json(result: CheckReport, tools: list[str], findings: list) -> str:
    placement = result.without.placement if result.without is not None else None
    body = {"ok": not any(f.severity == "error" for f in findings), "host": result.host, "tools": tools,
            "in_sync": result.in_sync,
            "matched": {inv.key: gpu.pci for inv, gpu in result.matched},
            "missing": [g.key for g in result.missing], "unusable": [g.key for g in result.unusable],
            "unchecked": [g.key for g in result.unchecked],
            "new": [g.to_dict() for g in result.new],
            "changed": [c.to_dict() for c in result.changes],
            "host_changed": [c.to_dict() for c in result.host_changes],
            "without": [g.key for g in result.gone],
            "moves": [m.to_dict() for m in result.moves],
            "placement": placement.to_dict() if placement is not None else None,
            "block": block(result.host, result.new) if result.new else None,
            "findings": [f.to_dict() for f in findings]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return fmt_gb(value)
    return str(value)
