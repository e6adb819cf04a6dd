"""As-run records: what a device says it played, kept as proof of play and read back by editors."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Self

from pydantic import Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.dispatch.models import ENDED, Delivery, DeliveryStatus, Play, PlayOutcome, move_to
from nguon.dispatch.repository import DeliveryRepository
from nguon.endpoints.models import Endpoint
from nguon.kit.db import utcnow
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import Instant, RequestModel, pattern

# Device clocks drift; a start further ahead of the hub's clock than this is not a record.
CLOCK_SKEW = timedelta(minutes=5)
PLAYS_SHOWN = 1000
FAILED_PLAY = "the device reported a failed play"
FAILABLE = frozenset({DeliveryStatus.pending, DeliveryStatus.sent, DeliveryStatus.acked})


class PlayReport(RequestModel):
    id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            description="The device's own id of the record; a record re-sent counts once",
        ),
    ]
    bulletin_id: Annotated[
        str, Field(pattern=pattern(r"^[0-9a-f]{32}$", "32 hexadecimal digits (0-9, a-f)"))
    ]
    started_at: Instant
    ended_at: Instant
    outcome: PlayOutcome

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        return self


class PlayBatch(RequestModel):
    plays: Annotated[list[PlayReport], Field(min_length=1, max_length=1000)]


@dataclass(frozen=True, slots=True)
class PlayTally:
    accepted: int
    duplicates: int


class PlayService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = DeliveryRepository(session)
        self.session = session

    async def record(self, endpoint_id: int, reports: Sequence[PlayReport]) -> PlayTally:
        """Store the endpoint's plays not stored before, all or none: a batch with a record the
        hub cannot take is refused whole, so the device can correct it and send it again."""
        now = utcnow()
        ahead = sorted({r.id for r in reports if max(r.started_at, r.ended_at) > now + CLOCK_SKEW})
        if ahead:
            raise InvalidInput(
                f"Plays dated more than {CLOCK_SKEW.seconds // 60} minutes ahead of the hub's "
                f"clock: {', '.join(ahead)}. Check the device's clock.",
                ids=ahead,
            )
        deliveries = {
            d.bulletin_id: d
            for d in await self.repository.of_endpoint_for(
                endpoint_id, sorted({r.bulletin_id for r in reports})
            )
        }
        undelivered = sorted({r.id for r in reports if r.bulletin_id not in deliveries})
        if undelivered:
            raise InvalidInput(
                "Plays of bulletins never delivered to this endpoint: "
                f"{', '.join(undelivered)}. Nothing was stored.",
                ids=undelivered,
            )
        first_of_each: dict[str, PlayReport] = {}
        for report in reports:
            first_of_each.setdefault(report.id, report)
        plays = [
            Play(
                endpoint_id=endpoint_id,
                client_id=report.id,
                bulletin_id=report.bulletin_id,
                revision=deliveries[report.bulletin_id].revision,
                started_at=report.started_at,
                ended_at=report.ended_at,
                outcome=report.outcome,
                received_at=now,
            )
            for report in first_of_each.values()
        ]
        stored = await self.repository.add_new_plays(plays)
        for play in sorted(plays, key=lambda p: p.started_at):
            if play.client_id in stored:
                self._follow(deliveries[play.bulletin_id], play.outcome)
        await self.session.flush()
        return PlayTally(accepted=len(stored), duplicates=len(reports) - len(stored))

    @staticmethod
    def _follow(delivery: Delivery, outcome: PlayOutcome) -> None:
        """What a stored play says of its delivery. A bulletin played once stays played."""
        if (
            outcome is PlayOutcome.played and delivery.status not in ENDED
        ):  # an ended delivery keeps its status
            move_to(delivery, DeliveryStatus.played, utcnow())
            delivery.detail = None
        elif outcome is PlayOutcome.failed and delivery.status in FAILABLE:
            delivery.status = DeliveryStatus.failed
            delivery.detail = FAILED_PLAY

    async def of_bulletin(self, bulletin_id: str) -> Sequence[tuple[Play, Endpoint]]:
        return await self.repository.plays_of(bulletin_id, PLAYS_SHOWN)
