"""Commands that make and equip a client file: ``new`` and ``hooks install``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say

hooks_app = typer.Typer(
    help="Manage the git hooks and merge driver of a client file.", no_args_is_help=True
)


def new(
    directory: Annotated[Path, typer.Argument(help="Folder of the new client file.")],
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    number: Annotated[str, typer.Option("--number", help="Client number.")],
    year_end: Annotated[
        str,
        typer.Option(
            "--year-end",
            metavar="YYYY-MM-DD",
            help="The engagement's fiscal year end.",
            show_default=False,
        ),
    ],
    city: Annotated[str, typer.Option("--city", help="Client city.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create a new client file: git init from the templates, hooks, first commit."""
    from datetime import date

    from gitsync.errors import UsageError
    from gitsync.repo.create import create_client_file
    from gitsync.rules import check_commit

    try:
        if len(year_end) != 10:
            raise ValueError(year_end)
        date.fromisoformat(year_end)
    except ValueError:
        raise UsageError(f"--year-end '{year_end}' is not a date YYYY-MM-DD") from None

    client_file = create_client_file(
        context.resolve(directory),
        client=client,
        number=number,
        city=city,
        year_end=year_end,
        checker=check_commit,
    )
    if as_json:
        emit_json({"path": str(client_file.root), "copy_id": client_file.copy_id})
    else:
        say(f"Created client file {client_file.root}")


@hooks_app.command("install")
def hooks_install(as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Install or refresh the gitsync hooks and merge driver (idempotent)."""
    from gitsync.repo.hooks import install_hooks

    # Anywhere a client file is checked out (a plain clone, a worktree too): the hooks make
    # plain git there as safe as in a copy, and doctor sends users here.
    changed = install_hooks(context.client_file(placed=False).repo)
    if as_json:
        emit_json({"changed": changed})
    else:
        say("; ".join(changed) if changed else "Hooks are up to date")


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.add_typer(hooks_app, name="hooks")
