"""The rules on push, run inside the resident server for the bare repositories' relay hooks.

The relay (``relay.sh``) hands over the pushed refs and git's quarantine
(GIT_OBJECT_DIRECTORY holds the pushed objects until the hook agrees); the
server opens the repository with the quarantine as an alternate object
store and runs the same pre-receive rules a client file's parent runs
(``gitsync.rules.hooks.pre_receive``), after the server's own checks:

- the identity is the signed-in user: the commits the sender made (the new
  commits on the pushed line's first parents) must name that user as their
  author, so protection rights, abandoned copies and lockdown are judged
  against the user who signed in. A commit by another user is taken only
  when it was forwarded: its copy (the ``Gitsync-Copy`` trailer) is
  registered to its author and linked to one of the sender's copies in the
  file's registry without passing through the server (``forwarded``);
- a file being published takes its history only into ``refs/gitsync/publish``
  (and its on-demand content as incoming refs) and only from its publisher; a
  published file takes the shared line and the on-demand content refs, never
  the publish ref again.

After the push lands, ``fold_received`` folds the on-demand content it sent
(``refs/gitsync/incoming/<sha256>``, checked by sha256 in the rules) into
the file's content ref and deletes the incoming refs, as a local parent does
when it is opened (DESIGN section 9).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitsync.repo.store import HostedRepository
    from gitsync.rules.refs import ReceivingParent

PUBLISH_REF = "refs/gitsync/publish"
INCOMING_PREFIX = "refs/gitsync/incoming/"
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
    from gitsync.repo.store import HostedRepository

    updates = parse_updates(stdin)
    if not updates:
        return "push refused: no ref updates"
    from gitsync.rules.refs import ReceivingParent

    env = _quarantine_env(ctx, object_dir, alternates)
    for update in updates:
        refusal = _check_ref(ctx, update, ReceivingParent(ctx.repository, env))
        if refusal:
            return refusal
    repo = HostedRepository(ctx.repository, [object_dir, *alternates.split(":")])
    if not ctx.publishing:
        for update in updates:
            if update.ref.startswith("refs/heads/") and not _zero(update.new):
                refusal = _check_authors(repo, update, ctx.user)
                if refusal:
                    return refusal
    from gitsync.errors import GitsyncError
    from gitsync.repo.plumbing import ObjectReader
    from gitsync.rules.hooks import pre_receive

    try:
        with ObjectReader(ctx.repository, env) as reader:
            result = pre_receive(reader, stdin)
    except GitsyncError as err:
        return f"push refused: {err}"
    if result.code != 0:
        return result.message or "push refused by the file's rules"
    return None


def _quarantine_env(ctx: PushContext, object_dir: str, alternates: str) -> dict[str, str]:
    """The environment git gives a pre-receive hook: the push's objects are still in git's
    quarantine (built here, not in os.environ: pushes run in threads)."""
    env = {**os.environ, "GIT_DIR": str(ctx.repository)}
    if object_dir:
        env["GIT_OBJECT_DIRECTORY"] = object_dir
    if alternates:
        env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = alternates
    return env


def fold_received(repository: Path) -> int:
    """After a push: fold the on-demand content it sent into the file's content ref.

    Run for every push that lands (the rules are resident, so it costs no
    process), which also folds what a push before a server crash left as
    incoming refs. Until then that content is held by its incoming ref, so a
    copy can fetch it all the same. Returns how many contents were folded.
    """
    from gitsync.repo.content import fold_incoming_at

    return fold_incoming_at(repository)


def _check_ref(ctx: PushContext, update: RefUpdate, parent: ReceivingParent) -> str | None:
    """The server's publishing state first, then the ref policy every parent keeps
    (``gitsync.rules.refs``: the shared line forward only, gitsync's own refs, nothing else)."""
    from gitsync.rules.refs import ref_refusal

    if ctx.publishing:
        if update.ref.startswith(INCOMING_PREFIX) and not _zero(update.new):
            return None  # the publisher's on-demand content, folded when the publish completes
        if update.ref != PUBLISH_REF:
            return f"push to {update.ref} refused: the file is being published"
    elif update.ref == PUBLISH_REF:
        return f"push to {update.ref} refused: the file is already published"
    return ref_refusal(parent, update.old, update.new, update.ref)


def _check_authors(repo: HostedRepository, update: RefUpdate, user: str) -> str | None:
    """Every new commit is the signed-in user's own, or was forwarded to them.

    A commit whose author is not the signed-in user is taken only when its
    copy trailer names a copy that the file's registry (at the pushed tip,
    over the server's own) gives to that author, and that copy is linked to
    one the sender holds without passing through the server: a descendant of
    it, a copy it was made from, or a peer child of either (see
    ``forwarded``). This holds for the pushed line and for what a merge
    brings in alike.
    """
    registry: dict[str, dict[str, Any]] | None = None
    for commit in repo.walk(update.new, "topological", hide_branches=True):
        author = commit.author
        if author == user:
            continue
        if registry is None:
            registry = _registry(repo, update.new)
        if not forwarded(registry, commit.copy, author, user):
            return (
                f"push to {update.ref} refused: commit {commit.id[:12]} is by "
                f"'{author}' but '{user}' signed in, and it did not come to them from a "
                f"copy of '{author}' linked to one of theirs (rule: identity)"
            )
    return None


def forwarded(
    registry: dict[str, dict[str, Any]], copy: str | None, author: str, user: str
) -> bool:
    """Whether ``user`` may carry a commit that ``author`` made in the copy ``copy``.

    The copy must be registered to ``author`` and be linked to a copy that
    ``user`` holds through the registry's parent and peer links, never
    through the server itself: copies directly under the server (their parent
    is none, or the server) are linked only by a peer. Commits travel between
    copies only along these links; what went through the server is already
    there and is not checked again.
    """
    record = registry.get(copy or "")
    if record is None or not author or record.get("user") != author:
        return False
    held = {cid for cid, r in registry.items() if r.get("user") == user}
    if not held:
        return False
    links: dict[str, set[str]] = {}
    for cid, r in registry.items():
        for other in (r.get("parent"), r.get("peer")):
            if isinstance(other, str) and other in registry:
                links.setdefault(cid, set()).add(other)
                links.setdefault(other, set()).add(cid)
    seen: set[str] = set()
    todo = [str(copy)]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        if current in held:
            return True
        seen.add(current)
        todo.extend(links.get(current, ()))
    return False


def _registry(repo: HostedRepository, tip: str) -> dict[str, dict[str, Any]]:
    """The copies' records at the pushed tip, over those on the server's shared line."""
    found: dict[str, dict[str, Any]] = {}
    for spec in ("refs/heads/main", tip):
        for _, data in repo.files_in(spec, "sync/copies"):
            try:
                record = json.loads(data)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                found[record["id"]] = record
    return found


def describe_file(repository: Path) -> dict[str, Any]:
    """What the catalogue shows of a file: engagement fields and the users holding active copies."""
    from gitsync.repo.store import HostedRepository

    repo = HostedRepository(repository)
    if repo.revision() is None:
        return {}
    found: dict[str, Any] = {}
    try:
        engagement = json.loads(repo.read("refs/heads/main", "engagement.json") or b"")
    except ValueError:
        engagement = {}
    if isinstance(engagement, dict):
        from gitsync.errors import one_line
        from gitsync.model.records import CITY_MAX, CLIENT_NAME_MAX, CLIENT_NUMBER_MAX

        for key, field, most in (
            ("client", "client_name", CLIENT_NAME_MAX),
            ("number", "client_number", CLIENT_NUMBER_MAX),
            ("city", "city", CITY_MAX),
            ("year_end", "year_end", 10),
        ):
            value = engagement.get(field)
            if value is not None:
                # A file made before the rule on these fields (``text``) may hold control or
                # bidi characters: the catalogue and the web page show them escaped, capped.
                found[key] = one_line(value)[:most]
        if isinstance(engagement.get("format_version"), int):
            found["format_version"] = engagement["format_version"]
    holders: list[str] = []
    for _, data in repo.files_in("refs/heads/main", "sync/copies"):
        try:
            record = json.loads(data)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("state") == "active" and record.get("user"):
            holders.append(str(record["user"]))
    found["holders"] = holders
    return found
