"""Every table of the hub, gathered for Alembic and the drift check."""

from nguon.areas.models import Area
from nguon.audit.models import AuditRecord
from nguon.identity.models import ApiKey, User
from nguon.kit.db import Base
from nguon.media.models import MediaObject, MediaRendition

metadata = Base.metadata

__all__ = ["ApiKey", "Area", "AuditRecord", "MediaObject", "MediaRendition", "User", "metadata"]
