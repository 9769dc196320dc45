"""The admin API: ``/api/admin/<action>`` for every action of ``admin.ACTIONS``.

    GET  /api/admin/files | recycle | audit[?file=F] | access?file=F
    POST /api/admin/<action>  {the action's parameters, as ``admin.ACTIONS`` names them}
         grant {file, user, right}  revoke {file, user}  abandon {file, copies | all}
         rename {file, name}  move {file, folder}  compress {file | all}
         delete {file, abandon_outstanding}  undelete {file}  lockdown {file, abandon_outstanding}
         clear-sync {file}  repair {file}  convert {file}
    POST /api/admin/export   {file}               the verified backup folder, as a tar stream
    POST /api/admin/replace?file=F&ref=R          body: a git bundle of a sync copy's history;
                                                  Replace Server Copy (the old one is recycled)

A route parses the body, makes one call (``admin.call``), and maps a refusal to its status by
the error's type (``respond.status_for``): 404 for a file the user may not see (or none), 403
for a user short of the right, 409 for an action the file's state refuses, 400 for a bad
argument, each with the one line that says why.
"""

from __future__ import annotations

import asyncio
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gitsync.errors import GitsyncError
from gitsync.server import admin
from gitsync.server.access import require_admin
from gitsync.server.respond import Refused, _query, read_json, send_json, status_for
from gitsync.server.workbench import WORK

if TYPE_CHECKING:
    from gitsync.server.catalogue import User
    from gitsync.server.githttp import Receive, Scope, Send
    from gitsync.server.respond import Serving

BUNDLE_TYPE = "application/x-git-bundle"


async def handle(
    app: Serving, scope: Scope, receive: Receive, send: Send, user: User, action: str
) -> None:
    acting = admin.Acting(app.root, app.catalogue, user)
    method = scope["method"]
    if method == "POST" and action == "replace":
        await _replace(app, scope, receive, send, acting)
        return
    if method == "POST" and action == "export":
        body = await read_json(scope, receive)
        await export_response(app, send, acting, str(body.get("file") or ""))
        return
    found = admin.ACTIONS.get(action)
    if found is None:
        raise Refused(404)
    if method != found.method:
        raise Refused(405)
    given: dict[str, Any] = _query(scope) if method == "GET" else await read_json(scope, receive)
    await answer(app, send, lambda: admin.call(acting, action, given), wake=found.wakes)


async def answer(app: Serving, send: Send, call: Callable[[], Any], *, wake: bool) -> None:
    """Run ``call`` off the event loop and send its JSON, or its refusal's status and line."""
    try:
        value = await asyncio.to_thread(call)
    except GitsyncError as err:
        await send_json(send, status_for(err), {"error": str(err)})
        return
    if wake:
        # Agents waiting on a long-poll of any file hear at once that something moved.
        app.wake_all()
    await send_json(send, 200, value)


async def _replace(
    app: Serving, scope: Scope, receive: Receive, send: Send, acting: admin.Acting
) -> None:
    """Take the bundle into a file under ROOT/work as it streams in, then replace."""
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
        await asyncio.to_thread(require_admin, acting.catalogue, acting.user, file)
    except GitsyncError as err:
        await send_json(send, status_for(err), {"error": str(err)})
        return
    work = app.root.path / WORK
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
        await answer(
            app,
            send,
            lambda: admin.replace(acting, file=file, bundle=bundle, ref=ref).as_dict(),
            wake=True,
        )


def _too_large(largest: int) -> str:
    return (
        f"the copy's history is larger than this server takes ({largest} bytes, "
        "max_bundle_bytes in its server.yaml)"
    )


async def export_response(app: Serving, send: Send, acting: admin.Acting, file: str) -> None:
    """The verified backup of ``file`` as a tar, written to a file under ROOT/work and streamed
    from there (its name and the hosted file's folder in the headers)."""
    if not file:
        await send_json(send, 400, {"error": "'file' is missing"})
        return
    work = app.root.path / WORK
    work.mkdir(exist_ok=True)
    holder = Path(tempfile.mkdtemp(dir=work, prefix=".export-"))

    def build() -> tuple[Path, str, str]:
        outcome = admin.export(acting, file=file, to=holder / "out")
        folder = Path(outcome.detail["backup"])
        tar = holder / "backup.tar"
        with tarfile.open(tar, mode="w") as archive:
            archive.add(folder, arcname=folder.name)
        return tar, folder.name, outcome.file.rpartition("/")[0]

    try:
        try:
            tar, name, hosted_folder = await asyncio.to_thread(build)
        except GitsyncError as err:
            await send_json(send, status_for(err), {"error": str(err)})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/x-tar"),
                    (b"content-length", str(tar.stat().st_size).encode()),
                    (b"x-backup-name", quote(name).encode()),
                    (b"x-backup-folder", quote(hosted_folder).encode()),
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
