from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsync.errors import InputError
from gitsync.model import canonical
from gitsync.model.money import AmountError, format_amount, parse_amount


def test_dumps_is_canonical_and_stable() -> None:
    record = {"b": 1, "a": "Cafe\u0301", "nested": {"z": [1, 2], "y": None}}
    data = canonical.dumps(record)
    assert data == canonical.dumps(canonical.loads(data))
    assert data.endswith(b"}\n") and not data.endswith(b"\n\n")
    assert "Café".encode() in data  # NFC-normalised
    assert data.index(b'"a"') < data.index(b'"b"')
    assert canonical.is_canonical(data)
    assert not canonical.is_canonical(b'{"b": 1, "a": 2}\n')


def test_loads_names_line_and_column() -> None:
    with pytest.raises(InputError) as err:
        canonical.loads(b'{\n  "a": ,\n}\n', "accounts/1.json")
    assert "accounts/1.json line 2" in str(err.value)


def test_loads_refuses_nan_and_non_objects() -> None:
    with pytest.raises(InputError):
        canonical.loads(b'{"a": NaN}')
    with pytest.raises(InputError):
        canonical.loads(b"[1, 2]")


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1,234.56", 123456),
        ("-12", -1200),
        ("(45.00)", -4500),
        ("0.1", 10),
        (".05", 5),
        ("+7.5", 750),
    ],
)
def test_parse_amount(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["1.234", "abc", "", "1e5", "12,34", "1.2.3", "NaN"])
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_format_amount() -> None:
    assert format_amount(-123456) == "-1234.56"
    assert format_amount(5) == "0.05"
    assert format_amount(0) == "0.00"


# --- the fast writer gives json's own bytes ---------------------------------------------

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["e\u0301", "\u00e9", "\u212b", 'quote " back \\ slash', "\n\t\x00\x1f\u2028"]),
)
_json_value = st.recursive(
    _json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=6), st.sampled_from(["e\u0301", "\u00e9", "b", "a"])),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=25,
)


def _reference(value: object) -> bytes:
    text = json.dumps(canonical.normalise(value), ensure_ascii=False, sort_keys=True, indent=2)
    return (text + "\n").encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(_json_value)
def test_dumps_matches_json_dumps_byte_for_byte(value: object) -> None:
    assert canonical.dumps(value) == _reference(value)


@pytest.mark.parametrize(
    "value",
    [1.5, {"a": 1.25}, {1: "int key"}, [True, {"x": [1.0]}], {"n": float("1e300")}],
)
def test_dumps_hands_unusual_values_to_json(value: object) -> None:
    assert canonical.dumps(value) == _reference(value)


def test_dumps_of_fixture_and_generated_records_is_unchanged() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "fixtures"
    seen = 0
    for path in root.rglob("*.json"):
        if ".git" in path.parts:
            continue
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        assert canonical.dumps(value) == _reference(value), path
        seen += 1
    from fixtures.generate import plan

    for path, record in plan(400).items():
        assert canonical.dumps(record) == _reference(record), path
        seen += 1
    assert seen > 400
