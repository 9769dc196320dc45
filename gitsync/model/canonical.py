"""Canonical JSON: the one byte form of a record.

UTF-8, NFC-normalised strings, sorted keys, 2-space indent, one trailing
newline. Writing the same record twice gives the same bytes, so git sees no
change where there is none and two copies that reach the same record agree
byte for byte.
"""

from __future__ import annotations

import json
import unicodedata
from json.encoder import encode_basestring as _encode_string
from typing import Any

from gitsync.errors import InputError

Record = dict[str, Any]


def normalise(value: Any) -> Any:
    """Return ``value`` with every string (keys too) NFC-normalised."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {normalise(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def dumps(record: Any) -> bytes:
    """The canonical bytes of a record."""
    out: list[str] = []
    try:
        _write(record, "\n", out)
    except _Unusual:
        text = json.dumps(normalise(record), ensure_ascii=False, sort_keys=True, indent=2)
        return (text + "\n").encode("utf-8")
    out.append("\n")
    return "".join(out).encode("utf-8")


# json.dumps with an indent runs the pure-Python encoder (its C encoder serves only
# indent=None): a third of a bulk import went there. ``_write`` gives the same text
# as ``json.dumps(normalise(v), ensure_ascii=False, sort_keys=True, indent=2)`` for
# what records hold (str keys; str, int, bool, None, lists and objects) and hands
# anything else (floats, other key types) to json itself.


class _Unusual(Exception):
    pass


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _write(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_encode_string(_nfc(value)))
    elif kind is int:
        out.append(int.__repr__(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        items: dict[str, Any] = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            items[_nfc(key)] = item
        inner = newline + "  "
        out.append("{")
        first = True
        for key in sorted(items):
            out.append(inner if first else "," + inner)
            first = False
            out.append(_encode_string(key))
            out.append(": ")
            _write(items[key], inner, out)
        out.append(newline + "}")
    elif kind is list:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        out.append("[")
        for index, item in enumerate(value):
            out.append(inner if index == 0 else "," + inner)
            _write(item, inner, out)
        out.append(newline + "]")
    else:
        raise _Unusual


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def loads(data: bytes | str, source: str = "<record>") -> Record:
    """Parse a record; raises InputError naming the source, line and column on bad JSON."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(source, None, None, f"not valid UTF-8 at byte {err.start}") from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        # json's messages end in " at" and leave the place to str(err): say "here" instead,
        # the line and column are in the message's head.
        detail = err.msg[: -len(" at")] + " here" if err.msg.endswith(" at") else err.msg
        raise InputError(source, err.lineno, str(err.colno), f"not valid JSON: {detail}") from None
    except ValueError as err:
        raise InputError(source, None, None, f"not valid JSON: {err}") from None
    if not isinstance(value, dict):
        raise InputError(source, None, None, "a record must be a JSON object")
    return value


def is_canonical(data: bytes) -> bool:
    """True when ``data`` is exactly the canonical form of the record it holds."""
    try:
        return dumps(json.loads(data.decode("utf-8"))) == data
    except (UnicodeDecodeError, ValueError):
        return False
