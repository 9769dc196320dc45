"""Requests to a gitsync server's API, on the standard library's ``http.client``.

gitsync used httpx here. Every command that spoke to a server paid about
0.2 s for it on this machine: importing httpx (with httpcore and, where
selenium is installed, trio) took 60 ms, and each client built a TLS context
from certifi's bundle, 70 ms, even for an ``http://`` address. The API
needs only JSON requests, one streamed upload and a held long-poll, which
``http.client`` does in a few milliseconds.

- TLS: a context is made only for ``https://``. It trusts what the system
  trusts, as git's own transport does; ``GIT_SSL_CAINFO`` (or OpenSSL's
  ``SSL_CERT_FILE``) names another bundle, and certifi's bundle is used
  where the system store is empty and certifi is installed.
- Proxies: ``http_proxy``, ``https_proxy`` and ``no_proxy`` from the
  environment, as git and httpx read them (``urllib.request.getproxies``).
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

CHUNK = 1024 * 1024


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


def _tls() -> ssl.SSLContext:
    """The TLS context for ``https://`` (Unanswered when the named bundle cannot be read)."""
    cafile = os.environ.get("GIT_SSL_CAINFO") or None
    try:
        context = ssl.create_default_context(cafile=cafile)
        if cafile is None and not context.cert_store_stats().get("x509_ca"):
            import importlib.util

            if importlib.util.find_spec("certifi") is not None:
                certifi: Any = importlib.import_module("certifi")
                context.load_verify_locations(cafile=certifi.where())
    except (OSError, ssl.SSLError) as err:
        raise Unanswered(f"the certificates in {cafile or 'the system store'} ({err})") from None
    return context


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    """The proxy (host, port) the environment names for ``scheme://host``, if any."""
    from urllib.request import getproxies, proxy_bypass

    proxy = getproxies().get(scheme)
    if not proxy or proxy_bypass(host):
        return None
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or 80


def _why(err: BaseException) -> str:
    if isinstance(err, ssl.SSLCertVerificationError):
        return "its certificate is not trusted here; name the CA with GIT_SSL_CAINFO"
    return type(err).__name__


class Session:
    """One keep-alive connection to one server, reopened when the server closed it."""

    def __init__(self, base: str, timeout: float) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unanswered(f"{base}: not an http(s) address")
        self.netloc = parts.netloc
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._timeout = timeout
        self._proxied = False  # a plain-http proxy is sent whole URLs
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is not None:
            return self._connection
        proxy = _proxy_for(self._scheme, self._host)
        connection: http.client.HTTPConnection
        if self._scheme == "https":
            where = proxy or (self._host, self._port or 443)
            connection = http.client.HTTPSConnection(*where, timeout=self._timeout, context=_tls())
            if proxy is not None:
                connection.set_tunnel(self._host, self._port or 443)
        else:
            where = proxy or (self._host, self._port or 80)
            connection = http.client.HTTPConnection(*where, timeout=self._timeout)
            self._proxied = proxy is not None
        self._connection = connection
        return connection

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
        into: IO[bytes] | None = None,
    ) -> Answer:
        """Send one request to ``url`` (on this session's server) and read the whole answer.

        With ``into``, a successful answer's body is written there a piece at a time (an
        export's tar: never held whole), and the Answer's body is empty.
        """
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
        while True:
            # A kept-alive connection the server closed while idle fails before any answer,
            # and is opened again once. A new connection that fails is not: the server may
            # have done the work, and a second POST would do it twice.
            reused = self._connection is not None and self._connection.sock is not None
            try:
                connection = self._connect()
                line = f"http://{self.netloc}{target}" if self._proxied else target
                return self._exchange(connection, method, line, body, sent, into)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as err:
                if not reused or not (body is None or isinstance(body, bytes)):
                    raise Unanswered(_why(err)) from None
            except (OSError, http.client.HTTPException) as err:
                raise Unanswered(_why(err)) from None

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        body: IO[bytes] | bytes | None,
        headers: dict[str, str],
        into: IO[bytes] | None = None,
    ) -> Answer:
        try:
            try:
                connection.request(method, target, body=body, headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                if body is None or isinstance(body, bytes):
                    raise
                # A server may answer an upload before taking all of it (413: larger than it
                # takes) and close: its answer may still be there to read.
            response = connection.getresponse()
            if into is not None and response.status < 400:
                while piece := response.read(CHUNK):
                    into.write(piece)
                data = b""
            else:
                data = response.read()
            answer = Answer(
                response.status,
                data,
                {name.lower(): value for name, value in response.getheaders()},
            )
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return answer

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def request(method: str, url: str, *, timeout: float = 30.0, **kwargs: Any) -> Answer:
    """One request on a connection of its own (see ``Session.request``)."""
    with Session(url, timeout) as session:
        return session.request(method, url, **kwargs)
