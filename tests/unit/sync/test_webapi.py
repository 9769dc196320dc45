"""gitsync.sync.webapi: requests to a server's API on the standard library."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gitsync.sync import webapi


class Recorder(BaseHTTPRequestHandler):
    """Answers every request with what it received; hangs up after each answer when told to,
    without saying so (as a server does when its keep-alive time is up)."""

    protocol_version = "HTTP/1.1"
    seen: list[dict[str, object]]
    hang_up = False
    drop = False  # read the request, then hang up without an answer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        got = {
            "method": self.command,
            "path": self.path,
            "auth": self.headers.get("Authorization"),
            "body": body.decode(),
            "port": self.client_address[1],
        }
        self.seen.append(got)
        if self.drop:
            self.close_connection = True
            return
        out = json.dumps(got).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("X-Backup-Name", "abc")
        self.end_headers()
        self.wfile.write(out)
        self.close_connection = self.hang_up

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"seen": [], "hang_up": False, "drop": False})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_json_query_auth_and_headers_arrive_as_sent(server: tuple[str, type[Recorder]]) -> None:
    base, _ = server
    answer = webapi.request(
        "POST", f"{base}/api/x?a=1", json={"n": "é"}, auth=("alice", "t0k"), params={"b": "2 3"}
    )
    got = answer.json()
    assert answer.status == 200 and answer.headers["x-backup-name"] == "abc"
    assert got["path"] == "/api/x?a=1&b=2+3"
    assert json.loads(got["body"]) == {"n": "é"}
    assert got["auth"] == "Basic " + base64.b64encode(b"alice:t0k").decode()


def test_a_file_is_sent_with_its_length(server: tuple[str, type[Recorder]], tmp_path: Path) -> None:
    base, _ = server
    bundle = tmp_path / "copy.bundle"
    bundle.write_bytes(b"x" * 100_000)
    with bundle.open("rb") as body:
        got = webapi.request("POST", f"{base}/api/admin/replace", content=body).json()
    assert len(got["body"]) == 100_000


def test_one_session_keeps_its_connection(server: tuple[str, type[Recorder]]) -> None:
    base, handler = server
    with webapi.Session(base, timeout=5) as session:
        for _ in range(3):
            session.request("GET", f"{base}/api/files")
    assert len({seen["port"] for seen in handler.seen}) == 1


def test_a_connection_the_server_closed_is_opened_again(
    server: tuple[str, type[Recorder]],
) -> None:
    base, handler = server
    handler.hang_up = True
    with webapi.Session(base, timeout=5) as session:
        answers = [session.request("GET", f"{base}/api/files").status for _ in range(3)]
    assert answers == [200, 200, 200]
    assert len({seen["port"] for seen in handler.seen}) == 3


def test_no_server_is_unanswered_with_the_reason() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(webapi.Unanswered, match="ConnectionRefusedError"):
        webapi.request("GET", f"http://127.0.0.1:{port}/api/whoami", timeout=5)


def test_not_an_http_address_is_refused_before_any_connection() -> None:
    with pytest.raises(webapi.Unanswered, match="not an http"):
        webapi.request("GET", "ftp://127.0.0.1/x")


def test_a_request_dropped_on_a_new_connection_is_not_sent_again(
    server: tuple[str, type[Recorder]],
) -> None:
    """The server may have done the work before it hung up: a second POST would do it twice."""
    base, handler = server
    handler.drop = True
    with pytest.raises(webapi.Unanswered, match="RemoteDisconnected"):
        webapi.request("POST", f"{base}/api/admin/delete", json={"file": "x"})
    assert len(handler.seen) == 1


def test_an_http_proxy_in_the_environment_is_used(
    server: tuple[str, type[Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, handler = server
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", base)
    answer = webapi.request("GET", "http://gitsync.example:8123/api/whoami")
    assert answer.status == 200
    assert handler.seen[0]["path"] == "http://gitsync.example:8123/api/whoami"
    monkeypatch.setenv("no_proxy", "gitsync.example")
    with pytest.raises(webapi.Unanswered):
        webapi.request("GET", "http://gitsync.example:8123/api/whoami", timeout=2)


def test_the_agents_long_poll_takes_a_strange_answer_for_a_stream_that_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A proxy's page or a list where gitsync's answer should be: the follower backs off and
    syncs instead (it never dies with a traceback, leaving the agent deaf to the server)."""
    from gitsync.sync import remote

    class Lister(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Lister)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    monkeypatch.setattr(remote, "credential", lambda *args, **kwargs: {})
    stop = threading.Event()
    polled: list[int] = []

    def on_change() -> None:
        polled.append(1)
        stop.set()

    follower = threading.Thread(
        target=remote.follow_changes,
        args=(f"http://127.0.0.1:{httpd.server_address[1]}/git/ABC", on_change, stop),
    )
    try:
        follower.start()
        follower.join(timeout=10)
        assert not follower.is_alive() and polled == [1]
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
