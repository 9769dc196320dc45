"""The server's listening socket: what asyncio needs from it to answer without stalls."""

from __future__ import annotations

import asyncio
import socket

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
