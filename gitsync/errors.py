"""The error base of gitsync, the table of exit codes, and the one error boundary.

The library never prints and never exits: it raises these. Each of the three
entry points (the CLI, ``gitsync.cli.main``; the hooks,
``gitsync.rules.hooks.main``; the merge driver, ``gitsync.merge.driver.main``)
turns whatever escapes into one line and an exit code with ``error_line``,
so a failure reads and exits the same way wherever it happens. Specific
errors live beside the code that raises them, subclassing one of the bases
here; their exit codes come from ``ExitCode`` only.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit code gitsync uses; the README lists the same table."""

    OK = 0
    FAILED = 1  # an expected failure with no more specific code; a hook's refusal
    USAGE = 2  # a bad argument or value
    NOT_A_CLIENT_FILE = 3  # not a client file, or a format version this gitsync cannot open
    RULE = 4  # a rule or bad input refused the change; nothing was written
    NOT_FOUND = 5
    BUSY = 6  # another gitsync process holds the lock, or the copy moved under us
    UNREACHABLE = 7  # no parent on the route could be reached
    REFUSED = 8  # refused by the state of the hierarchy (copies outstanding, abandoned, ...)
    DENIED = 9  # the server refused who you are or what you may do: sign in again, or ask an admin
    INTERNAL = 70  # a bug: one line, never a traceback with locals
    IO = 74  # the operating system refused a read or write
    INTERRUPTED = 130  # Ctrl-C
    BROKEN_PIPE = 141  # the reader of our output went away


def one_line(text: object) -> str:
    """``text`` as one line: line breaks and other control characters escaped, never dropped."""
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in str(text)
    )


class GitsyncError(Exception):
    """Base of every expected failure. ``str(err)`` is the one line a user sees."""

    exit_code: int = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # Messages quote user input (field names, CSV cells): keep them on one line.
        return one_line(self.message)


class UsageError(GitsyncError):
    """The command was given something it cannot use (bad argument, bad value)."""

    exit_code = ExitCode.USAGE


class NotAClientFile(GitsyncError):
    """The folder is not a gitsync client file."""

    exit_code = ExitCode.NOT_A_CLIENT_FILE


class RuleViolation(GitsyncError):
    """A Working Papers rule refused a record: names the record, the field and the rule."""

    exit_code = ExitCode.RULE

    def __init__(self, where: str, field: str, rule: str, detail: str) -> None:
        self.where = where
        self.field = field
        self.rule = rule
        self.detail = detail
        located = f"{where}: {field}" if field else where
        super().__init__(f"{located}: {detail} (rule: {rule})")


class InputError(GitsyncError):
    """An input file (import CSV, record JSON) is malformed: names file, line and column."""

    exit_code = ExitCode.RULE

    def __init__(
        self,
        source: str,
        line: int | None,
        column: str | None,
        detail: str,
        *,
        sheet: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.detail = detail
        self.sheet = sheet
        where = source
        if sheet is not None:
            where += f" sheet '{sheet}'"
        if line is not None:
            # A workbook has rows; a text file has lines.
            where += f" row {line}" if sheet is not None else f" line {line}"
        if column:
            # A CSV column has a name ('debit'); a JSON column is a number; a sheet's
            # column is its letter and heading (D 'Debit'), already quoted.
            plain = column.isdigit() or sheet is not None
            where += f" column {column}" if plain else f" column '{column}'"
        super().__init__(f"{where}: {detail}")


class NotFound(GitsyncError):
    """A record, copy or conflict named by the user does not exist."""

    exit_code = ExitCode.NOT_FOUND


class Busy(GitsyncError):
    """Another gitsync process holds the lock on this copy or parent."""

    exit_code = ExitCode.BUSY


class Unreachable(GitsyncError):
    """No parent on the route could be reached."""

    exit_code = ExitCode.UNREACHABLE


class Denied(GitsyncError):
    """The server refused the sign-in (expired, revoked, wrong) or the right to do this.

    Never taken for "offline": the message says what to do (sign in again, or ask an admin).
    """

    exit_code = ExitCode.DENIED


class Refused(GitsyncError):
    """The state of the hierarchy refuses the action: the message says why and what to do."""

    exit_code = ExitCode.REFUSED


def error_line(err: BaseException, where: str = "") -> tuple[str, int]:
    """The one line (without newline; empty when none is due) and the exit code for ``err``.

    The one error boundary of gitsync: the CLI, the hooks and the merge driver
    all end here. A GitsyncError is its own message; anything unexpected is
    its type and message on one line, never a traceback (whose locals hold
    client data). ``where`` names the entry point (``pre-receive``,
    ``merge-driver``) for the unexpected cases.
    """
    prefix = f"gitsync: {where}: " if where else "gitsync: "
    if isinstance(err, GitsyncError):
        return f"gitsync: {err}", int(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        return "gitsync: interrupted", int(ExitCode.INTERRUPTED)
    if isinstance(err, BrokenPipeError):
        return "", int(ExitCode.BROKEN_PIPE)
    if isinstance(err, OSError):
        located = f" ({err.filename})" if err.filename else ""
        return f"{prefix}{one_line(err.strerror or err)}{located}", int(ExitCode.IO)
    return f"{prefix}internal error: {type(err).__name__}: {one_line(err)}", int(ExitCode.INTERNAL)
