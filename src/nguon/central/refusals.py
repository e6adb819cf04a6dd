"""Why the hub refuses a message of the central system (CAP 1.2).

Each refusal is its own answer, as IPAWS-OPEN gives them: the central system must be able to
tell a message it should fix from one it should not send again. `answer` names it in both the
success bodies and the problem bodies (whose `status` RFC 9457 reserves for the HTTP code).
"""

from typing import Any, ClassVar

from nguon.kit.errors import NguonError


class CentralRefusal(NguonError):
    # The answer's name, where it is not the problem's slug.
    answer: ClassVar[str | None] = None

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, answer=self.answer or self.slug, **extensions)


class SchemaInvalid(CentralRefusal):
    status, slug, title, answer = 400, "cap-schema-invalid", "Not valid CAP 1.2", "schema-invalid"


class SignatureInvalid(CentralRefusal):
    status, slug, title = 401, "signature-invalid", "Bad signature"


class TimestampOutOfRange(CentralRefusal):
    status, slug, title = 401, "timestamp-out-of-range", "Timestamp out of range"


class SignatureReplayed(CentralRefusal):
    status, slug, title = 409, "signature-replayed", "Replayed"


class ReferenceMissing(CentralRefusal):
    status, slug, title = 422, "reference-missing", "Unknown reference"


class ReferenceExpired(CentralRefusal):
    status, slug, title = 410, "reference-expired", "Reference expired"


class AreaOutsideProvince(CentralRefusal):
    status, slug, title = 422, "area-outside-province", "Area outside the province"


# The hub's endpoints are public loudspeakers and displays: a message for a restricted or
# private audience has no recipient here (as IPAWS passes only Public messages to its public
# channels), and accepting it as a mere record would tell the sender it was handled.
class NotPublic(CentralRefusal):
    status, slug, title = 422, "not-public", "Not for the public"


# An emergency the hub answers as accepted must sound somewhere: an alert whose areas name no
# place the hub can read, or whose places hold no endpoint that plays it, is refused.
class NoEndpoint(CentralRefusal):
    status, slug, title = 422, "no-endpoint", "Reaches no endpoint"


class AlertExpired(CentralRefusal):
    status, slug, title = 422, "alert-expired", "Alert expired"


class NotActionable(CentralRefusal):
    status, slug, title = 422, "not-actionable", "Nothing to broadcast"


class ResourceHostNotAllowed(CentralRefusal):
    status, slug, title = 422, "resource-host-not-allowed", "Resource host not allowed"


# 422 rather than 413: what is too large is a file the hub fetched, not the request.
class ResourceTooLarge(CentralRefusal):
    status, slug, title = 422, "resource-too-large", "Resource too large"


class ResourceDigestMismatch(CentralRefusal):
    status, slug, title = 422, "resource-digest-mismatch", "Resource digest mismatch"


# 502: the hub could not get what the message points at; the same message may succeed later.
class ResourceUnavailable(CentralRefusal):
    status, slug, title = 502, "resource-unavailable", "Resource unavailable"


class ResourceInvalid(CentralRefusal):
    status, slug, title = 422, "resource-invalid", "Resource not usable audio"
