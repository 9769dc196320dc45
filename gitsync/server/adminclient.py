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


def call(label: str | None, action: str, given: dict[str, Any]) -> Any:
    """One action of ``admin.ACTIONS`` through the server's admin API, with the arguments the
    ``--root`` form would take (a GET's in the query, a POST's as its JSON body)."""
    from gitsync.server.admin import ACTIONS

    found = ACTIONS.get(action)
    if found is None:
        raise UsageError(f"'{action}': no such admin action")
    if found.method == "GET":
        query = {k: str(v) for k, v in given.items() if v not in (None, "", False)}
        return _call(label, "GET", action, query=query or None).json()
    return _call(
        label, "POST", action, body={k: v for k, v in given.items() if v is not None}
    ).json()


def export(label: str | None, file: str, to: Path) -> dict[str, Any]:
    """Fetch the server's verified backup of ``file`` and unpack it into ``to``."""
    from gitsync.fs import make_staging
    from gitsync.maintenance.backup import BUNDLE, FILES, MANIFEST, sha256_of
    from gitsync.server.admin import free_backup_path

    to = to.expanduser().resolve()
    to.mkdir(parents=True, exist_ok=True)
    # The tar streams to a file beside the backup, never whole in memory, and goes after.
    with tempfile.TemporaryFile(dir=to, prefix=".export-") as held:
        response = _call(label, "POST", "export", body={"file": file}, into=held)
        name = unquote(response.headers.get("x-backup-name", ""))
        folder = unquote(response.headers.get("x-backup-folder", ""))
        if (
            not name
            or "/" in name
            or name.startswith(".")
            or folder.startswith("/")
            or ".." in folder.split("/")
        ):
            raise GitsyncError(f"{file}: the server's backup has no name this gitsync can use")
        place = to / folder if folder else to
        place.mkdir(parents=True, exist_ok=True)
        final = free_backup_path(place, name)
        staging = make_staging(place, ".export-")
        try:
            held.seek(0)
            with tarfile.open(fileobj=held, mode="r") as archive:
                archive.extractall(staging, filter="data")
            (staging / name).rename(final)
        finally:
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
    import json

    manifest = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
    if sha256_of(final / BUNDLE) != manifest["bundle"]["sha256"] or (
        sha256_of(final / FILES) != manifest["files"]["sha256"]
    ):
        raise GitsyncError(f"{final}: the backup arrived damaged; export it again")
    return {"action": "export", "file": file, "backup": str(final)}
