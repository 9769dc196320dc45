"""Bad-input fuzzing with hypothesis: the trial-balance importer, the record parser, the merge.

- ``gitsync import tb`` (through the in-process CLI) on random CSV text,
  random bytes and random mutations of a valid file: it imports, or it
  refuses with exactly one line starting ``gitsync: `` (never an internal
  error, never a traceback) and writes nothing (``git status`` clean, HEAD
  where it was).
- The record parser (``canonical.loads`` + ``records.validate``) and
  ``rules.check_changes`` on random bytes and random JSON: only GitsyncError.
- ``merge.record.merge_records`` on random valid records: only GitsyncError,
  commutative byte for byte, and its record and conflicts are valid records.

Each test counts the cases it ran and prints the figure (``-s`` shows it);
the fast versions run about 200 cases each, the long ones (``-m long``) 10,000.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitsync.errors import GitsyncError
from tests.helpers import git
from tests.reliability.harness import one_line_error

Runner = Callable[..., Any]

SIZES = [pytest.param(200, id="200"), pytest.param(10_000, id="10000", marks=pytest.mark.long)]


def _settings(cases: int) -> settings:
    return settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )


def _report(target: str, ran: int, outcomes: dict[str, int], cases: int) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    print(f"\nfuzz {target}: {ran} cases ({counts})")
    assert ran >= min(cases, 50), f"hypothesis ran only {ran} cases"


# --- the trial-balance importer --------------------------------------------------

VALID_TB = """account,name,type,debit,credit,map
1000,Cash - operating,asset,"48,215.37",,100.10
1100,Accounts receivable,asset,"12,480.22",,110.10
2000,Accounts payable,liability,,"20,695.59",200.10
3000,Share capital,equity,,"40,000.00",300.10
4000,Sales,revenue,,"100,000.00",400.10
5000,Cost of sales,expense,"100,000.00",,500.10
"""

HEADERS = [
    "account,name,type,debit,credit,map",
    "account,name,type,debit,credit",
    "account,name,type,balance",
    "account,name,type,balance,map",
]
CELL_ALPHABET = st.sampled_from([*"0123456789,.-+()$ \"abcAZ_é€\t;'", "\r", "\n", "\x00"])
cell = st.one_of(
    st.text(CELL_ALPHABET, max_size=10),
    st.sampled_from(["asset", "liability", "equity", "revenue", "expense", "Asset", "", "0", "-0"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)
random_rows = st.lists(st.lists(cell, max_size=7), max_size=10)


@st.composite
def tb_inputs(draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["rows", "text", "bytes", "mutated"]))
    if how == "rows":
        header = draw(st.one_of(st.sampled_from(HEADERS), st.text(CELL_ALPHABET, max_size=30)))
        rows = [",".join(r) for r in draw(random_rows)]
        return ("\n".join([header, *rows]) + draw(st.sampled_from(["", "\n", "\r\n"]))).encode()
    if how == "text":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    if how == "bytes":
        return draw(st.binary(max_size=300))
    data = bytearray(VALID_TB.encode())
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "dup-line", "drop-line", "swap"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 5))]
        elif op == "insert":
            data[pos:pos] = draw(
                st.sampled_from(['"', ",", "\n", "-", ".", "9", "x", "é", "\x00"])
            ).encode()
        elif op == "replace" and data:
            data[pos] = draw(st.integers(0, 255))
        else:
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            if op == "dup-line":
                lines.insert(j, lines[i])
            elif op == "drop-line":
                del lines[i]
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@pytest.mark.parametrize("cases", SIZES)
def test_fuzz_import_tb(
    cases: int, gitsync: Runner, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    folder = client_file("fuzz")
    source = tmp_path / "tb.csv"  # outside the client file
    outcomes: dict[str, int] = {}
    ran = 0

    @_settings(cases)
    @given(tb_inputs())
    def one(data: bytes) -> None:
        nonlocal ran
        ran += 1
        source.write_bytes(data)
        before = git(folder, "rev-parse", "HEAD").stdout.strip()
        result = gitsync("import", "tb", source, "--json", cwd=folder)
        if result.code == 0:
            outcomes["imported"] = outcomes.get("imported", 0) + 1
            json.loads(result.stdout)
        else:
            line = one_line_error(result.stderr)
            assert result.stdout == "", result.stdout
            outcomes["refused"] = outcomes.get("refused", 0) + 1
            assert git(folder, "rev-parse", "HEAD").stdout.strip() == before, line
        status = git(folder, "status", "--porcelain", "--untracked-files=all").stdout
        assert status == "", f"half-written import:\n{status}"

    one()
    _report("import tb", ran, outcomes, cases)
    assert outcomes.get("refused", 0) > 0


# --- the record parser and the rules ---------------------------------------------

RECORD_PATHS = [
    "engagement.json",
    "accounts/1000.json",
    "entries/0123456789ab.json",
    "taxcodes/GST.json",
    "journals/AJE.json",
    "units/U1.json",
    "mapping/mask.json",
    "folders/f1.json",
    "documents/d1.json",
    "protection/auditor.json",
    "sync/copies/c1.json",
    "sync/conflicts/0123456789abcdef.json",
    "sync/lockdown.json",
    "taxcodes/../accounts/1000.json",
    "notes.txt",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["GST", "1000", "AJE", "asset", "2026-12-31", "2026-02-30", "2026-01-01T00:00:00Z"]
    ),
)
# Keys may hold control characters too: a message must stay one line whatever a key holds.
keys = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20,
)
FIELD_NAMES = [
    "number",
    "name",
    "type",
    "balance",
    "prior",
    "map",
    "id",
    "journal",
    "date",
    "description",
    "created_at",
    "lines",
    "code",
    "deleted",
    "modified",
    "mask",
    "client_name",
    "client_number",
    "city",
    "year_end",
    "format_version",
    "account",
    "amount",
    "tax_code",
    "values",
    "status",
]
records = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=6), json_values, max_size=10
)


VALID_RECORDS: dict[str, dict[str, Any]] = {
    "taxcodes/GST.json": {"code": "GST", "description": "Goods and services tax"},
    "accounts/1000.json": {"number": "1000", "name": "Cash", "type": "asset", "balance": 150},
    "journals/AJE.json": {"id": "AJE", "name": "Adjusting"},
    "entries/0123456789ab.json": {
        "id": "0123456789ab",
        "journal": "AJE",
        "number": 1,
        "date": "2026-12-31",
        "description": "Accrual",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "lines": [
            {"id": "L1", "account": "1000", "amount": 150},
            {"id": "L2", "account": "1000", "amount": -150},
        ],
    },
}


@st.composite
def mutated_record(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid record with up to three fields dropped, replaced or added."""
    from gitsync.model import canonical

    path = draw(st.sampled_from(sorted(VALID_RECORDS)))
    record = json.loads(json.dumps(VALID_RECORDS[path]))
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(sorted(record) or FIELD_NAMES) | st.sampled_from(FIELD_NAMES))
        if draw(st.booleans()) and name in record:
            del record[name]
        else:
            record[name] = draw(json_values)
    if draw(st.booleans()):
        return path, canonical.dumps(record)
    return path, json.dumps(record).encode()


@st.composite
def record_bytes(draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["bytes", "json", "canonical", "text"]))
    if how == "bytes":
        return draw(st.binary(max_size=200))
    if how == "text":
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    value = draw(st.one_of(records, json_values))
    from gitsync.model import canonical

    if how == "canonical":
        try:
            return canonical.dumps(value)
        except (ValueError, TypeError):
            return json.dumps(value).encode()
    return json.dumps(value, indent=draw(st.sampled_from([None, 1, 2]))).encode()


def _one_line(err: GitsyncError, data: bytes, outcomes: dict[str, int]) -> None:
    """The message is not empty, whatever the record's keys hold.

    (It is one line by construction: ``GitsyncError.__str__`` escapes line
    breaks, which tests/unit/test_errors.py checks.)
    """
    text = str(err).strip()
    assert text, repr(err)


@pytest.mark.parametrize("cases", SIZES)
def test_fuzz_record_parser_and_rules(cases: int, client_file: Callable[..., Path]) -> None:
    from gitsync.model import canonical
    from gitsync.model.records import validate
    from gitsync.repo.clientfile import ClientFile
    from gitsync.rules import check_changes

    client = ClientFile.open(client_file("parser"))
    before = client.snapshot()
    outcomes: dict[str, int] = {}
    ran = 0

    @_settings(cases)
    @given(st.one_of(st.tuples(st.sampled_from(RECORD_PATHS), record_bytes()), mutated_record()))
    def one(case: tuple[str, bytes]) -> None:
        nonlocal ran
        path, data = case
        ran += 1
        try:
            record = canonical.loads(data, path)
            validate(path, record)
            outcomes["parsed"] = outcomes.get("parsed", 0) + 1
        except GitsyncError as err:
            _one_line(err, data, outcomes)
            outcomes["parse refused"] = outcomes.get("parse refused", 0) + 1
        try:
            check_changes(client.snapshot({path: data}), [path], before=before)
            outcomes["rules passed"] = outcomes.get("rules passed", 0) + 1
        except GitsyncError as err:
            _one_line(err, data, outcomes)
            outcomes["rules refused"] = outcomes.get("rules refused", 0) + 1

    one()
    _report("record parser + rules", ran, outcomes, cases)


# --- the record merge --------------------------------------------------------------

ENTRY_PATH = "entries/e1.json"
ACCOUNT_PATH = "accounts/1000.json"
TAXCODE_PATH = "taxcodes/GST.json"

stamps = st.sampled_from(
    ["2026-01-01T00:00:00.000000Z", "2026-01-02T00:00:00.000000Z", "2026-01-02T00:00:00.500000Z"]
)
modified = st.fixed_dictionaries(
    {
        "at": stamps,
        "by": st.sampled_from(["auditor", "senior"]),
        "copy": st.sampled_from(["c1", "c2"]),
    }
)
small_text = st.sampled_from(["", "Cash", "Sales", "Adjust", "Révision", "売上"])
amounts = st.integers(-500, 500)


def _common(draw: st.DrawFn, record: dict[str, Any]) -> dict[str, Any]:
    if draw(st.booleans()):
        record["modified"] = draw(modified)
    deleted = draw(st.sampled_from([None, None, True, False]))
    if deleted is not None:
        record["deleted"] = deleted
    return record


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(["L1", "L2", "L3", "L4"]), unique=True, max_size=4))
    lines = []
    for line_id in ids:
        line: dict[str, Any] = {
            "id": line_id,
            "account": draw(st.sampled_from(["1000", "2000", "4000"])),
            "amount": draw(amounts),
        }
        if draw(st.booleans()):
            line["tax_code"] = draw(st.sampled_from([None, "GST", "HST"]))
        lines.append(line)
    record = {
        "id": "e1",
        "journal": draw(st.sampled_from(["AJE", "RJE"])),
        "number": draw(st.integers(1, 3)),
        "date": draw(st.sampled_from(["2026-12-31", "2026-06-30"])),
        "description": draw(small_text),
        "created_at": draw(stamps),
        "lines": lines,
    }
    return _common(draw, record)


@st.composite
def accounts(draw: st.DrawFn) -> dict[str, Any]:
    record: dict[str, Any] = {
        "number": "1000",
        "name": draw(st.sampled_from(["Cash", "Bank", "Petty cash"])),
        "type": draw(st.sampled_from(["asset", "liability"])),
        "balance": draw(amounts),
    }
    if draw(st.booleans()):
        record["map"] = draw(st.sampled_from([None, "100.10", "100.20"]))
    if draw(st.booleans()):
        record["prior"] = draw(st.lists(amounts, max_size=3))
    return _common(draw, record)


@st.composite
def taxcodes(draw: st.DrawFn) -> dict[str, Any]:
    return _common(draw, {"code": "GST", "description": draw(small_text)})


KIND_STRATEGIES = {ENTRY_PATH: entries(), ACCOUNT_PATH: accounts(), TAXCODE_PATH: taxcodes()}


@st.composite
def merge_inputs(draw: st.DrawFn) -> tuple[str, Any, Any, Any]:
    path = draw(st.sampled_from(sorted(KIND_STRATEGIES)))
    make = KIND_STRATEGIES[path]
    base = draw(st.one_of(st.none(), make))
    # Sides often start from the base, so one-sided and same-field edits both occur.
    ours = draw(st.one_of(st.none(), make, st.just(base)))
    theirs = draw(st.one_of(st.none(), make, st.just(base)))
    return path, base, ours, theirs


@pytest.mark.parametrize("cases", SIZES)
def test_fuzz_merge_records(cases: int) -> None:
    from gitsync.merge.record import merge_records
    from gitsync.model import canonical
    from gitsync.model.records import validate

    outcomes: dict[str, int] = {}
    ran = 0

    @_settings(cases)
    @given(merge_inputs())
    def one(case: tuple[str, Any, Any, Any]) -> None:
        nonlocal ran
        ran += 1
        path, base, ours, theirs = case
        for record in (base, ours, theirs):
            if record is not None:
                validate(path, record)
        try:
            one_way = merge_records(path, base, ours, theirs)
        except GitsyncError:
            outcomes["refused"] = outcomes.get("refused", 0) + 1
            return
        other_way = merge_records(path, base, theirs, ours)
        left = None if one_way.record is None else canonical.dumps(one_way.record)
        right = None if other_way.record is None else canonical.dumps(other_way.record)
        assert left == right, f"not commutative:\n{left!r}\n{right!r}"
        assert [c.to_bytes() for c in one_way.conflicts] == [
            c.to_bytes() for c in other_way.conflicts
        ]
        if one_way.record is not None:
            validate(path, one_way.record)
            assert canonical.loads(canonical.dumps(one_way.record)) == one_way.record
        for conflict in one_way.conflicts:
            validate(conflict.path, conflict.to_record())
        key = (
            "conflicts" if one_way.conflicts else ("absent" if one_way.record is None else "clean")
        )
        outcomes[key] = outcomes.get(key, 0) + 1

    one()
    _report("merge_records", ran, outcomes, cases)


def test_violation_message_is_one_line(
    gitsync: Runner, client_file: Callable[..., Path], tmp_path: Path
) -> None:
    folder = client_file("newline key")
    (folder / "taxcodes").mkdir(exist_ok=True)
    (folder / "taxcodes" / "GST.json").write_text(
        json.dumps({"code": "GST", "description": "Goods and services tax", "x\ny": 1}),
        encoding="utf-8",
    )
    result = gitsync("check", cwd=folder)
    assert result.code != 0
    result = gitsync("sync", cwd=folder)
    assert result.code != 0
    one_line_error(result.stderr)
