"""The web page for admins, managers and auditors, served by the same process at ``/``.

Server-rendered HTML from the Jinja2 templates shipped in ``gitsync/server/templates``
(read with importlib.resources, autoescaped), one stylesheet and one small script in
``static/``; nothing comes from a CDN.

    GET  /                          the catalogue (search as you type, user filter)
    GET  /web/login  POST /web/login    sign-in; POST /web/logout   sign-out
    GET  /web/rows?q=&user=         the catalogue rows as an HTML fragment (the search box)
    GET  /web/file/<file>           a file's page: hierarchy, changes, conflicts, trial balance,
                                    documents, and for admins the admin actions
    GET  /web/events/<file>?since=  the long-poll of the notification stream (the page reloads)
    POST /web/admin/<action>/<file> abandon, lockdown, compress, export, delete (confirmed)
    GET  /web/static/<name>

Sessions: the sign-in gives a catalogue token (stored only as its hash, revoked at
sign-out like the API's) in a cookie that is HttpOnly, SameSite=Strict and Secure over
HTTPS. Every form carries a CSRF token: an HMAC of the session token (the sign-in form,
before any session, a random value that must match its own cookie). A POST without the
right token is refused with 403 and changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from functools import cache
from http.cookies import CookieError, SimpleCookie
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote

from gitsync.errors import GitsyncError
from gitsync.server import right_at_least
from gitsync.server.githttp import header, send_plain

if TYPE_CHECKING:
    from gitsync.server.app import ServerApp
    from gitsync.server.catalogue import HostedFile, User
    from gitsync.server.githttp import Receive, Scope, Send

SESSION = "gitsync_session"
LOGIN_CSRF = "gitsync_login_csrf"
MAX_FORM = 16 * 1024
RECENT_CHANGES = 25
STATIC = {"style.css": "text/css", "app.js": "text/javascript"}
ADMIN_ACTIONS = ("abandon", "lockdown", "compress", "export", "delete")
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]


@cache
def _environment() -> Any:
    from jinja2 import DictLoader, Environment, select_autoescape

    folder = resources.files("gitsync.server").joinpath("templates")
    templates = {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".html")
    }
    env = Environment(
        loader=DictLoader(templates),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = lambda path: quote(str(path))
    env.filters["size"] = _size
    env.filters["pretty"] = lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True)
    return env


def render(name: str, **values: Any) -> bytes:
    return bytes(_environment().get_template(name).render(**values), "utf-8")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


# --- responses ----------------------------------------------------------------------------


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes = b"text/html; charset=utf-8",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _redirect(send: Send, where: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await _send(send, 303, b"", b"text/plain", [(b"location", where.encode()), *(extra or [])])


def _cookie(
    scope: Scope, name: str, value: str, *, max_age: int | None = None
) -> tuple[bytes, bytes]:
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return (
        b"set-cookie",
        f"{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}".encode(),
    )


def _cookies(scope: Scope) -> dict[str, str]:
    raw = header(scope, b"cookie") or ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _csrf_for(session: str) -> str:
    return hmac.new(session.encode(), b"gitsync-web-csrf", hashlib.sha256).hexdigest()


async def _form(scope: Scope, receive: Receive) -> dict[str, str]:
    from gitsync.server.respond import Refused

    data = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(400)
        data += message.get("body", b"")
        if len(data) > MAX_FORM:
            raise Refused(413)
        if not message.get("more_body", False):
            break
    fields = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[-1] for k, v in fields.items()}


# --- sessions -----------------------------------------------------------------------------


async def _session(app: ServerApp, scope: Scope) -> tuple[User, str] | None:
    value = unquote(_cookies(scope).get(SESSION, ""))
    name, sep, token = value.partition(":")
    if not sep or not name or not token or len(value) > 300:
        return None
    user = await asyncio.to_thread(
        app.catalogue.user_for_token, name, token, max_age=app.settings.token_lifetime
    )
    return (user, token) if user is not None else None


# --- the router -------------------------------------------------------------------------------


async def handle(app: ServerApp, scope: Scope, receive: Receive, send: Send) -> None:
    from gitsync.server.respond import Refused

    path: str = scope["path"]
    method: str = scope["method"]
    if path.startswith("/web/static/"):
        name = path.removeprefix("/web/static/")
        if name not in STATIC or method != "GET":
            raise Refused(404)
        body = resources.files("gitsync.server").joinpath("static", name).read_bytes()
        await _send(send, 200, body, STATIC[name].encode() + b"; charset=utf-8")
        return
    if path == "/web/login":
        if method == "GET":
            await _login_page(scope, send, "")
        elif method == "POST":
            await _login(app, scope, receive, send)
        else:
            raise Refused(405)
        return
    found = await _session(app, scope)
    if found is None:
        if method == "GET" and not path.startswith(("/web/rows", "/web/events/")):
            await _redirect(send, "/web/login")
            return
        raise Refused(401 if method == "GET" else 403)
    user, session = found
    if method == "POST":
        form = await _form(scope, receive)
        if not hmac.compare_digest(form.get("csrf", ""), _csrf_for(session)):
            raise Refused(403, "the form's CSRF token is missing or wrong; reload the page")
        if path == "/web/logout":
            await asyncio.to_thread(app.catalogue.revoke_token, session)
            await _redirect(send, "/web/login", [_cookie(scope, SESSION, "", max_age=0)])
            return
        if path.startswith("/web/admin/"):
            action, _, name = path.removeprefix("/web/admin/").partition("/")
            await _admin_action(app, scope, send, user, action, name, form)
            return
        raise Refused(404)
    if method != "GET":
        raise Refused(405)
    if path == "/":
        await _catalogue_page(app, scope, send, user, session)
    elif path == "/web/rows":
        await _rows(app, scope, send, user)
    elif path.startswith("/web/file/"):
        await _file_page(app, scope, send, user, session, path.removeprefix("/web/file/"))
    elif path.startswith("/web/events/"):
        await app.events(scope, send, user, path.removeprefix("/web/events/"))
    else:
        raise Refused(404)


# --- sign-in ---------------------------------------------------------------------------------


async def _login_page(scope: Scope, send: Send, error: str, status: int = 200) -> None:
    token = secrets.token_urlsafe(24)
    body = render("login.html", csrf=token, error=error)
    await _send(send, status, body, extra=[_cookie(scope, LOGIN_CSRF, token)])


async def _login(app: ServerApp, scope: Scope, receive: Receive, send: Send) -> None:
    from gitsync.server.respond import Refused

    form = await _form(scope, receive)
    expected = _cookies(scope).get(LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(form.get("csrf", ""), expected):
        raise Refused(403, "the form's CSRF token is missing or wrong; reload the page")
    name, password = form.get("user", ""), form.get("password", "")
    if not name or not password or len(name) > 100 or len(password) > 1024:
        await _login_page(scope, send, "Wrong user name or password.", 401)
        return
    try:
        user = await app.sign_in(scope, name, password, "web")
    except Refused as refused:  # wrong (401), throttled (429), or too many at once (503)
        shown = "Wrong user name or password." if refused.status == 401 else refused.text
        await _login_page(scope, send, shown, refused.status)
        return
    token = await app.issue_token(scope, user)
    await _redirect(
        send,
        "/",
        [
            _cookie(scope, SESSION, quote(f"{user.name}:{token}")),
            _cookie(scope, LOGIN_CSRF, "", max_age=0),
        ],
    )


# --- the catalogue -----------------------------------------------------------------------------


def _query(scope: Scope) -> dict[str, str]:
    from gitsync.server.respond import _query as query

    return query(scope)


def _catalogue_rows(app: ServerApp, user: User, text: str, who: str) -> list[dict[str, Any]]:
    holder = None if who in ("", "any") else (user.name if who == "me" else who)
    rows = []
    for hosted, right in app.catalogue.search(user, text, holder=holder):
        rows.append(
            {
                "file": hosted.path,
                "name": hosted.name,
                "folder": hosted.folder,
                "client": hosted.client,
                "number": hosted.number,
                "city": hosted.city,
                "year_end": hosted.year_end,
                "holders": hosted.holders,
                "changed": _stamp(hosted.changed_at),
                "state": hosted.state,
                "right": right,
            }
        )
    return rows


async def _catalogue_page(
    app: ServerApp, scope: Scope, send: Send, user: User, session: str
) -> None:
    query = _query(scope)
    text, who = query.get("q", "")[:200], query.get("user", "any")[:100]
    rows = await asyncio.to_thread(_catalogue_rows, app, user, text, who)
    users = [u.name for u in await asyncio.to_thread(app.catalogue.users)] if user.is_admin else []
    body = render(
        "catalogue.html",
        user=user,
        csrf=_csrf_for(session),
        rows=rows,
        q=text,
        who=who,
        users=users,
    )
    await _send(send, 200, body)


async def _rows(app: ServerApp, scope: Scope, send: Send, user: User) -> None:
    query = _query(scope)
    text, who = query.get("q", "")[:200], query.get("user", "any")[:100]
    rows = await asyncio.to_thread(_catalogue_rows, app, user, text, who)
    await _send(send, 200, render("rows.html", rows=rows))


# --- a file's page -----------------------------------------------------------------------------


def _tree(copies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The copies as a tree below the server: each node with its children (and peers named)."""
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    ids = {c["id"] for c in copies}
    for copy in copies:
        parent = copy.get("parent")
        key = parent if parent in ids else None
        by_parent.setdefault(key, []).append(copy)

    def build(parent: str | None, depth: int, seen: set[str]) -> list[dict[str, Any]]:
        nodes = []
        for copy in by_parent.get(parent, []):
            if copy["id"] in seen:
                continue
            children = build(copy["id"], depth + 1, seen | {copy["id"]})
            nodes.append(dict(copy, children=children, depth=depth))
        return nodes

    return build(None, 1, set())


def _balance_view(tb: Any) -> dict[str, Any]:
    """The trial balance to the cent, with thousands separators, as accountants read it."""
    from gitsync.model.money import format_money

    def amounts(item: Any) -> dict[str, str]:
        return {
            "unadjusted": format_money(item.unadjusted),
            "adjustments": format_money(item.adjustments),
            "adjusted": format_money(item.adjusted),
        }

    return {
        "accounts": [
            {"number": line.number, "name": line.name, **amounts(line)} for line in tb.lines
        ],
        "totals": amounts(tb),
    }


def file_view(app: ServerApp, hosted: HostedFile, right: str) -> dict[str, Any]:
    """Everything a file's page shows, read from the hosted repository's shared line."""
    from gitsync.history import commit_changes
    from gitsync.ledger.reports import trial_balance
    from gitsync.model.records import KINDS, is_tombstone
    from gitsync.repo.store import HostedRepository
    from gitsync.server import admin

    info = admin.file_info(app.root, hosted, app.catalogue)
    repo = HostedRepository(app.root.repository(hosted.path))
    hosted_file = repo.history_reader()
    snapshot = admin.main_snapshot(repo)
    changes: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    balance: dict[str, Any] | None = None
    conflicts: list[dict[str, Any]] = []
    copy_users = {c["id"]: c["user"] for c in info["copies"]}
    tip = repo.revision("refs/heads/main") if snapshot is not None else None
    if snapshot is not None and tip is not None:
        versions: dict[str, int] = {}
        for count, commit in enumerate(repo.walk(tip.id, "topological-time")):
            if count >= admin.MAX_WALK:
                break
            recent = count < RECENT_CHANGES
            found, _ = commit_changes(hosted_file, commit.id, max_patches=200 if recent else 0)
            for change in found:
                if change.path.startswith("documents/") and change.status in ("added", "modified"):
                    touched = change.patch is None or any(
                        p.get("path") in ("/sha256", "/size") or change.status == "added"
                        for p in change.patch
                    )
                    if touched:
                        versions[change.path] = versions.get(change.path, 0) + 1
            if recent and len(commit.parents) <= 1:
                copy = commit.copy
                changes.append(
                    {
                        "commit": commit.id[:10],
                        "author": commit.author,
                        "when": commit.when,
                        "copy_id": copy or "",
                        "copy_user": copy_users.get(copy or "", ""),
                        "summary": commit.message.split("\n", 1)[0],
                        "changes": [c.as_json() for c in found],
                    }
                )
        balance = _balance_view(trial_balance(snapshot))
        for path, record in snapshot.records(KINDS["document"].folder):
            if is_tombstone(record):
                continue
            documents.append(
                {
                    "name": record.get("name", ""),
                    "kind": record.get("kind", ""),
                    "size": record.get("size", 0),
                    "sync_mode": record.get("sync_mode", ""),
                    "versions": versions.get(path, 1),
                    "sha256": str(record.get("sha256", ""))[:12],
                }
            )
        documents.sort(key=lambda d: d["name"])
        conflicts = admin.open_conflicts(snapshot)
    return {
        "info": info,
        "tree": _tree(info["copies"]),
        "changes": changes,
        "balance": balance,
        "documents": documents,
        "conflicts": conflicts,
        "is_admin": right_at_least(right, "admin"),
        "audit": admin.audit_log(app.catalogue, file=hosted.path, limit=20)
        if right_at_least(right, "admin")
        else [],
    }


async def _file_page(
    app: ServerApp, scope: Scope, send: Send, user: User, session: str, name: str
) -> None:
    hosted, right = await app._visible_file(user, name, "see")
    view = await asyncio.to_thread(file_view, app, hosted, right)
    cursor = await asyncio.to_thread(app.catalogue.last_event)
    notice = _query(scope).get("done", "")[:300]
    body = render(
        "file.html",
        user=user,
        csrf=_csrf_for(session),
        file=hosted,
        right=right,
        cursor=cursor,
        notice=notice,
        actions=ADMIN_ACTIONS,
        **view,
    )
    await _send(send, 200, body)


async def _admin_action(
    app: ServerApp,
    scope: Scope,
    send: Send,
    user: User,
    action: str,
    name: str,
    form: dict[str, str],
) -> None:
    from gitsync.server import admin
    from gitsync.server.respond import Refused

    if action not in ADMIN_ACTIONS:
        raise Refused(404)
    flag = form.get("abandon_outstanding") == "yes"
    root, catalogue = app.root, app.catalogue
    if action == "export":
        from gitsync.server.adminapi import _export

        await _export(app, send, user, name)
        return

    def run() -> str:
        if action == "abandon":
            copies = [c for c in form.get("copies", "").replace(",", " ").split() if c]
            done = admin.abandon(root, catalogue, user, name, copies)
            return f"Abandoned {', '.join(done.detail['abandoned']) or 'nothing new'}"
        if action == "lockdown":
            admin.lockdown(root, catalogue, user, name, abandon_outstanding=flag)
            return "Locked down"
        if action == "compress":
            (done,) = admin.compress(root, catalogue, user, name)
            return f"Compressed: {done.detail['saved']} bytes saved"
        admin.delete(root, catalogue, user, name, abandon_outstanding=flag)
        return "Deleted to the recycle area"

    try:
        line = await asyncio.to_thread(run)
    except admin.NoSuchFile:
        raise Refused(404) from None
    except admin.AdminRefused as err:
        if "not an admin" in str(err):
            raise Refused(403) from None
        line = str(err)
    except GitsyncError as err:
        line = str(err)
    app.wake_all()
    if action == "delete" and line.startswith("Deleted"):
        await _redirect(send, "/?done=" + quote(f"{name}: {line}"))
        return
    await _redirect(send, f"/web/file/{quote(name)}?done={quote(line)}")


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at else ""


_ = send_plain
