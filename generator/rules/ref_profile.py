"""Every profile a machine lists is defined in its own domain's `profiles`, except `default`.

Each domain is an Incus project with its own profiles, so a profile of
another domain does not count. `default` is Incus's built-in profile, which
every project has.

AnKLuMe (scripts/psot/validate_machines.py): "Machine 'm': profile 'p' not defined in domain 'd'", with `default` exempt.

Fix::

    Define the profile in the domain's `profiles`, correct its name as the
    message suggests, or remove it from the machine's list.

Passing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, profiles: [default, nvidia-compute]}

Failing::

    project_name: lab
    global: {}
    domains:
      ai-tools:
        profiles:
          nvidia-compute:
            devices:
              gpu: {type: gpu, gputype: physical}
        machines:
          gpu-server: {type: lxc, profiles: [default, nvidia-compte]}

Finding::

    infra.yml:10:51: error[REF003] gpu-server: profile 'nvidia-compte' is not defined in domain 'ai-tools'; did you mean 'nvidia-compute'?
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Problem, did_you_mean

CODE = "REF003"
SEVERITY = "error"
STAGE = "model"

BUILTIN = "default"


def check(ctx: Context) -> Iterator[Problem]:
    domains = ctx.infra.domains
    defined_in: dict[str, list[str]] = {}  # profile name -> domains defining it, in file order
    for domain in domains.values():
        for profile in domain.profiles:
            defined_in.setdefault(profile, []).append(domain.name)
    for domain in domains.values():
        own = set(domain.profiles)
        for machine in domain.machines.values():
            for index, profile in enumerate(machine.profiles):
                if profile == BUILTIN or profile in own:
                    continue
                message = f"{machine.name}: profile '{profile}' is not defined in domain '{domain.name}'"
                elsewhere = defined_in.get(profile)
                if elsewhere:
                    message += (f"; it is a profile of {_domains(elsewhere)}, and each domain is its own Incus "
                                f"project: copy it into domains.{domain.name}.profiles")
                else:
                    message += did_you_mean(profile, sorted(own | {BUILTIN})) or (
                        f"; define it under domains.{domain.name}.profiles")
                yield Problem(message, machine.path + ("profiles", index))


def _domains(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return ("domain " if len(names) == 1 else "domains ") + ", ".join(quoted)
