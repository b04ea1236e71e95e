"""Proxmox apply: the changed files of generated/proxmox/ as `qm`, `pvesh` and host commands, on the right host.

Where: a host's commands run over `ssh` when `hosts.<host>.ssh` is set, and
on this machine only when its hostname is the host's Proxmox node name
(`hosts.<h>.proxmox.node`, else the host key; compared as Proxmox names a
node, the hostname up to its first dot: pve-common `PVE::INotify::nodename`).
Any other host makes the whole apply refuse before any command runs, every
host checked first (`Context.refusals`): with several nodes and no `ssh`,
one machine would otherwise receive every node's files.

What:

- a qemu-server file: `qm set --key value … [--delete k,…] -- VMID` with
  its changed options;
- pci.cfg: per changed mapping, `pvesh create /cluster/mapping/pci` for a
  new one; for one psot wrote before, `pvesh set` with the map entries of
  the nodes psot does not write kept as Proxmox has them now (read first
  with `pvesh get … --output-format json`; `--digest` makes Proxmox refuse
  the write if the mapping changed since), since `pvesh set --map`
  replaces the whole list (pve-manager `PVE/API2/Cluster/Mapping/PCI.pm`
  `update`). When it cannot be read the unit is blocked and stays pending.
  With `--clean-orphans`, psot's entries leave a mapping and an empty one
  is deleted (`pvesh delete`);
- a host's vfio files, in one unit that needs a reboot (psot never
  reboots): the module list and modprobe options installed as
  /etc/modules-load.d/psot-vfio.conf and /etc/modprobe.d/psot-vfio.conf,
  then `update-initramfs -u -k all` (the initramfs carries modprobe.d); the
  kernel parameters by the host's `proxmox.boot_loader` (Proxmox VE admin
  guide, "Editing the Kernel Commandline",
  https://pve.proxmox.com/pve-docs/pve-admin-guide.html#sysboot_edit_kernel_cmdline):
  GRUB reads them from GRUB_CMDLINE_LINUX_DEFAULT, which psot extends in a
  file of its own, /etc/default/grub.d/psot-iommu.cfg (Debian's grub-mkconfig
  sources /etc/default/grub.d/*.cfg after /etc/default/grub), then
  `update-grub`; systemd-boot reads the whole command line from
  /etc/kernel/cmdline, which psot reads, adds its parameters to (and takes
  away those it added before and no longer writes), installs, then
  `proxmox-boot-tool refresh`.

A VM is never destroyed: with `--clean-orphans` its file leaves the state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from generator.apply.units import Change, Context, Program, Step, Unit, action_of
from generator.model import proxmox as pve
from generator.platforms.proxmox import NAME
from generator.platforms.proxmox.pve_config import parse_pci_cfg, parse_qm_conf

MAPPING_FILE = "proxmox/mapping/pci.cfg"
MODULES_PATH = "/etc/modules-load.d/psot-vfio.conf"
MODPROBE_PATH = "/etc/modprobe.d/psot-vfio.conf"
GRUB_DROP_IN = "/etc/default/grub.d/psot-iommu.cfg"
KERNEL_CMDLINE = "/etc/kernel/cmdline"
_HOST_FILES = {"modules": MODULES_PATH, "modprobe.d/vfio.conf": MODPROBE_PATH}
_REFRESH = {pve.GRUB: ("update-grub",), pve.SYSTEMD_BOOT: ("proxmox-boot-tool", "refresh")}
# How the plan lists the programs.
_ORDER = ("qm", "pvesh", "install", "rm", "update-initramfs", "cat", "update-grub", "proxmox-boot-tool")


def _qm_options(content: bytes | None) -> dict[str, str]:
    if content is None:
        return {}
    return parse_qm_conf(content.decode("utf-8", "replace"))[0].options


def _pci_sections(content: bytes | None) -> dict[str, dict[str, list[str]]]:
    if content is None:
        return {}
    return parse_pci_cfg(content.decode("utf-8", "replace"))[0]


def _node_of(entry: str) -> str | None:
    for part in entry.split(","):
        if part.startswith("node="):
            return part[len("node="):]
    return None


def _host_spec(ctx: Context, host: str) -> Mapping[str, Any]:
    spec = (ctx.infra_data.get("hosts") or {}).get(host)
    return spec if isinstance(spec, Mapping) else {}


def _mapping_host(ctx: Context, section: Mapping[str, list[str]]) -> str | None:
    """The host whose node a mapping's first entry names: where its pvesh commands run."""
    nodes = pve.nodes(ctx.infra_data)
    node = next((n for n in map(_node_of, section.get("map", [])) if n), None)
    return nodes.get(node, node) if node else None


def _ask(ctx: Context, host: str, argv: tuple[str, ...]) -> str | None:
    """A read-only command's output on `host` (over its ssh, as the commands run), None when it failed; none is
    asked once the run is refused (a host psot cannot reach as itself is not asked anything either)."""
    if ctx.query is None or ctx.refusals:
        return None
    return ctx.query(ctx.on_host(host, argv).argv)


def _live_mapping(ctx: Context, host: str, mid: str) -> tuple[list[str], str | None] | None:
    """(map entries, digest) of the cluster mapping `mid` as Proxmox has it now, or None when unreadable."""
    out = _ask(ctx, host, ("pvesh", "get", f"/cluster/mapping/pci/{mid}", "--output-format", "json"))
    try:
        data = json.loads(out) if out is not None else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(m, str) for m in data.get("map") or []):
        return None
    digest = data.get("digest")
    return list(data.get("map") or []), digest if isinstance(digest, str) else None


def _mapping_unit(ctx: Context, action: str, old: bytes | None, new: bytes | None) -> Unit | None:
    before, after = _pci_sections(old), _pci_sections(new)
    steps: list[Step] = []
    unreadable: list[str] = []
    for mid in sorted(set(before) | set(after)):
        section = after.get(mid)
        if section == before.get(mid) or (section is None and not ctx.clean_orphans):
            continue
        host = _mapping_host(ctx, section or before[mid])
        ours = section.get("map", []) if section else []
        if mid not in before:
            args = [a for value in ours for a in ("--map", value)]
            if section and "description" in section:
                args += ["--description", section["description"][0]]
            steps.append(ctx.on_host(host, ("pvesh", "create", "/cluster/mapping/pci", "--id", mid, *args)))
            continue
        live = _live_mapping(ctx, host, mid) if host else None
        if live is None:
            unreadable.append(mid)
            live = ([], None)
        psot_nodes = {_node_of(m) for m in before[mid].get("map", []) + ours}
        kept = [m for m in live[0] if _node_of(m) not in psot_nodes]
        entries = kept + ours
        if not entries:
            steps.append(ctx.on_host(host, ("pvesh", "delete", f"/cluster/mapping/pci/{mid}")))
            continue
        args = [a for value in entries for a in ("--map", value)]
        if section and "description" in section:
            args += ["--description", section["description"][0]]
        if live[1]:
            args += ["--digest", live[1]]
        steps.append(ctx.on_host(host, ("pvesh", "set", f"/cluster/mapping/pci/{mid}", *args)))
    if new is None and not ctx.clean_orphans:
        return None
    blocked = (f"could not read the cluster mapping{'s' if len(unreadable) > 1 else ''} {', '.join(unreadable)} "
               "(`pvesh get /cluster/mapping/pci/<id> --output-format json`): psot replaces only its own map "
               "entries and must read the others first" if unreadable else "")
    return Unit(NAME, action, {MAPPING_FILE: new}, steps, blocked=blocked)


def _qm_unit(ctx: Context, path: str, host: str, vmid: str, action: str, old: bytes | None,
             new: bytes | None) -> Unit | None:
    if new is None:
        if ctx.clean_orphans:
            return Unit(NAME, "delete", {path: None}, note=f"VM {vmid} is left as it is (psot never destroys a VM)")
        return None
    old_qm, new_qm = _qm_options(old), _qm_options(new)
    args = [a for k, v in new_qm.items() if old_qm.get(k) != v for a in (f"--{k}", v)]
    gone = sorted(set(old_qm) - set(new_qm))
    if gone:
        args += ["--delete", ",".join(gone)]
    # Proxmox's CLI parses with Getopt::Long: an option's value is the next word whatever it starts with, and
    # `--` ends the options before the VMID.
    steps = [ctx.on_host(host, ("qm", "set", *args, "--", vmid))] if args else []
    return Unit(NAME, action, {path: new}, steps)


def _params(content: bytes | None) -> list[str]:
    return (content or b"").decode("utf-8", "replace").split()


def _cmdline_steps(ctx: Context, host: str, old: bytes | None, new: bytes | None) -> tuple[list[Step], str]:
    """The steps that put psot's kernel parameters on the boot loader's command line, and why they cannot run."""
    loader = pve.boot_loader(_host_spec(ctx, host))
    refresh = ctx.on_host(host, _REFRESH[loader])
    if loader == pve.GRUB:
        if new is None:
            return [ctx.on_host(host, ("rm", "-f", GRUB_DROP_IN)), refresh], ""
        line = f'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT {" ".join(_params(new))}"\n'
        drop_in = f"# Written by psot apply: the IOMMU parameters of proxmox/{host}/host/cmdline.\n{line}"
        return [ctx.on_host(host, ("install", "-D", "-m", "0644", "/dev/stdin", GRUB_DROP_IN),
                            stdin=drop_in.encode()), refresh], ""
    current = _ask(ctx, host, ("cat", "--", KERNEL_CMDLINE))
    if current is None:
        return [], f"could not read {KERNEL_CMDLINE} on {host} (`cat -- {KERNEL_CMDLINE}`) to add psot's parameters"
    wanted = _params(new)
    dropped = set(_params(old)) - set(wanted)
    words = [w for w in current.split() if w not in dropped]
    merged = " ".join(words + [w for w in wanted if w not in words]) + "\n"
    if merged.split() == current.split():
        return [], ""
    return [ctx.on_host(host, ("install", "-m", "0644", "/dev/stdin", KERNEL_CMDLINE), stdin=merged.encode()),
            refresh], ""


def _host_unit(ctx: Context, host: str, files: dict[str, tuple[bytes | None, bytes | None]]) -> Unit:
    """One unit per host for its boot files: one initramfs rebuild, one boot loader refresh, one reboot."""
    steps: list[Step] = []
    for name in sorted(set(files) & set(_HOST_FILES)):
        path, (_, new) = f"proxmox/{host}/host/{name}", files[name]
        if new is None:
            steps.append(ctx.on_host(host, ("rm", "-f", _HOST_FILES[name])))
        else:
            steps.append(ctx.on_host(host, ("install", "-D", "-m", "0644", "/dev/stdin", _HOST_FILES[name]),
                                     stdin=new, stdin_label=ctx.source_label(path)))
    if steps:
        steps.append(ctx.on_host(host, ("update-initramfs", "-u", "-k", "all")))
    blocked = ""
    if "cmdline" in files:
        old, new = files["cmdline"]
        more, blocked = _cmdline_steps(ctx, host, old, new)
        steps += more
    params = " ".join(_params(files.get("cmdline", (None, None))[1]))
    note = (f"needs a reboot of {host} (psot never reboots it): the vfio-pci binding"
            + (f" and the kernel parameters `{params}`" if params else "") + " take effect at the next boot")
    pairs = list(files.values())
    return Unit(NAME, action_of(pairs), {f"proxmox/{host}/host/{n}": new for n, (_, new) in sorted(files.items())},
                steps, note=note, blocked=blocked)


def _where(ctx: Context, hosts: set[str]) -> None:
    """Refuse (ctx.refusals) every host whose commands would run on a machine that is not that host."""
    local: str | None = None
    asked = False
    for host in sorted(hosts):
        if ctx.ssh(host):
            continue
        node = pve.node_name(host, _host_spec(ctx, host))
        if not asked:
            answer = ctx.query(("hostname",)) if ctx.query is not None else None
            local = answer.strip().split(".")[0] if answer and answer.strip() else None
            asked = True
        if local is None:
            ctx.refusals.append(f"hosts.{host} has no ssh and this machine's hostname could not be read "
                                f"(`hostname`): psot runs a Proxmox host's commands over ssh, or here only when "
                                f"this machine is that node; set hosts.{host}.ssh (e.g. root@{node})")
        elif local != node:
            ctx.refusals.append(f"hosts.{host} has no ssh and this machine is '{local}', not the Proxmox node "
                                f"'{node}': its commands would change the wrong machine; set hosts.{host}.ssh "
                                f"(e.g. root@{node}) or run psot apply on {node}")


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """The units of the changed Proxmox files, by path; a host's boot files last, one unit per host."""
    _where(ctx, _hosts(ctx, changes))     # every host first, before anything is asked of one
    out: list[Unit] = []
    boot: dict[str, dict[str, tuple[bytes | None, bytes | None]]] = {}
    for path, old, new in sorted(changes):
        parts = path.split("/")
        action = action_of([(old, new)])
        unit: Unit | None
        if path == MAPPING_FILE:
            unit = _mapping_unit(ctx, action, old, new)
        elif len(parts) == 4 and parts[2] == "qemu-server" and parts[3].endswith(".conf") and \
                parts[3][: -len(".conf")].isdigit():
            unit = _qm_unit(ctx, path, parts[1], parts[3][: -len(".conf")], action, old, new)
        elif len(parts) >= 4 and parts[2] == "host" and "/".join(parts[3:]) in (*_HOST_FILES, "cmdline"):
            if new is not None or ctx.clean_orphans:
                boot.setdefault(parts[1], {})["/".join(parts[3:])] = (old, new)
            continue
        else:
            unit = Unit(NAME, action, {path: new}, note="not a Proxmox file psot knows")
        if unit is not None:
            out.append(unit)
    for host, files in sorted(boot.items()):
        out.append(_host_unit(ctx, host, files))
    return out


def _hosts(ctx: Context, changes: list[Change]) -> set[str]:
    """The hosts the changes' commands may run on: the host of each file, the nodes of each changed mapping."""
    out = set()
    for path, old, new in changes:
        parts = path.split("/")
        if new is None and not ctx.clean_orphans:
            continue
        if path == MAPPING_FILE:
            before, after = _pci_sections(old), _pci_sections(new)
            for mid in set(before) | set(after):
                if before.get(mid) != after.get(mid):
                    host = _mapping_host(ctx, after.get(mid) or before[mid])
                    if host:
                        out.add(host)
        elif len(parts) >= 3 and parts[0] == NAME:
            out.add(parts[1])
    return out


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """Per node: `qm` for its VMs, `pvesh` for the mappings that name it, the host files' commands."""
    used: dict[str, set[str]] = {}
    for path in sorted(files):
        parts = path.split("/")
        if path == MAPPING_FILE:
            for section in _pci_sections(files[path]).values():
                host = _mapping_host(ctx, section)
                if host:
                    used.setdefault(host, set()).add("pvesh")
        elif len(parts) == 4 and parts[2] == "qemu-server":
            used.setdefault(parts[1], set()).add("qm")
        elif len(parts) >= 4 and parts[2] == "host":
            name = "/".join(parts[3:])
            if name in _HOST_FILES:
                used.setdefault(parts[1], set()).update(("install", "rm", "update-initramfs"))
            elif name == "cmdline":
                loader = pve.boot_loader(_host_spec(ctx, parts[1]))
                used.setdefault(parts[1], set()).update(
                    ("install", "rm", "update-grub") if loader == pve.GRUB else ("cat", "install", "proxmox-boot-tool"))
    out = []
    for host, names in sorted(used.items()):
        dest = ctx.ssh(host)
        node = pve.node_name(host, _host_spec(ctx, host))
        out.append(Program(NAME, host, tuple(p for p in _ORDER if p in names),
                           f"over `ssh -o BatchMode=yes {dest}`" if dest else
                           f"on this machine, only if its hostname is '{node}'",
                           (f"hosts.{host}.ssh",) if dest else ()))
    return out
