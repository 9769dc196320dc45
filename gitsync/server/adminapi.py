"""The admin API: one route per admin action, each calling one function of ``admin``.

    GET  /api/admin/files                         extended rows of the files this user administers
    GET  /api/admin/audit[?file=F]                the audit log (server admins, or the file's admins)
    GET  /api/admin/recycle                       what the recycle area holds (server admins)
    GET  /api/admin/access?file=F                 a file's access list
    POST /api/admin/access   {file, user, right}  grant a right (``none`` revokes)
    POST /api/admin/abandon  {file, copies | all}
    POST /api/admin/rename   {file, name}         POST /api/admin/move {file, folder}
    POST /api/admin/compress {file | all}
    POST /api/admin/delete   {file, abandon_outstanding}     POST /api/admin/undelete {file}
    POST /api/admin/lockdown {file, abandon_outstanding}     POST /api/admin/clear-sync {file}
    POST /api/admin/repair   {file}               POST /api/admin/convert {file}
    POST /api/admin/export   {file}               the verified backup folder, as a tar stream
    POST /api/admin/replace?file=F&ref=R          body: a git bundle of a sync copy's history;
                                                  Replace Server Copy (the old one is recycled)

Refusals: 404 for a file the user may not see (or none), 403 for a user short of the admin
right, 409 for an action the file's state refuses (copies active, a copy pushed meanwhile),
each with the one line that says why.
"""

from __future__ import annotations

import asyncio
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitsync.errors import GitsyncError, UsageError
from gitsync.server import admin

if TYPE_CHECKING:
    from gitsync.server.app import ServerApp
    from gitsync.server.catalogue import User
    from gitsync.server.githttp import Receive, Scope, Send


def status_of(err: GitsyncError) -> int:
    if isinstance(err, admin.NoSuchFile):
        return 404
    if isinstance(err, admin.AdminRefused) and "only a server admin" in str(err):
        return 403
    if isinstance(err, admin.AdminRefused) and "is not an admin" in str(err):
        return 403
    if isinstance(err, UsageError):
        return 400
    return 409


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        from gitsync.server.respond import Refused

        raise Refused(400, f"'{key}' is missing")
    return value


async def handle(
    app: ServerApp, scope: Scope, receive: Receive, send: Send, user: User, action: str
) -> None:
    from gitsync.server.respond import Refused, _query, read_json, send_json

    method = scope["method"]
    root, catalogue = app.root, app.catalogue
    call: Callable[[], Any]
    if method == "GET":
        query = _query(scope)
        if action == "files":
            call = lambda: admin.list_files(root, catalogue, user)  # noqa: E731
        elif action == "audit":
            wanted = query.get("file")

            def call() -> Any:
                if wanted:
                    admin.require_admin(catalogue, user, wanted)
                else:
                    admin.require_server_admin(user, "audit log")
                return admin.audit_log(catalogue, file=wanted or None)

        elif action == "recycle":
            call = lambda: admin.recycled(catalogue, user)  # noqa: E731
        elif action == "access":
            listed = query.get("file", "")
            call = lambda: admin.access_list(catalogue, user, listed)  # noqa: E731
        else:
            raise Refused(404)
        await _answer(send, call)
        return
    if method != "POST":
        raise Refused(405)
    if action == "replace":
        await _replace(app, scope, receive, send, user)
        return
    body = await read_json(scope, receive)
    if action == "export":
        await _export(app, send, user, _text(body, "file"))
        return
    file = body.get("file")
    flag = bool(body.get("abandon_outstanding"))
    if action == "compress":
        every = bool(body.get("all"))
        if not every:
            file = _text(body, "file")

        def call() -> Any:
            return [
                o.as_dict() for o in admin.compress(root, catalogue, user, None if every else file)
            ]

    else:
        name = _text(body, "file")
        simple: dict[str, Callable[[], admin.Outcome]] = {
            "abandon": lambda: admin.abandon(
                root,
                catalogue,
                user,
                name,
                [str(c) for c in body.get("copies") or []],
                every=bool(body.get("all")),
            ),
            "rename": lambda: admin.rename(root, catalogue, user, name, _text(body, "name")),
            "move": lambda: admin.move(root, catalogue, user, name, str(body.get("folder", ""))),
            "delete": lambda: admin.delete(root, catalogue, user, name, abandon_outstanding=flag),
            "undelete": lambda: admin.undelete(root, catalogue, user, name),
            "lockdown": lambda: admin.lockdown(
                root, catalogue, user, name, abandon_outstanding=flag
            ),
            "clear-sync": lambda: admin.clear_sync(root, catalogue, user, name),
            "repair": lambda: admin.repair(root, catalogue, user, name),
            "convert": lambda: admin.convert(root, catalogue, user, name),
            "access": lambda: admin.set_access(
                catalogue, user, name, _text(body, "user"), _text(body, "right")
            ),
        }
        if action not in simple:
            raise Refused(404)
        chosen = simple[action]

        def call() -> Any:
            return chosen().as_dict()

    await _answer(send, call, notify=app)
    _ = send_json


async def _answer(send: Send, call: Callable[[], Any], notify: ServerApp | None = None) -> None:
    from gitsync.server.respond import send_json

    try:
        value = await asyncio.to_thread(call)
    except GitsyncError as err:
        await send_json(send, status_of(err), {"error": str(err)})
        return
    if notify is not None:
        # Agents waiting on a long-poll of any file hear at once that something moved.
        notify.wake_all()
    await send_json(send, 200, value)


BUNDLE_TYPE = "application/x-git-bundle"


async def _replace(app: ServerApp, scope: Scope, receive: Receive, send: Send, user: User) -> None:
    """Take the bundle into a file under ROOT/work as it streams in, then replace."""
    from gitsync.server.respond import Refused, _query

    query = _query(scope)
    file, ref = query.get("file", ""), query.get("ref", "")
    if not file or not ref:
        raise Refused(400, "'file' and 'ref' are needed")
    from gitsync.server.githttp import header

    # A bundle says it is one: a page on another site cannot send that type without asking.
    if (header(scope, b"content-type") or "").split(";")[0].strip().lower() != BUNDLE_TYPE:
        raise Refused(415, f"send the bundle as {BUNDLE_TYPE}")
    largest = app.settings.max_bundle_bytes
    length = header(scope, b"content-length") or ""
    if length.isdigit() and int(length) > largest:
        raise Refused(413, _too_large(largest))
    # Who may act is known before a byte of history is taken.
    try:
        await asyncio.to_thread(admin.require_admin, app.catalogue, user, file)
    except GitsyncError as err:
        from gitsync.server.respond import send_json

        await send_json(send, status_of(err), {"error": str(err)})
        return
    work = app.root.path / admin.WORK
    work.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=".bundle-") as holder:
        bundle = Path(holder) / "copy.bundle"
        size = 0
        with bundle.open("wb") as out:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > largest:
                    raise Refused(413, _too_large(largest))
                out.write(chunk)
                if not message.get("more_body", False):
                    break
        await _answer(
            send,
            lambda: admin.replace(app.root, app.catalogue, user, file, bundle, ref).as_dict(),
            notify=app,
        )


def _too_large(largest: int) -> str:
    return (
        f"the copy's history is larger than this server takes ({largest} bytes, "
        "max_bundle_bytes in its server.yaml)"
    )


async def _export(app: ServerApp, send: Send, user: User, file: str) -> None:
    """The verified backup as a tar, written to a file under ROOT/work and streamed from there."""
    from urllib.parse import quote

    from gitsync.server.respond import send_json

    work = app.root.path / admin.WORK
    work.mkdir(exist_ok=True)
    holder = Path(tempfile.mkdtemp(dir=work, prefix=".export-"))

    def build() -> tuple[Path, str]:
        outcome = admin.export(app.root, app.catalogue, user, file, holder)
        folder = Path(outcome.detail["backup"])
        tar = holder / "backup.tar"
        with tarfile.open(tar, mode="w") as archive:
            archive.add(folder, arcname=folder.name)
        return tar, folder.name

    try:
        try:
            tar, name = await asyncio.to_thread(build)
        except GitsyncError as err:
            await send_json(send, status_of(err), {"error": str(err)})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/x-tar"),
                    (b"content-length", str(tar.stat().st_size).encode()),
                    (b"x-backup-name", quote(name).encode()),
                ],
            }
        )
        with tar.open("rb") as source:
            while piece := await asyncio.to_thread(source.read, EXPORT_CHUNK):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await asyncio.to_thread(shutil.rmtree, holder, True)


EXPORT_CHUNK = 1024 * 1024
