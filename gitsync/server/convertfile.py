"""Converting a hosted file to this gitsync's format, at the server (``gitsync server convert``).

The server's copy is the top-level parent, so converting it converts the
hierarchy: the conversion (``gitsync.maintenance.convert``) runs in a
temporary clone beside the bare repository, and its one commit becomes the
shared line only if nothing was pushed meanwhile (a compare-and-swap of
``refs/heads/main``). From then on the server refuses copies and syncs from
a gitsync older than the file's format (see ``githttp.format_refusal``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gitsync.errors import GitsyncError, UsageError
from gitsync.maintenance.convert import ConvertReport, convert
from gitsync.repo.gitcli import git

if TYPE_CHECKING:
    from gitsync.server.catalogue import Catalogue, HostedFile
    from gitsync.server.storage import ServerRoot


def convert_hosted(root_path: Path, name: str, *, by: str = "gitsync server") -> ConvertReport:
    """Convert the hosted file ``name`` of the server root at ``root_path``; one commit, or none."""
    from gitsync.server.catalogue import Catalogue as Opened
    from gitsync.server.storage import ServerRoot as Root

    root = Root.open(root_path)
    catalogue = Opened.open(root)
    hosted = catalogue.file(name)
    if hosted is None or hosted.state != "ready":
        raise UsageError(f"'{name}': no published file of that name on this server")
    return convert_file(root, catalogue, hosted, by=by)


def convert_file(
    root: ServerRoot, catalogue: Catalogue, hosted: HostedFile, *, by: str
) -> ConvertReport:
    """Convert one hosted file (found and authorised by the caller); one commit, or none."""
    name = hosted.path
    repository = root.repository(hosted.path)
    with tempfile.TemporaryDirectory(prefix=".convert-", dir=root.run_dir) as holder:
        work = Path(holder) / "file"
        git(["clone", "--quiet", "--branch", "main", str(repository), str(work)])
        git(["config", "user.name", by], work)
        git(["config", "user.email", "server@gitsync.invalid"], work)
        before = git(["rev-parse", "HEAD"], work).stdout.strip()
        report = convert(work)
        if report.commit is None:
            return report
        git(["fetch", "--quiet", str(work), f"{report.commit}:refs/gitsync/converted"], repository)
        moved = git(
            ["update-ref", "refs/heads/main", report.commit, before], repository, check=False
        )
        git(["update-ref", "-d", "refs/gitsync/converted"], repository, check=False)
        if moved.returncode != 0:
            raise GitsyncError(
                f"'{name}': a copy pushed while the file was converted; nothing changed, "
                "run convert again"
            )
    catalogue.update_file(hosted.path, format_version=report.to_version)
    catalogue.add_event(hosted, "refs/heads/main", before, report.commit, by)
    return report
