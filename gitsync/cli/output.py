"""Output: JSON for machines (``--json``), one readable line or a rich table for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

JSON_HELP = "Print the report as JSON."


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    right: Sequence[str] = (),
) -> None:
    """Print a rich table; ``right`` names the columns to right-align (amounts)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Cells are client data, shown as they are: never read as rich markup or emoji codes
    # (an account "Assets:Bank:Checking" is not ":bank:", a name "[x]" is not a style).
    grid = Table(title=None if title is None else Text(title), show_lines=False)
    for column in columns:
        grid.add_column(Text(column), justify="right" if column in right else "left")
    for row in rows:
        grid.add_row(*(Text("" if v is None else str(v)) for v in row))
    # A pipe gets the whole table: rich would otherwise cut it to 80 columns.
    Console(width=None if sys.stdout.isatty() else 200, emoji=False).print(grid)
