"""Database plumbing shared by every domain: the declarative base, portable types, engines."""

import json
from collections.abc import Callable, Collection, Mapping, Sequence
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


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, pool_timeout: float = 30
) -> AsyncEngine:
    """`pool_size` connections, and as many again in overflow; a checkout waits up to
    `pool_timeout` seconds for one to come free."""
    pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            pool = {}  # one connection, shared (StaticPool): the database lives in it
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": 30}, json_serializer=json_text, **pool
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url, echo=echo, pool_pre_ping=True, json_serializer=json_text, **pool
    )


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
