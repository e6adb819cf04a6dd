from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nguon.central.models import CentralAlert, UsedSignature
from nguon.endpoints.models import Endpoint
from nguon.kit.db import insert_new

# Codes per IN (...): well below the bound parameters either backend takes in one statement.
CODES_PER_QUERY = 500


class EndpointPlace(NamedTuple):
    code: str
    area_code: str  # the commune it stands in
    latitude: float | None
    longitude: float | None


class CentralRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def alert(self, sender: str, identifier: str, sent_text: str) -> CentralAlert | None:
        return await self.session.scalar(
            select(CentralAlert).where(
                CentralAlert.sender == sender,
                CentralAlert.identifier == identifier,
                CentralAlert.sent_text == sent_text,
            )
        )

    async def latest_of_chain(self, alert: CentralAlert) -> CentralAlert:
        """The message of the alert's chain that nothing has ended since: the alert itself, or
        the Update or Cancel that last ended it (followed through every later one)."""
        while alert.ended_by_id is not None:
            later = await self.session.get(CentralAlert, alert.ended_by_id)
            if later is None:
                break
            alert = later
        return alert

    async def add(self, alert: CentralAlert) -> None:
        self.session.add(alert)
        await self.session.flush()

    async def use_signature(self, signature: str, now: datetime) -> bool:
        """Record a signature as used; False when it was used before (a replay). The primary
        key decides, so two copies of one request racing each other cannot both pass."""
        result = await self.session.execute(
            insert_new(self.session, UsedSignature, UsedSignature.signature)
            .values(signature=signature, received_at=now)
            .returning(UsedSignature.signature)
        )
        return result.scalar() is not None

    async def forget_signatures(self, before: datetime) -> None:
        await self.session.execute(delete(UsedSignature).where(UsedSignature.received_at < before))

    async def located_endpoints(self, area_path: str) -> list[tuple[str, float, float]]:
        """The code and GPS position of every endpoint below the area that has one."""
        result = await self.session.execute(
            select(Endpoint.code, Endpoint.latitude, Endpoint.longitude).where(
                Endpoint.area_path.startswith(area_path, autoescape=True),
                Endpoint.latitude.is_not(None),
                Endpoint.longitude.is_not(None),
            )
        )
        return [
            (code, lat, lon)
            for code, lat, lon in result.all()
            if lat is not None and lon is not None
        ]

    async def endpoint_places(self, codes: Sequence[str]) -> list[EndpointPlace]:
        """Where each named endpoint stands; codes that name no endpoint are left out."""
        places: list[EndpointPlace] = []
        for start in range(0, len(codes), CODES_PER_QUERY):
            result = await self.session.execute(
                select(
                    Endpoint.code, Endpoint.area_code, Endpoint.latitude, Endpoint.longitude
                ).where(Endpoint.code.in_(codes[start : start + CODES_PER_QUERY]))
            )
            places += [EndpointPlace(*row) for row in result.all()]
        return places
