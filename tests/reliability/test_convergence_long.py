"""The convergence machine, run long: six copies on three levels, a thousand schedules.

The same state machine as ``tests/func/test_convergence.py`` (every edit
through the CLI, offline/online, peer parents, syncs; nothing lost, every
copy converges) over a bigger hierarchy: the top-level parent T; children A,
B and C; grandchildren G1 (a copy of A) and G2 (a copy of B). Peer parents
may chain (G2 -> C -> B -> A), never in a cycle.

Deselected by default (marker ``long``); run it with

    .venv/bin/python -m pytest -m long tests/reliability/test_convergence_long.py -s

``CONVERGENCE_EXAMPLES`` sets the number of schedules (default 1000) and
``CONVERGENCE_STEPS`` the steps in each (default 15). At the end it prints
how many schedules ran to convergence and were checked.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.func.test_convergence import TOP, Layout, run_convergence

SIX = Layout(
    {TOP: None, "A": TOP, "B": TOP, "C": TOP, "G1": "A", "G2": "B"},
    (("B", "A"), ("C", "A"), ("C", "B"), ("G1", "B"), ("G2", "A"), ("G2", "C")),
)


@pytest.mark.long
@pytest.mark.timeout(0)
def test_six_copies_converge_over_many_schedules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    examples = int(os.environ.get("CONVERGENCE_EXAMPLES", "1000"))
    steps = int(os.environ.get("CONVERGENCE_STEPS", "15"))
    started = time.monotonic()
    tally = run_convergence(tmp_path, SIX, max_examples=examples, steps=steps, derandomize=False)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nconvergence: {tally.converged} schedules checked of {examples} asked "
            f"({steps} steps at most each) in {elapsed:.0f} s; {tally.steps} edits, "
            f"{tally.syncs} syncs, {tally.conflicts} conflict records at the end, "
            f"rounds to converge: max {max(tally.rounds, default=0)}"
        )
    assert tally.converged >= examples // 2, tally
