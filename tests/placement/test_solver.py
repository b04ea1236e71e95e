"""balanced's MIP (generator/placement/solver.py) on hand-made groups, and when highspy is loaded at all."""

from __future__ import annotations

import subprocess
import sys

from generator.placement import solver
from generator.placement.solver import Consumer, Gpu
from tests.conftest import REPO


def one(options: tuple[int, ...], vram: float, **kwargs) -> Consumer:
    return Consumer(options, tuple(vram for _ in options), kwargs.pop("need", 1), kwargs.pop("pin", None),
                    kwargs.pop("alone", False), **kwargs)


def test_deviation_is_taken_at_a_median():
    assert solver.deviation([0.2, 0.5, 0.9]) == abs(0.2 - 0.5) + abs(0.9 - 0.5)
    assert solver.deviation([]) == 0.0


def test_a_pair_takes_two_gpus_of_one_host_and_the_other_host_balances():
    """A `count: 2` consumer may use GPUs of two hosts but gets both on one: h1's two 10 GB GPUs at 50%
    each, the 10 GB service alone on h2's 20 GB GPU (50%)."""
    gpus = [Gpu(10, 0, 0, "h1"), Gpu(20, 0, 0, "h2"), Gpu(10, 0, 0, "h1")]
    answer = solver.solve(gpus, [one((0, 1, 2), 5, need=2), one((0, 1, 2), 10)], exclusive=False)
    assert answer is not None
    assert (answer.choice, answer.deviation, answer.exact) == (((0, 2), (1,)), 0.0, True)


def test_a_vm_takes_a_whole_gpu_and_leaves_the_balance():
    """The VM (1 GB) on a 10 GB GPU alone; the 10 GB service on the 20 GB one and the 4 GB one on the other
    10 GB GPU: 50% and 40%, deviation 0.1 over the two balanced GPUs."""
    gpus = [Gpu(10, 0, 0, "h"), Gpu(10, 0, 0, "h"), Gpu(20, 0, 0, "h")]
    consumers = [one((0, 1, 2), 1, alone=True), one((0, 1, 2), 10), one((0, 1, 2), 4)]
    answer = solver.solve(gpus, consumers, exclusive=False)
    assert answer is not None and answer.exact
    assert answer.choice == ((0,), (2,), (1,)) and abs(answer.deviation - 0.1) <= 1e-12
    assert solver.TIE_TOTAL >= 0.1 - answer.bound >= 0


def test_exclusive_keeps_one_consumer_per_gpu_and_off_a_pinned_consumers_gpu():
    gpus = [Gpu(10, 2, 1, "h"), Gpu(10, 0, 0, "h"), Gpu(10, 0, 0, "h")]
    answer = solver.solve(gpus, [one((0, 1, 2), 1), one((0, 1, 2), 1)], exclusive=True)
    assert answer is not None and sorted(answer.choice) == [(1,), (2,)]
    # Three consumers, two free GPUs: no placement is exclusive.
    assert solver.solve(gpus, [one((0, 1, 2), 1)] * 3, exclusive=True) is None


def test_a_pin_is_kept_and_a_gpu_the_pins_overfill_takes_nobody():
    gpus = [Gpu(10, 12, 1, "h"), Gpu(10, 0, 0, "h"), Gpu(10, 0, 0, "h")]
    answer = solver.solve(gpus, [one((0, 1, 2), 0), one((1, 2), 3, need=2, pin=2)], exclusive=False)
    assert answer is not None and answer.choice[1] == (1, 2) and answer.choice[0] != (0,)


def test_nothing_fits_gives_no_answer():
    assert solver.solve([Gpu(8, 0, 0, "h")], [one((0,), 9)], exclusive=False) is None


def test_ties_go_home():
    """Two equal GPUs, two equal services: either way is as even; each stays where it was."""
    gpus = [Gpu(10, 0, 0, "h"), Gpu(10, 0, 0, "h")]
    for home in ((0, 1), (1, 0)):
        consumers = [one((0, 1), 4, home=(home[0],)), one((0, 1), 4, home=(home[1],))]
        answer = solver.solve(gpus, consumers, exclusive=False)
        assert answer is not None and answer.choice == ((home[0],), (home[1],))


def test_the_same_group_gives_the_same_answer_every_time():
    gpus = [Gpu(8 + 4 * (i % 3), 0, 0, f"h{i % 2}") for i in range(6)]
    consumers = [one(tuple(g for g in range(6) if g % 2 == i % 2), 1 + i % 4, need=1 + (i % 5 == 0))
                 for i in range(14)]
    answers = {solver.solve(gpus, consumers, exclusive=False) for _ in range(3)}
    assert len(answers) == 1 and next(iter(answers)) is not None


def test_variance_bound_adds_each_groups_part():
    """(1/n) sum of D_g^2 / n_g: two groups of 2 GPUs with bounds 0.2 and 0.4 over n = 4."""
    answers = [solver.Answer(((0,),), 0.2, 0.2, True, 2), solver.Answer(((0,),), 0.5, 0.4, False, 2)]
    assert abs(solver.variance_bound(answers, 4) - (0.04 / 2 + 0.16 / 2) / 4) <= 1e-10
    assert solver.variance_bound([], 4) == 0.0


def test_validate_does_not_load_highspy():
    """highspy (and numpy) load only when balanced solves a group: `psot validate` start-up stays as it was."""
    code = ("import sys\n"
            "from generator.cli.main import main\n"
            "try:\n"
            "    main(['validate', 'examples/multi-gpu-compose/infra.yml'])\n"
            "finally:\n"
            "    print('highspy' in sys.modules, 'numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines()[-1] == "False False", out.stdout + out.stderr


def test_a_previous_placement_as_good_is_kept_and_a_worse_or_invalid_one_is_not():
    gpus = [Gpu(10, 0, 0, "h"), Gpu(10, 0, 0, "h")]
    consumers = [one((0, 1), 4), one((0, 1), 4)]
    answer = solver.solve(gpus, consumers, exclusive=False)
    assert answer is not None and sorted(answer.choice) == [(0,), (1,)]
    swapped = tuple(reversed(answer.choice))
    kept = solver.no_better(gpus, consumers, False, answer, swapped)
    assert kept is not None and kept.choice == swapped and kept.deviation == 0.0
    assert solver.no_better(gpus, consumers, False, answer, ((0,), (0,))) is None   # 80% and 0%: worse
    assert solver.no_better(gpus, consumers, False, answer, ((0, 1), (1,))) is None  # two GPUs: invalid
