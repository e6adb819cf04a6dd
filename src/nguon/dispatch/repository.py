import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    false,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from nguon.bulletins.enums import Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.dispatch.models import (
    ENDED,
    UNACKNOWLEDGED,
    Delivery,
    DeliveryStatus,
    Play,
    moving_to,
)
from nguon.endpoints.models import Endpoint, EndpointHeartbeat, EndpointPlaylist
from nguon.endpoints.windows import DisplayProfile, EndpointKind, Windows
from nguon.kit.db import UTCDateTime, insert_new, utcnow
from nguon.speech.models import BulletinSpeech, SpeechStatus

# What the reconciler re-drives: a delivery and its bulletin.
Redrivable = tuple[Delivery, Bulletin]


def repushed(connected_since: datetime) -> ColumnElement[bool]:
    """Deliveries re-announced at a constant interval rather than with backoff: emergencies to
    endpoints that are connected, heard from since `connected_since` or with a gateway to push
    to. EXISTS rather than a join: it is never NULL, so its negation selects the rest."""
    heard = (
        select(EndpointHeartbeat.endpoint_id)
        .where(
            EndpointHeartbeat.endpoint_id == Endpoint.id,
            EndpointHeartbeat.received_at >= connected_since,
        )
        .exists()
    )
    return and_(Bulletin.priority == Priority.emergency, or_(Endpoint.push_url.is_not(None), heard))


@dataclass(frozen=True, slots=True)
class ReachedEndpoint:
    id: int
    code: str
    name: str
    area_path: str
    profile: DisplayProfile | None
    windows: Windows


@dataclass(frozen=True, slots=True)
class AdvertsBeside:
    """What the advertising limit is judged on: see `DeliveryRepository.adverts_beside`."""

    endpoints: list[ReachedEndpoint]
    placed: dict[int, set[str]]  # endpoint id → ids of the advertisements live on it
    contents: dict[str, dict[str, Any]]  # advertisement id → its on-air revision's content


def given_to_play(endpoint_id: int) -> Select[str]:
    """The bulletins an endpoint was given to play, as a query of their ids: those with a
    live delivery to it while it is enabled. All an endpoint's key may read is these."""
    return (
        select(Delivery.bulletin_id)
        .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
        .where(Delivery.endpoint_id == endpoint_id, Delivery.status.not_in(ENDED), Endpoint.enabled)
    )


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def reachable_endpoints(
        self,
        area_paths: Sequence[str],
        endpoint_codes: Sequence[str],
        kinds: Collection[EndpointKind],
        speaks: Callable[[list[str]], bool],
    ) -> Select[int]:
        """The enabled endpoints of the given kinds in any of the areas, or named directly,
        whose languages `speaks` accepts, as a query of their ids. A province has a handful of
        distinct language lists over its thousands of endpoints: each is read and judged once,
        and the endpoints are chosen by their list's stored text, in the database."""
        reach: list[ColumnElement[bool]] = [
            Endpoint.area_path.startswith(path, autoescape=True) for path in area_paths
        ]
        if endpoint_codes:
            reach.append(Endpoint.code.in_(endpoint_codes))
        stored_languages = sql_cast(Endpoint.languages, Text)
        reached = and_(Endpoint.enabled, Endpoint.kind.in_(kinds), or_(false(), *reach))
        lists = await self.session.scalars(select(stored_languages).where(reached).distinct())
        spoken = [stored for stored in lists.all() if speaks(json.loads(stored))]
        return select(Endpoint.id).where(reached, stored_languages.in_(spoken))

    async def with_endpoints(self, bulletin_id: str) -> Sequence[tuple[Delivery, Endpoint]]:
        result = await self.session.execute(
            select(Delivery, Endpoint)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(Delivery.bulletin_id == bulletin_id)
            .order_by(Endpoint.code)
        )
        return [(delivery, endpoint) for delivery, endpoint in result.all()]

    def _live(self) -> Select[Delivery, Bulletin, BulletinRevision]:
        """Live deliveries with their bulletin and the revision on air."""
        return (
            select(Delivery, Bulletin, BulletinRevision)
            .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
            .join(BulletinRevision, _on_air(BulletinRevision.bulletin_id, BulletinRevision.number))
            # A bulletin being edited is on air in its approved revision until the new one is.
            .where(Delivery.status.not_in(ENDED))
        )

    async def live_for_endpoint(
        self, endpoint_id: int
    ) -> Sequence[tuple[Delivery, Bulletin, BulletinRevision]]:
        result = await self.session.execute(self._live().where(Delivery.endpoint_id == endpoint_id))
        return [(delivery, bulletin, revision) for delivery, bulletin, revision in result.all()]

    async def plays_media(self, endpoint_id: int, media_id: str) -> bool:
        """Whether the media (a subtitle file too) is part of the approved revision of a
        bulletin the endpoint was given to play, or its speech (a revision lists a handful of
        media; an endpoint plays tens)."""
        given = Bulletin.id.in_(given_to_play(endpoint_id))
        contents = await self.session.scalars(
            select(BulletinRevision.content)
            .join(Bulletin, _on_air(BulletinRevision.bulletin_id, BulletinRevision.number))
            .where(given)
        )
        if any(
            media_id in content.get("media", ())
            or any(choice["media"] == media_id for choice in content.get("subtitles", ()))
            for content in contents
        ):
            return True
        spoken = (
            select(BulletinSpeech.id)
            .join(Bulletin, _on_air(BulletinSpeech.bulletin_id, BulletinSpeech.revision))
            .where(
                given,
                BulletinSpeech.media_id == media_id,
                BulletinSpeech.status == SpeechStatus.ready,
            )
        )
        return bool(await self.session.scalar(spoken.exists().select()))

    async def on_air_in(
        self, area_id: int, kind: EndpointKind
    ) -> Sequence[tuple[Bulletin, BulletinRevision]]:
        """Bulletins on air with a live delivery to an endpoint of this kind in this area."""
        result = await self.session.execute(
            self._live()
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(Endpoint.area_id == area_id, Endpoint.kind == kind)
        )
        unique = {bulletin.id: (bulletin, revision) for _d, bulletin, revision in result.all()}
        return list(unique.values())

    async def adverts_beside(self, bulletin_id: str) -> AdvertsBeside:
        """The endpoints the bulletin is live on, the advertisements on air (this bulletin
        too, if it is one) live on each, and each advertisement's on-air content once: an
        advertisement to a province is ten thousand endpoints, and its content is not read
        ten thousand times."""
        reached = select(Delivery.endpoint_id).where(
            Delivery.bulletin_id == bulletin_id, Delivery.status.not_in(ENDED)
        )
        endpoints = await self.session.execute(
            select(
                Endpoint.id,
                Endpoint.code,
                Endpoint.name,
                Endpoint.area_path,
                Endpoint.profile,
                Endpoint.windows,
            ).where(Endpoint.id.in_(reached))
        )
        pairs = (
            self._live()
            .where(Bulletin.category == Category.advertising, Delivery.endpoint_id.in_(reached))
            .with_only_columns(Delivery.endpoint_id, Bulletin.id)
        )
        placed: dict[int, set[str]] = {}
        for endpoint_id, advert_id in (await self.session.execute(pairs)).all():
            placed.setdefault(endpoint_id, set()).add(advert_id)
        adverts = {advert_id for found in placed.values() for advert_id in found}
        contents = await self.session.execute(
            select(Bulletin.id, BulletinRevision.content)
            .join(BulletinRevision, _on_air(BulletinRevision.bulletin_id, BulletinRevision.number))
            .where(Bulletin.id.in_(adverts))
        )
        return AdvertsBeside(
            [ReachedEndpoint(*row) for row in endpoints.all()],
            placed,
            {advert_id: content for advert_id, content in contents.all()},
        )

    async def mark_sent(self, endpoint_id: int, bulletin_ids: Collection[str]) -> None:
        """Deliveries an endpoint has now been given."""
        if bulletin_ids:
            await self.session.execute(
                update(Delivery)
                .where(
                    Delivery.endpoint_id == endpoint_id,
                    Delivery.bulletin_id.in_(bulletin_ids),
                    Delivery.status == DeliveryStatus.pending,
                )
                .values(moving_to(DeliveryStatus.sent, utcnow()))
            )

    async def due_for_redrive(
        self, now: datetime, waits: Sequence[timedelta], connected_since: datetime, limit: int
    ) -> Sequence[Redrivable]:
        """Unacknowledged live deliveries whose endpoint was last told longer ago than the wait
        for the number of times it has been told again (`waits[n]`; the last serves beyond),
        but for those `due_for_repush` takes."""
        last = len(waits) - 1
        due = [
            and_(Delivery.drives == n, Delivery.driven_at <= now - wait)
            for n, wait in enumerate(waits[:-1])
        ]
        due.append(and_(Delivery.drives >= last, Delivery.driven_at <= now - waits[last]))
        return await self._claim(not_(repushed(connected_since)), or_(*due), limit=limit)

    async def due_for_repush(
        self, now: datetime, every: timedelta, connected_since: datetime, limit: int
    ) -> Sequence[Redrivable]:
        """Unacknowledged live emergency deliveries to connected endpoints (`repushed`) last
        told `every` ago or longer, however often they have been told."""
        return await self._claim(
            repushed(connected_since), Delivery.driven_at <= now - every, limit=limit
        )

    async def _claim(self, *due: ColumnElement[bool], limit: int) -> Sequence[Redrivable]:
        """Unacknowledged live deliveries to enabled endpoints that meet `due`, the longest
        untold first, with the bulletin. Rows another worker is re-driving are skipped."""
        result = await self.session.execute(
            select(Delivery, Bulletin)
            .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(
                Delivery.status.in_(UNACKNOWLEDGED),
                Bulletin.on_air_revision.is_not(None),
                Endpoint.enabled,
                *due,
            )
            .order_by(Delivery.driven_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        return [(delivery, bulletin) for delivery, bulletin in result.all()]

    async def mark_driven(self, delivery_ids: Sequence[int], now: datetime) -> None:
        await self.session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids))
            .values(driven_at=now, drives=Delivery.drives + 1)
        )

    @staticmethod
    def live_endpoints(bulletin_id: str) -> Select[int]:
        """The endpoints a bulletin's live deliveries go to, as a query."""
        return select(Delivery.endpoint_id).where(
            Delivery.bulletin_id == bulletin_id, Delivery.status.not_in(ENDED)
        )

    async def any_live(self, bulletin_ids: Sequence[str]) -> bool:
        """Whether any of the bulletins has a live delivery: whether it reaches an endpoint."""
        found = await self.session.scalar(
            select(Delivery.id)
            .where(Delivery.bulletin_id.in_(bulletin_ids), Delivery.status.not_in(ENDED))
            .limit(1)
        )
        return found is not None

    async def add_pending(
        self, bulletin_id: str, revision: int, endpoints: Select[int], now: datetime
    ) -> None:
        """A pending delivery to each of the endpoints that has none of the bulletin yet, in one
        statement: a province-wide emergency makes ten thousand."""
        deliveries = cast(Table, Delivery.__table__)
        values = {
            "bulletin_id": literal(bulletin_id, String),
            "endpoint_id": Endpoint.id,
            "revision": literal(revision, Integer),
            "status": literal(DeliveryStatus.pending.value, String),
            "driven_at": literal(now, UTCDateTime()),
            "drives": literal(0, Integer),
            "created_at": literal(now, UTCDateTime()),
            "updated_at": literal(now, UTCDateTime()),
        }
        await self.session.execute(
            insert(deliveries).from_select(
                list(values),
                select(*values.values()).where(
                    Endpoint.id.in_(endpoints),
                    Endpoint.id.not_in(
                        select(Delivery.endpoint_id).where(Delivery.bulletin_id == bulletin_id)
                    ),
                ),
            )
        )

    async def renew(
        self, bulletin_id: str, revision: int, endpoints: Select[int], now: datetime
    ) -> None:
        """The bulletin's deliveries to these endpoints that are of another revision, or ended,
        start again as pending: a new revision must be fetched again, even where the old one
        was played."""
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.bulletin_id == bulletin_id,
                Delivery.endpoint_id.in_(endpoints),
                or_(Delivery.revision != revision, Delivery.status.in_(ENDED)),
            )
            .values(
                revision=revision,
                status=DeliveryStatus.pending,
                detail=None,
                driven_at=now,
                drives=0,
                delivered_at=None,
                acked_at=None,
            )
        )

    async def revoke_others(
        self, bulletin_id: str, endpoints: Select[int], detail: str
    ) -> Sequence[int]:
        """Revoke the bulletin's live deliveries to endpoints other than these; returns those
        endpoints."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.bulletin_id == bulletin_id,
                Delivery.status.not_in(ENDED),
                Delivery.endpoint_id.not_in(endpoints),
            )
            .values(status=DeliveryStatus.revoked, detail=detail)
            .returning(Delivery.endpoint_id)
        )
        return result.scalars().all()

    async def close_all(self, bulletin_id: str, status: DeliveryStatus) -> None:
        """Withdraw every delivery of a bulletin that has not ended otherwise."""
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.bulletin_id == bulletin_id,
                Delivery.status.not_in(ENDED),
            )
            .values(status=status)
        )

    # --- what devices report: heartbeats and as-run plays ----------------------------------

    async def acknowledge(self, endpoint_id: int, held_version: int) -> None:
        """The device holds this playlist version: while it is still the endpoint's current
        one, the deliveries not yet acknowledged are. One statement, so that deliveries that
        arrive with a newer version in the meantime are not taken for acknowledged."""
        still_current = (
            select(EndpointPlaylist.endpoint_id)
            .where(
                EndpointPlaylist.endpoint_id == endpoint_id,
                EndpointPlaylist.version == held_version,
            )
            .exists()
        )
        await self.session.execute(
            update(Delivery)
            .where(
                Delivery.endpoint_id == endpoint_id,
                Delivery.status.in_([DeliveryStatus.pending, DeliveryStatus.sent]),
                still_current,
            )
            .values(moving_to(DeliveryStatus.acked, utcnow()))
        )

    async def of_endpoint_for(
        self, endpoint_id: int, bulletin_ids: Sequence[str]
    ) -> Sequence[Delivery]:
        """The endpoint's deliveries of these bulletins, whatever their status."""
        if not bulletin_ids:
            return []
        result = await self.session.scalars(
            select(Delivery).where(
                Delivery.endpoint_id == endpoint_id, Delivery.bulletin_id.in_(bulletin_ids)
            )
        )
        return result.all()

    async def add_new_plays(self, plays: Sequence[Play]) -> set[str]:
        """Store the plays whose client id their endpoint has not reported before; returns the
        client ids stored now. The unique key decides, so a batch re-sent while the first is
        still in flight stores nothing twice."""
        if not plays:
            return set()
        rows = [
            {
                "endpoint_id": play.endpoint_id,
                "client_id": play.client_id,
                "bulletin_id": play.bulletin_id,
                "revision": play.revision,
                "started_at": play.started_at,
                "ended_at": play.ended_at,
                "outcome": play.outcome,
                "received_at": play.received_at,
            }
            for play in plays
        ]
        result = await self.session.execute(
            insert_new(self.session, Play, Play.endpoint_id, Play.client_id).returning(
                Play.client_id
            ),
            rows,
        )
        return set(result.scalars().all())

    async def plays_of(self, bulletin_id: str, limit: int) -> Sequence[tuple[Play, Endpoint]]:
        """A bulletin's plays on every endpoint, the latest first."""
        result = await self.session.execute(
            select(Play, Endpoint)
            .join(Endpoint, Endpoint.id == Play.endpoint_id)
            .where(Play.bulletin_id == bulletin_id)
            .order_by(Play.started_at.desc(), Play.id.desc())
            .limit(limit)
        )
        return [(play, endpoint) for play, endpoint in result.all()]


def _on_air(
    bulletin_id: InstrumentedAttribute[str], revision: InstrumentedAttribute[int]
) -> ColumnElement[bool]:
    """Join condition: the row belongs to the revision its bulletin has on air."""
    return and_(bulletin_id == Bulletin.id, revision == Bulletin.on_air_revision)
