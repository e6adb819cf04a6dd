"""Every route of the app is guarded: none is reachable without the right role.

The walk covers routes as they are added; a new route without an `Access` guard fails here
unless it is one of the deliberately public ones.
"""

import re
from typing import TypeVar

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient

from nguon.app import ROUTERS
from nguon.areas.sources import AreaRecord
from nguon.console.session import ConsoleAccess
from nguon.console.site import PAGE_ROUTERS
from nguon.identity.access import PUBLIC_PATHS, Access
from nguon.identity.roles import ACTS_AS, ALL_ROLES, KEY_ROLES, USER_ROLES, Role
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    MakeEndpoint,
    MakeKey,
    MakeUser,
    communes_of,
    districts_of,
)
from tests.console.conftest import csrf, sign_in

# Endless answers: an in-process transport waits on them forever.
# Routes whose callers also sign each request (X-Timestamp, X-Signature).
SIGNED = frozenset({"/api/v1/central/alerts"})
ENDLESS = {"/api/v1/device/events"}


Guard = TypeVar("Guard")


def guards_of(dependant: Dependant, kind: type[Guard]) -> list[Guard]:
    """The dependencies of `kind` anywhere in a route's dependency tree."""
    found = [dependant.call] if isinstance(dependant.call, kind) else []
    for sub in dependant.dependencies:
        found += guards_of(sub, kind)
    return found


def guards(dependant: Dependant) -> list[Access]:
    return guards_of(dependant, Access)


def routes_of(routers: tuple[APIRouter, ...]) -> list[APIRoute]:
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def api_routes(app: FastAPI) -> list[APIRoute]:
    routes = routes_of(ROUTERS)
    # The routers are all the app serves: nothing reaches the app another way.
    served = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert served == {(method, route.path) for route in routes for method in route.methods}
    return routes


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)  # names nothing that exists


def test_every_route_but_the_public_ones_has_exactly_one_guard(app: FastAPI) -> None:
    unguarded = []
    for route in api_routes(app):
        found = guards(route.dependant)
        if route.path in PUBLIC_PATHS:
            assert not found, f"{route.path} is public and guarded"
        elif len(found) != 1:
            unguarded.append((route.path, len(found)))
    assert unguarded == []
    assert {r.path for r in api_routes(app) if r.path in PUBLIC_PATHS} == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/auth/token",
    }


async def test_no_route_answers_without_credentials(app: FastAPI, client: AsyncClient) -> None:
    for route in api_routes(app):
        if route.path in PUBLIC_PATHS:
            continue
        for method in route.methods:
            response = await client.request(method, concrete(route.path))
            assert response.status_code == 401, (method, route.path)
            assert response.headers["content-type"] == "application/problem+json"


async def test_each_route_admits_exactly_its_roles(
    app: FastAPI,
    client: AsyncClient,
    make_user: MakeUser,
    make_key: MakeKey,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
) -> None:
    credentials = {}
    for role in sorted(ALL_ROLES):
        if role is Role.endpoint:
            commune = communes_of(areas, AN_GIANG)[0]
            credentials[role] = await make_endpoint("walker-radio", "radio", commune)
        elif role in KEY_ROLES:
            credentials[role] = await make_key(f"key-{role}", role, AN_GIANG)
        else:
            credentials[role] = await make_user(f"walker.{role}", role, AN_GIANG)
    checked = 0
    for route in api_routes(app):
        if route.path in PUBLIC_PATHS:
            continue
        (guard,) = guards(route.dependant)
        for method in route.methods:
            for role, headers in credentials.items():
                admitted = guard.admits(role) or guard.admits(ACTS_AS.get(role, role))
                if admitted and route.path in ENDLESS:
                    continue  # admitted over a real server in tests/push/test_sse.py
                response = await client.request(method, concrete(route.path), headers=headers)
                denied = response.status_code == 403 and "this needs" in response.text
                assert denied != admitted, (method, route.path, role, response.text)
                if admitted and route.path in SIGNED:
                    # Past the role guard, an unsigned request is refused by its signature check.
                    assert response.json()["answer"] == "signature-invalid", response.text
                else:
                    assert response.status_code != 401, (method, route.path, role)
                checked += 1
    assert checked >= len(ALL_ROLES) * 8


# The area half of the check, on real resources: who reads a commune's radio queue (now and at
# another moment), its programme, the commune, and the preview of its radio's playlist. The
# answer depends only on role and area, the same on every backend.
AREA_SCOPED = ("queue", "queue at", "programme", "commune", "preview", "endpoint")
AREA_ANSWERS: dict[str, tuple[int, ...]] = {
    "chair of the commune": (200, 200, 200, 200, 200, 403),
    "chair of the next commune": (403, 403, 403, 403, 403, 403),
    "editor of the province": (200, 200, 200, 200, 200, 200),
    "admin of the province": (200, 200, 200, 200, 200, 200),
    "viewer of the province": (403, 403, 403, 200, 403, 200),
    "editor of another province": (403, 403, 403, 403, 403, 403),
    "admin of another province": (403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("province", [AN_GIANG, LAI_CHAU], ids=["two tiers", "three tiers"])
async def test_area_scoped_reads_answer_by_role_and_area(
    client: AsyncClient,
    make_user: MakeUser,
    make_endpoint: MakeEndpoint,
    areas: list[AreaRecord],
    province: str,
) -> None:
    parent = province if province == AN_GIANG else districts_of(areas, province)[0]
    commune, next_commune = communes_of(areas, parent)[:2]
    await make_endpoint("SCOPE-RADIO", "radio", commune)
    other_province = LAI_CHAU if province == AN_GIANG else AN_GIANG
    people = {
        "chair of the commune": (Role.commune_chair, commune),
        "chair of the next commune": (Role.commune_chair, next_commune),
        "editor of the province": (Role.editor, province),
        "admin of the province": (Role.admin, province),
        "viewer of the province": (Role.viewer, province),
        "editor of another province": (Role.editor, other_province),
        "admin of another province": (Role.admin, other_province),
    }
    paths = (
        f"/api/v1/communes/{commune}/queue",
        f"/api/v1/communes/{commune}/queue?at=2026-12-24T19:30:00%2B07:00",
        f"/api/v1/communes/{commune}/programme",
        f"/api/v1/communes/{commune}",
        "/api/v1/endpoints/SCOPE-RADIO/playlist?at=2026-12-24T19:30:00%2B07:00",
        "/api/v1/endpoints/SCOPE-RADIO",
    )
    # The console's pages of the same queue, programme and preview.
    pages = {
        0: f"/console/commune?code={commune}",
        2: f"/console/programme?code={commune}",
        4: f"/console/preview?code={commune}&endpoint=SCOPE-RADIO&at=2026-12-24T19:30",
    }
    answers, page_answers = {}, {}
    for number, (who, (role, area)) in enumerate(people.items()):
        headers = await make_user(f"scope.{number}", role, area)
        answers[who] = tuple(
            [(await client.get(path, headers=headers)).status_code for path in paths]
        )
        assert (await sign_in(client, f"scope.{number}")).status_code == 303
        page_answers[who] = {
            column: (await client.get(page)).status_code for column, page in pages.items()
        }
    assert answers == AREA_ANSWERS
    assert page_answers == {
        who: {column: answer[column] for column in pages} for who, answer in AREA_ANSWERS.items()
    }


# --- the console: the same guards, met through a session cookie ----------------------------

# Pages anyone may open: the way in, and the choice of language.
PUBLIC_PAGES = {
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
    ("POST", "/console/language"),
}


def console_guards(dependant: Dependant) -> list[ConsoleAccess]:
    return guards_of(dependant, ConsoleAccess)


def console_routes() -> list[tuple[str, APIRoute]]:
    return [
        (method, route) for route in routes_of(PAGE_ROUTERS) for method in sorted(route.methods)
    ]


def test_every_console_page_but_the_way_in_has_exactly_one_guard() -> None:
    unguarded = []
    for method, route in console_routes():
        found = console_guards(route.dependant)
        if (method, route.path) in PUBLIC_PAGES:
            assert not found, f"{method} {route.path} is public and guarded"
        elif len(found) != 1:
            unguarded.append((method, route.path, len(found)))
    assert unguarded == []
    # No page has a guard of its own making: each is an `Access` object the API also uses, or
    # the one that admits every person.
    api_guards = {id(guard) for route in routes_of(ROUTERS) for guard in guards(route.dependant)}
    for _method, route in console_routes():
        for found in console_guards(route.dependant):
            assert id(found.access) in api_guards or found.access.roles == USER_ROLES, route.path


async def test_no_console_page_opens_without_a_session(client: AsyncClient) -> None:
    token = await csrf(client)
    for method, route in console_routes():
        if (method, route.path) in PUBLIC_PAGES:
            continue
        response = await client.request(
            method, concrete(route.path), headers={"X-CSRF-Token": token}
        )
        assert response.status_code == 303, (method, route.path, response.text)
        assert response.headers["location"].startswith("/console/sign-in?next="), route.path


async def test_each_console_page_admits_exactly_the_roles_of_its_guard(
    app: FastAPI, make_user: MakeUser
) -> None:
    checked = 0
    for role in sorted(USER_ROLES):
        await make_user(f"console.{role}", role, AN_GIANG)
        transport = ASGITransport(app=app)  # type: ignore[arg-type]
        async with AsyncClient(transport=transport, base_url="http://hub.test") as browser:
            assert (await sign_in(browser, f"console.{role}")).status_code == 303
            token = str(browser.cookies["nguon_csrf"])
            for method, route in console_routes():
                if (method, route.path) in PUBLIC_PAGES or route.path == "/console/sign-out":
                    continue  # signing out ends the walk's session; tests/console covers it
                (guard,) = console_guards(route.dependant)
                response = await browser.request(
                    method, concrete(route.path), headers={"X-CSRF-Token": token}
                )
                # The refusal the API gives, in the console's Vietnamese.
                denied = response.status_code == 403 and "việc này cần vai trò" in response.text
                assert denied != guard.access.admits(role), (method, route.path, role)
                assert response.status_code != 303 or "sign-in" not in response.headers.get(
                    "location", ""
                ), (method, route.path, role)
                checked += 1
    assert checked >= len(USER_ROLES) * 30
