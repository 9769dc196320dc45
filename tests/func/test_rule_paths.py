"""One rule set everywhere: every registered rule, proved on each path a change can take.

For each rule in ``gitsync.rules.RULES`` a case breaks it by hand in a copy,
as a plain-git user would, and the test proves that:

1. the command that would make the same change refuses it (where one exists);
2. the pre-commit hook refuses the commit;
3. ``gitsync check`` names the rule once the commit is made with ``--no-verify``;
4. the parent's pre-receive refuses the push of it, and its shared line stays.

A rule registered without a case here fails ``test_every_registered_rule_has_a_case``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Hierarchy, git, git_out

STAMP = {"at": "2026-06-01T10:00:00.000000Z", "by": "auditor", "copy": "setup"}


def _write(where: Path, path: str, record: dict[str, Any]) -> None:
    from gitsync.model import canonical

    target = where / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(canonical.dumps(record))


def _entry(ident: str, number: int, lines: list[tuple[str, int]], **extra: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "journal": "AJE",
        "number": number,
        "date": "2026-12-31",
        "description": "Reclass",
        "created_at": "2026-06-01T10:00:00.000000Z",
        "lines": [
            {"id": f"l{i}", "account": account, "amount": amount}
            for i, (account, amount) in enumerate(lines)
        ],
        **extra,
    }


def _account(number: str, balance: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "number": number,
        "name": f"Account {number}",
        "type": "asset",
        "balance": balance,
        **extra,
    }


def _setup(h: Hierarchy) -> None:
    """The books every case starts from: two accounts with balances, one entry, one document."""
    a = h.a
    _write(a, "accounts/1000.json", _account("1000", 50000))
    _write(a, "accounts/2000.json", {**_account("2000", -50000), "type": "liability"})
    _write(a, "accounts/a100.json", _account("a100"))
    _write(a, "entries/e0000000001.json", _entry("e0000000001", 1, [("1000", 100), ("2000", -100)]))
    h.sync(a)


@dataclass(frozen=True)
class Case:
    """How to break one rule by hand, and the command that refuses the same change itself."""

    rule: str
    breaks: Callable[[Path], None]
    cli: tuple[str, ...] = ()
    cli_code: int = 4
    before: Callable[[Hierarchy], None] | None = None
    #: The rule ``check`` names, when a whole-file check finds the problem from the other
    #: side (a deleted account still in use is a line that refers to a deleted account).
    check_rule: str | None = None


def _document_with_wrong_sha(where: Path) -> None:
    content = b"letter"
    _write(
        where,
        "documents/d00000000001.json",
        {
            "id": "d00000000001",
            "name": "letter.txt",
            "folder": None,
            "kind": "text",
            "sync_mode": "sync",
            "sha256": hashlib.sha256(b"another").hexdigest(),
            "size": len(content),
        },
    )
    (where / "documents" / "d00000000001").mkdir(parents=True, exist_ok=True)
    (where / "documents" / "d00000000001" / "letter.txt").write_bytes(content)


def _an_entry_uses_a100(h: Hierarchy) -> None:
    _write(h.a, "entries/e0000000003.json", _entry("e0000000003", 3, [("a100", 1), ("2000", -1)]))
    h.sync(h.a)


def _lock_down(h: Hierarchy) -> None:
    for copy in (h.b, h.g, h.a):
        h.sync(copy)
    locked = h.run(h.top, "lockdown")
    assert locked.code == 0, locked.stderr
    h.sync(h.a)
    # Lockdown judges a change against the state before it: check knows the last state it
    # found clean (a whole-file check of one tree cannot tell what came after a lockdown).
    assert h.run(h.a, "check").code == 0


CASES: dict[str, Case] = {
    c.rule: c
    for c in (
        Case(
            "balanced-entry",
            lambda w: _write(
                w,
                "entries/e0000000002.json",
                _entry("e0000000002", 2, [("1000", 100), ("2000", -50)]),
            ),
            cli=(
                *("entry", "add", "--journal", "AJE", "--date", "2026-12-31"),
                *("--description", "x", "--line", "1000=1.00", "--line", "2000=-0.50"),
            ),
            cli_code=2,
        ),
        Case(
            "zero-entry",
            lambda w: _write(
                w, "entries/e0000000002.json", _entry("e0000000002", 2, [("1000", 0), ("2000", 0)])
            ),
            cli=(
                *("entry", "add", "--journal", "AJE", "--date", "2026-12-31"),
                *("--description", "x", "--line", "1000=0", "--line", "2000=0"),
            ),
        ),
        Case(
            "entry-date",
            lambda w: _write(
                w,
                "entries/e0000000002.json",
                _entry("e0000000002", 2, [("1000", 1), ("2000", -1)], date="2020-01-01"),
            ),
            cli=(
                *("entry", "add", "--journal", "AJE", "--date", "2020-01-01"),
                *("--description", "x", "--line", "1000=1", "--line", "2000=-1"),
            ),
        ),
        Case(
            "unique-entry-number",
            # An entry file copied under a new id: AJE-1 twice.
            lambda w: _write(
                w, "entries/e0000000002.json", _entry("e0000000002", 1, [("1000", 5), ("2000", -5)])
            ),
            cli=(
                *("entry", "add", "--journal", "AJE", "--date", "2026-12-31", "--number", "1"),
                *("--description", "x", "--line", "1000=1", "--line", "2000=-1"),
            ),
            cli_code=2,
        ),
        Case(
            "path-name",
            lambda w: (w / ("n" * 201 + ".txt")).write_bytes(b"a note"),
        ),
        Case(
            "reference",
            lambda w: _write(
                w, "entries/e0000000002.json", _entry("e0000000002", 2, [("9999", 1), ("2000", -1)])
            ),
            cli=(
                *("entry", "add", "--journal", "AJE", "--date", "2026-12-31"),
                *("--description", "x", "--line", "9999=1", "--line", "2000=-1"),
            ),
            cli_code=5,
        ),
        Case(
            "in-use",
            lambda w: _write(w, "accounts/a100.json", {**_account("a100"), "deleted": True}),
            before=_an_entry_uses_a100,
            cli=("account", "remove", "a100"),
            check_rule="reference",
        ),
        Case(
            "unique-account",
            lambda w: _write(w, "accounts/A100.json", _account("A100")),
            cli=("account", "add", "A100", "Another", "--type", "asset"),
        ),
        Case(
            "map-mask",
            lambda w: _write(w, "accounts/3000.json", _account("3000", map="1234567")),
            cli=("account", "add", "3000", "Mapped", "--type", "asset", "--map", "1234567"),
        ),
        Case("document-content", _document_with_wrong_sha),
        Case(
            "balanced-books",
            lambda w: _write(w, "accounts/1000.json", _account("1000", 50100)),
            cli=("account", "remove", "1000"),
        ),
        Case(
            "lockdown",
            lambda w: _write(w, "accounts/3000.json", _account("3000")),
            cli=("account", "add", "3000", "Cash", "--type", "asset"),
            before=_lock_down,
        ),
    )
}


def test_every_registered_rule_has_a_case() -> None:
    from gitsync.rules import RULES

    assert sorted(r.name for r in RULES) == sorted(CASES), (
        "a rule joins RULES with a case here that proves it on every path"
    )


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_rule_refuses_on_every_path(hierarchy: Hierarchy, rule: str) -> None:
    case = CASES[rule]
    _setup(hierarchy)
    if case.before is not None:
        case.before(hierarchy)
    a = hierarchy.a
    mark = f"(rule: {rule})"
    head = git_out(a, "rev-parse", "HEAD").strip()

    # 1. The command refuses the same change itself, before any commit.
    if case.cli:
        refused = hierarchy.run(a, *case.cli)
        assert refused.code == case.cli_code, refused.stdout + refused.stderr
        assert git_out(a, "rev-parse", "HEAD").strip() == head

    # 2. pre-commit refuses the hand-made change.
    case.breaks(a)
    git(a, "add", "-A")
    committed = git(a, "commit", "-q", "-m", f"Break {rule}", check=False)
    assert committed.returncode == 1, committed.stdout + committed.stderr
    assert mark in committed.stderr, committed.stderr
    assert git_out(a, "rev-parse", "HEAD").strip() == head

    # 3. gitsync check names the rule in the committed file.
    git(a, "commit", "--no-verify", "-q", "-m", f"Break {rule}")
    checked = hierarchy.run(a, "check")
    assert checked.code == 4, checked.stdout + checked.stderr
    assert f"(rule: {case.check_rule or rule})" in checked.stdout, checked.stdout

    # 4. The parent's pre-receive refuses the push; its shared line stays.
    parent_main = git_out(hierarchy.top, "rev-parse", "main").strip()
    pushed = git(a, "push", "parent", "HEAD:main", check=False)
    assert pushed.returncode != 0, pushed.stderr
    assert mark in pushed.stderr, pushed.stderr
    assert git_out(hierarchy.top, "rev-parse", "main").strip() == parent_main
