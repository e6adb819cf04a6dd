"""What the hub opens incidents for by itself, and closes when the cause is gone.

- an endpoint silent longer than NGUON_INCIDENT_OFFLINE_SECONDS (the reconciler's pass):
  resolved by the hub at its next heartbeat (Đắk Nông 002 Điều 11.4, 16.5);
- a heartbeat reporting a fault: resolved at the next heartbeat that says `ok`;
- an account locked by repeated failed sign-ins (a cyber incident, 002 Điều 14.8);
- a broken audit chain (`nguon audit verify`, and the workers' periodic check, once an
  interval between them: `nguon.audit.checks`).

Each cause has at most one open incident (`Incident.cause`, unique among open ones), so a
pass that finds the same endpoint silent again adds nothing.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nguon.audit.checks import SCHEDULE, AuditChecks
from nguon.audit.service import AuditBreak, AuditEntry, AuditService, Outcome
from nguon.dispatch.slots import LOCAL
from nguon.endpoints.models import Endpoint
from nguon.identity.models import User
from nguon.incidents.models import Incident, IncidentKind, Severity
from nguon.incidents.service import IncidentService
from nguon.kit.db import utcnow
from nguon.kit.settings import Settings

log = structlog.get_logger()

AUDIT_CHAIN = "audit-chain"
# Silent endpoints opened per pass: a province-wide power cut is taken in a few passes.
SILENT_BATCH = 500
# Breaks named in an audit incident's description; the rest are counted.
BREAKS_NAMED = 10


def offline_cause(endpoint_id: int) -> str:
    return f"offline:{endpoint_id}"


def fault_cause(endpoint_id: int) -> str:
    return f"fault:{endpoint_id}"


def lockout_cause(user_id: int) -> str:
    return f"lockout:{user_id}"


def local_time(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%d/%m/%Y %H:%M")


class IncidentWatch:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.incidents = IncidentService(session)
        self.repository = self.incidents.repository

    async def silent_endpoints(self, silent_since: datetime) -> list[Incident]:
        """Open one technical incident for each enabled endpoint not heard from since then
        that has none open; returns those opened now."""
        silent = await self.repository.silent_endpoints(silent_since, SILENT_BATCH)
        already = await self.repository.open_causes("offline:")
        opened = []
        for endpoint in silent:
            if offline_cause(endpoint.id) in already:
                continue
            incident = await self.incidents.open_once(
                offline_cause(endpoint.id),
                kind=IncidentKind.technical,
                severity=Severity.high,
                title=f"Thiết bị {endpoint.code} mất kết nối",
                description=f"{endpoint.name} ({endpoint.code}) không gửi tín hiệu hoạt động "
                f"từ trước {local_time(silent_since)}.",
                area=await self.incidents.area_of(endpoint),
                endpoints=[endpoint],
            )
            if incident is not None:
                opened.append(incident)
        return opened

    async def heard(self, endpoint: Endpoint, status: str, message: str | None) -> None:
        """A heartbeat came: it ends the endpoint's offline incident, and opens or ends its
        fault incident by what it reports."""
        open_now = {
            incident.cause: incident
            for incident in await self.repository.open_with_causes(
                [offline_cause(endpoint.id), fault_cause(endpoint.id)]
            )
        }
        offline = open_now.get(offline_cause(endpoint.id))
        if offline is not None:
            await self.incidents.resolve(offline, "Thiết bị gửi tín hiệu hoạt động trở lại.")
        fault = open_now.get(fault_cause(endpoint.id))
        if status == "ok":
            if fault is not None:
                await self.incidents.resolve(fault, "Thiết bị báo hoạt động bình thường.")
            return
        if fault is None:
            await self.incidents.open_once(
                fault_cause(endpoint.id),
                kind=IncidentKind.technical,
                severity=Severity.high if status == "fault" else Severity.medium,
                title=f"Thiết bị {endpoint.code} báo lỗi ({status})",
                description=message or "",
                area=await self.incidents.area_of(endpoint),
                endpoints=[endpoint],
            )

    async def account_locked(self, user: User, until: datetime) -> Incident | None:
        return await self.incidents.open_once(
            lockout_cause(user.id),
            kind=IncidentKind.cyber,
            severity=Severity.medium,
            title=f"Tài khoản {user.username} bị khoá do đăng nhập sai nhiều lần",
            description=f"Tài khoản bị khoá đến {local_time(until)} sau nhiều lần đăng nhập "
            "sai liên tiếp: có thể có người dò mật khẩu.",
            area=await self.incidents.areas.get(user.area_id) or await self.incidents.hub_area(),
        )

    async def audit_chain_broken(self, breaks: Sequence[AuditBreak]) -> Incident | None:
        """Open the cyber incident of a broken chain, unless one is open or the chain only
        waits for `nguon audit rekey` after an upgrade."""
        if await AuditService(self.session).awaits_rekey(breaks):
            return None
        named = "\n".join(f"#{b.record_id}: {b.reason}" for b in breaks[:BREAKS_NAMED])
        more = len(breaks) - BREAKS_NAMED
        return await self.incidents.open_once(
            AUDIT_CHAIN,
            kind=IncidentKind.cyber,
            severity=Severity.critical,
            title="Nhật ký kiểm toán bị sửa hoặc xoá",
            description=named + (f"\n… và {more} chỗ khác" if more > 0 else ""),
            area=await self.incidents.hub_area(),
        )


# --- the worker's passes ------------------------------------------------------------------

WATCH_ACTOR = "system:incidents"


async def _commit_opened(session: AsyncSession, opened: Sequence[Incident]) -> None:
    """Commit, audited as the hub when it opened anything."""
    if not opened:
        await session.commit()
        return
    entry = AuditEntry(
        actor=WATCH_ACTOR,
        action="incidents open",
        target="incidents:" + ",".join(str(incident.id) for incident in opened),
        outcome=Outcome.success,
    )
    await AuditService(session).append_and_commit(entry)


async def watch_silent_endpoints(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> int:
    """The reconciler's pass over silent endpoints; returns how many incidents it opened."""
    silent_since = utcnow() - timedelta(seconds=settings.incident_offline_seconds)
    async with sessionmaker() as session:
        opened = await IncidentWatch(session).silent_endpoints(silent_since)
        await _commit_opened(session, opened)
    return len(opened)


async def check_audit_chain(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[int, list[AuditBreak]]:
    """Verify the audit chain; a break opens a cyber incident (once while it is open).
    Returns how many records were checked and the breaks."""
    async with sessionmaker() as session:
        checked, breaks = await AuditService(session).verify()
        opened = await IncidentWatch(session).audit_chain_broken(breaks) if breaks else None
        await _commit_opened(session, [opened] if opened else [])
    return checked, breaks


async def check_audit_when_due(
    sessionmaker: async_sessionmaker[AsyncSession], checks: AuditChecks
) -> datetime:
    """Check the chain if no process did within the interval, recording the check; returns
    when the next is due."""
    check, next_due = await checks.start(SCHEDULE, only_if_due=True)
    if check is None:
        return next_due
    try:
        checked, breaks = await check_audit_chain(sessionmaker)
    except Exception as exc:
        await checks.fail(check, exc)
        raise
    await checks.finish(check, checked, breaks)
    if breaks:
        log.error("audit_chain_broken", breaks=len(breaks))
    return next_due


async def check_audit_forever(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    interval = timedelta(seconds=settings.audit_check_seconds)
    checks = AuditChecks(sessionmaker, interval)
    while True:
        try:
            next_due = await check_audit_when_due(sessionmaker, checks)
        except Exception:  # the next pass tries again
            log.exception("audit_check_failed")
            next_due = utcnow() + interval
        await asyncio.sleep(max(1.0, (next_due - utcnow()).total_seconds()))
