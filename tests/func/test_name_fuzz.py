"""Fuzz: no legal-looking document name, in any script, ever makes a command exit 74.

Each name is drawn from characters of 1 to 4 bytes in UTF-8 (Latin, accented
Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari, Thai, CJK, Hangul,
emoji), up to 120 characters, with or without an extension. Each one is
either refused by the rules with exit 4 before any commit, or works end to
end: added, committed, synced to the parent, and placed by a new copy.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Result
from tests.helpers import git_out

# (first, last) code points of each script drawn from; the last column is the UTF-8 size.
SCRIPTS = [
    (0x61, 0x7A),  # a-z, 1 byte
    (0x30, 0x39),  # digits, 1 byte
    (0xE0, 0xFF),  # accented Latin, 2 bytes
    (0x3B1, 0x3C9),  # Greek, 2 bytes
    (0x430, 0x44F),  # Cyrillic, 2 bytes
    (0x5D0, 0x5EA),  # Hebrew, 2 bytes
    (0x627, 0x64A),  # Arabic, 2 bytes
    (0x915, 0x939),  # Devanagari, 3 bytes
    (0xE01, 0xE2E),  # Thai, 3 bytes
    (0x4E00, 0x4FFF),  # CJK, 3 bytes
    (0xAC00, 0xAD00),  # Hangul, 3 bytes
    (0x1F600, 0x1F64F),  # emoji, 4 bytes
]

characters = st.one_of(
    *(st.integers(first, last).map(chr) for first, last in SCRIPTS), st.just(" ")
)
names = st.tuples(
    st.lists(characters, min_size=1, max_size=120).map("".join),
    st.sampled_from(["", ".docx", ".pdf", ".xlsx"]),
).map(lambda parts: unicodedata.normalize("NFC", parts[0].strip() or "x") + parts[1])


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=names)
@example(name="😀" * 100)  # the names found: 400 bytes
@example(name="報" * 90 + ".docx")  # and 275 bytes
def test_no_name_freezes_a_copy(
    name: str,
    client_file: Callable[..., Path],
    gitsync: Callable[..., Result],
    tmp_path: Path,
) -> None:
    top = tmp_path / "top"
    if not top.exists():
        top = client_file("top")
        assert gitsync("copy", top, tmp_path / "a").code == 0
    a = tmp_path / "a"
    source = tmp_path / "content.bin"
    source.write_bytes(name.encode("utf-8"))
    head = git_out(a, "rev-parse", "HEAD").strip()

    added = gitsync("doc", "add", source, "--name", name, "--json", cwd=a)
    assert added.code in (0, 4), (name, added.code, added.stderr)
    if added.code == 4:
        assert "(rule: " in added.stderr
        assert git_out(a, "rev-parse", "HEAD").strip() == head
    for command in (("status",), ("sync",), ("check",)):
        done = gitsync(*command, cwd=a)
        assert done.code == 0, (name, command, done.stdout, done.stderr)
    if added.code != 0:
        return
    doc_id = added.json()["id"]  # type: ignore[index]
    fresh = tmp_path / f"copy-{doc_id}"
    taken = gitsync("copy", top, fresh)
    assert taken.code == 0, (name, taken.stderr)
    assert (fresh / "documents" / doc_id / name).read_bytes() == name.encode("utf-8")
    assert gitsync("status", cwd=fresh).code == 0
