"""Database plumbing shared by every domain: the declarative base, portable types, engines."""

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum as PyEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    any_,
    event,
    insert,
    inspect,
    literal,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapper, QueryableAttribute
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant stored in UTC on every backend.

    SQLite keeps no offset, so values are normalised to UTC on the way in and marked UTC on the
    way out; PostgreSQL stores `timestamptz` and agrees.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Base, "mapper_configured", propagate=True)
def _stamp_changes(mapper: Mapper[Any], cls: type[Any]) -> None:
    """A stored row's `updated_at` moves the moment one of its columns changes, not at the
    flush: an answer is shaped from the object before the request's commit flushes it, and
    must show the time a following read will."""
    if "updated_at" not in mapper.column_attrs:
        return
    for column in mapper.column_attrs:
        if column.key != "updated_at":
            event.listen(getattr(cls, column.key), "set", _stamp)


def _stamp(target: Any, value: Any, old_value: Any, _initiator: Any) -> None:
    if value != old_value and inspect(target).has_identity:  # new rows take the default
        target.updated_at = utcnow()


def json_text(value: Any) -> str:
    """How JSON columns are stored: compact, non-ASCII kept, so that stored text can be passed
    on as it is (the outbox relay does)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class DialectFunction(FunctionElement[Any]):
    """A function of one argument that each backend spells its own way: `spelling` maps a
    dialect's name to its SQL, with `{}` for the argument."""

    spelling: ClassVar[dict[str, str]]
    inherit_cache = True


@compiles(DialectFunction)
def _spell(element: DialectFunction, compiler: SQLCompiler, **kw: Any) -> str:
    return element.spelling[compiler.dialect.name].format(compiler.process(element.clauses, **kw))


class JsonQuoted(DialectFunction):
    """A string expression as JSON text: quoted, and escaped where it must be."""

    type = Text()
    inherit_cache = True
    spelling: ClassVar[dict[str, str]] = {
        "postgresql": "CAST(to_json({}) AS TEXT)",
        "sqlite": "json_quote({})",
    }


class JsonFromText(DialectFunction):
    """JSON text as a value of a JSON column. PostgreSQL's `json` takes text only by a cast;
    SQLite keeps JSON as text, and its CAST(… AS JSON) would read it as a number."""

    type = JSON()
    inherit_cache = True
    spelling: ClassVar[dict[str, str]] = {"postgresql": "CAST({} AS JSON)", "sqlite": "{}"}


def json_object_text(fields: Mapping[str, Any]) -> ColumnElement[str]:
    """A JSON object's text built by the database, as `json_text` would write it: the fields
    in order, constants as given, columns (strings and integers) as each row has them. Lets
    a statement write thousands of JSON rows that never pass through this process."""
    pieces: list[str | ColumnElement[Any]] = []
    written = "{"
    for number, (name, value) in enumerate(fields.items()):
        written += ("," if number else "") + json_text(name) + ":"
        if not isinstance(value, ColumnElement):
            written += json_text(value)
            continue
        if isinstance(value.type, String):
            pieces += [written, JsonQuoted(value)]
        elif isinstance(value.type, Integer):
            pieces += [written, sql_cast(value, Text)]
        else:
            raise TypeError(f"no JSON text for a column of type {value.type!r}")
        written = ""
    pieces.append(written + "}")
    sql = [literal(piece, Text) if isinstance(piece, str) else piece for piece in pieces]
    joined = sql[0]
    for piece in sql[1:]:
        joined = joined.concat(piece)
    return joined


def one_of(
    column: ColumnElement[Any] | QueryableAttribute[Any], values: Collection[Any], dialect: Dialect
) -> ColumnElement[bool]:
    """`column IN values`, sent on PostgreSQL as one array parameter: thousands of values
    expanded into as many parameters cost more to compile than the query costs to run."""
    if dialect.name == "postgresql":
        return column == any_(literal(list(values), postgresql.ARRAY(column.type)))
    return column.in_(values)


# SQLite's busy timeout when the caller sets no lock timeout: how long a writer waits for the
# database's write lock.
SQLITE_BUSY_SECONDS = 30
# Execution option: on SQLite, take the database's write lock before this statement even though
# it only reads (what it reads decides what the transaction writes).
TAKE_WRITE_LOCK = "nguon_take_write_lock"


def _sqlite_connected(busy_seconds: float) -> Callable[[Any, ConnectionPoolEntry], None]:
    def connected(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # The driver would begin its own deferred transactions; the hub begins them itself
        # (see _begin_writes_with_the_write_lock).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cursor.close()

    return connected


def _reads_only(statement: str, context: Any) -> bool:
    if context is not None and context.execution_options.get(TAKE_WRITE_LOCK):
        return False
    compiled = getattr(context, "compiled", None)
    if getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None:
        return False  # a claim (FOR UPDATE, which SQLite does not spell) is the start of a write
    return statement.lstrip()[:6].upper() in ("SELECT", "PRAGMA")


def _begin_writes_with_the_write_lock(
    connection: Any,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """SQLite: a transaction begins at its first write (as the driver's own would, which
    begins only before INSERT, UPDATE and DELETE), and begins IMMEDIATE: it takes the write
    lock up front, waiting for it (busy timeout), for every kind of write (DDL, SAVEPOINT, a
    claim FOR UPDATE, `lock_for_writing`). No transaction then reads under a snapshot and
    upgrades it to write later, which SQLite refuses at once with SQLITE_BUSY ("database is
    locked") when another connection committed in between, whatever the busy timeout. Reads
    before the first write each see the latest committed data, as PostgreSQL's do."""
    if connection.connection.driver_connection.in_transaction:
        return
    if _reads_only(statement, context):
        return
    begin = connection.connection.dbapi_connection.cursor()
    begin.execute("BEGIN IMMEDIATE")
    begin.close()


class DatabaseUnreachable(Exception):
    """No connection to the database could be opened (refused, unknown host, starting up)."""


def _connect_or_unreachable(
    dialect: Dialect, _record: ConnectionPoolEntry, cargs: Any, cparams: Any
) -> Any:
    # The driver's own error here is a bare OSError (or its own exception type) that names
    # neither the database nor the pool; typed, it is answered 503 like a lost connection.
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        raise DatabaseUnreachable(f"cannot connect to the database: {error!r}") from error


# PostgreSQL SQLSTATEs (or their two-character classes) of a database that is away or busy,
# not of a statement that is wrong: connection exceptions, insufficient resources (too many
# connections), operator intervention (shutdown, statement timeout), lock timeout,
# serialisation failure and deadlock, idle-in-transaction timeout.
_AWAY_OR_BUSY_SQLSTATES = ("08", "53", "57", "55P03", "40001", "40P01", "25P03")


def _sqlstate(error: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of the driver's error; None on SQLite, whose errors have none."""
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return sqlstate if isinstance(sqlstate, str) else None


def database_away_or_busy(error: BaseException) -> bool:
    """Whether an error says the database is away or busy (the same work may succeed when
    tried again) rather than that the statement or the code is wrong."""
    if isinstance(error, DatabaseUnreachable):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, OperationalError):
        return True  # a lost connection; SQLite's locked, busy and I/O errors
    sqlstate = _sqlstate(error)
    return sqlstate is not None and sqlstate.startswith(_AWAY_OR_BUSY_SQLSTATES)


# PostgreSQL SQLSTATEs of a write that lost a race: a unique key another transaction took first,
# a row it referenced that another removed. SQLite says the same in words.
_CONFLICT_SQLSTATES = ("23505", "23503")
_CONFLICT_MESSAGES = ("UNIQUE constraint failed", "FOREIGN KEY constraint failed")


def unstorable_value(error: BaseException) -> bool:
    """Whether PostgreSQL refused a value the request carried (SQLSTATE class 22, data
    exception: too long for its column, out of its type's range, not valid text): the input's
    fault, which the request's validation should have caught and let through."""
    sqlstate = _sqlstate(error) if isinstance(error, DBAPIError) else None
    return sqlstate is not None and sqlstate[:2] == "22"


def conflicting_write(error: BaseException) -> bool:
    """Whether an error says a concurrent transaction took a unique key or removed a referenced
    row between this request's checks and its write: the request conflicts with the stored
    state, as if its own check had found it."""
    if not isinstance(error, IntegrityError):
        return False
    sqlstate = _sqlstate(error)
    if sqlstate is not None:
        return sqlstate in _CONFLICT_SQLSTATES
    return str(error.orig).startswith(_CONFLICT_MESSAGES)


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """Seconds, None for none: how long a statement may run, wait for a lock, and a
    transaction sit idle, so that nothing holds a connection or a lock for ever."""

    statement: float | None = None
    lock: float | None = None
    idle_in_transaction: float | None = None

    def postgresql_settings(self) -> dict[str, str]:
        """The session's settings, in milliseconds."""
        settings = {
            "statement_timeout": self.statement,
            "lock_timeout": self.lock,
            "idle_in_transaction_session_timeout": self.idle_in_transaction,
        }
        return {name: str(int(value * 1000)) for name, value in settings.items() if value}


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    pool_timeout: float = 30,
    timeouts: DatabaseTimeouts = DatabaseTimeouts(),
) -> AsyncEngine:
    """`pool_size` connections, and as many again in overflow; a checkout waits up to
    `pool_timeout` seconds for one to come free. On SQLite the lock timeout is how long a
    writer waits for the write lock; the others are PostgreSQL's."""
    pool: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": pool_size,
        "pool_timeout": pool_timeout,
    }
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            pool = {}  # one connection, shared (StaticPool): the database lives in it
        busy_seconds = timeouts.lock or SQLITE_BUSY_SECONDS
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": busy_seconds},
            json_serializer=json_text,
            **pool,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_connected(busy_seconds))
        event.listen(engine.sync_engine, "before_cursor_execute", _begin_writes_with_the_write_lock)
        return engine
    connect_args: dict[str, Any] = {}
    if make_url(url).get_driver_name() == "asyncpg":
        connect_args["server_settings"] = timeouts.postgresql_settings()
    # pool_pre_ping: a connection the server dropped (a restart, pg_terminate_backend) is
    # found out at checkout and replaced, so the hub recovers without a restart.
    engine = create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        json_serializer=json_text,
        connect_args=connect_args,
        **pool,
    )
    event.listen(engine.sync_engine, "do_connect", _connect_or_unreachable)
    return engine


async def lock_for_writing(session: AsyncSession, key: int) -> None:
    """Hold, until the transaction ends, the lock that serialises the writers that call this
    with `key`: a transaction-scoped advisory lock on PostgreSQL, the database's write lock on
    SQLite (which serialises every writer). Take it last, after the transaction's other
    writes, so that its holder never waits for anything but its own commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        await session.execute(text("SELECT 1"), execution_options={TAKE_WRITE_LOCK: True})


def create_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """`info` is copied into every session (the app's change feed travels this way)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


def insert_new(
    session: AsyncSession, model: type[Base], *unique: Any
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of `model` that skips the rows whose `unique` columns match a stored row
    (ON CONFLICT DO NOTHING on either backend): the unique key decides, so two writers racing
    with the same row store it once."""
    dialect = session.get_bind().dialect.name
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_into(model).on_conflict_do_nothing(index_elements=list(unique))


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: PostgreSQL's COPY where the driver is
    asyncpg (a province-wide emergency writes tens of thousands of rows, and COPY takes them an
    order of magnitude faster than INSERT), a multi-row INSERT elsewhere."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.driver != "asyncpg":
        await connection.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    encode = {name: _copy_encoder(table.c[name].type) for name in columns}
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    if not driver.is_in_transaction():
        # SQLAlchemy begins the driver's transaction at its first statement; COPY bypasses it
        # and would commit on its own, so begin it first.
        await connection.execute(text("SELECT 1"))
    await driver.copy_records_to_table(
        table.name,
        columns=columns,
        records=[tuple(encode[name](row[name]) for name in columns) for row in rows],
    )


def _copy_encoder(column_type: Any) -> Callable[[Any], Any]:
    """How a value travels in COPY: JSON as its text, enums as their value, the rest as is."""
    if isinstance(column_type, JSON):
        return json_text
    if isinstance(column_type, Enum):
        return lambda value: value.value if isinstance(value, PyEnum) else value
    return lambda value: value
