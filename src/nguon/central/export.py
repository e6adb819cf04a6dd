"""Emergency bulletins written out as OASIS CAP 1.2, for the systems that take alerts in CAP.

What CAP leaves open is decided so:

- The message says what went on air last: the latest approved revision of the bulletin and of
  each of its language variants (bulletins that are `translation_of` it; asked for a variant,
  the hub exports its original with all of them). A draft revision waiting for approval is not
  on air, so it is not exported. Only emergencies export (409 with the `priority` otherwise),
  and only once approved (409 before that: nothing went on air to describe).
- `sender` is `nguon@<origin area code>`: the hub speaking for the bulletin's area, the same for
  every revision so that references hold. `identifier` is `<bulletin id>.<revision>`; `sent` is
  when that revision was approved, at Vietnam's offset (+07:00). `scope` is `Public`; `status` is
  `Exercise` for a central Test or Exercise, else `Actual`.
- `msgType` is `Alert` for the first approved revision and `Update` for a later one, referencing
  the revision approved before it (a revision rejected on the way was never on air, so never
  referenced). A revoked bulletin is a `Cancel` of its last approved revision: identified
  `<bulletin id>.<revision>.cancel`, sent when it was revoked, with the reason as `note`, and
  still carrying its infos so a reader sees what was cancelled. An expired bulletin keeps its
  type: its `expires` in the past says it is over.
- One `info` per language variant, the original first: `category` from CAP_CATEGORY, `event`
  and `headline` the title, `description` the body, `effective` and `expires` the validity,
  `senderName` the contributor or else the origin area's name. `urgency` is Immediate because an
  emergency plays at once (Điều 8); the hub records neither severity nor certainty, so every
  emergency says Severe (a significant threat to life or property, without claiming the
  Extreme that CAP keeps for extraordinary ones) and Observed (an authority approved it as a
  fact on the ground, not as a forecast).
- One `area` per info: `areaDesc` names the targeted units and those the targeted endpoints
  stand in; a `geocode` (GEOCODE_NAME) per targeted unit, which the intake reads back by its
  value; a targeted endpoint is a `circle` of radius 0 at its GPS position (the intake's circle
  test takes exactly that point), or its commune's geocode when it has no position.
- One `resource` per medium: its type, size and the absolute URL of the hub's media route
  (which asks for credentials like every route). CAP's `digest` is SHA-1 and the hub keeps only
  SHA-256, so there is none.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.models import Area
from nguon.areas.repository import AreaRepository
from nguon.bulletins.enums import BulletinStatus, Category, Priority
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.bulletins.service import BulletinService
from nguon.central.cap import (
    CapAlert,
    CapArea,
    CapCircle,
    CapGeocode,
    CapInfo,
    CapReference,
    CapResource,
    format_cap_datetime,
)
from nguon.central.repository import CentralRepository, EndpointPlace
from nguon.dispatch.slots import LOCAL
from nguon.identity.principal import Principal
from nguon.kit.errors import Conflict
from nguon.media.models import MediaObject
from nguon.media.repository import MediaRepository

# The valueName the central system writes for administrative unit codes.
GEOCODE_NAME = "VN-ADMIN"
URGENCY, SEVERITY, CERTAINTY = "Immediate", "Severe", "Observed"

# The closest CAP 1.2 category (§3.2.2) of each bulletin category; the intake's CATEGORY_OF
# reads Security and Other back as the same categories, and Safety as disaster_fire_epidemic.
CAP_CATEGORY: dict[Category, str] = {
    Category.policy_and_law: "Other",
    Category.local_programmes: "Other",
    Category.economy_science: "Other",
    Category.security_order: "Security",
    # Disasters, fires and epidemics together: CAP's "general emergency and public safety".
    Category.disaster_fire_epidemic: "Safety",
    Category.good_examples: "Other",
    Category.crime_prevention: "Security",
    Category.products_services: "Other",
    Category.access_to_information: "Other",
    # An emergency about the border is one of homeland security.
    Category.foreign_affairs_border: "Security",
    Category.advertising: "Other",
}


class CapExport:
    def __init__(self, session: AsyncSession) -> None:
        self.bulletins = BulletinService(session)
        self.areas = AreaRepository(session)
        self.central = CentralRepository(session)
        self.media = MediaRepository(session)

    async def alert(self, actor: Principal, bulletin_id: str, media_url: str) -> CapAlert:
        """The bulletin as a CAP alert; `media_url` is the absolute URL of the media route, to
        which a medium's id is appended."""
        variants = await self.bulletins.with_variants(actor, bulletin_id)
        original = variants[0]
        approved: defaultdict[str, list[BulletinRevision]] = defaultdict(list)
        revisions = await self.bulletins.repository.revisions([v.id for v in variants])
        for revision in revisions:
            approved[revision.bulletin_id].append(revision)
        history = approved[original.id]
        _require_on_air_emergency(original, history[-1] if history else None)
        contents = [approved[v.id][-1].content for v in variants if approved[v.id]]
        origin = await self.areas.get(original.origin_area_id)
        assert origin is not None  # areas are never deleted under bulletins (RESTRICT)
        targets = [code for content in contents for code in content["targets"]]
        units = await self.areas.latest_with_codes(targets)
        places = {
            place.code: place
            for place in await self.central.endpoint_places(
                [code for code in dict.fromkeys(targets) if code not in units]
            )
        }
        units |= await self.areas.latest_with_codes(
            [place.area_code for place in places.values() if place.area_code not in units]
        )
        media = await self.media.many([i for content in contents for i in content["media"]])
        infos = tuple(
            CapInfo(
                language=content["language"],
                categories=(CAP_CATEGORY[Category(content["category"])],),
                event=content["title"],
                urgency=URGENCY,
                severity=SEVERITY,
                certainty=CERTAINTY,
                effective=_local(datetime.fromisoformat(content["valid_from"])),
                expires=_local(datetime.fromisoformat(content["valid_until"])),
                sender_name=content["contributor"] or origin.name,
                headline=content["title"],
                description=content["body"],
                resources=tuple(
                    _resource(media[i], media_url) for i in content["media"] if i in media
                ),
                areas=(_area(content["targets"], units, places, origin),),
            )
            for content in contents
        )
        return _envelope(original, history, infos)


def _require_on_air_emergency(bulletin: Bulletin, current: BulletinRevision | None) -> None:
    priority = current.content["priority"] if current else bulletin.priority
    if priority != Priority.emergency:
        raise Conflict(
            f"Only emergency bulletins export as CAP; bulletin {bulletin.id} is {priority}.",
            priority=priority,
        )
    if current is None:
        raise Conflict(
            f"Bulletin {bulletin.id} has never been approved: nothing of it went on air to "
            "export as CAP.",
            current_status=bulletin.status.value,
        )


def _envelope(
    bulletin: Bulletin, history: Sequence[BulletinRevision], infos: tuple[CapInfo, ...]
) -> CapAlert:
    """The alert's own fields: who sends it, which message it is, and what it refers to."""
    sender = f"nguon@{bulletin.origin_area_code}"
    *earlier, current = history
    identifier = f"{bulletin.id}.{current.number}"
    sent = _local(current.approved_at)
    msg_type, note = "Alert", None
    references: tuple[CapReference, ...] = ()
    if bulletin.status is BulletinStatus.revoked:
        # What it cancels is the revision that was on air: the message identified above.
        references = (CapReference(sender, identifier, format_cap_datetime(sent)),)
        identifier, sent = f"{identifier}.cancel", _local(bulletin.updated_at)
        msg_type, note = "Cancel", bulletin.reason
    elif earlier:
        previous = earlier[-1]
        references = (
            CapReference(
                sender,
                f"{bulletin.id}.{previous.number}",
                format_cap_datetime(_local(previous.approved_at)),
            ),
        )
        msg_type = "Update"
    return CapAlert(
        identifier=identifier,
        sender=sender,
        sent=sent,
        sent_text=format_cap_datetime(sent),
        status="Exercise" if bulletin.exercise else "Actual",
        msg_type=msg_type,
        scope="Public",
        note=note,
        references=references,
        infos=infos,
    )


def _area(
    targets: Sequence[str],
    units: dict[str, Area],
    places: dict[str, EndpointPlace],
    origin: Area,
) -> CapArea:
    unit_codes: list[str] = []
    circles: list[CapCircle] = []
    described: list[str] = []  # the units named in areaDesc
    for code in targets:
        if code in units:
            unit_codes.append(code)
            described.append(code)
        elif (place := places.get(code)) is not None:
            described.append(place.area_code)
            if place.latitude is not None and place.longitude is not None:
                circles.append(CapCircle(place.latitude, place.longitude, 0.0))
            else:
                unit_codes.append(place.area_code)
        # A target deleted since its bulletin went on air has no place left to name.
    names = [units[code].name for code in dict.fromkeys(described) if code in units]
    return CapArea(
        area_desc=", ".join(names) or origin.name,
        polygons=(),
        circles=tuple(circles),
        geocodes=tuple(CapGeocode(GEOCODE_NAME, code) for code in dict.fromkeys(unit_codes)),
    )


def _resource(media: MediaObject, media_url: str) -> CapResource:
    named = f": {media.original_name}" if media.original_name else ""
    return CapResource(
        resource_desc=f"{media.kind}{named}",
        mime_type=media.content_type,
        size=media.size,
        uri=f"{media_url}/{media.id}",
    )


def _local(moment: datetime) -> datetime:
    """In Vietnam's offset, to the second: how CAP times are written and compared."""
    return moment.astimezone(LOCAL).replace(microsecond=0)
