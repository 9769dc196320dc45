"""Names are limited in bytes, so no name can freeze a copy (``gitsync.model.names``).

A name of 100 four-byte characters passed the 100-character rule, was
committed, and then failed on disk ("File name too long"): every command of
that copy exited 74, and a plain-git push spread it to every other copy.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result
from tests.helpers import Hierarchy, git, git_out

EMOJI_NAME = "😀" * 100  # 100 characters, 400 bytes
CJK_NAME = "報" * 90 + ".docx"  # 95 characters, 275 bytes


def _head(where: Path) -> str:
    return git_out(where, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("name", [EMOJI_NAME, CJK_NAME], ids=["emoji", "cjk"])
def test_a_name_too_long_in_bytes_is_refused_before_any_commit(
    hierarchy: Hierarchy, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "letter.docx"
    source.write_bytes(b"engagement letter")
    before = _head(hierarchy.a)
    added = hierarchy.run(hierarchy.a, "doc", "add", source, "--name", name)
    assert added.code == 4, added.stderr
    assert "at most 200 bytes in UTF-8" in added.stderr
    assert "(rule: document-name)" in added.stderr
    assert _head(hierarchy.a) == before
    assert hierarchy.run(hierarchy.a, "status").code == 0


def test_the_longest_name_that_fits_works_end_to_end(hierarchy: Hierarchy, tmp_path: Path) -> None:
    name = "😀" * 48 + ".docx"  # 197 bytes
    source = tmp_path / "letter.docx"
    source.write_bytes(b"engagement letter")
    assert hierarchy.run(hierarchy.a, "doc", "add", source, "--name", name).code == 0
    hierarchy.sync(hierarchy.a)
    hierarchy.sync(hierarchy.b)
    found = list((hierarchy.b / "documents").glob(f"*/{name}"))
    assert [p.read_bytes() for p in found] == [b"engagement letter"]


def _blob(where: Path, data: bytes) -> str:
    found = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=where,
        input=data,
        capture_output=True,
        check=True,
    )
    return found.stdout.decode("ascii").strip()


def _document(name: str, content: bytes, doc_id: str = "0123456789ab") -> dict[str, object]:
    return {
        "id": doc_id,
        "name": name,
        "folder": None,
        "kind": "other",
        "sync_mode": "sync",
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }


def _stage_plain(where: Path, name: str, content: bytes = b"letter") -> None:
    """Stage a document with git plumbing, as a plain-git user can (the name never touches disk)."""
    from gitsync.model import canonical

    record = _document(name, content)
    for path, data in (
        (f"documents/{record['id']}.json", canonical.dumps(record)),
        (f"documents/{record['id']}/{name}", content),
    ):
        git(where, "update-index", "--add", "--cacheinfo", f"100644,{_blob(where, data)},{path}")


def test_pre_commit_refuses_the_name_and_the_parent_refuses_a_push_of_it(
    hierarchy: Hierarchy,
) -> None:
    a = hierarchy.a
    hierarchy.sync(a)  # level with the parent: a push that is refused is refused by the rules
    _stage_plain(a, EMOJI_NAME)
    refused = git(a, "commit", "-q", "-m", "Add a letter", check=False)
    assert refused.returncode == 1
    assert "(rule: document-name)" in refused.stderr and "200 bytes" in refused.stderr
    git(a, "commit", "--no-verify", "-q", "-m", "Add a letter with plain git")
    parent_main = git_out(hierarchy.top, "rev-parse", "main").strip()
    pushed = git(a, "push", "parent", "HEAD:main", check=False)
    assert pushed.returncode != 0
    assert "(rule: document-name)" in pushed.stderr, pushed.stderr
    assert git_out(hierarchy.top, "rev-parse", "main").strip() == parent_main
    checked = hierarchy.run(a, "check")
    assert checked.code == 4 and "(rule: document-name)" in checked.stdout + checked.stderr


def test_a_name_committed_before_the_rule_freezes_no_copy_and_repair_renames_it(
    hierarchy: Hierarchy, gitsync: Callable[..., Result], tmp_path: Path
) -> None:
    from gitsync.model import canonical
    from gitsync.repo.clientfile import ClientFile

    # Committed at the top-level parent by a gitsync without the rule (no checker), onto
    # the shared line: it reached every copy.
    hierarchy.sync(hierarchy.top)
    top = ClientFile.open(hierarchy.top)
    # stamped by its writer, as every gitsync command stamps what it writes
    record = dict(_document(EMOJI_NAME, b"letter"), modified=top.identity().modified())
    top.commit(
        {
            "documents/0123456789ab.json": canonical.dumps(record),
            f"documents/0123456789ab/{EMOJI_NAME}": b"letter",
        },
        "Add a letter (before the rule on names in bytes)",
    )
    for copy in (hierarchy.a, hierarchy.b):
        synced = hierarchy.run(copy, "sync")
        assert synced.code == 0, synced.stderr
        assert hierarchy.run(copy, "status").code == 0
    fresh = gitsync("copy", hierarchy.top, tmp_path / "fresh")
    assert fresh.code == 0, fresh.stderr
    assert gitsync("status", cwd=tmp_path / "fresh").code == 0
    checked = hierarchy.run(hierarchy.b, "check")
    assert checked.code == 4 and "(rule: document-name)" in checked.stdout
    assert hierarchy.run(hierarchy.b, "doc", "list").code == 0
    got = hierarchy.run(hierarchy.b, "doc", "get", "0123456789ab")
    assert got.code == 4 and "'gitsync repair' gives it a name that fits" in got.stderr
    out = tmp_path / "versions"
    out.mkdir()
    kept = hierarchy.run(hierarchy.b, "doc", "get", "0123456789ab", "--version", "1", "--to", out)
    assert kept.code == 0, kept.stderr
    assert [p.read_bytes() for p in out.iterdir()] == [b"letter"]

    repaired = hierarchy.run(hierarchy.b, "repair", "--json")
    assert repaired.code == 0, repaired.stderr
    report = json.loads(repaired.stdout)
    fixes = [f for f in report["drift_fixed"] if f["record"] == "documents/0123456789ab.json"]
    assert len(fixes) == 1 and "400 bytes did not fit on disk" in fixes[0]["fix"]
    assert report["violations"] == []
    hierarchy.sync(hierarchy.b)
    hierarchy.sync(hierarchy.a)
    for copy in (hierarchy.a, hierarchy.b):
        placed = [p.name for p in (copy / "documents" / "0123456789ab").iterdir()]
        assert len(placed) == 1 and placed[0].endswith("…"), placed
        assert len(placed[0].encode()) <= 200
        assert (copy / "documents" / "0123456789ab" / placed[0]).read_bytes() == b"letter"
        assert hierarchy.run(copy, "check").code == 0
    assert hierarchy.run(hierarchy.top, "check").code == 0
