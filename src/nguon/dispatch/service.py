"""The dispatcher: which endpoints a bulletin on air reaches, one delivery each."""

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.repository import AreaRepository
from nguon.bulletins.content import subtitle_files
from nguon.bulletins.models import Bulletin
from nguon.commands.switching import emergency_reaches_switched_off
from nguon.communes.repository import CommuneRepository
from nguon.dispatch.channels import Content, endpoint_kinds_reached, played_by
from nguon.dispatch.events import BulletinNote, EndpointEvents, EndpointEventType, on_air_event
from nguon.dispatch.models import Delivery, DeliveryStatus
from nguon.dispatch.playlist import NO_PROGRAMME, Entry, OnAir, Programme, fold_translations, plan
from nguon.dispatch.repository import DeliveryRepository
from nguon.dispatch.schemas import (
    PlaylistItem,
    PlaylistMedia,
    PlaylistRead,
    PlaylistSubtitle,
    PlaylistTranslation,
    PlaylistWindow,
)
from nguon.dispatch.slots import DAY
from nguon.endpoints.models import Endpoint
from nguon.endpoints.repository import EndpointRepository
from nguon.endpoints.windows import EndpointKind
from nguon.identity.principal import Principal
from nguon.kit.db import utcnow
from nguon.kit.errors import NotFound
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject
from nguon.media.renditions import BROADCAST
from nguon.media.repository import MediaRepository
from nguon.media.subtitles import WEBVTT
from nguon.speech.repository import SpeechRepository


def speaks(languages: list[str], language: str) -> bool:
    """Whether an endpoint with these languages plays the language (by primary subtag: `vi`
    serves `vi-VN`)."""
    wanted = language.split("-", 1)[0].lower()
    return any(own.split("-", 1)[0].lower() == wanted for own in languages)


class Dispatcher:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = DeliveryRepository(session)
        self.areas = AreaRepository(session)
        self.events = EndpointEvents(session)
        self.media = MediaRepository(session)
        self.speech = SpeechRepository(session)

    async def dispatch(self, bulletin: Bulletin) -> None:
        """Record a delivery of the bulletin's on-air revision to every endpoint it reaches,
        idempotently; endpoints no longer reached have theirs revoked. The rows are chosen and
        written by the database: a province-wide emergency is ten thousand deliveries and as
        many events."""
        area_paths: list[str] = []
        endpoint_codes: list[str] = []
        for code in bulletin.targets:
            area = await self.areas.find_by_code(code, None)
            if area is not None:
                area_paths.append(area.path)
            else:
                endpoint_codes.append(code)
        revision = bulletin.on_air_revision or bulletin.revision
        carried = await self.media.many(bulletin.media)
        content = Content.of(bulletin.body, (media.kind for media in carried.values()))
        wanted = await self.repository.reachable_endpoints(
            area_paths,
            endpoint_codes,
            await self._kinds_playing(bulletin.id, revision, content),
            lambda languages: speaks(languages, bulletin.language),
        )
        now = utcnow()
        dropped = await self.repository.revoke_others(
            bulletin.id, wanted, "no longer targeted by the bulletin"
        )
        await self.repository.renew(bulletin.id, revision, wanted, now)
        await self.repository.add_pending(bulletin.id, revision, wanted, now)
        note = BulletinNote.of(bulletin, revision)
        live = self.repository.live_endpoints(bulletin.id)
        await self.events.changed(live, on_air_event(bulletin.priority), note)
        await self.events.changed(dropped, EndpointEventType.revocation, note)

    async def _kinds_playing(
        self, bulletin_id: str, revision: int, content: Content
    ) -> frozenset[EndpointKind]:
        """The endpoint kinds that play the bulletin: radios only what they can sound, a
        recording or the speech of its words once that is ready (never a silent item)."""
        kinds = endpoint_kinds_reached(content)
        if EndpointKind.radio in kinds and not content.has_recording:
            ready = await self.speech.ready_media([(bulletin_id, revision)])
            if not ready.get((bulletin_id, revision)):
                return kinds - {EndpointKind.radio}
        return kinds

    async def withdraw(self, bulletin: Bulletin, status: DeliveryStatus) -> None:
        """End the bulletin's live deliveries (revoked or expired) and tell their endpoints."""
        live = self.repository.live_endpoints(bulletin.id)
        revision = bulletin.on_air_revision or bulletin.revision
        kind = (
            EndpointEventType.revocation
            if status is DeliveryStatus.revoked
            else EndpointEventType.expiry
        )
        await self.events.changed(live, kind, BulletinNote.of(bulletin, revision))
        await self.repository.close_all(bulletin.id, status)

    async def deliveries(
        self, bulletin_id: str
    ) -> tuple[Sequence[tuple[Delivery, Endpoint]], Counter[str]]:
        rows = await self.repository.with_endpoints(bulletin_id)
        return rows, Counter(delivery.status.value for delivery, _endpoint in rows)


@dataclass(frozen=True, slots=True)
class RenderedPlaylist:
    """A playlist as the device receives it: the bytes, their strong ETag, and until when the
    same inputs give the same bytes."""

    endpoint_id: int
    version: int
    etag: str
    body: bytes
    fresh_until: datetime
    bulletin_ids: frozenset[str]


def playlist_etag(version: int, body: bytes) -> str:
    """`"<version>.<digest>"`: the version tells the hub which playlist a device holds."""
    return f'"{version}.{hashlib.sha256(body).hexdigest()[:24]}"'


class PlaylistService:
    def __init__(self, session: AsyncSession) -> None:
        self.deliveries = DeliveryRepository(session)
        self.endpoints = EndpointRepository(session)
        self.communes = CommuneRepository(session)
        self.areas = AreaRepository(session)
        self.media = MediaRepository(session)
        self.speech = SpeechRepository(session)

    async def for_device(self, device: Principal, at: datetime) -> RenderedPlaylist:
        """The calling endpoint's playlist; what it carries counts as sent."""
        endpoint = await self.endpoints.get(device.endpoint_id) if device.endpoint_id else None
        if endpoint is None:
            raise NotFound("This key belongs to no endpoint.")
        rendered = await self.render(endpoint, at)
        await self.deliveries.mark_sent(endpoint.id, rendered.bulletin_ids)
        return rendered

    async def preview(self, actor: Principal, code: str, at: datetime) -> RenderedPlaylist:
        endpoint = await self.endpoints.by_code(code)
        if endpoint is None:
            raise NotFound(f"No endpoint has the code {code!r}.")
        area = await self.areas.get(endpoint.area_id)
        assert area is not None  # areas are never deleted under endpoints (RESTRICT)
        actor.require_within(area, "endpoints")
        return await self.render(endpoint, at)

    async def render(self, endpoint: Endpoint, at: datetime) -> RenderedPlaylist:
        # The version is read before the deliveries: a change committed in between makes the
        # body newer than its version, never older, so a device is never wrongly "current".
        version = endpoint.playlist_version
        on_air: list[OnAir] = []
        if endpoint.enabled:
            rows = await self.deliveries.live_for_endpoint(endpoint.id)
            on_air = [OnAir.of(bulletin, revision) for _d, bulletin, revision in rows]
        if endpoint.switched_off:
            on_air = [bulletin for bulletin in on_air if emergency_reaches_switched_off(bulletin)]
        if endpoint.kind is EndpointKind.display:
            on_air = fold_translations(on_air)
        programme = NO_PROGRAMME
        if endpoint.kind is EndpointKind.radio and on_air:
            programme = Programme(
                slots=await self.communes.programme_slots(endpoint.area_id, at - 8 * DAY),
                chair_positions=await self.communes.chair_positions(endpoint.area_id),
            )
        planned = plan(on_air, endpoint.kind, endpoint.windows, programme, at)
        entries = planned.items + planned.upcoming
        spoken = await self._speech_for_radio(endpoint.kind, entries)
        media = await self.media.many(
            [
                media_id
                for entry in entries
                for media_id in (
                    *entry.on_air.media,
                    *(choice["media"] for choice in entry.on_air.subtitles),
                )
            ]
            + [media_id for ids in spoken.values() for media_id in ids],
            renditions=True,
        )
        body = (
            PlaylistRead(
                endpoint=endpoint.code,
                kind=endpoint.kind,
                version=version,
                window=PlaylistWindow(
                    start=planned.segment.start, end=planned.segment.end, open=planned.segment.on
                ),
                items=[_item(entry, endpoint.kind, media, spoken) for entry in planned.items],
                upcoming=[_item(entry, endpoint.kind, media, spoken) for entry in planned.upcoming],
                switched_off=endpoint.switched_off,
            )
            .model_dump_json()
            .encode()
        )
        return RenderedPlaylist(
            endpoint_id=endpoint.id,
            version=version,
            etag=playlist_etag(version, body),
            body=body,
            fresh_until=planned.fresh_until,
            # A variant shown with its original was given to the display too.
            bulletin_ids=frozenset(
                bulletin.bulletin_id
                for entry in entries
                for bulletin in (entry.on_air, *entry.on_air.translations)
            ),
        )

    async def _speech_for_radio(
        self, kind: EndpointKind, entries: list[Entry]
    ) -> dict[tuple[str, int], list[str]]:
        """The ready speech (media ids) of each revision in a radio's playlist."""
        if kind is not EndpointKind.radio:
            return {}
        revisions = [(entry.bulletin_id, entry.on_air.revision) for entry in entries]
        return await self.speech.ready_media(revisions)


def _item(
    entry: Entry,
    kind: EndpointKind,
    media: dict[str, MediaObject],
    spoken: dict[tuple[str, int], list[str]],
) -> PlaylistItem:
    bulletin = entry.on_air
    carried = [media[i] for i in bulletin.media if i in media]
    played = played_by(kind, Content.of(bulletin.body, (m.kind for m in carried)))
    videos = [m.id for m in carried if m.kind is MediaKind.video]
    speech = spoken.get((bulletin.bulletin_id, bulletin.revision), [])
    return PlaylistItem(
        bulletin_id=bulletin.bulletin_id,
        revision=bulletin.revision,
        priority=bulletin.priority,
        level=bulletin.level,
        origin_area=bulletin.origin_area,
        kind=bulletin.kind,
        language=bulletin.language,
        category=bulletin.category,
        title=bulletin.title,
        body=bulletin.body if played.body else None,
        media=[
            _media(stored, kind, _subtitles(stored, bulletin, videos, media))
            for stored in carried
            if stored.kind in played.media_kinds
        ]
        + [_media(media[i], kind, [], speech=True) for i in speech if i in media],
        slot=entry.slot,
        valid_until=bulletin.valid_until,
        exercise=bulletin.exercise,
        outside_windows=bulletin.outside_windows,
        translations=[
            PlaylistTranslation(
                bulletin_id=variant.bulletin_id,
                revision=variant.revision,
                language=variant.language,
                title=variant.title,
                body=variant.body if played.body else None,
            )
            for variant in bulletin.translations
        ],
    )


def _subtitles(
    video: MediaObject, bulletin: OnAir, videos: list[str], media: dict[str, MediaObject]
) -> list[PlaylistSubtitle]:
    """A video's subtitle tracks: the files the bulletin names for it (as WebVTT), then the
    streams inside it."""
    if video.kind is not MediaKind.video:
        return []
    tracks = []
    for choice in subtitle_files(bulletin.subtitles, video.id, videos):
        stored = media.get(choice["media"])
        if stored is None:
            continue
        webvtt = next((r for r in stored.renditions if r.name == WEBVTT), None)
        url = f"/api/v1/media/{stored.id}" + (f"/{WEBVTT}" if webvtt else "")
        tracks.append(
            PlaylistSubtitle(
                language=choice["language"],
                url=url,
                content_type=webvtt.content_type if webvtt else stored.content_type,
                sha256=webvtt.sha256 if webvtt else stored.sha256,
                stream_index=None,
            )
        )
    tracks += [
        PlaylistSubtitle(
            language=track.language,
            url=None,
            content_type=None,
            sha256=None,
            stream_index=track.stream_index,
        )
        for track in video.subtitle_tracks
    ]
    return tracks


def _media(
    stored: MediaObject,
    kind: EndpointKind,
    subtitles: list[PlaylistSubtitle],
    *,
    speech: bool = False,
) -> PlaylistMedia:
    """Radios get the broadcast rendition (mono, loudness-normalised) where there is one;
    speech is stored as its broadcast MP3 itself."""
    base = f"/api/v1/media/{stored.id}"
    broadcast = next((r for r in stored.renditions if r.name == BROADCAST), None)
    if kind is EndpointKind.radio and broadcast is not None:
        return PlaylistMedia(
            id=stored.id,
            url=f"{base}/{BROADCAST}",
            content_type=broadcast.content_type,
            sha256=broadcast.sha256,
            size=broadcast.size,
            duration_s=broadcast.duration_s,
            width=None,
            height=None,
            subtitles=subtitles,
            speech=speech,
        )
    return PlaylistMedia(
        id=stored.id,
        url=base,
        content_type=stored.content_type,
        sha256=stored.sha256,
        size=stored.size,
        duration_s=stored.duration_s,
        width=stored.width,
        height=stored.height,
        subtitles=subtitles,
        speech=speech,
    )
