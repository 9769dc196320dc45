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

from typing import Any

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
