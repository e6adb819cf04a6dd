"""Why the hub refuses a message of the central system (CAP 1.2).

Each refusal is its own answer, as IPAWS-OPEN gives them: the central system must be able to
tell a message it should fix from one it should not send again. `answer` names it in both the
success bodies and the problem bodies (whose `status` RFC 9457 reserves for the HTTP code).
"""

from typing import Any, ClassVar

from nguon.kit.errors import NguonError


class CentralRefusal(NguonError):
    answer: ClassVar[str]

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail, answer=self.answer, **extensions)


class SchemaInvalid(CentralRefusal):
    status, slug, title, answer = 400, "cap-schema-invalid", "Not valid CAP 1.2", "schema-invalid"


class SignatureInvalid(CentralRefusal):
    status, slug, title, answer = 401, "signature-invalid", "Bad signature", "signature-invalid"


class TimestampOutOfRange(CentralRefusal):
    status, slug, title = 401, "timestamp-out-of-range", "Timestamp out of range"
    answer = "timestamp-out-of-range"


class SignatureReplayed(CentralRefusal):
    status, slug, title, answer = 409, "signature-replayed", "Replayed", "signature-replayed"


class ReferenceMissing(CentralRefusal):
    status, slug, title, answer = 422, "reference-missing", "Unknown reference", "reference-missing"


class ReferenceExpired(CentralRefusal):
    status, slug, title, answer = 410, "reference-expired", "Reference expired", "reference-expired"


class AreaOutsideProvince(CentralRefusal):
    status, slug, title = 422, "area-outside-province", "Area outside the province"
    answer = "area-outside-province"


class AlertExpired(CentralRefusal):
    status, slug, title, answer = 422, "alert-expired", "Alert expired", "alert-expired"


class NotActionable(CentralRefusal):
    status, slug, title, answer = 422, "not-actionable", "Nothing to broadcast", "not-actionable"


class ResourceHostNotAllowed(CentralRefusal):
    status, slug, title = 422, "resource-host-not-allowed", "Resource host not allowed"
    answer = "resource-host-not-allowed"


# 422 rather than 413: what is too large is a file the hub fetched, not the request.
class ResourceTooLarge(CentralRefusal):
    status, slug, title = 422, "resource-too-large", "Resource too large"
    answer = "resource-too-large"


class ResourceDigestMismatch(CentralRefusal):
    status, slug, title = 422, "resource-digest-mismatch", "Resource digest mismatch"
    answer = "resource-digest-mismatch"


# 502: the hub could not get what the message points at; the same message may succeed later.
class ResourceUnavailable(CentralRefusal):
    status, slug, title = 502, "resource-unavailable", "Resource unavailable"
    answer = "resource-unavailable"


class ResourceInvalid(CentralRefusal):
    status, slug, title = 422, "resource-invalid", "Resource not usable audio"
    answer = "resource-invalid"
