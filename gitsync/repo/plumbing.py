"""Reading a repository with git plumbing alone: for hooks, which must start without pygit2.

A hook pays Python's start-up on every commit and push, and importing
pygit2 alone costs about 110 ms (DESIGN section 8). Here the objects come
from one ``git cat-file --batch`` process and the differences from
``git diff-tree`` / ``git diff-index``, so the hook imports nothing beyond
the standard library and gitsync's own rules. git finds the repository, the
index and, during pre-receive, the quarantined objects of the push from the
environment it gives the hook (GIT_DIR, GIT_INDEX_FILE,
GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from gitsync.errors import GitsyncError
from gitsync.model.view import RecordView

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
TREE_MODE = b"40000"


def run_git(
    args: list[str], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """``git args`` in ``cwd`` (with ``env``, else this process's); its output, or GitsyncError."""
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        last = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise GitsyncError(f"git {args[0]} failed: {last[0] or f'exit {proc.returncode}'}")
    return proc.stdout


class ObjectReader:
    """One ``git cat-file --batch`` process: objects by id or by any revision expression."""

    def __init__(self, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=cwd,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._trees: dict[str, dict[bytes, tuple[bytes, str]]] = {}

    def read(self, spec: str) -> tuple[str, str, bytes] | None:
        """(object id, type, content) of ``spec`` (an id, ``<rev>^{tree}``, ...), or None."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        if "\n" in spec:
            return None
        self._proc.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline()
        parts = header.split()
        if len(parts) != 3:
            if not header:
                raise GitsyncError("git cat-file stopped answering")
            return None  # "<spec> missing" or "ambiguous"
        oid, kind, size = parts
        data = self._proc.stdout.read(int(size))
        self._proc.stdout.read(1)  # the newline after the content
        return oid.decode("ascii"), kind.decode("ascii"), data

    def parsed(self, oid: str) -> dict[bytes, tuple[bytes, str]] | None:
        """The entries of tree ``oid`` when ``tree`` has already parsed it, else None."""
        return self._trees.get(oid)

    def tree(self, oid: str) -> dict[bytes, tuple[bytes, str]]:
        """A tree's entries, name -> (mode, id), parsed once per tree."""
        if oid not in self._trees:
            found = self.read(oid)
            entries: dict[bytes, tuple[bytes, str]] = {}
            if found is not None and found[1] == "tree":
                data, pos = found[2], 0
                while pos < len(data):
                    space = data.index(b" ", pos)
                    nul = data.index(b"\0", space)
                    entries[data[space + 1 : nul]] = (
                        data[pos:space],
                        data[nul + 1 : nul + 21].hex(),
                    )
                    pos = nul + 21
            self._trees[oid] = entries
        return self._trees[oid]

    def git(self, args: list[str]) -> bytes:
        """``git args`` in the same repository and environment as the reader."""
        return run_git(args, self.cwd, self.env)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PlumbingSnapshot(RecordView):
    """The records of tree ``tree`` (None: empty), overlaid by ``changes``, less ``removed``."""

    def __init__(
        self,
        reader: ObjectReader,
        tree: str | None,
        changes: Mapping[str, bytes] | None = None,
        removed: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(changes)
        self.reader = reader
        self.tree = tree
        self.removed = removed
        self._git_dir: Path | None = None

    def _folder(self, folder: str) -> dict[bytes, tuple[bytes, str]]:
        if self.tree is None:
            return {}
        entries = self.reader.tree(self.tree)
        for part in folder.split("/") if folder else []:
            found = entries.get(part.encode("utf-8", "surrogateescape"))
            if found is None or found[0] != TREE_MODE:
                return {}
            entries = self.reader.tree(found[1])
        return entries

    def _stored(self, path: str) -> bytes | None:
        if path in self.removed or self.tree is None:
            return None
        folder, _, name = path.rpartition("/")
        folder_oid = self._folder_oid(folder)
        if folder_oid is None:
            return None
        entries = self.reader.parsed(folder_oid)
        if entries is None:
            # A folder not listed yet: git finds the one name in C, where parsing a folder
            # of 10,000 records in Python to find it costs about 200 ms. A folder that is
            # listed (a rule reading all of it) is looked up in its parsed entries.
            blob = self.reader.read(f"{folder_oid}:{name}")
        else:
            found = entries.get(name.encode("utf-8", "surrogateescape"))
            if found is None or found[0] == TREE_MODE:
                return None
            blob = self.reader.read(found[1])
        return blob[2] if blob is not None and blob[1] == "blob" else None

    def _folder_oid(self, folder: str) -> str | None:
        if self.tree is None:
            return None
        oid = self.tree
        for part in folder.split("/") if folder else []:
            found = self.reader.tree(oid).get(part.encode("utf-8", "surrogateescape"))
            if found is None or found[0] != TREE_MODE:
                return None
            oid = found[1]
        return oid

    def _stored_names(self, folder: str) -> list[str]:
        prefix = f"{folder}/" if folder else ""
        return [
            text
            for name, (mode, _) in self._folder(folder).items()
            if mode != TREE_MODE
            and f"{prefix}{(text := name.decode('utf-8', 'surrogateescape'))}" not in self.removed
        ]

    def folder_id(self, folder: str) -> str | None:
        return None if self.removed else self._folder_oid(folder)

    def folder_changes(self, folder: str, since: str) -> list[str] | None:
        mine = self.folder_id(folder)
        if mine is None:
            return None
        try:
            listing = self.reader.git(["diff-tree", "-r", "-z", "--name-only", since, mine])
        except GitsyncError:
            return None
        prefix = f"{folder}/" if folder else ""
        return [
            f"{prefix}{p.decode('utf-8', 'surrogateescape')}" for p in listing.split(b"\0") if p
        ]

    def cache_dir(self) -> Path | None:
        if self._git_dir is None:
            self._git_dir = Path(
                self.reader.git(["rev-parse", "--absolute-git-dir"]).decode().strip()
            )
        return self._git_dir

    def _stored_paths(self) -> set[str]:
        if self.tree is None:
            return set()
        listing = self.reader.git(["ls-tree", "-r", "-z", "--name-only", self.tree])
        paths = {p.decode("utf-8", "surrogateescape") for p in listing.split(b"\0") if p}
        return paths - self.removed


def raw_changes(output: bytes) -> dict[str, tuple[str, str]]:
    """Path -> (old id, new id) from ``git diff-tree -r -z`` / ``git diff-index -z`` output.

    A zero id means absent (added or removed).
    """
    result: dict[str, tuple[str, str]] = {}
    fields = output.split(b"\0")
    i = 0
    while i + 1 < len(fields):
        meta = fields[i].decode("ascii")
        if not meta.startswith(":"):
            i += 1
            continue
        _old_mode, _new_mode, old, new, _status = meta[1:].split(" ")
        result[fields[i + 1].decode("utf-8", "surrogateescape")] = (old, new)
        i += 2
    return result


def is_zero(oid: str) -> bool:
    return set(oid) == {"0"}
