"""The books always balance: the ``balanced-books`` rule everywhere, and the merge's conflict.

Issue 8 item 2: ``account remove`` of an account with a balance, a hand
delete synced, a plain-git commit or push, and a merge that picks one side of
a balance conflict all used to leave ``tb`` totalling something other than
zero while ``check`` said nothing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitsync.model import canonical
from tests.helpers import Hierarchy

Run = Callable[..., Any]

TB = """account,name,type,debit,credit
1000,Cash,asset,"10,000.10",
1030,US dollar bank account,asset,"2,208.10",
2000,Payables,liability,,"1,234.56"
3000,Capital,equity,,"10,973.64"
"""


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def _ok(result: Any) -> Any:
    assert result.code == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else result


def _import(gitsync: Run, where: Path, tmp_path: Path, text: str, name: str = "tb.csv") -> Any:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    return gitsync("import", "tb", source, cwd=where)


def _total(gitsync: Run, where: Path) -> str:
    return str(_ok(gitsync("tb", "--json", cwd=where))["totals"]["adjusted"])


def _add_entry(gitsync: Run, where: Path, *lines: str) -> None:
    args = ["entry", "add", "--journal", "AJE", "--date", "2026-12-31", "--description", "Fees"]
    for line in lines:
        args += ["--line", line]
    _ok(gitsync(*args, cwd=where))


@pytest.fixture
def books(client_file: Callable[..., Path], gitsync: Run, tmp_path: Path) -> Path:
    root = client_file()
    _ok(_import(gitsync, root, tmp_path, TB))
    return root


def test_removing_an_account_with_a_balance_is_refused(books: Path, gitsync: Run) -> None:
    head = git(books, "rev-parse", "HEAD").stdout
    result = gitsync("account", "remove", "1030", cwd=books)
    assert result.code == 4
    assert result.stderr.count("\n") == 1
    assert "account 1030 has a balance of 2,208.10" in result.stderr
    assert "gitsync account remove 1030 --move-to ACCOUNT" in result.stderr
    assert git(books, "rev-parse", "HEAD").stdout == head
    assert _total(gitsync, books) == "0.00"


def test_removing_an_account_with_entry_lines_is_refused(books: Path, gitsync: Run) -> None:
    _add_entry(gitsync, books, "1030=-100", "1000=100")
    _ok(_import_zero_1030(gitsync, books))
    result = gitsync("account", "remove", "1030", cwd=books)
    assert result.code == 4
    assert "lines in 1 entry (AJE-1)" in result.stderr and "--move-to" in result.stderr


def _import_zero_1030(gitsync: Run, books: Path) -> Any:
    source = books.parent / "move.csv"
    source.write_text(
        "account,name,type,balance\n1000,,,12208.20\n1030,,,0\n2000,,,-1234.56\n3000,,,-10973.64\n",
        encoding="utf-8",
    )
    return gitsync("import", "tb", source, cwd=books)


def test_move_to_takes_the_balance_and_the_lines(books: Path, gitsync: Run) -> None:
    _add_entry(gitsync, books, "1030=-100", "2000=100")
    _ok(gitsync("account", "remove", "1030", "--move-to", "1000", cwd=books))
    report = _ok(gitsync("tb", "--json", cwd=books))
    cash = next(a for a in report["accounts"] if a["number"] == "1000")
    assert (cash["unadjusted"], cash["adjustments"]) == ("12208.20", "-100.00")
    assert "1030" not in [a["number"] for a in report["accounts"]]
    assert report["totals"]["adjusted"] == "0.00"
    assert _ok(gitsync("check", cwd=books)).stdout.startswith("No rule is broken")


def test_a_partial_import_that_unbalances_the_books_is_refused(
    books: Path, gitsync: Run, tmp_path: Path
) -> None:
    # The rows balance among themselves, but 1000 and 1030 lose 12,208.20 that nobody takes.
    result = _import(
        gitsync, books, tmp_path, "account,name,type,balance\n1000,,,100\n1030,,,-100\n"
    )
    assert result.code == 4
    assert "the trial balance does not balance: credits exceed debits by 12,208.20" in (
        result.stderr
    )
    assert _total(gitsync, books) == "0.00"


def test_a_hand_deleted_account_is_refused_by_sync(books: Path, gitsync: Run) -> None:
    (books / "accounts/1030.json").unlink()
    result = gitsync("sync", cwd=books)
    assert result.code == 4
    assert "accounts/1030.json: deleted: account 1030 has a balance of 2,208.10" in result.stderr
    assert "--move-to" in result.stderr
    assert _total(gitsync, books) == "0.00"


def test_a_hand_tombstone_is_refused_by_pre_commit(books: Path) -> None:
    path = books / "accounts/1030.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_bytes(canonical.dumps({**record, "deleted": True}))
    result = git(books, "commit", "-am", "Remove 1030", check=False)
    assert result.returncode != 0
    assert "account 1030 has a balance of 2,208.10" in result.stderr
    assert "(rule: balanced-books)" in result.stderr


def test_an_unbalancing_push_is_refused_by_pre_receive(
    books: Path, gitsync: Run, tmp_path: Path
) -> None:
    child = tmp_path / "child (Sync)"
    _ok(gitsync("copy", books, child))
    path = child / "accounts/1000.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_bytes(canonical.dumps({**record, "balance": record["balance"] + 1}))
    git(child, "commit", "-q", "--no-verify", "-am", "One cent more")
    result = git(child, "push", "parent", "HEAD:main", check=False)
    assert result.returncode != 0
    assert "debits exceed credits by 0.01 (rule: balanced-books)" in result.stderr


def test_check_reports_unbalanced_books_as_tb_totals_them(books: Path, gitsync: Run) -> None:
    from gitsync.ledger.reports import trial_balance
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules import check_all
    from gitsync.rules.engine import RuleContext
    from gitsync.rules.standard import books_total

    _add_entry(gitsync, books, "1030=-100", "2000=100")
    _ok(
        gitsync(
            "entry",
            "add",
            "--journal",
            "PAJE",
            "--date",
            "2026-12-31",
            "--description",
            "Proposed",
            "--line",
            "1000=7",
            "--line",
            "3000=-7",
            cwd=books,
        )
    )
    client = ClientFile.open(books)
    record = client.snapshot().read("accounts/1030.json")
    assert record is not None
    client.commit({"accounts/1030.json": canonical.dumps({**record, "deleted": True})}, "raw")
    snapshot = client.snapshot()
    assert books_total(RuleContext(snapshot)) == trial_balance(snapshot).adjusted == -220810
    assert [v.rule for v in check_all(snapshot)] == ["reference", "balanced-books"]
    result = gitsync("check", cwd=books)
    assert result.code == 4 and "credits exceed debits by 2,208.10" in result.stdout + result.stderr


# --- the merge ------------------------------------------------------------------------------


def _balances(gitsync: Run, where: Path, tmp_path: Path, name: str, rows: str) -> None:
    _ok(_import(gitsync, where, tmp_path, "account,name,type,balance\n" + rows, name))


def test_a_merge_that_would_unbalance_the_books_keeps_a_conflict(
    hierarchy: Hierarchy, gitsync: Run, tmp_path: Path
) -> None:
    h = hierarchy
    _balances(
        gitsync,
        h.top,
        tmp_path,
        "start.csv",
        "1000,Cash,asset,0\n2000,Pay,liability,0\n3000,Capital,equity,0\n",
    )
    for where in (h.top, h.a, h.b):
        h.sync(where)
    # Each copy moves balances in a balanced way; both change 1000, differently.
    _balances(gitsync, h.a, tmp_path, "a.csv", "1000,,,100\n2000,,,-100\n")
    _balances(gitsync, h.b, tmp_path, "b.csv", "1000,,,200\n3000,,,-200\n")
    h.sync(h.a)
    report = h.sync(h.b)
    conflicts = _ok(gitsync("conflicts", "--json", cwd=h.b))["conflicts"]
    books = [c for c in conflicts if c["rule"] == "unbalanced-books"]
    assert len(books) == 1 and books[0]["id"] in report["conflicts"]
    conflict = books[0]
    assert conflict["record"] == "accounts" and conflict["field"] == "/balance"
    values = [v["value"] for v in conflict["values"]]  # every value kept
    assert {"1000": 10000, "2000": -10000, "3000": 0} in values
    assert {"1000": 20000, "2000": 0, "3000": -20000} in values
    assert _total(gitsync, h.b) != "0.00"
    # Never stuck: the merged state passes the rules, syncs up, and every copy gets it.
    assert _ok(gitsync("check", cwd=h.b)).stdout.startswith("No rule is broken")
    for where in (h.a, h.top, h.b):
        h.sync(where)
    listing = _ok(gitsync("conflicts", cwd=h.top)).stdout
    assert "accounts /balance  [unbalanced-books, open]" in listing
    # Settling it: keep one side's balances whole; the books balance again.
    take = 1 + [v["value"] for v in conflict["values"]].index(
        {"1000": 20000, "2000": 0, "3000": -20000}
    )
    # merge.conflicts settles the books only through the ledger's settlers (merge sits below it).
    from gitsync.errors import UsageError
    from gitsync.merge.conflicts import resolve_conflict
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules import check_commit

    top = ClientFile.open(h.top)
    head = top.ref(top.head_ref_name())
    with pytest.raises(UsageError, match=r"settled by gitsync\.ledger\.books"):
        resolve_conflict(top, conflict["id"], take=take, checker=check_commit)
    assert top.ref(top.head_ref_name()) == head and head is not None
    refused = gitsync("conflicts", "resolve", conflict["id"], "--value", '{"1000": 100}', cwd=h.top)
    assert refused.code == 2 and "still out of balance" in refused.stderr
    _ok(gitsync("conflicts", "resolve", conflict["id"], "--take", str(take), cwd=h.top))
    assert _total(gitsync, h.top) == "0.00"
    for where in (h.a, h.b, h.top):
        h.sync(where)
    for where in (h.a, h.b):
        assert _total(gitsync, where) == "0.00"
        assert "unbalanced-books" not in _ok(gitsync("conflicts", cwd=where)).stdout


def test_the_books_conflict_is_the_same_whichever_side_merges(tmp_path: Path) -> None:
    from gitsync.ledger.books import merge_books_conflict

    def account(balance: int, at: str, deleted: bool = False) -> dict[str, Any]:
        record: dict[str, Any] = {
            "number": "x",
            "balance": balance,
            "modified": {"at": at, "by": at, "copy": at},
        }
        return {**record, "deleted": True} if deleted else record

    base = {
        "accounts/1000.json": account(0, "0"),
        "accounts/2000.json": account(0, "0"),
        "accounts/3000.json": account(0, "0"),
    }
    ours = {
        **base,
        "accounts/1000.json": account(100, "1"),
        "accounts/2000.json": account(-100, "1"),
    }
    theirs = {
        **base,
        "accounts/1000.json": account(200, "2"),
        "accounts/3000.json": account(-200, "2"),
    }
    merged = {
        **ours,
        "accounts/1000.json": theirs["accounts/1000.json"],
        "accounts/3000.json": theirs["accounts/3000.json"],
    }
    paths = sorted(base)
    one = merge_books_conflict(paths, base.get, ours.get, theirs.get, merged.get)
    two = merge_books_conflict(paths, base.get, theirs.get, ours.get, merged.get)
    assert len(one) == 1 and one[0].to_bytes() == two[0].to_bytes()
    assert one[0].current == {"1000": 200, "2000": -100, "3000": -200}
    balanced = {
        **ours,
        "accounts/3000.json": theirs["accounts/3000.json"],
        "accounts/1000.json": account(300, "3"),
    }
    assert merge_books_conflict(paths, base.get, ours.get, theirs.get, balanced.get) == []


def test_a_plain_git_merge_records_the_same_books_conflict(
    client_file: Callable[..., Path], gitsync: Run, tmp_path: Path
) -> None:
    import pygit2

    from gitsync.merge.tree import merge_commits

    top = client_file()
    _balances(
        gitsync,
        top,
        tmp_path,
        "start.csv",
        "1000,Cash,asset,0\n2000,Pay,liability,0\n3000,Capital,equity,0\n",
    )
    senior, manager = tmp_path / "senior", tmp_path / "manager"
    for dest in (senior, manager):
        _ok(gitsync("copy", top, dest))
    _balances(gitsync, senior, tmp_path, "a.csv", "1000,,,100\n2000,,,-100\n")
    _balances(gitsync, manager, tmp_path, "b.csv", "1000,,,200\n3000,,,-200\n")
    git(senior, "branch", "before-merge")
    git(senior, "pull", "-q", "--no-rebase", "--no-edit", str(manager), "work")
    conflicts = _ok(gitsync("conflicts", "--json", cwd=senior))["conflicts"]
    assert sorted(c["rule"] for c in conflicts) == ["same-field", "unbalanced-books"]
    assert git(senior, "status", "--porcelain").stdout == ""
    assert _ok(gitsync("check", cwd=senior)).stdout.startswith("No rule is broken")
    # The plain git merge and the in-process one (what sync runs) reach the same tree.
    repo = pygit2.Repository(str(senior))
    ours = repo.revparse_single("before-merge").id
    theirs = repo.revparse_single("HEAD~1^2").id
    merged = merge_commits(repo, ours, theirs)
    assert merged.tree == repo.revparse_single("HEAD").peel(pygit2.Tree).id
