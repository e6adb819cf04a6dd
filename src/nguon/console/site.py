"""The whole console: every page router, mounted by the app under `/console/`."""

from fastapi import APIRouter

from nguon.console.admin import router as admin_pages
from nguon.console.backups import router as backup_pages
from nguon.console.commune import router as commune_pages
from nguon.console.devices import router as device_pages
from nguon.console.endpoints import router as session_pages
from nguon.console.incidents import router as incident_pages
from nguon.console.media import router as media_files
from nguon.console.publishing import router as publishing_pages
from nguon.console.reports import router as report_pages
from nguon.console.review import router as review_pages
from nguon.console.rules import router as rule_pages

# Publishing's fixed paths (`/bulletins/new`) come before review's `/bulletins/{id}`.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    session_pages,
    publishing_pages,
    review_pages,
    commune_pages,
    admin_pages,
    backup_pages,
    rule_pages,
    incident_pages,
    report_pages,
    # After the board's fixed `/endpoints/board`.
    device_pages,
    media_files,
)
