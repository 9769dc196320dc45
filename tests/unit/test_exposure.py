"""What counts as this machine, and which server addresses are warned about."""

from __future__ import annotations

import pytest

from gitsync.server.exposure import client_warnings, is_loopback, serving_warnings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("sync.firm.example", False),
        ("localhost.firm.example", False),
        ("", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_client_warns_only_for_plain_http_to_another_machine() -> None:
    assert client_warnings("https://sync.firm.example") == []
    assert client_warnings("http://127.0.0.1:8470") == []
    assert client_warnings("http://[::1]:8470") == []
    (line,) = client_warnings("http://10.0.0.5:8470")
    assert "passwords and tokens travel in clear" in line and "https://" in line


def test_serving_warns_for_port_0_and_plain_http_off_loopback() -> None:
    assert serving_warnings("127.0.0.1", 8470, tls=False) == []
    assert serving_warnings("0.0.0.0", 8470, tls=True) == []
    (port,) = serving_warnings("127.0.0.1", 0, tls=False)
    assert port.startswith("--port 0 picks a new port at each start")
    (clear,) = serving_warnings("0.0.0.0", 8470, tls=False)
    assert clear.startswith("serving plain http on 0.0.0.0")
    assert len(serving_warnings("::", 0, tls=False)) == 2
