"""Year-end close: make next year's client file from this year's.

The new file is a new client file (its own history, its own hierarchy) with
the year end one year later. From the committed state of the source:

- every live account carries, with this year's adjusted balance put first in
  its ``prior`` list (newest first);
- balance-sheet accounts (asset, liability, equity) carry their adjusted
  balance as the new unadjusted ``balance``; revenue and expense start at
  zero, and their adjusted balances close into the retained earnings account
  (an equity account), so the new trial balance sums to what the old adjusted
  one did (zero for a balanced ledger), exact to the cent;
- tax codes, journals, units, the mask, folders, documents (their latest
  content) and the protection list carry;
- entries (proposed ones too), conflicts and the sync registry do not.

Refused when the destination is an existing sync file (or any non-empty
folder), and while the source has active sync copies other than the
top-level parent's own registration: sync them in and remove them first.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gitsync.config import LocalState
from gitsync.errors import GitsyncError, NotFound, Refused, UsageError
from gitsync.ledger.reports import trial_balance
from gitsync.maintenance.backup import check_rights
from gitsync.model import canonical
from gitsync.model.money import format_amount
from gitsync.model.records import BALANCE_SHEET_TYPES, KINDS, document_content_path
from gitsync.repo.clientfile import ClientFile
from gitsync.repo.create import create_client_file
from gitsync.repo.snapshot import Snapshot
from gitsync.rules.commit import check_commit, commit_checked

#: Record kinds that carry into next year's file as they are.
CARRIED_KINDS = ("taxcode", "journal", "unit", "mask", "folder", "document", "user")
INCOME_TYPES = ("revenue", "expense")


class YearEndRefused(Refused):
    """The year-end close cannot run now; the message says why and what to do."""


@dataclass
class YearEndReport:
    """What the close made."""

    source: str
    path: str
    year_end: str
    new_year_end: str
    retained_earnings: str
    net_income: str  # revenue and expense closed into retained earnings (credit negative)
    accounts: int
    carried: dict[str, int] = field(default_factory=dict)
    total_before: str = "0.00"  # the source's adjusted total
    total_after: str = "0.00"  # the new file's unadjusted total
    commit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def next_year_end(year_end: str) -> str:
    """The same day a year later (29 February becomes 28 February)."""
    current = date.fromisoformat(year_end)
    try:
        return current.replace(year=current.year + 1).isoformat()
    except ValueError:
        return current.replace(year=current.year + 1, day=28).isoformat()


def active_copies(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Registry records of active copies, without the top-level parent's own (parent None)."""
    return [
        record
        for _, record in snapshot.records(KINDS["copy"].folder)
        if record.get("state") == "active" and record.get("parent") is not None
    ]


def find_retained_earnings(snapshot: Snapshot, chosen: str | None) -> dict[str, Any]:
    """The retained earnings account: ``chosen`` (a number), else the equity account so named."""
    accounts = [record for _, record in snapshot.records(KINDS["account"].folder)]
    if chosen is not None:
        found = next((a for a in accounts if a["number"] == chosen), None)
        if found is None:
            raise NotFound(f"account {chosen}: no such live account for retained earnings")
        if found["type"] != "equity":
            raise UsageError(
                f"account {chosen} ({found['name']}): retained earnings must be an equity "
                f"account, not {found['type']}"
            )
        return found
    named = [
        a for a in accounts if a["type"] == "equity" and "retained earnings" in a["name"].lower()
    ]
    if len(named) == 1:
        return named[0]
    if not named:
        raise UsageError(
            "no equity account named 'Retained earnings'; name the account with "
            "--retained-earnings ACCOUNT"
        )
    numbers = ", ".join(a["number"] for a in named)
    raise UsageError(
        f"more than one equity account is named 'Retained earnings' ({numbers}); choose one "
        "with --retained-earnings ACCOUNT"
    )


def _is_sync_file(dest: Path) -> str | None:
    try:
        other = ClientFile.open(dest, check_format=False)
    except GitsyncError:
        return None
    if other.root != dest:
        return None
    state = LocalState.load(dest)
    if state is not None and state.role == "child":
        return "it is a sync copy"
    if active_copies(other.snapshot()):
        return "it has active sync copies"
    return None


def year_end_close(
    client_file: ClientFile, to: Path, *, retained_earnings: str | None = None
) -> YearEndReport:
    """Make next year's client file at ``to`` from ``client_file``'s committed state."""
    to = to.expanduser().resolve()
    if to.exists():
        why = _is_sync_file(to)
        if why is not None:
            raise YearEndRefused(
                f"{to}: year-end close never writes into an existing sync file ({why})"
            )
        if not to.is_dir() or any(to.iterdir()):
            raise UsageError(f"{to}: the folder exists and is not empty")
    check_rights(client_file, "year-end-close")
    snapshot = client_file.snapshot()
    copies = active_copies(snapshot)
    if copies:
        listed = ", ".join(f"{c['id']} ({c.get('user', '')})" for c in copies)
        raise YearEndRefused(
            f"{client_file.root}: year-end close refused while sync copies are active ({listed}); "
            "sync them in and delete or abandon them first"
        )
    engagement = snapshot.read("engagement.json")
    assert engagement is not None
    retained = find_retained_earnings(snapshot, retained_earnings)
    tb = trial_balance(snapshot)
    strays = [line.number for line in tb.lines if not line.in_chart]
    if strays:
        raise YearEndRefused(
            f"entries use accounts that are not in the trial balance ({', '.join(strays)}); "
            "run 'gitsync check' and fix them first"
        )
    net_income = sum(line.adjusted for line in tb.lines if line.type in INCOME_TYPES)
    accounts: dict[str, dict[str, Any]] = {}
    for line in tb.lines:
        path = KINDS["account"].path_for(line.number)
        record = snapshot.read(path)
        assert record is not None
        carried = {k: v for k, v in record.items() if k not in ("modified", "deleted")}
        carried["prior"] = [line.adjusted, *record.get("prior", [])]
        if line.type in BALANCE_SHEET_TYPES:
            carried["balance"] = line.adjusted
        else:
            carried["balance"] = 0
        if line.number == retained["number"]:
            carried["balance"] = line.adjusted + net_income
        accounts[path] = carried
    total_after = sum(a["balance"] for a in accounts.values())
    if total_after != tb.adjusted:  # holds by construction; a guard against a future edit
        raise GitsyncError("year-end close would change the trial balance total; nothing written")

    records: dict[str, dict[str, Any]] = dict(accounts)
    carried_counts: dict[str, int] = {"account": len(accounts)}
    content: dict[str, bytes] = {}
    for kind_name in CARRIED_KINDS:
        kind = KINDS[kind_name]
        paths = [kind.singleton] if kind.singleton else snapshot.paths(kind.folder)
        count = 0
        for path in paths:
            record = snapshot.live(path)
            if record is None:
                continue
            records[path] = {k: v for k, v in record.items() if k != "modified"}
            count += 1
            if kind_name == "document":
                data = snapshot.read_bytes(document_content_path(record))
                if data is None:
                    raise YearEndRefused(
                        f"{path}: the document's content is missing; run 'gitsync repair' first"
                    )
                content[document_content_path(record)] = data
        carried_counts[kind_name] = count

    new_year_end = next_year_end(engagement["year_end"])
    to.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{to.name}.", suffix=".yearend", dir=to.parent))
    try:
        staging.rmdir()
        new_file = create_client_file(
            staging,
            client=engagement["client_name"],
            number=engagement["client_number"],
            city=engagement.get("city", ""),
            year_end=new_year_end,
            checker=check_commit,
        )
        who = new_file.identity()
        template = new_file.snapshot()
        changes: dict[str, bytes] = {}
        for path, record in records.items():
            existing = template.read(path)
            if (
                existing is not None
                and {k: v for k, v in existing.items() if k != "modified"} == record
            ):
                continue
            changes[path] = canonical.dumps({**record, "modified": who.modified()})
        changes.update(content)
        summary = (
            f"Year-end close from {client_file.root.name} (year end {engagement['year_end']}): "
            f"balances carried forward, income closed to {retained['number']}"
        )
        commit = commit_checked(new_file, changes, summary, identity=who)
        new_file.set_ref("refs/heads/main", commit, new_file.ref("refs/heads/main"))
        if to.exists():
            to.rmdir()
        staging.rename(to)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return YearEndReport(
        source=str(client_file.root),
        path=str(to),
        year_end=engagement["year_end"],
        new_year_end=new_year_end,
        retained_earnings=retained["number"],
        net_income=format_amount(net_income),
        accounts=len(accounts),
        carried=carried_counts,
        total_before=format_amount(tb.adjusted),
        total_after=format_amount(total_after),
        commit=str(commit),
    )
