"""The git command line: transport and whatever must behave like a user's git.

Pushes go through the git CLI so that the parent's hooks run (pygit2 runs no
hooks on a local push; DESIGN section 8).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitsync.errors import GitsyncError
from gitsync.model.names import fits_on_disk


class GitFailed(GitsyncError):
    """A git command failed; carries its stderr."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        self.args_ = args
        self.returncode = returncode
        self.stderr = stderr
        last = next((ln for ln in reversed(stderr.strip().splitlines()) if ln.strip()), "")
        super().__init__(f"git {args[0]} failed: {last or f'exit {returncode}'}")


@dataclass
class GitResult:
    returncode: int
    stdout: str
    stderr: str


def git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    env["LC_ALL"] = "C"
    for key, value in gitsync_config():
        add_config(env, key, value)
    return env


def gitsync_config() -> list[tuple[str, str]]:
    """The settings every git command gitsync runs carries (never written to a git config).

    A server learns this gitsync's format version from ``X-Gitsync-Format``,
    so it can refuse a client older than a converted file. Server tokens are
    kept by git's ``store`` helper in gitsync's own file (``credentials_path``),
    added after the user's helpers: ``gitsync login`` writes no git config.
    """
    from gitsync.model.version import FORMAT_VERSION

    return [
        ("http.extraHeader", f"X-Gitsync-Format: {FORMAT_VERSION}"),
        ("credential.helper", f"store --file={shlex.quote(str(credentials_path()))}"),
    ]


def credentials_path() -> Path:
    """Where gitsync keeps server tokens (git's ``store`` format, mode 0600)."""
    from gitsync.config import user_config_path

    return user_config_path().parent / "credentials"


def add_config(env: dict[str, str], key: str, value: str) -> None:
    """Add one ``-c key=value`` through git's GIT_CONFIG_COUNT variables, after any there are."""
    count = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    env[f"GIT_CONFIG_KEY_{count}"] = key
    env[f"GIT_CONFIG_VALUE_{count}"] = value
    env["GIT_CONFIG_COUNT"] = str(count + 1)


def git(
    args: list[str],
    cwd: Path | str | None = None,
    *,
    check: bool = True,
    input: str | None = None,
    config: list[tuple[str, str]] | None = None,
) -> GitResult:
    """Run ``git args`` in ``cwd``; raise GitFailed on a non-zero exit when ``check``.

    ``config`` goes to git through its environment, never its arguments (which any
    user of the machine can read): for a sign-in header.
    """
    env = git_env()
    for key, value in config or ():
        add_config(env, key, value)
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        encoding="utf-8",
        errors="surrogateescape",
        env=env,
        input=input,
        check=False,
    )
    if check and proc.returncode != 0:
        raise GitFailed(args, proc.returncode, proc.stderr)
    return GitResult(proc.returncode, proc.stdout, proc.stderr)


def git_feed(args: list[str], data: bytes, cwd: Path | str | None = None) -> str:
    """Run ``git args`` with ``data`` on its standard input; its output as text.

    For binary input (a document's bytes to ``fast-import``), which ``git``
    passes as text.
    """
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=data, capture_output=True, env=git_env(), check=False
    )
    stderr = proc.stderr.decode("utf-8", "surrogateescape")
    if proc.returncode != 0:
        raise GitFailed(args, proc.returncode, stderr)
    return proc.stdout.decode("utf-8", "surrogateescape")


def _git_dir(root: Path) -> Path | None:
    folder = root / ".git"
    return folder if folder.is_dir() else None


def read_ref(root: Path, name: str) -> str | None:
    """The commit id a ref holds, read from its file (no git process), or None."""
    git_dir = _git_dir(root)
    if git_dir is None:  # a linked .git file: let git resolve it
        found = git(["rev-parse", "-q", "--verify", name], root, check=False)
        return found.stdout.strip() or None
    try:
        text = (git_dir / name).read_text(encoding="ascii").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        text = ""
    except OSError:
        return None
    if text.startswith("ref: "):
        return read_ref(root, text[5:].strip())
    if text:
        return text
    try:
        packed = (git_dir / "packed-refs").read_text(encoding="ascii")
    except OSError:
        return None
    for line in packed.splitlines():
        oid, _, ref = line.partition(" ")
        if ref == name:
            return oid
    return None


#: A status handed on by the light path to the full command in the same process
#: (``hand_on``): root -> (what the index and HEAD were, the changes).
_handed: dict[Path, tuple[tuple[object, ...], dict[str, str]]] = {}


def _index_and_head(root: Path) -> tuple[object, ...]:
    """What must not have moved for a status to still hold: the index's stat and HEAD's commit."""
    try:
        index = (root / ".git" / "index").stat()
    except OSError:
        return ()
    return (index.st_ino, index.st_size, index.st_mtime_ns, read_ref(root, "HEAD"))


def drop_handed() -> None:
    """Forget a status handed on and not taken (the command that was to take it is over)."""
    _handed.clear()


def working_file_changes(root: Path, skip_prefix: str, *, hand_on: bool = False) -> dict[str, str]:
    """Working files that differ from HEAD: path -> "new", "modified" or "deleted".

    Asks git itself: its status (with the untracked cache) is several times
    faster than libgit2's on a large file, and needs no pygit2 import.
    Paths under ``skip_prefix`` (the copy's own ``_Sync/``) are left out.

    ``hand_on``: the light path (``gitsync.sync.idle``) found work and hands
    the command line its status, so the full sync it goes to does not run
    ``git status`` a second time (27 ms at 10,000 records, 240 ms at 100,000).
    The next call for ``root`` takes it once, if the index and HEAD are as they
    were; any write by gitsync or git since (a commit, a merge, ``git add``)
    changes the index, and that call asks git again.
    """
    handed = _handed.pop(root, None)
    if handed is not None and handed[0] == _index_and_head(root) and handed[0]:
        return {path: kind for path, kind in handed[1].items() if not path.startswith(skip_prefix)}
    result = git(
        [
            "-c",
            "core.quotepath=off",
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--no-renames",
        ],
        root,
    )
    found: dict[str, str] = {}
    for item in result.stdout.split("\0"):
        if len(item) < 4:
            continue
        code, path = item[:2], item[3:]
        if path.startswith(skip_prefix) or not fits_on_disk(path):
            continue  # a name too long for the disk is never a working file (``repair``)
        if "D" in code:
            found[path] = "deleted"
        elif code in ("??", "A ", "AM"):
            found[path] = "new"
        else:
            found[path] = "modified"
    if hand_on and found:
        _handed[root] = (_index_and_head(root), dict(found))  # after status refreshed the index
    return found
