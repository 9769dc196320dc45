"""Maintenance commands: lockdown, cleanup, abandon, delete-copy, clear-sync, sign-out, protection."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gitsync.cli import context
from gitsync.cli.output import JSON_HELP, emit_json, say

JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
AbandonOption = Annotated[
    bool,
    typer.Option(
        "--abandon-outstanding", help="Abandon the copies in the way instead of refusing."
    ),
]

protect_app = typer.Typer(help="Protection: users, roles and rights.", no_args_is_help=True)
protect_user_app = typer.Typer(help="Protected users.", no_args_is_help=True)
milestone_app = typer.Typer(help="Milestones (not offered on a sync file).", no_args_is_help=True)


def _show(report: Any, as_json: bool, line: str) -> None:
    if as_json:
        emit_json(report.as_dict())
    else:
        say(line)


def lockdown(abandon_outstanding: AbandonOption = False, as_json: JsonOption = False) -> None:
    """At the top-level parent: refuse every change from now on, everywhere."""
    from gitsync.maintenance.lockdown import lockdown as run

    report = run(context.client_file(), abandon_outstanding=abandon_outstanding)
    extra = f"; abandoned {', '.join(report.abandoned)}" if report.abandoned else ""
    _show(report, as_json, f"Locked down{extra}")


def cleanup(
    abandon_outstanding: AbandonOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say what would be removed.")
    ] = False,
    drop_old_versions: Annotated[
        bool,
        typer.Option(
            "--old-versions",
            help="Also drop old versions of on-demand documents (the current one stays), "
            "once every copy has synced them.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Purge tombstones, settled conflicts and old document content, and compact the store."""
    from gitsync.maintenance.lockdown import cleanup as run
    from gitsync.maintenance.lockdown import cleanup_plan

    client_file = context.client_file()
    if not as_json and (client_file.state is None or client_file.state.role != "child"):
        plan = cleanup_plan(client_file)
        say(f"Cleanup will remove {len(plan)} record(s) and file(s)" + (":" if plan else ""))
        for path in plan:
            say(f"  {path}")
    report = run(
        client_file,
        abandon_outstanding=abandon_outstanding,
        dry_run=dry_run,
        drop_old_versions=drop_old_versions,
    )
    _show(
        report,
        as_json,
        "Nothing removed (dry run)"
        if dry_run
        else "Cleanup done; history store compacted"
        + (
            f"; {len(dropped)} old document version(s) dropped"
            if (dropped := report.detail.get("old_versions_dropped"))
            else ""
        ),
    )


def maintenance(
    abandon: Annotated[list[str], typer.Option("--abandon", help="A copy id to abandon (repeat).")],
    as_json: JsonOption = False,
) -> None:
    """Abandon sync copies (a lost laptop): every parent refuses them from now on."""
    from gitsync.maintenance.lockdown import abandon as run

    report = run(context.client_file(), abandon)
    _show(report, as_json, f"Abandoned {', '.join(report.abandoned) or 'nothing new'}")


def delete_copy(
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the folder as an ordinary client file.")
    ] = False,
    discard_unsent: Annotated[
        bool,
        typer.Option(
            "--discard-unsent",
            help="Drop the changes the parents will not take (after a lockdown) and leave; "
            "keep them first with 'gitsync backup'.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """In a sync copy: send what is outstanding, unregister, and remove the copy."""
    from gitsync.maintenance.sync_admin import delete_copy as run

    report = run(context.client_file(open_parent=False), keep=keep, discard_unsent=discard_unsent)
    line = (
        "Copy unregistered; kept as an ordinary client file"
        if keep
        else "Copy unregistered and removed"
    )
    if discard_unsent:
        line += f"; {report.detail['discarded']} unsent change(s) discarded"
    _show(report, as_json, line)


def clear_sync(as_json: JsonOption = False) -> None:
    """At the top-level parent with no active copies: make it an ordinary client file again."""
    from gitsync.maintenance.sync_admin import clear_sync as run

    report = run(context.client_file())
    _show(
        report,
        as_json,
        f"Sync information cleared ({len(report.removed)} registry record(s) removed)",
    )


def signout(as_json: JsonOption = False) -> None:
    """Sign the client file out to this user (refused for a file with sync copies)."""
    from gitsync.maintenance.sync_admin import checkout

    record = checkout(context.client_file())
    emit_json(record) if as_json else say(f"Signed out to {record['user']}")


def signin(as_json: JsonOption = False) -> None:
    """Sign the client file back in."""
    from gitsync.maintenance.sync_admin import checkin

    record = checkin(context.client_file())
    emit_json(record) if as_json else say("Signed in")


def checkout_component(
    component: Annotated[
        str, typer.Argument(help="The component to check out, e.g. entries or documents/<id>.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Check out one component to this user (refused for a file with sync copies)."""
    from gitsync.maintenance.sync_admin import checkout

    record = checkout(context.client_file(), component)
    emit_json(record) if as_json else say(f"Checked out {component} to {record['user']}")


def checkin_component(
    component: Annotated[str, typer.Argument(help="The component to check back in.")],
    as_json: JsonOption = False,
) -> None:
    """Check a component back in."""
    from gitsync.maintenance.sync_admin import checkin

    record = checkin(context.client_file(), component)
    emit_json(record) if as_json else say(f"Checked in {component}")


@protect_user_app.command("add")
def protect_user_add(
    name: Annotated[
        str, typer.Argument(help="User name (as in GITSYNC_USER or the git identity).")
    ],
    role: Annotated[
        str, typer.Option("--role", help="partner, manager, senior, staff or reviewer.")
    ],
    right: Annotated[
        list[str] | None, typer.Option("--right", help="A right instead of the role's (repeat).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a protected user with a role (and its rights)."""
    from gitsync.maintenance.protection import add_user

    record = add_user(context.client_file(), name, role, right or None)
    emit_json(record) if as_json else say(
        f"{name} ({role}): {', '.join(record['rights']) or 'no rights'}"
    )


@protect_user_app.command("list")
def protect_user_list(as_json: JsonOption = False) -> None:
    """List the protected users and their rights."""
    from gitsync.maintenance.protection import list_users

    users = list_users(context.client_file())
    if as_json:
        emit_json(users)
        return
    if not users:
        say("Protection is off")
    for user in users:
        say(f"{user['name']} ({user['role']}): {', '.join(user['rights']) or 'no rights'}")


@protect_app.command("off")
def protect_off(as_json: JsonOption = False) -> None:
    """Turn protection off (needs the right manage-protection)."""
    from gitsync.maintenance.protection import protect_off as run

    removed = run(context.client_file())
    emit_json({"removed": removed}) if as_json else say(
        f"Protection off ({len(removed)} user(s) removed)"
    )


@milestone_app.command("add")
def milestone_add(
    name: Annotated[str, typer.Argument(help="Milestone name.")],
    as_json: JsonOption = False,
) -> None:
    """Mark the current state with a milestone (refused on a sync file)."""
    from gitsync.maintenance.sync_admin import add_milestone

    tag = add_milestone(context.client_file(), name)
    emit_json({"tag": tag}) if as_json else say(f"Milestone {tag}")


def register(app: typer.Typer) -> None:
    app.command("lockdown")(lockdown)
    app.command("cleanup")(cleanup)
    app.command("maintenance")(maintenance)
    app.command("delete-copy")(delete_copy)
    app.command("clear-sync")(clear_sync)
    app.command("signout")(signout)
    app.command("signin")(signin)
    app.command("checkout")(checkout_component)
    app.command("checkin")(checkin_component)
    protect_app.add_typer(protect_user_app, name="user")
    app.add_typer(protect_app, name="protect")
    app.add_typer(milestone_app, name="milestone")
