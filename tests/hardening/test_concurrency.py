"""Two `psot sync` at once never corrupt generated/ (issue 8, Robustness: concurrency).

The syncs run as real processes on the same output directory. Whatever the
interleaving, the result must be a tree that running them one after the
other would give: exactly one input's tree, never a mix of the two. The
inputs differ from the tree already on disk in different files, which is
what makes a sync that planned before the other one wrote (and then kept
"unchanged" files from the other's tree) visible.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from generator.workspace import writer
from tests.hardening.helpers import anklume_doc, leftovers, psot_env, run_psot, tree_hashes, write_doc

# Rounds where the test holds the lock until both syncs wait for it (so both have planned against
# the same tree: the worst interleaving, every time), and rounds left to the scheduler.
ROUNDS = ("held", "free", "held", "free")


def reference(tmp_path: Path, name: str, infra: Path) -> dict[str, str]:
    out = tmp_path / f"ref-{name}"
    done = run_psot("sync", str(infra), "-o", str(out))
    assert done.returncode == 0, done.stderr
    return tree_hashes(out)


def waiting_for_lock(pid: int, lock: Path) -> bool:
    """The process has the lock file open: it planned and now waits in writer.locked()."""
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(lock) for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def test_two_syncs_at_once_leave_exactly_one_of_the_two_trees(tmp_path):
    # C is on disk; A changes domain 0's files, B domain 1's: both plan against C.
    base = write_doc(tmp_path / "c" / "infra.yml", anklume_doc(4, 40))
    a = write_doc(tmp_path / "a" / "infra.yml", anklume_doc(4, 40, "from a", touched=(0,)))
    b = write_doc(tmp_path / "b" / "infra.yml", anklume_doc(4, 40, "from b", touched=(1,)))
    trees = {"a": reference(tmp_path, "a", a), "b": reference(tmp_path, "b", b)}
    out = tmp_path / "shared" / "generated"
    lock = out.parent / f".{out.name}.psot-lock"
    for round_, how in enumerate(ROUNDS):
        assert run_psot("sync", str(base), "-o", str(out)).returncode == 0
        with writer.locked(out) if how == "held" else contextlib.nullcontext():
            procs = [subprocess.Popen([sys.executable, "-m", "generator", "sync", str(infra), "-o", str(out)],
                                      env=psot_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for infra in (a, b)]
            deadline = time.monotonic() + 60
            while how == "held" and not all(waiting_for_lock(p.pid, lock) for p in procs):
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "syncs did not wait"
                time.sleep(0.02)
        results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
        for stdout, stderr, code in results:
            assert code == 0, f"round {round_} ({how}): exit {code}\n{stdout}\n{stderr}"
            assert "internal error" not in stderr
        final = tree_hashes(out)
        matches = [name for name, tree in trees.items() if tree == final]
        only = {name: sorted(p for p in tree if final.get(p) == tree[p] != trees["b" if name == "a" else "a"].get(p))
                for name, tree in trees.items()}
        assert matches, (f"round {round_} ({how}): a mix of both trees: {len(only['a'])} files only A writes "
                         f"(e.g. {only['a'][:2]}) and {len(only['b'])} only B writes (e.g. {only['b'][:2]})")
        assert not leftovers(out)
        # The next sync of the input that won has nothing left to do.
        again = run_psot("sync", str(a if matches == ["a"] else b), "-o", str(out), "--check")
        assert again.returncode == 0, again.stdout + again.stderr


def test_a_sync_that_cannot_get_the_lock_says_so_and_writes_nothing(tmp_path):
    infra = write_doc(tmp_path / "infra.yml", anklume_doc(1, 3, "one"))
    out = tmp_path / "generated"
    assert run_psot("sync", str(infra), "-o", str(out)).returncode == 0
    before = tree_hashes(out)
    write_doc(infra, anklume_doc(1, 3, "two"))
    with writer.locked(out):
        done = run_psot("sync", str(infra), "-o", str(out), PSOT_LOCK_TIMEOUT="0.5")
    assert done.returncode == 3, done.stdout + done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("psot: another psot"), message
    assert str(out) in message and "lock" in message and "wait for it to finish and run again" in message
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert tree_hashes(out) == before
    assert run_psot("sync", str(infra), "-o", str(out)).returncode == 0
    assert tree_hashes(out) != before


SWAPPER = """
import sys, time
from pathlib import Path
from generator.workspace import writer
from generator.plan.changes import make_plan
from generator.serialize import header
out, seconds = Path(sys.argv[1]), float(sys.argv[2])
trees = [{f"d{i % 5}/v{v}-{i}.yml": (header("infra.yml") + f"v: {v}\\n").encode() for i in range(150)}
         for v in range(2)]
end, k = time.monotonic() + seconds, 0
while time.monotonic() < end:
    k += 1
    writer.write(make_plan(trees[k % 2], out), trees[k % 2], clean_orphans=True)
print(k)
"""


def test_reading_generated_while_syncs_swap_it_sees_one_whole_tree(tmp_path):
    """`plan` (and the plan `sync` makes before it locks) reads generated/ without the lock: a read that
    spans a swap must neither fail on files that vanished nor mix two trees."""
    from generator.plan.changes import make_plan, read_tree
    out = tmp_path / "generated"
    script = tmp_path / "swapper.py"
    script.write_text(SWAPPER)
    swapper = subprocess.Popen([sys.executable, str(script), str(out), "4"], env=psot_env(),
                               stdout=subprocess.PIPE, text=True)
    reads = 0
    while swapper.poll() is None:
        tree = read_tree(out)
        versions = {path.split("/")[1][:2] for path in tree}
        assert len(versions) <= 1 and len(tree) in (0, 150), f"a mixed read: {sorted(versions)}, {len(tree)} files"
        plan = make_plan({}, out)
        assert {c.action for c in plan.changes} <= {"delete"} and len(plan.changes) in (0, 150)
        reads += 1
    assert swapper.returncode == 0 and int(swapper.stdout.read()) > 5 and reads > 5
