"""The problem answers each route can give, declared in the OpenAPI document once for all routes.

What a route can refuse follows from what it takes and depends on: a guard answers 401 and 403
(`refuses` on the dependency), a path names something that may not exist (404), parameters and
bodies may be invalid (422), a body may be malformed (400) or too large (413), a request sent
again under its `Idempotency-Key` may find the first still in flight (409). Statuses a route
raises itself (a 409 on a conflict, a 415 on a file it does not take) it lists in `responses=`
with a description; this module gives every such answer the one `Problem` schema.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field

from nguon.kit.idempotency import HEADER as IDEMPOTENCY_HEADER
from nguon.kit.problems import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA = "Problem"
# What FastAPI declares for a 422 by itself; every 422 here is a Problem instead.
FASTAPI_VALIDATION_DESCRIPTION = "Validation Error"
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

Dependency = TypeVar("Dependency", bound=Callable[..., Any])


class FieldError(BaseModel):
    field: str = Field(description="Where the input was, e.g. `body.title` or `query.limit`")
    message: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem; some answers carry further members (`answer`, `checks`, ...)."""

    model_config = ConfigDict(extra="allow", title=PROBLEM_SCHEMA)

    type: str = Field(description="`urn:nguon:problem:<slug>`, or `about:blank`")
    title: str
    status: int
    detail: str = Field(description="What went wrong, for a person to act on")
    instance: str | None = Field(default=None, description="The request's path")
    request_id: str | None = Field(default=None, description="The request's X-Request-Id")
    errors: list[FieldError] | None = Field(default=None, description="Each invalid field")


def refuses(answers: Mapping[int, str]) -> Callable[[Dependency], Dependency]:
    """Mark a dependency function with the problem answers it can give to every route using it."""

    def mark(dependency: Dependency) -> Dependency:
        setattr(dependency, "problem_answers", dict(answers))  # noqa: B010 - typed via the TypeVar
        return dependency

    return mark


def _dependency_answers(dependant: Dependant) -> dict[int, str]:
    answers: dict[int, str] = dict(getattr(dependant.call, "problem_answers", {}))
    for sub in dependant.dependencies:
        for status, description in _dependency_answers(sub).items():
            answers.setdefault(status, description)
    return answers


def _has_parameters(dependant: Dependant) -> bool:
    own = dependant.path_params or dependant.query_params or dependant.header_params
    return bool(own or dependant.cookie_params or dependant.body_params) or any(
        _has_parameters(sub) for sub in dependant.dependencies
    )


def _has_path_parameters(dependant: Dependant) -> bool:
    return bool(dependant.path_params) or any(
        _has_path_parameters(sub) for sub in dependant.dependencies
    )


def _has_header(dependant: Dependant, name: str) -> bool:
    return any(param.alias == name for param in dependant.header_params) or any(
        _has_header(sub, name) for sub in dependant.dependencies
    )


def answers_of(route: APIRoute) -> dict[int, str]:
    """The problem statuses the route can answer, with a description of each."""
    answers = _dependency_answers(route.dependant)
    if _has_path_parameters(route.dependant):
        answers[404] = "Nothing at this path is visible to you"
    if route.body_field is not None:
        answers[400] = "The body is malformed (not JSON, or broken multipart)"
        answers[413] = "The body is larger than this route takes"
    if _has_header(route.dependant, IDEMPOTENCY_HEADER):
        answers.setdefault(409, "A request with this Idempotency-Key is being handled right now")
    if _has_parameters(route.dependant):
        answers[422] = "Invalid input; `errors` lists each invalid field"
    return answers


def api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every API route the app serves, as included (with its routers' dependencies)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield cast(APIRoute, context)


def _declare(responses: dict[str, Any], answers: Mapping[int, str]) -> None:
    for code, description in answers.items():
        response = responses.setdefault(str(code), {"description": description})
        if response["description"] == FASTAPI_VALIDATION_DESCRIPTION:
            response["description"] = description
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}}
            }


def declare_problem_answers(app: FastAPI) -> None:
    """Declare, on every operation of the app's document, each problem answer it can give."""
    build = app.openapi

    def openapi_with_problems() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for route in api_routes(app):
                for method in route.methods or ():
                    operation = document["paths"][route.path_format][method.lower()]
                    _declare(operation["responses"], answers_of(route))
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for replaced in FASTAPI_VALIDATION_SCHEMAS:
                schemas.pop(replaced, None)
            problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(problem.pop("$defs", {}))
            schemas[PROBLEM_SCHEMA] = problem
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi_with_problems  # type: ignore[method-assign]
