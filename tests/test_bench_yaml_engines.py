"""bench/yaml_engines.py: the engine comparison of bench/README.md, with only PyYAML installed (the suite's case)."""

from pathlib import Path

from bench import yaml_engines

REPO = Path(__file__).resolve().parent.parent


def test_pyyaml_and_psot_rows_on_the_default_input_and_its_snapshot_tree(tmp_path):
    infra = tmp_path / "infra.yml"
    infra.write_bytes((REPO / "infra.yml").read_bytes())
    rows = yaml_engines.rows(infra, REPO / "tests" / "snapshots" / "default", 1)
    names = [r[0] for r in rows]
    assert names[:2] == ["PyYAML CSafeLoader / CSafeDumper", "psot (load.loader.load / serialize.dump_yaml)"]
    files = len(yaml_engines.yaml_tree(REPO / "tests" / "snapshots" / "default"))
    pyyaml, psot = rows[0], rows[1]
    # Timings aside: both read the same data, psot's writer is psot's reference, and psot refuses the
    # duplicate key PyYAML lets the last one win; the probe is PyYAML's reading, so neither differs.
    assert [pyyaml[2], pyyaml[5], pyyaml[6]] == ["yes", "last wins", "none"]
    assert [psot[2], psot[4], psot[5], psot[6]] == ["yes", f"{files}/{files}", "error", "none"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["infra.yml"]   # the probe copies are gone
