"""What a gitsync server's refusal means to a copy (from git's own messages), and the token
the first request carries."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from gitsync.errors import Denied
from gitsync.repo import transport

SERVER = "http://127.0.0.1:8080/git/Clients/ABC"


@pytest.fixture(autouse=True)
def office(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    import gitsync.config
    import gitsync.repo.gitcli

    known = {"office": {"url": "http://127.0.0.1:8080", "user": "bob"}}
    monkeypatch.setattr(gitsync.config, "servers", lambda: known)
    store = tmp_path / "credentials"
    monkeypatch.setattr(gitsync.repo.gitcli, "credentials_path", lambda: store)
    return store


@pytest.mark.parametrize(
    ("stderr", "line"),
    [
        ("fatal: Authentication failed for 'URL'", "sign in again with `gitsync login office`"),
        ("fatal: could not read Username for 'URL': terminal prompts disabled", "sign in again"),
        ("error: The requested URL returned error: 429", "sign in again"),
        ("error: The requested URL returned error: 403", "you may no longer sync this file"),
        ("fatal: repository 'URL/' not found", "you may no longer sync this file; ask an admin"),
    ],
)
def test_a_server_refusal_is_denied(stderr: str, line: str) -> None:
    denied = transport.server_denial(SERVER, stderr)
    assert isinstance(denied, Denied) and line in str(denied)
    assert denied.exit_code == 9


def test_no_answer_is_not_a_refusal() -> None:
    assert transport.server_denial(SERVER, "fatal: unable to access: Failed to connect") is None
    # A local parent that is gone is unreachable, whatever git says.
    assert transport.server_denial("/shares/ABC", "fatal: repository '/x' not found") is None


def test_the_first_request_carries_the_stored_token(office: Path) -> None:
    office.write_text(
        "http://alice:other@127.0.0.1%3a8080\nhttp://bob:s%2Fecret@127.0.0.1%3a8080\n",
        encoding="utf-8",
    )
    [(key, value)] = transport.signed_in(SERVER)
    assert key == "http.extraHeader"
    assert value == "Authorization: Basic " + base64.b64encode(b"bob:s/ecret").decode()
    assert transport.signed_in("/shares/ABC") == []
    assert transport.signed_in("http://127.0.0.1:9999/git/X") == []  # not that server's token
