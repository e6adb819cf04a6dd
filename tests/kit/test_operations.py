"""Health, readiness, metrics, request ids and logs, as an operator sees them."""

import json
from pathlib import Path

import av
import pytest
from httpx import ASGITransport, AsyncClient, Response
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from nguon.app import create_app
from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from nguon.media import codec
from tests.conftest import AN_GIANG, MakeUser


async def test_healthz(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_database_is_migrated(client: AsyncClient, backend: str) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    checks = {check["name"]: check for check in response.json()["checks"]}
    assert set(checks) == {
        "database", "storage", "media", "uplink", "bus", "mqtt", "backups", "audit",
    }  # fmt: skip
    assert all(check["ok"] for check in checks.values())
    assert response.json()["status"] == "ready"
    assert checks["uplink"]["detail"] == "off: NGUON_CENTRAL_URL is not set"
    assert checks["mqtt"]["detail"] == "off: NGUON_MQTT_URL is not set"
    assert checks["bus"]["detail"].startswith("in process")
    assert checks["database"]["detail"].startswith(backend)
    assert checks["storage"]["detail"].startswith("local disk")
    assert checks["media"]["detail"] == (
        f"FFmpeg {av.ffmpeg_version_info} in PyAV: encoder libmp3lame and filters aformat, "
        "aresample, volume, alimiter, ebur128 present"
    )


async def test_a_media_build_that_cannot_make_renditions_is_reported_loudly(
    settings: Settings,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A PyAV build without a filter the broadcast rendition needs: an error at start-up, and
    the check failing; the hub stays in service (degraded), devices keep playing."""
    monkeypatch.setattr(codec, "RENDITION_ENCODERS", ("libmp3lame", "no_such_encoder"))
    monkeypatch.setattr(codec, "RENDITION_FILTERS", (*codec.RENDITION_FILTERS, "no_such_filter"))
    capsys.readouterr()
    app = create_app(settings)
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "{" in line]
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://hub.test") as http:
        response = await http.get("/readyz")
    await app.state.engine.dispose()
    (error,) = [line for line in logged if line["event"] == "media_cannot_make_renditions"]
    assert error["level"] == "error"
    assert error["missing"] == ["encoder no_such_encoder", "filter no_such_filter"]
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    media = next(check for check in response.json()["checks"] if check["name"] == "media")
    assert media["ok"] is False
    assert "lacks encoder no_such_encoder, filter no_such_filter" in media["detail"]


async def readyz_on(database_url: str, data_dir: Path) -> Response:
    settings = Settings(
        database_url=database_url, secret_key=SecretStr("x" * 40), data_dir=data_dir
    )
    app = create_app(settings)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://hub.test") as http:
        response = await http.get("/readyz")
    await app.state.engine.dispose()
    return response


async def test_readyz_when_database_is_unreachable(tmp_path: Path) -> None:
    response = await readyz_on("postgresql+asyncpg://nobody@127.0.0.1:1/none", tmp_path)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("Not ready: database: unreachable")


async def test_readyz_when_schema_is_not_migrated(tmp_path: Path) -> None:
    response = await readyz_on(f"sqlite+aiosqlite:///{tmp_path}/empty.db", tmp_path)
    assert response.status_code == 503
    assert "nguon db upgrade" in response.json()["detail"]


async def test_metrics_are_labelled_by_route_template(
    client: AsyncClient, make_user: MakeUser
) -> None:
    viewer = await make_user("metrics.viewer", Role.viewer, AN_GIANG)
    await client.get(f"/api/v1/areas/{AN_GIANG}", headers=viewer)
    await client.get("/api/v1/areas/12", headers=viewer)
    await client.get("/no/such/path")
    text = (await client.get("/metrics")).text
    assert (
        'nguon_http_requests_total{method="GET",route="/api/v1/areas/{code}",status="200"} 2.0'
        in text
    )
    assert 'route="unmatched"' in text
    assert f"/api/v1/areas/{AN_GIANG}" not in text


async def test_request_id_is_made_when_absent_and_refused_when_unsafe(client: AsyncClient) -> None:
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    unsafe = await client.get("/healthz", headers={"X-Request-Id": "bad id\nwith newline"})
    assert unsafe.headers["x-request-id"] != "bad id\nwith newline"


async def test_every_answer_says_how_long_the_hub_worked_on_it(client: AsyncClient) -> None:
    for path in ("/healthz", f"/api/v1/areas/{AN_GIANG}", "/console/sign-in", "/nowhere"):
        timing = (await client.get(path)).headers["server-timing"]
        name, duration = timing.split(";dur=")
        assert name == "app"
        assert 0 < float(duration) < 60_000, timing


async def test_logs_are_json_lines_with_the_request_id(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = await client.get("/healthz", headers={"X-Request-Id": "trace-me-1"})
    assert response.status_code == 200
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    request_lines = [line for line in lines if line.get("request_id") == "trace-me-1"]
    assert request_lines
    assert request_lines[-1]["event"] == "request"
    assert request_lines[-1]["route"] == "/healthz"


async def test_a_hub_out_of_database_connections_answers_busy_and_recovers(
    settings: Settings, make_user: MakeUser
) -> None:
    admin = await make_user("ops.busy", Role.admin, AN_GIANG)
    crowded = settings.model_copy(
        update={"database_pool_size": 1, "database_pool_timeout_seconds": 0.2}
    )
    app = create_app(crowded)
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="http://hub.test") as http:
        # The pool's one connection and its one in overflow, taken by work still running.
        held = [await app.state.engine.connect() for _ in range(2)]
        try:
            busy = await http.get("/api/v1/users", headers=admin)
        finally:
            for connection in held:
                await connection.close()
        assert busy.status_code == 503
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["title"] == "Hub busy"
        assert "database connection" in busy.json()["detail"]
        assert (await http.get("/api/v1/users", headers=admin)).status_code == 200
    await app.state.engine.dispose()
