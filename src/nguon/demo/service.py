"""Demo data: a real current province with its communes, a legacy three-tier province with its
districts, one account per role, and in the chair's commune a radio and an e-board with a few
bulletins on air. Loading it twice changes nothing."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.service import AreaService, ImportResult
from nguon.areas.sources import current_units, units_from_csv
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.bulletins.schemas import BulletinCreate
from nguon.bulletins.service import BulletinService
from nguon.endpoints.schemas import EndpointCreate
from nguon.endpoints.service import EndpointService
from nguon.endpoints.windows import DisplayProfile, EndpointKind
from nguon.identity.principal import AreaScope, Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService
from nguon.kit.settings import Settings
from nguon.kit.storage import create_storage
from nguon.speech.service import Speech

CURRENT_PROVINCE = "91"  # An Giang, border-gate province of the seeds
LEGACY_CSV = Path(__file__).resolve().parent.parent / "areas" / "data" / "legacy_lai_chau.csv"
DEMO_PASSWORD = "nguon-demo-2026"  # noqa: S105 - printed to the operator; demo data only


@dataclass(frozen=True, slots=True)
class DemoAccount:
    username: str
    role: Role
    area: str
    password: str = DEMO_PASSWORD


@dataclass(frozen=True, slots=True)
class DemoEndpoint:
    code: str
    kind: EndpointKind
    api_key: str | None  # shown when created; None when it existed already


@dataclass(frozen=True, slots=True)
class DemoResult:
    current: ImportResult
    legacy: ImportResult
    accounts: list[DemoAccount]
    created_accounts: int
    endpoints: list[DemoEndpoint]


DEMO_ENDPOINTS = (
    ("AG-DEMO-RADIO", EndpointKind.radio, None, ["vi"]),
    ("AG-DEMO-BOARD", EndpointKind.display, DisplayProfile.eboard, ["vi", "en"]),
)
DEMO_BULLETINS = (
    (Priority.emergency, Category.disaster_fire_epidemic, "Cảnh báo lũ trên sông Hậu",
     "Mực nước sông Hậu đang lên nhanh; người dân vùng trũng chủ động di dời tài sản."),
    (Priority.priority, Category.policy_and_law, "Lịch tiếp công dân tháng này",
     "UBND tỉnh tiếp công dân vào thứ Năm hằng tuần tại trụ sở tiếp công dân tỉnh."),
    (Priority.normal, Category.good_examples, "Gương sáng nông dân sản xuất giỏi",
     "Hợp tác xã lúa sạch của xã đạt năng suất cao nhất vụ Đông Xuân."),
)  # fmt: skip


def demo_accounts(first_commune: str, legacy_districts: list[str]) -> list[DemoAccount]:
    accounts = [
        DemoAccount("admin", Role.admin, CURRENT_PROVINCE),
        DemoAccount("editor", Role.editor, CURRENT_PROVINCE),
        DemoAccount("appraiser", Role.appraiser, CURRENT_PROVINCE),
        DemoAccount("publisher", Role.publisher, CURRENT_PROVINCE),
        DemoAccount("chair", Role.commune_chair, first_commune),
        DemoAccount("viewer", Role.viewer, CURRENT_PROVINCE),
        DemoAccount("lc.admin", Role.admin, "12"),
        DemoAccount("lc.editor", Role.editor, "12"),
    ]
    accounts += [
        DemoAccount(f"lc.publisher.{code}", Role.publisher, code) for code in legacy_districts[:2]
    ]
    return accounts


async def load_demo(
    session: AsyncSession, identity: IdentityService, actor: Principal, settings: Settings
) -> DemoResult:
    areas = AreaService(session)
    current_records = current_units([CURRENT_PROVINCE])
    legacy_records = units_from_csv(LEGACY_CSV)
    current = await areas.import_records(current_records)
    legacy = await areas.import_records(legacy_records)
    first_commune = min(r.code for r in current_records if r.parent_code == CURRENT_PROVINCE)
    districts = sorted(r.code for r in legacy_records if r.level == "district")
    accounts = demo_accounts(first_commune, districts)
    created = 0
    for account in accounts:
        if await identity.users.get_by_username(account.username) is None:
            await identity.create_user(
                actor, account.username, account.password, account.role, account.area
            )
            created += 1
    endpoints = await _demo_endpoints(session, identity, actor, settings, first_commune)
    return DemoResult(current, legacy, accounts, created, endpoints)


async def _demo_endpoints(
    session: AsyncSession,
    identity: IdentityService,
    actor: Principal,
    settings: Settings,
    commune: str,
) -> list[DemoEndpoint]:
    """A radio and an e-board in the chair's commune; on first load, bulletins for them."""
    service = EndpointService(session, identity, settings)
    found: list[DemoEndpoint] = []
    for code, kind, profile, languages in DEMO_ENDPOINTS:
        if await service.repository.by_code(code) is not None:
            found.append(DemoEndpoint(code, kind, None))
            continue
        fields = EndpointCreate(
            code=code,
            name=f"Demo {kind}",
            kind=kind,
            profile=profile,
            area=commune,
            languages=languages,
        )
        _endpoint, key = await service.create(actor, fields)
        found.append(DemoEndpoint(code, kind, key.key))
    if all(endpoint.api_key for endpoint in found):
        province = await AreaService(session).get_by_code(CURRENT_PROVINCE)
        editor = Principal("system", 0, "demo", Role.editor, AreaScope.of(province))
        # Radios read the demo's text bulletins aloud: its speech goes to the media storage.
        storage = create_storage(settings)
        await storage.ensure_ready()
        bulletins = BulletinService(session, Speech.configured(settings, storage))
        for priority, category, title, body in DEMO_BULLETINS:
            bulletin = await bulletins.create(
                editor,
                BulletinCreate(
                    title=title,
                    kind=BulletinKind.text,
                    body=body,
                    category=category,
                    priority=priority,
                    targets=[CURRENT_PROVINCE],
                    media=[],
                ),
            )
            await bulletins.submit(editor, bulletin.id)
            await bulletins.approve(editor, bulletin.id, settings)
    return found
