"""`gitsync year-end-close`: next year's file, exact to the cent, and its refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import git, read_record

Run = Callable[..., Any]

TB = """account,name,type,debit,credit
1000,Cash,asset,"10,000.10",
1100,Receivables,asset,"2,500.05",
2000,Payables,liability,,"1,234.56"
3000,Capital,equity,,"1,000.00"
3100,Retained earnings,equity,,"2,000.00"
4000,Sales,revenue,,"12,000.01"
5000,Wages,expense,"3,734.42",
"""


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def _refused(result: Any, needle: str, code: int) -> None:
    assert result.code == code, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr


@pytest.fixture
def ledger(client_file: Callable[..., Path], gitsync: Run, tmp_path: Path) -> Path:
    cf = client_file("ABC Limited 2026", year_end="2026-12-31")
    source = tmp_path / "tb.csv"
    source.write_text(TB, encoding="utf-8")
    for args in (
        ("import", "tb", source),
        ("taxcode", "add", "GST", "Goods and services tax"),
        ("journal", "add", "CJE", "--name", "Consolidation"),
        (
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "Accrue",
            "--line",
            "5000=100.01",
            "--line",
            "2000=-100.01",
        ),
        (
            "entry",
            "add",
            "--journal",
            "PAJE",
            "--date",
            "2026-12-31",
            "--description",
            "Proposed",
            "--line",
            "4000=500",
            "--line",
            "1100=-500",
        ),
    ):
        result = gitsync(*args, cwd=cf)
        assert result.code == 0, (args, result.stderr)
    return cf


def test_year_end_close_carries_balances_and_closes_income(
    ledger: Path, gitsync: Run, tmp_path: Path, clean_tree: Callable[[Path], None]
) -> None:
    dest = tmp_path / "ABC Limited 2027"
    report = _ok(gitsync("year-end-close", "--to", dest, "--json", cwd=ledger))
    assert report["new_year_end"] == "2027-12-31" and report["retained_earnings"] == "3100"
    # revenue -12,000.01 + expense 3,834.43 (3,734.42 + the 100.01 accrual)
    assert report["net_income"] == "-8165.58"
    assert report["total_before"] == report["total_after"]

    def account(number: str) -> dict[str, Any]:
        return read_record(dest / "accounts" / f"{number}.json")

    assert account("1000")["balance"] == 1000010 and account("1000")["prior"] == [1000010]
    assert account("1100")["balance"] == 250005  # the proposed entry is not posted
    assert account("2000")["balance"] == -133457 and account("2000")["prior"] == [-133457]
    assert account("4000")["balance"] == 0 and account("4000")["prior"] == [-1200001]
    assert account("5000")["balance"] == 0 and account("5000")["prior"] == [383443]
    assert account("3100")["balance"] == -200000 - 816558 and account("3100")["prior"] == [-200000]
    tb = _ok(gitsync("tb", "--json", cwd=dest))
    assert tb["totals"]["unadjusted"] == tb["totals"]["adjusted"] == "0.00"
    engagement = read_record(dest / "engagement.json")
    assert engagement["year_end"] == "2027-12-31" and engagement["client_name"] == "ABC Limited"
    assert not (dest / "entries").exists()
    assert read_record(dest / "taxcodes" / "GST.json")["description"] == "Goods and services tax"
    assert (dest / "journals" / "CJE.json").is_file()
    copies = list((dest / "sync" / "copies").glob("*.json"))
    assert len(copies) == 1 and read_record(copies[0])["parent"] is None
    assert git(dest, "rev-list", "--count", "HEAD").stdout.strip() == "2"
    clean_tree(dest)
    # a second close of the new year pushes this year's balance onto the prior list
    nxt = _ok(gitsync("year-end-close", "--to", tmp_path / "2028", "--json", cwd=dest))
    assert nxt["new_year_end"] == "2028-12-31"
    assert read_record(tmp_path / "2028" / "accounts" / "1000.json")["prior"] == [1000010, 1000010]


def test_retained_earnings_account_must_be_equity_and_must_exist(
    ledger: Path, gitsync: Run, tmp_path: Path
) -> None:
    dest = tmp_path / "next"
    _refused(
        gitsync("year-end-close", "--to", dest, "--retained-earnings", "4000", cwd=ledger),
        "must be an equity account",
        2,
    )
    _refused(
        gitsync("year-end-close", "--to", dest, "--retained-earnings", "9999", cwd=ledger),
        "no such live account",
        5,
    )
    assert gitsync("account", "set", "3100", "--name", "Surplus", cwd=ledger).code == 0
    _refused(gitsync("year-end-close", "--to", dest, cwd=ledger), "--retained-earnings", 2)
    assert not dest.exists()
    report = _ok(
        gitsync("year-end-close", "--to", dest, "--retained-earnings", "3000", "--json", cwd=ledger)
    )
    assert report["retained_earnings"] == "3000"


def test_refused_while_copies_are_active_and_into_a_sync_file(
    ledger: Path, gitsync: Run, tmp_path: Path
) -> None:
    copy = tmp_path / "copy (Sync)"
    assert gitsync("copy", ledger, copy).code == 0
    assert gitsync("open", cwd=ledger).code == 0
    dest = tmp_path / "next"
    _refused(gitsync("year-end-close", "--to", dest, cwd=ledger), "sync copies are active", 8)
    _refused(gitsync("year-end-close", "--to", dest, cwd=copy), "sync copies are active", 8)
    assert not dest.exists()
    head = git(copy, "rev-parse", "HEAD").stdout
    other = tmp_path / "other"
    assert (
        gitsync("new", other, "--client", "Other", "--number", "2", "--year-end", "2026-06-30").code
        == 0
    )
    _refused(gitsync("year-end-close", "--to", copy, cwd=other), "existing sync file", 8)
    assert git(copy, "rev-parse", "HEAD").stdout == head
