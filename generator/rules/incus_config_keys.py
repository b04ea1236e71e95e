"""An Incus config key or device option key has the shape of an Incus key: dotted words, e.g. `limits.cpu`.

Incus names every instance, profile and project setting with lower-case
words joined by dots (`limits.cpu`, `security.privileged`,
`user.my-tag`, `limits.hugepages.2MB`), and every device option with a
word or dotted words (`pci`, `gputype`, `mig.uuid`). psot hands these keys
to the `incus` command as arguments (`incus config set --project D -- M
key=value`), so a key of another shape is never passed on: one with `=`
would set another key on update than the file sets on create (`incus`
splits `user.a=b=c` at the first `=`), one starting with `-` would be read
as an option, and a space or control character has no place in a key.
incusd refuses unknown keys itself, under the free-form families too (any
`user.*`, `environment.*` key is accepted there), which is why the shape
is checked here.

Incus source, internal/instance/config.go (ConfigKeyChecker: known keys,
then the `user.`, `environment.`, `volatile.`, `image.`, `limits.kernel.`,
`linux.sysctl.` families) and cmd/incus/config.go (`key=value` arguments).

Fix::

    Spell the key as Incus documents it: words of letters, digits, `_` and
    `-`, joined by dots, beginning with a lower-case letter (`user.build-id`,
    not `user.build=id` or `--user`).

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        machines:
          gpu-server:
            type: lxc
            config: {limits.cpu: "4", user.build-id: "42"}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        machines:
          gpu-server:
            type: lxc
            config: {limits.cpu: "4", user.build=id: "42"}

Finding::

    infra.yml:8:35: error[INC006] machine 'gpu-server' config key 'user.build=id' is not an Incus key (dotted words of letters, digits, '_' and '-', e.g. limits.cpu): it has '='; Incus would read 'user.build' = 'id=42' on update
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from generator.model.core import Infra
from generator.model.incus import Machine, Profile
from generator.rules.base import Context, Problem

CODE = "INC006"
SEVERITY = "error"
STAGE = "model"

_WORD = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
# A config key: a lower-case namespace word, then one or more words (`limits.cpu`, `limits.hugepages.2MB`).
CONFIG_KEY = re.compile(rf"[a-z][a-z0-9_-]*(\.{_WORD})+")
# A device option key: a lower-case word, then any dotted words (`pci`, `mig.uuid`, `boot.priority`).
DEVICE_KEY = re.compile(rf"[a-z][a-z0-9_-]*(\.{_WORD})*")
CONFIG_SHAPE = "dotted words of letters, digits, '_' and '-', e.g. limits.cpu"
DEVICE_SHAPE = "words of letters, digits, '_' and '-', joined by dots, e.g. gputype or mig.uuid"


def is_config_key(key: Any) -> bool:
    return isinstance(key, str) and CONFIG_KEY.fullmatch(key) is not None


def is_device_key(key: Any) -> bool:
    return isinstance(key, str) and DEVICE_KEY.fullmatch(key) is not None


def why_not(key: str, value: Any = None, dotted: bool = True) -> str:
    """What in `key` keeps it from being a key, in a few words."""
    if "=" in key:
        head, _, rest = key.partition("=")
        if value is None:
            return "it has '='"
        return f"it has '='; Incus would read '{shown(head)}' = '{shown(rest)}={shown(_text(value))}' on update"
    if key.startswith("-"):
        return "it starts with '-', which the incus command would read as an option"
    odd = next((c for c in key if unicodedata.category(c)[0] in "CZ"), None)
    if odd is not None:
        return f"it has {'a space' if odd == ' ' else f'the character U+{ord(odd):04X}'}"
    if dotted and "." not in key:
        return "it has no '.' (every Incus config key has a namespace, e.g. user.NAME)"
    if not key[:1].islower():
        return "it does not start with a lower-case letter"
    return "it has a character or an empty word that Incus keys do not have"


def shown(text: str) -> str:
    """`text` with control and other invisible characters written as escapes, safe to print."""
    return "".join(c if unicodedata.category(c)[0] not in "CZ" or c == " " else
                   (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") for c in text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sites(infra: Infra) -> Iterator[tuple[str, str, Mapping, tuple]]:
    """(owner label, what, mapping, path) of every config map and device of infra.yml's Incus objects."""
    for domain in infra.domains.values():
        owners: list[tuple[str, Profile | Machine]] = [("profile", p) for p in domain.profiles.values()]
        owners += [("machine", m) for m in domain.machines.values()]
        for owner, spec in owners:
            yield f"{owner} '{spec.name}'", "config", spec.config, spec.path + ("config",)
            for device, options in spec.devices.items():
                yield f"{owner} '{spec.name}' device '{device}'", "device", options, spec.path + ("devices", device)


def check(ctx: Context) -> Iterator[Problem]:
    for label, what, mapping, path in _sites(ctx.infra):
        for key, value in mapping.items():
            if what == "config" and not is_config_key(key):
                yield Problem(f"{label} config key '{shown(str(key))}' is not an Incus key ({CONFIG_SHAPE}): "
                              f"{why_not(str(key), value)}", path + (key,), at="key")
            elif what == "device" and not is_device_key(key):
                yield Problem(f"{label} option '{shown(str(key))}' is not an Incus device option ({DEVICE_SHAPE}): "
                              f"{why_not(str(key), value, dotted=False)}", path + (key,), at="key")
