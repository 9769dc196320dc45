"""Sync stamps the copy's own unsent commits whose stamps are missing or untrue.

git runs no pre-commit hook for ``commit --no-verify``, ``revert``,
``cherry-pick`` or a rebase, nor in a clone without gitsync's hooks: such a
commit changes records but keeps their previous writer's stamps, and a
parent refuses it (``gitsync.rules.stamps``). Before anything is sent, sync
gives each such commit stamps of its own: the copy's user, the copy, and the
commit's own time (its committer time), on every field it changed.

Only commits that never left the copy are rewritten: those on no line a
parent holds (``refs/remotes/*``) and not on the shared line (what copies
below sent). Their descendants on the line are copied onto the new commits
(a merge is merged again), the working line moves to the new tip and the
working files follow. The old commits stay in the reflog.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gitsync.model import canonical
from gitsync.model.provenance import content, restamp
from gitsync.model.records import kind_of
from gitsync.repo.clientfile import SHARED_BRANCH
from gitsync.repo.lineage import (
    LineCommit,
    commits_not_in,
    remote_tips,
    rewrite_commit,
    rewrite_merge,
    tree_of_commit,
)
from gitsync.rules.stamps import all_stamps, stamp_of_time, stamp_seconds, unstamped_changes
from gitsync.rules.syncstate import PushedCommit

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile, Identity


def pushed(client_file: ClientFile, commit: LineCommit) -> PushedCommit:
    """A commit as the push check sees it."""
    return PushedCommit(
        commit.id,
        commit.parents,
        commit.message,
        commit.author,
        commit.states(client_file),
        commit.time,
        commit.sides(client_file),
    )


def stamp_unsent(client_file: ClientFile) -> int:
    """Stamp the unsent commits that need it (see the module docstring); how many were stamped."""
    head = client_file.head_commit()
    if head is None:
        return 0
    line = commits_not_in(client_file, str(head.id), [*remote_tips(client_file), SHARED_BRANCH])
    if not line:
        return 0
    who = client_file.identity()
    moved: dict[str, str] = {}
    stamped = 0
    for commit in line:
        parents = [moved.get(p, p) for p in commit.parents]
        if not parents:
            continue  # the file's first commit: no parent holds a line to judge it by
        needs = len(parents) == 1 and any(
            True for _ in unstamped_changes(pushed(client_file, commit))
        )
        if not needs and parents == list(commit.parents):
            continue
        if len(parents) != 1:
            moved[commit.id] = _merge_again(client_file, commit, parents)
            continue
        changes = _restamped(client_file, commit, parents[0], who if needs else None)
        new = rewrite_commit(client_file, commit.id, parents, changes, who if needs else None)
        moved[commit.id] = str(new)
        stamped += int(needs)
    if str(head.id) in moved:
        client_file.advance_head(client_file.oid(moved[str(head.id)]))
    return stamped


def _restamped(
    client_file: ClientFile, commit: LineCommit, parent: str, who: Identity | None
) -> dict[str, bytes | None]:
    """The commit's changes on ``parent``, records stamped by ``who`` (None: keep their own stamps)."""
    states = commit.states(client_file)
    assert states is not None
    _, after, changed = states()
    before = tree_of_commit(client_file, parent)
    stamp = (
        {"at": stamp_of_time(commit.time), "by": who.name, "copy": who.copy_id}
        if who is not None
        else None
    )
    changes: dict[str, bytes | None] = {}
    for path in sorted(changed):
        data = after.read_bytes(path)
        new = after.read(path) if data is not None and kind_of(path) else None
        if not isinstance(new, dict):
            changes[path] = data
            continue
        old = before.read(path)
        if old is not None and content(old) == content(new):
            changes[path] = canonical.dumps(old)  # only stamps moved: that is no one's change
            continue
        own: Any = _after(stamp, old) if stamp is not None else new.get("modified")
        changes[path] = canonical.dumps(restamp(old, {**new, "modified": own}, own))
    return changes


def _after(stamp: dict[str, str], old: dict[str, Any] | None) -> dict[str, str]:
    """``stamp``, a microsecond after the record's latest stamp when that falls in the same second.

    A commit's time has whole seconds, and two commits a second apart must
    not share a stamp: the later one would look like the earlier writer's.
    """
    mine = stamp_seconds(stamp)
    latest = max((stamp_seconds(s) or 0.0 for s in all_stamps(old)), default=0.0)
    if mine is None or not mine <= latest < mine + 1:
        return stamp
    moved = datetime.fromtimestamp(latest, UTC) + timedelta(microseconds=1)
    return {**stamp, "at": moved.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def _merge_again(client_file: ClientFile, commit: LineCommit, parents: list[str]) -> str:
    """A merge whose sides were stamped anew, merged again from them."""
    from gitsync.merge.tree import merge_commits

    outcome = merge_commits(
        client_file.repo, client_file.oid(parents[0]), client_file.oid(parents[1])
    )
    return str(rewrite_merge(client_file, commit.id, parents, outcome.tree))
