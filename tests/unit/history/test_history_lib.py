"""The audit trail library: keyed patches, record references, log and history over real commits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonpatch
import pygit2
import pytest

from gitsync.errors import NotFound, UsageError
from gitsync.history import keyed, log, record_history, record_patch, resolve_record
from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile, build_tree
from gitsync.rules import commit_checked


def _entry(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "e1",
        "journal": "AJE",
        "number": 1,
        "date": "2026-12-31",
        "description": "Accrue audit fee",
        "created_at": "2026-12-31T10:00:00.000000Z",
        "lines": lines,
    }


def test_keyed_turns_id_lists_into_maps_and_leaves_other_lists() -> None:
    value = {"lines": [{"id": "a", "amount": 1}, {"id": "b", "amount": -1}], "prior": [1, 2]}
    assert keyed(value) == {
        "lines": {"a": {"id": "a", "amount": 1}, "b": {"id": "b", "amount": -1}},
        "prior": [1, 2],
    }
    duplicate_ids = [{"id": "a"}, {"id": "a"}]
    assert keyed(duplicate_ids) == duplicate_ids


def test_patch_names_the_line_by_id_not_by_position() -> None:
    old = _entry(
        [
            {"id": "L1", "account": "1000", "amount": 500},
            {"id": "L2", "account": "2000", "amount": -500},
        ]
    )
    new = _entry(
        [
            {"id": "L0", "account": "3000", "amount": 0},  # inserted first: shifts every position
            {"id": "L1", "account": "1000", "amount": 700},
            {"id": "L2", "account": "2000", "amount": -700},
        ]
    )
    patch = record_patch(old, new)
    paths = sorted(op["path"] for op in patch)
    assert paths == ["/lines/L0", "/lines/L1/amount", "/lines/L2/amount"]
    assert jsonpatch.apply_patch(keyed(old), patch) == keyed(new)


def test_patch_of_a_new_record_adds_every_field() -> None:
    patch = record_patch(None, {"code": "GST", "description": "Goods and services tax"})
    assert {op["op"] for op in patch} == {"add"}
    assert jsonpatch.apply_patch({}, patch) == {
        "code": "GST",
        "description": "Goods and services tax",
    }


@pytest.mark.parametrize(
    ("ref", "path"),
    [
        ("accounts/1000.json", "accounts/1000.json"),
        ("account:1000", "accounts/1000.json"),
        ("entry:abc123", "entries/abc123.json"),
        ("taxcode:GST", "taxcodes/GST.json"),
        ("engagement", "engagement.json"),
        ("mask", "mapping/mask.json"),
    ],
)
def test_resolve_record(ref: str, path: str) -> None:
    assert resolve_record(ref) == path


@pytest.mark.parametrize(
    "ref", ["", "nothing", "account:", "planet:1", "accounts/1000.txt", "account:a/b"]
)
def test_resolve_record_refuses_what_is_not_a_record(ref: str) -> None:
    with pytest.raises(UsageError, match="is not a record"):
        resolve_record(ref)


def _commit_records(
    cf: ClientFile, records: dict[str, dict[str, Any]], message: str, *, check: bool = True
) -> pygit2.Oid:
    changes = {p: canonical.dumps(r) for p, r in records.items()}
    return commit_checked(cf, changes, message) if check else cf.commit(changes, message)


def _account(number: str, balance: int) -> dict[str, Any]:
    return {"number": number, "name": f"Account {number}", "type": "asset", "balance": balance}


def test_log_and_history_over_commits_and_a_merge(client_file: Callable[..., Path]) -> None:
    cf = ClientFile.open(client_file())
    _commit_records(cf, {"accounts/1000.json": _account("1000", 0)}, "Add cash")
    base = cf.head_commit()
    assert base is not None
    # One account alone (the books rule would want a second): the history is the subject here.
    _commit_records(cf, {"accounts/1000.json": _account("1000", 100)}, "Cash 100", check=False)
    # A side branch (another copy's work) made directly with pygit2, then merged.
    repo = cf.repo
    side_blob = repo.create_blob(canonical.dumps(_account("1100", 5)))
    side_tree = build_tree(repo, base.tree, {"accounts/1100.json": side_blob})
    sig = pygit2.Signature("senior", "senior@example.com")
    side = repo.create_commit(
        None, sig, sig, "Add receivables\n\nGitsync-Copy: side1\n", side_tree, [base.id]
    )
    ours = cf.head_commit()
    assert ours is not None
    merged_tree = build_tree(repo, ours.tree, {"accounts/1100.json": side_blob})
    merge = repo.create_commit(
        None, sig, sig, "Merge side1\n\nGitsync-Copy: top\n", merged_tree, [ours.id, side]
    )
    cf.move_head(merge, ours.id)

    entries = log(cf)
    assert entries[0].commit == str(merge)
    assert entries[0].is_merge and entries[0].copy == "top"
    assert [c.path for c in entries[0].changes] == [
        "accounts/1100.json"
    ]  # against the first parent
    assert entries[0].changes[0].status == "added"
    assert {e.summary for e in entries} >= {"Add cash", "Cash 100", "Add receivables"}
    assert len(log(cf, limit=2)) == 2

    versions = record_history(cf, "account:1000")
    assert [v.summary for v in versions] == ["Cash 100", "Add cash"]
    assert versions[0].patch == [{"op": "replace", "path": "/balance", "value": 100}]
    assert versions[1].status == "added"
    side_versions = record_history(cf, "accounts/1100.json")
    assert [(v.summary, v.author, v.copy) for v in side_versions] == [
        ("Add receivables", "senior", "side1")
    ]

    with pytest.raises(NotFound):
        record_history(cf, "account:9999")


def test_log_caps_patches_for_bulk_commits(client_file: Callable[..., Path]) -> None:
    cf = ClientFile.open(client_file())
    _commit_records(
        cf, {f"accounts/{n}.json": _account(str(n), 0) for n in range(1000, 1010)}, "Import"
    )
    capped = log(cf, limit=1, max_patches=5)[0]
    assert capped.patches_omitted and len(capped.changes) == 10
    assert all(c.patch is None for c in capped.changes)
    full = log(cf, limit=1, max_patches=0)[0]
    assert not full.patches_omitted and all(c.patch for c in full.changes)
    with pytest.raises(UsageError):
        log(cf, limit=0)
