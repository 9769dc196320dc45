"""A document changed in two copies: one current version everywhere, one conflict, resolvable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Hierarchy


def _ok(result: Any) -> Any:
    assert result.code == 0, (result.stdout, result.stderr)
    return result


def _current(where: Path, gitsync: Callable[..., Any], doc_id: str, tmp: Path) -> tuple[str, ...]:
    """(record's sha256, working file's sha256, ``doc get``'s sha256) in one copy."""
    record = json.loads((where / f"documents/{doc_id}.json").read_text(encoding="utf-8"))
    working = (where / f"documents/{doc_id}/letter.txt").read_bytes()
    out = tmp / f"got-{where.name}"
    _ok(gitsync("doc", "get", "letter.txt", "--to", out, cwd=where))
    got = out.read_bytes()
    return (
        record["sha256"],
        hashlib.sha256(working).hexdigest(),
        hashlib.sha256(got).hexdigest(),
    )


@pytest.mark.parametrize("order", ["a-first", "b-first"])
def test_doc_get_returns_the_current_version_after_a_content_conflict(
    hierarchy: Hierarchy, gitsync: Callable[..., Any], tmp_path: Path, order: str
) -> None:
    """Issue 8, item 3: ``doc get`` wrote the losing version."""
    h = hierarchy
    source = tmp_path / "letter.txt"
    source.write_text("first draft\n", encoding="utf-8")
    added = _ok(gitsync("doc", "add", source, "--json", cwd=h.a)).json()
    for where in (h.a, h.b):
        h.sync(where)
    first, second = (h.a, h.b) if order == "a-first" else (h.b, h.a)
    for where, text in ((first, "first copy's letter\n"), (second, "second copy's letter\n")):
        source.write_text(text, encoding="utf-8")
        _ok(gitsync("doc", "update", "letter.txt", source, cwd=where))
    for where in (h.a, h.b, h.a, h.b):
        h.sync(where)
    _ok(gitsync("sync", cwd=h.top))
    seen = {where: _current(where, gitsync, added["id"], tmp_path) for where in (h.a, h.b, h.top)}
    later = hashlib.sha256(b"second copy's letter\n").hexdigest()
    for where, shas in seen.items():
        assert shas == (later, later, later), where

    conflicts = _ok(gitsync("conflicts", "--json", cwd=h.top)).json()["conflicts"]
    [conflict] = [c for c in conflicts if c["record"] == f"documents/{added['id']}.json"]
    assert conflict["rule"] == "document-content"  # one conflict: sha256 and size together
    earlier = hashlib.sha256(b"first copy's letter\n").hexdigest()
    pick = next(i for i, v in enumerate(conflict["values"], 1) if v["value"]["sha256"] == earlier)
    _ok(gitsync("conflicts", "resolve", conflict["id"], "--take", pick, cwd=h.top))
    assert _current(h.top, gitsync, added["id"], tmp_path) == (earlier, earlier, earlier)
    for where in (h.a, h.b):
        h.sync(where)
        assert _current(where, gitsync, added["id"], tmp_path) == (earlier, earlier, earlier)
