"""An emergency's status: where each delivery of it stands, and who has not confirmed it.

An emergency is an emergency-priority bulletin with its language variants (the bulletins that
are `translation_of` it): devices play the one in their language, and the province asks how the
emergency reached everyone, whatever the language. Online is the registry's rule
(`nguon.endpoints.service`), so this answer, the registry and the statistics agree.
"""

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.bulletins.enums import ON_AIR, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.bulletins.repository import BulletinFilter
from nguon.bulletins.service import BulletinService
from nguon.dispatch.models import ENDED, UNACKNOWLEDGED, DeliveryStatus
from nguon.emergencies.repository import DeliveryTally, EmergencyRepository, EndpointDelivery
from nguon.emergencies.schemas import (
    STRAGGLERS_SHOWN,
    EmergencyBulletin,
    EmergencyCounts,
    EmergencyRead,
    EndpointDeliveryPage,
    EndpointDeliveryRead,
)
from nguon.endpoints.service import is_online, online_since
from nguon.identity.principal import Principal
from nguon.kit.errors import Conflict
from nguon.kit.settings import Settings

DeliveryFilter = Literal["all", "stragglers"]
LIVE = BulletinFilter(statuses=ON_AIR, priority=Priority.emergency)
# The most emergencies followed at once; more than a few at a time would be a disaster.
LIVE_SHOWN = 50


def _total(tallies: Iterable[DeliveryTally]) -> int:
    return sum(tally.deliveries for tally in tallies)


def _extreme(values: Iterable[float | None], pick: Callable[[list[float]], float]) -> float | None:
    present = [value for value in values if value is not None]
    return round(pick(present), 3) if present else None


def _counts(tallies: Sequence[DeliveryTally]) -> EmergencyCounts:
    stragglers = [tally for tally in tallies if tally.status in UNACKNOWLEDGED]
    return EmergencyCounts(
        targeted=_total(tallies),
        delivered=sum(tally.delivered for tally in tallies),
        acknowledged=sum(tally.acknowledged for tally in tallies),
        played=sum(tally.played for tally in tallies),
        pending=_total(t for t in tallies if t.status is DeliveryStatus.pending),
        failed=_total(t for t in tallies if t.status is DeliveryStatus.failed),
        ended=_total(t for t in tallies if t.status in ENDED),
        stragglers=_total(stragglers),
        stragglers_online=_total(t for t in stragglers if t.online),
    )


def _after(cursor: str | None) -> tuple[str, str] | None:
    """The endpoint code and bulletin id a page goes on after (`CURSOR_PATTERN`)."""
    if cursor is None:
        return None
    code, _colon, bulletin_id = cursor.rpartition(":")
    return code, bulletin_id


def _cursor(last: EndpointDelivery) -> str:
    return f"{last.code}:{last.bulletin_id}"


def _bulletin(bulletin: Bulletin, revision: BulletinRevision | None) -> EmergencyBulletin:
    return EmergencyBulletin(
        id=bulletin.id,
        title=bulletin.title,
        language=bulletin.language,
        status=bulletin.status,
        exercise=bulletin.exercise,
        level=bulletin.level,
        valid_until=bulletin.valid_until,
        translation_of=bulletin.translation_of,
        revision=revision.number if revision else None,
        on_air_at=revision.approved_at if revision else None,
    )


class EmergencyService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.bulletins = BulletinService(session)
        self.repository = EmergencyRepository(session)
        self.settings = settings

    async def _emergency(self, actor: Principal, bulletin_id: str) -> list[Bulletin]:
        """The emergency a bulletin belongs to, as the actor may see it: the original (the
        bulletin itself, or the one it translates), then its variants."""
        variants = await self.bulletins.with_variants(actor, bulletin_id)
        original = variants[0]
        if original.priority is not Priority.emergency:
            raise Conflict(
                f"Bulletin {original.id} is of {original.priority} priority, not an emergency; "
                f"its deliveries are at /api/v1/bulletins/{original.id}/deliveries.",
                priority=original.priority.value,
            )
        return variants

    async def status(
        self,
        actor: Principal,
        bulletin_id: str,
        shown: DeliveryFilter,
        limit: int,
        cursor: str | None,
        now: datetime,
    ) -> EmergencyRead:
        """Where the emergency stands at `now`, with a page of its deliveries (`shown`, after
        `cursor`, at most `limit`)."""
        bulletins = await self._emergency(actor, bulletin_id)
        ids = [bulletin.id for bulletin in bulletins]
        since = online_since(now, self.settings)
        tallies = await self.repository.tallies(ids, since)
        # Each bulletin's latest approved revision: the one on air, or the last that was.
        approved = {r.bulletin_id: r for r in await self.bulletins.repository.revisions(ids)}
        rows = await self.repository.deliveries(
            ids, stragglers_only=shown == "stragglers", after=_after(cursor), limit=limit
        )
        return EmergencyRead(
            id=bulletins[0].id,
            generated_at=now,
            bulletins=[_bulletin(bulletin, approved.get(bulletin.id)) for bulletin in bulletins],
            counts=_counts(tallies),
            first_delivery_seconds=_extreme((t.first_delivery for t in tallies), min),
            last_delivery_seconds=_extreme((t.last_delivery for t in tallies), max),
            first_acknowledgement_seconds=_extreme((t.first_acknowledgement for t in tallies), min),
            last_acknowledgement_seconds=_extreme((t.last_acknowledgement for t in tallies), max),
            stragglers=list(await self.repository.stragglers(ids, since, STRAGGLERS_SHOWN)),
            endpoints=EndpointDeliveryPage(
                items=[self._row(row, now) for row in rows],
                next_cursor=_cursor(rows[-1]) if len(rows) == limit else None,
            ),
        )

    async def live(self, actor: Principal, stragglers: int, now: datetime) -> list[EmergencyRead]:
        """Every emergency on air that the actor may see, newest first, each with a page of at
        most `stragglers` of its unconfirmed deliveries."""
        on_air = await self.bulletins.search(actor, LIVE, LIVE_SHOWN, None)
        return [
            await self.status(actor, bulletin.id, "stragglers", stragglers, None, now)
            for bulletin in on_air
            if bulletin.translation_of is None
        ]

    def _row(self, row: EndpointDelivery, now: datetime) -> EndpointDeliveryRead:
        return EndpointDeliveryRead(
            endpoint=row.code,
            endpoint_name=row.name,
            endpoint_kind=row.kind,
            area=row.area_code,
            bulletin_id=row.bulletin_id,
            status=row.status,
            delivered_at=row.delivered_at,
            acked_at=row.acked_at,
            played_at=row.played_at,
            online=is_online(row.heard_at, now, self.settings),
            last_seen=row.heard_at,
            drives=row.drives,
        )
