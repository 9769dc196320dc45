"""The online agent (``gitsync watch``) and opening the top-level parent (``gitsync open``).

The agent syncs whenever this copy's working line or working files change,
and as soon as the parent's shared line moves. A parent on this machine is
watched through inotify on its refs (no CPU while idle, and it sees a push
before the push returns; DESIGN section 8). A parent on a gitsync server is
followed by one long-poll request (``gitsync.sync.remote.follow_changes``),
which wakes the agent through a file in this copy's git folder, so one loop
serves both. A parent that cannot be watched (ssh, or gone) is retried with a
backoff, and the agent comes back online by itself when the parent is there
again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitsync.config import SYNC_DIR
from gitsync.errors import Busy, Denied, GitsyncError, one_line
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.gitcli import git
from gitsync.repo.transport import local_path
from gitsync.sync.engine import SyncReport, routes, sync

MAX_BACKOFF = 30.0
WAKE_FILE = "gitsync-parent-moved"  # touched in the copy's git folder when a server parent moved
TICK = 1.0  # seconds between looks at a parent that cannot be watched


def open_top_level(client_file: ClientFile) -> SyncReport:
    """Apply to the top-level parent's working files what its copies pushed, then compact."""
    state = client_file.state
    if state is not None and state.role == "child":
        raise GitsyncError(
            f"{client_file.root}: 'open' is for the top-level parent; use 'gitsync sync' in a copy"
        )
    report = sync(client_file)
    git(["gc", "--auto", "--quiet"], client_file.root, check=False)
    return report


def _watched_dirs(client_file: ClientFile) -> list[Path]:
    """Folders whose changes mean "sync now": our refs, our working files, local parents' refs."""
    dirs = [Path(client_file.repo.path), client_file.root]
    for route in routes(client_file):
        folder = local_path(route.address)
        if folder is None:
            continue
        git_dir = folder / ".git"
        if git_dir.is_dir():
            dirs.append(git_dir)
        elif (folder / "HEAD").exists():
            dirs.append(folder)
    return dirs


def _relevant(client_file: ClientFile) -> Callable[[Any, str], bool]:
    """Keep only changes to refs and to working files; ignore object writes, locks and _Sync."""
    own_git = str(Path(client_file.repo.path).resolve())
    sync_dir = str((client_file.root / SYNC_DIR).resolve())

    def keep(_change: Any, path: str) -> bool:
        if path.endswith(".lock") or path.startswith(sync_dir):
            return False
        if path.endswith(f"/{WAKE_FILE}"):
            return True
        if "/.git/" in path or path.startswith(own_git) or path.endswith("/.git"):
            return "/refs/heads/" in path or path.endswith("packed-refs")
        if path.endswith("/HEAD") or "/refs/heads/" in path:  # a bare parent
            return True
        return True

    return keep


def watch(
    client_file: ClientFile,
    *,
    on_event: Callable[[dict[str, Any]], None],
    retry_interval: float = 2.0,
    stop: threading.Event | None = None,
    sync_once: Callable[[ClientFile], SyncReport] = sync,
) -> None:
    """Sync now, then again on every change, until ``stop`` is set or Ctrl-C.

    Each sync is ``sync_once`` (the command hands the server client's
    ``sync_file``, which first finishes a publish that stopped).
    """
    try:
        _watch(client_file, on_event, retry_interval, stop or threading.Event(), sync_once)
    except KeyboardInterrupt:
        on_event({"event": "stopped", "line": "stopped"})


def _watch(
    client_file: ClientFile,
    on_event: Callable[[dict[str, Any]], None],
    retry_interval: float,
    stop: threading.Event,
    sync_once: Callable[[ClientFile], SyncReport],
) -> None:
    from watchfiles import watch as watch_paths

    backoff = retry_interval

    online = True

    def run_once(reason: str) -> bool:
        started = time.monotonic()
        try:
            report = sync_once(client_file)
        except Busy:
            return online  # a command holds the copy: its change wakes the agent again
        except Denied:
            stop.set()  # signed out or no longer allowed: retrying cannot help; the line says why
            raise
        except GitsyncError as err:
            on_event({"event": "error", "reason": reason, "line": f"sync failed: {err}"})
            return False
        except Exception as err:  # the agent outlives the unexpected: one line, go on
            line = f"sync failed: internal error: {type(err).__name__}: {one_line(err)}"
            on_event({"event": "error", "reason": reason, "line": line})
            return False
        took = round((time.monotonic() - started) * 1000)
        data = report.as_dict() | {"event": "sync", "reason": reason, "ms": took}
        if report.state == "offline":
            data["line"] = f"offline: {report.pending} change(s) queued; retrying in {backoff:.0f}s"
        else:
            quiet = not (report.sent or report.received or report.committed or report.merged)
            data["line"] = (
                f"{report.state}: up to date ({took} ms)"
                if quiet
                else f"{report.state}: sent {report.sent}, received {report.received} ({took} ms)"
            )
        on_event(data)
        return report.state not in ("offline", "publishing")  # both retry with backoff

    online = run_once("start")
    _follow_servers(client_file, stop)
    next_retry = time.monotonic() + backoff
    while not stop.is_set():
        dirs = [d for d in _watched_dirs(client_file) if d.exists()]
        # One watcher lives as long as the folders it watches: changes made
        # while a sync runs are kept by it and yielded next, never missed.
        for batch in watch_paths(
            *dirs,
            watch_filter=_relevant(client_file),
            debounce=50,
            step=20,
            stop_event=stop,
            rust_timeout=int(TICK * 1000),
            yield_on_timeout=True,
            raise_interrupt=True,
        ):
            if stop.is_set():
                break
            if batch:
                online = run_once("change")
            elif not online and time.monotonic() >= next_retry:
                online = run_once("retry")
            else:
                if [d for d in _watched_dirs(client_file) if d.exists()] != dirs:
                    break  # a parent came back or went away: watch the folders there are now
                continue
            backoff = retry_interval if online else min(backoff * 2, MAX_BACKOFF)
            next_retry = time.monotonic() + backoff
            if not online:
                break  # the parent may have gone: look again at what there is to watch


def _follow_servers(client_file: ClientFile, stop: threading.Event) -> None:
    """One long-poll thread per server parent on the route; each wakes the loop through a file."""
    from gitsync.sync.remote import follow_changes, is_server_url

    wake = Path(client_file.repo.path) / WAKE_FILE
    for route in routes(client_file):
        if not is_server_url(route.address):
            continue

        def touch() -> None:
            wake.write_text(f"{time.time()}\n", encoding="ascii")

        def tip(ref: str = route.tracking_ref) -> str | None:
            found = git(["rev-parse", "--verify", "--quiet", ref], client_file.root, check=False)
            return found.stdout.strip() or None

        def said(root: Path = client_file.root, copy: str = client_file.copy_id) -> dict[str, str]:
            # The server shows this copy as seen, with what it holds unsent.
            from gitsync.sync.status import pending_paths

            return {"X-Gitsync-Copy": copy, "X-Gitsync-Pending": str(len(pending_paths(root)))}

        threading.Thread(
            target=follow_changes,
            args=(route.address, touch, stop),
            kwargs={"own_tip": tip, "said": said},
            name=f"gitsync-follow-{route.name}",
            daemon=True,
        ).start()
