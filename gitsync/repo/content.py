"""Content of on-demand documents: one content ref, incoming refs, one-blob fetches.

DESIGN section 9. An on-demand document's content is a git blob that no
commit of the shared line holds. A repository keeps the blobs it holds alive
with one ref, ``refs/gitsync/content``: a parentless commit whose tree maps
each content's sha256 to its blob. A copy sends new content up with the
sync's own push, atomically, as ``refs/gitsync/incoming/<sha256>``; the
receiving parent checks the sha256 (pre-receive) and folds those refs into
its content ref. A copy fetches one blob by its oid, trying each address up
the route, and keeps it in its own content ref so gc keeps it.

Working files of on-demand and Never documents are untracked and listed in
``.git/info/exclude`` (a block of our own), so git never sees them.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import shutil
import threading
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import pygit2

from gitsync.errors import ExitCode, GitsyncError, Unreachable
from gitsync.faults import fault_point
from gitsync.repo.gitcli import git, git_feed
from gitsync.repo.transport import check_reachable, local_path

CONTENT_REF = "refs/gitsync/content"
INCOMING_PREFIX = "refs/gitsync/incoming/"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE = ("gitsync", "gitsync@gitsync.invalid")
EXCLUDE_BEGIN = "# gitsync: documents kept outside git (on demand, never) - begin"
EXCLUDE_END = "# gitsync: documents kept outside git - end"
MAX_ROUNDS = 20


class ContentMismatch(GitsyncError):
    """Content whose bytes do not have the sha256 it was sent or recorded under."""

    exit_code = ExitCode.RULE


def is_sha256(text: str) -> bool:
    return bool(_SHA256.match(text))


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob_id(data: bytes) -> str:
    """The git id ``data`` gets as a blob (what ``git hash-object`` prints), nothing written."""
    digest = _blob_hash(len(data))
    digest.update(data)  # not header + data: that would copy 20 MB to hash it
    return digest.hexdigest()


def _blob_hash(size: int) -> hashlib._Hash:
    """A SHA-1 fed git's blob header for ``size`` bytes: feed it the bytes for the blob id."""
    return hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)


def _naming_hash(size: int, oid: str, sha256: str | None) -> tuple[hashlib._Hash, str]:
    """The hash that names a content of ``size`` bytes and the name it must give: the
    record's sha256 when the caller knows it, else the blob id.

    The record's sha256 was taken of the same bytes as its blob id, so either
    one check is enough: one hash of 20 MB, not two.
    """
    return (hashlib.sha256(), sha256) if sha256 is not None else (_blob_hash(size), oid)


def has_blob(repo: pygit2.Repository, oid: str | pygit2.Oid) -> bool:
    """True when ``repo`` holds the blob; reads its header only, never its bytes.

    (``oid in repo`` and ``repo.get`` inflate the whole object: 90 ms for a 20 MB scan.)
    """
    try:
        kind, _size = repo.odb.read_header(
            oid if isinstance(oid, pygit2.Oid) else pygit2.Oid(hex=oid)
        )
    except (KeyError, ValueError, pygit2.GitError):
        return False
    return bool(kind == pygit2.enums.ObjectType.BLOB)


#: libgit2's errors when a stored object cannot be inflated: the object is damaged.
_DAMAGED = ("inflate", "data check", "zlib", "corrupt", "truncated", "invalid", "hash mismatch")
_STRICT_LOCK = threading.Lock()


def blob_bytes(repo: pygit2.Repository, oid: str, sha256: str | None = None) -> bytes:
    """The bytes of a blob, inflated once and checked against its oid, or against
    ``sha256`` when the caller knows it (a document's record: one hash of 20 MB, not two).

    Raises ContentMismatch when the object is damaged, GitsyncError when it is
    not held here. libgit2 checks each object it reads with its
    collision-detecting SHA-1: 100 ms for a 20 MB scan, where hashlib's SHA-1
    takes 12 ms. So libgit2's check is off for this one read and ``blob_id``
    checks instead (documents' callers then check the record's sha256 too).
    The switch is libgit2's, for the whole process: a lock keeps two threads
    from interleaving it. Any other libgit2 failure (out of file handles, say)
    is raised as it is, never taken for damage.
    """
    strict = pygit2.enums.Option.ENABLE_STRICT_HASH_VERIFICATION
    with _STRICT_LOCK:
        pygit2.option(strict, 0)
        try:
            _kind, data = repo.odb.read(pygit2.Oid(hex=oid))
        except KeyError:
            raise GitsyncError(f"content {oid[:12]} is not held here") from None
        except pygit2.GitError as err:
            if not any(sign in str(err).lower() for sign in _DAMAGED):
                raise
            data = b""  # unreadable: damaged
        finally:
            pygit2.option(strict, 1)  # libgit2's default
    if not _is_content(data, oid, sha256):
        kept = f"the recorded sha256 {sha256[:12]}" if sha256 is not None else "its id"
        raise ContentMismatch(f"content {oid[:12]}: the bytes held here do not have {kept}")
    return bytes(data)


def _is_content(data: bytes, oid: str, sha256: str | None) -> bool:
    """True when ``data`` is the content named (``_naming_hash``)."""
    digest, name = _naming_hash(len(data), oid, sha256)
    digest.update(data)
    return digest.hexdigest() == name


def write_stored_blob(repo: pygit2.Repository, data: bytes) -> str:
    """Write ``data`` as a blob in a pack of its own, stored without deflate; returns its oid.

    Documents are scans and office files, already compressed: deflating 20 MB
    of them at git's default level takes 0.44 s and saves nothing. git writes
    the pack (``fast-import`` at ``pack.compression=0``, kept as a pack even
    for one object: ``fastimport.unpackLimit=0``), so the format is git's own.
    Stored in a pack, the bytes are reused as they are by every later
    ``git gc``, push and fetch (git recompresses a packed object only when
    asked, with ``repack -F``), where a loose object would be deflated again by
    each of them.
    """
    oid = blob_id(data)
    if has_blob(repo, oid):
        return oid
    stream = b"blob\ndata %d\n" % len(data) + data + b"\n"
    settings = ["-c", "pack.compression=0", "-c", "fastimport.unpackLimit=0"]
    git_feed([*settings, "--git-dir", str(repo.path), "fast-import", "--quiet"], data=stream)
    return oid


def content_map(repo: pygit2.Repository) -> dict[str, str]:
    """sha256 -> blob oid of every content this repository keeps."""
    try:
        commit = repo.references[CONTENT_REF].peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        return {}
    return {entry.name: str(entry.id) for entry in commit.tree if entry.name is not None}


def _ref_target(repo: pygit2.Repository, name: str) -> str | None:
    try:
        target = repo.references[name].target
    except KeyError:
        return None
    return str(target) if isinstance(target, pygit2.Oid) else None


def update_content(
    repo: pygit2.Repository,
    add: Mapping[str, str] | None = None,
    remove: Iterable[str] = (),
) -> dict[str, str]:
    """Add (sha256 -> blob) and remove entries of the content ref; compare-and-swap, retried."""
    add = dict(add or {})
    gone = set(remove)
    workdir = Path(repo.path)
    for _ in range(MAX_ROUNDS):
        old = _ref_target(repo, CONTENT_REF)
        current = content_map(repo)
        wanted = {k: v for k, v in {**current, **add}.items() if k not in gone}
        if wanted == current and old is not None:
            return current
        builder = repo.TreeBuilder()
        for sha, blob in sorted(wanted.items()):
            builder.insert(sha, pygit2.Oid(hex=blob), pygit2.enums.FileMode.BLOB)
        sig = pygit2.Signature(*_SIGNATURE, time=0, offset=0)
        message = f"Content kept here: {len(wanted)} document version(s)\n"
        commit = repo.create_commit(None, sig, sig, message, builder.write(), [])
        result = git(
            ["--git-dir", str(workdir), "update-ref", CONTENT_REF, str(commit), old or "0" * 40],
            workdir,
            check=False,
        )
        if result.returncode == 0:
            return wanted
    raise GitsyncError("the content ref kept changing; run the command again")


def keep_blob(repo: pygit2.Repository, data: bytes) -> tuple[str, str]:
    """Write ``data`` as a blob and keep it in the content ref; returns (sha256, blob oid)."""
    sha = sha256_of(data)
    oid = write_stored_blob(repo, data)
    update_content(repo, {sha: oid})
    return sha, oid


def fold_incoming(repo: pygit2.Repository) -> int:
    """Fold every ``refs/gitsync/incoming/<sha256>`` into the content ref, then delete them.

    Run by the receiving parent after a push, and by any command that syncs
    it (a crash between the two leaves incoming refs that the next one folds).
    """
    incoming: dict[str, str] = {}
    for name in list(repo.references):
        if name.startswith(INCOMING_PREFIX):
            target = _ref_target(repo, name)
            sha = name.removeprefix(INCOMING_PREFIX)
            if target is not None and is_sha256(sha) and has_blob(repo, target):
                incoming[sha] = target
    if not incoming:
        return 0
    update_content(repo, incoming)
    fault_point("content.folded")
    workdir = Path(repo.path)
    lines = "".join(f"delete {INCOMING_PREFIX}{sha} {oid}\n" for sha, oid in incoming.items())
    git(["--git-dir", str(workdir), "update-ref", "--stdin"], workdir, input=lines, check=False)
    return len(incoming)


def fold_incoming_at(folder: Path) -> int:
    """``fold_incoming`` for the repository at ``folder`` (a bare one on a server, too)."""
    return fold_incoming(pygit2.Repository(str(folder)))


def content_batches(
    repo: pygit2.Repository, skip: Iterable[str] = (), limit: int = 64 * 1024 * 1024
) -> list[list[str]]:
    """Push refspecs sending every content kept here as incoming refs, in batches of ``limit`` bytes.

    ``skip`` names the sha256 the receiver already holds as incoming refs (a
    publish that resumes). A batch holds one content at least, whatever its size.
    """
    known = set(skip)
    batches: list[list[str]] = []
    size = 0
    for sha, oid in sorted(content_map(repo).items()):
        if sha in known or not has_blob(repo, oid):
            continue
        length = repo.odb.read_header(pygit2.Oid(hex=oid))[1]
        if not batches or (size + length > limit and batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(f"{oid}:{INCOMING_PREFIX}{sha}")
        size += length
    return batches


def holds_content(folder: Path) -> bool:
    """True when the repository at ``folder`` keeps on-demand content (a content or incoming ref)."""
    result = git(["for-each-ref", "--count=1", "refs/gitsync/"], folder, check=False)
    return result.returncode != 0 or bool(result.stdout.strip())


def incoming_refspecs(blobs: Mapping[str, str]) -> list[str]:
    """Push refspecs sending each (sha256 -> blob) as an incoming content ref."""
    return [f"{oid}:{INCOMING_PREFIX}{sha}" for sha, oid in sorted(blobs.items())]


def fetch_blob_into(
    repo: pygit2.Repository,
    addresses: Iterable[str],
    oid: str,
    out: BinaryIO,
    sha256: str | None = None,
) -> None:
    """Write one blob's bytes into ``out``, fetched by its oid from the first address that has
    it, and checked as ``blob_bytes`` checks (by ``sha256`` when given).

    The blob is kept in ``repo`` too. From a local folder that holds the blob
    in a pack of its own, that pack is shared (``_take_pack``); otherwise the
    address is asked with ``git fetch <address> <oid>``. A blob in a pack of
    its own is streamed into ``out`` a megabyte at a time, never held whole.

    Raises Unreachable when no address could be reached, GitsyncError when
    those reached do not hold it.
    """
    if has_blob(repo, oid):
        _write_held(repo, oid, out, sha256)
        return
    workdir = Path(repo.workdir or repo.path)
    unreachable: list[str] = []
    missing: list[str] = []
    for address in addresses:
        try:
            check_reachable(address)
        except Unreachable:
            unreachable.append(address)
            continue
        folder = local_path(address)
        if folder is not None and _take_pack(folder, repo, oid, out, sha256):
            fault_point("content.fetched")
            return
        result = git(
            ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", address, oid],
            workdir,
            check=False,
        )
        fault_point("content.fetched")
        if result.returncode == 0 and has_blob(repo, oid):
            _write_held(repo, oid, out, sha256)
            return
        text = result.stderr.lower()
        if "not our ref" in text or "upload-pack" in text or "no such remote ref" in text:
            missing.append(address)
        elif any(h in text for h in ("could not read", "does not appear", "unable to access")):
            unreachable.append(address)
        else:
            missing.append(address)
    if missing:
        raise GitsyncError(
            f"content {oid[:12]} is not held by {', '.join(missing)}"
            + (f" (and {', '.join(unreachable)} cannot be reached)" if unreachable else "")
        )
    raise Unreachable(
        "the content needs the parent, which cannot be reached"
        + (f" ({', '.join(unreachable)})" if unreachable else " (working offline)")
    )


def _write_held(repo: pygit2.Repository, oid: str, out: BinaryIO, sha256: str | None) -> None:
    """Write a blob held here into ``out``: streamed from its own pack when it has one."""
    own = _one_object_index(_pack_folder(Path(repo.path)), oid)
    if own is None or not _stream_one_blob(own.with_suffix(".pack"), oid, out, sha256):
        out.write(blob_bytes(repo, oid, sha256))  # a pack of more objects, or loose


def _pack_folder(repo_dir: Path) -> Path:
    """The pack folder of the repository at ``repo_dir`` (a working folder, or a git folder)."""
    inside = repo_dir / ".git" / "objects" / "pack"
    return inside if inside.is_dir() else repo_dir / "objects" / "pack"


def _take_pack(
    folder: Path, repo: pygit2.Repository, oid: str, out: BinaryIO, sha256: str | None
) -> bool:
    """Write the blob into ``out`` from its pack (holding just it) at the local client file at
    ``folder``, and share that pack into ``repo``; False, ``out`` as it was, when there is no
    such pack there, or it is damaged.

    Each on-demand content is written as a pack of its own (``write_stored_blob``),
    and packs never change once written, so a local parent's pack can be shared as
    it is, as ``git clone`` of a local path shares all of them: no transfer, no
    index-pack. Once the parent repacks, its content sits in bigger packs and
    ``git fetch`` takes over. The blob is streamed from the pack file and checked
    before the pack is shared, so a damaged pack is never put here. The pack goes
    in before its index, so a kill between the two leaves a pack git ignores and
    the next ``doc get`` replaces.
    """
    start = out.tell()
    idx = _one_object_index(_pack_folder(folder), oid)
    if idx is None or not _stream_one_blob(idx.with_suffix(".pack"), oid, out, sha256):
        return False
    target = _pack_folder(Path(repo.path))
    shared: list[Path] = []
    try:
        for suffix in (".pack", ".idx"):
            dest = target / f"{idx.stem}{suffix}"
            if _share(idx.with_suffix(suffix), dest):
                shared.append(dest)
    except OSError:
        for dest in reversed(shared):  # the parent repacked meanwhile: leave no stray pack
            dest.unlink(missing_ok=True)
    if has_blob(repo, oid):
        return True
    _back_to(out, start)
    return False


_BLOB = 3  # the object type "blob" in a pack entry's header (gitformat-pack)
_STEP = 1 << 20


def _stream_one_blob(pack: Path, oid: str, out: BinaryIO, sha256: str | None) -> bool:
    """Write the blob a pack of one object holds into ``out``, checked as ``blob_bytes``
    checks; False, ``out`` as it was, when the pack holds no blob or is damaged.

    Read here, mapped, with zlib, a megabyte at a time, rather than through
    libgit2, which takes twice as long to inflate 20 MB stored without deflate
    and holds all of it. The entry's header gives its type and size, and its
    zlib stream runs to the pack's closing checksum.
    """
    start = out.tell()
    try:
        with (
            pack.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
            memoryview(mapped) as view,
        ):
            done = _inflate_entry(view, oid, out, sha256)
    except (OSError, ValueError):  # ValueError: an empty file cannot be mapped
        done = False
    if not done:
        _back_to(out, start)
    return done


def _inflate_entry(pack: memoryview, oid: str, out: BinaryIO, sha256: str | None) -> bool:
    if pack[:4].tobytes() != b"PACK":
        return False
    try:
        pos = 12  # "PACK", version, object count
        byte = pack[pos]
        kind, size, shift = (byte >> 4) & 7, byte & 15, 4
        while byte & 0x80:
            pos += 1
            byte = pack[pos]
            size |= (byte & 0x7F) << shift
            shift += 7
        if kind != _BLOB:
            return False
        digest, name = _naming_hash(size, oid, sha256)
        inflate = zlib.decompressobj()
        written = 0
        with pack[pos + 1 : -20] as stream:
            for start in range(0, len(stream), _STEP):
                with stream[start : start + _STEP] as piece:
                    chunk = inflate.decompress(piece)
                digest.update(chunk)
                out.write(chunk)
                written += len(chunk)
        chunk = inflate.flush()
        digest.update(chunk)
        out.write(chunk)
        written += len(chunk)
    except (IndexError, zlib.error):
        return False
    return inflate.eof and written == size and digest.hexdigest() == name


def _back_to(out: BinaryIO, start: int) -> None:
    """Take back what was written into ``out`` after ``start``."""
    out.seek(start)
    out.truncate()


#: The size of a pack index (version 2) of one object: header, fan-out, one name, its
#: CRC and offset, the two checksums (gitformat-pack).
_ONE_OBJECT_IDX = 8 + 256 * 4 + 20 + 4 + 4 + 20 + 20


def _one_object_index(folder: Path, oid: str) -> Path | None:
    """The index in the pack folder ``folder`` of a pack that holds ``oid`` alone, if any."""
    try:
        name = bytes.fromhex(oid)
    except ValueError:
        return None  # not an object id (a hand-edited record): git fetch names the problem
    try:
        indexes = list(folder.glob("pack-*.idx"))
    except OSError:
        return None
    for idx in indexes:
        try:
            if idx.stat().st_size != _ONE_OBJECT_IDX:
                continue
            with idx.open("rb") as handle:
                head = handle.read(8 + 256 * 4 + 20)
        except OSError:
            continue
        if head[:8] == b"\377tOc\0\0\0\2" and head[-20:] == name:
            return idx
    return None


def _share(source: Path, dest: Path) -> bool:
    """Put ``source`` at ``dest``, hard-linked where the file system allows, else copied
    and made durable; False when ``dest`` was there already."""
    if dest.exists():
        return False
    temporary = dest.with_name(f"tmp_{dest.name}")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:
        shutil.copyfile(source, temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
    os.replace(temporary, dest)
    return True


# --- .git/info/exclude ----------------------------------------------------------------


def _exclude_file(repo: pygit2.Repository) -> Path:
    return Path(repo.path) / "info" / "exclude"


def _pattern(path: str) -> str:
    escaped = re.sub(r"([\\*?\[\]!# ])", r"\\\1", path)
    return "/" + escaped


def excluded_paths(repo: pygit2.Repository) -> list[str]:
    """The patterns of our block in ``.git/info/exclude``."""
    target = _exclude_file(repo)
    if not target.exists():
        return []
    inside, found = False, []
    for line in target.read_text(encoding="utf-8").splitlines():
        if line == EXCLUDE_BEGIN:
            inside = True
        elif line == EXCLUDE_END:
            inside = False
        elif inside and line:
            found.append(line)
    return found


def set_excluded(repo: pygit2.Repository, paths: Iterable[str]) -> None:
    """Make our block of ``.git/info/exclude`` list exactly ``paths`` (other lines are kept)."""
    from gitsync.fs import atomic_write

    wanted = sorted({_pattern(p) for p in paths})
    if wanted == sorted(excluded_paths(repo)):
        return
    target = _exclude_file(repo)
    kept: list[str] = []
    if target.exists():
        inside = False
        for line in target.read_text(encoding="utf-8").splitlines():
            if line == EXCLUDE_BEGIN:
                inside = True
            elif line == EXCLUDE_END:
                inside = False
            elif not inside:
                kept.append(line)
    block = [EXCLUDE_BEGIN, *wanted, EXCLUDE_END] if wanted else []
    target.parent.mkdir(exist_ok=True)
    atomic_write(target, ("\n".join(kept + block) + "\n").encode("utf-8"), durable=False)


def blobs_to_send(
    repo: pygit2.Repository, head: pygit2.Oid, since: pygit2.Oid | None
) -> dict[str, str]:
    """sha256 -> blob of the on-demand content named by the commits after ``since`` and held here.

    Every version counts, not only the last, so nothing is lost upstream.
    """
    from gitsync.model import canonical
    from gitsync.model.records import KINDS, document_sync

    walker = repo.walk(head, pygit2.enums.SortMode.NONE)
    if since is not None:
        walker.hide(since)
    folder = KINDS["document"].folder
    found: dict[str, str] = {}
    seen: set[str] = set()

    def subtree(tree: pygit2.Tree) -> pygit2.Tree | None:
        try:
            sub = tree[folder]
        except KeyError:
            return None
        return sub if isinstance(sub, pygit2.Tree) else None

    def entries(tree: pygit2.Tree) -> dict[str, str]:
        sub = subtree(tree)
        if sub is None:
            return {}
        return {str(e.name): str(e.id) for e in sub if e.type_str == "blob" and e.name}

    for commit in walker:
        mine = subtree(commit.tree)
        if mine is None or any(
            (theirs := subtree(p.tree)) is not None and theirs.id == mine.id for p in commit.parents
        ):
            continue  # no document record changed in this commit
        before: set[str] = set()
        for parent in commit.parents:
            before.update(entries(parent.tree).values())
        for name, oid in entries(commit.tree).items():
            if oid in before or oid in seen or not name.endswith(".json"):
                continue
            seen.add(oid)
            record = canonical.loads(repo[oid].read_raw(), f"{folder}/{name}")
            blob = record.get("blob")
            if blob and document_sync(record) == "on-demand" and has_blob(repo, blob):
                found[str(record["sha256"])] = str(blob)
    return found


def blob_at(repo: pygit2.Repository, commit_id: str, path: str) -> str | None:
    """The blob id at ``path`` in a commit, or None."""
    commit = repo.get(commit_id)
    if not isinstance(commit, pygit2.Commit):
        return None
    try:
        entry = commit.tree[path]
    except KeyError:
        return None
    return str(entry.id) if entry.type_str == "blob" else None


def commit_on(
    repo: pygit2.Repository,
    base: pygit2.Oid,
    changes: Mapping[str, bytes],
    message: str,
    signature: pygit2.Signature,
    copy_id: str,
) -> pygit2.Oid:
    """A commit of ``changes`` on top of ``base`` that no branch points to yet (for a direct push)."""
    from gitsync.repo.clientfile import COPY_TRAILER, build_tree

    parent = repo[base]
    assert isinstance(parent, pygit2.Commit)
    blobs: dict[str, pygit2.Oid | None] = {p: repo.create_blob(d) for p, d in changes.items()}
    tree = build_tree(repo, parent.tree, blobs)
    body = message.rstrip("\n") + f"\n\n{COPY_TRAILER}: {copy_id}\n"
    commit: pygit2.Oid = repo.create_commit(None, signature, signature, body, tree, [base])
    return commit
