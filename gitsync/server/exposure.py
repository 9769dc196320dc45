"""What a server address exposes: the warnings ``server run`` and ``server add`` print.

One place decides what counts as this machine (loopback) and what travels in
clear, for the side that serves and the side that signs in alike. The
commands print the lines these return; nothing here refuses, since a firm
behind its own TLS proxy, or a test on one machine, may mean exactly that.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

IN_CLEAR = "passwords and tokens travel in clear"


def is_loopback(host: str) -> bool:
    """True when ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def client_warnings(url: str) -> list[str]:
    """Warnings for a server address a user adds: plain http to another machine."""
    parts = urlsplit(url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        return [f"{url} is plain http to another machine: {IN_CLEAR}; use an https:// address"]
    return []


def serving_warnings(host: str, port: int, tls: bool) -> list[str]:
    """Warnings for how ``server run`` listens: a port picked at random, or plain http on a
    host other machines reach."""
    found = []
    if port == 0:
        found.append(
            "--port 0 picks a new port at each start, and every copy keeps the address it "
            "was made from: copies will not find this server after a restart; give a fixed --port"
        )
    if not tls and not is_loopback(host):
        found.append(
            f"serving plain http on {host}, which other machines can reach: {IN_CLEAR}; "
            "give --certfile and --keyfile (or serve on 127.0.0.1 behind a TLS proxy)"
        )
    return found
