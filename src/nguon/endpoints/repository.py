from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, func, insert, or_, select, update
from sqlalchemy import inspect as sqlalchemy_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from nguon.endpoints.models import (
    Endpoint,
    EndpointHeartbeat,
    EndpointPlaylist,
    EndpointUptime,
    MaintenanceRecord,
)
from nguon.endpoints.windows import DisplayProfile, EndpointKind
from nguon.kit.changes import changed
from nguon.kit.db import insert_rows, one_of, utcnow

# The topic of the change feed that names endpoints whose playlist may have changed.
PLAYLIST_CHANGES = "endpoint_playlist"
# Rows per INSERT when endpoints are registered in bulk.
BULK_ROWS = 1_000


class EndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, endpoint_id: int) -> Endpoint | None:
        return await self.session.get(Endpoint, endpoint_id)

    async def reaches_a_border_gate(
        self, area_paths: Sequence[str], endpoint_codes: Sequence[str]
    ) -> bool:
        """An enabled border-gate display stands in one of the areas or is named directly."""
        reach: list[ColumnElement[bool]] = [
            Endpoint.area_path.startswith(path, autoescape=True) for path in area_paths
        ]
        if endpoint_codes:
            reach.append(Endpoint.code.in_(endpoint_codes))
        if not reach:
            return False
        found = await self.session.scalar(
            select(Endpoint.id)
            .where(Endpoint.enabled, Endpoint.profile == DisplayProfile.border_gate, or_(*reach))
            .limit(1)
        )
        return found is not None

    async def by_code(self, code: str) -> Endpoint | None:
        return await self.session.scalar(select(Endpoint).where(Endpoint.code == code))

    async def in_subtree(
        self,
        area_path: str,
        kind: EndpointKind | None,
        limit: int,
        offset: int,
        *,
        silent_since: datetime | None = None,
        stale_only: bool = False,
    ) -> Sequence[tuple[Endpoint, EndpointHeartbeat | None]]:
        """Endpoints below the area, each with its last heartbeat. `silent_since` keeps those
        with no heartbeat since then (or none at all); `stale_only` the enabled ones whose last
        heartbeat reports an older playlist than the current one."""
        statement = (
            select(Endpoint, EndpointHeartbeat)
            .join(EndpointPlaylist, EndpointPlaylist.endpoint_id == Endpoint.id)
            .outerjoin(EndpointHeartbeat, EndpointHeartbeat.endpoint_id == Endpoint.id)
            .where(Endpoint.area_path.startswith(area_path, autoescape=True))
        )
        if kind is not None:
            statement = statement.where(Endpoint.kind == kind)
        if silent_since is not None:
            statement = statement.where(
                or_(
                    EndpointHeartbeat.endpoint_id.is_(None),
                    EndpointHeartbeat.received_at < silent_since,
                )
            )
        if stale_only:
            statement = statement.where(
                Endpoint.enabled,
                EndpointHeartbeat.endpoint_id.is_not(None),
                or_(
                    EndpointHeartbeat.held_version.is_(None),
                    EndpointHeartbeat.held_version < EndpointPlaylist.version,
                ),
            )
        result = await self.session.execute(
            statement.order_by(Endpoint.code).limit(limit).offset(offset)
        )
        return [(endpoint, heartbeat) for endpoint, heartbeat in result.all()]

    async def heartbeat(self, endpoint_id: int) -> EndpointHeartbeat | None:
        return await self.session.get(EndpointHeartbeat, endpoint_id)

    async def save_heartbeat(self, heartbeat: EndpointHeartbeat) -> EndpointHeartbeat:
        """Store the device's last word; returns the stored row. A device's first heartbeats
        can arrive together (a reconnect sends what it queued): the one that loses the race to
        create the row writes its report over the winner's instead of failing."""
        if sqlalchemy_inspect(heartbeat).persistent:
            await self.session.flush()
            return heartbeat
        try:
            async with self.session.begin_nested():
                self.session.add(heartbeat)
        except IntegrityError:
            stored = await self.session.get(
                EndpointHeartbeat, heartbeat.endpoint_id, populate_existing=True
            )
            if stored is None:
                raise
            for column in sqlalchemy_inspect(EndpointHeartbeat).column_attrs:
                if column.key != "endpoint_id":
                    setattr(stored, column.key, getattr(heartbeat, column.key))
            await self.session.flush()
            return stored
        return heartbeat

    async def add(self, endpoint: Endpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Register endpoints from column values in a few statements (a vendor's fleet, a
        province's radios), each with its playlist at version 1; returns their ids."""
        ids: list[int] = []
        for start in range(0, len(rows), BULK_ROWS):
            result = await self.session.execute(
                insert(Endpoint).returning(Endpoint.id, sort_by_parameter_order=True),
                list(rows[start : start + BULK_ROWS]),
            )
            ids.extend(result.scalars().all())
        now = utcnow()
        await insert_rows(
            self.session,
            cast(Table, EndpointPlaylist.__table__),
            [{"endpoint_id": endpoint_id, "version": 1, "changed_at": now} for endpoint_id in ids],
        )
        return ids

    def _among(self, endpoints: Collection[int] | Select[int]) -> ColumnElement[bool]:
        """The playlists of these endpoints: ids, or a query of them (thousands need not
        travel as parameters)."""
        column = EndpointPlaylist.endpoint_id
        if isinstance(endpoints, Select):
            return column.in_(endpoints)
        return one_of(column, endpoints, self.session.get_bind().dialect)

    async def touch(self, endpoints: Collection[int] | Select[int]) -> None:
        """What these endpoints play may have changed: their playlist version moves on."""
        if not isinstance(endpoints, Select) and not endpoints:
            return
        playlists = cast(Table, EndpointPlaylist.__table__)
        # A Core statement: the ORM would look up every returned row in the identity map, which
        # for a province-wide bulletin costs more than the UPDATE. The few playlists loaded in
        # this session are brought up to date below instead.
        result = await self.session.execute(
            update(playlists)
            .where(self._among(endpoints))
            .values(version=playlists.c.version + 1, changed_at=utcnow())
            .returning(playlists.c.endpoint_id, playlists.c.version)
        )
        versions: dict[int, int] = {endpoint_id: version for endpoint_id, version in result.all()}
        for loaded in list(self.session.identity_map.values()):
            if isinstance(loaded, EndpointPlaylist) and loaded.endpoint_id in versions:
                set_committed_value(loaded, "version", versions[loaded.endpoint_id])
        changed(self.session, PLAYLIST_CHANGES, versions)

    def playlist_versions(self, endpoints: Collection[int] | Select[int]) -> Select[str, int]:
        """The code and current playlist version of each of these endpoints, as a query."""
        return (
            select(Endpoint.code, EndpointPlaylist.version)
            .join(EndpointPlaylist, EndpointPlaylist.endpoint_id == Endpoint.id)
            .where(self._among(endpoints))
        )

    async def playlist_changed_since(self, since: datetime) -> dict[int, int]:
        """The endpoints whose playlist changed since then, each with its version now."""
        result = await self.session.execute(
            select(EndpointPlaylist.endpoint_id, EndpointPlaylist.version).where(
                EndpointPlaylist.changed_at >= since
            )
        )
        return {endpoint_id: version for endpoint_id, version in result.all()}

    async def add_maintenance(self, record: MaintenanceRecord) -> None:
        self.session.add(record)
        await self.session.flush()

    async def maintenance_of(self, endpoint_id: int, limit: int) -> Sequence[MaintenanceRecord]:
        """The endpoint's records, latest day first."""
        result = await self.session.scalars(
            select(MaintenanceRecord)
            .where(MaintenanceRecord.endpoint_id == endpoint_id)
            .order_by(MaintenanceRecord.day.desc(), MaintenanceRecord.id.desc())
            .limit(limit)
        )
        return result.all()

    async def credit_uptime(self, endpoint_id: int, seconds_by_hour: dict[datetime, int]) -> None:
        """Add online seconds to the endpoint's hours, creating the hours not stored yet."""
        if not seconds_by_hour:
            return
        dialect = self.session.get_bind().dialect.name
        insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_into(EndpointUptime).values(
            [
                {"endpoint_id": endpoint_id, "hour": hour, "seconds_online": seconds}
                for hour, seconds in seconds_by_hour.items()
            ]
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[EndpointUptime.endpoint_id, EndpointUptime.hour],
                set_={
                    "seconds_online": EndpointUptime.seconds_online
                    + statement.excluded.seconds_online
                },
            )
        )

    async def uptime_in(
        self, area_path: str, start: datetime, end: datetime
    ) -> Sequence[tuple[Endpoint, int]]:
        """Every endpoint below the area, with its online seconds in [start, end) (whole
        hours: the period's bounds are local midnights)."""
        online = (
            select(
                EndpointUptime.endpoint_id,
                func.sum(EndpointUptime.seconds_online).label("seconds"),
            )
            .where(EndpointUptime.hour >= start, EndpointUptime.hour < end)
            .group_by(EndpointUptime.endpoint_id)
            .subquery()
        )
        result = await self.session.execute(
            select(Endpoint, func.coalesce(online.c.seconds, 0))
            .outerjoin(online, online.c.endpoint_id == Endpoint.id)
            .where(Endpoint.area_path.startswith(area_path, autoescape=True))
            .order_by(Endpoint.area_code, Endpoint.code)
        )
        return [(endpoint, int(seconds)) for endpoint, seconds in result.all()]
