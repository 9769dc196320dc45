"""``gitsync.repo.revisions``: what the history, the documents and maintenance read through."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.revisions import (
    changed_files,
    commit_tree,
    copy_of,
    path_versions,
    read_at,
    read_blob,
    revisions,
)
from gitsync.rules import commit_checked

PATH = "accounts/1000.json"


def _account(name: str, number: str = "1000") -> bytes:
    return canonical.dumps({"number": number, "name": name, "type": "asset", "balance": 0})


def test_one_paths_versions_newest_first_and_oldest_first(
    client_file: Callable[..., Path],
) -> None:
    cf = ClientFile.open(client_file())
    first = commit_checked(cf, {PATH: _account("Cash")}, "Add cash")
    commit_checked(cf, {"accounts/2000.json": _account("Other", "2000")}, "Unrelated")
    second = commit_checked(cf, {PATH: _account("Cash at bank")}, "Rename cash")
    newest = list(path_versions(cf, PATH))
    assert [v.revision.id for v in newest] == [str(second), str(first)]
    assert newest[0].previous == newest[1].blob and newest[1].previous is None
    assert read_blob(cf, newest[0].blob or "") == _account("Cash at bank")
    oldest = list(path_versions(cf, PATH, oldest_first=True))
    assert [v.revision.id for v in oldest] == [str(first), str(second)]
    assert read_at(cf, str(first), PATH) == _account("Cash")
    assert read_at(cf, str(first), "accounts/9999.json") is None
    assert read_at(cf, "0" * 40, PATH) is None


def test_revisions_and_changed_files(client_file: Callable[..., Path]) -> None:
    cf = ClientFile.open(client_file())
    made = commit_checked(cf, {PATH: _account("Cash")}, "Add cash")
    top = next(revisions(cf))
    assert top.id == str(made) and top.summary == "Add cash"
    assert top.copy == cf.copy_id and top.author == cf.identity().name
    assert [(c.path, c.status, c.old) for c in changed_files(cf, top.id)] == [(PATH, "A", None)]


def test_commit_tree_ends_the_message_with_the_copy_trailer(
    client_file: Callable[..., Path],
) -> None:
    cf = ClientFile.open(client_file())
    head = cf.head_commit()
    assert head is not None
    made = commit_tree(cf, head.tree.id, [head.id], "Nothing changed\n", cf.identity())
    message = cf.repo[made].message
    assert message.startswith("Nothing changed\n\n")
    assert copy_of(message) == cf.copy_id
    assert copy_of("Plain git commit\n") is None
