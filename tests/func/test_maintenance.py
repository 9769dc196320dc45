"""Lockdown, cleanup, abandon, delete-copy, clear-sync, sign-out, protection and restrictions."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from tests.helpers import Hierarchy, git


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return result


def _refused(result: Any, *words: str) -> str:
    assert result.code != 0, result.stdout
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert line.startswith("gitsync: ") and "Traceback" not in line
    for word in words:
        assert word in line, line
    return line


def _head(path: Path) -> str:
    return git(path, "rev-parse", "HEAD").stdout.strip()


def _copy_id(h: Hierarchy, where: Path) -> str:
    return str(h.status(where)["copy_id"])


def test_lockdown_waits_for_copies_then_refuses_every_change(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _ok(h.run(h.a, "offline"))
    _ok(h.run(h.a, "taxcode", "add", "GST", "Goods and services tax"))
    line = _refused(h.run(h.top, "lockdown"), "lockdown refused", _copy_id(h, h.a), "offline")
    assert "abandon-outstanding" in line
    assert not (h.top / "sync" / "lockdown.json").exists()
    _ok(h.run(h.a, "online"))
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
    _ok(h.run(h.top, "lockdown"))
    # the change sent before the lockdown is in the top-level parent
    assert git(h.top, "cat-file", "-e", "main:taxcodes/GST.json", check=False).returncode == 0
    # every change is refused: in the commands at the top, in copies once they sync, in plain git
    _refused(h.run(h.top, "taxcode", "add", "HST", "Harmonized"), "lockdown")
    h.sync(h.b)
    assert h.status(h.b)["pending"] == 0
    _refused(h.run(h.b, "taxcode", "add", "PST", "Provincial"), "lockdown")
    (h.b / "taxcodes" / "QST.json").write_bytes(
        canonical.dumps({"code": "QST", "description": "Quebec"})
    )
    git(h.b, "add", "taxcodes/QST.json")
    commit = git(h.b, "commit", "-m", "plain git", check=False)
    assert commit.returncode != 0 and "lockdown" in commit.stderr
    # a commit that skips the local hook is refused by the parent
    git(h.b, "commit", "--no-verify", "-m", "skip hook")
    before = git(h.top, "rev-parse", "main").stdout
    push = git(h.b, "push", "parent", "work:main", check=False)
    assert push.returncode != 0 and "lockdown" in push.stderr
    assert git(h.top, "rev-parse", "main").stdout == before
    _refused(h.run(h.top, "lockdown"), "already locked down")
    _refused(h.run(h.a, "lockdown"), "top-level parent")


def test_lockdown_abandons_a_lost_copy_and_refuses_it_forever(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    _ok(h.run(h.b, "taxcode", "add", "SENT", "sent before the laptop was lost"))
    h.sync(h.b)
    h.sync(h.a)
    h.sync(h.g)
    lost = tmp_path / "lost laptop"
    h.b.rename(lost)
    try:
        _refused(h.run(h.top, "lockdown"), "cannot be reached")
        result = _ok(h.run(h.top, "lockdown", "--abandon-outstanding", "--json"))
        assert json.loads(result.stdout)["abandoned"] == [_copy_id(h, lost)]
    finally:
        lost.rename(h.b)
    assert git(h.top, "cat-file", "-e", "main:taxcodes/SENT.json", check=False).returncode == 0
    _ok(h.run(h.b, "offline"))
    _ok(h.run(h.b, "taxcode", "add", "LATE", "made after"))  # b does not know yet
    _ok(h.run(h.b, "online"))
    refused = h.run(h.b, "sync")
    assert refused.code == 8
    _refused(refused, "was abandoned")


def test_abandoned_copy_is_refused_by_every_parent(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _ok(h.run(h.b, "taxcode", "add", "KEPT", "sent before the abandon"))
    h.sync(h.b)
    b_id = _copy_id(h, h.b)
    _refused(h.run(h.top, "maintenance", "--abandon", "nosuchcopy"), "no such sync copy")
    _ok(h.run(h.top, "maintenance", "--abandon", b_id))
    assert (
        json.loads((h.top / "sync" / "copies" / f"{b_id}.json").read_text())["state"] == "abandoned"
    )
    _ok(h.run(h.b, "taxcode", "add", "NEW", "after the abandon"))
    line = _refused(h.run(h.b, "sync"), "abandoned")
    assert b_id in line
    # its parent's other copies are not affected, and what b sent before is kept
    _ok(h.run(h.a, "taxcode", "add", "FINE", "still accepted"))
    assert h.sync(h.a)["state"] == "online"
    assert git(h.top, "cat-file", "-e", "main:taxcodes/KEPT.json", check=False).returncode == 0
    assert git(h.top, "cat-file", "-e", "main:taxcodes/NEW.json", check=False).returncode != 0


def test_delete_copy_and_clear_sync(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _refused(h.run(h.top, "clear-sync"), "active sync copies remain")
    _refused(h.run(h.a, "delete-copy"), "sync copies of its own")
    _ok(h.run(h.g, "taxcode", "add", "LAST", "sent by delete-copy"))
    g_id = _copy_id(h, h.g)
    _ok(h.run(h.g, "delete-copy"))
    assert not h.g.exists()
    _ok(h.run(h.b, "delete-copy", "--keep"))
    assert h.b.exists() and not (h.b / "_Sync").exists()
    assert git(h.b, "remote").stdout.strip() == ""
    assert h.status(h.b)["role"] == "top-level"
    _ok(h.run(h.a, "delete-copy"))
    _ok(h.run(h.top, "open"))
    registry = {
        p.stem: json.loads(p.read_text())["state"]
        for p in (h.top / "sync" / "copies").glob("*.json")
    }
    assert registry[g_id] == "deleted"
    assert (h.top / "taxcodes" / "LAST.json").exists()
    history_before = git(h.top, "rev-list", "--count", "HEAD").stdout
    _ok(h.run(h.top, "clear-sync"))
    assert not (h.top / "_Sync").exists() and not (h.top / "sync" / "copies").exists()
    assert int(git(h.top, "rev-list", "--count", "HEAD").stdout) == int(history_before) + 1
    _ok(h.run(h.top, "check"))


def test_delete_copy_needs_the_parent(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    _ok(h.run(h.b, "offline"))
    _refused(h.run(h.b, "delete-copy"), "offline")
    _ok(h.run(h.b, "online"))
    away = tmp_path / "away"
    h.top.rename(away)
    try:
        _refused(h.run(h.b, "delete-copy"), "cannot be reached")
        assert (h.b / "_Sync").exists()
    finally:
        away.rename(h.top)


def test_cleanup_purges_settled_records(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _ok(h.run(h.top, "taxcode", "add", "OLD", "retired"))
    _ok(h.run(h.top, "taxcode", "remove", "OLD"))
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
    plan = json.loads(_ok(h.run(h.top, "cleanup", "--dry-run", "--json")).stdout)
    assert "taxcodes/OLD.json" in plan["removed"] and plan["done"] is False
    assert (h.top / "taxcodes" / "OLD.json").exists()
    shown = _ok(h.run(h.top, "cleanup")).stdout
    assert "taxcodes/OLD.json" in shown.splitlines()[1]
    assert not (h.top / "taxcodes" / "OLD.json").exists()
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
        assert not (copy / "taxcodes" / "OLD.json").exists()
    assert git(h.top, "fsck", "--no-progress").returncode == 0
    _ok(h.run(h.top, "check"))


def test_cleanup_in_an_offline_copy_without_parent(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    _ok(h.run(h.a, "offline"))
    away = tmp_path / "away"
    h.top.rename(away)
    try:
        head = _head(h.b)
        _refused(h.run(h.b, "cleanup"), "cannot be found")
        assert _head(h.b) == head
    finally:
        away.rename(h.top)
    _ok(h.run(h.a, "cleanup"))
    assert h.status(h.a)["state"] == "online"


def test_signout_and_checkout(
    hierarchy: Hierarchy, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    h = hierarchy
    _refused(h.run(h.top, "signout"), "sync cop")
    _refused(h.run(h.a, "checkout", "entries"), "sync copy")
    plain = client_file("plain")
    _ok(h.run(plain, "signout"))
    _refused(h.run(plain, "copy", plain, tmp_path / "c1"), "signed or checked out")
    assert not (tmp_path / "c1").exists()
    _ok(h.run(plain, "signin"))
    _ok(h.run(plain, "checkout", "entries"))
    _refused(h.run(plain, "checkout", "entries"), "already out")
    _refused(h.run(plain, "copy", plain, tmp_path / "c2"), "entries")
    _ok(h.run(plain, "checkin", "entries"))
    _ok(h.run(plain, "copy", plain, tmp_path / "c3"))


def test_milestones_only_on_a_plain_file(
    hierarchy: Hierarchy, client_file: Callable[..., Path]
) -> None:
    _refused(
        hierarchy.run(hierarchy.top, "milestone", "add", "planning"), "not offered on a sync file"
    )
    plain = client_file("plain")
    _ok(hierarchy.run(plain, "milestone", "add", "planning"))
    assert git(plain, "tag", "--list").stdout.strip() == "milestone/planning"


def test_restrictions_with_more_than_one_child(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _ok(h.run(h.top, "open"))  # opening the top-level parent applies the copies' registrations
    _refused(h.run(h.top, "mask", "set", "9999.99"), "restricted-ids")
    # adding a new code stays allowed
    _ok(h.run(h.top, "taxcode", "add", "NEWCODE", "allowed"))


def test_protection_rights(
    hierarchy: Hierarchy, monkeypatch: pytest.MonkeyPatch, client_file: Callable[..., Path]
) -> None:
    h = hierarchy
    plain = client_file("protected")
    _refused(
        h.run(plain, "protect", "user", "add", "staff1", "--role", "staff"), "manage-protection"
    )
    monkeypatch.setenv("GITSYNC_USER", "partner1")
    _ok(h.run(plain, "protect", "user", "add", "partner1", "--role", "partner"))
    _ok(h.run(plain, "protect", "user", "add", "staff1", "--role", "staff"))
    _ok(h.run(plain, "account", "add", "1000", "Cash", "--type", "asset"))
    monkeypatch.setenv("GITSYNC_USER", "staff1")
    _refused(
        h.run(plain, "account", "add", "1100", "Bank", "--type", "asset"),
        "lacks the right 'modify-accounts'",
    )
    _refused(h.run(plain, "protect", "off"), "manage-protection")
    monkeypatch.setenv("GITSYNC_USER", "outsider")
    _refused(
        h.run(plain, "account", "add", "1200", "Till", "--type", "asset"),
        "not in this file's protection list",
    )
    monkeypatch.setenv("GITSYNC_USER", "partner1")
    _ok(h.run(plain, "protect", "off"))
    monkeypatch.setenv("GITSYNC_USER", "outsider")
    _ok(h.run(plain, "account", "add", "1200", "Till", "--type", "asset"))


def test_protection_is_enforced_by_the_parent(
    hierarchy: Hierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = hierarchy
    monkeypatch.setenv("GITSYNC_USER", "partner1")
    _ok(h.run(h.top, "protect", "user", "add", "partner1", "--role", "partner"))
    _ok(h.run(h.top, "protect", "user", "add", "staff1", "--role", "staff"))
    h.sync(h.b)
    # staff1 edits an account with plain git, skipping the local hook
    record = {"number": "9999", "name": "Suspense", "type": "asset", "balance": 0}
    (h.b / "accounts").mkdir(exist_ok=True)
    (h.b / "accounts" / "9999.json").write_bytes(canonical.dumps(record))
    env = dict(os.environ, GIT_AUTHOR_NAME="staff1", GIT_COMMITTER_NAME="staff1")
    import subprocess

    subprocess.run(["git", "add", "-A", "accounts"], cwd=h.b, check=True)
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", "staff edit"], cwd=h.b, check=True, env=env
    )
    push = git(h.b, "push", "parent", "work:main", check=False)
    assert push.returncode != 0 and "modify-accounts" in push.stderr


@pytest.mark.parametrize("fault", ["lockdown.committed", "head.moved"])
def test_kill_during_lockdown_then_the_next_run_completes(hierarchy: Hierarchy, fault: str) -> None:
    from tests.reliability.harness import assert_sound, run_killed

    h = hierarchy
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
    run_killed("lockdown", cwd=h.top, fault=fault)
    result = h.run(h.top, "lockdown")  # the next run completes what the kill stopped
    if result.code != 0:  # the kill came late enough that the lockdown was whole
        _refused(result, "already locked down")
    assert_sound(h.top)
    assert git(h.top, "cat-file", "-e", "main:sync/lockdown.json", check=False).returncode == 0
    h.sync(h.b)
    _refused(h.run(h.b, "taxcode", "add", "AFTER", "after the lockdown"), "lockdown")


@pytest.mark.parametrize(
    "fault",
    [
        "delete-copy.unregistered",
        "delete-copy.sent",
        "delete-copy.moved-aside",
        "delete-copy.remotes-removed",
    ],
)
def test_kill_during_delete_copy_then_the_next_run_completes(
    hierarchy: Hierarchy, fault: str, tmp_path: Path
) -> None:
    from tests.reliability.harness import assert_sound, run_cli, run_killed

    h = hierarchy
    _ok(h.run(h.b, "taxcode", "add", "LAST", "sent by delete-copy"))
    b_id = _copy_id(h, h.b)
    keep = fault == "delete-copy.remotes-removed"
    run_killed("delete-copy", *(["--keep"] if keep else []), cwd=h.b, fault=fault)
    if h.b.exists() and (h.b / "_Sync").exists():
        assert_sound(h.b)
        again = run_cli("delete-copy", *(["--keep"] if keep else []), cwd=h.b)
        assert again.returncode == 0, again.stderr
    if keep:
        assert h.b.exists() and not (h.b / "_Sync").exists()
        assert git(h.b, "remote").stdout.strip() == ""
    else:
        assert not h.b.exists()
    _ok(h.run(h.top, "open"))
    record = json.loads((h.top / "sync" / "copies" / f"{b_id}.json").read_text())
    assert record["state"] == "deleted"
    assert (h.top / "taxcodes" / "LAST.json").exists()  # nothing sent before is lost
    if not keep:  # what a kill left beside the copy is cleared by the next copy made there
        _ok(h.run(h.top, "copy", h.top, h.b))
        assert not [p for p in h.b.parent.iterdir() if p.name.startswith(".b (Sync).")]


def test_a_copy_with_work_made_before_it_learned_of_the_lockdown_is_never_stuck(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
    _ok(h.run(h.top, "lockdown"))
    # b has not heard of the lockdown yet: its commands still take its edits
    _ok(h.run(h.b, "taxcode", "add", "LATE", "made before b heard of the lockdown"))
    (h.b / "taxcodes" / "HAND.json").write_bytes(
        canonical.dumps({"code": "HAND", "description": "edited by hand"})
    )
    # sync explains in one line, exit 8, and says what the user can do
    for _ in range(2):
        line = _refused(h.run(h.b, "sync"), "locked down", "backup", "--discard-unsent")
        assert "2 change(s)" in line, line
        assert h.run(h.b, "sync").code == 8
    # a hand edit made after b heard of it: the same line, counting it too
    (h.b / "taxcodes" / "LATER.json").write_bytes(
        canonical.dumps({"code": "LATER", "description": "edited by hand later"})
    )
    line = _refused(h.run(h.b, "sync"), "locked down", "3 change(s)", "--discard-unsent")
    assert h.run(h.b, "sync").code == 8
    status = h.status(h.b)
    assert status["locked_down"] is True and status["pending"] == 3
    assert "locked down" in _ok(h.run(h.b, "status")).stdout
    # the parent took nothing
    assert git(h.top, "cat-file", "-e", "main:taxcodes/LATE.json", check=False).returncode != 0
    # plain delete-copy is refused with the same way out
    _refused(h.run(h.b, "delete-copy"), "locked down", "--discard-unsent")
    assert h.b.exists()
    # the unsent work can still be backed up, and the backup holds it
    backups = tmp_path / "backups"
    report = json.loads(_ok(h.run(h.b, "backup", "--to", backups, "--json")).stdout)
    assert report["working_edits"] == ["taxcodes/LATER.json"]
    restored = tmp_path / "restored"
    _ok(h.run(tmp_path, "restore", report["path"], restored))
    assert (restored / "taxcodes" / "LATE.json").is_file()
    assert (restored / "taxcodes" / "HAND.json").is_file()
    assert (restored / "taxcodes" / "LATER.json").is_file()
    # the user chooses to leave: the discarded count is said, and the copy is gone
    b_id = _copy_id(h, h.b)
    result = _ok(h.run(h.b, "delete-copy", "--discard-unsent"))
    assert "3 unsent change(s) discarded" in result.stdout, result.stdout
    assert not h.b.exists()
    # the top-level parent took only the unregistration, and stays locked down
    h.status(h.top)
    registry = json.loads(git(h.top, "show", f"main:sync/copies/{b_id}.json").stdout)
    assert registry["state"] == "deleted"
    assert git(h.top, "cat-file", "-e", "main:taxcodes/LATE.json", check=False).returncode != 0
    _ok(h.run(h.top, "check"))
    # the other copies go on as before
    assert h.sync(h.a)["state"] == "online"
    assert h.status(h.a)["locked_down"] is True


@pytest.mark.parametrize(
    "fault",
    ["delete-copy.edits-discarded", "delete-copy.unsent-discarded", "delete-copy.unregistered"],
)
def test_kill_while_discarding_unsent_work_then_the_next_run_completes(
    hierarchy: Hierarchy, fault: str
) -> None:
    from tests.reliability.harness import assert_sound, run_killed

    h = hierarchy
    for copy in (h.a, h.b, h.g):
        h.sync(copy)
    _ok(h.run(h.top, "lockdown"))
    _ok(h.run(h.b, "taxcode", "add", "LATE", "made before b heard of the lockdown"))
    (h.b / "taxcodes" / "HAND.json").write_bytes(
        canonical.dumps({"code": "HAND", "description": "edited by hand"})
    )
    b_id = _copy_id(h, h.b)
    run_killed("delete-copy", "--discard-unsent", cwd=h.b, fault=fault)
    assert_sound(h.b, clean=False)
    _ok(h.run(h.b, "delete-copy", "--discard-unsent"))  # the next run completes
    assert not h.b.exists()
    h.status(h.top)
    assert_sound(h.top)
    registry = json.loads(git(h.top, "show", f"main:sync/copies/{b_id}.json").stdout)
    assert registry["state"] == "deleted"
    for code in ("LATE", "HAND"):
        assert git(h.top, "cat-file", "-e", f"main:taxcodes/{code}.json", check=False).returncode
