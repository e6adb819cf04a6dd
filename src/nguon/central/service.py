"""Emergencies ordered by the central source system (CAP 1.2), taken in and put on air at once.

What the hub refuses, and the answer each refusal gives, is `nguon.central.refusals`.
"""

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.repository import AreaRepository
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.bulletins.models import Bulletin
from nguon.bulletins.schemas import BulletinCreate
from nguon.bulletins.service import BulletinService
from nguon.central.cap import CapAlert, CapArea, CapGeocode, CapInfo, CapReference
from nguon.central.export import GEOCODE_NAME
from nguon.central.geometry import in_circle, in_polygon
from nguon.central.models import CentralAlert
from nguon.central.refusals import (
    AlertExpired,
    AreaOutsideProvince,
    NoEndpoint,
    NotActionable,
    NotPublic,
    ReferenceExpired,
    ReferenceMissing,
    SchemaInvalid,
    SignatureInvalid,
    SignatureReplayed,
    TimestampOutOfRange,
)
from nguon.central.repository import CentralRepository
from nguon.central.resources import AudioResources, audio_resources
from nguon.dispatch.repository import DeliveryRepository
from nguon.identity.principal import Principal
from nguon.kit.signing import is_fresh, sign
from nguon.media.service import MediaService
from nguon.speech.service import Speech

# X-Timestamp may be this far from the hub's clock either way.
TIMESTAMP_TOLERANCE = timedelta(minutes=5)
# How long an alert whose infos give no `expires` stays on air.
DEFAULT_ALERT_VALIDITY = timedelta(hours=24)
TITLE_LENGTH = 300
BODY_LENGTH = 20_000

# CAP message types and statuses the hub acts on; the others (Ack, Error; System, Draft) are
# for systems, not for loudspeakers.
ACTIONABLE_TYPES = frozenset({"Alert", "Update", "Cancel"})
ACTIONABLE_STATUSES = frozenset({"Actual", "Exercise", "Test"})
EXERCISE_STATUSES = frozenset({"Exercise", "Test"})
# The only CAP scope the hub's endpoints (public loudspeakers and displays) may carry.
PUBLIC_SCOPE = "Public"
# The geocode schemes (valueName, exactly) the hub reads; feeds carry others beside them (SAME,
# UGC, FIPS6, WARNCELLID...), whose values may look like the hub's codes but name other places.
HUB_GEOCODES = frozenset({GEOCODE_NAME})
WHAT_THE_HUB_READS = (
    f"the hub targets by geocodes of valueName {', '.join(sorted(HUB_GEOCODES))} "
    "(administrative unit codes), polygons and circles; an areaDesc alone, or geocodes of "
    "other schemes, name no place it knows"
)
# CAP categories that are not natural or technical hazards; the rest are disasters (Điều 6).
CATEGORY_OF = {"Security": Category.security_order, "Other": Category.access_to_information}


def check_signature(
    key: str, timestamp: str | None, signature: str | None, body: bytes, now: datetime
) -> None:
    """The central system signs with its API key: hex HMAC-SHA256 of `<timestamp>.<body>`."""
    if not timestamp or not signature:
        raise SignatureInvalid("Send X-Timestamp (Unix seconds) and X-Signature.")
    if not is_fresh(timestamp, TIMESTAMP_TOLERANCE.total_seconds(), now.timestamp()):
        raise TimestampOutOfRange(
            f"X-Timestamp {timestamp!r} is not Unix seconds within "
            f"{int(TIMESTAMP_TOLERANCE.total_seconds())} s of the hub's clock "
            f"({int(now.timestamp())})."
        )
    if not hmac.compare_digest(sign(key, int(timestamp), body), signature.lower()):
        raise SignatureInvalid(
            "X-Signature is not the hex HMAC-SHA256, keyed with the API key, of "
            "X-Timestamp + '.' + the body as sent."
        )


@dataclass(frozen=True, slots=True)
class Received:
    alert: CentralAlert
    duplicate: bool
    ended: list[str]  # bulletins an Update or Cancel took off the air


class CentralService:
    def __init__(self, session: AsyncSession, media: MediaService, speech: Speech) -> None:
        self.repository = CentralRepository(session)
        self.bulletins = BulletinService(session, speech)
        self.areas = AreaRepository(session)
        self.deliveries = DeliveryRepository(session)
        self.audio = AudioResources(media)

    async def use_signature(self, signature: str, now: datetime) -> None:
        await self.repository.forget_signatures(now - 2 * TIMESTAMP_TOLERANCE)
        if not await self.repository.use_signature(signature.lower(), now):
            raise SignatureReplayed("This signature was used before; sign each request anew.")

    async def receive(self, actor: Principal, message: CapAlert, now: datetime) -> Received:
        known = await self.repository.alert(message.sender, message.identifier, message.sent_text)
        if known is not None:
            return Received(known, duplicate=True, ended=[])
        if message.msg_type not in ACTIONABLE_TYPES or message.status not in ACTIONABLE_STATUSES:
            raise NotActionable(
                f"A {message.status} {message.msg_type} message is not broadcast; the hub acts "
                "on Alert, Update and Cancel with status Actual, Exercise or Test."
            )
        if message.scope != PUBLIC_SCOPE:
            raise NotPublic(
                f"A {message.scope} message is for a closed audience; the hub's endpoints are "
                "public loudspeakers and displays, and take scope Public only."
            )
        superseded = await self._referenced(message, now) if message.msg_type != "Alert" else []
        if message.msg_type == "Alert" and message.references:
            raise SchemaInvalid("An Alert references nothing; send an Update or a Cancel.")
        bulletins: list[Bulletin] = []
        expires: datetime | None = None
        if message.msg_type != "Cancel":
            bulletins, expires = await self._put_on_air(actor, message, now)
        record = CentralAlert(
            sender=message.sender,
            identifier=message.identifier,
            sent_text=message.sent_text,
            sent=message.sent,
            msg_type=message.msg_type,
            status=message.status,
            references=[_reference_text(r) for r in message.references],
            expires_at=expires,
            bulletin_ids=[b.id for b in bulletins],
            key_id=actor.id,
            received_at=now,
        )
        await self.repository.add(record)
        verb = "superseded by" if message.msg_type == "Update" else "cancelled by"
        ended: list[str] = []
        for latest in superseded:
            latest.ended_by_id = record.id
            ended += await self._take_off_air(
                actor, latest, f"{verb} CAP {message.msg_type} {message.identifier}"
            )
        return Received(record, duplicate=False, ended=ended)

    async def _referenced(self, message: CapAlert, now: datetime) -> list[CentralAlert]:
        """What the referenced messages' chains have on air now: a chain (an alert and the
        Updates that followed it) is concerned whichever of its messages is referenced."""
        if not message.references:
            raise ReferenceMissing(f"A {message.msg_type} must reference the alert it concerns.")
        latest: dict[int, CentralAlert] = {}
        for reference in message.references:
            found = await self.repository.alert(
                reference.sender, reference.identifier, reference.sent
            )
            if found is None:
                raise ReferenceMissing(
                    f"No alert {_reference_text(reference)!r} was received; nothing to "
                    f"{message.msg_type.lower()}."
                )
            current = await self.repository.latest_of_chain(found)
            if current.expires_at is not None and current.expires_at <= now:
                latest_of = (
                    "" if current is found else f" (as {current.msg_type} {current.identifier})"
                )
                raise ReferenceExpired(
                    f"Alert {_reference_text(reference)!r} expired at "
                    f"{current.expires_at.isoformat()}{latest_of}; it is off the air already."
                )
            latest[current.id] = current
        return list(latest.values())

    async def _take_off_air(self, actor: Principal, alert: CentralAlert, reason: str) -> list[str]:
        ended = []
        for bulletin_id in alert.bulletin_ids:
            bulletin = await self.bulletins.repository.get(bulletin_id)
            if bulletin is not None and bulletin.on_air_revision is not None:
                await self.bulletins.revoke(actor, bulletin_id, reason)
                ended.append(bulletin_id)
        return ended

    async def _put_on_air(
        self, actor: Principal, message: CapAlert, now: datetime
    ) -> tuple[list[Bulletin], datetime]:
        """One emergency text bulletin per info (a language variant each, the later ones
        translations of the first), and beside it an audio bulletin when the info carries
        audio; returns them and when the last of them expires.

        An Update's infos that have expired already do not go on air: that is how a warning
        centre ends an alert with an Update, and the Update still ends what it supersedes. An
        info whose areas the hub reads none of goes on air nowhere; the others still do, and
        a message that would sound nowhere at all is refused."""
        if not message.infos:
            raise NotActionable(f"The {message.msg_type} has no info: nothing to broadcast.")
        variants = []
        expiries = []
        unread: list[str] = []
        for number, info in enumerate(message.infos):
            until = info.expires or now + DEFAULT_ALERT_VALIDITY
            expiries.append(until)
            if until <= now:
                if message.msg_type == "Update":
                    continue
                raise AlertExpired(
                    f"info[{number}] expired at {until.isoformat()}; nothing to broadcast."
                )
            targets = await self._targets(actor, info.areas, number)
            if targets:
                variants.append((info, targets, until))
            else:
                unread += [f"info[{number}] {area.area_desc!r}" for area in info.areas]
        if unread and not variants:
            raise NoEndpoint(
                f"No area the hub can read: {', '.join(unread)}; {WHAT_THE_HUB_READS}."
            )
        if not variants:
            return [], max(expiries)
        live_infos = tuple(info for info, _targets, _until in variants)
        audio = await self.audio.take(actor, live_infos)
        try:
            bulletins = await self._broadcast(actor, message, now, variants, audio.media_ids)
            if not await self.deliveries.any_live([b.id for b in bulletins]):
                targeted = sorted({code for _info, targets, _until in variants for code in targets})
                also_unread = f"; the hub could not read {', '.join(unread)}" if unread else ""
                raise NoEndpoint(
                    f"No enabled endpoint in {', '.join(targeted)} plays this alert (radios and "
                    f"displays that speak its languages): it would sound nowhere{also_unread}."
                )
        except BaseException:
            await self.audio.discard(audio.created)
            raise
        return bulletins, max(expiries)

    async def _broadcast(
        self,
        actor: Principal,
        message: CapAlert,
        now: datetime,
        variants: list[tuple[CapInfo, list[str], datetime]],
        audio: list[list[str]],
    ) -> list[Bulletin]:
        bulletins: list[Bulletin] = []
        for (info, targets, until), media in zip(variants, audio, strict=True):
            text = BulletinCreate.model_construct(
                title=_clip(info.headline or info.event, TITLE_LENGTH),
                kind=BulletinKind.text,
                body=_clip(_text_of(info), BODY_LENGTH),
                language=_language(info.language),
                category=CATEGORY_OF.get(info.categories[0], Category.disaster_fire_epidemic)
                if info.categories
                else Category.disaster_fire_epidemic,
                priority=Priority.emergency,
                targets=targets,
                media=[],
                sensitive=False,
                valid_from=info.effective if info.effective and info.effective > now else now,
                valid_until=until,
                schedule=None,
                contributor=_clip(info.sender_name, 200) if info.sender_name else None,
                translation_of=bulletins[0].id if bulletins else None,
            )
            exercise = message.status in EXERCISE_STATUSES
            bulletins.append(
                await self.bulletins.broadcast(
                    actor, text, level=AreaLevel.central, exercise=exercise
                )
            )
            if media:
                # Radios play the audio besides reading the text aloud; displays show the text.
                # It is a variant of the alert's first bulletin, as the other infos are, so
                # that the alert's status and its CAP export include it.
                described = info.headline or audio_resources(info)[0][1].resource_desc
                audio_form = text.model_copy(
                    update={
                        "title": _clip(described, TITLE_LENGTH),
                        "kind": BulletinKind.audio,
                        "media": media,
                        "translation_of": bulletins[0].id,
                    }
                )
                bulletins.append(
                    await self.bulletins.broadcast(
                        actor, audio_form, level=AreaLevel.central, exercise=exercise
                    )
                )
        return bulletins

    async def _targets(
        self, actor: Principal, areas: tuple[CapArea, ...], number: int
    ) -> list[str]:
        """Administrative units named by the hub's geocodes, and the endpoints inside polygons
        and circles; the whole province when the info names no area. Areas with none of these
        are left to the systems that read them: an info that has only such areas targets
        nothing."""
        if not areas:
            return [actor.area.code]
        targets: list[str] = []
        located = None
        for area in areas:
            for geocode in _hub_geocodes(area):
                unit = await self.areas.find_by_code(geocode.value, None)
                if unit is None or not actor.area.contains(unit.path):
                    raise AreaOutsideProvince(
                        f"info[{number}] area {area.area_desc!r}: geocode {geocode.value!r} "
                        f"names no administrative unit of {actor.area.code} ({actor.area.name})."
                    )
                targets.append(unit.code)
            if area.polygons or area.circles:
                if located is None:
                    located = await self.repository.located_endpoints(actor.area.path)
                inside = [
                    code
                    for code, latitude, longitude in located
                    if any(in_polygon((latitude, longitude), ring) for ring in area.polygons)
                    or any(in_circle((latitude, longitude), circle) for circle in area.circles)
                ]
                if not inside:
                    raise AreaOutsideProvince(
                        f"info[{number}] area {area.area_desc!r}: its polygons and circles "
                        f"cover no endpoint of {actor.area.code} ({actor.area.name})."
                    )
                targets += inside
        return list(dict.fromkeys(targets))


def _hub_geocodes(area: CapArea) -> list[CapGeocode]:
    return [geocode for geocode in area.geocodes if geocode.value_name in HUB_GEOCODES]


def _reference_text(reference: CapReference) -> str:
    return f"{reference.sender},{reference.identifier},{reference.sent}"


def _text_of(info: CapInfo) -> str:
    """What a display shows and a radio reads aloud: the description, then the instruction."""
    parts = [info.description, info.instruction]
    return "\n\n".join(part.strip() for part in parts if part and part.strip()) or info.event


def _language(tag: str) -> str:
    """CAP allows any case (`VI-vn`); bulletins keep the primary subtag in lower case."""
    primary, _sep, rest = tag.partition("-")
    return f"{primary.lower()}-{rest}" if rest else primary.lower()


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
