"""Incus apply: the changed files of generated/incus/ as `incus` commands, and what changed on the server by hand.

The local `incus` client runs them (point it at another server with `incus
remote switch`). Per domain, in this order: the project, its network ACL
(`incus/<domain>/network-acls/<acl>.yaml`, replaced whole with `incus network
acl create|edit`), its networks
(`incus/<domain>/networks/<network>.yaml`), its storage volumes
(`incus/<domain>/volumes/<pool>/<volume>.yaml`), its profiles, its instances;
removals (--clean-orphans) last: instances, profiles, volumes, the project,
then its network and ACL (in project `default`, as features.networks is false).

- A project, a network or a profile that does not exist is created from its
  file: `incus project create -- D < project.yaml`, `incus network create
  --project D -- N < file`, `incus storage volume create --project D -- POOL
  V < file`, `incus profile create --project D -- P < file`.
  What exists is decided by asking incusd (`incus query`).
- An existing project, network or storage volume gets only the differences,
  taken against its live configuration: `incus project|network|storage
  volume set [--property] … -- NAME key=value…` and `unset` for a key psot wrote before and no longer
  does. (`incus project edit` would replace the whole config, and switching
  off a feature Incus turned on, `features.storage.buckets`, fails on a
  project that holds anything.) An existing profile is replaced with
  `incus profile edit --project D -- P < file`.
- An instance that does not exist is created from its image with `incus
  create --project D -- IMAGE M < file`; before anything runs, every image
  alias is looked up in the project that holds the images (Incus keeps
  images per project when `features.images` is true). One missing there but
  in project `default` (where `incus image import` puts it) is copied first,
  `incus image copy --mode relay --project default --target-project D
  --copy-aliases -- IMAGE local:`, in the same unit; one in neither refuses
  the whole apply, naming the alias and the `incus image import` that fixes
  it. An existing instance gets only the differences from its live
  configuration: `incus profile assign`, `incus config set|unset`, `incus
  config device add|set|unset|remove`. Only what psot wrote is changed:
  keys psot applied before and no longer writes are unset; nothing else of
  the server's is unset or removed.
- With `--clean-orphans`, `incus delete --force|network delete|profile
  delete|project delete` remove what psot created (`--force` stops a running
  instance first, which `incus delete` alone refuses); an instance psot protected
  (`security.protection.delete: "true"` in the file applied) first gets
  `incus config set … security.protection.delete=false`.

Drift (`drift`): every object psot applied is read back from the server
(`incus query`) and compared with the file applied, key by key, for what
psot wrote (description, config keys, devices, an instance's profiles); an
object gone from the server is drift too. `psot plan` and `psot apply
--status` report it, and apply puts the applied file back (the drifted file
becomes a unit even though it did not change).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from generator.apply.units import (
    Change,
    Context,
    LiveDrift,
    Program,
    Step,
    Unit,
    action_of,
    as_mapping,
    key_values,
    parse_yaml,
)
from generator.platforms.incus import NAME
from generator.rules.incus_config_keys import is_config_key, is_device_key

# The folder (or file) of each kind of object in incus/<domain>/, and its rank: created in this order,
# deleted in the reverse one.
KINDS = ("project.yaml", "network-acls", "networks", "volumes", "profiles", "instances")
LISTED = {"network-acls": "network-acls", "networks": "networks", "profiles": "profiles",
          "instances": "instances"}   # kind -> /1.0/<api>
# A storage volume is `<pool>/<name>` (incus/<domain>/volumes/<pool>/<name>.yaml), listed per pool.
# Removed in this order. The project goes before its network and ACL: psot's projects keep
# features.networks false, so those live in project `default`, and the project's `default` profile
# (which cannot be deleted) holds them in use until the project is gone.
REMOVALS = ("instances", "profiles", "volumes", "project.yaml", "networks", "network-acls")
PROTECTION = "security.protection.delete"


@dataclass
class _IncusLive:
    projects: set[str] | None                    # None: unknown (incus cannot be asked)
    listed: dict[tuple[str, ...], set[str]] = field(default_factory=dict)   # (kind, domain[, pool]) -> names
    created: set[str] = field(default_factory=set)   # projects the units create (not on the server yet)
    images: set[tuple[str, str]] = field(default_factory=set)   # (project, image) a unit copies there


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


def _volume_api(pool: str) -> str:
    return f"/1.0/storage-pools/{quote(pool, safe='')}/volumes/custom"


def _listing(kind: str, domain: str, name: str) -> tuple[tuple[str, ...], str, str]:
    """(cache key, URL, prefix of its entries) of the server's list that holds object `name` of `kind`."""
    project = f"?project={quote(domain, safe='')}"
    if kind == "volumes":
        pool = name.partition("/")[0]
        return (kind, domain, pool), _volume_api(pool) + project, _volume_api(pool) + "/"
    return (kind, domain), f"/1.0/{LISTED[kind]}{project}", f"/1.0/{LISTED[kind]}/"


def _object_url(kind: str, domain: str, name: str) -> str:
    if kind == "project.yaml":
        return f"/1.0/projects/{quote(domain, safe='')}"
    if kind == "volumes":
        pool, _, volume = name.partition("/")
        return f"{_volume_api(pool)}/{quote(volume, safe='')}?project={quote(domain, safe='')}"
    return f"/1.0/{LISTED[kind]}/{quote(name, safe='')}?project={quote(domain, safe='')}"


class _Incus:
    """What exists on the server, asked once per listing; without a server, the last apply's record."""

    def __init__(self, ctx: Context, applied: Mapping[str, bytes]) -> None:
        self.ctx = ctx
        self.applied = applied
        projects = _names(self.ask(("incus", "query", "--", "/1.0/projects")), "/1.0/projects/")
        self.live = _IncusLive(projects)

    @property
    def reachable(self) -> bool:
        return self.live.projects is not None

    def ask(self, argv: tuple[str, ...]) -> str | None:
        """incus's answer; None as from a failed query when there is no way to ask."""
        return self.ctx.query(argv) if self.ctx.query is not None else None

    def project_exists(self, domain: str) -> bool:
        if self.live.projects is None:
            return f"incus/{domain}/project.yaml" in self.applied
        return domain in self.live.projects

    def created_project(self, domain: str) -> None:
        """`domain` is created by a unit before the ones that follow: it holds only its `default` profile."""
        if self.live.projects is not None:
            self.live.projects.add(domain)
            self.live.created.add(domain)
            self.live.listed[("profiles", domain)] = {"default"}
            self.live.listed[("instances", domain)] = set()
            self.live.listed.pop(("networks", domain), None)

    def exists(self, kind: str, domain: str, name: str) -> bool:
        if kind == "project.yaml":
            return self.project_exists(domain)
        key, url, prefix = _listing(kind, domain, name)
        if key not in self.live.listed:
            if kind == "volumes" and domain in self.live.created:
                self.live.listed[key] = set()          # a project created now holds no volume yet
            elif self.live.projects is None or domain not in self.live.projects:
                known = {w[2] for p in self.applied if (w := _split(p)) is not None and w[:2] == (domain, kind)}
                self.live.listed[key] = known | ({"default"} if kind == "profiles" else set())
            else:
                found = _names(self.ask(("incus", "query", "--", url)), prefix) or set()
                pool = key[2:]
                self.live.listed[key] = {"/".join((*pool, n)) for n in found}
        return name in self.live.listed[key]

    def read(self, kind: str, domain: str, name: str) -> dict | None:
        """The object as the server has it now; None when it cannot be read."""
        if not self.reachable:
            return None
        out = self.ask(("incus", "query", "--", _object_url(kind, domain, name)))
        try:
            body = json.loads(out) if out else None
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


def _config_steps(verb: tuple[str, ...], name: str | tuple[str, ...], before: Mapping[str, Any],
                  new: Mapping[str, Any], gone: set[str], project: tuple[str, ...] = ()) -> list[Step]:
    """`incus <verb> set|unset [--project D] -- NAME …` (a storage volume: `-- POOL NAME …`): the description
    and config keys of `new` that `before` does not have, then the keys of `gone` that `before` still has."""
    names = (name,) if isinstance(name, str) else name

    def incus(action: str, *args: str, flags: tuple[str, ...] = ()) -> Step:
        return Step(("incus", *verb, action, *project, *flags, "--", *names, *args))

    steps: list[Step] = []
    if "description" in new and before.get("description", "") != new["description"]:
        steps.append(incus("set", f"description={new['description']}", flags=("--property",)))
    old_config, new_config = as_mapping(before.get("config")), as_mapping(new.get("config"))
    changed = {k: v for k, v in new_config.items() if old_config.get(k) != v}
    if changed:
        steps.append(incus("set", *key_values(changed)))
    for key in sorted((gone & set(old_config)) - set(new_config)):
        steps.append(incus("unset", key))
    return steps


def instance_steps(name: str, domain: str, before: dict, new: dict, gone: dict) -> list[Step]:
    """The commands that take an existing instance from `before` (its configuration now) to `new`.

    `gone`: the file psot applied last ({} when none): of its config keys and devices, those `new` no longer
    has are unset or removed; nothing else of `before` is.
    """
    project = ("--project", domain)

    def incus(*verb: str, args: tuple[str, ...], flags: tuple[str, ...] = ()) -> Step:
        """`incus <verb> --project D <flags> -- M <args>`: the instance and all after it are never options."""
        return Step(("incus", *verb, *project, *flags, "--", name, *args))

    steps: list[Step] = []
    if isinstance(new.get("profiles"), list) and before.get("profiles") != new["profiles"]:
        steps.append(incus("profile", "assign", args=(",".join(new["profiles"]),)))
    steps += _config_steps(("config",), name, before, new, set(as_mapping(gone.get("config"))), project)
    old_devices, new_devices = as_mapping(before.get("devices")), as_mapping(new.get("devices"))
    for dev in sorted((set(as_mapping(gone.get("devices"))) & set(old_devices)) - set(new_devices)):
        steps.append(incus("config", "device", "remove", args=(dev,)))
    for dev, options in sorted(new_devices.items()):
        options = as_mapping(options)
        earlier = old_devices.get(dev)
        if earlier == options:
            continue
        earlier = as_mapping(earlier)
        rest = {k: v for k, v in options.items() if k != "type"}
        if earlier and earlier.get("type") == options.get("type"):
            sets = {k: v for k, v in rest.items() if earlier.get(k) != v}
            if sets:
                steps.append(incus("config", "device", "set", args=(dev, *key_values(sets))))
            for key in sorted(set(earlier) - set(options)):
                steps.append(incus("config", "device", "unset", args=(dev, key)))
            continue
        if earlier:
            steps.append(incus("config", "device", "remove", args=(dev,)))
        steps.append(incus("config", "device", "add", args=(dev, str(options.get("type", "")), *key_values(rest))))
    return steps


def _not_keys(body: Mapping[str, Any]) -> list[str]:
    """Config and device option keys of an instance file that are not Incus keys (INC006's grammar)."""
    bad = [str(k) for k in as_mapping(body.get("config")) if not is_config_key(k)]
    for dev, options in sorted(as_mapping(body.get("devices")).items()):
        bad += [f"{dev}.{k}" for k in as_mapping(options) if not is_device_key(k)]
    return bad


def _split(path: str) -> tuple[str, str, str] | None:
    """(domain, kind, name) of an Incus object's file, or None for a file that is no such object."""
    parts = path.split("/")
    if len(parts) == 3 and parts[2] == "project.yaml":
        return parts[1], "project.yaml", parts[1]
    if len(parts) == 5 and parts[2] == "volumes" and parts[4].endswith(".yaml"):
        return parts[1], "volumes", f"{parts[3]}/{PurePosixPath(path).stem}"
    if len(parts) == 4 and parts[2] in LISTED and parts[3].endswith(".yaml"):
        return parts[1], parts[2], PurePosixPath(path).stem
    return None


def _removal(kind: str, domain: str, name: str, old: bytes | None) -> list[Step]:
    project = ("--project", domain)
    if kind == "project.yaml":
        return [Step(("incus", "project", "delete", "--", domain))]
    if kind == "profiles":
        # A project's `default` profile cannot be deleted (incusd refuses): it goes with its project.
        return [] if name == "default" else [Step(("incus", "profile", "delete", *project, "--", name))]
    if kind == "networks":      # in project default (see REMOVALS), which outlives the domain's
        return [Step(("incus", "network", "delete", "--project", "default", "--", name))]
    if kind == "network-acls":
        return [Step(("incus", "network", "acl", "delete", "--project", "default", "--", name))]
    if kind == "volumes":
        return [Step(("incus", "storage", "volume", "delete", *project, "--", *name.split("/", 1)))]
    steps = []
    if as_mapping(as_mapping(parse_yaml(old)).get("config")).get(PROTECTION) == "true":
        # psot protected it: lifted just before psot deletes it, and only then.
        steps.append(Step(("incus", "config", "set", *project, "--", name, f"{PROTECTION}=false")))
    # --force: a running instance is stopped first (without it incus refuses to delete it).
    return steps + [Step(("incus", "delete", "--force", *project, "--", name))]


# --- images ---------------------------------------------------------------------------------------

def _image_project(incus: _Incus, domain: str, desired: Mapping[str, bytes]) -> str:
    """The project whose images an instance of `domain` is created from: its own when features.images is
    true (as the file psot applies says, else as the server has it), else `default`."""
    project = as_mapping(parse_yaml(desired.get(f"incus/{domain}/project.yaml")))
    images = as_mapping(project.get("config")).get("features.images")
    if images is None and incus.project_exists(domain) and domain not in incus.live.created:
        images = as_mapping((incus.read("project.yaml", domain, domain) or {}).get("config")).get("features.images")
    return domain if images == "true" else "default"


def _has_image(incus: _Incus, project: str, image: str) -> bool:
    """Whether the alias or fingerprint `image` is among the images of `project` on the server."""
    q = quote(project, safe="")
    return any(incus.ask(("incus", "query", "--", url)) is not None
               for url in (f"/1.0/images/aliases/{quote(image, safe='')}?project={q}",
                           f"/1.0/images/{quote(image, safe='')}?project={q}"))


def _image_steps(incus: _Incus, domain: str, image: str, desired: Mapping[str, bytes]) -> tuple[list[Step], str | None]:
    """What brings `image` into the project an instance of `domain` is created from, and why it cannot be had
    (None when it can). A remote's image (`images:…`) is fetched by incus itself. An alias or fingerprint of this
    server must be in that project's images; when it is not, but project `default` has it (where `incus image
    import` puts it), it is copied over first: `incus image copy --mode relay` (the client relays: a server that
    does not listen on the network cannot push to itself), with its aliases. Once per project and image."""
    if ":" in image:
        return [], None
    project = _image_project(incus, domain, desired)
    if (project, image) in incus.live.images:
        return [], None
    if project not in incus.live.created and _has_image(incus, project, image):
        return [], None
    if project != "default" and _has_image(incus, "default", image):
        incus.live.images.add((project, image))
        return [Step(("incus", "image", "copy", "--project", "default", "--target-project", project,
                      "--copy-aliases", "--mode", "relay", "--", image, "local:"))], None
    own = " (Incus keeps images per project: its features.images is true)" if project == domain else ""
    elsewhere = " nor in project default" if project != "default" else ""
    return [], (f"image {image!r} is neither in project {project}{own}{elsewhere}: import it with `incus image "
                f"import FILE --alias {image}` (psot copies it from project default into a project that keeps its "
                f"own images), or use a remote's image (e.g. `images:debian/12`), then apply again")


def _project_images(incus: _Incus, domain: str, old: bytes | None, changes: list[Change]) -> list[Step]:
    """`incus image delete` of the images a project being removed holds for the instances removed with it (the
    ones apply copied there, `_image_steps`): `incus project delete` refuses a project that still has images.
    Only aliases its removed instances were created from, and only those the server has there."""
    if as_mapping(as_mapping(parse_yaml(old)).get("config")).get("features.images") != "true":
        return []
    images = set()
    for path, before, after in changes:
        where = _split(path)
        if after is None and where is not None and where[:2] == (domain, "instances"):
            image = as_mapping(parse_yaml(before)).get("image")
            if isinstance(image, str) and image and ":" not in image:
                images.add(image)
    return [Step(("incus", "image", "delete", "--project", domain, "--", image))
            for image in sorted(images) if incus.reachable and _has_image(incus, domain, image)]


# --- units ----------------------------------------------------------------------------------------

def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """The units of the changed Incus files, domain by domain: project, networks, profiles, instances;
    removals (--clean-orphans) last, instances before the profiles, networks and projects that hold them."""
    incus = _Incus(ctx, applied)
    if not incus.reachable:
        ctx.notes.append("incus could not be asked what exists: create or edit is decided from the "
                         "last apply's record")
    ahead: list[Unit] = []
    removals: list[tuple[int, Unit]] = []

    def rank(change: Change) -> tuple:
        where = _split(change[0])
        return (where[0], KINDS.index(where[1]), change[0]) if where else ("", -1, change[0])

    for path, old, new in sorted(changes, key=rank):
        where = _split(path)
        if where is None:
            ahead.append(Unit(NAME, "update", {path: new}, note="not an Incus object psot knows"))
            continue
        domain, kind, name = where
        project = ("--project", domain)
        label = ctx.source_label(path)
        action = action_of([(old, new)])
        if new is None:
            if ctx.clean_orphans:
                steps = _removal(kind, domain, name, old)
                if kind == "project.yaml":
                    steps = _project_images(incus, domain, old, changes) + steps
                removals.append((REMOVALS.index(kind), Unit(NAME, "delete", {path: None}, steps)))
            continue
        body = as_mapping(parse_yaml(new))
        gone = as_mapping(parse_yaml(old))
        exists = incus.exists(kind, domain, name)
        if kind == "project.yaml":
            if not exists:
                incus.created_project(domain)
                steps = [Step(("incus", "project", "create", "--", domain), new, label)]
            else:
                before = incus.read(kind, domain, name) or gone
                steps = _config_steps(("project",), domain, before, body, set(as_mapping(gone.get("config"))))
            ahead.append(Unit(NAME, action, {path: new}, steps))
        elif kind == "networks":
            if not exists:
                steps = [Step(("incus", "network", "create", *project, "--", name), new, label)]
            else:
                before = incus.read(kind, domain, name) or gone
                steps = _config_steps(("network",), name, before, body, set(as_mapping(gone.get("config"))),
                                      project)
            ahead.append(Unit(NAME, action, {path: new}, steps))
        elif kind == "network-acls":
            # psot writes the whole ACL: its rules are replaced as a whole, like a profile.
            verb = "edit" if exists else "create"
            ahead.append(Unit(NAME, action, {path: new},
                              [Step(("incus", "network", "acl", verb, *project, "--", name), new, label)]))
        elif kind == "volumes":
            pool_volume = tuple(name.split("/", 1))
            if not exists:
                steps = [Step(("incus", "storage", "volume", "create", *project, "--", *pool_volume), new, label)]
            else:
                before = incus.read(kind, domain, name) or gone
                steps = _config_steps(("storage", "volume"), pool_volume, before, body,
                                      set(as_mapping(gone.get("config"))), project)
            ahead.append(Unit(NAME, action, {path: new}, steps))
        elif kind == "profiles":
            verb = "edit" if exists else "create"
            ahead.append(Unit(NAME, action, {path: new},
                              [Step(("incus", "profile", verb, *project, "--", name), new, label)]))
        else:
            ahead.append(_instance_unit(incus, ctx, path, old, new, desired))
    return ahead + [u for _, u in sorted(removals, key=lambda r: r[0])]


def _instance_unit(incus: _Incus, ctx: Context, path: str, old: bytes | None, new: bytes,
                   desired: Mapping[str, bytes]) -> Unit:
    domain = path.split("/")[1]
    project = ("--project", domain)
    label = ctx.source_label(path)
    action = action_of([(old, new)])
    body = as_mapping(parse_yaml(new))
    name = str(body.get("name") or PurePosixPath(path).stem)
    bad = _not_keys(body)
    if bad:
        what = "is not an Incus key" if len(bad) == 1 else "are not Incus keys"
        return Unit(NAME, action, {path: new},
                    blocked=f"{', '.join(bad)} {what} (see `psot explain INC006`); nothing of {name} is passed "
                            "to incus")
    if not incus.exists("instances", domain, name):
        vm = ("--vm",) if body.get("type") == "virtual-machine" else ()
        image = body.get("image")
        if not image:
            return Unit(NAME, action, {path: new},
                        [Step(("incus", "create", *project, *vm, "--", "IMAGE", name), None, label, manual=True)],
                        blocked=f"instance {name} does not exist in project {domain} and has no image: set its "
                                "os_image (or global.default_os_image), or create it, then apply again")
        copy: list[Step] = []
        if incus.reachable:
            copy, missing = _image_steps(incus, domain, str(image), desired)
            if missing is not None:
                ctx.refusals.append(f"{path}: {missing}")
        return Unit(NAME, action, {path: new},
                    copy + [Step(("incus", "create", *project, *vm, "--", str(image), name), new, label)])
    gone = as_mapping(parse_yaml(old))
    before = incus.read("instances", domain, name) or gone
    return Unit(NAME, action, {path: new}, instance_steps(name, domain, before, body, gone))


# --- drift ----------------------------------------------------------------------------------------

def _differences(kind: str, applied: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """What of `applied` (a file psot applied) the server has otherwise, as `key: applied X, server Y`."""
    def shown(value: Any) -> str:
        return "(none)" if value is None else json.dumps(value) if not isinstance(value, str) else repr(value)

    out = []
    if "description" in applied and live.get("description", "") != applied["description"]:
        out.append(f"description: applied {shown(applied['description'])}, server {shown(live.get('description'))}")
    if kind == "instances" and isinstance(applied.get("profiles"), list) and live.get("profiles") != \
            applied["profiles"]:
        out.append(f"profiles: applied {shown(applied['profiles'])}, server {shown(live.get('profiles'))}")
    if kind == "network-acls":
        for direction in ("ingress", "egress"):
            if live.get(direction) != applied.get(direction):
                out.append(f"{direction}: applied {shown(applied.get(direction))}, server {shown(live.get(direction))}")
    live_config = as_mapping(live.get("config"))
    for key, value in sorted(as_mapping(applied.get("config")).items()):
        if live_config.get(key) != value:
            out.append(f"config.{key}: applied {shown(value)}, server {shown(live_config.get(key))}")
    live_devices = as_mapping(live.get("devices"))
    for dev, options in sorted(as_mapping(applied.get("devices")).items()):
        there = live_devices.get(dev)
        if there is None:
            out.append(f"devices.{dev}: applied, not on the server")
            continue
        there = as_mapping(there)
        for key in sorted(set(as_mapping(options)) | set(there)):
            if as_mapping(options).get(key) != there.get(key):
                out.append(f"devices.{dev}.{key}: applied {shown(as_mapping(options).get(key))}, server "
                           f"{shown(there.get(key))}")
    return out


def drift(applied: Mapping[str, bytes], ctx: Context) -> list[LiveDrift]:
    """Every Incus object psot applied whose live state differs from the file applied (by hand, on the server);
    nothing when the server cannot be asked (a note says so)."""
    objects = [(path, where) for path in sorted(applied) if (where := _split(path)) is not None]
    if not objects:
        return []
    incus = _Incus(ctx, applied)
    if not incus.reachable:
        ctx.notes.append("incus could not be asked: what was changed on the server by hand is not known")
        return []
    out = []
    for path, (domain, kind, name) in objects:
        if kind != "project.yaml" and not incus.project_exists(domain):
            continue          # reported once, for the project
        if not incus.exists(kind, domain, name):
            out.append(LiveDrift(path, ("not on the server (deleted by hand?)",)))
            continue
        live = incus.read(kind, domain, name)
        if live is None:
            continue
        found = _differences(kind, as_mapping(parse_yaml(applied[path])), live)
        if found:
            out.append(LiveDrift(path, tuple(found)))
    return out


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """The `incus` client, on its default remote; whether --clean-orphans lifts a protection psot set."""
    protected = any(as_mapping(as_mapping(parse_yaml(content)).get("config")).get(PROTECTION) == "true"
                    for path, content in files.items() if (_split(path) or ("", ""))[1] == "instances")
    notes = (f"`--clean-orphans` sets {PROTECTION}=false on an instance psot protected, just before `incus "
             "delete`",) if protected else ()
    return [Program(NAME, None, ("incus",), "on the incus client's default remote (`incus remote get-default`)",
                    notes=notes)]
