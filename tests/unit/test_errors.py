"""One error boundary, one table of exit codes.

The CLI, the hooks and the merge driver turn whatever escapes the library
into one line and an exit code the same way (``gitsync.errors.error_line``),
and every error's exit code comes from ``gitsync.errors.ExitCode``.
"""

from __future__ import annotations

import ast
import importlib
import io
import pkgutil
from collections.abc import Callable
from pathlib import Path

import pytest

import gitsync
from gitsync.errors import ExitCode, GitsyncError, Refused, error_line

PACKAGE = Path(gitsync.__file__).resolve().parent


def _all_error_classes() -> list[type[GitsyncError]]:
    for info in pkgutil.walk_packages([str(PACKAGE)], "gitsync."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
    found: list[type[GitsyncError]] = []
    todo: list[type[GitsyncError]] = [GitsyncError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_every_error_takes_its_exit_code_from_the_table() -> None:
    classes = _all_error_classes()
    assert len(classes) > 20  # every module was imported
    for cls in classes:
        assert cls.exit_code in set(ExitCode), cls


def test_no_module_spells_an_exit_code_as_a_number() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if "exit_code" in names and isinstance(node.value, ast.Constant):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


def test_refusals_by_the_hierarchy_share_one_base() -> None:
    from gitsync.maintenance.lockdown import CopiesInTheWay
    from gitsync.maintenance.restore import CopyAbandoned
    from gitsync.maintenance.sync_admin import SyncFileRefused
    from gitsync.maintenance.yearend import YearEndRefused

    for cls in (CopiesInTheWay, CopyAbandoned, SyncFileRefused, YearEndRefused):
        assert issubclass(cls, Refused)
    assert [c for c in _all_error_classes() if c.exit_code == ExitCode.REFUSED] == [
        c for c in _all_error_classes() if issubclass(c, Refused)
    ]


@pytest.mark.parametrize(
    ("error", "line", "code"),
    [
        (
            Refused("lockdown refused:\ncopies remain"),
            r"gitsync: lockdown refused:\ncopies remain",
            8,
        ),
        (
            PermissionError(13, "Permission denied", "accounts/1000.json"),
            "gitsync: where: Permission denied (accounts/1000.json)",
            74,
        ),
        (
            ValueError("client data\nsecond line"),
            r"gitsync: where: internal error: ValueError: client data\nsecond line",
            70,
        ),
        (KeyboardInterrupt(), "gitsync: interrupted", 130),
        (BrokenPipeError(), "", 141),
    ],
)
def test_error_line(error: BaseException, line: str, code: int) -> None:
    assert error_line(error, "where") == (line, code)


def _through_cli(monkeypatch: pytest.MonkeyPatch, error: Exception) -> tuple[str, int]:
    from gitsync.cli import hot, main

    def fail(argv: list[str]) -> bool:
        raise error

    monkeypatch.setattr(hot, "run_hot", fail)
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    with pytest.raises(SystemExit) as exit_:
        main(["status"])
    return stderr.getvalue(), int(exit_.value.code or 0)


def _through_hook(monkeypatch: pytest.MonkeyPatch, error: Exception) -> tuple[str, int]:
    from gitsync.rules import hooks

    def fail(*args: object) -> object:
        raise error

    monkeypatch.setattr(hooks, "run_hook", fail)
    stderr = io.StringIO()
    code = hooks.main(["pre-commit"], stdin=io.StringIO(""), stderr=stderr)
    return stderr.getvalue(), code


def _through_driver(monkeypatch: pytest.MonkeyPatch, error: Exception) -> tuple[str, int]:
    from gitsync.merge import driver

    def fail(*args: object) -> object:
        raise error

    monkeypatch.setattr(driver, "run_driver", fail)
    stderr = io.StringIO()
    code = driver.main(["b", "o", "t", "accounts/1000.json"], stderr=stderr)
    return stderr.getvalue(), code


BOUNDARIES: list[Callable[[pytest.MonkeyPatch, Exception], tuple[str, int]]] = [
    _through_cli,
    _through_hook,
    _through_driver,
]


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=["cli", "hook", "merge-driver"])
@pytest.mark.parametrize(
    ("error", "code"),
    [
        (Refused("refused by the hierarchy"), 8),
        (PermissionError(13, "Permission denied", "accounts/1000.json"), 74),
        (RuntimeError("a bug\nwith client data"), 70),
    ],
)
def test_the_three_entry_points_answer_alike(
    monkeypatch: pytest.MonkeyPatch,
    boundary: Callable[[pytest.MonkeyPatch, Exception], tuple[str, int]],
    error: Exception,
    code: int,
) -> None:
    text, got = boundary(monkeypatch, error)
    assert got == code
    assert text.endswith("\n") and text.count("\n") == 1, text  # one line, no traceback
    assert text.startswith("gitsync: ")
    assert "Traceback" not in text
