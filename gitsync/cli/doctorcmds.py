"""``gitsync doctor``: what plain git left the client file in, and mending it."""

from __future__ import annotations

from typing import Annotated

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say


def doctor(
    fix: Annotated[
        bool, typer.Option("--fix", help="Mend what can be mended without losing anything.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Find a detached HEAD, another branch, a worktree, a plain or shallow clone, missing hooks,
    wrong git settings and a stale parent/main; with --fix, mend what can be mended.

    Exits 0 when nothing is left to do, else with the code of the first thing left
    (3: not a place gitsync works in, 8: refused until you act, 1: the rest).
    """
    from gitsync.maintenance.doctor import doctor as examine

    report = examine(context.client_file(open_parent=False, placed=False), fix=fix)
    if as_json:
        emit_json(report.as_dict())
    else:
        for finding in report.findings:
            say(finding.line())
        if not report.findings:
            say(f"{report.path}: healthy")
        elif not report.left:
            say(f"{report.path}: healthy again")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.command("doctor")(doctor)
