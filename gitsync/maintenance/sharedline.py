"""Put back a parent's shared line (main) that plain git deleted, from what a copy knows.

A parent refuses to delete its shared line (``gitsync.rules.refs``, and
``receive.denyDeletes``), but a push made before those guards, or a
``git update-ref -d`` in the parent itself, can still leave it gone. Every
copy's sync then stops with ``ParentLineGone`` (exit 8) until ``gitsync
repair`` in one copy restores it:

1. the best commit this copy knows was on that parent's main: its record of
   the line (``refs/remotes/<route>/main``, which ``fetch`` keeps when it
   finds the line gone); of several records, the one that descends from the
   others;
2. that commit is pushed to the parent as its main, through the parent's
   hook like any push (a line that is gone may be created again);
3. a local parent that is a client file then opens, as every command opens
   it: its own working line (``work``, which holds whatever it published
   before) is merged with the restored line and published. With no record
   in this copy at all, that alone restores the line from the parent's work.

What other copies had sent after this copy's record came up again with their
next sync (they still hold it, and the parent's line is where they left it
or older), so every copy converges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitsync.errors import GitsyncError
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.gitcli import git
from gitsync.repo.hooks import guard_shared_line_at
from gitsync.repo.transport import PushRefused, local_path, push
from gitsync.sync.engine import open_parent, routes
from gitsync.sync.route import Route


@dataclass(frozen=True)
class RestoredLine:
    """One parent's main put back: where, at which commit, and from what."""

    address: str
    commit: str
    source: str  # "this copy's record" | "the parent's own working line"

    def as_dict(self) -> dict[str, str]:
        return {"address": self.address, "commit": self.commit, "from": self.source}


class LineNotRestored(GitsyncError):
    """The parent refused the restored line (its rules, or a server's identity check)."""


def guard_local_parents(client_file: ClientFile) -> list[str]:
    """Set the receive guards on every parent of this copy that is a folder here; what changed."""
    changed: list[str] = []
    for route in routes(client_file):
        folder = local_path(route.address)
        if folder is not None and folder.exists():
            changed.extend(f"{route.address}: {c}" for c in guard_shared_line_at(folder))
    return changed


def restore_parent_lines(
    client_file: ClientFile, problems: list[str] | None = None
) -> list[RestoredLine]:
    """Restore the shared line of each parent on this copy's route that has lost it.

    A parent that refuses the restored line is left as it is, its one line added
    to ``problems`` (a server's identity check refuses a history holding other
    users' commits that did not come through this user's copies).
    """
    problems = problems if problems is not None else []
    state = client_file.state
    if state is None or state.role != "child" or state.offline:
        return []
    restored: list[RestoredLine] = []
    for route in routes(client_file):
        heads = _heads(client_file.root, route.address)
        if heads is None or "refs/heads/main" in heads:
            continue  # unreachable (nothing to do from here), or the line is there
        try:
            found = _restore(client_file, route, "refs/heads/work" in heads)
        except LineNotRestored as err:
            problems.append(str(err))
            continue
        if found is not None:
            restored.append(found)
    if restored:
        first = next(r for r in routes(client_file) if r.address == restored[0].address)
        state.extra["last_sync"] = first.last_sync()  # repair reached it: no longer "gone"
        client_file.save_state(state)
    return restored


def _heads(root: Path, address: str) -> dict[str, str] | None:
    """The parent's branches (ref -> commit), None when it cannot be reached."""
    listing = git(["ls-remote", "--heads", address], root, check=False)
    if listing.returncode != 0:
        return None
    found: dict[str, str] = {}
    for line in listing.stdout.splitlines():
        oid, _, ref = line.partition("\t")
        found[ref.strip()] = oid
    return found


def _best_record(client_file: ClientFile, route: Route) -> str | None:
    """The newest commit this copy knows was on the route's main (None when it knows none)."""
    names = [route.tracking_ref]
    state = client_file.state
    if state is not None and state.parent == route.address:
        names.append("refs/remotes/parent/main")  # where ``copy`` first saw it
    known = [str(c) for c in (client_file.ref(n) for n in names) if c is not None]
    best: str | None = None
    for commit in known:
        if best is None or client_file.is_ancestor(client_file.oid(best), client_file.oid(commit)):
            best = commit
    return best


def _restore(client_file: ClientFile, route: Route, has_work: bool) -> RestoredLine | None:
    commit = _best_record(client_file, route)
    folder = local_path(route.address)
    if commit is not None:
        try:
            outcome = push(client_file.root, route.address, commit, copy=client_file.copy_id)
        except PushRefused as err:
            raise LineNotRestored(
                f"{route.address}: the shared line (main) could not be restored from this "
                f"copy: {err}"
            ) from None
        if not outcome.accepted:
            return None  # someone restored it meanwhile: the next sync merges as usual
        tracking = client_file.ref(route.tracking_ref)
        client_file.set_ref(route.tracking_ref, client_file.oid(commit), tracking)
    parent = _local_client_file(folder) if has_work and folder is not None else None
    if parent is not None:
        if commit is None:
            from gitsync.sync.engine import publish
            from gitsync.sync.report import SyncReport

            with parent.locked(timeout=60.0):
                publish(parent, SyncReport(parent.copy_id, "parent"))
            tip = parent.ref("refs/heads/main")
            if tip is None:
                return None
            return RestoredLine(route.address, str(tip), "the parent's own working line")
        open_parent(parent)
    if commit is None:
        return None
    return RestoredLine(route.address, commit, "this copy's record")


def _local_client_file(folder: Path) -> ClientFile | None:
    from gitsync.errors import GitsyncError

    try:
        return ClientFile.open(folder)
    except GitsyncError:
        return None
