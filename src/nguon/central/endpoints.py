from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, Response

from nguon.bulletins.endpoints import BulletinIdPath
from nguon.central.cap import CapAlert, CapError, parse_json, parse_xml, to_xml
from nguon.central.export import CapExport
from nguon.central.models import CentralAlert
from nguon.central.refusals import SchemaInvalid
from nguon.central.service import CentralService, check_signature
from nguon.identity.access import Access, AnyPrincipal
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.errors import UnsupportedMedia
from nguon.kit.schemas import ResponseModel
from nguon.media.endpoints import Media
from nguon.media.endpoints import router as media_router
from nguon.unit_of_work import Session

router = APIRouter(prefix="/api/v1/central", tags=["central"])
# Emergencies going the other way: a bulletin of the hub, written out as CAP.
bulletin_cap_router = APIRouter(prefix="/api/v1/bulletins", tags=["central"])
CENTRAL = Access(Role.central)

CAP_XML = "application/cap+xml"
XML_TYPES = frozenset({CAP_XML, "application/xml", "text/xml"})
JSON_TYPE = "application/json"

DESCRIPTION = """\
An OASIS CAP 1.2 message from the central source system, as XML (`application/cap+xml` or
`application/xml`, validated against the OASIS schema) or as the same content in JSON
(`application/json`, CAP's element names as field names, repeated elements as arrays).

Send the `central` role's API key in `X-Api-Key`, `X-Timestamp` (Unix seconds, within 5 minutes
of the hub's clock) and `X-Signature`: the hex HMAC-SHA256, keyed with the API key, of
`X-Timestamp + "." + body`. A signature is accepted once.

`Alert` puts one emergency bulletin per `info` on air at once, everywhere its `area` reaches
(`VN-ADMIN` geocodes naming administrative units, other schemes being ignored; polygons and
circles selecting endpoints by their GPS position; no area means the whole province). An alert
that would reach no endpoint is refused. An `info` with audio `resource`s (inline in `derefUri`,
or by `uri` from a host the province allows) also puts an audio bulletin on air for radios.
`Update` supersedes what is on air from the alerts it `references` (from any message of their
chain), `Cancel` takes it off the air, even when their own `expires` has passed. Only scope
`Public` is taken. `Test` and `Exercise` are broadcast marked as exercises. The answers, each
with its own `answer` value, are listed in the README.
"""


class AlertRead(ResponseModel):
    sender: str
    identifier: str
    sent: str
    msg_type: str
    status: str
    references: list[str]
    expires_at: datetime | None
    bulletins: list[str]
    received_at: datetime


class AlertAnswer(ResponseModel):
    answer: Literal["accepted", "duplicate"]
    alert: AlertRead
    # Bulletins an Update or Cancel took off the air.
    ended: list[str]


def _read(alert: CentralAlert) -> AlertRead:
    return AlertRead(
        sender=alert.sender,
        identifier=alert.identifier,
        sent=alert.sent_text,
        msg_type=alert.msg_type,
        status=alert.status,
        references=alert.references,
        expires_at=alert.expires_at,
        bulletins=alert.bulletin_ids,
        received_at=alert.received_at,
    )


def _parse(content_type: str, body: bytes) -> CapAlert:
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        if media_type in XML_TYPES:
            return parse_xml(body)
        if media_type == JSON_TYPE:
            return parse_json(body)
    except CapError as error:
        raise SchemaInvalid(str(error)) from error
    raise UnsupportedMedia(
        f"Content-Type {media_type or '(none)'!r} is not CAP; send application/cap+xml, "
        "application/xml or application/json."
    )


@router.post(
    "/alerts",
    summary="Take an emergency (CAP 1.2) from the central system",
    description=DESCRIPTION,
    status_code=201,
    response_model=AlertAnswer,
    responses={
        200: {"description": "`duplicate`: the same sender, identifier and sent as before"},
        201: {"description": "`accepted`"},
        400: {"description": "Not valid CAP 1.2 (`schema-invalid`)"},
        401: {"description": "Bad signature, or a timestamp out of range"},
        409: {"description": "A signature seen before (`replayed`)"},
        413: {"description": "The message is larger than the hub takes"},
        415: {"description": "Not CAP XML"},
        422: {"description": "A refusal: `answer` names it (see the README's table)"},
    },
)
async def receive_alert(
    request: Request,
    response: Response,
    session: Session,
    media: Media,
    actor: Annotated[Principal, Depends(CENTRAL)],
    x_timestamp: Annotated[str | None, Header(description="Unix seconds")] = None,
    x_signature: Annotated[str | None, Header(description="hex HMAC-SHA256")] = None,
) -> AlertAnswer:
    now = utcnow()
    body = await request.body()
    # The central role is only ever given to API keys: the key is the signing secret.
    check_signature(request.headers.get("X-Api-Key", ""), x_timestamp, x_signature, body, now)
    service = CentralService(session, media, request.app.state.speech)
    await service.use_signature(x_signature or "", now)
    message = _parse(request.headers.get("Content-Type", ""), body)
    received = await service.receive(actor, message, now)
    request.state.audit_target = f"{message.sender},{message.identifier},{message.sent_text}"
    if received.duplicate:
        response.status_code = 200
    return AlertAnswer(
        answer="duplicate" if received.duplicate else "accepted",
        alert=_read(received.alert),
        ended=received.ended,
    )


EXPORT_DESCRIPTION = """\
An emergency bulletin as an OASIS CAP 1.2 message, valid against the OASIS schema: what went on
air last (the latest approved revision), with one `info` per language variant (a translation
exports its original with all its variants). `identifier` is `<bulletin id>.<revision>`; a later
revision is an `Update` referencing the one before, a revoked bulletin a `Cancel`. Areas are
`VN-ADMIN` geocodes of the targeted units and zero-radius circles at targeted endpoints; media are
`resource`s whose `uri` is the hub's media route. Readable by whoever may read the bulletin.
"""


@bulletin_cap_router.get(
    "/{bulletin_id}/cap",
    summary="An emergency bulletin as CAP 1.2 XML",
    description=EXPORT_DESCRIPTION,
    response_class=Response,
    responses={
        200: {
            "description": "The CAP 1.2 message",
            "content": {CAP_XML: {"schema": {"type": "string"}}},
        },
        404: {"description": "No such bulletin visible to you"},
        409: {"description": "Not an emergency (`priority` says what it is), or never approved"},
    },
)
async def bulletin_as_cap(
    bulletin_id: BulletinIdPath, request: Request, session: Session, actor: AnyPrincipal
) -> Response:
    media_url = str(request.base_url).rstrip("/") + media_router.prefix
    alert = await CapExport(session).alert(actor, bulletin_id, media_url)
    return Response(to_xml(alert), media_type=CAP_XML)
