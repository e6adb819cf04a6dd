"""Typed errors raised by services; the HTTP layer renders each as RFC 9457 problem+json."""

from typing import Any, ClassVar

PROBLEM_BASE = "urn:nguon:problem:"


class NguonError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"
    # Errors that must not undo what the request wrote (a failed sign-in keeps its count).
    commit_changes: ClassVar[bool] = False

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class InvalidInput(NguonError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class MalformedBody(NguonError):
    status = 400
    slug = "malformed-body"
    title = "Malformed request body"


class Unauthenticated(NguonError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(NguonError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(NguonError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(NguonError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class UnsupportedMedia(NguonError):
    status = 415
    slug = "unsupported-media"
    title = "Unsupported media"


class CorruptMedia(NguonError):
    status = 422
    slug = "corrupt-media"
    title = "Corrupt media"


class PayloadTooLarge(NguonError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class Unavailable(NguonError):
    """A part the hub needs from the machine is missing: the request is fine, the host is not."""

    status = 503
    slug = "unavailable"
    title = "Service unavailable"
