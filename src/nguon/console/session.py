"""Console sign-in state: a session cookie carrying the same signed token as the API's, and a
CSRF token that every form and htmx request sends back.

The session cookie is HttpOnly and SameSite=Lax, and Secure whenever the request reached the
hub over TLS (directly or through a proxy that says so), so a script cannot read it and another
site cannot send it with a form. The CSRF token is a random value kept in its own cookie; a
state-changing request must repeat it in a form field or header (double submit), which a page of
another origin cannot read.
"""

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nguon.identity.access import Access, Identity
from nguon.identity.principal import Principal
from nguon.identity.roles import USER_ROLES
from nguon.kit.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "nguon_session"
CSRF_COOKIE = "nguon_csrf"
LANGUAGE_COOKIE = "nguon_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignInRequired(Unauthenticated):
    """No session, or one that ended: the console sends the person to the sign-in page."""


class CsrfRefused(Forbidden):
    pass


def csrf_token(request: Request) -> str:
    """The browser's CSRF token, made on its first visit (`remember_csrf` stores it)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return str(token)


def served_over_tls(request: Request) -> bool:
    return request.url.scheme == "https"


def remember_csrf(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token is not None:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=served_over_tls(request),
            path="/console",
        )


async def check_csrf(request: Request) -> None:
    """Refuse a state change that does not repeat the browser's CSRF token."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused(
            "The form is out of date or came from another site; reload the page and try again."
        )


def start_session(request: Request, response: Response, token: str, ttl_seconds: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=served_over_tls(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    request.state.renewed_session = None  # a renewal made on the way in must not outlive it
    response.delete_cookie(SESSION_COOKIE, path="/")


class ConsoleAccess:
    """The console's guard: the signed-in person, admitted by the API's own `Access` rules."""

    def __init__(self, access: Access) -> None:
        # The API route's own guard object, so a page admits exactly whom its route admits.
        self.access = access

    async def __call__(self, request: Request, identity: Identity) -> Principal:
        await check_csrf(request)
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            raise SignInRequired("Sign in to use the console.")
        try:
            principal = await identity.principal_from_token(token)
        except Unauthenticated as error:
            raise SignInRequired(error.detail) from error
        request.state.principal = principal
        self.access.admit(principal)
        if renewed := identity.renewed_token(token):
            renewal = Response()
            start_session(request, renewal, renewed, identity.tokens.ttl_seconds)
            request.state.renewed_session = renewal.headers["set-cookie"]
        return principal


class SessionRenewal:
    """Sends the renewed session cookie `ConsoleAccess` made with whatever the page answers:
    a page, a redirect or a refusal alike."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only console pages renew a session: the devices' polls pass untouched.
        if scope["type"] != "http" or not scope["path"].startswith("/console/"):
            await self.app(scope, receive, send)
            return

        async def send_with_renewal(message: Message) -> None:
            renewed = scope.get("state", {}).get("renewed_session")
            if message["type"] == "http.response.start" and renewed:
                message["headers"] = [
                    *message.get("headers", []),
                    (b"set-cookie", renewed.encode()),
                ]
            await send(message)

        await self.app(scope, receive, send_with_renewal)


SignedIn = Annotated[Principal, Depends(ConsoleAccess(Access(*USER_ROLES)))]
