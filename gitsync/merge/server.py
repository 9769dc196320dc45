"""One resident process for every file of a plain ``git merge``: the merge driver's server.

git starts its merge driver once per file changed on both sides, so a plain
``git pull`` of a few hundred records paid Python's start-up a few hundred
times. The driver git runs is now ``gitsync/resources/merge-relay``, a few lines
of ``sh`` that hand each file to this server over a Unix socket with ``curl``
(as the server's push relay does) and start it when none answers. It merges
with the same ``run_driver`` as ``python -m gitsync merge-driver``, so the
bytes are the same, and it goes away after a few idle seconds.

The socket lives in a folder of the user's own (mode 0700, checked): a server
of another user is never asked, and never answers this one. Its name carries a
hash of the interpreter and of this package, so a gitsync installed elsewhere
or upgraded starts a server of its own.

    POST /merge   body: cwd NUL base NUL ours NUL theirs NUL path
                  answer: the exit code, a newline, the one line for stderr (or nothing)
"""

from __future__ import annotations

import os
import socket
import socketserver
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from gitsync.errors import ExitCode, error_line

IDLE_SECONDS = 10.0
MAX_BODY = 64 * 1024


def _private_folder(folder: Path) -> bool:
    """Make ``folder`` (0700) or accept it only when it is this user's alone."""
    try:
        folder.mkdir(mode=0o700, parents=False, exist_ok=True)
        status = folder.lstat()
    except OSError:
        return False
    return status.st_uid == os.getuid() and (status.st_mode & 0o077) == 0 and folder.is_dir()


class _Merge(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        from gitsync.merge.driver import run_driver

        try:
            length = max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            length = 0  # then no fields: answered as a request the server can't read
        parts = self.rfile.read(min(length, MAX_BODY)).decode("utf-8", "surrogateescape")
        fields = parts.split("\0")
        code, line = int(ExitCode.OK), ""
        if self.path != "/merge" or len(fields) != 5:
            code, line = (
                int(ExitCode.USAGE),
                "gitsync: merge-driver: a request the server can't read",
            )
        else:
            cwd, base, ours, theirs, path = fields
            root = Path(cwd)
            try:
                run_driver(root / base, root / ours, root / theirs, path, root)
            except Exception as error:  # the shared boundary: one line, never a traceback
                line, code = error_line(error, "merge-driver")
        log = os.environ.get("GITSYNC_MERGE_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as out:
                out.write(f"{os.getpid()} {fields[-1]}\n")
        body = f"{code}\n{line}".encode("utf-8", "surrogateescape")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: the relay shows the one line that matters


class _Server(socketserver.UnixStreamServer):
    idle = False

    def handle_timeout(self) -> None:
        self.idle = True


def _someone_listens(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def serve(path: Path, idle: float | None = None) -> int:
    """Merge files for the relay until ``idle`` seconds pass with none; the exit code."""
    if idle is None:
        idle = float(os.environ.get("GITSYNC_MERGE_IDLE") or IDLE_SECONDS)
    if not _private_folder(path.parent):
        return int(ExitCode.REFUSED)  # the relay falls back to the plain driver
    if path.exists() or path.is_symlink():
        if _someone_listens(path):
            return int(ExitCode.OK)  # another server won the race
        path.unlink(missing_ok=True)
    try:
        server = _Server(str(path), _Merge)
    except OSError:
        return int(ExitCode.OK) if _someone_listens(path) else int(ExitCode.BUSY)
    mine = path.stat().st_ino
    server.timeout = idle
    try:
        with server:
            while not server.idle:
                server.handle_request()
    finally:
        try:
            if path.stat().st_ino == mine:
                path.unlink()
        except OSError:
            pass
    return int(ExitCode.OK)


def main(argv: list[str]) -> int:
    """``python -m gitsync merge-server SOCKET`` (what the relay starts)."""
    if len(argv) != 1:
        sys.stderr.write("gitsync: merge-server: usage: merge-server SOCKET\n")
        return int(ExitCode.USAGE)
    return serve(Path(argv[0]))
