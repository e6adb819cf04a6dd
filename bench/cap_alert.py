"""A CAP 1.2 Alert from the central system for the whole province, to ENDPOINTS endpoints on
PostgreSQL with Kafka (Tansu).

The setup is fanout.py's (NGUON_BENCH_DATABASE_URL, default the local `nguon_bench` database,
whose `public` schema is replaced; An Giang and ENDPOINTS e-boards; a Tansu broker, one
`nguon serve` and one `nguon worker`; SSE_CLIENTS server-sent-event streams from devices), plus
a `central` API key for the province, made as `nguon keys create --role central --area 91`
makes it. Each run POSTs a signed CAP 1.2 Alert with a fresh identifier and sent time and no
`area` (the whole province) to `POST /api/v1/central/alerts`, checks that it is answered 201
`accepted` and that its bulletin has ENDPOINTS deliveries, and prints:

- request: the POST until its answer; the request's transaction, which commits the bulletin,
  every delivery and its event, commits before the answer is sent;
- published: from the request until the relay has put the last event on Kafka;
- SSE: from the request until the last of the SSE_CLIENTS streams has the emergency;
- baseline: a raw asyncpg `COPY` of ENDPOINTS rows into a scratch table, in the same run, and
  each figure as a multiple of it.

Earlier runs' alerts stay on air (nothing cancels them): each run's bulletin is new, so it
still gets a delivery for every endpoint, and the streams wait for its own headline.

Targets: request and SSE under 1 s. Run: `.venv/bin/python bench/cap_alert.py [runs]` (or
`cd bench && ../.venv/bin/python cap_alert.py [runs]`).
"""

import asyncio
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
from fanout import (
    ENDPOINTS,
    SSE_CLIENTS,
    an_giang_with_eboards,
    bench_database,
    connect,
    copy_baseline,
    hub_with_kafka,
    timed_emergency,
)

from nguon.central.cap import CapAlert, CapInfo, format_cap_datetime, to_xml
from nguon.identity.roles import Role
from nguon.kit.signing import sign

PROVINCE = "91"  # An Giang
SENDER = "canhbao@ttnguon.gov.vn"
VIETNAM = timezone(timedelta(hours=7))


async def prepare(url: str) -> tuple[list[str], str]:
    """fanout.py's province and e-boards, and a central key for the province; the SSE
    clients' keys and the central key."""
    async with an_giang_with_eboards(url) as (operator, identity, keys):
        _stored, central = await identity.create_key(
            operator, "bench central", Role.central, PROVINCE
        )
    return keys, central.key


def alert(identifier: str, headline: str) -> bytes:
    """A CAP 1.2 Alert sent now, whose one info names no area: the whole province."""
    sent = datetime.now(VIETNAM).replace(microsecond=0)
    info = CapInfo(
        language="vi-VN",
        categories=("Met",),
        event="Lũ quét",
        urgency="Immediate",
        severity="Extreme",
        certainty="Observed",
        expires=sent + timedelta(hours=6),
        sender_name="Trung tâm nguồn",
        headline=headline,
        description="Mưa lớn gây lũ quét trên các suối nhỏ.",
        instruction="Người dân di chuyển đến nơi an toàn.",
    )
    return to_xml(
        CapAlert(
            identifier=identifier,
            sender=SENDER,
            sent=sent,
            sent_text=format_cap_datetime(sent),
            status="Actual",
            msg_type="Alert",
            scope="Public",
            infos=(info,),
        )
    )


def signed(key: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "X-Api-Key": key,
        "X-Timestamp": str(timestamp),
        "X-Signature": sign(key, timestamp, body),
        "Content-Type": "application/cap+xml",
    }


async def deliveries(url: str, bulletin_id: str) -> int:
    connection = await connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM deliveries WHERE bulletin_id = $1", bulletin_id
        )
        return count
    finally:
        await connection.close()


async def run_once(
    port: int, keys: list[str], central: str, url: str, number: int
) -> tuple[float, float, float, float]:
    identifier = f"BENCH-{uuid.uuid4().hex[:12]}-{number}"
    headline = f"Cảnh báo lũ quét khẩn cấp {identifier}"
    body = alert(identifier, headline)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:

        async def send() -> str:
            answer = await http.post(
                "/api/v1/central/alerts", content=body, headers=signed(central, body)
            )
            if answer.status_code != 201 or answer.json()["answer"] != "accepted":
                raise SystemExit(f"alert not accepted: {answer.status_code} {answer.text}")
            bulletin_id: str = answer.json()["alert"]["bulletins"][0]
            return bulletin_id

        bulletin_id, request, published, sse = await timed_emergency(
            port, keys, url, headline, send
        )
    delivered = await deliveries(url, bulletin_id)
    if delivered != ENDPOINTS:
        raise SystemExit(f"bulletin {bulletin_id} has {delivered} deliveries, not {ENDPOINTS}")
    return request, published, sse, await copy_baseline(url)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    url = bench_database()
    keys, central = asyncio.run(prepare(url))
    with hub_with_kafka(url) as hub_port:
        print(
            f"CAP Alert for province {PROVINCE}: {ENDPOINTS} endpoints, {SSE_CLIENTS} SSE "
            "clients, Kafka (Tansu), PostgreSQL"
        )
        for number in range(runs):
            request, published, sse, baseline = asyncio.run(
                run_once(hub_port, keys, central, url, number)
            )
            print(
                f"run {number + 1}: request (deliveries committed) {request * 1000:7.1f} ms"
                f" | {ENDPOINTS} deliveries"
                f" | events on Kafka {published * 1000:7.1f} ms"
                f" | {SSE_CLIENTS} SSE clients notified {sse * 1000:7.1f} ms"
                f" | COPY of {ENDPOINTS} rows {baseline * 1000:6.1f} ms"
                f" | /COPY: request {request / baseline:5.1f}x, Kafka {published / baseline:5.1f}x,"
                f" SSE {sse / baseline:5.1f}x"
            )


if __name__ == "__main__":
    main()
