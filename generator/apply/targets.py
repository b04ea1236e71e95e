"""From changed files to each platform's commands.

`units(desired, applied, ctx)` compares the files to apply (`desired`) with
the applied state and returns, per changed file, the commands that make the
platform match it. Only what changed produces a command:

Every command is an argument list, run without a shell. Where the CLI
reads `--` as the end of its options (`incus`, `kubectl` and Compose are
cobra CLIs, podman-compose uses argparse), every option comes first, then
`--`, then the names, keys and values from infra.yml: none of them can be
read as an option, whatever it starts with (the key grammar rules refuse
keys that could not be keys before anything runs: INC006, K8S005).

Incus (the local `incus` client; point it at another server with `incus
remote switch`): a project is created with `incus project create -- D <
project.yaml` or updated with `incus project edit -- D < project.yaml`; a
profile with `incus profile create|edit --project D -- P < file` (create
or edit is decided by asking incusd which exist, `incus query`); an
instance that does not exist is created from its image with `incus create
--project D -- IMAGE M < file`, and an existing one gets only the
differences: `incus profile assign`, `incus config set|unset`, `incus
config device add|set|unset|remove`. Without a record of a previous apply,
the differences are taken against the instance's live configuration and
nothing psot did not write is unset or removed.

Proxmox (`qm`, `pvesh`, on the node itself or over `ssh` when
`hosts.<host>.ssh` is set): `qm set --key value … [--delete k,…] -- VMID` with
the changed options of a qemu-server file; `pvesh create|set
/cluster/mapping/pci…` per changed mapping; the vfio module list and
modprobe options are installed as /etc/modules-load.d/psot-vfio.conf and
/etc/modprobe.d/psot-vfio.conf followed by `update-initramfs -u -k all`.
The kernel command line is printed for the user to add (overwriting a boot
loader's command line from here could leave the node unbootable); every
one of these takes a reboot to take effect, which psot never does.

Compose: `<command> -f <user file> -f <override> up -d --force-recreate
--no-deps -- <services>` with only the services whose entry in the override
changed (seed 001's restart flow). `global.compose.command` (default
`docker compose`) and `global.compose.file` (default docker-compose.yml,
relative to infra.yml). With `hosts.<host>.ssh`, Docker's own
`DOCKER_HOST=ssh://…` runs it on that host.

Kubernetes: `kubectl apply --server-side --field-manager=psot -k
<output>/kubernetes` when the overlay changed; node labels and taints with
`kubectl label|taint --overwrite -- node N …` and `key-`/`key:Effect-` for
those psot set before and no longer does (nodes are never created).

Commands that read a generated file from disk themselves (Compose's `-f`,
kubectl's `-k`) carry the bytes psot rendered for it (`Step.reads`); the
engine compares the file with them just before it runs the command.

Deleted files are left on the machines unless `--clean-orphans`: then
`incus delete|profile delete|project delete`, `pvesh delete`, `kubectl
delete` of whole objects psot created, label and taint removal.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from generator.diagnostics.findings import one_line
from generator.platforms.proxmox.pve_config import parse_pci_cfg, parse_qm_conf
from generator.rules.incus_config_keys import is_config_key, is_device_key
from generator.serialize import load_yaml

TARGETS = ("incus", "proxmox", "compose", "kubernetes")
RECORD_ONLY = "record"          # placement.yml: kept in the applied state, applied to nothing

MODULES_PATH = "/etc/modules-load.d/psot-vfio.conf"
MODPROBE_PATH = "/etc/modprobe.d/psot-vfio.conf"
FIELD_MANAGER = "psot"
DEFAULT_COMPOSE = "docker compose"


@dataclass(frozen=True)
class Step:
    argv: tuple[str, ...]
    stdin: bytes | None = None
    stdin_label: str | None = None        # the file shown after `<`
    env: tuple[tuple[str, str], ...] = ()
    manual: bool = False                  # for the user to do; psot prints it and does not run it
    # Files the command reads from disk itself (path, the bytes psot rendered for it): checked just before it runs.
    reads: tuple[tuple[str, bytes], ...] = field(default=(), compare=False, repr=False)

    def display(self) -> str:
        """The command as one shell line. A word holding a line break or a terminal escape is
        written as bash's $'...' (escaped by findings.one_line): printed, it stays on one line
        and reaches the terminal as text; pasted into bash, it is the same word."""
        def word(v: str) -> str:
            if v.isprintable():
                return shlex.quote(v)
            return "$'" + one_line(v.replace("\\", "\\\\").replace("'", "\\'")) + "'"
        text = " ".join([f"{k}={word(v)}" for k, v in self.env] + [word(a) for a in self.argv])
        if self.stdin_label:
            text += f" < {word(self.stdin_label)}"
        return text


@dataclass
class Unit:
    target: str
    action: str                                   # add, update, delete
    files: dict[str, bytes | None]                # path -> content in the applied state afterwards
    steps: list[Step] = field(default_factory=list)
    note: str = ""
    blocked: str = ""                             # why it cannot be applied now (stays pending)

    @property
    def label(self) -> str:
        return ", ".join(self.files)


def target_of(path: str) -> str:
    head = path.split("/", 1)[0]
    return head if head in TARGETS else RECORD_ONLY


Query = Callable[[tuple[str, ...]], "str | None"]


@dataclass
class Context:
    infra_data: Mapping[str, Any]
    project_root: Path
    source_root: Path                     # where the desired files are on disk
    clean_orphans: bool = False
    query: Query | None = None            # read-only command -> stdout, None when it failed or cannot run
    notes: list[str] = field(default_factory=list)

    def source_label(self, rel: str) -> str:
        """The desired file as a command names it: relative to infra.yml's directory when inside it."""
        full = (self.source_root / rel).resolve()
        root = self.project_root.resolve()
        try:
            return str(full.relative_to(root))
        except ValueError:
            return str(full)

    def source_path(self, rel: str) -> str:
        """The desired file's absolute path, where a command that reads it from disk finds it."""
        return str((self.source_root / rel).resolve())

    def ssh(self, host: str) -> str | None:
        entry = (self.infra_data.get("hosts") or {}).get(host)
        return entry.get("ssh") if isinstance(entry, dict) and isinstance(entry.get("ssh"), str) else None

    def on_host(self, host: str | None, argv: tuple[str, ...], **kwargs) -> Step:
        """`argv` on `host`: as is, or through `ssh` when the host has a destination."""
        dest = self.ssh(host) if host else None
        if dest:
            return Step(("ssh", "-o", "BatchMode=yes", dest, "--", shlex.join(argv)), **kwargs)
        return Step(argv, **kwargs)


def _yaml(content: bytes | None) -> Any:
    if content is None:
        return None
    try:
        return load_yaml(content)
    except yaml.YAMLError:
        return None


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _kv(options: Mapping[str, Any]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(options.items())]


def path_argument(path: str) -> str:
    """A relative path as the value of an option: `./-x` for `-x`, which argparse would take for an option."""
    return f"./{path}" if path.startswith("-") else path


def _action(pairs: list[tuple[bytes | None, bytes | None]]) -> str:
    if all(old is None for old, _ in pairs):
        return "add"
    return "delete" if all(new is None for _, new in pairs) else "update"


# --- Incus ----------------------------------------------------------------------------------------

@dataclass
class _IncusLive:
    projects: set[str] | None                    # None: unknown (incus cannot be asked)
    profiles: dict[str, set[str]] = field(default_factory=dict)
    instances: dict[str, set[str]] = field(default_factory=dict)


def _names(listing: str | None, prefix: str) -> set[str] | None:
    if listing is None:
        return None
    try:
        urls = json.loads(listing)
    except ValueError:
        return None
    if not isinstance(urls, list):
        return None
    out = set()
    for url in urls:
        if isinstance(url, str):
            path = urlsplit(url).path
            if path.startswith(prefix):
                out.add(unquote(path[len(prefix):]))
    return out


class _Incus:
    def __init__(self, ctx: Context, applied: Mapping[str, bytes]) -> None:
        self.ctx = ctx
        self.applied = applied
        projects = _names(ctx.query(("incus", "query", "--", "/1.0/projects")) if ctx.query else None,
                          "/1.0/projects/")
        self.live = _IncusLive(projects)
        if projects is None:
            ctx.notes.append("incus could not be asked what exists: create or edit is decided from the "
                             "last apply's record")

    def _ask(self, argv: tuple[str, ...]) -> str | None:
        """incus's answer; None as from a failed query when there is no way to ask (live.projects is None then)."""
        return self.ctx.query(argv) if self.ctx.query is not None else None

    def project_exists(self, domain: str) -> bool:
        if self.live.projects is None:
            return f"incus/{domain}/project.yaml" in self.applied
        return domain in self.live.projects

    def _list(self, kind: str, domain: str) -> set[str]:
        cache = self.live.profiles if kind == "profiles" else self.live.instances
        if domain not in cache:
            if self.live.projects is None or domain not in self.live.projects:
                known = {PurePosixPath(p).stem for p in self.applied if p.startswith(f"incus/{domain}/{kind}/")}
                cache[domain] = known | ({"default"} if kind == "profiles" else set())
            else:
                out = self._ask(("incus", "query", "--", f"/1.0/{kind}?project={domain}"))
                cache[domain] = _names(out, f"/1.0/{kind}/") or set()
        return cache[domain]

    def profile_exists(self, domain: str, name: str) -> bool:
        return name in self._list("profiles", domain)

    def instance_exists(self, domain: str, name: str) -> bool:
        return name in self._list("instances", domain)

    def live_instance(self, domain: str, name: str) -> dict:
        if self.live.projects is None:
            return {}
        out = self._ask(("incus", "query", "--", f"/1.0/instances/{name}?project={domain}"))
        try:
            body = json.loads(out) if out else {}
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}


def _instance_steps(name: str, domain: str, old: dict, new: dict, owned: bool) -> list[Step]:
    """The commands that take an existing instance from `old` to `new`.

    `owned`: `old` is what psot applied last (keys missing from `new` are
    removed); otherwise `old` is the live configuration, of which only what
    `new` sets is changed.
    """
    project = ("--project", domain)

    def incus(*verb: str, args: tuple[str, ...], flags: tuple[str, ...] = ()) -> Step:
        """`incus <verb> --project D <flags> -- M <args>`: the instance and all after it are never options."""
        return Step(("incus", *verb, *project, *flags, "--", name, *args))

    steps: list[Step] = []
    if isinstance(new.get("profiles"), list) and old.get("profiles") != new["profiles"]:
        steps.append(incus("profile", "assign", args=(",".join(new["profiles"]),)))
    if "description" in new and old.get("description", "") != new["description"]:
        steps.append(incus("config", "set", args=(f"description={new['description']}",), flags=("--property",)))
    old_config, new_config = _mapping(old.get("config")), _mapping(new.get("config"))
    changed = {k: v for k, v in new_config.items() if old_config.get(k) != v}
    if changed:
        steps.append(incus("config", "set", args=tuple(_kv(changed))))
    if owned:
        for key in sorted(set(old_config) - set(new_config)):
            steps.append(incus("config", "unset", args=(key,)))
    old_devices, new_devices = _mapping(old.get("devices")), _mapping(new.get("devices"))
    if owned:
        for dev in sorted(set(old_devices) - set(new_devices)):
            steps.append(incus("config", "device", "remove", args=(dev,)))
    for dev, options in sorted(new_devices.items()):
        options = _mapping(options)
        before = old_devices.get(dev)
        if before == options:
            continue
        before = _mapping(before)
        rest = {k: v for k, v in options.items() if k != "type"}
        if before and before.get("type") == options.get("type"):
            sets = {k: v for k, v in rest.items() if before.get(k) != v}
            if sets:
                steps.append(incus("config", "device", "set", args=(dev, *_kv(sets))))
            for key in sorted(set(before) - set(options)):
                steps.append(incus("config", "device", "unset", args=(dev, key)))
            continue
        if before:
            steps.append(incus("config", "device", "remove", args=(dev,)))
        steps.append(incus("config", "device", "add", args=(dev, str(options.get("type", "")), *_kv(rest))))
    return steps


def _not_keys(body: Mapping[str, Any]) -> list[str]:
    """Config and device option keys of an instance file that are not Incus keys (INC006's grammar)."""
    bad = [str(k) for k in _mapping(body.get("config")) if not is_config_key(k)]
    for dev, options in sorted(_mapping(body.get("devices")).items()):
        bad += [f"{dev}.{k}" for k in _mapping(options) if not is_device_key(k)]
    return bad


def _incus_units(changes: list[tuple[str, bytes | None, bytes | None]], ctx: Context,
                 applied: Mapping[str, bytes]) -> list[Unit]:
    incus = _Incus(ctx, applied)
    ahead: list[Unit] = []
    removals: list[tuple[int, Unit]] = []
    order = {"project.yaml": 0, "profiles": 1, "instances": 2}
    for path, old, new in sorted(changes, key=lambda c: (c[0].split("/")[1], order.get(c[0].split("/")[2], 9),
                                                          c[0])):
        parts = path.split("/")
        if len(parts) < 3 or parts[2] not in order:
            ahead.append(Unit("incus", "update", {path: new}, note="not an Incus object psot knows"))
            continue
        domain, kind = parts[1], parts[2]
        project = ("--project", domain)
        label = ctx.source_label(path)
        action = _action([(old, new)])
        if new is None:
            if not ctx.clean_orphans:
                continue
            if kind == "project.yaml":
                step, rank = Step(("incus", "project", "delete", "--", domain)), 2
            elif kind == "profiles":
                step, rank = Step(("incus", "profile", "delete", *project, "--", PurePosixPath(path).stem)), 1
            else:
                step, rank = Step(("incus", "delete", *project, "--", PurePosixPath(path).stem)), 0
            removals.append((rank, Unit("incus", "delete", {path: None}, [step])))
            continue
        if kind == "project.yaml":
            verb = "edit" if incus.project_exists(domain) else "create"
            if verb == "create" and incus.live.projects is not None:
                incus.live.projects.add(domain)
                incus.live.profiles[domain] = {"default"}
                incus.live.instances[domain] = set()
            ahead.append(Unit("incus", action, {path: new},
                              [Step(("incus", "project", verb, "--", domain), new, label)]))
        elif kind == "profiles":
            name = PurePosixPath(path).stem
            verb = "edit" if incus.profile_exists(domain, name) else "create"
            ahead.append(Unit("incus", action, {path: new},
                              [Step(("incus", "profile", verb, *project, "--", name), new, label)]))
        else:
            body = _mapping(_yaml(new))
            name = str(body.get("name") or PurePosixPath(path).stem)
            vm = ("--vm",) if body.get("type") == "virtual-machine" else ()
            bad = _not_keys(body)
            if bad:
                what = "is not an Incus key" if len(bad) == 1 else "are not Incus keys"
                ahead.append(Unit("incus", action, {path: new},
                                  blocked=f"{', '.join(bad)} {what} (see `psot explain INC006`); nothing of "
                                          f"{name} is passed to incus"))
                continue
            if not incus.instance_exists(domain, name):
                image = body.get("image")
                if image:
                    ahead.append(Unit("incus", action, {path: new},
                                      [Step(("incus", "create", *project, *vm, "--", str(image), name), new,
                                            label)]))
                else:
                    ahead.append(Unit("incus", action, {path: new},
                                      [Step(("incus", "create", *project, *vm, "--", "IMAGE", name), None, label,
                                            manual=True)],
                                      blocked=f"instance {name} does not exist in project {domain} and has no "
                                              "image: set its os_image (or global.default_os_image), or "
                                              "create it, then apply again"))
                continue
            owned = old is not None
            before = _mapping(_yaml(old)) if owned else incus.live_instance(domain, name)
            ahead.append(Unit("incus", action, {path: new}, _instance_steps(name, domain, before, body, owned)))
    return ahead + [u for _, u in sorted(removals, key=lambda r: r[0])]


# --- Proxmox --------------------------------------------------------------------------------------

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


def _proxmox_units(changes: list[tuple[str, bytes | None, bytes | None]], ctx: Context) -> list[Unit]:
    units: list[Unit] = []
    boot: dict[str, list[tuple[str, str, bytes | None, bytes | None]]] = {}
    for path, old, new in sorted(changes):
        parts = path.split("/")
        action = _action([(old, new)])
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
            units.append(Unit("proxmox", action, {path: new}, steps))
        elif len(parts) == 4 and parts[2] == "qemu-server" and parts[3].endswith(".conf") and \
                parts[3][: -len(".conf")].isdigit():
            host, vmid = parts[1], parts[3][: -len(".conf")]
            if new is None:
                if ctx.clean_orphans:
                    units.append(Unit("proxmox", "delete", {path: None},
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
            units.append(Unit("proxmox", action, {path: new}, steps))
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
                units.append(Unit("proxmox", action, {path: new}, note=note))
                continue
            if dest is None:
                units.append(Unit("proxmox", action, {path: new}, note="not a host file psot knows"))
                continue
            boot.setdefault(host, []).append((path, dest, old, new))
        else:
            units.append(Unit("proxmox", action, {path: new}, note="not a Proxmox file psot knows"))
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
        units.append(Unit("proxmox", _action([(o, n) for _, _, o, n in files]), {p: n for p, _, _, n in files},
                          steps, note=f"reboot {host} for the vfio-pci binding to take effect"))
    return units


# --- Compose --------------------------------------------------------------------------------------

def _services(content: bytes | None) -> dict:
    return _mapping(_mapping(_yaml(content)).get("services"))


def compose_settings(infra_data: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    """The compose command (its words) and the user's compose file, from global.compose."""
    settings = _mapping(_mapping(infra_data.get("global")).get("compose"))
    command = tuple(shlex.split(str(settings.get("command") or DEFAULT_COMPOSE)))
    return command, str(settings.get("file") or "docker-compose.yml")


def _compose_units(changes: list[tuple[str, bytes | None, bytes | None]], ctx: Context) -> list[Unit]:
    command, user_file = compose_settings(ctx.infra_data)
    units = []
    for path, old, new in sorted(changes):
        parts = path.split("/")
        host = parts[1] if len(parts) == 3 else None
        action = _action([(old, new)])
        if new is None and not ctx.clean_orphans:
            continue
        before, after = _services(old), _services(new)
        changed = sorted(s for s in set(before) | set(after) if before.get(s) != after.get(s))
        if not changed:
            units.append(Unit("compose", action, {path: new}))
            continue
        files: tuple[str, ...] = ("-f", path_argument(user_file))
        if new is not None:
            files += ("-f", path_argument(ctx.source_label(path)))
        env: tuple[tuple[str, str], ...] = ()
        dest = ctx.ssh(host) if host else None
        if dest:
            env = (("DOCKER_HOST", f"ssh://{dest}"),)
        reads = ((ctx.source_path(path), new),) if new is not None else ()
        step = Step((*command, *files, "up", "-d", "--force-recreate", "--no-deps", "--", *changed), env=env,
                    reads=reads)
        units.append(Unit("compose", action, {path: new}, [step],
                          note=f"recreates {', '.join(changed)}; other services are not touched"))
    return units


# --- Kubernetes -----------------------------------------------------------------------------------

def _node(content: bytes | None) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Labels, and taints as (key, effect) -> value, of a generated Node file."""
    body = _mapping(_yaml(content))
    labels = {str(k): str(v) for k, v in _mapping(_mapping(body.get("metadata")).get("labels")).items()}
    taints = {}
    for taint in _mapping(body.get("spec")).get("taints") or []:
        if isinstance(taint, dict) and "key" in taint:
            taints[(str(taint["key"]), str(taint.get("effect", "NoSchedule")))] = str(taint.get("value") or "")
    return labels, taints


def _kubernetes_units(changes: list[tuple[str, bytes | None, bytes | None]], ctx: Context,
                      desired: Mapping[str, bytes]) -> list[Unit]:
    units = []
    overlay = [(p, o, n) for p, o, n in changes if not p.startswith("kubernetes/nodes/")]
    if overlay:
        files = {p: n for p, _, n in overlay}
        steps = []
        if any(n is not None for _, _, n in overlay) and "kubernetes/kustomization.yaml" in desired:
            reads = tuple((ctx.source_path(p), c) for p, c in sorted(desired.items()) if p.startswith("kubernetes/"))
            steps.append(Step(("kubectl", "apply", "--server-side", f"--field-manager={FIELD_MANAGER}",
                               "-k", path_argument(ctx.source_label("kubernetes"))), reads=reads))
        for path, old, new in overlay:
            if new is None and path.startswith("kubernetes/workloads/") and ctx.clean_orphans and old is not None:
                steps.append(Step(("kubectl", "delete", "--ignore-not-found", "-f", "-"), old,
                                  f"(last applied {path})"))
        units.append(Unit("kubernetes", _action([(o, n) for _, o, n in overlay]), files, steps))
    for path, old, new in sorted(changes):
        if not path.startswith("kubernetes/nodes/"):
            continue
        if new is None and not ctx.clean_orphans:
            continue
        name = PurePosixPath(path).stem
        body = _mapping(_mapping(_yaml(new or old)).get("metadata"))
        node = str(body.get("name") or name)
        (old_labels, old_taints), (new_labels, new_taints) = _node(old), _node(new)
        steps = []
        sets = {k: v for k, v in new_labels.items() if old_labels.get(k) != v}
        if sets:
            steps.append(Step(("kubectl", "label", "--overwrite", "--", "node", node, *_kv(sets))))
        gone = sorted(set(old_labels) - set(new_labels))
        if gone:
            steps.append(Step(("kubectl", "label", "--", "node", node, *[f"{k}-" for k in gone])))
        for key, effect in sorted(set(old_taints) - set(new_taints)):
            steps.append(Step(("kubectl", "taint", "--", "node", node, f"{key}:{effect}-")))
        for (key, effect), value in sorted(new_taints.items()):
            if old_taints.get((key, effect)) != value:
                spec = f"{key}={value}:{effect}" if value else f"{key}:{effect}"
                steps.append(Step(("kubectl", "taint", "--overwrite", "--", "node", node, spec)))
        action = _action([(old, new)])
        units.append(Unit("kubernetes", action, {path: new}, steps))
    return units


# --- what apply will run, for the plan ------------------------------------------------------------

@dataclass(frozen=True)
class Program:
    """The programs apply runs for one platform (on one host), where they run, and what chose them."""
    target: str
    host: str | None                      # None: the platform as a whole (incus, kubectl)
    programs: tuple[str, ...]             # command lines as run, e.g. "podman-compose", "qm"
    runs_on: str                          # "this machine", "ssh -o BatchMode=yes root@pve1", …
    settings: tuple[str, ...] = ()        # the infra.yml settings that chose them

    def to_dict(self) -> dict:
        return {"target": self.target, "host": self.host, "programs": list(self.programs),
                "runs_on": self.runs_on, "settings": list(self.settings)}

    def to_text(self) -> str:
        where = f"{self.target} on {self.host}" if self.host else self.target
        chosen = f" ({', '.join(self.settings)})" if self.settings else ""
        return f"{where}: {', '.join(self.programs)}, {self.runs_on}{chosen}"


_PROXMOX_ORDER = ("qm", "pvesh", "install", "rm", "update-initramfs")


def programs(tree: Mapping[str, bytes], infra_data: Mapping[str, Any]) -> list[Program]:
    """Every program `psot apply` may run for `tree` (it also removes what --clean-orphans deletes), and
    where: what a reviewer must see besides the files, since none of it is in generated/."""
    ctx = Context(infra_data, Path("."), Path("."))
    out: list[Program] = []
    paths = sorted(tree)
    if any(target_of(p) == "incus" for p in paths):
        out.append(Program("incus", None, ("incus",), "on the incus client's default remote (`incus remote "
                           "get-default`)"))
    proxmox: dict[str, set[str]] = {}
    for path in paths:
        parts = path.split("/")
        if target_of(path) != "proxmox":
            continue
        if path == "proxmox/mapping/pci.cfg":
            for section in _pci_sections(tree[path]).values():
                node = _mapping_node(section)
                if node:
                    proxmox.setdefault(node, set()).add("pvesh")
        elif len(parts) == 4 and parts[2] == "qemu-server":
            proxmox.setdefault(parts[1], set()).add("qm")
        elif len(parts) >= 4 and parts[2] == "host" and "/".join(parts[3:]) in ("modules", "modprobe.d/vfio.conf"):
            proxmox.setdefault(parts[1], set()).update(("install", "rm", "update-initramfs"))
    for host, used in sorted(proxmox.items()):
        dest = ctx.ssh(host)
        out.append(Program("proxmox", host, tuple(p for p in _PROXMOX_ORDER if p in used),
                           f"over `ssh -o BatchMode=yes {dest}`" if dest else "on this machine",
                           (f"hosts.{host}.ssh",) if dest else ()))
    compose_hosts = sorted({p.split("/")[1] for p in paths if target_of(p) == "compose" and p.count("/") == 2})
    if compose_hosts:
        command, _ = compose_settings(infra_data)
        chosen = ("global.compose.command",) if _mapping(_mapping(infra_data.get("global")).get("compose")).get(
            "command") else ()
        for host in compose_hosts:
            dest = ctx.ssh(host)
            out.append(Program("compose", host, (shlex.join(command),),
                               f"on this machine with DOCKER_HOST=ssh://{dest}" if dest else "on this machine",
                               chosen + ((f"hosts.{host}.ssh",) if dest else ())))
    if any(target_of(p) == "kubernetes" for p in paths):
        out.append(Program("kubernetes", None, ("kubectl",), "in kubectl's current context (`kubectl config "
                           "current-context`)"))
    return out


def programs_text(found: list[Program]) -> str:
    """The plan's section: one line per platform (and host)."""
    if not found:
        return ""
    return "Commands apply will use:\n" + "".join(f"  {p.to_text()}\n" for p in found)


# --- all ------------------------------------------------------------------------------------------

def units(desired: Mapping[str, bytes], applied: Mapping[str, bytes], ctx: Context,
          targets: tuple[str, ...] = ()) -> list[Unit]:
    """Every unit that brings the machines from `applied` to `desired`, in the order they run."""
    changes: dict[str, list[tuple[str, bytes | None, bytes | None]]] = {}
    for path in sorted(set(desired) | set(applied)):
        old, new = applied.get(path), desired.get(path)
        if old == new:
            continue
        target = target_of(path)
        if targets and target not in targets:
            continue
        changes.setdefault(target, []).append((path, old, new))
    out: list[Unit] = []
    if "incus" in changes:
        out += _incus_units(changes["incus"], ctx, applied)
    if "proxmox" in changes:
        out += _proxmox_units(changes["proxmox"], ctx)
    if "compose" in changes:
        out += _compose_units(changes["compose"], ctx)
    if "kubernetes" in changes:
        out += _kubernetes_units(changes["kubernetes"], ctx, desired)
    for path, old, new in changes.get(RECORD_ONLY, []):
        out.append(Unit(RECORD_ONLY, _action([(old, new)]), {path: new}))
    return out


def pending(desired: Mapping[str, bytes], applied: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """(action, path) of every file whose applied state differs from `desired`."""
    out = []
    for path in sorted(set(desired) | set(applied)):
        old, new = applied.get(path), desired.get(path)
        if old != new:
            out.append((_action([(old, new)]), path))
    return out
