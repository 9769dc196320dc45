"""Every documented failure of the exit-code table, run through the CLI on a real hierarchy.

The table is ``gitsync.errors.ExitCode`` (the README lists it). Each failure
must exit with its own code and say so in one line that starts with
``gitsync: `` (a broken pipe says nothing: its reader has gone). The server's
own failures (a file one may not see, an abandoned server copy, the server
out of reach) are in ``tests/server/test_server_answers.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.errors import ExitCode
from tests.helpers import Hierarchy, git, with_ctrl_c, write_record


def fails(result: Any, code: int, *words: str) -> str:
    """The one line of a failure that exited with ``code``, naming ``words``."""
    assert result.code == code, (result.code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("gitsync: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[-1], lines[-1]
    return lines[-1]


def copy_id(h: Hierarchy, where: Path) -> str:
    return str(h.status(where)["copy_id"])


def test_usage_from_the_library_and_from_the_command_line(hierarchy: Hierarchy) -> None:
    h = hierarchy
    fails(h.run(h.top, "delete-copy"), ExitCode.USAGE, "delete-copy is for a sync copy")
    # click's own refusals read as one line too, with where to look
    line = fails(h.run(h.a, "sync", "--bogus"), ExitCode.USAGE, "No such option: --bogus")
    assert line.endswith("(see 'gitsync sync --help')")
    line = fails(h.run(h.a, "account", "add", "1000"), ExitCode.USAGE, "Missing")
    assert "\n" not in h.run(h.a, "account", "add", "1000").stderr.rstrip("\n")


def test_not_a_client_file(hierarchy: Hierarchy, tmp_path: Path) -> None:
    fails(hierarchy.run(tmp_path, "status"), ExitCode.NOT_A_CLIENT_FILE, "not a client file")


def test_a_rule_refuses_a_hand_edit(hierarchy: Hierarchy) -> None:
    h = hierarchy
    write_record(h.a / "accounts" / "1000.json", {"number": "1000", "name": "", "type": "asset"})
    fails(h.run(h.a, "sync"), ExitCode.RULE, "accounts/1000.json", "(rule: schema)")


def test_not_found(hierarchy: Hierarchy) -> None:
    h = hierarchy
    fails(h.run(h.a, "conflicts", "resolve", "nosuch", "--take", "1"), ExitCode.NOT_FOUND)
    fails(h.run(h.a, "doc", "get", "nosuch"), ExitCode.NOT_FOUND, "nosuch")


def test_busy_while_another_process_holds_the_copy(
    hierarchy: Hierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitsync.lock import LOCK_NAME, CopyLock

    h = hierarchy
    waits = CopyLock.acquire
    # The real lock, held by this test; the command waits 0.3 s for it instead of 30 s.
    monkeypatch.setattr(CopyLock, "acquire", lambda self, timeout: waits(self, min(timeout, 0.3)))
    holder = CopyLock(h.a / ".git" / LOCK_NAME)
    assert holder.acquire(timeout=1)
    try:
        write_record(h.a / "taxcodes" / "B.json", {"code": "B", "description": "busy"})
        result = h.run(h.a, "sync")
    finally:
        holder.release()
    fails(result, ExitCode.BUSY, "another gitsync command is working on this copy")


def test_sync_that_reaches_no_parent_exits_7_and_keeps_the_change(hierarchy: Hierarchy) -> None:
    h = hierarchy
    write_record(h.a / "taxcodes" / "AWAY.json", {"code": "AWAY", "description": "queued"})
    away = h.top.with_name("parent away")
    h.top.rename(away)
    try:
        offline = h.run(h.a, "sync")
        line = fails(offline, ExitCode.UNREACHABLE, "Offline: 1 change(s) queued")
        assert line == (
            f"gitsync: Offline: 1 change(s) queued (could not reach {h.top}); "
            "committed 1 edited file(s)"
        ), line
        assert offline.stdout == ""
        # --json still gives the report on stdout, with the same exit code and line
        as_json = h.run(h.a, "sync", "--json")
        fails(as_json, ExitCode.UNREACHABLE, "Offline: 1 change(s) queued")
        report = json.loads(as_json.stdout)
        assert report["state"] == "offline" and report["pending"] == 1, report
        assert h.status(h.a)["state"] == "offline"
    finally:
        away.rename(h.top)
    # the change was kept, and goes out on the next sync
    assert h.sync(h.a)["sent"] == 1
    assert git(h.top, "cat-file", "-e", "main:taxcodes/AWAY.json", check=False).returncode == 0


def test_a_copy_set_to_work_offline_queues_and_exits_0(hierarchy: Hierarchy) -> None:
    h = hierarchy
    assert h.run(h.a, "offline").code == 0
    write_record(h.a / "taxcodes" / "OFF.json", {"code": "OFF", "description": "chosen"})
    result = h.run(h.a, "sync")
    assert result.code == 0 and result.stderr == "", result
    assert result.stdout == "Offline: 1 change(s) queued; committed 1 edited file(s)\n"


def test_refused_by_the_state_of_the_hierarchy(hierarchy: Hierarchy) -> None:
    h = hierarchy
    write_record(h.a / "taxcodes" / "WAIT.json", {"code": "WAIT", "description": "unsent"})
    fails(h.run(h.top, "lockdown"), ExitCode.REFUSED, "lockdown refused", copy_id(h, h.a))
    lost = copy_id(h, h.b)
    assert h.run(h.top, "maintenance", "--abandon", lost).code == 0
    # An abandoned copy is refused by the state of the hierarchy, not by a rule (4) or
    # with a bare failure (1), whether it has something to send or not.
    fails(h.run(h.b, "sync"), ExitCode.REFUSED, f"copy {lost} was abandoned", "take a new copy")
    write_record(h.b / "taxcodes" / "LATE.json", {"code": "LATE", "description": "too late"})
    fails(h.run(h.b, "sync"), ExitCode.REFUSED, f"copy {lost} was abandoned")


def test_io_refused_by_the_system(hierarchy: Hierarchy, tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    fails(
        hierarchy.run(hierarchy.a, "backup", "--to", blocker / "backups"),
        ExitCode.IO,
        "Not a directory",
    )


def test_interrupted_while_waiting_for_the_copy(hierarchy: Hierarchy) -> None:
    from gitsync.lock import LOCK_NAME, CopyLock

    h = hierarchy
    holder = CopyLock(h.a / ".git" / LOCK_NAME)
    assert holder.acquire(timeout=1)
    write_record(h.a / "taxcodes" / "INT.json", {"code": "INT", "description": "interrupted"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitsync", "-C", str(h.a), "sync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=with_ctrl_c,
    )
    assert proc.stderr is not None
    try:
        notice = proc.stderr.readline()  # the wait has begun
        assert "is busy" in notice, notice
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        holder.release()
    assert proc.returncode == ExitCode.INTERRUPTED, (out, err)
    assert err.splitlines()[-1] == "gitsync: interrupted", err


def test_broken_pipe_exits_141_quietly(
    hierarchy: Hierarchy, gitsync_proc: Callable[..., Any]
) -> None:
    for args in (["log"], ["status"]):  # the full command line, and a hot command
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitsync", "-C", str(hierarchy.a), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader went away before anything was written
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == ExitCode.BROKEN_PIPE, (args, err)
        assert err == b"", err


def test_leaving_needs_the_parent_and_says_it_cannot_be_reached(hierarchy: Hierarchy) -> None:
    h = hierarchy
    away = h.top.with_name("parent away")
    h.top.rename(away)
    try:
        fails(h.run(h.b, "delete-copy"), ExitCode.UNREACHABLE, "the parent cannot be reached")
        fails(
            h.run(h.b, "delete-copy", "--discard-unsent"),
            ExitCode.UNREACHABLE,
            "no parent can be reached",
        )
        fails(h.run(h.b, "cleanup"), ExitCode.UNREACHABLE, "cleanup refused")
    finally:
        away.rename(h.top)
    assert (h.b / "_Sync").is_dir()


def test_an_unexpected_error_is_internal_in_one_line(
    hierarchy: Hierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitsync.sync.status as status

    def broken(start: Path) -> Any:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(status, "copy_status", broken)
    line = fails(hierarchy.run(hierarchy.a, "status"), ExitCode.INTERNAL, "internal error")
    assert line == r"gitsync: internal error: RuntimeError: a bug\nover two lines", line
