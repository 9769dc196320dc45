"""The ledger commands on real client files: accounts, entries, code lists, mask and `tb`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import git_out

TB = """account,name,type,debit,credit
1000,Cash,asset,"10,000.10",
1100,Receivables,asset,"2,500.05",
2000,Payables,liability,,"1,234.56"
2100,Accrued liabilities,liability,,0.00
3000,Capital,equity,,"5,000.00"
4000,Sales,revenue,,"9,999.99"
5000,Wages,expense,"3,734.40",
"""

Run = Callable[..., Any]


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else result


@pytest.fixture
def ledger(client_file: Callable[..., Path], gitsync: Run, tmp_path: Path) -> Path:
    cf = client_file()
    source = tmp_path / "tb.csv"
    source.write_text(TB, encoding="utf-8")
    _ok(gitsync("import", "tb", source, cwd=cf))
    _ok(gitsync("taxcode", "add", "GST", "Goods and services tax", cwd=cf))
    return cf


def _cents(text: str) -> int:
    whole, _, part = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int(part)
    return -value if text.startswith("-") else value


def test_entries_give_adjusted_balances_exact_to_the_cent(ledger: Path, gitsync: Run) -> None:
    added = _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "Accrue December wages",
            "--line",
            "5000=1,234.57:GST",
            "--line",
            "2100=-1234.57",
            "--json",
            cwd=ledger,
        )
    )
    assert added["reference"] == "AJE-1" and len({line["id"] for line in added["lines"]}) == 2
    _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "RJE",
            "--date",
            "2026-12-31",
            "--description",
            "Reclassify",
            "--line",
            "1100=0.01",
            "--line",
            "1000=(0.01)",
            cwd=ledger,
        )
    )
    _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "PAJE",
            "--date",
            "2026-12-31",
            "--description",
            "Proposed: cut-off",
            "--line",
            "4000=500",
            "--line",
            "1100=-500",
            cwd=ledger,
        )
    )
    tb = _ok(gitsync("tb", "--json", cwd=ledger))
    rows = {row["number"]: row for row in tb["accounts"]}
    assert [row["number"] for row in tb["accounts"]] == [
        "1000",
        "1100",
        "2000",
        "2100",
        "3000",
        "4000",
        "5000",
    ]
    assert rows["5000"] == {
        "number": "5000",
        "name": "Wages",
        "type": "expense",
        "unadjusted": "3734.40",
        "adjustments": "1234.57",
        "adjusted": "4968.97",
        "proposed": "0.00",
    }
    assert rows["2100"]["adjusted"] == "-1234.57"
    assert (rows["1000"]["adjusted"], rows["1100"]["adjusted"]) == ("10000.09", "2500.06")
    # PAJE is proposed, not posted: it stays out of adjusted
    assert (rows["4000"]["adjusted"], rows["4000"]["proposed"]) == ("-9999.99", "500.00")
    assert sum(_cents(row["adjusted"]) for row in tb["accounts"]) == 0
    assert tb["totals"] == {
        "unadjusted": "0.00",
        "adjustments": "0.00",
        "adjusted": "0.00",
        "proposed": "0.00",
    }


def test_tb_plain_is_a_table_with_amounts_right_aligned(
    ledger: Path, gitsync: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    out = _ok(gitsync("tb", cwd=ledger)).stdout
    assert "Trial balance" in out and "Adjusted" in out and "Total" in out
    cash = next(line for line in out.splitlines() if "Cash" in line)
    cells = [cell for cell in re.split(r"[│┃]", cash)[1:-1]]
    assert cells[3].endswith("10,000.10 ") and cells[3].startswith("  ")  # right-aligned
    assert cells[1].startswith(" Cash")  # names stay left-aligned
    assert "Proposed" not in out  # shown only when there are proposed entries


def test_tb_plain_shows_debit_and_credit_with_thousands_separators(
    ledger: Path, gitsync: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = _ok(gitsync("tb", cwd=ledger)).stdout

    def cells(word: str) -> list[str]:
        line = next(line for line in out.splitlines() if word in line)
        return [cell.strip() for cell in re.split(r"[│┃]", line)[1:-1]]

    assert cells("Account")[5:7] == ["Adjusted debit", "Adjusted credit"]
    assert cells("Cash")[3:7] == ["10,000.10", "0.00", "10,000.10", ""]
    assert cells("Sales")[3:7] == ["-9,999.99", "0.00", "", "9,999.99"]
    assert cells("Total")[3:7] == ["0.00", "0.00", "16,234.55", "16,234.55"]
    # --json keeps plain signed decimals, exact to the cent
    rows = {row["number"]: row for row in _ok(gitsync("tb", "--json", cwd=ledger))["accounts"]}
    assert rows["4000"]["adjusted"] == "-9999.99" and rows["1000"]["adjusted"] == "10000.10"


def test_entry_numbering_list_and_remove(ledger: Path, gitsync: Run) -> None:
    def add(*extra: str) -> Any:
        return gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "d",
            "--line",
            "5000=1",
            "--line",
            "2000=-1",
            *extra,
            "--json",
            cwd=ledger,
        )

    assert _ok(add())["number"] == 1
    assert _ok(add("--number", "7"))["number"] == 7
    assert _ok(add())["number"] == 8
    taken = add("--number", "7")
    assert taken.code == 2 and "AJE-7 is already used" in taken.stderr
    listed = _ok(gitsync("entry", "list", "--journal", "AJE", "--json", cwd=ledger))
    assert [e["reference"] for e in listed] == ["AJE-1", "AJE-7", "AJE-8"]
    assert listed[0]["lines"][0]["amount"] == "1.00"
    _ok(gitsync("entry", "remove", "AJE-7", cwd=ledger))
    _ok(gitsync("entry", "remove", listed[0]["id"], cwd=ledger))
    assert [e["reference"] for e in _ok(gitsync("entry", "list", "--json", cwd=ledger))] == [
        "AJE-8"
    ]
    missing = gitsync("entry", "remove", "AJE-7", cwd=ledger)
    assert missing.code == 5 and "AJE-7" in missing.stderr
    plain = _ok(gitsync("entry", "list", cwd=ledger)).stdout
    assert "AJE-8" in plain


def test_unbalanced_entry_is_refused_with_one_line(
    ledger: Path, gitsync: Run, clean_tree: Callable[[Path], None]
) -> None:
    head = git_out(ledger, "rev-parse", "HEAD")
    result = gitsync(
        "entry",
        "add",
        "--journal",
        "AJE",
        "--date",
        "2026-12-31",
        "--description",
        "d",
        "--line",
        "5000=100",
        "--line",
        "2000=-99.99",
        cwd=ledger,
    )
    assert result.code == 2
    assert result.stderr == "gitsync: the entry does not balance: debits exceed credits by 0.01\n"
    bad_line = gitsync(
        "entry",
        "add",
        "--journal",
        "AJE",
        "--date",
        "2026-12-31",
        "--description",
        "d",
        "--line",
        "5000=1.005",
        "--line",
        "2000=-1.005",
        cwd=ledger,
    )
    assert bad_line.code == 2 and "--line '5000=1.005'" in bad_line.stderr
    assert git_out(ledger, "rev-parse", "HEAD") == head
    clean_tree(ledger)


def test_account_commands(ledger: Path, gitsync: Run) -> None:
    added = _ok(
        gitsync("account", "add", "6000", "Rent", "--type", "expense", "--json", cwd=ledger)
    )
    assert added == {
        "number": "6000",
        "name": "Rent",
        "type": "expense",
        "map": None,
        "balance": "0.00",
    }
    again = gitsync("account", "add", "6000", "Rent", "--type", "expense", cwd=ledger)
    assert again.code == 2 and "already in the trial balance" in again.stderr
    bad_type = gitsync("account", "add", "6100", "Rent", "--type", "income", cwd=ledger)
    assert bad_type.code == 2 and "must be one of asset" in bad_type.stderr
    changed = _ok(
        gitsync("account", "set", "6000", "--name", "Rent and rates", "--json", cwd=ledger)
    )
    assert changed["name"] == "Rent and rates"
    assert gitsync("account", "set", "6000", cwd=ledger).code == 2
    assert gitsync("account", "set", "6999", "--name", "x", cwd=ledger).code == 5
    _ok(gitsync("account", "remove", "6000", cwd=ledger))
    numbers = [a["number"] for a in _ok(gitsync("account", "list", "--json", cwd=ledger))]
    assert "6000" not in numbers and "1000" in numbers
    assert "Receivables" in _ok(gitsync("account", "list", cwd=ledger)).stdout


def test_unused_account_and_taxcode_can_be_removed(ledger: Path, gitsync: Run) -> None:
    _ok(gitsync("account", "remove", "2100", cwd=ledger))
    record = json.loads((ledger / "accounts/2100.json").read_text(encoding="utf-8"))
    assert record["deleted"] is True and record["modified"]["by"] == "auditor"
    _ok(gitsync("taxcode", "remove", "GST", cwd=ledger))
    assert _ok(gitsync("taxcode", "list", "--json", cwd=ledger)) == []


def _use_account_and_code(ledger: Path, gitsync: Run) -> None:
    _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "AJE",
            "--date",
            "2026-12-31",
            "--description",
            "d",
            "--line",
            "5000=1:GST",
            "--line",
            "2100=-1",
            cwd=ledger,
        )
    )


def test_removing_a_used_account_is_refused(ledger: Path, gitsync: Run) -> None:
    _use_account_and_code(ledger, gitsync)
    head = git_out(ledger, "rev-parse", "HEAD")
    result = gitsync("account", "remove", "2100", cwd=ledger)
    assert result.code == 4, result.stderr
    assert "accounts/2100.json" in result.stderr
    assert git_out(ledger, "rev-parse", "HEAD") == head


def test_removing_a_used_taxcode_is_refused(ledger: Path, gitsync: Run) -> None:
    _use_account_and_code(ledger, gitsync)
    result = gitsync("taxcode", "remove", "GST", cwd=ledger)
    assert result.code == 4, result.stderr
    assert "taxcodes/GST.json" in result.stderr


def test_code_lists_and_mask(ledger: Path, gitsync: Run) -> None:
    assert _ok(gitsync("journal", "add", "XJE", "--name", "Extra", "--json", cwd=ledger)) == {
        "id": "XJE",
        "name": "Extra",
    }
    assert gitsync("journal", "add", "AJE", cwd=ledger).code == 2  # from the template
    journals = [j["id"] for j in _ok(gitsync("journal", "list", "--json", cwd=ledger))]
    assert journals == ["AJE", "EJE", "PAJE", "RJE", "TJE", "XJE"]
    _ok(gitsync("unit", "add", "KG", "--name", "Kilograms", cwd=ledger))
    assert json.loads((ledger / "units/KG.json").read_text(encoding="utf-8"))["name"] == "Kilograms"
    assert gitsync("taxcode", "add", "GST", "again", cwd=ledger).code == 2
    assert gitsync("taxcode", "add", "bad code", "x", cwd=ledger).code == 2
    assert _ok(gitsync("mask", "set", "9999.99", "--json", cwd=ledger)) == {"mask": "9999.99"}
    assert (
        json.loads((ledger / "mapping/mask.json").read_text(encoding="utf-8"))["mask"] == "9999.99"
    )
    head = git_out(ledger, "rev-parse", "HEAD")
    _ok(gitsync("mask", "set", "9999.99", cwd=ledger))  # unchanged: no commit
    assert git_out(ledger, "rev-parse", "HEAD") == head


def test_import_with_a_map_that_does_not_fit_the_mask_names_the_row(
    ledger: Path, gitsync: Run, tmp_path: Path
) -> None:
    source = tmp_path / "map.csv"
    source.write_text(
        "account,name,type,balance,map\n1000,Cash,asset,10000.10,AB.CD\n", encoding="utf-8"
    )
    result = gitsync("import", "tb", source, cwd=ledger)
    assert result.code == 4
    assert "line 2 column 'map'" in result.stderr and "mask" in result.stderr


COMMANDS = [
    ("import", "tb"),
    ("account", "add"),
    ("account", "set"),
    ("account", "remove"),
    ("account", "list"),
    ("entry", "add"),
    ("entry", "list"),
    ("entry", "remove"),
    ("taxcode", "add"),
    ("taxcode", "remove"),
    ("taxcode", "list"),
    ("journal", "add"),
    ("journal", "list"),
    ("unit", "add"),
    ("mask", "set"),
    ("tb",),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_ledger_command_has_help_and_json(command: tuple[str, ...], gitsync: Run) -> None:
    result = gitsync(*command, "--help")
    assert result.code == 0, result.stderr
    usage, _, rest = result.stdout.partition("\n\n")
    assert usage.startswith("Usage:")
    description = rest.strip().splitlines()[0]
    assert len(description) > 10 and not description.startswith("Options")
    assert "--json" in result.stdout


def test_tables_show_names_as_written_never_as_markup_or_emoji(ledger: Path, gitsync: Run) -> None:
    # a beancount or GnuCash account name, and a name that looks like rich markup
    for name in ("Assets:Bank:Checking", "[bold]Petty[/bold] cash :smile:"):
        _ok(gitsync("account", "set", "1000", "--name", name, cwd=ledger))
        shown = _ok(gitsync("account", "list", cwd=ledger)).stdout
        assert name in shown, shown
