from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, status
from pydantic import Field

from nguon.areas.schemas import UNKNOWN_AREA
from nguon.identity.access import Admin, Identity
from nguon.identity.schemas import (
    KeyCreate,
    KeyCreated,
    KeyRead,
    TokenResponse,
    UserCreate,
    UserRead,
    UserUpdate,
)
from nguon.identity.service import UserChanges
from nguon.kit.schemas import INT64_MAX, ROW_ID_MAX, FormModel, Page

router = APIRouter(prefix="/api/v1", tags=["identity"])

Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=INT64_MAX)]


class SignInForm(FormModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


@router.post(
    "/auth/token",
    summary="Sign in (OAuth2 password form)",
    responses={401: {"description": "Unknown username, wrong password, or a locked account"}},
)
async def issue_token(
    request: Request, identity: Identity, form: Annotated[SignInForm, Form()]
) -> TokenResponse:
    request.state.audit_target = f"user:{form.username.lower()}"
    token, principal = await identity.login(form.username, form.password)
    request.state.principal = principal  # signed in: the audit record names them
    return TokenResponse(access_token=token, expires_in=identity.tokens.ttl_seconds)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account",
    responses={**UNKNOWN_AREA, 409: {"description": "The username is taken"}},
)
async def create_user(body: UserCreate, identity: Identity, actor: Admin) -> UserRead:
    user = await identity.create_user(
        actor, body.username, body.password, body.role, body.area, body.full_name
    )
    return UserRead.model_validate(user)


@router.get("/users", summary="Accounts in your area")
async def list_users(
    identity: Identity, actor: Admin, limit: Limit = 100, offset: Offset = 0
) -> Page[UserRead]:
    users = await identity.list_users(actor, limit, offset)
    return Page(items=[UserRead.model_validate(user) for user in users])


@router.get("/users/{username}", summary="One account")
async def get_user(username: str, identity: Identity, actor: Admin) -> UserRead:
    return UserRead.model_validate(await identity.get_user(actor, username))


@router.patch(
    "/users/{username}",
    summary="Change an account: name, password, role, area, or disable it",
    description="A new password, role or area, or disabling, ends the account's open sessions.",
)
async def update_user(
    username: str, body: UserUpdate, identity: Identity, actor: Admin
) -> UserRead:
    changes = UserChanges(**body.model_dump(exclude_unset=True))
    return UserRead.model_validate(await identity.update_user(actor, username, changes))


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    responses=UNKNOWN_AREA,
    summary="Create an API key for a machine (the key is shown once)",
)
async def create_key(body: KeyCreate, identity: Identity, actor: Admin) -> KeyCreated:
    stored, new_key = await identity.create_key(actor, body.name, body.role, body.area)
    return KeyCreated(**KeyRead.model_validate(stored).model_dump(), key=new_key.key)


@router.get("/keys", summary="API keys in your area")
async def list_keys(
    identity: Identity, actor: Admin, limit: Limit = 100, offset: Offset = 0
) -> Page[KeyRead]:
    keys = await identity.list_keys(actor, limit, offset)
    return Page(items=[KeyRead.model_validate(key) for key in keys])


@router.delete("/keys/{key_id}", summary="Revoke an API key")
async def revoke_key(
    key_id: Annotated[int, Path(ge=1, le=ROW_ID_MAX)], identity: Identity, actor: Admin
) -> KeyRead:
    return KeyRead.model_validate(await identity.revoke_key(actor, key_id))
