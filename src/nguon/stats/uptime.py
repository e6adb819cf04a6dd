"""Uptime of endpoints over a period of local days, per endpoint and per commune, from the
compacted heartbeat history (`nguon.endpoints.uptime`; Đắk Nông 002 Điều 16.5: the system's
operation is reported on)."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Annotated

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.areas.repository import AreaRepository
from nguon.areas.service import AreaService
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.repository import EndpointRepository
from nguon.identity.principal import Principal
from nguon.kit.errors import InvalidInput
from nguon.kit.schemas import ResponseModel
from nguon.stats.schemas import AreaRef
from nguon.stats.service import check_period

Share = Annotated[float, Field(ge=0, le=1, description="Share of the time online, 0 – 1")]


class EndpointUptimeRead(ResponseModel):
    code: str
    name: str
    commune: str
    seconds_online: int
    seconds_counted: Annotated[
        int, Field(description="The period's seconds since the endpoint was registered, to now")
    ]
    uptime: Share


class CommuneUptime(ResponseModel):
    code: str
    name: str
    endpoints: int
    uptime: Share


class UptimeReport(ResponseModel):
    area: AreaRef
    first_day: date
    last_day: date
    uptime: Annotated[float, Field(ge=0, le=1, description="All the area's endpoints together")]
    communes: list[CommuneUptime]
    endpoints: list[EndpointUptimeRead]


def share(part: int, whole: int) -> float:
    return min(1.0, part / whole) if whole > 0 else 0.0


class UptimeService:
    def __init__(self, session: AsyncSession) -> None:
        self.endpoints = EndpointRepository(session)
        self.areas = AreaService(session)
        self.area_repository = AreaRepository(session)

    async def report_for(
        self,
        actor: Principal,
        area_code: str | None,
        first_day: date,
        last_day: date,
        now: datetime,
    ) -> UptimeReport:
        area = await self.areas.get_by_code(area_code or actor.area.code)
        actor.require_within(area, "statistics")
        return await self.report(area, first_day, last_day, now)

    async def report(
        self, area: Area, first_day: date, last_day: date, now: datetime
    ) -> UptimeReport:
        """The area's uptime, asked without a request (the periodic reports)."""
        if last_day < first_day:
            raise InvalidInput(
                f"The period must start before it ends: from {first_day.isoformat()} is after "
                f"to {last_day.isoformat()}."
            )
        start = datetime.combine(first_day, time(), LOCAL)
        end = datetime.combine(last_day + timedelta(days=1), time(), LOCAL)
        check_period(start, end)
        rows = await self.endpoints.uptime_in(area.path, start, end)
        read = []
        by_commune: dict[str, list[EndpointUptimeRead]] = defaultdict(list)
        for endpoint, online in rows:
            counted_from = max(start, endpoint.created_at)
            counted = max(0, round((min(end, now) - counted_from).total_seconds()))
            item = EndpointUptimeRead(
                code=endpoint.code,
                name=endpoint.name,
                commune=endpoint.area_code,
                seconds_online=online,
                seconds_counted=counted,
                uptime=share(online, counted),
            )
            read.append(item)
            by_commune[endpoint.area_code].append(item)
        names = await self.area_repository.latest_with_codes(sorted(by_commune))
        return UptimeReport(
            area=AreaRef(code=area.code, name=area.name, level=area.level),
            first_day=first_day,
            last_day=last_day,
            uptime=share(sum(i.seconds_online for i in read), sum(i.seconds_counted for i in read)),
            communes=[
                CommuneUptime(
                    code=code,
                    name=names[code].name if code in names else code,
                    endpoints=len(items),
                    uptime=share(
                        sum(i.seconds_online for i in items), sum(i.seconds_counted for i in items)
                    ),
                )
                for code, items in sorted(by_commune.items())
            ],
            endpoints=read,
        )
