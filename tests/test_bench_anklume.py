"""The opt-in comparison with AnKLuMe's own generator (`python -m bench --anklume DIR`, bench/targets.py).

Its timings need an AnKLuMe checkout, which the suite does not have: what is tested here is the input
both programs compile and the refusal of a directory that is not the pinned generator.
"""

import random

import pytest
import yaml

from bench import __main__ as bench
from bench import targets
from generator.pipeline import compile_infra


def test_the_anklume_copy_drops_only_psots_extensions_and_psot_compiles_it(tmp_path):
    infra = tmp_path / "infra.yml"
    data = bench.anklume_doc(10, 10, random.Random("t"))
    infra.write_text(yaml.dump(data, sort_keys=False), encoding="utf-8")
    copy = targets.anklume_input(infra)
    assert copy == tmp_path / "infra-anklume.yml"
    got = yaml.safe_load(copy.read_text(encoding="utf-8"))
    gpu_dicts = {(d, m) for d, dom in data["domains"].items() for m, mach in dom["machines"].items()
                 if isinstance(mach.get("gpu"), dict)}
    assert gpu_dicts   # the input has what the copy rewrites
    for d, m in gpu_dicts:
        data["domains"][d]["machines"][m]["gpu"] = True
    del data["hosts"]
    assert got == data
    result = compile_infra(copy, output_dir=tmp_path / "generated")
    assert result.ok


def test_a_directory_without_the_pinned_generator_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="has no scripts/generate.py and scripts/psot/: check out AnKLuMe at "
                                         "commit 8eb7d81"):
        targets.anklume_generator(tmp_path)
