"""The whole console: every page router, mounted by the app under `/console/`."""

from fastapi import APIRouter

from nguon.console.commune import router as commune_pages
from nguon.console.endpoints import router as session_pages

PAGE_ROUTERS: tuple[APIRouter, ...] = (session_pages, commune_pages)
