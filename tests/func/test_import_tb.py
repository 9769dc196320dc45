"""`gitsync import tb` on real client files: one commit, exact balances, refusals write nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import git_out

# A realistic year-end trial balance: debit / credit columns, thousands
# separators, a map column, a blank amount, quoted names with commas.
REALISTIC_TB = """account,name,type,debit,credit,map
1000,Cash - operating,asset,"48,215.37",,100.10
1010,Cash - payroll,asset,"5,000.00",,100.10
1100,Accounts receivable,asset,"112,480.22",,110.10
1150,Allowance for doubtful accounts,asset,,"4,500.00",110.20
1200,Inventory,asset,"86,310.95",,120.10
1300,Prepaid expenses,asset,"7,450.00",,130.10
1500,Equipment,asset,"240,000.00",,150.10
1510,Accumulated depreciation - equipment,asset,,"96,000.00",150.20
2000,Accounts payable,liability,,"64,122.18",200.10
2100,Accrued liabilities,liability,,"18,730.45",210.10
2200,"Income taxes payable, current",liability,,"9,880.00",220.10
2500,Bank loan,liability,,"120,000.00",250.10
3000,Share capital,equity,,"50,000.00",300.10
3100,Retained earnings,equity,,"100,765.43",310.10
4000,Sales,revenue,,"812,345.67",400.10
4100,Interest income,revenue,,"1,234.56",410.10
5000,Cost of sales,expense,"498,765.43",,500.10
6000,Salaries and wages,expense,"182,340.00",,600.10
6100,Rent,expense,"36,000.00",,610.10
6200,Utilities,expense,"8,456.32",,620.10
6300,Depreciation,expense,"24,000.00",,630.10
6400,Office supplies,expense,"3,210.00",,640.10
6500,Interest expense,expense,"7,200.00",,650.10
6900,Miscellaneous,expense,0.00,,690.10
7000,Income tax expense,expense,"18,150.00",,700.10
"""


def _json(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout)


def test_realistic_trial_balance_imports_in_one_commit(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    clean_tree: Callable[[Path], None],
    tmp_path: Path,
) -> None:
    cf = client_file()
    source = tmp_path / "year-end.csv"
    source.write_text(REALISTIC_TB, encoding="utf-8")
    commits = int(git_out(cf, "rev-list", "--count", "HEAD"))
    report = _json(gitsync("import", "tb", source, "--json", cwd=cf))
    assert len(report["created"]) == 25 and report["updated"] == []
    assert int(git_out(cf, "rev-list", "--count", "HEAD")) == commits + 1
    assert git_out(cf, "log", "-1", "--format=%s").startswith("Import trial balance year-end.csv")
    clean_tree(cf)
    accounts = {a["number"]: a for a in _json(gitsync("account", "list", "--json", cwd=cf))}
    assert accounts["2200"]["name"] == "Income taxes payable, current"
    assert accounts["1150"]["balance"] == "-4500.00"
    assert accounts["6900"]["balance"] == "0.00"
    tb = _json(gitsync("tb", "--json", cwd=cf))
    assert tb["totals"] == {
        "unadjusted": "0.00",
        "adjustments": "0.00",
        "adjusted": "0.00",
        "proposed": "0.00",
    }
    assert sum(int(a["unadjusted"].replace(".", "")) for a in tb["accounts"]) == 0


def test_relative_path_is_taken_from_the_current_directory_also_with_minus_c(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 8: with -C a relative import path was looked for inside the client file, and
    # "bom.csv: no such file" did not say where. An input file is the user's: it is taken
    # from where the user stands (the shell completed it there), and errors name the path.
    cf = client_file()
    here = tmp_path / "desk"
    here.mkdir()
    (here / "tb.csv").write_text("account,name,type,balance\n1,Cash,asset,0\n", encoding="utf-8")
    monkeypatch.chdir(here)
    assert _json(gitsync("import", "tb", "tb.csv", "--json", cwd=cf))["created"] == ["1"]
    missing = gitsync("import", "tb", "bom.csv", cwd=cf)
    assert missing.code == 4
    assert missing.stderr == f"gitsync: {here / 'bom.csv'}: no such file\n"


def test_a_partial_import_must_leave_the_books_balanced(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    first = tmp_path / "a.csv"
    first.write_text(REALISTIC_TB, encoding="utf-8")
    _json(gitsync("import", "tb", first, "--json", cwd=cf))
    # The rows sum to zero, but 1000 gives up 48,215.37 that no account takes.
    second = tmp_path / "b.csv"
    second.write_text("account,name,type,balance\n1000,,,-100\n9999,Suspense,asset,100\n")
    result = gitsync("import", "tb", second, cwd=cf)
    assert result.code == 4
    assert result.stderr == (
        f"gitsync: {second}: the trial balance does not balance: credits exceed debits by "
        "48,215.37 (accounts not in the file keep their balances: 1010, 1100, 1150, 1200, "
        "1300, ...; --remove-missing removes them)\n"
    )
    # A correction that moves a balance between two accounts needs only those two rows.
    third = tmp_path / "c.csv"
    third.write_text('account,name,type,balance\n1000,,,"48,115.37"\n1010,,,"5,100.00"\n')
    report = _json(gitsync("import", "tb", third, "--json", cwd=cf))
    assert report["updated"] == ["1000", "1010"]
    assert _json(gitsync("tb", "--json", cwd=cf))["totals"]["adjusted"] == "0.00"


def test_reimport_updates_balances(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    first = tmp_path / "a.csv"
    first.write_text(REALISTIC_TB, encoding="utf-8")
    _json(gitsync("import", "tb", first, "--json", cwd=cf))
    second = tmp_path / "b.csv"
    second.write_text(
        'account,name,type,balance\n1000,,,(100.00)\n9999,Suspense,asset,"48,315.37"\n',
        encoding="utf-8",
    )
    report = _json(gitsync("import", "tb", second, "--json", cwd=cf))
    assert (report["created"], report["updated"]) == (["9999"], ["1000"])
    accounts = {a["number"]: a for a in _json(gitsync("account", "list", "--json", cwd=cf))}
    assert (
        accounts["1000"]["balance"] == "-100.00" and accounts["1000"]["name"] == "Cash - operating"
    )


def test_bad_row_refuses_the_file_with_one_line_and_writes_nothing(
    client_file: Callable[..., Path],
    gitsync: Callable[..., Any],
    clean_tree: Callable[[Path], None],
    tmp_path: Path,
) -> None:
    cf = client_file()
    bad = tmp_path / "bad.csv"
    bad.write_text(REALISTIC_TB.replace('"7,450.00"', "7450.001"), encoding="utf-8")
    head = git_out(cf, "rev-parse", "HEAD")
    result = gitsync("import", "tb", bad, cwd=cf)
    assert result.code == 4
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"{bad} line 7 column 'debit'" in result.stderr
    assert "at most two decimals" in result.stderr
    assert git_out(cf, "rev-parse", "HEAD") == head
    assert not (cf / "accounts").exists()
    clean_tree(cf)


def test_unbalanced_file_names_the_difference(
    client_file: Callable[..., Path], gitsync: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    bad = tmp_path / "off.csv"
    bad.write_text(REALISTIC_TB.replace('"3,210.00"', '"3,210.01"'), encoding="utf-8")
    result = gitsync("import", "tb", bad, cwd=cf)
    assert result.code == 4
    assert "does not balance: debits exceed credits by 0.01" in result.stderr


def test_import_in_a_real_process(
    client_file: Callable[..., Path], gitsync_proc: Callable[..., Any], tmp_path: Path
) -> None:
    cf = client_file()
    source = tmp_path / "tb.csv"
    source.write_bytes(b"\xef\xbb\xbf" + REALISTIC_TB.encode("utf-8"))
    result = gitsync_proc("-C", cf, "import", "tb", source)
    assert result.code == 0, result.stderr
    assert "25 created" in result.stdout
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(REALISTIC_TB.replace("Rent", "Loyer é").encode("latin-1"))
    result = gitsync_proc("-C", cf, "import", "tb", bad)
    assert result.code == 4
    assert "line 20" in result.stderr and "not valid UTF-8" in result.stderr
