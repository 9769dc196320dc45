"""The Document Manager library on real client files: add, move, update, versions, remove."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from gitsync.documents import (
    AmbiguousName,
    DuplicateName,
    VersionNotFound,
    add_document,
    add_folder,
    document_versions,
    find_document,
    kind_for,
    list_documents,
    move_document,
    read_version,
    remove_document,
    update_document,
)
from gitsync.errors import NotFound, RuleViolation, UsageError
from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile, build_tree


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Lead sheet.XLSX", "excel"),
        ("memo.docx", "word"),
        ("confirmation.pdf", "pdf"),
        ("notes.txt", "text"),
        ("README", "other"),
        ("archive.tar.gz", "other"),
    ],
)
def test_kind_for(name: str, kind: str) -> None:
    assert kind_for(name) == kind


@pytest.fixture
def cf(client_file: Callable[..., Path]) -> ClientFile:
    return ClientFile.open(client_file())


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def test_add_move_update_remove(cf: ClientFile, tmp_path: Path) -> None:
    planning = add_folder(cf, "Planning")
    sub = add_folder(cf, "Risk", parent="Planning")
    assert sub["parent"] == planning["id"]
    with pytest.raises(DuplicateName):
        add_folder(cf, "Risk", parent=planning["id"])

    source = _file(tmp_path, "memo.txt", b"first draft\n")
    doc = add_document(cf, source, folder="Planning")
    assert doc["kind"] == "text" and doc["sync_mode"] == "sync" and doc["size"] == 12
    assert doc["sha256"] == hashlib.sha256(b"first draft\n").hexdigest()
    assert (cf.root / "documents" / doc["id"] / "memo.txt").read_bytes() == b"first draft\n"
    assert doc["modified"]["by"] == "auditor"
    with pytest.raises(DuplicateName):
        add_document(cf, source, folder=planning["id"])

    moved = move_document(cf, "memo.txt", "Risk")
    assert moved["folder"] == sub["id"]

    update_document(cf, doc["id"], _file(tmp_path, "v2.txt", b"second draft\n"))
    with pytest.raises(UsageError, match="same as the current version"):
        update_document(cf, doc["id"], _file(tmp_path, "v3.txt", b"second draft\n"))
    versions = document_versions(cf, "memo.txt")
    assert [(v.number, v.size) for v in versions] == [(1, 12), (2, 13)]
    first, data = read_version(cf, "memo.txt", 1)
    assert data == b"first draft\n" and first.sha256 == doc["sha256"]
    with pytest.raises(VersionNotFound):
        read_version(cf, "memo.txt", 3)

    remove_document(cf, "memo.txt")
    assert list_documents(cf.snapshot()) == []
    stored = cf.snapshot().read(f"documents/{doc['id']}.json")
    assert stored is not None and stored["deleted"] is True
    # The content stays in the tree: git never sees a delete.
    assert cf.snapshot().read_bytes(f"documents/{doc['id']}/memo.txt") == b"second draft\n"
    with pytest.raises(NotFound):
        find_document(cf.snapshot(), "memo.txt")
    with pytest.raises(NotFound):
        update_document(cf, doc["id"], _file(tmp_path, "v4.txt", b"after removal\n"))
    # A removed document's versions stay listed and retrievable, by id or by name.
    assert len(document_versions(cf, doc["id"])) == 2
    assert read_version(cf, "memo.txt", 1)[1] == b"first draft\n"


def test_bad_input_writes_nothing(cf: ClientFile, tmp_path: Path) -> None:
    head = cf.head_commit()
    assert head is not None
    source = _file(tmp_path, "x.txt", b"x")
    with pytest.raises(RuleViolation, match="underscore"):
        add_document(cf, source, name="_hidden.txt")
    with pytest.raises(RuleViolation, match="at most 100"):
        add_document(cf, source, name="a" * 101 + ".txt")
    with pytest.raises(UsageError, match="not a document kind"):
        add_document(cf, source, kind="spreadsheet")
    with pytest.raises(NotFound):
        add_document(cf, source, folder="No such folder")
    with pytest.raises(NotFound):
        add_document(cf, tmp_path / "missing.pdf")
    with pytest.raises(RuleViolation):
        add_folder(cf, "   ")
    current = cf.head_commit()
    assert current is not None and current.id == head.id


def test_same_name_in_two_folders_is_ambiguous(cf: ClientFile, tmp_path: Path) -> None:
    add_folder(cf, "A")
    add_folder(cf, "B")
    source = _file(tmp_path, "tb.csv", b"account,name\n")
    one = add_document(cf, source, folder="A")
    add_document(cf, source, folder="B")
    with pytest.raises(AmbiguousName, match="give the id"):
        find_document(cf.snapshot(), "tb.csv")
    assert find_document(cf.snapshot(), one["id"])["folder"] == one["folder"]


def test_versions_keep_the_side_a_merge_did_not_take(cf: ClientFile, tmp_path: Path) -> None:
    doc = add_document(cf, _file(tmp_path, "tb.csv", b"v1\n"))
    base = cf.head_commit()
    assert base is not None
    update_document(cf, doc["id"], _file(tmp_path, "ours.csv", b"ours\n"))
    ours = cf.head_commit()
    assert ours is not None
    repo = cf.repo
    content_path = f"documents/{doc['id']}/tb.csv"
    theirs_blob = repo.create_blob(b"theirs, made in another copy\n")
    meta = dict(doc, sha256=hashlib.sha256(b"theirs, made in another copy\n").hexdigest(), size=29)
    theirs_tree = build_tree(
        repo,
        base.tree,
        {
            content_path: theirs_blob,
            f"documents/{doc['id']}.json": repo.create_blob(canonical.dumps(meta)),
        },
    )
    sig = pygit2.Signature("senior", "senior@example.com")
    theirs = repo.create_commit(
        None, sig, sig, "Update tb.csv\n\nGitsync-Copy: c2\n", theirs_tree, [base.id]
    )
    merge = repo.create_commit(None, sig, sig, "Merge c2\n", ours.tree.id, [ours.id, theirs])
    cf.move_head(merge, ours.id)

    versions = document_versions(cf, doc["id"])
    assert sorted(v.size for v in versions) == [3, 5, 29]
    assert [v.number for v in versions] == [1, 2, 3]
    lost = next(v for v in versions if v.size == 29)
    assert lost.author == "senior" and lost.copy == "c2"
    _, data = read_version(cf, doc["id"], lost.number)
    assert data == b"theirs, made in another copy\n"
