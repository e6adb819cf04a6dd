"""Every route of the app is guarded: none is reachable without the right role.

The walk covers routes as they are added; a new route without an `Access` guard fails here
unless it is one of the deliberately public ones.
"""

import re

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import AsyncClient

from nguon.app import ROUTERS
from nguon.areas.sources import AreaRecord
from nguon.identity.access import PUBLIC_PATHS, Access
from nguon.identity.roles import ACTS_AS, ALL_ROLES, KEY_ROLES, Role
from tests.conftest import (
    AN_GIANG,
    LAI_CHAU,
    MakeEndpoint,
    MakeKey,
    MakeUser,
    communes_of,
    districts_of,
)

# Endless answers: an in-process transport waits on them forever.
# Routes whose callers also sign each request (X-Timestamp, X-Signature).
SIGNED = frozenset({"/api/v1/central/alerts"})
ENDLESS = {"/api/v1/device/events"}


def guards(dependant: Dependant) -> list[Access]:
    found = [dependant.call] if isinstance(dependant.call, Access) else []
    for sub in dependant.dependencies:
        found += guards(sub)
    return found  # type: ignore[return-value]


def api_routes(app: FastAPI) -> list[APIRoute]:
    routes = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
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
    "chair of the commune": (200, 200, 200, 200, 403, 403),
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
    answers = {}
    for number, (who, (role, area)) in enumerate(people.items()):
        headers = await make_user(f"scope.{number}", role, area)
        answers[who] = tuple(
            [(await client.get(path, headers=headers)).status_code for path in paths]
        )
    assert answers == AREA_ANSWERS
