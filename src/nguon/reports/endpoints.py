from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.schemas import pattern
from nguon.reports.render import PDF_TYPE, XLSX_TYPE, render_pdf, render_xlsx
from nguon.reports.schemas import AreaPeriods, NarrativeWrite, ReportRead
from nguon.reports.service import ReportService
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

# Those who answer for the area's broadcasting read its reports (002 Điều 18); its editors and
# administrators write them.
REPORT_READERS = Access(Role.admin, Role.editor, Role.viewer, Role.appraiser)
REPORT_WRITERS = Access(Role.admin, Role.editor)

AREA_PATTERN = pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits")
PERIOD_PATTERN = pattern(r"^[0-9]{4}-[A-Z0-9]{1,8}$", "a year and a period, e.g. 2026-H1")
AreaPath = Annotated[str, Path(pattern=AREA_PATTERN, description="Administrative unit code")]
PeriodPath = Annotated[
    str, Path(pattern=PERIOD_PATTERN, description="`2026-H1`, `2026-H2` or `2026-Y` (the year)")
]


@router.get(
    "",
    summary="An area's report periods, their deadlines and whether the report is written",
    description="Without `period`, the periods of this year (and the next year's already "
    "begun), local days. `due_before` is the area's deadline: communes and districts report "
    "by the units' day, the province by the department's.",
    responses=UNKNOWN_AREA,
)
async def list_periods(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(REPORT_READERS)],
    area: Annotated[
        str | None, Query(pattern=AREA_PATTERN, description="Default: your own")
    ] = None,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN, description="One period")] = None,
) -> AreaPeriods:
    service = ReportService(session, request.app.state.settings)
    return await service.periods_for(actor, area, period, utcnow())


@router.put(
    "/{area}/{period}/narrative",
    summary="Write the sections of the report a person completes",
    responses=UNKNOWN_AREA,
)
async def put_narrative(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(REPORT_WRITERS)],
    area: AreaPath,
    period: PeriodPath,
    body: NarrativeWrite,
) -> ReportRead:
    service = ReportService(session, request.app.state.settings)
    return await service.write_narrative(actor, area, period, body.sections, utcnow())


async def document_response(
    request: Request,
    session: Session,
    actor: Principal,
    area: str,
    period: str,
    render: Callable[[ReportRead], Awaitable[bytes]],
    media_type: str,
    extension: str,
) -> Response:
    """The report rendered, as a download (the API's and the console's)."""
    service = ReportService(session, request.app.state.settings)
    report = await service.report_for(actor, area, period, utcnow())
    filename = f"bao-cao-{area}-{period}.{extension}"
    return Response(
        await render(report),
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{area}/{period}.pdf",
    summary="The report as an A4 PDF",
    response_class=Response,
    responses={200: {"content": {PDF_TYPE: {}}}, **UNKNOWN_AREA},
)
async def get_report_pdf(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(REPORT_READERS)],
    area: AreaPath,
    period: PeriodPath,
) -> Response:
    return await document_response(
        request, session, actor, area, period, render_pdf, PDF_TYPE, "pdf"
    )


@router.get(
    "/{area}/{period}.xlsx",
    summary="The report's figures and narrative as an XLSX workbook",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}}, **UNKNOWN_AREA},
)
async def get_report_xlsx(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(REPORT_READERS)],
    area: AreaPath,
    period: PeriodPath,
) -> Response:
    return await document_response(
        request, session, actor, area, period, render_xlsx, XLSX_TYPE, "xlsx"
    )


# After the documents: `/{area}/{period}` would take `2026-H1.pdf` as a period.
@router.get(
    "/{area}/{period}",
    summary="An area's report for a period: its figures and narrative",
    responses=UNKNOWN_AREA,
)
async def get_report(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(REPORT_READERS)],
    area: AreaPath,
    period: PeriodPath,
) -> ReportRead:
    service = ReportService(session, request.app.state.settings)
    return await service.report_for(actor, area, period, utcnow())
