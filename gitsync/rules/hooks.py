"""The git hooks of a client file: pre-commit, pre-receive and post-merge.

The installed hook scripts run ``python -m gitsync hook <name> [args]``;
``gitsync.__main__`` sends that straight to ``main`` here, without loading
the command-line layer, because a hook pays Python's start-up on every commit
and push.

- pre-commit (in a copy): the staged state against HEAD.
- pre-receive (in a parent; authoritative, ``--no-verify`` cannot skip it):
  the state of each pushed tip, for the paths changed since the old tip. The
  pushed objects are still in git's quarantine directory; the git plumbing
  the hook runs finds them through git's environment (GIT_DIR,
  GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES).
- post-merge: record the conflicts the merge driver settled during a plain
  ``git merge`` (``gitsync.merge.driver.commit_driver_conflicts``).

pre-commit and pre-receive read objects with git plumbing
(``gitsync.repo.plumbing``) and never import pygit2: a hook process starts
in tens of milliseconds. The rules are the same functions the commands run.

A foreign hook that was installed before gitsync's is kept as
``<name>.legacy`` and runs first, with the same arguments and input; when it
fails, its exit code stands and gitsync's check does not run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gitsync.errors import (
    ExitCode,
    GitsyncError,
    InputError,
    RuleViolation,
    UsageError,
    error_line,
)
from gitsync.repo.plumbing import (
    EMPTY_TREE,
    ObjectReader,
    PlumbingSnapshot,
    is_zero,
    raw_changes,
    run_git,
)
from gitsync.rules.engine import check_all, check_changes
from gitsync.rules.refs import ReceivingParent, push_refusal
from gitsync.rules.stamps import check_stamps
from gitsync.rules.syncstate import PushedCommit, check_pushed_commits

if TYPE_CHECKING:
    from gitsync.model.view import RecordView

HOOKS = ("pre-commit", "pre-receive", "post-merge")
HOOKS_WITH_INPUT = frozenset({"pre-receive"})


@dataclass(frozen=True)
class HookResult:
    """What a hook decided: its exit code and the one line to show (None when silent)."""

    code: int
    message: str | None = None


def hooks_dir(cwd: Path | None = None) -> Path:
    """Where git looks for this repository's hooks (core.hooksPath, else <git dir>/hooks)."""
    found = run_git(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd)
    return Path(found.decode("utf-8", "surrogateescape").strip())


def run_legacy(name: str, args: Sequence[str], stdin: str, cwd: Path | None) -> int:
    """Run ``<name>.legacy`` (a hook that was there before gitsync's) if any; its exit code."""
    legacy = hooks_dir(cwd) / f"{name}.legacy"
    if not legacy.is_file() or not os.access(legacy, os.X_OK):
        return 0
    proc = subprocess.run([str(legacy), *args], input=stdin, text=True, cwd=cwd, check=False)
    return proc.returncode


def run_hook(name: str, args: Sequence[str], stdin: str, cwd: Path | None = None) -> HookResult:
    """Run gitsync's hook ``name`` as git does: legacy hook first, then the rules.

    pre-commit and pre-receive read the repository with git plumbing, so a
    hook process never imports pygit2 (``gitsync.repo.plumbing``).
    """
    if name not in HOOKS:
        raise UsageError(f"unknown hook '{name}' (gitsync runs {', '.join(HOOKS)})")
    legacy_code = run_legacy(name, args, stdin, cwd)
    if legacy_code != 0:
        return HookResult(legacy_code)
    if name == "post-merge":
        from gitsync.repo.hooks import hook_workdir

        return post_merge(hook_workdir(cwd))
    with ObjectReader(cwd) as reader:
        if name == "pre-commit":
            return pre_commit(reader)
        return pre_receive(reader, stdin)


def pre_commit(reader: ObjectReader) -> HookResult:
    """Check what is staged: the index against HEAD.

    The staged state is HEAD's tree with only the staged paths replaced
    (``git diff-index --cached``), not a tree written from the whole index
    (2.5 s at 100,000 records).
    """
    head = reader.read("HEAD^{tree}")
    head_tree = head[0] if head is not None else None
    listing = reader.git(["diff-index", "--cached", "-z", "--no-renames", head_tree or EMPTY_TREE])
    staged = raw_changes(listing)
    if not staged:
        return HookResult(0)
    overlay: dict[str, bytes] = {}
    for path, (_, new) in staged.items():
        if not is_zero(new):
            blob = reader.read(new)
            if blob is None:
                return HookResult(1, f"commit refused: {path}: the staged content is not readable")
            overlay[path] = blob[2]
    removed = frozenset(p for p, (_, new) in staged.items() if is_zero(new))
    as_staged = dict(overlay)
    overlay.update(canonical_forms(overlay))  # a hand edit is committed as sync commits it
    after = PlumbingSnapshot(reader, head_tree, overlay, removed)
    before = PlumbingSnapshot(reader, head_tree) if head_tree is not None else None
    try:
        check_changes(after, staged, before)
    except (RuleViolation, InputError) as err:
        return HookResult(1, f"commit refused: {err}")
    git_dir = Path(reader.git(["rev-parse", "--absolute-git-dir"]).decode().strip())
    if not (git_dir / "MERGE_HEAD").exists():  # a merge's result is no one's edit
        overlay.update(stamp_staged(reader, before, overlay))
    restage(reader, {p: data for p, data in overlay.items() if data != as_staged[p]}, as_staged)
    return HookResult(0)


def canonical_forms(staged: dict[str, bytes]) -> dict[str, bytes]:
    """The canonical bytes of each staged record that is valid JSON but not in canonical form.

    Keys out of order, another indent, no trailing newline: ``sync`` rewrites
    such a hand edit itself, so the commit does too. What is not valid JSON
    is left as it is, for the rules to refuse with its line and column.
    """
    from gitsync.model import canonical
    from gitsync.model.records import kind_of

    found: dict[str, bytes] = {}
    for path, data in staged.items():
        if kind_of(path) is None or canonical.is_canonical(data):
            continue
        try:
            fixed = canonical.dumps(canonical.loads(data, path))
        except InputError:
            continue
        found[path] = fixed
    return found


def restage(reader: ObjectReader, new: dict[str, bytes], as_staged: dict[str, bytes]) -> None:
    """Put ``new`` bytes in the index git is committing, and in each working file that held
    what was staged (a file edited again since keeps that edit).

    The index is the one git names in GIT_INDEX_FILE (``git commit -a``
    commits ``index.lock``), which ``reader.git`` passes through with the
    rest of git's environment. ``git commit <paths>`` commits a temporary
    ``next-index-*.lock`` and then installs ``index.lock`` as the index: that
    one takes the same bytes, or ``git status`` would show the path changed.
    """
    if not new:
        return
    root_text = reader.git(["rev-parse", "--show-toplevel"]).decode().strip()
    root = Path(root_text) if root_text else None
    env = dict(os.environ if reader.env is None else reader.env)
    indexes = [env]
    committing = Path(env.get("GIT_INDEX_FILE", ""))
    if committing.name.startswith("next-index-"):
        indexes.append({**env, "GIT_INDEX_FILE": str(committing.parent / "index.lock")})
    for path, data in sorted(new.items()):
        written = subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=reader.cwd,
            env=reader.env,
            input=data,
            capture_output=True,
            check=True,
        )
        oid = written.stdout.decode("ascii").strip()
        for index_env in indexes:
            subprocess.run(
                ["git", "update-index", "--cacheinfo", f"100644,{oid},{path}"],
                cwd=reader.cwd,
                env=index_env,
                capture_output=True,
                check=True,
            )
        working = root / path if root is not None else None
        if working is not None and working.is_file() and working.read_bytes() == as_staged[path]:
            working.write_bytes(data)


def _committer_stamp(cwd: Path | None, root: Path) -> dict[str, str]:
    """The ``modified`` stamp of whoever runs ``git commit`` (as ClientFile.identity finds it)."""
    import getpass

    from gitsync.config import LocalState
    from gitsync.model.records import now_stamp

    name = os.environ.get("GITSYNC_USER") or os.environ.get("GIT_AUTHOR_NAME")
    if not name:
        found = subprocess.run(
            ["git", "config", "user.name"], cwd=cwd, capture_output=True, text=True, check=False
        )
        name = found.stdout.strip()
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    state = LocalState.load(root)
    return {"at": now_stamp(), "by": name, "copy": state.copy_id if state else "unregistered"}


def stamp_staged(
    reader: ObjectReader, before: RecordView | None, staged: dict[str, bytes]
) -> dict[str, bytes]:
    """Stamp the records a plain ``git commit`` changes, as gitsync's own commands do.

    Each staged record whose content differs from HEAD takes ``modified``
    from the committer (unless the record already carries a new one) and a
    ``provenance`` stamp on each changed field. Returns path -> the stamped
    bytes, for those that changed (``restage`` puts them in the index).
    """
    from gitsync.model import canonical
    from gitsync.model.provenance import content, restamp
    from gitsync.model.records import kind_of

    root_text = reader.git(["rev-parse", "--show-toplevel"]).decode().strip()
    if not root_text:
        return {}
    root = Path(root_text)
    committer: dict[str, str] | None = None
    done: dict[str, bytes] = {}
    for path, data in sorted(staged.items()):
        if kind_of(path) is None:
            continue
        new = canonical.loads(data, path)
        old = before.read(path) if before is not None else None
        if not isinstance(new, dict) or (old is not None and content(old) == content(new)):
            continue
        stamp = new.get("modified")
        if old is None or not isinstance(stamp, dict) or stamp == old.get("modified"):
            if committer is None:
                committer = _committer_stamp(reader.cwd, root)
            stamp = committer
        restamped = canonical.dumps(restamp(old, {**new, "modified": stamp}, stamp))
        if restamped != data:
            done[path] = restamped
    return done


def pre_receive(reader: ObjectReader, stdin: str) -> HookResult:
    """Check each pushed ref: the new tip's state, for the paths changed since the old tip."""
    refused = push_refusal(ReceivingParent(reader.cwd, reader.env), stdin)
    if refused:
        return HookResult(1, refused)
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        if is_zero(new):
            continue  # a deleted ref carries no records
        if ref.startswith("refs/gitsync/incoming/"):
            problem = _incoming_problem(reader, ref, new)
            if problem:
                return HookResult(1, f"push refused: {problem}")
            continue
        if reader.read(new) is None:
            return HookResult(1, f"push to {ref} refused: commit {new} is not readable")
        found = reader.read(f"{new}^{{tree}}")
        if found is None:
            continue  # a tag of something that is not a commit: no records to check
        new_tree = found[0]
        after = PlumbingSnapshot(reader, new_tree)
        try:
            if is_zero(old):
                violations = check_all(after)
                if violations:
                    raise violations[0]
            else:
                old_found = reader.read(f"{old}^{{tree}}")
                old_tree = old_found[0] if old_found is not None else EMPTY_TREE
                changed = raw_changes(
                    reader.git(["diff-tree", "-r", "-z", "--no-renames", old_tree, new_tree])
                )
                check_changes(after, changed, PlumbingSnapshot(reader, old_tree))
            commits = _new_commits(reader, new)
            check_pushed_commits(_receiving_state(reader, old), commits, _locks_state(reader))
            check_stamps(commits, now=time.time())
        except (RuleViolation, InputError) as err:
            return HookResult(1, f"push to {ref} refused: {err}")
    return HookResult(0)


def _incoming_problem(reader: ObjectReader, ref: str, new: str) -> str | None:
    """Why pushed on-demand content is refused: it must be a blob with the sha256 it is named by."""
    import hashlib
    import re

    sha = ref.removeprefix("refs/gitsync/incoming/")
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        return f"{ref}: not a sha256 name"
    found = reader.read(new)
    if found is None or found[1] != "blob":
        return f"{ref}: {new} is not a document's content"
    if hashlib.sha256(found[2]).hexdigest() != sha:
        return f"{ref}: the content does not have sha256 {sha}"
    return None


def _locks_state(reader: ObjectReader) -> RecordView | None:
    """The receiving parent's shared line, where document locks are pushed (``doc lock``)."""
    found = reader.read("refs/heads/main^{tree}")
    return PlumbingSnapshot(reader, found[0]) if found is not None else None


def _receiving_state(reader: ObjectReader, old: str) -> RecordView | None:
    """What the receiving parent knows (registry, protection, lockdown): its working line, else the old tip."""
    for rev in ("refs/heads/work", "HEAD", *(() if is_zero(old) else (old,))):
        found = reader.read(f"{rev}^{{tree}}")
        if found is not None:
            return PlumbingSnapshot(reader, found[0])
    return None


def _new_commits(reader: ObjectReader, new: str) -> list[PushedCommit]:
    """The pushed commits this repository did not have before the push, the tip first."""
    listing = reader.git(["rev-list", "--topo-order", "--parents", new, "--not", "--branches"])
    commits = []
    for line in listing.decode("ascii").splitlines():
        oid, *parents = line.split()
        found = reader.read(oid)
        if found is None:
            continue
        headers, _, body = found[2].partition(b"\n\n")
        tree, author, when = "", "", 0
        for header in headers.split(b"\n"):
            if header.startswith(b"tree "):
                tree = header[5:].decode("ascii")
            elif header.startswith(b"author "):
                author = header[7:].rpartition(b" <")[0].decode("utf-8", "replace")
            elif header.startswith(b"committer "):
                when = _seconds(header.rpartition(b"> ")[2])
        states = _commit_states(reader, parents[0], tree) if len(parents) == 1 and tree else None
        sides = _merge_sides(reader, parents, tree) if len(parents) == 2 and tree else None
        message = body.decode("utf-8", "replace")
        commits.append(PushedCommit(oid, tuple(parents), message, author, states, when, sides))
    return commits


def _seconds(when: bytes) -> int:
    """The seconds of a commit header's ``<seconds> <zone>`` (0 when unreadable)."""
    try:
        return int(when.split()[0])
    except (IndexError, ValueError):
        return 0


def _commit_states(
    reader: ObjectReader, parent: str, tree: str
) -> Callable[[], tuple[RecordView, RecordView, frozenset[str]]]:
    def states() -> tuple[RecordView, RecordView, frozenset[str]]:
        found = reader.read(f"{parent}^{{tree}}")
        parent_tree = found[0] if found is not None else EMPTY_TREE
        changed = raw_changes(
            reader.git(["diff-tree", "-r", "-z", "--no-renames", parent_tree, tree])
        )
        return (
            PlumbingSnapshot(reader, parent_tree),
            PlumbingSnapshot(reader, tree),
            frozenset(changed),
        )

    return states


def _merge_sides(
    reader: ObjectReader, parents: list[str], tree: str
) -> Callable[[], tuple[RecordView, RecordView, RecordView, frozenset[str]]]:
    def sides() -> tuple[RecordView, RecordView, RecordView, frozenset[str]]:
        trees = [reader.read(f"{p}^{{tree}}") for p in parents]
        first, second = (found[0] if found is not None else EMPTY_TREE for found in trees)
        changed = raw_changes(reader.git(["diff-tree", "-r", "-z", "--no-renames", first, tree]))
        return (
            PlumbingSnapshot(reader, first),
            PlumbingSnapshot(reader, second),
            PlumbingSnapshot(reader, tree),
            frozenset(changed),
        )

    return sides


def post_merge(workdir: Path | None) -> HookResult:
    """Commit the conflicts that the merge driver recorded during a plain ``git merge``.

    ``workdir`` is the work folder of the repository the hook runs in (None: bare).
    """
    try:
        from gitsync.merge.driver import (  # type: ignore[import-not-found,unused-ignore]
            commit_driver_conflicts,
        )
    except ImportError as err:
        if err.name in ("gitsync.merge.driver", None) or "commit_driver_conflicts" in str(err):
            return HookResult(0)  # the merge driver is not there yet: nothing to commit
        raise
    if workdir is None:
        return HookResult(0)
    try:
        from gitsync.merge.books import write_books_conflict_after_merge
        from gitsync.rules.commit import check_commit

        write_books_conflict_after_merge(workdir)  # committed with the driver's
        commit_driver_conflicts(workdir, checker=check_commit)
    except GitsyncError as err:
        return HookResult(1, f"after the merge: {err}")
    return HookResult(0)


def main(argv: Sequence[str], stdin: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """The hook process: ``NAME [ARGS...]``; prints at most one line and returns the exit code.

    Whatever escapes becomes one line on stderr and an exit code through
    ``gitsync.errors.error_line``, the boundary the command and the merge driver share.
    """
    err_stream = stderr or sys.stderr
    if not argv:
        err_stream.write(f"gitsync: hook: name a hook ({', '.join(HOOKS)})\n")
        return ExitCode.USAGE
    name, args = argv[0], list(argv[1:])
    text = (stdin or sys.stdin).read() if name in HOOKS_WITH_INPUT else ""
    try:
        result = run_hook(name, args, text)
    except Exception as err:  # the shared boundary: one line, never a traceback with locals
        line, code = error_line(err, name)
        err_stream.write(f"{line}\n")
        return code
    if result.message:
        err_stream.write(f"gitsync: {result.message}\n")
    return result.code
