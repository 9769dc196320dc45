"""The admin actions on hosted files: one function each, and the one table that serves them.

Every action takes a ``Acting`` (the server root, its catalogue and the acting
user) and keyword arguments named as the API's JSON body names them. It checks
the user's right through ``access`` (redirects followed as everywhere), does
one thing, and records it in the audit log (in the same transaction where the
catalogue changes). ``ACTIONS`` lists them with their parameters: the CLI
(``--root`` runs ``call`` here, ``--server`` posts the same arguments), the
admin API (``adminapi``) and the web page dispatch through it, nowhere else.

    ROOT/recycle/<stamp> <folder~name>.git   deleted files, restorable by undelete
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import Refused, UsageError
from gitsync.repo.gitcli import git
from gitsync.server import RIGHTS, registry
from gitsync.server.access import NoSuchFile, require_admin, require_server_admin
from gitsync.server.catalogue import stamp
from gitsync.server.fileinfo import file_info, hosted_repository, main_snapshot, size_on_disk
from gitsync.server.storage import BadPath, ServerRoot, check_new_file_name, install_relay_hooks
from gitsync.server.workbench import SERVER_COPY, WORK, refresh, workbench

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.server.catalogue import Catalogue, HostedFile, User

RECYCLE = "recycle"
#: A quarantine (``objects/tmp_objdir-incoming-*``) untouched this long is a push that died.
STALE_QUARANTINE_SECONDS = 3600.0


class CopiesActive(Refused):
    """The file's state refuses the action (copies active): nothing was changed."""

    http_status = 409


@dataclass(frozen=True)
class Acting:
    """Who acts, where: the server root, its catalogue, the acting user."""

    root: ServerRoot
    catalogue: Catalogue
    user: User


@dataclass
class Outcome:
    """What an admin action did: its name, the file, and the details the commands show."""

    action: str
    file: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "file": self.file, **self.detail}


def _log(acting: Acting, action: str, file: str = "", **detail: Any) -> None:
    acting.catalogue.record_action(acting.user.name, action, file, **detail)


# --- reading ---------------------------------------------------------------------------------


def list_files(acting: Acting) -> list[dict[str, Any]]:
    """Every file the user is an admin of, with its extended information."""
    rows = [
        file_info(acting.root, hosted, acting.catalogue)
        for hosted, right in acting.catalogue.search(acting.user, "", limit=100000)
        if right == "admin"
    ]
    _log(acting, "files", count=len(rows))
    return rows


def audit(acting: Acting, *, file: str | None = None) -> list[dict[str, Any]]:
    """The audit log (of one file for its admins; the whole log for server admins)."""
    if file:
        file = require_admin(acting.catalogue, acting.user, file).path
    else:
        require_server_admin(acting.user, "audit log")
    return acting.catalogue.audit(file=file or None)


def recycled(acting: Acting) -> list[dict[str, Any]]:
    require_server_admin(acting.user, "recycle area")
    return [
        {k: row[k] for k in ("file", "deleted_by", "deleted_at")}
        for row in acting.catalogue.recycled()
    ]


def access_list(acting: Acting, *, file: str) -> list[dict[str, str]]:
    """Who may do what with the file: every user's effective right, and why (granted, server
    admin, or the default open access of a root that is not private)."""
    hosted = require_admin(acting.catalogue, acting.user, file)
    return [
        {"user": user.name, "right": right, "why": why}
        for user, right, why in acting.catalogue.effective_rights(hosted)
    ]


# --- the actions -----------------------------------------------------------------------------


def _active_copy_ids(acting: Acting, hosted: HostedFile) -> list[str]:
    return registry.active_copy_ids(main_snapshot(hosted_repository(acting.root, hosted)))


def _name_the_server_parent(bench: ClientFile, copy_ids: list[str]) -> None:
    """A copy taken from the server registers with no parent id (the server has none); on the
    server every copy's parent is the server, so its record says so (as a publish's does)."""
    from gitsync.model import canonical
    from gitsync.model.records import KINDS
    from gitsync.rules.commit import commit_checked

    snapshot = bench.snapshot()
    changes = {}
    for copy_id in copy_ids:
        path = KINDS["copy"].path_for(copy_id)
        record = snapshot.live(path)
        if record is not None and record.get("parent") is None:
            changes[path] = canonical.dumps(
                dict(record, parent=SERVER_COPY, modified=bench.identity().modified())
            )
    if changes:
        with bench.locked():
            commit_checked(bench, changes, "Copies of the server name the server as their parent")


def abandon(
    acting: Acting, *, file: str, copies: list[str] | None = None, all: bool = False
) -> Outcome:
    """Abandon copies of a hosted file (every active one with ``all``): the server refuses
    what they send from the next push on."""
    from gitsync.maintenance.lockdown import abandon as abandon_copies

    hosted = require_admin(acting.catalogue, acting.user, file)
    copies = list(copies or [])
    if all == bool(copies):
        raise UsageError("name the copies to abandon, or give --all (not both)")
    wanted = _active_copy_ids(acting, hosted) if all else copies
    abandoned: list[str] = []
    if wanted:
        with workbench(acting.root, hosted, acting.user) as bench:
            _name_the_server_parent(bench, wanted)
            abandoned = abandon_copies(bench, wanted).abandoned
        refresh(acting.catalogue, acting.root, hosted, acting.user)
    _log(acting, "abandon", hosted.path, copies=abandoned)
    return Outcome("abandon", hosted.path, {"abandoned": abandoned})


def lockdown(acting: Acting, *, file: str, abandon_outstanding: bool = False) -> Outcome:
    """Lock the hosted file down, as ``gitsync lockdown`` does at a top-level parent."""
    from gitsync.maintenance.lockdown import lockdown as lock
    from gitsync.maintenance.lockdown import reported_blockers

    hosted = require_admin(acting.catalogue, acting.user, file)
    reports = {
        copy: (stamp(seen), pending)
        for copy, (seen, pending) in acting.catalogue.copy_reports(hosted).items()
    }
    with workbench(acting.root, hosted, acting.user) as bench:
        # older copies' records name no parent: the server is it
        _name_the_server_parent(bench, _active_copy_ids(acting, hosted))
        report = lock(
            bench,
            abandon_outstanding=abandon_outstanding,
            find_blockers=lambda top: reported_blockers(top, reports),
        )
    refresh(acting.catalogue, acting.root, hosted, acting.user)
    _log(acting, "lockdown", hosted.path, abandoned=report.abandoned)
    return Outcome("lockdown", hosted.path, {"abandoned": report.abandoned})


def clear_sync(acting: Acting, *, file: str) -> Outcome:
    """Remove the hierarchy registry once no copies are active, as ``gitsync clear-sync`` does."""
    from gitsync.maintenance.sync_admin import clear_sync as clear

    hosted = require_admin(acting.catalogue, acting.user, file)
    with workbench(acting.root, hosted, acting.user) as bench:
        report = clear(bench)
        # clear_sync leaves an ordinary file: its shared line is the working line.
        git(["update-ref", "refs/heads/main", "HEAD"], bench.root)
    refresh(acting.catalogue, acting.root, hosted, acting.user)
    _log(acting, "clear-sync", hosted.path, removed=len(report.removed))
    return Outcome("clear-sync", hosted.path, {"removed": report.removed})


def free_backup_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name (2)``, ``name (3)``, ... when a backup of that name (made in
    the same second) is there already."""
    candidate, n = folder / name, 2
    while candidate.exists():
        candidate, n = folder / f"{name} ({n})", n + 1
    return candidate


def export(acting: Acting, *, file: str, to: Path) -> Outcome:
    """The verified backup ``gitsync backup`` writes, 'Backup of NAME (...)', in the file's
    folder under ``to`` (``to/Clients/Backup of NAME (...)``), a second one of the same second
    beside it as '... (2)'."""
    from gitsync.fs import make_staging
    from gitsync.maintenance.backup import backup

    hosted = require_admin(acting.catalogue, acting.user, file)
    folder = (
        to.expanduser().resolve() / hosted.folder if hosted.folder else to.expanduser().resolve()
    )
    folder.mkdir(parents=True, exist_ok=True)
    staging = make_staging(folder, ".export-")
    try:
        with workbench(acting.root, hosted, acting.user) as bench:
            report = backup(bench, staging)
        written = Path(report.path)
        final = free_backup_path(folder, written.name)
        os.replace(written, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _log(acting, "export", hosted.path, backup=str(final))
    return Outcome(
        "export", hosted.path, {"backup": str(final), "bundle_bytes": report.bundle_bytes}
    )


def convert(acting: Acting, *, file: str) -> Outcome:
    """Convert a hosted file to this gitsync's format (``gitsync.server.convertfile``); older
    clients are refused from then on."""
    from gitsync.server.convertfile import convert_file

    hosted = require_admin(acting.catalogue, acting.user, file)
    if hosted.state != "ready":
        raise UsageError(f"{hosted.path}: the file is still being published")
    report = convert_file(acting.root, acting.catalogue, hosted, by=acting.user.name)
    detail = {
        "commit": report.commit,
        "from_version": report.from_version,
        "to_version": report.to_version,
        "records_changed": report.records_changed,
    }
    _log(acting, "convert", hosted.path, **detail)
    return Outcome("convert", hosted.path, detail)


def remove_stale_quarantines(repository: Path, *, now: float | None = None) -> list[str]:
    """The quarantine folders a push killed mid-way left (``objects/tmp_objdir-incoming-*``,
    nothing in them touched for an hour), removed; their names. A push in flight keeps its own."""
    now = time.time() if now is None else now
    removed = []
    for folder in sorted((repository / "objects").glob("tmp_objdir-incoming-*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        newest = max((p.lstat().st_mtime for p in [folder, *folder.rglob("*")]), default=0.0)
        if now - newest >= STALE_QUARANTINE_SECONDS:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed


def repair(acting: Acting, *, file: str) -> Outcome:
    """Verify the history (fsck), rebuild the relay hooks and settings, remove what a killed
    push left, check every rule on the shared line, and refresh the catalogue row."""
    from gitsync.rules.engine import check_all

    hosted = require_admin(acting.catalogue, acting.user, file)
    repository = acting.root.repository(hosted.path)
    leftovers = remove_stale_quarantines(repository)
    fsck = git(["fsck", "--full", "--no-progress"], repository, check=False)
    problems = [line for line in (fsck.stdout + fsck.stderr).splitlines() if line.strip()]
    install_relay_hooks(repository)
    for key, value in (("core.bigFileThreshold", "1m"), ("http.receivepack", "true")):
        git(["config", key, value], repository)
    snapshot = main_snapshot(hosted_repository(acting.root, hosted))
    violations = [str(v) for v in check_all(snapshot)] if snapshot is not None else []
    refresh(acting.catalogue, acting.root, hosted, acting.user)
    detail = {
        "history": "ok" if fsck.returncode == 0 else "damaged",
        "fsck": problems[:20],
        "rules": violations[:50],
        "hooks": "reinstalled",
        "quarantines_removed": leftovers,
    }
    _log(acting, "repair", hosted.path, history=detail["history"], quarantines=len(leftovers))
    return Outcome("repair", hosted.path, detail)


def compress(acting: Acting, *, file: str | None = None, all: bool = False) -> list[Outcome]:
    """Repack a file (every file the user is an admin of with ``all``) into one pack with a
    bitmap, large blobs kept whole (core.bigFileThreshold=1m), after removing what a killed
    push left; the bytes saved."""
    if all == (file is not None):
        raise UsageError("name a file, or give --all (not both)")
    if file is None:
        targets = [
            h for h, right in acting.catalogue.search(acting.user, "", limit=100000)
            if right == "admin"
        ]  # fmt: skip
    else:
        targets = [require_admin(acting.catalogue, acting.user, file)]
    done = []
    for hosted in targets:
        repository = acting.root.repository(hosted.path)
        before = size_on_disk(repository)
        leftovers = remove_stale_quarantines(repository)
        git(
            ["-c", "core.bigFileThreshold=1m", "-c", "pack.writeBitmapHashCache=true",
             "repack", "-a", "-d", "-b", "-q"],
            repository,
        )  # fmt: skip
        git(["prune-packed", "-q"], repository)
        git(["pack-refs", "--all"], repository)
        after = size_on_disk(repository)
        detail = {
            "before": before,
            "after": after,
            "saved": before - after,
            "quarantines_removed": leftovers,
        }
        _log(acting, "compress", hosted.path, **detail)
        done.append(Outcome("compress", hosted.path, detail))
    return done


def _relocate(acting: Acting, hosted: HostedFile, new_path: str) -> Outcome:
    """Rename or move a hosted file; the old address answers with a redirect to the new one,
    and the long-poll of the old address keeps working, so copies follow without a restart."""
    root = acting.root
    try:
        new_path = check_new_file_name(new_path)
    except BadPath as err:
        raise UsageError(str(err)) from None
    if new_path == hosted.path:
        raise UsageError(f"{hosted.path}: the file is already there")
    if acting.catalogue.file(new_path) is not None or root.repository(new_path).exists():
        raise UsageError(f"{new_path}: a file of that name is already on the server")
    old_repo, new_repo = root.repository(hosted.path), root.repository(new_path)
    new_repo.parent.mkdir(parents=True, exist_ok=True)
    folder = new_path.rpartition("/")[0]
    action = "rename" if hosted.folder == folder else "move"
    acting.catalogue.relocate_file(
        hosted, new_path, lambda: old_repo.rename(new_repo), acting.user.name, action
    )
    _remove_empty_folders(old_repo.parent, root.files)
    return Outcome(action, new_path, {"old": hosted.path, "new": new_path})


def rename(acting: Acting, *, file: str, name: str) -> Outcome:
    hosted = require_admin(acting.catalogue, acting.user, file)
    if "/" in name:
        raise UsageError(f"'{name}': a new name has no '/' (use 'server move' for folders)")
    return _relocate(acting, hosted, "/".join(p for p in (hosted.folder, name) if p))


def move(acting: Acting, *, file: str, folder: str = "") -> Outcome:
    hosted = require_admin(acting.catalogue, acting.user, file)
    return _relocate(acting, hosted, "/".join(p for p in (folder.strip("/"), hosted.name) if p))


def _recycle_name(hosted: HostedFile, suffix: str = "") -> str:
    return (
        f"{time.strftime('%Y%m%d-%H%M%S')}-{hosted.id} {hosted.path.replace('/', '~')}{suffix}.git"
    )


def delete(acting: Acting, *, file: str, abandon_outstanding: bool = False) -> Outcome:
    """Move a hosted file to the recycle area (refused while copies are active, unless they
    are abandoned first with ``abandon_outstanding``)."""
    hosted = require_admin(acting.catalogue, acting.user, file)
    active = _active_copy_ids(acting, hosted)
    abandoned: list[str] = []
    if active:
        if not abandon_outstanding:
            raise CopiesActive(
                f"delete refused: {hosted.path} has active copies: {', '.join(active)} "
                "(use --abandon-outstanding)"
            )
        abandoned = abandon(acting, file=hosted.path, copies=active).detail["abandoned"]
    repository = acting.root.repository(hosted.path)
    bin_folder = acting.root.path / RECYCLE
    bin_folder.mkdir(exist_ok=True)
    stored = _recycle_name(hosted)
    acting.catalogue.recycle_file(
        hosted,
        stored,
        lambda: repository.rename(bin_folder / stored),
        by=acting.user.name,
        remove=True,
        action="delete",
        abandoned=abandoned,
    )
    _remove_empty_folders(repository.parent, acting.root.files)
    return Outcome("delete", hosted.path, {"abandoned": abandoned, "recycled_as": stored})


def replace(acting: Acting, *, file: str, bundle: Path, ref: str) -> Outcome:
    """Replace Server Copy: the history in ``bundle`` (a sync copy's, its line at ``ref``)
    becomes the hosted file's; the old repository goes to the recycle area, where
    ``undelete`` brings it back once the name is free. The catalogue row and the access list
    stay, so copies whose history connects rejoin by syncing."""
    from gitsync.fs import make_staging

    root = acting.root
    hosted = require_admin(acting.catalogue, acting.user, file)
    if hosted.state != "ready":
        raise UsageError(f"{hosted.path}: the file is still being published")
    if not ref.startswith("refs/heads/") or any(c in ref for c in " ~^:?*[\\"):
        raise UsageError(f"'{ref}': not a branch of the copy")
    repository = root.repository(hosted.path)
    abandoned = _abandoned_records(acting, hosted)
    (root.path / WORK).mkdir(exist_ok=True)
    staging = make_staging(root.path / WORK, ".replace-")
    new = staging / "new.git"
    try:
        git(["init", "--quiet", "--bare", "--initial-branch=main", str(new)])
        # The whole history, needing nothing else: verified in an empty repository.
        checked = git(["bundle", "verify", "-q", str(bundle)], new, check=False)
        heads = git(["bundle", "list-heads", str(bundle)], new, check=False).stdout.split()
        if checked.returncode != 0 or ref not in heads:
            raise UsageError(f"{hosted.path}: the copy's history arrived incomplete; run it again")
        git(["fetch", "--quiet", str(bundle), f"{ref}:refs/heads/main"], new)
        tip = git(["rev-parse", "refs/heads/main"], new).stdout.strip()
        fsck = git(["fsck", "--no-progress"], new, check=False)
        if fsck.returncode != 0:
            raise UsageError(f"{hosted.path}: the copy's history is damaged too; nothing changed")
        bin_folder = root.path / RECYCLE
        bin_folder.mkdir(exist_ok=True)
        stored = _recycle_name(hosted, " (replaced)")
        acting.catalogue.recycle_file(
            hosted,
            stored,
            lambda: repository.rename(bin_folder / stored),
            by=acting.user.name,
            remove=False,
            action="replace",
            tip=tip,
        )
        created = root.create_repository(hosted.path)
        git(["fetch", "--quiet", str(new), "refs/heads/main:refs/heads/main"], created)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    still_abandoned = _keep_abandoned(acting, hosted, abandoned)
    refresh(acting.catalogue, root, hosted, acting.user)
    return Outcome(
        "replace",
        hosted.path,
        {"tip": tip, "recycled_as": stored, "kept_abandoned": still_abandoned},
    )


def _abandoned_records(acting: Acting, hosted: HostedFile) -> dict[str, dict[str, Any]]:
    """The abandoned copies' records of the (perhaps damaged) server copy, as far as it reads."""
    try:
        return registry.abandoned_records(main_snapshot(hosted_repository(acting.root, hosted)))
    except Exception:  # a damaged repository reads as far as it does: nothing to carry over
        return {}


def _keep_abandoned(
    acting: Acting, hosted: HostedFile, records: dict[str, dict[str, Any]]
) -> list[str]:
    """A copy abandoned at the old server copy stays abandoned, though the replacing copy had
    not heard of it (else a lost laptop's copy could sync again)."""
    from gitsync.model import canonical
    from gitsync.rules.commit import commit_checked

    if not records:
        return []
    with workbench(acting.root, hosted, acting.user) as bench:
        snapshot = bench.snapshot()
        # written again by this action, so stamped by the user who runs it
        stamp = bench.identity().modified()
        changes = {
            path: canonical.dumps(dict(record, modified=stamp))
            for path, record in records.items()
            if (snapshot.live(path) or {}).get("state") != "abandoned"
        }
        if changes:
            with bench.locked():
                commit_checked(
                    bench, changes, "Replace Server Copy: copies abandoned before stay abandoned"
                )
    return sorted(str(r.get("id", "")) for p, r in records.items() if p in changes)


def undelete(acting: Acting, *, file: str) -> Outcome:
    """Bring the most recently deleted file of that name back from the recycle area."""
    require_server_admin(acting.user, "undelete")
    root, catalogue = acting.root, acting.catalogue
    stored = catalogue.last_recycled(file)
    if stored is None:
        raise NoSuchFile(f"{file}: not in the recycle area")
    if catalogue.file(file) is not None or root.repository(file).exists():
        raise UsageError(f"{file}: a file of that name is on the server again; rename it first")
    target = root.repository(file)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = root.path / RECYCLE / stored
    catalogue.restore_file(file, lambda: source.rename(target), acting.user.name)
    return Outcome("undelete", file, {})


def grant(acting: Acting, *, file: str, user: str, right: str) -> Outcome:
    """Give ``user`` the ``right`` on the file (replacing what they had); ``none`` revokes."""
    hosted = require_admin(acting.catalogue, acting.user, file)
    if right not in RIGHTS:
        raise UsageError(f"right '{right}': use one of {', '.join(RIGHTS)}")
    acting.catalogue.set_access(hosted, user, right, by=acting.user.name)
    return Outcome(
        "grant" if right != "none" else "revoke", hosted.path, {"user": user, "right": right}
    )


def revoke(acting: Acting, *, file: str, user: str) -> Outcome:
    return grant(acting, file=file, user=user, right="none")


def _remove_empty_folders(folder: Path, base: Path) -> None:
    base = base.resolve()
    folder = folder.resolve()
    while folder != base and base in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# --- the table ---------------------------------------------------------------------------------

#: How a parameter arrives in a JSON body: a required text, an optional text, texts, a flag.
TEXT, MAYBE_TEXT, TEXTS, FLAG = "text", "text?", "texts", "flag"


@dataclass(frozen=True)
class Action:
    """One admin action: its function, the HTTP method of its API route, its parameters,
    and whether it changes what copies see (the long-polls are woken after it)."""

    run: Callable[..., Any]
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    wakes: bool = True


ACTIONS: dict[str, Action] = {
    "files": Action(list_files, "GET", wakes=False),
    "audit": Action(audit, "GET", {"file": MAYBE_TEXT}, wakes=False),
    "recycle": Action(recycled, "GET", wakes=False),
    "access": Action(access_list, "GET", {"file": TEXT}, wakes=False),
    "grant": Action(grant, params={"file": TEXT, "user": TEXT, "right": TEXT}, wakes=False),
    "revoke": Action(revoke, params={"file": TEXT, "user": TEXT}, wakes=False),
    "abandon": Action(abandon, params={"file": TEXT, "copies": TEXTS, "all": FLAG}),
    "rename": Action(rename, params={"file": TEXT, "name": TEXT}),
    "move": Action(move, params={"file": TEXT, "folder": MAYBE_TEXT}),
    "compress": Action(compress, params={"file": MAYBE_TEXT, "all": FLAG}, wakes=False),
    "delete": Action(delete, params={"file": TEXT, "abandon_outstanding": FLAG}),
    "undelete": Action(undelete, params={"file": TEXT}),
    "lockdown": Action(lockdown, params={"file": TEXT, "abandon_outstanding": FLAG}),
    "clear-sync": Action(clear_sync, params={"file": TEXT}),
    "repair": Action(repair, params={"file": TEXT}),
    "convert": Action(convert, params={"file": TEXT}),
}
#: Actions whose bodies stream (a tar out, a bundle in): the API route handles their bytes
#: and calls these with a path; the CLI's ``--root`` form calls them directly.
STREAMING = {"export": export, "replace": replace}


def arguments(action: str, given: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``action`` from a JSON body or query (UsageError when one is
    missing or of the wrong kind); names not in the table are ignored."""
    found: dict[str, Any] = {}
    for name, kind in ACTIONS[action].params.items():
        value = given.get(name)
        if kind == FLAG:
            if not isinstance(value, bool | None):
                raise UsageError(f"'{name}': true or false")
            found[name] = bool(value)
        elif kind == TEXTS:
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise UsageError(f"'{name}': a list of texts")
            found[name] = list(value or [])
        elif value in (None, ""):
            if kind == TEXT:
                raise UsageError(f"'{name}' is missing")
        elif not isinstance(value, str):
            raise UsageError(f"'{name}': a text")
        else:
            found[name] = value
    return found


def as_json(value: Any) -> Any:
    """An action's result as the API sends it (outcomes as dicts)."""
    if isinstance(value, list):
        return [v.as_dict() if isinstance(v, Outcome) else v for v in value]
    return value.as_dict() if isinstance(value, Outcome) else value


def call(acting: Acting, action: str, given: dict[str, Any]) -> Any:
    """Run ``action`` with the arguments in ``given``, checked against the table; as JSON."""
    if action not in ACTIONS:
        raise NoSuchAction(f"'{action}': no such admin action")
    return as_json(ACTIONS[action].run(acting, **arguments(action, given)))


class NoSuchAction(UsageError):
    http_status = 404
