"""Sync on real hierarchies: a top-level parent, two children and a grandchild, in tmp dirs."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Hierarchy, git, read_record, with_ctrl_c, write_record


def test_copy_is_a_clone_with_parent_remote(hierarchy: Hierarchy) -> None:
    a = hierarchy.a
    assert git(a, "remote", "get-url", "parent").stdout.strip() == str(hierarchy.top)
    assert git(a, "rev-parse", "--abbrev-ref", "HEAD").stdout.strip() == "work"
    assert (a / ".git" / "hooks" / "pre-commit").exists()
    assert git(a, "config", "merge.gitsync.driver").stdout.strip().endswith("%O %A %B %P")
    status = hierarchy.status(a)
    assert status["role"] == "child" and status["state"] == "online"
    assert status["top_level"] == str(hierarchy.top) and status["pending"] == 0
    assert set(status) >= {
        "role",
        "state",
        "pending",
        "conflicts",
        "parent",
        "top_level",
        "peer",
        "copy_id",
        "user",
        "flags",
    }
    # the registrations travelled up: the top-level parent has all three copies once it opens
    hierarchy.run(hierarchy.top, "open")
    registry = sorted(p.stem for p in (hierarchy.top / "sync" / "copies").glob("*.json"))
    ids = {
        hierarchy.status(p)["copy_id"]
        for p in (hierarchy.a, hierarchy.b, hierarchy.g, hierarchy.top)
    }
    assert set(registry) == ids


def test_grandchild_knows_its_parent_and_the_top_level(hierarchy: Hierarchy) -> None:
    status = hierarchy.status(hierarchy.g)
    assert status["parent"] == str(hierarchy.a)
    assert status["top_level"] == str(hierarchy.top)


def test_change_travels_to_every_copy(
    hierarchy: Hierarchy, clean_tree: Callable[[Path], None]
) -> None:
    write_record(
        hierarchy.a / "taxcodes" / "GST.json",
        {"code": "GST", "description": "Goods and services tax"},
    )
    report = hierarchy.sync(hierarchy.a)
    assert report["committed"] == 1 and report["sent"] >= 1 and report["state"] == "online"
    for copy in (hierarchy.b, hierarchy.g):
        got = hierarchy.sync(copy)
        assert got["received"] >= 1
        assert (
            read_record(copy / "taxcodes" / "GST.json")["description"] == "Goods and services tax"
        )
        clean_tree(copy)
    hierarchy.run(hierarchy.top, "open")
    assert (hierarchy.top / "taxcodes" / "GST.json").exists()
    clean_tree(hierarchy.top)


def test_offline_queues_and_online_delivers(hierarchy: Hierarchy) -> None:
    a = hierarchy.a
    assert hierarchy.run(a, "offline").code == 0
    write_record(
        a / "taxcodes" / "HST.json", {"code": "HST", "description": "Harmonized sales tax"}
    )
    report = hierarchy.sync(a)
    assert report["state"] == "offline" and report["pending"] >= 1
    status = hierarchy.status(a)
    assert status["state"] == "offline" and status["pending"] == report["pending"]
    hierarchy.sync(hierarchy.b)
    assert not (hierarchy.b / "taxcodes" / "HST.json").exists()
    assert hierarchy.run(a, "online").code == 0
    assert hierarchy.sync(a)["pending"] == 0
    hierarchy.sync(hierarchy.b)
    assert (hierarchy.b / "taxcodes" / "HST.json").exists()


def test_parent_vanishes_then_comes_back(hierarchy: Hierarchy, tmp_path: Path) -> None:
    away = tmp_path / "away"
    hierarchy.top.rename(away)
    try:
        write_record(
            hierarchy.a / "taxcodes" / "PST.json",
            {"code": "PST", "description": "Provincial sales tax"},
        )
        report = hierarchy.sync_unreachable(hierarchy.a)
        assert report["state"] == "offline" and report["pending"] >= 1
        assert str(hierarchy.top) in report["unreachable"]
    finally:
        away.rename(hierarchy.top)
    assert hierarchy.sync(hierarchy.a)["state"] == "online"
    hierarchy.sync(hierarchy.b)
    assert (hierarchy.b / "taxcodes" / "PST.json").exists()


def test_grandchild_falls_back_to_its_parent(hierarchy: Hierarchy, tmp_path: Path) -> None:
    away = tmp_path / "away"
    hierarchy.top.rename(away)
    try:
        write_record(
            hierarchy.g / "taxcodes" / "QST.json",
            {"code": "QST", "description": "Quebec sales tax"},
        )
        report = hierarchy.sync(hierarchy.g)
        assert report["route"] == "parent" and report["state"] == "online"
        # the parent copy forwards it when the top-level parent is back
        report_a = hierarchy.sync_unreachable(hierarchy.a)
        assert report_a["state"] == "offline"
    finally:
        away.rename(hierarchy.top)
    hierarchy.sync(hierarchy.a)
    hierarchy.sync(hierarchy.b)
    assert (hierarchy.b / "taxcodes" / "QST.json").exists()


def test_peer_parent_forwards(hierarchy: Hierarchy) -> None:
    b, a = hierarchy.b, hierarchy.a
    assert hierarchy.run(b, "peer", "set", a).code == 0
    write_record(b / "taxcodes" / "VAT.json", {"code": "VAT", "description": "Value added tax"})
    report = hierarchy.sync(b)
    assert report["route"] == "peer" and report["state"] == "online-peer"
    assert hierarchy.status(b)["state"] == "online-peer"
    hierarchy.run(hierarchy.top, "open")
    assert not (hierarchy.top / "taxcodes" / "VAT.json").exists()
    hierarchy.sync(a)  # the peer forwards what it received
    hierarchy.run(hierarchy.top, "open")
    assert (hierarchy.top / "taxcodes" / "VAT.json").exists()
    assert hierarchy.run(b, "peer", "clear").code == 0
    assert hierarchy.status(b)["peer"] is None


def test_lost_push_race_merges_and_retries(hierarchy: Hierarchy) -> None:
    a, b = hierarchy.a, hierarchy.b
    write_record(a / "taxcodes" / "A1.json", {"code": "A1", "description": "from a"})
    write_record(b / "taxcodes" / "B1.json", {"code": "B1", "description": "from b"})
    # b's pre-push hook lets a push first, once: b's first push then loses the race
    marker = b / ".git" / "raced"
    hook = b / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; "
        f"'{sys.executable}' -m gitsync -C '{a}' sync >/dev/null; fi\nexit 0\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    report = hierarchy.sync(b)
    assert marker.exists()
    assert report["state"] == "online" and report["pending"] == 0
    assert report["merged"] >= 1
    hierarchy.sync(a)
    for copy in (a, b):
        assert (copy / "taxcodes" / "A1.json").exists() and (copy / "taxcodes" / "B1.json").exists()
    # never a force-push: the parent's shared line only moved forward
    reflog = git(hierarchy.top, "reflog", "show", "--format=%H", "refs/heads/main").stdout.split()
    for newer, older in itertools.pairwise(reflog):
        assert (
            git(hierarchy.top, "merge-base", "--is-ancestor", older, newer, check=False).returncode
            == 0
        )


def test_parent_locate(
    hierarchy: Hierarchy, tmp_path: Path, client_file: Callable[..., Path]
) -> None:
    moved = tmp_path / "moved top"
    hierarchy.top.rename(moved)
    assert hierarchy.run(hierarchy.a, "parent", "locate", moved).code == 0
    write_record(hierarchy.a / "taxcodes" / "MV.json", {"code": "MV", "description": "moved"})
    assert hierarchy.sync(hierarchy.a)["state"] == "online"
    assert git(moved, "show", "main:taxcodes/MV.json", check=False).returncode == 0
    other = client_file("other")
    result = hierarchy.run(hierarchy.a, "parent", "locate", other)
    assert result.code != 0 and "same hierarchy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_status_of_top_level(hierarchy: Hierarchy) -> None:
    status = hierarchy.status(hierarchy.top)
    assert status["role"] == "top-level" and status["state"] == "n/a"
    line = hierarchy.run(hierarchy.top, "status").stdout.strip()
    assert "top-level parent" in line and "\n" not in line


def test_copy_default_destination_uses_sync_path(hierarchy: Hierarchy, tmp_path: Path) -> None:
    sync_path = tmp_path / "sync path"
    assert hierarchy.run(hierarchy.top, "config", "set", "sync-path", sync_path).code == 0
    result = hierarchy.run(hierarchy.top, "copy", hierarchy.top, "--json")
    assert result.code == 0, result.stderr
    assert Path(json.loads(result.stdout)["path"]) == sync_path / f"{hierarchy.top.name} (Sync)"


def test_copy_of_a_missing_source_is_refused(hierarchy: Hierarchy, tmp_path: Path) -> None:
    result = hierarchy.run(tmp_path, "copy", tmp_path / "nowhere", tmp_path / "dest")
    assert result.code != 0 and "nowhere" in result.stderr
    assert not (tmp_path / "dest").exists()


@contextmanager
def watch_agent(copy: Path, interval: float, output: list[str]) -> Iterator[subprocess.Popen[str]]:
    """A real ``gitsync watch`` process in ``copy``; its JSON lines land in ``output`` when it stops."""
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitsync",
            "-C",
            str(copy),
            "watch",
            "--json",
            "--interval",
            str(interval),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=with_ctrl_c,
    )
    try:
        yield agent
    finally:
        os.killpg(agent.pid, signal.SIGINT)
        try:
            out, _ = agent.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(agent.pid, signal.SIGKILL)
            out, _ = agent.communicate()
        output.extend(line for line in out.splitlines() if line.startswith("{"))


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def in_shared_line(parent: Path, path: str) -> Callable[[], bool]:
    return lambda: git(parent, "cat-file", "-e", f"main:{path}", check=False).returncode == 0


def test_watch_agent_follows_the_parent(hierarchy: Hierarchy) -> None:
    output: list[str] = []
    with watch_agent(hierarchy.b, 0.5, output):
        time.sleep(1.5)
        write_record(hierarchy.a / "taxcodes" / "W1.json", {"code": "W1", "description": "watched"})
        hierarchy.sync(hierarchy.a)
        target = hierarchy.b / "taxcodes" / "W1.json"
        assert wait_until(target.exists, 20), "the agent did not bring the change within 20 s"
        # a local edit in the watched copy goes up by itself
        write_record(
            hierarchy.b / "taxcodes" / "W2.json", {"code": "W2", "description": "from the agent"}
        )
        assert wait_until(in_shared_line(hierarchy.top, "taxcodes/W2.json"), 20)


@pytest.fixture(autouse=True)
def _cleanup_moved(tmp_path: Path) -> None:
    yield
    shutil.rmtree(tmp_path / "away", ignore_errors=True)


def test_copy_from_a_file_url(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    top = client_file("url parent")
    dest = tmp_path / "from url"
    result = gitsync("copy", top.as_uri(), dest)
    assert result.code == 0, result.stderr
    assert git(dest, "remote", "get-url", "parent").stdout.strip() == str(
        top
    )  # a local URL is kept as its path
    write_record(dest / "taxcodes" / "URL.json", {"code": "URL", "description": "over file://"})
    report = json.loads(gitsync("sync", "--json", cwd=dest).stdout)
    assert report["state"] == "online" and report["pending"] == 0
    assert git(top, "cat-file", "-e", "main:taxcodes/URL.json", check=False).returncode == 0


def test_first_child_waits_for_exclusive_access(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    from gitsync.lock import CopyLock

    top = client_file("locked parent")
    lock = CopyLock(top / ".git" / "gitsync.lock")
    assert lock.acquire(timeout=1)
    try:
        creator = subprocess.Popen(
            [sys.executable, "-m", "gitsync", "copy", str(top), str(tmp_path / "first")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)
        assert creator.poll() is None, "the second creator must wait while the parent is held"
        assert not (tmp_path / "first").exists()
    finally:
        lock.release()
    _, err = creator.communicate(timeout=60)
    assert creator.returncode == 0, err
    assert (tmp_path / "first" / "_Sync" / "sync.yaml").exists()


def test_watch_agent_survives_the_parent_vanishing(hierarchy: Hierarchy, tmp_path: Path) -> None:
    away = tmp_path / "away"
    output: list[str] = []
    with watch_agent(hierarchy.b, 0.3, output) as agent:
        try:
            time.sleep(1.5)
            hierarchy.top.rename(away)
            write_record(
                hierarchy.b / "taxcodes" / "OFF.json", {"code": "OFF", "description": "while away"}
            )
            time.sleep(2.0)
            assert agent.poll() is None, "the agent must keep running while the parent is gone"
            away.rename(hierarchy.top)
            assert wait_until(in_shared_line(hierarchy.top, "taxcodes/OFF.json"), 60)
            time.sleep(3.0)  # let the agent report the sync that delivered it
        finally:
            if away.exists() and not hierarchy.top.exists():
                away.rename(hierarchy.top)
    events = [json.loads(line) for line in output]
    states = [e["state"] for e in events if e["event"] == "sync"]
    assert events[-1]["event"] == "stopped"  # Ctrl-C stops the agent cleanly
    assert "offline" in states and states[-1] == "online", states


def test_grandchild_follows_a_moved_top_level_parent(hierarchy: Hierarchy, tmp_path: Path) -> None:
    moved = tmp_path / "moved top"
    hierarchy.top.rename(moved)
    result = hierarchy.run(hierarchy.g, "parent", "locate", "--top-level", moved)
    assert result.code == 0, result.stderr
    status = hierarchy.status(hierarchy.g)
    assert status["top_level"] == str(moved) and status["parent"] == str(hierarchy.a)
    write_record(
        hierarchy.g / "taxcodes" / "TOP.json", {"code": "TOP", "description": "to the moved top"}
    )
    report = hierarchy.sync(hierarchy.g)
    assert report["route"] == "top-level" and report["state"] == "online"
    assert git(moved, "cat-file", "-e", "main:taxcodes/TOP.json", check=False).returncode == 0
