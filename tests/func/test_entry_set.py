"""``gitsync entry set``: change an entry without editing JSON by hand, the rules checked."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Run = Callable[..., Any]


def _head(cwd: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else result


@pytest.fixture
def ledger(client_file: Callable[..., Path], gitsync: Run) -> tuple[Path, str]:
    cf = client_file()
    for number, name, kind in (("1000", "Cash", "asset"), ("2000", "Payables", "liability")):
        _ok(gitsync("account", "add", number, name, "--type", kind, cwd=cf))
    _ok(gitsync("account", "add", "5000", "Wages", "--type", "expense", cwd=cf))
    _ok(gitsync("taxcode", "add", "GST", "Goods and services tax", cwd=cf))
    added = _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "accrual",
            "--line",
            "5000=100.00",
            "--line",
            "2000=-100.00",
            "--json",
            cwd=cf,
        )
    )
    return cf, added["reference"]


def _record(cf: Path, entry_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((cf / f"entries/{entry_id}.json").read_text("utf-8"))
    return data


def test_set_description_date_lines_and_tax_codes(ledger: tuple[Path, str], gitsync: Run) -> None:
    cf, ref = ledger
    before = _ok(gitsync("entry", "list", "--json", cwd=cf))[0]
    changed = _ok(
        gitsync(
            "entry",
            "set",
            ref,
            "--description",
            "accrued wages",
            "--date",
            "2026-12-30",
            "--json",
            cwd=cf,
        )
    )
    assert (changed["description"], changed["date"]) == ("accrued wages", "2026-12-30")
    changed = _ok(
        gitsync(
            "entry",
            "set",
            ref,
            "--line",
            "5000=120.00:GST",
            "--line",
            "2000=-100.00",
            "--line",
            "1000=-20.00",
            "--json",
            cwd=cf,
        )
    )
    lines = {line["account"]: line for line in changed["lines"]}
    assert {a: line["amount"] for a, line in lines.items()} == {
        "5000": "120.00",
        "2000": "-100.00",
        "1000": "-20.00",
    }
    assert lines["5000"]["tax_code"] == "GST"
    old_ids = {line["account"]: line["id"] for line in before["lines"]}
    assert lines["5000"]["id"] == old_ids["5000"] and lines["2000"]["id"] == old_ids["2000"]
    _ok(gitsync("entry", "set", ref, "--tax-code", "5000=", "--tax-code", "2000=GST", cwd=cf))
    record = _record(cf, changed["id"])
    by_account = {line["account"]: line for line in record["lines"]}
    assert "tax_code" not in by_account["5000"] and by_account["2000"]["tax_code"] == "GST"
    assert record["modified"]["by"] == "auditor"
    assert set(record["provenance"]) >= {"/lines/" + old_ids["2000"] + "/tax_code"}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "give at least one of"),
        (["--line", "5000=100"], "at least two"),
        (["--line", "5000=100", "--line", "2000=-90"], "does not balance"),
        (["--line", "5000=100", "--line", "9999=-100"], "account 9999"),
        (["--line", "5000=100:VAT", "--line", "2000=-100"], "tax code VAT"),
        (["--date", "2026-02-30"], "calendar date"),
        (["--tax-code", "1000=GST"], "no line on account 1000"),
        (["--tax-code", "GST"], "ACCOUNT=TAXCODE"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    ledger: tuple[Path, str], gitsync: Run, args: list[str], words: str
) -> None:
    cf, ref = ledger
    before = _head(cf)
    result = gitsync("entry", "set", ref, *args, cwd=cf)
    assert result.code != 0
    assert words in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert _head(cf) == before


def test_unknown_entry(ledger: tuple[Path, str], gitsync: Run) -> None:
    cf, _ = ledger
    result = gitsync("entry", "set", "AJE-99", "--description", "x", cwd=cf)
    assert result.code == 5 and "AJE-99" in result.stderr


def test_help(gitsync: Run) -> None:
    result = gitsync("entry", "set", "--help")
    assert result.code == 0 and "--tax-code" in result.stdout and "--json" in result.stdout
