from dataclasses import dataclass
from typing import Literal

from nguon.areas.levels import AreaLevel
from nguon.areas.models import Area
from nguon.identity.roles import ACTS_AS, Role
from nguon.kit.errors import Forbidden


@dataclass(frozen=True, slots=True)
class AreaScope:
    id: int
    code: str
    name: str
    level: AreaLevel
    path: str

    @classmethod
    def of(cls, area: Area) -> "AreaScope":
        return cls(id=area.id, code=area.code, name=area.name, level=area.level, path=area.path)

    def contains(self, path: str) -> bool:
        return path.startswith(self.path)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: a person or a machine, with one role inside one area."""

    kind: Literal["user", "key", "system"]
    id: int
    name: str
    role: Role
    area: AreaScope
    endpoint_id: int | None = None  # set when the caller is an endpoint's key

    @property
    def effective_role(self) -> Role:
        return ACTS_AS.get(self.role, self.role)

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def require_within(self, area: Area | AreaScope, what: str = "this area") -> None:
        """Refuse anything outside the subtree of the principal's own area."""
        if not self.area.contains(area.path):
            raise Forbidden(
                f"{self.label} acts in {self.area.code} ({self.area.name}) and may not act on "
                f"{what} in {area.code} ({area.name})."
            )
