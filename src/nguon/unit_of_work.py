"""The request's session is its unit of work: committed here, never inside services."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.audit.requests import SAFE_METHODS, audit_request
from nguon.kit.errors import NguonError
from nguon.kit.openapi import refuses


@refuses({503: "The hub's database is busy or unreachable; retry after `Retry-After` seconds"})
async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except NguonError as error:
            if error.commit_changes:
                await audit_request(session, request.scope, error.status)
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            if request.method in SAFE_METHODS:
                await session.commit()
            else:
                route = request.scope.get("route")
                await audit_request(
                    session, request.scope, getattr(route, "status_code", None) or 200
                )


# Function scope: the commit happens when the endpoint returns, before the response is sent,
# so a client that sees success can rely on it.
Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]
