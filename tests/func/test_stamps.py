"""Every commit that enters the shared line is stamped and checked; what sync sends is what is on work.

Plain git makes commits no pre-commit hook saw (``--no-verify``, ``revert``,
``cherry-pick``, a clone without gitsync's hooks). Sync stamps the copy's own
unsent ones; a parent refuses a change whose stamps are missing or untrue; a
copy does not place a received line that breaks a rule.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from tests.helpers import Hierarchy, git, git_out, read_record


def _ok(result: Any) -> Any:
    assert result.code == 0, (result.stdout, result.stderr)
    return result


def _account(h: Hierarchy, where: Path, *args: str) -> None:
    _ok(h.run(where, "account", *args))


def _hand_edit(where: Path, path: str, **fields: Any) -> dict[str, Any]:
    """Change fields of a record as an editor would, keeping its stamps as they are."""
    record = read_record(where / path)
    record.update(fields)
    (where / path).write_bytes(canonical.dumps(record))
    return record


def _commit_time(where: Path, rev: str = "HEAD") -> str:
    seconds = int(git_out(where, "log", "-1", "--format=%ct", rev).strip())
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _name_writers(h: Hierarchy, where: Path) -> list[tuple[str, str, str]]:
    """(value, by, at to the second) of each change of account 1000's name, newest first."""
    history = _ok(h.run(where, "history", "accounts/1000.json", "--json")).json()
    found = []
    for version in history:
        for op, credit in zip(version["patch"], version["credits"], strict=True):
            if op["path"] == "/name":
                found.append((op.get("value"), credit["by"], credit["at"][:19]))
    return found


@pytest.fixture
def cash(hierarchy: Hierarchy, monkeypatch: pytest.MonkeyPatch) -> Hierarchy:
    """Account 1000 added by bob at the top-level parent and synced to copies a and b."""
    monkeypatch.setenv("GITSYNC_USER", "bob")
    _account(hierarchy, hierarchy.top, "add", "1000", "Cash", "--type", "asset")
    monkeypatch.setenv("GITSYNC_USER", "alice")
    for where in (hierarchy.a, hierarchy.b):
        hierarchy.sync(where)
    return hierarchy


def test_a_no_verify_commit_is_stamped_by_sync_with_its_writer_and_time(
    cash: Hierarchy,
) -> None:
    h = cash
    _hand_edit(h.a, "accounts/1000.json", name="Cash at bank")
    git(h.a, "commit", "-q", "--no-verify", "-am", "Rename")
    made_at = _commit_time(h.a)
    report = h.sync(h.a)
    assert report["stamped"] == 1 and report["sent"] == 1
    record = read_record(h.a / "accounts/1000.json")
    assert record["modified"]["by"] == "alice"
    assert record["modified"]["at"][:19] == made_at
    h.sync(h.top)
    assert _name_writers(h, h.top)[0] == ("Cash at bank", "alice", made_at)
    assert git_out(h.top, "log", "-1", "--format=%an", "main", "--no-merges").strip() == "alice"


def test_a_later_revert_wins_over_an_earlier_edit_and_is_credited_to_its_writer(
    cash: Hierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's schedule: alice renames, bob renames later, alice reverts later still."""
    h = cash
    _account(h, h.a, "set", "1000", "--name", "Cash (alice)")
    h.sync(h.a)
    monkeypatch.setenv("GITSYNC_USER", "bob")
    h.sync(h.b)
    _account(h, h.b, "set", "1000", "--name", "Cash (bob)")  # not yet synced
    monkeypatch.setenv("GITSYNC_USER", "alice")
    time.sleep(1.1)  # a commit's time has whole seconds: the revert is later by its own clock
    git(h.a, "revert", "--no-edit", "HEAD")
    reverted_at = _commit_time(h.a)
    h.sync(h.a)
    monkeypatch.setenv("GITSYNC_USER", "bob")
    h.sync(h.b)
    h.sync(h.a)
    for where in (h.a, h.b):
        assert read_record(where / "accounts/1000.json")["name"] == "Cash", where
    [conflict] = _ok(h.run(h.b, "conflicts", "--json")).json()["conflicts"]
    values = {(v["value"], v["by"], v["at"][:19]) for v in conflict["values"]}
    assert ("Cash", "alice", reverted_at) in values
    assert conflict["current"] == "Cash"


def test_a_cherry_pick_that_keeps_a_later_stamp_is_stamped_by_sync(
    cash: Hierarchy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob renames; alice, later, sets the map, then cherry-picks bob's rename with plain git.

    The merge driver keeps alice's later ``modified`` on the picked record, so
    without sync's stamp the rename would be credited to alice's map edit.
    """
    h = cash
    monkeypatch.setenv("GITSYNC_USER", "bob")
    _account(h, h.b, "set", "1000", "--name", "Cash (bob)")
    picked = git_out(h.b, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("GITSYNC_USER", "alice")
    _account(h, h.a, "set", "1000", "--map", "100")
    git(h.a, "fetch", "-q", str(h.b), "work:refs/heads/bobs")
    git(h.a, "cherry-pick", picked)
    picked_at = _commit_time(h.a)
    assert h.sync(h.a)["stamped"] == 1
    assert _name_writers(h, h.a)[0] == ("Cash (bob)", "alice", picked_at)


def test_a_parent_refuses_a_plain_push_of_an_unstamped_change(cash: Hierarchy) -> None:
    h = cash
    before = git_out(h.top, "rev-parse", "main")
    _hand_edit(h.a, "accounts/1000.json", name="Cash at bank")
    git(h.a, "commit", "-q", "--no-verify", "-am", "Rename")
    pushed = git(h.a, "push", "parent", "work:main", check=False)
    assert pushed.returncode != 0
    commit = git_out(h.a, "rev-parse", "--short=12", "HEAD").strip()
    assert (
        f"push to refs/heads/main refused: commit {commit}: accounts/1000.json: modified: "
        "the change keeps an earlier stamp ('bob' at"
    ) in pushed.stderr
    assert "run 'gitsync sync' in the copy that made it to stamp it (rule: stamped)" in (
        pushed.stderr
    )
    assert git_out(h.top, "rev-parse", "main") == before


@pytest.mark.parametrize(
    ("stamp", "rule"),
    [
        ({"by": "bob", "at": None}, "stamp-author"),  # another user's name, now
        ({"by": "Test Auditor", "at": "2099-01-01T00:00:00.000000Z"}, "stamp-time"),
    ],
)
def test_a_parent_refuses_forged_stamps_and_sync_replaces_them(
    cash: Hierarchy, stamp: dict[str, Any], rule: str
) -> None:
    """A hand-made stamp naming another user, or a time far ahead, with --no-verify."""
    from gitsync.model.records import now_stamp

    h = cash
    record = read_record(h.a / "accounts/1000.json")
    forged = {"by": stamp["by"], "at": stamp["at"] or now_stamp(), "copy": "c-admin"}
    record.update(name="Cash (forged)", modified=forged)
    record["provenance"] = {
        "": read_record(h.a / "accounts/1000.json")["modified"],
        "/name": forged,
    }
    (h.a / "accounts/1000.json").write_bytes(canonical.dumps(record))
    git(h.a, "commit", "-q", "--no-verify", "-am", "Forged")
    pushed = git(h.a, "push", "parent", "work:main", check=False)
    assert pushed.returncode != 0 and f"(rule: {rule})" in pushed.stderr
    assert "accounts/1000.json: modified." in pushed.stderr
    made_at = _commit_time(h.a)
    assert h.sync(h.a)["stamped"] == 1
    h.sync(h.top)
    top = read_record(h.top / "accounts/1000.json")
    assert top["name"] == "Cash (forged)"
    assert (top["modified"]["by"], top["modified"]["at"][:19]) == ("alice", made_at)
    assert top["provenance"]["/name"] == top["modified"]


def test_a_no_verify_commit_at_the_top_level_never_reaches_the_copies(
    hierarchy: Hierarchy, gitsync: Any
) -> None:
    """An entry line changed by 50.00 and committed with --no-verify at the top-level parent."""
    h = hierarchy
    for number, kind in (("6100", "expense"), ("2100", "liability")):
        _account(h, h.top, "add", number, "Account " + number, "--type", kind)
    args = ["entry", "add", "--journal", "AJE", "--date", "2026-12-31", "--description", "Fee"]
    _ok(h.run(h.top, *args, "--line", "6100=1200.00", "--line", "2100=-1200.00"))
    for where in (h.a, h.b):
        h.sync(where)
    [entry_path] = [p for p in (h.top / "entries").iterdir()]
    entry = read_record(entry_path)
    entry["lines"][0]["amount"] += 5000
    entry_path.write_bytes(canonical.dumps(entry))
    git(h.top, "commit", "-q", "--no-verify", "-am", "Adjust the fee")

    for where in (h.a, h.b):
        h.sync(where)  # the parent's unpublished line is not taken: exit 0, nothing received
        kept = read_record(where / "entries" / entry_path.name)
        assert kept["lines"][0]["amount"] == 120000, where
        _ok(h.run(where, "check"))

    status = h.status(h.top)
    assert any("(rule: balanced-entry)" in flag for flag in status["flags"]), status
    refused = h.run(h.top, "sync")
    assert refused.code == 4
    assert "(rule: balanced-entry)" in refused.stderr
    assert "fix it here with a new commit" in refused.stderr
    for where in (h.a, h.b):
        h.sync(where)
        assert read_record(where / "entries" / entry_path.name)["lines"][0]["amount"] == 120000

    # A plain-git user moves the shared line itself: the copies refuse to place it.
    git(h.top, "update-ref", "refs/heads/main", "work")
    head_before = git_out(h.a, "rev-parse", "HEAD")
    placed = h.run(h.a, "sync")
    assert placed.code == 4
    assert "was not placed here" in placed.stderr
    assert "(rule: balanced-entry)" in placed.stderr
    assert "fix it at the top-level parent with a new commit" in placed.stderr
    assert git_out(h.a, "rev-parse", "HEAD") == head_before
    _ok(h.run(h.a, "check"))

    # Fixed forward at the top-level parent: every copy takes the fix.
    entry["lines"][0]["amount"] -= 5000
    entry_path.write_bytes(canonical.dumps(entry))
    git(h.top, "commit", "-q", "-am", "Fix the fee")
    h.sync(h.top)
    for where in (h.a, h.b):
        h.sync(where)
        _ok(h.run(where, "check"))


def test_a_reset_of_unsent_gitsync_commits_discards_them(cash: Hierarchy) -> None:
    h = cash
    for name in ("One", "Two", "Three"):
        _account(h, h.a, "set", "1000", "--name", name)
    git(h.a, "reset", "-q", "--hard", "HEAD~3")
    report = h.sync(h.a)
    assert report["sent"] == 0
    h.sync(h.top)
    assert read_record(h.top / "accounts/1000.json")["name"] == "Cash"
    assert read_record(h.a / "accounts/1000.json")["name"] == "Cash"


def test_an_amended_synced_commit_is_counted_and_labelled_truthfully(cash: Hierarchy) -> None:
    h = cash
    _account(h, h.a, "set", "1000", "--name", "Cash (typo)")
    h.sync(h.a)
    _hand_edit(h.a, "accounts/1000.json", name="Cash (fixed)")
    git(h.a, "commit", "-q", "--amend", "-a", "--no-edit")
    status = h.status(h.a)
    assert status["received"] == 0
    assert status["pending"] == 1
    report = h.sync(h.a)
    assert report["sent"] == 1
    h.sync(h.top)
    assert read_record(h.top / "accounts/1000.json")["name"] == "Cash (fixed)"
    h.sync(h.g)
    leaf = h.status(h.g)
    assert leaf["received"] == 0, leaf
    assert leaf["pending"] == 0
