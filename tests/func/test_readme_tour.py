"""The README's tour of the CLI, held against the CLI (as sqlite-utils tests its docs).

Every command the tour names must exist with help text and accept every
option the tour shows; the commands that can run in a fresh folder are run,
in the tour's order, and must succeed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from gitsync.cli.app import app
from tests.conftest import REPO_ROOT, Result

ROOT_OPTIONS = {"-C"}
#: The tour's placeholders, which the reader fills in.
PLACEHOLDERS = {"ID", "DIR", "BACKUP", "DEST", "COPY_ID", "COMPONENT", "NAME", "JSON"}

#: Commands of the tour that are not run here, and why. Each is still checked to exist.
NOT_RUN = {
    "entry remove AJE-3": "the tour's file has one entry, not three",
    "watch": "runs until stopped (tests/func/test_sync.py runs the agent)",
    "peer set": "names a folder that is not there",
    "parent locate": "names a folder that is not there",
    "convert": "the new file is already in the current format",
    "lockdown": "refused while a copy is outstanding (tests/func/test_maintenance.py)",
    "clear-sync": "refused while a copy is registered (tests/func/test_maintenance.py)",
    "signout": "refused while a copy is registered (tests/func/test_maintenance.py)",
    "signin": "runs after a signout",
    "protect off": "protection is off in a new file",
}
#: Commands of the tour that run in the sync copy the tour makes, not in the top-level parent.
IN_THE_COPY = {"offline", "online", "peer clear", "delete-copy"}
#: Files the tour names by a path relative to where the user stands.
FILES = {"trial-balance.csv", "letter.pdf"}


def _tour() -> list[str]:
    """The tour's commands, one per item: continuations joined, comments and ``;`` split."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## A tour of the CLI")
    section = text[start : text.index("\n## ", start + 5)]
    lines: list[str] = []
    for line in section.splitlines():
        if not line.startswith("    ") or line.strip().startswith("#"):
            continue  # prose, or a comment carried onto its own line
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1].rstrip() + " " + line.strip()
        else:
            lines.append(line.strip())
    commands: list[str] = []
    for line in lines:
        code = re.split(r"\s+#\s", line)[0]
        code = re.sub(r"\s+\(or .*\)$", "", code).strip()
        for part in code.split(" ; "):
            commands.extend(_alternatives(part.strip().removeprefix("gitsync ")))
    return commands


def _alternatives(command: str) -> list[str]:
    """``account set / remove / list`` -> ``account set``, ``account remove``, ``account list``."""
    parts = [p.strip() for p in command.split(" / ")]
    first = parts[0].split()
    found = [parts[0]]
    for alt in parts[1:]:
        words = alt.split()
        prefix = first[: max(0, len(first) - len(words))]
        found.append(" ".join([*prefix, *words]))
    return found


TOUR = _tour()
CLICK = get_command(app)


def _resolve(words: list[str]) -> tuple[Any, list[str], list[str]]:
    """The click command the words name, its path, and the words left (arguments, options)."""
    command: Any = CLICK
    path: list[str] = []
    rest = list(words)
    while rest and rest[0] in ROOT_OPTIONS:
        rest = rest[2:]
    while rest and rest[0] in getattr(command, "commands", {}):
        path.append(rest[0])
        command = command.commands[rest[0]]
        rest = rest[1:]
    return command, path, rest


def _words(command: str) -> list[str]:
    return shlex.split(command.replace("[", "").replace("]", ""))


def test_the_tour_was_read() -> None:
    assert len(TOUR) > 40
    assert TOUR[0].startswith("new ") and "hooks install" in TOUR


@pytest.mark.parametrize("command", TOUR)
def test_each_tour_command_exists_with_help_and_its_options(command: str) -> None:
    found, path, rest = _resolve(_words(command))
    assert path, f"gitsync {command}: no such command"
    if hasattr(found, "commands"):
        assert found.invoke_without_command, f"gitsync {command}: names a group, not a command"
    assert (found.help or "").strip(), f"gitsync {' '.join(path)} has no help text"
    accepted = {opt for param in found.params for opt in (*param.opts, *param.secondary_opts)}
    for word in rest:
        if word.startswith("-") and not re.match(r"^-\d", word):
            option = word.split("=", 1)[0]
            assert option in accepted, f"gitsync {' '.join(path)} has no option {option}"


def _runnable(command: str) -> bool:
    words = _words(command)
    if any(w in PLACEHOLDERS or "|" in w for w in words):
        return False
    found, path, rest = _resolve(words)
    if " ".join(path) in NOT_RUN or command in NOT_RUN:
        return False
    try:  # complete: every required argument given (``account set`` alone is not)
        found.make_context(" ".join(path), list(rest), resilient_parsing=False)
    except Exception:
        return False
    return True


def test_the_tour_runs_in_a_fresh_folder(
    gitsync: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = tmp_path / "ABC Limited 2026"
    files = tmp_path / "files"
    files.mkdir()
    (files / "trial-balance.csv").write_text(
        "account,name,type,debit,credit\n"
        "1010,Cash at bank,asset,0.00,0.00\n"
        "1030,Petty cash,asset,0.00,0.00\n"
        "2000,Accounts payable,liability,0.00,1500.00\n"
        "5000,Audit fees,expense,1500.00,0.00\n",
        encoding="utf-8",
    )
    (files / "letter.pdf").write_bytes(b"%PDF-1.4 engagement letter\n")
    runnable = [c for c in TOUR if _runnable(c)]
    assert len(runnable) >= 30

    def run(command: str) -> Result:
        words = _words(command)
        _, path, _ = _resolve(words)
        if words[0] in ("new", "-C", "copy"):
            monkeypatch.chdir(tmp_path)  # these name the client file's folder
        elif " ".join(path) in IN_THE_COPY:
            copies = sorted(Path.home().rglob("* (Sync)"))
            assert len(copies) == 1, copies
            monkeypatch.chdir(copies[0])
        else:
            monkeypatch.chdir(top)
        if path[:2] in (["import", "tb"], ["doc", "add"]):
            words = [str(files / w) if w in FILES else w for w in words]
        return gitsync(*words)

    # The tour lists commands by topic, not in an order that always runs (entry add
    # uses GST before taxcode add): run each that failed again once the rest have run.
    waiting = runnable
    failed: dict[str, str] = {}
    while waiting:
        failed = {}
        for command in waiting:
            result = run(command)
            if result.code != 0:
                failed[command] = result.stderr.strip()
        if len(failed) == len(waiting):
            break
        waiting = list(failed)
    assert failed == {}, "\n".join(f"{k}: {v[:150]}" for k, v in failed.items())
