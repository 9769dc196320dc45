"""The catalogue: users, tokens, hosted files, access lists and change events (SQLAlchemy 2 Core).

SQLite in WAL mode inside the server root by default, so the ``server user``
and ``server grant`` commands act on the root while the server runs;
PostgreSQL by URL when several server processes share the load.

Passwords are argon2 hashes, checked only at sign-in. A sign-in gives a
random token that is stored only as its SHA-256: git sends it as the Basic
password on every request, and a hash lookup costs far less than argon2.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitsync.server import RIGHTS, ROLES, ServerError, right_at_least

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from gitsync.server.storage import ServerRoot

TOKEN_BYTES = 32
MAX_PASSWORD = 1024


def normalise(text: str) -> str:
    """Folded for search: accents dropped, case folded (``Montréal`` -> ``montreal``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass
class HostedFile:
    id: int
    path: str
    folder: str
    name: str
    state: str  # publishing | ready
    publisher: str
    client: str = ""
    number: str = ""
    city: str = ""
    year_end: str = ""
    holders: list[str] = field(default_factory=list)
    changed_at: float = 0.0
    format_version: int | None = None


_metadata: Any = None


def _tables() -> Any:
    """The table definitions, built once on first use (SQLAlchemy loads lazily)."""
    global _metadata
    if _metadata is not None:
        return _metadata
    from sqlalchemy import (
        Column,
        Float,
        ForeignKey,
        Integer,
        MetaData,
        String,
        Table,
        Text,
        UniqueConstraint,
    )

    meta = MetaData()
    Table(
        "users",
        meta,
        Column("id", Integer, primary_key=True),
        Column("name", String(100), nullable=False, unique=True),
        Column("role", String(10), nullable=False),
        Column("password", Text, nullable=False),
        Column("created", Float, nullable=False),
    )
    Table(
        "tokens",
        meta,
        Column("hash", String(64), primary_key=True),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("created", Float, nullable=False),
    )
    Table(
        "files",
        meta,
        Column("id", Integer, primary_key=True),
        Column("path", String(300), nullable=False, unique=True),
        Column("folder", String(300), nullable=False),
        Column("name", String(100), nullable=False),
        Column("state", String(12), nullable=False),
        Column("publisher_id", Integer, ForeignKey("users.id"), nullable=True),
        Column("client", Text, nullable=False, default=""),
        Column("number", String(100), nullable=False, default=""),
        Column("city", Text, nullable=False, default=""),
        Column("year_end", String(40), nullable=False, default=""),
        Column("holders", Text, nullable=False, default="[]"),
        Column("search", Text, nullable=False, default=""),
        Column("format_version", Integer, nullable=True),
        Column("created", Float, nullable=False),
        Column("changed_at", Float, nullable=False),
    )
    Table(
        "access",
        meta,
        Column("file_id", Integer, ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
        Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        Column("right", String(8), nullable=False),
        UniqueConstraint("file_id", "user_id"),
    )
    Table(
        "events",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("file_id", Integer, ForeignKey("files.id", ondelete="CASCADE"), nullable=False),
        Column("ref", String(200), nullable=False),
        Column("old", String(64), nullable=False),
        Column("new", String(64), nullable=False),
        Column("user", String(100), nullable=False),
        Column("at", Float, nullable=False),
    )
    _metadata = meta
    return meta


def _engine(url: str, root: ServerRoot) -> Engine:
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        url = f"sqlite:///{root.path / relative}"
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Catalogue:
    """The catalogue of one server root."""

    def __init__(self, engine: Engine, root: ServerRoot, private: bool) -> None:
        self.engine = engine
        self.root = root
        self.private = private
        self.t = _tables().tables

    @classmethod
    def open(cls, root: ServerRoot) -> Catalogue:
        settings = root.settings()
        url = str(settings.get("database") or "sqlite:///catalogue.db")
        return cls(_engine(url, root), root, bool(settings.get("private")))

    def create_tables(self) -> None:
        _tables().create_all(self.engine)

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- users -------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str) -> User:
        from sqlalchemy.exc import IntegrityError

        from gitsync.model.records import is_valid_id

        if role not in ROLES:
            raise ServerError(f"role '{role}': use one of {', '.join(ROLES)}")
        if not is_valid_id(name) or len(name) > 100:
            raise ServerError(f"user name '{name}': letters, digits, '-', '_' and '.' only")
        _check_password(password)
        users = self.t["users"]
        try:
            with self._tx() as conn:
                result = conn.execute(
                    users.insert().values(
                        name=name, role=role, password=_hash_password(password), created=time.time()
                    )
                )
                return User(_new_id(result), name, role)
        except IntegrityError:
            raise ServerError(f"user '{name}' already exists") from None

    def users(self) -> list[User]:
        users = self.t["users"]
        with self.engine.connect() as conn:
            rows = conn.execute(users.select().order_by(users.c.name)).all()
        return [User(r.id, r.name, r.role) for r in rows]

    def user(self, name: str) -> User:
        users = self.t["users"]
        with self.engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.name == name)).first()
        if row is None:
            raise ServerError(f"no user '{name}' on this server")
        return User(row.id, row.name, row.role)

    def remove_user(self, name: str) -> None:
        user = self.user(name)
        with self._tx() as conn:
            conn.execute(self.t["tokens"].delete().where(self.t["tokens"].c.user_id == user.id))
            conn.execute(self.t["access"].delete().where(self.t["access"].c.user_id == user.id))
            conn.execute(
                self.t["files"]
                .update()
                .where(self.t["files"].c.publisher_id == user.id)
                .values(publisher_id=None)
            )
            conn.execute(self.t["users"].delete().where(self.t["users"].c.id == user.id))

    def set_password(self, name: str, password: str) -> None:
        """A new password; every token of the user is revoked with the old one."""
        user = self.user(name)
        _check_password(password)
        with self._tx() as conn:
            conn.execute(
                self.t["users"]
                .update()
                .where(self.t["users"].c.id == user.id)
                .values(password=_hash_password(password))
            )
            conn.execute(self.t["tokens"].delete().where(self.t["tokens"].c.user_id == user.id))

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is right, else None (argon2: about 0.1 s on purpose)."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        users = self.t["users"]
        with self.engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.name == name)).first()
        hasher = PasswordHasher()
        if row is None or len(password) > MAX_PASSWORD:
            # Spend the same time as a real check, so a guesser cannot tell names apart.
            with suppress(VerificationError, InvalidHashError):
                hasher.verify(_dummy_hash(), password[:MAX_PASSWORD] or "x")
            return None
        try:
            hasher.verify(row.password, password)
        except (VerificationError, InvalidHashError):
            return None
        return User(row.id, row.name, row.role)

    def password_stamp(self, name: str) -> str | None:
        """The stored hash of a user's password (None for no such user): a remembered check is
        good only while it is unchanged."""
        users = self.t["users"]
        with self.engine.connect() as conn:
            row = conn.execute(users.select().where(users.c.name == name)).first()
        return None if row is None else str(row.password)

    # --- tokens ------------------------------------------------------------------

    def issue_token(self, user: User) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._tx() as conn:
            conn.execute(
                self.t["tokens"]
                .insert()
                .values(hash=token_hash(token), user_id=user.id, created=time.time())
            )
        return token

    def revoke_token(self, token: str) -> None:
        with self._tx() as conn:
            conn.execute(
                self.t["tokens"].delete().where(self.t["tokens"].c.hash == token_hash(token))
            )

    def user_for_token(self, name: str, token: str, *, max_age: float | None = None) -> User | None:
        """The user a token signs in, while it is younger than ``max_age`` seconds."""
        tokens, users = self.t["tokens"], self.t["users"]
        from sqlalchemy import select

        query = (
            select(users.c.id, users.c.name, users.c.role)
            .select_from(tokens.join(users, tokens.c.user_id == users.c.id))
            .where(tokens.c.hash == token_hash(token), users.c.name == name)
        )
        if max_age is not None:
            query = query.where(tokens.c.created > time.time() - max_age)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return User(row.id, row.name, row.role) if row is not None else None

    def token_known(self, token: str) -> bool:
        """Whether the token was issued and not revoked (expired or not): no password to check."""
        tokens = self.t["tokens"]
        with self.engine.connect() as conn:
            row = conn.execute(tokens.select().where(tokens.c.hash == token_hash(token))).first()
        return row is not None

    def tokens(self, user_name: str | None = None) -> list[tuple[str, str, float]]:
        """(stored hash, user, created) of every token not revoked, of one user when named."""
        from sqlalchemy import select

        tokens, users = self.t["tokens"], self.t["users"]
        query = (
            select(tokens.c.hash, users.c.name, tokens.c.created)
            .select_from(tokens.join(users, tokens.c.user_id == users.c.id))
            .order_by(users.c.name, tokens.c.created)
        )
        if user_name is not None:
            query = query.where(users.c.name == user_name)
        with self.engine.connect() as conn:
            return [(r.hash, r.name, r.created) for r in conn.execute(query)]

    def revoke_token_hash(self, stored: str) -> None:
        """Revoke the token whose stored hash is ``stored`` (as ``tokens`` lists it)."""
        with self._tx() as conn:
            conn.execute(self.t["tokens"].delete().where(self.t["tokens"].c.hash == stored))

    # --- files -------------------------------------------------------------------

    def _file_from_row(self, row: Any, publisher: str | None) -> HostedFile:
        return HostedFile(
            id=row.id,
            path=row.path,
            folder=row.folder,
            name=row.name,
            state=row.state,
            publisher=publisher or "",
            client=row.client,
            number=row.number,
            city=row.city,
            year_end=row.year_end,
            holders=json.loads(row.holders or "[]"),
            changed_at=row.changed_at,
            format_version=row.format_version,
        )

    def file(self, path: str) -> HostedFile | None:
        from sqlalchemy import select

        files, users = self.t["files"], self.t["users"]
        query = (
            select(files, users.c.name.label("publisher_name"))
            .select_from(files.outerjoin(users, files.c.publisher_id == users.c.id))
            .where(files.c.path == path)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self._file_from_row(row, row.publisher_name) if row is not None else None

    def start_publish(self, path: str, publisher: User) -> HostedFile:
        """Register a file being published: hidden from everyone but its publisher until complete."""
        from sqlalchemy.exc import IntegrityError

        folder, _, name = path.rpartition("/")
        now = time.time()
        try:
            with self._tx() as conn:
                result = conn.execute(
                    self.t["files"]
                    .insert()
                    .values(
                        path=path,
                        folder=folder,
                        name=name,
                        state="publishing",
                        publisher_id=publisher.id,
                        client="",
                        number="",
                        city="",
                        year_end="",
                        holders="[]",
                        search=normalise(path),
                        created=now,
                        changed_at=now,
                    )
                )
                file_id = _new_id(result)
                conn.execute(
                    self.t["access"]
                    .insert()
                    .values(file_id=file_id, user_id=publisher.id, right="admin")
                )
        except IntegrityError:
            raise ServerError(f"{path}: a file of that name is already on the server") from None
        found = self.file(path)
        assert found is not None
        return found

    def update_file(self, path: str, **values: Any) -> None:
        """Record what the file's repository says (engagement fields, holders, state)."""
        current = self.file(path)
        if current is None:
            raise ServerError(f"{path}: no such file on the server")
        merged = {
            "client": values.get("client", current.client),
            "number": values.get("number", current.number),
            "city": values.get("city", current.city),
            "year_end": values.get("year_end", current.year_end),
        }
        row: dict[str, Any] = dict(merged)
        if "holders" in values:
            row["holders"] = json.dumps(sorted(set(values["holders"])))
        if "state" in values:
            row["state"] = values["state"]
        if "format_version" in values:
            row["format_version"] = values["format_version"]
        row["search"] = normalise(
            " ".join([current.path, merged["client"], merged["number"], merged["city"]])
        )
        row["changed_at"] = values.get("changed_at", time.time())
        with self._tx() as conn:
            conn.execute(
                self.t["files"].update().where(self.t["files"].c.id == current.id).values(**row)
            )

    def right_of(self, user: User, hosted: HostedFile) -> str:
        """The user's right on a file: admins hold every right, else the access list, else the default."""
        if user.is_admin:
            return "admin"
        access = self.t["access"]
        with self.engine.connect() as conn:
            row = conn.execute(
                access.select().where(access.c.file_id == hosted.id, access.c.user_id == user.id)
            ).first()
        right = str(row.right) if row is not None else "none" if self.private else "sync"
        if hosted.state != "ready" and hosted.publisher != user.name:
            return "none"  # a file being published is nobody's but its publisher's
        return right

    def grant(self, path: str, user_name: str, right: str) -> None:
        if right not in RIGHTS[1:]:
            raise ServerError(f"right '{right}': use one of {', '.join(RIGHTS[1:])}")
        self._set_access(path, user_name, right)

    def revoke(self, path: str, user_name: str) -> None:
        """Take every right on the file away from the user (also when files are open to staff)."""
        self._set_access(path, user_name, "none")

    def _set_access(self, path: str, user_name: str, right: str) -> None:
        hosted = self.file(path)
        if hosted is None:
            raise ServerError(f"{path}: no such file on the server")
        user = self.user(user_name)
        access = self.t["access"]
        with self._tx() as conn:
            conn.execute(
                access.delete().where(access.c.file_id == hosted.id, access.c.user_id == user.id)
            )
            conn.execute(access.insert().values(file_id=hosted.id, user_id=user.id, right=right))

    def search(
        self, user: User, text: str, *, holder: str | None = None, limit: int = 200
    ) -> list[tuple[HostedFile, str]]:
        """Files the user may see whose name, client, number or city contain ``text`` (folded)."""
        from sqlalchemy import and_, or_, select

        files, users, access = self.t["files"], self.t["users"], self.t["access"]
        needle = normalise(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = (
            select(files, users.c.name.label("publisher_name"), access.c.right.label("granted"))
            .select_from(
                files.outerjoin(users, files.c.publisher_id == users.c.id).outerjoin(
                    access, and_(access.c.file_id == files.c.id, access.c.user_id == user.id)
                )
            )
            .where(files.c.search.like(f"%{needle}%", escape="\\"))
            .order_by(files.c.path)
        )
        if not user.is_admin:
            visible_default = [] if self.private else [access.c.right.is_(None)]
            query = query.where(
                files.c.state == "ready",
                or_(access.c.right.in_(RIGHTS[1:]), *visible_default),
            )
        found: list[tuple[HostedFile, str]] = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                hosted = self._file_from_row(row, row.publisher_name)
                if (
                    holder is not None
                    and holder not in hosted.holders
                    and hosted.publisher != holder
                ):
                    continue
                if user.is_admin:
                    right = "admin"
                else:
                    right = row.granted or ("none" if self.private else "sync")
                if not right_at_least(right, "see"):
                    continue
                found.append((hosted, right))
                if len(found) >= limit:
                    break
        return found

    # --- events ------------------------------------------------------------------

    def add_event(self, hosted: HostedFile, ref: str, old: str, new: str, user: str) -> int:
        with self._tx() as conn:
            result = conn.execute(
                self.t["events"]
                .insert()
                .values(file_id=hosted.id, ref=ref, old=old, new=new, user=user, at=time.time())
            )
            return _new_id(result)

    def last_event(self) -> int:
        from sqlalchemy import func, select

        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(self.t["events"].c.id))).scalar()
        return int(value or 0)

    def events_since(self, hosted: HostedFile, since: int) -> list[dict[str, Any]]:
        events = self.t["events"]
        with self.engine.connect() as conn:
            rows = conn.execute(
                events.select()
                .where(events.c.file_id == hosted.id, events.c.id > since)
                .order_by(events.c.id)
                .limit(100)
            ).all()
        return [
            {"cursor": r.id, "ref": r.ref, "old": r.old, "new": r.new, "user": r.user, "at": r.at}
            for r in rows
        ]


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise ServerError("the password must have at least 8 characters")
    if len(password) > MAX_PASSWORD:
        raise ServerError(f"the password must have at most {MAX_PASSWORD} characters")


def _hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return str(PasswordHasher().hash(password))


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hash_password(secrets.token_hex(16)))
    return _DUMMY[0]


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
