"""The whole console: every page router, mounted by the app under `/console/`."""

from fastapi import APIRouter

from nguon.console.commune import router as commune_pages
from nguon.console.endpoints import router as session_pages
from nguon.console.publishing import router as publishing_pages

PAGE_ROUTERS: tuple[APIRouter, ...] = (session_pages, publishing_pages, commune_pages)
