"""Moving commits between copies: fetch and push through the git CLI.

The git CLI sends thin packs (only the changed objects, about 1 KB for a
one-record change) and runs the receiving parent's hooks, which pygit2 does
not (DESIGN section 8). Addresses are local paths, file:// or ssh:// URLs, or
http(s):// URLs of a gitsync server, whose token git's credential helper
supplies (never in the URL, so no message here can show one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from gitsync.errors import (
    Denied,
    ExitCode,
    GitsyncError,
    NotAClientFile,
    NotFound,
    Refused,
    Unreachable,
)
from gitsync.repo.gitcli import git, read_ref

SHARED_REF = "refs/heads/main"

_UNREACHABLE_HINTS = (
    "does not appear to be a git repository",
    "could not read from remote",
    "unable to access",
    "connection refused",
    "could not resolve host",
    "no such file or directory",
    "repository not found",
    "not a git repository",
    "permission denied",
    "connection timed out",
    "read-only file system",
    "unable to create temporary object directory",
    "unable to write",
    "insufficient permission",
    "the requested url returned error: 40",
    "the requested url returned error: 50",
    # the connection dropped mid-transfer (server stopped, network cut): nothing was applied
    "the remote end hung up unexpectedly",
    "rpc failed",
    "early eof",
    "failed to connect",
    "empty reply from server",
)


# A push that lost a race: the parent's shared line moved after this copy fetched.
_RACE_SIGNS = (
    "non-fast-forward",
    "fetch first",
    "[rejected]",
    "cannot lock ref",
    "but expected",
    "stale info",
)


class ParentLineGone(Refused):
    """The parent is there but its shared line (main) is not: deleted by plain git.

    Never taken for "offline": nothing can be sent until the line is back, and
    ``gitsync repair`` in a copy that knew it restores it.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(
            f"{address}: the parent's shared line (main) is gone; run `gitsync repair` "
            "to restore it from this copy"
        )


class PushRefused(GitsyncError):
    """The parent refused the push (its pre-receive hook); carries the parent's one line."""

    exit_code = ExitCode.RULE


class ParentRefused(Refused):
    """The parent refused this copy's fetch or push for the state of the hierarchy (its line)."""


class CopyAbandoned(ParentRefused):
    """This copy was abandoned at its parent: nothing it sends or asks is accepted any more."""

    def __init__(self, copy_id: str, where: str, line: str | None = None) -> None:
        self.copy_id = copy_id
        super().__init__(
            line
            or f"copy {copy_id} was abandoned at {where}; nothing it sends is accepted and it "
            "cannot leave or rejoin the hierarchy: keep its work with 'gitsync backup', then "
            "take a new copy (gitsync copy)"
        )


class FormatRefused(NotAClientFile):
    """The parent holds a newer format_version than this gitsync writes: upgrade gitsync."""


@dataclass(frozen=True)
class PushOutcome:
    accepted: bool
    behind: bool  # rejected because the parent moved on (a lost race): fetch, merge, retry
    bytes_sent: int


def local_path(address: str) -> Path | None:
    """The folder an address names when it is on this machine, else None."""
    if address.startswith("file://"):
        return Path(unquote(urlparse(address).path))
    if "://" in address or re.match(r"^[\w.-]+@[\w.-]+:", address):
        return None
    return Path(address)


def check_reachable(address: str) -> None:
    """Raise Unreachable at once for a local parent folder that is gone (no git call needed)."""
    path = local_path(address)
    if path is not None and not (path / ".git").exists() and not (path / "HEAD").exists():
        raise Unreachable(f"{address}: the parent cannot be reached (no client file there)")


# A gitsync server that refuses who you are (401; 429 after too many failed sign-ins) or what you
# may do (403, 404: a right withdrawn, a file you may no longer see): never "offline".
_SIGN_IN_REFUSED = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "the requested url returned error: 401",
    "the requested url returned error: 429",
)
_RIGHT_REFUSED = (
    "the requested url returned error: 403",
    "the requested url returned error: 404",
    "' not found",  # git: "repository 'URL/' not found"
)


def server_label(address: str) -> str:
    """The label of the known server that serves ``address`` ("LABEL" when none is known)."""
    from gitsync.config import servers

    for label, entry in sorted(servers().items()):
        url = str(entry.get("url") or "")
        if url and (address == url or address.startswith(url + "/")):
            return label
    return "LABEL"


def sign_in_again(address: str) -> Denied:
    return Denied(
        f"{address}: the server refused the sign-in; "
        f"sign in again with `gitsync login {server_label(address)}`"
    )


def no_longer_allowed(address: str) -> Denied:
    return Denied(f"{address}: you may no longer sync this file; ask an admin")


def server_denial(address: str, stderr: str) -> Denied | None:
    """The Denied a gitsync server's refusal means (from git's messages), else None."""
    if not address.startswith(("http://", "https://")):
        return None
    text = stderr.lower()
    if any(sign in text for sign in _SIGN_IN_REFUSED):
        return sign_in_again(address)
    if any(sign in text for sign in _RIGHT_REFUSED):
        return no_longer_allowed(address)
    return None


def signed_in(address: str) -> list[tuple[str, str]]:
    """The git setting that sends gitsync's token for ``address`` with the first request.

    A gitsync server redirects a renamed file's old address only after sign-in. git keeps
    a redirect as the remote's new address only when the first request meets it, not the
    retry after a 401; so the first request carries the token (from gitsync's own store,
    through the environment, never in an argument). None for other parents, or no token.
    """
    if not address.startswith(("http://", "https://")):
        return []
    import base64
    from urllib.parse import urlsplit

    from gitsync.config import servers
    from gitsync.repo.gitcli import credentials_path

    parts = urlsplit(address)
    users = [
        str(entry.get("user"))
        for entry in servers().values()
        if entry.get("user") and urlsplit(str(entry.get("url", ""))).netloc == parts.netloc
    ]
    try:
        stored = credentials_path().read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in stored:
        kept = urlsplit(line.strip())
        # git's store writes the host URL-encoded ("127.0.0.1%3a8080")
        if kept.scheme != parts.scheme or unquote(kept.netloc.rpartition("@")[2]) != parts.netloc:
            continue
        user, token = unquote(kept.username or ""), unquote(kept.password or "")
        if user in users and token:
            pair = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
            return [("http.extraHeader", f"Authorization: Basic {pair}")]
    return []


def _unreachable(stderr: str) -> bool:
    text = stderr.lower()
    return any(hint in text for hint in _UNREACHABLE_HINTS)


def _redirected_to(stderr: str) -> str | None:
    """The new address git was redirected to (a file renamed or moved on its server), or None."""
    for line in stderr.splitlines():
        if "redirecting to " in line:
            url = line.split("redirecting to ", 1)[1].strip()
            return url.split("/info/refs", 1)[0].rstrip("/")
    return None


def follow_move(repo_dir: Path, old: str, new: str) -> None:
    """A parent that answered from a new address: the copy's state and remotes name it from now
    on, so ``status`` shows where the file is (the server keeps redirecting the old one)."""
    from gitsync.config import LocalState

    state = LocalState.load(repo_dir)
    if state is None:
        return
    state.parent = new if state.parent == old else state.parent
    state.top_level = new if state.top_level == old else state.top_level
    state.ancestors = [new if a == old else a for a in state.ancestors]
    state.save(repo_dir)
    for line in git(["remote", "-v"], repo_dir).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] == old:
            git(["remote", "set-url", parts[0], new], repo_dir)


def said_to_server(address: str, copy: str | None, pending: int | None = None) -> list[str]:
    """The ``-c http.extraHeader`` options by which a copy tells a gitsync server who it is
    (and, on a push, how many changes it holds unsent); none for any other parent."""
    if copy is None or not address.startswith(("http://", "https://")):
        return []
    said = ["-c", f"http.extraHeader=X-Gitsync-Copy: {copy}"]
    if pending is not None:
        said += ["-c", f"http.extraHeader=X-Gitsync-Pending: {pending}"]
    return said


def _remote_error(stderr: str) -> str | None:
    """The one line a server refused with (git prints 'remote error: LINE'), or None."""
    for line in stderr.splitlines():
        if "remote error:" in line:
            return line.split("remote error:", 1)[1].strip()
    return None


_ABANDONED = re.compile(r"\bcopy ([A-Za-z0-9._-]+) was abandoned\b")


def _refusal(address: str, line: str) -> GitsyncError:
    """The error for a gitsync server's refusal of a ref advertisement (its ERR line).

    The server refuses in two cases only: a copy its registry marks abandoned,
    and a client older than the file's format (``format_version``, exit 3 as
    for a local file this gitsync cannot open); both are the state of the
    hierarchy, not a failure to reach it.
    """
    if "format_version" in line:
        return FormatRefused(f"{address}: {line}")
    abandoned = _ABANDONED.search(line)
    if abandoned:
        return CopyAbandoned(abandoned.group(1), address, f"{address}: {line}")
    return ParentRefused(f"{address}: {line}")


def clone_error(address: str, stderr: str) -> GitsyncError:
    """One line for a ``git clone`` that failed: not found (a server file one may not see
    looks the same as none), the parent unreachable, or refused; never git's raw text alone."""
    refused = _remote_error(stderr)
    if refused:
        return _refusal(address, refused)
    text = stderr.lower()
    if address.startswith(("http://", "https://")) and (
        "not found" in text or "returned error: 404" in text
    ):
        return NotFound(f"{address}: no such file on the server, or not one you may see")
    denied = server_denial(address, stderr)  # the sign-in refused (9)
    if denied is not None:
        return denied
    if _unreachable(stderr):
        return Unreachable(f"{address}: the parent cannot be reached ({_last_line(stderr)})")
    return GitsyncError(f"copy from {address} failed: {_last_line(stderr)}")


def fetch(
    repo_dir: Path,
    address: str,
    tracking_prefix: str,
    *,
    copy: str | None = None,
    also_into: Sequence[str] = (),
) -> tuple[dict[str, str], int]:
    """Fetch the address's branches into ``<tracking_prefix>/<branch>`` (and ``also_into``
    other prefixes, in the same fetch: the remote ``parent`` of a plain-git user).

    Returns (branch -> commit id, bytes received). The shared line ``main``
    must exist; ``work`` (the parent's own edits not yet on ``main``) is
    taken too where there is one, so a parent's change is visible below it
    at once, before the parent itself syncs.
    """
    check_reachable(address)
    known = read_ref(repo_dir, f"{tracking_prefix}/main")  # --prune drops it if main is gone
    result = git(
        [
            *said_to_server(address, copy),
            "fetch",
            "--no-tags",
            "--no-write-fetch-head",
            "--prune",
            "--progress",
            address,
            f"+refs/heads/*:{tracking_prefix}/*",
            *(f"+refs/heads/*:{prefix}/*" for prefix in also_into),
        ],
        repo_dir,
        check=False,
        config=signed_in(address),
    )
    if result.returncode != 0:
        refused = _remote_error(result.stderr)
        if refused:
            raise _refusal(address, refused)
        denied = server_denial(address, result.stderr)
        if denied is not None:
            raise denied
        if _unreachable(result.stderr):
            raise Unreachable(
                f"{address}: the parent cannot be reached ({_last_line(result.stderr)})"
            )
        raise GitsyncError(f"fetch from {address} failed: {_last_line(result.stderr)}")
    moved = _redirected_to(result.stderr)
    if moved and moved != address:
        follow_move(repo_dir, address, moved)
    heads: dict[str, str] = {}
    listing = git(["for-each-ref", "--format=%(refname) %(objectname)", tracking_prefix], repo_dir)
    for line in listing.stdout.splitlines():
        name, _, oid = line.partition(" ")
        heads[name.removeprefix(tracking_prefix + "/")] = oid
    if "main" not in heads:
        if known is None and "work" not in heads:
            raise Unreachable(
                f"{address}: not a parent of a hierarchy (it has no shared line 'main')"
            )
        if known is not None:  # the last commit this copy saw there: what repair restores
            git(["update-ref", f"{tracking_prefix}/main", known], repo_dir)
        raise ParentLineGone(address)
    return heads, _transferred(result.stderr)


def push(
    repo_dir: Path,
    address: str,
    local_ref: str,
    extra: list[str] | None = None,
    *,
    copy: str | None = None,
    pending: int | None = None,
) -> PushOutcome:
    """Push ``local_ref`` to the address's shared line, fast-forward only; never forces.

    ``extra`` refspecs (on-demand documents' content) go in the same push,
    atomically: the parent takes all of them or none.
    """
    check_reachable(address)
    atomic = ["--atomic"] if extra else []
    result = git(
        [
            *said_to_server(address, copy, pending),
            "push",
            "--porcelain",
            "--progress",
            *atomic,
            address,
            f"{local_ref}:{SHARED_REF}",
            *(extra or []),
        ],
        repo_dir,
        check=False,
        config=signed_in(address),
    )
    sent = _transferred(result.stderr)
    if result.returncode == 0:
        return PushOutcome(True, False, sent)
    text = result.stdout + result.stderr
    if any(sign in text for sign in _RACE_SIGNS):
        return PushOutcome(False, True, sent)
    refusal = _hook_refusal(text)
    if refusal:
        raise PushRefused(f"the parent refused the change: {refusal}")
    denied = server_denial(address, result.stderr)
    if denied is not None:
        raise denied
    if _unreachable(result.stderr):
        raise Unreachable(f"{address}: the parent cannot be reached ({_last_line(result.stderr)})")
    raise GitsyncError(f"push to {address} failed: {_last_line(result.stderr)}")


def _hook_refusal(stderr: str) -> str | None:
    for line in stderr.splitlines():
        stripped = line.removeprefix("remote:").strip()
        if stripped.startswith("gitsync:"):
            return stripped.removeprefix("gitsync:").strip()
    if "hook declined" in stderr:
        return "declined by the parent's pre-receive hook"
    if "pack exceeds maximum allowed size" in stderr:
        return "the push is larger than the server takes (max_push_bytes in its server.yaml)"
    return None


_BYTES = re.compile(r"([\d.]+) (bytes|KiB|MiB|GiB)")


def _transferred(stderr: str) -> int:
    """Bytes moved, from git's progress lines ("Writing objects: ... 1.23 KiB"), 0 when unknown."""
    found = 0
    scale = {"bytes": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
    for line in stderr.replace("\r", "\n").splitlines():
        if "objects:" in line and "|" in line:
            match = _BYTES.search(line.split("|", 1)[0])
            if match:
                found = max(found, int(float(match.group(1)) * scale[match.group(2)]))
    return found


def _last_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no message"
