"""The registry of endpoints: where they stand, what they play, and when."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.service import AreaService
from nguon.endpoints.models import Endpoint
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.schemas import EndpointCreate, EndpointUpdate
from nguon.endpoints.windows import (
    DEFAULT_WINDOWS,
    DisplayProfile,
    EndpointKind,
    Windows,
    check_minimum,
    normalise,
)
from nguon.identity.credentials import NewApiKey
from nguon.identity.principal import Principal
from nguon.identity.service import IdentityService
from nguon.kit.errors import Conflict, InvalidInput, NotFound
from nguon.kit.settings import Settings


class EndpointService:
    def __init__(
        self, session: AsyncSession, identity: IdentityService, settings: Settings
    ) -> None:
        self.repository = EndpointRepository(session)
        self.areas = AreaService(session)
        self.identity = identity
        self.settings = settings

    async def create(self, actor: Principal, fields: EndpointCreate) -> tuple[Endpoint, NewApiKey]:
        if fields.kind is EndpointKind.display and fields.profile is None:
            raise InvalidInput("A display needs a profile: eboard or border_gate.")
        if fields.kind is EndpointKind.radio and fields.profile is not None:
            raise InvalidInput("A radio takes no display profile.")
        area = await self.areas.get_by_code(fields.area)
        if area.level is not AreaLevel.commune:
            raise InvalidInput(
                f"{area.code} ({area.name}) is a {area.level}; endpoints stand in communes."
            )
        actor.require_within(area, "endpoints")
        if await self.repository.by_code(fields.code) is not None:
            raise Conflict(f"An endpoint with the code {fields.code!r} exists.")
        windows = normalise(fields.windows or DEFAULT_WINDOWS[(fields.kind, fields.profile)])
        self._check_hours(fields.kind, fields.profile, windows)
        endpoint = Endpoint(
            code=fields.code,
            name=fields.name,
            kind=fields.kind,
            profile=fields.profile,
            area_id=area.id,
            area_code=area.code,
            area_path=area.path,
            latitude=fields.latitude,
            longitude=fields.longitude,
            languages=fields.languages or ["vi"],
            windows=windows,
            push_url=str(fields.push_url) if fields.push_url else None,
            enabled=fields.enabled,
        )
        await self.repository.add(endpoint)
        _stored, key = await self.identity.issue_endpoint_key(
            actor, endpoint.id, f"endpoint {endpoint.code}", area
        )
        return endpoint, key

    def _check_hours(
        self, kind: EndpointKind, profile: DisplayProfile | None, windows: Windows
    ) -> None:
        minimum = {
            None: self.settings.min_daily_hours_radio,
            DisplayProfile.eboard: self.settings.min_daily_hours_eboard,
            DisplayProfile.border_gate: self.settings.min_daily_hours_border_gate,
        }[profile]
        what = kind.value if profile is None else profile.value.replace("_", "-") + " display"
        check_minimum(windows, minimum, what)

    async def get(self, actor: Principal, code: str) -> Endpoint:
        endpoint = await self.repository.by_code(code)
        if endpoint is None:
            raise NotFound(f"No endpoint has the code {code!r}.")
        area = await self.areas.repository.get(endpoint.area_id)
        assert area is not None  # areas are never deleted under endpoints (RESTRICT)
        actor.require_within(area, "endpoints")
        return endpoint

    async def of_device(self, actor: Principal) -> Endpoint:
        """The endpoint whose key is calling."""
        endpoint = await self.repository.get(actor.endpoint_id) if actor.endpoint_id else None
        if endpoint is None:
            raise NotFound("This key belongs to no endpoint.")
        return endpoint

    async def search(
        self, actor: Principal, kind: EndpointKind | None, limit: int, offset: int
    ) -> Sequence[Endpoint]:
        return await self.repository.in_subtree(actor.area.path, kind, limit, offset)

    async def update(self, actor: Principal, code: str, changes: EndpointUpdate) -> Endpoint:
        endpoint = await self.get(actor, code)
        values = changes.model_dump(exclude_unset=True)
        if "windows" in values:
            windows = normalise(
                values.pop("windows") or DEFAULT_WINDOWS[(endpoint.kind, endpoint.profile)]
            )
            self._check_hours(endpoint.kind, endpoint.profile, windows)
            endpoint.windows = windows
        if "push_url" in values:
            endpoint.push_url = str(values.pop("push_url")) if changes.push_url else None
        for name, value in values.items():
            setattr(endpoint, name, value)
        return endpoint

    async def new_key(self, actor: Principal, code: str) -> tuple[Endpoint, NewApiKey]:
        endpoint = await self.get(actor, code)
        area = await self.areas.repository.get(endpoint.area_id)
        assert area is not None
        _stored, key = await self.identity.issue_endpoint_key(
            actor, endpoint.id, f"endpoint {endpoint.code}", area
        )
        return endpoint, key
