"""An action's answer shows the record as stored: its `updated_at` is the one a GET then reads."""

from datetime import datetime

from httpx import AsyncClient, Response

from nguon.areas.sources import AreaRecord
from nguon.identity.roles import Role
from tests.bulletins.test_workflow import act, text_bulletin
from tests.conftest import AN_GIANG, MakeEndpoint, MakeUser, communes_of


def changed_at(response: Response) -> datetime:
    assert response.status_code in (200, 201), response.text
    return datetime.fromisoformat(response.json()["updated_at"])


async def answered_as_stored(
    client: AsyncClient, action: Response, path: str, headers: dict[str, str], before: datetime
) -> None:
    answered = changed_at(action)
    assert answered > before
    assert changed_at(await client.get(path, headers=headers)) == answered


async def test_submit_and_approve_answer_the_new_updated_at(
    client: AsyncClient, make_user: MakeUser, areas: list[AreaRecord]
) -> None:
    publisher = await make_user("ts.publisher", Role.publisher, AN_GIANG)
    editor = await make_user("ts.editor", Role.editor, AN_GIANG)
    created = await client.post(
        "/api/v1/bulletins", json=text_bulletin(AN_GIANG), headers=publisher
    )
    bulletin = created.json()["id"]
    path = f"/api/v1/bulletins/{bulletin}"
    submitted = await act(client, bulletin, "submit", publisher)
    await answered_as_stored(client, submitted, path, publisher, changed_at(created))
    approved = await act(client, bulletin, "approve", editor)
    await answered_as_stored(client, approved, path, editor, changed_at(submitted))


async def test_patch_user_answers_the_new_updated_at(
    client: AsyncClient, make_user: MakeUser
) -> None:
    admin = await make_user("ts.admin", Role.admin, AN_GIANG)
    created = await client.post(
        "/api/v1/users",
        json={"username": "ts.viewer", "password": "long-enough-pw", "role": "viewer",
              "area": AN_GIANG},
        headers=admin,
    )  # fmt: skip
    path = "/api/v1/users/ts.viewer"
    renamed = await client.patch(path, json={"full_name": "Nguyễn Văn A"}, headers=admin)
    await answered_as_stored(client, renamed, path, admin, changed_at(created))


async def test_patch_endpoint_answers_the_new_updated_at(
    client: AsyncClient, make_user: MakeUser, make_endpoint: MakeEndpoint, areas: list[AreaRecord]
) -> None:
    admin = await make_user("ts.admin", Role.admin, AN_GIANG)
    await make_endpoint("TS-RADIO", "radio", communes_of(areas, AN_GIANG)[0])
    path = "/api/v1/endpoints/TS-RADIO"
    before = changed_at(await client.get(path, headers=admin))
    renamed = await client.patch(path, json={"name": "Loa xã"}, headers=admin)
    await answered_as_stored(client, renamed, path, admin, before)
