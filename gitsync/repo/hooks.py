"""Install gitsync's hooks and merge driver into a repository.

Hooks are installed from ``gitsync/resources/hook-tmpl``: a small script that runs
``python -m gitsync hook <name>`` with the interpreter that installed it. A
marker line recognises our own hooks; a foreign hook is kept aside as
``<name>.legacy`` and still runs first (see ``gitsync.rules.hooks``). They go
where git looks for them: ``core.hooksPath`` when it is set, else
``<git dir>/hooks``.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pygit2

MARKER = "gitsync-hook-v1"
HOOK_NAMES = ("pre-commit", "pre-receive", "post-merge")
ATTRIBUTES = (
    "*.json merge=gitsync\ndocuments/*/* merge=binary -diff\ndocuments/*.json merge=gitsync\n"
)


def hook_workdir(cwd: Path | None = None) -> Path | None:
    """The work folder of the repository a hook runs in (None when bare), as git's environment says.

    FROM_ENV honours GIT_DIR, GIT_OBJECT_DIRECTORY and
    GIT_ALTERNATE_OBJECT_DIRECTORIES.
    """
    import pygit2
    from pygit2.enums import RepositoryOpenFlag

    from gitsync.errors import GitsyncError

    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        # pygit2 opens nothing without a path; libgit2 ignores GIT_DIR once given
        # one, so hand it GIT_DIR (or the folder git runs the hook in) ourselves.
        start = os.environ.get("GIT_DIR") or "."
        repo = pygit2.Repository(start, RepositoryOpenFlag.FROM_ENV)
    except pygit2.GitError as err:
        raise GitsyncError(f"{cwd or previous}: no git repository for the hook ({err})") from None
    finally:
        if cwd is not None:
            os.chdir(previous)
    return None if repo.workdir is None else Path(repo.workdir)


def _hook_text(name: str) -> str:
    from gitsync.resources import hook_template

    return hook_template().replace("@PYTHON@", sys.executable).replace("@HOOK@", name)


def hooks_dir(repo: pygit2.Repository) -> Path:
    """Where git runs this repository's hooks from: ``core.hooksPath`` if set, else ``.git/hooks``.

    A relative ``core.hooksPath`` is relative to the folder git runs hooks in:
    the top of the working tree, or the git dir of a bare repository.
    """
    try:
        configured = str(repo.config["core.hooksPath"])
    except (KeyError, ValueError):
        configured = ""
    if not configured:
        return Path(repo.path) / "hooks"
    path = Path(configured).expanduser()
    if not path.is_absolute():
        path = Path(repo.path if repo.is_bare else (repo.workdir or repo.path)) / path
    return path


#: What git itself refuses on any push into a parent, hook or no hook: deleting a branch,
#: and a branch update that is not a fast-forward. The shared line only moves forward and is
#: never deleted (``gitsync.rules.refs`` is the whole policy, with the refusal lines).
RECEIVE_GUARDS = {"receive.denyDeletes": "true", "receive.denyNonFastForwards": "true"}


def guard_shared_line(repo: pygit2.Repository) -> list[str]:
    """Set ``RECEIVE_GUARDS`` on a parent (every client file may become one); what changed."""
    changed: list[str] = []
    for key, value in RECEIVE_GUARDS.items():
        try:
            current = repo.config[key]
        except KeyError:
            current = None
        if current != value:
            repo.config[key] = value
            changed.append(f"set {key}")
    return changed


def guard_shared_line_at(folder: Path) -> list[str]:
    """``guard_shared_line`` on the repository at ``folder`` (a local parent); what changed."""
    import pygit2

    try:
        repo = pygit2.Repository(str(folder))
    except pygit2.GitError:
        return []
    return guard_shared_line(repo)


#: The hooks ``git receive-pack`` runs besides pre-receive.
RECEIVE_HOOKS = ("update", "post-receive", "post-update", "reference-transaction")


def receives_through_gitsync_alone(repo: pygit2.Repository) -> bool:
    """True when a push into ``repo`` runs gitsync's pre-receive and nothing else of anyone's.

    Then a change that passed the same rules may be put on the shared line
    without the push. A foreign hook kept as ``pre-receive.legacy``, a hook a
    push runs besides (``update``, ``post-receive`` ...) or
    ``receive.fsckObjects`` each ask for the real push.
    """
    import pygit2

    folder = hooks_dir(repo)
    try:
        ours = (folder / "pre-receive").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if MARKER not in ours or (folder / "pre-receive.legacy").exists():
        return False
    if any((folder / name).exists() for name in RECEIVE_HOOKS):
        return False
    for key in ("receive.fsckObjects", "transfer.fsckObjects"):
        try:
            if repo.config.get_bool(key):
                return False
        except (KeyError, ValueError, pygit2.GitError):
            continue
    return True


def _merge_driver() -> str:
    """git's command for the record merge: the relay to one resident merge server per user.

    The relay (``gitsync/resources/merge-relay``) falls back to
    ``python -m gitsync merge-driver`` by itself, so the line works without curl too.
    """
    from gitsync.resources import merge_relay, merge_socket

    parts = [merge_relay(), sys.executable, str(merge_socket(sys.executable))]
    return "/bin/sh " + " ".join(shlex.quote(p) for p in parts) + " %O %A %B %P"


def git_settings() -> dict[str, str]:
    """The git settings every client file carries (``install_hooks`` writes them)."""
    return {
        "merge.gitsync.name": "gitsync record merge",
        "merge.gitsync.driver": _merge_driver(),
        "merge.gitsync.recursive": "binary",
        "core.quotepath": "false",
        "core.untrackedCache": "true",
        # Documents (DESIGN section 9): big blobs are not delta-compressed, a pushed or
        # fetched document stays one pack, and one content blob can be fetched by its oid.
        "core.bigFileThreshold": "1m",
        "receive.unpackLimit": "1",
        "fetch.unpackLimit": "1",
        "uploadpack.allowReachableSHA1InWant": "true",
        "uploadpack.allowAnySHA1InWant": "true",
        # `git pull parent main` merges (through the record merge driver): git 2.27+
        # refuses a pull with divergent lines until told how to reconcile them.
        "pull.rebase": "false",
        # every client file may become a parent: its shared line only moves forward
        **RECEIVE_GUARDS,
    }


def hook_is_current(repo: pygit2.Repository, name: str) -> bool:
    """True when hook ``name`` is gitsync's, as this gitsync installs it."""
    try:
        current = (hooks_dir(repo) / name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return current == _hook_text(name)


def install_hooks(repo: pygit2.Repository) -> list[str]:
    """Install (or refresh) every gitsync hook and the merge driver; returns what changed.

    Idempotent: running it twice changes nothing the second time.
    """
    changed: list[str] = []
    folder = hooks_dir(repo)
    folder.mkdir(parents=True, exist_ok=True)
    for name in HOOK_NAMES:
        target = folder / name
        text = _hook_text(name)
        if target.exists():
            current = target.read_text(encoding="utf-8", errors="replace")
            if current == text:
                continue
            if MARKER not in current:
                target.replace(folder / f"{name}.legacy")
                changed.append(f"kept {name} aside as {name}.legacy")
        target.write_text(text, encoding="utf-8")
        os.chmod(target, 0o755)
        changed.append(f"installed {name}")
    config = repo.config
    wanted = git_settings()
    for key, value in wanted.items():
        try:
            current_value = config[key]
        except KeyError:
            current_value = None
        if current_value != value:
            config[key] = value
            changed.append(f"set {key}")
    if repo.is_bare:
        attributes = Path(repo.path) / "info" / "attributes"
        if not attributes.exists() or attributes.read_text(encoding="utf-8") != ATTRIBUTES:
            attributes.parent.mkdir(exist_ok=True)
            attributes.write_text(ATTRIBUTES, encoding="utf-8")
            changed.append("wrote info/attributes")
    return changed
