"""Bad input gets a clear problem+json answer and changes nothing."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import AsyncClient, Response
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.areas.sources import AreaRecord
from nguon.audit.models import AuditRecord
from nguon.bulletins.models import Bulletin
from nguon.identity.roles import Role
from nguon.kit.db import conflicting_write, database_away_or_busy, unstorable_value
from nguon.kit.schemas import pattern_words
from tests.conftest import AN_GIANG, TEST_SECRET, MakeUser, communes_of, count_users
from tests.test_access import api_routes

PROBLEM = "application/problem+json"
VALID = {"username": "new.person", "password": "long-enough-pw", "role": "viewer", "area": AN_GIANG}


async def test_malformed_json(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad1", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    response = await client.post(
        "/api/v1/users",
        content=b'{"username": "x", "password": ',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Malformed request body"
    assert problem["detail"].startswith("The request body is not valid JSON")
    assert problem["detail"].endswith("(character 30).")
    assert problem["status"] == 400
    assert await count_users(sessionmaker) == before


async def test_unknown_fields_are_named(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad2", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    response = await client.post(
        "/api/v1/users", json={**VALID, "is_superuser": True}, headers=admin
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [
        {
            "field": "body.is_superuser",
            "message": "is not a field of this request",
            "type": "extra_forbidden",
        }
    ]
    assert "body.is_superuser" in problem["detail"]
    assert await count_users(sessionmaker) == before


async def test_wrong_types_list_each_field(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad3", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    response = await client.post(
        "/api/v1/users",
        json={"username": 42, "password": ["x"], "role": "emperor", "area": AN_GIANG},
        headers=admin,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.username", "body.password", "body.role"}
    assert response.json()["detail"].startswith("3 invalid field(s)")
    assert await count_users(sessionmaker) == before


async def test_ten_megabyte_body_is_refused_before_reading(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad4", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)
    huge = b'{"username": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/api/v1/users", content=huge, headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert "1048576" in response.json()["detail"]
    assert await count_users(sessionmaker) == before


async def test_oversize_body_without_length_is_cut_off(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("admin.bad5", Role.admin, AN_GIANG)
    before = await count_users(sessionmaker)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * (512 * 1024)

    response = await client.post(
        "/api/v1/users", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert await count_users(sessionmaker) == before


async def test_unknown_route_and_wrong_method_are_problems(client: AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["detail"] == "No resource at /api/v1/nothing-here"
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM


async def test_bad_query_parameter(client: AsyncClient, make_user: MakeUser) -> None:
    admin = await make_user("admin.bad6", Role.admin, AN_GIANG)
    response = await client.get("/api/v1/users?limit=100000", headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.limit"


# --- the NUL character ------------------------------------------------------------------------


async def audit_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[AuditRecord]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all())


async def bulletin_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Bulletin)) or 0


def assert_nul_refused(response: Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["errors"] == [
        {"field": field, "message": "must not contain the NUL character (\\x00)", "type": "nul"}
    ]
    assert problem["detail"] == f"1 invalid field(s): {field}: {problem['errors'][0]['message']}"


def a_bulletin(**overrides: object) -> dict[str, object]:
    return {
        "title": "Thông báo lịch tiêm chủng",
        "kind": "text",
        "body": "Trạm y tế xã tổ chức tiêm chủng vào sáng thứ Bảy.",
        "category": "access_to_information",
        "targets": [AN_GIANG],
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "Thông\x00báo"}, "body.title"),
        ({"body": "Trạm y tế\x00"}, "body.body"),
        ({"contributor": "Nguyễn\x00Văn A"}, "body.contributor"),
    ],
)
async def test_nul_in_a_bulletin_is_refused_and_nothing_stored(
    client: AsyncClient,
    make_user: MakeUser,
    sessionmaker: async_sessionmaker[AsyncSession],
    overrides: dict[str, object],
    field: str,
) -> None:
    publisher = await make_user("nul.publisher", Role.publisher, AN_GIANG)
    response = await client.post(
        "/api/v1/bulletins", json=a_bulletin(**overrides), headers=publisher
    )
    assert_nul_refused(response, field)
    assert await bulletin_count(sessionmaker) == 0
    assert (await audit_rows(sessionmaker))[-1].status == 422


async def test_nul_in_a_full_name_changes_nothing(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("nul.admin", Role.admin, AN_GIANG)
    await make_user("nul.viewer", Role.viewer, AN_GIANG)
    response = await client.patch(
        "/api/v1/users/nul.viewer", json={"full_name": "Trần\x00Thị B"}, headers=admin
    )
    assert_nul_refused(response, "body.full_name")
    stored = await client.get("/api/v1/users/nul.viewer", headers=admin)
    assert stored.json()["full_name"] is None


async def test_nul_in_key_and_endpoint_names_is_refused(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    admin = await make_user("nul.keys", Role.admin, AN_GIANG)
    key = await client.post(
        "/api/v1/keys",
        json={"name": "radio\x00", "role": "viewer", "area": AN_GIANG},
        headers=admin,
    )
    assert_nul_refused(key, "body.name")
    assert (await client.get("/api/v1/keys", headers=admin)).json()["items"] == []
    endpoint = await client.post(
        "/api/v1/endpoints",
        json={
            "code": "AG-NUL-RADIO",
            "name": "Loa\x00 ấp 1",
            "kind": "radio",
            "area": communes_of(areas, AN_GIANG)[0],
        },
        headers=admin,
    )
    assert_nul_refused(endpoint, "body.name")
    assert (await client.get("/api/v1/endpoints", headers=admin)).json()["items"] == []


async def test_nul_in_the_login_form_is_refused_and_audited_cleanly(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], areas: object
) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "admin\x00", "password": "whatever-it-is"}
    )
    assert_nul_refused(response, "body.username")
    assert await count_users(sessionmaker) == 0
    audited = await audit_rows(sessionmaker)
    assert [(row.action, row.status) for row in audited] == [("POST /api/v1/auth/token", 422)]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/bulletins?q=ti%00m", "query.q"),
        ("/api/v1/audit?actor=user%00", "query.actor"),
        ("/api/v1/bulletins/ab%00cd", "path"),
        ("/api/v1/users/nul%00name", "path"),
    ],
)
async def test_nul_in_path_or_query_is_refused(
    client: AsyncClient, make_user: MakeUser, url: str, field: str
) -> None:
    admin = await make_user("nul.reader", Role.admin, AN_GIANG)
    assert_nul_refused(await client.get(url, headers=admin), field)


async def test_nul_in_a_path_of_a_change_is_refused_and_audited(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("nul.changer", Role.admin, AN_GIANG)
    before = len(await audit_rows(sessionmaker))
    response = await client.patch(
        "/api/v1/users/nul%00name", json={"full_name": "X"}, headers=admin
    )
    assert_nul_refused(response, "path")
    audited = await audit_rows(sessionmaker)
    assert len(audited) == before + 1
    assert audited[-1].status == 422


async def test_nul_in_a_header_is_refused(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    publisher = await make_user("nul.header", Role.publisher, AN_GIANG)
    response = await client.post(
        "/api/v1/bulletins",
        json=a_bulletin(),
        headers={**publisher, "Idempotency-Key": "retry\x00one"},
    )
    assert_nul_refused(response, "header.idempotency-key")
    assert await bulletin_count(sessionmaker) == 0
    keyed = await client.get("/api/v1/bulletins", headers={"X-Api-Key": "ngn_\x00_x"})
    assert_nul_refused(keyed, "header.x-api-key")


# --- integers past 64 bits, instants past the calendar ---------------------------------------

HUGE = str(2**70)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/users?offset={HUGE}", "query.offset"),
        (f"/api/v1/keys?offset={HUGE}", "query.offset"),
        (f"/api/v1/endpoints?offset={HUGE}", "query.offset"),
        (f"/api/v1/audit?before_id={HUGE}", "query.before_id"),
    ],
)
async def test_integers_past_64_bits_are_refused(
    client: AsyncClient, make_user: MakeUser, url: str, field: str
) -> None:
    admin = await make_user("big.admin", Role.admin, AN_GIANG)
    response = await client.get(url, headers=admin)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert error["message"].startswith("must be an integer ")


async def test_huge_integer_in_a_path_is_refused(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("big.revoker", Role.admin, AN_GIANG)
    response = await client.delete(f"/api/v1/keys/{HUGE}", headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "path.key_id"
    assert (await audit_rows(sessionmaker))[-1].status == 422


async def test_token_with_a_huge_subject_is_invalid(
    client: AsyncClient, make_user: MakeUser
) -> None:
    await make_user("big.subject", Role.admin, AN_GIANG)
    now = datetime.now(UTC)
    forged = jwt.encode(
        {
            "sub": HUGE,
            "ver": 1,
            "iss": "nguon",
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=5)).timestamp()),
        },
        TEST_SECRET,
        algorithm="HS256",
    )
    response = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == "The access token is not valid."


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z"])
async def test_instants_at_the_ends_of_the_calendar_are_refused(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord], at: str
) -> None:
    commune = communes_of(areas, AN_GIANG)[0]
    admin = await make_user("calendar.admin", Role.admin, AN_GIANG)
    created = await client.post(
        "/api/v1/endpoints",
        json={"code": "AG-CAL-RADIO", "name": "Loa", "kind": "radio", "area": commune},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    for url in (
        f"/api/v1/communes/{commune}/queue",
        "/api/v1/endpoints/AG-CAL-RADIO/playlist",
    ):
        response = await client.get(url, params={"at": at}, headers=admin)
        assert response.status_code == 422, (url, response.text)
        [error] = response.json()["errors"]
        assert error["field"] == "query.at"
        assert error["message"] == "must be an instant from 1970-01-01 to 9000-01-01 (UTC)"


async def test_a_schedule_past_the_calendar_is_refused(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    publisher = await make_user("calendar.publisher", Role.publisher, AN_GIANG)
    response = await client.post(
        "/api/v1/bulletins",
        json=a_bulletin(valid_until="9999-12-31T23:59:59+14:00"),
        headers=publisher,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.valid_until"
    assert await bulletin_count(sessionmaker) == 0


# --- validation details in words ------------------------------------------------------------


async def test_details_say_what_is_expected_in_words(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await make_user("words.admin", Role.admin, AN_GIANG)
    response = await client.post(
        "/api/v1/endpoints",
        json={"code": "AG-WORDS-1", "name": "x" * 201, "kind": "siren", "area": "123"},
        headers=admin,
    )
    assert response.status_code == 422
    messages = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert messages == {
        "body.name": "must be at most 200 characters",
        "body.kind": "must be one of 'radio' or 'display'",
        "body.area": "must be 5 digits",
    }
    assert "^" not in response.json()["detail"]
    missing = await client.post("/api/v1/keys", json={"role": "viewer"}, headers=admin)
    assert {e["field"]: e["message"] for e in missing.json()["errors"]} == {
        "body.name": "is required",
        "body.area": "is required",
    }
    out_of_range = await client.get("/api/v1/users?limit=0", headers=admin)
    assert out_of_range.json()["errors"][0]["message"] == "must be an integer from 1 to 500"


# --- every route, including those still to come -------------------------------------------


def route_parameters(app: FastAPI) -> Iterator[tuple[str, ModelField]]:
    def walk(dependant: Dependant) -> Iterator[ModelField]:
        yield from dependant.path_params
        yield from dependant.query_params
        yield from dependant.header_params
        for dependency in dependant.dependencies:
            yield from walk(dependency)

    routes = [route for route in api_routes(app) if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        for param in walk(route.dependant):
            yield f"{sorted(route.methods)} {route.path} {param.alias}", param


def test_every_integer_and_instant_parameter_is_bounded(app: FastAPI) -> None:
    """A parameter that took any integer or any instant would reach the database or the slot
    arithmetic with a value neither can take."""
    unbounded = []
    for name, param in route_parameters(app):
        for value in (str(2**70), "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00Z"):
            accepted, errors = param.validate(value)
            if not errors and isinstance(accepted, int | datetime):
                unbounded.append((name, value))
    assert unbounded == []


def test_every_pattern_is_said_in_words(app: FastAPI) -> None:
    def patterns(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    yield value
                else:
                    yield from patterns(value)
        elif isinstance(node, list):
            for item in node:
                yield from patterns(item)

    found = set(patterns(app.openapi()))
    assert found
    assert {regex for regex in found if pattern_words(regex) is None} == set()


async def test_a_language_tag_longer_than_its_column_is_refused_on_create_and_edit(
    client: AsyncClient, make_user: MakeUser, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A tag of the right shape but past the 35 characters the column holds (and RFC 5646
    asks every implementation to take): PostgreSQL refused it with a 500, SQLite stored it."""
    editor = await make_user("long.language", Role.editor, AN_GIANG)
    long_tag = "tix-TU-I0jQht0G-80o-LFQ5Pg-6Ph-eNX6k-YDjtqfww"
    created = await client.post(
        "/api/v1/bulletins", json=a_bulletin(language=long_tag), headers=editor
    )
    assert created.status_code == 422, created.text
    assert created.json()["errors"][0]["field"] == "body.language"
    assert await bulletin_count(sessionmaker) == 0

    stored = await client.post("/api/v1/bulletins", json=a_bulletin(), headers=editor)
    assert stored.status_code == 201, stored.text
    edited = await client.patch(
        f"/api/v1/bulletins/{stored.json()['id']}", json={"language": long_tag}, headers=editor
    )
    assert edited.status_code == 422, edited.text
    assert "at most 35 characters" in edited.json()["detail"]
    again = await client.get(f"/api/v1/bulletins/{stored.json()['id']}", headers=editor)
    assert again.json()["language"] == "vi"


async def test_a_value_postgresql_cannot_store_is_told_apart_from_an_outage(
    engine: AsyncEngine, backend: str
) -> None:
    """The net under validation: PostgreSQL's data exceptions (SQLSTATE class 22) are the
    input's fault (422), not the database being away (503) nor a race lost (409)."""
    if backend != "postgresql":
        pytest.skip("SQLite stores what it is given and raises no data exceptions")
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError) as refused:
            await connection.execute(text("SELECT CAST('not a number' AS INTEGER)"))
    assert unstorable_value(refused.value)
    assert not database_away_or_busy(refused.value)
    assert not conflicting_write(refused.value)
