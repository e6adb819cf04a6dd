"""The reconciler: deliveries nobody confirmed are announced again until they are.

An event can be lost after the outbox let it go: a broker that restarts empty, a consumer that
dies before acting. The database still says which deliveries are unacknowledged, so they are
announced again with backoff (the same bulletin and revision: a device or gateway that already
has it recognises it, and nothing plays twice). An emergency to an endpoint that is connected
gets no backoff: it is announced again at a constant interval until it is confirmed or leaves
the air, so that a device that missed it hears of it within that interval.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.dispatch.events import BulletinNote, EndpointEvents, on_air_event
from nguon.dispatch.repository import DeliveryRepository
from nguon.kit.db import utcnow

BATCH = 2_000


def backoff(first: timedelta, cap: timedelta) -> list[timedelta]:
    """first, 2×first, 4×first … up to cap: the wait before each successive re-drive."""
    waits = [first]
    while waits[-1] < cap:
        waits.append(min(waits[-1] * 2, cap))
    return waits


class Reconciler:
    def __init__(
        self,
        session: AsyncSession,
        first: timedelta,
        cap: timedelta,
        *,
        repush: timedelta,
        offline_after: timedelta,
    ) -> None:
        """`repush`: how often an emergency to a connected endpoint is announced again;
        `offline_after`: how long since its last heartbeat an endpoint still counts as
        connected (NGUON_ENDPOINT_OFFLINE_SECONDS)."""
        self.session = session
        self.deliveries = DeliveryRepository(session)
        self.events = EndpointEvents(session)
        self.waits = backoff(first, cap)
        # An emergency is never announced again less often than any other delivery would be.
        self.repush = min(repush, first)
        self.offline_after = offline_after

    async def redrive(self, now: datetime | None = None) -> int:
        """Announce again what is due; returns how many deliveries (the caller commits)."""
        now = now or utcnow()
        connected_since = now - self.offline_after
        # Emergencies first, each kind with its own batch: a backlog of ordinary re-drives
        # never holds an emergency back a pass.
        due = [
            *await self.deliveries.due_for_repush(now, self.repush, connected_since, BATCH),
            *await self.deliveries.due_for_redrive(now, self.waits, connected_since, BATCH),
        ]
        by_bulletin: dict[BulletinNote, list[int]] = defaultdict(list)
        for delivery, bulletin in due:
            by_bulletin[BulletinNote.of(bulletin, delivery.revision)].append(delivery.endpoint_id)
        for note, endpoints in by_bulletin.items():
            await self.events.announce(endpoints, on_air_event(note.priority), note)
        await self.deliveries.mark_driven([delivery.id for delivery, _bulletin in due], now)
        return len(due)
