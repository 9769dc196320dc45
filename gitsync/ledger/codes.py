"""The engagement's code lists: tax codes, journals, units, and the map number mask.

Once a parent has more than one child the rules refuse changes to these lists
(DESIGN section 5); these functions only shape the records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitsync.errors import NotFound, UsageError
from gitsync.ledger.changes import Changes, commit_records, tombstone
from gitsync.model.records import KINDS, is_valid_id

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]

_WORDS = {"taxcode": "tax code", "journal": "journal", "unit": "units list"}


class CodeExists(UsageError):
    """A tax code, journal or units list with that id is already in the file."""


def _check_ident(kind: str, ident: str) -> None:
    if not is_valid_id(ident):
        raise UsageError(
            f"{_WORDS[kind]} id '{ident}' is not valid (letters, digits, '.', '_', '-'; 64 at most)"
        )


def _add(client_file: ClientFile, kind: str, record: Record) -> Record:
    spec = KINDS[kind]
    ident = record[spec.key]
    _check_ident(kind, ident)

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        path = spec.path_for(ident)
        if snapshot.live(path) is not None:
            raise CodeExists(f"{_WORDS[kind]} {ident} is already in the file")
        return {path: record}, f"Add {_WORDS[kind]} {ident}"

    written, _ = commit_records(client_file, build)
    return next(iter(written.values()))


def _remove(client_file: ClientFile, kind: str, ident: str) -> Record:
    spec = KINDS[kind]
    _check_ident(kind, ident)

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        path = spec.path_for(ident)
        record = snapshot.live(path)
        if record is None:
            raise NotFound(f"{_WORDS[kind]} {ident} is not in the file")
        old = {k: v for k, v in record.items() if k != "modified"}
        return {path: tombstone(old)}, f"Remove {_WORDS[kind]} {ident}"

    written, _ = commit_records(client_file, build)
    return next(iter(written.values()))


def add_taxcode(client_file: ClientFile, code: str, description: str) -> Record:
    """Add tax export code ``code``."""
    return _add(client_file, "taxcode", {"code": code, "description": description})


def remove_taxcode(client_file: ClientFile, code: str) -> Record:
    """Remove tax code ``code`` (a tombstone); the rules refuse it while a line uses it."""
    return _remove(client_file, "taxcode", code)


def add_journal(client_file: ClientFile, ident: str, name: str = "") -> Record:
    """Add journal ``ident`` (beside AJE, RJE, TJE, PAJE, EJE)."""
    return _add(client_file, "journal", {"id": ident, "name": name})


def add_unit(client_file: ClientFile, ident: str, name: str = "") -> Record:
    """Add units list ``ident``."""
    return _add(client_file, "unit", {"id": ident, "name": name})


def set_mask(client_file: ClientFile, mask: str) -> Record:
    """Set the map number mask; the rules check that every map number fits it."""
    mask = mask.strip()
    if not mask:
        raise UsageError("a mask must not be empty")
    if any(ch.isspace() for ch in mask):
        raise UsageError(f"mask '{mask}' must not contain spaces")
    spec = KINDS["mask"]

    def build(snapshot: Snapshot) -> tuple[Changes, str]:
        path = spec.path_for(mask)
        current = snapshot.live(path)
        if current is not None and current.get("mask") == mask:
            return {}, ""
        return {path: {"mask": mask}}, f"Set the map number mask to {mask}"

    written, _ = commit_records(client_file, build)
    return next(iter(written.values())) if written else {"mask": mask}


def list_codes(snapshot: Snapshot, kind: str) -> list[Record]:
    """The live records of ``kind`` (taxcode, journal, unit), in id order."""
    spec = KINDS[kind]
    records = [
        {k: v for k, v in record.items() if k not in ("modified", "provenance")}
        for _, record in snapshot.records(spec.folder)
    ]
    return sorted(records, key=lambda r: str(r[spec.key]))
