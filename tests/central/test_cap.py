"""CAP 1.2 reading and writing, against a realistic flash-flood alert for An Giang.

The fixture pair (`tests/fixtures/cap/flash_flood_an_giang.{xml,json}`) is one alert in both
forms; EXPECTED below is what either must read as, written out field by field.
"""

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from nguon.central.cap import (
    CapAlert,
    CapArea,
    CapCircle,
    CapError,
    CapGeocode,
    CapInfo,
    CapReference,
    CapResource,
    format_cap_datetime,
    parse_json,
    parse_xml,
    to_xml,
    validate_xml,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cap"
ALERT_XML = (FIXTURES / "flash_flood_an_giang.xml").read_bytes()
ALERT_JSON = (FIXTURES / "flash_flood_an_giang.json").read_bytes()

ICT = timezone(timedelta(hours=7))  # Indochina Time, the offset the central system writes
RING = ((10.40, 105.41), (10.40, 105.45), (10.36, 105.45), (10.36, 105.41), (10.40, 105.41))
BULLETIN_TEXT = "Khẩn cấp: lũ quét tại xã Núi Cấm, sơ tán ngay.".encode()

EXPECTED = CapAlert(
    identifier="TTNGUON-AG-2026-0042",
    sender="canhbao@ttnguon.gov.vn",
    sent=datetime(2026, 11, 25, 22, 30, tzinfo=ICT),
    sent_text="2026-11-25T22:30:00+07:00",
    status="Actual",
    msg_type="Alert",
    scope="Public",
    source="Đài Khí tượng Thủy văn tỉnh An Giang",
    codes=("VN-CAP-1.0",),
    note="Phát trên hệ thống truyền thanh cơ sở",
    incidents="LUQUET-AG-2026-11",
    infos=(
        CapInfo(
            language="vi-VN",
            categories=("Met", "Geo"),
            event="Lũ quét",
            urgency="Immediate",
            severity="Extreme",
            certainty="Likely",
            response_types=("Evacuate", "Monitor"),
            audience="Người dân xã Núi Cấm",
            event_codes=(CapGeocode("VN-EVENT", "LU_QUET"),),
            effective=datetime(2026, 11, 25, 22, 30, tzinfo=ICT),
            onset=datetime(2026, 11, 25, 23, 0, tzinfo=ICT),
            expires=datetime(2026, 11, 26, 11, 0, tzinfo=ICT),
            sender_name="Trung tâm Thông tin nguồn tỉnh An Giang",
            headline="Cảnh báo lũ quét khẩn cấp",
            description=(
                "Mưa lớn trên 200 mm trong 6 giờ qua; nguy cơ lũ quét rất cao tại các khe suối."
            ),
            instruction="Sơ tán ngay khỏi khu vực ven suối; không qua ngầm, tràn.",
            web="https://ttnguon.gov.vn/canh-bao/TTNGUON-AG-2026-0042",
            contact="Đường dây nóng 0296 3852 114",
            parameters=(CapGeocode("VN-RISK-LEVEL", "4"),),
            resources=(
                CapResource(
                    resource_desc="Bản tin phát thanh",
                    mime_type="text/plain",
                    size=60,
                    deref_uri=base64.b64encode(BULLETIN_TEXT).decode(),
                    digest=hashlib.sha1(BULLETIN_TEXT).hexdigest(),  # noqa: S324 (CAP's digest)
                ),
                CapResource(
                    resource_desc="Bản đồ vùng nguy hiểm",
                    mime_type="image/png",
                    uri="https://ttnguon.gov.vn/ban-do/luquet-2026-0042.png",
                ),
            ),
            areas=(
                CapArea(
                    area_desc="Xã Núi Cấm, tỉnh An Giang",
                    polygons=(RING,),
                    circles=(CapCircle(latitude=10.38, longitude=105.43, radius_km=5.0),),
                    geocodes=(CapGeocode("VN-ADMIN", "91"), CapGeocode("VN-ADMIN", "30880")),
                    altitude=0.0,
                    ceiling=3000.5,
                ),
            ),
        ),
        CapInfo(
            language="en-US",
            categories=("Met", "Geo"),
            event="Flash flood",
            urgency="Immediate",
            severity="Extreme",
            certainty="Likely",
            response_types=("Evacuate",),
            expires=datetime(2026, 11, 26, 11, 0, tzinfo=ICT),
            headline="Urgent flash flood warning",
            areas=(
                CapArea(
                    area_desc="Nui Cam commune, An Giang province",
                    polygons=(),
                    circles=(CapCircle(latitude=10.38, longitude=105.43, radius_km=5.0),),
                    geocodes=(CapGeocode("VN-ADMIN", "30880"),),
                ),
            ),
        ),
    ),
)

UPDATE_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>TTNGUON-AG-2026-0043</identifier>
  <sender>canhbao@ttnguon.gov.vn</sender>
  <sent>2026-11-26T05:00:00+07:00</sent>
  <status>Actual</status>
  <msgType>Update</msgType>
  <scope>Public</scope>
  <references>canhbao@ttnguon.gov.vn,TTNGUON-AG-2026-0042,2026-11-25T22:30:00+07:00 \
kttv@nchmf.gov.vn,NCHMF-2026-1187,2026-11-25T21:45:00+07:00</references>
  <info>
    <category>Met</category>
    <event>Flash flood</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
  </info>
</alert>
"""


def _xml_with(old: str, new: str) -> bytes:
    """The fixture alert with one exact piece of its text replaced."""
    text = ALERT_XML.decode()
    assert text.count(old) >= 1, f"fixture has no {old!r}"
    return text.replace(old, new, 1).encode()


def _json_object() -> dict[str, Any]:
    """The fixture alert as a fresh, unwrapped JSON object to mutate."""
    alert: dict[str, Any] = json.loads(ALERT_JSON)["alert"]
    return alert


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


# --- Reading ----------------------------------------------------------------------------------


def test_full_alert_xml_reads_every_field() -> None:
    alert = parse_xml(ALERT_XML)

    assert alert == EXPECTED
    resource = alert.infos[0].resources[0]
    assert resource.deref_uri is not None
    content = base64.b64decode(resource.deref_uri)
    assert len(content) == resource.size
    assert hashlib.sha1(content).hexdigest() == resource.digest  # noqa: S324 (CAP's digest)


def test_same_alert_as_json_reads_equal() -> None:
    # The JSON fixture gives some repeatable fields as single values ("code", "eventCode",
    # "circle", the second info's "area"), which must read as lists of one.
    assert parse_json(ALERT_JSON) == EXPECTED


def test_json_without_the_alert_wrapper_reads_equal() -> None:
    assert parse_json(_json_bytes(_json_object())) == EXPECTED


def test_update_with_two_references_reads_both() -> None:
    alert = parse_xml(UPDATE_XML)

    assert alert.msg_type == "Update"
    assert alert.references == (
        CapReference("canhbao@ttnguon.gov.vn", "TTNGUON-AG-2026-0042", "2026-11-25T22:30:00+07:00"),
        CapReference("kttv@nchmf.gov.vn", "NCHMF-2026-1187", "2026-11-25T21:45:00+07:00"),
    )


def test_info_without_language_is_en_us() -> None:
    assert parse_xml(UPDATE_XML).infos[0].language == "en-US"


def test_sent_keeps_its_text_while_the_datetime_is_the_instant() -> None:
    alert = parse_xml(
        _xml_with("2026-11-25T22:30:00+07:00</sent>", "2026-11-25T15:30:00-00:00</sent>")
    )

    assert alert.sent_text == "2026-11-25T15:30:00-00:00"
    assert alert.sent == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert alert.sent.utcoffset() == timedelta(0)


def test_xml_signature_after_the_infos_is_accepted_and_ignored() -> None:
    signature = '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><x/></Signature>\n</alert>'

    assert parse_xml(_xml_with("</alert>", signature)) == EXPECTED


# --- Writing ----------------------------------------------------------------------------------


def test_to_xml_round_trips_and_validates() -> None:
    data = to_xml(parse_xml(ALERT_XML))

    validate_xml(data)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">' in data
    assert parse_xml(data) == EXPECTED


def test_to_xml_writes_references_back_as_triples() -> None:
    data = to_xml(parse_xml(UPDATE_XML))

    assert (
        b"<references>canhbao@ttnguon.gov.vn,TTNGUON-AG-2026-0042,2026-11-25T22:30:00+07:00 "
        b"kttv@nchmf.gov.vn,NCHMF-2026-1187,2026-11-25T21:45:00+07:00</references>"
    ) in data
    assert b"<language>en-US</language>" in data


def test_to_xml_writes_times_in_cap_form() -> None:
    sent = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    info = EXPECTED.infos[1]
    alert = CapAlert(
        identifier="TTNGUON-AG-2026-0050",
        sender="canhbao@ttnguon.gov.vn",
        sent=sent,
        sent_text=format_cap_datetime(sent),
        status="Exercise",
        msg_type="Alert",
        scope="Public",
        infos=(
            CapInfo(
                language=info.language,
                categories=info.categories,
                event=info.event,
                urgency=info.urgency,
                severity=info.severity,
                certainty=info.certainty,
                # Fractions of a second cannot be written in CAP: they are dropped.
                expires=datetime(2026, 11, 26, 4, 0, 0, 750_000, tzinfo=UTC),
                onset=datetime(2026, 11, 25, 23, 0, tzinfo=ICT),
            ),
        ),
    )

    data = to_xml(alert)

    assert b"<sent>2026-11-25T16:00:00+00:00</sent>" in data
    assert b"<onset>2026-11-25T23:00:00+07:00</onset>" in data
    assert b"<expires>2026-11-26T04:00:00+00:00</expires>" in data


def test_to_xml_writes_coordinates_in_plain_decimals() -> None:
    tiny = CapArea(
        area_desc="Điểm quan trắc",
        polygons=(),
        circles=(CapCircle(latitude=10.38, longitude=105.43, radius_km=0.00001),),
        geocodes=(),
        altitude=1e-7,
    )
    info = EXPECTED.infos[1]
    alert = CapAlert(
        identifier=EXPECTED.identifier,
        sender=EXPECTED.sender,
        sent=EXPECTED.sent,
        sent_text=EXPECTED.sent_text,
        status="Test",
        msg_type="Alert",
        scope="Public",
        infos=(
            CapInfo(
                info.language,
                info.categories,
                info.event,
                urgency="Past",
                severity="Minor",
                certainty="Unknown",
                areas=(tiny,),
            ),
        ),
    )

    data = to_xml(alert)

    assert b"<circle>10.38,105.43 0.00001</circle>" in data
    assert b"<altitude>0.0000001</altitude>" in data
    assert parse_xml(data).infos[0].areas == (tiny,)


def test_to_xml_refuses_sent_text_that_is_not_sent() -> None:
    alert = CapAlert(
        identifier="X-1",
        sender="canhbao@ttnguon.gov.vn",
        sent=datetime(2026, 11, 25, 22, 30, tzinfo=ICT),
        sent_text="2026-11-25T22:31:00+07:00",
        status="Actual",
        msg_type="Alert",
        scope="Public",
    )

    with pytest.raises(CapError, match=r"sent_text '2026-11-25T22:31:00\+07:00' is not sent"):
        to_xml(alert)


def test_to_xml_refuses_a_naive_time() -> None:
    info = EXPECTED.infos[1]
    alert = CapAlert(
        identifier="X-2",
        sender="canhbao@ttnguon.gov.vn",
        sent=EXPECTED.sent,
        sent_text=EXPECTED.sent_text,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=(
            CapInfo(
                info.language,
                info.categories,
                info.event,
                info.urgency,
                info.severity,
                info.certainty,
                expires=datetime(2026, 11, 26, 11, 0),  # naive: what is being refused
            ),
        ),
    )

    with pytest.raises(CapError, match="has no UTC offset"):
        to_xml(alert)


def test_to_xml_refuses_an_info_without_category() -> None:
    info = EXPECTED.infos[1]
    alert = CapAlert(
        identifier="X-3",
        sender="canhbao@ttnguon.gov.vn",
        sent=EXPECTED.sent,
        sent_text=EXPECTED.sent_text,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        infos=(CapInfo(info.language, (), info.event, "Past", "Minor", "Unknown"),),
    )

    with pytest.raises(CapError, match=r"line \d+, event: .*Expected is \( category \)"):
        to_xml(alert)


def test_the_shipped_schema_is_the_oasis_cap_1_2_schema() -> None:
    schema = (files("nguon.central") / "CAP-v1.2.xsd").read_text(encoding="utf-8")

    assert schema.splitlines()[1] == "<!-- Copyright OASIS Open 2010 All Rights Reserved -->"
    assert 'targetNamespace = "urn:oasis:names:tc:emergency:cap:1.2"' in schema


# --- Refusing XML -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            "<identifier>TTNGUON-AG-2026-0042</identifier>",
            "",
            "line 4, sender: This element is not expected. Expected is ( identifier ).",
            id="missing-identifier",
        ),
        pytest.param(
            "<msgType>Alert</msgType>",
            "<msgType>Alarm</msgType>",
            "line 7, msgType: [facet 'enumeration'] The value 'Alarm' is not an element of the "
            "set {'Alert', 'Update', 'Cancel', 'Ack', 'Error'}.",
            id="bad-msgType",
        ),
        pytest.param(
            "<sent>2026-11-25T22:30:00+07:00</sent>",
            "<sent>2026-11-25T15:30:00Z</sent>",
            "line 5, sent: [facet 'pattern'] The value '2026-11-25T15:30:00Z' is not accepted",
            id="sent-in-Z",
        ),
        pytest.param(
            "<sent>2026-11-25T22:30:00+07:00</sent>",
            "<sent>2026-11-25T22:30:00.250+07:00</sent>",
            "line 5, sent: [facet 'pattern'] The value '2026-11-25T22:30:00.250+07:00' is not",
            id="sent-with-fraction",
        ),
        pytest.param(
            "<expires>2026-11-26T11:00:00+07:00</expires>",
            "<expires>2026-11-26T24:00:00+07:00</expires>",
            "line 30, expires: '2026-11-26T24:00:00+07:00' is not a valid date and time",
            id="expires-at-hour-24",
        ),
        pytest.param(
            "<expires>2026-11-26T11:00:00+07:00</expires>",
            "<expires>2026-02-30T11:00:00+07:00</expires>",
            "line 30, expires: '2026-02-30T11:00:00+07:00' is not a valid value",
            id="expires-on-30-february",
        ),
        pytest.param(
            "10.36,105.41 10.40,105.41</polygon>",
            "10.36,105.41 10.39,105.41</polygon>",
            "line 55, polygon: the polygon is not closed: its last point 10.39,105.41 must "
            "repeat its first 10.40,105.41",
            id="unclosed-polygon",
        ),
        pytest.param(
            "<polygon>10.40,105.41 10.40,105.45 10.36,105.45 10.36,105.41 10.40,105.41</polygon>",
            "<polygon>10.40,105.41 10.40,105.45 10.40,105.41</polygon>",
            "line 55, polygon: a polygon needs at least 4 'lat,lon' points (the first repeated "
            "at the end); this one has 3",
            id="polygon-of-three-points",
        ),
        pytest.param(
            "<polygon>10.40,105.41",
            "<polygon>10.40;105.41",
            "line 55, polygon: '10.40;105.41' is not a 'lat,lon' pair",
            id="polygon-not-pairs",
        ),
        pytest.param(
            "<circle>10.38,105.43 5</circle>",
            "<circle>95,105.43 5</circle>",
            "line 56, circle: latitude 95 is outside -90..90",
            id="latitude-95",
        ),
        pytest.param(
            "<circle>10.38,105.43 5</circle>",
            "<circle>10.38,185.43 5</circle>",
            "line 56, circle: longitude 185.43 is outside -180..180",
            id="longitude-185",
        ),
        pytest.param(
            "<circle>10.38,105.43 5</circle>",
            "<circle>10.38,105.43 nan</circle>",
            "line 56, circle: 'nan' is not a decimal number",
            id="radius-nan",
        ),
        pytest.param(
            "<circle>10.38,105.43 5</circle>",
            "<circle>10.38,105.43</circle>",
            "line 56, circle: '10.38,105.43' is not 'lat,lon radius'",
            id="circle-without-radius",
        ),
        pytest.param(
            "<size>60</size>",
            "<size>-60</size>",
            "line 44, size: the size -60 is negative",
            id="negative-size",
        ),
        pytest.param(
            "<size>60</size>",
            f"<size>{'9' * 5000}</size>",
            "line 44, size: the size is too large to be a file size",
            id="size-of-5000-digits",
        ),
        pytest.param(
            "</alert>",
            "",
            "not well-formed XML: Premature end of data in tag alert line 2",
            id="unclosed-root",
        ),
        pytest.param(
            "urn:oasis:names:tc:emergency:cap:1.2",
            "urn:oasis:names:tc:emergency:cap:1.1",
            "line 2: the root element must be <alert> in namespace "
            "urn:oasis:names:tc:emergency:cap:1.2, not <alert> in namespace "
            "urn:oasis:names:tc:emergency:cap:1.1",
            id="cap-1.1-namespace",
        ),
    ],
)
def test_invalid_xml_is_refused_with_where_and_why(old: str, new: str, message: str) -> None:
    with pytest.raises(CapError) as refused:
        parse_xml(_xml_with(old, new))

    assert str(refused.value).startswith(message)


def test_references_that_are_not_triples_are_refused() -> None:
    broken = UPDATE_XML.replace(b"NCHMF-2026-1187,", b"")

    with pytest.raises(CapError, match=r"^line 9, references: 'kttv@nchmf.gov.vn,2026-11-25T"):
        parse_xml(broken)


def test_several_schema_problems_are_counted() -> None:
    data = _xml_with("<status>Actual</status>", "<status>Real</status>")
    data = data.replace(b"<scope>Public</scope>", b"<scope>Everyone</scope>")

    with pytest.raises(CapError, match=r"^line 6, status: .*'Real'.* \(and 1 more problem\(s\)\)$"):
        parse_xml(data)


def test_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("MẬT-KHẨU-KHÔNG-ĐƯỢC-LỘ")
    data = _xml_with(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<!DOCTYPE alert [<!ENTITY x SYSTEM "{secret.as_uri()}">]>',
    )
    data = data.replace("<note>Phát".encode(), "<note>&x; Phát".encode())

    with pytest.raises(CapError) as refused:
        parse_xml(data)

    assert str(refused.value) == "line 1: a DOCTYPE is not allowed in a CAP message"
    assert "MẬT" not in str(refused.value)


def test_the_usual_xxe_probe_is_refused() -> None:
    data = _xml_with(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    )
    data = data.replace(b"<identifier>TTNGUON", b"<identifier>&x;TTNGUON")

    with pytest.raises(CapError, match="DOCTYPE is not allowed"):
        parse_xml(data)


def test_entity_expansion_bomb_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE alert [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&c;</identifier></alert>'
    )

    with pytest.raises(CapError, match="DOCTYPE is not allowed"):
        parse_xml(bomb.encode())


def test_undeclared_entity_is_malformed_xml() -> None:
    with pytest.raises(CapError, match=r"^not well-formed XML: Entity 'x' not defined, line 8"):
        parse_xml(_xml_with("<source>", "<source>&x;"))


def test_validate_xml_refuses_what_parse_xml_refuses() -> None:
    validate_xml(ALERT_XML)
    with pytest.raises(CapError, match="not closed"):
        validate_xml(_xml_with("10.36,105.41 10.40,105.41<", "10.36,105.41 10.39,105.41<"))


# --- Refusing JSON ----------------------------------------------------------------------------


def test_json_array_is_refused() -> None:
    with pytest.raises(CapError, match=r"^\$: a CAP alert must be a JSON object, not an array$"):
        parse_json(_json_bytes([_json_object()]))


def test_json_with_an_unknown_top_level_field_is_refused() -> None:
    alert = _json_object() | {"priority": "high"}

    with pytest.raises(CapError, match=r"^priority: unknown field \(not a CAP 1.2 element name\)"):
        parse_json(_json_bytes(alert))


def test_json_with_an_unknown_nested_field_names_its_path() -> None:
    alert = _json_object()
    alert["info"][0]["area"][0]["radius"] = 5

    with pytest.raises(CapError, match=r"^info\[0\]\.area\[0\]\.radius: unknown field"):
        parse_json(_json_bytes(alert))


def test_json_errors_name_the_field() -> None:
    alert = _json_object()
    alert["info"][0]["urgency"] = "Soon"

    with pytest.raises(CapError) as refused:
        parse_json(_json_bytes(alert))

    assert str(refused.value) == (
        "info[0].urgency: [facet 'enumeration'] The value 'Soon' is not an element of the set "
        "{'Immediate', 'Expected', 'Future', 'Past', 'Unknown'}."
    )


def test_json_missing_identifier_is_refused() -> None:
    alert = _json_object()
    del alert["identifier"]

    with pytest.raises(CapError) as refused:
        parse_json(_json_bytes(alert))

    assert str(refused.value) == "sender: This element is not expected. Expected is ( identifier )."


def test_json_geometry_errors_name_the_field() -> None:
    alert = _json_object()
    alert["info"][0]["area"][0]["polygon"] = ["10.40,105.41 10.40,105.45 10.36,105.45 10.40,105.42"]
    alert["info"][1]["area"]["circle"] = "95,105.43 5"

    with pytest.raises(CapError, match=r"^info\[0\]\.area\[0\]\.polygon\[0\]: the polygon is not"):
        parse_json(_json_bytes(alert))

    alert["info"][0]["area"][0]["polygon"] = []
    with pytest.raises(CapError, match=r"^info\[1\]\.area\.circle: latitude 95 is outside -90..90"):
        parse_json(_json_bytes(alert))


def test_json_sent_in_z_is_refused() -> None:
    alert = _json_object() | {"sent": "2026-11-25T15:30:00Z"}

    with pytest.raises(CapError, match=r"^sent: \[facet 'pattern'\] The value '2026-11-25T15:30"):
        parse_json(_json_bytes(alert))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"\xff{}", "$: the JSON is not valid UTF-8", id="not-utf8"),
        pytest.param(b'{"identifier": ', "$: not valid JSON: Expecting value", id="truncated"),
        pytest.param(b'{"ceiling": NaN}', "$: NaN is not a JSON number", id="nan"),
        pytest.param(
            b'{"sent": "a", "sent": "b"}', "sent: the field appears twice", id="duplicate-field"
        ),
        pytest.param(b'"alert"', "$: a CAP alert must be a JSON object, not a string", id="string"),
        pytest.param(b'{"alert": []}', "alert: must be a JSON object, not an array", id="wrapped"),
    ],
)
def test_json_that_is_not_an_alert_object_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(CapError) as refused:
        parse_json(data)

    assert str(refused.value).startswith(message)


def test_json_values_of_the_wrong_type_are_refused() -> None:
    alert = _json_object()
    alert["info"][0]["resource"][0]["size"] = True

    with pytest.raises(CapError, match=r"^info\[0\]\.resource\[0\]\.size: must be a number, not"):
        parse_json(_json_bytes(alert))

    alert["info"][0]["resource"][0]["size"] = 60
    alert["info"][0]["event"] = 7
    with pytest.raises(CapError, match=r"^info\[0\]\.event: must be a string, not a number$"):
        parse_json(_json_bytes(alert))


def test_json_null_counts_as_absent() -> None:
    alert = _json_object() | {"note": None, "restriction": None}

    assert parse_json(_json_bytes(alert)).note is None
    assert re.search(b"<note>", to_xml(parse_json(_json_bytes(alert)))) is None
