"""``gitsync.repo.content``: the store of on-demand content, and fetching one blob."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from gitsync.errors import GitsyncError, Unreachable
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.content import (
    blob_bytes,
    blob_id,
    fetch_blob_into,
    has_blob,
    keep_blob,
    write_stored_blob,
)


def fetch_blob(repo: pygit2.Repository, addresses: list[str], oid: str) -> bytes:
    """``fetch_blob_into`` a buffer that holds a line already: the blob must follow it."""
    buffer = io.BytesIO()
    buffer.write(b"before\n")
    fetch_blob_into(repo, addresses, oid, buffer)
    assert buffer.getvalue().startswith(b"before\n")
    return buffer.getvalue()[len(b"before\n") :]


def _loose(repo_dir: Path, oid: str) -> Path:
    return repo_dir / ".git" / "objects" / oid[:2] / oid[2:]


def test_a_stored_blob_is_a_pack_of_gits_own_without_deflate(
    client_file: Callable[..., Path],
) -> None:
    root = client_file()
    cf = ClientFile.open(root)
    data = os.urandom(300_000)
    packs = set((root / ".git" / "objects" / "pack").glob("*.pack"))
    oid = write_stored_blob(cf.repo, data)
    assert oid == blob_id(data)
    assert not _loose(root, oid).exists()
    (new_pack,) = set((root / ".git" / "objects" / "pack").glob("*.pack")) - packs
    assert new_pack.stat().st_size > len(data)  # stored: no smaller than the bytes themselves
    shown = subprocess.run(
        ["git", "cat-file", "blob", oid], cwd=root, capture_output=True, check=True
    ).stdout
    assert shown == data
    assert (
        subprocess.run(["git", "fsck", "--strict"], cwd=root, capture_output=True).returncode == 0
    )
    assert write_stored_blob(cf.repo, data) == oid  # held already: no second pack
    assert len(set((root / ".git" / "objects" / "pack").glob("*.pack")) - packs) == 1


def test_has_blob_tells_a_blob_from_other_objects_and_from_nothing(
    client_file: Callable[..., Path],
) -> None:
    cf = ClientFile.open(client_file())
    oid = write_stored_blob(cf.repo, b"scan")
    head = cf.head_commit()
    assert head is not None
    assert has_blob(cf.repo, oid)
    assert not has_blob(cf.repo, str(head.id))  # a commit is not a blob
    assert not has_blob(cf.repo, str(head.tree_id))
    assert not has_blob(cf.repo, blob_id(b"never written"))
    assert blob_bytes(cf.repo, oid) == b"scan"


def test_fetch_from_a_local_folder_keeps_the_blob_here(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    parent = ClientFile.open(client_file())
    data = os.urandom(50_000)
    _sha, oid = keep_blob(parent.repo, data)
    here = ClientFile.open(client_file(name="here"))
    empty = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    # the first address lacks it, the second holds it
    assert fetch_blob(here.repo, [str(empty), str(parent.root)], oid) == data
    assert has_blob(here.repo, oid)
    assert fetch_blob(here.repo, [], oid) == data  # held here now: no address asked
    # the parent's pack of that one blob is shared, not sent through git's transport
    shared = [
        p
        for p in (here.root / ".git" / "objects" / "pack").glob("*.pack")
        if (parent.root / ".git" / "objects" / "pack" / p.name).exists()
    ]
    assert len(shared) == 1
    assert (
        shared[0].stat().st_ino
        == (parent.root / ".git/objects/pack" / shared[0].name).stat().st_ino
    )


def test_fetch_from_a_repacked_local_folder_goes_through_git(
    client_file: Callable[..., Path],
) -> None:
    parent = ClientFile.open(client_file())
    data = os.urandom(50_000)
    _sha, oid = keep_blob(parent.repo, data)
    subprocess.run(["git", "gc", "--quiet"], cwd=parent.root, check=True)
    here = ClientFile.open(client_file(name="here"))
    packs = set((here.root / ".git" / "objects" / "pack").glob("*.pack"))
    assert fetch_blob(here.repo, [str(parent.root)], oid) == data
    fetched = set((here.root / ".git" / "objects" / "pack").glob("*.pack")) - packs
    assert fetched and not any(
        (parent.root / ".git" / "objects" / "pack" / p.name).exists() for p in fetched
    )


def test_fetch_names_the_addresses_that_lack_it_or_cannot_be_reached(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    here = ClientFile.open(client_file())
    empty = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    gone = tmp_path / "gone"
    oid = blob_id(b"nowhere")
    with pytest.raises(GitsyncError, match=f"not held by {empty}"):
        fetch_blob(here.repo, [str(empty), str(gone)], oid)
    with pytest.raises(Unreachable, match="cannot be reached"):
        fetch_blob(here.repo, [str(gone)], oid)


def test_a_damaged_object_at_a_local_folder_is_not_taken(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    parent_root = client_file()
    data = b"the real content" * 1000
    oid = blob_id(data)
    loose = _loose(parent_root, oid)  # an object file under the oid, holding other bytes
    loose.parent.mkdir(parents=True, exist_ok=True)
    loose.write_bytes(zlib.compress(b"blob %d\0" % len(data) + b"X" * len(data)))
    here = ClientFile.open(client_file(name="other"))
    with pytest.raises(GitsyncError, match="not held by"):
        fetch_blob(here.repo, [str(parent_root)], oid)
    assert not has_blob(here.repo, oid)


def test_a_damaged_pack_at_a_local_folder_is_not_put_here(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    damaged_root = client_file()
    damaged_parent = ClientFile.open(damaged_root)
    data = os.urandom(50_000)
    packs = set((damaged_root / ".git" / "objects" / "pack").glob("*.pack"))
    _sha, oid = keep_blob(damaged_parent.repo, data)
    (pack,) = set((damaged_root / ".git" / "objects" / "pack").glob("*.pack")) - packs
    pack.chmod(0o644)
    damaged = bytearray(pack.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one byte inside the stored blob
    pack.write_bytes(bytes(damaged))
    good = ClientFile.open(client_file(name="good"))
    keep_blob(good.repo, data)
    here = ClientFile.open(client_file(name="here"))
    before = set((here.root / ".git" / "objects" / "pack").glob("pack-*"))
    with pytest.raises(GitsyncError, match="not held by"):
        fetch_blob(here.repo, [str(damaged_root)], oid)
    # (git fetch's failed index-pack may leave a tmp_pack_* of its own, which gc removes)
    assert set((here.root / ".git" / "objects" / "pack").glob("pack-*")) == before
    assert not has_blob(ClientFile.open(here.root).repo, oid)
    # the next address up the route answers, in the same process
    assert fetch_blob(here.repo, [str(damaged_root), str(good.root)], oid) == data


def test_hundreds_of_stored_contents_read_within_a_small_file_handle_limit(
    client_file: Callable[..., Path],
) -> None:
    """Each content is a pack of its own, and libgit2 keeps packs open: the bound holds."""
    root = client_file()
    cf = ClientFile.open(root)
    oids = [write_stored_blob(cf.repo, os.urandom(64) + b"%d" % n) for n in range(160)]
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (96, 96))\n"
        "from gitsync.repo.clientfile import ClientFile\n"
        "from gitsync.repo.content import blob_bytes\n"
        "repo = ClientFile.open(sys.argv[1]).repo\n"
        "print(sum(len(blob_bytes(repo, oid)) > 0 for oid in sys.argv[2:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(root), *oids], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.strip() == str(len(oids))


def test_a_malformed_blob_id_is_refused_in_one_error(client_file: Callable[..., Path]) -> None:
    parent = ClientFile.open(client_file())
    here = ClientFile.open(client_file(name="here"))
    with pytest.raises(GitsyncError, match="not held by"):
        fetch_blob(here.repo, [str(parent.root)], "not-a-blob-id")


def test_a_one_object_pack_is_read_as_git_wrote_it_and_a_truncated_one_is_not_taken(
    client_file: Callable[..., Path], tmp_path: Path
) -> None:
    """``_stream_one_blob`` reads the pack itself (zlib), so it must agree with git on every
    size header, check what it wrote, and give up with nothing written, not raise, on a pack
    cut short or a content of other bytes."""
    import hashlib
    import io

    from gitsync.repo.content import _stream_one_blob

    cf = ClientFile.open(client_file())
    pack_dir = cf.root / ".git" / "objects" / "pack"
    for size in (0, 15, 16, 2047, 2048, 3_000_000):  # size headers of 1 to 4 bytes; 3 pieces
        data = os.urandom(size)
        before = set(pack_dir.glob("*.pack"))
        oid = write_stored_blob(cf.repo, data)
        (pack,) = set(pack_dir.glob("*.pack")) - before
        for sha256 in (None, hashlib.sha256(data).hexdigest()):
            out = io.BytesIO()
            assert _stream_one_blob(pack, oid, out, sha256)
            assert out.getvalue() == data
    out = io.BytesIO(b"kept")
    out.seek(0, io.SEEK_END)
    assert not _stream_one_blob(pack, oid, out, "0" * 64)  # the record names other content
    assert out.getvalue() == b"kept"  # what was there before stays, and nothing after it
    assert not _stream_one_blob(pack, "0" * 40, out, None)
    cut = tmp_path / "cut.pack"
    cut.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    assert not _stream_one_blob(cut, oid, out, None)
    assert out.getvalue() == b"kept"
    (tmp_path / "empty.pack").write_bytes(b"")
    assert not _stream_one_blob(tmp_path / "empty.pack", oid, out, None)


def test_content_that_is_not_what_the_record_says_is_refused_naming_the_document(
    client_file: Callable[..., Path],
) -> None:
    from gitsync.documents.behaviour import write_content
    from gitsync.repo.content import ContentMismatch

    cf = ClientFile.open(client_file())
    _sha, oid = keep_blob(cf.repo, os.urandom(5_000))
    out = io.BytesIO()
    with pytest.raises(ContentMismatch, match=r"document 'scan\.pdf': content .* sha256 0{12}"):
        write_content(cf, {"name": "scan.pdf"}, oid, "0" * 64, out)
    assert out.getvalue() == b""
