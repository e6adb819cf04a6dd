from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.exports.service import XLSX_TYPE, ExportService
from nguon.identity.access import Access
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.schemas import pattern
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])

# Who answers to inspectors for what was broadcast (001 Điều 9.1).
EXPORT_READERS = Access(Role.admin, Role.editor)


@router.get(
    "/inspection",
    summary="Content, advertising and broadcast times of a period, as a spreadsheet for inspection",
    description="An XLSX workbook with the sheets Bulletins, Advertising and Broadcasts "
    "(Vietnamese headers; times on the local clock, Asia/Ho_Chi_Minh). `from` and `to` are "
    "local days, the `to` day included, at most 366 days. Bulletins count where they came "
    "from and when first approved, as in the statistics; broadcasts are the plays reported "
    "by the area's endpoints. `area` (default: your own) must lie within your area.",
    response_class=FileResponse,
    responses={200: {"content": {XLSX_TYPE: {}}}, **UNKNOWN_AREA},
)
async def inspection_export(
    request: Request,
    session: Session,
    actor: Annotated[Principal, Depends(EXPORT_READERS)],
    first: Annotated[date, Query(alias="from", description="First local day (included)")],
    last: Annotated[date, Query(alias="to", description="Last local day (included)")],
    area: Annotated[
        str | None,
        Query(
            pattern=pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits"),
            description="Administrative unit code",
        ),
    ] = None,
) -> FileResponse:
    directory = request.app.state.settings.data_dir
    directory.mkdir(parents=True, exist_ok=True)
    export = await ExportService(session).inspection_for(actor, area, first, last, directory)
    return FileResponse(
        export.path,
        media_type=XLSX_TYPE,
        filename=export.filename,
        background=BackgroundTask(export.path.unlink, missing_ok=True),
    )
