"""Serving: uvicorn on a TCP socket for clients, a unix socket for the relay hooks."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from gitsync.server import ServerError
from gitsync.server.storage import ServerRoot

MAX_SOCKET_PATH = 100


def hook_socket_path(root: ServerRoot) -> Path:
    """The relay hooks' socket: in the root, or a private folder when that path is too long."""
    if len(str(root.hook_socket)) <= MAX_SOCKET_PATH:
        return root.hook_socket
    digest = hashlib.sha256(str(root.path).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"gitsync-{os.getuid()}-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    return folder / "hooks.sock"


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose proto
    # says TCP. With it on, every chunked answer (each git request) stalled 40 ms on the
    # client's delayed ACK before its last chunk.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ServerError(f"{host}:{port}: cannot listen there ({err.strerror})") from None
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


def serve(
    root_path: Path,
    *,
    host: str,
    port: int,
    certfile: Path | None,
    keyfile: Path | None,
    on_ready: Callable[[str], None],
) -> None:
    """Serve until interrupted; ``on_ready`` gets the URL once the port listens."""
    import uvicorn

    from gitsync.server.app import ServerApp

    root = ServerRoot.open(root_path)
    if (certfile is None) != (keyfile is None):
        raise ServerError("TLS needs both --certfile and --keyfile")
    logging.basicConfig(level=logging.INFO, format="gitsync server: %(message)s")
    hook_path = hook_socket_path(root)
    app = ServerApp(root, hook_socket=hook_path)
    sock = _listen(host, port)
    bound = sock.getsockname()[1]
    scheme = "https" if certfile else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{bound}"
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=5,  # a push or fetch in flight; held long-polls answer at once
        h11_max_incomplete_event_size=64 * 1024,
    )

    class Serving(uvicorn.Server):
        """uvicorn's server, which tells the long-polls first when it is asked to stop."""

        loop: asyncio.AbstractEventLoop | None = None

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.loop is not None:  # a signal handler: hand it to the loop's own thread
                self.loop.call_soon_threadsafe(app.close_waits)
            super().handle_exit(sig, frame)

    server = Serving(config)

    async def main() -> None:
        server.loop = asyncio.get_running_loop()
        hook_path.unlink(missing_ok=True)  # a socket left by a server that was killed
        hooks = await asyncio.start_unix_server(app.hook_connection, path=str(hook_path))
        hook_path.chmod(0o600)
        on_ready(url)
        try:
            await server.serve(sockets=[sock])
        finally:
            hooks.close()
            hook_path.unlink(missing_ok=True)

    asyncio.run(main())
