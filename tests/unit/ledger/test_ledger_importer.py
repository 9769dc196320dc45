"""The trial balance importer: bad input refused naming file, line and column; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitsync import create_client_file
from gitsync.errors import InputError
from gitsync.ledger.importer import import_trial_balance, parse_trial_balance
from gitsync.model import canonical
from gitsync.repo.clientfile import ClientFile
from tests.helpers import git_out

GOOD = (
    "account,name,type,debit,credit,map\n"
    '1000,Cash,asset,"12,345.67",,100.10\n'
    "2000,Payables,liability,,3000.00,\n"
    '3000,Capital,equity,,"7,000.00",\n'
    "4000,Sales,revenue,,2345.67,\n"
)


@pytest.fixture
def ledger_file(tmp_path: Path) -> ClientFile:
    return create_client_file(
        tmp_path / "cf", client="ABC Limited", number="1001", city="Toronto", year_end="2026-12-31"
    )


def _state(cf: ClientFile) -> tuple[str, str, list[str]]:
    files = sorted(
        str(p.relative_to(cf.root)) for p in cf.root.rglob("*.json") if ".git" not in p.parts
    )
    return git_out(cf.root, "log", "--format=%H"), git_out(cf.root, "status", "--porcelain"), files


def _write(tmp_path: Path, data: str | bytes, name: str = "tb.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_good_file_creates_accounts_in_one_commit(ledger_file: ClientFile, tmp_path: Path) -> None:
    before = git_out(ledger_file.root, "rev-list", "--count", "HEAD")
    report = import_trial_balance(ledger_file, _write(tmp_path, GOOD))
    assert report.created == ["1000", "2000", "3000", "4000"]
    assert int(git_out(ledger_file.root, "rev-list", "--count", "HEAD")) == int(before) + 1
    cash = canonical.loads((ledger_file.root / "accounts/1000.json").read_bytes())
    assert cash["balance"] == 1234567
    assert cash["map"] == "100.10"
    assert cash["modified"]["by"] == "auditor"
    payables = canonical.loads((ledger_file.root / "accounts/2000.json").read_bytes())
    assert payables["balance"] == -300000 and "map" not in payables
    assert git_out(ledger_file.root, "status", "--porcelain") == ""


def test_reimport_updates_known_accounts_and_keeps_what_is_not_given(
    ledger_file: ClientFile, tmp_path: Path
) -> None:
    import_trial_balance(ledger_file, _write(tmp_path, GOOD))
    second = (
        "account,name,type,balance\n"
        "1000,,,(500.25)\n"  # blank name and type: keep them
        "4000,Revenue,,10500.25\n"  # the books still balance with 2000 and 3000 kept
    )
    report = import_trial_balance(ledger_file, _write(tmp_path, second, "tb2.csv"))
    assert report.updated == ["1000", "4000"] and report.created == []
    cash = canonical.loads((ledger_file.root / "accounts/1000.json").read_bytes())
    assert (cash["name"], cash["type"], cash["balance"], cash["map"]) == (
        "Cash",
        "asset",
        -50025,
        "100.10",
    )
    sales = canonical.loads((ledger_file.root / "accounts/4000.json").read_bytes())
    assert (sales["name"], sales["balance"]) == ("Revenue", 1050025)
    # accounts not in the import keep their balances
    payables = canonical.loads((ledger_file.root / "accounts/2000.json").read_bytes())
    assert payables["balance"] == -300000


def test_same_file_twice_commits_nothing(ledger_file: ClientFile, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    import_trial_balance(ledger_file, path)
    head = git_out(ledger_file.root, "rev-parse", "HEAD")
    report = import_trial_balance(ledger_file, path)
    assert report.commit is None and len(report.unchanged) == 4
    assert git_out(ledger_file.root, "rev-parse", "HEAD") == head


def test_bom_and_crlf_are_accepted(ledger_file: ClientFile, tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8")
    report = import_trial_balance(ledger_file, _write(tmp_path, data))
    assert len(report.created) == 4


def test_header_is_case_insensitive_in_any_order() -> None:
    rows = parse_trial_balance(
        b"Credit,Debit,Type,Name,Account\n,1.00,Asset,Cash,1000\n1.00,,EXPENSE,Fees,6000\n", "x.csv"
    )
    assert [(r.account, r.type, r.balance) for r in rows] == [
        ("1000", "asset", 100),
        ("6000", "expense", -100),
    ]


BAD = [
    # (file text, line, column, words in the message)
    ("account,name,debit,credit\n1000,Cash,1,\n2000,Loan,,1\n", 2, None, "--types"),
    ("account,name,type,debit\n1000,Cash,asset,1\n", 1, None, "'credit' is missing"),
    ("account,name,type\n1000,Cash,asset\n", None, None, "no header row"),
    ("account,name,type,debit,credit,balance\n", 1, "balance", "either debit and credit"),
    ("account,name,type,debit,debit\n", 1, "debit", "two columns are the debit (D and E)"),
    (GOOD.replace("4000,Sales", "1000,Sales"), 5, "account", "already on line 2"),
    (GOOD.replace('"12,345.67"', "12345.678"), 2, "debit", "at most two decimals"),
    (GOOD.replace('"12,345.67"', "1e5"), 2, "debit", "'1e5' is not an amount"),
    (GOOD.replace("3000.00", '"3,000.0.0"'), 3, "credit", "not an amount"),
    (GOOD.replace("revenue", "widgets"), 5, "type", "'widgets' is not an account type"),
    (GOOD.replace(",3000.00,", "1.00,3000.00,"), 3, "credit", "both a debit and a credit"),
    (GOOD.replace("3000,Capital", "30 00,Capital"), 4, "account", "not an account number"),
    (GOOD.replace("3000,Capital", ",Capital"), 4, "account", "amounts with no account number"),
    (
        GOOD.replace("4000,Sales,revenue,,2345.67,", "4000,Sales,revenue,,2345.67"),
        5,
        None,
        "has 5 fields",
    ),
    (GOOD.replace("4000,Sales,revenue", "4000,,revenue"), 5, "name", "needs a name"),
    (GOOD.replace("4000,Sales,revenue", "4000,Sales,"), 5, "type", "needs a type"),
    (GOOD.replace("2345.67", "2335.67"), None, None, "debits exceed credits by 10.00"),
    (GOOD.replace("2345.67", "2345.68"), None, None, "credits exceed debits by 0.01"),
    ("", 1, None, "empty"),
    ("account,name,type,debit,credit\n\n", None, None, "no account rows"),
    ('account,name,type,debit,credit\n1000,"Cash,asset,1,\n', 2, None, "not valid CSV"),
]


@pytest.mark.parametrize(("text", "line", "column", "words"), BAD)
def test_bad_input_is_refused_naming_line_and_column_and_nothing_is_written(
    ledger_file: ClientFile,
    tmp_path: Path,
    text: str,
    line: int | None,
    column: str | None,
    words: str,
) -> None:
    before = _state(ledger_file)
    path = _write(tmp_path, text, "bad.csv")
    with pytest.raises(InputError) as caught:
        import_trial_balance(ledger_file, path, source="bad.csv")
    err = caught.value
    assert (err.source, err.line, err.column) == ("bad.csv", line, column)
    assert words in str(err)
    assert str(err).startswith("bad.csv" + (f" line {line}" if line else ""))
    if column:
        assert f"column '{column}'" in str(err)
    assert _state(ledger_file) == before


def test_non_utf8_names_the_line(ledger_file: ClientFile, tmp_path: Path) -> None:
    before = _state(ledger_file)
    data = GOOD.encode("utf-8").replace(b"Capital", b"Capit\xe9l")
    with pytest.raises(InputError) as caught:
        import_trial_balance(ledger_file, _write(tmp_path, data), source="latin1.csv")
    assert caught.value.line == 4
    assert "not valid UTF-8" in str(caught.value)
    assert _state(ledger_file) == before


def test_a_bad_row_after_good_ones_writes_none_of_them(
    ledger_file: ClientFile, tmp_path: Path
) -> None:
    text = GOOD + "5000,Wages,expense,x,,\n"
    with pytest.raises(InputError) as caught:
        import_trial_balance(ledger_file, _write(tmp_path, text))
    assert (caught.value.line, caught.value.column) == (6, "debit")
    assert not (ledger_file.root / "accounts").exists()
    assert ledger_file.snapshot().paths("accounts") == []


def test_missing_file_is_an_input_error(ledger_file: ClientFile, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        import_trial_balance(ledger_file, tmp_path / "nothere.csv")


def test_unnamed_empty_columns_from_a_spreadsheet_are_ignored() -> None:
    rows = parse_trial_balance(b"account,name,type,balance,,\n1,Cash,asset,0,,\n", "x.csv")
    assert [r.account for r in rows] == ["1"]


def test_columns_the_import_does_not_use_are_ignored_and_shown(
    ledger_file: ClientFile, tmp_path: Path
) -> None:
    text = "account,name,type,balance,colour,\n1,Cash,asset,0,blue,note\n"
    report = import_trial_balance(ledger_file, _write(tmp_path, text), dry_run=True)
    assert report.layout is not None
    assert report.layout.describe()["ignored"] == [{"column": "E", "heading": "colour"}]
    assert report.created == ["1"] and report.commit is None and report.dry_run
    assert ledger_file.snapshot().paths("accounts") == []


def test_parentheses_thousands_and_signs_in_balance_column() -> None:
    rows = parse_trial_balance(
        b'account,name,type,balance\n1,A,asset,"1,000,000.01"\n2,B,liability,(999999.99)\n'
        b"3,C,equity,-0.02\n",
        "t.csv",
    )
    assert [r.balance for r in rows] == [100000001, -99999999, -2]


def test_a_rule_that_refuses_an_imported_account_names_its_row(
    ledger_file: ClientFile, tmp_path: Path
) -> None:
    import_trial_balance(
        ledger_file, _write(tmp_path, "account,name,type,balance\nA100,Cash,asset,0\n")
    )
    before = _state(ledger_file)
    text = "account,name,type,balance,map\n2000,Payables,liability,0,\na100,Cash,asset,0,\n"
    with pytest.raises(InputError) as caught:
        import_trial_balance(ledger_file, _write(tmp_path, text, "case.csv"), source="case.csv")
    assert (caught.value.line, caught.value.column) == (3, "account")
    assert "unique-account" in str(caught.value)
    text = (
        "account,name,type,balance,map\n2000,Payables,liability,0,123.45\n3000,Capital,equity,0,X\n"
    )
    with pytest.raises(InputError) as caught:
        import_trial_balance(ledger_file, _write(tmp_path, text, "map.csv"), source="map.csv")
    assert (caught.value.line, caught.value.column) == (3, "map")
    assert "mask" in str(caught.value)
    assert _state(ledger_file) == before
