"""The Working Papers rules on records (DESIGN section 5).

Each rule checks the changed records, plus what the change can break
elsewhere: a tombstone is checked against what still refers to it, a new mask
against every account's map number. Only then does a rule read more than the
change itself.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta

from gitsync.errors import InputError, RuleViolation
from gitsync.model.books import UNBALANCED_BOOKS, book_balance
from gitsync.model.money import format_amount, format_money
from gitsync.model.names import component_problem
from gitsync.model.records import (
    KINDS,
    document_content_path,
    document_sync,
    ident_of,
    is_tombstone,
)
from gitsync.rules.engine import Record, RuleContext, rule

MASK_PATH = KINDS["mask"].path_for("")


def _path(kind: str, ident: str) -> str:
    return KINDS[kind].path_for(ident)


def _live_targets(ctx: RuleContext, kind: str) -> Iterator[tuple[str, Record]]:
    return ((p, r) for p, r in ctx.targets(kind) if not is_tombstone(r))


# --- balanced entries ---------------------------------------------------------------


@rule("balanced-entry")
def balanced_entries(ctx: RuleContext) -> Iterator[RuleViolation]:
    """Each live entry has at least two lines and its amounts sum to zero."""
    for path, entry in _live_targets(ctx, "entry"):
        lines = entry["lines"]
        if len(lines) < 2:
            yield RuleViolation(
                path,
                "lines",
                "balanced-entry",
                f"needs at least two lines (has {len(lines)})",
            )
            continue
        total = sum(line["amount"] for line in lines)
        if total != 0:
            yield RuleViolation(
                path,
                "lines",
                "balanced-entry",
                f"debits and credits must balance; the lines sum to {format_amount(total)}",
            )


@rule("zero-entry")
def entries_move_an_amount(ctx: RuleContext) -> Iterator[RuleViolation]:
    """A live entry has at least one line with an amount; an entry of zeros adjusts nothing."""
    for path, entry in _live_targets(ctx, "entry"):
        lines = entry["lines"]
        if len(lines) >= 2 and all(line["amount"] == 0 for line in lines):
            yield RuleViolation(
                path, "lines", "zero-entry", "every line is zero; an entry must move an amount"
            )


ENGAGEMENT_PATH = KINDS["engagement"].path_for("")


def entry_window(year_end: str) -> tuple[date, date] | None:
    """The dates an entry may carry: the prior fiscal year, this one, and a year after year end.

    For a year end of 2026-12-31: 2025-01-01 to 2027-12-31. The prior year
    takes opening and comparative adjustments; the year after, subsequent
    events up to the audit report. None when the year end is not a date.
    """
    try:
        end = date.fromisoformat(year_end)
    except (TypeError, ValueError):
        return None
    return _years_from(end, -2) + timedelta(days=1), _years_from(end, 1)


def _years_from(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@rule("entry-date")
def entries_dated_in_the_engagement(ctx: RuleContext) -> Iterator[RuleViolation]:
    """A live entry is dated within the engagement's period (``entry_window`` of the year end).

    A changed year end re-checks every entry.
    """
    engagement = ctx.live(ENGAGEMENT_PATH)
    if engagement is None or ENGAGEMENT_PATH in ctx.broken:
        return
    window = entry_window(engagement.get("year_end", ""))
    if window is None:
        return
    first, last = window
    entries = (
        ctx.every("entry")
        if not ctx.whole
        and ENGAGEMENT_PATH in ctx.changed_paths()
        and _window_before(ctx) != window
        else iter(ctx.targets("entry"))
    )
    for path, entry in entries:
        if is_tombstone(entry) or path in ctx.broken:
            continue
        try:
            day = date.fromisoformat(entry["date"])
        except (TypeError, ValueError, KeyError):
            continue  # the schema reports it
        if not first <= day <= last:
            yield RuleViolation(
                path,
                "date",
                "entry-date",
                f"{entry['date']} is outside the engagement's period: entries are dated "
                f"{first.isoformat()} to {last.isoformat()} (year end {engagement['year_end']})",
            )


def _window_before(ctx: RuleContext) -> tuple[date, date] | None:
    """The entry window before the change; None when it had none (then every entry is read).

    An engagement edit that keeps the year end (a city, a name) leaves every
    unchanged entry as valid as it was: only the changed ones are read.
    """
    if ctx.before is None:
        return None
    try:
        engagement = ctx.before.read(ENGAGEMENT_PATH)
    except InputError:
        return None
    if engagement is None or is_tombstone(engagement):
        return None
    return entry_window(engagement.get("year_end", ""))


# --- entry numbers ---------------------------------------------------------------------


def _entry_key(entry: Record) -> tuple[str, int]:
    return str(entry["journal"]), int(entry["number"])


@rule("unique-entry-number")
def unique_entry_numbers(ctx: RuleContext) -> Iterator[RuleViolation]:
    """No two live entries of one journal share a number (``AJE-3`` names one entry).

    Only a change that gives an entry a number it did not have (a new entry,
    a renumbered one, one moved to another journal) looks at the other
    entries, through their blob ids (``gitsync.rules.keycache``: only blobs
    not seen before are read); an edit of a description or lines reads
    nothing more.
    """
    wanted: dict[tuple[str, int], list[str]] = {}
    for path, entry in _live_targets(ctx, "entry"):
        old = None if ctx.whole else _before(ctx, path)
        if old is not None and not is_tombstone(old) and _same_key(old, entry):
            continue
        wanted.setdefault(_entry_key(entry), []).append(path)
    if not wanted:
        return
    from gitsync.rules.keycache import entry_number_holders

    holders = entry_number_holders(ctx, set(wanted))
    for key, paths in sorted(wanted.items()):
        others = sorted(holders.get(key, []))
        for path in sorted(paths):
            clash = [p for p in others if p != path]
            if ctx.whole:
                clash = [p for p in clash if p < path]  # each pair once, on the later path
            if clash:
                journal, number = key
                yield RuleViolation(
                    path,
                    "number",
                    "unique-entry-number",
                    f"{journal}-{number} is already the number of {clash[0]} (entry numbers "
                    f"are unique in a journal; give this entry another number)",
                )


def _same_key(old: Record, new: Record) -> bool:
    return old.get("journal") == new.get("journal") and old.get("number") == new.get("number")


# --- names on disk -----------------------------------------------------------------------


@rule("path-name")
def paths_fit_on_disk(ctx: RuleContext) -> Iterator[RuleViolation]:
    """Every path in the file is valid UTF-8 and each of its parts fits on disk (in bytes).

    A name past the bytes a file system allows is committed fine and then
    cannot be written as a working file in any copy (``gitsync.model.names``).
    """
    paths = ctx.after.all_paths if ctx.whole else sorted(ctx.changed_paths())
    for path in paths:
        if not ctx.whole and ctx.after.read_bytes(path) is None:
            continue  # a path this change removes
        for part in path.split("/"):
            problem = component_problem(part)
            if problem:
                yield RuleViolation(
                    path.encode("utf-8", "replace").decode(), "", "path-name", problem
                )
                break


# --- referential integrity ------------------------------------------------------------


def entry_references(entry: Record) -> Iterator[tuple[str, str]]:
    """``(field, path)`` for every record a live entry refers to."""
    yield "journal", _path("journal", entry["journal"])
    for i, line in enumerate(entry["lines"]):
        yield f"lines[{i}].account", _path("account", line["account"])
        if line.get("tax_code") is not None:
            yield f"lines[{i}].tax_code", _path("taxcode", line["tax_code"])


def record_references(kind: str, record: Record) -> Iterator[tuple[str, str]]:
    """``(field, path)`` for every record that ``record`` (of ``kind``) refers to."""
    if kind == "entry":
        yield from entry_references(record)
    elif kind == "account" and record.get("units") is not None:
        yield "units", _path("unit", record["units"])
    elif kind == "document" and record.get("folder") is not None:
        yield "folder", _path("folder", record["folder"])
    elif kind == "folder" and record.get("parent") is not None:
        yield "parent", _path("folder", record["parent"])


REFERRING_KINDS = ("entry", "account", "document", "folder")
# Which kinds of record refer to each kind of target, for the reverse check.
REFERRERS = {
    "account": ("entry",),
    "taxcode": ("entry",),
    "journal": ("entry",),
    "unit": ("account",),
    "folder": ("document", "folder"),
}


@rule("reference")
def references_resolve(ctx: RuleContext) -> Iterator[RuleViolation]:
    """Every reference of a live entry, account, document or folder names a live record."""
    for kind in REFERRING_KINDS:
        for path, record in _live_targets(ctx, kind):
            for where, target in record_references(kind, record):
                problem = ctx.reference_problem(target)
                if problem:
                    yield RuleViolation(
                        path, where, "reference", f"refers to {target}, which {problem}"
                    )
            if kind == "folder":
                cycle = _folder_cycle(ctx, path, record)
                if cycle:
                    yield RuleViolation(
                        path, "parent", "reference", f"folders may not contain themselves ({cycle})"
                    )


def _folder_cycle(ctx: RuleContext, path: str, folder: Record) -> str | None:
    seen = [folder["id"]]
    parent = folder.get("parent")
    while isinstance(parent, str):
        if parent in seen:
            return " -> ".join([*seen, parent])
        seen.append(parent)
        above = ctx.read(_path("folder", parent))
        parent = None if above is None else above.get("parent")
    return None


@rule("in-use")
def tombstones_unreferenced(ctx: RuleContext) -> Iterator[RuleViolation]:
    """A record that a live record still refers to cannot be deleted (names the referrer).

    Only a change that deletes an account, tax code, journal, unit or folder
    reads the records that may refer to it. A whole-file check leaves this to
    ``reference``, which finds the same problem from the referring side.
    """
    removed = {path: kind for kind in REFERRERS for path in ctx.removed(kind)}
    if not removed:
        return
    by_referrer_kind: dict[str, set[str]] = {}
    for path, kind in removed.items():
        for referrer_kind in REFERRERS[kind]:
            by_referrer_kind.setdefault(referrer_kind, set()).add(path)
    reported: set[str] = set()
    for referrer_kind, wanted in sorted(by_referrer_kind.items()):
        for referrer, record in ctx.every(referrer_kind):
            if is_tombstone(record) or referrer in ctx.broken:
                continue
            for where, target in record_references(referrer_kind, record):
                if target in wanted and target not in reported:
                    reported.add(target)
                    hint = ""
                    if removed[target] == "account":
                        hint = (
                            f"; move its lines first: gitsync account remove "
                            f"{ident_of(target)} --move-to ACCOUNT"
                        )
                    yield RuleViolation(
                        target,
                        "deleted",
                        "in-use",
                        f"cannot be deleted: {referrer} ({where}) still refers to it{hint}",
                    )


# --- account numbers ------------------------------------------------------------------


def account_key(number: str) -> str:
    """The form two account numbers must not share: NFC, trimmed, case-folded."""
    return unicodedata.normalize("NFC", number).strip().casefold()


@rule("unique-account")
def unique_account_numbers(ctx: RuleContext) -> Iterator[RuleViolation]:
    """No account number twice, also not differing only in case or surrounding whitespace."""
    targets = list(_live_targets(ctx, "account"))
    if not targets:
        return
    by_key: dict[str, list[str]] = {}
    for path in ctx.after.paths(KINDS["account"].folder):
        by_key.setdefault(account_key(ident_of(path)), []).append(path)
    for path, account in targets:
        for other in by_key.get(account_key(account["number"]), []):
            if other == path or ctx.live(other) is None:
                continue
            if ctx.whole and other > path:
                continue  # a whole-file check reports each pair once, on the later path
            yield RuleViolation(
                path,
                "number",
                "unique-account",
                f"account '{account['number']}' clashes with {other} (account numbers must "
                "differ by more than case or spaces)",
            )
            break


# --- the map number mask ------------------------------------------------------------


def mask_character_fits(character: str, mask_character: str) -> bool:
    if mask_character == "9":
        return character in "0123456789"
    if mask_character == "A":
        return character.isalpha()
    if mask_character == "X":
        return character.isalpha() or character in "0123456789"
    return character == mask_character


def map_problem(map_number: str, mask: str) -> str | None:
    """Why ``map_number`` does not fit ``mask``, or None when it fits.

    Mask characters: ``9`` a digit, ``A`` a letter, ``X`` a letter or digit,
    anything else itself. A map number fits when it is no longer than the mask
    and each of its characters matches the mask character at its place.
    """
    if len(map_number) > len(mask):
        return f"map number '{map_number}' is longer than the mask '{mask}'"
    for place, (character, mask_character) in enumerate(zip(map_number, mask, strict=False)):
        if not mask_character_fits(character, mask_character):
            return (
                f"map number '{map_number}' does not fit the mask '{mask}' "
                f"(character {place + 1} '{character}' against '{mask_character}')"
            )
    return None


@rule("map-mask")
def maps_fit_the_mask(ctx: RuleContext) -> Iterator[RuleViolation]:
    """Every account's map number fits the mask in mapping/mask.json (a new mask re-checks all)."""
    mask_record = ctx.live(MASK_PATH)
    if (
        mask_record is None
        or MASK_PATH in ctx.broken
        or not isinstance(mask_record.get("mask"), str)
    ):
        return
    mask = mask_record["mask"]
    accounts = (
        ctx.every("account")
        if not ctx.whole and MASK_PATH in ctx.changed_paths()
        else iter(ctx.targets("account"))
    )
    for path, account in accounts:
        if is_tombstone(account) or path in ctx.broken:
            continue
        map_number = account.get("map")
        if not isinstance(map_number, str):
            continue
        problem = map_problem(map_number, mask)
        if problem:
            yield RuleViolation(path, "map", "map-mask", problem)


# --- documents -------------------------------------------------------------------------


def _changed_documents(ctx: RuleContext) -> list[tuple[str, Record]]:
    if ctx.whole:
        return ctx.targets("document")
    paths = {p for p, _ in ctx.targets("document")}
    for changed in ctx.changed_paths():
        parts = changed.split("/")
        if len(parts) == 3 and parts[0] == "documents":
            paths.add(_path("document", parts[1]))
    found = []
    for path in sorted(paths):
        record = ctx.read(path)
        if record is not None and path not in ctx.broken:
            found.append((path, record))
    return found


@rule("document-content")
def document_content_matches(ctx: RuleContext) -> Iterator[RuleViolation]:
    """A live document's content file is in the tree with the sha256 and size its record states.

    A document kept locally (``sync_mode: local``), on demand or never
    synced leaves its content out of the tree; when the content is there,
    it must still match.
    """
    for path, document in _changed_documents(ctx):
        if is_tombstone(document):
            continue
        content_path = document_content_path(document)
        data = ctx.after.read_bytes(content_path)
        if data is None:
            if document["sync_mode"] != "local" and document_sync(document) == "automatic":
                yield RuleViolation(
                    path,
                    "name",
                    "document-content",
                    f"its content {content_path} is missing",
                )
            continue
        if len(data) != document["size"]:
            yield RuleViolation(
                path,
                "size",
                "document-content",
                f"states {document['size']} bytes but {content_path} has {len(data)}",
            )
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != str(document["sha256"]).lower():
            yield RuleViolation(
                path, "sha256", "document-content", f"does not match the sha256 of {content_path}"
            )


# --- the books balance ------------------------------------------------------------------

BALANCED_BOOKS = "balanced-books"
ACCOUNTS = KINDS["account"].folder
CONFLICTS = KINDS["conflict"].folder


def books_total(ctx: RuleContext) -> int | None:
    """The adjusted trial balance total after the change (reads every account).

    None when an account record cannot be read: its own check reports it, and
    no total can be told.
    """
    total = 0
    for path, record in ctx.every("account"):
        if path in ctx.broken:
            return None
        total += book_balance(record)
    for path in ctx.after.paths(ACCOUNTS):
        if path in ctx.broken:
            return None
    return total


def _before(ctx: RuleContext, path: str) -> Record | None:
    if ctx.before is None:
        return None
    try:
        return ctx.before.read(path)
    except InputError:
        return None


def open_books_conflict(ctx: RuleContext) -> str | None:
    """The path of an open ``unbalanced-books`` conflict after the change, or None."""
    for path in ctx.after.paths(CONFLICTS):
        record = ctx.read(path)
        if record and record.get("rule") == UNBALANCED_BOOKS and record.get("status") == "open":
            return path
    return None


def _settles_books_conflict(ctx: RuleContext) -> bool:
    """True when the change closes (or removes) an open ``unbalanced-books`` conflict."""
    for path in ctx.changed_paths():
        if not path.startswith(f"{CONFLICTS}/"):
            continue
        old = _before(ctx, path)
        if not old or old.get("rule") != UNBALANCED_BOOKS or old.get("status") != "open":
            continue
        new = ctx.read(path)
        if new is None or new.get("status") != "open" or is_tombstone(new):
            return True
    return False


def out_of_balance(total: int) -> str:
    side = "debits exceed credits" if total > 0 else "credits exceed debits"
    return f"{side} by {format_money(abs(total))}"


@rule(BALANCED_BOOKS)
def books_balance(ctx: RuleContext) -> Iterator[RuleViolation]:
    """The adjusted trial balance (what ``tb`` totals) sums to zero.

    A change moves the total by the sum of its accounts' balance changes, so
    only a change that moves it (or settles an ``unbalanced-books`` conflict)
    reads every account. While a merge's ``unbalanced-books`` conflict is
    open the books may stay out of balance: the conflict says so and keeps
    every value, and resolving it must balance them.
    """
    removed_with_balance: list[tuple[str, int]] = []
    if not ctx.whole:
        delta = 0
        for path, record in ctx.targets("account"):
            old = book_balance(_before(ctx, path))
            delta += book_balance(record) - old
            if old and is_tombstone(record):
                removed_with_balance.append((path, old))
        if delta == 0 and not _settles_books_conflict(ctx):
            return
    total = books_total(ctx)
    if not total or open_books_conflict(ctx) is not None:
        return
    if removed_with_balance:
        path, balance = removed_with_balance[0]
        number = ident_of(path)
        yield RuleViolation(
            path,
            "deleted",
            BALANCED_BOOKS,
            f"account {number} has a balance of {format_money(balance)}; removing it would "
            f"leave the trial balance out of balance ({out_of_balance(total)}); move its "
            f"balance first: gitsync account remove {number} --move-to ACCOUNT",
        )
        return
    yield RuleViolation(
        ACCOUNTS,
        "balance",
        BALANCED_BOOKS,
        f"the adjusted trial balance must sum to zero, but {out_of_balance(total)}",
    )
