"""A parent whose shared line (main) was deleted anyway (by plain git in the parent, or by a push
made before the guards): sync and status in a copy say so in one line with exit 8, never
"offline", and repair restores the line from what the copy knows, after which every copy
converges. Repair also sets the receive guards on each parent it can reach as a folder."""

from __future__ import annotations

from pathlib import Path

from tests.func.test_parent_refs import guards_of, unset_guards
from tests.helpers import Hierarchy, git, git_out, read_record, write_record


def test_repair_sets_the_receive_guards_here_and_on_a_local_parent(hierarchy: Hierarchy) -> None:
    top, b = hierarchy.top, hierarchy.b
    unset_guards(top)
    unset_guards(b)
    result = hierarchy.run(b, "repair", "--json")
    assert result.code == 0, result.stderr
    assert guards_of(b) == ["true", "true"] and guards_of(top) == ["true", "true"]
    assert result.json()["parent_lines"] == []  # the shared line was there: nothing restored


def delete_shared_line(top: Path) -> str:
    """What a push made before the guards (or plain git in the parent) did: main is gone."""
    tip = git_out(top, "rev-parse", "refs/heads/main").strip()
    git(top, "update-ref", "-d", "refs/heads/main")
    return tip


GONE = "the parent's shared line (main) is gone; run `gitsync repair` to restore it from this copy"


def test_sync_and_status_name_a_parent_whose_shared_line_is_gone(hierarchy: Hierarchy) -> None:
    a, top = hierarchy.a, hierarchy.top
    write_record(a / "taxcodes" / "GST.json", {"code": "GST", "description": "Goods"})
    delete_shared_line(top)

    synced = hierarchy.run(a, "sync")
    assert synced.code == 8, synced.stdout + synced.stderr
    assert synced.stderr.strip() == f"gitsync: {top}: {GONE}"
    assert "Offline" not in synced.stdout + synced.stderr

    status = hierarchy.run(a, "status")
    assert status.code == 8
    assert status.stderr.strip() == f"gitsync: {top}: {GONE}"


def test_repair_restores_the_shared_line_and_every_copy_converges(hierarchy: Hierarchy) -> None:
    top, a, b = hierarchy.top, hierarchy.a, hierarchy.b
    hierarchy.sync(a)
    # b sends a change after a's last sync: a's record of the parent's line is older than it.
    write_record(b / "taxcodes" / "PST.json", {"code": "PST", "description": "Provincial"})
    hierarchy.sync(b)
    known_to_a = git_out(a, "rev-parse", "refs/remotes/top-level/main").strip()
    delete_shared_line(top)
    write_record(a / "taxcodes" / "GST.json", {"code": "GST", "description": "Goods"})
    assert hierarchy.run(a, "sync").code == 8  # a's record of the line survives the failed sync
    assert git_out(a, "rev-parse", "refs/remotes/top-level/main").strip() == known_to_a

    repaired = hierarchy.run(a, "repair", "--json")
    assert repaired.code == 0, repaired.stderr
    lines = repaired.json()["parent_lines"]
    assert lines == [{"address": str(top), "commit": known_to_a, "from": "this copy's record"}]
    # The parent opened on the restored line: its own working line is published with it.
    restored = git_out(top, "rev-parse", "refs/heads/main").strip()
    git(top, "merge-base", "--is-ancestor", known_to_a, restored)
    assert hierarchy.status(a)["state"] == "online"

    for copy in (a, b, a):
        hierarchy.sync(copy)
    assert git_out(a, "rev-parse", "HEAD^{tree}") == git_out(b, "rev-parse", "HEAD^{tree}")
    for copy in (a, b):
        assert read_record(copy / "taxcodes" / "GST.json")["description"] == "Goods"
        assert read_record(copy / "taxcodes" / "PST.json")["description"] == "Provincial"
    hierarchy.run(top, "open")
    assert git_out(top, "rev-parse", "HEAD^{tree}") == git_out(a, "rev-parse", "HEAD^{tree}")
