"""The hierarchy: making sync copies, re-pointing a moved parent, peer parents, going offline.

A sync copy is a clone of its parent with the parent as remote ``parent``.
Each copy keeps its links in ``_Sync/sync.yaml`` (parent, top-level parent,
every ancestor, an optional peer) and registers itself in
``sync/copies/<id>.json``, a record that travels up like any change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gitsync.config import LocalState, user_config_get
from gitsync.errors import ExitCode, GitsyncError, NotAClientFile, UsageError
from gitsync.faults import fault_point
from gitsync.fs import make_staging, promote, remove_leftovers
from gitsync.model import canonical
from gitsync.model.records import KINDS, new_id, now_stamp
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.gitcli import git
from gitsync.repo.hooks import (
    guard_shared_line,
    install_hooks,
    receives_through_gitsync_alone,
)
from gitsync.repo.transport import clone_error, local_path
from gitsync.sync.engine import SyncReport, publish, routes, sync

SYNC_SUFFIX = " (Sync)"


class NotSameHierarchy(GitsyncError):
    exit_code = ExitCode.RULE


def default_sync_path() -> Path:
    configured = user_config_get("sync-path")
    return Path(str(configured)).expanduser() if configured else Path.home() / "gitsync"


def _address(source: str) -> tuple[str, Path | None]:
    """The normalised address of a source and its local folder (None for ssh)."""
    folder = local_path(source)
    if folder is None:
        return source, None
    folder = folder.expanduser().resolve()
    return str(folder), folder


def make_copy(source: str, dest: Path | None = None, *, user: str | None = None) -> ClientFile:
    """Make a sync copy of ``source`` at ``dest`` (default ``<sync path>/<name> (Sync)``).

    A local parent is locked while the copy is made, so two creators of the
    first child of a new hierarchy cannot interleave: the second waits, then
    is refused with a clear message if the first takes too long. The copy is
    built in a temporary sibling folder and renamed into place at the end,
    so a crash leaves no half-made copy; its registration is then sent up.
    """
    from gitsync.sync.remote import file_name_of, is_server_url, server_reference, server_user

    source = server_reference(source) or source
    address, folder = _address(source)
    parent_file: ClientFile | None = None
    if folder is not None:
        if not folder.exists():
            raise NotAClientFile(f"{source}: no client file there")
        parent_file = ClientFile.open(folder)
        from gitsync.repo.placement import require_placed

        require_placed(parent_file.root)  # a plain clone or a worktree makes no hierarchy
    if is_server_url(address):
        # A copy from a server: named as the file is there, no "(Sync)" suffix,
        # and made by the user signed in to that server.
        name = file_name_of(address)
        user = user or server_user(address)
        if dest is None:
            dest = default_sync_path() / name
    else:
        name = (folder.name if folder is not None else Path(address.rstrip("/")).name).removesuffix(
            ".git"
        )
    if dest is None:
        dest = default_sync_path() / f"{name.removesuffix(SYNC_SUFFIX)}{SYNC_SUFFIX}"
    dest = dest.expanduser().resolve()
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest}: the folder exists and is not empty")
    if parent_file is not None:
        from gitsync.rules.syncstate import signed_out

        out = signed_out(parent_file.snapshot())
        if out:
            taken = ", ".join(f"{r['component']} (to {r['user']})" for r in out)
            raise UsageError(
                f"{folder}: cannot make a sync copy while signed or checked out: {taken}"
            )
        with parent_file.locked(timeout=60.0):
            guard_shared_line(parent_file.repo)  # a parent made before the guards gets them now
            # The parent's own edits go on its shared line first, so the copy starts from them.
            publish(parent_file, SyncReport(parent_file.copy_id, "parent"))
            return _clone(address, dest, parent_file.state, user, parent_file)
    return _clone(address, dest, None, user)


def _clone(
    address: str,
    dest: Path,
    parent_state: LocalState | None,
    user: str | None,
    parent_file: ClientFile | None = None,
) -> ClientFile:
    from gitsync.rules.commit import commit_checked

    dest.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{dest.name}."
    remove_leftovers(dest.parent, prefix)
    holder = make_staging(dest.parent, prefix, ".copy")
    staging = holder / "copy"  # git clone wants an empty folder of its own
    try:
        cloned = git(
            [
                "clone",
                "--quiet",
                "--origin",
                "parent",
                "--branch",
                "main",
                "--no-checkout",
                *_clone_mode(address),
                address,
                str(staging),
            ],
            check=False,
        )
        if cloned.returncode != 0:
            raise clone_error(address, cloned.stderr)
        fault_point("copy.cloned")
        git(["checkout", "--quiet", "--no-track", "-b", "work", "parent/main"], staging)
        git(["update-ref", "refs/remotes/top-level/main", "refs/remotes/parent/main"], staging)
        if user and "://" in address and not address.startswith("file://"):
            git(["config", "user.name", user], staging)  # the server judges pushes by this name
        copy = ClientFile.open(staging)
        install_hooks(copy.repo)
        ancestors = [address, *(parent_state.ancestors if parent_state else [])]
        if parent_state is not None and parent_state.role == "child" and parent_state.top_level:
            top_level = parent_state.top_level
        elif parent_state is not None:
            top_level = address
        else:
            top_level = address
        identity_name = user or copy.identity().name
        copy_id = new_id()
        state = LocalState(
            copy_id=copy_id,
            role="child",
            user=identity_name,
            parent=address,
            top_level=top_level,
            ancestors=ancestors,
        )
        copy.save_state(state)
        who = copy.identity()
        record = {
            "id": copy_id,
            "user": identity_name,
            "parent": _registry_parent(address, parent_state),
            "created": now_stamp(),
            "state": "active",
            "address": str(dest),
            "modified": who.modified(),
        }
        commit_checked(
            copy,
            {KINDS["copy"].path_for(copy_id): canonical.dumps(record)},
            f"Register sync copy {copy_id}",
            identity=who,
        )
        head = copy.head_commit()
        assert head is not None
        copy.set_ref("refs/heads/main", head.id, copy.ref("refs/heads/main"))
        fault_point("copy.registered")
        promote(staging, dest)
        fault_point("copy.in-place")
    finally:
        shutil.rmtree(holder, ignore_errors=True)
    copy = ClientFile.open(dest)
    if parent_file is not None and _register_in_parent(parent_file, copy):
        copy.first_sync = "online"
        return copy
    try:
        copy.first_sync = sync(copy, look_for_edits=False).state  # send the registration up now
    except GitsyncError as err:
        copy.first_sync = f"not sent yet: {err}"  # the registration stays queued
    return copy


def _registry_parent(address: str, parent_state: LocalState | None) -> str | None:
    """The parent id a new copy registers with: its parent's copy id, or the server's."""
    from gitsync.rules.syncstate import SERVER_PARENT
    from gitsync.sync.remote import is_server_url

    if parent_state is not None:
        return parent_state.copy_id
    return SERVER_PARENT if is_server_url(address) else None


def _register_in_parent(parent_file: ClientFile, copy: ClientFile) -> bool:
    """Put a new copy's registration on its local parent's shared line, as its push would.

    The caller holds the parent's lock, and the copy was cloned from the
    parent's shared line under it, with its registration committed on top
    through the same rules the parent's pre-receive runs. So the push of that
    one commit, through ``git push``, receive-pack and the hook (0.1 s of a
    0.37 s copy), is done here: the commit's few objects are written into the
    parent, then its shared line moves, compare-and-swap, from the commit's
    parent. False, and the first sync pushes it instead, when the copy's
    first route is not this parent (a grandchild syncs with the top level),
    when the push would run a hook of the user's own, or when the shared line
    moved meanwhile.
    """
    from gitsync.repo.clientfile import SHARED_BRANCH

    head = copy.head_commit()
    route = next(iter(routes(copy)), None)
    shared = parent_file.ref(SHARED_BRANCH)
    if head is None or route is None or shared is None or head.parent_ids != [shared]:
        return False
    if local_path(route.address) != parent_file.root:
        return False
    if not receives_through_gitsync_alone(parent_file.repo):
        return False
    if not parent_file.take_commit(copy, head.id):
        return False
    fault_point("copy.registration-written")
    if not parent_file.set_ref(SHARED_BRANCH, head.id, shared):
        return False
    copy.set_ref(route.tracking_ref, head.id, copy.ref(route.tracking_ref))
    for prefix in route.mirror_prefixes:
        copy.track(f"{prefix}/main", head.id)
    state = copy.state
    if state is not None:  # what the first sync would have noted
        state.extra["last_sync"] = route.last_sync()
        copy.save_state(state)
    return True


def _clone_mode(address: str) -> list[str]:
    """``--no-local`` when a local parent holds on-demand documents' content.

    A local clone hard-links every object, that content included (DESIGN
    section 9: 461 MB against 1 MB); without such content, hard links are
    the fastest copy there is.
    """
    folder = local_path(address)
    if folder is None:
        return []
    from gitsync.repo.content import holds_content

    return ["--no-local"] if holds_content(folder) else []


def locate_parent(client_file: ClientFile, new_address: str, *, top_level: bool = False) -> str:
    """Re-point a copy whose parent (or, with ``top_level``, top-level parent) moved.

    The new place is checked to be the same hierarchy first. Every link that
    named the old place (parent, top-level parent, ancestors) follows.
    """
    state = client_file.state
    if state is None or state.role != "child":
        raise UsageError(f"{client_file.root}: only a sync copy has a parent to locate")
    address, folder = _address(new_address)
    _check_same_hierarchy(client_file, address, folder)
    old = state.top_level if top_level else state.parent
    ancestors = list(state.ancestors or ([state.parent] if state.parent else []))
    if top_level:
        state.top_level = address
        if ancestors and ancestors[-1] == old:
            ancestors[-1] = address
    else:
        ancestors[:1] = [address]
    state.ancestors = ancestors
    if state.parent == old:
        state.parent = address
        git(["remote", "set-url", "parent", address], client_file.root)
    if state.top_level == old:
        state.top_level = address
    client_file.save_state(state)
    return address


def _check_same_hierarchy(client_file: ClientFile, address: str, folder: Path | None) -> None:
    mine = client_file.root_commit()
    if folder is not None:
        other = ClientFile.open(folder)
        if other.root == client_file.root:
            raise UsageError(f"{address}: that is this copy itself")
        theirs = other.root_commit()
    else:
        listing = git(["ls-remote", address, "refs/heads/main"], client_file.root, check=False)
        theirs = None
        if listing.returncode == 0 and listing.stdout.strip():
            tip = listing.stdout.split()[0]
            git(["fetch", "--quiet", address, "refs/heads/main"], client_file.root, check=False)
            theirs = client_file.root_commit(tip)
    if theirs != mine:
        raise NotSameHierarchy(
            f"{address}: not a client file of the same hierarchy as {client_file.root}"
        )


def set_peer(client_file: ClientFile, address: str | None) -> str | None:
    """Name a peer parent (another copy of the same hierarchy), or clear it with None."""
    state = client_file.state
    if state is None or state.role != "child":
        raise UsageError(f"{client_file.root}: only a sync copy can have a peer parent")
    peer_id = None
    if address is not None:
        address, folder = _address(address)
        _check_same_hierarchy(client_file, address, folder)
        if folder is not None:
            other = ClientFile.open(folder).state
            peer_id = other.copy_id if other is not None else None
    state.peer = address
    client_file.save_state(state)
    _register_peer(client_file, peer_id)
    return address


def _register_peer(client_file: ClientFile, peer_id: str | None) -> None:
    """Record the peer parent's copy in the registry, so a server takes what it forwards."""
    from gitsync.rules.commit import commit_checked

    path = KINDS["copy"].path_for(client_file.copy_id)
    record = client_file.snapshot().read(path)
    if not isinstance(record, dict) or record.get("peer") == peer_id:
        return
    record = {k: v for k, v in record.items() if k != "peer"}
    if peer_id is not None:
        record["peer"] = peer_id
    who = client_file.identity()
    record["modified"] = who.modified()
    with client_file.locked():
        commit_checked(
            client_file,
            {path: canonical.dumps(record)},
            f"Peer parent of sync copy {client_file.copy_id}",
            identity=who,
        )


def set_offline(client_file: ClientFile, offline: bool) -> None:
    """Work offline (no parent is contacted; commits queue) or go back online."""
    state = client_file.state
    if state is None or state.role != "child":
        raise UsageError(f"{client_file.root}: the top-level parent is never offline")
    state.offline = offline
    client_file.save_state(state)
