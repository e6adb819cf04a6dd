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

from nguon.console.forms import refused_fields
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
from nguon.kit.problems import fields_in_words, invalid_fields_detail
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
    machine_answers: dict[type[Exception], Any] = {
        kind: app.exception_handlers[kind] for kind in (NguonError, RequestValidationError)
    }

    async def answer(request: Request, error: Exception) -> Response:
        if not request.url.path.startswith(f"{CONSOLE}/"):
            kind = (
                RequestValidationError if isinstance(error, RequestValidationError) else NguonError
            )
            answered = machine_answers[kind](request, error)
            return answered if isinstance(answered, Response) else await answered
        if isinstance(error, RequestValidationError):
            # A form the browser should not have sent (its own checks stop most of these).
            error = refused_fields(fields_in_words(error.errors()))
        assert isinstance(error, NguonError)
        if isinstance(error, SignInRequired):
            return to_sign_in(request)
        language = request_language(request)
        # Each field's refusal in the person's language, for the page to show beside the field.
        # Named as the form names them: `username`, not the request's `body.username`.
        fields = [
            {
                "field": str(field["field"]).rsplit(".", 1)[-1],
                "message": translate_detail(field["message"], language),
            }
            for field in error.extensions.get("errors", [])
        ]
        detail = error.detail if not fields else invalid_fields_detail(fields)
        refusal: tuple[str, dict[str, Any]] = getattr(
            request.state, REFUSAL_PAGE, ("refused.html", {})
        )
        template, context = refusal
        shown = {
            **context,
            "error": translate_detail(detail, language),
            "field_errors": {field["field"]: field["message"] for field in fields},
        }
        return render(request, template, shown, error.status)

    app.add_exception_handler(NguonError, answer)
    app.add_exception_handler(RequestValidationError, answer)


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
    end_session(request, response)
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
