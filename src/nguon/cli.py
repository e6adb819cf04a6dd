"""The `nguon` command line."""

import asyncio
import getpass
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.areas.service import AreaService, ImportResult
from nguon.areas.sources import AreaSourceError, current_units, units_from_csv
from nguon.audit.checks import CLI as CLI_CHECK
from nguon.audit.checks import AuditChecks
from nguon.audit.service import AuditBreak, AuditEntry, AuditService, Outcome, audit_session_info
from nguon.backups.database import ToolFailed
from nguon.backups.service import BackupService, Step
from nguon.backups.store import BackupStore
from nguon.commands.mqtt import MqttChannel
from nguon.demo.service import load_demo
from nguon.endpoints.schemas import EndpointCreate
from nguon.endpoints.service import EndpointService
from nguon.endpoints.windows import DisplayProfile, EndpointKind
from nguon.exports.service import ExportService
from nguon.identity.credentials import ApiKeyHasher, TokenCodec
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.roles import Holder, Role, roles_for, wrong_holder
from nguon.identity.service import IdentityService
from nguon.incidents.watch import IncidentWatch
from nguon.kit.changes import ChangeFeed
from nguon.kit.db import create_engine, create_sessionmaker, utcnow
from nguon.kit.errors import NguonError
from nguon.kit.heap import settle_heap
from nguon.kit.migrate import upgrade
from nguon.kit.observability import configure_logging
from nguon.kit.settings import Settings, get_settings
from nguon.kit.storage import StorageError, create_storage
from nguon.reports.render import render_pdf, render_xlsx
from nguon.reports.service import ReportService
from nguon.worker import create_bus, running_worker, started

app = typer.Typer(help="nguon: the provincial source-information hub.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
areas_app = typer.Typer(help="Administrative units.", no_args_is_help=True)
users_app = typer.Typer(help="Personal accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for machines.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
endpoints_app = typer.Typer(help="Radios and displays.", no_args_is_help=True)
backup_app = typer.Typer(help="Backups of the database and the media.", no_args_is_help=True)
export_app = typer.Typer(help="Exports for inspection.", no_args_is_help=True)
reports_app = typer.Typer(help="Periodic reports.", no_args_is_help=True)
for sub, name in (
    (reports_app, "reports"),
    (export_app, "export"),
    (backup_app, "backup"),
    (db_app, "db"),
    (areas_app, "areas"),
    (users_app, "users"),
    (keys_app, "keys"),
    (audit_app, "audit"),
    (endpoints_app, "endpoints"),
):
    app.add_typer(sub, name=name)

T = TypeVar("T")


@dataclass
class Hub:
    """What a command needs: a session factory and the credential helpers, as the API has."""

    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]

    def identity(self, session: AsyncSession) -> IdentityService:
        secret = self.settings.signing_secret()
        tokens = TokenCodec(
            secret, self.settings.jwt_issuer, self.settings.access_token_ttl_seconds
        )
        return IdentityService(session, tokens, ApiKeyHasher(secret))

    async def operator(self, session: AsyncSession) -> Principal:
        """The person at the console acts as an administrator of the whole tree."""
        root = await AreaService(session).national_root()
        return Principal("system", 0, f"cli:{getpass.getuser()}", Role.admin, AreaScope.of(root))

    async def commit_audited(
        self, session: AsyncSession, actor: Principal, action: str, target: str | None
    ) -> None:
        entry = AuditEntry(
            actor=actor.label,
            # The console belongs to the whole hub, not to an area: province admins see it.
            actor_area_path=None,
            action=f"cli {action}",
            target=target,
            outcome=Outcome.success,
        )
        await AuditService(session).append_and_commit(entry)


@asynccontextmanager
async def _hub() -> AsyncIterator[Hub]:
    settings = get_settings()
    engine = create_engine(settings.resolved_database_url)
    try:
        info = audit_session_info(settings.signing_secret())
        yield Hub(settings, create_sessionmaker(engine, info=info))
    finally:
        await engine.dispose()


def _run(work: Callable[[Hub], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _hub() as hub:
            return await work(hub)

    try:
        return asyncio.run(main())
    except (NguonError, AreaSourceError, StorageError, ToolFailed) as error:
        detail = error.detail if isinstance(error, NguonError) else str(error)
        typer.secho(f"error: {detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error


class _AnnouncedServer(uvicorn.Server):
    """Says where it serves once it listens (the port it really bound, when asked for 0)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
            # On stderr: stdout carries the log lines, which may be JSON for a collector.
            typer.echo(
                f"nguon serving on {base} (console: {base}/console/, API docs: {base}/docs)",
                err=True,
            )


# What open requests get to finish after SIGTERM before they are cut: with the lifespan's
# own bounded shutdown, the process is gone well within 10 s.
GRACEFUL_SHUTDOWN_SECONDS = 4


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default NGUON_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default NGUON_PORT)")] = None,
) -> None:
    """Serve the API. On the embedded default the database is migrated first."""
    settings = get_settings()
    if settings.is_sqlite:
        upgrade(settings.resolved_database_url)
    config = uvicorn.Config(
        "nguon.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = _AnnouncedServer(config)
    server.run()
    if not server.started:  # as uvicorn.run: a port taken, a lifespan that failed
        raise typer.Exit(code=3)


@app.command()
def worker() -> None:
    """Run the delivery worker: outbox relay, webhook consumer and pusher, reconciler.

    With Kafka (NGUON_KAFKA_BOOTSTRAP) run any number beside the API processes; on the embedded
    default `nguon serve` runs the same work in process. Stops cleanly on SIGTERM or SIGINT."""
    settings = get_settings()
    if settings.kafka_bootstrap is None:
        typer.secho(
            "warning: no NGUON_KAFKA_BOOTSTRAP: this worker's in-process bus reaches no API "
            "process; webhooks and the reconciler still run",
            fg=typer.colors.YELLOW,
            err=True,
        )
    configure_logging(settings.log_level, settings.log_json)

    async def main() -> None:
        engine = create_engine(
            settings.resolved_database_url,
            pool_size=settings.database_pool_size,
            timeouts=settings.database_timeouts(),
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, stop.set)
        bus = create_bus(settings)
        # The worker's own commits (notifications, re-announcements) wake its pusher and relay;
        # they carry the audit key, since the incidents it opens and its checks are audited.
        feed = ChangeFeed()
        sessionmaker = create_sessionmaker(
            engine, info={**feed.session_info(), **audit_session_info(settings.signing_secret())}
        )
        try:
            mqtt = MqttChannel.configured(settings, sessionmaker)
            async with (
                started(bus),
                running_worker(settings, engine, sessionmaker, bus, feed, mqtt),
            ):
                settle_heap()
                await stop.wait()
        finally:
            await engine.dispose()

    asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply the migrations up to REVISION (default: the latest)."""
    settings = get_settings()
    upgrade(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@app.command()
def demo() -> None:
    """Load the demo province, the legacy province and one account per role (idempotent)."""

    async def work(hub: Hub) -> None:
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            result = await load_demo(session, hub.identity(session), actor, hub.settings)
            await hub.commit_audited(session, actor, "demo", None)
        _print_import("current province", result.current)
        _print_import("legacy province", result.legacy)
        typer.echo(f"accounts created: {result.created_accounts}")
        typer.echo("demo accounts (username / role / area / password):")
        for account in result.accounts:
            typer.echo(
                f"  {account.username:24} {account.role:14} {account.area:6} {account.password}"
            )
        typer.echo("demo endpoints (code / kind / X-Api-Key, shown once):")
        for endpoint in result.endpoints:
            key = endpoint.api_key or (
                f"exists; a new key: POST /api/v1/endpoints/{endpoint.code}/key"
            )
            typer.echo(f"  {endpoint.code:24} {endpoint.kind:14} {key}")

    upgrade(get_settings().resolved_database_url)
    _run(work)


def _print_import(label: str, result: ImportResult) -> None:
    typer.echo(
        f"{label}: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@areas_app.command("import")
def areas_import(
    current: Annotated[bool, typer.Option("--current", help="Today's two-tier units")] = False,
    csv: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            exists=True,
            dir_okay=False,
            help="A CSV of units (e.g. legacy three-tier data)",
        ),
    ] = None,
    province: Annotated[
        list[str] | None,
        typer.Option("--province", help="With --current: only this province (repeatable)"),
    ] = None,
) -> None:
    """Import administrative units, from the vietnam-provinces package or from a CSV file."""
    if current == (csv is not None):
        raise typer.BadParameter("give exactly one of --current and --csv")

    async def work(hub: Hub) -> ImportResult:
        records = current_units(province) if csv is None else units_from_csv(csv)
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            result = await AreaService(session).import_records(records)
            source = "current" if current else str(csv)
            await hub.commit_audited(session, actor, "areas import", source)
            return result

    _print_import("units", _run(work))


def role_option(holder: Holder) -> Any:
    """A --role that offers, and takes, exactly the roles the holder may have."""
    names = roles_for(holder)

    def parse(value: str) -> Role:
        try:
            role = Role(value)
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not a role; choose {', '.join(names)}."
            ) from None
        if refusal := wrong_holder(role, holder):
            raise typer.BadParameter(refusal)
        return role

    return typer.Option(parser=parse, metavar="ROLE", help=f"One of: {', '.join(names)}")


@users_app.command("create")
def users_create(
    username: str,
    role: Annotated[Role, role_option(Holder.user)],
    area: Annotated[str, typer.Option(help="Area code the account acts in")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="At least 10 characters")
    ],
    full_name: Annotated[str | None, typer.Option(help="The person's name")] = None,
) -> None:
    """Create a personal account."""

    async def work(hub: Hub) -> str:
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            user = await hub.identity(session).create_user(
                actor, username, password, role, area, full_name
            )
            await hub.commit_audited(session, actor, "users create", f"user:{user.username}")
            return f"created {user.username} ({user.role}) in {area}"

    typer.echo(_run(work))


@keys_app.command("create")
def keys_create(
    name: str,
    role: Annotated[Role, role_option(Holder.api_key)],
    area: Annotated[str, typer.Option(help="Area code the key acts in")],
) -> None:
    """Create an API key; the key is printed on the last line, once."""

    async def work(hub: Hub) -> str:
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            stored, new_key = await hub.identity(session).create_key(actor, name, role, area)
            await hub.commit_audited(session, actor, "keys create", f"key:{stored.prefix}")
            typer.echo(f"created key {stored.id} '{stored.name}' ({stored.role}) in {area}")
            return new_key.key

    typer.echo(_run(work))


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """Revoke an API key by its id."""

    async def work(hub: Hub) -> str:
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            stored = await hub.identity(session).revoke_key(actor, key_id)
            await hub.commit_audited(session, actor, "keys revoke", f"key:{stored.prefix}")
            return f"revoked key {stored.id} '{stored.name}'"

    typer.echo(_run(work))


@endpoints_app.command("create")
def endpoints_create(
    code: str,
    kind: Annotated[EndpointKind, typer.Option(help="radio or display")],
    area: Annotated[str, typer.Option(help="The commune it stands in")],
    profile: Annotated[
        DisplayProfile | None, typer.Option(help="For displays: eboard or border_gate")
    ] = None,
    name: Annotated[str | None, typer.Option(help="A name people recognise")] = None,
    language: Annotated[
        list[str] | None, typer.Option(help="A language it plays (repeatable; default vi)")
    ] = None,
) -> None:
    """Register an endpoint with the regulation's default windows; its API key is printed on
    the last line, once."""

    async def work(hub: Hub) -> str:
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            fields = EndpointCreate(
                code=code,
                name=name or code,
                kind=kind,
                profile=profile,
                area=area,
                languages=language or None,
            )
            service = EndpointService(session, hub.identity(session), hub.settings)
            endpoint, key = await service.create(actor, fields)
            await hub.commit_audited(session, actor, "endpoints create", f"endpoint:{code}")
            windows = "; ".join(endpoint.windows["mon"])
            typer.echo(f"created {endpoint.kind} {endpoint.code} in {area}, windows {windows}")
            return key.key

    try:
        typer.echo(_run(work))
    except ValidationError as error:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        typer.secho(f"error: {detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain under the hub's key: names every record edited, deleted or
    hashed without the key, and newest records deleted since a checkpoint. An intact chain
    gets a new checkpoint at its newest record."""

    async def work(hub: Hub) -> tuple[int, list[str], tuple[int, str] | None]:
        checks = AuditChecks(hub.sessionmaker, timedelta(seconds=hub.settings.audit_check_seconds))
        check, _next_due = await checks.start(CLI_CHECK, only_if_due=False)
        assert check is not None  # a check not only when due always begins
        try:
            checked, breaks, reached = await verify_and_mark(hub)
        except BaseException as error:
            await checks.fail(check, error)
            raise
        await checks.finish(check, checked, breaks)
        return checked, [f"record {b.record_id}: {b.reason}" for b in breaks], reached

    async def verify_and_mark(hub: Hub) -> tuple[int, list[AuditBreak], tuple[int, str] | None]:
        async with hub.sessionmaker() as session:
            service = AuditService(session)
            checked, breaks = await service.verify()
            reached = None if breaks else await service.checkpoint()
            await session.commit()
            if breaks:
                # A broken chain is a cyber incident (Đắk Nông 002 Điều 14.8).
                opened = await IncidentWatch(session).audit_chain_broken(breaks)
                if opened is not None:
                    actor = await hub.operator(session)
                    await hub.commit_audited(
                        session, actor, "audit verify", f"incident:{opened.id}"
                    )
            return checked, breaks, reached

    checked, problems, reached = _run(work)
    if problems:
        for line in problems:
            typer.secho(line, fg=typer.colors.RED, err=True)
        typer.secho(
            f"audit chain BROKEN: {len(problems)} problem(s) in {checked} records", err=True
        )
        raise typer.Exit(code=1)
    # The checkpoint's record and hash, kept elsewhere, show a cut end even if the
    # checkpoints themselves are deleted.
    typer.echo(
        f"audit chain intact: {checked} records"
        + (f", checkpoint at #{reached[0]} {reached[1]}" if reached is not None else "")
    )


@audit_app.command("rekey")
def audit_rekey() -> None:
    """Once, after upgrading from a hub whose chain was not keyed: check the plain SHA-256
    records and rewrite the chain under the hub's key. Refused on a broken chain."""

    async def work(hub: Hub) -> int:
        async with hub.sessionmaker() as session:
            rewritten = await AuditService(session).rekey()
            if rewritten:
                actor = await hub.operator(session)
                await hub.commit_audited(session, actor, "audit rekey", f"records:{rewritten}")
            return rewritten

    rewritten = _run(work)
    if rewritten:
        typer.echo(f"audit chain keyed: {rewritten} record(s) written before the key rewritten")
    else:
        typer.echo("audit chain already keyed: nothing to rewrite")


# --- backups (002 Điều 11.2, 14.7; 000/004 Điều 6.5; 001 Điều 9.1) ------------------------


def _backups(hub: Hub) -> BackupService:
    settings = hub.settings
    return BackupService(
        settings, hub.sessionmaker, BackupStore.from_settings(settings), create_storage(settings)
    )


def _cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def _show_step(step: Step) -> None:
    # On stderr, a line a part: stdout keeps what a script reads (the id, the listing).
    typer.echo(f"  {step.done}/{step.total} parts, {_size(step.bytes)}: {step.part}", err=True)


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    scaled = float(count)
    for unit in ("KiB", "MiB", "GiB"):
        scaled /= 1024
        if scaled < 1024 or unit == "GiB":
            break
    return f"{scaled:.1f} {unit}"


@backup_app.command("create")
def backup_create() -> None:
    """Back up the database (everything: content, advertising, broadcast times and plays,
    audit) and every media object now; prints the backup's id on the last line."""

    async def work(hub: Hub) -> str:
        service = _backups(hub)
        typer.echo(f"backing up into {service.store.where}", err=True)
        manifest = await service.create(_cli_actor(), "cli", _show_step)
        typer.echo(
            f"backup {manifest.backup_id}: {len(manifest.parts)} parts, {_size(manifest.size)}",
            err=True,
        )
        return manifest.backup_id

    typer.echo(_run(work))


@backup_app.command("list")
def backup_list() -> None:
    """The complete backups, oldest first, and how the last run went."""

    async def work(hub: Hub) -> None:
        service = _backups(hub)
        manifests = await service.manifests()
        for manifest in manifests:
            typer.echo(
                f"{manifest.backup_id}  {manifest.created_at.isoformat()}  "
                f"{manifest.database_backend:10}  {len(manifest.parts):5} parts  "
                f"{_size(manifest.size)}"
            )
        if not manifests:
            typer.echo(f"no backups in {service.store.where}")
        last = await service.last_run()
        if last is None:
            typer.echo("last run: none yet")
        else:
            typer.echo(
                f"last run: {last.backup_id} {last.status} ({last.trigger}), started "
                f"{last.started_at.isoformat()}" + (f": {last.detail}" if last.detail else "")
            )

    _run(work)


@backup_app.command("verify")
def backup_verify(backup_id: str) -> None:
    """Hash every part of the backup again against its manifest; names each part changed or
    missing (exit status 1)."""

    async def work(hub: Hub) -> tuple[int, list[str]]:
        manifest, problems = await _backups(hub).verify(backup_id, _show_step)
        return len(manifest.parts), [f"{problem.part}: {problem.reason}" for problem in problems]

    checked, problems = _run(work)
    if problems:
        for line in problems:
            typer.secho(line, fg=typer.colors.RED, err=True)
        typer.secho(f"backup {backup_id} DAMAGED: {len(problems)} of {checked} parts", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"backup {backup_id} intact: {checked} parts match the manifest")


@backup_app.command("restore")
def backup_restore(
    backup_id: str,
    into: Annotated[
        str, typer.Option("--into", help="SQLAlchemy URL of an EMPTY database to restore into")
    ],
) -> None:
    """Restore a backup into an empty database, and its media into the configured storage.
    Serve the restored hub with the same NGUON_SECRET_KEY: the audit chain is keyed by it."""

    async def work(hub: Hub) -> str:
        manifest = await _backups(hub).restore(backup_id, into, _cli_actor(), _show_step)
        return (
            f"restored {manifest.backup_id} ({len(manifest.parts)} parts, schema at "
            f"{manifest.alembic_revision}); serve it with the NGUON_SECRET_KEY it was taken "
            "under, and run `nguon db upgrade` if this hub is newer"
        )

    typer.echo(_run(work))


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a day: write YYYY-MM-DD") from None


@export_app.command("inspection")
def export_inspection(
    first: Annotated[
        date, typer.Option("--from", parser=_day, metavar="YYYY-MM-DD", help="First local day")
    ],
    last: Annotated[
        date,
        typer.Option("--to", parser=_day, metavar="YYYY-MM-DD", help="Last local day (included)"),
    ],
    area: Annotated[str, typer.Option(help="Area code (its whole subtree is exported)")],
    out: Annotated[Path, typer.Option(dir_okay=False, help="The XLSX file to write")],
) -> None:
    """Content, advertising content and broadcast times of a period as an XLSX workbook for
    inspection (001 Điều 9.1): sheets Bulletins, Advertising and Broadcasts."""

    async def work(hub: Hub) -> str:
        out.parent.mkdir(parents=True, exist_ok=True)
        async with hub.sessionmaker() as session:
            area_unit = await AreaService(session).get_by_code(area)
            export = await ExportService(session).inspection(area_unit, first, last, out.parent)
        export.path.replace(out)
        return (
            f"wrote {out}: {export.bulletins} bulletins, {export.advertising} advertising, "
            f"{export.broadcasts} broadcasts"
        )

    typer.echo(_run(work))


# --- periodic reports ----------------------------------------------------------------------

REPORT_FORMATS = (".pdf", ".xlsx", ".json")


@reports_app.command("make")
def reports_make(
    area: Annotated[str, typer.Option(help="Area code")],
    period: Annotated[str, typer.Option(help="Period id: 2026-H1, 2026-H2, 2026-Y (the year)")],
    out: Annotated[
        Path, typer.Option(dir_okay=False, help="The file to write: .pdf, .xlsx or .json")
    ],
) -> None:
    """An area's periodic report (002 Điều 18, 000/004 Điều 15, 001 Điều 14), its figures up
    to now while the period runs, as a PDF, a workbook or the API's JSON."""
    if out.suffix.lower() not in REPORT_FORMATS:
        raise typer.BadParameter(f"{out.name} is neither .pdf, .xlsx nor .json", param_hint="--out")

    async def work(hub: Hub) -> str:
        async with hub.sessionmaker() as session:
            actor = await hub.operator(session)
            report = await ReportService(session, hub.settings).report_for(
                actor, area, period, utcnow()
            )
        suffix = out.suffix.lower()
        if suffix == ".pdf":
            content = await render_pdf(report)
        elif suffix == ".xlsx":
            content = await render_xlsx(report)
        else:
            content = report.model_dump_json(indent=2).encode()
        out.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(out.write_bytes, content)
        return f"wrote {out}: report {report.period.id} of {report.area.code} ({report.area.name})"

    typer.echo(_run(work))
