"""Proxmox apply: the changed files of generated/proxmox/ as `qm`, `pvesh` and host commands.

They run on the node itself, or over `ssh` when `hosts.<host>.ssh` is set:
`qm set --key value … [--delete k,…] -- VMID` with the changed options of a
qemu-server file; `pvesh create|set /cluster/mapping/pci…` per changed
mapping; the vfio module list and modprobe options are installed as
/etc/modules-load.d/psot-vfio.conf and /etc/modprobe.d/psot-vfio.conf
followed by `update-initramfs -u -k all`. The kernel command line is printed
for the user to add (overwriting a boot loader's command line from here
could leave the node unbootable); every one of these takes a reboot to take
effect, which psot never does. With `--clean-orphans`, `pvesh delete`
removes a mapping psot created; a VM is never destroyed.
"""

from __future__ import annotations

from collections.abc import Mapping

from generator.apply.units import Change, Context, Program, Unit, action_of
from generator.platforms.proxmox import NAME
from generator.platforms.proxmox.pve_config import parse_pci_cfg, parse_qm_conf

MODULES_PATH = "/etc/modules-load.d/psot-vfio.conf"
MODPROBE_PATH = "/etc/modprobe.d/psot-vfio.conf"
_ORDER = ("qm", "pvesh", "install", "rm", "update-initramfs")   # how the plan lists the programs


def _qm_options(content: bytes | None) -> dict[str, str]:
    if content is None:
        return {}
    return parse_qm_conf(content.decode("utf-8", "replace"))[0].options


def _pci_sections(content: bytes | None) -> dict[str, dict[str, list[str]]]:
    if content is None:
        return {}
    return parse_pci_cfg(content.decode("utf-8", "replace"))[0]


def _mapping_node(section: Mapping[str, list[str]]) -> str | None:
    for value in section.get("map", []):
        for part in value.split(","):
            if part.startswith("node="):
                return part[len("node="):]
    return None


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """The units of the changed Proxmox files, by path; a host's vfio files last, one unit per host."""
    out: list[Unit] = []
    boot: dict[str, list[tuple[str, str, bytes | None, bytes | None]]] = {}
    for path, old, new in sorted(changes):
        parts = path.split("/")
        action = action_of([(old, new)])
        if path == "proxmox/mapping/pci.cfg":
            before, after = _pci_sections(old), _pci_sections(new)
            steps = []
            for mid in sorted(set(before) | set(after)):
                section = after.get(mid)
                if section == before.get(mid):
                    continue
                host = _mapping_node(section or before[mid])
                if section is None:
                    if ctx.clean_orphans:
                        steps.append(ctx.on_host(host, ("pvesh", "delete", f"/cluster/mapping/pci/{mid}")))
                    continue
                args = [a for value in section.get("map", []) for a in ("--map", value)]
                if "description" in section:
                    args += ["--description", section["description"][0]]
                if mid in before:
                    steps.append(ctx.on_host(host, ("pvesh", "set", f"/cluster/mapping/pci/{mid}", *args)))
                else:
                    steps.append(ctx.on_host(host, ("pvesh", "create", "/cluster/mapping/pci", "--id", mid, *args)))
            if new is None and not ctx.clean_orphans:
                continue
            out.append(Unit(NAME, action, {path: new}, steps))
        elif len(parts) == 4 and parts[2] == "qemu-server" and parts[3].endswith(".conf") and \
                parts[3][: -len(".conf")].isdigit():
            host, vmid = parts[1], parts[3][: -len(".conf")]
            if new is None:
                if ctx.clean_orphans:
                    out.append(Unit(NAME, "delete", {path: None},
                                      note=f"VM {vmid} is left as it is (psot never destroys a VM)"))
                continue
            old_qm, new_qm = _qm_options(old), _qm_options(new)
            args = [a for k, v in new_qm.items() if old_qm.get(k) != v for a in (f"--{k}", v)]
            gone = sorted(set(old_qm) - set(new_qm))
            if gone:
                args += ["--delete", ",".join(gone)]
            # Proxmox's CLI parses with Getopt::Long: an option's value is the next word whatever it starts
            # with, and `--` ends the options before the VMID.
            steps = [ctx.on_host(host, ("qm", "set", *args, "--", vmid))] if args else []
            out.append(Unit(NAME, action, {path: new}, steps))
        elif len(parts) >= 4 and parts[2] == "host":
            host, name = parts[1], "/".join(parts[3:])
            dest = {"modules": MODULES_PATH, "modprobe.d/vfio.conf": MODPROBE_PATH}.get(name)
            if new is None and not ctx.clean_orphans:
                continue
            if name == "cmdline":
                params = (new or b"").decode("utf-8", "replace").strip()
                note = (f"by hand on {host}: add `{params}` to the kernel command line (/etc/kernel/cmdline, "
                        "then `proxmox-boot-tool refresh`; or GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, "
                        "then `update-grub`), and reboot" if new is not None else
                        f"by hand on {host}: remove psot's IOMMU parameters from the kernel command line")
                out.append(Unit(NAME, action, {path: new}, note=note))
                continue
            if dest is None:
                out.append(Unit(NAME, action, {path: new}, note="not a host file psot knows"))
                continue
            boot.setdefault(host, []).append((path, dest, old, new))
        else:
            out.append(Unit(NAME, action, {path: new}, note="not a Proxmox file psot knows"))
    # The vfio module list and options of a host: one unit, one initramfs rebuild.
    for host, files in sorted(boot.items()):
        steps = []
        for path, dest, _, new in files:
            if new is None:
                steps.append(ctx.on_host(host, ("rm", "-f", dest)))
            else:
                steps.append(ctx.on_host(host, ("install", "-D", "-m", "0644", "/dev/stdin", dest), stdin=new,
                                         stdin_label=ctx.source_label(path)))
        steps.append(ctx.on_host(host, ("update-initramfs", "-u", "-k", "all")))
        out.append(Unit(NAME, action_of([(o, n) for _, _, o, n in files]), {p: n for p, _, _, n in files},
                          steps, note=f"reboot {host} for the vfio-pci binding to take effect"))
    return out


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """Per node: `qm` for its VMs, `pvesh` for the mappings that name it, the vfio file commands."""
    used: dict[str, set[str]] = {}
    for path in sorted(files):
        parts = path.split("/")
        if path == "proxmox/mapping/pci.cfg":
            for section in _pci_sections(files[path]).values():
                node = _mapping_node(section)
                if node:
                    used.setdefault(node, set()).add("pvesh")
        elif len(parts) == 4 and parts[2] == "qemu-server":
            used.setdefault(parts[1], set()).add("qm")
        elif len(parts) >= 4 and parts[2] == "host" and "/".join(parts[3:]) in ("modules", "modprobe.d/vfio.conf"):
            used.setdefault(parts[1], set()).update(("install", "rm", "update-initramfs"))
    out = []
    for host, names in sorted(used.items()):
        dest = ctx.ssh(host)
        out.append(Program(NAME, host, tuple(p for p in _ORDER if p in names),
                           f"over `ssh -o BatchMode=yes {dest}`" if dest else "on this machine",
                           (f"hosts.{host}.ssh",) if dest else ()))
    return out
