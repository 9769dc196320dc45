"""git smart HTTP: ``git http-backend`` run as a plain ASGI handler, streamed both ways.

Written against ASGI directly, not Starlette's StreamingResponse fed from
``Request.stream()``, which lost request chunks under uvicorn (DESIGN
section 6): the request body is pumped into the process's stdin with
``drain()`` while its stdout streams back, so memory stays steady for a
push of any size. A chunked body (git sends one for pushes over 1 MiB)
leaves CONTENT_LENGTH unset, so http-backend reads to the end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger("gitsync.server")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

GIT_PROTOCOL = re.compile(r"^[A-Za-z0-9=:._,-]{1,256}$")
CHUNK = 64 * 1024
_STDERR_KEPT = 4096


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def backend_env(
    scope: Scope, *, project_root: str, path_info: str, user: str, extra: Mapping[str, str]
) -> dict[str, str]:
    """The CGI environment of one request; git's own variables from the server's start are dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_PROJECT_ROOT": project_root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path_info,
            "REQUEST_METHOD": scope["method"],
            "QUERY_STRING": bytes(scope.get("query_string", b"")).decode("latin-1"),
            "REMOTE_USER": user,
            "REMOTE_ADDR": (scope.get("client") or ("", 0))[0] or "",
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "GATEWAY_INTERFACE": "CGI/1.1",
        }
    )
    content_type = header(scope, b"content-type")
    if content_type:
        env["CONTENT_TYPE"] = content_type
    length = header(scope, b"content-length")
    chunked = "chunked" in (header(scope, b"transfer-encoding") or "").lower()
    if length is not None and not chunked and length.strip().isdigit():
        env["CONTENT_LENGTH"] = length.strip()
    encoding = header(scope, b"content-encoding")
    if encoding in ("gzip", "x-gzip"):
        env["HTTP_CONTENT_ENCODING"] = encoding
    protocol = header(scope, b"git-protocol")
    if protocol and GIT_PROTOCOL.match(protocol):
        env["HTTP_GIT_PROTOCOL"] = protocol
        env["GIT_PROTOCOL"] = protocol
    env.update(extra)
    return env


async def serve_backend(scope: Scope, receive: Receive, send: Send, env: dict[str, str]) -> int:
    """Run ``git http-backend`` for one request; returns its exit code (logged when not 0)."""
    proc = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
    disconnected = asyncio.Event()

    async def pump_request() -> None:
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return
                body = message.get("body", b"")
                if body:
                    stdin.write(body)
                    await stdin.drain()
                if not message.get("more_body", False):
                    return
        except (BrokenPipeError, ConnectionResetError):
            return  # git stopped reading (it refused the request): its answer says why
        finally:
            if not stdin.is_closing():
                stdin.close()

    kept: list[bytes] = []

    async def keep_stderr() -> None:
        size = 0
        while chunk := await stderr.read(CHUNK):
            if size < _STDERR_KEPT:
                kept.append(chunk[: _STDERR_KEPT - size])
                size += len(kept[-1])

    pumping = asyncio.create_task(pump_request())
    draining = asyncio.create_task(keep_stderr())
    started = False
    try:
        head = b""
        while b"\r\n\r\n" not in head and b"\n\n" not in head:
            chunk = await stdout.read(CHUNK)
            if not chunk:
                break
            head += chunk
            if len(head) > 64 * 1024:
                break
        status, headers, rest = _parse_cgi(head)
        if status is None:
            await send_plain(send, 502, b"git failed\n")
            started = True
        else:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            started = True
            if rest:
                await send({"type": "http.response.body", "body": rest, "more_body": True})
            while chunk := await stdout.read(CHUNK):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    except (OSError, asyncio.CancelledError):
        # The client went away: stop git, whose quarantine is then dropped with nothing applied.
        if proc.returncode is None:
            proc.kill()
        raise
    finally:
        if not started:
            with contextlib.suppress(OSError):
                await send_plain(send, 502, b"git failed\n")
        if proc.returncode is None and disconnected.is_set():
            proc.kill()
        code = await proc.wait()
        pumping.cancel()
        await asyncio.gather(pumping, draining, return_exceptions=True)
        if code != 0:
            text = b"".join(kept).decode("utf-8", "replace").strip().replace("\n", " | ")
            log.warning("git http-backend %s exited %s: %s", env.get("PATH_INFO"), code, text)
    return code


def _parse_cgi(head: bytes) -> tuple[int | None, list[tuple[bytes, bytes]], bytes]:
    for separator in (b"\r\n\r\n", b"\n\n"):
        if separator in head:
            raw, _, rest = head.partition(separator)
            break
    else:
        return None, [], b""
    status = 200
    headers: list[tuple[bytes, bytes]] = []
    for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
        name, _, value = line.partition(b":")
        name, value = name.strip(), value.strip()
        if not name:
            continue
        if name.lower() == b"status":
            try:
                status = int(value.split()[0])
            except (ValueError, IndexError):
                return None, [], b""
            continue
        headers.append((name.lower(), value))
    return status, headers, rest


async def send_plain(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


# --- the client's format version ------------------------------------------------------

FORMAT_HEADER = b"x-gitsync-format"


def client_format(scope: Scope) -> int | None:
    """The format_version a gitsync client writes (its ``X-Gitsync-Format``); None for stock git."""
    value = (header(scope, FORMAT_HEADER) or "").strip()
    return int(value) if value.isdigit() and len(value) < 6 else None


def file_format(repository: Any) -> int | None:
    """The format_version of a hosted file's shared line (None before it has one)."""
    import json

    from gitsync.repo.gitcli import git

    shown = git(["cat-file", "-p", "refs/heads/main:engagement.json"], repository, check=False)
    try:
        engagement = json.loads(shown.stdout) if shown.returncode == 0 else None
    except ValueError:
        return None
    version = engagement.get("format_version") if isinstance(engagement, dict) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def format_refusal(scope: Scope, repository: Any) -> str | None:
    """The one line refusing a gitsync client older than the file's format, else None."""
    mine = client_format(scope)
    if mine is None:
        return None
    theirs = file_format(repository)
    if theirs is None or mine >= theirs:
        return None
    return (
        f"this file was converted to format_version {theirs} and this gitsync writes "
        f"{mine}: upgrade gitsync, then run 'gitsync convert' in your copy"
    )


# --- the copy that talks -----------------------------------------------------------------

COPY_HEADER = b"x-gitsync-copy"
PENDING_HEADER = b"x-gitsync-pending"
_COPY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def copy_of(scope: Scope) -> str | None:
    """The copy a gitsync client says it is (``X-Gitsync-Copy``); None for stock git."""
    value = (header(scope, COPY_HEADER) or "").strip()
    return value if _COPY_ID.match(value) else None


def pending_of(scope: Scope) -> int | None:
    """The changes the copy says it holds unsent (``X-Gitsync-Pending``), None when it does not."""
    value = (header(scope, PENDING_HEADER) or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _pkt(text: str) -> bytes:
    data = text.encode("utf-8")
    return f"{len(data) + 4:04x}".encode("ascii") + data


async def send_git_error(send: Send, service: str, message: str) -> None:
    """Answer a ref advertisement with git's ERR packet: git prints 'remote error: MESSAGE'."""
    body = _pkt(f"# service={service}\n") + b"0000" + _pkt(f"ERR {message}\n")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", f"application/x-{service}-advertisement".encode("ascii")),
                (b"cache-control", b"no-cache"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
