"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
NGUON_TEST_DATABASE_URL names one (`.ci/run` does both)."""

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from httpx import ASGITransport, AsyncClient
from moto.server import ThreadedMotoServer
from pydantic import SecretStr
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.app import create_app
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.areas.sources import AreaRecord, current_units, units_from_csv
from nguon.audit.service import audit_session_info
from nguon.demo.service import LEGACY_CSV
from nguon.endpoints.schemas import EndpointCreate
from nguon.endpoints.service import EndpointService
from nguon.identity import credentials
from nguon.identity.credentials import ApiKeyHasher, TokenCodec
from nguon.identity.models import User
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService
from nguon.kit.db import create_engine, create_sessionmaker
from nguon.kit.migrate import upgrade_on
from nguon.kit.settings import Settings
from nguon.models import metadata

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"
PASSWORD = "correct-horse-battery"
POSTGRES_URL = os.environ.get("NGUON_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if POSTGRES_URL else "sqlite"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL pass leaves out the tests marked `embedded_only`: the SQLite pass runs
    them, and their outcome does not depend on the database."""
    if not POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="embedded_only: the SQLite pass runs it")
    for item in items:
        if item.get_closest_marker("embedded_only") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'nguon.db'}"


async def reset_schema(engine: AsyncEngine) -> None:
    """Drop everything, so each run starts from an empty database."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        else:
            await connection.run_sync(metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
async def migrated_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await reset_schema(engine)
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_on)
    yield engine
    await engine.dispose()


async def empty_tables(engine: AsyncEngine, keep: frozenset[str] = frozenset()) -> None:
    """Empty every table but those in `keep` (which no other table may be emptied under)."""
    tables = [table.name for table in reversed(metadata.sorted_tables) if table.name not in keep]
    async with engine.begin() as connection:
        if "areas" not in keep:
            # The areas' self-reference would refuse a plain delete of the whole table.
            await connection.execute(text("UPDATE areas SET parent_id = NULL"))
        # DELETE rather than TRUNCATE on PostgreSQL too: truncating every table takes most of a
        # second, deleting the few rows a test leaves a few milliseconds.
        for table in tables:
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        if engine.dialect.name == "postgresql":
            # What RESTART IDENTITY would do: ids start again from 1 (SQLite's follow the rows).
            await connection.execute(
                text(
                    "SELECT setval(sequence.oid, 1, false) FROM pg_depend"
                    " JOIN pg_class sequence ON sequence.oid = pg_depend.objid"
                    " JOIN pg_class owner ON owner.oid = pg_depend.refobjid"
                    " WHERE sequence.relkind = 'S' AND owner.relname = ANY(:tables)"
                ),
                {"tables": tables},
            )


AreasState = list[tuple[object, ...]]


async def areas_state(engine: AsyncEngine) -> AreasState:
    """Every row of the areas table, and on PostgreSQL where its id sequence stands: equal
    states give the same answers and the same ids to the units a test goes on to create."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(Area.__table__).order_by(Area.id))
        state = [tuple(row) for row in rows]
        if engine.dialect.name == "postgresql":
            sequence = await connection.scalar(
                text("SELECT pg_sequence_last_value(pg_get_serial_sequence('areas', 'id'))")
            )
            state.append((sequence,))
    return state


class LoadedAreas:
    """The areas table as the `areas` fixture left it. Importing the demo units takes longer
    than most tests, so a test that asks for them keeps the table of the test before if it
    is still in exactly that state; any other test starts from an empty table."""

    def __init__(self) -> None:
        self.state: AreasState | None = None

    async def keep(self, engine: AsyncEngine, wanted: bool) -> bool:
        kept = wanted and self.state is not None and await areas_state(engine) == self.state
        if not kept:
            self.state = None
        return kept


@pytest.fixture(scope="session")
def loaded_areas() -> LoadedAreas:
    return LoadedAreas()


@pytest.fixture
async def engine(
    migrated_engine: AsyncEngine, loaded_areas: LoadedAreas, request: pytest.FixtureRequest
) -> AsyncEngine:
    kept = await loaded_areas.keep(migrated_engine, "areas" in request.fixturenames)
    await empty_tables(migrated_engine, keep=frozenset({"areas"}) if kept else frozenset())
    return migrated_engine


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine, info=audit_session_info(TEST_SECRET))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=SecretStr(TEST_SECRET),
        log_json=True,
        log_level="info",
    )


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[object]:
    application = create_app(settings)
    await application.state.storage.ensure_ready()  # what the lifespan does when served
    yield application
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, client=("198.51.100.7", 50000))  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://hub.test") as http:
        yield http


# --- object storage -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3 API server (moto) on a free local port; yields its endpoint host:port."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop()


def with_s3(settings: Settings, endpoint: str) -> Settings:
    """The same settings, with media on the S3 server in a bucket of this test's own."""
    return settings.model_copy(
        update={
            "s3_endpoint": endpoint,
            "s3_access_key": SecretStr("testing"),
            "s3_secret_key": SecretStr("testing"),
            "s3_secure": False,
            "s3_region": "us-east-1",
            "s3_bucket": f"media-{uuid.uuid4().hex[:12]}",
            "s3_public_endpoint": f"http://{endpoint}",
        }
    )


# --- areas and accounts -------------------------------------------------------------------

# What the hub hashes passwords with; test_accounts checks the parameters that accounts get.
PRODUCTION_PASSWORD_HASHER = credentials._hasher


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its cheapest for the suite's many accounts: the production parameters cost a
    core for a good part of a second per hash and per sign-in, and prove nothing more here."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture
def production_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credentials, "_hasher", PRODUCTION_PASSWORD_HASHER)


AN_GIANG = "91"
LAI_CHAU = "12"


@pytest.fixture(scope="session")
def demo_area_records() -> list[AreaRecord]:
    return current_units([AN_GIANG]) + units_from_csv(LEGACY_CSV)


@pytest.fixture
async def areas(
    sessionmaker: async_sessionmaker[AsyncSession],
    demo_area_records: list[AreaRecord],
    engine: AsyncEngine,
    loaded_areas: LoadedAreas,
) -> list[AreaRecord]:
    """An Giang (current, two tiers) and Lai Châu (legacy, three tiers) loaded."""
    if loaded_areas.state is None:
        async with sessionmaker() as session:
            await AreaService(session).import_records(demo_area_records)
            await session.commit()
        loaded_areas.state = await areas_state(engine)
    return demo_area_records


def communes_of(records: list[AreaRecord], parent: str) -> list[str]:
    return sorted(r.code for r in records if r.parent_code == parent and r.level == "commune")


def districts_of(records: list[AreaRecord], province: str) -> list[str]:
    return sorted(r.code for r in records if r.parent_code == province and r.level == "district")


async def count_users(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(User)) or 0


def identity_for(session: AsyncSession) -> IdentityService:
    return IdentityService(
        session, TokenCodec(TEST_SECRET, "nguon", 900), ApiKeyHasher(TEST_SECRET)
    )


async def operator(session: AsyncSession) -> Principal:
    root = await AreaService(session).national_root()
    return Principal("system", 0, "test", Role.admin, AreaScope.of(root))


MakeUser = Callable[[str, Role, str], Awaitable[dict[str, str]]]


@pytest.fixture
def make_user(
    sessionmaker: async_sessionmaker[AsyncSession], client: AsyncClient, areas: list[AreaRecord]
) -> MakeUser:
    """Create an account and sign it in; returns its Authorization header."""

    async def create(username: str, role: Role, area: str) -> dict[str, str]:
        async with sessionmaker() as session:
            identity = identity_for(session)
            await identity.create_user(await operator(session), username, PASSWORD, role, area)
            await session.commit()
        response = await client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return create


MakeEndpoint = Callable[..., Awaitable[dict[str, str]]]
# A registration before every period the tests report on: such an endpoint owes all its hours.
LONG_STANDING = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def make_endpoint(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, areas: list[AreaRecord]
) -> MakeEndpoint:
    """Register an endpoint in a commune; returns its X-Api-Key header. `registered_at` dates
    its registration in the past, for figures of periods it stood through."""

    async def create(
        code: str, kind: str, area: str, registered_at: datetime | None = None, **fields: object
    ) -> dict[str, str]:
        async with sessionmaker() as session:
            identity = identity_for(session)
            service = EndpointService(session, identity, settings)
            body = EndpointCreate(code=code, name=code, kind=kind, area=area, **fields)  # type: ignore[arg-type]
            endpoint, key = await service.create(await operator(session), body)
            if registered_at is not None:
                endpoint.created_at = registered_at
            await session.commit()
        return {"X-Api-Key": key.key}

    return create


MakeKey = Callable[[str, Role, str], Awaitable[dict[str, str]]]


@pytest.fixture
def make_key(sessionmaker: async_sessionmaker[AsyncSession], areas: list[AreaRecord]) -> MakeKey:
    async def create(name: str, role: Role, area: str) -> dict[str, str]:
        async with sessionmaker() as session:
            identity = identity_for(session)
            _stored, new_key = await identity.create_key(await operator(session), name, role, area)
            await session.commit()
        return {"X-Api-Key": new_key.key}

    return create
