"""Backup of a client file: its whole history, its working edits, and optionally more.

A backup is a folder named ``Backup of <file name> (MM-DD-YYYY HH-MM-SS)``::

    manifest.json      what the backup holds, with the sha256 of every part
    history.bundle     ``git bundle --all``: every record, document and commit
                       (compressed git pack), checked with ``git bundle verify``
    files.tar.gz       working files the history does not hold yet (see below)
    _Sync_/            the copy's ``_Sync`` folder, with ``--include-sync`` only

``files.tar.gz`` holds:

- the *working edits*: record files, document content, ``.gitattributes`` and
  ``.gitignore`` that differ from the last commit (what the next sync would
  commit); working files deleted since the last commit are listed in the
  manifest, so a restore deletes them again;
- with ``include_subfolders``, the *user folders*: every folder directly inside
  the client file folder that holds no tracked file and is not one of the
  client file's own folders (record folders, ``documents``, ``.git``,
  ``_Sync``, ``_Sync_``), with everything in it, ignored files included.
  Loose files at the top of the client file folder that are not part of the
  client file, and untracked folders nested inside the record folders, are
  never backed up.

The backup is built in a hidden temporary folder beside the destination and
renamed to its final name at the end: a kill at any step leaves no
half-written backup under the final name, and the next backup removes the
leftovers of a killed one. The client file itself is only read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gitsync.config import SYNC_DIR
from gitsync.errors import ExitCode, GitsyncError, UsageError
from gitsync.faults import fault_point
from gitsync.fs import OWNER_FILE, make_staging, promote, remove_leftovers
from gitsync.model.records import KINDS, now_stamp
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.gitcli import GitFailed, git, git_env

BACKUP_FORMAT = "gitsync-backup"
BACKUP_VERSION = 1
MANIFEST = "manifest.json"
BUNDLE = "history.bundle"
FILES = "files.tar.gz"
SYNC_KEPT = "_Sync_"
MAX_PATH = 260  # a full path longer than this is refused (Windows MAX_PATH)
STAGING_PREFIX = ".gitsync-backup-"

#: ``progress(step, done, total)``: step is "history", "verify" or "files"; total may be 0.
Progress = Callable[[str, int, int], None]

OWN_FOLDERS = frozenset(
    {".git", SYNC_DIR, SYNC_KEPT, "documents", "mapping", "sync"}
    | {k.folder.split("/")[0] for k in KINDS.values() if k.folder}
)


class PathTooLong(UsageError):
    """A path the backup or restore would write is longer than Windows allows."""


class BackupExists(UsageError):
    """A backup with the same name (same file, same second) is already there."""


class BackupCorrupt(GitsyncError):
    """A backup's parts do not match its manifest, or its bundle does not verify."""

    exit_code = ExitCode.RULE


@dataclass
class BackupReport:
    """What a backup wrote."""

    path: str
    file_name: str
    head: str
    refs: dict[str, str]
    bundle_bytes: int
    working_edits: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    subfolders: list[str] = field(default_factory=list)
    include_sync: bool = False
    removed_leftovers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backup_name(file_name: str, when: datetime) -> str:
    """``Backup of <file name> (MM-DD-YYYY HH-MM-SS)``."""
    return f"Backup of {file_name} ({when.strftime('%m-%d-%Y %H-%M-%S')})"


def check_rights(client_file: ClientFile, right: str = "open-directly") -> None:
    """With protection on, refuse unless the user holds ``right`` (backup: "open-directly").

    The one place backup, restore and year-end close ask the protection rules.
    """
    from gitsync.rules.syncstate import require_right

    require_right(client_file.snapshot(), client_file.identity().name, right, str(client_file.root))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_path_length(base: Path, relative: Iterable[str], what: str) -> None:
    """Refuse when ``base/<any relative path>`` is longer than MAX_PATH characters."""
    longest = max(relative, key=len, default="")
    full = str(base / longest) if longest else str(base)
    if len(full) > MAX_PATH:
        raise PathTooLong(
            f"{full}: the full path has {len(full)} characters, more than {MAX_PATH} "
            f"({what}); choose a shorter destination"
        )


def user_folders(client_file: ClientFile) -> list[str]:
    """Folders directly inside the client file folder that are not part of the client file."""
    head = client_file.head_tree()
    tracked_tops = {entry.name for entry in head} if head is not None else set()
    found = []
    for child in sorted(client_file.root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            if child.name in OWN_FOLDERS or child.name in tracked_tops:
                continue
            found.append(child.name)
    return found


def _working_edits(client_file: ClientFile, skip_tops: set[str]) -> tuple[list[str], list[str]]:
    """(working files the next sync takes in, records it turns into tombstones).

    The next sync's own answer (``next_commit``), so a backup keeps exactly
    the work that is not in the history yet; a record that does not parse
    is kept too.
    """
    from gitsync.rules.workingfiles import next_commit

    plan = next_commit(client_file, strict=False)

    def kept(path: str) -> bool:
        return path.split("/")[0] not in skip_tops

    return [p for p in plan.taken if kept(p)], [p for p in plan.deleted if kept(p)]


def _files_below(folder: Path, root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


def write_bundle(repo_dir: Path, target: Path, progress: Progress | None) -> None:
    """``git bundle create --all`` with git's progress lines turned into callbacks."""
    proc = subprocess.Popen(
        ["git", "bundle", "create", "--progress", str(target), "--all"],
        cwd=repo_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=git_env(),
    )
    assert proc.stderr is not None
    tail: list[str] = []
    buffer = b""
    while True:
        chunk = proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else proc.stderr.read(4096)
        if not chunk:
            break
        buffer += chunk
        *lines, rest = buffer.replace(b"\r", b"\n").split(b"\n")
        buffer = rest
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            tail = [*tail[-4:], line]
            _report_git_progress(line, progress)
    code = proc.wait()
    if code != 0:
        raise GitFailed(["bundle", "create"], code, "\n".join(tail))


def _report_git_progress(line: str, progress: Progress | None) -> None:
    # "Counting objects:  45% (450/1000)": a bundle counts every object it writes
    if progress is None or "Counting objects:" not in line or "(" not in line:
        return
    inside = line.split("(", 1)[1].split(")", 1)[0]
    done, _, total = inside.partition("/")
    if done.isdigit() and total.isdigit():
        progress("history", int(done), int(total))


def verify_bundle(bundle: Path, repo_dir: Path) -> None:
    """``git bundle verify``: refuse a bundle git cannot read back."""
    result = git(["bundle", "verify", str(bundle)], repo_dir, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["unreadable"])[-1]
        raise BackupCorrupt(f"{bundle}: the history bundle does not verify ({last})")


def backup(
    client_file: ClientFile,
    to: Path,
    *,
    include_subfolders: bool = False,
    include_sync: bool = False,
    include_documents: str | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> BackupReport:
    """Write a backup of ``client_file`` into the folder ``to``; returns what it holds.

    Refused, with nothing written, when any full path of the backup would be
    longer than 260 characters or a backup of the same name exists.
    """
    check_rights(client_file)
    to = to.expanduser().resolve()
    if to.exists() and not to.is_dir():
        raise UsageError(f"{to}: the backup destination is not a folder")
    if to == client_file.root or client_file.root in to.parents:
        raise UsageError(f"{to}: a backup cannot go inside the client file it backs up")
    name = backup_name(client_file.root.name, now or datetime.now())
    final = to / name
    if final.exists():
        raise BackupExists(f"{final}: a backup of that name already exists")

    with client_file.locked():
        head = client_file.head_commit()
        if head is None:
            raise GitsyncError(f"{client_file.root}: the client file has no history to back up")
        folders = user_folders(client_file) if include_subfolders else []
        edits, deleted = _working_edits(client_file, set(user_folders(client_file)))
        stored_files = list(edits)
        documents: list[dict[str, Any]] = []
        if include_documents:  # on-demand and Never content: outside the tree (DESIGN 9)
            from gitsync.documents.behaviour import backup_documents

            document_files, documents = backup_documents(client_file, include_documents)
            stored_files.extend(p for p in document_files if p not in stored_files)
        for folder in folders:
            stored_files.extend(_files_below(client_file.root / folder, client_file.root))
        sync_files: list[str] = []
        if include_sync:
            if not client_file.sync_dir.is_dir():
                raise UsageError(f"{client_file.root}: there is no {SYNC_DIR} folder to include")
            sync_files = [
                SYNC_KEPT + p.removeprefix(SYNC_DIR)
                for p in _files_below(client_file.sync_dir, client_file.root)
            ]
        check_path_length(final, [MANIFEST, BUNDLE, FILES, *sync_files], "backup")
        tracked = _tracked_paths(client_file)
        longest = max([*tracked, *stored_files], key=len, default="")

        to.mkdir(parents=True, exist_ok=True)
        leftovers = remove_leftovers(to, STAGING_PREFIX)
        staging = make_staging(to, STAGING_PREFIX)
        try:
            fault_point("backup.staging-created")
            bundle = staging / BUNDLE
            write_bundle(client_file.root, bundle, progress)
            fault_point("backup.bundle-written")
            if progress:
                progress("verify", 0, 1)
            verify_bundle(bundle, client_file.root)
            if progress:
                progress("verify", 1, 1)
            fault_point("backup.bundle-verified")
            _write_files(client_file.root, staging / FILES, stored_files, progress)
            fault_point("backup.files-written")
            if include_sync:
                shutil.copytree(client_file.sync_dir, staging / SYNC_KEPT, symlinks=True)
                fault_point("backup.sync-copied")
            refs = _refs(client_file)
            remotes = {r.name: r.url for r in client_file.repo.remotes if r.url}
            state = client_file.state
            manifest = {
                "format": BACKUP_FORMAT,
                "version": BACKUP_VERSION,
                "file_name": client_file.root.name,
                "created": now_stamp(),
                "head": str(head.id),
                "head_ref": client_file.head_ref_name(),
                "refs": refs,
                "remotes": remotes,
                "copy_id": state.copy_id if state else None,
                "role": state.role if state else None,
                "bundle": {
                    "name": BUNDLE,
                    "sha256": sha256_of(bundle),
                    "size": bundle.stat().st_size,
                },
                "files": {"name": FILES, "sha256": sha256_of(staging / FILES)},
                "working_edits": edits,
                "deleted": deleted,
                "subfolders": folders,
                "include_sync": include_sync,
                "documents": documents,
                "longest_path": longest,
            }
            manifest_path = staging / MANIFEST
            with open(manifest_path, "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=2, sort_keys=True, ensure_ascii=False)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            (staging / OWNER_FILE).unlink()
            fault_point("backup.manifest-written")
            promote(staging, final)
            fault_point("backup.renamed")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return BackupReport(
        path=str(final),
        file_name=client_file.root.name,
        head=str(head.id),
        refs=refs,
        bundle_bytes=int(manifest["bundle"]["size"]),  # type: ignore[index]
        working_edits=edits,
        deleted=deleted,
        subfolders=folders,
        include_sync=include_sync,
        removed_leftovers=leftovers,
    )


def _refs(client_file: ClientFile) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in client_file.repo.references:
        ref = client_file.repo.references[name]
        try:
            found[name] = str(ref.resolve().target)
        except (KeyError, ValueError):
            continue
    return dict(sorted(found.items()))


def _tracked_paths(client_file: ClientFile) -> list[str]:
    index = client_file.repo.index
    index.read()
    return [entry.path for entry in index]


def _write_files(root: Path, target: Path, paths: list[str], progress: Progress | None) -> None:
    total = 0
    sizes: dict[str, int] = {}
    for rel in paths:
        sizes[rel] = (root / rel).lstat().st_size
        total += sizes[rel]
    done = 0
    with open(target, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for rel in paths:
            archive.add(root / rel, arcname=rel, recursive=False)
            done += sizes[rel]
            if progress:
                progress("files", done, total)
        archive.close()
        raw.flush()
        os.fsync(raw.fileno())
