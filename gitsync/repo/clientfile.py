"""A client file on disk: a git repository of canonical JSON records.

This is the one place (with the rest of ``gitsync.repo``) that touches
pygit2. Changes are committed without git's index machinery: the new tree is
built from the old one with TreeBuilder, touching only the changed folders,
and only the changed index entries are refreshed so ``git status`` stays
clean (DESIGN section 8: the index is the cost).
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pygit2

from gitsync.config import SYNC_DIR, LocalState
from gitsync.errors import Busy, ExitCode, GitsyncError, NotAClientFile
from gitsync.faults import fault_point
from gitsync.fs import atomic_write, fsync_dir
from gitsync.lock import LOCK_NAME, CopyLock
from gitsync.model.names import fits_on_disk
from gitsync.model.records import FORMAT_VERSION, now_stamp
from gitsync.model.view import RecordView
from gitsync.repo.snapshot import Snapshot
from gitsync.repo.trees import build_tree, changed_paths, tree_changes

# libgit2 keeps every pack it has read open for as long as a Repository lives, and each
# on-demand document's content is a pack of its own: bound the open packs (libgit2's
# default is no bound), or a copy with hundreds of documents runs out of file handles.
pygit2.option(pygit2.enums.Option.SET_MWINDOW_FILE_LIMIT, 64)

WORK_BRANCH = "refs/heads/work"
SHARED_BRANCH = "refs/heads/main"
COPY_TRAILER = "Gitsync-Copy"
CHECKOUT_JOURNAL = "gitsync-checkout"
# From this many changed paths on, git itself checks and writes the working files
# (``git diff-files``, ``git read-tree -u``); below it, Python does, file by file.
GIT_CHECKOUT_FROM = 200

_GIT_PROGRESS = re.compile(rb"Updating files:\s+\d+% \((\d+)/(\d+)\)")

__all__ = ["ClientFile", "CommitCheck", "Identity", "Oid", "build_tree", "changed_paths"]

Oid = pygit2.Oid
"""An object id, as the layers above hold one (they never import pygit2)."""


class EditedDuringWork(GitsyncError):
    """A working file changed under a running command; it was left alone."""

    exit_code = ExitCode.BUSY


class FormatTooNew(GitsyncError):
    exit_code = ExitCode.NOT_A_CLIENT_FILE


class FormatTooOld(GitsyncError):
    exit_code = ExitCode.NOT_A_CLIENT_FILE


Progress = Callable[[str, int, int], None]
"""Told (what, done, total) as long work goes on; the CLI draws a bar from it."""

CommitCheck = Callable[[RecordView, RecordView, Mapping[str, bytes], str], None]
"""Told (before, after, changes, author) before a commit writes; raises to refuse it.

``gitsync.rules.check_commit`` is the one the commands hand in.
"""


@dataclass(frozen=True)
class Identity:
    """Who makes a change: the commit author, and the copy it is made in."""

    name: str
    email: str
    copy_id: str

    def signature(self) -> pygit2.Signature:
        return pygit2.Signature(self.name, self.email)

    def modified(self) -> dict[str, str]:
        """The ``modified`` stamp written into every record this identity changes."""
        return {"at": now_stamp(), "by": self.name, "copy": self.copy_id}


class ClientFile:
    """One client file: its repository, its local sync state and its identity."""

    def __init__(self, root: Path, repo: pygit2.Repository) -> None:
        self.root = root
        self.repo = repo
        self._state: LocalState | None = None
        self._state_loaded = False
        self.first_sync: str | None = None  # set by make_copy: how its first sync went
        self.progress: Progress | None = None  # told about long work (a bar past 2 s)
        self.acting: str | None = None  # who makes the changes, when not this process's user

    # --- opening ------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str, *, check_format: bool = True) -> ClientFile:
        """Open the client file at ``path`` (or the one that contains it)."""
        start = Path(path).resolve()
        found = pygit2.discover_repository(str(start))
        if found is None:
            raise NotAClientFile(f"{start}: not a client file (no git repository here)")
        repo = pygit2.Repository(found)
        if repo.is_bare or repo.workdir is None:
            raise NotAClientFile(f"{start}: a bare repository is a server store, not a client file")
        client = cls(Path(repo.workdir).resolve(), repo)
        engagement = client.snapshot().read("engagement.json")
        if engagement is None:
            raise NotAClientFile(f"{client.root}: not a client file (no engagement.json committed)")
        if check_format:
            version = engagement.get("format_version")
            if isinstance(version, int) and version > FORMAT_VERSION:
                raise FormatTooNew(
                    f"{client.root}: format_version {version} is newer than this gitsync reads "
                    f"({FORMAT_VERSION}); upgrade gitsync to open it"
                )
            if isinstance(version, int) and version < FORMAT_VERSION:
                raise FormatTooOld(
                    f"{client.root}: format_version {version} is older than {FORMAT_VERSION}; "
                    "run 'gitsync convert' first"
                )
        return client

    # --- local state and identity ---------------------------------------------

    @property
    def sync_dir(self) -> Path:
        return self.root / SYNC_DIR

    @property
    def state(self) -> LocalState | None:
        if not self._state_loaded:
            self._state = LocalState.load(self.root)
            self._state_loaded = True
        return self._state

    def reload_state(self) -> LocalState | None:
        """Read ``_Sync/sync.yaml`` again (another process may have changed it)."""
        self._state_loaded = False
        return self.state

    def save_state(self, state: LocalState) -> None:
        state.save(self.root)
        self._state = state
        self._state_loaded = True

    @property
    def copy_id(self) -> str:
        state = self.state
        return state.copy_id if state else "unregistered"

    def identity(self) -> Identity:
        """The user making changes: ``acting``, else GITSYNC_USER, else the git identity, else the login."""
        if self.acting:
            # a server acting for its signed-in user: never the server process's own identity
            return Identity(self.acting, f"{self.acting}@gitsync.invalid", self.copy_id)
        config = self.repo.config
        name = (
            os.environ.get("GITSYNC_USER")
            or os.environ.get("GIT_AUTHOR_NAME")
            or _config_get(config, "user.name")
        )
        if not name:
            try:
                name = getpass.getuser()
            except (KeyError, OSError):
                name = "unknown"
        email = (
            os.environ.get("GIT_AUTHOR_EMAIL")
            or _config_get(config, "user.email")
            or f"{name.replace(' ', '.')}@gitsync.invalid"
        )
        return Identity(name, email, self.copy_id)

    # --- reading ----------------------------------------------------------------

    def head_commit(self) -> pygit2.Commit | None:
        try:
            return self.repo.head.peel(pygit2.Commit)
        except (pygit2.GitError, KeyError):
            return None

    def head_tree(self) -> pygit2.Tree | None:
        commit = self.head_commit()
        return commit.tree if commit else None

    def snapshot(self, changes: Mapping[str, bytes] | None = None) -> Snapshot:
        """The committed records at HEAD, overlaid by ``changes``."""
        return Snapshot(self.repo, self.head_tree(), changes)

    def dirty_paths(self) -> dict[str, str]:
        """Working files that differ from HEAD: path -> "new", "modified" or "deleted"."""
        from gitsync.repo.gitcli import working_file_changes

        return working_file_changes(self.root, f"{SYNC_DIR}/")

    def ref(self, name: str) -> pygit2.Oid | None:
        try:
            target = self.repo.references[name].target
        except KeyError:
            return None
        return target if isinstance(target, pygit2.Oid) else None

    def set_ref(self, name: str, new: pygit2.Oid, expected: pygit2.Oid | None) -> bool:
        """Compare-and-swap a ref (``git update-ref``): False when it no longer holds ``expected``.

        The shared line receives pushes from children at any moment, so it is
        only ever moved from the value this process last read.
        """
        from gitsync.repo.gitcli import git

        old = str(expected) if expected is not None else "0" * 40
        result = git(["update-ref", name, str(new), old], self.root, check=False)
        return result.returncode == 0

    def track(self, name: str, new: pygit2.Oid) -> None:
        """Point a remote-tracking ref (``refs/remotes/parent/main``) at ``new``, in-process.

        What a plain-git user sees of the parent; no one compares against it,
        so no compare-and-swap and no git process.
        """
        self.repo.references.create(name, new, force=True)

    def take_commit(self, source: ClientFile, commit_id: pygit2.Oid) -> bool:
        """Write ``source``'s commit here with each of its objects this repository lacks.

        What a push would bring, without the push: the objects only, no ref
        moves. A tree already here is not walked (its objects are here too), so
        a commit that changes one record costs a few objects. False, with
        nothing written, when a parent of the commit is not here.
        """
        try:
            commit = source.repo[commit_id]
            if not isinstance(commit, pygit2.Commit):
                return False
            if any(parent not in self.repo for parent in commit.parent_ids):
                return False
            missing: list[pygit2.Object] = [commit]
            wanted = [commit.tree_id]
            while wanted:
                oid = wanted.pop()
                if oid in self.repo:
                    continue
                obj = source.repo[oid]
                missing.append(obj)
                if isinstance(obj, pygit2.Tree):
                    wanted.extend(entry.id for entry in obj)
            written = [self.repo.odb.write(obj.type, obj.read_raw()) for obj in reversed(missing)]
            # As durable as the pack a push would have brought (git fsyncs packs): the ref
            # that will name these must never name an object lost to a power cut.
            folders = {self._sync_loose(oid) for oid in written}
            for folder in folders - {None}:
                fsync_dir(folder)
        except (OSError, pygit2.GitError):
            return False  # a full disk, a folder we may not write: the push path says it better
        return True

    def _sync_loose(self, oid: pygit2.Oid) -> Path | None:
        """fsync the loose object ``oid`` just written; its folder (None when it was packed)."""
        hexid = str(oid)
        path = Path(self.repo.path) / "objects" / hexid[:2] / hexid[2:]
        try:
            handle = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        return path.parent

    def oid(self, value: pygit2.Oid | str) -> pygit2.Oid:
        """A commit id from its hex form (or as it is)."""
        return pygit2.Oid(hex=value) if isinstance(value, str) else value

    def count_new(self, include: pygit2.Oid, exclude: list[pygit2.Oid]) -> int:
        """How many commits ``include`` has that none of ``exclude`` has."""
        walker = self.repo.walk(include, pygit2.enums.SortMode.NONE)
        for oid in exclude:
            walker.hide(oid)
        return sum(1 for _ in walker)

    def root_commit(self, start: pygit2.Oid | str | None = None) -> pygit2.Oid | None:
        """The first commit of a history (HEAD's by default): the identity of a hierarchy."""
        if start is None:
            head = self.head_commit()
            if head is None:
                return None
            start = head.id
        oid = self.oid(start)
        if self.repo.get(oid) is None:
            return None
        order = pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE
        walker = self.repo.walk(oid, order)
        walker.simplify_first_parent()
        return next(iter(walker)).id

    def snapshot_at(self, ref: str) -> Snapshot | None:
        """The records of the commit a ref points at, or None when there is no such ref."""
        oid = self.ref(ref)
        if oid is None:
            return None
        return Snapshot(self.repo, self.repo[oid].peel(pygit2.Tree))

    def tree_of(self, commit: pygit2.Oid | str) -> pygit2.Tree:
        """The tree of a commit."""
        return self.repo[self.oid(commit)].peel(pygit2.Tree)

    def tree_by_id(self, tree_id: str) -> pygit2.Tree | None:
        """The tree with this id (hex), or None when the store has no such tree."""
        try:
            tree = self.repo.get(tree_id)
        except ValueError:
            return None
        return tree if isinstance(tree, pygit2.Tree) else None

    def connects(self, one: pygit2.Oid, other: pygit2.Oid) -> bool:
        """Whether two lines share any history (a merge base)."""
        return self.repo.merge_base(one, other) is not None

    def is_ancestor(self, ancestor: pygit2.Oid, descendant: pygit2.Oid) -> bool:
        return ancestor == descendant or bool(self.repo.descendant_of(descendant, ancestor))

    # --- locking ----------------------------------------------------------------

    @contextmanager
    def locked(self, timeout: float = 30.0, *, recover: bool = True) -> Iterator[None]:
        """Hold this copy's lock around anything that moves refs or the work tree.

        Taking the lock first finishes a head move a crash interrupted
        (``recover``), so every command starts from a whole copy.
        """
        lock = CopyLock(Path(self.repo.path) / LOCK_NAME)
        if not lock.acquire(timeout):
            raise Busy(f"{self.root}: another gitsync command is working on this copy")
        try:
            if recover:
                self.recover()
            yield
        finally:
            lock.release()

    def recover(self) -> bool:
        """Finish a head move that a crash interrupted; True when there was one to finish."""
        journal = Path(self.repo.path) / CHECKOUT_JOURNAL
        if not journal.exists():
            return False
        try:
            old_tree_hex, new_commit_hex = journal.read_text(encoding="ascii").split()
        except (OSError, ValueError):
            journal.unlink(missing_ok=True)
            return False
        head = self.head_commit()
        if head is not None and str(head.id) == new_commit_hex:
            old_tree = self.repo.get(old_tree_hex)
            self.checkout_tree(old_tree if isinstance(old_tree, pygit2.Tree) else None, head.tree)
        journal.unlink(missing_ok=True)
        return True

    # --- writing ----------------------------------------------------------------

    def write_objects(self, changes: Mapping[str, bytes | None]) -> dict[str, pygit2.Oid | None]:
        """Store the blobs of ``changes``; path -> blob id (None stays None: a removal).

        Many blobs go into one pack (``git fast-import``): libgit2 writes each
        object as a loose file of its own, one file creation per record.
        """
        if sum(1 for data in changes.values() if data is not None) < GIT_CHECKOUT_FROM:
            return {
                path: None if data is None else self.repo.create_blob(data)
                for path, data in changes.items()
            }
        stream = bytearray()
        for data in changes.values():
            if data is not None:
                stream += b"blob\ndata %d\n" % len(data)
                stream += data
                stream += b"\n"
        from gitsync.repo.gitcli import GitFailed

        proc = subprocess.run(
            ["git", "fast-import", "--quiet"],
            cwd=self.root,
            input=bytes(stream),
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise GitFailed(
                ["fast-import"], proc.returncode, proc.stderr.decode("utf-8", "replace")
            )
        return {path: None if data is None else pygit2.hash(data) for path, data in changes.items()}

    def commit(
        self,
        changes: Mapping[str, bytes],
        message: str,
        *,
        identity: Identity | None = None,
        checker: CommitCheck | None = None,
        removals: Iterable[str] = (),
    ) -> pygit2.Oid:
        """Commit ``changes`` (path -> new bytes) as one change, as given.

        ``removals`` are files taken out of the tree in the same change; never
        records (a record is a tombstone), only a document's content moved to
        another name (``repair``).

        The rules are the layer above's: ``gitsync.rules.commit_checked`` hands
        its ``checker`` in, which sees the changes with their provenance and
        raises before anything is written. Order matters for crashes: the
        objects and the commit first, then the journaled head move
        (``advance_head``), which writes the working files; a kill at any point
        leaves either no change or one that the next command finishes.
        """
        if not changes:
            raise GitsyncError("nothing to commit")
        who = identity or self.identity()
        changes = self.with_provenance(changes)
        if checker is not None:
            checker(self.snapshot(), self.snapshot(changes), changes, who.name)
        parent = self.head_commit()
        blobs = self.write_objects(changes)
        blobs.update((path, None) for path in removals if path not in changes)
        tree_id = build_tree(self.repo, parent.tree if parent else None, blobs)
        body = _message(message, sorted(blobs), who.copy_id)
        sig = who.signature()
        commit_id = self.repo.create_commit(
            None, sig, sig, body, tree_id, [parent.id] if parent else []
        )
        fault_point("commit.objects-written")
        self.advance_head(commit_id, overwrite=blobs.keys())
        fault_point("commit.worktree-written")
        self._follow_shared_line(commit_id, parent.id if parent else None)
        return commit_id

    def with_provenance(self, changes: Mapping[str, bytes]) -> dict[str, bytes]:
        """``changes`` with each record's ``provenance`` derived from HEAD's version.

        Every field whose value changed takes the record's new ``modified``
        stamp (``gitsync.model.provenance.restamp``), whoever wrote the record.
        """
        from gitsync.model import canonical
        from gitsync.model.provenance import restamp
        from gitsync.model.records import kind_of

        snapshot = self.snapshot()
        result = dict(changes)
        for path, data in changes.items():
            if kind_of(path) is None:
                continue
            if b'"provenance"' not in data and snapshot.read_bytes(path) is None:
                continue  # a new record has no provenance: nothing to derive (bulk imports)
            try:
                new = canonical.loads(data, path)
                old = snapshot.read(path)
            except GitsyncError:
                continue  # not a record: the rules name it
            if not isinstance(new, dict):
                continue
            stamp = new.get("modified")
            if not isinstance(stamp, dict) or (old is not None and stamp == old.get("modified")):
                stamp = None
            restamped = restamp(old, new, stamp)
            if restamped != new:
                result[path] = canonical.dumps(restamped)
        return result

    def _follow_shared_line(self, new: pygit2.Oid, old: pygit2.Oid | None) -> None:
        """Publish a local change at once when the shared line was level with the work line.

        Copies below then see a parent's own change without waiting for its
        next sync; when they have pushed meanwhile, the next sync merges. A
        sync copy's shared line moves only to what its parent holds (sync
        moves it once the change is sent), so a ``git reset`` of an unsent
        change discards it.
        """
        state = self.state
        if state is not None and state.role == "child":
            return
        if old is not None and self.ref(SHARED_BRANCH) == old:
            self.set_ref(SHARED_BRANCH, new, old)

    def move_head(self, new: pygit2.Oid, expected: pygit2.Oid | None) -> None:
        """Point the checked-out branch at ``new``, refusing if it moved under us."""
        ref_name = self.head_ref_name()
        try:
            current = self.repo.references[ref_name].target
        except KeyError:
            current = None
        if current != expected:
            raise Busy(
                f"{self.root}: {ref_name} moved while this change was being made; run it again"
            )
        self.repo.references.create(ref_name, new, force=True)

    def advance_head(
        self,
        new: pygit2.Oid,
        *,
        overwrite: Iterable[str] = (),
        progress: Progress | None = None,
    ) -> int:
        """Move the checked-out branch to ``new`` and bring the working files along.

        A working file that was edited since HEAD (by its user, while a sync
        was fetching) is never overwritten: the move is refused before it
        starts and the edit is committed by the next sync. ``overwrite`` names
        the paths whose new content came from the working files themselves.
        A journal written first records the move, so a crash between the ref
        update and the last working file is finished by the next command
        (``recover``). Only the paths that differ between the two commits are
        looked at. Returns how many working files changed.
        """
        old = self.head_commit()
        if old is not None and old.id == new:
            return 0
        new_commit = self.repo[new]
        assert isinstance(new_commit, pygit2.Commit)
        old_tree = old.tree if old else None
        changes = tree_changes(self.repo, old_tree, new_commit.tree)
        edited = self._edited_in_place(changes, skip=set(overwrite))
        if edited:
            raise EditedDuringWork(
                f"{edited}: the working file was edited while gitsync was working; "
                "nothing was overwritten: run the command again to take the edit in"
            )
        journal = Path(self.repo.path) / CHECKOUT_JOURNAL
        atomic_write(journal, f"{old_tree.id if old_tree else '-'} {new}\n".encode("ascii"))
        fault_point("head.journal-written")
        self.move_head(new, old.id if old else None)
        fault_point("head.moved")
        if len(changes) >= GIT_CHECKOUT_FROM and all(map(fits_on_disk, changes)):
            self._git_checkout(old_tree, new_commit.tree, len(changes), progress or self.progress)
        else:
            self.update_worktree({path: after for path, (_, after) in changes.items()})
        journal.unlink(missing_ok=True)
        return len(changes)

    def _edited_in_place(
        self, changes: Mapping[str, tuple[pygit2.Oid | None, pygit2.Oid | None]], skip: set[str]
    ) -> str | None:
        """The first changed path whose working file is neither the old nor the new version.

        Few paths: each working file is hashed. Many: git's own index stat
        data says which working files differ from their index entries (one
        ``git diff-files``, in C), and only those, and paths whose index
        entry is neither version, are hashed.
        """
        wanted = [path for path in changes if path not in skip]
        if not wanted:
            return None
        if len(wanted) < GIT_CHECKOUT_FROM:
            suspects: Iterable[str] = wanted
        else:
            suspects = self._unlike_index(wanted, changes)
        for path in suspects:
            old_oid, new_oid = changes[path]
            if self._working_oid(path) not in (old_oid, new_oid):
                return path
        return None

    def _unlike_index(
        self, paths: list[str], changes: Mapping[str, tuple[pygit2.Oid | None, pygit2.Oid | None]]
    ) -> list[str]:
        """Of ``paths``, those whose working file may be neither version (to be hashed)."""
        from gitsync.repo.gitcli import git

        listing = git(["diff-files", "-z", "--name-only", "--no-renames"], self.root).stdout
        stat_dirty = set(listing.split("\0"))
        if len(stat_dirty) >= GIT_CHECKOUT_FROM:
            # Mostly stat changes, not edits (a folder copied with new inodes): let git
            # refresh its stat data once rather than hash every such file in Python.
            git(["update-index", "-q", "--refresh"], self.root, check=False)
            listing = git(["diff-files", "-z", "--name-only", "--no-renames"], self.root).stdout
            stat_dirty = set(listing.split("\0"))
        index = self.repo.index
        index.read()
        suspects = []
        for path in paths:
            try:
                entry = index[path]
            except KeyError:
                entry = None
            if entry is None:
                if os.path.lexists(self.root / path):
                    suspects.append(path)  # an untracked file where the change puts one
            elif path in stat_dirty or entry.id not in changes[path]:
                suspects.append(path)
        return suspects

    def _working_oid(self, path: str) -> pygit2.Oid | None:
        if not fits_on_disk(path):
            return None  # never written here (``update_worktree``)
        try:
            with open(self.root / path, "rb") as handle:
                return pygit2.hash(handle.read())
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def _git_checkout(
        self,
        old: pygit2.Tree | None,
        new: pygit2.Tree,
        count: int,
        progress: Progress | None,
    ) -> None:
        """Write the working files and index entries of the paths that differ, with git itself.

        ``read-tree --reset -u`` rewrites only the entries that change between
        the two trees; the check for edits is made before (``_edited_in_place``).
        git reports its progress once the work has lasted 2 s (``-v``); it
        goes to ``progress``.
        """
        from gitsync.repo.gitcli import GitFailed, git_env

        trees = [str(old.id), str(new.id)] if old is not None else [str(new.id)]
        args = ["read-tree", "--reset", "-u", *(["-v"] if progress else []), *trees]
        proc = subprocess.Popen(
            ["git", *args], cwd=self.root, stderr=subprocess.PIPE, env=git_env()
        )
        assert proc.stderr is not None
        said: list[bytes] = []
        pending = b""
        while chunk := os.read(proc.stderr.fileno(), 4096):
            pending += chunk
            *lines, pending = re.split(rb"[\r\n]", pending)
            for line in lines:
                found = _GIT_PROGRESS.search(line)
                if found and progress is not None:
                    progress("Updating working files", int(found[1]), int(found[2]))
                elif line.strip():
                    said.append(line)
        if proc.wait() != 0:
            raise GitFailed(args, proc.returncode, b"\n".join(said).decode("utf-8", "replace"))
        if progress is not None:
            progress("Updating working files", count, count)

    def head_ref_name(self) -> str:
        try:
            return str(self.repo.lookup_reference("HEAD").target)
        except (KeyError, pygit2.GitError):
            return WORK_BRANCH

    def update_worktree(
        self, blobs: Mapping[str, pygit2.Oid | None], data: Mapping[str, bytes] | None = None
    ) -> None:
        """Bring the working files and index entries of ``blobs``' paths to those blobs.

        A path with a name too long for the file system (committed before the
        rule on names in bytes) is not written: its index entry holds the
        blob, so the working files still agree with the history, and
        ``repair`` gives it a name that fits.
        """
        if not blobs:
            return
        index = self.repo.index
        index.read()
        for path, oid in blobs.items():
            target = self.root / path
            if not fits_on_disk(path):
                if oid is None:
                    if path in index:
                        index.remove(path)
                else:
                    index.add(pygit2.IndexEntry(path, oid, pygit2.enums.FileMode.BLOB))
                continue
            if oid is None:
                if target.exists():
                    target.unlink()
                    _remove_empty_parents(target.parent, self.root)
                if path in index:
                    index.remove(path)
                continue
            payload = data[path] if data is not None and path in data else self._blob(oid)
            atomic_write(target, payload, durable=False)
            index.add(path)
            fault_point("worktree.file-written")
        index.write()

    def _blob(self, oid: pygit2.Oid) -> bytes:
        blob = self.repo[oid]
        assert isinstance(blob, pygit2.Blob)
        return bytes(blob.data)

    def checkout_tree(self, old: pygit2.Tree | None, new: pygit2.Tree) -> int:
        """Update only the working files that differ between ``old`` and ``new``; returns how many."""
        changes = changed_paths(self.repo, old, new)
        if len(changes) >= GIT_CHECKOUT_FROM and all(map(fits_on_disk, changes)):
            self._git_checkout(old, new, len(changes), None)
        else:
            self.update_worktree(changes)
        return len(changes)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    """Remove folders left empty by a removed file, up to (not including) the root."""
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _config_get(config: pygit2.Config, key: str) -> str | None:
    try:
        value = config[key]
    except (KeyError, pygit2.GitError):
        return None
    return str(value) if value else None


def _message(summary: str, paths: list[str], copy_id: str) -> str:
    listed = paths[:50]
    lines = [summary.strip(), ""]
    lines.extend(f"  {p}" for p in listed)
    if len(paths) > len(listed):
        lines.append(f"  ... and {len(paths) - len(listed)} more")
    lines.extend(["", f"{COPY_TRAILER}: {copy_id}", ""])
    return "\n".join(lines)
