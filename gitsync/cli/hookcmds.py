"""The hidden ``gitsync hook NAME [ARGS...]`` that the installed git hooks run.

``python -m gitsync hook ...`` (what the hook scripts run) skips this layer
for speed and calls ``gitsync.rules.hooks.main`` directly; this command gives
the same behaviour through the ``gitsync`` entry point.
"""

from __future__ import annotations

from typing import Annotated

import typer


def hook(
    name: Annotated[str, typer.Argument(help="pre-commit, pre-receive or post-merge.")],
    args: Annotated[
        list[str] | None, typer.Argument(help="The arguments git gave the hook.")
    ] = None,
) -> None:
    """Run a gitsync git hook (git runs this; refusals print one line and exit 1)."""
    from gitsync.rules.hooks import main

    code = main([name, *(args or [])])
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.command(
        "hook",
        hidden=True,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(hook)
