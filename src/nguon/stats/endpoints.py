from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.dispatch.slots import LOCAL
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.schemas import Instant, pattern
from nguon.stats.schemas import StatsReport
from nguon.stats.service import StatsService
from nguon.stats.uptime import UptimeReport, UptimeService
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

# The people who answer for what was broadcast, and the central system the figures go up to.
STATS_READERS = Access(Role.admin, Role.editor, Role.viewer, Role.appraiser, Role.central)
AreaQuery = Annotated[
    str | None,
    Query(
        pattern=pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits"),
        description="Administrative unit code",
    ),
]


@router.get(
    "",
    summary="What an area broadcast in a period: bulletins, minutes on air, endpoints, emergencies",
    description="`from` and `to` are instants with a time zone, `from` before `to`, at most 366 "
    "days apart; without them, the 24 hours up to now. `area` (default: your own) must lie "
    "within your area. Bulletins count where they came from and when first approved; minutes "
    "on air count where they played, against the endpoints' operating windows (local time, "
    "Asia/Ho_Chi_Minh). Exercises are counted apart and never as broadcast.",
    responses=UNKNOWN_AREA,
)
async def get_stats(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(STATS_READERS)],
    start: Annotated[
        Instant | None, Query(alias="from", description="Start of the period (included)")
    ] = None,
    end: Annotated[
        Instant | None, Query(alias="to", description="End of the period (excluded)")
    ] = None,
    area: AreaQuery = None,
) -> StatsReport:
    service = StatsService(session, request.app.state.settings)
    return await service.report_for(actor, area, start, end, utcnow())


# --- uptime of endpoints ------------------------------------------------------------------


@router.get(
    "/uptime",
    summary="How much of a period the area's endpoints were online, per endpoint and commune",
    description="`from` and `to` are local days (Asia/Ho_Chi_Minh), both included; without "
    "them, today. An endpoint counts as online between two heartbeats that came within "
    "NGUON_ENDPOINT_OFFLINE_SECONDS of each other; its time counts from its registration and "
    "up to now.",
    responses=UNKNOWN_AREA,
)
async def get_uptime(
    session: Session,
    actor: Annotated[Principal, Depends(STATS_READERS)],
    first_day: Annotated[
        date | None, Query(alias="from", description="First local day, included")
    ] = None,
    last_day: Annotated[
        date | None, Query(alias="to", description="Last local day, included")
    ] = None,
    area: AreaQuery = None,
) -> UptimeReport:
    now = utcnow()
    today = now.astimezone(LOCAL).date()
    return await UptimeService(session).report_for(
        actor, area, first_day or last_day or today, last_day or first_day or today, now
    )
