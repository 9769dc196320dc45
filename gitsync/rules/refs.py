"""Which ref updates a parent accepts: one policy for a local parent and for the server.

A parent (a client file that has copies, or a file on a gitsync server)
holds one shared line, ``refs/heads/main``, that copies fetch and push. The
policy, run by a local parent's pre-receive hook (``gitsync.rules.hooks``)
and by the server's push check (``gitsync.server.receive``):

- the shared line only moves forward (the new tip descends from the old) and
  is never deleted; where it is gone, a push may create it again (``gitsync
  repair`` restores it so);
- besides the shared line a push may carry only the refs gitsync itself
  pushes: on-demand content as ``refs/gitsync/incoming/<sha256>`` (created,
  never deleted: the parent folds them itself), and a file's history into
  ``refs/gitsync/publish`` while it is being published to a server (it has
  no shared line yet), forward only;
- tags and other branches are refused: they would pile up at the parent,
  where no copy ever fetches them.

Each refusal is one line naming the ref, the rule, and what to do instead.
``receive.denyDeletes`` and ``receive.denyNonFastForwards`` are set on every
parent as well (``gitsync.repo.hooks.RECEIVE_GUARDS``), so git itself holds
the shared line even where the hook does not run.

The checks use git plumbing alone (no pygit2): the hook starts in tens of
milliseconds.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from gitsync.errors import GitsyncError

SHARED_REF = "refs/heads/main"
INCOMING_PREFIX = "refs/gitsync/incoming/"  # gitsync.repo.content, named here to keep hooks light
PUBLISH_REF = "refs/gitsync/publish"  # gitsync.server.client: a file's history before publishing

ONLY_OWN_REFS = "a parent takes only the shared line (main) and gitsync's own refs"


class ReceivingParent:
    """The repository a push goes into, read with git plumbing in git's own environment.

    During pre-receive the pushed objects are still in git's quarantine: ``env``
    carries GIT_DIR, GIT_OBJECT_DIRECTORY and GIT_ALTERNATE_OBJECT_DIRECTORIES
    as git gave them to the hook.
    """

    def __init__(self, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = dict(env) if env is not None else None

    def _git(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", *args], cwd=self.cwd, env=self.env, capture_output=True, check=False
        )

    def tip(self, ref: str) -> str | None:
        """The commit ``ref`` holds here, None when there is no such ref."""
        found = self._git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        if found.returncode != 0:
            return None
        return found.stdout.decode("ascii").strip() or None

    def descends(self, new: str, old: str) -> bool:
        """True when ``new`` descends from ``old`` (a fast-forward), git's own answer."""
        found = self._git(["merge-base", "--is-ancestor", old, new])
        if found.returncode in (0, 1):
            return found.returncode == 0
        last = found.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise GitsyncError(f"git merge-base failed: {last[0] or f'exit {found.returncode}'}")


def _zero(oid: str) -> bool:
    return set(oid) == {"0"}


def ref_refusal(parent: ReceivingParent, old: str, new: str, ref: str) -> str | None:
    """None when a parent takes this update of ``ref`` (``old`` -> ``new``), else the line refusing it."""
    if ref == SHARED_REF:
        if _zero(new):
            return (
                f"push to {ref} refused: the shared line (main) is never deleted; "
                "changes go up with `gitsync sync`"
            )
        if not _zero(old) and not parent.descends(new, old):
            return (
                f"push to {ref} refused: the shared line (main) only moves forward and this "
                "push would rewind it; run `gitsync sync` to merge the parent's line, "
                "then send again"
            )
        return None
    if ref.startswith(INCOMING_PREFIX):
        if _zero(new):
            return (
                f"push to {ref} refused: on-demand content is folded by the parent itself, "
                "never deleted by a push"
            )
        return None
    if ref == PUBLISH_REF:
        if parent.tip(SHARED_REF) is not None:
            return (
                f"push to {ref} refused: the file is already published (it has a shared "
                "line); sync with `gitsync sync`"
            )
        if _zero(new):
            return f"push to {ref} refused: a publish is never deleted by a push"
        if not _zero(old) and not parent.descends(new, old):
            return (
                f"push to {ref} refused: a publish only moves forward; run `gitsync publish` "
                "again to resume it"
            )
        return None
    if ref.startswith("refs/tags/"):
        instead = "keep tags in your copy"
    elif ref.startswith("refs/heads/"):
        instead = "keep other branches in your copy"
    else:
        instead = "keep other refs in your copy"
    return (
        f"push to {ref} refused: {ONLY_OWN_REFS}; {instead}, and send changes with `gitsync sync`"
    )


def push_refusal(parent: ReceivingParent, updates: str) -> str | None:
    """The first refusal among a push's ref updates (pre-receive's input: ``old new ref`` lines)."""
    for line in updates.splitlines():
        parts = line.split()
        if len(parts) == 3:
            refusal = ref_refusal(parent, *parts)
            if refusal:
                return refusal
    return None
