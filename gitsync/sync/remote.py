"""A parent on a gitsync server, as a copy sees it: its address, its user, its changes.

The sync layer needs these to make a copy of a server file and to follow it
(``gitsync.sync.hierarchy``, ``gitsync.sync.agent``); the rest of the client
side (sign-in, publish, search) is ``gitsync.server.client``, which builds
on them. Known servers are kept in the user's config
(``servers: {label: {url, user}}``); a token is kept by git's credential
helpers and read from there, never from a URL.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from gitsync.config import servers
from gitsync.errors import Denied, GitsyncError, Refused, UsageError
from gitsync.repo.gitcli import git

LONG_POLL_SECONDS = 25.0
MAX_POLL_BACKOFF = 30.0
_REFERENCE = re.compile(r"^(?P<label>[A-Za-z0-9_.-]+):(?P<file>[^/].*)$")


class NotSignedIn(Denied):
    """The server refused the credentials (or none are stored): sign in again."""


# --- addresses and known servers ------------------------------------------------------


def is_server_url(address: str) -> bool:
    return address.startswith(("http://", "https://"))


def base_url(url: str) -> str:
    """``scheme://host[:port]`` of a server address."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def file_name_of(url: str) -> str:
    """The file's name in a server git URL (its last path segment, decoded)."""
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]).removesuffix(".git")


def server_entry(label: str | None) -> tuple[str, dict[str, str]]:
    """The server named by ``label``, or the only one there is."""
    known = servers()
    if label is None:
        if len(known) != 1:
            raise UsageError("name the server with --server LABEL (see 'gitsync server list')")
        label = next(iter(known))
    if label not in known:
        raise UsageError(f"no server labelled '{label}' (add it with 'gitsync server add')")
    return label, known[label]


def server_reference(source: str) -> str | None:
    """The git URL of ``LABEL:FILE`` when LABEL is a known server, else None."""
    match = _REFERENCE.match(source)
    if not match or match.group("label") not in servers():
        return None
    _, entry = server_entry(match.group("label"))
    return f"{entry['url']}/git/{quote(match.group('file'))}"


def server_user(url: str) -> str | None:
    """The user signed in to the known server that serves ``url``, if any."""
    for entry in servers().values():
        if entry.get("user") and url.startswith(entry.get("url", "") + "/"):
            return entry["user"]
    return None


# --- credentials ----------------------------------------------------------------------


def credential(action: str, url: str, user: str, token: str | None = None) -> dict[str, str]:
    """``git credential ACTION`` for the server of ``url``: ``fill`` returns what git's
    helpers hold (NotSignedIn when none), ``approve`` and ``reject`` store and drop a token."""
    parts = urlsplit(url)
    lines = [f"protocol={parts.scheme}", f"host={parts.netloc}"]
    if user:
        lines.append(f"username={user}")
    if token is not None:
        lines.append(f"password={token}")
    result = git(["credential", action], input="\n".join(lines) + "\n\n", check=False)
    if action != "fill":
        return {}
    if result.returncode != 0:
        raise NotSignedIn(
            f"{base_url(url)}: not signed in (run 'gitsync login LABEL --user {user}')"
        )
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return found


# --- notifications (the watch agent) --------------------------------------------------


def events_url(git_url: str) -> str:
    """The long-poll address of a server file, from its git URL."""
    parts = urlsplit(git_url)
    path = parts.path
    prefix, sep, file = path.partition("/git/")
    if not sep:
        raise UsageError(f"{git_url}: not a gitsync server file address")
    return f"{parts.scheme}://{parts.netloc}{prefix}/api/files/{file}/events"


def follow_changes(
    git_url: str,
    on_change: Callable[[], None],
    stop: Any,
    *,
    own_tip: Callable[[], str | None] = lambda: None,
    said: Callable[[], dict[str, str]] = dict,
) -> None:
    """Hold one long-poll request on a server file and call ``on_change`` when another copy pushed.

    When the request fails (server stopped, network cut, sign-in gone), wait
    with a doubling backoff (1 s up to 30 s), call ``on_change`` so the agent
    polls by syncing, and try again: it never busy-loops. Runs until
    ``stop`` (a threading.Event) is set. ``said`` gives the headers by which the
    copy tells the server who it is and what it holds unsent, on every request.
    """
    from gitsync.sync import webapi

    address = events_url(git_url)
    cursor: int | None = None
    backoff = 1.0
    with webapi.Session(address, timeout=LONG_POLL_SECONDS + 10) as http:
        while not stop.is_set():
            started = time.monotonic()
            try:
                found = credential("fill", git_url, "")
                auth = (found.get("username", ""), found.get("password", ""))
                params = (
                    {}
                    if cursor is None
                    else {"since": str(cursor), "timeout": str(LONG_POLL_SECONDS)}
                )
                response = http.request("GET", address, params=params, auth=auth, headers=said())
                if response.status == 400 and cursor is not None:
                    cursor = None  # the server's cursor went back (a new catalogue): start again
                    continue
                if response.status in (401, 403, 404, 429):
                    # Signed out, or no longer allowed: not a stream that is down. One sync
                    # says why (and stops the agent); this long-poll stops asking.
                    on_change()
                    return
                if response.status >= 400:
                    raise Refused(f"{address}: the server answered {response.status}")
                data = response.json()
                events = data.get("events") or []
                mine = own_tip()
                if cursor is not None and any(e.get("new") != mine for e in events):
                    on_change()
                cursor = int(data["cursor"])
                backoff = 1.0
                if (
                    not events
                    and time.monotonic() - started < 0.5
                    and cursor is not None
                    and params
                ):
                    stop.wait(1.0)  # an answer that did not wait: never spin on it
            except Denied:
                on_change()  # no credential here any more: the sync says so, and stops the agent
                return
            except (
                webapi.Unanswered,
                GitsyncError,
                ValueError,
                KeyError,
                TypeError,
                AttributeError,
            ):
                # no answer, or not a gitsync server's (a proxy's page): as if the stream were down
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_POLL_BACKOFF)
                if not stop.is_set():
                    on_change()  # poll by syncing while the stream is down
