"""The trial balance report: unadjusted, adjustments and adjusted balance per account.

Proposed entries (journal PAJE) are not posted, as in Working Papers: they do
not count in ``adjustments`` or ``adjusted``. They are shown beside, in
``proposed``, so a reviewer sees what posting them would move. Every amount is
integer cents throughout; the totals of a balanced ledger are zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitsync.ledger.changes import number_key
from gitsync.model.money import format_amount
from gitsync.model.records import KINDS

if TYPE_CHECKING:
    from gitsync.repo.snapshot import Snapshot

PROPOSED_JOURNALS = frozenset({"PAJE"})


@dataclass(frozen=True)
class TrialBalanceLine:
    """One account of the trial balance, amounts in cents.

    ``in_chart`` is False for an account that entries use but that is not a
    live account (possible only in a file the rules have not checked); it is
    shown so the totals still add up.
    """

    number: str
    name: str
    type: str | None
    unadjusted: int
    adjustments: int
    proposed: int
    in_chart: bool = True
    map: str | None = None
    #: Last year's closing balance (the account's first ``prior``), None when not given.
    prior: int | None = None

    @property
    def adjusted(self) -> int:
        return self.unadjusted + self.adjustments

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "name": self.name,
            "type": self.type,
            "unadjusted": format_amount(self.unadjusted),
            "adjustments": format_amount(self.adjustments),
            "adjusted": format_amount(self.adjusted),
            "proposed": format_amount(self.proposed),
        }
        if not self.in_chart:
            data["in_chart"] = False
        return data


@dataclass(frozen=True)
class TrialBalance:
    lines: tuple[TrialBalanceLine, ...]

    @property
    def unadjusted(self) -> int:
        return sum(line.unadjusted for line in self.lines)

    @property
    def adjustments(self) -> int:
        return sum(line.adjustments for line in self.lines)

    @property
    def adjusted(self) -> int:
        return sum(line.adjusted for line in self.lines)

    @property
    def proposed(self) -> int:
        return sum(line.proposed for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": [line.to_json() for line in self.lines],
            "totals": {
                "unadjusted": format_amount(self.unadjusted),
                "adjustments": format_amount(self.adjustments),
                "adjusted": format_amount(self.adjusted),
                "proposed": format_amount(self.proposed),
            },
        }


def trial_balance(snapshot: Snapshot) -> TrialBalance:
    """The trial balance of ``snapshot``: one line per live account, in number order.

    ``adjustments`` sums the live entry lines on the account outside PAJE;
    ``proposed`` sums the PAJE lines, which never reach ``adjusted``.
    """
    adjustments: dict[str, int] = {}
    proposed: dict[str, int] = {}
    for _, entry in snapshot.records("entries"):
        into = proposed if entry["journal"] in PROPOSED_JOURNALS else adjustments
        for line in entry["lines"]:
            into[line["account"]] = into.get(line["account"], 0) + line["amount"]
    lines: list[TrialBalanceLine] = []
    for _, account in snapshot.records("accounts"):
        number = account["number"]
        lines.append(
            TrialBalanceLine(
                number=number,
                name=account["name"],
                type=account["type"],
                unadjusted=account["balance"],
                adjustments=adjustments.pop(number, 0),
                proposed=proposed.pop(number, 0),
                map=account.get("map"),
                prior=account["prior"][0] if account.get("prior") else None,
            )
        )
    for number in sorted(set(adjustments) | set(proposed)):
        removed = snapshot.read(KINDS["account"].path_for(number))
        lines.append(
            TrialBalanceLine(
                number=number,
                name=str(removed["name"]) + " (removed)" if removed else "(not in the chart)",
                type=removed.get("type") if removed else None,
                unadjusted=0,
                adjustments=adjustments.get(number, 0),
                proposed=proposed.get(number, 0),
                in_chart=False,
            )
        )
    lines.sort(key=lambda line: number_key(line.number))
    return TrialBalance(tuple(lines))
