"""Leaving the hierarchy, and keeping a file out of it.

- ``delete_copy``: a child sends what it has, unregisters, and is removed
  (or kept as an ordinary client file).
- ``clear_sync``: the top-level parent, once no active copies remain, drops
  its sync state and registry and becomes an ordinary client file.
- sign-out / check-out: a file (or a component of it) taken out for one
  user; refused for a file with sync copies, and a signed-out file cannot be
  copied.
- milestones (git tags) are not offered on a sync file.
"""

from __future__ import annotations

import os
import re
import shutil
from typing import Any

from gitsync.errors import ExitCode, GitsyncError, Refused, Unreachable, UsageError
from gitsync.faults import fault_point
from gitsync.fs import make_staging
from gitsync.maintenance.lockdown import MaintenanceReport, require_top_level
from gitsync.model import canonical
from gitsync.model.records import KINDS, now_stamp
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.gitcli import git
from gitsync.rules import syncstate
from gitsync.rules.commit import commit_checked
from gitsync.rules.syncstate import active_copies
from gitsync.sync.engine import SyncReport, sync

COPIES = KINDS["copy"].folder
CHECKOUTS = KINDS["checkout"].folder
WHOLE_FILE = "file"


class SyncFileRefused(Refused):
    """The action is not offered on a file that takes part in a hierarchy."""


def _is_sync_file(client_file: ClientFile) -> str | None:
    """Why the file counts as a sync file (a copy, or a parent with active copies), or None."""
    state = client_file.state
    if state is not None and state.role == "child":
        return "it is a sync copy"
    copies = active_copies(client_file.snapshot(), exclude=client_file.copy_id)
    if copies:
        return f"it has {len(copies)} active sync cop{'y' if len(copies) == 1 else 'ies'}"
    return None


class DocumentsBeingWritten(GitsyncError):
    """A document in the copy is still being written (open in its application): not taken half-written."""

    exit_code = ExitCode.BUSY


def _sync_when_written(client_file: ClientFile, wait: float | None = None) -> SyncReport:
    """Sync, waiting up to ``wait`` seconds for documents still being written to be saved.

    A copy about to be deleted must not leave an edit behind: while a
    document's size or mtime still moves, sync leaves it for the next sync,
    so this syncs again once it settles, and refuses when it never does.
    """
    import time

    limit = float(os.environ.get("GITSYNC_DOC_WAIT", "30")) if wait is None else wait
    deadline = time.monotonic() + limit
    report = sync(client_file)
    while report.writing and time.monotonic() < deadline:
        time.sleep(0.5)
        report = sync(client_file)
    if report.writing:
        raise DocumentsBeingWritten(
            f"delete-copy refused: {', '.join(report.writing)} still being written "
            f"after {limit:g} s; save and close it, then run delete-copy again"
        )
    return report


def delete_copy(
    client_file: ClientFile, *, keep: bool = False, discard_unsent: bool = False
) -> MaintenanceReport:
    """Send outstanding changes, unregister this copy, then remove it (or keep a plain file).

    ``discard_unsent`` is the way out of a copy whose changes the parents
    will never take (the file was locked down before they were sent): they
    are dropped, the copy takes the parent's line as it is, and leaves. The
    report says how many were discarded; ``gitsync backup`` keeps them first.
    """
    state = client_file.state
    if state is None or state.role != "child":
        raise UsageError(f"{client_file.root}: delete-copy is for a sync copy; this is not one")
    if state.offline:
        raise UsageError(f"{client_file.root}: the copy is offline; run 'gitsync online' first")
    discarded = _discard_unsent(client_file, state.copy_id) if discard_unsent else 0
    report = _sync_when_written(client_file)
    if report.state == "offline":
        raise Unreachable(
            f"delete-copy refused: the parent cannot be reached ({', '.join(report.unreachable)}); "
            "outstanding changes must be sent first"
        )
    below = [
        r["id"]
        for _, r in client_file.snapshot().records(COPIES)
        if r.get("parent") == state.copy_id and r.get("state") == "active"
    ]
    if below:
        raise UsageError(
            f"{client_file.root}: this copy has active sync copies of its own: {', '.join(below)}"
        )
    path = KINDS["copy"].path_for(state.copy_id)
    with client_file.locked():
        record = client_file.snapshot().read(path)
        if record is None:
            raise GitsyncError(f"{path}: this copy is not in the registry; run 'gitsync repair'")
        if record.get("state") != "deleted":  # a second run after a crash finds it done
            record = dict(record, state="deleted", modified=client_file.identity().modified())
            commit_checked(
                client_file, {path: canonical.dumps(record)}, f"Delete sync copy {state.copy_id}"
            )
    fault_point("delete-copy.unregistered")
    final = sync(client_file)
    if final.state == "offline":
        raise Unreachable(
            "delete-copy stopped: the unregistration could not be sent (the parent cannot be "
            "reached); run it again"
        )
    if final.pending:
        raise GitsyncError(
            "delete-copy stopped: the unregistration could not be sent; run it again"
        )
    fault_point("delete-copy.sent")
    root = client_file.root
    if keep:
        _make_ordinary(client_file)
    else:
        # Out of sight first, then removed: a kill halfway leaves no broken copy under the
        # copy's name, and the next copy or new file made there clears the rest away.
        doomed = make_staging(root.parent, f".{root.name}.", ".deleted")
        root.rename(doomed / "copy")
        fault_point("delete-copy.moved-aside")
        shutil.rmtree(doomed)
    return MaintenanceReport(
        "delete-copy",
        removed=[] if keep else [str(root)],
        detail={"kept": keep, "discarded": discarded},
    )


def _discard_unsent(client_file: ClientFile, copy_id: str) -> int:
    """Drop what this copy has not sent: its working edits, then its unsent commits.

    The copy's lines are set to its parent's shared line as fetched now, so
    the unregistration that follows is the only change it sends. Every step
    can run again: a second run after a crash finds less (or nothing) to drop.
    Returns how many records and files were discarded.
    """
    from gitsync.repo.clientfile import SHARED_BRANCH
    from gitsync.repo.transport import CopyAbandoned, fetch
    from gitsync.rules.syncstate import copy_abandoned
    from gitsync.rules.workingfiles import next_commit
    from gitsync.sync.engine import routes
    from gitsync.sync.lines import unsent_paths

    below = [
        r["id"]
        for _, r in client_file.snapshot().records(COPIES)
        if r.get("parent") == copy_id and r.get("state") == "active"
    ]
    if below:
        raise UsageError(
            f"{client_file.root}: this copy has active sync copies of its own: {', '.join(below)}"
        )
    with client_file.locked():
        theirs = None
        for route in routes(client_file):
            try:
                heads, _ = fetch(client_file.root, route.address, route.tracking_prefix)
            except Unreachable:
                continue
            theirs = client_file.oid(heads["main"])
            # Refused before anything is dropped: an abandoned copy cannot unregister, so
            # discarding its work could never be followed by leaving.
            if copy_abandoned(client_file.snapshot_at(route.tracking_ref), copy_id):
                raise CopyAbandoned(copy_id, f"{route.name} ({route.address})")
            break
        if theirs is None:
            raise Unreachable(
                "delete-copy refused: no parent can be reached; the copy must tell its "
                "parent it leaves"
            )
        plan = next_commit(client_file, strict=False)
        dropped = unsent_paths(client_file.root) | set(plan.paths)
        edited = [*plan.taken, *plan.deleted, *plan.restore]
        if edited:
            snapshot = client_file.snapshot()
            committed = {path: snapshot.read_bytes(path) for path in edited}
            kept = {p: data for p, data in committed.items() if data is not None}
            client_file.update_worktree(client_file.write_objects(committed), kept)
        fault_point("delete-copy.edits-discarded")
        shared = client_file.ref(SHARED_BRANCH)
        if shared is not None and shared != theirs:
            client_file.set_ref(SHARED_BRANCH, theirs, shared)
        client_file.advance_head(theirs)
        fault_point("delete-copy.unsent-discarded")
    return len({p for p in dropped if not p.startswith(f"{COPIES}/")})


def _make_ordinary(client_file: ClientFile) -> None:
    """Drop remotes, then the sync state (last: it is what makes the file a copy); history stays.

    Every step can run again, so a second run after a crash finishes the job.
    """
    for remote in git(["remote"], client_file.root).stdout.split():
        git(["remote", "remove", remote], client_file.root)
    refs = git(["for-each-ref", "--format=%(refname)", "refs/remotes/"], client_file.root)
    for ref in refs.stdout.split():
        git(["update-ref", "-d", ref], client_file.root)
    fault_point("delete-copy.remotes-removed")
    shutil.rmtree(client_file.sync_dir, ignore_errors=True)


def clear_sync(client_file: ClientFile) -> MaintenanceReport:
    """At the top-level parent with no active copies: remove _Sync, the remotes and the registry."""
    require_top_level(client_file, "clear-sync")
    sync(client_file)  # take in whatever the copies sent last
    with client_file.locked():
        snapshot = client_file.snapshot()
        remaining = active_copies(snapshot, exclude=client_file.copy_id)
        if remaining:
            listed = ", ".join(f"{r['id']} ({r.get('user', '')})" for r in remaining)
            raise SyncFileRefused(f"clear-sync refused: active sync copies remain: {listed}")
        registry = snapshot.paths(COPIES)
        if registry:
            from gitsync.repo.clientfile import build_tree
            from gitsync.repo.revisions import commit_tree

            head = client_file.head_commit()
            assert head is not None
            tree = build_tree(client_file.repo, head.tree, dict.fromkeys(registry))
            who = client_file.identity()
            message = f"Clear sync: remove the hierarchy registry ({len(registry)} record(s))"
            commit = commit_tree(client_file, tree, [head.id], message, who)
            client_file.advance_head(commit)
            client_file.set_ref("refs/heads/main", commit, client_file.ref("refs/heads/main"))
        _make_ordinary(client_file)
    return MaintenanceReport("clear-sync", removed=registry)


def _component_id(component: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", component.strip()).strip("-.") or WHOLE_FILE
    return slug[:64]


def checkout(client_file: ClientFile, component: str = WHOLE_FILE) -> dict[str, Any]:
    """Sign out the file (component ``file``) or check out one component for this user."""
    why = _is_sync_file(client_file)
    if why:
        what = "sign out" if component == WHOLE_FILE else f"check out {component}"
        raise SyncFileRefused(
            f"cannot {what}: {why} (a synchronized file is never signed or checked out)"
        )
    ident = _component_id(component)
    path = KINDS["checkout"].path_for(ident)
    with client_file.locked():
        existing = client_file.snapshot().live(path)
        if existing is not None:
            raise UsageError(
                f"{component} is already out to {existing.get('user')} (since {existing.get('at')})"
            )
        who = client_file.identity()
        record = {
            "id": ident,
            "component": component,
            "user": who.name,
            "copy": who.copy_id,
            "at": now_stamp(),
            "modified": who.modified(),
        }
        commit_checked(
            client_file,
            {path: canonical.dumps(record)},
            f"{'Sign out' if component == WHOLE_FILE else 'Check out'} {component}",
        )
    return record


def checkin(client_file: ClientFile, component: str = WHOLE_FILE) -> dict[str, Any]:
    """Sign the file back in (or check a component in); only the user who took it out can."""
    path = KINDS["checkout"].path_for(_component_id(component))
    with client_file.locked():
        record = client_file.snapshot().live(path)
        if record is None:
            raise UsageError(f"{component} is not signed or checked out")
        who = client_file.identity()
        if record.get("user") != who.name:
            raise UsageError(
                f"{component} is out to {record.get('user')}; only they can bring it back"
            )
        record = dict(record, deleted=True, modified=who.modified())
        commit_checked(
            client_file,
            {path: canonical.dumps(record)},
            f"{'Sign in' if component == WHOLE_FILE else 'Check in'} {component}",
        )
    return record


def signed_out(client_file: ClientFile) -> list[dict[str, Any]]:
    """The live sign-outs and check-outs of a file."""
    return syncstate.signed_out(client_file.snapshot())


def add_milestone(client_file: ClientFile, name: str) -> str:
    """Mark the current state with a milestone (an annotated tag); not offered on a sync file."""
    why = _is_sync_file(client_file)
    if why:
        raise SyncFileRefused(f"milestones are not offered on a sync file: {why}")
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", name):
        raise UsageError(f"'{name}': a milestone name is letters, digits, '.', '_' and '-'")
    tag = f"milestone/{name}"
    result = git(["tag", "-a", tag, "-m", f"Milestone {name}"], client_file.root, check=False)
    if result.returncode != 0:
        raise UsageError(
            f"milestone {name} exists already"
            if "already exists" in result.stderr
            else result.stderr.strip()
        )
    return tag
