"""generator/placement/failover.py: what moves if GPUs fail, placed from the baseline's model (infra.yml read once).

`psot place --without` and `psot detect --check` both call `fail_over`; their outputs are tested in
tests/placement/test_strategies.py and tests/detect/test_check.py.
"""

from __future__ import annotations

from generator.load import loader
from generator.pipeline import compile_infra
from generator.placement.failover import fail_over
from tests.conftest import EXAMPLES, SEED_001

SEED_000 = EXAMPLES / "dual-gpu-proxmox" / "infra.yml"


def test_the_same_placement_as_compiling_without_the_gpu(tmp_path, monkeypatch):
    for infra in (SEED_000, SEED_001):
        out = tmp_path / infra.parent.name
        baseline = compile_infra(infra, until="place", output_dir=out)
        names = tuple(baseline.infra.gpus)[:1]
        expected = compile_infra(infra, until="place", output_dir=out, without=names)
        with monkeypatch.context() as m:
            m.setattr(loader, "load", lambda *a, **k: (_ for _ in ()).throw(AssertionError("infra.yml read again")))
            failover = fail_over(baseline, names)
        assert failover.after.placement == expected.placement
        assert failover.after.diag.findings == expected.diag.findings
        assert failover.gone == expected.without == names
        assert [m.consumer for m in failover.moves] == [
            n for n, a in baseline.placement.assignments.items() if a.gpus != expected.placement.assignments[n].gpus]


def test_a_name_that_is_no_gpu_is_ref005(tmp_path):
    baseline = compile_infra(SEED_001, until="place", output_dir=tmp_path / "out")
    failover = fail_over(baseline, ("no-such-gpu",))
    assert failover.after.placement is None and failover.moves == []
    assert [f.code for f in failover.after.diag.findings if f.severity == "error"] == ["REF005"]
