"""Sync commands: copy, sync, status, open, watch, offline/online, peer, parent, config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gitsync.cli import context
from gitsync.cli.copyview import address_arg
from gitsync.cli.output import JSON_HELP, emit_json, say

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]

peer_app = typer.Typer(
    help="Name or clear the peer parent this copy syncs with.", no_args_is_help=True
)
parent_app = typer.Typer(help="Manage the link to this copy's parent.", no_args_is_help=True)
config_app = typer.Typer(help="Read and write the user's gitsync settings.", no_args_is_help=True)


def copy(
    source: Annotated[
        str, typer.Argument(help="The parent: a client file's path, or a file:// or ssh:// URL.")
    ],
    dest: Annotated[
        Path | None,
        typer.Argument(help="Where the copy goes (default: <sync path>/<name> (Sync))."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a sync copy of a client file (a child, or a grandchild of a copy)."""
    from gitsync.cli.copyview import run_copy

    run_copy(source, dest, as_json)


def sync(as_json: JsonOption = False) -> None:
    """Commit local edits, fetch the parent, merge, push, and update the working files.

    When no parent on the route can be reached, the changes stay queued for the
    next sync and the command exits 7.
    """
    from gitsync.cli.syncview import show_sync
    from gitsync.server.client import sync_file

    report = sync_file(context.client_file(open_parent=False))  # a stopped publish first
    show_sync(report, as_json)  # no parent reached: exit 7, the changes kept


def status(as_json: JsonOption = False) -> None:
    """Show this copy's role, state, pending changes and open conflicts."""
    from gitsync.sync.status import copy_status

    result = copy_status(context.directory())
    if as_json:
        emit_json(result.as_dict())
    else:
        say(result.line())


def open_file(as_json: JsonOption = False) -> None:
    """At the top-level parent: apply what the copies sent to the working files, and compact."""
    from gitsync.cli.progress import ProgressBar
    from gitsync.sync.agent import open_top_level

    client_file = context.client_file(open_parent=False)
    client_file.progress = bar = ProgressBar()
    try:
        report = open_top_level(client_file)
    finally:
        bar.close()
    if as_json:
        emit_json(report.as_dict())
    else:
        say(report.line())


def watch(
    interval: Annotated[
        float, typer.Option(help="Seconds between checks of a parent that cannot be watched.")
    ] = 2.0,
    as_json: JsonOption = False,
) -> None:
    """Run the online agent: sync on every local change and whenever the parent moves (Ctrl-C stops)."""
    from gitsync.lock import on_wait
    from gitsync.server.client import sync_file
    from gitsync.sync.agent import watch as run_watch

    on_wait(None)  # the agent waits for commands all day: its events say what it does

    def show(event: dict[str, Any]) -> None:
        if as_json:
            import json

            print(json.dumps(event, ensure_ascii=False), flush=True)
        else:
            print(event["line"], flush=True)

    run_watch(
        context.client_file(open_parent=False),
        on_event=show,
        retry_interval=interval,
        sync_once=sync_file,  # a stopped publish is finished first
    )


def offline(as_json: JsonOption = False) -> None:
    """Work offline: no parent is contacted and commits queue until 'gitsync online'."""
    from gitsync.sync.hierarchy import set_offline

    set_offline(context.client_file(open_parent=False), True)
    emit_json({"offline": True}) if as_json else say(
        "Working offline; changes queue until 'gitsync online'"
    )


def online(as_json: JsonOption = False) -> None:
    """Go back online; the next sync sends everything that queued."""
    from gitsync.sync.hierarchy import set_offline

    set_offline(context.client_file(open_parent=False), False)
    emit_json({"offline": False}) if as_json else say(
        "Online; run 'gitsync sync' or 'gitsync watch'"
    )


@peer_app.command("set")
def peer_set(
    source: Annotated[str, typer.Argument(help="Another copy of the same hierarchy.")],
    as_json: JsonOption = False,
) -> None:
    """Sync with a peer parent (another copy in the field) instead of the top-level parent."""
    from gitsync.sync.hierarchy import set_peer

    address = set_peer(context.client_file(open_parent=False), address_arg(source))
    emit_json({"peer": address}) if as_json else say(f"Peer parent set to {address}")


@peer_app.command("clear")
def peer_clear(as_json: JsonOption = False) -> None:
    """Stop syncing with the peer parent."""
    from gitsync.sync.hierarchy import set_peer

    set_peer(context.client_file(open_parent=False), None)
    emit_json({"peer": None}) if as_json else say("Peer parent cleared")


@parent_app.command("locate")
def parent_locate(
    path: Annotated[str, typer.Argument(help="Where the parent is now.")],
    top_level: Annotated[
        bool, typer.Option("--top-level", help="It is the top-level parent that moved.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Re-point this copy at its parent's new place (checked to be the same hierarchy)."""
    from gitsync.sync.hierarchy import locate_parent

    address = locate_parent(
        context.client_file(open_parent=False), address_arg(path), top_level=top_level
    )
    which = "top_level" if top_level else "parent"
    emit_json({which: address}) if as_json else say(f"{which.replace('_', '-')} is now {address}")


@config_app.command("set")
def config_set(
    key: Annotated[str, typer.Argument(help="Setting: sync-path or user.")],
    value: Annotated[str, typer.Argument(help="Its new value.")],
) -> None:
    """Set one user setting (comments in the file are kept)."""
    from gitsync.config import user_config_set

    user_config_set(key, value)
    say(f"{key} = {value}")


@config_app.command("get")
def config_get(
    key: Annotated[
        str | None, typer.Argument(help="Setting name; all settings when omitted.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show one user setting, or all of them."""
    from gitsync.config import user_config_all, user_config_get

    data = {key: user_config_get(key)} if key else user_config_all()
    if as_json:
        emit_json(data)
    else:
        for name, value in data.items():
            say(f"{name} = {value}")


def register(app: typer.Typer) -> None:
    app.command("copy")(copy)
    app.command("sync")(sync)
    app.command("status")(status)
    app.command("open")(open_file)
    app.command("watch")(watch)
    app.command("offline")(offline)
    app.command("online")(online)
    app.add_typer(peer_app, name="peer")
    app.add_typer(parent_app, name="parent")
    app.add_typer(config_app, name="config")
