"""The backups page: the runs and whether each backup is still kept, and the inspection
export of a period to download (002 Điều 11.2; 001 Điều 9.1)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from nguon.backups.models import BackupRun, RunStatus
from nguon.backups.repository import BackupRunRepository
from nguon.backups.store import BackupStore
from nguon.console.admin import local_day
from nguon.console.endpoints import CONSOLE, keep_on_refusal
from nguon.console.session import ConsoleAccess
from nguon.console.web import render
from nguon.exports.endpoints import EXPORT_READERS
from nguon.exports.service import XLSX_TYPE, ExportService
from nguon.identity.access import ADMIN
from nguon.identity.principal import Principal
from nguon.kit.errors import InvalidInput
from nguon.kit.storage import StorageError
from nguon.unit_of_work import Session

router = APIRouter(prefix=CONSOLE, include_in_schema=False)

Admin = Annotated[Principal, Depends(ConsoleAccess(ADMIN))]
ExportReader = Annotated[Principal, Depends(ConsoleAccess(EXPORT_READERS))]
RUNS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class RunShown:
    backup_id: str
    status: RunStatus
    detail: str | None
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    parts: int | None
    size_bytes: int | None

    @classmethod
    def of(cls, run: BackupRun) -> "RunShown":
        return cls(
            run.backup_id,
            run.status,
            run.detail,
            run.trigger,
            run.started_at,
            run.finished_at,
            run.parts,
            run.size_bytes,
        )


async def _backups(request: Request, session: Session) -> dict[str, object]:
    store = BackupStore.from_settings(request.app.state.settings)
    try:
        kept = set(await store.backup_ids())
        store_problem = None
    except StorageError as exc:  # the runs are still worth showing
        kept, store_problem = set(), str(exc)
    # Copied out of the session: a refused download rolls it back, and the page shows them after.
    runs = [RunShown.of(run) for run in await BackupRunRepository(session).recent(RUNS_SHOWN)]
    return {"runs": runs, "kept": kept, "where": store.where, "store_problem": store_problem}


@router.get("/backups")
async def backups_page(request: Request, session: Session, person: Admin) -> Response:
    typed = {"from": "", "to": "", "area": ""}
    return render(request, "backups.html", {**await _backups(request, session), "typed": typed})


@router.get("/backups/inspection")
async def inspection_download(
    request: Request,
    session: Session,
    person: ExportReader,
    start: Annotated[str, Query(max_length=10, alias="from")] = "",
    end: Annotated[str, Query(max_length=10, alias="to")] = "",
    area: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    typed = {"from": start, "to": end, "area": area}
    keep_on_refusal(request, "backups.html", {**await _backups(request, session), "typed": typed})
    first, last = local_day(start), local_day(end)
    if first is None or last is None:
        raise InvalidInput("Choose the first and the last day of the period.")
    directory = request.app.state.settings.data_dir
    directory.mkdir(parents=True, exist_ok=True)
    export = await ExportService(session).inspection_for(
        person, area or None, first, last, directory
    )
    return FileResponse(
        export.path,
        media_type=XLSX_TYPE,
        filename=export.filename,
        background=BackgroundTask(export.path.unlink, missing_ok=True),
    )
