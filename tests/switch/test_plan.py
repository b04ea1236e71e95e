"""The transition planner alone (generator/switch/plan.py): two compiled modes in, the ordered steps out, for
Incus and Kubernetes consumers and a card whose host driver psot must name; no command runs."""

from __future__ import annotations

from pathlib import Path

from generator.apply.units import Context
from generator.pipeline import compile_infra
from generator.switch.plan import transition

LAB = """\
project_name: lab
global:
  mode: one
  kubernetes: {context: home}
domains:
  ai:
    machines:
      llm: {type: lxc, gpu: {vram_gb: 4}}
hosts:
  ws:
    platform: incus
    gpus:
      a: {vendor: nvidia, vram_gb: 8, index: 0, pci: "0000:01:00.0"}
      b: {vendor: nvidia, vram_gb: 8, index: 1, pci: "0000:02:00.0"}
  node1:
    platform: kubernetes
    gpus:
      k: {vendor: nvidia, vram_gb: 8, index: 0, pci: "0000:01:00.0"}
workloads:
  tagger: {target: kubernetes, host: node1, namespace: media, replicas: 2, gpu: {vram_gb: 4}}
modes:
  one:
    consumers: {llm: {gpu: {vram_gb: 4, pin: ws/a}}}
  two:
    consumers: {llm: {gpu: {vram_gb: 4, pin: ws/b}}, tagger: {enabled: false}}
"""


def plan(tmp_path: Path, start: str, end: str):
    path = tmp_path / "infra.yml"
    path.write_text(LAB)
    before, after = compile_infra(path, mode=start, until="place"), compile_infra(path, mode=end, until="place")
    assert before.ok and after.ok, before.diag.findings + after.diag.findings
    ctx = Context(after.need_infra().data, tmp_path, tmp_path)
    return transition((before.need_infra(), before.need_placement()), (after.need_infra(), after.need_placement()),
                      ctx, {})


def shown(units) -> list[tuple[str, str, list[str]]]:
    return [(u.action, u.label, [s.display() for s in u.steps]) for u in units]


def test_an_incus_instance_moving_card_and_a_pod_losing_its_gpu(tmp_path):
    steps = plan(tmp_path, "one", "two")
    assert shown(steps.stops) == [
        ("delete", "stop incus llm (ws/a -> ws/b)", ["incus stop --project ai -- llm"]),
        ("delete", "stop kubernetes tagger (node1/k -> no GPU)",
         ["kubectl --context=home scale --namespace=media --replicas=0 -- deployment/tagger"]),
    ]
    assert steps.moves == [] and steps.problems == []     # both cards stay on the host's driver
    assert shown(steps.starts) == [("add", "start incus llm (ws/a -> ws/b)", ["incus start --project ai -- llm"])]
    assert steps.sides == {"node1/k": "host", "ws/a": "host", "ws/b": "host"}


def test_the_way_back_scales_the_workload_to_its_replicas(tmp_path):
    steps = plan(tmp_path, "two", "one")
    assert shown(steps.stops) == [("delete", "stop incus llm (ws/b -> ws/a)", ["incus stop --project ai -- llm"])]
    assert shown(steps.starts) == [
        ("add", "start incus llm (ws/b -> ws/a)", ["incus start --project ai -- llm"]),
        ("add", "start kubernetes tagger (no GPU -> node1/k)",
         ["kubectl --context=home scale --namespace=media --replicas=2 -- deployment/tagger"]),
    ]


def test_the_same_mode_needs_no_step(tmp_path):
    steps = plan(tmp_path, "one", "one")
    assert (steps.stops, steps.moves, steps.starts, steps.problems) == ([], [], [], [])
