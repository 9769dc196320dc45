"""The admin actions from a client: ``gitsync server ... --server NAME`` through the admin API."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from gitsync.errors import GitsyncError, Unreachable, UsageError
from gitsync.sync.remote import NotSignedIn


def _call(label: str | None, method: str, action: str, body: Any = None, query: Any = None) -> Any:
    from gitsync.server.client import _signed_in

    _, url, user = _signed_in(label)
    return request(url, user, method, action, body=body, query=query)


def request(
    url: str,
    user: str,
    method: str,
    action: str,
    *,
    body: Any = None,
    query: Any = None,
    content: Any = None,
) -> Any:
    """One call of ``/api/admin/<action>`` on the server at ``url`` as ``user``; the response.

    ``body`` goes as JSON, ``content`` (a file, for ``replace``'s bundle) as it is. Every
    failure is one error: unreachable, not signed in, refused with the server's own line.
    """
    import httpx

    from gitsync.server.client import token_for

    address = f"{url}/api/admin/{action}" + (f"?{urlencode(query)}" if query else "")
    try:
        response = httpx.request(
            method,
            address,
            json=body,
            content=content,
            auth=(user, token_for(url, user)),
            timeout=600.0,
        )
    except httpx.HTTPError as err:
        raise Unreachable(f"{url}: the server cannot be reached ({type(err).__name__})") from None
    if response.status_code == 401:
        raise NotSignedIn(f"{url}: the server refused the sign-in (run 'gitsync login')")
    if response.status_code >= 400:
        try:
            line = str(response.json().get("error") or "")
        except ValueError:
            line = response.text.strip()
        if response.status_code == 404:
            line = line or "no such file, or not one you may see"
        raise (UsageError if response.status_code == 400 else GitsyncError)(
            f"{url}: {line or f'refused ({response.status_code})'}"
        )
    return response


def get(label: str | None, action: str, **query: str) -> Any:
    return _call(label, "GET", action, query=query or None).json()


def post(label: str | None, action: str, **body: Any) -> Any:
    return _call(label, "POST", action, body=body).json()


def export(label: str | None, file: str, to: Path) -> dict[str, Any]:
    """Fetch the server's verified backup of ``file`` and unpack it into ``to``."""
    from gitsync.maintenance.backup import BUNDLE, FILES, MANIFEST, sha256_of

    response = _call(label, "POST", "export", body={"file": file})
    name = unquote(response.headers.get("x-backup-name", ""))
    to = to.expanduser().resolve()
    to.mkdir(parents=True, exist_ok=True)
    final = to / name
    if not name or "/" in name or final.exists():
        raise UsageError(f"{final}: a backup of that name already exists")
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r") as archive:
        archive.extractall(to, filter="data")
    import json

    manifest = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
    if sha256_of(final / BUNDLE) != manifest["bundle"]["sha256"] or (
        sha256_of(final / FILES) != manifest["files"]["sha256"]
    ):
        raise GitsyncError(f"{final}: the backup arrived damaged; export it again")
    return {"action": "export", "file": file, "backup": str(final)}
