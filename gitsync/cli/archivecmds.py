"""Commands that keep and carry a client file: backup, restore, repair, year-end-close, convert."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say

#: Show a progress bar only for work above this many objects or bytes.
PROGRESS_FROM = 2000
STEP_LABELS = {"history": "Writing history", "verify": "Verifying", "files": "Storing files"}


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr for large files; None when not shown."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, TaskID

    bar = Progress(console=Console(stderr=True), transient=True)
    tasks: dict[str, TaskID] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in tasks:
            if total < PROGRESS_FROM and step != "verify":
                return
            tasks[step] = bar.add_task(STEP_LABELS.get(step, step), total=total or None)
        bar.update(tasks[step], completed=done, total=total or None)

    with bar:
        yield report


def backup(
    to: Annotated[Path, typer.Option("--to", help="Folder to write the backup into.")],
    include_subfolders: Annotated[
        bool,
        typer.Option(
            "--include-subfolders",
            help="Also keep the user folders inside the client file folder that are not "
            "part of the client file (folders holding no tracked file).",
        ),
    ] = False,
    include_sync: Annotated[
        bool,
        typer.Option("--include-sync", help="Keep the _Sync folder too (stored as _Sync_)."),
    ] = False,
    include_documents: Annotated[
        str | None,
        typer.Option(
            "--include-documents",
            help="Also keep documents outside the tree: 'here' (on-demand and Never content in "
            "this copy) or 'all' (every on-demand document's content, fetched first).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Write a verified backup: 'Backup of <name> (MM-DD-YYYY HH-MM-SS)' with the whole history."""
    from gitsync.maintenance.backup import backup as make_backup

    client_file = context.client_file(open_parent=False)
    with _progress(not as_json) as progress:
        report = make_backup(
            client_file,
            context.resolve(to),
            include_subfolders=include_subfolders,
            include_sync=include_sync,
            include_documents=include_documents,
            progress=progress,
        )
    if as_json:
        emit_json(report.as_dict())
    else:
        say(f"Backed up {report.file_name} to {report.path}")


def restore(
    backup_dir: Annotated[Path, typer.Argument(metavar="BACKUP", help="The backup folder.")],
    dest: Annotated[Path, typer.Argument(help="Folder of the restored client file.")],
    rejoin: Annotated[
        bool,
        typer.Option(
            "--rejoin",
            help="Take the backup's sync state back (_Sync_ -> _Sync) and reconnect to the "
            "hierarchy; without it the file is restored outside the hierarchy.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Restore a backup into a working client file with its whole history."""
    from gitsync.maintenance.restore import restore as do_restore

    with _progress(not as_json) as progress:
        report = do_restore(
            context.resolve(backup_dir), context.resolve(dest), rejoin=rejoin, progress=progress
        )
    if as_json:
        emit_json(report.as_dict())
    elif report.rejoined:
        say(f"Restored {report.path}: copy {report.copy_id} rejoined its hierarchy")
    else:
        say(f"Restored {report.path} as a client file outside the hierarchy")


def repair(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Verify the history, rebuild the working files and index, run every rule, fix known drift."""
    from gitsync.maintenance.repair import repair as do_repair

    report = do_repair(context.client_file(open_parent=False, placed=False))
    if as_json:
        emit_json(report.as_dict())
        return
    say(f"Repair: {report.fixed} fix(es)")
    for line in report.doctor:
        say(f"  {line}")
    for lock in report.locks_removed:
        say(f"  removed stray lock {lock}")
    if report.head_move_finished:
        say("  finished an interrupted update of the working files")
    for path in report.files_restored:
        say(f"  restored {path} from the history")
    if report.set_aside:
        say(f"  set aside {len(report.set_aside)} working file(s) in {report.set_aside_folder}")
    for restored in report.parent_lines:
        say(f"  restored the shared line (main) of {restored['address']} from {restored['from']}")
    for item in report.drift_fixed:
        say(f"  {item['record']}: {item['fix']}")
    for line in report.violations:
        say(f"  still wrong: {line}")


def year_end_close(
    to: Annotated[Path, typer.Option("--to", help="Folder of next year's client file.")],
    retained_earnings: Annotated[
        str | None,
        typer.Option(
            "--retained-earnings",
            metavar="ACCOUNT",
            help="Equity account that revenue and expense close into "
            "(default: the equity account named 'Retained earnings').",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create next year's client file: balances carried forward, income closed to equity."""
    from gitsync.maintenance.yearend import year_end_close as close

    report = close(context.client_file(), context.resolve(to), retained_earnings=retained_earnings)
    if as_json:
        emit_json(report.as_dict())
    else:
        say(
            f"Created {report.path} (year end {report.new_year_end}); net income "
            f"{report.net_income} closed to {report.retained_earnings}"
        )


def convert(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Convert a client file of an older format_version to this gitsync's format, in one commit."""
    from gitsync.maintenance.convert import convert as do_convert

    report = do_convert(context.directory())
    if as_json:
        emit_json(report.as_dict())
    elif report.commit is None:
        say(f"{report.path} is already at format_version {report.to_version}")
    else:
        say(
            f"Converted {report.path} from format_version {report.from_version} to "
            f"{report.to_version} ({report.records_changed} record(s))"
        )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.command("repair")(repair)
    app.command("year-end-close")(year_end_close)
    app.command("convert")(convert)
