"""The rules on push, run inside the resident server for the bare repositories' relay hooks.

The relay (``relay.sh``) hands over the pushed refs and git's quarantine
(GIT_OBJECT_DIRECTORY holds the pushed objects until the hook agrees); the
server opens the repository with the quarantine as an alternate object
store and runs the same pre-receive rules a client file's parent runs
(``gitsync.rules.hooks.pre_receive``), after the server's own checks:

- the identity is the signed-in user: the commits the sender made (the new
  commits on the pushed line's first parents) must name that user as their
  author, so protection rights, abandoned copies and lockdown are judged
  against the user who signed in;
- a file being published takes its history only into ``refs/gitsync/publish``
  and only from its publisher; a published file takes the shared line and the
  on-demand content refs, never the publish ref again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PUBLISH_REF = "refs/gitsync/publish"
ZERO = "0" * 40


@dataclass(frozen=True)
class PushContext:
    """What the server knows of one receive-pack request: who pushes what, where."""

    file: str
    repository: Path
    user: str
    publishing: bool


@dataclass(frozen=True)
class RefUpdate:
    old: str
    new: str
    ref: str


def parse_updates(text: str) -> list[RefUpdate]:
    updates = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and all(len(p) in (40, 64) for p in parts[:2]):
            updates.append(RefUpdate(parts[0], parts[1], parts[2]))
    return updates


def _zero(oid: str) -> bool:
    return set(oid) == {"0"}


def check_push(ctx: PushContext, stdin: str, object_dir: str, alternates: str) -> str | None:
    """None when the push may land, else the one line that refuses it."""
    import pygit2

    updates = parse_updates(stdin)
    if not updates:
        return "push refused: no ref updates"
    for update in updates:
        refusal = _check_ref(ctx, update)
        if refusal:
            return refusal
    repo = pygit2.Repository(str(ctx.repository))
    for extra in [object_dir, *alternates.split(":")]:
        if (
            extra
            and Path(extra).is_dir()
            and Path(extra).resolve() != Path(repo.path, "objects").resolve()
        ):
            repo.odb.add_disk_alternate(extra)
    if not ctx.publishing:
        for update in updates:
            if update.ref.startswith("refs/heads/") and not _zero(update.new):
                refusal = _check_authors(repo, update, ctx.user)
                if refusal:
                    return refusal
    from gitsync.errors import GitsyncError
    from gitsync.repo.plumbing import ObjectReader
    from gitsync.rules.hooks import pre_receive

    # The push's objects are still in git's quarantine: hand the rules the same
    # environment git gives a pre-receive hook (not os.environ: pushes run in threads).
    env = {**os.environ, "GIT_DIR": str(ctx.repository)}
    if object_dir:
        env["GIT_OBJECT_DIRECTORY"] = object_dir
    if alternates:
        env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = alternates
    try:
        with ObjectReader(ctx.repository, env) as reader:
            result = pre_receive(reader, stdin)
    except GitsyncError as err:
        return f"push refused: {err}"
    if result.code != 0:
        return result.message or "push refused by the file's rules"
    return None


def _check_ref(ctx: PushContext, update: RefUpdate) -> str | None:
    if ctx.publishing:
        if update.ref != PUBLISH_REF:
            return f"push to {update.ref} refused: the file is being published"
        return None
    if update.ref == PUBLISH_REF:
        return f"push to {update.ref} refused: the file is already published"
    if update.ref.startswith(("refs/heads/", "refs/gitsync/incoming/")):
        if _zero(update.new):
            return f"push to {update.ref} refused: refs are never deleted on the server"
        return None
    return f"push to {update.ref} refused: the server takes only the shared line"


def _check_authors(repo: Any, update: RefUpdate, user: str) -> str | None:
    """The sender's own new commits must name the signed-in user as author."""
    import pygit2

    walker = repo.walk(pygit2.Oid(hex=update.new), pygit2.enums.SortMode.TOPOLOGICAL)
    for name in repo.references:
        if name.startswith("refs/heads/"):
            try:
                walker.hide(repo.references[name].peel(pygit2.Commit).id)
            except (KeyError, ValueError, pygit2.GitError):
                continue
    new = {c.id: c for c in walker}
    commit = new.get(pygit2.Oid(hex=update.new))
    while commit is not None:
        if commit.author.name != user:
            return (
                f"push to {update.ref} refused: commit {str(commit.id)[:12]} is by "
                f"'{commit.author.name}' but '{user}' signed in (rule: identity)"
            )
        commit = new.get(commit.parent_ids[0]) if commit.parent_ids else None
    return None


def describe_file(repository: Path) -> dict[str, Any]:
    """What the catalogue shows of a file: engagement fields and the users holding active copies."""
    import pygit2

    repo = pygit2.Repository(str(repository))
    try:
        tree = repo.revparse_single("refs/heads/main").peel(pygit2.Commit).tree
    except (KeyError, ValueError, pygit2.GitError):
        return {}
    found: dict[str, Any] = {}
    try:
        engagement = json.loads(repo[tree["engagement.json"].id].read_raw())
    except (KeyError, ValueError):
        engagement = {}
    if isinstance(engagement, dict):
        for key, field in (
            ("client", "client_name"),
            ("number", "client_number"),
            ("city", "city"),
            ("year_end", "year_end"),
        ):
            value = engagement.get(field)
            if value is not None:
                found[key] = str(value)
        if isinstance(engagement.get("format_version"), int):
            found["format_version"] = engagement["format_version"]
    holders: list[str] = []
    try:
        copies: Any = repo[tree["sync/copies"].id]
    except KeyError:
        copies = []
    for entry in copies:
        try:
            record = json.loads(repo[entry.id].read_raw())
        except (ValueError, KeyError):
            continue
        if isinstance(record, dict) and record.get("state") == "active" and record.get("user"):
            holders.append(str(record["user"]))
    found["holders"] = holders
    return found
