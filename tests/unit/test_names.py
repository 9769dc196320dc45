"""Names measured in bytes (``gitsync.model.names``)."""

from __future__ import annotations

import pytest

from gitsync.model.names import (
    NAME_BYTES_MAX,
    component_problem,
    fits_on_disk,
    name_size_problem,
    shortened,
    text_problem,
    utf8_size,
)


@pytest.mark.parametrize(
    "name",
    ["😀" * 100, "報" * 90 + ".docx", "e\u0301" * 150 + ".pdf", "a" * 300, "Ж" * 120 + ".x" * 40],
)
def test_a_shortened_name_fits_keeps_its_extension_and_splits_no_character(name: str) -> None:
    short = shortened(name)
    assert utf8_size(short) <= NAME_BYTES_MAX
    assert name_size_problem(short, "a name") is None
    assert "\ufffd" not in short
    stem, dot, extension = name.rpartition(".")
    if dot and stem and utf8_size(extension) <= 16:
        assert short.endswith("…." + extension)
    else:
        assert short.endswith("…")


def test_a_name_that_fits_is_not_touched() -> None:
    name = "😀" * 48 + ".docx"  # 197 bytes
    assert shortened(name) == name
    assert name_size_problem(name, "a document name") is None
    assert "has 201 bytes in 201 characters" in (name_size_problem("a" * 201, "x") or "")


def test_what_fits_on_disk_counts_the_lock_suffix() -> None:
    assert fits_on_disk("documents/abc/" + "a" * 250)
    assert not fits_on_disk("documents/abc/" + "a" * 251)  # 251 + ".lock" > 255
    assert not fits_on_disk("documents/abc/" + "😀" * 63)  # 252 bytes


def test_path_components_and_text() -> None:
    assert component_problem("a" * 200) is None
    assert "at most 200 bytes" in (component_problem("a" * 201) or "")
    assert "valid UTF-8" in (component_problem("bad\udcff") or "")
    assert "control characters" in (component_problem("a\nb") or "")
    assert text_problem("Montréal", "city", 100) is None
    assert "U+202E" in (text_problem("abc\u202e", "city", 100) or "")
    assert "U+0000" in (text_problem("a\x00", "city", 100) or "")
    assert "at most 100 characters (this one has 5,000)" in (
        text_problem("x" * 5000, "city", 100) or ""
    )
