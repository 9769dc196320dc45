"""The server's one ASGI application: git smart HTTP, the JSON API and change notifications.

Every route needs a signed-in user except ``GET /health``. A route does one
thing: authenticate, authorize, hand over (like Gitea's githttp router).

    GET  /health                         "ok", no sign-in
    POST /api/login   {user, password}   -> {token}: argon2 here, and only here
    POST /api/logout                     revokes the token presented
    GET  /api/whoami
    GET  /api/files?q=TEXT&user=any|me|NAME   the catalogue rows this user may see
    POST /api/publish {path}             start (or resume) publishing a file
    POST /api/publish/complete {path}    the publish ref becomes the shared line
    GET  /api/files/<file>/events?since=CURSOR[&timeout=S]   long-poll for pushes
    GET|POST /git/<file>/(info/refs|git-upload-pack|git-receive-pack)

Failures are bare: 401 (with a Basic challenge on ``/git/`` only, so git asks
its credential helper and a browser never learns to send Basic credentials to
the API), 403, 404 (an unknown file and a file this user may not see look the
same, so no route tells one user another's file names), 400, 413, 415 (the API
takes ``application/json`` only), 429 with Retry-After (too many failed
sign-ins, see ``signin``). Every request is logged at INFO on
``gitsync.server.requests``: user, method, path, status, milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gitsync.model.records import FORMAT_VERSION
from gitsync.server import RIGHTS, ServerError, right_at_least
from gitsync.server.admin import report_copy as admin_report
from gitsync.server.catalogue import Catalogue, HostedFile, User
from gitsync.server.githttp import (
    Receive,
    Scope,
    Send,
    backend_env,
    client_format,
    copy_of,
    format_refusal,
    header,
    pending_of,
    registered_copy,
    send_git_error,
    send_plain,
    serve_backend,
)
from gitsync.server.receive import (
    PUBLISH_REF,
    PushContext,
    check_push,
    describe_file,
    fold_received,
    parse_updates,
)
from gitsync.server.respond import Refused, _query, read_json, send_json
from gitsync.server.settings import ServerSettings
from gitsync.server.signin import Crowded, SignInGate, Throttled
from gitsync.server.storage import BadPath, ServerRoot, check_file_name, check_new_file_name

log = logging.getLogger("gitsync.server")
requests_log = logging.getLogger("gitsync.server.requests")
USER_KEY = "gitsync.user"  # the signed-in user's name, kept in the ASGI scope for the log

MAX_WAIT = 60.0
PASSWORD_CACHE_SECONDS = 300.0
GIT_SERVICES = {
    "git-upload-pack": "copy",
    "git-receive-pack": "sync",
}


class ServerApp:
    """The ASGI callable, with the catalogue, the push contexts and the waiting agents."""

    def __init__(self, root: ServerRoot, *, hook_socket: Path | None = None) -> None:
        self.root = root
        self.catalogue = Catalogue.open(root)
        self.settings = ServerSettings.of(root)
        self.signin = SignInGate(
            user_failures=self.settings.user_failures,
            address_failures=self.settings.address_failures,
            window=self.settings.window,
            audit=self._audit_signin,
        )
        self.hook_socket = hook_socket or root.hook_socket
        self.pushes: dict[str, PushContext] = {}
        self.push_copies: dict[str, str] = {}  # push key -> the copy that said it pushes
        self.wakers: dict[int, asyncio.Event] = {}
        self.closing = False  # the server is stopping: long-polls answer at once
        # A password sent by a stock git client on every request is checked by
        # argon2 once, then remembered (by its SHA-256, never in clear) for a while.
        self._passwords: dict[str, tuple[User, float, str]] = {}

    # --- ASGI --------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.monotonic()
        status = 0

        async def answer(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._answer(scope, receive, answer)
        finally:
            # The path only: no query string, no header (a token or password never reaches here).
            requests_log.info(
                "%s %s %s %s %dms",
                scope.get(USER_KEY, "-"),
                scope.get("method", "-"),
                scope.get("path", "-"),
                status or "-",
                round((time.monotonic() - started) * 1000),
            )

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.route(scope, receive, send)
        except Refused as refused:
            extra = list(refused.headers)
            if refused.status == 401 and str(scope.get("path", "")).startswith("/git/"):
                extra.append((b"www-authenticate", b'Basic realm="gitsync", charset="UTF-8"'))
            await send_plain(send, refused.status, refused.text.encode() + b"\n", extra)
        except (OSError, asyncio.CancelledError):
            raise
        except Exception:
            log.exception("internal error on %s", scope.get("path"))
            await send_plain(send, 500, b"internal error\n")

    async def route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health":
            await send_plain(send, 200, b"ok\n")
            return
        if path == "/" or path.startswith("/web/"):
            from gitsync.server.web import handle as web

            await web(self, scope, receive, send)
            return
        if path == "/api/login":
            if method != "POST":
                raise Refused(405)
            await self.login(await read_json(scope, receive), send, scope)
            return
        # Redirects of a renamed file come after sign-in, and only to who may see it (``git``).
        user = await self.authenticate(scope)
        if path.startswith("/git/"):
            await self.git(scope, receive, send, user, path.removeprefix("/git/"))
        elif path == "/api/logout" and method == "POST":
            _, secret = _basic(scope) or ("", "")
            await asyncio.to_thread(self._sign_out, user, secret)
            await send_json(send, 200, {"signed_out": user.name})
        elif path.startswith("/api/tokens"):
            from gitsync.server.tokenapi import handle as token_api

            await token_api(self, scope, receive, send, user, path.removeprefix("/api/tokens"))
        elif path == "/api/whoami" and method == "GET":
            await send_json(send, 200, {"user": user.name, "role": user.role})
        elif path == "/api/files" and method == "GET":
            await self.search(scope, send, user)
        elif path == "/api/publish" and method == "POST":
            await self.publish_start(await read_json(scope, receive), send, user, scope)
        elif path == "/api/publish/complete" and method == "POST":
            await self.publish_complete(await read_json(scope, receive), send, user, scope)
        elif path.startswith("/api/files/") and path.endswith("/events") and method == "GET":
            name = path.removeprefix("/api/files/").removesuffix("/events")
            await self.events(scope, send, user, name)
        elif path.startswith("/api/admin/"):
            from gitsync.server.adminapi import handle as admin_api

            await admin_api(self, scope, receive, send, user, path.removeprefix("/api/admin/"))
        else:
            raise Refused(404)

    # --- authentication ----------------------------------------------------------

    async def authenticate(self, scope: Scope) -> User:
        credentials = _basic(scope)
        if credentials is None:
            raise Refused(401)
        name, secret = credentials
        if not name or not secret or len(secret) > 1024 or len(name) > 100:
            raise Refused(401)
        user = await asyncio.to_thread(
            self.catalogue.user_for_token, name, secret, max_age=self.settings.token_lifetime
        )
        if user is not None:
            scope[USER_KEY] = user.name
            return user
        if await asyncio.to_thread(self.catalogue.token_known, secret):
            raise Refused(401)  # an expired token: no password to check
        key = hashlib.sha256(f"{name}\0{secret}".encode("utf-8", "surrogateescape")).hexdigest()
        stamp = await asyncio.to_thread(self.catalogue.password_stamp, name)
        cached = self._passwords.get(key)
        if cached is not None and cached[1] > time.monotonic() and cached[2] == stamp:
            scope[USER_KEY] = cached[0].name
            return cached[0]  # the same password, unchanged since argon2 said yes
        user = await self.sign_in(scope, name, secret, "git")
        if stamp is None:
            raise Refused(401)
        self._passwords[key] = (user, time.monotonic() + PASSWORD_CACHE_SECONDS, stamp)
        return user

    async def sign_in(self, scope: Scope, name: str, password: str, via: str) -> User:
        """The user whose password this is, through the sign-in gate (throttle, argon2 pool)."""
        address = (scope.get("client") or ("", 0))[0] or "-"
        try:
            user = await self.signin.verify(
                name, address, via, lambda: self.catalogue.check_password(name, password)
            )
        except Throttled as throttled:
            wait = str(throttled.retry_after)
            raise Refused(
                429,
                f"too many failed sign-ins; try again in {wait} s",
                [(b"retry-after", wait.encode())],
            ) from None
        except Crowded:
            raise Refused(
                503, "too many sign-ins at once; try again", [(b"retry-after", b"1")]
            ) from None
        except PermissionError:
            raise Refused(401) from None
        scope[USER_KEY] = user.name
        return user

    async def issue_token(self, scope: Scope, user: User) -> str:
        """A new token for a user who signed in with a password; audited (by its id, never itself)."""
        from gitsync.server.tokens import issued

        token = await asyncio.to_thread(self.catalogue.issue_token, user)
        address = (scope.get("client") or ("", 0))[0] or "-"
        await asyncio.to_thread(issued, self.catalogue, user, token, address)
        return token

    def _audit_signin(self, action: str, name: str, detail: dict[str, str]) -> None:
        from gitsync.server.tokens import audit

        audit(self.catalogue, name[:100], action, **detail)

    def _sign_out(self, user: User, secret: str) -> None:
        from gitsync.server.catalogue import token_hash
        from gitsync.server.tokens import audit, token_id

        if self.catalogue.token_known(secret):
            self.catalogue.revoke_token(secret)
            audit(self.catalogue, user.name, "token-revoke", token=token_id(token_hash(secret)))

    async def login(self, body: dict[str, Any], send: Send, scope: Scope) -> None:
        name, password = body.get("user"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str) or not name:
            raise Refused(400)
        if len(name) > 100 or len(password) > 1024:
            raise Refused(401)
        user = await self.sign_in(scope, name, password, "login")
        token = await self.issue_token(scope, user)
        await send_json(send, 200, {"user": user.name, "role": user.role, "token": token})

    # --- files -------------------------------------------------------------------

    async def _visible_file(self, user: User, name: str, needed: str) -> tuple[HostedFile, str]:
        """The file and the user's right on it: 404 when unknown or unseen, 403 when short of ``needed``."""
        try:
            name = check_file_name(name)
        except BadPath:
            raise Refused(404) from None
        hosted = await asyncio.to_thread(self.catalogue.file, name)
        if hosted is None:
            hosted = await asyncio.to_thread(self._moved, name)
        if hosted is None:
            raise Refused(404)
        right = await asyncio.to_thread(self.catalogue.right_of, user, hosted)
        if not right_at_least(right, "see"):
            raise Refused(404)
        if not right_at_least(right, needed):
            raise Refused(403)
        return hosted, right

    def _moved(self, name: str) -> HostedFile | None:
        """The file a renamed or moved address now names (admin.relocate keeps the old one)."""
        from gitsync.server.admin import redirect_of

        new = redirect_of(self.catalogue, name)
        return self.catalogue.file(new) if new else None

    def file_url(self, scope: Scope, path: str) -> str:
        host = header(scope, b"host") or "localhost"
        scheme = scope.get("scheme", "http")
        return f"{scheme}://{host}/git/{quote(path)}"

    async def search(self, scope: Scope, send: Send, user: User) -> None:
        query = _query(scope)
        text = query.get("q", "")
        who = query.get("user", "any")
        if len(text) > 200 or len(who) > 100:
            raise Refused(400)
        holder = None if who == "any" else (user.name if who == "me" else who)
        found = await asyncio.to_thread(self.catalogue.search, user, text, holder=holder)
        rows = [
            {
                "file": hosted.path,
                "folder": hosted.folder,
                "name": hosted.name,
                "client": hosted.client,
                "number": hosted.number,
                "city": hosted.city,
                "year_end": hosted.year_end,
                "holders": hosted.holders,
                "publisher": hosted.publisher,
                "last_change": _stamp(hosted.changed_at),
                "state": hosted.state,
                "right": right,
                "may_copy": right_at_least(right, "copy"),
                "url": self.file_url(scope, hosted.path),
            }
            for hosted, right in found
        ]
        await send_json(send, 200, {"files": rows})

    async def publish_start(
        self, body: dict[str, Any], send: Send, user: User, scope: Scope
    ) -> None:
        name = body.get("path")
        if not isinstance(name, str):
            raise Refused(400)
        _refuse_an_older_client(scope)
        try:
            name = check_new_file_name(name)
        except BadPath:
            raise Refused(400) from None
        chosen, state = await asyncio.to_thread(self._name_to_publish, name, user)
        await send_json(
            send, 200, {"file": chosen, "state": state, "url": self.file_url(scope, chosen)}
        )

    def _name_to_publish(self, name: str, user: User) -> tuple[str, str]:
        """The name a publish takes, and its state (publishing, or ready when it completed).

        The user's own publish resumes under its name. A name the user may see
        taken by another file is refused; a name taken by a file they may not
        see is never mentioned: the file takes the first free "NAME (2)",
        "NAME (3)", ... (the answer names the file as published).
        """
        for n in range(1, 100):
            candidate = name if n == 1 else f"{name} ({n})"
            try:
                candidate = check_new_file_name(candidate)
            except BadPath:
                raise Refused(400) from None
            hosted = self.catalogue.file(candidate)
            if hosted is None:
                try:
                    self.catalogue.start_publish(candidate, user)
                except ServerError:
                    continue  # taken a moment ago: the next name
                self.root.create_repository(candidate)
                return candidate, "publishing"
            if hosted.publisher == user.name:
                if hosted.state == "ready" and n == 1:
                    raise Refused(403, "you already published a file of that name")
                if hosted.state != "ready":
                    return candidate, hosted.state  # resuming this user's own publish
                continue
            if n == 1 and self.catalogue.right_of(user, hosted) != "none":
                raise Refused(403, "a file of that name is already on the server")
        raise Refused(403, "no free name near that one; choose another with --name")

    async def publish_complete(
        self, body: dict[str, Any], send: Send, user: User, scope: Scope
    ) -> None:
        name = body.get("path")
        if not isinstance(name, str):
            raise Refused(400)
        _refuse_an_older_client(scope)
        hosted, _ = await self._visible_file(user, name, "admin")
        if hosted.state == "ready":
            await send_json(
                send,
                200,
                {"file": hosted.path, "state": "ready", "url": self.file_url(scope, hosted.path)},
            )
            return
        if hosted.publisher != user.name:
            raise Refused(403)
        repository = self.root.repository(hosted.path)
        tip = await asyncio.to_thread(_complete_publish, repository)
        if tip is None:
            raise Refused(400, "nothing was published yet")
        values = await asyncio.to_thread(describe_file, repository)
        await asyncio.to_thread(self.catalogue.update_file, hosted.path, state="ready", **values)
        await self._notify(hosted, "refs/heads/main", "0" * 40, tip, user.name)
        await send_json(
            send,
            200,
            {"file": hosted.path, "state": "ready", "url": self.file_url(scope, hosted.path)},
        )

    # --- notifications -----------------------------------------------------------

    async def events(self, scope: Scope, send: Send, user: User, name: str) -> None:
        hosted, _ = await self._visible_file(user, name, "copy")
        copy = copy_of(scope)
        if copy is not None:
            await asyncio.to_thread(self._note_listening, hosted, copy, user, pending_of(scope))
        query = _query(scope)
        last = await asyncio.to_thread(self.catalogue.last_event)
        since_text = query.get("since")
        if since_text is None:
            await send_json(send, 200, {"cursor": last, "events": []})
            return
        if not since_text.isdigit() or len(since_text) > 18 or int(since_text) > last:
            raise Refused(400, "bad cursor")
        since = int(since_text)
        timeout_text = query.get("timeout", "25")
        try:
            timeout = min(max(float(timeout_text), 0.0), MAX_WAIT)
        except ValueError:
            raise Refused(400) from None
        deadline = time.monotonic() + timeout
        while True:
            waker = self.wakers.setdefault(hosted.id, asyncio.Event())
            found = await asyncio.to_thread(self.catalogue.events_since, hosted, since)
            left = deadline - time.monotonic()
            if found or left <= 0 or self.closing:
                break
            # Wake on a push through this process; look again at least every 5 s
            # for pushes through another process sharing the catalogue.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waker.wait(), timeout=min(left, 5.0))
        cursor = found[-1]["cursor"] if found else max(since, last)
        await send_json(send, 200, {"cursor": cursor, "events": found})

    def wake_all(self) -> None:
        """Every long-poll looks again now: something moved that any file may care about."""
        for waker in self.wakers.values():
            waker.set()
        self.wakers.clear()

    def close_waits(self) -> None:
        """The server is stopping: every long-poll answers now, and none waits from here on.

        Without this, a stop waited for uvicorn's graceful time (5 s) whenever an
        agent or a web page was listening; now they hear at once, and try again.
        """
        self.closing = True
        self.wake_all()

    async def _notify(self, hosted: HostedFile, ref: str, old: str, new: str, user: str) -> None:
        await asyncio.to_thread(self.catalogue.add_event, hosted, ref, old, new, user)
        waker = self.wakers.pop(hosted.id, None)
        if waker is not None:
            waker.set()

    # --- the copy that talks ----------------------------------------------------------

    def _copy_refusal(self, hosted: HostedFile, copy: str, user: User) -> str | None:
        """The one line refusing an abandoned copy's fetch or push; else None, and the copy is
        noted as seen. A copy says who it is (``X-Gitsync-Copy``, sent by gitsync's fetch,
        push and watch); a stock git clone says nothing and is judged by its user's rights."""
        record = self._own_copy(hosted, copy, user)
        if record is None:
            return None  # not (yet) in the registry, or not this user's: nothing to note
        if record.get("state") == "abandoned":
            return (
                f"copy {copy} was abandoned on the server; nothing it sends or asks is "
                "accepted: take a new copy (gitsync copy), your work stays in this folder"
            )
        admin_report(self.catalogue, hosted, copy, user.name, None)
        return None

    def _note_listening(
        self, hosted: HostedFile, copy: str, user: User, pending: int | None
    ) -> None:
        """A watch agent's long-poll: the copy is seen, with what it says it holds unsent."""
        if self._own_copy(hosted, copy, user) is not None:
            admin_report(self.catalogue, hosted, copy, user.name, pending)

    def _own_copy(self, hosted: HostedFile, copy: str, user: User) -> dict[str, Any] | None:
        """The registry record of ``copy`` when it is the signed-in user's; else None."""
        record = registered_copy(self.root.repository(hosted.path), copy)
        if record is None or record.get("user") not in (None, "", user.name):
            return None
        return record

    # --- git -----------------------------------------------------------------------

    async def git(self, scope: Scope, receive: Receive, send: Send, user: User, rest: str) -> None:
        method = scope["method"]
        found = next(
            (
                (suffix, service, wanted)
                for suffix, service, wanted in (
                    ("/info/refs", None, "GET"),
                    ("/git-upload-pack", "git-upload-pack", "POST"),
                    ("/git-receive-pack", "git-receive-pack", "POST"),
                )
                if rest.endswith(suffix)
            ),
            None,
        )
        if found is None:
            raise Refused(404)
        suffix, service, wanted_method = found
        name = rest.removesuffix(suffix).removesuffix(".git")
        if method != wanted_method:
            raise Refused(405)
        if service is None:
            service = _query(scope).get("service", "")
            if service not in GIT_SERVICES:
                raise Refused(403)  # the dumb protocol is not served
        hosted, _ = await self._visible_file(user, name, GIT_SERVICES[service])
        if hosted.path != name and suffix == "/info/refs":
            # A renamed or moved file: git follows this first redirect for the whole
            # operation, and the copy learns the new address from it.
            query = bytes(scope.get("query_string", b"")).decode("latin-1")
            target = self.file_url(scope, hosted.path) + suffix + (f"?{query}" if query else "")
            await send_plain(send, 301, b"moved\n", [(b"location", target.encode())])
            return
        repository = self.root.repository(hosted.path)
        copy = copy_of(scope)
        if suffix == "/info/refs":
            refusal = await asyncio.to_thread(format_refusal, scope, repository)
            if refusal is None and copy is not None:
                refusal = await asyncio.to_thread(self._copy_refusal, hosted, copy, user)
            if refusal:
                await send_git_error(send, service, refusal)
                return
        elif copy is not None and service == "git-receive-pack":
            pending = pending_of(scope)
            if pending is not None:
                await asyncio.to_thread(
                    admin_report, self.catalogue, hosted, copy, user.name, pending
                )
        extra: dict[str, str] = {}
        key = None
        if service == "git-receive-pack":
            key = secrets.token_urlsafe(24)
            if copy is not None:
                self.push_copies[key] = copy
            self.pushes[key] = PushContext(
                hosted.path, repository, user.name, publishing=hosted.state != "ready"
            )
            extra = {
                "GITSYNC_PUSH_KEY": key,
                "GITSYNC_HOOK_SOCKET": str(self.hook_socket),
                # The largest push, for every hosted file (old ones too): git's own limit,
                # whose refusal the client shows ("pack exceeds maximum allowed size").
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "receive.maxInputSize",
                "GIT_CONFIG_VALUE_0": str(self.settings.max_push_bytes),
            }
        path_info = "/" + str(repository.relative_to(self.root.files.resolve())) + suffix
        env = backend_env(
            scope,
            project_root=str(self.root.files.resolve()),
            path_info=path_info,
            user=user.name,
            extra=extra,
        )
        try:
            await serve_backend(scope, receive, send, env)
        finally:
            if key is not None:
                self.pushes.pop(key, None)
                self.push_copies.pop(key, None)

    # --- the hook socket -------------------------------------------------------------

    async def hook_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """One request from a relay hook on the unix socket (HTTP/1.1, as curl sends it)."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
            lines = head.decode("latin-1").split("\r\n")
            hook = lines[0].split()[1].lstrip("/") if len(lines[0].split()) >= 2 else ""
            fields = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
            length = int(fields.get("content-length", "0") or 0)
            if length > 16 * 1024 * 1024:
                raise ValueError("too large")
            body = (await reader.readexactly(length)).decode("utf-8", "replace") if length else ""
            status, answer = await self.hook(hook, fields, body)
        except (ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, answer = 400, "gitsync: push refused: the server could not read the hook\n"
        except Exception:
            log.exception("hook request failed")
            status, answer = 500, "gitsync: push refused: the server failed to check it\n"
        data = answer.encode("utf-8")
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        try:
            await writer.drain()
        finally:
            writer.close()

    async def hook(self, hook: str, fields: dict[str, str], body: str) -> tuple[int, str]:
        ctx = self.pushes.get(fields.get("x-push-key", ""))
        if ctx is None:
            return 403, "gitsync: push refused: not a push through this server\n"
        if hook == "pre-receive":
            refusal = await asyncio.to_thread(
                check_push,
                ctx,
                body,
                fields.get("x-object-directory", ""),
                fields.get("x-alternate-object-directories", ""),
            )
            if refusal:
                return 403, f"gitsync: {refusal}\n"
            return 200, ""
        if hook == "post-receive":
            hosted = await asyncio.to_thread(self.catalogue.file, ctx.file)
            if hosted is None:
                return 200, ""
            # The push's events first: whatever fails after, every agent hears of the push.
            moved = False
            for update in parse_updates(body):
                if update.ref.startswith("refs/heads/"):
                    await self._notify(hosted, update.ref, update.old, update.new, ctx.user)
                    moved = True
            if hosted.state == "ready":
                try:
                    await asyncio.to_thread(fold_received, ctx.repository)
                except Exception:
                    # The content stays under its incoming ref; the next push or publish folds it.
                    log.exception("%s: folding the pushed content failed", hosted.path)
            if moved and hosted.state == "ready":
                values = await asyncio.to_thread(describe_file, ctx.repository)
                await asyncio.to_thread(self.catalogue.update_file, hosted.path, **values)
            copy = self.push_copies.get(fields.get("x-push-key", ""))
            if moved and copy is not None:
                # What the copy held unsent has landed: as far as the server knows, nothing waits.
                await asyncio.to_thread(admin_report, self.catalogue, hosted, copy, ctx.user, 0)
            return 200, ""
        return 404, "gitsync: unknown hook\n"


def _complete_publish(repository: Path) -> str | None:
    """Move the publish ref onto the shared line (once); the tip, or None when nothing arrived."""
    from gitsync.repo.gitcli import git

    fold_received(repository)  # the publisher's on-demand content, sent before the complete
    main = git(["rev-parse", "--verify", "--quiet", "refs/heads/main"], repository, check=False)
    if main.returncode == 0:
        return main.stdout.strip()
    found = git(["rev-parse", "--verify", "--quiet", PUBLISH_REF], repository, check=False)
    if found.returncode != 0:
        return None
    tip = found.stdout.strip()
    git(["update-ref", "refs/heads/main", tip, "0" * 40], repository)
    git(["update-ref", "-d", PUBLISH_REF, tip], repository)
    return tip


def _basic(scope: Scope) -> tuple[str, str] | None:
    value = header(scope, b"authorization")
    if not value or value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    name, sep, secret = decoded.partition(":")
    return (name, secret) if sep else None


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


__all__ = ["RIGHTS", "ServerApp"]


def _refuse_an_older_client(scope: Scope) -> None:
    """A publish from a gitsync that writes an older format than this server keeps is refused."""
    older = client_format(scope)
    if older is not None and older < FORMAT_VERSION:
        raise Refused(
            403,
            f"this server keeps format_version {FORMAT_VERSION} and this gitsync writes "
            f"{older}: upgrade gitsync, then run 'gitsync convert' in the file",
        )
