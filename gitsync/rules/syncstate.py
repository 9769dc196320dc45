"""The sync-state rules: lockdown, abandoned copies, restrictions, protection rights.

The tree rule ``lockdown`` joins the registry and runs wherever the record
rules run. The others judge one change at a time (one commit, by one
author), so they run on commits rather than on a pushed range:

- ``check_restricted_ids``: with more than one child, code IDs and the mask
  do not change;
- ``check_author_rights``: the protection rights of the user making a change
  (``commit_checked`` in the commands; pre-receive for each pushed commit,
  against its author);
- ``check_pushed_commits``: pre-receive only; nothing is accepted from an
  abandoned copy (the ``Gitsync-Copy`` trailer names the copy that made each
  commit), and an abandoned copy's registry record can never be made active
  again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gitsync.errors import RuleViolation
from gitsync.model.records import KINDS, RIGHTS, is_tombstone, kind_of
from gitsync.model.view import RecordView
from gitsync.rules.documentlocks import DOCUMENTS, LOCKS_PATH, document_of, locked_message, locks_of
from gitsync.rules.engine import RuleContext, rule

LOCKDOWN_PATH = KINDS["lockdown"].path_for("")
MASK_PATH = KINDS["mask"].path_for("")
COPIES = KINDS["copy"].folder
CHECKOUTS = KINDS["checkout"].folder
RESTRICTED_KINDS = ("journal", "taxcode", "unit")
COPY_TRAILER = "Gitsync-Copy"
#: The registry's parent id of a copy whose parent is a gitsync server (the server has no copy id).
SERVER_PARENT = "server"

ROLE_RIGHTS: dict[str, tuple[str, ...]] = {
    "partner": RIGHTS,
    "manager": RIGHTS,
    "senior": ("open-directly", "modify-entries", "modify-accounts"),
    "staff": ("modify-entries",),
    "reviewer": (),
}
# Which right a change to each kind of record needs once protection is on.
KIND_RIGHT = {
    "entry": "modify-entries",
    "account": "modify-accounts",
    "user": "manage-protection",
    "lockdown": "lockdown",
}


def is_locked_down(snapshot: RecordView | None) -> bool:
    if snapshot is None:
        return False
    record = snapshot.read(LOCKDOWN_PATH)
    return bool(record and record.get("locked") is True and not is_tombstone(record))


def signed_out(snapshot: RecordView) -> list[dict[str, Any]]:
    """The live sign-outs and check-outs of a file."""
    return [r for _, r in snapshot.records(CHECKOUTS) if not is_tombstone(r)]


def copy_abandoned(snapshot: RecordView | None, copy_id: str) -> bool:
    """True when the registry in ``snapshot`` marks the copy abandoned."""
    record = snapshot.read(KINDS["copy"].path_for(copy_id)) if snapshot is not None else None
    return record is not None and record.get("state") == "abandoned"


def active_copies(snapshot: RecordView, *, exclude: str | None = None) -> list[dict[str, Any]]:
    """The registry records of copies still active (the top-level parent's own record excluded)."""
    found = []
    for _, record in snapshot.records(COPIES):
        if (
            record.get("state") == "active"
            and record.get("parent") is not None
            and record["id"] != exclude
        ):
            found.append(record)
    return found


@rule("lockdown")
def lockdown(ctx: RuleContext) -> Iterator[RuleViolation]:
    """Nothing changes after the top-level parent was locked down.

    The hierarchy's own bookkeeping stays open, so that copies can still
    leave (delete-copy), be abandoned, and the hierarchy be cleared
    (clear-sync) before the file is archived: the registry records are the
    one thing a locked-down file still accepts.
    """
    if ctx.whole or not is_locked_down(ctx.before):
        return
    for path in sorted(ctx.changed_paths()):
        if path.startswith(f"{COPIES}/"):
            continue
        yield RuleViolation(
            path, "", "lockdown", "the client file is locked down; no change is accepted"
        )
        return


def check_restricted_ids(
    registry: RecordView | None, before: RecordView, after: RecordView, changed: Iterable[str]
) -> None:
    """With more than one child, journal IDs, tax code IDs, units and the mask do not change.

    Adding a code or marking one deleted stays allowed (the merge settles a
    deleted code that another copy still uses); what is refused is changing
    an identity: one change that retires a code and brings in another of the
    same kind (a rename), and any change of the mask. It judges one change
    (one commit) at a time: two separate changes, or two copies' changes
    meeting in a merge, are not a rename. ``registry`` is where the copies
    are counted (the receiving parent's state in pre-receive).
    """
    restricted = [p for p in changed if (k := kind_of(p)) and k.name in (*RESTRICTED_KINDS, "mask")]
    if not restricted or len(active_copies(registry or before)) <= 1:
        return
    if MASK_PATH in restricted:
        old, new = before.read(MASK_PATH), after.read(MASK_PATH)
        if old is not None and new is not None and old.get("mask") != new.get("mask"):
            raise RuleViolation(
                MASK_PATH,
                "mask",
                "restricted-ids",
                "the mask cannot change while the file has more than one sync copy",
            )
    for kind in RESTRICTED_KINDS:
        paths = [p for p in restricted if kind_of(p) is KINDS[kind]]
        retired = [p for p in paths if before.live(p) is not None and after.live(p) is None]
        added = [p for p in paths if before.read(p) is None and after.live(p) is not None]
        if retired and added:
            raise RuleViolation(
                added[0],
                KINDS[kind].key,
                "restricted-ids",
                f"{kind} IDs cannot be renamed while the file has more than one sync copy "
                f"(replaces {retired[0]})",
            )


def protection_on(snapshot: RecordView | None) -> bool:
    return snapshot is not None and any(True for _ in snapshot.records(KINDS["user"].folder))


def user_rights(snapshot: RecordView, user: str) -> tuple[str, ...] | None:
    """The rights of a protected user, or None when the user is not in the protection list."""
    record = snapshot.live(KINDS["user"].path_for(user)) if _valid_user(user) else None
    if record is None:
        return None
    return tuple(str(r) for r in record.get("rights", ()))


def _valid_user(user: str) -> bool:
    from gitsync.model.records import is_valid_id

    return is_valid_id(user)


def require_right(snapshot: RecordView | None, user: str, right: str, what: str) -> None:
    """Raise unless protection is off, or ``user`` holds ``right``."""
    if snapshot is None or not protection_on(snapshot):
        return
    rights = user_rights(snapshot, user)
    if rights is None:
        raise RuleViolation(
            what, "", "protection", f"user '{user}' is not in this file's protection list"
        )
    if right not in rights:
        raise RuleViolation(what, "", "protection", f"user '{user}' lacks the right '{right}'")


def check_author_rights(before: RecordView | None, author: str, changed: Iterable[str]) -> None:
    """The protection rights a change needs, checked against the protection list before it."""
    if before is None or not protection_on(before):
        return
    for path in sorted(changed):
        kind = kind_of(path)
        right = KIND_RIGHT.get(kind.name) if kind else None
        if right:
            require_right(before, author, right, path)


def copy_of_commit(message: str) -> str | None:
    """The copy id in a commit message's ``Gitsync-Copy:`` trailer."""
    for line in reversed(message.splitlines()):
        if line.startswith(f"{COPY_TRAILER}:"):
            return line.split(":", 1)[1].strip() or None
    return None


@dataclass(frozen=True)
class PushedCommit:
    """One commit a push brings, as pre-receive sees it (from pygit2 or from git plumbing).

    ``states`` gives (the first parent's records, the commit's records, the
    paths that differ); it is None for a merge or a root commit, whose
    changes were checked where they were made. ``time`` is the commit's own
    time (its committer time, seconds since the epoch; 0 when unknown).
    """

    id: str
    parents: tuple[str, ...]
    message: str
    author: str
    states: Callable[[], tuple[RecordView, RecordView, frozenset[str]]] | None
    time: int = 0
    #: For a merge of two lines: (first parent's records, second parent's, the merge's,
    #: the paths where the merge differs from its first parent); None otherwise.
    sides: Callable[[], tuple[RecordView, RecordView, RecordView, frozenset[str]]] | None = None


def _pushed_by_the_sender(new_commits: list[PushedCommit]) -> list[PushedCommit]:
    """The new commits on the first-parent line of the pushed tip: the sender's own work.

    Commits reached only through a merge's other parents were received by
    the sender from elsewhere (a peer, a copy below it) and forwarded.
    """
    if not new_commits:
        return []
    new = {c.id: c for c in new_commits}
    line = []
    commit: PushedCommit | None = new_commits[0]  # topological order: the tip first
    while commit is not None and commit.id in new:
        line.append(commit)
        commit = new.get(commit.parents[0]) if commit.parents else None
    return line


def check_pushed_commits(
    before: RecordView | None,
    new_commits: Iterable[PushedCommit],
    locks: RecordView | None = None,
) -> None:
    """Pre-receive: refuse what an abandoned copy sends, and changes by users without rights.

    An abandoned copy is refused when it pushes (its commits on the pushed
    line); what it had sent to a peer or a parent before it was abandoned
    still travels on with that copy's own changes, so nothing sent before
    an abandon is lost and no other copy is blocked by it. ``locks`` is where
    the document locks are read (the receiving shared line; default ``before``).
    """
    new_commits = list(new_commits)
    abandoned: set[str] = set()
    if before is not None:
        abandoned = {r["id"] for _, r in before.records(COPIES) if r.get("state") == "abandoned"}
    for commit in _pushed_by_the_sender(new_commits):
        copy_id = copy_of_commit(commit.message)
        if copy_id and copy_id in abandoned:
            raise RuleViolation(
                f"commit {commit.id[:12]}",
                "",
                "abandoned-copy",
                f"copy {copy_id} was abandoned; nothing it sends is accepted, and it cannot rejoin",
            )
    for commit in new_commits:
        if commit.states is None:
            continue  # a merge brings changes that were checked where they were made
        parent_state, state, changed = commit.states()
        for path in changed:
            if (
                path.startswith(f"{COPIES}/")
                and path.rsplit("/", 1)[-1].removesuffix(".json") in abandoned
            ):
                data = state.read_bytes(path)
                before_data = parent_state.read_bytes(path) if parent_state is not None else None
                # A change made while the copy was still active (say, its peer link) may
                # travel on and merges under the abandon; what a commit may never do is
                # bring an abandoned record back to life.
                was_active = before_data is not None and b'"state": "abandoned"' not in before_data
                if data is not None and b'"state": "abandoned"' not in data and not was_active:
                    raise RuleViolation(
                        path, "state", "abandoned-copy", "an abandoned copy can never rejoin"
                    )
        check_author_rights(before, commit.author, changed)
        check_document_locks(locks or before, commit.author, changed, parent_state, state)
        check_restricted_ids(before, parent_state, state, changed)


def check_document_locks(
    before: Any, author: str, changed: Iterable[str], parent_state: Any, state: Any
) -> None:
    """Raise RuleViolation when a commit by ``author`` touches a document another user holds.

    ``before`` is what the receiving parent knows (its locks count), and
    ``parent_state`` / ``state`` the commit's first parent and the commit.
    """
    held = locks_of(before)
    if not held:
        return
    changed = set(changed)
    for path in sorted(changed):
        doc_id = document_of(path)
        lock = held.get(doc_id) if doc_id else None
        if lock and lock.get("user") != author:
            record = state.read(f"{DOCUMENTS}/{doc_id}.json") or {}
            raise RuleViolation(
                path, "", "document-locked", locked_message(str(record.get("name", doc_id)), lock)
            )
    if LOCKS_PATH not in changed:
        return
    old, new = locks_of(parent_state), locks_of(state)
    for doc_id, lock in held.items():
        if lock.get("user") == author or old.get(doc_id) == new.get(doc_id):
            continue
        record = state.read(f"{DOCUMENTS}/{doc_id}.json") or {}
        name = record.get("name", doc_id)
        if doc_id not in new:  # breaking another user's lock
            try:
                require_right(before, author, "lockdown", LOCKS_PATH)
            except RuleViolation:
                raise RuleViolation(
                    LOCKS_PATH,
                    f"locks.{doc_id}",
                    "document-locked",
                    locked_message(name, lock) + f"; '{author}' may not break it",
                ) from None
            continue
        raise RuleViolation(
            LOCKS_PATH, f"locks.{doc_id}", "document-locked", locked_message(name, lock)
        )
