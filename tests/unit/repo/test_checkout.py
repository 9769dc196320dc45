"""Moving the head over a large change: only the changed paths, git's own stat data, no edit lost.

From ``GIT_CHECKOUT_FROM`` changed paths on, ``advance_head`` asks ``git
diff-files`` which working files differ from their index entries and lets
``git read-tree -u`` write the files; a working file that is neither the old
nor the new version is still never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitsync.model import canonical
from gitsync.model.records import now_stamp
from gitsync.repo import clientfile
from gitsync.repo.clientfile import ClientFile, EditedDuringWork, Identity
from gitsync.sync.engine import sync
from tests.helpers import git

RECORDS = clientfile.GIT_CHECKOUT_FROM + 50


def _accounts(round_no: int) -> dict[str, bytes]:
    # Stamped as a parent takes a change: by the commit's author, at the commit's time.
    stamp = {"at": now_stamp(), "by": "Senior", "copy": "test"}
    return {
        f"accounts/{20000 + i}.json": canonical.dumps(
            {
                "number": str(20000 + i),
                "name": f"Account {i} round {round_no}",
                "type": "asset",
                "map": "100.00",
                "balance": 0,
                "modified": stamp,
            }
        )
        for i in range(RECORDS)
    }


def _commit_at_top(top: Path, round_no: int) -> None:
    client = ClientFile.open(top)
    with client.locked():
        who = Identity("Senior", "senior@example.invalid", client.copy_id)
        client.commit(_accounts(round_no), f"round {round_no}", identity=who)


@pytest.fixture
def top_and_copy(
    client_file: Callable[..., Path], gitsync: Callable[..., object]
) -> tuple[Path, Path]:
    top = client_file("Top")
    _commit_at_top(top, 1)
    copy = top.parent / "a (Sync)"
    assert gitsync("copy", top, copy).code == 0  # type: ignore[attr-defined]
    return top, copy


def test_a_large_receive_hashes_no_working_file(
    top_and_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    top, copy = top_and_copy
    _commit_at_top(top, 2)
    hashed: list[str] = []
    original = ClientFile._working_oid

    def counting(self: ClientFile, path: str) -> object:
        hashed.append(path)
        return original(self, path)

    monkeypatch.setattr(ClientFile, "_working_oid", counting)
    report = sync(ClientFile.open(copy))
    assert report.files_updated == RECORDS
    assert hashed == []
    assert b"round 2" in (copy / "accounts/20000.json").read_bytes()
    assert git(copy, "status", "--porcelain", "--untracked-files=all").stdout == ""


def test_a_large_receive_never_overwrites_an_edit(top_and_copy: tuple[Path, Path]) -> None:
    top, copy = top_and_copy
    _commit_at_top(top, 2)
    client = ClientFile.open(copy)
    git(copy, "fetch", "-q", "parent", "+refs/heads/*:refs/remotes/parent/*")
    theirs = client.oid(git(copy, "rev-parse", "refs/remotes/parent/work").stdout.strip())
    edited = copy / "accounts/20007.json"
    edited.write_bytes(edited.read_bytes().replace(b"round 1", b"edited by hand"))
    before = edited.read_bytes()
    head = client.head_commit()
    with pytest.raises(EditedDuringWork, match=r"accounts/20007\.json"):
        client.advance_head(theirs)
    assert edited.read_bytes() == before
    assert client.head_commit() == head  # nothing moved
    report = sync(ClientFile.open(copy))  # the edit is committed, then merged with the change
    assert report.committed == 1
    assert b"edited by hand" in edited.read_bytes()
    assert b"round 2" in (copy / "accounts/20008.json").read_bytes()
    assert git(copy, "status", "--porcelain", "--untracked-files=all").stdout == ""


def test_an_interrupted_large_move_is_finished_by_the_next_command(
    top_and_copy: tuple[Path, Path],
) -> None:
    top, copy = top_and_copy
    _commit_at_top(top, 2)
    client = ClientFile.open(copy)
    git(copy, "fetch", "-q", "parent", "+refs/heads/*:refs/remotes/parent/*")
    theirs = client.oid(git(copy, "rev-parse", "refs/remotes/parent/work").stdout.strip())
    head = client.head_commit()
    assert head is not None
    # what a kill right after the head moved leaves: the journal, the new head, old files
    journal = Path(client.repo.path) / clientfile.CHECKOUT_JOURNAL
    journal.write_text(f"{head.tree.id} {theirs}\n", encoding="ascii")
    client.move_head(theirs, head.id)
    with ClientFile.open(copy).locked():
        pass
    assert not journal.exists()
    assert b"round 2" in (copy / "accounts/20100.json").read_bytes()
    assert git(copy, "status", "--porcelain", "--untracked-files=all").stdout == ""


def test_a_large_receive_reports_git_progress(
    top_and_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    top, copy = top_and_copy
    _commit_at_top(top, 2)
    monkeypatch.setenv("GIT_PROGRESS_DELAY", "0")  # git's own bar starts after 2 s otherwise
    told: list[tuple[str, int, int]] = []
    client = ClientFile.open(copy)
    client.progress = lambda what, done, total: told.append((what, done, total))
    sync(client)
    assert told, "no progress was reported"
    assert told[-1] == ("Updating working files", RECORDS, RECORDS)
    assert any(done < total for _, done, total in told[:-1])  # git's own counts came through


def test_stat_changes_alone_are_refreshed_by_git_not_hashed(
    top_and_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files touched but not edited (a copied folder, a backup tool): git refreshes its stat data."""
    import os

    top, copy = top_and_copy
    _commit_at_top(top, 2)
    for path in (copy / "accounts").iterdir():
        os.utime(path, (1_600_000_000, 1_600_000_000))
    hashed: list[str] = []
    original = ClientFile._working_oid

    def counting(self: ClientFile, path: str) -> object:
        hashed.append(path)
        return original(self, path)

    monkeypatch.setattr(ClientFile, "_working_oid", counting)
    client = ClientFile.open(copy)
    git(copy, "fetch", "-q", "parent", "+refs/heads/*:refs/remotes/parent/*")
    theirs = client.oid(git(copy, "rev-parse", "refs/remotes/parent/work").stdout.strip())
    with client.locked():
        assert client.advance_head(theirs) >= RECORDS
    assert hashed == []
    assert git(copy, "status", "--porcelain", "--untracked-files=all").stdout == ""
