"""The commands' commit, ``gitsync.rules.commit_checked``: the rules judge what would be written
(the changes with their provenance), and a refusal writes nothing.

``ClientFile.commit`` sits below the rules and commits what it is given; the
check is handed to it from above (``checker``), so these tests go through the
real client file in a real repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitsync import create_client_file
from gitsync.errors import RuleViolation
from gitsync.ledger.accounts import add_account
from gitsync.maintenance.protection import add_user
from gitsync.model import canonical
from gitsync.model.view import RecordView
from gitsync.repo.clientfile import ClientFile, Identity
from gitsync.rules import commit_checked
from tests.helpers import git_out

ENTRY = "entries/e1.json"
CASH = "accounts/1000.json"


@pytest.fixture
def ledger_file(tmp_path: Path) -> ClientFile:
    cf = create_client_file(
        tmp_path / "cf", client="ABC Limited", number="1001", city="Toronto", year_end="2026-12-31"
    )
    add_account(cf, "1000", "Cash", "asset")
    add_account(cf, "2000", "Payables", "liability")
    return cf


def _written(cf: ClientFile) -> tuple[str, list[str], str, str]:
    """What a commit could have written: HEAD, every object, every ref, the working files."""
    return (
        git_out(cf.root, "rev-parse", "HEAD"),
        sorted(git_out(cf.root, "cat-file", "--batch-all-objects", "--batch-check").split("\n")),
        git_out(cf.root, "for-each-ref", "--format=%(refname) %(objectname)"),
        git_out(cf.root, "status", "--porcelain", "--untracked-files=all", "--ignored"),
    )


def _unbalanced_entry() -> bytes:
    return canonical.dumps(
        {
            "id": "e1",
            "journal": "AJE",
            "number": 1,
            "date": "2026-12-31",
            "description": "Accrue the audit fee",
            "created_at": "2026-12-31T10:00:00.000000Z",
            "lines": [
                {"id": "a", "account": "1000", "amount": 150000},
                {"id": "b", "account": "2000", "amount": -100000},
            ],
        }
    )


def test_a_checked_commit_that_breaks_a_rule_writes_nothing(ledger_file: ClientFile) -> None:
    before = _written(ledger_file)
    with pytest.raises(RuleViolation) as refused:
        commit_checked(ledger_file, {ENTRY: _unbalanced_entry()}, "Accrue the audit fee")
    assert refused.value.rule == "balanced-entry"
    assert _written(ledger_file) == before
    assert not (ledger_file.root / ENTRY).exists()


def test_the_plain_commit_below_the_rules_commits_what_it_is_given(
    ledger_file: ClientFile,
) -> None:
    """``ClientFile.commit`` without a checker is the unchecked commit (older files, repairs)."""
    made = ledger_file.commit({ENTRY: _unbalanced_entry()}, "Accrue the audit fee")
    assert git_out(ledger_file.root, "rev-parse", "HEAD").strip() == str(made)
    assert (ledger_file.root / ENTRY).read_bytes() == _unbalanced_entry()


def test_a_change_without_the_authors_right_writes_nothing(ledger_file: ClientFile) -> None:
    add_user(ledger_file, "auditor", "manager")
    add_user(ledger_file, "staff", "staff")
    cash = ledger_file.snapshot().read(CASH)
    assert cash is not None
    staff = Identity("staff", "staff@example.com", ledger_file.copy_id)
    renamed = canonical.dumps({**cash, "name": "Cash at bank", "modified": staff.modified()})
    before = _written(ledger_file)
    with pytest.raises(RuleViolation, match="modify-accounts"):
        commit_checked(ledger_file, {CASH: renamed}, "Rename cash", identity=staff)
    assert _written(ledger_file) == before
    # The same change by the manager, who holds the right, is committed.
    manager = ledger_file.identity()
    by_manager = canonical.dumps({**cash, "name": "Cash at bank", "modified": manager.modified()})
    made = commit_checked(ledger_file, {CASH: by_manager}, "Rename cash")
    assert git_out(ledger_file.root, "rev-parse", "HEAD").strip() == str(made)


def test_the_check_sees_the_changes_with_their_provenance_before_anything_is_written(
    ledger_file: ClientFile,
) -> None:
    cash = ledger_file.snapshot().read(CASH)
    assert cash is not None
    who = ledger_file.identity()
    renamed = canonical.dumps({**cash, "name": "Cash at bank", "modified": who.modified()})
    seen: dict[str, Any] = {}

    def refuse(before: RecordView, after: RecordView, changes: Any, author: str) -> None:
        """A ``CommitCheck`` that notes what it is told, then says no."""
        seen["changed"] = canonical.loads(changes[CASH], CASH)
        seen["after"] = after.read(CASH)
        seen["before"] = before.read(CASH)
        seen["author"] = author
        raise RuleViolation(CASH, "name", "test", "refused by the test's check")

    before = _written(ledger_file)
    with pytest.raises(RuleViolation, match="refused by the test's check"):
        ledger_file.commit({CASH: renamed}, "Rename cash", checker=refuse)
    assert _written(ledger_file) == before
    assert seen["before"] == cash and seen["author"] == who.name
    assert seen["changed"]["provenance"]["/name"] == seen["changed"]["modified"]
    assert seen["after"] == seen["changed"]
    # What the check saw is what a checked commit writes.
    commit_checked(ledger_file, {CASH: renamed}, "Rename cash")
    assert ledger_file.snapshot().read(CASH) == seen["changed"]


def test_a_new_client_file_the_rules_refuse_is_not_made(tmp_path: Path) -> None:
    """The first commit of ``create_client_file`` is checked too (the check handed down to repo)."""
    with pytest.raises(RuleViolation, match="year_end"):
        create_client_file(
            tmp_path / "cf", client="ABC Limited", number="1001", city="", year_end="2026-02-30"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == []
