"""The workbench: a throw-away clone of a hosted file that acts as its top-level parent.

The maintenance actions (abandon, lockdown, clear-sync, export) are the local
ones from ``gitsync.maintenance``, run on a workbench (objects shared, nothing
copied). What they commit goes back into the hosted repository's shared line
by a fast-forward fetch, so a push that lands meanwhile is never overwritten:
the action is refused (``FileBusy``) and can be run again.

    ROOT/work/     workbenches and uploads (removed after each action)
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from gitsync.errors import Refused
from gitsync.repo.gitcli import git

if TYPE_CHECKING:
    from gitsync.repo.clientfile import ClientFile
    from gitsync.server.catalogue import Catalogue, HostedFile, User
    from gitsync.server.storage import ServerRoot

WORK = "work"
SERVER_COPY = "server"


class FileBusy(Refused):
    """A copy pushed while the action ran; nothing was changed, run it again."""

    http_status = 409


@contextmanager
def workbench(root: ServerRoot, hosted: HostedFile, user: User) -> Iterator[ClientFile]:
    """A clone of the hosted file acting as its top-level parent; its shared line goes back
    into the hosted repository (fast-forward only) when the block ends without an error."""
    from gitsync.config import LocalState
    from gitsync.fs import make_staging
    from gitsync.repo.clientfile import ClientFile

    repository = root.repository(hosted.path)
    (root.path / WORK).mkdir(exist_ok=True)
    staging = make_staging(root.path / WORK, ".bench-")
    folder = staging / hosted.name
    try:
        git(["clone", "--quiet", "--shared", "--branch", "main", str(repository), str(folder)])
        git(["remote", "remove", "origin"], folder)
        git(["checkout", "--quiet", "-b", "work"], folder)
        git(["config", "user.name", user.name], folder)
        git(["config", "user.email", f"{user.name}@gitsync.invalid"], folder)
        LocalState(copy_id=SERVER_COPY, role="top-level", user=user.name).save(folder)
        before = git(["rev-parse", "refs/heads/main"], repository).stdout.strip()
        client_file = ClientFile.open(folder, check_format=False)
        client_file.acting = user.name
        yield client_file
        after = git(["rev-parse", "refs/heads/main"], folder).stdout.strip()
        if after != before:
            fetched = git(
                ["fetch", "--quiet", str(folder), "refs/heads/main:refs/heads/main"],
                repository,
                check=False,
            )
            if fetched.returncode != 0:
                raise FileBusy(
                    f"{hosted.path}: a copy synced while the action ran; nothing was changed, "
                    "run it again"
                )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def refresh(catalogue: Catalogue, root: ServerRoot, hosted: HostedFile, user: User) -> None:
    """The catalogue row from the repository again, and an event so copies hear of it."""
    from gitsync.server.receive import describe_file

    repository = root.repository(hosted.path)
    values = describe_file(repository)
    catalogue.update_file(hosted.path, **values)
    tip = git(["rev-parse", "refs/heads/main"], repository, check=False).stdout.strip()
    if tip:
        catalogue.add_event(hosted, "refs/heads/main", "0" * 40, tip, user.name)
