"""The git hooks of a client file: pre-commit, pre-receive and post-merge.

The installed hook scripts run ``python -m gitsync hook <name> [args]``;
``gitsync.__main__`` sends that straight to ``main`` here, without loading
the command-line layer, because a hook pays Python's start-up on every commit
and push.

- pre-commit (in a copy): the staged state against HEAD.
- pre-receive (in a parent; authoritative, ``--no-verify`` cannot skip it):
  the state of each pushed tip, for the paths changed since the old tip. The
  pushed objects are still in git's quarantine directory, so the repository
  is opened from git's environment (GIT_DIR, GIT_OBJECT_DIRECTORY,
  GIT_ALTERNATE_OBJECT_DIRECTORIES).
- post-merge: record the conflicts the merge driver settled during a plain
  ``git merge`` (``gitsync.merge.driver.commit_driver_conflicts``).

A foreign hook that was installed before gitsync's is kept as
``<name>.legacy`` and runs first, with the same arguments and input; when it
fails, its exit code stands and gitsync's check does not run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gitsync.errors import GitsyncError, InputError, RuleViolation, UsageError, one_line

if TYPE_CHECKING:
    import pygit2

    from gitsync.repo.snapshot import Snapshot

HOOKS = ("pre-commit", "pre-receive", "post-merge")
HOOKS_WITH_INPUT = frozenset({"pre-receive"})


@dataclass(frozen=True)
class HookResult:
    """What a hook decided: its exit code and the one line to show (None when silent)."""

    code: int
    message: str | None = None


def open_repository(cwd: Path | None = None) -> pygit2.Repository:
    """The repository a hook runs in, opened as git's environment describes it.

    FROM_ENV honours GIT_DIR, GIT_OBJECT_DIRECTORY and
    GIT_ALTERNATE_OBJECT_DIRECTORIES: during pre-receive, the pushed objects
    are only visible through them.
    """
    import pygit2
    from pygit2.enums import RepositoryOpenFlag

    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        # pygit2 opens nothing without a path; libgit2 ignores GIT_DIR once given
        # one, so hand it GIT_DIR (or the folder git runs the hook in) ourselves.
        start = os.environ.get("GIT_DIR") or "."
        return pygit2.Repository(start, RepositoryOpenFlag.FROM_ENV)
    except pygit2.GitError as err:
        raise GitsyncError(f"{cwd or previous}: no git repository for the hook ({err})") from None
    finally:
        if cwd is not None:
            os.chdir(previous)


def hooks_dir(repo: pygit2.Repository) -> Path:
    """Where the repository's hooks live: core.hooksPath if set, else <git dir>/hooks."""
    try:
        configured = str(repo.config["core.hooksPath"])
    except (KeyError, ValueError):
        configured = ""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_absolute():
            path = Path(repo.workdir or repo.path) / path
        return path
    return Path(repo.path) / "hooks"


def run_legacy(
    repo: pygit2.Repository, name: str, args: Sequence[str], stdin: str, cwd: Path | None
) -> int:
    """Run ``<name>.legacy`` (a hook that was there before gitsync's) if any; its exit code."""
    legacy = hooks_dir(repo) / f"{name}.legacy"
    if not legacy.is_file() or not os.access(legacy, os.X_OK):
        return 0
    proc = subprocess.run([str(legacy), *args], input=stdin, text=True, cwd=cwd, check=False)
    return proc.returncode


def run_hook(name: str, args: Sequence[str], stdin: str, cwd: Path | None = None) -> HookResult:
    """Run gitsync's hook ``name`` as git does: legacy hook first, then the rules."""
    if name not in HOOKS:
        raise UsageError(f"unknown hook '{name}' (gitsync runs {', '.join(HOOKS)})")
    repo = open_repository(cwd)
    legacy_code = run_legacy(repo, name, args, stdin, cwd)
    if legacy_code != 0:
        return HookResult(legacy_code)
    if name == "pre-commit":
        return pre_commit(repo, cwd)
    if name == "pre-receive":
        return pre_receive(repo, stdin)
    return post_merge(repo)


def _index(repo: pygit2.Repository, cwd: Path | None) -> pygit2.Index:
    import pygit2

    index_file = os.environ.get("GIT_INDEX_FILE")
    if not index_file:
        index: pygit2.Index = repo.index
        return index
    path = Path(index_file)
    if not path.is_absolute():
        path = (cwd or Path.cwd()) / path
    return pygit2.Index(str(path))


def pre_commit(repo: pygit2.Repository, cwd: Path | None = None) -> HookResult:
    """Check what is staged: the index against HEAD.

    The staged state is HEAD's tree with only the staged paths replaced, not
    a tree written from the whole index (2.5 s at 100,000 records).
    """
    import pygit2

    from gitsync.repo.clientfile import build_tree
    from gitsync.repo.snapshot import Snapshot
    from gitsync.rules.engine import check_changes

    index = _index(repo, cwd)
    try:
        head_tree: pygit2.Tree | None = repo.head.peel(pygit2.Commit).tree
    except (pygit2.GitError, KeyError):  # an unborn branch: the first commit
        head_tree = None
    if head_tree is None:
        staged: dict[str, pygit2.Oid | None] = {entry.path: entry.id for entry in index}
    else:
        staged = {}
        for delta in head_tree.diff_to_index(index).deltas:
            if delta.status_char() == "D":
                staged[delta.old_file.path] = None
            else:
                staged[delta.new_file.path] = delta.new_file.id
    if not staged:
        return HookResult(0)
    if None in staged.values():
        # A removal: the snapshot must not see the path at all, so write the tree.
        after = Snapshot(repo, repo[build_tree(repo, head_tree, staged)].peel(pygit2.Tree))
    else:
        # The usual case: HEAD overlaid by the staged blobs, without writing a
        # tree (rewriting a 100,000-record folder costs 200 ms).
        overlay = {path: repo[oid].read_raw() for path, oid in staged.items() if oid is not None}
        after = Snapshot(repo, head_tree, overlay)
    before = Snapshot(repo, head_tree) if head_tree is not None else None
    try:
        check_changes(after, staged, before)
    except (RuleViolation, InputError) as err:
        return HookResult(1, f"commit refused: {err}")
    if not (Path(repo.path) / "MERGE_HEAD").exists():  # a merge's result is no one's edit
        stamp_staged(repo, index, before, staged)
    return HookResult(0)


def stamp_staged(
    repo: pygit2.Repository,
    index: pygit2.Index,
    before: Snapshot | None,
    staged: dict[str, pygit2.Oid | None],
) -> list[str]:
    """Stamp the records a plain ``git commit`` changes, as gitsync's own commands do.

    Each staged record whose content differs from HEAD takes ``modified``
    from the committer (unless the record already carries a new one) and a
    ``provenance`` stamp on each changed field. The staged blob is replaced
    in the index git commits, and the working file follows when it held the
    staged bytes. Returns the paths stamped.
    """
    import pygit2

    from gitsync.model import canonical
    from gitsync.model.provenance import content, restamp
    from gitsync.model.records import kind_of
    from gitsync.repo.clientfile import ClientFile

    if repo.workdir is None:
        return []
    root = Path(repo.workdir)
    identity = None
    done: list[str] = []
    for path, oid in sorted(staged.items()):
        if oid is None or kind_of(path) is None:
            continue
        data = repo[oid].read_raw()
        new = canonical.loads(data, path)
        old = before.read(path) if before is not None else None
        if not isinstance(new, dict) or (old is not None and content(old) == content(new)):
            continue
        stamp = new.get("modified")
        if old is None or not isinstance(stamp, dict) or stamp == old.get("modified"):
            if identity is None:
                identity = ClientFile(root, repo).identity()
            stamp = identity.modified()
        restamped = canonical.dumps(restamp(old, {**new, "modified": stamp}, stamp))
        if restamped == data:
            continue
        blob = repo.create_blob(restamped)
        index.add(pygit2.IndexEntry(path, blob, pygit2.enums.FileMode.BLOB))
        working = root / path
        if working.is_file() and working.read_bytes() == data:
            working.write_bytes(restamped)
        done.append(path)
    if done:
        index.write()
    return done


def _is_zero(oid: str) -> bool:
    return set(oid) == {"0"}


def pre_receive(repo: pygit2.Repository, stdin: str) -> HookResult:
    """Check each pushed ref: the new tip's state, for the paths changed since the old tip."""
    import pygit2

    from gitsync.repo.clientfile import changed_paths
    from gitsync.repo.snapshot import Snapshot
    from gitsync.rules.engine import check_all, check_changes
    from gitsync.rules.syncstate import check_pushed_commits

    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        if _is_zero(new):
            continue  # a deleted ref carries no records
        if ref.startswith("refs/gitsync/incoming/"):
            from gitsync.repo.content import check_incoming

            problem = check_incoming(repo, ref, new)
            if problem:
                return HookResult(1, f"push refused: {problem}")
            continue
        try:
            new_tree = repo[new].peel(pygit2.Commit).tree
        except KeyError:
            return HookResult(1, f"push to {ref} refused: commit {new} is not readable")
        except (ValueError, pygit2.InvalidSpecError):
            continue  # a tag of something that is not a commit: no records to check
        after = Snapshot(repo, new_tree)
        try:
            if _is_zero(old):
                found = check_all(after)
                if found:
                    raise found[0]
            else:
                old_tree = repo[old].peel(pygit2.Commit).tree
                changed = changed_paths(repo, old_tree, new_tree)
                check_changes(after, changed, Snapshot(repo, old_tree))
            check_pushed_commits(repo, _receiving_state(repo, old), _new_commits(repo, new))
        except (RuleViolation, InputError) as err:
            return HookResult(1, f"push to {ref} refused: {err}")
    return HookResult(0)


def _receiving_state(repo: pygit2.Repository, old: str) -> Snapshot | None:
    """What the receiving parent knows (registry, protection, lockdown): its working line, else the old tip."""
    import pygit2

    from gitsync.repo.snapshot import Snapshot

    for ref in ("refs/heads/work", "HEAD"):
        try:
            return Snapshot(repo, repo.revparse_single(ref).peel(pygit2.Commit).tree)
        except (KeyError, ValueError, pygit2.GitError):
            continue
    if _is_zero(old):
        return None
    return Snapshot(repo, repo[old].peel(pygit2.Commit).tree)


def _new_commits(repo: pygit2.Repository, new: str) -> list[pygit2.Commit]:
    """The pushed commits this repository did not have before the push."""
    import pygit2

    walker = repo.walk(pygit2.Oid(hex=new), pygit2.enums.SortMode.TOPOLOGICAL)
    for name in repo.references:
        if name.startswith("refs/heads/"):
            try:
                walker.hide(repo.references[name].peel(pygit2.Commit).id)
            except (KeyError, ValueError, pygit2.GitError):
                continue
    return list(walker)


def post_merge(repo: pygit2.Repository) -> HookResult:
    """Commit the conflicts that the merge driver recorded during a plain ``git merge``."""
    try:
        from gitsync.merge.driver import (  # type: ignore[import-not-found,unused-ignore]
            commit_driver_conflicts,
        )
    except ImportError as err:
        if err.name in ("gitsync.merge.driver", None) or "commit_driver_conflicts" in str(err):
            return HookResult(0)  # the merge driver is not there yet: nothing to commit
        raise
    if repo.workdir is None:
        return HookResult(0)
    try:
        from gitsync.ledger.books import write_books_conflict_after_merge

        write_books_conflict_after_merge(Path(repo.workdir))  # committed with the driver's
        commit_driver_conflicts(Path(repo.workdir))
    except GitsyncError as err:
        return HookResult(1, f"after the merge: {err}")
    return HookResult(0)


def main(argv: Sequence[str], stdin: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """The hook process: ``NAME [ARGS...]``; prints at most one line and returns the exit code.

    This is the hook's error boundary (as ``gitsync.cli.main`` is the
    command's): every GitsyncError becomes one line on stderr.
    """
    err_stream = stderr or sys.stderr
    if not argv:
        err_stream.write(f"gitsync: hook: name a hook ({', '.join(HOOKS)})\n")
        return 2
    name, args = argv[0], list(argv[1:])
    text = (stdin or sys.stdin).read() if name in HOOKS_WITH_INPUT else ""
    try:
        result = run_hook(name, args, text)
    except GitsyncError as err:
        err_stream.write(f"gitsync: {err}\n")
        return err.exit_code
    except Exception as err:  # the last resort: one line, never a traceback with locals
        err_stream.write(
            f"gitsync: {name}: internal error: {type(err).__name__}: {one_line(err)}\n"
        )
        return 70
    if result.message:
        err_stream.write(f"gitsync: {result.message}\n")
    return result.code
