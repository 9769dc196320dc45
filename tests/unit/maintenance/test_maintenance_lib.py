"""Pure parts of the maintenance library: conversion plans, year ends, backup names, path limits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gitsync.errors import UsageError
from gitsync.maintenance.backup import MAX_PATH, PathTooLong, backup_name, check_path_length
from gitsync.maintenance.convert import (
    STEPS,
    ConversionStep,
    NoConversion,
    convert_records,
    plan,
)
from gitsync.maintenance.yearend import next_year_end
from gitsync.model.records import FORMAT_VERSION


def test_backup_name_follows_the_smartsync_pattern() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7)
    assert (
        backup_name("ABC Limited 2026", when) == "Backup of ABC Limited 2026 (03-04-2026 05-06-07)"
    )


def test_path_limit_counts_the_whole_path() -> None:
    base = Path("/") / ("a" * 200)
    check_path_length(base, ["b" * (MAX_PATH - 202)], "test")  # exactly 260
    with pytest.raises(PathTooLong) as err:
        check_path_length(base, ["x", "b" * (MAX_PATH - 201)], "test")
    assert "261 characters" in str(err.value) and isinstance(err.value, UsageError)


@pytest.mark.parametrize(
    ("year_end", "expected"),
    [("2026-12-31", "2027-12-31"), ("2024-02-29", "2025-02-28"), ("2026-06-30", "2027-06-30")],
)
def test_next_year_end(year_end: str, expected: str) -> None:
    assert next_year_end(year_end) == expected


def test_the_registry_reaches_the_current_version() -> None:
    steps = plan(0)
    assert [s.from_version for s in steps] == list(range(FORMAT_VERSION))
    assert set(STEPS) >= set(range(FORMAT_VERSION))


def test_a_gap_in_the_steps_is_refused() -> None:
    def same(path: str, record: dict[str, Any]) -> dict[str, Any]:
        return record

    registry = {0: ConversionStep(0, "a", same), 2: ConversionStep(2, "c", same)}
    with pytest.raises(NoConversion, match="from format_version 1 to 2"):
        plan(0, 3, registry)


def test_steps_run_in_order_and_stamp_the_final_version() -> None:
    def add_a(path: str, record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "trail": [*record.get("trail", []), "a"]}

    def add_b(path: str, record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "trail": [*record.get("trail", []), "b"]}

    registry = {5: ConversionStep(5, "a", add_a), 6: ConversionStep(6, "b", add_b)}
    records = {"engagement.json": {"format_version": 5}, "accounts/1.json": {"number": "1"}}
    out = convert_records(records, 5, plan(5, 7, registry))
    assert out["engagement.json"] == {"format_version": 7, "trail": ["a", "b"]}
    assert out["accounts/1.json"]["trail"] == ["a", "b"]
    assert records["accounts/1.json"] == {"number": "1"}  # the input is not changed


def test_version_zero_step_renames_only_account_fields() -> None:
    step = STEPS[0].convert
    account = {"number": "1", "amount": 5, "prior_balances": [4], "modified": {"at": "x"}}
    assert step("accounts/1.json", account) == {
        "number": "1",
        "balance": 5,
        "prior": [4],
        "modified": {"at": "x"},
    }
    entry = {"id": "e1", "amount": 3}
    assert step("entries/e1.json", entry) == entry
