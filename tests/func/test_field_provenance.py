"""Per-field provenance through real copies: the later write of a field wins, and names its writer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.helpers import read_record


def _ok(result: Any) -> Any:
    assert result.code == 0, (result.stdout, result.stderr)
    return result


@pytest.fixture
def three_copies(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> dict[str, Path]:
    """A top-level parent with account 1000, and a copy each for bob, alice and carol."""
    top = client_file("ABC Limited 2026")
    _ok(gitsync("account", "add", "1000", "Cash", "--type", "asset", cwd=top))
    copies = {"top": top}
    for name in ("bob", "alice", "carol"):
        dest = tmp_path / f"{name} (Sync)"
        _ok(gitsync("copy", top, dest))
        copies[name] = dest
    return copies


def as_user(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("GITSYNC_USER", name)


def test_the_later_rename_wins_and_each_value_names_its_writer(
    three_copies: dict[str, Path], gitsync: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8, item 1: bob renames offline, alice a moment later, carol changes only the map."""
    c = three_copies
    as_user(monkeypatch, "bob")
    _ok(gitsync("account", "set", "1000", "--name", "Cash (bob)", cwd=c["bob"]))
    as_user(monkeypatch, "alice")
    _ok(gitsync("account", "set", "1000", "--name", "Cash (alice)", cwd=c["alice"]))
    as_user(monkeypatch, "carol")
    _ok(gitsync("account", "set", "1000", "--map", "100", cwd=c["carol"]))
    for name in ("bob", "carol", "alice", "bob", "carol"):
        as_user(monkeypatch, name)
        _ok(gitsync("sync", cwd=c[name]))
    as_user(monkeypatch, "auditor")
    _ok(gitsync("sync", cwd=c["top"]))

    for where in c.values():
        record = read_record(where / "accounts/1000.json")
        assert (record["name"], record.get("map")) == ("Cash (alice)", "100"), where
        listed = _ok(gitsync("account", "list", "--json", cwd=where)).json()
        assert [a["name"] for a in listed if a["number"] == "1000"] == ["Cash (alice)"]

    conflicts = _ok(gitsync("conflicts", "--json", cwd=c["top"])).json()["conflicts"]
    [conflict] = conflicts
    assert (conflict["record"], conflict["field"]) == ("accounts/1000.json", "/name")
    assert conflict["current"] == "Cash (alice)"
    assert {(v["value"], v["by"]) for v in conflict["values"]} == {
        ("Cash (bob)", "bob"),
        ("Cash (alice)", "alice"),
    }
    shown = _ok(gitsync("conflicts", cwd=c["top"])).stdout
    assert "carol" not in shown

    history = _ok(gitsync("history", "accounts/1000.json", "--json", cwd=c["top"])).json()
    credited = {
        (op.get("value"), credit["by"])
        for version in history
        for op, credit in zip(version["patch"], version["credits"], strict=True)
        if op["path"] == "/name"
    }
    assert ("Cash (alice)", "alice") in credited
    assert ("Cash (bob)", "bob") in credited
    assert not any(by == "carol" for value, by in credited if value is not None)
    assert any(
        op["path"] == "/map" and credit["by"] == "carol"
        for version in history
        for op, credit in zip(version["patch"], version["credits"], strict=True)
    )
    text = _ok(gitsync("history", "accounts/1000.json", cwd=c["top"])).stdout
    name_lines = [line for line in text.splitlines() if '/name "Cash (' in line]
    assert name_lines and not any("carol" in line for line in name_lines), text


def test_a_plain_git_commit_is_stamped_by_its_committer(
    three_copies: dict[str, Path],
    gitsync_proc: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 8: a record committed with plain git took the old ``modified.by``."""
    bob = three_copies["bob"]
    as_user(monkeypatch, "bob")
    _ok(gitsync_proc("hooks", "install", cwd=bob))
    path = bob / "accounts/1000.json"
    record = read_record(path)
    before = record["modified"]
    record["name"] = "Cash at bank"
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    git(bob, "commit", "-qam", "rename by hand")
    committed = json.loads(git(bob, "show", "HEAD:accounts/1000.json").stdout)
    assert committed["name"] == "Cash at bank"
    assert before["by"] == "auditor" and committed["modified"]["by"] == "bob"
    assert committed["provenance"]["/name"] == committed["modified"]
    assert committed["provenance"][""] == before  # the untouched fields keep their writer
    assert read_record(path) == committed
    assert git(bob, "status", "--porcelain").stdout == ""


def test_a_renumbering_is_said_in_words_and_shown_in_the_entry_history(
    three_copies: dict[str, Path], gitsync: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8: merge messages held ``Renumbered(path=..., old=11, ...)``."""
    c = three_copies
    _ok(gitsync("account", "add", "2000", "Bank", "--type", "asset", cwd=c["top"]))
    for name in ("alice", "bob"):
        as_user(monkeypatch, name)
        _ok(gitsync("sync", cwd=c[name]))
    made = {}
    for name in ("alice", "bob"):
        as_user(monkeypatch, name)
        added = gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            f"{name}'s accrual",
            "--line",
            "1000=100",
            "--line",
            "2000=-100",
            "--number",
            "11",
            "--json",
            cwd=c[name],
        )
        made[name] = _ok(added).json()["id"]
    for name in ("alice", "bob"):
        as_user(monkeypatch, name)
        _ok(gitsync("sync", cwd=c[name]))
    messages = git(c["bob"], "log", "--format=%B", "-n", "5").stdout
    assert "Renumbered(" not in messages
    assert "AJE 11 renumbered to AJE 12 (AJE 11 kept by alice's entry)" in messages
    history = _ok(gitsync("history", f"entry:{made['bob']}", "--json", cwd=c["bob"])).json()
    assert history[0]["summary"] == "AJE 11 renumbered to AJE 12 (AJE 11 kept by alice's entry)"
    assert {"op": "replace", "path": "/number", "value": 12} in history[0]["patch"]


def test_a_hand_edit_committed_by_sync_is_stamped_field_by_field(
    three_copies: dict[str, Path], gitsync: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    carol = three_copies["carol"]
    as_user(monkeypatch, "carol")
    path = carol / "accounts/1000.json"
    record = read_record(path)
    record["map"] = "100"
    path.write_text(json.dumps(record), encoding="utf-8")  # an editor's JSON, not canonical
    _ok(gitsync("sync", cwd=carol))
    committed = json.loads(git(carol, "show", "HEAD:accounts/1000.json").stdout)
    assert committed["map"] == "100" and committed["modified"]["by"] == "carol"
    assert set(committed["provenance"]) == {"", "/map"}
    assert committed["provenance"]["/map"]["by"] == "carol"
    assert committed["provenance"][""]["by"] == "auditor"  # the name keeps its writer


def test_git_add_then_commit_is_stamped_and_the_copy_stays_clean(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = client_file()
    _ok(gitsync("account", "add", "1000", "Cash", "--type", "asset", cwd=root))
    as_user(monkeypatch, "dana")
    path = root / "accounts/1000.json"
    record = read_record(path)
    record["name"] = "Cash on hand"
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    git(root, "add", "accounts/1000.json")
    done = git(root, "commit", "-q", "-m", "rename by hand", check=False)
    assert done.returncode == 0, done.stderr
    committed = json.loads(git(root, "show", "HEAD:accounts/1000.json").stdout)
    assert committed["modified"]["by"] == "dana"
    assert set(committed["provenance"]) == {"", "/name"}
    assert git(root, "status", "--porcelain").stdout == ""
