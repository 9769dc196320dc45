"""Finding folders and documents by id or by name (shared by the Document Manager modules).

A name that matches more than one live record is refused with the matching
ids, never guessed.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, UsageError
from gitsync.model.records import KINDS, is_valid_id

if TYPE_CHECKING:
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]

FOLDERS = KINDS["folder"].folder
DOCUMENTS = KINDS["document"].folder


class AmbiguousName(UsageError):
    """A name given for a folder or document matches more than one of them."""


def list_folders(snapshot: Snapshot) -> list[Record]:
    """Every live folder, sorted by name then id."""
    found = [record for _, record in snapshot.records(FOLDERS)]
    return sorted(found, key=lambda r: (r["name"], r["id"]))


def list_documents(snapshot: Snapshot) -> list[Record]:
    """Every live document's metadata, sorted by name then id."""
    found = [record for _, record in snapshot.records(DOCUMENTS)]
    return sorted(found, key=lambda r: (r["name"], r["id"]))


def _find(snapshot: Snapshot, folder: str, ref: str, what: str, *, removed: bool = False) -> Record:
    kind = KINDS[what]
    if is_valid_id(ref):
        record = snapshot.read(kind.path_for(ref)) if removed else snapshot.live(kind.path_for(ref))
        if record is not None:
            return record
    wanted = unicodedata.normalize("NFC", ref)
    matches = [record for _, record in snapshot.records(folder) if record["name"] == wanted]
    if not matches and removed:
        matches = [
            record
            for _, record in snapshot.records(folder, tombstones=True)
            if record["name"] == wanted
        ]
    if not matches:
        raise NotFound(f"no {what} with id or name '{ref}'")
    if len(matches) > 1:
        ids = ", ".join(sorted(r["id"] for r in matches))
        raise AmbiguousName(
            f"{len(matches)} {what}s are named '{ref}' ({ids}); give the id instead"
        )
    return matches[0]


def find_folder(snapshot: Snapshot, ref: str) -> Record:
    """The live folder whose id or name is ``ref``."""
    return _find(snapshot, FOLDERS, ref, "folder")


def find_document(snapshot: Snapshot, ref: str, *, removed: bool = False) -> Record:
    """The live document whose id or name is ``ref``.

    With ``removed``, a removed document is found too (live ones first by
    name), so the versions of a removed document stay retrievable.
    """
    return _find(snapshot, DOCUMENTS, ref, "document", removed=removed)
