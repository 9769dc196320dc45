"""Read a trial balance out of a client's export: find the header, map the columns, read the rows.

Exports from QuickBooks, Xero and Sage put title rows above the header
("Trial Balance", the company, "As at 31 December 2026"), section headings
and blank lines between accounts, and a total row at the foot; each names
its columns its own way. ``read_trial_balance`` finds the header row (the
first row naming an account column and amount columns), maps the columns
by the names those packages use, and reads each account row into a
``TrialBalanceRow``: amounts in cents from numbers or from text (thousands
separators, parentheses or a trailing Cr for credits), the type from a type
column or from the account number's leading digits (``--types``).

Anything it cannot read for certain is refused with the file, sheet, row
and column: a formula with no saved value, merged cells in the header, an
amount written with a decimal comma when the file was not said to use one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

from gitsync.errors import UsageError
from gitsync.ledger.tables import Cell, Table, column_letter, column_number
from gitsync.model.money import AmountError, parse_amount
from gitsync.model.records import ACCOUNT_TYPES, is_valid_id

#: The fields a column can give; ``account`` is a number and a name in one cell.
FIELDS = ("number", "name", "account", "type", "debit", "credit", "balance", "prior", "map")
AMOUNTS = ("debit", "credit", "balance", "prior")

# Column names of QuickBooks, Xero, Sage and hand-made trial balances, normalised
# (lower case, single spaces, without a trailing colon or a bracketed currency).
# "account" alone is decided by what else the header has (see _resolve_account).
_ALIASES: dict[str, tuple[str, ...]] = {
    "number": (
        "account code",
        "code",
        "account number",
        "account no",
        "account no.",
        "account #",
        "acct",
        "acct no",
        "acct no.",
        "acct #",
        "number",
        "no",
        "no.",
        "nominal code",
        "nominal",
        "n/c",
        "a/c",
        "a/c code",
        "gl code",
        "gl account",
        "ledger code",
        "ref",
    ),
    "name": (
        "name",
        "account name",
        "description",
        "account description",
        "details",
        "title",
        "account title",
        "nominal name",
        "nominal description",
    ),
    "type": ("type", "account type", "acct type", "class", "account class"),
    "debit": (
        "debit",
        "debits",
        "dr",
        "debit amount",
        "debit balance",
        "closing debit",
        "debit closing balance",
    ),
    "credit": (
        "credit",
        "credits",
        "cr",
        "credit amount",
        "credit balance",
        "closing credit",
        "credit closing balance",
    ),
    "balance": (
        "balance",
        "net",
        "amount",
        "net balance",
        "closing balance",
        "ending balance",
        "net amount",
        "current year",
        "this year",
        "current year balance",
        "cy",
    ),
    "prior": (
        "prior year",
        "prior",
        "prior year balance",
        "last year",
        "previous year",
        "py",
        "comparative",
        "prior period",
        "prior year net",
    ),
    "map": ("map", "map no", "map no.", "map number", "mapping", "map code", "lead", "leadsheet"),
}
_FIELD_OF: dict[str, str] = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_FIELD_OF["account"] = "account"

# Account types as the packages name them, normalised; then words that decide the rest.
_TYPE_OF: dict[str, str] = {
    **dict.fromkeys(
        (
            "asset",
            "assets",
            "current asset",
            "current assets",
            "fixed asset",
            "fixed assets",
            "non-current asset",
            "non-current assets",
            "other asset",
            "other assets",
            "other current asset",
            "other current assets",
            "bank",
            "cash",
            "accounts receivable",
            "accounts receivable (a/r)",
            "a/r",
            "inventory",
            "stock",
            "prepayment",
            "prepayments",
        ),
        "asset",
    ),
    **dict.fromkeys(
        (
            "liability",
            "liabilities",
            "current liability",
            "current liabilities",
            "non-current liability",
            "non-current liabilities",
            "long term liability",
            "long term liabilities",
            "long-term liabilities",
            "other current liability",
            "other current liabilities",
            "accounts payable",
            "accounts payable (a/p)",
            "a/p",
            "credit card",
        ),
        "liability",
    ),
    **dict.fromkeys(("equity", "owner's equity", "owners equity", "capital"), "equity"),
    **dict.fromkeys(
        ("revenue", "income", "sales", "other income", "turnover", "other revenue"), "revenue"
    ),
    **dict.fromkeys(
        (
            "expense",
            "expenses",
            "other expense",
            "other expenses",
            "cost of goods sold",
            "cost of sales",
            "direct costs",
            "direct cost",
            "overhead",
            "overheads",
            "depreciation",
        ),
        "expense",
    ),
}
# Checked in this order: "cost of sales" is an expense, "income tax expense" too.
_TYPE_WORDS = (
    ("expense", "expense"),
    ("cost", "expense"),
    ("overhead", "expense"),
    ("asset", "asset"),
    ("receivable", "asset"),
    ("bank", "asset"),
    ("liabilit", "liability"),
    ("payable", "liability"),
    ("credit card", "liability"),
    ("equity", "equity"),
    ("income", "revenue"),
    ("revenue", "revenue"),
    ("sales", "revenue"),
)

_HEADER_SCAN = 50
_TOTAL = re.compile(r"^\s*(grand\s+|net\s+)?totals?\b", re.I)
_BRACKETED = re.compile(r"\s*[\(\[][^)\]]*[\)\]]\s*$")
# "1 234,56", "1.234,56", "-1234,56", "(12,50)": a decimal comma.
_DECIMAL_COMMA = re.compile(
    r"^[(+-]?\d{1,3}([ .\u00a0\u202f]\d{3})*,\d{1,2}\)?$|^[(+-]?\d+,\d{1,2}\)?$"
)
_COMBINED = (
    re.compile(r"^(?P<number>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:·|-|–|:|\s)\s*(?P<name>\S.*)$"),
    re.compile(r"^(?P<name>.*\S)\s*\((?P<number>[A-Za-z0-9][A-Za-z0-9._-]*)\)$"),
)
_CURRENCY = "$£€¥"
# Sage and MYOB mark a balance's side after it: "1,234.56 Cr".
_DR_CR = re.compile(r"^(.*[\d)])\s*(CR|DR)$", re.I)


@dataclass(frozen=True)
class TrialBalanceRow:
    """One account row of an import, checked, amounts in cents; ``line`` is its line or row."""

    line: int | None
    account: str
    name: str | None
    type: str | None
    balance: int
    map: str | None
    prior: int | None = None


@dataclass(frozen=True)
class Layout:
    """Where the trial balance is in a table: its header row and the column of each field."""

    header_row: int | None
    columns: dict[str, int]
    headings: dict[int, str]
    ignored: tuple[int, ...]
    sheet: str | None

    def label(self, name: str) -> str:
        """How an error names the column of field ``name``: ``debit`` (CSV), ``D 'Debit'``."""
        column = self.columns[name]
        heading = self.headings.get(column, "")
        if self.sheet is None:
            return heading.strip() or column_letter(column)
        return f"{column_letter(column)} '{heading}'" if heading else column_letter(column)

    def describe(self) -> dict[str, object]:
        """The mapping as ``--dry-run`` shows it (and ``--json`` gives it)."""
        return {
            "sheet": self.sheet,
            "header_row": self.header_row,
            "columns": {
                name: {"column": column_letter(col), "heading": self.headings.get(col, "")}
                for name, col in sorted(self.columns.items(), key=lambda item: item[1])
            },
            "ignored": [
                {"column": column_letter(col), "heading": self.headings.get(col, "")}
                for col in self.ignored
            ],
        }


@dataclass
class ReadTrialBalance:
    """What ``read_trial_balance`` found: the rows, the layout, and the rows it skipped."""

    rows: list[TrialBalanceRow]
    layout: Layout
    skipped: list[tuple[int, str]] = field(default_factory=list)


# --- options ------------------------------------------------------------------------


def parse_columns(spec: str) -> dict[str, int]:
    """``number=A,name=B,debit=D,credit=E`` -> {"number": 1, ...}; raises UsageError."""
    columns: dict[str, int] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, sep, letter = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in FIELDS:
            raise UsageError(
                f"--columns {part.strip()}: give FIELD=LETTER, FIELD one of {', '.join(FIELDS)}"
            )
        number = column_number(letter)
        if number is None:
            raise UsageError(f"--columns {part.strip()}: '{letter.strip()}' is not a column letter")
        if name in columns:
            raise UsageError(f"--columns: {name} is given twice")
        columns[name] = number
    if not columns:
        raise UsageError("--columns: give at least one FIELD=LETTER")
    return columns


def parse_types(spec: str) -> dict[str, str]:
    """``1=asset,2=liability,5-9=expense`` -> leading digits to type; raises UsageError."""
    types: dict[str, str] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        digits, sep, kind = part.partition("=")
        digits, kind = digits.strip(), kind.strip().lower()
        if not sep or kind not in ACCOUNT_TYPES:
            raise UsageError(
                f"--types {part.strip()}: give DIGITS=TYPE, TYPE one of {', '.join(ACCOUNT_TYPES)}"
            )
        low, dash, high = digits.partition("-")
        if not low.isdigit() or (dash and (not high.isdigit() or len(high) != len(low))):
            raise UsageError(
                f"--types {part.strip()}: '{digits}' is not leading digits (1, 12, or a range 5-9)"
            )
        if dash and int(high) < int(low):
            raise UsageError(f"--types {part.strip()}: the range {digits} runs backwards")
        for value in range(int(low), int(high or low) + 1):
            types[str(value).zfill(len(low))] = kind
    if not types:
        raise UsageError("--types: give at least one DIGITS=TYPE")
    return types


def _type_by_number(number: str, types: dict[str, str]) -> str | None:
    for length in range(len(number), 0, -1):
        kind = types.get(number[:length])
        if kind is not None:
            return kind
    return None


# --- the header -----------------------------------------------------------------------


def _normal(text: str) -> str:
    words = " ".join(text.replace("\u00a0", " ").split()).lower().rstrip(":").strip()
    return _BRACKETED.sub("", words) if words not in _FIELD_OF else words


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _header_fields(row: list[Cell]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for position, cell in enumerate(row, start=1):
        if isinstance(cell, str):
            name = _FIELD_OF.get(_normal(cell))
            if name is not None:
                found.setdefault(name, []).append(position)
    return found


def _is_header(found: dict[str, list[int]], row: list[Cell]) -> bool:
    amounts = [c for name in ("debit", "credit", "balance") for c in found.get(name, [])]
    if not amounts:
        return False
    if any(name in found for name in ("number", "name", "account")):
        return True
    # QuickBooks heads only its amount columns: the accounts are in the first, unheaded.
    return min(amounts) > 1 and not _text(row[0])


def _find_header(table: Table) -> int | None:
    for index, row in enumerate(table.rows[:_HEADER_SCAN], start=1):
        if _is_header(_header_fields(row), row):
            return index
    return None


def _resolve_account(found: dict[str, list[int]]) -> None:
    """A column headed "Account" is the name beside a code column, the number beside a
    name column, and both in one cell when it stands alone (QuickBooks: "1000 · Checking")."""
    if not any(name in found for name in ("number", "name", "account")):
        found["account"] = [1]
        return
    if "account" not in found:
        return
    columns = found.pop("account")
    if "number" in found and "name" not in found:
        found["name"] = columns
    elif "name" in found and "number" not in found:
        found["number"] = columns
    elif "number" not in found:
        found["account"] = columns
    # with both a number and a name column, "Account" is one more column to ignore


def find_layout(table: Table, columns: dict[str, int] | None = None) -> Layout:
    """The header row and the column of each field; ``columns`` overrides what is found."""
    header = _find_header(table)
    found: dict[str, list[int]] = {}
    if header is not None:
        found = _header_fields(table.rows[header - 1])
        _resolve_account(found)
        header_cells = table.rows[header - 1]
        for name, positions in found.items():
            if len(positions) > 1 and not (columns and name in columns):
                first, second = (column_letter(p) for p in positions[:2])
                where = positions[1]
                raise table.error(
                    header,
                    _label(table, header_cells, where),
                    f"two columns are the {name} ({first} and {second}): name the one to use "
                    f"with --columns {name}={first}",
                )
    elif columns is None:
        raise table.error(
            None,
            None,
            f"no header row in the first {_HEADER_SCAN} rows (a row naming the account and "
            "the amounts: Account, Debit, Credit, or Balance); name the columns with "
            "--columns number=A,name=B,debit=C,credit=D",
        )
    chosen = {name: positions[0] for name, positions in found.items()}
    if columns:
        taken = {column: name for name, column in columns.items()}
        chosen = {n: c for n, c in chosen.items() if n not in columns and c not in taken}
        chosen.update(columns)
        if "account" in columns:
            chosen.pop("number", None)
            chosen.pop("name", None)
        if "number" in columns or "name" in columns:
            chosen.pop("account", None)
    headings: dict[int, str] = {}
    if header is not None:
        headings = {
            position: _text(cell)
            for position, cell in enumerate(table.rows[header - 1], start=1)
            if _text(cell)
        }
    layout = Layout(
        header_row=header,
        columns=chosen,
        headings=headings,
        ignored=tuple(c for c in sorted(headings) if c not in set(chosen.values())),
        sheet=table.sheet,
    )
    if header is not None:
        _check_merged_header(table, header)
    _check_fields(table, layout)
    return layout


def _label(table: Table, header: list[Cell], column: int) -> str:
    heading = _text(header[column - 1]) if column <= len(header) else ""
    if table.sheet is None:
        return heading or column_letter(column)
    return f"{column_letter(column)} '{heading}'" if heading else column_letter(column)


def _check_fields(table: Table, layout: Layout) -> None:
    have = layout.columns
    row = layout.header_row
    if not any(name in have for name in ("number", "account")):
        raise table.error(
            row,
            None,
            "no account number column (Account, Code, Account Code, ...): "
            "name it with --columns number=LETTER",
        )
    if "balance" in have and ("debit" in have or "credit" in have):
        raise table.error(
            row,
            layout.label("balance"),
            "give either debit and credit columns or a balance column (choose with --columns)",
        )
    if "balance" not in have:
        for name in ("debit", "credit"):
            if name not in have:
                raise table.error(row, None, f"the required column '{name}' is missing")


def _check_merged_header(table: Table, header: int) -> None:
    for top, left, bottom, right in table.merged:
        if top <= header <= bottom and right > left:
            span = f"{column_letter(left)}{top}:{column_letter(right)}{bottom}"
            raise table.error(
                header,
                None,
                f"the header has merged cells ({span}): unmerge them so each column has "
                "its own heading, or name the columns with --columns",
            )


# --- the rows -------------------------------------------------------------------------


def _cents(value: Cell, *, decimal_comma: bool) -> int:
    """An amount cell in cents; raises AmountError saying why it is not one."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise AmountError(f"'{value}' is a true/false cell, not an amount")
    if isinstance(value, int):
        return value * 100
    if isinstance(value, float):
        exact = Decimal(repr(value))
        cents = (exact * 100).quantize(Decimal(1))
        # A sum saved by a spreadsheet carries binary noise (0.30000000000000004);
        # more than that is a third decimal, which money here does not have.
        if abs(exact * 100 - cents) > Decimal("0.000001"):
            raise AmountError(f"'{value}' has more than two decimals")
        return int(cents)
    if isinstance(value, (date, time, timedelta)):
        raise AmountError(f"'{value}' is a date or a time, not an amount")
    return _text_cents(value, decimal_comma=decimal_comma)


def _text_cents(text: str, *, decimal_comma: bool) -> int:
    raw = text.strip().replace("\u00a0", " ")
    if raw in ("-", "–", "—", ""):
        return 0
    sign = 1
    marked = _DR_CR.match(raw)
    if marked:
        raw, sign = marked.group(1), -1 if marked.group(2).upper() == "CR" else 1
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1].strip()
    if raw.startswith("-"):
        negative, raw = not negative, raw[1:].strip()
    raw = raw.lstrip(_CURRENCY).strip()
    if decimal_comma:
        raw = raw.replace(" ", "").replace(".", "").replace(",", ".")
    elif _DECIMAL_COMMA.match(raw):
        raise AmountError(
            f"'{text.strip()}' is written with a decimal comma; if the file uses one, "
            "import it with --decimal-comma"
        )
    try:
        cents = parse_amount(raw)
    except AmountError:
        raise AmountError(
            f"'{text.strip()}' is not an amount (digits with at most two decimals)"
        ) from None
    return -cents * sign if negative else cents * sign


def _split_account(text: str) -> tuple[str, str | None]:
    if is_valid_id(text):
        return text, None
    for pattern in _COMBINED:
        match = pattern.match(text)
        if (
            match
            and is_valid_id(match.group("number"))
            and any(ch.isdigit() for ch in match.group("number"))
        ):
            return match.group("number"), match.group("name").strip()
    return text, None


def _account_type(word: str) -> str | None:
    normal = _normal(word)
    if normal in _TYPE_OF:
        return _TYPE_OF[normal]
    for part, kind in _TYPE_WORDS:
        if part in normal:
            return kind
    return None


def read_trial_balance(
    table: Table,
    *,
    columns: dict[str, int] | None = None,
    types: dict[str, str] | None = None,
    decimal_comma: bool = False,
) -> ReadTrialBalance:
    """Every account row of ``table``, checked; raises InputError at the first bad cell."""
    layout = find_layout(table, columns)
    result = ReadTrialBalance([], layout)
    col = layout.columns
    used = sorted(set(col.values()))
    first = (layout.header_row or 0) + 1
    header_width = len(table.rows[layout.header_row - 1]) if layout.header_row else 0
    seen: dict[str, int] = {}
    started = layout.header_row is not None
    merged_data = [
        m for m in table.merged if m[2] >= first and any(m[1] <= c <= m[3] for c in used)
    ]

    for index in range(first, len(table.rows) + 1):
        cells = table.rows[index - 1]
        if not any(_text(c) for c in cells):
            continue

        def cell(name: str, cells: list[Cell] = cells) -> Cell:
            position = col.get(name)
            if position is None or position > len(cells):
                return None
            return cells[position - 1]

        words = [_text(cell(n)) for n in ("number", "account", "name")]
        lead = next((w for w in (*words, *(_text(c) for c in cells)) if w), "")
        if _TOTAL.match(lead):
            result.skipped.append((table.where(index), "total"))
            continue
        if not started:
            # With --columns and no header found, title rows come first: the table
            # starts at the first account number (which has a digit: "Demo" is a title).
            number_text = _text(cell("number") if "number" in col else cell("account"))
            start = _split_account(number_text)[0] if number_text else ""
            if not is_valid_id(start) or not any(ch.isdigit() for ch in start):
                result.skipped.append((table.where(index), "title"))
                continue
            started = True
        for top, left, bottom, right in merged_data:
            if top <= index <= bottom:
                span = f"{column_letter(left)}{top}:{column_letter(right)}{bottom}"
                raise table.error(
                    index, None, f"merged cells ({span}) in the trial balance: unmerge them"
                )
        for name in AMOUNTS:
            if name in col and (index, col[name]) in table.unsaved_formulas:
                raise table.error(
                    index,
                    layout.label(name),
                    "a formula with no saved value (the workbook was never calculated): "
                    "open it in a spreadsheet, save it, and import again",
                )

        amounts: dict[str, int] = {}
        for name in AMOUNTS:
            if name in col:
                try:
                    amounts[name] = _cents(cell(name), decimal_comma=decimal_comma)
                except AmountError as err:
                    raise table.error(index, layout.label(name), str(err)) from None

        name_text: str | None = _text(cell("name")) or None
        if "account" in col:
            combined = _text(cell("account"))
            number, split_name = _split_account(combined) if combined else ("", None)
            name_text = name_text or split_name
            number_column = "account"
        else:
            number = _text(cell("number"))
            number_column = "number"
        has_amount = any(_text(cell(n)) for n in AMOUNTS if n in col)
        if not number:
            if has_amount:
                raise table.error(
                    index,
                    layout.label(number_column),
                    "amounts with no account number (a total row starts with 'Total')",
                )
            result.skipped.append((table.where(index), "heading"))
            continue
        # A CSV account row with a field too many or too few has its amounts in the wrong
        # columns; headings and totals may be short.
        if table.sheet is None and header_width and len(cells) != header_width:
            raise table.error(
                index, None, f"has {len(cells)} fields, the header has {header_width}"
            )
        line = table.where(index)
        if not is_valid_id(number):
            raise table.error(
                index,
                layout.label(number_column),
                f"'{number}' is not an account number (letters, digits, '.', '_', '-')",
            )
        key = number.casefold()
        if key in seen:
            word = "row" if table.sheet is not None else "line"
            raise table.error(
                index,
                layout.label(number_column),
                f"account {number} is already on {word} {seen[key]}",
            )
        seen[key] = line

        account_type: str | None = None
        type_text = _text(cell("type"))
        if type_text:
            account_type = _account_type(type_text)
            if account_type is None:
                raise table.error(
                    index,
                    layout.label("type"),
                    f"'{type_text}' is not an account type ({', '.join(ACCOUNT_TYPES)}, or the "
                    "names QuickBooks, Xero and Sage use)",
                )
        elif types is not None:
            account_type = _type_by_number(number, types)

        if "balance" in col:
            balance = amounts["balance"]
        else:
            debit, credit = amounts["debit"], amounts["credit"]
            if debit and credit:
                raise table.error(
                    index, layout.label("credit"), "the row has both a debit and a credit; give one"
                )
            balance = debit - credit
        prior = amounts.get("prior") if _text(cell("prior")) else None
        result.rows.append(
            TrialBalanceRow(
                line=line,
                account=number,
                name=name_text,
                type=account_type,
                balance=balance,
                map=_text(cell("map")) or None,
                prior=prior,
            )
        )
    if not result.rows:
        raise table.error(None, None, "the file has no account rows")
    return result
