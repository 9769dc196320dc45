"""Money: integers in minor units (cents), never floats.

Amounts are parsed from decimal text and kept as ``int`` cents; they are shown
as decimal strings with two places. Debits are positive, credits negative.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_AMOUNT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d{1,2})?$|^[+-]?\.\d{1,2}$")


class AmountError(ValueError):
    """Text that is not an amount of money in whole cents."""


def parse_amount(text: str) -> int:
    """Parse ``"1,234.56"``, ``"-12"``, ``"(45.00)"`` into cents. More than two decimals is refused."""
    raw = text.strip()
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        raw, negative = raw[1:-1].strip(), True
    if not raw or not _AMOUNT.match(raw):
        raise AmountError(f"'{text}' is not an amount (digits with at most two decimals)")
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise AmountError(f"'{text}' is not an amount") from None
    cents = int((value * 100).to_integral_exact())
    return -cents if negative else cents


def format_amount(cents: int) -> str:
    """Cents as a decimal string with two places: ``-123456`` -> ``"-1234.56"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def format_money(cents: int) -> str:
    """Cents as accountants read them, with thousands separators: ``-123456`` -> ``"-1,234.56"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"


def is_money(value: object) -> bool:
    """True for an int amount in cents (bool and float are not money)."""
    return isinstance(value, int) and not isinstance(value, bool)
