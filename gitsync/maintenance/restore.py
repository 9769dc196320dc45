"""Restore a backup (``gitsync.maintenance.backup``) into a working client file.

The restored file has the whole history (every branch, ``work`` checked
out), the working edits the backup held, the user folders it held, and the
hooks and merge driver installed.

Without ``rejoin`` the restored file is an ordinary client file outside the
hierarchy: it has no remote and no remote-tracking refs, a fresh copy id, the
role of a top-level parent of its own, and a registry record saying so (one
commit, "Restored from backup ..."). It can never push into the old
hierarchy: sync has nowhere to push to. A ``_Sync_`` folder in the backup is
put back as ``_Sync_`` (ignored by git, inert) so the old state can be read.

With ``rejoin`` the backup's ``_Sync_`` becomes ``_Sync`` again: the same
copy id, the remote ``parent`` and the remote-tracking refs as they were at
backup time. The next sync sends what the backup held that the parent lacks
and receives what the hierarchy did since. Rejoining is refused for a copy
that was abandoned: its registry record in the parent's current history
(fetched now, when the parent can be reached) or else in the backup says
``"state": "abandoned"``.

It is built in a hidden temporary folder beside the destination and renamed
into place at the end, so a kill leaves no half-restored client file at the
destination; the next restore removes the leftovers.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gitsync.config import STATE_FILE, SYNC_DIR, LocalState
from gitsync.errors import Unreachable, UsageError
from gitsync.faults import fault_point
from gitsync.fs import OWNER_FILE, make_staging, remove_leftovers
from gitsync.maintenance.backup import (
    BACKUP_FORMAT,
    BACKUP_VERSION,
    BUNDLE,
    FILES,
    MANIFEST,
    SYNC_KEPT,
    BackupCorrupt,
    Progress,
    check_path_length,
    check_rights,
    sha256_of,
    verify_bundle,
)
from gitsync.model import canonical
from gitsync.model.records import KINDS, new_id, now_stamp
from gitsync.repo.clientfile import SHARED_BRANCH, WORK_BRANCH, ClientFile
from gitsync.repo.gitcli import git
from gitsync.repo.hooks import install_hooks
from gitsync.repo.revisions import read_at
from gitsync.repo.transport import CopyAbandoned, ParentLineGone, fetch
from gitsync.repo.worktree import client_file_at, init_repository, set_head
from gitsync.rules.commit import commit_checked

RESTORE_PREFIX = ".gitsync-restore-"


@dataclass
class RestoreReport:
    """What a restore gave back."""

    path: str
    head: str
    copy_id: str
    role: str
    rejoined: bool
    parent: str | None = None
    abandoned_checked_at: str | None = None  # "parent" or "backup"
    working_edits: list[str] = field(default_factory=list)
    subfolders: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_manifest(backup: Path) -> dict[str, Any]:
    """The manifest of a backup folder, after checking every part against it."""
    manifest_path = backup / MANIFEST
    if not manifest_path.is_file():
        raise UsageError(f"{backup}: not a gitsync backup (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise BackupCorrupt(f"{manifest_path}: the manifest is not valid JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise UsageError(f"{backup}: not a gitsync backup (unknown manifest format)")
    version = manifest.get("version")
    if not isinstance(version, int) or version > BACKUP_VERSION:
        raise UsageError(
            f"{backup}: backup format version {version} is newer than this gitsync reads "
            f"({BACKUP_VERSION}); upgrade gitsync to restore it"
        )
    for part in (manifest["bundle"], manifest["files"]):
        path = backup / part["name"]
        if not path.is_file():
            raise BackupCorrupt(f"{path}: a part of the backup is missing")
        if sha256_of(path) != part["sha256"]:
            raise BackupCorrupt(f"{path}: the part does not match the backup's manifest (damaged)")
    return manifest


def restore(
    backup: Path, dest: Path, *, rejoin: bool = False, progress: Progress | None = None
) -> RestoreReport:
    """Give back the client file a backup holds, at ``dest`` (which must not exist or be empty)."""
    backup = backup.expanduser().resolve()
    dest = dest.expanduser().resolve()
    if not backup.is_dir():
        raise UsageError(f"{backup}: no backup folder there")
    manifest = read_manifest(backup)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest}: the folder exists and is not empty")
    check_path_length(dest, [str(manifest.get("longest_path", ""))], "restored client file")
    kept_sync = backup / SYNC_KEPT
    if rejoin:
        if not manifest.get("include_sync") or not kept_sync.is_dir():
            raise UsageError(
                f"{backup}: the backup holds no sync state ({SYNC_KEPT}); it was made without "
                "--include-sync, so it cannot rejoin the hierarchy"
            )
        if not (kept_sync / STATE_FILE).is_file():
            raise BackupCorrupt(f"{kept_sync}: the sync state in the backup is missing")

    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(dest.parent, RESTORE_PREFIX)
    staging = make_staging(dest.parent, RESTORE_PREFIX)
    try:
        fault_point("restore.staging-created")
        report = _build(backup, manifest, staging, rejoin=rejoin, progress=progress)
        (staging / OWNER_FILE).unlink()
        fault_point("restore.before-rename")
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
        fault_point("restore.renamed")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.path = str(dest)
    return report


def _build(
    backup: Path,
    manifest: dict[str, Any],
    staging: Path,
    *,
    rejoin: bool,
    progress: Progress | None,
) -> RestoreReport:
    init_repository(staging)
    bundle = backup / BUNDLE
    if progress:
        progress("verify", 0, 1)
    verify_bundle(bundle, staging)
    if progress:
        progress("verify", 1, 1)
    specs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
    if any(name.startswith("refs/gitsync/") for name in manifest.get("refs", {})):
        specs.append("+refs/gitsync/*:refs/gitsync/*")  # on-demand documents' content
    if rejoin:
        specs.append("+refs/remotes/*:refs/remotes/*")
    git(
        ["fetch", "--quiet", "--update-head-ok", "--no-write-fetch-head", str(bundle), *specs],
        staging,
    )
    fault_point("restore.history-fetched")
    head_ref = str(manifest.get("head_ref") or WORK_BRANCH)
    if head_ref != WORK_BRANCH:
        set_head(staging, head_ref)
    git(["checkout", "--quiet", "--force"], staging)
    client = client_file_at(staging)
    head = client.head_commit()
    assert head is not None
    if str(head.id) != manifest["head"]:
        raise BackupCorrupt(f"{backup}: the history does not end at the commit the manifest names")
    check_rights(client)  # a protected file needs "open-directly"
    install_hooks(client.repo)
    fault_point("restore.checked-out")
    _extract(backup / FILES, staging)
    for path in manifest.get("deleted", []):
        (staging / path).unlink(missing_ok=True)
    fault_point("restore.files-extracted")
    kept_sync = backup / SYNC_KEPT
    if manifest.get("include_sync") and kept_sync.is_dir():
        target = staging / (SYNC_DIR if rejoin else SYNC_KEPT)
        shutil.copytree(kept_sync, target, symlinks=True)
    client = client_file_at(staging)  # afresh: the local state was just put in place
    if manifest.get("documents"):
        from gitsync.documents.behaviour import adopt_restored

        adopt_restored(client, list(manifest["documents"]))  # every sha256 checked
    report = _rejoin(client, manifest) if rejoin else _stand_alone(client, manifest, backup)
    fault_point("restore.state-written")
    report.working_edits = list(manifest.get("working_edits", []))
    report.subfolders = list(manifest.get("subfolders", []))
    return report


def _extract(archive_path: Path, staging: Path) -> None:
    with tarfile.open(archive_path, mode="r:gz") as archive:
        for member in archive.getmembers():
            top = member.name.split("/")[0]
            if top in (".git", SYNC_DIR, SYNC_KEPT):
                raise BackupCorrupt(
                    f"{archive_path}: refuses to write {member.name} (not a working file)"
                )
        archive.extractall(staging, filter="data")


def _stand_alone(client: ClientFile, manifest: dict[str, Any], backup: Path) -> RestoreReport:
    copy_id = new_id()
    user = client.identity().name
    client.save_state(LocalState(copy_id=copy_id, role="top-level", user=user))
    who = client.identity()
    record = {
        "id": copy_id,
        "user": user,
        "parent": None,
        "created": now_stamp(),
        "state": "active",
        "modified": who.modified(),
    }
    summary = (
        f"Restored from backup '{backup.name}' as a new top-level parent "
        f"(was copy {manifest.get('copy_id') or 'unknown'})"
    )
    commit = commit_checked(
        client, {KINDS["copy"].path_for(copy_id): canonical.dumps(record)}, summary, identity=who
    )
    fault_point("restore.registered")
    if client.ref(SHARED_BRANCH) is None:
        client.set_ref(SHARED_BRANCH, commit, None)
    return RestoreReport(
        path="", head=str(commit), copy_id=copy_id, role="top-level", rejoined=False
    )


def _rejoin(client: ClientFile, manifest: dict[str, Any]) -> RestoreReport:
    state = client.state
    if state is None:
        raise BackupCorrupt(f"{client.root}: the sync state in the backup is missing")
    checked_at = "backup"
    parent_record: dict[str, Any] | None = None
    remotes = dict(manifest.get("remotes") or {})
    if state.role == "child" and state.parent:
        remotes.setdefault("parent", state.parent)
    for name, url in sorted(remotes.items()):
        git(["remote", "add", name, url], client.root)
    if state.role == "child" and state.parent:
        try:
            heads, _ = fetch(client.root, state.parent, "refs/remotes/parent")
        except (Unreachable, ParentLineGone):  # the registry is checked in the backup
            heads = {}
        for branch in ("main", "work"):
            if branch in heads:
                found = _record_at(client, heads[branch], state.copy_id)
                if found is not None:
                    checked_at = "parent"
                    if parent_record is None or found.get("state") == "abandoned":
                        parent_record = found
    record = parent_record
    if checked_at == "backup":
        record = client.snapshot().read(KINDS["copy"].path_for(state.copy_id))
    if record is not None and record.get("state") == "abandoned":
        where = "its parent" if checked_at == "parent" else "the backup"
        raise CopyAbandoned(
            state.copy_id,
            where,
            f"copy {state.copy_id}: abandoned in {where}'s registry; it cannot rejoin the "
            "hierarchy (restore it without --rejoin, or make a new sync copy)",
        )
    head = client.head_commit()
    assert head is not None
    return RestoreReport(
        path="",
        head=str(head.id),
        copy_id=state.copy_id,
        role=state.role,
        rejoined=True,
        parent=state.parent,
        abandoned_checked_at=checked_at,
    )


def _record_at(client: ClientFile, commit_hex: str, copy_id: str) -> dict[str, Any] | None:
    path = KINDS["copy"].path_for(copy_id)
    data = read_at(client, commit_hex, path)
    return None if data is None else canonical.loads(data, path)
