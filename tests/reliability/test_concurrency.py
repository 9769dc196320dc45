"""Concurrency: eight copies syncing to one parent at the same moment, and a CLI beside the agent.

Every round, each copy adds records of its own and eight real ``gitsync
sync`` processes start together. Nothing may be lost (each round's records
are on the parent's shared line once the round's syncs return), the parent's
shared line only moves forward (no force-push), and after a final sync every
copy has the same tree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import git, write_record
from tests.reliability.harness import (
    assert_forward_only,
    assert_has,
    assert_sound,
    one_line_error,
    run_cli,
    start_cli,
    taxcode,
    taxcode_path,
    tree_id,
    tree_paths,
)

Runner = Callable[..., Any]
COPIES = 8


def _eight_copies(
    gitsync: Runner, client_file: Callable[..., Path], tmp_path: Path
) -> tuple[Path, list[Path]]:
    top = client_file("top")
    copies = []
    for i in range(COPIES):
        dest = tmp_path / f"copy{i} (Sync)"
        result = gitsync("copy", top, dest)
        assert result.code == 0, result.stderr
        copies.append(dest)
    return top, copies


def _sync_all_at_once(copies: list[Path]) -> list[dict[str, Any]]:
    procs = [start_cli("sync", "--json", cwd=c) for c in copies]
    reports = []
    for copy, proc in zip(copies, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{copy}: exit {proc.returncode}: {err}"
        reports.append(json.loads(out))
    return reports


@pytest.mark.parametrize(
    "rounds",
    [pytest.param(3, id="3-rounds"), pytest.param(50, id="50-rounds", marks=pytest.mark.long)],
)
def test_eight_copies_sync_at_once(
    rounds: int, gitsync: Runner, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    top, copies = _eight_copies(gitsync, client_file, tmp_path)
    wanted: list[str] = []
    moves = 0
    for r in range(rounds):
        for i, copy in enumerate(copies):
            for k in range(2):
                code = f"C{i}R{r}K{k}"
                write_record(copy / taxcode_path(code), taxcode(code, f"copy {i}, round {r}"))
                wanted.append(taxcode_path(code))
        reports = _sync_all_at_once(copies)
        assert all(rep["state"] == "online" and rep["pending"] == 0 for rep in reports), reports
        # No lost update: every record of every round so far is on the parent's shared line.
        assert_has(top, wanted, "refs/heads/main", files=False)
        moves = assert_forward_only(top)
    for copy in copies:
        result = gitsync("sync", cwd=copy)
        assert result.code == 0, result.stderr
    assert gitsync("open", cwd=top).code == 0
    trees = set()
    for copy in copies:
        assert gitsync("sync", cwd=copy).code == 0
        assert_has(copy, wanted)
        assert_sound(copy)
        trees.add(tree_id(copy))
    assert_sound(top)
    assert_has(top, wanted)
    trees.add(tree_id(top))
    assert len(trees) == 1, "copies did not converge to one tree"
    assert moves >= rounds, "the parent's shared line should have moved every round"
    print(f"\nconcurrency: {COPIES} copies x {rounds} rounds, parent main moved {moves} times")


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_cli_beside_a_running_agent(
    gitsync: Runner, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    top = client_file("top")
    a, b = tmp_path / "a (Sync)", tmp_path / "b (Sync)"
    for dest in (a, b):
        assert gitsync("copy", top, dest).code == 0
    agent = start_cli("watch", "--json", "--interval", "0.5", cwd=a)
    try:
        assert agent.stdout is not None
        first = agent.stdout.readline()  # the agent's start-up sync is done
        assert json.loads(first)["event"] == "sync", first
        wanted = []
        procs = []
        for n in range(4):
            code = f"CLI{n}"
            procs.append(start_cli("taxcode", "add", code, f"added by the CLI {n}", cwd=a))
            wanted.append(taxcode_path(code))
            edit = f"AGENT{n}"
            write_record(a / taxcode_path(edit), taxcode(edit, f"picked up by the agent {n}"))
            wanted.append(taxcode_path(edit))
        procs.append(start_cli("sync", cwd=a))
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"{proc.args}: exit {proc.returncode}: {err}"

        def delivered() -> bool:
            return set(wanted) <= tree_paths(top, "refs/heads/main")

        assert _wait_for(delivered, 60), "the agent and the CLI did not deliver every change"
    finally:
        os.killpg(agent.pid, signal.SIGINT)
        try:
            _out, err = agent.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(agent.pid, signal.SIGKILL)
            agent.communicate()
            raise AssertionError("the agent did not stop on Ctrl-C") from None
    assert "Traceback" not in err, err
    if err.strip():
        one_line_error(err)
    assert gitsync("sync", cwd=a).code == 0
    assert gitsync("sync", cwd=b).code == 0
    for copy in (a, b):
        assert_has(copy, wanted)
        assert_sound(copy)
    assert_forward_only(top)
    assert git(top, "rev-parse", "refs/heads/main").returncode == 0
    assert run_cli("status", cwd=a).returncode == 0
