"""Route guards: who is calling, and may their role use this route at all.

Every route except the public ones in `PUBLIC_PATHS` depends on an `Access` guard; the area
half of the check happens in the services, which compare the principal's area with the
resource's (`Principal.require_within`).
"""

from typing import Annotated, ClassVar

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from nguon.identity.principal import Principal
from nguon.identity.roles import ALL_ROLES, Role
from nguon.identity.service import IdentityService
from nguon.kit.errors import Forbidden, Unauthenticated
from nguon.unit_of_work import Session

PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/auth/token",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    }
)

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/token")
_api_key = APIKeyHeader(name="X-Api-Key", auto_error=False, description="Machine API key")


def identity_service(request: Request, session: Session) -> IdentityService:
    state = request.app.state
    return IdentityService(session, state.token_codec, state.api_key_hasher, state.key_cache)


Identity = Annotated[IdentityService, Depends(identity_service)]


class Access:
    """A dependency that authenticates the caller and admits only the given roles.

    Machine keys are admitted by the role they act as (an `integration` key acts as a
    `publisher`) or by their own role when it is named.
    """

    problem_answers: ClassVar[dict[int, str]] = {
        401: "No credentials, or ones this hub does not accept",
        403: "Your role may not use this route",
    }

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def admits(self, role: Role) -> bool:
        return role in self.roles

    async def __call__(
        self,
        request: Request,
        identity: Identity,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        api_key: Annotated[str | None, Depends(_api_key)],
    ) -> Principal:
        if bearer is not None:
            principal = await identity.principal_from_token(bearer.credentials)
        elif api_key:
            principal = await identity.principal_from_api_key(api_key)
        else:
            raise Unauthenticated(
                "Send an access token (Authorization: Bearer ...) or an API key (X-Api-Key)."
            )
        request.state.principal = principal
        self.admit(principal)
        return principal

    def admit(self, principal: Principal) -> None:
        """Refuse a principal whose role this guard does not admit."""
        if principal.role not in self.roles and principal.effective_role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise Forbidden(
                f"{principal.label} has the role {principal.role}; this needs {allowed}."
            )


ANY_ROLE = Access(*ALL_ROLES)
ADMIN = Access(Role.admin)

AnyPrincipal = Annotated[Principal, Depends(ANY_ROLE)]
Admin = Annotated[Principal, Depends(ADMIN)]
