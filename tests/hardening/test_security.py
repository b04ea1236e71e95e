"""What infra.yml cannot make `psot sync` do (issue 8, Robustness: security). A test per attack.

- write outside generated/: through a name that reaches a path (every kind
  of name, vmid, output_dir), through a symlink already in generated/ or
  beside it (to a file, to a directory), through a symlink on output_dir's way;
- add a key or a line to a generated file, or have a template evaluate a
  value (`{{ 7*7 }}`, `{% ... %}`), or expand `$HOME`-like values;
- run anything: YAML tags like `!!python/object/apply:os.system` are refused,
  and no process is started and no socket opened during sync.

Every sync here runs under a Python audit hook that records each file
operation psot makes (open for writing, mkdir, rename, link, unlink,
rmtree, chmod) and refuses any process or network call, so "nothing
outside generated/" is checked on what psot actually did.
"""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator import rules
from generator.cli import main as cli
from generator.serialize import load_yaml
from tests.conftest import REPO
from tests.hardening.helpers import tree_hashes

# -- The audit hook -------------------------------------------------------------------------------

_FORBIDDEN = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
              "socket.connect", "socket.bind", "socket.getaddrinfo", "socket.gethostbyname", "os.startfile"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_STATE: dict = {"on": False, "busy": False, "ops": [], "forbidden": []}


def _audit(event: str, args: tuple) -> None:
    if not _STATE["on"] or _STATE["busy"]:
        return
    if event in _FORBIDDEN:
        _STATE["forbidden"].append(event)
        raise PermissionError(f"psot tried {event} during sync")
    paths: list = []
    if event == "open":
        path, mode, flags = args
        if isinstance(path, (str, bytes)) and ((mode and set(str(mode)) & set("wax+")) or (flags or 0) & _WRITE_FLAGS):
            paths = [path]
    elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.chmod", "os.truncate", "shutil.rmtree", "os.utime"):
        if args[-1] is None or event == "shutil.rmtree":  # a dir_fd of its own: inside an rmtree already checked
            paths = [args[0]]
    elif event in ("os.rename", "os.link"):
        paths = [args[0], args[1]] if args[2] is None and args[3] is None else []
    elif event == "os.symlink":
        paths = [args[1]]  # the link made; its target is only text
    for path in paths:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, str) and "__pycache__" not in path:
            _STATE["busy"] = True
            try:
                _STATE["ops"].append((event, os.path.abspath(path), os.path.realpath(os.path.dirname(path))))
            finally:
                _STATE["busy"] = False


if not getattr(sys, "_psot_hardening_audit", False):
    sys.addaudithook(_audit)  # hooks cannot be removed: it only acts while _STATE["on"]
    sys._psot_hardening_audit = True


@contextmanager
def watched():
    _STATE.update(on=True, ops=[], forbidden=[])
    try:
        yield _STATE
    finally:
        _STATE["on"] = False


def sync(infra: Path, out: Path | None, *extra: str):
    """`psot sync` in process, under the audit hook; returns (exit code, output, file operations).

    `out` None: no --output-dir, so global.output_dir counts.
    """
    where = ["-o", str(out)] if out is not None else []
    with watched() as state:
        result = CliRunner().invoke(cli.cli, ["sync", str(infra), *where, *extra], standalone_mode=False)
    assert not state["forbidden"], f"psot tried {state['forbidden']}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"psot raised {result.exception!r}") from result.exception
    return result.return_value, result.stdout + result.stderr, list(state["ops"])


def assert_confined(ops: list, out: Path) -> None:
    """Every file operation was on generated/, its staging trees or its lock, with no symlink on the way."""
    parent = os.path.realpath(out.parent)
    mine = (out.name, f".{out.name}.psot-")
    for event, path, real_dir in ops:
        rel = os.path.relpath(path, parent)
        first = rel.split(os.sep)[0]
        assert first == out.name or first.startswith(mine[1]), f"{event} {path}: outside generated/"
        real_rel = os.path.relpath(real_dir, parent)
        assert real_rel == "." or real_rel.split(os.sep)[0] in (first,), \
            f"{event} {path}: its directory is really {real_dir}, through a symlink"


# -- Inputs ---------------------------------------------------------------------------------------

def base_doc() -> dict:
    """Every target, so that every kind of name reaches a path."""
    return {
        "project_name": "sec",
        "global": {"gpu_policy": "shared"},
        "domains": {"ai": {
            "description": "plain",
            "profiles": {"gpu-p": {"description": "plain", "devices": {"gpu": {"type": "gpu"}}}},
            "machines": {"box": {"type": "lxc", "description": "plain", "profiles": ["default", "gpu-p"],
                                 "config": {"user.note": "plain"}}},
        }},
        "hosts": {
            "ws": {"platform": "docker", "labels": {"note": "plain"},
                   "gpus": {"rtx": {"vendor": "nvidia", "vram_gb": 24, "index": 0, "model": "plain"}}},
            "pve": {"platform": "proxmox", "iommu": True, "gpus": {
                "card": {"vendor": "nvidia", "vram_gb": 16, "pci": "0000:01:00.0", "pci_id": "10de:2204"}}},
            "lab": {"platform": "incus", "gpus": {"a4000": {"vendor": "nvidia", "vram_gb": 16, "pci": "0000:03:00.0"}}},
            "k8s": {"platform": "kubernetes", "labels": {"note": "plain"},
                    "gpus": {"small": {"vendor": "nvidia", "vram_gb": 8, "index": 0}}},
        },
        "workloads": {
            "svc": {"target": "compose", "host": "ws", "environment": {"NOTE": "plain"}},
            "vm": {"target": "proxmox", "host": "pve", "vmid": 100, "name": "plain"},
            "pod": {"target": "kubernetes", "host": "k8s", "image": "nginx:1", "namespace": "ai"},
        },
    }


def write(tmp_path: Path, doc: dict, name: str = "infra.yml") -> Path:
    project = tmp_path / "project"
    project.mkdir(parents=True, exist_ok=True)
    path = project / name
    # libyaml's dumper, as psot's own: PyYAML's Python one writes U+0085 so that it reads back as a space.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def rename_key(mapping: dict, old: str, new) -> None:
    mapping[new] = mapping.pop(old)


def test_the_base_input_compiles_and_touches_only_generated(tmp_path):
    infra = write(tmp_path, base_doc())
    out = infra.parent / "generated"
    code, output, ops = sync(infra, out)
    assert code == 0, output
    assert ops and {"incus", "proxmox", "compose", "kubernetes", "placement.yml"} <= {p.name for p in out.iterdir()}
    assert_confined(ops, out)


# -- 1. Names that reach a path -------------------------------------------------------------------

HOSTILE = ["../../evil", "..", ".", "a/b", "/tmp/evil", "evil\n", "évil", ".evil", "x" * 64, "a\\b", "~evil", "-evil"]
NAME_PLACES = {
    "domain": lambda d, v: rename_key(d["domains"], "ai", v),
    "profile": lambda d, v: (rename_key(d["domains"]["ai"]["profiles"], "gpu-p", v),
                             d["domains"]["ai"]["machines"]["box"]["profiles"].__setitem__(1, v)),
    "machine": lambda d, v: rename_key(d["domains"]["ai"]["machines"], "box", v),
    "docker host": lambda d, v: (rename_key(d["hosts"], "ws", v), d["workloads"]["svc"].__setitem__("host", v)),
    "proxmox host": lambda d, v: (rename_key(d["hosts"], "pve", v), d["workloads"]["vm"].__setitem__("host", v)),
    "kubernetes host": lambda d, v: (rename_key(d["hosts"], "k8s", v), d["workloads"]["pod"].__setitem__("host", v)),
    "gpu": lambda d, v: rename_key(d["hosts"]["pve"]["gpus"], "card", v),
    "compose workload": lambda d, v: rename_key(d["workloads"], "svc", v),
    "proxmox workload": lambda d, v: rename_key(d["workloads"], "vm", v),
    "kubernetes workload": lambda d, v: rename_key(d["workloads"], "pod", v),
    "vmid": lambda d, v: d["workloads"]["vm"].__setitem__("vmid", v),
    "output_dir": lambda d, v: d["global"].__setitem__("output_dir", v),
}


# output_dir may be any directory inside the project (`a/b`, `.evil`): these leave it, or are it.
OUTPUT_DIRS = ["../../evil", "..", ".", "./", "/tmp/evil", "a/../../evil", "", "evil\n", "generated/../..", "a/./.."]


@pytest.mark.parametrize("place", sorted(NAME_PLACES))
def test_no_name_can_lead_a_write_out_of_generated(tmp_path, place):
    values = (OUTPUT_DIRS if place == "output_dir"
              else HOSTILE + ([-1, 1.5, "100/../../evil"] if place == "vmid" else []))
    for i, value in enumerate(values):
        doc = base_doc()
        NAME_PLACES[place](doc, value)
        work = tmp_path / str(i)
        infra = write(work, doc)
        code, output, ops = sync(infra, None if place == "output_dir" else infra.parent / "generated")
        assert code == 1, f"{place} = {value!r} was accepted:\n{output}"
        assert any(c in output for c in ("error[NAME001]", "error[SCHEMA001]", "error[PATH001]")), output
        assert ops == [], f"{place} = {value!r}: an input with errors wrote {ops}"
        assert not any("evil" in p.name for p in work.rglob("*")) and not Path("/tmp/evil").exists()


def test_output_dir_through_a_symlink_out_of_the_project_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    doc = base_doc()
    doc["global"]["output_dir"] = "link/generated"
    infra = write(tmp_path, doc)
    (infra.parent / "link").symlink_to(outside)
    code, output, ops = sync(infra, None)
    assert code == 1 and "error[PATH001]" in output, output
    assert ops == [] and list(outside.iterdir()) == []


@pytest.mark.parametrize("value", [".", "./", "link-to-project"])
def test_output_dir_cannot_be_the_project_itself(tmp_path, value):
    """The writer swaps the whole output directory: `.` would swap the project (and lock beside it)."""
    doc = base_doc()
    doc["global"]["output_dir"] = value
    infra = write(tmp_path, doc)
    (infra.parent / "link-to-project").symlink_to(".")
    code, output, ops = sync(infra, None)
    assert code == 1 and "error[PATH001]" in output, output
    assert ops == []


@pytest.mark.parametrize("base,why", [
    ("/etc/kubernetes", "must stay inside the project: write the path of your kustomize directory relative to "
                        "infra.yml, without '..'"),
    ("../k8s", "must stay inside the project: write the path of your kustomize directory relative to infra.yml, "
               "without '..'"),
    ("k8s/../../k8s", "must stay inside the project: write the path of your kustomize directory relative to "
                      "infra.yml, without '..'"),
    ("link/k8s", "leads to {outside}/k8s through a symlink, outside the project: write a path inside the project"),
])
def test_kubernetes_base_cannot_lead_out_of_the_project(tmp_path, base, why):
    """The overlay lists the base as a resource: `kubectl apply -k` would apply manifests from outside."""
    outside = tmp_path / "outside"
    (outside / "k8s").mkdir(parents=True)
    doc = base_doc()
    doc["global"]["kubernetes"] = {"base": base}
    infra = write(tmp_path, doc)
    (infra.parent / "link").symlink_to(outside)
    code, output, ops = sync(infra, None)
    assert code == 1, output
    assert f"error[PATH003] kubernetes.base '{base}' {why.format(outside=outside)}" in output, output
    assert ops == []


def test_kubernetes_base_inside_the_project_through_a_symlink_is_fine(tmp_path):
    doc = base_doc()
    doc["global"]["kubernetes"] = {"base": "link/k8s"}
    infra = write(tmp_path, doc)
    (infra.parent / "deploy" / "k8s").mkdir(parents=True)
    (infra.parent / "link").symlink_to("deploy")
    code, output, ops = sync(infra, None)
    assert code == 0 and "PATH003" not in output, output


# -- 2. Symlinks already there ----------------------------------------------------------------------

@pytest.fixture
def planted(tmp_path):
    """An input, a clean reference tree, and an `outside` directory with a file, to plant links to."""
    infra = write(tmp_path, base_doc())
    ref = tmp_path / "ref" / "generated"
    assert sync(infra, ref)[0] == 0
    outside = tmp_path / "outside"
    (outside / "compose").mkdir(parents=True)
    (outside / "precious").write_text("do not touch\n")
    (outside / "compose" / "precious").write_text("do not touch either\n")
    return infra, tree_hashes(ref), outside, tree_hashes(outside)


# Where a symlink is planted inside generated/ (relative path -> target inside `outside`).
PLANTS = {
    "dir-psot-writes-into": ("compose", "compose"),
    "file-psot-rewrites": ("placement.yml", "precious"),
    "nested-file": ("proxmox/pve/qemu-server/100.conf", "precious"),
    "psot-state-dir": (".psot", "compose"),
    "unrelated-file": ("notes.txt", "precious"),
    "unrelated-dir": ("docs", "compose"),
    "dangling-to-a-new-file": ("kubernetes/nodes/k8s.yaml", "created-by-psot"),
}


@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_symlink_in_generated_is_never_followed(tmp_path, planted, plant):
    infra, ref, outside, outside_before = planted
    out = infra.parent / "generated"
    assert sync(infra, out)[0] == 0
    rel, target = PLANTS[plant]
    link = out / rel
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    elif link.exists():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside / target)
    doc = base_doc()
    doc["domains"]["ai"]["description"] = "changed"  # so that this sync writes
    write(tmp_path, doc)
    # generated/ beside infra.yml, as psot finds it: `-o` would refuse a tree whose .psot/ (the proof
    # that psot made it) is a symlink.
    code, output, ops = sync(infra, None, "--clean-orphans")
    assert code == 0, output
    assert_confined(ops, out)
    assert tree_hashes(outside) == outside_before, "something outside generated/ changed"
    generated = {p: h for p, h in tree_hashes(out).items() if not h.startswith("symlink:")}
    if plant.startswith("unrelated"):
        assert os.readlink(link) == str(outside / target), "a link psot does not own is kept as it is"
    else:
        assert not link.is_symlink(), "psot's own path is a real file or directory again"
        assert rel in generated or any(p.startswith(rel + "/") for p in generated)


@pytest.mark.parametrize("option", [False, True])
def test_generated_itself_a_symlink_is_refused(tmp_path, planted, option):
    """Found beside infra.yml, the writer refuses it (exit 3); named by `-o`, it is a finding (PATH002)."""
    infra, _, outside, outside_before = planted
    out = infra.parent / "generated"
    out.symlink_to(outside)
    code, output, ops = sync(infra, out if option else None)
    if option:
        assert code == 1 and output.startswith(f"<command line>:1:1: error[PATH002] --output-dir {out}: is a "
                                               f"symlink (to {outside}); "), output
    else:
        assert code == 3 and f"{out} is not a directory psot can replace (a symlink or a file)" in output, output
    assert ops == [] and tree_hashes(outside) == outside_before


@pytest.mark.parametrize("name", [".generated.psot-lock", ".generated.psot-new-planted", ".generated.psot-old-planted",
                                  ".generated.psot-cache", ".generated.psot-render", ".generated.psot-files",
                                  ".generated.psot-parse"])
def test_a_symlink_planted_beside_generated_is_never_followed(tmp_path, planted, name):
    """The lock file and the staging names live beside generated/: links planted there are not followed
    (the lock is opened with O_NOFOLLOW; a planted 'old tree' is not renamed into place)."""
    infra, ref, outside, outside_before = planted
    out = infra.parent / "generated"
    target = outside / ("compose" if "-new-" in name or "-old-" in name else "created-by-psot")
    (infra.parent / name).symlink_to(target)
    code, output, ops = sync(infra, out)
    assert tree_hashes(outside) == outside_before and not (outside / "created-by-psot").exists()
    assert_confined(ops, out)
    if name.endswith("lock"):
        assert code == 3 and "cannot write" in output, output
    else:
        assert code == 0, output
        assert not out.is_symlink() and tree_hashes(out) == ref


# -- 3. Values cannot add keys or lines, nor be evaluated -----------------------------------------

TEXTS = ["{{ 7*7 }}", "{% if true %}yes{% endif %}", "{# c #}", "${HOME}", "$HOME", "$(touch pwned)", "`id`",
         "%(x)s", "~root", "a\x85b", "a\u2028b", "a\rb", "a\nb: c\n[evil]", "'\"", "\\n"]


def free_text_doc(text: str) -> dict:
    doc = base_doc()
    domain = doc["domains"]["ai"]
    domain["description"] = domain["profiles"]["gpu-p"]["description"] = text
    domain["machines"]["box"]["description"] = text
    domain["machines"]["box"]["config"] = {"user.note": text, "user.other": text}
    doc["hosts"]["ws"]["gpus"]["rtx"]["model"] = text
    doc["workloads"]["svc"]["environment"] = {"NOTE": text}
    return doc


def strings(data):
    if isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from strings(item)
    elif isinstance(data, str):
        yield data


def shape(data):
    """The keys of a YAML document, values left out."""
    if isinstance(data, dict):
        return {key: shape(value) for key, value in data.items()}
    if isinstance(data, list):
        return [shape(item) for item in data]
    return None


@pytest.fixture(scope="module")
def plain_tree(tmp_path_factory):
    infra = write(tmp_path_factory.mktemp("plain"), free_text_doc("plain"))
    out = infra.parent / "generated"
    assert sync(infra, out)[0] == 0
    return {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize("text", TEXTS, ids=[repr(t) for t in TEXTS])
def test_a_value_stays_one_literal_value_in_every_generated_file(tmp_path, plain_tree, text, monkeypatch):
    monkeypatch.setenv("HOME", "/home/someone-else")
    infra = write(tmp_path, free_text_doc(text))
    out = infra.parent / "generated"
    monkeypatch.chdir(tmp_path)
    code, output, ops = sync(infra, out)
    assert code == 0, output
    assert_confined(ops, out)
    assert not (tmp_path / "pwned").exists() and not (infra.parent / "pwned").exists()
    tree = {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert set(tree) == set(plain_tree)
    found = 0
    for path, content in tree.items():
        if path.endswith((".yml", ".yaml")):
            data, plain = load_yaml(content), load_yaml(plain_tree[path])
            assert shape(data) == shape(plain), f"{path}: the value changed the file's keys"
            values = list(strings(data))
            found += sum(text in v for v in values)
            assert "/home/someone-else" not in content, f"{path}: $HOME was expanded"
        elif not path.startswith(".psot/"):  # (the manifest: hashes of the files above)
            assert content == plain_tree[path], f"{path}: free text reached a text format"
    assert found >= 6, "the text is in the instance, profile, project, config, environment and placement files"
    instance = yaml.safe_load(tree["incus/ai/instances/box.yaml"])
    assert instance["description"] == text and instance["config"]["user.note"] == text
    compose = load_yaml(tree["compose/ws/docker-compose.gpu-override.yml"])
    assert compose["services"]["svc"]["environment"] == [f"NOTE={text}"], "written as given: Compose interpolates"


HOSTILE_KEYS = ["-x", "?x", "#c", "true", "null", "~", "1", "0x1F", "1e3", "a:b", "a:", "&a", "*a", "!t", "'q", '"q',
                "{a}", "[a]", "%TAG", "@x", "`x", "<<", "=", "x" * 300, "é:ü", "a#b", "---", "...", "|", ">"]


def hostile_keys_doc() -> dict:
    doc = base_doc()
    machine = doc["domains"]["ai"]["machines"]["box"]
    machine["config"] = {key: f"v{i}" for i, key in enumerate(HOSTILE_KEYS)}
    machine["devices"] = {"disk0": {"type": "disk", "path": "/x", "source": "/y",
                                    **{key: f"d{i}" for i, key in enumerate(HOSTILE_KEYS)}}}
    return doc


def test_keys_that_are_no_incus_keys_are_refused_before_render(tmp_path):
    """None of them has the shape of an Incus key (INC006): each is refused at its line, nothing is written."""
    infra = write(tmp_path, hostile_keys_doc())
    out = infra.parent / "generated"
    code, output, ops = sync(infra, out)
    assert code == 1
    # As device options, `true`, `null` and the 300 x's are words like `pci`: Incus itself refuses them.
    assert output.count("error[INC006]") == len(HOSTILE_KEYS) + len(HOSTILE_KEYS) - 3
    assert not out.exists()


def test_no_key_can_change_the_shape_of_a_generated_file(tmp_path, monkeypatch):
    """Were Incus config keys and device options any word (INC006 refuses most), each would come back as the
    same string key: the serialiser quotes whatever YAML would read as something else."""
    monkeypatch.setattr(rules.RULES["INC006"], "check", lambda ctx: iter(()))
    infra = write(tmp_path, hostile_keys_doc())
    out = infra.parent / "generated"
    code, output, ops = sync(infra, out)
    assert code == 0, output
    instance = yaml.safe_load((out / "incus/ai/instances/box.yaml").read_text())
    config = {k: v for k, v in instance["config"].items() if k in HOSTILE_KEYS}
    assert config == {key: f"v{i}" for i, key in enumerate(HOSTILE_KEYS)}
    device = instance["devices"]["disk0"]
    assert {k: device[k] for k in HOSTILE_KEYS} == {key: f"d{i}" for i, key in enumerate(HOSTILE_KEYS)}
    assert all(isinstance(k, str) for k in instance["config"]) and all(isinstance(k, str) for k in device)


@pytest.mark.parametrize("name,shown", [("evil\n[x]: y.yml", "evil\\n[x]: y.yml"), ("{{ 7*7 }}.yml", "{{ 7*7 }}.yml"),
                                        ("{% if 1 %}x{% endif %}.yml", "{% if 1 %}x{% endif %}.yml"),
                                        ("my infra.yml", "my infra.yml")])
def test_a_file_name_reaches_the_headers_as_one_literal_line(tmp_path, name, shown):
    """The header (a Jinja2 template) names infra.yml's file: the name is data, never template code,
    and a line break in it must not end the comment (it used to be an internal error)."""
    infra = write(tmp_path, base_doc(), name=name)
    out = infra.parent / "generated"
    code, output, ops = sync(infra, out)
    assert code == 0, output
    for path in [*out.rglob("*.y*ml"), *out.rglob("*.conf"), *out.rglob("*.cfg")]:
        first, second = path.read_text().splitlines()[:2]
        assert first.startswith(f"# Generated by psot from {shown}. "), first
        assert not second.startswith(("[x]", "#")), second


@pytest.mark.parametrize("field,value", [("proxmox name", "{{ 7*7 }}"), ("proxmox name", "{% raw %}x"),
                                         ("proxmox machine", "q35{{ 1 }}"), ("pci mapping", "{{ 7*7 }}"),
                                         ("proxmox bios", "ovmf\nhostpci1: 0000:66:00.0")])
def test_values_that_reach_a_template_are_validated_first(tmp_path, field, value):
    """qm.conf and pci.cfg are Jinja2 templates: what reaches them is refused unless it is a valid value."""
    doc = base_doc()
    if field == "pci mapping":
        doc["hosts"]["pve"]["gpus"]["card"]["mapping"] = value
    else:
        doc["workloads"]["vm"][field.split()[1]] = value
    infra = write(tmp_path, doc)
    code, output, ops = sync(infra, infra.parent / "generated")
    assert code == 1 and "error[" in output and ops == [], output


# -- 4. Nothing runs ------------------------------------------------------------------------------

PAYLOADS = [
    "project_name: !!python/object/apply:os.system ['touch {marker}']",
    "project_name: !!python/object/apply:subprocess.call [['touch', '{marker}']]",
    "project_name: !!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "project_name: !!python/name:os.system",
    "project_name: !!python/module:os",
    "project_name: x\nworkloads: {{svc: !!python/object:os.system {{}}}}",
    "project_name: x\n!!python/object/apply:os.system ['touch {marker}']: 1",
    "project_name: x\nglobal: {{placement: {{headroom_gb: !!python/object/apply:os.system ['touch {marker}']}}}}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_yaml_tags_cannot_run_anything(tmp_path, payload):
    marker = tmp_path / "pwned"
    project = tmp_path / "project"
    project.mkdir()
    infra = project / "infra.yml"
    head = payload.format(marker=marker)
    infra.write_text(head + ("\n" if "global:" in head else "\nglobal: {}\n") + "domains: {}\n")
    code, output, ops = sync(infra, project / "generated")
    assert code == 1 and ("error[YAML001]" in output or "error[YAML003]" in output), output  # (3: a key)
    assert not marker.exists() and ops == []


def test_no_process_and_no_network_during_sync_of_any_shipped_input(tmp_path):
    """The audit hook refuses subprocess, exec, spawn, fork and sockets: every shipped input still syncs."""
    from tests.hardening.helpers import SEED_INPUTS
    for i, source in enumerate(SEED_INPUTS + [Path("security-base")]):
        if source.name == "security-base":
            infra = write(tmp_path / "base", base_doc())
        else:
            infra = tmp_path / str(i) / "infra.yml"
            infra.parent.mkdir()
            if source.parent != REPO:    # an example's other files (its kustomize base) are its input too
                shutil.copytree(source.parent, infra.parent, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("generated"))
            infra.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        out = infra.parent / "generated"
        code, output, ops = sync(infra, out)  # raises if anything forbidden was tried
        assert code == 0, output
        assert_confined(ops, out)
    with watched(), pytest.raises(PermissionError):
        os.system("true")  # the hook does refuse


def test_the_audit_hook_sees_a_write_out_of_generated(tmp_path):
    """The confinement check can fail: a write beside generated/ is caught."""
    out = tmp_path / "generated"
    with watched() as state:
        (tmp_path / "elsewhere.txt").write_text("x")
    with pytest.raises(AssertionError, match="outside generated"):
        assert_confined(state["ops"], out)
    out.mkdir()
    (tmp_path / "outside").mkdir()
    (out / "link").symlink_to(tmp_path / "outside")
    with watched() as state:
        (out / "link" / "x").write_text("x")
    with pytest.raises(AssertionError, match="through a symlink"):
        assert_confined(state["ops"], out)

