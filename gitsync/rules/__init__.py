"""The Working Papers rules, shared by the commands, the hooks and the server.

The server (``gitsync.server``) runs the same functions in its push check,
resident, so a push through it starts no process to check the rules.

- ``commit_checked(client_file, changes, message)``: the commands' commit,
  refused (nothing written) when it breaks a rule; ``check_commit`` is the
  check it hands to ``ClientFile.commit``, for the layers below the rules
  that commit (the merge, a new client file) to be handed in turn.
- ``check_changes(after, changed, before)``: raise for the first rule that a
  change breaks, reading only the changed records and what refers to them.
  ``check_commit``, the merge, pre-commit and pre-receive all call it.
- ``find_violations(after, changed, before)``: the same reading, every
  violation listed (the merge records them as conflicts).
- ``check_all(snapshot)``: every violation in the whole file (``gitsync check``).
- ``check_working_files(client)``: the committed file plus the working files
  that differ from it.

Rule names (stable; every message ends with ``(rule: <name>)``): ``json``,
``no-float``, ``schema``, ``limit``, ``text``, ``identity``,
``document-name``, ``folder-name``, ``canonical-form``, ``tombstone-only``,
then the registered rules in ``RULES`` order: ``balanced-entry``,
``zero-entry``, ``entry-date``, ``unique-entry-number``, ``path-name``,
``reference``, ``in-use``, ``unique-account``, ``map-mask``,
``document-content``, ``balanced-books``, then the sync-state rules. New
rules join with ``@rule(name)`` in ``gitsync.rules.engine``, and with a case
in ``tests/func/test_rule_paths.py`` that proves them on every path.
"""

from __future__ import annotations

from gitsync.rules import standard, syncstate  # noqa: F401  (register the rules)
from gitsync.rules.commit import check_commit, commit_checked
from gitsync.rules.engine import (
    RULES,
    Rule,
    RuleContext,
    check_all,
    check_changes,
    find_violations,
    rule,
)
from gitsync.rules.workingfiles import check_working_files

__all__ = [
    "RULES",
    "Rule",
    "RuleContext",
    "check_all",
    "check_changes",
    "check_commit",
    "check_working_files",
    "commit_checked",
    "find_violations",
    "rule",
]
