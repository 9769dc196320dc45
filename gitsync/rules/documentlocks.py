"""Exclusive use of a document: ``doc lock`` held at the top-level parent (issue 12).

The locks are one tracked record, ``settings/document-locks.json``:
``{"locks": {<document id>: {"user", "copy", "at"}}}``. While a document is
locked, the receiving parent refuses a pushed commit by another user that
changes the document (its record or its content) or takes over the lock,
with one line naming the holder. Removing another user's lock (breaking it)
is accepted from a user holding the ``lockdown`` right when the file is
protected, and from anyone when it is not (the command asks for ``--break``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitsync.errors import RuleViolation
from gitsync.model.records import KINDS

LOCKS_PATH = KINDS["document-locks"].path_for("")
DOCUMENTS = KINDS["document"].folder


def locks_of(view: Any) -> dict[str, dict[str, Any]]:
    """Document id -> its lock ({user, copy, at}) in a snapshot (empty when none)."""
    record = view.read(LOCKS_PATH) if view is not None else None
    locks = (record or {}).get("locks") or {}
    return locks if isinstance(locks, dict) else {}


def locked_message(name: str, held: dict[str, Any]) -> str:
    since = str(held.get("at", ""))[:16].replace("T", " ")
    return (
        f"document '{name}' is locked by {held.get('user', '?')} (copy {held.get('copy', '?')}, "
        f"since {since} UTC); ask them to unlock it, or an admin to break the lock"
    )


def document_of(path: str) -> str | None:
    """The document id a changed path belongs to (its record or its content), else None."""
    parts = path.split("/")
    if parts[0] != DOCUMENTS or len(parts) not in (2, 3):
        return None
    return parts[1].removesuffix(".json") if len(parts) == 2 else parts[1]


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
    from gitsync.rules.syncstate import require_right

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
