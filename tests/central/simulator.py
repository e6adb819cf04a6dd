"""The central source system, simulated: it writes CAP 1.2 messages and sends them to the hub
signed as the README documents."""

import base64
import hashlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from httpx import AsyncClient, Response

from nguon.kit.signing import sign

SENDER = "canhbao@ttnguon.gov.vn"
ALERTS = "/api/v1/central/alerts"
_numbers = itertools.count(1)


VIETNAM = timezone(timedelta(hours=7))


def cap_time(moment: datetime) -> str:
    """CAP's dateTime: whole seconds, and an offset rather than Z (here Vietnam's, +07:00)."""
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Resource:
    """A CAP `resource`: the audio inline in `deref_uri` (base64) or at `uri`."""

    description: str = "Bản tin cảnh báo đọc sẵn"
    mime_type: str = "audio/mpeg"
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None

    def xml(self) -> str:
        optional = (
            ("size", self.size),
            ("uri", self.uri),
            ("derefUri", self.deref_uri),
            ("digest", self.digest),
        )
        return (
            f"<resource><resourceDesc>{escape(self.description)}</resourceDesc>"
            f"<mimeType>{self.mime_type}</mimeType>"
            + "".join(f"<{n}>{escape(str(v))}</{n}>" for n, v in optional if v is not None)
            + "</resource>"
        )


def cap_digest(content: bytes) -> str:
    """CAP 1.2's `digest`: the SHA-1 of the content, in hex."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def inline(content: bytes, **fields: Any) -> Resource:
    """The content in the message itself, with its size and digest."""
    fields = {"size": len(content), "digest": cap_digest(content), **fields}
    return Resource(deref_uri=base64.b64encode(content).decode(), **fields)


def linked(uri: str, content: bytes, **fields: Any) -> Resource:
    """The content at `uri`, with its size and digest."""
    fields = {"size": len(content), "digest": cap_digest(content), **fields}
    return Resource(uri=uri, **fields)


@dataclass(frozen=True)
class Info:
    headline: str = "Cảnh báo lũ quét khẩn cấp"
    description: str = "Mưa lớn gây lũ quét trên các suối nhỏ."
    instruction: str = "Người dân di chuyển đến nơi an toàn."
    language: str = "vi-VN"
    expires: datetime | None = None
    geocodes: Sequence[str] = ()
    polygons: Sequence[str] = ()
    circles: Sequence[str] = ()
    # Geocodes of schemes other than the hub's VN-ADMIN, as (valueName, value).
    foreign_geocodes: Sequence[tuple[str, str]] = ()
    resources: Sequence[Resource] = ()

    def xml(self) -> str:
        expires = f"<expires>{cap_time(self.expires)}</expires>" if self.expires else ""
        area = ""
        if self.geocodes or self.polygons or self.circles or self.foreign_geocodes:
            shapes = "".join(f"<polygon>{p}</polygon>" for p in self.polygons)
            shapes += "".join(f"<circle>{c}</circle>" for c in self.circles)
            geocodes = [("VN-ADMIN", code) for code in self.geocodes]
            shapes += "".join(
                f"<geocode><valueName>{name}</valueName><value>{value}</value></geocode>"
                for name, value in (*self.foreign_geocodes, *geocodes)
            )
            area = f"<area><areaDesc>Vùng cảnh báo</areaDesc>{shapes}</area>"
        return (
            f"<info><language>{self.language}</language><category>Met</category>"
            "<event>Lũ quét</event><urgency>Immediate</urgency><severity>Extreme</severity>"
            f"<certainty>Observed</certainty>{expires}<senderName>Trung tâm nguồn</senderName>"
            f"<headline>{escape(self.headline)}</headline>"
            f"<description>{escape(self.description)}</description>"
            f"<instruction>{escape(self.instruction)}</instruction>"
            + "".join(resource.xml() for resource in self.resources)
            + f"{area}</info>"
        )


@dataclass(frozen=True)
class Message:
    identifier: str
    sent: str
    msg_type: str = "Alert"
    status: str = "Actual"
    references: Sequence["Message"] = ()
    infos: Sequence[Info] = (Info(),)
    sender: str = SENDER
    scope: str = "Public"

    @property
    def reference(self) -> str:
        return f"{self.sender},{self.identifier},{self.sent}"

    def xml(self) -> bytes:
        references = (
            f"<references>{' '.join(m.reference for m in self.references)}</references>"
            if self.references
            else ""
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            f"<identifier>{self.identifier}</identifier><sender>{self.sender}</sender>"
            f"<sent>{self.sent}</sent><status>{self.status}</status>"
            f"<msgType>{self.msg_type}</msgType><scope>{self.scope}</scope>{references}"
            + "".join(info.xml() for info in self.infos)
            + "</alert>"
        ).encode()


def message(**fields: Any) -> Message:
    """A new message, with its own identifier and the current time as `sent`."""
    number = next(_numbers)
    return Message(identifier=f"VN-TTN-{number:06d}", sent=cap_time(datetime.now(UTC)), **fields)


def in_hours(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


class CentralSystem:
    """Sends messages to a hub with a `central` key, signing each request."""

    def __init__(self, client: AsyncClient, key: str) -> None:
        self.client = client
        self.key = key
        self._last_timestamp = 0

    def headers(
        self, body: bytes, content_type: str = "application/cap+xml", at: float | None = None
    ) -> dict[str, str]:
        if at is None:
            # Each request is signed anew: a resend within the same second would otherwise
            # carry the same signature, which the hub refuses as a replay.
            timestamp = self._last_timestamp = max(int(time.time()), self._last_timestamp + 1)
        else:
            timestamp = int(at)
        return {
            "X-Api-Key": self.key,
            "X-Timestamp": str(timestamp),
            "X-Signature": sign(self.key, timestamp, body),
            "Content-Type": content_type,
        }

    async def send(self, sent: Message) -> Response:
        body = sent.xml()
        return await self.client.post(ALERTS, content=body, headers=self.headers(body))

    async def post(self, body: bytes, headers: dict[str, str]) -> Response:
        return await self.client.post(ALERTS, content=body, headers=headers)
