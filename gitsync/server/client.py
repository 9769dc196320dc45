"""The client side of a SmartSync Server: known servers, sign-in, publish, search, copy.

Servers are kept in the user's config (``servers: {label: {url, user}}``).
Signing in exchanges the password for a token at ``/api/login``; the token
is handed to ``git credential approve``, so git's own credential helper
keeps it and every git command (ours and a user's plain ``git clone``)
sends it as the Basic password. gitsync never prints a token and never puts
one in a URL. What the sync layer needs of a server parent (its addresses,
the user signed in, the credential, the long-poll) is ``gitsync.sync.remote``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode, urlsplit

from gitsync.config import server_remove, server_set, servers
from gitsync.errors import (
    Denied,
    GitsyncError,
    NotFound,
    Refused,
    Unreachable,
    UsageError,
    one_line,
)
from gitsync.faults import fault_point
from gitsync.repo.gitcli import git
from gitsync.repo.transport import sign_in_again
from gitsync.sync.remote import (
    NotSignedIn,
    base_url,
    credential,
    is_server_url,
    server_entry,
    server_user,
)

if TYPE_CHECKING:
    from gitsync.sync import webapi

PUBLISH_REF = "refs/gitsync/publish"
BUNDLE_TYPE = "application/x-git-bundle"  # the server takes a bundle only when it says so
MAX_PUBLISH_STEPS = 10


# --- known servers --------------------------------------------------------------------


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise UsageError(f"{url}: a server address is http(s)://host[:port], without a user")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def add_server(label: str, url: str) -> None:
    if not re.match(r"^[A-Za-z0-9_.-]{1,50}$", label):
        raise UsageError(f"label '{label}': letters, digits, '.', '_' and '-' only")
    server_set(label, url=_check_url(url))


def list_servers() -> list[dict[str, str]]:
    return [
        {"label": label, "url": entry.get("url", ""), "user": entry.get("user", "")}
        for label, entry in sorted(servers().items())
    ]


def remove_server(label: str) -> None:
    entry = servers().get(label)
    if entry is None:
        raise UsageError(f"no server labelled '{label}' (see 'gitsync server list')")
    if entry.get("user"):
        credential("reject", entry["url"], entry["user"])
    server_remove(label)


# --- credentials ----------------------------------------------------------------------


def format_header() -> dict[str, str]:
    """This gitsync's format version, sent on every request (git's carry it too)."""
    from gitsync.model.records import FORMAT_VERSION

    return {"X-Gitsync-Format": str(FORMAT_VERSION)}


def token_for(url: str, user: str) -> str:
    return credential("fill", url, user).get("password", "")


def _api(
    method: str,
    url: str,
    user: str | None,
    *,
    json: Any = None,
    content: Any = None,
    timeout: float = 30.0,
    into: Any = None,
    headers: dict[str, str] | None = None,
) -> webapi.Answer:
    """One request to the server's API as ``user`` (None: unsigned); every failure one error.

    ``json`` goes as JSON, ``content`` (a file: ``replace``'s bundle) as it is.
    A refusal says the server's own line (a JSON ``error``) where it gives one.
    """
    # http.client and ssl load here, not with the module: a local sync never needs them
    from gitsync.sync import webapi

    where = base_url(url)
    auth = (user, token_for(url, user)) if user else None
    try:
        response = webapi.request(
            method, url, json=json, content=content, auth=auth, timeout=timeout,
            headers=format_header() | (headers or {}), into=into,
        )  # fmt: skip
    except webapi.Unanswered as err:
        raise Unreachable(f"{where}: the server cannot be reached ({err})") from None
    status = response.status
    if status < 400:
        return response
    if status in (401, 429):
        raise NotSignedIn(str(sign_in_again(where)))
    line = _server_line(response)
    if status == 404:
        raise NotFound(f"{where}: {line or 'no such file, or not one you may see'}")
    if status == 409:  # the file's state refuses the action (copies active, a push meanwhile)
        raise Refused(f"{where}: {line or 'refused by the state of the file'}")
    if status == 403:
        refused = f"refused ({response.text.strip() or 'forbidden'})"
        raise Denied(f"{where}: {line or refused}")
    if status == 400 and line:
        raise UsageError(f"{where}: {line}")
    if status in (413, 415) and not line:
        line = one_line(response.text.strip()[:300])  # the server's own plain line: which limit
    raise GitsyncError(f"{where}: {line or f'the server answered {status}'}")


def _server_line(response: webapi.Answer) -> str:
    """The server's own line in a refusal (``{"error": ...}``), else empty."""
    try:
        found = response.json()
    except ValueError:
        return ""
    return str(found.get("error") or "") if isinstance(found, dict) else ""


def _http(
    method: str, url: str, user: str | None, *, json: Any = None, timeout: float = 30.0
) -> Any:
    return _json_of(_api(method, url, user, json=json, timeout=timeout), url)


def _json_of(response: webapi.Answer, url: str) -> Any:
    """The answer's JSON; one line when it is not (a captive portal, a proxy's own page)."""
    try:
        return response.json()
    except ValueError:
        raise GitsyncError(f"{base_url(url)}: the answer is not a gitsync server's") from None


def login(label: str, user: str, password: str) -> None:
    """Exchange the password for a token, kept by git's credential helpers.

    gitsync's own store (``gitcli.credentials_path``) is one of them on every
    git call gitsync makes; no git config is written.
    """
    label, entry = server_entry(label)
    url = entry["url"]
    asked = {"user": user, "password": password}
    try:
        answer = _json_of(_api("POST", f"{url}/api/login", None, json=asked), url)
    except NotSignedIn:
        raise NotSignedIn(f"{url}: sign-in refused for '{user}'") from None
    token = answer.get("token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise GitsyncError(f"{url}: the answer is not a gitsync server's")
    if entry.get("user") and entry["user"] != user:
        credential("reject", url, entry["user"])
    credential("approve", url, user, token)  # into gitsync's store (and the user's helpers)
    server_set(label, user=user)


def logout(label: str) -> None:
    label, entry = server_entry(label)
    user = entry.get("user")
    if not user:
        raise UsageError(f"not signed in to '{label}'")
    with contextlib.suppress(GitsyncError):  # the token goes from here whatever the server says
        _http("POST", f"{entry['url']}/api/logout", user)
    credential("reject", entry["url"], user)
    server_set(label, user="")


def _signed_in(label: str | None) -> tuple[str, str, str]:
    label, entry = server_entry(label)
    if not entry.get("user"):
        raise NotSignedIn(f"not signed in to '{label}' (run 'gitsync login {label} --user NAME')")
    return label, entry["url"], entry["user"]


# --- search ---------------------------------------------------------------------------


def search(label: str | None, text: str, *, user: str = "any") -> list[dict[str, Any]]:
    _, url, me = _signed_in(label)
    rows: list[dict[str, Any]] = _http(
        "GET", f"{url}/api/files?{urlencode({'q': text, 'user': user})}", me
    )["files"]
    return rows


# --- publish --------------------------------------------------------------------------


def _transferred(stderr: str) -> int:
    from gitsync.repo.transport import _transferred as bytes_of

    return bytes_of(stderr)


def publish(
    directory: Path,
    *,
    server: str | None,
    folder: str,
    name: str | None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> dict[str, Any]:
    """Upload a top-level client file with its history; it becomes a sync copy of the server's.

    The history goes up in steps (commits of the shared line's first-parent
    line) into a hidden ref, so a publish that was killed resumes from the
    last step that arrived without sending it again; the file appears in
    the catalogue only once the whole history is there.
    """
    from gitsync.repo.clientfile import ClientFile
    from gitsync.sync.engine import sync

    client_file = ClientFile.open(directory)
    done = send_file(client_file, server=server, folder=folder, name=name, on_progress=on_progress)
    report = sync(client_file)
    return done | {"sync": report.as_dict()}


def publishing(client_file: Any) -> dict[str, str] | None:
    """The publish this file started and has not finished (None when there is none)."""
    state = client_file.state
    if state is None or state.role == "child":
        return None
    pending = state.extra.get("publishing")
    return dict(pending) if isinstance(pending, dict) and pending else None


def resume_publish(client_file: Any) -> dict[str, Any]:
    """Finish a publish that stopped, from the last step that arrived (for ``sync``)."""
    return send_file(client_file, server=None, folder="", name=None)


def sync_file(client_file: Any) -> Any:
    """One sync (``gitsync sync``, the watch agent), finishing first a publish that stopped.

    A file whose publish has not completed is still a top-level file: the
    publish resumes from the last step that arrived and the file becomes a
    copy, then syncs. With the server out of reach the user's edits are
    committed, the report says ``publishing``, and they go up with the rest
    when the publish resumes.
    """
    from gitsync.sync.engine import sync

    client_file.reload_state()
    pending = publishing(client_file)
    unfinished, sent = None, 0
    if pending:
        try:
            sent = int(resume_publish(client_file).get("bytes_sent", 0))
        except Unreachable:
            unfinished = str(pending.get("url") or pending.get("server") or "the server")
        client_file.reload_state()
    report = sync(client_file)
    report.bytes_sent += sent
    if unfinished and report.role != "child":
        report.state = "publishing"
        report.unreachable.append(unfinished)
    return report


def send_file(
    client_file: Any,
    *,
    server: str | None,
    folder: str,
    name: str | None,
    on_progress: Callable[[int, int, int], None] | None = None,
) -> dict[str, Any]:
    """Send the history, complete the publish and make the file a copy (no sync after)."""
    from gitsync.server.storage import check_new_file_name, check_publish_folder
    from gitsync.sync.engine import SyncReport
    from gitsync.sync.engine import publish as share_work

    state = client_file.state
    pending = dict(state.extra.get("publishing") or {}) if state is not None else {}
    if state is not None and state.role == "child" and not pending:
        raise UsageError(
            f"{client_file.root}: a sync copy cannot be published; publish its top-level parent"
        )
    if pending:
        label, url, user = _signed_in(str(pending["server"]))
        path = str(pending["file"])
    else:
        label, url, user = _signed_in(server)
        try:
            where = check_publish_folder(folder)
            path = "/".join(p for p in (where, name or client_file.root.name) if p)
            path = check_new_file_name(path)
        except GitsyncError as err:
            raise UsageError(str(err)) from None
    started = _http("POST", f"{url}/api/publish", user, json={"path": path})
    path = str(
        started["file"]
    )  # "NAME (2)" when the name was taken by a file this user may not see
    file_url = str(started["url"])
    if state is None:
        raise UsageError(f"{client_file.root}: no local sync state; run 'gitsync repair'")
    state.extra["publishing"] = {"server": label, "file": path, "url": file_url}
    client_file.save_state(state)
    with client_file.locked():
        share_work(client_file, SyncReport(client_file.copy_id, "parent"))
    tip = str(client_file.ref("refs/heads/main"))
    sent = 0
    skipped = 0
    steps: list[str] = []
    if started["state"] == "publishing":
        line = git(
            ["rev-list", "--first-parent", "--reverse", tip], client_file.root
        ).stdout.split()
        there = git(["ls-remote", file_url, PUBLISH_REF], client_file.root, check=False)
        if there.returncode != 0:
            raise Unreachable(f"{file_url}: the server cannot be reached")
        arrived = there.stdout.split()[0] if there.stdout.strip() else None
        steps = publish_steps(line)
        # The steps are planned over the whole line, so a resumed publish counts (and shows)
        # the same steps as the one that stopped: those up to the commit that arrived are done.
        there_up_to = line.index(arrived) if arrived in line else -1
        skipped = sum(1 for oid in steps if line.index(oid) <= there_up_to)
        for done, oid in enumerate(steps[skipped:], skipped + 1):
            sent += _publish_push(client_file, file_url, [f"{oid}:{PUBLISH_REF}"], "the file")
            if on_progress:
                on_progress(done, len(steps), sent)
            fault_point("publish.step")
        sent += _send_content(client_file, file_url)
        _http("POST", f"{url}/api/publish/complete", user, json={"path": path})
    _become_copy(client_file, file_url, user, tip)
    return {
        "file": path,
        "url": file_url,
        "steps": len(steps),
        "skipped_steps": skipped,
        "bytes_sent": sent,
    }


def publish_steps(line: list[str]) -> list[str]:
    """The commits of a publish's steps: at most MAX_PUBLISH_STEPS, evenly along the shared
    line's first-parent ``line`` (oldest first), the last one its tip."""
    if not line:
        return []
    every = max(1, -(-len(line) // MAX_PUBLISH_STEPS))
    steps = line[every - 1 :: every]
    if steps[-1] != line[-1]:
        steps.append(line[-1])
    return steps


def _send_content(client_file: Any, file_url: str) -> int:
    """Send the on-demand content this file keeps as incoming refs, in batches; the bytes sent.

    The server folds them into its content ref when the publish completes. A
    publish that resumes skips the content that already arrived (its incoming
    refs are there).
    """
    from gitsync.repo.content import INCOMING_PREFIX, content_batches, content_map

    if not content_map(client_file.repo):
        return 0
    there = git(["ls-remote", file_url, f"{INCOMING_PREFIX}*"], client_file.root, check=False)
    if there.returncode != 0:
        raise Unreachable(f"{file_url}: the server cannot be reached; publish again to resume")
    arrived = {
        line.split()[1].removeprefix(INCOMING_PREFIX) for line in there.stdout.splitlines() if line
    }
    sent = 0
    for batch in content_batches(client_file.repo, arrived):
        sent += _publish_push(client_file, file_url, batch, "the file's documents")
        fault_point("publish.content")
    return sent


def _publish_push(client_file: Any, file_url: str, refspecs: list[str], what: str) -> int:
    """One push of a publish (a history step or a batch of content); the bytes it sent.

    A refusal, an unreachable server and any other failure each get one line
    that says to publish again, which resumes from what arrived.
    """
    from gitsync.repo.transport import _hook_refusal, _unreachable, server_denial

    result = git(
        ["push", "--porcelain", "--progress", file_url, *refspecs], client_file.root, check=False
    )
    if result.returncode != 0:
        refusal = _hook_refusal(result.stdout + result.stderr)
        if refusal:
            raise GitsyncError(f"the server refused {what}: {refusal}")
        denied = server_denial(file_url, result.stderr)
        if denied is not None:
            raise denied
        if _unreachable(result.stderr):
            raise Unreachable(f"{file_url}: the server cannot be reached; publish again to resume")
        raise GitsyncError(f"publish to {file_url} failed; publish again to resume")
    return _transferred(result.stderr)


def _become_copy(client_file: Any, url: str, user: str, tip: str) -> None:
    """The local file becomes a sync copy whose parent (and top-level parent) is the server's."""
    from gitsync.config import LocalState
    from gitsync.model import canonical
    from gitsync.model.records import KINDS
    from gitsync.rules.commit import commit_checked

    root = client_file.root
    remotes = git(["remote"], root).stdout.split()
    git(["remote", "set-url" if "parent" in remotes else "add", "parent", url], root)
    for tracking in ("refs/remotes/parent/main", "refs/remotes/top-level/main"):
        git(["update-ref", tracking, tip], root)
    git(["config", "user.name", user], root)
    state = client_file.reload_state()
    state.role = "child"
    state.parent = url
    state.top_level = url
    state.ancestors = [url]
    state.user = user
    state.extra.pop("publishing", None)
    path = KINDS["copy"].path_for(client_file.copy_id)
    record = client_file.snapshot().read(path) or {"id": client_file.copy_id, "state": "active"}
    who = client_file.identity()
    record = dict(record) | {
        "user": user,
        "parent": "server",
        "address": str(root),
        "modified": who.modified(),
    }
    with client_file.locked():
        commit_checked(
            client_file,
            {path: canonical.dumps(record)},
            "Published to the server: now a sync copy",
            identity=who,
        )
    client_file.save_state(state)
    LocalState.drop(root, "publishing")
    client_file.reload_state()


def admin_request(
    url: str,
    user: str,
    method: str,
    action: str,
    *,
    body: Any = None,
    query: Any = None,
    content: Any = None,
    into: Any = None,
) -> webapi.Answer:
    """One call of ``/api/admin/<action>`` on the server at ``url`` as ``user``; the answer.

    ``content`` (a file) goes as a git bundle; ``into`` takes a successful answer's body.
    """
    address = f"{url}/api/admin/{action}" + (f"?{urlencode(query)}" if query else "")
    kind = {"Content-Type": BUNDLE_TYPE} if content is not None else None
    return _api(
        method, address, user, json=body, content=content, timeout=600.0, into=into, headers=kind
    )


# --- Replace Server Copy ----------------------------------------------------------------


def replace_server_copy(client_file: Any) -> dict[str, Any]:
    """``gitsync publish --replace``: this sync copy's history becomes the server's (admins
    only; for a damaged server copy). The old server copy goes to the server's recycle area."""
    import tempfile

    from gitsync.sync.engine import SyncReport, commit_working_edits

    state = client_file.state
    url = state.parent if state is not None and state.role == "child" else None
    if not url or not is_server_url(url):
        raise UsageError(f"{client_file.root}: only a sync copy of a server file can replace it")
    user = server_user(url)
    if user is None:
        raise NotSignedIn(f"{url}: not signed in to this server (run 'gitsync login')")
    base, _, quoted = url.partition("/git/")
    path = unquote(quoted).removesuffix(".git")
    with client_file.locked():
        commit_working_edits(client_file, SyncReport(copy_id=client_file.copy_id, role="child"))
    ref = client_file.head_ref_name()
    tip = git(["rev-parse", "HEAD"], client_file.root).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="gitsync-replace-") as holder:
        bundle = Path(holder) / "copy.bundle"
        git(["bundle", "create", "-q", str(bundle), ref], client_file.root)
        with bundle.open("rb") as body:
            query = {"file": path, "ref": ref}
            response = admin_request(base, user, "POST", "replace", query=query, content=body)
    for tracking in ("refs/remotes/parent/main", "refs/remotes/top-level/main"):
        git(["update-ref", tracking, tip], client_file.root)
    return dict(response.json(), url=url)
