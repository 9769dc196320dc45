"""Audit commands: ``log`` (every change as JSON patches) and ``history`` (one record)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]


def _op_line(op: dict[str, Any], credit: dict[str, Any] | None = None, author: str = "") -> str:
    value = f" {json.dumps(op['value'], ensure_ascii=False)}" if "value" in op else ""
    source = f" from {op['from']}" if "from" in op else ""
    by = ""
    if credit and credit.get("by") and (credit["by"] != author or credit.get("merge")):
        by = f"  (written by {credit['by']} at {credit['at']})"
    return f"{op['op']} {op['path'] or '/'}{source}{value}{by}"


def _credited(
    patch: list[dict[str, Any]], credits: list[dict[str, Any]], merge: bool
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each patch op with the stamp of whoever wrote it (a merge credits each value's writer)."""
    found = []
    for n, op in enumerate(patch):
        if str(op.get("path", "")).startswith("/provenance"):
            continue  # the stamps themselves: shown as "written by", kept in --json
        credit = dict(credits[n]) if n < len(credits) else {}
        if credit:
            credit["merge"] = merge
        found.append((op, credit))
    return found


def _say_cut(commit: str | None) -> None:
    """First, in a shallow clone: where the history shown stops."""
    if commit:
        say(
            f"History cut at commit {commit[:12]} (a shallow clone): earlier changes are not "
            "here; `git fetch --unshallow` to see all of them"
        )


def log(
    count: Annotated[int | None, typer.Option("-n", help="Show at most this many commits.")] = None,
    max_patches: Annotated[
        int,
        typer.Option(
            "--max-patches",
            help="Per commit, list paths without patches when it changed more records "
            "than this (0: no limit).",
        ),
    ] = 1000,
    as_json: JsonOption = False,
) -> None:
    """Show the changes of this copy, newest first: who, when, which copy, a patch per record.

    Patches are RFC 6902 from the first parent's version (merges included);
    entry lines are keyed by id, so a patch path names the line, not its position.
    """
    from gitsync.history import history_cut
    from gitsync.history import log as history_log

    client_file = context.client_file(reading_history=True)
    entries = history_log(client_file, limit=count, max_patches=max_patches)
    if as_json:
        emit_json([e.as_json() for e in entries])
        return
    _say_cut(history_cut(client_file))
    for entry in entries:
        merge = " (merge)" if entry.is_merge else ""
        say(f"commit {entry.commit}{merge}")
        say(f"Author: {entry.author} <{entry.email}>")
        say(f"Date:   {entry.when}")
        say(f"Copy:   {entry.copy or '-'}")
        say("")
        say(f"    {entry.summary}")
        say("")
        for change in entry.changes:
            say(f"  {change.status} {change.path}")
            for op, credit in _credited(change.patch or [], change.credits, entry.is_merge):
                say(f"      {_op_line(op, credit, entry.author)}")
        if entry.patches_omitted:
            say("  (patches left out: use --max-patches 0 to show them)")
        if entry.cut:
            say(
                "  (the history is cut here: the records as they stood, not changes of this commit)"
            )
        say("")


def history(
    record: Annotated[
        str,
        typer.Argument(
            help="A record path (accounts/1000.json) or KIND:ID (account:1000, entry:<id>, "
            "taxcode:GST, document:<id>), or engagement / mask."
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Show every version of one record, newest first: who, when, copy, patch from the last one.

    A change a merge brought in names the person who wrote it.
    """
    from gitsync.history import history_cut, record_history

    client_file = context.client_file(reading_history=True)
    versions = record_history(client_file, record)
    if as_json:
        emit_json([v.as_json() for v in versions])
        return
    _say_cut(history_cut(client_file))
    for version in versions:
        merged = "  (merge)" if version.merge else ""
        say(
            f"{version.commit[:12]}  {version.when}  {version.author}  "
            f"copy {version.copy or '-'}  {version.status}{merged}"
        )
        say(f"    {version.summary}")
        for op, credit in _credited(version.patch, version.credits, version.merge):
            say(f"      {_op_line(op, credit, version.author)}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the gitsync app."""
    app.command("log")(log)
    app.command("history")(history)
