"""generator/pipeline.py: the stages by name, their typed results, and `run`, which stops at the first
stage whose result has an error."""

from __future__ import annotations

import pytest

from generator import pipeline
from generator.pipeline import Loaded, Placed, Rendered, Stopped, Validated, compile_infra, run
from tests.conftest import SEED_001

STAGE_RESULTS = {"load": Loaded, "validate": Validated, "place": Placed, "render": Rendered}

GOOD = """
    project_name: t
    global: {gpu_policy: shared}
    domains: {}
    hosts:
      box: {gpus: {gpu0: {vendor: nvidia, vram_gb: 16, index: 0}, gpu1: {vendor: nvidia, vram_gb: 16, index: 1}}}
    workloads:
      a: {target: compose, host: box, gpu: {vram_gb: 2, pin: gpu0}}
"""


def test_the_stages_by_name_in_the_order_they_run():
    assert list(pipeline.STAGES) == ["load", "validate", "place", "render"]
    assert [pipeline.load, pipeline.validate, pipeline.place, pipeline.render] == list(pipeline.STAGES.values())


def test_each_stage_takes_the_result_before_it_and_gives_its_own(seed_001, tmp_path):
    out = tmp_path / "out"
    loaded = pipeline.STAGES["load"](seed_001, out)
    assert type(loaded) is Loaded and loaded.ok
    assert (loaded.source, loaded.output_dir) == (seed_001, out)
    assert loaded.document.data["project_name"] == "multi-gpu-compose"

    validated = pipeline.STAGES["validate"](loaded)
    assert type(validated) is Validated and validated.ok
    assert validated.diag is loaded.diag   # one run, one Diagnostics
    assert validated.infra.project_name == "multi-gpu-compose" and validated.infra.output_dir == "out"
    assert validated.model_findings == tuple(loaded.diag.findings)

    placed = pipeline.STAGES["place"](validated)
    assert type(placed) is Placed and placed.ok
    assert placed.infra is validated.infra and placed.without == () and placed.previous == {}
    assert placed.placement.strategy == validated.infra.strategy
    assert set(placed.placement.assignments) == set(validated.infra.consumers)

    rendered = pipeline.STAGES["render"](placed)
    assert type(rendered) is Rendered
    assert (rendered.infra, rendered.placement) == (placed.infra, placed.placement)
    assert rendered.tree == compile_infra(seed_001, output_dir=out).tree
    assert "placement.yml" in rendered.tree


@pytest.mark.parametrize("until", list(STAGE_RESULTS))
def test_run_until_a_stage_gives_that_stage_s_result(tmp_path, until):
    result = run(SEED_001, until, output_dir=tmp_path / "out")
    assert type(result) is STAGE_RESULTS[until] and result.ok


def test_run_until_no_stage_is_refused():
    with pytest.raises(ValueError, match="no stage 'write': one of load, validate, place, render"):
        run(SEED_001, "write")


def test_place_takes_the_strategy_and_the_gpus_gone(infra_file, tmp_path):
    validated = run(infra_file(GOOD), "validate", output_dir=tmp_path / "out")
    assert isinstance(validated, Validated)
    placed = pipeline.place(validated, "balanced", ("gpu0",))
    assert isinstance(placed, Placed) and placed.ok
    assert placed.placement.strategy == "balanced" and placed.without == ("box/gpu0",)
    assert placed.infra.gpus["box/gpu0"].status == "unavailable"
    assert validated.infra.gpus["box/gpu0"].status == "ok"   # the model validate made is left as it was
    assert placed.placement.assignments["a"].gpus == ("box/gpu1",)


def _codes(result: pipeline.Result) -> list[str]:
    return [f.code for f in result.diag.findings if f.severity == "error"]


def test_a_file_that_cannot_be_read_stops_at_load(tmp_path):
    result = run(tmp_path / "missing.yml")
    assert isinstance(result, Stopped) and not result.ok
    assert (result.stage, result.reached) == ("load", None)


def test_an_error_of_load_stops_before_validate(infra_file):
    result = run(infra_file(GOOD.replace("global: {", "global: {output_dir: /tmp, ")))
    assert type(result) is Loaded and _codes(result) == ["PATH001"]


def test_a_schema_error_stops_at_validate(infra_file):
    result = run(infra_file(GOOD.replace("vram_gb: 2,", "vram_gb: lots,")))
    assert isinstance(result, Stopped) and result.stage == "validate"
    assert type(result.reached) is Loaded and _codes(result) == ["SCHEMA001"]


def test_an_error_of_a_model_rule_stops_before_place(infra_file):
    result = run(infra_file(GOOD + "      b: {target: compose, host: box, gpu: {vram_gb: 2, pin: gpu7}}\n"))
    assert type(result) is Validated and _codes(result) == ["REF002"]


def test_a_gpu_that_is_not_there_stops_at_place(infra_file):
    result = run(infra_file(GOOD), without=("gpu7",))
    assert isinstance(result, Stopped) and result.stage == "place"
    assert type(result.reached) is Validated and _codes(result) == ["REF005"]


def test_an_error_of_a_placement_rule_stops_before_render(infra_file):
    result = run(infra_file(GOOD.replace("gpu_policy: shared", "gpu_policy: exclusive")
                            + "      b: {target: compose, host: box, gpu: {vram_gb: 2, pin: gpu0}}\n"))
    assert type(result) is Placed and _codes(result) == ["GPU001"]


def test_compile_infra_gathers_the_results_of_the_stages_it_ran(infra_file, tmp_path):
    path = infra_file(GOOD)
    validated = compile_infra(path, until="validate", output_dir=tmp_path / "out")
    # `psot validate` reports the placement's findings too: "validate" places, as "place" does.
    assert validated.placement is not None and validated.tree is None
    rendered = run(path, output_dir=tmp_path / "out")
    compiled = compile_infra(path, output_dir=tmp_path / "out")
    assert isinstance(rendered, Rendered)
    assert (compiled.infra, compiled.placement, compiled.tree) == (rendered.infra, rendered.placement, rendered.tree)
    assert (compiled.previous, compiled.without, compiled.model_findings) == (rendered.previous, rendered.without,
                                                                             rendered.model_findings)


def test_compile_infra_keeps_what_was_made_before_a_stage_stopped(infra_file):
    refused = compile_infra(infra_file(GOOD), without=("gpu7",))
    assert refused.infra is not None and refused.placement is None and refused.tree is None
    with pytest.raises(pipeline.StageNotRun, match="stopped before the place stage"):
        refused.need_placement()
    unread = compile_infra(infra_file("project_name: [\n"))
    assert unread.infra is None and not unread.ok
