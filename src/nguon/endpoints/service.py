"""The registry of endpoints: where they stand, what they play, and when."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.dispatch.events import EndpointEvents
from nguon.dispatch.repository import DeliveryRepository
from nguon.endpoints.models import (
    Endpoint,
    EndpointHeartbeat,
    EndpointPlaylist,
    MaintenanceRecord,
)
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.schemas import (
    EndpointCreate,
    EndpointUpdate,
    HeartbeatReport,
    MaintenanceCreate,
)
from nguon.endpoints.uptime import online_seconds_by_hour
from nguon.endpoints.windows import (
    DEFAULT_WINDOWS,
    LOCAL_TIMEZONE,
    DisplayProfile,
    EndpointKind,
    Windows,
    default_windows,
    endpoint_profile,
    normalise,
    shortfall,
)
from nguon.identity.credentials import NewApiKey
from nguon.identity.principal import Principal
from nguon.identity.service import IdentityService
from nguon.incidents.watch import IncidentWatch
from nguon.kit.db import utcnow
from nguon.kit.errors import Conflict, InvalidInput, NotFound
from nguon.kit.settings import Settings
from nguon.rules.service import RuleService

EndpointState = Literal["offline", "stale"]
Liveness = Literal["online", "stale", "offline"]
# The playlist ETag is "<version>.<digest>", weak (W/) when a proxy has re-encoded the body.
PLAYLIST_ETAG = re.compile(r'^(?:W/)?"?([0-9]{1,10})\.')
LARGEST_VERSION = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def online_since(now: datetime, settings: Settings) -> datetime:
    """Endpoints heard from since then are online; the registry and the statistics agree."""
    return now - timedelta(seconds=settings.endpoint_offline_seconds)


def is_online(heard_at: datetime | None, now: datetime, settings: Settings) -> bool:
    """A heartbeat came within NGUON_ENDPOINT_OFFLINE_SECONDS; `heard_at` is the last one's."""
    return heard_at is not None and heard_at >= online_since(now, settings)


def is_stale(enabled: bool, playlist_version: int, heard: bool, held_version: int | None) -> bool:
    """Enabled, heard from, and holding an older playlist than the current one (or none of
    ours): the same rule as the `stale_only` filter of `EndpointRepository.in_subtree`."""
    return enabled and heard and (held_version is None or held_version < playlist_version)


def held_version(etag: str | None) -> int | None:
    """The playlist version an ETag from this hub carries; None for any other ETag."""
    found = PLAYLIST_ETAG.match(etag) if etag else None
    version = int(found.group(1)) if found else None
    return version if version is not None and version <= LARGEST_VERSION else None


@dataclass(frozen=True, slots=True)
class EndpointView:
    """An endpoint with its last heartbeat and what the two say of it now."""

    endpoint: Endpoint
    heartbeat: EndpointHeartbeat | None
    online: bool
    stale: bool

    @property
    def liveness(self) -> Liveness:
        """One word for the board: a silent endpoint is offline whatever playlist it holds."""
        if not self.online:
            return "offline"
        return "stale" if self.stale else "online"


@dataclass(frozen=True, slots=True)
class HeartbeatReceipt:
    endpoint: Endpoint
    heartbeat: EndpointHeartbeat
    stale: bool  # the device holds an older playlist than the endpoint's, or none of ours


class EndpointService:
    def __init__(
        self, session: AsyncSession, identity: IdentityService, settings: Settings
    ) -> None:
        self.repository = EndpointRepository(session)
        self.deliveries = DeliveryRepository(session)
        self.events = EndpointEvents(session)
        self.areas = AreaService(session)
        self.rules = RuleService(session, settings)
        self.watch = IncidentWatch(session)
        self.identity = identity
        self.settings = settings

    async def create(self, actor: Principal, fields: EndpointCreate) -> tuple[Endpoint, NewApiKey]:
        if fields.kind is EndpointKind.display and fields.profile is None:
            raise InvalidInput("A display needs a profile: eboard or border_gate.")
        if fields.kind is EndpointKind.radio and fields.profile is not None:
            raise InvalidInput("A radio takes no display profile.")
        area = await self.areas.get_by_code(fields.area)
        if area.level is not AreaLevel.commune:
            raise InvalidInput(
                f"{area.code} ({area.name}) is a {area.level}; endpoints stand in communes."
            )
        actor.require_within(area, "endpoints")
        if await self.repository.by_code(fields.code) is not None:
            raise Conflict(f"An endpoint with the code {fields.code!r} exists.")
        windows = await self._windows(area, fields.kind, fields.profile, fields.windows)
        endpoint = Endpoint(
            code=fields.code,
            name=fields.name,
            kind=fields.kind,
            profile=fields.profile,
            area_id=area.id,
            area_code=area.code,
            area_path=area.path,
            latitude=fields.latitude,
            longitude=fields.longitude,
            languages=fields.languages or ["vi"],
            windows=windows,
            push_url=str(fields.push_url) if fields.push_url else None,
            enabled=fields.enabled,
            playlist=EndpointPlaylist(),
        )
        await self.repository.add(endpoint)
        _stored, key = await self.identity.issue_endpoint_key(
            actor, endpoint.id, f"endpoint {endpoint.code}", area
        )
        return endpoint, key

    async def _windows(
        self,
        area: Area,
        kind: EndpointKind,
        profile: DisplayProfile | None,
        asked: Windows | None,
    ) -> Windows:
        """The windows an endpoint operates: those asked, refused when they fall short of the
        least hours its province asks of its profile; without any, its kind's defaults, or a
        day that meets those hours where they ask for more."""
        rule = await self.rules.hours_for(area, endpoint_profile(profile))
        if not asked:
            asked = default_windows(
                DEFAULT_WINDOWS[(kind, profile)],
                rule.daily_hours,
                rule.morning_hours,
                rule.afternoon_hours,
            )
        windows = normalise(asked)
        what = kind.value if profile is None else profile.value.replace("_", "-") + " display"
        refusal = shortfall(
            windows, rule.daily_hours, what, rule.morning_hours, rule.afternoon_hours
        )
        if refusal is not None:
            raise InvalidInput(refusal)
        return windows

    async def get(self, actor: Principal, code: str) -> Endpoint:
        endpoint = await self.repository.by_code(code)
        if endpoint is None:
            raise NotFound(f"No endpoint has the code {code!r}.")
        area = await self.areas.repository.get(endpoint.area_id)
        assert area is not None  # areas are never deleted under endpoints (RESTRICT)
        actor.require_within(area, "endpoints")
        return endpoint

    async def of_device(self, actor: Principal) -> Endpoint:
        """The endpoint whose key is calling."""
        endpoint = await self.repository.get(actor.endpoint_id) if actor.endpoint_id else None
        if endpoint is None:
            raise NotFound("This key belongs to no endpoint.")
        return endpoint

    async def search(
        self,
        actor: Principal,
        kind: EndpointKind | None,
        state: EndpointState | None,
        limit: int,
        offset: int,
    ) -> list[EndpointView]:
        now = utcnow()
        found = await self.repository.in_subtree(
            actor.area.path,
            kind,
            limit,
            offset,
            silent_since=online_since(now, self.settings) if state == "offline" else None,
            stale_only=state == "stale",
        )
        return [self._view(endpoint, heartbeat, now) for endpoint, heartbeat in found]

    async def view(self, endpoint: Endpoint) -> EndpointView:
        return self._view(endpoint, await self.repository.heartbeat(endpoint.id), utcnow())

    def _view(
        self, endpoint: Endpoint, heartbeat: EndpointHeartbeat | None, now: datetime
    ) -> EndpointView:
        """The same rules as the `state` filters of `EndpointRepository.in_subtree`."""
        heard_at = heartbeat.received_at if heartbeat is not None else None
        online = is_online(heard_at, now, self.settings)
        stale = is_stale(
            endpoint.enabled,
            endpoint.playlist_version,
            heard=heartbeat is not None,
            held_version=heartbeat.held_version if heartbeat is not None else None,
        )
        return EndpointView(endpoint, heartbeat, online, stale)

    async def heartbeat(self, actor: Principal, report: HeartbeatReport) -> HeartbeatReceipt:
        """Keep the device's last word; a device that holds the current playlist has every
        delivery on it."""
        endpoint = await self.of_device(actor)
        heartbeat = await self.repository.heartbeat(endpoint.id) or EndpointHeartbeat(
            endpoint_id=endpoint.id
        )
        now = utcnow()
        await self.repository.credit_uptime(
            endpoint.id,
            online_seconds_by_hour(
                heartbeat.received_at,  # None for a device never heard from
                now,
                timedelta(seconds=self.settings.endpoint_offline_seconds),
            ),
        )
        heartbeat.received_at = now
        heartbeat.status = report.status.value
        heartbeat.volume = report.volume
        heartbeat.current_bulletin_id = report.current_item
        heartbeat.playlist_etag = report.playlist_etag
        heartbeat.held_version = held_version(report.playlist_etag)
        heartbeat.message = report.message
        heartbeat = await self.repository.save_heartbeat(heartbeat)
        await self.watch.heard(endpoint, heartbeat.status, heartbeat.message)
        held = heartbeat.held_version
        if held is not None and held == endpoint.playlist_version:
            await self.deliveries.acknowledge(endpoint.id, held)
        return HeartbeatReceipt(
            endpoint, heartbeat, stale=held is None or held < endpoint.playlist_version
        )

    async def update(self, actor: Principal, code: str, changes: EndpointUpdate) -> Endpoint:
        endpoint = await self.get(actor, code)
        plays_before = (endpoint.windows, endpoint.enabled, list(endpoint.languages))
        values = changes.model_dump(exclude_unset=True)
        if "windows" in values:
            area = await self.areas.repository.get(endpoint.area_id)
            assert area is not None  # areas are never deleted under endpoints (RESTRICT)
            endpoint.windows = await self._windows(
                area, endpoint.kind, endpoint.profile, values.pop("windows")
            )
        if "push_url" in values:
            endpoint.push_url = str(values.pop("push_url")) if changes.push_url else None
        if "focal_person" in values:
            values.pop("focal_person")
            focal = changes.focal_person
            endpoint.focal_name = focal.name if focal else None
            endpoint.focal_phone = focal.phone if focal else None
            endpoint.focal_organisation = focal.organisation if focal else None
        for name, value in values.items():
            setattr(endpoint, name, value)
        if (endpoint.windows, endpoint.enabled, endpoint.languages) != plays_before:
            await self.events.changed([endpoint.id])
        return endpoint

    async def new_key(self, actor: Principal, code: str) -> tuple[Endpoint, NewApiKey]:
        endpoint = await self.get(actor, code)
        area = await self.areas.repository.get(endpoint.area_id)
        assert area is not None
        _stored, key = await self.identity.issue_endpoint_key(
            actor, endpoint.id, f"endpoint {endpoint.code}", area
        )
        return endpoint, key

    async def record_maintenance(
        self, actor: Principal, code: str, fields: MaintenanceCreate
    ) -> MaintenanceRecord:
        """Keep a maintenance, inspection or repair record (An Giang 004 Điều 4.1c, 6.8)."""
        endpoint = await self.get(actor, code)
        today = utcnow().astimezone(ZoneInfo(LOCAL_TIMEZONE)).date()
        if fields.day > today:
            raise InvalidInput(
                f"The day {fields.day.isoformat()} is after today ({today.isoformat()}): "
                "record work once it is done."
            )
        record = MaintenanceRecord(
            endpoint_id=endpoint.id, recorded_by=actor.label, **fields.model_dump()
        )
        await self.repository.add_maintenance(record)
        return record

    async def maintenance(
        self, actor: Principal, code: str, limit: int
    ) -> Sequence[MaintenanceRecord]:
        endpoint = await self.get(actor, code)
        return await self.repository.maintenance_of(endpoint.id, limit)
