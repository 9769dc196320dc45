"""``gitsync check``: every Working Papers rule over the whole client file."""

from __future__ import annotations

from typing import Annotated

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say
from gitsync.errors import ExitCode


def check(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Check every rule over the committed file and the working files that differ.

    Prints one line per violation (record, field, what is wrong, rule); exits
    0 when the file is clean and 4 when any rule is broken.
    """
    from contextlib import suppress

    from gitsync.errors import InputError, RuleViolation
    from gitsync.rules import check_working_files

    client = context.client_file(open_parent=False)
    with suppress(RuleViolation, InputError):  # hand edits the rules refuse: named below
        context.open_if_new(client)
    found = check_working_files(client)
    if as_json:
        emit_json(
            [
                {"record": v.where, "field": v.field, "rule": v.rule, "message": v.detail}
                for v in found
            ]
        )
    else:
        for violation in found:
            say(str(violation))
        if not found:
            say("No rule is broken")
    if found:
        raise typer.Exit(ExitCode.RULE)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.command("check")(check)
