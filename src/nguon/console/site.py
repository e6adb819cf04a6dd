"""The whole console: every page router, mounted by the app under `/console/`."""

from fastapi import APIRouter

from nguon.console.admin import router as admin_pages
from nguon.console.endpoints import router as session_pages

PAGE_ROUTERS: tuple[APIRouter, ...] = (session_pages, admin_pages)
