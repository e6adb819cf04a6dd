"""The reports pages: an area's periods with their deadlines, the PDF and XLSX to download,
and the narrative to write (002 Điều 18, 000/004 Điều 15, 001 Điều 14).

Each page takes the API route's own guard and calls the same service: the report's readers
(viewers and appraisers too) see the periods, the report and its downloads; its writers the
narrative's form."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.forms import validated
from nguon.console.session import ConsoleAccess
from nguon.console.web import render
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.reports.endpoints import (
    REPORT_READERS,
    REPORT_WRITERS,
    AreaPath,
    PeriodPath,
    document_response,
)
from nguon.reports.outlines import OUTLINES
from nguon.reports.render import PDF_TYPE, XLSX_TYPE, render_pdf, render_xlsx
from nguon.reports.schemas import NarrativeWrite
from nguon.reports.service import ReportService
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Reader = Annotated[Principal, Depends(ConsoleAccess(REPORT_READERS))]
Writer = Annotated[Principal, Depends(ConsoleAccess(REPORT_WRITERS))]


def _may_write(person: Principal) -> bool:
    return REPORT_WRITERS.admits(person.role)


@router.get("/reports")
async def reports_page(
    request: Request,
    session: Session,
    person: Reader,
    area: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    shown = {"listed": None, "typed": area, "may_write": _may_write(person)}
    keep_on_refusal(request, "reports.html", shown)
    service = ReportService(session, request.app.state.settings)
    listed = await service.periods_for(person, area or None, None, utcnow())
    return render(request, "reports.html", {**shown, "listed": listed})


@router.get("/reports/{area}/{period}.pdf")
async def report_pdf(
    request: Request, session: Session, person: Reader, area: AreaPath, period: PeriodPath
) -> Response:
    return await document_response(
        request, session, person, area, period, render_pdf, PDF_TYPE, "pdf"
    )


@router.get("/reports/{area}/{period}.xlsx")
async def report_xlsx(
    request: Request, session: Session, person: Reader, area: AreaPath, period: PeriodPath
) -> Response:
    return await document_response(
        request, session, person, area, period, render_xlsx, XLSX_TYPE, "xlsx"
    )


@router.get("/reports/{area}/{period}")
async def report_page(
    request: Request,
    session: Session,
    person: Reader,
    area: AreaPath,
    period: PeriodPath,
    saved: Annotated[bool, Query()] = False,
) -> Response:
    service = ReportService(session, request.app.state.settings)
    report = await service.report_for(person, area, period, utcnow())
    typed = {section.key: section.text for section in report.narrative.sections}
    shown = {"report": report, "typed": typed, "saved": saved, "may_write": _may_write(person)}
    return render(request, "report_narrative.html", shown)


@router.post("/reports/{area}/{period}")
async def save_narrative(
    request: Request, session: Session, person: Writer, area: AreaPath, period: PeriodPath
) -> Response:
    service = ReportService(session, request.app.state.settings)
    report = await service.report_for(person, area, period, utcnow())
    form = await request.form()
    keys = [section.key for section in OUTLINES[report.narrative.outline]]
    typed = {key: str(form.get(key, "")) for key in keys}
    shown = {"report": report, "typed": typed, "saved": False, "may_write": True}
    keep_on_refusal(request, "report_narrative.html", shown)
    body = validated(NarrativeWrite, {"sections": typed})
    await service.write_narrative(person, area, period, body.sections, utcnow())
    return RedirectResponse(f"{CONSOLE}/reports/{area}/{period}?saved=1", status_code=303)
