"""merge_commits on real repositories: record merge per path, invariants, criss-cross, speed."""

from __future__ import annotations

import copy
import hashlib
import subprocess
import time
from pathlib import Path
from typing import Any

import pygit2
import pytest

from gitsync.merge.tree import TreeMerge, merge_bases, merge_commits
from gitsync.model import canonical
from gitsync.model.records import validate
from gitsync.repo.clientfile import build_tree

T1, T2, T3 = (
    "2026-01-01T00:00:00.000000Z",
    "2026-01-02T00:00:00.000000Z",
    "2026-01-03T00:00:00.000000Z",
)
SIG = pygit2.Signature("auditor", "auditor@example.com", 1_700_000_000, 0)


def stamp(at: str, by: str = "auditor", copy_id: str = "c1") -> dict[str, str]:
    return {"at": at, "by": by, "copy": copy_id}


class History:
    """A bare repository and a helper to commit path -> record changes."""

    def __init__(self, path: Path) -> None:
        self.repo = pygit2.init_repository(str(path), bare=True)

    def commit(self, parents: list[pygit2.Oid], files: dict[str, Any]) -> pygit2.Oid:
        base = self.repo[parents[0]].peel(pygit2.Tree) if parents else None
        blobs: dict[str, pygit2.Oid | None] = {}
        for path, value in files.items():
            if value is None:
                blobs[path] = None
            else:
                data = value if isinstance(value, bytes) else canonical.dumps(value)
                blobs[path] = self.repo.create_blob(data)
        tree = build_tree(self.repo, base, blobs)
        return self.repo.create_commit(None, SIG, SIG, "change", tree, parents)

    def merge_commit(self, result: TreeMerge, ours: pygit2.Oid, theirs: pygit2.Oid) -> pygit2.Oid:
        return self.repo.create_commit(None, SIG, SIG, "merge", result.tree, [ours, theirs])

    def read(self, tree_id: pygit2.Oid, path: str) -> Any:
        tree = self.repo[tree_id].peel(pygit2.Tree)
        try:
            return canonical.loads(self.repo[tree[path].id].data)
        except KeyError:
            return None


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "store.git")


def account(number: str, name: str, at: str = T1, **fields: Any) -> dict[str, Any]:
    record = {"number": number, "name": name, "type": "asset", "balance": 0, "modified": stamp(at)}
    record.update(fields)
    return record


def entry(
    ident: str, number: int, created: str, lines: list[dict[str, Any]], at: str = T1
) -> dict[str, Any]:
    return {
        "id": ident,
        "journal": "AJE",
        "number": number,
        "date": "2026-12-31",
        "description": f"entry {ident}",
        "created_at": created,
        "lines": lines,
        "modified": stamp(at, copy_id=f"copy-{ident}"),
    }


def both(history: History, ours: pygit2.Oid, theirs: pygit2.Oid) -> TreeMerge:
    one = merge_commits(history.repo, ours, theirs)
    two = merge_commits(history.repo, theirs, ours)
    assert one.tree == two.tree
    assert sorted(c.id for c in one.conflicts) == sorted(c.id for c in two.conflicts)
    return one


def test_edits_to_different_fields_of_one_record_merge_field_by_field(history: History) -> None:
    base = history.commit([], {"accounts/1000.json": account("1000", "Cash")})
    ours = history.commit([base], {"accounts/1000.json": account("1000", "Cash at bank", T2)})
    theirs = history.commit(
        [base], {"accounts/1000.json": account("1000", "Cash", T3, balance=1234)}
    )
    result = both(history, ours, theirs)
    merged = history.read(result.tree, "accounts/1000.json")
    assert (merged["name"], merged["balance"]) == ("Cash at bank", 1234)
    assert result.conflicts == [] and result.changed == ["accounts/1000.json"]


def test_same_field_conflict_is_written_into_the_tree(history: History) -> None:
    base = history.commit([], {"accounts/1000.json": account("1000", "Cash")})
    ours = history.commit([base], {"accounts/1000.json": account("1000", "Petty cash", T3)})
    theirs = history.commit([base], {"accounts/1000.json": account("1000", "Bank", T2)})
    result = both(history, ours, theirs)
    assert history.read(result.tree, "accounts/1000.json")["name"] == "Petty cash"
    [conflict] = result.conflicts
    stored = history.read(result.tree, conflict.path)
    validate(conflict.path, stored)
    assert stored["status"] == "open" and stored["field"] == "/name"
    assert sorted(v["value"] for v in stored["values"]) == ["Bank", "Petty cash"]
    assert result.changed == [conflict.path]  # ours was the later change: the record stays


def test_paths_changed_on_one_side_come_through_and_changes_are_relative_to_ours(
    history: History,
) -> None:
    base = history.commit([], {"accounts/1000.json": account("1000", "Cash")})
    ours = history.commit([base], {"accounts/2000.json": account("2000", "Payables")})
    theirs = history.commit([base], {"accounts/3000.json": account("3000", "Equity")})
    result = both(history, ours, theirs)
    assert result.changed == ["accounts/3000.json"]
    assert history.read(result.tree, "accounts/2000.json")["name"] == "Payables"
    assert result.clean


def test_no_rename_pairing_between_a_tombstone_and_a_similar_new_record(history: History) -> None:
    long_name = "Accounts receivable " + "x" * 200
    old = account("1100", long_name)
    base = history.commit([], {"accounts/1100.json": old})
    tombstone = {**account("1100", long_name, T2), "deleted": True}
    similar = account("1101", long_name, T2)
    ours = history.commit([base], {"accounts/1100.json": tombstone, "accounts/1101.json": similar})
    theirs = history.commit(
        [base], {"accounts/1100.json": account("1100", long_name, T3, balance=5)}
    )
    result = both(history, ours, theirs)
    assert history.read(result.tree, "accounts/1101.json") == similar
    merged = history.read(result.tree, "accounts/1100.json")
    assert merged["balance"] == 5 and "deleted" not in merged  # the later edit stays visible
    assert [c.rule for c in result.conflicts] == ["delete-edit"]
    # Removed outright (a git delete) on one side, edited on the other: still no pairing.
    ours2 = history.commit([base], {"accounts/1100.json": None, "accounts/1101.json": similar})
    result2 = both(history, ours2, theirs)
    assert history.read(result2.tree, "accounts/1100.json")["balance"] == 5
    assert history.read(result2.tree, "accounts/1101.json") == similar


def test_duplicate_entry_numbers_are_renumbered_not_conflicted(history: History) -> None:
    lines = [
        {"id": "l1", "account": "1000", "amount": 1},
        {"id": "l2", "account": "1000", "amount": -1},
    ]
    base = history.commit(
        [],
        {
            "accounts/1000.json": account("1000", "Cash"),
            "entries/e0.json": entry("e0", 1, T1, lines),
        },
    )
    ours = history.commit([base], {"entries/ea.json": entry("ea", 2, T3, lines)})
    theirs = history.commit([base], {"entries/eb.json": entry("eb", 2, T2, lines)})
    result = both(history, ours, theirs)
    assert history.read(result.tree, "entries/eb.json")["number"] == 2  # created first keeps it
    assert history.read(result.tree, "entries/ea.json")["number"] == 3
    [renumbered] = result.renumbered
    assert (renumbered.path, renumbered.old, renumbered.new) == ("entries/ea.json", 2, 3)
    assert result.conflicts == []


def test_line_using_a_tax_code_deleted_on_the_other_side_revives_it(history: History) -> None:
    tax = {"code": "GST", "description": "Goods and services tax", "modified": stamp(T1)}
    base = history.commit(
        [], {"accounts/1000.json": account("1000", "Cash"), "taxcodes/GST.json": tax}
    )
    line = [{"id": "l1", "account": "1000", "amount": 0, "tax_code": "GST"}]
    ours = history.commit([base], {"entries/e1.json": entry("e1", 1, T2, line, T2)})
    tombstone = {**tax, "deleted": True, "modified": stamp(T3, "manager")}
    theirs = history.commit([base], {"taxcodes/GST.json": tombstone})
    result = both(history, ours, theirs)
    revived = history.read(result.tree, "taxcodes/GST.json")
    assert "deleted" not in revived
    [conflict] = result.conflicts
    assert (conflict.record, conflict.rule, conflict.current) == (
        "taxcodes/GST.json",
        "deleted-reference",
        False,
    )
    assert {v.value for v in conflict.values} == {True, False}


def test_document_content_follows_the_later_metadata(history: History) -> None:
    def doc(content: bytes, at: str) -> dict[str, Any]:
        return {
            "id": "d1",
            "name": "memo.txt",
            "kind": "text",
            "sync_mode": "sync",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size": len(content),
            "modified": stamp(at),
        }

    base = history.commit([], {"documents/d1.json": doc(b"v0", T1), "documents/d1/memo.txt": b"v0"})
    ours = history.commit(
        [base], {"documents/d1.json": doc(b"ours!", T3), "documents/d1/memo.txt": b"ours!"}
    )
    theirs = history.commit(
        [base], {"documents/d1.json": doc(b"theirs", T2), "documents/d1/memo.txt": b"theirs"}
    )
    result = both(history, ours, theirs)
    tree = history.repo[result.tree].peel(pygit2.Tree)
    assert history.repo[tree["documents/d1/memo.txt"].id].data == b"ours!"
    assert "document-content" in {c.rule for c in result.conflicts}


def test_unrelated_histories_merge_as_add_add(history: History) -> None:
    ours = history.commit([], {"accounts/1000.json": account("1000", "Cash", T2)})
    theirs = history.commit([], {"accounts/1000.json": account("1000", "Bank", T3)})
    assert merge_bases(history.repo, ours, theirs) == []
    result = both(history, ours, theirs)
    assert history.read(result.tree, "accounts/1000.json")["name"] == "Bank"
    assert result.base is None and len(result.conflicts) == 1


def test_criss_cross_history_uses_a_virtual_base(history: History) -> None:
    base = history.commit([], {"accounts/1000.json": account("1000", "Cash")})
    a1 = history.commit([base], {"accounts/1000.json": account("1000", "A", T2)})
    b1 = history.commit([base], {"accounts/1000.json": account("1000", "B", T3)})
    # Both sides merge each other: two merge bases (a1, b1) for the next merge.
    m_a = history.merge_commit(merge_commits(history.repo, a1, b1), a1, b1)
    m_b = history.merge_commit(merge_commits(history.repo, b1, a1), b1, a1)
    a2 = history.commit([m_a], {"accounts/1000.json": account("1000", "B", T3, balance=10)})
    b2 = history.commit([m_b], {"accounts/2000.json": account("2000", "Payables", T3)})
    assert len(merge_bases(history.repo, a2, b2)) == 2
    result = both(history, a2, b2)
    merged = history.read(result.tree, "accounts/1000.json")
    assert (merged["name"], merged["balance"]) == ("B", 10)
    assert history.read(result.tree, "accounts/2000.json")["name"] == "Payables"
    assert result.conflicts == []  # the first conflict is already in both trees


def test_thousand_records_edited_on_both_sides(
    history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    n = 1000
    files = {f"accounts/{i}.json": account(str(i), f"Account {i}") for i in range(1000, 1000 + n)}
    base = history.commit([], files)
    ours_files = {
        p: {**r, "name": r["name"] + " (ours)", "modified": stamp(T2)} for p, r in files.items()
    }
    theirs_files = {
        p: {**copy.deepcopy(r), "balance": 100, "modified": stamp(T3)} for p, r in files.items()
    }
    ours = history.commit([base], ours_files)
    theirs = history.commit([base], theirs_files)
    start = time.perf_counter()
    result = merge_commits(history.repo, ours, theirs)
    elapsed = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[merge bench] {n} records edited on both sides, in-process: {elapsed:.3f} s")
    assert len(result.changed) == n and result.clean
    assert history.read(result.tree, "accounts/1500.json")["balance"] == 100
    assert elapsed < 20  # ~1.2 s on an idle machine; generous for a loaded CI box


def test_git_merge_base_agrees(history: History, tmp_path: Path) -> None:
    base = history.commit([], {"accounts/1000.json": account("1000", "Cash")})
    a = history.commit([base], {"accounts/1000.json": account("1000", "A", T2)})
    b = history.commit([base], {"accounts/1000.json": account("1000", "B", T2)})
    out = subprocess.run(
        ["git", "merge-base", str(a), str(b)],
        cwd=history.repo.path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert merge_bases(history.repo, a, b) == [pygit2.Oid(hex=out.stdout.strip())]
