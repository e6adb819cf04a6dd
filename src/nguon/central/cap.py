"""OASIS CAP 1.2 (Common Alerting Protocol) messages: reading them as XML or JSON, writing XML.

The central system sends alerts as CAP 1.2 and expects our bulletins back in it, so both
directions are held to the official OASIS schema (`CAP-v1.2.xsd`, shipped next to this file)
plus the rules the schema cannot say: coordinates in range, polygon rings closed, times that
exist. JSON is accepted with the CAP element names as field names; it is turned into the same
XML tree and goes through the same checks, so the two forms can never disagree.

Nothing here touches the network, the database or the clock.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from lxml import etree

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
_NS = "{" + CAP_NAMESPACE + "}"
DEFAULT_LANGUAGE = "en-US"  # CAP 1.2 §3.2.2: the language of an <info> that names none

# The schema's own pattern for every CAP time (it forbids "Z" and fractions of a second). The
# schema's class is "[-,+]", but the comma can never pass its xs:dateTime base type.
_CAP_DATETIME = re.compile(r"\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d")
# A coordinate or radius: plain decimal notation only, so "nan", "1e3" or "1_0" (which float()
# would take) are refused like the schema refuses them in xs:decimal.
_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_MIN_POLYGON_POINTS = 4  # CAP 1.2 §3.2.4: a closed ring of at least four coordinate pairs


class CapError(ValueError):
    """Not a valid CAP 1.2 message; str(error) is the validator's message, with the line
    (XML) or the JSON path where it failed, fit to show to the sender."""


@dataclass(frozen=True, slots=True)
class CapReference:
    """One entry of <references>: the earlier message this one updates, cancels or answers."""

    sender: str
    identifier: str
    sent: str  # exactly as written: references are matched as text, not as instants


@dataclass(frozen=True, slots=True)
class CapCircle:
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class CapGeocode:
    """A valueName/value pair: CAP uses the same shape for geocodes, event codes and parameters."""

    value_name: str
    value: str


@dataclass(frozen=True, slots=True)
class CapArea:
    area_desc: str
    polygons: tuple[tuple[tuple[float, float], ...], ...]  # each a ring of (latitude, longitude)
    circles: tuple[CapCircle, ...]
    geocodes: tuple[CapGeocode, ...]
    altitude: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True, slots=True)
class CapResource:
    resource_desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None  # base64 text, as in the message
    digest: str | None = None  # SHA-1 hex, as CAP 1.2 defines it


@dataclass(frozen=True, slots=True)
class CapInfo:
    language: str  # CAP default "en-US" when the element is absent
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    response_types: tuple[str, ...] = ()
    audience: str | None = None
    event_codes: tuple[CapGeocode, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[CapGeocode, ...] = ()
    resources: tuple[CapResource, ...] = ()
    areas: tuple[CapArea, ...] = ()


@dataclass(frozen=True, slots=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime  # timezone-aware
    sent_text: str  # `sent` exactly as written (duplicates and references compare it as text)
    status: str  # Actual | Exercise | System | Test | Draft
    msg_type: str  # Alert | Update | Cancel | Ack | Error
    scope: str  # Public | Restricted | Private
    source: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[CapReference, ...] = ()
    incidents: str | None = None
    infos: tuple[CapInfo, ...] = ()


# Where a problem is, in the sender's terms and naming the element, so messages need not:
# "line 12, urgency" for XML, "info[0].urgency" for JSON.
_Locate = Callable[[etree._Element], str]


def parse_xml(data: bytes) -> CapAlert:
    """Read a CAP 1.2 XML message, refusing anything the schema or the CAP rules refuse."""
    root = _parse_safely(data)
    if root.tag != _NS + "alert":
        raise CapError(
            f"line {root.sourceline}: the root element must be <alert> in namespace "
            f"{CAP_NAMESPACE}, not {_describe_tag(root.tag)}"
        )
    _check_against_schema(root, _xml_line)
    return _TreeReader(_xml_line).alert(root)


def validate_xml(data: bytes) -> None:
    """Raise CapError unless `data` is a CAP 1.2 message that parse_xml would accept."""
    parse_xml(data)


def parse_json(data: bytes) -> CapAlert:
    """Read a CAP 1.2 alert written as JSON with the CAP element names as field names.

    Elements that may repeat are lists (a single value is taken as a list of one), `null`
    counts as absent, and the object may be wrapped as {"alert": {...}}. The JSON becomes the
    equivalent XML tree, which gets exactly the checks parse_xml applies.
    """
    try:
        document = json.loads(
            data.decode("utf-8-sig"),
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except UnicodeDecodeError as error:
        raise CapError(
            f"$: the JSON is not valid UTF-8 ({error.reason} at byte {error.start})"
        ) from None
    except json.JSONDecodeError as error:
        raise CapError(f"$: not valid JSON: {error}") from None
    except RecursionError:
        raise CapError("$: the JSON is nested too deeply to be a CAP alert") from None
    if not isinstance(document, dict):
        raise CapError(f"$: a CAP alert must be a JSON object, not {_json_kind(document)}")
    path = "$"
    if set(document) == {"alert"}:
        document, path = document["alert"], "alert"
        if not isinstance(document, dict):
            raise CapError(f"alert: must be a JSON object, not {_json_kind(document)}")
    builder = _JsonTreeBuilder()
    root = builder.alert(document, path)
    _check_against_schema(root, builder.path_of)
    return _TreeReader(builder.path_of).alert(root)


def to_xml(alert: CapAlert) -> bytes:
    """The alert as a CAP 1.2 XML message (UTF-8, with declaration), checked like an incoming one.

    `sent_text` is written as given (it is how other systems refer to this message), so it
    must be `sent` written as a CAP time; other times are written from their datetime, fractions
    of a second dropped since CAP has none.
    """
    root = etree.Element(_NS + "alert", nsmap={None: CAP_NAMESPACE})
    _write_alert(root, alert)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate_xml(data)
    return data


def format_cap_datetime(value: datetime) -> str:
    """`value` as CAP writes times, e.g. "2026-11-25T23:00:00+07:00" (UTC as "+00:00").

    Fractions of a second are dropped: CAP times have none.
    """
    offset = value.utcoffset()
    if offset is None:
        raise CapError(f"{value.isoformat()} has no UTC offset: CAP times must have one")
    if offset.total_seconds() % 60:
        raise CapError(f"{value.isoformat()}: CAP offsets are whole minutes")
    return value.isoformat(timespec="seconds")


# --- Reading XML -------------------------------------------------------------------------------


def _parse_safely(data: bytes) -> etree._Element:
    """Parse untrusted bytes without ever loading anything they point at.

    Entities are never expanded and nothing is fetched (so an XXE or "billion laughs"
    document reads no file and grows no memory), and any DOCTYPE is refused outright: CAP has
    no DTD, so a message that declares one is at best not CAP and at worst an attack.
    """
    # A parser per call: lxml parsers keep per-parse state and are not for sharing across threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root: etree._Element = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        # `msg` carries the line and column; str(error) would add a "(<string>, line 1)".
        raise CapError(f"not well-formed XML: {error.msg}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CapError("line 1: a DOCTYPE is not allowed in a CAP message")
    return root


def _xml_line(element: etree._Element) -> str:
    return f"line {element.sourceline}, {etree.QName(element).localname}"


def _describe_tag(tag: str) -> str:
    namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    return f"<{local}> in namespace {namespace}" if namespace else f"<{local}> without a namespace"


@cache
def _schema() -> etree.XMLSchema:
    """The OASIS schema, compiled once: compiling it costs far more than a validation."""
    source = files("nguon.central").joinpath("CAP-v1.2.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(source))


# An XMLSchema keeps the errors of its last run on itself, so concurrent validations from the
# threads a web server runs sync code in would read each other's errors.
_schema_lock = threading.Lock()


def _check_against_schema(root: etree._Element, locate: _Locate) -> None:
    schema = _schema()
    with _schema_lock:
        valid = schema.validate(root)
        errors = list(schema.error_log)
    if valid:
        return
    first = errors[0]
    found = root.getroottree().xpath(first.path) if first.path else []
    element = found[0] if found else root
    # The location names the element already; the schema's "Element 'urgency': " would repeat it.
    named = f"Element '{_NS}{etree.QName(element).localname}': "
    message = first.message.removeprefix(named).replace(_NS, "")
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise CapError(f"{locate(element)}: {message}{more}")


class _TreeReader:
    """Turns a schema-valid <alert> tree into a CapAlert, applying the rules the schema lacks.

    The schema has already vouched for which elements are present, their order and their
    enumerations, so this only converts and checks what it converts.
    """

    def __init__(self, locate: _Locate) -> None:
        self._locate = locate

    def alert(self, root: etree._Element) -> CapAlert:
        kids = _children(root)
        sent_element = kids["sent"][0]
        sent_text = _text(sent_element).strip()  # xs:dateTime ignores surrounding whitespace
        return CapAlert(
            identifier=_required(kids, "identifier"),
            sender=_required(kids, "sender"),
            sent=self._datetime(sent_element),
            sent_text=sent_text,
            status=_required(kids, "status"),
            msg_type=_required(kids, "msgType"),
            scope=_required(kids, "scope"),
            source=_first(kids, "source"),
            restriction=_first(kids, "restriction"),
            addresses=_first(kids, "addresses"),
            codes=_all(kids, "code"),
            note=_first(kids, "note"),
            references=self._references(kids),
            incidents=_first(kids, "incidents"),
            infos=tuple(self._info(element) for element in kids.get("info", ())),
        )

    def _info(self, element: etree._Element) -> CapInfo:
        kids = _children(element)
        language = _first(kids, "language")
        return CapInfo(
            language=DEFAULT_LANGUAGE if language is None else language.strip(),
            categories=_all(kids, "category"),
            event=_required(kids, "event"),
            urgency=_required(kids, "urgency"),
            severity=_required(kids, "severity"),
            certainty=_required(kids, "certainty"),
            response_types=_all(kids, "responseType"),
            audience=_first(kids, "audience"),
            event_codes=_pairs(kids, "eventCode"),
            effective=self._optional_datetime(kids, "effective"),
            onset=self._optional_datetime(kids, "onset"),
            expires=self._optional_datetime(kids, "expires"),
            sender_name=_first(kids, "senderName"),
            headline=_first(kids, "headline"),
            description=_first(kids, "description"),
            instruction=_first(kids, "instruction"),
            web=_stripped(_first(kids, "web")),
            contact=_first(kids, "contact"),
            parameters=_pairs(kids, "parameter"),
            resources=tuple(self._resource(resource) for resource in kids.get("resource", ())),
            areas=tuple(self._area(area) for area in kids.get("area", ())),
        )

    def _area(self, element: etree._Element) -> CapArea:
        kids = _children(element)
        return CapArea(
            area_desc=_required(kids, "areaDesc"),
            polygons=tuple(self._polygon(polygon) for polygon in kids.get("polygon", ())),
            circles=tuple(self._circle(circle) for circle in kids.get("circle", ())),
            geocodes=_pairs(kids, "geocode"),
            altitude=_optional_float(_first(kids, "altitude")),
            ceiling=_optional_float(_first(kids, "ceiling")),
        )

    def _resource(self, element: etree._Element) -> CapResource:
        kids = _children(element)
        return CapResource(
            resource_desc=_required(kids, "resourceDesc"),
            mime_type=_required(kids, "mimeType"),
            size=self._size(kids["size"][0]) if "size" in kids else None,
            uri=_stripped(_first(kids, "uri")),
            deref_uri=_first(kids, "derefUri"),
            digest=_first(kids, "digest"),
        )

    def _size(self, element: etree._Element) -> int:
        """A size in bytes. The schema only makes it an xs:integer, which may be negative or have
        more digits than Python will convert (its guard against slow conversions)."""
        try:
            size = int(_text(element))
        except ValueError:
            raise self._error(element, "the size is too large to be a file size") from None
        if size < 0:
            raise self._error(element, f"the size {size} is negative")
        return size

    def _references(self, kids: dict[str, list[etree._Element]]) -> tuple[CapReference, ...]:
        if "references" not in kids:
            return ()
        element = kids["references"][0]
        references = []
        for entry in _text(element).split():
            parts = entry.split(",")
            if len(parts) != 3 or not all(parts):
                raise self._error(element, f"{entry!r} is not a 'sender,identifier,sent' triple")
            references.append(CapReference(sender=parts[0], identifier=parts[1], sent=parts[2]))
        return tuple(references)

    def _polygon(self, element: etree._Element) -> tuple[tuple[float, float], ...]:
        pairs = _text(element).split()
        if len(pairs) < _MIN_POLYGON_POINTS:
            raise self._error(
                element,
                f"a polygon needs at least {_MIN_POLYGON_POINTS} 'lat,lon' points "
                f"(the first repeated at the end); this one has {len(pairs)}",
            )
        ring = tuple(self._point(element, pair) for pair in pairs)
        if ring[0] != ring[-1]:
            raise self._error(
                element,
                f"the polygon is not closed: its last point {pairs[-1]} "
                f"must repeat its first {pairs[0]}",
            )
        return ring

    def _circle(self, element: etree._Element) -> CapCircle:
        parts = _text(element).split()
        if len(parts) != 2:
            raise self._error(element, f"{_text(element)!r} is not 'lat,lon radius'")
        latitude, longitude = self._point(element, parts[0])
        radius = self._number(element, parts[1])
        if radius < 0:
            raise self._error(element, f"the radius {parts[1]} is negative")
        return CapCircle(latitude=latitude, longitude=longitude, radius_km=radius)

    def _point(self, element: etree._Element, pair: str) -> tuple[float, float]:
        """One WGS 84 "lat,lon" pair, in range."""
        parts = pair.split(",")
        if len(parts) != 2:
            raise self._error(element, f"{pair!r} is not a 'lat,lon' pair")
        latitude = self._number(element, parts[0])
        longitude = self._number(element, parts[1])
        if not -90 <= latitude <= 90:
            raise self._error(element, f"latitude {parts[0]} is outside -90..90")
        if not -180 <= longitude <= 180:
            raise self._error(element, f"longitude {parts[1]} is outside -180..180")
        return latitude, longitude

    def _number(self, element: etree._Element, text: str) -> float:
        if not _DECIMAL.fullmatch(text):
            raise self._error(element, f"{text!r} is not a decimal number")
        return float(text)

    def _optional_datetime(
        self, kids: dict[str, list[etree._Element]], name: str
    ) -> datetime | None:
        return self._datetime(kids[name][0]) if name in kids else None

    def _datetime(self, element: etree._Element) -> datetime:
        """The schema checks the form; this catches what it lets through, such as hour 24."""
        text = _text(element).strip()
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise self._error(element, f"{text!r} is not a valid date and time") from None

    def _error(self, element: etree._Element, message: str) -> CapError:
        return CapError(f"{self._locate(element)}: {message}")


def _children(element: etree._Element) -> dict[str, list[etree._Element]]:
    """CAP children by local name, in document order; XML signatures (allowed at the end of
    <alert>, in their own namespace) are not CAP content and are left out."""
    grouped: dict[str, list[etree._Element]] = {}
    for child in element:
        if child.tag.startswith(_NS):
            grouped.setdefault(child.tag[len(_NS) :], []).append(child)
    return grouped


def _text(element: etree._Element) -> str:
    text: str | None = element.text
    return text or ""


def _required(kids: dict[str, list[etree._Element]], name: str) -> str:
    """The text of an element the schema has already made sure is there."""
    return _text(kids[name][0])


def _first(kids: dict[str, list[etree._Element]], name: str) -> str | None:
    return _text(kids[name][0]) if name in kids else None


def _all(kids: dict[str, list[etree._Element]], name: str) -> tuple[str, ...]:
    return tuple(_text(element) for element in kids.get(name, ()))


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()


def _optional_float(text: str | None) -> float | None:
    return None if text is None else float(text)  # the schema has made it an xs:decimal


def _pairs(kids: dict[str, list[etree._Element]], name: str) -> tuple[CapGeocode, ...]:
    """The valueName/value pairs under each `name` element."""
    return tuple(
        CapGeocode(value_name=_required(pair, "valueName"), value=_required(pair, "value"))
        for pair in map(_children, kids.get(name, ()))
    )


# --- Reading JSON ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    """One CAP element as a JSON field: its name, whether it repeats, and what it holds."""

    name: str
    repeats: bool = False
    holds: Literal["text", "number"] | tuple[_Field, ...] = "text"


_PAIR = (_Field("valueName"), _Field("value"))
# Every level lists its elements in the schema's order, which is the order the XML must have.
_RESOURCE = (
    _Field("resourceDesc"),
    _Field("mimeType"),
    _Field("size", holds="number"),
    _Field("uri"),
    _Field("derefUri"),
    _Field("digest"),
)
_AREA = (
    _Field("areaDesc"),
    _Field("polygon", repeats=True),
    _Field("circle", repeats=True),
    _Field("geocode", repeats=True, holds=_PAIR),
    _Field("altitude", holds="number"),
    _Field("ceiling", holds="number"),
)
_INFO = (
    _Field("language"),
    _Field("category", repeats=True),
    _Field("event"),
    _Field("responseType", repeats=True),
    _Field("urgency"),
    _Field("severity"),
    _Field("certainty"),
    _Field("audience"),
    _Field("eventCode", repeats=True, holds=_PAIR),
    _Field("effective"),
    _Field("onset"),
    _Field("expires"),
    _Field("senderName"),
    _Field("headline"),
    _Field("description"),
    _Field("instruction"),
    _Field("web"),
    _Field("contact"),
    _Field("parameter", repeats=True, holds=_PAIR),
    _Field("resource", repeats=True, holds=_RESOURCE),
    _Field("area", repeats=True, holds=_AREA),
)
_ALERT = (
    _Field("identifier"),
    _Field("sender"),
    _Field("sent"),
    _Field("status"),
    _Field("msgType"),
    _Field("source"),
    _Field("scope"),
    _Field("restriction"),
    _Field("addresses"),
    _Field("code", repeats=True),
    _Field("note"),
    _Field("references"),
    _Field("incidents"),
    _Field("info", repeats=True, holds=_INFO),
)


class _JsonTreeBuilder:
    """Builds the CAP XML tree a JSON alert stands for, remembering each element's JSON path
    so that any later complaint (the schema's or ours) can name the field the sender wrote."""

    def __init__(self) -> None:
        self._paths: dict[etree._Element, str] = {}

    def path_of(self, element: etree._Element) -> str:
        return self._paths.get(element, "$")

    def alert(self, document: dict[str, Any], path: str) -> etree._Element:
        root = etree.Element(_NS + "alert", nsmap={None: CAP_NAMESPACE})
        self._paths[root] = path
        self._fill(root, document, _ALERT, path)
        return root

    def _fill(
        self, parent: etree._Element, obj: dict[str, Any], fields: tuple[_Field, ...], path: str
    ) -> None:
        known = {field.name for field in fields}
        for name in obj:
            if name not in known:
                raise CapError(f"{_join(path, name)}: unknown field (not a CAP 1.2 element name)")
        for field in fields:
            value = obj.get(field.name)
            if value is None:
                continue
            field_path = _join(path, field.name)
            if field.repeats and isinstance(value, list):
                for index, item in enumerate(value):
                    self._add(parent, field, item, f"{field_path}[{index}]")
            else:
                self._add(parent, field, value, field_path)

    def _add(self, parent: etree._Element, field: _Field, value: Any, path: str) -> None:
        element = etree.SubElement(parent, _NS + field.name)
        self._paths[element] = path
        if isinstance(field.holds, tuple):
            if not isinstance(value, dict):
                raise CapError(f"{path}: must be a JSON object, not {_json_kind(value)}")
            self._fill(element, value, field.holds, path)
            return
        if isinstance(value, str):
            text = value
        elif (
            field.holds == "number"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            text = str(value) if isinstance(value, int) else _decimal_text(value)
        else:
            wanted = "a number" if field.holds == "number" else "a string"
            raise CapError(f"{path}: must be {wanted}, not {_json_kind(value)}")
        try:
            element.text = text
        except ValueError:  # control characters and the like, which XML cannot carry
            raise CapError(f"{path}: contains characters not allowed in CAP text") from None


def _join(path: str, name: str) -> str:
    return name if path == "$" else f"{path}.{name}"


def _json_kind(value: object) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number")


def _refuse_constant(name: str) -> float:
    """Python's json reads NaN and Infinity, which are neither JSON nor CAP numbers."""
    raise CapError(f"$: {name} is not a JSON number")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A field given twice would be silently overwritten; a sender must say what it means once."""
    obj: dict[str, Any] = {}
    for name, value in pairs:
        if name in obj:
            raise CapError(f"{name}: the field appears twice in one JSON object")
        obj[name] = value
    return obj


# --- Writing XML -------------------------------------------------------------------------------


def _write_alert(root: etree._Element, alert: CapAlert) -> None:
    """Write a CapAlert as CAP elements, in the order the schema requires (as do the others)."""
    _add(root, "identifier", alert.identifier)
    _add(root, "sender", alert.sender)
    _add(root, "sent", _sent_text(alert))
    _add(root, "status", alert.status)
    _add(root, "msgType", alert.msg_type)
    _add(root, "source", alert.source)
    _add(root, "scope", alert.scope)
    _add(root, "restriction", alert.restriction)
    _add(root, "addresses", alert.addresses)
    for code in alert.codes:
        _add(root, "code", code)
    _add(root, "note", alert.note)
    if alert.references:
        triples = (f"{r.sender},{r.identifier},{r.sent}" for r in alert.references)
        _add(root, "references", " ".join(triples))
    _add(root, "incidents", alert.incidents)
    for info in alert.infos:
        _write_info(etree.SubElement(root, _NS + "info"), info)


def _write_info(element: etree._Element, info: CapInfo) -> None:
    _add(element, "language", info.language)
    for category in info.categories:
        _add(element, "category", category)
    _add(element, "event", info.event)
    for response_type in info.response_types:
        _add(element, "responseType", response_type)
    _add(element, "urgency", info.urgency)
    _add(element, "severity", info.severity)
    _add(element, "certainty", info.certainty)
    _add(element, "audience", info.audience)
    _add_pairs(element, "eventCode", info.event_codes)
    for name, moment in (
        ("effective", info.effective),
        ("onset", info.onset),
        ("expires", info.expires),
    ):
        _add(element, name, None if moment is None else format_cap_datetime(moment))
    _add(element, "senderName", info.sender_name)
    _add(element, "headline", info.headline)
    _add(element, "description", info.description)
    _add(element, "instruction", info.instruction)
    _add(element, "web", info.web)
    _add(element, "contact", info.contact)
    _add_pairs(element, "parameter", info.parameters)
    for resource in info.resources:
        _write_resource(etree.SubElement(element, _NS + "resource"), resource)
    for area in info.areas:
        _write_area(etree.SubElement(element, _NS + "area"), area)


def _write_resource(element: etree._Element, resource: CapResource) -> None:
    _add(element, "resourceDesc", resource.resource_desc)
    _add(element, "mimeType", resource.mime_type)
    _add(element, "size", None if resource.size is None else str(resource.size))
    _add(element, "uri", resource.uri)
    _add(element, "derefUri", resource.deref_uri)
    _add(element, "digest", resource.digest)


def _write_area(element: etree._Element, area: CapArea) -> None:
    _add(element, "areaDesc", area.area_desc)
    for ring in area.polygons:
        _add(element, "polygon", " ".join(_point_text(lat, lon) for lat, lon in ring))
    for circle in area.circles:
        point = _point_text(circle.latitude, circle.longitude)
        _add(element, "circle", f"{point} {_decimal_text(circle.radius_km)}")
    _add_pairs(element, "geocode", area.geocodes)
    for name, value in (("altitude", area.altitude), ("ceiling", area.ceiling)):
        _add(element, name, None if value is None else _decimal_text(value))


def _add(parent: etree._Element, name: str, text: str | None) -> None:
    """A child element with `text`, or nothing when the optional value is absent."""
    if text is None:
        return
    try:
        etree.SubElement(parent, _NS + name).text = text
    except ValueError:
        raise CapError(f"{name}: contains characters not allowed in CAP text") from None


def _add_pairs(parent: etree._Element, name: str, pairs: tuple[CapGeocode, ...]) -> None:
    for pair in pairs:
        element = etree.SubElement(parent, _NS + name)
        _add(element, "valueName", pair.value_name)
        _add(element, "value", pair.value)


def _sent_text(alert: CapAlert) -> str:
    """`sent_text`, once it is sure to say the same as `sent`: a relayed or exported message must
    keep the exact text that duplicates and references of it are matched by."""
    text = alert.sent_text
    try:
        written = datetime.fromisoformat(text) if _CAP_DATETIME.fullmatch(text) else None
    except ValueError:  # the right form but no such time, such as month 13
        written = None
    if written is None or written != alert.sent or written.utcoffset() != alert.sent.utcoffset():
        raise CapError(
            f"sent: sent_text {text!r} is not sent ({alert.sent.isoformat()}) written as a CAP "
            f"time; use format_cap_datetime(sent)"
        )
    return text


def _point_text(latitude: float, longitude: float) -> str:
    return f"{_decimal_text(latitude)},{_decimal_text(longitude)}"


def _decimal_text(value: float) -> str:
    """Plain decimal notation, as xs:decimal and CAP coordinates require (never "1e-05"), with
    the shortest digits that read back as the same float."""
    return format(Decimal(repr(value)), "f")
