"""A commune's page: the unit, where it sits, and who acts for it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.areas.service import AreaService
from nguon.bulletins.enums import BulletinKind, Priority
from nguon.communes.models import ProgrammeEntry
from nguon.communes.repository import CommuneRepository
from nguon.dispatch.events import EndpointEvents
from nguon.dispatch.order import colliding, in_play_order
from nguon.dispatch.playlist import OnAir, Programme, slots_of
from nguon.dispatch.repository import DeliveryRepository
from nguon.dispatch.slots import DAY, LOCAL, Span, segment_at, window_spans
from nguon.endpoints.models import Endpoint
from nguon.endpoints.windows import DEFAULT_WINDOWS, WEEKDAYS, EndpointKind, Windows
from nguon.identity.models import User
from nguon.identity.principal import Principal
from nguon.identity.repository import UserRepository
from nguon.kit.errors import InvalidInput, NotFound

# A chair who picks the slot that is just starting is not refused for the seconds it took.
LATE_TOLERANCE = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class QueueItem:
    bulletin_id: str
    title: str
    kind: BulletinKind
    language: str
    priority: Priority
    level: AreaLevel
    origin_area: str
    slot: datetime | None
    published_at: datetime
    valid_until: datetime

    @property
    def section(self) -> str:
        """Điều 8: emergencies play at once, priority items in order; normal ones are offered
        to the chair (`available`) until the chair puts them into the programme."""
        if self.priority is Priority.normal:
            return "programme" if self.slot else "available"
        return self.priority.value


@dataclass(frozen=True, slots=True)
class RadioDay:
    """A local day of the commune radio: its operating windows and the chair's programme."""

    start: datetime
    end: datetime
    windows: list[Span]
    entries: list[ProgrammeEntry]


@dataclass(frozen=True, slots=True)
class CommuneProfile:
    area: Area
    ancestors: Sequence[Area]
    staff: Sequence[User]


class CommuneService:
    def __init__(self, session: AsyncSession) -> None:
        self.areas = AreaService(session)
        self.users = UserRepository(session)
        self.deliveries = DeliveryRepository(session)
        self.communes = CommuneRepository(session)
        self.events = EndpointEvents(session)

    async def profile(self, actor: Principal, code: str) -> CommuneProfile:
        area, ancestors = await self._commune(actor, code)
        staff = await self.users.list_in_area(area.id)
        return CommuneProfile(area, ancestors, staff)

    async def radio_queue(self, actor: Principal, code: str, at: datetime) -> list[QueueItem]:
        """What the commune's radio has on air, in the regulation's order of play, each item
        with its next slot."""
        area, _ancestors = await self._commune(actor, code)
        return await self._queue(area, at)

    async def order(
        self, actor: Principal, code: str, bulletin_ids: Sequence[str], at: datetime
    ) -> list[QueueItem]:
        """The chair orders the priority items that collide with the commune's own (Điều 8.2);
        the list replaces the chair's earlier order, and an empty one clears it."""
        area, _ancestors = await self._commune(actor, code)
        repeated = sorted({i for i in bulletin_ids if bulletin_ids.count(i) > 1})
        if repeated:
            raise InvalidInput(f"Bulletin(s) {', '.join(repeated)} appear more than once.")
        movable = {item.bulletin_id for item in colliding(await self._queue(area, at))}
        strays = [i for i in bulletin_ids if i not in movable]
        if strays:
            raise InvalidInput(
                f"Only priority items that collide with the commune's own priority items can be "
                f"ordered; not {', '.join(strays)}. Those that collide now: "
                f"{', '.join(sorted(movable)) or 'none'}.",
                movable=sorted(movable),
            )
        positions = {bulletin_id: place for place, bulletin_id in enumerate(bulletin_ids)}
        await self.communes.replace_chair_order(area.id, positions, actor.label)
        await self._touch_radios(area.id)
        return await self._queue(area, at)

    async def programme(self, actor: Principal, code: str, at: datetime) -> list[ProgrammeEntry]:
        area, _ancestors = await self._commune(actor, code)
        return list(await self.communes.programme(area.id, at - DAY))

    async def radio_day(self, actor: Principal, code: str, day: date) -> RadioDay:
        """The windows the radio operates in on a local day, and what the chair put in it."""
        area, _ancestors = await self._commune(actor, code)
        start = datetime.combine(day, time(), tzinfo=LOCAL)
        end = start + DAY
        windows = window_spans(await self._radio_windows(area.id), start, end)
        entries = await self.communes.programme(area.id, start, end)
        return RadioDay(start, end, windows, list(entries))

    async def endpoints(self, actor: Principal, code: str) -> list[Endpoint]:
        """The commune's endpoints, radios and displays, by code."""
        area, _ancestors = await self._commune(actor, code)
        return list(await self.communes.endpoints(area.id))

    async def schedule(
        self, actor: Principal, code: str, choices: Sequence[tuple[str, datetime]], at: datetime
    ) -> list[ProgrammeEntry]:
        """The chair puts normal bulletins into the radio programme (Điều 8.3), each at a time
        inside the radio's windows and the bulletin's validity."""
        area, _ancestors = await self._commune(actor, code)
        windows = await self._radio_windows(area.id)
        offered = {
            b.bulletin_id: b for b in await self._on_air(area.id) if b.priority is Priority.normal
        }
        chosen = {
            (entry.bulletin_id, entry.slot)
            for entry in await self.communes.programme(area.id, at - DAY)
        }
        added: list[ProgrammeEntry] = []
        for bulletin_id, slot in choices:
            bulletin = offered.get(bulletin_id)
            if bulletin is None:
                raise InvalidInput(
                    f"Bulletin {bulletin_id} is not a normal bulletin on air for the radio of "
                    f"{area.code}; only those can be put into the programme."
                )
            self._check_slot(bulletin, slot, windows, at)
            if (bulletin_id, slot) not in chosen:
                chosen.add((bulletin_id, slot))
                added.append(
                    ProgrammeEntry(
                        area_id=area.id, bulletin_id=bulletin_id, slot=slot, created_by=actor.label
                    )
                )
        await self.communes.add_programme(added)
        await self._touch_radios(area.id)
        return list(await self.communes.programme(area.id, at - DAY))

    async def unschedule(self, actor: Principal, code: str, entry_id: int) -> None:
        area, _ancestors = await self._commune(actor, code)
        entry = await self.communes.programme_entry(area.id, entry_id)
        if entry is None:
            raise NotFound(f"The programme of {area.code} has no entry {entry_id}.")
        await self.communes.remove_programme(entry)
        await self._touch_radios(area.id)

    @staticmethod
    def _check_slot(bulletin: OnAir, slot: datetime, windows: Windows, at: datetime) -> None:
        if slot < at - LATE_TOLERANCE:
            raise InvalidInput(f"The slot {slot.isoformat()} has passed.")
        if not bulletin.first <= slot < bulletin.valid_until:
            raise InvalidInput(
                f"Bulletin {bulletin.bulletin_id} may play from {bulletin.first.isoformat()} "
                f"until {bulletin.valid_until.isoformat()}; {slot.isoformat()} is outside that."
            )
        if not any(span.holds(slot) for span in window_spans(windows, slot - DAY, slot + DAY)):
            raise InvalidInput(
                f"{slot.isoformat()} is outside the radio's operating windows "
                f"({', '.join(windows[WEEKDAYS[slot.astimezone(LOCAL).weekday()]]) or 'none'} "
                "that day, local time)."
            )

    async def _queue(self, area: Area, at: datetime) -> list[QueueItem]:
        windows = await self._radio_windows(area.id)
        on_air = await self._on_air(area.id)
        programme = Programme(
            slots=await self.communes.programme_slots(area.id, at - 8 * DAY),
            chair_positions=await self.communes.chair_positions(area.id),
        )
        segment = segment_at(windows, at)
        items = []
        for bulletin in on_air:
            found = slots_of(
                bulletin, EndpointKind.radio, windows, programme, segment.start, at + 8 * DAY
            )
            if bulletin.priority is Priority.emergency:
                slot: datetime | None = bulletin.first
            else:
                slot = found[0] if found else None
            items.append(
                QueueItem(
                    bulletin_id=bulletin.bulletin_id,
                    title=bulletin.title,
                    kind=bulletin.kind,
                    language=bulletin.language,
                    priority=bulletin.priority,
                    level=bulletin.level,
                    origin_area=bulletin.origin_area,
                    slot=slot,
                    published_at=bulletin.published_at,
                    valid_until=bulletin.valid_until,
                )
            )
        return in_play_order(items, programme.chair_positions)

    async def _on_air(self, area_id: int) -> list[OnAir]:
        rows = await self.deliveries.on_air_in(area_id, EndpointKind.radio)
        return [OnAir.of(bulletin, revision) for bulletin, revision in rows]

    async def _radio_windows(self, area_id: int) -> Windows:
        """The commune's programme runs on its first radio's windows (the default without one)."""
        radios = await self.communes.radios(area_id)
        return radios[0].windows if radios else DEFAULT_WINDOWS[(EndpointKind.radio, None)]

    async def _touch_radios(self, area_id: int) -> None:
        radios = await self.communes.radios(area_id)
        await self.events.changed([radio.id for radio in radios])

    async def _commune(self, actor: Principal, code: str) -> tuple[Area, Sequence[Area]]:
        area, ancestors, _children = await self.areas.describe(code, None)
        if area.level != AreaLevel.commune:
            raise NotFound(f"{code} ({area.name}) is a {area.level}, not a commune.")
        actor.require_within(area, "the commune")
        return area, ancestors
