"""What people may do with webhooks: take an endpoint's push secret, see what was pushed."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.endpoints.models import Endpoint
from nguon.endpoints.service import EndpointService
from nguon.identity.principal import Principal
from nguon.kit.settings import Settings
from nguon.push.models import Notification, NotificationAttempt
from nguon.push.repository import NotificationRepository
from nguon.push.signing import push_secret


@dataclass(frozen=True, slots=True)
class NotificationHistory:
    notification: Notification
    attempts: Sequence[NotificationAttempt]


class PushService:
    def __init__(
        self, session: AsyncSession, endpoints: EndpointService, settings: Settings
    ) -> None:
        self.repository = NotificationRepository(session)
        self.endpoints = endpoints
        self.settings = settings

    async def new_secret(self, actor: Principal, code: str) -> tuple[Endpoint, str]:
        """Replace the endpoint's push secret and give the new one; the old one stops signing
        at once, notifications already queued included."""
        endpoint = await self.endpoints.get(actor, code)
        endpoint.push_secret_generation += 1
        secret = push_secret(
            self.settings.signing_secret(),
            endpoint.id,
            endpoint.code,
            endpoint.push_secret_generation,
        )
        return endpoint, secret

    async def history(self, actor: Principal, code: str, limit: int) -> list[NotificationHistory]:
        """The endpoint's latest notifications, newest first, each with every attempt."""
        endpoint = await self.endpoints.get(actor, code)
        notifications = await self.repository.of_endpoint(endpoint.id, limit)
        attempts = await self.repository.attempts_of([n.id for n in notifications])
        return [NotificationHistory(n, attempts.get(n.id, [])) for n in notifications]
