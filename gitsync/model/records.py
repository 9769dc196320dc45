"""The record kinds of a client file, their paths and their schemas.

Every record is one canonical JSON file whose path derives from its identity
(``accounts/<number>.json``, ``entries/<id>.json``, ...). A delete is a
tombstone: the record stays at its path with ``"deleted": true``, so git never
sees a delete and the record merge settles delete-versus-edit.

Every record written by gitsync carries ``modified``: who changed it last,
from which copy, and when; a record changed after it was created also
carries ``provenance``, the same stamp for each field that changed (see
``gitsync.model.provenance``). The merge judges a true conflict on a field by
the two writes of that field (see ``gitsync.merge``).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from gitsync.errors import RuleViolation
from gitsync.model.money import is_money
from gitsync.model.names import BIDI_CONTROLS, name_size_problem, text_problem
from gitsync.model.version import FORMAT_VERSION as FORMAT_VERSION  # re-exported

ACCOUNT_TYPES = ("asset", "liability", "equity", "revenue", "expense")
BALANCE_SHEET_TYPES = ("asset", "liability", "equity")
DEFAULT_JOURNALS = {
    "AJE": "Adjusting journal entries",
    "RJE": "Reclassification journal entries",
    "TJE": "Tax journal entries",
    "PAJE": "Proposed adjusting journal entries",
    "EJE": "Eliminating journal entries",
}
COPY_STATES = ("active", "deleted", "abandoned")
#: The protection rights a user record may hold (``gitsync.rules.syncstate`` gives their meaning).
RIGHTS = (
    "open-directly",
    "modify-entries",
    "modify-accounts",
    "year-end-close",
    "lockdown",
    "abandon-copies",
    "manage-protection",
)
CONFLICT_STATES = ("open", "resolved")
SYNC_MODES = ("sync", "local")
# A document's sync behaviour (DESIGN section 9); a record without ``sync`` is automatic.
DOCUMENT_SYNC = ("automatic", "on-demand", "never")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")

#: Document kinds by file extension (lower case, without the dot).
KIND_BY_EXTENSION: dict[str, str] = {
    **dict.fromkeys(("doc", "docx", "docm", "dot", "dotx", "rtf", "odt"), "word"),
    **dict.fromkeys(("xls", "xlsx", "xlsm", "xlsb", "ods", "csv"), "excel"),
    "pdf": "pdf",
    **dict.fromkeys(("ppt", "pptx", "odp"), "powerpoint"),
    **dict.fromkeys(("txt", "md", "text"), "text"),
    **dict.fromkeys(("png", "jpg", "jpeg", "gif", "tif", "tiff", "bmp"), "image"),
    **dict.fromkeys(("msg", "eml"), "email"),
    **dict.fromkeys(("zip", "7z"), "archive"),
}
DOCUMENT_KINDS = (*sorted(set(KIND_BY_EXTENSION.values())), "other")

DOCUMENT_NAME_MAX = 100
# Limits a reviewer would expect (rule ``limit``): an entry's or a tax code's description,
# and the name of an account, a journal, a units list or a folder.
DESCRIPTION_MAX = 1_000
NAME_MAX = 200
# The engagement's fields show on every report, in the server's catalogue and on its web
# page: a client's legal name fits in 200 characters, a city in 100, a client number is an id.
CLIENT_NAME_MAX = 200
CLIENT_NUMBER_MAX = 64
CITY_MAX = 100
#: Text a person reads in reports and on the server's page (rule ``text``): no control or
#: bidi characters, and at most so many characters.
TEXT_FIELDS: dict[str, dict[str, int]] = {
    "engagement": {
        "client_name": CLIENT_NAME_MAX,
        "client_number": CLIENT_NUMBER_MAX,
        "city": CITY_MAX,
    },
}
LIMITS: dict[str, dict[str, int]] = {
    "entry": {"description": DESCRIPTION_MAX},
    "taxcode": {"description": DESCRIPTION_MAX},
    "account": {"name": NAME_MAX},
    "journal": {"name": NAME_MAX},
    "unit": {"name": NAME_MAX},
    "folder": {"name": NAME_MAX},
}


def new_id() -> str:
    """A fresh record id: 12 hex digits from a cryptographic source."""
    return secrets.token_hex(6)


def now_stamp() -> str:
    """The current UTC time as stored in records (microseconds, ``Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_valid_id(text: object) -> bool:
    return isinstance(text, str) and bool(_ID.match(text))


def document_name_problem(name: object) -> str | None:
    """Why a document name is refused, or None when it is fine."""
    if not isinstance(name, str) or not name:
        return "a document name must be a non-empty string"
    if name != unicodedata.normalize("NFC", name):
        return "a document name must be NFC-normalised Unicode"
    if any(
        unicodedata.category(ch) in ("Cs", "Cc", "Co", "Cn") or ch in BIDI_CONTROLS for ch in name
    ):
        return "a document name must be valid Unicode text without control or bidi characters"
    if len(name) > DOCUMENT_NAME_MAX:
        return (
            f"a document name is at most {DOCUMENT_NAME_MAX} characters (this one has {len(name)})"
        )
    too_long = name_size_problem(name, "a document name")
    if too_long:
        return too_long
    if name.startswith("_"):
        return "a document name must not start with an underscore"
    if "/" in name or "\\" in name or name in (".", ".."):
        return "a document name must not contain a path separator"
    return None


def folder_name_problem(name: object) -> str | None:
    """Why a Document Manager folder name is refused, or None when it is fine."""
    if not isinstance(name, str) or not name.strip():
        return "a folder name must be a non-empty string"
    if any(
        unicodedata.category(ch) in ("Cs", "Cc", "Co", "Cn") or ch in BIDI_CONTROLS for ch in name
    ):
        return "a folder name must be valid Unicode text without control or bidi characters"
    return name_size_problem(name, "a folder name")


# --- schemas -------------------------------------------------------------------

Check = Callable[[Any], str | None]


def _str(v: Any) -> str | None:
    return None if isinstance(v, str) else "must be a string"


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "must be a non-empty string"


def _ident(v: Any) -> str | None:
    return None if is_valid_id(v) else "must be an id (letters, digits, '.', '_', '-'; 64 at most)"


def _opt(check: Check) -> Check:
    def optional(v: Any) -> str | None:
        return None if v is None else check(v)

    return optional


def _int(v: Any) -> str | None:
    return None if is_money(v) else "must be an integer"


def _entry_number(v: Any) -> str | None:
    if not is_money(v):
        return "must be an integer"
    return None if v >= 1 else "must be 1 or more"


def _mask(v: Any) -> str | None:
    if not isinstance(v, str) or not v.strip():
        return "must be a non-empty string"
    return "must not contain spaces" if any(ch.isspace() for ch in v) else None


def _money(v: Any) -> str | None:
    if isinstance(v, float):
        return "must be an integer amount in cents, not a float"
    return None if is_money(v) else "must be an integer amount in cents"


def _bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "must be true or false"


def _date(v: Any) -> str | None:
    if not isinstance(v, str) or not _DATE.match(v):
        return "must be a date YYYY-MM-DD"
    try:
        date.fromisoformat(v)
    except ValueError:
        return "must be a real calendar date"
    return None


def _stamp(v: Any) -> str | None:
    return None if isinstance(v, str) and _STAMP.match(v) else "must be a UTC time stamp"


def _one_of(*choices: str) -> Check:
    def check(v: Any) -> str | None:
        return None if v in choices else f"must be one of {', '.join(choices)}"

    return check


def _list_of(check: Check) -> Check:
    def checker(v: Any) -> str | None:
        if not isinstance(v, list):
            return "must be a list"
        for item in v:
            problem = check(item)
            if problem:
                return f"every item {problem}"
        return None

    return checker


def _any(v: Any) -> str | None:
    return None


def _kept_at(v: Any) -> str | None:
    """Where a Never document's content lives: the copy, its user and the file's path there."""
    if not isinstance(v, dict) or not all(
        isinstance(v.get(k), str) for k in ("copy", "user", "path")
    ):
        return "must be an object with copy, user and path"
    return None


@dataclass(frozen=True)
class Field:
    check: Check
    required: bool = True


Schema = dict[str, Field]

MODIFIED: Schema = {"at": Field(_stamp), "by": Field(_str), "copy": Field(_str)}
LINE: Schema = {
    "id": Field(_ident),
    "account": Field(_ident),
    "amount": Field(_money),
    "tax_code": Field(_opt(_ident), required=False),
}
VALUE: Schema = {
    "value": Field(_any),
    "by": Field(_str),
    "at": Field(_str),
    "copy": Field(_str),
}

COMMON: Schema = {
    "deleted": Field(_bool, required=False),
    "modified": Field(_any, required=False),
    "provenance": Field(_any, required=False),
}


@dataclass(frozen=True)
class Kind:
    """One kind of record: where it lives, which field is its identity, its schema."""

    name: str
    folder: str
    key: str
    schema: Schema
    singleton: str | None = None  # the fixed path of a one-of-a-kind record

    def path_for(self, ident: str) -> str:
        return self.singleton or f"{self.folder}/{ident}.json"


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "engagement",
            "",
            "client_number",
            {
                "client_name": Field(_text),
                "client_number": Field(_text),
                "city": Field(_str),
                "year_end": Field(_date),
                "format_version": Field(_int),
            },
            singleton="engagement.json",
        ),
        Kind(
            "account",
            "accounts",
            "number",
            {
                "number": Field(_ident),
                "name": Field(_text),
                "type": Field(_one_of(*ACCOUNT_TYPES)),
                "map": Field(_opt(_str), required=False),
                "group": Field(_opt(_str), required=False),
                "units": Field(_opt(_ident), required=False),
                "balance": Field(_money),
                "prior": Field(_list_of(_money), required=False),
            },
        ),
        Kind(
            "entry",
            "entries",
            "id",
            {
                "id": Field(_ident),
                "journal": Field(_ident),
                "number": Field(_entry_number),
                "date": Field(_date),
                "description": Field(_str),
                "created_at": Field(_stamp),
                "lines": Field(_list_of(lambda v: None if isinstance(v, dict) else "an object")),
            },
        ),
        Kind("taxcode", "taxcodes", "code", {"code": Field(_ident), "description": Field(_str)}),
        Kind("journal", "journals", "id", {"id": Field(_ident), "name": Field(_str)}),
        Kind("unit", "units", "id", {"id": Field(_ident), "name": Field(_str)}),
        Kind("mask", "mapping", "mask", {"mask": Field(_mask)}, singleton="mapping/mask.json"),
        Kind(
            "folder",
            "folders",
            "id",
            {
                "id": Field(_ident),
                "name": Field(_text),
                "parent": Field(_opt(_ident), required=False),
            },
        ),
        Kind(
            "document",
            "documents",
            "id",
            {
                "id": Field(_ident),
                "name": Field(_str),
                "folder": Field(_opt(_ident), required=False),
                "kind": Field(_one_of(*DOCUMENT_KINDS)),
                "sync_mode": Field(_one_of(*SYNC_MODES)),
                "sha256": Field(_str),
                "size": Field(_int),
                "sync": Field(_one_of(*DOCUMENT_SYNC), required=False),
                "blob": Field(_opt(_str), required=False),
                "added_by": Field(_str, required=False),
                "kept_at": Field(_opt(_kept_at), required=False),
            },
        ),
        Kind(
            "document-settings",
            "settings",
            "sync",
            {
                "sync": Field(_one_of(*DOCUMENT_SYNC)),
                "size_over": Field(_int, required=False),
                "folders": Field(_any, required=False),
            },
            singleton="settings/documents.json",
        ),
        Kind(
            "document-locks",
            "settings",
            "locks",
            {"locks": Field(_any)},
            singleton="settings/document-locks.json",
        ),
        Kind(
            "user",
            "protection",
            "name",
            {
                "name": Field(_ident),
                "role": Field(_text),
                "rights": Field(_list_of(_one_of(*RIGHTS))),
            },
        ),
        Kind(
            "copy",
            "sync/copies",
            "id",
            {
                "id": Field(_ident),
                "user": Field(_str),
                "parent": Field(_opt(_str)),
                "created": Field(_stamp),
                "state": Field(_one_of(*COPY_STATES)),
                "address": Field(_opt(_str), required=False),
                "peer": Field(_opt(_str), required=False),
            },
        ),
        Kind(
            "lockdown",
            "sync",
            "locked",
            {"locked": Field(_bool), "at": Field(_stamp), "by": Field(_str)},
            singleton="sync/lockdown.json",
        ),
        Kind(
            "checkout",
            "sync/checkouts",
            "id",
            {
                "id": Field(_ident),
                "component": Field(_text),
                "user": Field(_str),
                "copy": Field(_str),
                "at": Field(_stamp),
            },
        ),
        Kind(
            "conflict",
            "sync/conflicts",
            "id",
            {
                "id": Field(_ident),
                "record": Field(_text),
                "field": Field(_str),
                "rule": Field(_str),
                "base": Field(_any, required=False),
                "values": Field(_list_of(lambda v: None if isinstance(v, dict) else "an object")),
                "current": Field(_any),
                "status": Field(_one_of(*CONFLICT_STATES)),
                "resolution": Field(_any, required=False),
            },
        ),
    )
}

_BY_FOLDER = {k.folder: k for k in KINDS.values() if not k.singleton}
_BY_SINGLETON = {k.singleton: k for k in KINDS.values() if k.singleton}


def kind_of(path: str) -> Kind | None:
    """The kind of the record at ``path``, or None when the path holds no record."""
    if path in _BY_SINGLETON:
        return _BY_SINGLETON[path]
    if not path.endswith(".json"):
        return None
    folder, _, name = path.rpartition("/")
    kind = _BY_FOLDER.get(folder)
    if kind is None or name.count("/"):
        return None
    return kind


def ident_of(path: str) -> str:
    """The identity a record path encodes (``accounts/1000.json`` -> ``1000``)."""
    return path.rpartition("/")[2].removesuffix(".json")


def is_document_content(path: str) -> bool:
    """True for the content file of an external document (``documents/<id>/<name>``)."""
    parts = path.split("/")
    return len(parts) == 3 and parts[0] == "documents"


def is_tombstone(record: dict[str, Any]) -> bool:
    return record.get("deleted") is True


def _check_fields(path: str, record: dict[str, Any], schema: Schema, prefix: str) -> None:
    for name, spec in schema.items():
        where = f"{prefix}{name}"
        if name not in record:
            if spec.required:
                raise RuleViolation(path, where, "schema", "is missing")
            continue
        problem = spec.check(record[name])
        if problem:
            raise RuleViolation(path, where, "schema", problem)
    for name in record:
        if name not in schema and name not in COMMON:
            raise RuleViolation(path, f"{prefix}{name}", "schema", "is not a field of this record")


def validate(path: str, record: dict[str, Any]) -> Kind:
    """Check one record against its kind's schema; raises RuleViolation naming the field."""
    kind = kind_of(path)
    if kind is None:
        raise RuleViolation(path, "", "schema", "is not a record path of a client file")
    _check_fields(path, record, kind.schema, "")
    if "deleted" in record and not isinstance(record["deleted"], bool):
        raise RuleViolation(path, "deleted", "schema", "must be true or false")
    if "modified" in record:
        modified = record["modified"]
        if not isinstance(modified, dict):
            raise RuleViolation(path, "modified", "schema", "must be an object")
        _check_fields(path, modified, MODIFIED, "modified.")
    for name, most in LIMITS.get(kind.name, {}).items():
        text = record.get(name)
        if isinstance(text, str) and len(text) > most:
            raise RuleViolation(
                path, name, "limit", f"is at most {most:,} characters (this one has {len(text):,})"
            )
    for name, most in TEXT_FIELDS.get(kind.name, {}).items():
        text = record.get(name)
        problem = text_problem(text, name, most) if isinstance(text, str) else None
        if problem:
            raise RuleViolation(path, name, "text", problem.removeprefix(f"{name} "))
    if "provenance" in record:
        _check_provenance(path, record["provenance"])
    if not kind.singleton and record[kind.key] != ident_of(path):
        raise RuleViolation(
            path, kind.key, "identity", f"'{record[kind.key]}' does not match the record's path"
        )
    if kind.name == "entry":
        seen: set[str] = set()
        for i, line in enumerate(record["lines"]):
            _check_fields(path, line, LINE, f"lines[{i}].")
            if line["id"] in seen:
                raise RuleViolation(path, f"lines[{i}].id", "schema", "line ids must be unique")
            seen.add(line["id"])
    elif kind.name == "document":
        problem = document_name_problem(record["name"])
        if problem:
            raise RuleViolation(path, "name", "document-name", problem)
    elif kind.name == "folder":
        problem = folder_name_problem(record["name"])
        if problem:
            raise RuleViolation(path, "name", "folder-name", problem)
    elif kind.name == "conflict":
        for i, value in enumerate(record["values"]):
            _check_fields(path, value, VALUE, f"values[{i}].")
    return kind


def _check_provenance(path: str, stamps: Any) -> None:
    """``provenance``: JSON pointer -> the stamp ({at, by, copy}) of the write that set it.

    A stamp may name, in ``also``, other writes of the same value made
    concurrently (two copies added the same tax code; the merge keeps both).
    """
    if not isinstance(stamps, dict):
        raise RuleViolation(path, "provenance", "schema", "must be an object")
    for pointer, stamp in stamps.items():
        where = f"provenance.{pointer or '(record)'}"
        if pointer and not pointer.startswith("/"):
            raise RuleViolation(path, where, "schema", "must be keyed by JSON pointers")
        if not isinstance(stamp, dict):
            raise RuleViolation(path, where, "schema", "must be a stamp {at, by, copy}")
        also = stamp.get("also", [])
        if not isinstance(also, list) or not all(isinstance(s, dict) for s in also):
            raise RuleViolation(path, f"{where}.also", "schema", "must be a list of stamps")
        _check_fields(path, {k: v for k, v in stamp.items() if k != "also"}, MODIFIED, f"{where}.")
        for i, other in enumerate(also):
            _check_fields(path, other, MODIFIED, f"{where}.also[{i}].")


def document_content_path(record: dict[str, Any]) -> str:
    """Where a document's content lives: ``documents/<id>/<name>``."""
    return f"documents/{record['id']}/{record['name']}"


def document_sync(record: dict[str, Any]) -> str:
    """A document's sync behaviour: automatic, on-demand or never."""
    return str(record.get("sync", "automatic"))


def iter_record_paths(paths: Iterator[str]) -> Iterator[str]:
    """The record paths among ``paths``."""
    return (p for p in paths if kind_of(p) is not None)
