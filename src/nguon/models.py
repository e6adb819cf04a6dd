"""Every table of the hub, gathered for Alembic and the drift check."""

from nguon.areas.models import Area
from nguon.audit.models import AuditCheck, AuditCheckpoint, AuditRecord
from nguon.backups.models import BackupRun
from nguon.bulletins.models import Bulletin, BulletinRevision
from nguon.central.models import CentralAlert, UsedSignature
from nguon.commands.models import EndpointCommand
from nguon.communes.models import ChairOrder, ProgrammeEntry
from nguon.dispatch.models import Delivery, Play
from nguon.endpoints.models import (
    Endpoint,
    EndpointHeartbeat,
    EndpointPlaylist,
    EndpointUptime,
    MaintenanceRecord,
)
from nguon.identity.models import ApiKey, User
from nguon.incidents.models import Incident, IncidentEntry, IncidentNotice
from nguon.kit.consumers import ProcessedEvent
from nguon.kit.db import Base
from nguon.kit.idempotency import IdempotentRequest
from nguon.kit.outbox import OutboxEvent
from nguon.media.models import MediaObject, MediaRendition
from nguon.push.models import Notification, NotificationAttempt
from nguon.reports.models import ReportNarrative, ReportReminder, ReportSchedule
from nguon.rules.models import BroadcastRule
from nguon.speech.models import BulletinSpeech
from nguon.uplink.models import UplinkAttempt, UplinkMessage

metadata = Base.metadata

__all__ = [
    "ApiKey",
    "Area",
    "AuditCheck",
    "AuditCheckpoint",
    "AuditRecord",
    "BackupRun",
    "BroadcastRule",
    "Bulletin",
    "BulletinRevision",
    "BulletinSpeech",
    "CentralAlert",
    "ChairOrder",
    "Delivery",
    "Endpoint",
    "EndpointCommand",
    "EndpointHeartbeat",
    "EndpointPlaylist",
    "EndpointUptime",
    "IdempotentRequest",
    "Incident",
    "IncidentEntry",
    "IncidentNotice",
    "MaintenanceRecord",
    "MediaObject",
    "MediaRendition",
    "Notification",
    "NotificationAttempt",
    "OutboxEvent",
    "Play",
    "ProcessedEvent",
    "ProgrammeEntry",
    "ReportNarrative",
    "ReportReminder",
    "ReportSchedule",
    "UplinkAttempt",
    "UplinkMessage",
    "UsedSignature",
    "User",
    "metadata",
]
