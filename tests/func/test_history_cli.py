"""``gitsync log`` and ``gitsync history`` on real client files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile
from gitsync.rules import commit_checked
from tests.conftest import Result

Run = Callable[..., Result]


def _ok(result: Result) -> Any:
    assert result.code == 0, result.stderr
    return result.json()


def _setup_entry(gitsync: Run, cf: Path, tmp_path: Path) -> dict[str, Any]:
    tb = tmp_path / "tb.csv"
    tb.write_text(
        "account,name,type,debit,credit\n"
        "1000,Cash,asset,5000.00,\n"
        "2100,Accrued liabilities,liability,,1000.00\n"
        "3000,Retained earnings,equity,,4000.00\n"
        "6100,Audit fees,expense,0.00,\n",
        encoding="utf-8",
    )
    _ok(gitsync("import", "tb", tb, "--json", cwd=cf))
    _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "Accrue audit fee",
            "--line",
            "6100=1200.00",
            "--line",
            "2100=-1200.00",
            "--json",
            cwd=cf,
        )
    )
    client = ClientFile.open(cf)
    [(_path, record)] = list(client.snapshot().records("entries"))
    return dict(record)


def test_log_patch_names_the_changed_entry_line_by_id(
    gitsync: Run, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    cf = client_file()
    entry = _setup_entry(gitsync, cf, tmp_path)
    first, second = entry["lines"]
    # The senior changes the amounts: written as a reviewer would through the library.
    changed = dict(entry, lines=[dict(first, amount=150000), dict(second, amount=-150000)])
    client = ClientFile.open(cf)
    commit_checked(
        client, {f"entries/{entry['id']}.json": canonical.dumps(changed)}, "Raise audit fee accrual"
    )

    log = _ok(gitsync("log", "--json", "-n", "1", cwd=cf))
    assert len(log) == 1
    [commit] = log
    assert commit["summary"] == "Raise audit fee accrual"
    assert (
        commit["author"] == "auditor" and commit["copy"] == client.copy_id and not commit["merge"]
    )
    [change] = commit["changes"]
    assert change["path"] == f"entries/{entry['id']}.json" and change["status"] == "modified"
    assert {"op": "replace", "path": f"/lines/{first['id']}/amount", "value": 150000} in change[
        "patch"
    ]
    assert {"op": "replace", "path": f"/lines/{second['id']}/amount", "value": -150000} in change[
        "patch"
    ]
    line_keys = {
        op["path"].split("/")[2] for op in change["patch"] if op["path"].startswith("/lines/")
    }
    assert line_keys == {first["id"], second["id"]}  # ids, never positions

    history = _ok(gitsync("history", f"entry:{entry['id']}", "--json", cwd=cf))
    assert [h["status"] for h in history] == ["modified", "added"]
    assert history[0]["patch"] == change["patch"]
    assert {op["path"] for op in history[1]["patch"]} >= {"/lines", "/journal", "/number"}

    text = gitsync("log", "-n", "1", cwd=cf)
    assert text.code == 0 and f"replace /lines/{first['id']}/amount 150000" in text.stdout


def test_log_lists_every_commit_newest_first(
    gitsync: Run, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    cf = client_file()
    _ok(gitsync("taxcode", "add", "GST", "Goods and services tax", "--json", cwd=cf))
    _ok(gitsync("folder", "add", "Planning", "--json", cwd=cf))
    log = _ok(gitsync("log", "--json", cwd=cf))
    assert len(log) == 3
    assert log[-1]["summary"].startswith("New client file")
    assert log[0]["summary"] == "Add folder Planning"
    assert [c["path"] for c in log[1]["changes"]] == ["taxcodes/GST.json"]
    assert log[1]["changes"][0]["patch"][0]["op"] == "add"
    assert log[0]["when"] >= log[1]["when"] >= log[2]["when"]

    account = _ok(gitsync("history", "taxcodes/GST.json", "--json", cwd=cf))
    assert len(account) == 1 and account[0]["author"] == "auditor"


def test_history_errors(gitsync: Run, client_file: Callable[..., Path]) -> None:
    cf = client_file()
    missing = gitsync("history", "account:9999", cwd=cf)
    assert missing.code == 5 and "accounts/9999.json: no such record" in missing.stderr
    bad = gitsync("history", "planet:earth", cwd=cf)
    assert bad.code == 2 and "is not a record" in bad.stderr
    assert gitsync("log", "-n", "0", cwd=cf).code == 2


def test_help_texts(gitsync: Run) -> None:
    for command in ("log", "history"):
        result = gitsync(command, "--help")
        assert result.code == 0 and "--json" in result.stdout
