"""Console pages: sign-in, sign-out, the home page and the language switch.

Pages call the same services as the API and are guarded by the same `Access` rules; a refusal
is shown as a page in the person's language instead of problem+json.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from nguon.console.session import (
    LANGUAGE_COOKIE,
    SignedIn,
    SignInRequired,
    check_csrf,
    end_session,
    served_over_tls,
    start_session,
)
from nguon.console.translations import language_of
from nguon.console.web import render, request_language, translate_detail
from nguon.identity.access import Identity
from nguon.kit.errors import InvalidInput, NguonError
from nguon.kit.problems import field_errors, invalid_fields_detail
from nguon.kit.schemas import FormModel

CONSOLE = "/console"
SIGN_IN_PATH = f"{CONSOLE}/sign-in"
REFUSAL_PAGE = "console_refusal_page"


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: a sign-in link cannot send someone to another site."""
    if target and target.startswith(f"{CONSOLE}/") and not target.startswith("//"):
        return target
    return f"{CONSOLE}/"


def to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"{SIGN_IN_PATH}?next={quote(_safe_next(target), safe='/')}"
    if request.headers.get("HX-Request"):
        # htmx follows redirects inside the page; this tells it to load the sign-in page instead.
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def keep_on_refusal(request: Request, template: str, context: dict[str, Any]) -> None:
    """Show `template` again, with what the person typed, if the action is refused."""
    setattr(request.state, REFUSAL_PAGE, (template, context))


def install_refusal_pages(app: FastAPI) -> None:
    """Console requests are answered with a page (or a sign-in redirect), not problem+json.

    An exception handler, not a wrapper around the route: the request's unit of work must see
    the refusal, so that it is audited with its status and what it wrote is undone.
    """
    answer_for_machines = app.exception_handlers[NguonError]
    answer_fields_for_machines = app.exception_handlers[RequestValidationError]

    def refused(request: Request, detail: str, status: int) -> Response:
        refusal: tuple[str, dict[str, Any]] = getattr(
            request.state, REFUSAL_PAGE, ("refused.html", {})
        )
        template, context = refusal
        return render(request, template, {**context, "error": detail}, status)

    async def answer(request: Request, error: Exception) -> Response:
        if not request.url.path.startswith(f"{CONSOLE}/") or not isinstance(error, NguonError):
            answered = answer_for_machines(request, error)
            return answered if isinstance(answered, Response) else await answered
        if isinstance(error, SignInRequired):
            return to_sign_in(request)
        return refused(
            request, translate_detail(error.detail, request_language(request)), error.status
        )

    async def answer_fields(request: Request, error: Exception) -> Response:
        if not request.url.path.startswith(f"{CONSOLE}/") or not isinstance(
            error, RequestValidationError
        ):
            answered = answer_fields_for_machines(request, error)
            return answered if isinstance(answered, Response) else await answered
        language = request_language(request)
        # The API's wording of each broken rule, in the person's language, under the form's name
        # of the field.
        errors = [
            {
                "field": field["field"].removeprefix("body."),
                "message": translate_detail(field["message"], language),
            }
            for field in field_errors(request, error)
        ]
        return refused(request, translate_detail(invalid_fields_detail(errors), language), 422)

    app.add_exception_handler(NguonError, answer)
    app.add_exception_handler(RequestValidationError, answer_fields)


router = APIRouter(prefix=CONSOLE, include_in_schema=False)


class SignInFields(FormModel):
    username: Annotated[str, Field(max_length=64)] = ""
    password: Annotated[str, Field(max_length=256)] = ""
    next: Annotated[str, Field(max_length=2_000)] = ""


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "") -> Response:
    return render(request, "sign_in.html", {"next": _safe_next(next), "username": ""})


@router.post("/sign-in")
async def sign_in(
    request: Request, identity: Identity, fields: Annotated[SignInFields, Form()]
) -> Response:
    await check_csrf(request)
    request.state.audit_target = f"user:{fields.username.lower()}"
    keep_on_refusal(
        request, "sign_in.html", {"next": _safe_next(fields.next), "username": fields.username}
    )
    if not fields.username or not fields.password:
        raise InvalidInput("Enter your username and password.")
    token, principal = await identity.login(fields.username, fields.password)
    request.state.principal = principal
    response = RedirectResponse(_safe_next(fields.next), status_code=303)
    start_session(request, response, token, identity.tokens.ttl_seconds)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, _person: SignedIn) -> Response:
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    end_session(response)
    return response


@router.get("/")
async def home(request: Request, _person: SignedIn) -> Response:
    return render(request, "home.html")


class LanguageFields(FormModel):
    language: Annotated[str, Field(max_length=8)] = ""
    next: Annotated[str, Field(max_length=2_000)] = ""


@router.post("/language")
async def choose_language(request: Request, fields: Annotated[LanguageFields, Form()]) -> Response:
    await check_csrf(request)
    response = RedirectResponse(_safe_next(fields.next), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language_of(fields.language),
        max_age=365 * 86_400,
        samesite="lax",
        secure=served_over_tls(request),
        path="/",
    )
    return response
