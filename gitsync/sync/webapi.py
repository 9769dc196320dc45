"""Requests to a gitsync server's API, on the standard library's ``http.client``.

gitsync used httpx here. Every command that spoke to a server paid about
0.2 s for it on this machine: importing httpx (with httpcore and, where
selenium is installed, trio) took 60 ms, and each client built a TLS context
from certifi's bundle, 70 ms, even for an ``http://`` address. The API
needs only JSON requests, one streamed upload and a held long-poll, which
``http.client`` does in a few milliseconds. A TLS context is made only for
``https://``; it trusts what the system trusts, as git's own transport does
(``SSL_CERT_FILE`` or ``GIT_SSL_CAINFO`` name another bundle).
"""

from __future__ import annotations

import base64
import http.client
import json as jsonlib
import os
import ssl
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlencode, urlsplit


class Unanswered(Exception):
    """No HTTP answer: the server is not there, hung up, timed out or spoke no HTTP."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]  # names in lower case

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return jsonlib.loads(self.body)


_TLS: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context(cafile=os.environ.get("GIT_SSL_CAINFO") or None)
    return _TLS


class Session:
    """One keep-alive connection to one server, reopened when the server closed it."""

    def __init__(self, base: str, timeout: float) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unanswered(f"{base}: not an http(s) address")
        self.netloc = parts.netloc
        self._connection: http.client.HTTPConnection
        if parts.scheme == "https":
            self._connection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=timeout, context=_tls()
            )
        else:
            self._connection = http.client.HTTPConnection(
                parts.hostname, parts.port, timeout=timeout
            )

    def request(
        self,
        method: str,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        json: Any = None,
        content: IO[bytes] | bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request to ``url`` (on this session's server) and read the whole answer."""
        parts = urlsplit(url)
        if parts.netloc != self.netloc:
            raise Unanswered(f"{url}: not on {self.netloc}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if params:
            target += ("&" if parts.query else "?") + urlencode(params)
        sent = {"Accept": "application/json"} | (headers or {})
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode()
            sent["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        body: IO[bytes] | bytes | None = content
        if json is not None:
            body = jsonlib.dumps(json).encode("utf-8")
            sent["Content-Type"] = "application/json"
        if body is not None and not isinstance(body, bytes):
            sent["Content-Length"] = str(os.fstat(body.fileno()).st_size - body.tell())
        # A kept-alive connection the server has since closed fails before any answer:
        # one more try on a new connection, unless part of a stream was already sent.
        tries = 2 if body is None or isinstance(body, bytes) else 1
        failure: Exception | None = None
        for _ in range(tries):
            try:
                return self._exchange(method, target, body, sent)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as err:
                failure = err
            except (OSError, http.client.HTTPException) as err:
                failure = err
                break
        raise Unanswered(type(failure).__name__)

    def _exchange(
        self, method: str, target: str, body: IO[bytes] | bytes | None, headers: dict[str, str]
    ) -> Answer:
        try:
            self._connection.request(method, target, body=body, headers=headers)
            response = self._connection.getresponse()
            answer = Answer(
                response.status,
                response.read(),
                {name.lower(): value for name, value in response.getheaders()},
            )
        except BaseException:
            self._connection.close()
            raise
        if response.will_close:
            self._connection.close()
        return answer

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request(method: str, url: str, *, timeout: float = 30.0, **kwargs: Any) -> Answer:
    """One request on a connection of its own (see ``Session.request``)."""
    with Session(url, timeout) as session:
        return session.request(method, url, **kwargs)
