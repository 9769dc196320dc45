"""Merge commands: ``conflicts`` (list, resolve) and the hidden ``merge-driver`` git calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say

conflicts_app = typer.Typer(
    help="List the conflicts waiting for review, or resolve one.",
    invoke_without_command=True,
)


def _short(value: Any, width: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[: width - 3] + "..."


@conflicts_app.callback()
def conflicts(
    ctx: typer.Context,
    include_resolved: Annotated[
        bool, typer.Option("--all", help="Also list conflicts already resolved.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List the open conflicts: record, field, every value with who and when, the current one."""
    if ctx.invoked_subcommand is not None:
        return
    from gitsync.merge.conflicts import list_conflicts

    found = list_conflicts(context.client_file(), include_resolved=include_resolved)
    if as_json:
        emit_json({"conflicts": found})
        return
    if not found:
        say("No open conflicts")
        return
    for conflict in found:
        say(
            f"{conflict['id']}  {conflict['record']} {conflict['field'] or '(record)'}  "
            f"[{conflict['rule']}, {conflict['status']}]  current: {_short(conflict['current'])}"
        )
        for n, value in enumerate(conflict.get("values", []), start=1):
            who = value.get("by") or "?"
            where = f" in copy {value['copy']}" if value.get("copy") else ""
            when = f" at {value['at']}" if value.get("at") else ""
            say(f"  {n}. {_short(value.get('value'))}  by {who}{where}{when}")


@conflicts_app.command("resolve")
def resolve(
    conflict_id: Annotated[str, typer.Argument(metavar="ID", help="The conflict id.")],
    take: Annotated[
        int | None, typer.Option("--take", help="Keep value N of the conflict (1-based).")
    ] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="Write this JSON value instead.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Write the chosen value into the record and mark the conflict resolved (one commit)."""
    from gitsync.documents import content_by_sha256
    from gitsync.errors import UsageError
    from gitsync.ledger.books import SETTLERS
    from gitsync.merge.conflicts import UNSET, resolve_conflict
    from gitsync.rules import check_commit

    parsed: Any = UNSET
    if value is not None:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as err:
            raise UsageError(f"--value: not valid JSON: {err.msg} (column {err.colno})") from None
    done = resolve_conflict(
        context.client_file(),
        conflict_id,
        take=take,
        value=parsed,
        settlers=SETTLERS,
        find_content=content_by_sha256,
        checker=check_commit,
    )
    if as_json:
        emit_json(done.to_json())
    else:
        say(
            f"Resolved {done.conflict}: {done.record} {done.field or '(record)'} = "
            f"{_short(done.value)} (commit {done.commit[:12]})"
        )


def merge_driver(
    base: Annotated[Path, typer.Argument(help="%O: the base version (empty: none).")],
    ours: Annotated[Path, typer.Argument(help="%A: our version; receives the result.")],
    theirs: Annotated[Path, typer.Argument(help="%B: their version.")],
    path: Annotated[str, typer.Argument(help="%P: the record's path in the tree.")],
) -> None:
    """The git merge driver for records (git runs it: %O %A %B %P)."""
    from gitsync.merge.driver import run_driver

    run_driver(base, ours, theirs, path, context.directory())


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.add_typer(conflicts_app, name="conflicts")
    app.command("merge-driver", hidden=True)(merge_driver)
