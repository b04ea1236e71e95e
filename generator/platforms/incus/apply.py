"""Incus apply: the changed files of generated/incus/ as `incus` commands.

The local `incus` client runs them (point it at another server with `incus
remote switch`): a project is created with `incus project create -- D <
project.yaml` or updated with `incus project edit -- D < project.yaml`; a
profile with `incus profile create|edit --project D -- P < file` (create
or edit is decided by asking incusd which exist, `incus query`); an
instance that does not exist is created from its image with `incus create
--project D -- IMAGE M < file`, and an existing one gets only the
differences: `incus profile assign`, `incus config set|unset`, `incus
config device add|set|unset|remove`. Without a record of a previous apply,
the differences are taken against the instance's live configuration and
nothing psot did not write is unset or removed. With `--clean-orphans`,
`incus delete|profile delete|project delete` remove what psot created.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from generator.apply.units import Change, Context, Program, Step, Unit, action_of, as_mapping, key_values, parse_yaml
from generator.platforms.incus import NAME
from generator.rules.incus_config_keys import is_config_key, is_device_key


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


def instance_steps(name: str, domain: str, old: dict, new: dict, owned: bool) -> list[Step]:
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
    old_config, new_config = as_mapping(old.get("config")), as_mapping(new.get("config"))
    changed = {k: v for k, v in new_config.items() if old_config.get(k) != v}
    if changed:
        steps.append(incus("config", "set", args=tuple(key_values(changed))))
    if owned:
        for key in sorted(set(old_config) - set(new_config)):
            steps.append(incus("config", "unset", args=(key,)))
    old_devices, new_devices = as_mapping(old.get("devices")), as_mapping(new.get("devices"))
    if owned:
        for dev in sorted(set(old_devices) - set(new_devices)):
            steps.append(incus("config", "device", "remove", args=(dev,)))
    for dev, options in sorted(new_devices.items()):
        options = as_mapping(options)
        before = old_devices.get(dev)
        if before == options:
            continue
        before = as_mapping(before)
        rest = {k: v for k, v in options.items() if k != "type"}
        if before and before.get("type") == options.get("type"):
            sets = {k: v for k, v in rest.items() if before.get(k) != v}
            if sets:
                steps.append(incus("config", "device", "set", args=(dev, *key_values(sets))))
            for key in sorted(set(before) - set(options)):
                steps.append(incus("config", "device", "unset", args=(dev, key)))
            continue
        if before:
            steps.append(incus("config", "device", "remove", args=(dev,)))
        steps.append(incus("config", "device", "add", args=(dev, str(options.get("type", "")), *key_values(rest))))
    return steps


def _not_keys(body: Mapping[str, Any]) -> list[str]:
    """Config and device option keys of an instance file that are not Incus keys (INC006's grammar)."""
    bad = [str(k) for k in as_mapping(body.get("config")) if not is_config_key(k)]
    for dev, options in sorted(as_mapping(body.get("devices")).items()):
        bad += [f"{dev}.{k}" for k in as_mapping(options) if not is_device_key(k)]
    return bad


def units(changes: list[Change], ctx: Context, desired: Mapping[str, bytes],
          applied: Mapping[str, bytes]) -> list[Unit]:
    """The units of the changed Incus files: projects, then profiles, then instances, domain by domain;
    removals (--clean-orphans) last, instances before the profiles and projects that hold them."""
    incus = _Incus(ctx, applied)
    ahead: list[Unit] = []
    removals: list[tuple[int, Unit]] = []
    order = {"project.yaml": 0, "profiles": 1, "instances": 2}
    for path, old, new in sorted(changes, key=lambda c: (c[0].split("/")[1], order.get(c[0].split("/")[2], 9),
                                                          c[0])):
        parts = path.split("/")
        if len(parts) < 3 or parts[2] not in order:
            ahead.append(Unit(NAME, "update", {path: new}, note="not an Incus object psot knows"))
            continue
        domain, kind = parts[1], parts[2]
        project = ("--project", domain)
        label = ctx.source_label(path)
        action = action_of([(old, new)])
        if new is None:
            if not ctx.clean_orphans:
                continue
            if kind == "project.yaml":
                step, rank = Step(("incus", "project", "delete", "--", domain)), 2
            elif kind == "profiles":
                step, rank = Step(("incus", "profile", "delete", *project, "--", PurePosixPath(path).stem)), 1
            else:
                step, rank = Step(("incus", "delete", *project, "--", PurePosixPath(path).stem)), 0
            removals.append((rank, Unit(NAME, "delete", {path: None}, [step])))
            continue
        if kind == "project.yaml":
            verb = "edit" if incus.project_exists(domain) else "create"
            if verb == "create" and incus.live.projects is not None:
                incus.live.projects.add(domain)
                incus.live.profiles[domain] = {"default"}
                incus.live.instances[domain] = set()
            ahead.append(Unit(NAME, action, {path: new},
                              [Step(("incus", "project", verb, "--", domain), new, label)]))
        elif kind == "profiles":
            name = PurePosixPath(path).stem
            verb = "edit" if incus.profile_exists(domain, name) else "create"
            ahead.append(Unit(NAME, action, {path: new},
                              [Step(("incus", "profile", verb, *project, "--", name), new, label)]))
        else:
            body = as_mapping(parse_yaml(new))
            name = str(body.get("name") or PurePosixPath(path).stem)
            vm = ("--vm",) if body.get("type") == "virtual-machine" else ()
            bad = _not_keys(body)
            if bad:
                what = "is not an Incus key" if len(bad) == 1 else "are not Incus keys"
                ahead.append(Unit(NAME, action, {path: new},
                                  blocked=f"{', '.join(bad)} {what} (see `psot explain INC006`); nothing of "
                                          f"{name} is passed to incus"))
                continue
            if not incus.instance_exists(domain, name):
                image = body.get("image")
                if image:
                    ahead.append(Unit(NAME, action, {path: new},
                                      [Step(("incus", "create", *project, *vm, "--", str(image), name), new,
                                            label)]))
                else:
                    ahead.append(Unit(NAME, action, {path: new},
                                      [Step(("incus", "create", *project, *vm, "--", "IMAGE", name), None, label,
                                            manual=True)],
                                      blocked=f"instance {name} does not exist in project {domain} and has no "
                                              "image: set its os_image (or global.default_os_image), or "
                                              "create it, then apply again"))
                continue
            owned = old is not None
            before = as_mapping(parse_yaml(old)) if owned else incus.live_instance(domain, name)
            ahead.append(Unit(NAME, action, {path: new}, instance_steps(name, domain, before, body, owned)))
    return ahead + [u for _, u in sorted(removals, key=lambda r: r[0])]


def programs(files: Mapping[str, bytes], ctx: Context) -> list[Program]:
    """The `incus` client, on its default remote."""
    return [Program(NAME, None, ("incus",), "on the incus client's default remote (`incus remote get-default`)")]
