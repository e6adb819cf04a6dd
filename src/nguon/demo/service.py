"""Demo data: a real current province with its communes, a legacy three-tier province with its
districts, and one account per role. Loading it twice changes nothing."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from nguon.areas.service import AreaService, ImportResult
from nguon.areas.sources import current_units, units_from_csv
from nguon.identity.principal import Principal
from nguon.identity.roles import Role
from nguon.identity.service import IdentityService

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
class DemoResult:
    current: ImportResult
    legacy: ImportResult
    accounts: list[DemoAccount]
    created_accounts: int


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
    session: AsyncSession, identity: IdentityService, actor: Principal
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
    return DemoResult(current, legacy, accounts, created)
