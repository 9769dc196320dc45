"""Create a new client file from the skeleton in ``gitsync/resources/templates``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pygit2

from gitsync.config import LocalState
from gitsync.errors import UsageError
from gitsync.fs import make_staging, promote, remove_leftovers
from gitsync.model import canonical
from gitsync.model.records import FORMAT_VERSION, KINDS, new_id, now_stamp
from gitsync.repo.clientfile import SHARED_BRANCH, ClientFile, CommitCheck
from gitsync.repo.hooks import install_hooks


def template_files() -> dict[str, bytes]:
    """Every file of the skeleton, path -> bytes (records made canonical)."""
    from gitsync import resources

    files: dict[str, bytes] = {}
    for rel, data in resources.template_files().items():
        if rel.endswith(".json"):
            data = canonical.dumps(canonical.loads(data, rel))
        files[rel] = data
    return files


def create_client_file(
    dest: Path,
    *,
    client: str,
    number: str,
    city: str,
    year_end: str,
    user: str | None = None,
    checker: CommitCheck,
) -> ClientFile:
    """Make a new client file at ``dest``: git init, skeleton, hooks, first commit.

    It is built in a temporary sibling folder and renamed into place, so a
    crash never leaves a half-made client file at ``dest``. The first commit
    is checked by ``checker`` (``gitsync.rules.check_commit``, handed in: the
    rules are a layer above), so one they refuse (a year end that is not a
    date, say) makes nothing.
    """
    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        raise UsageError(f"{dest}: the folder exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(dest.parent, f".{dest.name}.")
    staging = make_staging(dest.parent, f".{dest.name}.", ".new")
    try:
        repo = pygit2.init_repository(str(staging), initial_head="work")
        install_hooks(repo)
        copy_id = new_id()
        client_file = ClientFile(staging, repo)
        identity_name = user or client_file.identity().name
        client_file.save_state(LocalState(copy_id=copy_id, role="top-level", user=identity_name))
        who = client_file.identity()
        engagement = {
            "client_name": client,
            "client_number": number,
            "city": city,
            "year_end": year_end,
            "format_version": FORMAT_VERSION,
            "modified": who.modified(),
        }
        files = template_files()
        files["engagement.json"] = canonical.dumps(engagement)
        files[KINDS["copy"].path_for(copy_id)] = canonical.dumps(
            {
                "id": copy_id,
                "user": identity_name,
                "parent": None,
                "created": now_stamp(),
                "state": "active",
                "modified": who.modified(),
            }
        )
        commit_id = client_file.commit(
            files, f"New client file: {client} ({number})", identity=who, checker=checker
        )
        repo.references.create(SHARED_BRANCH, commit_id, force=True)
        promote(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ClientFile.open(dest)
