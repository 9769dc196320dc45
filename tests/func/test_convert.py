"""`gitsync convert` and the format_version refusals, through the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.helpers import git, read_record

Run = Callable[..., Any]

TB = """account,name,type,debit,credit
1000,Cash,asset,"10,000.10",
2000,Payables,liability,,"10,000.10"
"""


def _rewrite(root: Path, edit: Callable[[str, dict[str, Any]], dict[str, Any] | None]) -> None:
    """Commit records past the rules, as an older gitsync would have written them."""
    from gitsync.model import canonical
    from gitsync.repo.clientfile import ClientFile

    cf = ClientFile.open(root, check_format=False)
    snapshot = cf.snapshot()
    changes = {}
    for path in snapshot.all_paths:
        if not path.endswith(".json"):
            continue
        record = snapshot.read(path)
        assert record is not None
        new = edit(path, dict(record))
        if new is not None:
            changes[path] = canonical.dumps(new)
    cf.commit(changes, "written by another gitsync")


def _version_zero(path: str, record: dict[str, Any]) -> dict[str, Any] | None:
    if path == "engagement.json":
        return {**record, "format_version": 0}
    if path.startswith("accounts/"):
        record["amount"] = record.pop("balance")
        return record
    return None


def _one_line(result: Any, needle: str, code: int) -> None:
    assert result.code == code, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_older_file_is_refused_until_converted_in_one_commit(
    client_file: Callable[..., Path],
    gitsync: Run,
    tmp_path: Path,
    clean_tree: Callable[[Path], None],
) -> None:
    cf = client_file()
    source = tmp_path / "tb.csv"
    source.write_text(TB, encoding="utf-8")
    assert gitsync("import", "tb", source, cwd=cf).code == 0
    _rewrite(cf, _version_zero)
    stamps = {p.name: read_record(p)["modified"] for p in (cf / "accounts").glob("*.json")}
    _one_line(gitsync("tb", cwd=cf), "run 'gitsync convert' first", 3)
    before = int(git(cf, "rev-list", "--count", "HEAD").stdout)

    report = json.loads(gitsync("convert", "--json", cwd=cf).stdout)
    assert report["from_version"] == 0 and report["to_version"] == 1
    assert report["records_changed"] == 3  # two accounts and engagement.json
    assert len(report["steps"]) == 1 and report["steps"][0].startswith("0 -> 1")
    assert int(git(cf, "rev-list", "--count", "HEAD").stdout) == before + 1
    assert read_record(cf / "engagement.json")["format_version"] == 1
    cash = read_record(cf / "accounts" / "1000.json")
    assert cash["balance"] == 1000010 and "amount" not in cash
    # a format change is nobody's edit: the modified stamps stay as they were
    assert {p.name: read_record(p)["modified"] for p in (cf / "accounts").glob("*.json")} == stamps
    tb = json.loads(gitsync("tb", "--json", cwd=cf).stdout)
    assert tb["totals"]["unadjusted"] == "0.00"
    clean_tree(cf)
    again = gitsync("convert", cwd=cf)
    assert again.code == 0 and "already at format_version 1" in again.stdout


def test_newer_file_is_refused_by_every_command_and_by_convert(
    client_file: Callable[..., Path], gitsync: Run
) -> None:
    cf = client_file()
    _rewrite(cf, lambda p, r: {**r, "format_version": 2} if p == "engagement.json" else None)
    head = git(cf, "rev-parse", "HEAD").stdout
    _one_line(gitsync("tb", cwd=cf), "format_version 2 is newer than this gitsync reads (1)", 3)
    _one_line(gitsync("convert", cwd=cf), "upgrade gitsync to open it", 3)
    assert git(cf, "rev-parse", "HEAD").stdout == head


def test_convert_refuses_uncommitted_record_edits(
    client_file: Callable[..., Path], gitsync: Run
) -> None:
    cf = client_file()
    _rewrite(cf, _version_zero)
    (cf / "journals" / "AJE.json").write_text('{"id": "AJE", "name": "edited"}', encoding="utf-8")
    head = git(cf, "rev-parse", "HEAD").stdout
    _one_line(gitsync("convert", cwd=cf), "differ from the history", 2)
    assert git(cf, "rev-parse", "HEAD").stdout == head
