"""The error base of gitsync.

The library never prints and never exits: it raises these, and the CLI turns
each into one line and an exit code (see ``gitsync.cli.errors``). Specific
errors live beside the code that raises them; this module holds the base and
the few that every layer shares.
"""

from __future__ import annotations


def one_line(text: object) -> str:
    """``text`` as one line: line breaks and other control characters escaped, never dropped."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in str(text)
    )


class GitsyncError(Exception):
    """Base of every expected failure. ``str(err)`` is the one line a user sees."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # Messages quote user input (field names, CSV cells): keep them on one line.
        return one_line(self.message)


class UsageError(GitsyncError):
    """The command was given something it cannot use (bad argument, bad value)."""

    exit_code = 2


class NotAClientFile(GitsyncError):
    """The folder is not a gitsync client file."""

    exit_code = 3


class RuleViolation(GitsyncError):
    """A Working Papers rule refused a record: names the record, the field and the rule."""

    exit_code = 4

    def __init__(self, where: str, field: str, rule: str, detail: str) -> None:
        self.where = where
        self.field = field
        self.rule = rule
        self.detail = detail
        located = f"{where}: {field}" if field else where
        super().__init__(f"{located}: {detail} (rule: {rule})")


class InputError(GitsyncError):
    """An input file (import CSV, record JSON) is malformed: names file, line and column."""

    exit_code = 4

    def __init__(self, source: str, line: int | None, column: str | None, detail: str) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.detail = detail
        where = source
        if line is not None:
            where += f" line {line}"
        if column:
            # A CSV column has a name ('debit'); a JSON column is a number.
            where += f" column {column}" if column.isdigit() else f" column '{column}'"
        super().__init__(f"{where}: {detail}")


class NotFound(GitsyncError):
    """A record, copy or conflict named by the user does not exist."""

    exit_code = 5


class Busy(GitsyncError):
    """Another gitsync process holds the lock on this copy or parent."""

    exit_code = 6


class Unreachable(GitsyncError):
    """No parent on the route could be reached."""

    exit_code = 7
