from __future__ import annotations

import pytest

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
