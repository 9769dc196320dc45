"""No side doors: sign-in throttled before argon2, tokens that expire, redirects after sign-in,
JSON only on the API, a push's event recorded before anything can fail.

The application is driven in-process through ASGI (real catalogue, real argon2), so a test can
count the argon2 checks and set the address each request comes from.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.server.app import ServerApp
from gitsync.server.storage import ServerRoot
from tests.server.conftest import password_of


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def call(
    app: ServerApp,
    method: str,
    path: str,
    *,
    auth: tuple[str, str] | None = None,
    body: Any = None,
    content_type: str | None = "application/json",
    address: str = "10.0.0.1",
    query: str = "",
) -> Answer:
    """One request through the ASGI application, as uvicorn would hand it over."""
    data = b"" if body is None else json.dumps(body).encode()
    headers = [(b"host", b"testserver")]
    if auth:
        pair = base64.b64encode(f"{auth[0]}:{auth[1]}".encode())
        headers.append((b"authorization", b"Basic " + pair))
    if body is not None and content_type:
        headers.append((b"content-type", content_type.encode()))
        headers.append((b"content-length", str(len(data)).encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "headers": headers,
        "client": (address, 40000),
        "scheme": "http",
        "http_version": "1.1",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": data, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    head = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], head, content)


def login(app: ServerApp, name: str, password: str, address: str = "10.0.0.1") -> Answer:
    return call(
        app, "POST", "/api/login", body={"user": name, "password": password}, address=address
    )


def audit_actions(app: ServerApp) -> list[tuple[str, str]]:
    from gitsync.server.admin import audit_log

    return [(row["action"], row["user"]) for row in reversed(audit_log(app.catalogue))]


@pytest.fixture
def make_app(server_root: Callable[..., Path]) -> Callable[..., ServerApp]:
    def make(**settings: Any) -> ServerApp:
        root = server_root()
        if settings:
            config = root / "server.yaml"
            extra = "".join(f"{key}: {json.dumps(value)}\n" for key, value in settings.items())
            config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
        return ServerApp(ServerRoot.open(root))

    return make


def test_bad_passwords_are_throttled_before_any_argon2_work(
    make_app: Callable[..., ServerApp],
) -> None:
    app = make_app()
    first = login(app, "alice", "wrong-password")
    assert first.status == 401
    assert "www-authenticate" not in first.headers  # only /git/ asks for Basic credentials
    assert audit_actions(app) == [("sign-in-failed", "alice")]  # one row for one failure
    for _ in range(4):
        assert login(app, "alice", "wrong-password").status == 401
    assert app.signin.checks == 5
    throttled = login(app, "alice", "wrong-password")
    assert throttled.status == 429
    assert 1 <= int(throttled.headers["retry-after"]) <= 300
    assert b"too many failed sign-ins" in throttled.body
    # The right password too waits out the window: and no argon2 ran for either.
    assert login(app, "alice", password_of("alice")).status == 429
    assert app.signin.checks == 5
    assert audit_actions(app) == [("sign-in-failed", "alice")] * 5 + [
        ("sign-in-throttled", "alice")
    ]  # the throttle is logged once when it begins, not once per refused attempt
    # Another user is not held back by alice's throttle.
    assert login(app, "bob", password_of("bob")).status == 200


def test_git_basic_passwords_are_throttled_the_same_way(
    make_app: Callable[..., ServerApp],
) -> None:
    app = make_app()
    path = "/git/Clients/X/info/refs"
    query = "service=git-upload-pack"
    for _ in range(5):
        refused = call(app, "GET", path, auth=("alice", "wrong-password"), query=query)
        assert refused.status == 401
        assert refused.headers["www-authenticate"].startswith("Basic")  # git asks its helper
    throttled = call(app, "GET", path, auth=("alice", "wrong-password"), query=query)
    assert throttled.status == 429 and "retry-after" in throttled.headers
    assert app.signin.checks == 5
    assert ("sign-in-failed", "alice") in audit_actions(app)


def test_another_address_locks_a_user_out_only_for_the_window(
    make_app: Callable[..., ServerApp],
) -> None:
    app = make_app(sign_in={"user_failures": 3, "address_failures": 4, "window_seconds": 60})
    now = [1000.0]
    app.signin.clock = lambda: now[0]  # argon2 under load must not age the failures out
    for _ in range(3):
        assert login(app, "alice", "guess-guess", address="10.9.9.9").status == 401
    assert login(app, "alice", password_of("alice"), address="10.0.0.1").status == 429
    now[0] += 61
    assert login(app, "alice", password_of("alice"), address="10.0.0.1").status == 200
    # Past the per-address limit that address is held back for every user; others are not.
    for name in ("bob", "bob", "carol", "carol"):
        assert login(app, name, "guess-guess", address="10.9.9.9").status == 401
    assert login(app, "carol", password_of("carol"), address="10.9.9.9").status == 429
    assert login(app, "carol", password_of("carol"), address="10.0.0.1").status == 200


def test_a_right_password_forgives_only_its_own_address(
    make_app: Callable[..., ServerApp],
) -> None:
    app = make_app(sign_in={"user_failures": 4, "window_seconds": 300})
    assert login(app, "alice", "typo-typo", address="10.0.0.1").status == 401
    assert login(app, "alice", "guess-guess", address="10.9.9.9").status == 401
    assert login(app, "alice", "guess-guess", address="10.9.9.9").status == 401
    assert login(app, "alice", password_of("alice"), address="10.0.0.1").status == 200
    # alice's own slip is forgiven; the guesser's two stand: two more and alice is throttled.
    assert login(app, "alice", "guess-guess", address="10.9.9.9").status == 401
    assert login(app, "alice", "guess-guess", address="10.9.9.9").status == 401
    assert login(app, "alice", "guess-guess", address="10.9.9.9").status == 429


def test_a_full_argon2_pool_refuses_at_once() -> None:
    import threading

    from gitsync.server.signin import Crowded, SignInGate

    gate = SignInGate(
        user_failures=5, address_failures=20, window=60, audit=lambda *a: None, workers=1, queue=0
    )
    release = threading.Event()

    def slow() -> str:
        release.wait(10)
        return "alice"

    async def storm() -> tuple[str, type[BaseException] | None]:
        first = asyncio.ensure_future(gate.verify("alice", "10.0.0.1", "login", slow))
        await asyncio.sleep(0.05)
        refused: type[BaseException] | None = None
        try:
            await gate.verify("bob", "10.0.0.2", "login", lambda: "bob")
        except Crowded as err:
            refused = type(err)
        release.set()
        return await first, refused

    assert asyncio.run(storm()) == ("alice", Crowded)
    gate.close()


def test_the_api_takes_json_only(make_app: Callable[..., ServerApp]) -> None:
    app = make_app()
    body = {"user": "alice", "password": password_of("alice")}
    plain = call(app, "POST", "/api/login", body=body, content_type="text/plain")
    assert plain.status == 415
    token = json.loads(login(app, "admin", password_of("admin")).body)["token"]
    # A page on another site can post text/plain with a browser's cached credentials: refused.
    forged = call(
        app,
        "POST",
        "/api/admin/delete",
        auth=("admin", token),
        body={"file": "Clients/X"},
        content_type="text/plain",
    )
    assert forged.status == 415
    unsigned = call(app, "GET", "/api/whoami")
    assert unsigned.status == 401 and "www-authenticate" not in unsigned.headers


def test_tokens_expire_after_the_configured_time(make_app: Callable[..., ServerApp]) -> None:
    app = make_app(token_lifetime_days=1)
    token = json.loads(login(app, "alice", password_of("alice")).body)["token"]
    assert call(app, "GET", "/api/whoami", auth=("alice", token)).status == 200
    tokens = app.catalogue.t["tokens"]
    with app.catalogue.engine.begin() as conn:
        conn.execute(tokens.update().values(created=time.time() - 2 * 86400))
    checks = app.signin.checks
    expired = call(app, "GET", "/api/whoami", auth=("alice", token))
    assert expired.status == 401
    assert app.signin.checks == checks  # an expired token is not taken for a password
    assert ("token-issue", "alice") in audit_actions(app)


def test_a_renamed_file_is_redirected_only_after_sign_in(
    make_app: Callable[..., ServerApp],
) -> None:
    from gitsync.server.admin import tables

    app = make_app()
    alice = app.catalogue.user("alice")
    app.catalogue.start_publish("Clients/New Name", alice)
    app.root.create_repository("Clients/New Name")
    app.catalogue.update_file("Clients/New Name", state="ready")
    with app.catalogue.engine.begin() as conn:
        conn.execute(
            tables(app.catalogue)["redirects"]
            .insert()
            .values(old="Clients/Old Name", new="Clients/New Name", at=time.time())
        )
    path = "/git/Clients/Old Name/info/refs"
    query = "service=git-upload-pack"
    anonymous = call(app, "GET", path, query=query)
    assert anonymous.status == 401
    assert "location" not in anonymous.headers and b"New" not in anonymous.body
    token = json.loads(login(app, "alice", password_of("alice")).body)["token"]
    signed = call(app, "GET", path, query=query, auth=("alice", token))
    assert signed.status == 301
    assert "/git/Clients/New%20Name/info/refs" in signed.headers["location"]


def test_a_push_event_is_recorded_even_when_the_fold_fails(
    make_app: Callable[..., ServerApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitsync.server import app as app_module
    from gitsync.server.receive import PushContext

    app = make_app()
    alice = app.catalogue.user("alice")
    app.catalogue.start_publish("Clients/F", alice)
    repository = app.root.create_repository("Clients/F")
    app.catalogue.update_file("Clients/F", state="ready")
    hosted = app.catalogue.file("Clients/F")
    assert hosted is not None
    before = app.catalogue.last_event()

    def broken_fold(_repository: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(app_module, "fold_received", broken_fold)
    app.pushes["key"] = PushContext("Clients/F", repository, "alice", publishing=False)
    old, new = "1" * 40, "2" * 40
    status, _ = asyncio.run(
        app.hook("post-receive", {"x-push-key": "key"}, f"{old} {new} refs/heads/main\n")
    )
    assert status == 200
    events = app.catalogue.events_since(hosted, before)
    assert [(e["ref"], e["new"], e["user"]) for e in events] == [("refs/heads/main", new, "alice")]
