from pathlib import Path
from typing import Any

from nguon.dispatch.events import COMMAND_EVENT, EndpointEventType
from nguon.identity.access import PUBLIC_PATHS
from nguon.identity.roles import KEY_ROLES, USER_ROLES
from nguon.kit.problems import PROBLEM_MEDIA_TYPE
from nguon.openapi_export import openapi_document, render

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "openapi/openapi.json is stale: run `make openapi`"
    )


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_refusal_is_declared_as_the_one_problem_schema() -> None:
    document = openapi_document()
    problem = {"$ref": "#/components/schemas/Problem"}
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status[0] in "45":
                assert answer["content"] == {PROBLEM_MEDIA_TYPE: {"schema": problem}}, (
                    method,
                    path,
                    status,
                )
    fields = document["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "request_id", "errors"} <= set(fields)
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_each_operation_declares_the_refusals_its_guard_path_and_inputs_give() -> None:
    for method, path, operation in operations(openapi_document()):
        declared = set(operation["responses"])
        if path not in PUBLIC_PATHS:
            assert {"401", "403", "503"} <= declared, (method, path)
        if "{" in path:
            assert "404" in declared, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "422" in declared, (method, path)
    responses = {(m, p): o["responses"] for m, p, o in operations(openapi_document())}
    assert "409" in responses["POST", "/api/v1/users"]
    assert "409" in responses["POST", "/api/v1/bulletins/{bulletin_id}/approve"]
    assert {"413", "415"} <= set(responses["POST", "/api/v1/media"])
    # A retry that finds the first request under its Idempotency-Key still in flight.
    assert "409" in responses["POST", "/api/v1/bulletins"]
    assert "409" in responses["POST", "/api/v1/media"]


def test_role_fields_offer_only_the_roles_their_route_takes() -> None:
    schemas = openapi_document()["components"]["schemas"]
    people = sorted(USER_ROLES)
    assert schemas["UserCreate"]["properties"]["role"]["enum"] == people
    assert schemas["UserUpdate"]["properties"]["role"]["anyOf"][0]["enum"] == people
    assert schemas["KeyCreate"]["properties"]["role"]["enum"] == sorted(KEY_ROLES)


def test_the_device_event_stream_declares_each_event_it_sends() -> None:
    answer = openapi_document()["paths"]["/api/v1/device/events"]["get"]["responses"]["200"]
    event = answer["content"]["text/event-stream"]["schema"]
    assert event["required"] == ["id", "event", "data"]
    # The playlist's events, and the commands (nguon.commands) that ride the same stream.
    assert set(event["properties"]["event"]["enum"]) == {*EndpointEventType, COMMAND_EVENT}
