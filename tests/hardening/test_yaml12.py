"""Every reader reads psot's YAML files as psot wrote them (issue 13: YAML 1.1 quoting, YAML 1.2 readers).

PyYAML (YAML 1.1) wrote `08`, `1e3` and `0o17` plain, as strings for itself, which
YAML 1.2 readers and Go's go-yaml read as numbers (Docker Compose: `non-string key in
services: 8`). The one dumper (serialize.Dumper) now quotes every string that PyYAML,
a YAML 1.2 reader or go-yaml v2/v3 would read as something else. Here:

1. tricky strings, one by one: quoted, read back as the same string by PyYAML and by
   ruamel.yaml's YAML 1.2 loader; ordinary strings stay plain; numbers stay numbers;
   libyaml's C emitter and PyYAML's Python one quote alike;
2. each tricky string in every field of infra.yml that admits it (names, labels, taint
   values, compose service, Incus config and devices, descriptions, environment), through
   every renderer: every generated YAML file reads the same under both readers;
3. the shipped inputs, and a property: shipped inputs with tricky strings put in at random
   places give YAML files that PyYAML and ruamel.yaml (1.2) read alike (with PyYAML's own
   dumper back, a fixed sample of them does not: the property can fail).

The Go readers themselves (Docker Compose, kubectl kustomize) are run in
tests/platforms/compose/test_render.py and tests/platforms/kubernetes/test_render.py.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import re
import tempfile
from pathlib import Path

import pytest
import ruamel.yaml
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator import serialize
from generator.pipeline import compile_infra
from generator.serialize import Dumper, QuoteForEveryReader, dump_yaml, load_yaml, read_as_non_string
from tests.conftest import REPO
from tests.hardening.helpers import FUZZ, SEED_INPUTS

# Strings some reader takes for another type: go-yaml's floats (08, 0999, 1e3, .5), YAML 1.2 and
# go-yaml ints (0o17, 0x1F, 0b101, 1_000 with go-yaml dropping "_"), go-yaml v2's YAML 1.1 booleans
# (y, on, off), go-yaml's timestamps with one-digit months, what PyYAML already quoted (dates,
# sexagesimals, ~, <<), and go-yaml's odd corners (0b+1, 0o-7, 1__0).
TRICKY = ["08", "0999", "09.5", "1e3", "1E3", "1e+3", "12e03", "-1e-3", ".5", ".5e3", "-.5", "+1", "-1", "+0",
          "0", "00", "1.", "0.", "0o17", "0O17", "-0o17", "0x1F", "0X1f", "+0x1F", "0b101", "0B101", "-0b11",
          "1_000", "1__0", "0_8", "+_1", "1_0.5", "0b+1", "0o-7", "0x_1F",
          ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "~", "null", "Null", "NULL", "",
          "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "n", "N", "yes", "Yes", "no", "NO",
          "on", "On", "ON", "off", "Off", "OFF",
          "2001-1-2", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10", "2001-1-2T3:4:5Z",
          "1:30", "190:20:30", "<<", "="]
# Those PyYAML writes plain: a YAML 1.2 reader or go-yaml reads each as a number, boolean or timestamp.
NEWLY_QUOTED = ["08", "0999", "1e3", "1E3", "1e+3", "12e03", "-1e-3", ".5e3", "-.5", "0o17", "0O17", "-0o17", "0X1f",
                "0B101", "0_8", "+_1", "0b+1", "0o-7", "y", "Y", "n", "N", "2001-1-2", "2001-1-2T3:4:5Z"]
# Strings no reader takes for anything else: written plain, as before.
PLAIN = ["rtx-a5500", "nvidia", "8.0.1", "570.86.16", "1.2.3", "images:debian/13", "0000:3b:00.0", "10de:2c05",
         "x86_64", "_1", "e3", "0x", "0xG", "1e", "1e3x", "inf", "nan", "Infinity", "yes-please", "no-gpu", "onx",
         "2001-1", "20011-1-2", "+", ".", "a1", "v1.33", "1-2", "0-1", "time-slicing-2"]
# Written by psot as numbers and such: every reader must read them back as they are.
SCALARS = {"int": 8, "zero": 0, "negative": -3, "float": 0.5, "whole-float": 3.0, "small": 1e-05, "big": 2.0 ** 53,
           "true": True, "false": False, "none": None, "infinite": math.inf, "date": datetime.date(2024, 1, 2)}

RUAMEL_12 = ruamel.yaml.YAML(typ="safe", pure=True)   # YAML 1.2 when the file has no %YAML directive


def _compose_tag(constructor, node):
    """Compose's `!override` (the compose override replaces the base's reservation): read as its value,
    as psot's own reader does (generator/serialize.py)."""
    if isinstance(node, ruamel.yaml.nodes.SequenceNode):
        return constructor.construct_sequence(node, deep=True)
    return constructor.construct_mapping(node, deep=True)


RUAMEL_12.constructor.add_constructor("!override", _compose_tag)
SCHEMA = json.loads((REPO / "schemas" / "infra.schema.json").read_text(encoding="utf-8"))


def canonical(data):
    """`data` with each scalar's type beside it (True == 1 and nan != nan in Python; not here)."""
    if isinstance(data, dict):
        return {canonical(k): canonical(v) for k, v in data.items()}
    if isinstance(data, list):
        return [canonical(item) for item in data]
    if isinstance(data, float):
        return ("float", repr(data))
    return (type(data).__name__, data)


def read_alike(text: str, where: str = "") -> object:
    """PyYAML's data of `text`, after checking that ruamel.yaml (YAML 1.2) reads the same."""
    ours = load_yaml(text)
    theirs = RUAMEL_12.load(text)
    assert canonical(theirs) == canonical(ours), f"{where}: YAML 1.2 reads other data than PyYAML:\n{text}"
    return ours


# -- 1. One string at a time ----------------------------------------------------------------------

@pytest.mark.parametrize("text", TRICKY, ids=repr)
def test_a_tricky_string_is_quoted_and_read_back_as_itself(text):
    data = {text: [text, {"k": text}]}
    out = dump_yaml(data)
    assert out == f"'{text}':\n- '{text}'\n- k: '{text}'\n"
    assert read_alike(out, repr(text)) == data


def test_the_strings_only_the_other_readers_take_for_something_else():
    """Among them, those PyYAML's own dumper wrote plain: what psot's dumper adds quotes to."""
    assert [t for t in TRICKY if t and not yaml.safe_dump(t).startswith(("'", '"'))] == NEWLY_QUOTED
    assert all(read_as_non_string(t) for t in NEWLY_QUOTED)


@pytest.mark.parametrize("text", PLAIN, ids=repr)
def test_an_ordinary_string_stays_plain(text):
    assert not read_as_non_string(text)
    assert dump_yaml({"k": text}) == f"k: {text}\n"
    assert read_alike(dump_yaml({text: text})) == {text: text}


def test_numbers_booleans_and_null_stay_what_they_are():
    out = dump_yaml(SCALARS)
    assert out == ("int: 8\nzero: 0\nnegative: -3\nfloat: 0.5\nwhole-float: 3.0\nsmall: 1.0e-05\n"
                   "big: 9007199254740992.0\n'true': true\n'false': false\nnone: null\ninfinite: .inf\n"
                   "date: 2024-01-02\n")
    assert read_alike(out) == SCALARS


def test_libyaml_and_the_python_emitter_quote_alike():
    """The C emitter asks the same Python resolver: both give the same bytes for every string here
    (but the empty key, which PyYAML's emitter writes as `? ''`)."""
    class PythonDumper(QuoteForEveryReader, yaml.SafeDumper):
        pass

    assert yaml.__with_libyaml__ and issubclass(Dumper, yaml.CSafeDumper)  # the one psot uses is the C one
    data = {text: text for text in TRICKY + PLAIN if text}
    assert yaml.dump(data, Dumper=Dumper, sort_keys=False) == yaml.dump(data, Dumper=PythonDumper, sort_keys=False)


# -- 2. Every field that admits the string, through every renderer --------------------------------

def admits(definition: str, text: str) -> bool:
    """Whether the schema's `$defs/<definition>` string pattern and length admit `text`."""
    rule = SCHEMA["$defs"][definition]
    return len(text) <= rule.get("maxLength", len(text)) and re.search(rule["pattern"], text) is not None


SERVICE_PATTERN = SCHEMA["$defs"]["workload"]["properties"]["service"]["pattern"]


def every_field(text: str) -> tuple[dict, set[str]]:
    """An infra.yml for every target with `text` in each field that admits it, and which kinds took it."""
    took = {"free text"}
    name = text if admits("name", text) else None
    if name:
        took.add("names")
    label = text if admits("labelValue", text) else "plain"
    if label == text:
        took.add("labels")
    service = text if re.search(SERVICE_PATTERN, text) else "svc"
    if service == text:
        took.add("service")
    domain, profile, machine = name or "ai", name or "gpu-p", name or "box"
    doc = {
        "project_name": "tricky",
        "global": {"gpu_policy": "shared"},
        "domains": {domain: {
            "description": text,
            "profiles": {profile: {"description": text, "config": {"user.note": text, "user.other": text},
                                   "devices": {"gpu": {"type": "gpu", "gputype": "physical"}}}},
            "machines": {machine: {"type": "lxc", "description": text, "profiles": ["default", profile],
                                   "config": {"user.note": text},
                                   "devices": {"data": {"type": "disk", "path": "/srv", "source": "/srv",
                                                        "user.opt": text}}}},
        }},
        "hosts": {
            name or "ws": {"platform": "docker",
                           "gpus": {name or "rtx": {"vendor": "nvidia", "vram_gb": 24, "index": 0, "model": text}}},
            "pve": {"platform": "proxmox", "iommu": True, "gpus": {
                "card": {"vendor": "nvidia", "vram_gb": 16, "pci": "0000:01:00.0", "pci_id": "10de:2204"}}},
            "lab": {"platform": "incus", "gpus": {"a4000": {"vendor": "nvidia", "vram_gb": 16, "pci": "0000:03:00.0"}}},
            "k8s": {"platform": "kubernetes", "labels": {"note": label, "other": label},
                    "taints": [{"key": "gpu", "value": label, "effect": "NoSchedule"}],
                    "gpus": {"small": {"vendor": "nvidia", "vram_gb": 8, "index": 0}}},
        },
        "workloads": {
            "svc": {"target": "compose", "host": name or "ws", "service": service, "gpu": {"vram_gb": 2},
                    "environment": {"NOTE": text}},
            "vm": {"target": "proxmox", "host": "pve", "vmid": 100, "name": "plain", "gpu": {"passthrough": True}},
            "pod": {"target": "kubernetes", "host": "k8s", "image": "nginx:1", "namespace": name or "ai",
                    "name": name or "pod", "gpu": {"vram_gb": 2}},
        },
    }
    machine_spec = doc["domains"][domain]["machines"][machine]
    machine_spec["gpu"] = {"vram_gb": 4}
    return doc, took


@pytest.mark.parametrize("text", [t for t in TRICKY if t], ids=repr)
def test_a_tricky_string_in_every_field_reads_alike_in_every_generated_file(tmp_path, text):
    doc, took = every_field(text)
    infra = tmp_path / "infra.yml"
    infra.write_text(dump_yaml(doc), encoding="utf-8")
    result = compile_infra(infra)
    assert result.ok, [f.format() for f in result.diag.findings]
    data = {path: read_alike(content.decode(), path) for path, content in result.tree.items()
            if path.endswith((".yml", ".yaml"))}
    # Each field that took the string has it back, as a string, where its renderer puts it.
    name = text if "names" in took else None
    label = text if "labels" in took else "plain"
    instance = data[f"incus/{name or 'ai'}/instances/{name or 'box'}.yaml"]
    assert [instance["description"], instance["config"]["user.note"], instance["devices"]["data"]["user.opt"]] \
        == [text] * 3
    assert (instance["name"], instance["profiles"]) == (name or "box", ["default", name or "gpu-p"])
    profile = data[f"incus/{name or 'ai'}/profiles/{name or 'gpu-p'}.yaml"]
    assert [profile["description"], profile["config"]["user.note"], profile["config"]["user.other"]] == [text] * 3
    assert data["placement.yml"]["gpus"]["lab/a4000"]["consumers"] == [name or "box"]
    pod = data["kubernetes/workloads/pod.yaml"]
    assert (pod["metadata"]["name"], pod["metadata"]["namespace"]) == (name or "pod", name or "ai")
    assert pod["spec"]["template"]["spec"]["tolerations"][0]["value"] == label
    node = data["kubernetes/nodes/k8s.yaml"]
    assert (node["metadata"]["labels"], node["spec"]["taints"][0]["value"]) == ({"note": label, "other": label}, label)
    compose = data[f"compose/{name or 'ws'}/docker-compose.gpu-override.yml"]
    assert list(compose["services"]) == [text if "service" in took else "svc"]
    assert compose["services"][text if "service" in took else "svc"]["environment"] == [f"NOTE={text}"]


def test_every_field_kind_is_reached_by_some_tricky_string():
    """The test above is not vacuous: names, labels and the compose service all take tricky strings."""
    kinds = set().union(*(every_field(t)[1] for t in TRICKY if t))
    assert kinds == {"free text", "names", "labels", "service"}
    assert {t for t in TRICKY if "names" in every_field(t)[1]} >= {"08", "1e3", "0o17", "y", "off", "2001-1-2"}


# -- 3. Property: mutated inputs and the examples -------------------------------------------------

def yaml_files_read_alike(tree: dict[str, bytes]) -> int:
    count = 0
    for path, content in tree.items():
        if path.endswith((".yml", ".yaml")):
            read_alike(content.decode(), path)
            count += 1
    return count


@pytest.mark.parametrize("infra", SEED_INPUTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_input_reads_alike(infra):
    result = compile_infra(infra)
    assert result.tree is not None, [f.format() for f in result.diag.findings]
    assert yaml_files_read_alike(result.tree) >= 2


@functools.cache
def seed_doc(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def string_places(data, path=(), out=None) -> list[tuple[dict | list, object, bool, tuple]]:
    """(container, key or index, whether the key itself is the string, the container's path) for every
    string key and value."""
    out = [] if out is None else out
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        if isinstance(data, dict) and isinstance(key, str):
            out.append((data, key, True, path))
        if isinstance(value, str):
            out.append((data, key, False, path))
        string_places(value, path + (key,), out)
    return out


NAME_SECTIONS = {"domains", "workloads", "machines", "gpus", "profiles"}   # names nothing else refers to, mostly
FREE_TEXT_SECTIONS = {"config", "environment", "labels"}


@st.composite
def tricky_inputs(draw) -> str:
    """A shipped infra.yml with 1 to 3 strings replaced by tricky ones: names (domains, workloads,
    machines, GPUs, profiles), free text (descriptions, models, config, environment, labels), or any."""
    doc = copy.deepcopy(seed_doc(draw(st.sampled_from(SEED_INPUTS))))
    for _ in range(draw(st.integers(1, 3))):
        places = string_places(doc)
        names = [p for p in places if p[2] and p[3] and p[3][-1] in NAME_SECTIONS]
        texts = [p for p in places if not p[2] and (p[1] in ("description", "model")
                                                      or (p[3] and p[3][-1] in FREE_TEXT_SECTIONS))]
        kind = draw(st.sampled_from(["name", "text", "any"]))
        pool = names if kind == "name" and names else texts if kind == "text" and texts else places
        container, key, is_key, _ = draw(st.sampled_from(pool))
        # Mostly the strings only the new quoting protects (as names, those that are valid names); sometimes any.
        if pool is names:
            new = draw(st.sampled_from([t for t in NEWLY_QUOTED + TRICKY + PLAIN if admits("name", t)]))
        else:
            new = draw(st.one_of(st.sampled_from(NEWLY_QUOTED * 2 + TRICKY + PLAIN), st.text(max_size=8)))
        if not is_key:
            container[key] = new
        elif new not in container:
            # Renamed in place: the other keys keep their order.
            items = [(new if k == key else k, v) for k, v in container.items()]
            container.clear()
            container.update(items)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def compiled(text: str) -> dict[str, bytes] | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "infra.yml"
        path.write_text(text, encoding="utf-8")
        return compile_infra(path, output_dir=Path(tmp) / "generated").tree


@FUZZ
@given(text=tricky_inputs())
def test_generated_yaml_reads_alike_under_yaml_1_1_and_1_2(text):
    tree = compiled(text)
    event("rendered" if tree is not None else "findings")
    if tree is not None:
        assert yaml_files_read_alike(tree) >= 1


def test_the_property_catches_yaml_1_1_quoting(monkeypatch):
    """Not vacuous: with PyYAML's own dumper back, a fixed sample of its inputs gives files the two readers
    read differently (and with psot's, none: the property above)."""
    monkeypatch.setattr(serialize, "Dumper", getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    caught: list[str] = []

    @settings(database=None, derandomize=True, max_examples=150, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(text=tricky_inputs())
    def sample(text):
        tree = compiled(text)
        try:
            yaml_files_read_alike(tree or {})
        except AssertionError as exc:
            caught.append(str(exc).split(":", 1)[0])

    sample()
    assert len(caught) >= 8, caught
