"""The whole console: every page router, mounted by the app under `/console/`."""

from fastapi import APIRouter

from nguon.console.endpoints import router as session_pages
from nguon.console.media import router as media_files
from nguon.console.review import router as review_pages

PAGE_ROUTERS: tuple[APIRouter, ...] = (session_pages, review_pages, media_files)
