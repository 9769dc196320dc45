"""``doc lock`` / ``doc unlock``: exclusive use of a document, held at the top-level parent.

Online only. The lock is a change to the tracked lock record, made on top
of the top-level parent's shared line and pushed straight to it: the
parent's pre-receive accepts it only when nobody else holds the document
(see ``gitsync.rules.documentlocks``), so two users locking at once cannot
both win, and a refused lock leaves nothing behind in the copy. The copy
then syncs, and every copy learns of the lock with its next sync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitsync.documents.behaviour import DocumentLocked
from gitsync.errors import GitsyncError, Unreachable
from gitsync.model import canonical
from gitsync.model.provenance import restamp
from gitsync.model.records import now_stamp
from gitsync.rules.commit import commit_checked
from gitsync.rules.documentlocks import LOCKS_PATH, locked_message, locks_of

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile

MAX_ROUNDS = 10


def set_lock(
    client_file: ClientFile, ref: str, *, lock: bool, break_lock: bool = False
) -> dict[str, Any]:
    """Lock (or unlock) a document at the top-level parent; returns the lock (or the one removed)."""
    from gitsync.documents.names import find_document
    from gitsync.repo.content import commit_on
    from gitsync.repo.transport import PushRefused, push
    from gitsync.sync.engine import sync
    from gitsync.sync.route import Route

    state = client_file.reload_state()
    who = client_file.identity()
    if state is None or state.role != "child":
        return _at_top_level(client_file, ref, lock=lock, break_lock=break_lock)
    if state.offline or not state.top_level:
        raise Unreachable(
            "doc lock and doc unlock work online only: the lock is held at the top-level parent "
            "('gitsync online' first)"
        )
    top = Route("top-level", state.top_level)
    for _ in range(MAX_ROUNDS):
        report = sync(client_file)
        if report.route != "top-level":
            raise Unreachable(
                f"{state.top_level}: the top-level parent cannot be reached; a lock is held there"
            )
        tip = client_file.ref(top.tracking_ref)
        snapshot = client_file.snapshot_at(top.tracking_ref)
        assert tip is not None and snapshot is not None
        record = find_document(snapshot, ref)
        locks = dict(locks_of(snapshot))
        held = locks.get(record["id"])
        result = _decide(record, held, who.name, lock=lock, break_lock=break_lock)
        if result is None:
            return held or {}
        if lock:
            result["copy"] = who.copy_id
            locks[record["id"]] = result
        else:
            locks.pop(record["id"], None)
        previous = snapshot.read(LOCKS_PATH)
        current = dict(previous or {})
        current.update(locks=locks, modified=who.modified())
        # Written on the parent's tip without ClientFile.commit: derive provenance as it does.
        current = restamp(previous, current, current["modified"])
        verb = "Lock" if lock else ("Break the lock on" if break_lock else "Unlock")
        commit = commit_on(
            client_file.repo,
            tip,
            {LOCKS_PATH: canonical.dumps(current)},
            f"{verb} document {record['name']}",
            who.signature(),
            who.copy_id,
        )
        try:
            outcome = push(client_file.root, top.address, str(commit))
        except PushRefused as err:
            raise DocumentLocked(str(err).removeprefix("the parent refused the change: ")) from None
        if outcome.accepted:
            sync(client_file)  # take the lock change in here
            return result
    raise GitsyncError("the top-level parent kept moving; run the command again")


def _decide(
    record: dict[str, Any], held: dict[str, Any] | None, user: str, *, lock: bool, break_lock: bool
) -> dict[str, Any] | None:
    """The new lock (or the lock to remove), None when nothing changes; raises when refused."""
    if lock:
        if held and held.get("user") != user:
            raise DocumentLocked(locked_message(record["name"], held))
        if held:
            return None
        return {"user": user, "copy": "", "at": now_stamp()}
    if not held:
        return None
    if held.get("user") != user and not break_lock:
        raise DocumentLocked(
            locked_message(record["name"], held) + " (an admin can: doc unlock --break)"
        )
    return held


def _at_top_level(
    client_file: ClientFile, ref: str, *, lock: bool, break_lock: bool
) -> dict[str, Any]:
    """At the top-level parent itself the lock is a local change."""
    from gitsync.documents.names import find_document
    from gitsync.rules.syncstate import require_right

    with client_file.locked():
        snapshot = client_file.snapshot()
        who = client_file.identity()
        record = find_document(snapshot, ref)
        locks = dict(locks_of(snapshot))
        held = locks.get(record["id"])
        result = _decide(record, held, who.name, lock=lock, break_lock=break_lock)
        if result is None:
            return held or {}
        if not lock and held and held.get("user") != who.name:
            require_right(snapshot, who.name, "lockdown", LOCKS_PATH)
        if lock:
            result["copy"] = who.copy_id
            locks[record["id"]] = result
        else:
            locks.pop(record["id"], None)
        current = dict(snapshot.read(LOCKS_PATH) or {})
        current.update(locks=locks, modified=who.modified())
        verb = "Lock" if lock else "Unlock"
        commit_checked(
            client_file, {LOCKS_PATH: canonical.dumps(current)}, f"{verb} document {record['name']}"
        )
    return result
