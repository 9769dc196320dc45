"""The Document Manager: folders, external documents and their versions.

A folder is ``folders/<id>.json`` (id, name, parent). A document is its
metadata ``documents/<id>.json`` (id, name, folder, kind, sync_mode, sha256,
size) plus its content at ``documents/<id>/<name>``. Every change is one
commit, so every version of a document's content stays in the history and
can be listed (``document_versions``) and retrieved (``read_version``).

Removing a document tombstones its metadata and keeps the content file in
the tree: git never sees a delete (DESIGN section 4), so a removal in one
copy and an update in another reach the record merge instead of a
modify/delete conflict, and the last content stays retrievable.

Documents and folders are named by id or by name; a name that matches more
than one live record is refused with the matching ids, never guessed.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.documents.names import (
    DOCUMENTS as DOCUMENTS,
)
from gitsync.documents.names import (
    FOLDERS as FOLDERS,
)
from gitsync.documents.names import (
    AmbiguousName as AmbiguousName,
)
from gitsync.documents.names import (
    find_document as find_document,
)
from gitsync.documents.names import (
    find_folder as find_folder,
)
from gitsync.documents.names import (
    list_documents as list_documents,
)
from gitsync.documents.names import (
    list_folders as list_folders,
)
from gitsync.errors import GitsyncError, NotFound, RuleViolation, UsageError
from gitsync.model import canonical
from gitsync.model.records import (
    DOCUMENT_KINDS,
    KIND_BY_EXTENSION,
    KINDS,
    document_content_path,
    document_name_problem,
    document_sync,
    folder_name_problem,
    is_tombstone,
    new_id,
)

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.repo.snapshot import Snapshot

Record = dict[str, Any]


class DuplicateName(RuleViolation):
    """A folder or document with this name already exists in the same place."""


class VersionNotFound(NotFound):
    """A document version number that the history does not hold."""


def kind_for(filename: str) -> str:
    """The document kind of a file name from its extension (``other`` when unknown)."""
    _, dot, ext = filename.rpartition(".")
    return KIND_BY_EXTENSION.get(ext.lower(), "other") if dot else "other"


# --- writing ------------------------------------------------------------------


def _commit(
    client_file: ClientFile, records: dict[str, Record], extra: dict[str, bytes], message: str
) -> None:
    from gitsync.rules.commit import commit_checked

    changes = {path: canonical.dumps(record) for path, record in records.items()}
    changes.update(extra)
    commit_checked(client_file, changes, message)


def add_folder(client_file: ClientFile, name: str, parent: str | None = None) -> Record:
    """Create a folder (under ``parent``, a folder id or name); returns its record."""
    name = unicodedata.normalize("NFC", name)
    problem = folder_name_problem(name)
    if problem:
        raise RuleViolation(f"folder '{name}'", "name", "folder-name", problem)
    with client_file.locked():
        snapshot = client_file.snapshot()
        parent_id = find_folder(snapshot, parent)["id"] if parent is not None else None
        for existing in list_folders(snapshot):
            if existing["name"] == name and existing.get("parent") == parent_id:
                raise DuplicateName(
                    KINDS["folder"].path_for(existing["id"]),
                    "name",
                    "unique-name",
                    f"a folder named '{name}' already exists here",
                )
        folder_id = new_id()
        record: Record = {
            "id": folder_id,
            "name": name,
            "parent": parent_id,
            "modified": client_file.identity().modified(),
        }
        _commit(
            client_file, {KINDS["folder"].path_for(folder_id): record}, {}, f"Add folder {name}"
        )
    return record


def _read_source(source: Path) -> bytes:
    if not source.is_file():
        raise NotFound(f"{source}: no such file")
    return source.read_bytes()


def _check_unique_document(snapshot: Snapshot, name: str, folder: str | None, doc_id: str) -> None:
    for existing in list_documents(snapshot):
        if (
            existing["id"] != doc_id
            and existing["name"] == name
            and existing.get("folder") == folder
        ):
            raise DuplicateName(
                KINDS["document"].path_for(existing["id"]),
                "name",
                "unique-name",
                f"a document named '{name}' already exists in this folder",
            )


def add_document(
    client_file: ClientFile,
    source: Path,
    *,
    folder: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    sync: str | None = None,
) -> Record:
    """Copy the file at ``source`` into the client file as a new document; one commit.

    ``name`` defaults to the file's own name, ``kind`` to the one its
    extension names (see KIND_BY_EXTENSION), ``sync`` to the folder's or
    the client file's default (see ``gitsync.documents.behaviour``).
    Everything is checked before anything is written.
    """
    from gitsync.documents import behaviour

    raw_name = name if name is not None else source.name
    doc_name = unicodedata.normalize("NFC", raw_name)
    problem = document_name_problem(doc_name)
    if problem:
        raise RuleViolation(f"document '{raw_name}'", "name", "document-name", problem)
    doc_kind = kind if kind is not None else kind_for(doc_name)
    if doc_kind not in DOCUMENT_KINDS:
        raise UsageError(
            f"--kind '{doc_kind}' is not a document kind ({', '.join(DOCUMENT_KINDS)})"
        )
    if sync is not None:
        behaviour.check_behaviour(sync)
    content = _read_source(source)
    with client_file.locked():
        snapshot = client_file.snapshot()
        folder_id = find_folder(snapshot, folder)["id"] if folder is not None else None
        doc_id = new_id()
        _check_unique_document(snapshot, doc_name, folder_id, doc_id)
        if sync is None:
            sync = behaviour.default_behaviour(snapshot, len(content), folder_id)
        record: Record = {
            "id": doc_id,
            "name": doc_name,
            "folder": folder_id,
            "kind": doc_kind,
            "sync_mode": "sync",
            "sha256": hashlib.sha256(content).hexdigest(),
            "size": len(content),
            "modified": client_file.identity().modified(),
        }
        extra = behaviour.new_record_fields(client_file, record, content, sync)
        _commit(
            client_file,
            {KINDS["document"].path_for(doc_id): record},
            extra,
            f"Add document {doc_name}",
        )
    return record


def move_document(client_file: ClientFile, ref: str, folder: str | None) -> Record:
    """Move a document into ``folder`` (a folder id or name; None for the top level)."""
    with client_file.locked():
        snapshot = client_file.snapshot()
        record = dict(find_document(snapshot, ref))
        folder_id = find_folder(snapshot, folder)["id"] if folder is not None else None
        if record.get("folder") == folder_id:
            return record
        _check_unique_document(snapshot, record["name"], folder_id, record["id"])
        record["folder"] = folder_id
        record["modified"] = client_file.identity().modified()
        _commit(
            client_file,
            {KINDS["document"].path_for(record["id"]): record},
            {},
            f"Move document {record['name']}",
        )
    return record


def update_document(client_file: ClientFile, ref: str, source: Path) -> Record:
    """Replace a document's content with the file at ``source``; old versions stay in history."""
    content = _read_source(source)
    with client_file.locked():
        snapshot = client_file.snapshot()
        record = dict(find_document(snapshot, ref))
        from gitsync.documents.behaviour import check_not_locked

        check_not_locked(client_file, record)
        digest = hashlib.sha256(content).hexdigest()
        if digest == record["sha256"] and len(content) == record["size"]:
            raise UsageError(
                f"{source}: the content is the same as the current version of '{record['name']}'"
            )
        record["sha256"] = digest
        record["size"] = len(content)
        record["modified"] = client_file.identity().modified()
        from gitsync.documents.behaviour import new_version

        _commit(
            client_file,
            {KINDS["document"].path_for(record["id"]): record},
            new_version(client_file, record, content),
            f"Update document {record['name']}",
        )
    return record


def remove_document(client_file: ClientFile, ref: str) -> Record:
    """Tombstone a document's metadata; its content file stays so git sees no delete."""
    with client_file.locked():
        snapshot = client_file.snapshot()
        record = dict(find_document(snapshot, ref))
        record["deleted"] = True
        record["modified"] = client_file.identity().modified()
        _commit(
            client_file,
            {KINDS["document"].path_for(record["id"]): record},
            {},
            f"Remove document {record['name']}",
        )
    return record


# --- versions -----------------------------------------------------------------


@dataclass(frozen=True)
class DocumentVersion:
    """One version of a document's content, as the history holds it."""

    # 1 is the oldest, in topological order; a merge that brings in another
    # copy's versions can shift the later numbers (the commit and sha256 do not).
    number: int
    commit: str
    author: str
    email: str
    when: str
    copy: str | None
    sha256: str
    size: int
    blob: str

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.number,
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "when": self.when,
            "copy": self.copy,
            "sha256": self.sha256,
            "size": self.size,
        }


def document_versions(client_file: ClientFile, ref: str) -> list[DocumentVersion]:
    """Every version of a document's content in this copy's history, oldest (number 1) first.

    A version is content that a commit introduced: a merge that keeps one
    side's content adds no version, and the side that lost stays listed.
    """
    record = find_document(client_file.snapshot(), ref, removed=True)
    return _versions(client_file, record)


def _versions(client_file: ClientFile, record: Record) -> list[DocumentVersion]:
    from gitsync.repo.revisions import path_versions, read_blob

    if document_sync(record) != "automatic" or "blob" in record:
        return _record_versions(client_file, record)
    path = document_content_path(record)
    versions: list[DocumentVersion] = []
    # Oldest first: every commit that introduced content at ``path`` none of its parents had.
    for version in path_versions(client_file, path, oldest_first=True):
        if version.blob is None:
            continue
        commit = version.revision
        data = read_blob(client_file, version.blob)
        versions.append(
            DocumentVersion(
                number=len(versions) + 1,
                commit=commit.id,
                author=commit.author,
                email=commit.email,
                when=commit.when,
                copy=commit.copy,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                blob=version.blob,
            )
        )
    return versions


def _record_versions(client_file: ClientFile, record: Record) -> list[DocumentVersion]:
    """Versions named by the record's own history (its sha256), for content kept outside the tree.

    The blob of a version is the record's ``blob`` (on demand), else the
    content file of that commit (automatic then), else none (never synced).
    """
    from gitsync.repo.content import blob_at
    from gitsync.repo.revisions import path_versions, read_blob

    path = KINDS["document"].path_for(record["id"])
    versions: list[DocumentVersion] = []
    seen: set[str] = set()
    for version in path_versions(client_file, path, oldest_first=True):
        if version.blob is None:
            continue
        state = canonical.loads(read_blob(client_file, version.blob), path)
        sha = str(state.get("sha256"))
        if is_tombstone(state) or sha in seen:
            continue
        seen.add(sha)
        commit = version.revision
        blob = state.get("blob")
        if not blob and document_sync(state) == "automatic":
            blob = blob_at(client_file.repo, commit.id, document_content_path(state))
        versions.append(
            DocumentVersion(
                number=len(versions) + 1,
                commit=commit.id,
                author=commit.author,
                email=commit.email,
                when=commit.when,
                copy=commit.copy,
                sha256=sha,
                size=int(state.get("size", 0)),
                blob=str(blob or ""),
            )
        )
    return versions


def version_bytes(client_file: ClientFile, record: Record, version: DocumentVersion) -> bytes:
    """The bytes of one version: from this copy, else fetched up the route (on demand)."""
    from gitsync.documents import behaviour
    from gitsync.repo.content import has_blob

    if version.blob and has_blob(client_file.repo, version.blob):
        from gitsync.repo.revisions import read_blob

        return read_blob(client_file, version.blob)
    if version.blob:
        return behaviour.content_bytes(client_file, record, version.blob, version.sha256)
    return behaviour.never_bytes(client_file, record, version.sha256)


def _current(record: Record, versions: list[DocumentVersion]) -> DocumentVersion:
    """The version the record names (its sha256 and size): the one the working file holds.

    After a content conflict the losing version may be the last one in the
    history; the record, not the order of the history, says which is current.
    """
    for version in reversed(versions):
        if version.sha256 == record.get("sha256") and version.size == record.get("size"):
            return version
    return versions[-1]


def content_by_sha256(client_file: ClientFile, record: Record, sha256: str) -> bytes | None:
    """The bytes of the version of a document's content whose sha256 is ``sha256`` (None: none)."""
    for version in reversed(_versions(client_file, record)):
        if version.sha256 == sha256:
            return version_bytes(client_file, record, version)
    return None


def read_version(
    client_file: ClientFile, ref: str, number: int | None = None
) -> tuple[DocumentVersion, bytes]:
    """Version ``number`` of a document (the current one when None) and its bytes."""
    record = find_document(client_file.snapshot(), ref, removed=True)
    versions = _versions(client_file, record)
    if not versions:
        raise GitsyncError(f"document '{record['name']}' has no content in the history")
    if number is None:
        chosen = _current(record, versions)
    elif 1 <= number <= len(versions):
        chosen = versions[number - 1]
    else:
        raise VersionNotFound(
            f"document '{record['name']}' has versions 1 to {len(versions)}; "
            f"there is no version {number}"
        )
    return chosen, version_bytes(client_file, record, chosen)


def get_version(
    client_file: ClientFile, ref: str, number: int | None, dest: Path
) -> DocumentVersion:
    """Write version ``number`` of a document to ``dest`` (a file, or a folder to put it in)."""
    from gitsync.fs import atomic_write

    version, data = read_version(client_file, ref, number)
    target = dest
    if dest.is_dir():
        from gitsync.model.names import fits_on_disk, shortened

        name = find_document(client_file.snapshot(), ref, removed=True)["name"]
        target = dest / (name if fits_on_disk(name) else shortened(name))
    atomic_write(target, data, durable=True)
    return version
