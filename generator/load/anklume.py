"""AnKLuMe's current project layout, translated into the document of an infra.yml.

An AnKLuMe project today is a directory: `anklume.yml` (schema_version, defaults, addressing, nesting,
resource_policy, gpu_policy, ai_access_policy, ...), one `domains/<name>.yml` per domain (the file's
stem is the domain's name, the file its body; its machines are named `<domain>-<machine>` once
loaded) and an optional `policies.yml` (`policies: [...]`). psot reads infra.yml's shape (AnKLuMe's
earlier single file), so each file is translated into it, and every position is moved with its value:
a finding on a node names the file, line and column it was written at.

AnKLuMe's own defaults are made explicit where psot's differ: a domain without trust_level takes
`defaults.trust_level` (else semi-trusted), machines without os_image `defaults.os_image` (else
images:debian/13), addressing is always on (10.100), and a falsy resource_policy is off. anklume.yml
may also hold infra.yml's own keys (project_name, global, hosts, workloads, ...), for what AnKLuMe does
not say (the GPU inventory); project_name defaults to the project directory's name.

The loader (generator/load/loader.py) reads the files; this module only reshapes what it read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.diagnostics.findings import Diagnostics

if TYPE_CHECKING:
    from generator.load.loader import Document, Location, Path_

CONFIG = "anklume.yml"
SCHEMA_VERSION = 1
DEFAULT_OS_IMAGE = "images:debian/13"
DEFAULT_TRUST_LEVEL = "semi-trusted"
DEFAULT_BASE = "10.100"
_BASE = re.compile(r"([0-9]{1,3})\.([0-9]{1,3})")

# anklume.yml's sections whose keys move one by one, and the keys AnKLuMe reads in each.
_SECTIONS = {"defaults": ("os_image", "trust_level"), "addressing": ("base", "zone_step"), "nesting": ("prefix",)}
# Where AnKLuMe's settings go in infra.yml: (anklume.yml path) -> (infra.yml path).
_MOVES: dict[tuple, tuple] = {
    ("defaults", "os_image"): ("global", "default_os_image"),
    ("addressing", "zone_step"): ("global", "addressing", "zone_step"),
    ("nesting", "prefix"): ("global", "nesting_prefix"),
    ("resource_policy",): ("global", "resource_policy"),
    ("gpu_policy",): ("global", "gpu_policy"),
    ("ai_access_policy",): ("global", "ai_access_policy"),
}
# AnKLuMe's top-level keys that are not sections or moves: read here, not carried into infra.yml.
_OWN = {"schema_version", "network_passthrough", "requires_anklume", *_SECTIONS}


def project_root(path: Path) -> Path | None:
    """The AnKLuMe project `path` names (a file called anklume.yml, or a directory holding one and no
    base.yml, which would make it an infra/ directory), or None."""
    if path.is_dir():
        return path if os.path.lexists(path / CONFIG) and not os.path.lexists(path / "base.yml") else None
    return path.parent if path.name == CONFIG else None


def where(location: Location) -> str:
    """A position as findings print it: `file:line:column`."""
    return f"{location[0]}:{location[1]}:{location[2]}"


def rekey(doc: Document, move: Callable[[tuple], tuple[tuple, ...]]) -> None:
    """Every recorded position of `doc` to each of the paths `move` gives its path (none: dropped)."""
    for name in ("keys", "values"):
        table: dict = getattr(doc, name)
        moved = {}
        for path, recorded in table.items():
            for target in move(path):
                moved[target] = doc.position(recorded)
        setattr(doc, name, moved)


@dataclass(frozen=True)
class Config:
    """anklume.yml translated: infra.yml's top level, and the trust level of domains that set none."""
    data: dict
    trust_level: Any
    trust_at: Location | None   # where defaults.trust_level is written, None when it is not


def translate_config(data: dict, doc: Document, diag: Diagnostics, name: str) -> Config:
    """anklume.yml's `data` (positions in `doc`, moved here) as infra.yml's top level.

    `name`: the project directory's name, the project_name when anklume.yml sets none.
    """
    origin: dict[tuple, tuple] = {}   # infra.yml path -> the anklume.yml path it came from
    result = {key: value for key, value in data.items() if key not in _OWN and key not in {p[0] for p in _MOVES}}
    sections: dict[str, dict] = {}
    for section in _SECTIONS:
        value = data.get(section)
        if value is None:
            sections[section] = {}
        elif isinstance(value, dict):
            sections[section] = value
            for key in value:
                if key not in _SECTIONS[section]:
                    diag.warning("LOAD013", f"'{key}' is not a key of AnKLuMe's {section} (it reads "
                                 f"{', '.join(_SECTIONS[section])}); psot ignores it", (section, key), at="key")
        else:
            sections[section] = {}
            diag.error("LOAD011", f"{section} must be a mapping of {', '.join(_SECTIONS[section])}, as AnKLuMe "
                       "reads it", (section,))
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION or type(version) is not int:
        diag.error("LOAD011", f"schema_version {version!r}: psot reads AnKLuMe's anklume.yml of schema_version "
                   f"{SCHEMA_VERSION}", ("schema_version",))
    if data.get("network_passthrough") not in (None, False):
        diag.warning("LOAD013", "network_passthrough: psot's firewall drops all traffic between domains but "
                     "network_policies, and has no passthrough; psot ignores it", ("network_passthrough",))

    glob = result.get("global", {})
    if not isinstance(glob, dict):
        glob = {}   # the schema reports infra.yml's global of the wrong type
    else:
        glob = result["global"] = dict(glob)

    def put(target: tuple, value: Any, source: tuple) -> None:
        node = glob
        for key in target[1:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                return   # the schema reports global's own value of the wrong type
        if target[-1] in node:
            first = doc.locate(target, at="key")
            diag.error("LOAD012", f"{'.'.join(map(str, source))} is global.{'.'.join(target[1:])}, which is "
                       f"already set at {where(first)}; set it in one place", source, at="key")
            return
        node[target[-1]] = value
        origin[target] = source

    for source, target in _MOVES.items():
        holder = sections[source[0]] if len(source) == 2 else data
        if source[-1] in holder:
            value = holder[source[-1]]
            if source == ("resource_policy",) and not value:
                value = False   # AnKLuMe allocates nothing for an empty resource_policy; psot's {} is every default
            put(target, value, source)
    # AnKLuMe always addresses its domains (10.100 by default); infra.yml's own global may say how instead.
    written = "base" in sections["addressing"]
    own = data.get("global")
    if written or not (isinstance(own, dict) and {"addressing", "base_subnet"} & own.keys()):
        base = sections["addressing"].get("base", DEFAULT_BASE)
        octets = _BASE.fullmatch(str(base))
        if octets is None:
            diag.error("LOAD011", f"addressing.base {base!r} must be the first two octets of AnKLuMe's networks, "
                       f"e.g. \"{DEFAULT_BASE}\"", ("addressing", "base"))
        else:
            for key, octet in zip(("base_octet", "zone_base"), octets.groups(), strict=True):
                put(("global", "addressing", key), int(octet), ("addressing", "base"))
    if "os_image" not in sections["defaults"]:
        glob.setdefault("default_os_image", DEFAULT_OS_IMAGE)
    result.setdefault("project_name", name)
    result.setdefault("domains", {})

    # Positions: every path that moved goes where its longest moved anklume.yml prefix went.
    targets: dict[tuple, list[tuple]] = {}
    for target, source in origin.items():
        targets.setdefault(source, []).append(target)
    if "addressing" in data and ("global", "addressing") not in doc.keys:
        targets[("addressing",)] = [("global", "addressing")]
    dropped = _OWN | {source[0] for source in _MOVES}

    def move(path: tuple) -> tuple[tuple, ...]:
        for cut in range(len(path), 0, -1):
            if path[:cut] in targets:
                return tuple(target + path[cut:] for target in targets[path[:cut]])
        return () if path and path[0] in dropped else (path,)

    trust_at = doc.locate(("defaults", "trust_level")) if "trust_level" in sections["defaults"] else None
    rekey(doc, move)
    return Config(result, sections["defaults"].get("trust_level", DEFAULT_TRUST_LEVEL), trust_at)


def translate_domain(name: str, body: dict, part: Document, config: Config, machines: dict[str, Location],
                     diag: Diagnostics) -> dict:
    """A domains/<name>.yml's `body` as infra.yml's `{name: domain}`, its machines prefixed `<name>-`.

    `machines`: every prefixed name given so far, and where its machine is written; a name given
    twice is LOAD014 (the second machine is left out: one finding, not a NAME002 as well).
    """
    renamed: dict[Any, str] = {}
    listed = body.get("machines")
    domain = dict(body)
    if isinstance(listed, dict):
        kept = {}
        for short, machine in listed.items():
            full = f"{name}-{short}"
            at = part.locate(("machines", short), at="key")
            if full in machines:
                diag.at_location("LOAD014", "error", f"machine '{short}' of domain '{name}' is named '{full}' "
                                 f"(AnKLuMe prefixes machines with their domain), as is the machine at "
                                 f"{where(machines[full])}; rename one", at[0], at[1], at[2],
                                 f"domains.{name}.machines.{short}")
                continue
            machines[full] = at
            kept[full] = machine
            renamed[short] = full
        domain["machines"] = kept
    file = part.files[0]
    if "trust_level" not in domain:
        domain["trust_level"] = config.trust_level
        part.values[("trust_level",)] = config.trust_at or (file, 1, 1)

    def move(path: Path_) -> tuple[Path_, ...]:
        if len(path) >= 2 and path[0] == "machines" and isinstance(listed, dict):
            return ((name, "machines", renamed[path[1]]) + path[2:],) if path[1] in renamed else ()
        return ((name,) + path,)

    rekey(part, move)
    part.keys[(name,)] = (file, 1, 1)
    return {name: domain}


def translate_policies(body: dict, part: Document, diag: Diagnostics) -> dict:
    """policies.yml's `body`: AnKLuMe's `policies` is infra.yml's `network_policies`."""
    if "policies" not in body:
        return body
    if "network_policies" in body:
        file, line, column = part.locate(("policies",), at="key")
        diag.at_location("LOAD012", "error", "policies is network_policies, which is already set at "
                         f"{where(part.locate(('network_policies',), at='key'))}; set it in one place",
                         file, line, column, "policies")
        return {key: value for key, value in body.items() if key != "policies"}
    rekey(part, lambda path: (("network_policies",) + path[1:] if path[:1] == ("policies",) else path,))
    return {("network_policies" if key == "policies" else key): value for key, value in body.items()}
