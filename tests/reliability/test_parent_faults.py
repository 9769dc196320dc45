"""Parent faults: the parent vanishes mid-sync, moves, comes back, or refuses writes.

In every case the copy says so (offline with its queue, or one clear line),
keeps its commits queued, and delivers everything once the parent is back.

Read-only parent: the tests run as root, and ``chmod -R a-w`` does not stop
root. Two stand-ins are used instead: the immutable attribute (``chattr -R
+i`` on the parent's ``.git``), which stops root too and gives git's real
"unable to create temporary object directory" failure (skipped where the
file system has no such attribute); and a pre-receive hook that refuses
every push with a message, as a parent that will not take writes does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import write_record
from tests.reliability.harness import (
    assert_has,
    assert_sound,
    one_line_error,
    run_cli,
    run_killed,
    taxcode,
    taxcode_path,
)

Runner = Callable[..., Any]


@pytest.fixture
def family(
    gitsync: Runner, client_file: Callable[..., Path], tmp_path: Path
) -> tuple[Path, Path, Path]:
    top = client_file("top")
    a, b = tmp_path / "a (Sync)", tmp_path / "b (Sync)"
    for dest in (a, b):
        result = gitsync("copy", top, dest)
        assert result.code == 0, result.stderr
    return top, a, b


def _sync(gitsync: Runner, where: Path) -> dict[str, Any]:
    """One sync's report; a sync that reached no parent exits 7 with its one line, else 0."""
    result = gitsync("sync", "--json", cwd=where)
    assert result.code in (0, 7), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    if data["state"] == "offline":
        assert result.code == 7 and result.stderr.startswith("gitsync: Offline: "), result
    else:
        assert result.code == 0, result.stderr
    return data


def _add(where: Path, *codes: str) -> list[str]:
    for code in codes:
        write_record(
            where / taxcode_path(code), taxcode(code, f"queued while the parent was away: {code}")
        )
    return [taxcode_path(c) for c in codes]


def _delivered(gitsync: Runner, top: Path, a: Path, b: Path, wanted: list[str]) -> None:
    report = _sync(gitsync, a)
    assert report["state"] == "online" and report["pending"] == 0, report
    _sync(gitsync, b)
    assert_has(top, wanted, "refs/heads/main", files=False)
    assert_has(b, wanted)
    for where in (a, b):
        assert_sound(where)


def test_parent_renamed_away_by_a_pre_push_hook(
    gitsync: Runner, family: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    top, a, b = family
    away = tmp_path / "away"
    hook = a / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\nmv '{top}' '{away}'\nexit 0\n", encoding="utf-8")
    hook.chmod(0o755)
    wanted = _add(a, "V1", "V2")
    result = gitsync("sync", "--json", cwd=a)
    hook.unlink()
    # The push had already reached the parent when it moved: it lands there, or
    # the copy reports one clear line; either way nothing is lost.
    if result.code != 0:
        one_line_error(result.stderr)
    assert_sound(a)
    report = _sync(gitsync, a)  # the parent is gone now: offline, queue kept
    assert report["state"] == "offline" and str(top) in report["unreachable"]
    away.rename(top)
    _delivered(gitsync, top, a, b, wanted)


def test_killed_after_fetch_then_parent_vanishes(
    gitsync: Runner, family: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    top, a, b = family
    wanted = _add(a, "K1", "K2")
    run_killed("sync", cwd=a, fault="sync.fetched")
    away = tmp_path / "away"
    top.rename(away)
    report = _sync(gitsync, a)
    assert report["state"] == "offline" and report["pending"] >= 1, report
    assert str(top) in report["unreachable"]
    status = json.loads(gitsync("status", "--json", cwd=a).stdout)
    assert status["state"] == "offline" and status["pending"] == report["pending"]
    more = _add(a, "K3")
    assert _sync(gitsync, a)["pending"] > report["pending"]
    assert_sound(a)
    away.rename(top)
    _delivered(gitsync, top, a, b, wanted + more)


def test_parent_moves_then_locate(
    gitsync: Runner, family: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    top, a, b = family
    wanted = _add(a, "M1")
    moved = tmp_path / "moved top"
    top.rename(moved)
    report = _sync(gitsync, a)
    assert report["state"] == "offline" and report["pending"] >= 1
    for copy in (a, b):
        result = gitsync("parent", "locate", moved, cwd=copy)
        assert result.code == 0, result.stderr
    report = _sync(gitsync, a)
    assert (
        report["state"] == "online" and report["address"] == str(moved) and report["pending"] == 0
    )
    _sync(gitsync, b)
    assert_has(moved, wanted, "refs/heads/main", files=False)
    assert_has(b, wanted)
    assert_sound(a)
    assert_sound(b)


def _immutable(path: Path, on: bool) -> bool:
    if shutil.which("chattr") is None:
        return False
    flag = "+i" if on else "-i"
    return (
        subprocess.run(
            ["chattr", "-R", flag, str(path)], capture_output=True, check=False
        ).returncode
        == 0
    )


@pytest.fixture
def cleanup_immutable(tmp_path: Path) -> Iterator[list[Path]]:
    marked: list[Path] = []
    yield marked
    for path in marked:
        _immutable(path, False)


def test_read_only_parent_immutable(
    gitsync: Runner, family: tuple[Path, Path, Path], cleanup_immutable: list[Path]
) -> None:
    top, a, b = family
    wanted = _add(a, "R1")
    cleanup_immutable.append(top / ".git")
    if not _immutable(top / ".git", True):
        _immutable(top / ".git", False)
        pytest.skip("this file system has no immutable attribute (chattr +i)")
    probe = top / ".git" / "probe"
    try:
        probe.write_text("x", encoding="utf-8")
    except OSError:
        pass
    else:
        pytest.skip("chattr +i does not stop writes here")
    # git's own failure to write ("unable to create temporary object directory"):
    # the copy goes offline with its queue, as with a parent it cannot reach.
    report = _sync(gitsync, a)
    assert report["state"] == "offline" and report["pending"] >= 1, report
    assert str(top) in report["unreachable"]
    status = json.loads(gitsync("status", "--json", cwd=a).stdout)
    assert status["pending"] >= 1
    assert_sound(a)
    _immutable(top / ".git", False)
    _delivered(gitsync, top, a, b, wanted)


def test_parent_refuses_writes(gitsync: Runner, family: tuple[Path, Path, Path]) -> None:
    top, a, b = family
    hook = top / ".git" / "hooks" / "pre-receive"
    saved = hook.with_name("pre-receive.saved")
    hook.rename(saved)
    hook.write_text(
        "#!/bin/sh\n"
        "echo 'error: insufficient permission for adding an object to repository database' >&2\n"
        "exit 1\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    wanted = _add(a, "W1", "W2")
    try:
        result = run_cli("sync", cwd=a)  # a real process: exactly what a user sees
        assert result.returncode == 4, result
        line = one_line_error(result.stderr)
        assert "parent refused the change" in line, line
        status = json.loads(gitsync("status", "--json", cwd=a).stdout)
        assert status["pending"] >= 1, status
        assert_sound(a)
        assert_sound(top)
    finally:
        hook.unlink()
        saved.rename(hook)
    _delivered(gitsync, top, a, b, wanted)


def test_parent_back_after_several_offline_syncs(
    gitsync: Runner, family: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    top, a, b = family
    away = tmp_path / "away"
    top.rename(away)
    wanted: list[str] = []
    for n in range(3):
        wanted += _add(a, f"Q{n}")
        report = _sync(gitsync, a)
        assert report["state"] == "offline" and report["pending"] >= n + 1
    away.rename(top)
    _delivered(gitsync, top, a, b, wanted)
