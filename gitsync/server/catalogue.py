"""The catalogue: every table of the server root and the only SQL run on it (SQLAlchemy 2 Core).

Users, tokens, hosted files, access lists, change events, and the admin side:
the audit log, the redirects a rename leaves, the recycle area's rows and what
copies report. Its schema carries a version (``gitsync.server.migrations``); a
catalogue older than this gitsync is refused until ``gitsync server upgrade``.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitsync.server import RIGHTS, ROLES, ServerError, migrations, right_at_least

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
        Index,
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
        Index("events_file", "file_id", "id"),
    )
    Table(
        "audit",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", Float, nullable=False),
        Column("user", String(100), nullable=False),
        Column("action", String(40), nullable=False),
        Column("file", String(300), nullable=False, default=""),
        Column("detail", Text, nullable=False, default="{}"),
        Index("audit_file", "file", "id"),
    )
    Table(
        "redirects",
        meta,
        Column("old", String(300), primary_key=True),
        Column("new", String(300), nullable=False),
        Column("at", Float, nullable=False),
    )
    Table(
        "recycle",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("path", String(300), nullable=False),
        Column("stored", String(400), nullable=False),
        Column("row", Text, nullable=False),
        Column("access", Text, nullable=False),
        Column("by", String(100), nullable=False),
        Column("at", Float, nullable=False),
    )
    Table(
        "copy_reports",
        meta,
        Column("file_id", Integer, primary_key=True, autoincrement=False),
        Column("copy", String(64), primary_key=True),
        Column("user", String(100), nullable=False),
        Column("seen", Float, nullable=False),
        Column("pending", Integer, nullable=True),
    )
    Table("schema_version", meta, Column("version", Integer, nullable=False))
    _metadata = meta
    return meta


class CatalogueError(ServerError):
    """The catalogue's database failed: one line naming the kind of failure, never its SQL."""


def _engine(url: str, root: ServerRoot) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        url = f"sqlite:///{root.path / relative}"
    scheme = url.split(":", 1)[0]
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

        else:
            engine = create_engine(url, pool_pre_ping=True)
    except ImportError as err:
        extra = " (pip install 'gitsync[postgres]')" if scheme.startswith("postgres") else ""
        raise CatalogueError(
            f"database '{scheme}': its driver is not installed ({err.name}){extra}"
        ) from None
    except (ArgumentError, NoSuchModuleError):
        raise CatalogueError(f"database '{scheme}': not a database URL SQLAlchemy knows") from None
    event.listen(engine, "handle_error", _one_line_error)
    return engine


def _one_line_error(context: Any) -> BaseException | None:
    """Every database failure but a constraint (which callers catch and name) becomes one line
    without the statement or its parameters: they may hold a password hash or a token hash."""
    from sqlalchemy.exc import IntegrityError

    original = context.original_exception
    if isinstance(context.sqlalchemy_exception, IntegrityError):
        return None
    unreached = context.is_disconnect or context.statement is None  # no statement: connecting
    kind = "cannot reach the database" if unreached else "the database failed"
    detail = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return CatalogueError(f"catalogue: {kind}: {type(original).__name__}: {detail[:200]}")


class Catalogue:
    """The catalogue of one server root."""

    def __init__(self, engine: Engine, root: ServerRoot, private: bool) -> None:
        self.engine = engine
        self.root = root
        self.private = private
        self.t = _tables().tables

    @classmethod
    def open(cls, root: ServerRoot, *, check_schema: bool = True) -> Catalogue:
        """The root's catalogue; refused when its schema is not this gitsync's (SchemaTooOld
        names ``gitsync server upgrade``), unless ``check_schema`` is False (the upgrade)."""
        settings = root.settings()
        url = str(settings.get("database") or "sqlite:///catalogue.db")
        catalogue = cls(_engine(url, root), root, bool(settings.get("private")))
        if check_schema:
            catalogue.check_schema()
        return catalogue

    def create_tables(self) -> None:
        """A new root's tables, at this gitsync's schema version."""
        meta = _tables()
        meta.create_all(self.engine)
        with self._tx() as conn:
            migrations.set_schema_version(conn, meta, migrations.HEAD)

    def schema_version(self) -> int:
        """The version the catalogue's tables are at; 0 for a root from before versions."""
        return migrations.schema_version(self.engine, _tables())

    def check_schema(self) -> None:
        """SchemaTooOld (naming ``gitsync server upgrade``) or SchemaTooNew, unless current."""
        migrations.check(self.schema_version(), self.root.path)

    def upgrade(self, *, backed_up: bool = False) -> migrations.Upgrade:
        """The catalogue brought to this gitsync's schema (``migrations.upgrade``)."""
        return migrations.upgrade(self.engine, _tables(), self.root.path, backed_up=backed_up)

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

    def right_of(self, user: User, hosted: HostedFile, *, granted: str | None = None) -> str:
        """The user's right on a file: admins hold every right, else the access list, else the
        default (``granted``: the access list's entry when already read, "" for none)."""
        if user.is_admin:
            return "admin"
        if granted is None:
            access = self.t["access"]
            with self.engine.connect() as conn:
                row = conn.execute(
                    access.select().where(
                        access.c.file_id == hosted.id, access.c.user_id == user.id
                    )
                ).first()
            granted = str(row.right) if row is not None else ""
        right = granted or ("none" if self.private else "sync")
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
        self.set_access(hosted, user_name, right)

    def set_access(self, hosted: HostedFile, user_name: str, right: str, by: str = "") -> None:
        """``user_name``'s entry in the file's access list (``none``: no right, also when files
        are open to staff); with ``by``, a grant or revoke line in the audit log, in the same
        transaction."""
        if right not in RIGHTS:
            raise ServerError(f"right '{right}': use one of {', '.join(RIGHTS)}")
        user = self.user(user_name)
        access = self.t["access"]
        with self._tx() as conn:
            conn.execute(
                access.delete().where(access.c.file_id == hosted.id, access.c.user_id == user.id)
            )
            conn.execute(access.insert().values(file_id=hosted.id, user_id=user.id, right=right))
            if by:
                action = "revoke" if right == "none" else "grant"
                self.record_action(by, action, hosted.path, conn, grantee=user_name, right=right)

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
                right = self.right_of(user, hosted, granted=row.granted or "")
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

    # --- the audit log --------------------------------------------------------------------

    def record_action(
        self, user: str, action: str, file: str = "", conn: Connection | None = None, **detail: Any
    ) -> None:
        """One line of the audit log (in ``conn``'s transaction when given)."""
        with self._tx() if conn is None else nullcontext(conn) as active:
            active.execute(
                self.t["audit"]
                .insert()
                .values(
                    at=time.time(),
                    user=user,
                    action=action,
                    file=file,
                    detail=json.dumps(detail, sort_keys=True, default=str),
                )
            )

    def audit(self, *, file: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """The audit log, newest first (of one file when ``file`` is given)."""
        audit = self.t["audit"]
        query = audit.select().order_by(audit.c.id.desc()).limit(limit)
        if file is not None:
            query = query.where(audit.c.file == file)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            {
                "at": stamp(r.at),
                "user": r.user,
                "action": r.action,
                "file": r.file,
                "detail": json.loads(r.detail or "{}"),
            }
            for r in rows
        ]

    # --- what copies report ----------------------------------------------------------------

    def report_copy(self, hosted: HostedFile, copy: str, user: str, pending: int | None) -> None:
        """A copy was seen now, and (when it said) holds ``pending`` changes not sent yet."""
        from sqlalchemy.exc import IntegrityError

        reports = self.t["copy_reports"]
        values: dict[str, Any] = {"user": user, "seen": time.time()}
        if pending is not None:
            values["pending"] = pending
        where = (reports.c.file_id == hosted.id) & (reports.c.copy == copy)
        for _ in range(2):
            try:
                with self._tx() as conn:
                    if conn.execute(reports.update().where(where).values(**values)).rowcount:
                        return
                    conn.execute(reports.insert().values(file_id=hosted.id, copy=copy, **values))
                    return
            except IntegrityError:
                continue  # another request inserted it a moment ago: update it instead

    def copy_reports(self, hosted: HostedFile) -> dict[str, tuple[float, int | None]]:
        """copy id -> (when last seen, pending changes it said it holds; None: never said)."""
        reports = self.t["copy_reports"]
        with self.engine.connect() as conn:
            rows = conn.execute(reports.select().where(reports.c.file_id == hosted.id)).all()
        return {r.copy: (float(r.seen), r.pending) for r in rows}

    # --- renames, moves and the recycle area --------------------------------------------------

    def redirect_of(self, path: str) -> str | None:
        """Where a renamed or moved file went (followed through several moves), or None."""
        redirects = self.t["redirects"]
        seen: set[str] = set()
        current = path
        with self.engine.connect() as conn:
            while current not in seen:
                seen.add(current)
                row = conn.execute(redirects.select().where(redirects.c.old == current)).first()
                if row is None:
                    break
                current = row.new
        return current if current != path else None

    def relocate_file(
        self, hosted: HostedFile, new_path: str, move: Callable[[], object], by: str, action: str
    ) -> None:
        """The file's row takes ``new_path`` and its old path redirects there; ``move`` (the
        repository's rename) runs inside the transaction, so either both happen or neither."""
        folder, _, name = new_path.rpartition("/")
        files, redirects = self.t["files"], self.t["redirects"]
        with self._tx() as conn:
            conn.execute(
                files.update()
                .where(files.c.id == hosted.id)
                .values(
                    path=new_path,
                    folder=folder,
                    name=name,
                    search=normalise(
                        " ".join([new_path, hosted.client, hosted.number, hosted.city])
                    ),
                )
            )
            conn.execute(redirects.delete().where(redirects.c.old.in_([hosted.path, new_path])))
            conn.execute(redirects.insert().values(old=hosted.path, new=new_path, at=time.time()))
            self.record_action(by, action, new_path, conn, old=hosted.path)
            move()

    def recycle_file(
        self,
        hosted: HostedFile,
        stored: str,
        move: Callable[[], object],
        *,
        by: str,
        remove: bool,
        action: str,
        **detail: Any,
    ) -> None:
        """Keep the file's row and access list in the recycle area under ``stored``. With
        ``remove`` the file leaves the catalogue (a delete); without, its row stays and the
        kept row takes a new id when restored (a Replace Server Copy). ``move`` (the
        repository's rename into the recycle area) runs inside the transaction."""
        t = self.t
        with self._tx() as conn:
            row = conn.execute(t["files"].select().where(t["files"].c.id == hosted.id)).first()
            access = conn.execute(
                t["access"].select().where(t["access"].c.file_id == hosted.id)
            ).all()
            if row is None:
                raise ServerError(f"{hosted.path}: no such file on the server")
            kept = dict(row._mapping)
            if not remove:
                kept.pop("id")
            conn.execute(
                t["recycle"]
                .insert()
                .values(
                    path=hosted.path,
                    stored=stored,
                    row=json.dumps(kept),
                    access=json.dumps([dict(a._mapping) for a in access]),
                    by=by,
                    at=time.time(),
                )
            )
            if remove:
                for table in ("events", "copy_reports", "access"):
                    conn.execute(t[table].delete().where(t[table].c.file_id == hosted.id))
                conn.execute(t["files"].delete().where(t["files"].c.id == hosted.id))
            self.record_action(by, action, hosted.path, conn, recycled_as=stored, **detail)
            move()

    def recycled(self) -> list[dict[str, Any]]:
        recycle = self.t["recycle"]
        with self.engine.connect() as conn:
            rows = conn.execute(recycle.select().order_by(recycle.c.id)).all()
        return [
            {"file": r.path, "stored": r.stored, "deleted_by": r.by, "deleted_at": stamp(r.at)}
            for r in rows
        ]

    def last_recycled(self, path: str) -> str | None:
        """Where the most recently recycled file of that path is stored, or None."""
        recycle = self.t["recycle"]
        with self.engine.connect() as conn:
            row = conn.execute(
                recycle.select().where(recycle.c.path == path).order_by(recycle.c.id.desc())
            ).first()
        return None if row is None else str(row.stored)

    def restore_file(self, path: str, move: Callable[[], object], by: str) -> None:
        """The most recently recycled file of that path back in the catalogue, with its access
        list; ``move`` (the repository's rename back) runs inside the transaction."""
        t = self.t
        recycle = t["recycle"]
        with self._tx() as conn:
            row = conn.execute(
                recycle.select().where(recycle.c.path == path).order_by(recycle.c.id.desc())
            ).first()
            if row is None:
                raise ServerError(f"{path}: not in the recycle area")
            values = json.loads(row.row)
            # A replaced copy's row has no id (its file kept it): it takes a new one.
            inserted = conn.execute(t["files"].insert().values(**values)).inserted_primary_key
            file_id = values.get("id") or (inserted[0] if inserted else None)
            for entry in json.loads(row.access):
                conn.execute(t["access"].insert().values(**dict(entry, file_id=file_id)))
            conn.execute(recycle.delete().where(recycle.c.id == row.id))
            self.record_action(by, "undelete", path, conn)
            move()

    # --- access -------------------------------------------------------------------------------

    def effective_rights(self, hosted: HostedFile) -> list[tuple[User, str, str]]:
        """Every user with a right on the file: (user, right, why), why being ``granted``,
        ``server admin`` or ``default`` (the open access of a root that is not private)."""
        access = self.t["access"]
        with self.engine.connect() as conn:
            rows = conn.execute(access.select().where(access.c.file_id == hosted.id)).all()
        granted = {int(r.user_id): str(r.right) for r in rows}
        found = []
        for user in self.users():
            right = self.right_of(user, hosted, granted=granted.get(user.id, ""))
            why = (
                "server admin" if user.is_admin else "granted" if user.id in granted else "default"
            )
            if right != "none":
                found.append((user, right, why))
        return found


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


def stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
