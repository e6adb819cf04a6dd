"""Bulletins from draft to air: content rules, the editorial workflow, revisions, expiry."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.levels import AreaLevel
from nguon.areas.service import AreaService
from nguon.bulletins.content import check_media, require_subtitled
from nguon.bulletins.enums import ON_AIR, BulletinKind, BulletinStatus, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.bulletins.repository import BulletinFilter, BulletinRepository, Viewer
from nguon.bulletins.schemas import BulletinCreate, BulletinUpdate
from nguon.dispatch.models import DeliveryStatus
from nguon.dispatch.service import Dispatcher
from nguon.endpoints.repository import EndpointRepository
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.kit.db import utcnow
from nguon.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from nguon.kit.settings import Settings
from nguon.kit.text import fold
from nguon.media.models import MediaObject
from nguon.media.repository import MediaRepository
from nguon.rules.advertising import AdvertisingGuard
from nguon.speech.service import Speech, SpeechService, Spoken, working_speech
from nguon.uplink.service import BulletinEvent, UplinkService

# Why a bulletin must be appraised before approval: the author marked it sensitive, it
# reaches a border-gate display (Lai Châu 001 Điều 10.1a), or an editor asked for it.
AppraisalReason = Literal["sensitive", "border_gate", "requested"]
DEFAULT_VALIDITY = timedelta(days=7)
# Fields of a bulletin that make up its content (what a revision freezes).
CONTENT_FIELDS = (
    "title", "kind", "body", "language", "category", "priority", "targets", "media",
    "subtitles", "sensitive", "valid_from", "valid_until", "schedule", "contributor",
    "translation_of", "outside_windows",
)  # fmt: skip
EDITABLE_IN_PLACE = frozenset({BulletinStatus.draft})
EDITABLE_AS_REVISION = frozenset({BulletinStatus.rejected, *ON_AIR})
# The states each step of review applies to.
APPRAISABLE = frozenset({BulletinStatus.submitted})
DECIDABLE = frozenset({BulletinStatus.submitted, BulletinStatus.appraised})


@dataclass(frozen=True, slots=True)
class BulletinView:
    bulletin: Bulletin
    media: Sequence[MediaObject]
    speech: Sequence[Spoken] = ()


def _content(bulletin: Bulletin) -> dict[str, Any]:
    values = {name: getattr(bulletin, name) for name in CONTENT_FIELDS}
    for name in ("valid_from", "valid_until"):
        values[name] = values[name].isoformat()
    return values


def _subtitle_ids(bulletin: Bulletin) -> list[str]:
    return [choice["media"] for choice in bulletin.subtitles]


def in_reach(actor: Principal, bulletin: Bulletin) -> bool:
    """The bulletin comes from inside the actor's area, where the actor may act on it."""
    return actor.area.contains(bulletin.origin_area_path)


def decides(actor: Principal, bulletin: Bulletin) -> bool:
    """Editors decide for their area; a commune chair decides the commune's own bulletins."""
    if actor.effective_role is Role.commune_chair:
        return bulletin.level is AreaLevel.commune and bulletin.origin_area_path == actor.area.path
    return in_reach(actor, bulletin)


class BulletinService:
    """`speech` makes the spoken rendition of text bulletins for radio where they are sent
    for approval or go on air; without it (reading, the clock) no speech is made."""

    def __init__(self, session: AsyncSession, speech: Speech | None = None) -> None:
        self.session = session
        self.repository = BulletinRepository(session)
        self.areas = AreaService(session)
        self.media = MediaRepository(session)
        self.endpoints = EndpointRepository(session)
        self.dispatcher = Dispatcher(session)
        self.uplink = UplinkService(session)
        self.speech = SpeechService(session, speech) if speech is not None else None

    # --- reading ----------------------------------------------------------------------------

    async def get(
        self, actor: Principal, bulletin_id: str, *, for_update: bool = False
    ) -> Bulletin:
        bulletin = await self.repository.get(
            bulletin_id, for_update=for_update, viewer=Viewer.of(actor)
        )
        if bulletin is None:
            raise NotFound(f"No bulletin {bulletin_id} is visible to {actor.label}.")
        return bulletin

    async def with_variants(self, actor: Principal, bulletin_id: str) -> list[Bulletin]:
        """The bulletin's original (itself, or the one it translates) first, then the
        original's language variants the actor may see."""
        named = await self.get(actor, bulletin_id)
        original = (
            named if named.translation_of is None else await self.get(actor, named.translation_of)
        )
        return [original, *await self.repository.translations(original.id, Viewer.of(actor))]

    async def views(self, bulletins: Sequence[Bulletin]) -> list[BulletinView]:
        """Bulletins with their media and speech, read in one query each for the lot."""
        media = await self.media.many([media_id for b in bulletins for media_id in b.media])
        spoken = await working_speech(self.session, bulletins)
        return [
            BulletinView(b, [media[i] for i in b.media if i in media], spoken.get(b.id, []))
            for b in bulletins
        ]

    async def search(
        self, actor: Principal, query: BulletinFilter, limit: int, cursor: str | None
    ) -> Sequence[Bulletin]:
        return await self.repository.search(Viewer.of(actor), query, limit, cursor)

    async def to_decide(self, actor: Principal, limit: int) -> list[Bulletin]:
        """Bulletins waiting for the actor to approve or reject them, newest first."""
        waiting = await self._in_review(actor, DECIDABLE, limit)
        return [bulletin for bulletin in waiting if decides(actor, bulletin)]

    async def to_appraise(self, actor: Principal, limit: int) -> Sequence[Bulletin]:
        """Submitted bulletins the actor may appraise, newest first."""
        return await self._in_review(actor, APPRAISABLE, limit)

    async def _in_review(
        self, actor: Principal, statuses: frozenset[BulletinStatus], limit: int
    ) -> Sequence[Bulletin]:
        # Origins inside the actor's area only: what comes from above is reviewed there.
        query = BulletinFilter(statuses=statuses, area_path=actor.area.path)
        return await self.search(actor, query, limit, None)

    # --- writing ----------------------------------------------------------------------------

    async def create(self, actor: Principal, fields: BulletinCreate) -> Bulletin:
        if fields.outside_windows:
            self._require_editor_for_outside_windows(actor)
        bulletin = self._new(actor, fields)
        await self._check_content(actor, bulletin)
        await self.repository.add(bulletin)
        return bulletin

    @staticmethod
    def _new(actor: Principal, fields: BulletinCreate) -> Bulletin:
        now = utcnow()
        values = fields.model_dump(exclude={"schedule"})
        values["valid_from"] = fields.valid_from or now
        values["valid_until"] = fields.valid_until or values["valid_from"] + DEFAULT_VALIDITY
        values["schedule"] = fields.schedule.model_dump(mode="json") if fields.schedule else None
        return Bulletin(
            id=uuid.uuid4().hex,
            **values,
            status=BulletinStatus.draft,
            level=actor.area.level,
            origin_area_id=actor.area.id,
            origin_area_code=actor.area.code,
            origin_area_path=actor.area.path,
            revision=1,
            on_air_revision=None,
            created_by=actor.label,
        )

    async def for_author(
        self, actor: Principal, bulletin_id: str, *, for_update: bool = False
    ) -> Bulletin:
        """A bulletin the actor may edit: one they see, from their own area or below it (the
        bulletins of the areas above are visible, not theirs to change)."""
        bulletin = await self.get(actor, bulletin_id, for_update=for_update)
        await self._require_within_origin(actor, bulletin)
        return bulletin

    async def update(self, actor: Principal, bulletin_id: str, changes: BulletinUpdate) -> Bulletin:
        bulletin = await self.for_author(actor, bulletin_id, for_update=True)
        if (
            "outside_windows" in changes.model_fields_set
            and changes.outside_windows != bulletin.outside_windows
        ):
            self._require_editor_for_outside_windows(actor)
        if bulletin.status in EDITABLE_AS_REVISION:
            bulletin.revision += 1
            bulletin.status = BulletinStatus.draft
            bulletin.appraised_by = bulletin.decided_by = bulletin.reason = None
            bulletin.appraisal_requested = False
        elif bulletin.status not in EDITABLE_IN_PLACE:
            raise Conflict(
                f"Bulletin {bulletin.id} is {bulletin.status}; only drafts, rejected and "
                "on-air bulletins can be edited.",
                current_status=bulletin.status.value,
            )
        kept_whole = {"schedule", "subtitles"}  # their own fields are not "unset"
        for name, value in changes.model_dump(exclude_unset=True, exclude=kept_whole).items():
            setattr(bulletin, name, value)
        if "subtitles" in changes.model_fields_set:
            bulletin.subtitles = [choice.model_dump() for choice in changes.subtitles]
        if "schedule" in changes.model_fields_set:
            bulletin.schedule = (
                changes.schedule.model_dump(mode="json") if changes.schedule else None
            )
        await self._check_content(actor, bulletin)
        return bulletin

    @staticmethod
    def _require_editor_for_outside_windows(actor: Principal) -> None:
        """Playing past the windows is the competent body's call (002 Điều 10.2, 001 Điều
        8.2), which the hub gives its editors."""
        if actor.effective_role is not Role.editor:
            raise Forbidden(
                "Only editors may post a bulletin outside the e-boards' operating windows "
                "(outside_windows; Decision 002 Điều 10.2); ask an editor of your area."
            )

    async def _check_content(
        self, actor: Principal, bulletin: Bulletin, *, targets_checked: bool = False
    ) -> None:
        if bulletin.valid_until <= bulletin.valid_from:
            raise InvalidInput("valid_until must be after valid_from.")
        if bulletin.kind is BulletinKind.text and not (bulletin.body or "").strip():
            raise InvalidInput("A text bulletin needs a body.")
        if bulletin.category is Category.advertising:
            self._check_advertising(actor, bulletin)
        if bulletin.share_with_central and bulletin.level is not AreaLevel.province:
            raise InvalidInput(
                f"Only province bulletins are shared with the central system; this one is "
                f"from {bulletin.origin_area_code}, a {bulletin.level} unit."
            )
        await self._check_media(bulletin)
        if not targets_checked:
            for code in bulletin.targets:
                await self._check_target(actor, bulletin, code)
        if bulletin.translation_of is not None:
            original = await self.get(actor, bulletin.translation_of)
            if original.id == bulletin.id:
                raise InvalidInput("A bulletin cannot translate itself.")
        bulletin.search_text = fold(f"{bulletin.title} {bulletin.body or ''}")

    @staticmethod
    def _check_advertising(actor: Principal, bulletin: Bulletin) -> None:
        """Advertising is carried beside public information, not as it (001 Điều 7.5, 8.3):
        it goes through an editor, who holds the airtime limit, so commune chairs (whose own
        bulletins need no editor) do not author it; it never takes the rank of urgent public
        information, nor the windows-closed postings of important events."""
        if actor.effective_role is Role.commune_chair:
            raise Forbidden(
                "Commune chairs do not publish advertising (Lai Châu 001 Điều 8.3); "
                "a publisher or an editor of the area does, and an editor approves it."
            )
        if bulletin.priority is not Priority.normal:
            raise InvalidInput(
                f"Advertising is never of {bulletin.priority} priority, which is kept for "
                "public information; send it as normal."
            )
        if bulletin.outside_windows:
            raise InvalidInput(
                "Advertising plays inside the operating windows only: outside_windows is for "
                "ad hoc and important-event postings (Decision 002 Điều 10.2)."
            )

    async def _check_target(self, actor: Principal, bulletin: Bulletin, code: str) -> None:
        """A target is an administrative unit or an endpoint, inside the origin area."""
        area = await self.areas.repository.find_by_code(code, None)
        if area is not None:
            path, name = area.path, area.name
        elif (endpoint := await self.endpoints.by_code(code)) is not None:
            path, name = endpoint.area_path, endpoint.name
        else:
            raise InvalidInput(f"Target {code!r} names no administrative unit or endpoint.")
        if not path.startswith(bulletin.origin_area_path):
            raise Forbidden(
                f"Target {code} ({name}) lies outside {bulletin.origin_area_code}, the area "
                f"{actor.label} publishes for."
            )

    async def _check_media(self, bulletin: Bulletin) -> None:
        stored = await self.media.many([*bulletin.media, *_subtitle_ids(bulletin)])
        check_media(bulletin.kind, bulletin.media, bulletin.subtitles, stored)

    async def _require_subtitled(self, bulletin: Bulletin) -> None:
        """Decision 002 Điều 7.2: no video goes to review or on air without subtitles."""
        stored = await self.media.many(bulletin.media, renditions=True)
        require_subtitled(bulletin.media, bulletin.subtitles, stored)

    async def _require_within_origin(self, actor: Principal, bulletin: Bulletin) -> None:
        origin = await self.areas.repository.get(bulletin.origin_area_id)
        assert origin is not None  # areas are never deleted under bulletins (RESTRICT)
        actor.require_within(origin, "bulletins")

    # --- workflow ---------------------------------------------------------------------------

    async def submit(self, actor: Principal, bulletin_id: str) -> Bulletin:
        bulletin = await self._in_state(actor, bulletin_id, "submit", {BulletinStatus.draft})
        await self._require_within_origin(actor, bulletin)
        await self._require_subtitled(bulletin)
        await self._speak(bulletin)
        bulletin.status = BulletinStatus.submitted
        return bulletin

    async def appraise(self, actor: Principal, bulletin_id: str, note: str | None) -> Bulletin:
        bulletin = await self._in_state(actor, bulletin_id, "appraise", APPRAISABLE)
        await self._require_within_origin(actor, bulletin)
        bulletin.status = BulletinStatus.appraised
        bulletin.appraised_by = actor.label
        bulletin.reason = note
        return bulletin

    async def approve(self, actor: Principal, bulletin_id: str, settings: Settings) -> Bulletin:
        """Put the bulletin on air; an advertisement only within the advertising limit of
        every endpoint it reaches (`settings` give the limit where a province keeps none)."""
        bulletin = await self._in_state(actor, bulletin_id, "approve", DECIDABLE)
        await self._require_decider(actor, bulletin)
        advertising = bulletin.category is Category.advertising
        if advertising and actor.effective_role is Role.commune_chair:
            raise Forbidden(
                f"Bulletin {bulletin.id} is advertising, which an editor approves (Lai Châu "
                "001 Điều 8.3), not a commune chair."
            )
        if bulletin.status is not BulletinStatus.appraised:
            await self._refuse_unappraised(bulletin)
        now = utcnow()
        if bulletin.valid_until <= now:
            raise Conflict(
                f"Bulletin {bulletin.id} was valid until {bulletin.valid_until.isoformat()}; "
                "edit its validity first.",
                current_status=bulletin.status.value,
            )
        status_before = bulletin.status
        await self._put_on_air(actor, bulletin, now)
        if advertising:
            guard = AdvertisingGuard(self.session, settings)
            await guard.hold_limit(bulletin, now, status_before)
        return bulletin

    async def appraisal_reasons(self, bulletin: Bulletin) -> list[AppraisalReason]:
        """Why the bulletin must be appraised before approval; empty when it need not be."""
        reasons: list[AppraisalReason] = []
        if bulletin.sensitive:
            reasons.append("sensitive")
        if await self._reaches_a_border_gate(bulletin):
            reasons.append("border_gate")
        if bulletin.appraisal_requested:
            reasons.append("requested")
        return reasons

    async def _reaches_a_border_gate(self, bulletin: Bulletin) -> bool:
        area_paths: list[str] = []
        endpoint_codes: list[str] = []
        for code in bulletin.targets:
            area = await self.areas.repository.find_by_code(code, None)
            if area is not None:
                area_paths.append(area.path)
            else:
                endpoint_codes.append(code)
        return await self.endpoints.reaches_a_border_gate(area_paths, endpoint_codes)

    async def _refuse_unappraised(self, bulletin: Bulletin) -> None:
        reasons = await self.appraisal_reasons(bulletin)
        if "sensitive" in reasons:
            raise Conflict(
                f"Bulletin {bulletin.id} is sensitive and must be appraised before approval; "
                f"it is {bulletin.status}.",
                current_status=bulletin.status.value,
            )
        if "border_gate" in reasons:
            raise Conflict(
                f"Bulletin {bulletin.id} reaches a border-gate display and must be appraised "
                f"before approval (Lai Châu 001 Điều 10.1a); it is {bulletin.status}.",
                current_status=bulletin.status.value,
            )
        if "requested" in reasons:
            raise Conflict(
                f"Bulletin {bulletin.id} was sent to appraisal by an editor and must be "
                f"appraised before approval; it is {bulletin.status}.",
                current_status=bulletin.status.value,
            )

    async def request_appraisal(self, actor: Principal, bulletin_id: str) -> Bulletin:
        """An editor sends a submitted bulletin to appraisal: approval then waits for it."""
        bulletin = await self._in_state(actor, bulletin_id, "send to appraisal", APPRAISABLE)
        await self._require_decider(actor, bulletin)
        bulletin.appraisal_requested = True
        return bulletin

    async def broadcast(
        self, actor: Principal, fields: BulletinCreate, *, level: AreaLevel, exercise: bool
    ) -> Bulletin:
        """Put a bulletin on air at once, without approval: what the central system orders
        (Điều 8.1). The caller's guard has decided that it may, and the caller has resolved
        its targets inside its own area (a polygon can name thousands of endpoints)."""
        bulletin = self._new(actor, fields)
        bulletin.level = level
        bulletin.exercise = exercise
        await self._check_content(actor, bulletin, targets_checked=True)
        await self.repository.add(bulletin)
        await self._put_on_air(actor, bulletin, utcnow())
        return bulletin

    async def _put_on_air(self, actor: Principal, bulletin: Bulletin, now: datetime) -> None:
        await self._require_subtitled(bulletin)
        await self._speak(bulletin, unless_made=True)
        bulletin.status = (
            BulletinStatus.published if bulletin.valid_from <= now else BulletinStatus.scheduled
        )
        bulletin.decided_by = actor.label
        bulletin.on_air_revision = bulletin.revision
        await self.repository.add_revision(
            BulletinRevision(
                bulletin_id=bulletin.id,
                number=bulletin.revision,
                content=_content(bulletin),
                approved_by=actor.label,
            )
        )
        await self.dispatcher.dispatch(bulletin)
        await self._share(bulletin, bulletin.revision, "on-air")

    async def _share(self, bulletin: Bulletin, revision: int, event: BulletinEvent) -> None:
        if bulletin.share_with_central:
            media = await self.media.many(bulletin.media)
            found = [media[media_id] for media_id in bulletin.media if media_id in media]
            await self.uplink.share(bulletin, revision, event, found)

    async def reject(self, actor: Principal, bulletin_id: str, reason: str) -> Bulletin:
        bulletin = await self._in_state(actor, bulletin_id, "reject", DECIDABLE)
        await self._require_decider(actor, bulletin)
        bulletin.status = BulletinStatus.rejected
        bulletin.decided_by = actor.label
        bulletin.reason = reason
        return bulletin

    async def revoke(self, actor: Principal, bulletin_id: str, reason: str) -> Bulletin:
        bulletin = await self.get(actor, bulletin_id, for_update=True)
        if bulletin.on_air_revision is None:
            raise Conflict(
                f"Bulletin {bulletin.id} is {bulletin.status} and not on air; only a published "
                "or scheduled bulletin can be revoked.",
                current_status=bulletin.status.value,
            )
        await self._require_decider(actor, bulletin)
        revision = bulletin.on_air_revision
        bulletin.status = BulletinStatus.revoked
        bulletin.on_air_revision = None
        bulletin.decided_by = actor.label
        bulletin.reason = reason
        await self.dispatcher.withdraw(bulletin, DeliveryStatus.revoked)
        await self._share(bulletin, revision, "withdrawn")
        return bulletin

    async def _in_state(
        self, actor: Principal, bulletin_id: str, action: str, allowed: Collection[BulletinStatus]
    ) -> Bulletin:
        bulletin = await self.get(actor, bulletin_id, for_update=True)
        if bulletin.status not in allowed:
            names = " or ".join(sorted(allowed))
            raise Conflict(
                f"Cannot {action} bulletin {bulletin.id}: it is {bulletin.status}, and {action} "
                f"needs {names}.",
                current_status=bulletin.status.value,
            )
        return bulletin

    async def _require_decider(self, actor: Principal, bulletin: Bulletin) -> None:
        if actor.effective_role is Role.commune_chair and not decides(actor, bulletin):
            raise Forbidden(
                f"A commune chair decides only the bulletins of the commune itself; bulletin "
                f"{bulletin.id} comes from {bulletin.origin_area_code}."
            )
        await self._require_within_origin(actor, bulletin)

    # --- speech -----------------------------------------------------------------------------

    async def _speak(self, bulletin: Bulletin, *, unless_made: bool = False) -> None:
        """Read the working revision aloud for radio, when it has words and no recording
        (before anything is written: synthesis holds no database lock)."""
        if self.speech is not None:
            await self.speech.make(bulletin, unless_made=unless_made)

    async def speak_again(self, actor: Principal, bulletin_id: str) -> Bulletin:
        """Make the working revision's speech again (after the speech service was away, say);
        radios get it once it is ready, if that revision is on air."""
        bulletin = await self.for_author(actor, bulletin_id, for_update=True)
        assert self.speech is not None  # the route gives the process's speech
        if not await self.speech.wanted(bulletin):
            raise Conflict(
                f"Bulletin {bulletin.id} has no body to read aloud, or carries its own "
                "recording: it has no speech to make.",
                current_status=bulletin.status.value,
            )
        await self.speech.make(bulletin)
        if bulletin.on_air_revision == bulletin.revision:
            await self.dispatcher.dispatch(bulletin)
        return bulletin

    # --- time -------------------------------------------------------------------------------

    async def advance_clock(self, now: datetime | None = None) -> tuple[int, int]:
        """Publish scheduled bulletins whose time has come and expire those past validity."""
        now = now or utcnow()
        published = await self.repository.due_for_publication(now)
        for bulletin in published:
            bulletin.status = BulletinStatus.published
        expired = await self.repository.due_for_expiry(now)
        for bulletin in expired:
            if bulletin.status in ON_AIR:
                bulletin.status = BulletinStatus.expired
            bulletin.on_air_revision = None
            await self.dispatcher.withdraw(bulletin, DeliveryStatus.expired)
        return len(published), len(expired)
