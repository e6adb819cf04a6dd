"""The migrated schema is the schema the models describe, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.kit.migrate import current_revision, head_revision
from nguon.models import metadata


def _drift(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, metadata))


async def test_upgrade_head_matches_the_models(migrated_engine: AsyncEngine) -> None:
    async with migrated_engine.connect() as connection:
        assert await connection.run_sync(current_revision) == head_revision()
        assert await connection.run_sync(_drift) == []


async def test_every_constraint_is_named_by_the_convention(migrated_engine: AsyncEngine) -> None:
    def names(connection: Connection) -> list[str]:
        inspector = inspect(connection)
        found: list[str] = []
        for table in metadata.tables:
            found += [fk["name"] or "" for fk in inspector.get_foreign_keys(table)]
            found += [uq["name"] or "" for uq in inspector.get_unique_constraints(table)]
            found += [ix["name"] or "" for ix in inspector.get_indexes(table)]
        return found

    async with migrated_engine.connect() as connection:
        constraint_names = await connection.run_sync(names)
    assert constraint_names
    assert all(name.startswith(("fk_", "uq_", "ix_")) for name in constraint_names)
