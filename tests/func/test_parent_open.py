"""A parent is never stale: every command opens it first, and pending counts what sync would send."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from tests.helpers import Hierarchy, git, read_record, write_record
from tests.reliability.harness import assert_sound, run_killed


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return result


def _codes(h: Hierarchy, where: Path) -> list[str]:
    listed = json.loads(_ok(h.run(where, "taxcode", "list", "--json")).stdout)
    return sorted(code["code"] for code in listed)


def _add(h: Hierarchy, where: Path, code: str) -> None:
    _ok(h.run(where, "taxcode", "add", code, f"tax code {code}"))


def test_every_command_at_the_top_level_shows_what_copies_sent(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add(h, h.a, "GST")
    _ok(h.run(h.a, "account", "add", "1000", "Cash", "--type", "asset"))
    h.sync(h.a)
    # no 'gitsync open': the next command at the parent takes the copies' work in first
    assert "1000" in _ok(h.run(h.top, "account", "list")).stdout
    assert _codes(h, h.top) == ["GST"]
    assert "Add account 1000" in _ok(h.run(h.top, "log", "-n", "5")).stdout
    assert (h.top / "taxcodes" / "GST.json").is_file()
    assert git(h.top, "status", "--porcelain").stdout == ""
    assert git(h.top, "rev-parse", "work").stdout == git(h.top, "rev-parse", "main").stdout


def test_conflicts_at_the_top_level_are_listed_without_opening_it(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add(h, h.top, "GST")
    for copy in (h.a, h.b):
        h.sync(copy)
    for copy, text in ((h.a, "from a"), (h.b, "from b")):
        record = read_record(copy / "taxcodes" / "GST.json")
        write_record(copy / "taxcodes" / "GST.json", dict(record, description=text))
    h.sync(h.a)
    report = h.sync(h.b)
    assert len(report["conflicts"]) == 1
    listed = json.loads(_ok(h.run(h.top, "conflicts", "--json")).stdout)["conflicts"]
    assert [c["record"] for c in listed] == ["taxcodes/GST.json"]


def test_status_at_the_top_level_reports_what_copies_sent(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add(h, h.a, "GST")
    h.sync(h.a)
    status = h.status(h.top)
    assert status["received"] >= 1
    assert git(h.top, "rev-parse", "work").stdout == git(h.top, "rev-parse", "main").stdout
    line = _ok(h.run(h.top, "status")).stdout
    assert "received" not in line  # taken in by the first status: nothing new now
    _add(h, h.b, "PST")
    h.sync(h.b)
    assert "received 1 change(s) from sync copies" in _ok(h.run(h.top, "status")).stdout


def test_a_middle_parent_shows_what_its_copies_sent(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    away = tmp_path / "top away"
    h.top.rename(away)  # the grandchild reaches only its own parent, a
    try:
        _add(h, h.g, "GST")
        report = h.sync(h.g)
        assert report["route"] == "parent", report
        assert _codes(h, h.a) == ["GST"]
        assert (h.a / "taxcodes" / "GST.json").is_file()
    finally:
        away.rename(h.top)


def test_hand_edits_at_the_parent_are_committed_then_merged(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add(h, h.top, "GST")
    h.sync(h.a)
    record = read_record(h.top / "taxcodes" / "GST.json")
    write_record(h.top / "taxcodes" / "GST.json", dict(record, description="edited by hand"))
    _add(h, h.a, "PST")
    h.sync(h.a)
    assert _codes(h, h.top) == ["GST", "PST"]
    kept = read_record(h.top / "taxcodes" / "GST.json")
    assert kept["description"] == "edited by hand"
    assert git(h.top, "status", "--porcelain").stdout == ""
    assert "Commit edits made in the working files" in git(h.top, "log", "--format=%s").stdout


def test_status_and_reads_with_nothing_new_never_load_pygit2(hierarchy: Hierarchy) -> None:
    h = hierarchy
    h.status(h.top)  # takes in the copies' registrations
    probe = (
        "import sys\n"
        "from gitsync.cli import main\n"
        f"main(['-C', {str(h.top)!r}, 'status'])\n"
        "print('pygit2' in sys.modules)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "False"


def test_pending_counts_hand_edits(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _add(h, h.a, "GST")
    h.sync(h.a)
    assert h.status(h.a)["pending"] == 0
    record = read_record(h.a / "taxcodes" / "GST.json")
    write_record(h.a / "taxcodes" / "GST.json", dict(record, description="edited by hand"))
    assert h.status(h.a)["pending"] == 1
    # the same record in an editor's spacing is no change: nothing to send
    write_record(h.a / "taxcodes" / "GST.json", record)
    assert h.status(h.a)["pending"] == 0
    (h.a / "taxcodes" / "GST.json").unlink()  # a delete by hand: the next sync sends a tombstone
    assert h.status(h.a)["pending"] == 1


def test_pending_leaves_out_what_the_parent_already_has(
    hierarchy: Hierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = hierarchy
    # A plain push carries the hook's stamps, which must name the commit's author (git's user).
    monkeypatch.delenv("GITSYNC_USER")
    _add(h, h.a, "GST")
    h.sync(h.a)
    record = read_record(h.a / "taxcodes" / "GST.json")
    (h.a / "taxcodes" / "GST.json").write_bytes(
        canonical.dumps(dict(record, description="sent with plain git"))
    )
    git(h.a, "commit", "-am", "plain git")
    assert h.status(h.a)["pending"] == 1
    git(h.a, "push", "parent", "work:main")
    assert h.status(h.a)["pending"] == 0


def test_sent_counts_this_copys_own_changes(hierarchy: Hierarchy) -> None:
    h = hierarchy
    for code in ("GST", "PST", "HST"):
        _add(h, h.top, code)
    _add(h, h.a, "QST")
    report = h.sync(h.a)  # merges the parent's three codes, then sends its own one
    assert report["merged"] == 1 and report["received"] >= 1
    assert report["sent"] == 1, report
    assert h.status(h.a)["pending"] == 0


@pytest.mark.parametrize(
    "fault",
    ["commit.worktree-written", "sync.merge-written", "head.moved@2", "worktree.file-written"],
)
def test_a_kill_while_a_command_opens_the_parent_is_completed_by_the_next(
    hierarchy: Hierarchy, fault: str
) -> None:
    h = hierarchy
    _add(h, h.top, "GST")
    h.sync(h.a)
    record = read_record(h.top / "taxcodes" / "GST.json")
    write_record(h.top / "taxcodes" / "GST.json", dict(record, description="edited by hand"))
    _add(h, h.a, "PST")
    h.sync(h.a)
    run_killed("account", "list", cwd=h.top, fault=fault)
    assert _codes(h, h.top) == ["GST", "PST"]
    assert read_record(h.top / "taxcodes" / "GST.json")["description"] == "edited by hand"
    assert_sound(h.top)
    assert git(h.top, "rev-parse", "work").stdout == git(h.top, "rev-parse", "main").stdout


def test_a_refused_hand_edit_at_the_parent_is_named_and_status_still_answers(
    hierarchy: Hierarchy,
) -> None:
    h = hierarchy
    _ok(h.run(h.top, "account", "add", "1000", "Cash", "--type", "asset"))
    record = read_record(h.top / "accounts" / "1000.json")
    write_record(h.top / "accounts" / "1000.json", dict(record, balance=12.5))
    _add(h, h.a, "GST")
    h.sync(h.a)
    status = h.status(h.top)
    assert any("a hand edit is refused" in flag and "no-float" in flag for flag in status["flags"])
    refused = h.run(h.top, "taxcode", "list")
    assert refused.code == 4 and "no-float" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    check = h.run(h.top, "check")
    assert check.code == 4 and "no-float" in check.stdout
    write_record(h.top / "accounts" / "1000.json", dict(record, name="Cash at bank"))
    assert _codes(h, h.top) == ["GST"]  # fixed: the next command takes both in
    assert read_record(h.top / "accounts" / "1000.json")["name"] == "Cash at bank"
