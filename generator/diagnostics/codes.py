"""Every finding code psot can emit, in one table: what `psot explain` and the README tables show.

As ruff keeps every code of its own in one table that its docs are generated
from, psot keeps its codes here. An entry says what the code means and why
psot reports it, how to fix it, and shows a failing and a passing example:
the files to write, the command to run in their directory and the exact
finding it prints (tests/diagnostics/test_codes.py runs every example).

Rule codes describe themselves in their rule module's docstring
(generator/rules/), which this module reads; every other code (loading, the
schema, placement, the generated tree, detect) is written below.
`Diagnostics` refuses a code that is not in this table, or one reported with
another severity than the table gives it (`check`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

# The families, in the order the pipeline meets them: `psot explain` lists codes in this order.
FAMILIES = ("load", "schema", "model rule", "placement", "placement rule", "output", "detect", "switch")
# README.md blocks generated from the table (besides the rule table), and the families each shows.
README_BLOCKS = {"codes": ("load", "schema", "placement", "output"), "detect-codes": ("detect",),
                 "switch-codes": ("switch",)}


class CodeError(ValueError):
    """A finding reported with a code that is not in the table, or with another severity: a bug in psot."""


@dataclass(frozen=True)
class Example:
    """A transcript: files written in an empty directory, the command run there, the finding it prints."""

    files: tuple[tuple[str, str], ...] = ()   # (path relative to the directory, text)
    command: str = "psot validate"            # shell lines, run in the directory
    finding: str | None = None                # the exact finding a failing example prints
    env: tuple[tuple[str, str], ...] = ()     # environment the command runs in (its comment says so)

    def to_dict(self) -> dict:
        return {"files": dict(self.files), "command": self.command, "finding": self.finding,
                "env": dict(self.env)}


@dataclass(frozen=True)
class Code:
    code: str
    severity: str            # "error" or "warning"
    family: str              # one of FAMILIES
    summary: str             # one line
    explanation: str         # what it means and why psot says it: paragraphs separated by a blank line
    fix: str                 # how to fix it
    fails: Example | None = None
    passes: Example | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "family": self.family, "summary": self.summary,
                "explanation": self.explanation, "fix": self.fix,
                "fails": self.fails.to_dict() if self.fails else None,
                "passes": self.passes.to_dict() if self.passes else None}


def prose(text: str) -> str:
    """Text wrapped by hand as paragraphs of one line each, separated by a blank line."""
    paragraphs = re.split(r"\n\s*\n", textwrap.dedent(text).strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs if p.strip())


def _file(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _infra(text: str | None, command: str = "psot validate", finding: str | None = None,
           files: tuple[tuple[str, str], ...] = ()) -> Example:
    """An example made of an infra.yml (None: none) and more files, each dedented."""
    written = (("infra.yml", text),) if text is not None else ()
    return Example(tuple((name, _file(body)) for name, body in written + files), command, finding)


def _entry(code: str, severity: str, family: str, summary: str, explanation: str, fix: str,
           fails: Example | None = None, passes: Example | None = None) -> Code:
    return Code(code, severity, family, summary, prose(explanation), prose(fix), fails, passes)


_LAB = """\
    project_name: lab
    global: {}
    domains: {}
"""

# A domain file of an infra/ directory.
_AI = """\
    ai:
      machines:
        gpu-server: {type: lxc, gpu: true}
"""

# An AnKLuMe project in today's layout: its anklume.yml and a domain file.
_ANKLUME = """\
    schema_version: 1
    gpu_policy: exclusive
"""
_ANKLUME_AI = """\
    description: AI services
    machines:
      gpu-server: {type: lxc, gpu: true}
"""

# The start of a compose host's inventory (as indented as the examples it starts): its GPUs follow.
_WS = """\
            project_name: lab
            global: {}
            domains: {}
            hosts:
              ws:
                platform: docker
                gpus:
"""

# A Proxmox host whose one AMD card goes to a VM in `gaming` and to a container in `ai` (the switch examples).
_SWITCH = """\
            project_name: lab
            global: {mode: gaming}
            domains: {}
            hosts:
              pve:
                platform: proxmox
                iommu: true
                gpus:
                  rx-6800:
                    vendor: amd
                    vram_gb: 8
                    index: 0
                    pci: "0000:03:00.0"
                    pci_id: "1002:687f"
                    architecture: vega
                    subsystem_id: "1002:0b36"
                    iommu_group: 20
                    functions:
                      - {pci: "0000:03:00.1", pci_id: "1002:aaf8", class: "0403"}
            workloads:
              game: {target: proxmox, host: pve, vmid: 100, gpu: {passthrough: true, vram_gb: 6}}
              llm: {target: compose, host: pve, gpu: {vram_gb: 6}}
            modes:
              gaming: {consumers: {llm: {enabled: false}}}
              ai: {consumers: {game: {enabled: false}}}
"""

# Saved outputs of the detect examples: nvidia-smi's CSV query (one RTX 4090), lspci -nn -D -k.
_NVIDIA_CSV = "0, NVIDIA GeForce RTX 4090, 24564, 00000000:01:00.0, 8.9, GPU-1b724e78-eef5-4163-d43c-e4da15d41176, " \
             "570.124.06, 450.00\n"
_RTX_3060_CSV = "1, NVIDIA GeForce RTX 3060, 12288, 00000000:02:00.0, 8.6, GPU-2b724e78-eef5-4163-d43c-e4da15d41176, " \
               "570.124.06, 170.00\n"
_LSPCI = """\
    0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684] (rev a1)
    \tKernel driver in use: nvidia
    0000:02:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA106 [GeForce RTX 3060] [10de:2503] (rev a1)
    \tKernel driver in use: nvidia
"""
# lspci -nn -D -k -v of the RTX 4090's card: its board (subsystem), IOMMU group and HDMI audio function.
_LSPCI_V = """\
    0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684] (rev a1)
    \tSubsystem: Gigabyte Technology Co., Ltd Device [1458:40bf]
    \tFlags: bus master, fast devsel, latency 0, IRQ 186, IOMMU group 13
    \tKernel driver in use: nvidia
    0000:01:00.1 Audio device [0403]: NVIDIA Corporation AD102 High Definition Audio Controller [10de:22ba] (rev a1)
    \tSubsystem: Gigabyte Technology Co., Ltd Device [1458:40bf]
    \tFlags: bus master, fast devsel, latency 0, IRQ 187, IOMMU group 13
    \tKernel driver in use: snd_hda_intel
"""
_NVIDIA_OPEN = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build  " \
               "(dvs-builder@U16-I3-B03-4-3)  Fri Feb 28 10:22:43 UTC 2025\n"
_MODINFO = "filename:       /lib/modules/6.8.0-55-generic/updates/dkms/nvidia.ko.zst\nversion:        570.124.06\n" \
           "license:        {license}\nname:           nvidia\n"
# rocm-smi of an APU (a Radeon 780M, gfx1103): its VRAM is a 512 MiB carve-out.
_APU_ROCM = ('{{"card0": {{"Card Series": "AMD Radeon 780M Graphics", "Device ID": "0x15bf", "GFX Version": '
             '"gfx1103", "PCI Bus": "0000:c4:00.0", "VRAM Total Memory (B)": "536870912"{gtt}}}}}\n')
_APU_GTT = ', "GTT Total Memory (B)": "33094873088"'
# The inventory `psot detect --check` compares: host ws, its GPUs between the two halves.
_CHECKED_HEAD = """\
    project_name: lab
    global: {}
    domains: {}
    hosts:
      ws:
        platform: docker
        gpus:
"""
_CHECKED_TAIL = """\
    workloads:
      llm: {target: compose, host: ws, gpu: {vram_gb: 20}}
"""
_RTX_4090 = '          rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, pci: "0000:01:00.0", driver: "570.124.06"}\n'
_CHECK = "psot detect --check infra.yml --host ws --from nvidia.csv"


def _checked(*gpus: str) -> str:
    return _CHECKED_HEAD + "".join(gpus) + _CHECKED_TAIL


def _declaring(flavour: str) -> str:
    """The inventory of ws, whose host declares the NVIDIA kernel modules `flavour`."""
    return _checked(_RTX_4090).replace("        platform: docker\n",
                                       f"        platform: docker\n        nvidia: {{kernel_modules: {flavour}}}\n")


def _rtx_4090_with(fields: str) -> str:
    """The inventory's RTX 4090 with more fields, e.g. `uuid: GPU-...`."""
    return _RTX_4090.replace('driver: "570.124.06"}', f'driver: "570.124.06", {fields}}}')


def _detect(files: tuple[tuple[str, str], ...], command: str, finding: str | None = None,
            env: tuple[tuple[str, str], ...] = ()) -> Example:
    return Example(tuple((name, _file(text)) for name, text in files), command, finding, env)


_IN_SYNC = _detect((("infra.yml", _checked(_RTX_4090)), ("nvidia.csv", _NVIDIA_CSV)), _CHECK)

_WRITTEN_ENTRIES = (
    # --- load: reading the file(s) ---------------------------------------------------------------
    _entry(
        "LOAD001", "error", "load",
        "The input file does not exist, or is a directory where a YAML file was expected.",
        """
        psot reads one file, infra.yml, or a directory, infra/, that holds base.yml and domain files.
        Without an argument it reads infra/ when that directory exists, else infra.yml in the current
        directory. The path given (or the default) leads to nothing, or to a directory that is not an
        infra/ directory.
        """,
        """
        Pass the path of your infra.yml (or of your infra/ directory), or run psot where that file is.
        Check the spelling: infra.yml, not infra.yaml.
        """,
        fails=_infra(_LAB, "psot validate infra.yaml",
                     "infra.yaml:1:1: error[LOAD001] file not found; create it, or pass the path of your infra.yml"),
        passes=_infra(_LAB, "psot validate infra.yml")),
    _entry(
        "LOAD002", "error", "load", "The input file exists but cannot be read.",
        """
        The operating system refused to read the file: no permission to read it, a path that runs through
        a file as if it were a directory, or an I/O error. The message gives the system's reason.
        """,
        """
        Make the file readable by the user who runs psot (`chmod a+r infra.yml`), or pass a path that leads
        to the file itself.
        """,
        fails=_infra(_LAB, "psot validate infra.yml/base.yml",
                     "infra.yml/base.yml:1:1: error[LOAD002] cannot read file: Not a directory"),
        passes=_infra(_LAB, "psot validate infra.yml")),
    _entry(
        "LOAD003", "error", "load", "The input is a binary file, or text that is not UTF-8.",
        """
        infra.yml is YAML, which is text, and psot reads it as UTF-8. A file with NUL bytes is binary (an
        image or an archive passed by mistake, or a file saved as UTF-16). A byte that is not UTF-8 comes
        from an editor that saved the file in another encoding, such as Latin-1: the finding points at it.
        """,
        """
        Pass the right file, or save it again as UTF-8 (most editors offer the encoding in their "save as"
        dialog; `iconv -f latin1 -t utf-8` converts it).
        """,
        fails=Example((), "printf '# Caf\\351 lab\\nproject_name: lab\\nglobal: {}\\ndomains: {}\\n' > infra.yml\n"
                          "psot validate",
                      "infra.yml:1:6: error[LOAD003] not UTF-8 text (byte 0xe9); save the file as UTF-8"),
        passes=_infra("""\
            # Café lab
            project_name: lab
            global: {}
            domains: {}
            """)),
    _entry(
        "LOAD004", "error", "load", "The input file is larger than 16 MiB.",
        """
        psot refuses files larger than 16 MiB before reading them, so that a wrong path (a disk image, a
        log) cannot take all the memory. A real inventory of ten thousand consumers is about 2 MB.
        """,
        """
        Pass the right file. An inventory that really is this large can be split into a directory:
        infra/base.yml (project_name, global, hosts, workloads) and one infra/domains/NAME.yml per domain.
        """,
        fails=Example((), "truncate -s 17M infra.yml\npsot validate",
                      "infra.yml:1:1: error[LOAD004] file is 17825792 bytes; psot reads at most 16777216 bytes "
                      "(split it into infra/base.yml and infra/domains/*.yml)"),
        passes=_infra(None, "psot validate infra", files=(("infra/base.yml", _LAB), ("infra/domains/ai.yml", _AI)))),
    _entry(
        "LOAD005", "error", "load", "The input file is empty, or holds only comments.",
        """
        An infra.yml must at least say project_name, global and domains; a file without any YAML value
        says nothing psot could compile.
        """,
        """
        Write the three required keys (`psot init` writes a starting infra.yml), or pass the right file.
        """,
        fails=_infra("""\
            # The lab's inventory
            """, finding="infra.yml:1:1: error[LOAD005] file is empty; infra.yml must be a mapping with "
                         "project_name, global and domains"),
        passes=_infra("""\
            # The lab's inventory
            project_name: lab
            global: {}
            domains: {}
            """)),
    _entry(
        "LOAD006", "error", "load", "An infra/ directory has no base.yml.",
        """
        In directory mode psot reads infra/base.yml first (project_name, global and the rest), then every
        infra/domains/*.yml in sorted order, then infra/policies.yml when there is one. base.yml is the
        one file that must be there.
        """,
        """
        Create infra/base.yml with project_name, global and domains (domains may be `{}` when every domain
        has its own file), or pass an infra.yml file instead of the directory.
        """,
        fails=_infra(None, "psot validate infra",
                     "infra/base.yml:1:1: error[LOAD006] directory infra/ has no base.yml; create it with "
                     "project_name, global and domains (or pass an infra.yml file)",
                     files=(("infra/domains/ai.yml", _AI),)),
        passes=_infra(None, "psot validate infra", files=(("infra/base.yml", _LAB), ("infra/domains/ai.yml", _AI)))),
    _entry(
        "LOAD007", "error", "load", "A domain file or policies.yml of an infra/ directory is not a mapping.",
        """
        Each infra/domains/*.yml holds domains by name, `{domain-name: domain}`, which psot merges into
        `domains`; infra/policies.yml holds top-level keys such as network_policies. Either must therefore
        be a mapping, not a list or a single value.
        """,
        """
        Write the file as a mapping: the domain's name as the top-level key, its settings below it.
        """,
        fails=_infra(None, "psot validate infra",
                     "infra/domains/ai.yml:1:1: error[LOAD007] a domain file ({domain-name: domain}) must be a "
                     "mapping",
                     files=(("infra/base.yml", _LAB), ("infra/domains/ai.yml", "- gpu-server\n"))),
        passes=_infra(None, "psot validate infra", files=(("infra/base.yml", _LAB), ("infra/domains/ai.yml", _AI)))),
    _entry(
        "LOAD008", "error", "load", "The input file holds more than 1 000 000 YAML nodes.",
        """
        psot counts the values, lists and mappings of a file before it builds them: a file of a million
        of them takes seconds and hundreds of megabytes to load, and a file that holds more is a generated
        or hostile one rather than an inventory (the largest realistic inventory has about 670 000).
        """,
        """
        Pass the right file, or split the inventory into infra/base.yml and infra/domains/*.yml: the limit
        is per file.
        """,
        fails=Example((), "seq 1000001 | sed 's/^/- /' > infra.yml\npsot validate",
                      "infra.yml:1000000:3: error[LOAD008] more than 1000000 YAML nodes (values, lists, mappings); "
                      "split it into infra/base.yml and infra/domains/*.yml"),
        passes=_infra(_LAB)),
    _entry(
        "LOAD009", "error", "load", "An input file is not a regular file: a named pipe, a socket or a device "
        "(or a symlink to one).",
        """
        psot reads infra.yml, base.yml, the domain files and policies.yml only when they are regular files.
        A device such as /dev/zero or /dev/urandom never ends, a named pipe (FIFO) may never start, and
        opening some devices has effects of its own: psot says what the path is and reads nothing from it,
        whatever size the system reports for it.
        """,
        """
        Put the YAML in a regular file at that path (a symlink to a regular file inside the project is
        fine), or remove what is there.
        """,
        fails=Example((), "mkfifo infra.yml\npsot validate",
                      "infra.yml:1:1: error[LOAD009] is a named pipe (FIFO), not a regular file: psot reads only "
                      "regular files (a device or a pipe may never end, or never start); write the YAML in a file"),
        passes=_infra(_LAB)),
    _entry(
        "LOAD010", "error", "load", "A file of an infra/ directory is a symlink that leads outside the project.",
        """
        The project is the directory that holds infra/ (or infra.yml): what a review of its repository
        shows. A base.yml, domain file or policies.yml that leads through a symlink to a file elsewhere
        (a path that exists on one machine only, a file of the CI runner's) would change what psot
        generates without any change to review, and its content could reach findings. A symlink to
        another file inside the project is fine.
        """,
        """
        Copy the file into the project (or move the project so that it holds the file), and point the
        symlink there or replace it with the file.
        """,
        fails=Example((("lab/infra/base.yml", _file(_LAB)), ("shared/ai.yml", _file(_AI))),
                      "mkdir lab/infra/domains\nln -s ../../../shared/ai.yml lab/infra/domains/ai.yml\n"
                      "psot validate lab/infra",
                      "lab/infra/domains/ai.yml:1:1: error[LOAD010] leads through a symlink to shared/ai.yml, "
                      "outside the project (lab/): psot reads only files inside the project, which a review "
                      "sees; copy the file into the project"),
        passes=Example((("lab/infra/base.yml", _file(_LAB)), ("lab/shared/ai.yml", _file(_AI))),
                       "mkdir lab/infra/domains\nln -s ../../shared/ai.yml lab/infra/domains/ai.yml\n"
                       "psot validate lab/infra")),
    _entry(
        "LOAD011", "error", "load", "anklume.yml holds a value psot cannot translate into infra.yml.",
        """
        An AnKLuMe project in today's layout (anklume.yml, domains/NAME.yml, policies.yml) is translated
        into infra.yml's shape before it is checked. psot reads anklume.yml of schema_version 1; its
        defaults, addressing and nesting are mappings; and addressing.base is the first two octets of
        the domains' networks, such as "10.100" (infra.yml's base_octet and zone_base).
        """,
        """
        Write the value as AnKLuMe documents it: `schema_version: 1`, `addressing: {base: "10.100"}`, and
        the sections as mappings.
        """,
        fails=Example((("lab/anklume.yml", _file(_ANKLUME.replace("schema_version: 1", "schema_version: 2"))),
                       ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))), "psot validate lab",
                      "lab/anklume.yml:1:17: error[LOAD011] schema_version 2: psot reads AnKLuMe's anklume.yml of "
                      "schema_version 1"),
        passes=Example((("lab/anklume.yml", _file(_ANKLUME)), ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))),
                       "psot validate lab")),
    _entry(
        "LOAD012", "error", "load", "anklume.yml sets a setting both in AnKLuMe's words and in infra.yml's.",
        """
        anklume.yml may hold infra.yml's own keys (project_name, global, hosts, workloads) for what AnKLuMe
        does not say, such as the GPU inventory. An AnKLuMe setting becomes one of global's keys
        (defaults.os_image is global.default_os_image, gpu_policy is global.gpu_policy, policies of
        policies.yml is network_policies): setting both would leave one of them unread.
        """,
        """
        Keep one of the two, at the place the finding names or the one it points to.
        """,
        fails=Example((("lab/anklume.yml", _file(_ANKLUME) + "global: {gpu_policy: shared}\n"),
                       ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))), "psot validate lab",
                      "lab/anklume.yml:2:1: error[LOAD012] gpu_policy is global.gpu_policy, which is already set "
                      "at lab/anklume.yml:3:10; set it in one place"),
        passes=Example((("lab/anklume.yml", _file(_ANKLUME)), ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))),
                       "psot validate lab")),
    _entry(
        "LOAD013", "warning", "load", "anklume.yml holds a key of AnKLuMe's that psot does not read.",
        """
        AnKLuMe ignores a key it does not know in defaults, addressing and nesting (with a warning); so
        does psot. `network_passthrough: true` lets other traffic cross AnKLuMe's firewall, which psot's
        generated firewall does not do: it is ignored too.
        """,
        """
        Correct the key's spelling (defaults: os_image, trust_level; addressing: base, zone_step;
        nesting: prefix), or remove it.
        """,
        fails=Example((("lab/anklume.yml", _file(_ANKLUME) + "defaults: {os_imgae: images:debian/13}\n"),
                       ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))), "psot validate lab",
                      "lab/anklume.yml:3:12: warning[LOAD013] 'os_imgae' is not a key of AnKLuMe's defaults (it "
                      "reads os_image, trust_level); psot ignores it"),
        passes=Example((("lab/anklume.yml", _file(_ANKLUME) + "defaults: {os_image: images:debian/13}\n"),
                        ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))), "psot validate lab")),
    _entry(
        "LOAD014", "error", "load", "Two machines of an AnKLuMe project get the same name once prefixed by "
        "their domains.",
        """
        AnKLuMe names a machine of domains/NAME.yml `NAME-machine`: machine b-c of domain a and machine c
        of domain a-b would both be a-b-c, one Incus instance for two machines. The finding names both
        places; the second machine is left out.
        """,
        """
        Rename one of the two machines (or one of the domains).
        """,
        fails=Example((("lab/anklume.yml", _file(_ANKLUME)),
                       ("lab/domains/a.yml", "machines:\n  b-c: {type: lxc}\n"),
                       ("lab/domains/a-b.yml", "machines:\n  c: {type: lxc}\n")), "psot validate lab",
                      "lab/domains/a.yml:2:3: error[LOAD014] machine 'b-c' of domain 'a' is named 'a-b-c' "
                      "(AnKLuMe prefixes machines with their domain), as is the machine at "
                      "lab/domains/a-b.yml:2:3; rename one"),
        passes=Example((("lab/anklume.yml", _file(_ANKLUME)),
                        ("lab/domains/a.yml", "machines:\n  b: {type: lxc}\n"),
                        ("lab/domains/a-b.yml", "machines:\n  c: {type: lxc}\n")), "psot validate lab")),
    _entry(
        "LOAD015", "error", "load", "A domain file or policies.yml of an AnKLuMe project is not a mapping.",
        """
        In AnKLuMe's layout each domains/NAME.yml is the body of domain NAME (description, trust_level,
        profiles, machines), and policies.yml holds `policies: [...]`: both are mappings.
        """,
        """
        Write the file as a mapping: the domain's settings at its top level (its name is the file's).
        """,
        fails=Example((("lab/anklume.yml", _file(_ANKLUME)), ("lab/domains/ai-tools.yml", "- gpu-server\n")),
                      "psot validate lab",
                      "lab/domains/ai-tools.yml:1:1: error[LOAD015] an AnKLuMe domain file (description, "
                      "machines, ...) must be a mapping"),
        passes=Example((("lab/anklume.yml", _file(_ANKLUME)), ("lab/domains/ai-tools.yml", _file(_ANKLUME_AI))),
                       "psot validate lab")),
    _entry(
        "YAML001", "error", "load", "The file is not valid YAML, or holds something YAML can say but infra.yml "
        "cannot (a tag, a value its type cannot hold, several documents).",
        """
        The YAML parser stopped at the place the finding points to: a bracket or quote that is never
        closed, a tab used for indentation, a `:` missing after a key, a second document after `---`.
        psot also refuses tags (`!!python/object`, `!!set`, `!custom`), which would make plain mappings
        into something else, and values that look like one type but cannot be one, such as the date
        `2024-13-45`.
        """,
        """
        Correct the YAML at the line and column given: close the bracket or quote, indent with spaces,
        remove the tag. Quote a value that is meant as text (`"2024-13-45"`).
        """,
        fails=_infra("""\
            project_name: lab
            global: {gpu_policy: exclusive
            domains: {}
            """, finding="infra.yml:3:8: error[YAML001] not valid YAML: did not find expected ',' or '}' (while "
                         "parsing a flow mapping)"),
        passes=_infra("""\
            project_name: lab
            global: {gpu_policy: exclusive}
            domains: {}
            """)),
    _entry(
        "YAML002", "error", "load", "A key is written twice in one mapping, or a domain is defined in two files "
        "of an infra/ directory.",
        """
        YAML parsers usually keep the last of two equal keys and silently drop the first, so half of what
        was written would be lost without a word. psot refuses the file instead and names both places. In
        directory mode the same holds for a domain (or a policies key) that two files define.
        """,
        """
        Keep one of the two: delete the duplicate, merge the two entries into one, or rename one of them
        when they were meant to be different things.
        """,
        fails=_infra("""\
            project_name: lab
            global: {}
            domains:
              ai:
                machines:
                  gpu-server: {type: lxc, gpu: true}
                  gpu-server: {type: vm}
            """, finding="infra.yml:7:7: error[YAML002] duplicate key 'gpu-server' (first defined at line 6, "
                         "column 7); remove one of them"),
        passes=_infra("""\
            project_name: lab
            global: {}
            domains:
              ai:
                machines:
                  gpu-server: {type: lxc, gpu: true}
                  gpu-vm: {type: vm}
            """)),
    _entry(
        "YAML003", "error", "load", "A key is not a plain name: YAML 1.1 reads it as a boolean, number or null, "
        "or it is a list or mapping.",
        """
        YAML 1.1, which the parser follows, reads `no`, `yes`, `on`, `off`, `y` and `n` as booleans, `1`
        as a number and `~` as null, also where they are keys. A domain or machine named `no` would become
        the key `false`, and its name would be lost. Keys that are lists or mappings name nothing at all.
        """,
        """
        Quote the key, as the finding shows (`"no":`), or choose another name.
        """,
        fails=_infra("""\
            project_name: lab
            global: {}
            domains:
              no:
                machines:
                  gpu-server: {type: lxc}
            """, finding='infra.yml:4:3: error[YAML003] key \'no\' is read by YAML 1.1 as a boolean, not a name; '
                         'quote it: "no":'),
        passes=_infra("""\
            project_name: lab
            global: {}
            domains:
              "no":
                machines:
                  gpu-server: {type: lxc}
            """)),
    _entry(
        "YAML004", "error", "load", "The document nests deeper than 64 levels, or its aliases refer to "
        "themselves or expand it far beyond what was written.",
        """
        YAML aliases (`*name`) repeat the node their anchor (`&name`) marks. A node that contains an alias
        of itself never ends, and aliases of aliases can make a small file expand to billions of values
        (the "billion laughs" attack). psot stops such files, and nesting deeper than 64 levels, before
        they exhaust the memory or the stack; infra.yml never needs either.
        """,
        """
        Write the repeated values out, or use anchors that do not refer to themselves, and fewer nested
        aliases. Flatten nesting that deep.
        """,
        fails=_infra("""\
            project_name: lab
            global: &defaults {placement: *defaults}
            domains: {}
            """, finding="infra.yml:2:9: error[YAML004] recursive alias: this node contains itself"),
        passes=_infra("""\
            project_name: lab
            global: &defaults {placement: {headroom_gb: 0.5}}
            domains: {}
            """)),
    _entry(
        "YAML005", "error", "load", "A number is not finite (`.nan`, `.inf`) or lies beyond ±2^53.",
        """
        NaN passes every range check (every comparison with it is false) and infinity breaks every sum, so
        a VRAM size of `.nan` would slip through validation and corrupt placement. Numbers beyond 2^53 lose
        precision as floating point and overflow the sums psot makes of them.
        """,
        """
        Write an ordinary number, such as 24 or 0.5.
        """,
        fails=_infra("""\
            project_name: lab
            global:
              placement: {headroom_gb: .nan}
            domains: {}
            """, finding="infra.yml:3:28: error[YAML005] '.nan' is not a finite number; write a number like 24 or "
                         "0.5"),
        passes=_infra("""\
            project_name: lab
            global:
              placement: {headroom_gb: 0.5}
            domains: {}
            """)),

    # --- schema: schemas/infra.schema.json ---------------------------------------------------------
    _entry(
        "SCHEMA001", "error", "schema", "A value has the wrong type, is not one of the allowed values, does not "
        "match its pattern, is out of range, or a required key is missing.",
        """
        psot checks infra.yml against its JSON Schema, schemas/infra.schema.json, before anything else
        looks at it. The message names the key, what it must be and what it is; for a misspelt allowed
        value it suggests the closest one. Editors that use yaml-language-server show the same checks
        while you type, through the `# yaml-language-server: $schema=...` line.
        """,
        """
        Change the value to what the message asks for, or add the missing key.
        """,
        fails=_infra("""\
            project_name: lab
            global: {gpu_policy: exlusive}
            domains: {}
            """, finding="infra.yml:2:22: error[SCHEMA001] 'exlusive' is not a valid gpu_policy; expected one of: "
                         "exclusive, shared (did you mean 'exclusive'?)"),
        passes=_infra("""\
            project_name: lab
            global: {gpu_policy: exclusive}
            domains: {}
            """)),
    _entry(
        "KEY001", "warning", "schema", "An unknown key, ignored.",
        """
        The key is not one infra.yml knows at that place, and it is not close to one that is, so psot takes
        it for a note or for a setting of another tool, ignores it and says so. The message lists the keys
        allowed there.
        """,
        """
        Remove the key, or rename it to one of the allowed keys the message lists. A YAML comment (`#`)
        keeps a note without a warning.
        """,
        fails=_infra("""\
            project_name: lab
            owner: alice
            global: {}
            domains: {}
            """, finding="infra.yml:2:1: warning[KEY001] unknown key 'owner' at the top level is ignored; allowed "
                         "keys: project_name, global, domains, hosts, workloads, network_policies, shared_volumes, modes"),
        passes=_infra("""\
            project_name: lab
            # owner: alice
            global: {}
            domains: {}
            """)),
    _entry(
        "KEY002", "error", "schema", "An unknown key that is a slip for an allowed one: within two edits of "
        "it, the allowed key without its unit (`vram` for `vram_gb`), or a common other name for it (`cc`).",
        """
        A misspelt key would otherwise be ignored, and what it says would silently not happen (a
        `machnes:` mapping would leave its domain without machines, `gpu: {vram: 20}` would leave the
        request without its size). When the key is within two edits of an allowed key there, is an allowed
        key without its unit (`_gb`, `_mb`, `_watts`), or is a name people often use for one (`cc` or
        `compute` for `min_compute_capability`, `gpus` or `gpu_count` for `count`), psot takes it for a
        slip and stops, naming the key it probably means.
        """,
        """
        Correct the spelling to the key the message suggests.
        """,
        fails=_infra("""\
            project_name: lab
            global: {}
            domains:
              ai:
                machnes:
                  gpu-server: {type: lxc}
            """, finding="infra.yml:5:5: error[KEY002] unknown key 'machnes' in 'ai': did you mean 'machines'?"),
        passes=_infra("""\
            project_name: lab
            global: {}
            domains:
              ai:
                machines:
                  gpu-server: {type: lxc}
            """)),
    _entry(
        "NAME001", "error", "schema", "A domain, machine, workload, host, GPU or profile name cannot become a file "
        "or resource name.",
        """
        Names become file names under generated/, Incus project and instance names, compose service
        names and Kubernetes object names. psot accepts names of lower-case letters, digits and inner
        hyphens, at most 63 characters, which all of those accept; a `/`, `..`, upper case or a space
        would break one of them, or lead outside generated/.
        """,
        """
        Rename it with lower-case letters, digits and hyphens, such as `gpu-server`.
        """,
        fails=_infra("""\
            project_name: lab
            global: {}
            domains:
              ai:
                machines:
                  GPU_Server: {type: lxc}
            """, finding="infra.yml:6:7: error[NAME001] machines name 'GPU_Server' is not a valid name: use "
                         "lower-case letters, digits and '-', starting and ending with a letter or digit (names "
                         "become file names)"),
        passes=_infra("""\
            project_name: lab
            global: {}
            domains:
              ai:
                machines:
                  gpu-server: {type: lxc}
            """)),

    # --- schema: GPU modes (generator/modes/) ------------------------------------------------------
    _entry(
        "MODE001", "error", "schema", "`global.mode` or `--mode` names a mode that `modes:` does not define.",
        """
        A mode is one of the names under `modes:`. `global.mode` names the active one (what the top of
        generated/ is compiled with) and `--mode` the one a command previews; a name that is none of them
        cannot be applied, so psot compiles the base file and reports it, with the closest mode's name.
        """,
        """
        Write one of the modes the message lists, or add the mode under `modes:`.
        """,
        fails=_infra(_WS + """                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            modes:
              ai: {consumers: {llm: {gpu: {vram_gb: 20}}}}
            """, "psot place --mode aii",
            "<command line>:1:1: error[MODE001] --mode aii: mode 'aii' is not defined under modes; did you mean "
            "'ai'? (modes: ai)"),
        passes=_infra(_WS + """                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            modes:
              ai: {consumers: {llm: {gpu: {vram_gb: 20}}}}
            """, "psot place --mode ai")),
    _entry(
        "MODE002", "error", "schema", "A mode overrides a consumer that infra.yml does not declare.",
        """
        A mode's `consumers` are the workloads and Incus machines of the base file, by name. A name that is
        none of them would change nothing, most likely a typo that leaves the consumer meant as it is in
        that mode, so psot refuses it and names the closest consumer.
        """,
        """
        Write the name of a workload (its key under `workloads`) or of a machine (its key under a domain's
        `machines`).
        """,
        fails=_infra(_WS + """                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            modes:
              ai: {consumers: {lmm: {enabled: false}}}
            """, finding="infra.yml:12:20: error[MODE002] mode 'ai': consumer 'lmm' is not declared in workloads "
                         "or in a domain's machines; did you mean 'llm'?"),
        passes=_infra(_WS + """                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            modes:
              ai: {consumers: {llm: {enabled: false}}}
            """)),
    _entry(
        "MODE003", "error", "schema", "A mode's `unavailable` names a GPU that is not in the inventory, or a name "
        "several hosts use.",
        """
        `unavailable` takes GPUs as `psot place --without` does: a GPU name that only one host uses, or
        host/gpu. The mode places its consumers as if those GPUs had failed; a name that is none of the
        inventory's (or is on several hosts) cannot be taken away, so psot refuses it.
        """,
        """
        Write one of the GPUs the message lists, as host/gpu when several hosts have a GPU of that name.
        """,
        fails=_infra(_WS + """                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 3}}
            modes:
              failover: {unavailable: [rtx-4080]}
            """, finding="infra.yml:13:28: error[MODE003] mode 'failover': unavailable GPU 'rtx-4080' is not in "
                         "hosts; did you mean 'rtx-4090'? one of: ws/rtx-4090, ws/rtx-a400"),
        passes=_infra(_WS + """                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-a400: {vendor: nvidia, vram_gb: 4, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 3}}
            modes:
              failover: {unavailable: [rtx-4090]}
            """)),

    # --- placement -----------------------------------------------------------------------------------
    _entry(
        "PLACE001", "error", "placement", "Placement was asked for a strategy that does not exist.",
        """
        The strategies are manual, vram_based, latency_optimized, isolation_first and balanced. The schema
        refuses any other `global.placement.strategy`, and `--strategy` accepts only these five, so this
        finding comes only from a program that calls psot's placement directly with another name.
        """,
        """
        Pass one of the five strategy names.
        """),
    _entry(
        "PLACE002", "warning", "placement", "A consumer gets no GPU: no GPU it may use is left for it.",
        """
        Placement found no GPU for the consumer: none of its host and vendor, none with the compute
        capability it asks for, none that is available, or (for a consumer that needs a GPU to
        itself) none free that is large enough. The message says which. The consumer is listed under
        `unplaced` in placement.yml and is rendered without a GPU; psot warns but goes on, as a service
        that falls back to the CPU would.
        """,
        """
        Free or add a GPU it can use, relax what it asks for (`vendor`, `min_compute_capability`,
        `vram_gb`), or set `gpu: false` if it is meant to run without one.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, status: unavailable}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20}}
            """, finding="infra.yml:10:3: warning[PLACE002] llm gets no GPU: no available GPU on host 'ws'"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20}}
            """)),
    _entry(
        "PLACE003", "warning", "placement", "A consumer is pinned to an unavailable GPU: it falls back to another "
        "one, or gets none.",
        """
        A pin names the GPU a consumer must use, and wins in every strategy, but a GPU marked `status:
        unavailable` (or one the driver rules find too old to run) serves nothing. Rather than leave the
        consumer without a GPU, placement treats it as unpinned and gives it the next eligible GPU, which
        the message names. When no other GPU can take it, the message says why it gets none (and no
        PLACE002 repeats it).
        """,
        """
        Pin the consumer to a GPU that works, or remove the pin; once the pinned GPU is back, set its
        status to ok again.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, status: unavailable}
                  rtx-3090: {vendor: nvidia, vram_gb: 24, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20, pin: rtx-4090}}
            """, finding="infra.yml:11:60: warning[PLACE003] llm is pinned to ws/rtx-4090, which is unavailable; "
                         "it falls back to ws/rtx-3090"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, status: unavailable}
                  rtx-3090: {vendor: nvidia, vram_gb: 24, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20, pin: rtx-3090}}
            """)),
    _entry(
        "PLACE004", "warning", "placement", "A consumer is placed on a degraded GPU because no GPU in good order "
        "can take it.",
        """
        A `degraded` GPU works but should not be relied on (a driver older than recommended, a card that
        overheats). Placement gives it a consumer only when no `ok` GPU can take that consumer, and says
        so, since the consumer then runs on the weaker card.
        """,
        """
        Repair the GPU and set `status: ok` (or upgrade its driver), give an ok GPU room for the consumer,
        or pin the consumer to the degraded GPU to accept it.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, status: degraded}
                  rtx-3060: {vendor: nvidia, vram_gb: 12, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20}}
            """, finding="infra.yml:11:3: warning[PLACE004] llm is placed on ws/rtx-4090, which is degraded: no "
                         "ok GPU can take it"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0, status: degraded}
                  rtx-3060: {vendor: nvidia, vram_gb: 12, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """)),
    _entry(
        "PLACE005", "error", "placement", "Under the `manual` strategy, a consumer has no usable pin.",
        """
        The manual strategy places nothing by itself: every consumer with GPU access must say which GPU it
        gets with `gpu.pin`. A consumer without a pin, or whose pin names an unavailable GPU, has no GPU
        under it.
        """,
        """
        Set `gpu.pin` to a GPU (its name, or host/gpu) for the consumer, or choose a strategy that places
        consumers by itself, such as vram_based.
        """,
        fails=_infra("""\
            project_name: lab
            global:
              placement: {strategy: manual}
            domains: {}
            hosts:
              ws:
                platform: docker
                gpus:
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20}}
            """, finding="infra.yml:11:36: error[PLACE005] strategy is 'manual' but llm has no usable pin; set "
                         "gpu.pin to a GPU (name or host/gpu)"),
        passes=_infra("""\
            project_name: lab
            global:
              placement: {strategy: manual}
            domains: {}
            hosts:
              ws:
                platform: docker
                gpus:
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 20, pin: rtx-4090}}
            """)),
    _entry(
        "PLACE006", "warning", "placement", "A consumer asks for several GPUs (`count`) and gets fewer.",
        """
        The host has enough GPUs of the kind asked for, but not enough that can serve now: some are
        unavailable, or taken by consumers that need a GPU to themselves. Placement gives the consumer the
        GPUs it can and warns; the service then runs on fewer GPUs than it was configured for.
        """,
        """
        Bring the missing GPUs back (or free them), or lower `gpu.count` to what the host can give.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-3090: {vendor: nvidia, vram_gb: 24, index: 1, status: unavailable}
            workloads:
              train: {target: compose, host: ws, gpu: {vram_gb: 20, count: 2}}
            """, finding="infra.yml:11:38: warning[PLACE006] train asks for 2 GPUs but gets 1: no available GPU "
                         "on host 'ws' beyond ws/rtx-4090"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-3090: {vendor: nvidia, vram_gb: 24, index: 1, status: unavailable}
            workloads:
              train: {target: compose, host: ws, gpu: {vram_gb: 20, count: 1}}
            """)),
    _entry(
        "PLACE007", "warning", "placement", "Under `isolation_first`, a consumer with `isolate: true` shares its GPU: "
        "isolating it would leave another consumer without room.",
        """
        isolation_first gives each consumer with `isolate: true` a GPU to itself and lets the others share
        what is left. When that leaves no room for another consumer (it could only overflow a GPU or get
        none), the isolated consumer shares rather than anyone overflowing, and psot says so, once per
        isolated consumer, naming the GPU and who shares it.
        """,
        """
        Add or free a GPU for the other consumer, or drop `isolate` from the consumer that no longer needs
        a GPU to itself.
        """,
        fails=_infra("""\
            project_name: lab
            global:
              gpu_policy: shared
              placement: {strategy: isolation_first}
            domains: {}
            hosts:
              ws:
                platform: docker
                gpus:
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 16, isolate: true}}
              whisper: {target: compose, host: ws, gpu: {vram_gb: 4}}
            """, finding="infra.yml:12:3: warning[PLACE007] llm is to be isolated but shares ws/rtx-4090 with "
                         "whisper: the GPUs that could take it alone cannot fit everyone"),
        passes=_infra("""\
            project_name: lab
            global:
              gpu_policy: shared
              placement: {strategy: isolation_first}
            domains: {}
            hosts:
              ws:
                platform: docker
                gpus:
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-3060: {vendor: nvidia, vram_gb: 12, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 16, isolate: true}}
              whisper: {target: compose, host: ws, gpu: {vram_gb: 4}}
            """)),
    _entry(
        "PLACE008", "warning", "placement", "`psot place --without GPU`: a consumer moves because that GPU is gone.",
        """
        `--without host/gpu` places everything as if that GPU had failed, to show what would happen: each
        consumer that loses its GPU is named with where it goes instead (another GPU, or none). Nothing is
        wrong in infra.yml; the warning is the answer to the question asked.
        """,
        """
        Nothing to fix unless the outcome is not acceptable: then give the consumers that would be left
        without a GPU another one they can fall back to.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-3060: {vendor: nvidia, vram_gb: 12, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """, "psot place --without ws/rtx-4090",
            "infra.yml:11:3: warning[PLACE008] llm moves from ws/rtx-4090 to ws/rtx-3060: ws/rtx-4090 is gone"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
                  rtx-3060: {vendor: nvidia, vram_gb: 12, index: 1}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """, "psot place --without ws/rtx-3060")),
    _entry(
        "REF005", "error", "placement", "`psot place --without` names a GPU that is not in the inventory, or "
        "a name several hosts use.",
        """
        `--without` takes GPUs as `gpu.pin` does: a GPU name that only one host uses, or host/gpu. The name
        given is none of the inventory's, or is used on several hosts, so psot cannot tell what to leave
        out. The message lists the GPUs there are, the closest name first.
        """,
        """
        Write one of the GPUs the message lists, as host/gpu when several hosts have a GPU of that name.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """, "psot place --without rtx-4080",
            "<command line>:1:1: error[REF005] --without rtx-4080: no such GPU; did you mean 'rtx-4090'? one of: "
            "ws/rtx-4090"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """, "psot place --without ws/rtx-4090")),

    # --- output: the generated tree -----------------------------------------------------------------
    _entry(
        "PATH001", "error", "output", "`global.output_dir` leads outside the project, or is the project itself.",
        """
        psot writes the generated tree by building it beside the old one and swapping the two directories,
        so the output directory must be a directory of its own inside the project: an absolute path, a
        `..`, or a symlink that leads elsewhere could make psot replace a directory it does not own.
        """,
        """
        Write a relative path to a directory of its own inside the project, such as `generated` or
        `build/generated`, or pass `--output-dir` for a one-off run elsewhere.
        """,
        fails=_infra("""\
            project_name: lab
            global: {output_dir: ../deploy}
            domains: {}
            """, finding="infra.yml:2:22: error[PATH001] output_dir '../deploy' must stay inside the project: "
                         "write a relative path to a directory of its own, without '..' (or pass --output-dir)"),
        passes=_infra("""\
            project_name: lab
            global: {output_dir: deploy}
            domains: {}
            """)),
    _entry(
        "PATH002", "error", "output", "`--output-dir` names a directory psot must not replace: the project or "
        "a directory holding it, a symlink, a file, a mount point, or a directory of files psot did not write.",
        """
        psot writes the generated tree by building it beside the old one and swapping the two directories,
        so whatever `--output-dir` names is replaced as a whole. It must therefore be a directory of
        psot's own: a new one, an empty one, or one psot wrote before, which its manifest
        (`.psot/manifest.json`) proves. The project itself or one of its parents would be swapped away, a
        directory of other files would lose them, and a mount point cannot be renamed. Every command that
        takes `--output-dir` (plan, sync, place, apply, rollback) refuses it the same way, before reading
        or writing anything there: a plan against someone else's directory would call its files orphans.
        """,
        """
        Pass a directory of its own: one that does not exist yet (psot creates it), an empty one, or the
        one an earlier `psot sync -o` wrote. For a mount point, pass a directory inside it.
        """,
        fails=Example((("infra.yml", _file(_LAB)),), "mkdir docs && echo notes > docs/README\npsot sync -o docs",
                      "<command line>:1:1: error[PATH002] --output-dir docs: holds files psot did not write (it has "
                      "no .psot/manifest.json); psot replaces the whole output directory, so it writes only to a "
                      "directory it made or an empty one: pass a directory of its own (a new or an empty one, or "
                      "one psot wrote before)"),
        passes=Example((("infra.yml", _file(_LAB)),), "mkdir docs\npsot sync -o docs\npsot sync -o docs")),
    _entry(
        "PATH003", "error", "output", "`global.kubernetes.base` leads outside the project.",
        """
        The generated kustomization lists your kustomize directory, `global.kubernetes.base`, as its base:
        `kubectl apply -k` then applies the manifests there with psot's patches. They are part of what
        is applied, so they must be in the project, where a review sees them: an absolute path, a `..` or
        a symlink that leads elsewhere would apply manifests from outside it.
        """,
        """
        Write the path of your kustomize directory relative to infra.yml, inside the project (the default
        is `k8s`), and keep the manifests there.
        """,
        fails=_infra("""\
            project_name: lab
            global: {kubernetes: {base: ../manifests}}
            domains: {}
            """, finding="infra.yml:2:29: error[PATH003] kubernetes.base '../manifests' must stay inside the "
                         "project: write the path of your kustomize directory relative to infra.yml, without '..'"),
        passes=_infra("""\
            project_name: lab
            global: {kubernetes: {base: deploy/k8s}}
            domains: {}
            """)),
    _entry(
        "DRIFT001", "error", "output", "A generated file was edited by hand since psot wrote it.",
        """
        psot records what it wrote to generated/, and `psot sync` finds a file that no longer matches: an
        edit made there by hand. The next sync would overwrite the edit, so psot writes nothing and points
        at the first line that differs. Generated files are outputs: a change belongs in infra.yml, which
        they are compiled from.
        """,
        """
        Move the change into infra.yml and run `psot sync` again, or run `psot sync --force` to discard the
        hand edit.
        """,
        fails=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """, "psot sync\nsed -i \"s/- '0'/- '1'/\" generated/compose/ws/docker-compose.gpu-override.yml\n"
                 "psot sync",
            "generated/compose/ws/docker-compose.gpu-override.yml:10:1: error[DRIFT001] edited by hand since psot "
            "wrote it; move the change into infra.yml (generated files are rewritten by every sync), or run "
            "`psot sync --force` to overwrite it"),
        passes=_infra(_WS + """\
                  rtx-4090: {vendor: nvidia, vram_gb: 24, index: 0}
            workloads:
              llm: {target: compose, host: ws, gpu: {vram_gb: 10}}
            """, "psot sync\nsed -i \"s/- '0'/- '1'/\" generated/compose/ws/docker-compose.gpu-override.yml\n"
                 "psot sync --force")),

    # --- switch: psot switch (generator/switch/) ----------------------------------------------------
    _entry(
        "SWITCH001", "error", "switch", "A card must leave vfio-pci and psot cannot tell which host driver takes "
        "one of its functions back.",
        """
        `psot switch` moves a card that a VM had to the host's driver by writing that driver's name to the
        `driver_override` of each function of the card, then probing it. The GPU's own driver comes from its
        `driver_in_use`, else its vendor (NVIDIA: nvidia), else its architecture (generator/hardware); each
        other function's from its PCI `class` (0403 HDMI audio: snd_hda_intel, 0c03 USB: xhci_pci, 0c80
        NVIDIA's USB-C UCSI: i2c_nvidia_gpu). When one of them is unknown, no driver name can be written, so
        the switch is refused before any command runs.
        """,
        """
        Set `driver_in_use` on the GPU (nvidia, amdgpu, i915, xe), or `architecture`, and a `class` on each
        of its `functions` (`psot detect` reads them from `lspci -nn -D -k`).
        """,
        fails=_infra(_SWITCH.replace("architecture: vega", "architecture: rdna2").replace('"0403"', '"0c05"'),
                     "psot switch ai --dry-run",
                     "infra.yml:9:7: error[SWITCH001] pve/rx-6800: psot cannot tell which host driver takes back "
                     "0000:03:00.1 when it leaves vfio-pci: set `driver_in_use` (nvidia, amdgpu, i915, xe) on the "
                     "GPU, or `class` on each of its `functions` (0403 for an HDMI audio function)"),
        passes=_infra(_SWITCH.replace("architecture: vega", "architecture: rdna2"), "psot switch gaming --dry-run")),
    _entry(
        "SWITCH002", "error", "switch", "An AMD card with the reset bug would go from a VM back to the host's "
        "driver: that needs a reboot.",
        """
        AMD's Polaris, Vega and Navi 1x (RDNA) cards cannot be reset once a VM has used them: the host's
        amdgpu cannot initialise the card again until the machine reboots (or the out-of-tree vendor-reset
        module resets it; https://github.com/gnif/vendor-reset lists these families). Moving such a card from
        vfio-pci to amdgpu at runtime would leave it unusable, so `psot switch` refuses before any command runs.
        """,
        """
        Reboot into the mode instead: set `global.mode` to it, `psot sync` and `psot apply` (its boot files bind
        the card at the next boot), then reboot. Or keep the card on the VM's side in both modes.
        """,
        fails=_infra(_SWITCH, "psot switch ai --dry-run",
                     "infra.yml:9:7: error[SWITCH002] pve/rx-6800: an AMD vega card cannot be reset for the host's "
                     "driver once a VM has used it (the AMD reset bug; https://github.com/gnif/vendor-reset): moving "
                     "it from vfio-pci to amdgpu needs a reboot. Reboot into the new mode instead (`psot apply` its "
                     "files, then reboot)"),
        passes=_infra(_SWITCH, "psot switch gaming --dry-run")),
    # --- detect: psot detect and psot detect --check ------------------------------------------------
    _entry(
        "DETECT001", "error", "detect", "A `--from` file is in no format psot reads, or breaks off (truncated JSON "
        "or XML).",
        """
        psot detect reads the saved output of nvidia-smi (its CSV query or its XML report), rocm-smi,
        amd-smi and lspci, and tells which it is by its content. This file is none of them: empty, binary,
        another command's output (nvidia-smi's table, which has no PCI addresses), or an output cut short.
        From a run of the tools on this host the same problem is the tool's failure, DETECT005, a
        warning; the GPUs complete before an XML report breaks off are kept.
        """,
        """
        Save the output of one of the commands the message lists, exactly as the tool printed it, and pass
        that file.
        """,
        fails=_detect((("nvidia.txt", """\
            +-----------------------------------------------------------------------------------------+
            | NVIDIA-SMI 570.124.06             Driver Version: 570.124.06     CUDA Version: 12.8     |
            """),), "psot detect --host ws --from nvidia.txt",
            "nvidia.txt:1:1: error[DETECT001] not output psot can read: expected the saved output of one of: "
            "nvidia-smi --query-gpu=index,name,memory.total,pci.bus_id,compute_cap,uuid,driver_version,power.limit "
            "--format=csv,noheader,nounits; nvidia-smi -q -x; rocm-smi --showproductname --showmeminfo vram gtt "
            "--showbus --showdriverversion --json; amd-smi static --json; amd-smi metric --mem-usage --json; "
            "lspci -nn -D -k -v; find /sys/kernel/iommu_groups/ -type l; cat /proc/driver/nvidia/version; "
            "modinfo nvidia"),
        passes=_detect((("nvidia.csv", _NVIDIA_CSV),), "psot detect --host ws --from nvidia.csv")),
    _entry(
        "DETECT002", "error", "detect", "A `--from` file is missing, unreadable, or larger than 16 MiB.",
        """
        `--from` names files of saved tool output; this one cannot be read at all. No tool prints 16 MiB
        about its GPUs, so a larger file is the wrong one.
        """,
        """
        Pass the path of the saved output (relative to the current directory), and make it readable.
        """,
        fails=_detect((("nvidia.csv", _NVIDIA_CSV),), "psot detect --host ws --from nvidia-smi.csv",
                      "nvidia-smi.csv:1:1: error[DETECT002] file not found; pass the path of a saved tool output"),
        passes=_detect((("nvidia.csv", _NVIDIA_CSV),), "psot detect --host ws --from nvidia.csv")),
    _entry(
        "DETECT003", "warning", "detect", "A record of a tool's output cannot be read and is skipped (at most 20 "
        "are listed per output).",
        """
        The output is of a format psot reads, but one of its records is not as that tool prints it: a CSV
        line with the wrong number of fields (a query with other fields than psot's), a bus ID that is not
        one, lspci output without the `-nn` IDs. The GPU that record describes is left out of the
        inventory; the others are kept.
        """,
        """
        Run the command the message gives, with exactly its options, and save its output again.
        """,
        fails=_detect((("nvidia.csv", _NVIDIA_CSV + "1, NVIDIA GeForce RTX 3060, 12288, 00000000:02:00.0\n"),),
                      "psot detect --host ws --from nvidia.csv",
                      "nvidia.csv:2:1: warning[DETECT003] expected 8 fields (index, name, memory.total, pci.bus_id, "
                      "compute_cap, uuid, driver_version, power.limit), found 4: 1, NVIDIA GeForce RTX 3060, 12288, "
                      "00000000:02:00.0; skipped (run nvidia-smi --query-gpu=index,name,memory.total,pci.bus_id,"
                      "compute_cap,uuid,driver_version,power.limit --format=csv,noheader,nounits)"),
        passes=_detect((("nvidia.csv", _NVIDIA_CSV + _RTX_3060_CSV),), "psot detect --host ws --from nvidia.csv")),
    _entry(
        "DETECT004", "error", "detect", "No GPU tool is installed on this host, or none of them gave an inventory.",
        """
        Without `--from`, psot detect runs whichever of nvidia-smi, rocm-smi, amd-smi and lspci it finds in
        PATH. None is there, or each one failed (DETECT005 says how), so there is nothing to build an
        inventory from: psot could not do its work, and exits 3.
        """,
        """
        Install pciutils for lspci, which sees every GPU with or without its driver, or the vendor's tool.
        Or run the tools on the GPU host, save their output and pass it: `psot detect --from FILE...`.
        """,
        fails=_detect((), "psot detect --host ws  # on a host without nvidia-smi, rocm-smi, amd-smi or lspci",
                      "<detect>:1:1: error[DETECT004] no GPU tool found on this host: looked for nvidia-smi, "
                      "rocm-smi, amd-smi, lspci in PATH. Install pciutils for lspci (it sees every GPU, with or "
                      "without a driver), or run the tools on the GPU host and pass their saved output: psot detect "
                      "--from FILE...", env=(("PATH", "/nonexistent"),)),
        passes=_detect((("nvidia.csv", _NVIDIA_CSV),), "psot detect --host ws --from nvidia.csv")),
    _entry(
        "DETECT005", "warning", "detect", "A GPU tool failed: it could not start, timed out, exited with an error, "
        "or printed what psot cannot read.",
        """
        psot detect runs each tool it finds with a 30 second timeout and reads what it prints. This one
        gave nothing usable; the message quotes its first line, which usually says why (nvidia-smi: the
        driver is not loaded). The other tools may still give the inventory, so this is a warning; when
        none does, DETECT004 follows.
        """,
        """
        Repair the tool as its message says (load or reinstall the driver), or leave the inventory to the
        tools that work. lspci sees the card even without a working driver.
        """,
        fails=_detect((("bin/nvidia-smi", """\
            #!/bin/sh
            echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
            exit 9
            """),), 'chmod +x bin/nvidia-smi\nPATH="$PWD/bin:$PATH" psot detect --host ws',
            "nvidia-smi:1:1: warning[DETECT005] nvidia-smi: `nvidia-smi --query-gpu=index,name,memory.total,"
            "pci.bus_id,compute_cap,uuid,driver_version,power.limit --format=csv,noheader,nounits` exited with "
            "status 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
        passes=_detect((("bin/nvidia-smi", """\
            #!/bin/sh
            echo "0, NVIDIA GeForce RTX 4090, 24564, 00000000:01:00.0, 8.9, GPU-1b724e78, 570.124.06, 450.00"
            """),), 'chmod +x bin/nvidia-smi\nPATH="$PWD/bin:$PATH" psot detect --host ws')),
    _entry(
        "DETECT006", "warning", "detect", "No tool reported a GPU's VRAM (only lspci saw it): its entry is "
        "commented out in the block.",
        """
        lspci names every card on the PCI bus with its address and vendor:device ID, but not its memory;
        only the vendor's tool (nvidia-smi, rocm-smi, amd-smi) reports that. infra.yml requires `vram_gb`,
        so psot prints the GPU as a commented-out entry to complete rather than make a size up.
        """,
        """
        Add the vendor tool's output (`--from nvidia.csv lspci.txt`), or fill in vram_gb (and index, for a
        compose host) and uncomment the entry.
        """,
        fails=_detect((("lspci.txt", _LSPCI),), "psot detect --host ws --from lspci.txt",
                      "lspci.txt:1:1: warning[DETECT006] 0000:01:00.0 (GeForce RTX 4090, 10de:2684): no tool "
                      "reported its VRAM (only lspci saw it), so it is left commented out in the block: fill in "
                      "vram_gb (and index, for compose) and uncomment it"),
        passes=_detect((("lspci.txt", _LSPCI), ("nvidia.csv", _NVIDIA_CSV + _RTX_3060_CSV)),
                       "psot detect --host ws --from nvidia.csv lspci.txt")),
    _entry(
        "DETECT007", "warning", "detect", "Two tools disagree on a GPU's VRAM or vendor; the vendor's own tool "
        "wins.",
        """
        The outputs of two tools describe the same PCI address differently: rocm-smi and amd-smi report
        other VRAM sizes, or lspci names another vendor than the tool that lists the card. The outputs were
        probably saved at different times or on different hosts. psot keeps the value of the vendor's own
        tool and says which it used.
        """,
        """
        Save the outputs again, on the same host at the same time, and check the value psot used.
        """,
        fails=_detect((("rocm.json", """\
            {"card0": {"Card Series": "AMD Radeon RX 7900 XTX", "PCI Bus": "0000:03:00.0", "VRAM Total Memory (B)": "17163091968", "GFX Version": "gfx1100"}}
            """), ("amd.json", """\
            [{"gpu": 0, "asic": {"market_name": "AMD Radeon RX 7900 XTX", "vendor_id": "0x1002", "device_id": "0x744c", "target_graphics_version": "gfx1100"}, "bus": {"bdf": "0000:03:00.0"}, "vram": {"size": {"value": 24560, "unit": "MB"}}}]
            """)), "psot detect --host ws --from rocm.json amd.json",
            "amd.json:1:1: warning[DETECT007] tools disagree on the VRAM of 0000:03:00.0 (Radeon RX 7900 XTX, "
            "1002:744c): amd-smi 24 GB, rocm-smi 16 GB; 24 GB is used (from amd-smi)"),
        passes=_detect((("rocm.json", """\
            {"card0": {"Card Series": "AMD Radeon RX 7900 XTX", "PCI Bus": "0000:03:00.0", "VRAM Total Memory (B)": "25753026560", "GFX Version": "gfx1100"}}
            """), ("amd.json", """\
            [{"gpu": 0, "asic": {"market_name": "AMD Radeon RX 7900 XTX", "vendor_id": "0x1002", "device_id": "0x744c", "target_graphics_version": "gfx1100"}, "bus": {"bdf": "0000:03:00.0"}, "vram": {"size": {"value": 24560, "unit": "MB"}}}]
            """)), "psot detect --host ws --from rocm.json amd.json")),
    _entry(
        "DETECT008", "warning", "detect", "A GPU without a PCI address (rocm-smi without `--showbus`) matches no "
        "other tool's GPU.",
        """
        psot joins what the tools say about one card by its PCI address. rocm-smi prints the address only
        with `--showbus`; without it the GPU is matched by device ID or index with another tool's, and
        when there is none, it is listed without `pci`, which passthrough and Incus need.
        """,
        """
        Run rocm-smi with the options the message gives (they include --showbus), or add the output of
        `lspci -nn -D -k`.
        """,
        fails=_detect((("rocm.json", """\
            {"card0": {"Card series": "Navi 31 [Radeon RX 7900 XT/7900 XTX]", "Card model": "0x744c", "GFX Version": "gfx1100", "VRAM Total Memory (B)": "25753026560"}}
            """),), "psot detect --host ws --from rocm.json",
            "rocm.json:1:1: warning[DETECT008] rocm-smi reports Radeon RX 7900 XT/7900 XTX (index 0) without a PCI "
            "address and no other tool's GPU matches it: it is listed without `pci`; run rocm-smi with --showbus "
            "(or add lspci -nn -D output) to place it"),
        passes=_detect((("rocm.json", """\
            {"card0": {"Card series": "Navi 31 [Radeon RX 7900 XT/7900 XTX]", "Card model": "0x744c", "GFX Version": "gfx1100", "PCI Bus": "0000:03:00.0", "VRAM Total Memory (B)": "25753026560"}}
            """),), "psot detect --host ws --from rocm.json")),
    _entry(
        "DETECT009", "warning", "detect", "The tools ran and found no GPU.",
        """
        Every output was read, and none lists an NVIDIA, AMD or Intel display or accelerator device: the
        host has no GPU, or the outputs come from another machine than the GPU host.
        """,
        """
        Run the tools (or save their output) on the host that has the GPUs.
        """,
        fails=_detect((("lspci.txt", """\
            0000:00:00.0 Host bridge [0600]: Advanced Micro Devices, Inc. [AMD] Starship/Matisse Root Complex [1022:1480]
            0000:05:00.0 Non-Volatile memory controller [0108]: Samsung Electronics Co Ltd NVMe SSD Controller SM981/PM981/PM983 [144d:a808]
            \tKernel driver in use: nvme
            """),), "psot detect --host ws --from lspci.txt",
            "lspci.txt:1:1: warning[DETECT009] no GPU found: no NVIDIA, AMD or Intel display or accelerator device "
            "in lspci.txt"),
        passes=_detect((("lspci.txt", _LSPCI), ("nvidia.csv", _NVIDIA_CSV + _RTX_3060_CSV)),
                       "psot detect --host ws --from nvidia.csv lspci.txt")),
    _entry(
        "DETECT010", "warning", "detect", "A card is on the PCI bus but its vendor's tool, which ran, does not list "
        "it: its driver does not run it.",
        """
        lspci sees the card, and nvidia-smi (or rocm-smi, amd-smi) ran but does not list it: the driver is
        not loaded for it, is too old for the card, or the card has failed. No workload can use it, though
        it looks present. A card bound to vfio-pci is meant for a VM, and is not reported.
        """,
        """
        Make the driver run the card (install a driver that supports it, check `dmesg`), and until then mark
        it `status: unavailable` in infra.yml. Bind it to vfio-pci if it is meant for a VM.
        """,
        fails=_detect((("lspci.txt", _LSPCI), ("nvidia.csv", _NVIDIA_CSV)),
                      "psot detect --host ws --from nvidia.csv lspci.txt",
                      "lspci.txt:3:1: warning[DETECT010] 0000:02:00.0 (GeForce RTX 3060, 10de:2503) is on the PCI "
                      "bus but nvidia-smi does not list it (kernel driver in use: nvidia): the driver does not run "
                      "this card (not loaded, too old for it, or the card failed), so no workload can use it. Mark "
                      "it `status: unavailable` until it works; bind it to vfio-pci if it is meant for a VM"),
        passes=_detect((("lspci.txt", _LSPCI), ("nvidia.csv", _NVIDIA_CSV + _RTX_3060_CSV)),
                       "psot detect --host ws --from nvidia.csv lspci.txt")),
    _entry(
        "DETECT011", "warning", "detect", "Two GPUs of one vendor have one driver index: the outputs come from "
        "different machines or runs; the block leaves the second index out.",
        """
        A driver numbers each of its cards once, so two GPUs of one vendor with the same index cannot be on
        one host in one run: the saved outputs given together were taken on different machines, or the
        driver renumbered the cards between two runs. infra.yml would refuse two such GPUs on one host
        (INV002), so the block keeps the index of the first GPU, in PCI address order, and leaves it out for
        the others: it still pastes and compiles, and compose workloads on that host will ask for it.
        """,
        """
        Run the tools on the GPU host, in one go (`psot detect` there, or save their outputs together), and
        pass those outputs to one `--from`; give each machine its own `--host`.
        """,
        fails=_detect((("a.csv", _NVIDIA_CSV), ("b.csv", _RTX_3060_CSV.replace("1, NVIDIA", "0, NVIDIA", 1))),
                      "psot detect --host ws --from a.csv b.csv",
                      "b.csv:1:1: warning[DETECT011] 0000:02:00.0 (GeForce RTX 3060) has nvidia index 0, as "
                      "0000:01:00.0 (GeForce RTX 4090) has: one driver numbers each card once, so these outputs come "
                      "from different machines or runs; the block leaves out its index: run the tools on the GPU "
                      "host, together, and pass their outputs to one --from"),
        passes=_detect((("nvidia.csv", _NVIDIA_CSV + _RTX_3060_CSV),), "psot detect --host ws --from nvidia.csv")),
    _entry(
        "DETECT020", "warning", "detect", "`--check`: a GPU of the inventory is not detected, or its driver does "
        "not run it: it is treated as unavailable.",
        """
        The inventory in infra.yml lists a GPU that the machine does not show at its address, or shows only
        on the PCI bus, unused by its driver. psot places everything again without it, as `psot place
        --without` does, and shows which consumers move: what would happen now on that machine.
        """,
        """
        If the card is gone for good, remove it from the inventory; if it has failed or waits for a driver,
        set `status: unavailable` until it works. If it moved to another slot, correct its `pci`.
        """,
        fails=_detect((("infra.yml", _checked(
            _RTX_4090, '          rtx-3060: {vendor: nvidia, vram_gb: 12, index: 1, pci: "0000:02:00.0"}\n')),
            ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
            "infra.yml:9:7: warning[DETECT020] ws/rtx-3060 is in the inventory but not at 0000:02:00.0: treated as "
            "unavailable, its consumers fall back (placement below). If it is gone for good, remove it or set "
            "`status: unavailable`"),
        passes=_IN_SYNC),
    _entry(
        "DETECT021", "warning", "detect", "`--check`: a detected GPU is not in the inventory.",
        """
        The machine has a GPU that infra.yml does not list, so psot cannot place anything on it. The report
        ends with the block to paste under the host's `gpus`, named so as not to clash with the others.
        """,
        """
        Paste the block the report prints into the host's `gpus` in infra.yml.
        """,
        fails=_detect((("infra.yml", _checked(_RTX_4090)), ("nvidia.csv", _NVIDIA_CSV + _RTX_3060_CSV)), _CHECK,
                      "infra.yml:7:5: warning[DETECT021] 0000:02:00.0 (GeForce RTX 3060) is on ws but not in the "
                      "inventory: add it as hosts.ws.gpus.rtx-3060 (block below)"),
        passes=_IN_SYNC),
    _entry(
        "DETECT022", "warning", "detect", "`--check`: a GPU's VRAM differs from the inventory's by more than "
        "0.5 GB and 3%.",
        """
        Placement fits consumers into `vram_gb`: a size that is wrong makes it overfill the card, or leave
        memory unused. Differences within 0.5 GB or 3% are rounding (a 24 GB card reports 24 564 MiB) and
        are not reported.
        """,
        """
        Set `vram_gb` to the size the message gives.
        """,
        fails=_detect((("infra.yml", _checked(_RTX_4090.replace("vram_gb: 24", "vram_gb: 16"))),
                       ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
                      "infra.yml:8:43: warning[DETECT022] ws/rtx-4090: infra.yml says 16 GB of VRAM, the card "
                      "reports 24 GB; set vram_gb: 24"),
        passes=_IN_SYNC),
    _entry(
        "DETECT023", "warning", "detect", "`--check`: a GPU's driver version differs from the inventory's.",
        """
        The driver rules judge each NVIDIA GPU by the `driver` infra.yml gives it (too old for its
        architecture: unavailable; older than recommended: degraded), so a stale version makes them judge
        the wrong driver.
        """,
        """
        Set `driver` to the version the machine runs, as the message gives it.
        """,
        fails=_detect((("infra.yml", _checked(_RTX_4090.replace("570.124.06", "550.54.14"))),
                       ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
                      "infra.yml:8:86: warning[DETECT023] ws/rtx-4090: infra.yml says driver 550.54.14, the machine "
                      "runs 570.124.06; set driver: \"570.124.06\" (the driver rules judge the GPU by it)"),
        passes=_IN_SYNC),
    _entry(
        "DETECT024", "warning", "detect", "`--check`: another card is at the inventory's PCI address, or the card "
        "moved to another address.",
        """
        A GPU is known by its PCI address to passthrough, Incus and Proxmox. The card the inventory names is
        now at another address (it was moved to another slot), or the address holds a card with another
        vendor:device ID (it was swapped).
        """,
        """
        For a moved card set `pci` to the new address. For a swapped card update its whole entry (model,
        pci_id, vram_gb, ...) from the output of `psot detect`.
        """,
        fails=_detect((("infra.yml", _checked(_RTX_4090.replace("0000:01:00.0", "0000:02:00.0"))),
                       ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
                      "infra.yml:8:62: warning[DETECT024] ws/rtx-4090 moved from 0000:02:00.0 to 0000:01:00.0: set "
                      "pci: \"0000:01:00.0\""),
        passes=_IN_SYNC),
    _entry(
        "DETECT025", "warning", "detect", "`--check`: the driver numbers a GPU differently from the inventory's "
        "`index`.",
        """
        Docker selects GPUs by the index the driver gives them, and psot writes `index` into the compose
        override's device_ids: a wrong index hands the service another card.
        """,
        """
        Set `index` to the number the message gives.
        """,
        fails=_detect((("infra.yml", _checked(_RTX_4090.replace("index: 0", "index: 1"))),
                       ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
                      "infra.yml:8:54: warning[DETECT025] ws/rtx-4090: infra.yml says index 1, the driver numbers it "
                      "0; set index: 0 (compose device_ids use it)"),
        passes=_IN_SYNC),
    _entry(
        "DETECT026", "warning", "detect", "`--check`: a GPU of the inventory is of a vendor that no tool that ran "
        "can see; it is not checked.",
        """
        nvidia-smi says nothing about AMD or Intel cards, nor rocm-smi about NVIDIA ones, so a GPU missing
        from their output is not missing from the machine. psot leaves it unchecked rather than call it
        missing.
        """,
        """
        Add the output of a tool that sees it: `lspci -nn -D -k` sees every vendor.
        """,
        fails=_detect((("infra.yml", _checked(
            _RTX_4090, '          rx-7900-xtx: {vendor: amd, vram_gb: 24, index: 1, pci: "0000:03:00.0"}\n')),
            ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
            "infra.yml:9:7: warning[DETECT026] ws/rx-7900-xtx not checked: no tool that ran (nvidia-smi) sees amd "
            "GPUs; add lspci -nn -D output, which sees every vendor"),
        passes=_IN_SYNC),
    _entry(
        "DETECT027", "error", "detect", "`--check`: `--host` is not in the inventory, or this machine is not and "
        "the inventory has several hosts.",
        """
        `--check` compares what is detected with one host of the inventory: the one `--host` names, else
        the one named like this machine, else the only host there is. None of these gives a host here, so
        there is nothing to compare with.
        """,
        """
        Pass `--host` with the name of the host in infra.yml whose GPUs were detected.
        """,
        fails=_detect((("infra.yml", _checked(_RTX_4090)), ("nvidia.csv", _NVIDIA_CSV)),
                      "psot detect --check infra.yml --host wks --from nvidia.csv",
                      "infra.yml:4:1: error[DETECT027] --host wks: no such host in the inventory; one of: ws"),
        passes=_IN_SYNC),
    _entry(
        "DETECT028", "warning", "detect", "Two outputs disagree on the host's NVIDIA kernel modules, open or "
        "proprietary: the loaded ones are written.",
        """
        /proc/driver/nvidia/version names the kernel modules that are loaded, `modinfo nvidia` those
        installed, which the next boot loads. They differ when the other flavour was installed and the
        host has not rebooted since; two outputs of one kind that differ were saved on different machines
        or boots. The block's `nvidia.kernel_modules` says the loaded ones (of two of a kind, those of the
        first file by name).
        """,
        """
        Reboot to load the modules installed, or install the flavour the host is to run: the open modules
        drive Turing and later GPUs and Blackwell needs them, the proprietary ones drive Maxwell to Ada and
        GPUs before Turing need them. Then save the outputs again.
        """,
        fails=_detect((("nvidia.csv", _NVIDIA_CSV), ("version.txt", _NVIDIA_OPEN),
                       ("modinfo.txt", _MODINFO.format(license="NVIDIA"))),
                      "psot detect --host ws --from nvidia.csv version.txt modinfo.txt",
                      "modinfo.txt:3:1: warning[DETECT028] the NVIDIA kernel modules installed are proprietary "
                      "(modinfo.txt), those loaded open (version.txt); the block says kernel_modules: open, which "
                      "runs now: the next boot loads the installed ones; reboot, or install the flavour the host is "
                      "to run"),
        passes=_detect((("nvidia.csv", _NVIDIA_CSV), ("version.txt", _NVIDIA_OPEN),
                        ("modinfo.txt", _MODINFO.format(license="Dual MIT/GPL"))),
                       "psot detect --host ws --from nvidia.csv version.txt modinfo.txt")),
    _entry(
        "DETECT029", "warning", "detect", "An AMD APU's memory is unified and no output gave the GTT it can "
        "address: its vram_gb is the BIOS carve-out.",
        """
        An APU has no memory of its own. The VRAM rocm-smi and amd-smi report for it is the share of system
        memory the BIOS reserves (often 512 MB), while the GPU can address far more system memory through
        its GTT. psot writes `memory: unified` and, as `vram_gb`, the GTT when an output gives it; none did
        here, so `vram_gb` is the reserved share and placement would take the APU for a much smaller GPU.
        """,
        """
        Add the output of rocm-smi run with `--showmeminfo vram gtt` (as psot runs it) or of `amd-smi
        metric --mem-usage --json`; or set `vram_gb` to the memory the GPU is to use.
        """,
        fails=_detect((("rocm.json", _APU_ROCM.format(gtt="")),), "psot detect --host ws --from rocm.json",
                      "rocm.json:1:1: warning[DETECT029] 0000:c4:00.0 (Radeon 780M Graphics, 1002:15bf) is an APU: "
                      "its 0.5 GB of VRAM is the share of system memory the BIOS reserves for it, and it can address "
                      "more (the GTT), which no output gave; the block says the reserved share. Add the output of "
                      "rocm-smi --showmeminfo vram gtt --json or amd-smi metric --mem-usage --json"),
        passes=_detect((("rocm.json", _APU_ROCM.format(gtt=_APU_GTT)),), "psot detect --host ws --from rocm.json")),
    _entry(
        "DETECT030", "warning", "detect", "`--check`: a GPU's `uuid` differs from the inventory's: another card "
        "is in its place.",
        """
        nvidia-smi's `uuid` identifies one card for good, whatever slot it sits in. A card with another uuid
        where the inventory's was is another card, even of the same model: swapped, or replaced after a
        failure. Its VRAM, power limit or board may differ too.
        """,
        """
        Set `uuid` to the one the message gives, and compare the rest of the GPU's entry with what `psot
        detect` prints.
        """,
        fails=_detect((("infra.yml", _checked(_rtx_4090_with("uuid: GPU-0e5d0a8c-2f41-4b7e-9a36-5c8d1e2f3a4b"))),
                       ("nvidia.csv", _NVIDIA_CSV)), _CHECK,
                      "infra.yml:8:106: warning[DETECT030] ws/rtx-4090: infra.yml says uuid "
                      "GPU-0e5d0a8c-2f41-4b7e-9a36-5c8d1e2f3a4b, the card at 0000:01:00.0 is "
                      "GPU-1b724e78-eef5-4163-d43c-e4da15d41176: another card is in its place; set uuid: "
                      "GPU-1b724e78-eef5-4163-d43c-e4da15d41176 and check the rest of its entry against `psot detect`"),
        passes=_detect((("infra.yml", _checked(_rtx_4090_with("uuid: GPU-1b724e78-eef5-4163-d43c-e4da15d41176"))),
                        ("nvidia.csv", _NVIDIA_CSV)), _CHECK)),
    _entry(
        "DETECT031", "warning", "detect", "`--check`: a GPU's `subsystem_id` differs from the inventory's: "
        "another maker's or model's board is in its place.",
        """
        The subsystem ID lspci prints names the board around the chip: its maker and model (ASUS's or
        Gigabyte's RTX 4090). Another one where the inventory's was is another card with the same chip,
        whose power limit, cooling or firmware may differ.
        """,
        """
        Set `subsystem_id` to the one the message gives, and compare the rest of the GPU's entry with what
        `psot detect` prints.
        """,
        fails=_detect((("infra.yml", _checked(_rtx_4090_with("subsystem_id: 1043:889d"))),
                       ("nvidia.csv", _NVIDIA_CSV), ("lspci.txt", _LSPCI_V)), _CHECK + " lspci.txt",
                      "infra.yml:8:114: warning[DETECT031] ws/rtx-4090: infra.yml says subsystem_id 1043:889d, the "
                      "card at 0000:01:00.0 is a 1458:40bf board: another maker's or model's card of that chip is in "
                      "its place; set subsystem_id: 1458:40bf and check the rest of its entry"),
        passes=_detect((("infra.yml", _checked(_rtx_4090_with("subsystem_id: 1458:40bf"))),
                        ("nvidia.csv", _NVIDIA_CSV), ("lspci.txt", _LSPCI_V)), _CHECK + " lspci.txt")),
    _entry(
        "DETECT032", "warning", "detect", "`--check`: a GPU's IOMMU group differs from the inventory's "
        "`iommu_group`.",
        """
        The kernel numbers the IOMMU groups at boot; a firmware or kernel update, a BIOS setting or another
        slot numbers them anew. A VM is given a GPU's whole group, so what the inventory says of the group
        no longer holds.
        """,
        """
        Set `iommu_group` to the number the message gives, and check which devices share that group (`find
        /sys/kernel/iommu_groups/<n>/devices/ -type l`) before passing it through.
        """,
        fails=_detect((("infra.yml", _checked(_rtx_4090_with("iommu_group: 12"))),
                       ("nvidia.csv", _NVIDIA_CSV), ("lspci.txt", _LSPCI_V)), _CHECK + " lspci.txt",
                      "infra.yml:8:113: warning[DETECT032] ws/rtx-4090: infra.yml says IOMMU group 12, the machine "
                      "puts it in group 13 (a firmware or kernel update, or another slot, renumbers them); set "
                      "iommu_group: 13, and check what shares that group: a VM is given all of it"),
        passes=_detect((("infra.yml", _checked(_rtx_4090_with("iommu_group: 13"))),
                        ("nvidia.csv", _NVIDIA_CSV), ("lspci.txt", _LSPCI_V)), _CHECK + " lspci.txt")),
    _entry(
        "DETECT033", "warning", "detect", "`--check`: another kernel driver holds a GPU than the inventory's "
        "`driver_in_use`: a card no longer, or newly, reserved for a VM by vfio-pci.",
        """
        A card bound to vfio-pci is reserved for a VM: the host's own driver does not serve it. The
        inventory says one thing and the machine another: the card meant for a VM was taken by the host's
        driver (vfio-pci did not claim it at boot: its IDs are not in the vfio-pci options, or the GPU
        driver loaded first), or a card the host served is now held for a VM.
        """,
        """
        Bind the card as the inventory says (psot generates the vfio-pci options for the GPUs Proxmox passes
        through), or set `driver_in_use` to the driver the message gives.
        """,
        fails=_detect((("infra.yml", _checked(_rtx_4090_with("driver_in_use: vfio-pci"))),
                       ("nvidia.csv", _NVIDIA_CSV), ("lspci.txt", _LSPCI_V)), _CHECK + " lspci.txt",
                      "infra.yml:8:115: warning[DETECT033] ws/rtx-4090: infra.yml says it is bound to vfio-pci, for "
                      "a VM, but nvidia holds it: the host took it back (vfio-pci did not claim it at boot); bind it "
                      "to vfio-pci again, or set driver_in_use: nvidia"),
        passes=_detect((("infra.yml", _checked(_rtx_4090_with("driver_in_use: nvidia"))),
                        ("nvidia.csv", _NVIDIA_CSV), ("lspci.txt", _LSPCI_V)), _CHECK + " lspci.txt")),
    _entry(
        "DETECT034", "warning", "detect", "`--check`: the host runs other NVIDIA kernel modules (open or "
        "proprietary) than its `nvidia.kernel_modules` says.",
        """
        `nvidia.kernel_modules` is the flavour of NVIDIA kernel modules the host is to run, and what it can
        drive depends on it: the open modules drive Turing and later GPUs (Blackwell needs them), the
        proprietary ones Maxwell to Ada (GPUs before Turing need them). /proc/driver/nvidia/version says
        the host loaded the other flavour.
        """,
        """
        Install the flavour the inventory declares (the driver installer's `--kernel-module-type`, or your
        distribution's open or proprietary package) and reboot, or set `nvidia.kernel_modules` to what the
        host runs.
        """,
        fails=_detect((("infra.yml", _declaring("proprietary")), ("nvidia.csv", _NVIDIA_CSV),
                       ("version.txt", _NVIDIA_OPEN)), _CHECK + " version.txt",
                      "infra.yml:7:30: warning[DETECT034] ws: infra.yml says the NVIDIA kernel modules are "
                      "proprietary, the host runs the open ones; set nvidia.kernel_modules: open, or install the "
                      "flavour infra.yml declares"),
        passes=_detect((("infra.yml", _declaring("open")), ("nvidia.csv", _NVIDIA_CSV),
                        ("version.txt", _NVIDIA_OPEN)), _CHECK + " version.txt")),
)

WRITTEN: dict[str, Code] = {entry.code: entry for entry in _WRITTEN_ENTRIES}


def severity_of(code: str) -> str | None:
    """The severity the table gives `code`, or None when it is no code of psot's."""
    entry = WRITTEN.get(code)
    if entry is not None:
        return entry.severity
    from generator.rules import RULES  # rule modules import findings, which imports this module: not at the top
    module = RULES.get(code)
    return module.SEVERITY if module is not None else None


def check(code: str, severity: str) -> None:
    """Refuse a finding whose code is not in the table, or whose severity is not the table's."""
    expected = severity_of(code)
    if expected is None:
        raise CodeError(f"finding code {code!r} is not in the table of codes (generator/diagnostics/codes.py)")
    if severity != expected:
        raise CodeError(f"finding code {code} has severity {expected!r} in the table of codes, not {severity!r}")


def _rule_entry(code: str, module) -> Code:
    from generator.rules import description, examples, explanation
    ex = examples(module)
    return Code(code, module.SEVERITY, f"{module.STAGE} rule", description(module), explanation(module),
                prose(ex["fix"]),
                fails=Example((("infra.yml", ex["failing"]),), finding=ex["finding"].strip()),
                passes=Example((("infra.yml", ex["passing"]),)))


@cache
def registry() -> dict[str, Code]:
    """Every code, rules included, by family (in FAMILIES order), then by code."""
    from generator.rules import RULES
    entries = list(WRITTEN.values()) + [_rule_entry(code, module) for code, module in RULES.items()]
    return {e.code: e for e in sorted(entries, key=lambda e: (FAMILIES.index(e.family), _sort_key(e.code)))}


def _sort_key(code: str) -> tuple:
    prefix = code.rstrip("0123456789")
    return (prefix, int(code[len(prefix):]))


def lookup(text: str) -> Code | None:
    """The entry of a code, however it is capitalised (`gpu001`)."""
    return registry().get(text.strip().upper())


def closest(text: str, limit: int = 3) -> list[str]:
    """Up to `limit` known codes that look most like `text`, the closest first."""
    import difflib  # only `psot explain` of an unknown code needs it: not imported by every command
    word = text.strip().upper()
    scored = [(difflib.SequenceMatcher(None, word, code).ratio(), code) for code in registry()]
    return [code for score, code in sorted(scored, key=lambda s: (-s[0], s[1])) if score > 0][:limit]


def table_markdown(families: tuple[str, ...]) -> str:
    rows = ["| code | severity | what |", "|---|---|---|"]
    for entry in registry().values():
        if entry.family in families:
            rows.append(f"| {entry.code} | {entry.severity} | {entry.summary} |")
    return "\n".join(rows) + "\n"


def readme_blocks() -> dict[str, str]:
    """The README's generated blocks, by marker name: `<!-- NAME:begin -->` ... `<!-- NAME:end -->`."""
    from generator.rules import table_markdown as rule_table
    return {"rules": rule_table(), **{name: table_markdown(families) for name, families in README_BLOCKS.items()}}


def _between_markers(body: str) -> Callable[[re.Match[str]], str]:
    """re.sub's replacement that puts `body` between a block's two markers, as it is (no escapes)."""
    return lambda m: m.group(1) + body + m.group(2)


def update_readme(text: str) -> tuple[str, list[str]]:
    """`text` with every generated block rewritten, and the names of the blocks it lacks markers for."""
    missing = []
    for name, body in readme_blocks().items():
        text, count = re.subn(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)",
                              _between_markers(body), text, flags=re.DOTALL)
        if count != 1:
            missing.append(name)
    return text, missing
