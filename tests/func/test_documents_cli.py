"""``gitsync folder`` and ``gitsync doc`` on real client files, Cyrillic and Chinese names too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result
from tests.helpers import git_out

Run = Callable[..., Result]


def _ok(result: Result) -> Any:
    assert result.code == 0, result.stderr
    return result.json()


@pytest.mark.parametrize(
    ("folder_name", "doc_name"),
    [("Планирование", "Отчёт аудитора.txt"), ("审计计划", "审计报告.pdf")],
)
def test_unicode_names_end_to_end(
    gitsync: Run,
    client_file: Callable[..., Path],
    clean_tree: Callable[[Path], None],
    tmp_path: Path,
    folder_name: str,
    doc_name: str,
) -> None:
    cf = client_file()
    folder = _ok(gitsync("folder", "add", folder_name, "--json", cwd=cf))
    source = tmp_path / doc_name
    source.write_bytes("первая версия / 第一版\n".encode())
    added = _ok(gitsync("doc", "add", source, "--folder", folder_name, "--json", cwd=cf))
    assert added["name"] == doc_name and added["folder"] == folder["id"]
    assert (cf / "documents" / added["id"] / doc_name).read_bytes() == source.read_bytes()

    listed = _ok(gitsync("doc", "list", "--json", cwd=cf))
    assert [d["name"] for d in listed] == [doc_name]

    source.write_bytes("вторая версия / 第二版\n".encode())
    _ok(gitsync("doc", "update", doc_name, source, "--json", cwd=cf))
    versions = _ok(gitsync("doc", "versions", doc_name, "--json", cwd=cf))
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["author"] == "auditor" and versions[0]["copy"]

    out = tmp_path / "old"
    out.mkdir()
    _ok(gitsync("doc", "get", doc_name, "--version", "1", "--to", out, "--json", cwd=cf))
    assert (out / doc_name).read_text(encoding="utf-8") == "первая версия / 第一版\n"

    clean_tree(cf)
    assert f"documents/{added['id']}/{doc_name}" in git_out(cf, "log", "--name-only", "--format=")
    assert folder_name in git_out(cf, "show", f"HEAD:folders/{folder['id']}.json")


def test_folder_add_prints_the_new_id(gitsync: Run, client_file: Callable[..., Path]) -> None:
    cf = client_file()
    result = gitsync("folder", "add", "Planning", cwd=cf)
    assert result.code == 0, result.stderr
    folder_id = result.stdout.strip()
    child = _ok(
        gitsync("folder", "add", "Risk assessment", "--parent", folder_id, "--json", cwd=cf)
    )
    assert child["parent"] == folder_id
    names = {f["name"] for f in _ok(gitsync("folder", "list", "--json", cwd=cf))}
    assert names == {"Planning", "Risk assessment"}


def test_move_remove_and_kinds(
    gitsync: Run,
    client_file: Callable[..., Path],
    clean_tree: Callable[[Path], None],
    tmp_path: Path,
) -> None:
    cf = client_file()
    _ok(gitsync("folder", "add", "Planning", "--json", cwd=cf))
    _ok(gitsync("folder", "add", "Completion", "--json", cwd=cf))
    sheet = tmp_path / "lead.xlsx"
    sheet.write_bytes(b"PK\x03\x04 not really a workbook")
    doc = _ok(gitsync("doc", "add", sheet, "--folder", "Planning", "--json", cwd=cf))
    assert doc["kind"] == "excel"
    other = _ok(
        gitsync(
            "doc", "add", sheet, "--name", "Engagement letter", "--kind", "word", "--json", cwd=cf
        )
    )
    assert other["kind"] == "word" and other["folder"] is None

    moved = _ok(gitsync("doc", "move", "lead.xlsx", "--folder", "Completion", "--json", cwd=cf))
    folders = {f["name"]: f["id"] for f in _ok(gitsync("folder", "list", "--json", cwd=cf))}
    assert moved["folder"] == folders["Completion"]

    removed = _ok(gitsync("doc", "remove", doc["id"], "--json", cwd=cf))
    assert removed["deleted"] is True
    assert [d["name"] for d in _ok(gitsync("doc", "list", "--json", cwd=cf))] == [
        "Engagement letter"
    ]
    # No delete reached git: the content file is still tracked.
    assert f"documents/{doc['id']}/lead.xlsx" in git_out(cf, "ls-files")
    statuses = [
        line.split("\t")[0]
        for line in git_out(cf, "log", "--name-status", "--format=").splitlines()
        if line
    ]
    assert "D" not in statuses and "M" in statuses
    # The removed document's versions stay in the history and retrievable.
    assert git_out(cf, "log", "--format=%s", "--", f"documents/{doc['id']}/lead.xlsx").strip()
    assert len(_ok(gitsync("doc", "versions", doc["id"], "--json", cwd=cf))) == 1
    _ok(gitsync("doc", "get", doc["id"], "--to", tmp_path / "back.xlsx", "--json", cwd=cf))
    assert (tmp_path / "back.xlsx").read_bytes() == sheet.read_bytes()
    clean_tree(cf)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--name", "_private.txt"], 4, "must not start with an underscore (rule: document-name)"),
        (["--name", "x" * 101], 4, "at most 100 characters"),
        (["--folder", "Nowhere"], 5, "no folder with id or name 'Nowhere'"),
        (["--kind", "spreadsheet"], 2, "not a document kind"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    gitsync: Run,
    client_file: Callable[..., Path],
    tmp_path: Path,
    args: list[str],
    code: int,
    message: str,
) -> None:
    cf = client_file()
    source = tmp_path / "memo.txt"
    source.write_text("memo\n", encoding="utf-8")
    before = git_out(cf, "rev-parse", "HEAD")
    result = gitsync("doc", "add", source, *args, cwd=cf)
    assert result.code == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert git_out(cf, "rev-parse", "HEAD") == before
    assert not (cf / "documents").exists()


def test_unknown_document_and_version(
    gitsync: Run, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    cf = client_file()
    assert gitsync("doc", "versions", "nothing.pdf", cwd=cf).code == 5
    source = tmp_path / "memo.txt"
    source.write_text("memo\n", encoding="utf-8")
    _ok(gitsync("doc", "add", source, "--json", cwd=cf))
    result = gitsync(
        "doc", "get", "memo.txt", "--version", "7", "--to", tmp_path / "out.txt", cwd=cf
    )
    assert result.code == 5 and "there is no version 7" in result.stderr
    assert not (tmp_path / "out.txt").exists()


def test_help_texts(gitsync: Run) -> None:
    for command in ("add", "move", "update", "versions", "get", "list", "remove"):
        result = gitsync("doc", command, "--help")
        assert result.code == 0 and len(result.stdout) > 80
    assert gitsync("folder", "add", "--help").code == 0
