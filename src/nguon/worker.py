"""The delivery worker: relay, consumers, webhook push and reconciler, in one place.

`nguon worker` runs it as its own process (with Kafka, any number of them); on the embedded
default `nguon serve` runs it inside the API process, on the in-process bus.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from nguon.audit.service import audit_session_info
from nguon.backups.service import BackupService
from nguon.backups.store import BackupStore
from nguon.commands.mqtt import MqttChannel
from nguon.commands.pusher import CommandPusher
from nguon.dispatch.events import ENDPOINT_EVENTS
from nguon.dispatch.reconciler import Reconciler
from nguon.incidents.notifier import IncidentNotifier
from nguon.incidents.watch import check_audit_forever, watch_silent_endpoints
from nguon.kit.background import in_background
from nguon.kit.bus import Bus, InProcessBus, KafkaBus, KafkaOptions
from nguon.kit.changes import ChangeFeed
from nguon.kit.consumers import forget_processed, idempotent
from nguon.kit.db import create_sessionmaker, utcnow
from nguon.kit.errors import Conflict
from nguon.kit.outbox import OutboxRelay, relay_forever
from nguon.kit.settings import Settings
from nguon.kit.storage import create_storage
from nguon.push.webhooks import Pusher, for_push_endpoints, record_notifications
from nguon.reports.reminders import REPORT_REMINDERS, remind_forever
from nguon.uplink.sender import UplinkSender

log = structlog.get_logger()

WEBHOOK_CONSUMER = "webhooks"
MQTT_CONSUMER = "mqtt"


def bus_topics(settings: Settings) -> dict[str, str]:
    """The outbox's topics and their names on the bus."""
    return {ENDPOINT_EVENTS: settings.kafka_topic_endpoint_events}


def create_bus(settings: Settings) -> Bus:
    if settings.kafka_bootstrap is None:
        return InProcessBus()
    options = KafkaOptions(
        bootstrap=settings.kafka_bootstrap,
        partitions=settings.kafka_partitions,
        replication_factor=settings.kafka_replication_factor,
        idempotent_producer=settings.kafka_idempotent_producer,
    )
    return KafkaBus(options, list(bus_topics(settings).values()))


@asynccontextmanager
async def started(bus: Bus) -> AsyncIterator[Bus]:
    """The bus, connecting in the background: the database is the truth, so the API serves
    and the worker's database loops run while the broker is away (events wait in the outbox,
    subscriptions begin once it is back), and a process told to stop is not stuck waiting."""
    try:
        # Out of the connecting first, so that no producer it starts outlives the stop.
        async with in_background("bus-connect", bus.start):
            yield bus
    finally:
        await bus.stop()


async def reconcile_forever(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    first = timedelta(seconds=settings.redrive_seconds)
    cap = max(first, timedelta(seconds=settings.redrive_max_seconds))
    repush = timedelta(seconds=settings.emergency_repush_seconds)
    offline_after = timedelta(seconds=settings.endpoint_offline_seconds)
    retention = timedelta(hours=settings.outbox_retention_hours)
    # A pass at least every repush interval, or emergencies would be announced again only as
    # often as the passes come, whatever the interval says.
    pause = min(settings.reconcile_seconds, settings.emergency_repush_seconds)
    while True:
        try:
            async with sessionmaker() as session:
                reconciler = Reconciler(
                    session, first, cap, repush=repush, offline_after=offline_after
                )
                redriven = await reconciler.redrive()
                await forget_processed(session, utcnow() - retention)
                await session.commit()
            if redriven:
                log.info("deliveries_redriven", deliveries=redriven)
            # An endpoint silent too long opens one incident (Đắk Nông 002 Điều 16.5).
            opened = await watch_silent_endpoints(sessionmaker, settings)
            if opened:
                log.info("offline_incidents_opened", incidents=opened)
        except Exception:  # the next pass tries again
            log.exception("reconciler_failed")
        await asyncio.sleep(pause)


BACKUP_ACTOR = "system:backup-schedule"


async def backup_forever(engine: AsyncEngine, settings: Settings) -> None:
    """The backup schedule (000/004 Điều 6.5: monthly; 002 Điều 14.7): every check, a backup
    when the last good one is older than NGUON_BACKUP_INTERVAL_DAYS, then the old ones pruned.
    Any number of workers may run it: the run lock lets one take the backup. The first check
    waits one interval, so that a restarted process does not back up at every start."""
    # Its own sessions carry the audit key: the runs are audited.
    sessionmaker = create_sessionmaker(engine, info=audit_session_info(settings.signing_secret()))
    service = BackupService(
        settings, sessionmaker, BackupStore.from_settings(settings), create_storage(settings)
    )
    while True:
        await asyncio.sleep(settings.backup_check_seconds)
        try:
            manifest = await service.run_if_due(BACKUP_ACTOR)
        except Conflict as refusal:  # another process is taking it
            log.info("backup_skipped", reason=refusal.detail)
        except Exception:  # recorded as a failed run; the next check tries again
            log.exception("backup_schedule_failed")
        else:
            if manifest is not None:
                log.info("backup_scheduled", backup=manifest.backup_id, bytes=manifest.size)


@asynccontextmanager
async def mqtt_channel(settings: Settings, bus: Bus, mqtt: MqttChannel) -> AsyncIterator[None]:
    """The MQTT channel: connected to the broker, and relaying endpoint events to radios (one
    worker of the group relays each event)."""
    async with (
        in_background("mqtt-channel", mqtt.run),
        bus.subscription(
            [settings.kafka_topic_endpoint_events],
            f"{settings.kafka_consumer_group}-{MQTT_CONSUMER}",
            mqtt.relay,
        ),
    ):
        yield


@asynccontextmanager
async def running_worker(
    settings: Settings,
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    bus: Bus,
    feed: ChangeFeed | None,
    mqtt: MqttChannel | None,
) -> AsyncIterator[None]:
    """Relay, webhook consumer, pusher, reconciler (which also opens incidents for silent
    endpoints), command pusher, the backup schedule, the audit chain's periodic check and
    (when configured) the uplink to the central system, the incident webhook (which also
    takes the report reminders) and the MQTT channel to radios, and the report reminders,
    for as long as the context is open."""
    relay = OutboxRelay(
        sessionmaker,
        bus,
        bus_topics(settings),
        poll_seconds=settings.relay_poll_seconds,
        retention=timedelta(hours=settings.outbox_retention_hours),
    )
    pusher = Pusher(sessionmaker, settings, feed)
    uplink = UplinkSender(sessionmaker, settings, feed) if settings.uplink_enabled else None
    notifier = (
        IncidentNotifier(sessionmaker, settings, feed)
        if settings.incident_webhook_enabled
        else None
    )
    reminder_sender = (
        IncidentNotifier(sessionmaker, settings, feed, REPORT_REMINDERS)
        if settings.incident_webhook_enabled
        else None
    )
    commands = CommandPusher(sessionmaker, settings, feed)
    async with (
        bus.subscription(
            [settings.kafka_topic_endpoint_events],
            settings.kafka_consumer_group,
            idempotent(
                sessionmaker,
                WEBHOOK_CONSUMER,
                record_notifications,
                concerning=for_push_endpoints,
            ),
        ),
        in_background("outbox-relay", lambda: relay_forever(relay, engine, feed)),
        in_background("webhook-pusher", pusher.run),
        in_background("reconciler", lambda: reconcile_forever(sessionmaker, settings)),
        in_background("uplink", uplink.run) if uplink else contextlib.nullcontext(),
        in_background("backups", lambda: backup_forever(engine, settings)),
        in_background("incident-notifier", notifier.run) if notifier else contextlib.nullcontext(),
        in_background("audit-check", lambda: check_audit_forever(sessionmaker, settings)),
        in_background("command-pusher", commands.run),
        in_background("report-reminders", lambda: remind_forever(sessionmaker, settings))
        if settings.report_reminder_days
        else contextlib.nullcontext(),
        in_background("report-reminder-sender", reminder_sender.run)
        if reminder_sender
        else contextlib.nullcontext(),
        mqtt_channel(settings, bus, mqtt) if mqtt else contextlib.nullcontext(),
    ):
        yield
