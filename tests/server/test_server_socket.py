"""The server's listening socket: what asyncio needs from it to answer without stalls."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from gitsync.server.run import _listen


def test_accepted_connections_send_small_writes_at_once() -> None:
    """Nagle off (TCP_NODELAY) on every accepted connection.

    asyncio turns it off only on sockets whose protocol says TCP. A listening
    socket made with protocol 0 left it on, and each git request over HTTP then
    waited 40 ms for the client's delayed ACK before its last chunk (an
    ``ls-remote`` took 110 ms against a local server, 30 ms with Nagle off).
    """
    seen: list[int] = []

    async def main() -> None:
        sock = _listen("127.0.0.1", 0)
        port = sock.getsockname()[1]

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted = writer.get_extra_info("socket")
            seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen and seen[0] != 0


def _ask_hook_socket(tmp_path: Path, requests: list[bytes]) -> tuple[list[bytes], list[tuple]]:
    """Each request sent on its own connection to a hook socket served by ``serve_hook_request``
    (the hook answers 200 and what it was given); the raw answers, and what the hook saw."""
    from gitsync.server.hooksocket import serve_hook_request

    seen: list[tuple] = []
    answers: list[bytes] = []
    path = str(tmp_path / "hooks.sock")

    async def hook(name: str, fields: dict[str, str], body: str) -> tuple[int, str]:
        seen.append((name, fields.get("x-push-key"), body))
        return 200, f"checked {len(body)}\n"

    async def main() -> None:
        server = await asyncio.start_unix_server(
            lambda r, w: serve_hook_request(r, w, hook), path=path
        )
        for request in requests:
            reader, writer = await asyncio.open_unix_connection(path)
            writer.write(request)
            await writer.drain()
            answers.append(await asyncio.wait_for(reader.read(), timeout=10))
            writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    return answers, seen


def test_the_hook_socket_reads_http_through_h11(tmp_path: Path) -> None:
    refs = "0" * 40 + " " + "1" * 40 + " refs/heads/main\n"
    plain = (
        "POST /pre-receive HTTP/1.1\r\nHost: gitsync\r\nX-Push-Key: k1\r\n"
        f"Content-Length: {len(refs)}\r\n\r\n{refs}"
    ).encode()
    # A chunked body (curl sends one when it streams stdin): the hand-written reader took it
    # for an empty body, so the hook checked no refs at all.
    chunked = (
        "POST /post-receive HTTP/1.1\r\nHost: gitsync\r\nX-Push-Key: k2\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
        f"{len(refs[:30]):x}\r\n{refs[:30]}\r\n{len(refs[30:]):x}\r\n{refs[30:]}\r\n0\r\n\r\n"
    ).encode()
    garbage = b"NOT HTTP AT ALL\r\n\r\n"
    answers, seen = _ask_hook_socket(tmp_path, [plain, chunked, garbage])
    assert seen == [("pre-receive", "k1", refs), ("post-receive", "k2", refs)]
    assert answers[0].startswith(b"HTTP/1.1 200 ") and answers[0].endswith(
        f"checked {len(refs)}\n".encode()
    )
    assert answers[1].endswith(f"checked {len(refs)}\n".encode())
    assert answers[2].startswith(b"HTTP/1.1 400 ")
    assert b"could not read the hook" in answers[2]
