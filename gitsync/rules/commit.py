"""A commit checked by the rules: the one entry point the commands write through.

``ClientFile.commit`` (in ``gitsync.repo``, below the rules) commits what it
is given. The rules are handed to it from here as its ``checker``, so the
check still sees the changes with their provenance (derived first, inside
the commit) and still runs before any object is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from gitsync.model.view import RecordView
from gitsync.rules.engine import check_changes
from gitsync.rules.syncstate import check_author_rights, check_restricted_ids

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile, Identity, Oid


def check_commit(
    before: RecordView, after: RecordView, changes: Mapping[str, bytes], author: str
) -> None:
    """Raise for the first rule one commit by ``author`` breaks (a ``CommitCheck``).

    The record rules on the changed records, the author's protection rights,
    and the restricted identities (journal and tax code IDs, units, the mask).
    """
    check_changes(after, changes.keys(), before=before)
    check_author_rights(before, author, changes.keys())
    check_restricted_ids(None, before, after, changes.keys())


def commit_checked(
    client_file: ClientFile,
    changes: Mapping[str, bytes],
    message: str,
    *,
    identity: Identity | None = None,
    removals: Iterable[str] = (),
) -> Oid:
    """Commit ``changes`` as one change if the rules allow it; nothing is written if not.

    ``removals``: files (never records) taken out of the tree in the same change.
    """
    return client_file.commit(
        changes, message, identity=identity, checker=check_commit, removals=removals
    )
