"""A sync or a check with nothing to do, told apart without pygit2 or a YAML parser.

Most syncs (an agent's, a user's habit) find nothing: no edit in the working
files, nothing sent up by copies below, nothing new at the parent. Loading
pygit2 and the engine costs more than that answer, so ``idle_sync`` gives it
from git's own status, the ref files and one fetch. Whenever anything is to
do, or anything is unusual (a copy being published, documents kept outside
git, a head move a crash cut short, content sent up by a copy, a parent that
cannot be reached, a changed route), it returns None and the full sync runs,
which does exactly what it always did. What it reports is what the full sync
would report, and it writes nothing the full sync would not.
"""

from __future__ import annotations

from pathlib import Path

from gitsync.config import SYNC_DIR, LocalState
from gitsync.errors import GitsyncError
from gitsync.lock import LOCK_NAME, CopyLock
from gitsync.repo.gitcli import read_ref
from gitsync.sync.lines import SHARED_REF
from gitsync.sync.report import SyncReport
from gitsync.sync.route import routes_of

# Names kept in step with the modules that own them (a unit test compares them):
CHECKOUT_JOURNAL = "gitsync-checkout"  # gitsync.repo.clientfile: a head move under way
DOCUMENTS_CACHE = "gitsync-documents.json"  # gitsync.documents.behaviour: files outside git
INCOMING_PREFIX = "refs/gitsync/incoming/"  # gitsync.repo.content: content sent by copies
CHECKED_FILE = "gitsync-checked"  # gitsync.rules.workingfiles: the tree last found clean


def idle_check(root: Path) -> bool:
    """True when ``gitsync check`` at ``root`` has nothing to judge: no rule can be broken.

    That is: the last check found HEAD's tree clean (it names the commit),
    nothing came into the shared line since, and no working file differs
    from HEAD. The full check would then judge an empty change against a
    tree it found clean and find nothing; anything else goes to it.
    """
    from gitsync.repo.gitcli import working_file_changes

    git_dir = root / ".git"
    if not git_dir.is_dir() or not (root / "engagement.json").is_file() or not _placed(root):
        return False
    try:
        words = (git_dir / CHECKED_FILE).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return False
    head = read_ref(root, "HEAD")
    if len(words) != 2 or head is None or words[1] != head:
        return False
    shared = read_ref(root, SHARED_REF)
    if shared is not None and shared != head:
        return False  # copies sent something: the full check opens the parent first
    return not working_file_changes(root, f"{SYNC_DIR}/")


def idle_sync(root: Path) -> SyncReport | None:
    """The report of a sync of the copy at ``root`` when it has nothing to do, else None.

    ``root`` must be the copy's top folder. Runs under the copy's lock, taken
    without waiting: a busy copy goes to the full sync, which waits.
    """
    git_dir = root / ".git"
    if not git_dir.is_dir() or not (root / "engagement.json").is_file() or not _placed(root):
        return None
    lock = CopyLock(git_dir / LOCK_NAME)
    if not lock.acquire(0):
        return None
    try:
        return _idle(root, git_dir)
    finally:
        lock.release()


def _idle(root: Path, git_dir: Path) -> SyncReport | None:
    from gitsync.repo.gitcli import working_file_changes

    state_file = LocalState.path(root)
    try:
        stamp = state_file.stat().st_mtime_ns
        state = LocalState.load(root)
    except (OSError, GitsyncError):
        return None
    if state is None or state.role != "child" or state.offline or state.extra.get("publishing"):
        return None
    if state.extra.get("denied"):
        return None  # the full sync asks the server again, and forgets the refusal if it passes
    head = read_ref(root, "HEAD")
    if _unusual(git_dir) or read_ref(root, SHARED_REF) != head:
        return None  # copies below sent something (or the shared line is not there)
    routes = routes_of(state)
    if head is None or not routes or working_file_changes(root, f"{SYNC_DIR}/", hand_on=True):
        return None  # work to commit: the full sync takes this status on
    route = routes[0]
    last = route.last_sync()
    if state.extra.get("last_sync") != last:
        return None  # the full sync records the new route
    from gitsync.repo.transport import fetch

    try:
        heads, received = fetch(
            root,
            route.address,
            route.tracking_prefix,
            copy=state.copy_id,
            also_into=route.mirror_prefixes,
        )
    except GitsyncError:
        return None  # unreachable, or moved: the full sync tries the other routes
    try:
        moved = state_file.stat().st_mtime_ns != stamp  # the fetch followed a renamed file
    except OSError:
        return None
    if moved or heads.get("main") != head or not _has(root, head, heads.get("work")):
        return None
    if read_ref(root, "HEAD") != head or read_ref(root, route.tracking_ref) != head:
        return None
    report = SyncReport(copy_id=state.copy_id, role="child", bytes_received=received)
    report.state, report.route, report.address = last["state"], route.name, route.address
    return report


def _placed(root: Path) -> bool:
    """True when gitsync may work here; else the full command says why (``repo.placement``)."""
    from gitsync.repo.placement import placement

    try:
        found = placement(root)
    except GitsyncError:
        return False
    return found.problem() is None and not found.shallow


def _has(root: Path, head: str, commit: str | None) -> bool:
    """True when the line at ``head`` already holds ``commit`` (or there is none)."""
    if commit is None or commit == head:
        return True
    from gitsync.repo.gitcli import git

    found = git(["merge-base", "--is-ancestor", commit, head], root, check=False)
    return found.returncode == 0


def _unusual(git_dir: Path) -> bool:
    """A head move to finish, documents kept outside git, or content sent up by a copy."""
    if (git_dir / CHECKOUT_JOURNAL).exists():
        return True
    try:
        if (git_dir / DOCUMENTS_CACHE).read_text(encoding="utf-8").strip() not in ("", "{}"):
            return True
    except FileNotFoundError:
        pass
    except OSError:
        return True
    incoming = git_dir / INCOMING_PREFIX.rstrip("/")
    if incoming.is_dir() and any(incoming.iterdir()):
        return True
    try:
        packed = (git_dir / "packed-refs").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return INCOMING_PREFIX in packed
