from datetime import datetime
from typing import Annotated

from pydantic import Field, WithJsonSchema

from nguon.areas.schemas import AreaSummary
from nguon.identity.roles import KEY_ROLES, USER_ROLES, Role
from nguon.kit.schemas import RequestModel, ResponseModel, pattern

AreaCode = Annotated[
    str,
    Field(pattern=pattern(r"^[A-Za-z0-9]{1,16}$", "1 to 16 letters or digits"), examples=["91"]),
]
Password = Annotated[str, Field(min_length=10, max_length=256)]


def documented_as(roles: frozenset[Role]) -> WithJsonSchema:
    """Document a role field as only the roles its route takes (the service refuses others)."""
    return WithJsonSchema({"type": "string", "enum": sorted(roles)})


UserRole = Annotated[Role, documented_as(USER_ROLES)]
KeyRole = Annotated[Role, documented_as(KEY_ROLES)]


class TokenResponse(ResponseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int


class UserCreate(RequestModel):
    username: Annotated[str, Field(min_length=3, max_length=64, examples=["xa.myhoahung"])]
    password: Password
    role: UserRole
    area: AreaCode
    full_name: Annotated[str | None, Field(max_length=200)] = None


class UserUpdate(RequestModel):
    full_name: Annotated[str | None, Field(max_length=200)] = None
    password: Password | None = None
    role: UserRole | None = None
    area: AreaCode | None = None
    active: bool | None = None


class UserRead(ResponseModel):
    id: int
    username: str
    full_name: str | None
    role: Role
    area: AreaSummary
    active: bool
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime


class KeyCreate(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=100, examples=["central-source-system"])]
    role: KeyRole
    area: AreaCode


class KeyRead(ResponseModel):
    id: int
    name: str
    prefix: str
    role: Role
    area: AreaSummary
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: Annotated[str, Field(description="The key itself. Shown this once; only a hash is kept.")]
