"""What goes up to the central source system, and when.

Messages are written in the transaction that causes them: a shared bulletin's revision as it
goes on air (or its withdrawal), a day's statistics once the day is over. They are kept whether
or not the uplink is configured, so that a province that links up later, or whose central
system is away for days, sends everything it owes; the sender (`nguon.uplink.sender`) posts
them oldest first and retries until the central system takes each.
"""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.areas.repository import AreaRepository
from nguon.bulletins.models import Bulletin
from nguon.dispatch.slots import LOCAL
from nguon.kit.db import utcnow
from nguon.kit.errors import Conflict, NotFound
from nguon.kit.settings import Settings
from nguon.media.models import MediaObject
from nguon.stats.service import StatsService
from nguon.uplink.models import UplinkAttempt, UplinkKind, UplinkMessage, UplinkStatus
from nguon.uplink.repository import UplinkRepository

BulletinEvent = Literal["on-air", "withdrawn"]


def bulletin_subject(bulletin: Bulletin, revision: int, event: BulletinEvent) -> str:
    """A bulletin's revision goes up once on air and once withdrawn."""
    return f"{bulletin.id}.{revision}" + (".withdrawn" if event == "withdrawn" else "")


def report_subject(area: Area, day: date) -> str:
    return f"{area.code}:{day.isoformat()}"


def report_day(settings: Settings, now: datetime) -> date | None:
    """The local day whose report is due at `now`: the day before, once the report time has
    passed (the day's last plays are in by then); None before it."""
    local = now.astimezone(LOCAL)
    if local.time() < settings.uplink_report_time:
        return None
    return local.date() - timedelta(days=1)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The instants a local (Asia/Ho_Chi_Minh) calendar day starts and ends at."""
    start = datetime.combine(day, time(0), LOCAL)
    return start, start + timedelta(days=1)


def bulletin_payload(
    bulletin: Bulletin, revision: int, event: BulletinEvent, media: Sequence[MediaObject]
) -> dict[str, Any]:
    """The bulletin as the central system is told of it: its content at this revision, who
    decided, and its media (fetched from the hub's media route by their ids)."""
    return {
        "event": event,
        "province": bulletin.origin_area_code,
        "bulletin": {
            "id": bulletin.id,
            "revision": revision,
            "status": bulletin.status.value,
            "title": bulletin.title,
            "kind": bulletin.kind.value,
            "body": bulletin.body,
            "language": bulletin.language,
            "category": bulletin.category.value,
            "priority": bulletin.priority.value,
            "level": bulletin.level.value,
            "origin_area": bulletin.origin_area_code,
            "targets": bulletin.targets,
            "valid_from": bulletin.valid_from.isoformat(),
            "valid_until": bulletin.valid_until.isoformat(),
            "schedule": bulletin.schedule,
            "contributor": bulletin.contributor,
            "translation_of": bulletin.translation_of,
            "decided_by": bulletin.decided_by,
            "reason": bulletin.reason if event == "withdrawn" else None,
            "media": [
                {
                    "id": item.id,
                    "kind": item.kind.value,
                    "content_type": item.content_type,
                    "sha256": item.sha256,
                    "size": item.size,
                    "duration_s": item.duration_s,
                    "path": f"/api/v1/media/{item.id}",
                }
                for item in media
            ],
        },
    }


class UplinkService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = UplinkRepository(session)
        self.areas = AreaRepository(session)
        self.session = session

    async def share(
        self,
        bulletin: Bulletin,
        revision: int,
        event: BulletinEvent,
        media: Sequence[MediaObject],
    ) -> None:
        await self.repository.add(
            UplinkKind.bulletin,
            bulletin_subject(bulletin, revision, event),
            bulletin_payload(bulletin, revision, event, media),
            utcnow(),
        )

    async def queue_daily_reports(self, settings: Settings, day: date, now: datetime) -> list[str]:
        """Queue the statistics of a local day for each province the hub serves, unless
        queued before; returns the subjects queued now."""
        start, end = local_day_bounds(day)
        statistics = StatsService(self.session, settings)
        queued = []
        for province in await self.areas.provinces():
            subject = report_subject(province, day)
            if await self.repository.exists(UplinkKind.report, subject):
                continue
            report = await statistics.report(province, start, end, now)
            payload = {
                "province": province.code,
                "day": day.isoformat(),
                "report": report.model_dump(mode="json"),
            }
            await self.repository.add(UplinkKind.report, subject, payload, now)
            queued.append(subject)
        return queued

    async def messages(
        self, status: UplinkStatus | None, before_id: int | None, limit: int
    ) -> tuple[Sequence[UplinkMessage], dict[int, list[UplinkAttempt]]]:
        messages = await self.repository.listing(status, before_id, limit)
        return messages, await self.repository.attempts_of([m.id for m in messages])

    async def retry(self, message_id: int) -> tuple[UplinkMessage, list[UplinkAttempt]]:
        """Send a message the central system refused once more (after its key or the hub's
        setting was put right), or one waiting out its backoff at once."""
        message = await self.repository.get(message_id)
        if message is None:
            raise NotFound(f"No uplink message {message_id}.")
        if message.status is UplinkStatus.sent:
            raise Conflict(
                f"Uplink message {message_id} was taken by the central system at "
                f"{message.sent_at.isoformat() if message.sent_at else 'an earlier time'}.",
                current_status=message.status.value,
            )
        await self.repository.requeue(message, utcnow())
        return message, (await self.repository.attempts_of([message.id]))[message.id]
