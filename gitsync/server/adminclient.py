"""The admin actions from a client: ``gitsync server ... --server NAME`` through the admin API."""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from gitsync.errors import GitsyncError, UsageError


def _call(
    label: str | None,
    method: str,
    action: str,
    body: Any = None,
    query: Any = None,
    into: Any = None,
) -> Any:
    from gitsync.server.client import _signed_in, admin_request

    _, url, user = _signed_in(label)
    return admin_request(url, user, method, action, body=body, query=query, into=into)


def get(label: str | None, action: str, **query: str) -> Any:
    return _call(label, "GET", action, query=query or None).json()


def post(label: str | None, action: str, **body: Any) -> Any:
    return _call(label, "POST", action, body=body).json()


def export(label: str | None, file: str, to: Path) -> dict[str, Any]:
    """Fetch the server's verified backup of ``file`` and unpack it into ``to``."""
    from gitsync.maintenance.backup import BUNDLE, FILES, MANIFEST, sha256_of

    to = to.expanduser().resolve()
    to.mkdir(parents=True, exist_ok=True)
    # The tar streams to a file beside the backup, never whole in memory, and goes after.
    with tempfile.TemporaryFile(dir=to, prefix=".export-") as held:
        response = _call(label, "POST", "export", body={"file": file}, into=held)
        name = unquote(response.headers.get("x-backup-name", ""))
        final = to / name
        if not name or "/" in name or final.exists():
            raise UsageError(f"{final}: a backup of that name already exists")
        held.seek(0)
        with tarfile.open(fileobj=held, mode="r") as archive:
            archive.extractall(to, filter="data")
    import json

    manifest = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
    if sha256_of(final / BUNDLE) != manifest["bundle"]["sha256"] or (
        sha256_of(final / FILES) != manifest["files"]["sha256"]
    ):
        raise GitsyncError(f"{final}: the backup arrived damaged; export it again")
    return {"action": "export", "file": file, "backup": str(final)}
