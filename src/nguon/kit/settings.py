"""Settings, read from `NGUON_*` environment variables (and a `.env` file when present).

The embedded default keeps everything under `data_dir`; setting `database_url`, the `s3_*` names and
`kafka_bootstrap` moves the hub onto PostgreSQL, object storage and Kafka without code changes.
"""

import secrets
import ssl
from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nguon.kit.db import DatabaseTimeouts

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def project_home() -> Path:
    """The source checkout when nguon runs from one, else the working directory.

    Relative paths are taken from here so that the CLI and the server find the same data
    wherever they are started from inside a checkout.
    """
    checkout = PACKAGE_DIR.parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "migrations").is_dir():
        return checkout
    return Path.cwd()


MQTT_PORTS = {"mqtt": 1883, "mqtts": 8883}
MQTT_URL_FORM = "mqtt://[user:password@]host[:port] (mqtts:// for TLS)"


@dataclass(frozen=True, slots=True)
class MqttBroker:
    """NGUON_MQTT_URL taken apart. Its text (`str`) leaves the password out, so it may be
    logged and shown."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: SecretStr | None = None

    @property
    def tls(self) -> bool:
        return self.scheme == "mqtts"

    def __str__(self) -> str:
        account = f"{quote(self.username, safe='')}@" if self.username is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{account}{host}:{self.port}"

    @classmethod
    def parse(cls, url: str) -> "MqttBroker":
        """The broker a URL names; a ValueError saying what is wrong otherwise, in words that
        never repeat the URL or a part of it (a password may be anywhere in a malformed one)."""
        if any(character.isspace() for character in url):
            raise ValueError(f"NGUON_MQTT_URL must be {MQTT_URL_FORM}, without spaces")
        try:
            parts = urlsplit(url)
            hostname, username, password = parts.hostname, parts.username, parts.password
        except ValueError:  # its words may quote the URL
            raise ValueError(f"NGUON_MQTT_URL must be {MQTT_URL_FORM}") from None
        if parts.scheme not in MQTT_PORTS or not url.lower().startswith(f"{parts.scheme}://"):
            raise ValueError(f"NGUON_MQTT_URL must be {MQTT_URL_FORM}")
        if parts.path not in ("", "/") or parts.query or parts.fragment or url.endswith(("?", "#")):
            raise ValueError(
                "NGUON_MQTT_URL must end at host[:port], without a path (in the user name "
                "or password, write / ? # @ as %2F %3F %23 %40)"
            )
        if not hostname:
            raise ValueError(f"NGUON_MQTT_URL names no host: it must be {MQTT_URL_FORM}")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError("NGUON_MQTT_URL's port must be a number from 1 to 65535")
        if username == "" or (username is None and password is not None):
            raise ValueError("NGUON_MQTT_URL gives a password without a user name")
        return cls(
            scheme=parts.scheme,
            host=hostname,
            port=port or MQTT_PORTS[parts.scheme],
            username=None if username is None else unquote(username),
            password=None if password is None else SecretStr(unquote(password)),
        )


class Settings(BaseSettings):
    # A refusal names the setting and its rule but not the values given: they include keys,
    # and URLs with passwords in them.
    model_config = SettingsConfigDict(
        env_prefix="NGUON_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; unset means the SQLite file nguon.db in data_dir.",
    )
    database_echo: bool = False
    database_pool_size: int = Field(default=10, ge=1)
    database_pool_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=300,
        description="How long a request waits for a free database connection before it is "
        "answered 503 Service Unavailable",
    )
    # Bounds on what one connection may hold, so that nothing holds a lock or a connection for
    # ever; set on PostgreSQL connections of `nguon serve` and `nguon worker` (0 turns one off).
    database_statement_timeout_seconds: float = Field(
        default=30, ge=0, description="A longer statement is cancelled (answered 503)"
    )
    database_lock_timeout_seconds: float = Field(
        default=10,
        ge=0,
        description="How long a statement waits for a lock (on SQLite: for the write lock) "
        "before it gives up (answered 503)",
    )
    database_idle_in_transaction_timeout_seconds: float = Field(
        default=900,
        ge=0,
        description="A transaction left idle longer is ended by PostgreSQL; longer than the "
        "slowest upload (an upload streams inside its request's transaction)",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens and keys API-key hashes; generated into data_dir "
        "when unset.",
    )
    access_token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    jwt_issuer: str = "nguon"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65_535)
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_json: bool | Literal["auto"] = Field(
        default="auto", description="JSON log lines; auto: readable lines when stdout is a terminal"
    )
    clock_seconds: float = Field(
        default=30, gt=0, le=3600, description="How often scheduled and expired bulletins move"
    )

    change_sync_seconds: float = Field(
        default=1, gt=0, le=60, description="How often caches learn other processes' changes"
    )

    # Object storage and the Kafka bus; used from the bulletin and delivery capabilities on.
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "nguon-media"
    s3_region: str = "us-east-1"
    s3_public_endpoint: str | None = None
    s3_secure: bool = True

    # The bus: Kafka when kafka_bootstrap is set, else in process (the embedded default).
    kafka_bootstrap: str | None = Field(
        default=None, description="host:port[,host:port]; unset means the in-process bus"
    )
    kafka_topic_endpoint_events: str = "nguon.endpoint-events"
    kafka_partitions: int = Field(default=12, ge=1, le=1_000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    kafka_idempotent_producer: bool = Field(
        default=True, description="Kafka's idempotent producer (brokers without it: false)"
    )
    kafka_consumer_group: str = "nguon-worker"
    worker_in_process: bool | None = Field(
        default=None,
        description="Run relay, consumers, push and reconciler inside `nguon serve`; unset "
        "means yes on the in-process bus and no with Kafka (run `nguon worker`)",
    )
    relay_poll_seconds: float = Field(
        default=0.1,
        gt=0,
        le=10,
        description="How often the relay looks for new events it was not woken for",
    )
    outbox_retention_hours: float = Field(
        default=24, gt=0, description="How long published events stay for reconnecting clients"
    )
    reconcile_seconds: float = Field(
        default=10, gt=0, le=3600, description="How often unacknowledged deliveries are checked"
    )
    redrive_seconds: float = Field(
        default=120,
        gt=0,
        description="An unacknowledged delivery is announced again after this, then after "
        "twice as long each time",
    )
    redrive_max_seconds: float = Field(default=1800, gt=0)
    emergency_repush_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="An unacknowledged emergency delivery to a connected endpoint (heard from "
        "within endpoint_offline_seconds, or with a push URL) is announced again this often, "
        "without backoff, until it leaves the air; the reconciler checks at least as often",
    )
    sse_keepalive_seconds: float = Field(default=15, gt=0, le=300)
    push_timeout_seconds: float = Field(default=10, gt=0, le=120)
    push_retry_seconds: float = Field(
        default=5, gt=0, description="The first wait before a webhook is retried; it doubles"
    )
    push_retry_max_seconds: float = Field(default=600, gt=0)
    push_concurrency: int = Field(default=50, ge=1, le=1_000)

    # Media: limits per kind, and the broadcast rendition for radio.
    media_max_audio_bytes: int = Field(default=200 * 2**20, ge=1)
    media_max_image_bytes: int = Field(default=20 * 2**20, ge=1)
    media_max_video_bytes: int = Field(default=2 * 2**30, ge=1)
    media_max_subtitle_bytes: int = Field(default=2 * 2**20, ge=1)
    media_max_image_pixels: int = Field(default=40_000_000, ge=1)
    media_url_ttl_seconds: int = Field(default=900, ge=10, le=7 * 86_400)
    media_sweep_seconds: float = Field(
        default=3600, gt=0, le=86_400, description="How often leftovers of uploads are removed"
    )
    media_partial_max_age_seconds: int = Field(
        default=3600,
        ge=60,
        description="A half-written object unchanged this long is a broken-off upload",
    )
    media_orphan_grace_seconds: int = Field(
        default=86_400,
        ge=60,
        description="A stored object with no media record this old is an orphan",
    )
    broadcast_sample_rate: int = Field(default=44_100, ge=8_000, le=48_000)
    broadcast_loudness_lufs: float = Field(default=-16.0, ge=-40.0, le=-5.0)
    broadcast_bitrate_kbps: int = Field(default=96, ge=32, le=320)
    thumbnail_px: int = Field(default=320, ge=32, le=2048)

    # Speech: how text bulletins are read aloud for radio (`nguon.speech`).
    speech_engine: Literal["espeak", "http", "off"] = Field(
        default="espeak",
        description="espeak: the built-in offline engine; http: a provider's speech service at "
        "speech_url; off: no speech (text bulletins then reach displays only)",
    )
    speech_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/@]+(/\S*)?$",
        description="The provider's speech service, POSTed {text, language} (engine http)",
    )
    speech_token: SecretStr | None = Field(
        default=None, description="Bearer token for the speech service (engine http)"
    )
    speech_timeout_seconds: float = Field(
        default=20, gt=0, le=300, description="How long one synthesis may take, answer included"
    )
    speech_rate_wpm: int = Field(
        default=160, ge=80, le=450, description="Speaking rate of the built-in engine"
    )
    speech_languages: str = Field(
        default="",
        description="Languages the speech service speaks (engine http), comma-separated BCP 47 "
        "tags matched by primary subtag; empty: every language is asked for",
    )

    # The least an endpoint must operate each day, by profile (Lai Châu asks 6 h of border gates).
    min_daily_hours_radio: float = Field(default=0, ge=0, le=24)
    min_daily_hours_eboard: float = Field(default=0, ge=0, le=24)
    min_daily_hours_border_gate: float = Field(default=6, ge=0, le=24)
    # Advertising airtime where a province keeps no limit of its own (001 Điều 8.3 defers to
    # the law on advertising, whose Điều 22 caps radio advertising at 10% of a day's airtime),
    # and how long a still advertisement (text, picture) counts per showing.
    advertising_percent: float = Field(
        default=10,
        ge=0,
        le=100,
        description="Most advertising airtime an endpoint gives in a day, as a percentage of "
        "its operating windows that day, where its province keeps no limit",
    )
    advertising_still_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="Airtime a text or picture advertisement counts per showing",
    )
    endpoint_offline_seconds: int = Field(
        default=180,
        ge=10,
        le=86_400,
        description="An endpoint silent for longer than this (no heartbeat) counts as offline",
    )

    # The audio of incoming CAP alerts: where it may be fetched from, and for how long.
    central_resource_hosts: str = Field(
        default="",
        description="Hosts the audio of CAP resources may be fetched from by `uri`, "
        "comma-separated, matched exactly (any port); empty means only inline `derefUri` audio",
    )
    central_resource_timeout_seconds: float = Field(
        default=30, gt=0, le=600, description="How long fetching one CAP resource may take, whole"
    )

    # The link up to the central source system: shared bulletins and daily statistics.
    central_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/@]+(/\S*)?$",
        description="Base URL of the central source system's intake; unset means the uplink is off",
    )
    central_key: SecretStr | None = Field(
        default=None, description="The key the central system gave the province; signs uplinks"
    )
    uplink_timeout_seconds: float = Field(default=30, gt=0, le=300)
    uplink_retry_seconds: float = Field(
        default=10, gt=0, description="The first wait before an uplink is retried; it doubles"
    )
    uplink_retry_max_seconds: float = Field(default=1800, gt=0)
    uplink_report_time: time = Field(
        default=time(0, 30),
        description="Local time (Asia/Ho_Chi_Minh) after which the previous day's statistics go up",
    )

    # Backups of the database and the media (`nguon.backups`), kept for inspection
    # (002 Điều 11.2, 14.7; 001 Điều 9.1) and taken monthly by the worker (000/004 Điều 6.5).
    backup_interval_days: float = Field(
        default=30, gt=0, le=366, description="How often the worker takes a backup"
    )
    backup_retention_days: float = Field(
        default=183,
        gt=0,
        description="Backups older than this are removed after a new one succeeds",
    )
    backup_s3_bucket: str | None = Field(
        default=None,
        description="Keep backups in this bucket on NGUON_S3_ENDPOINT (its credentials); "
        "unset means the directory backups in data_dir",
    )
    backup_s3_prefix: str = Field(
        default="backups",
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="The key prefix of backups in NGUON_BACKUP_S3_BUCKET",
    )
    backup_check_seconds: float = Field(
        default=3600, gt=0, le=86_400, description="How often the worker sees if a backup is due"
    )

    # Incidents (`nguon.incidents`): when the hub opens one itself, and where it tells the
    # department.
    incident_offline_seconds: int = Field(
        default=900,
        ge=10,
        le=7 * 86_400,
        description="An enabled endpoint silent for longer than this opens a technical incident",
    )
    incident_webhook_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/@]+(/\S*)?$",
        description="The department's URL each incident opened and resolved is POSTed to; "
        "unset: incidents are kept and sent once it is set",
    )
    incident_webhook_secret: SecretStr | None = Field(
        default=None, description="Signs the incident webhooks (required with the URL)"
    )
    incident_webhook_timeout_seconds: float = Field(default=10, gt=0, le=120)
    incident_retry_seconds: float = Field(
        default=10, gt=0, description="The first wait before an incident webhook is retried"
    )
    incident_retry_max_seconds: float = Field(default=1800, gt=0)
    audit_check_seconds: float = Field(
        default=3600,
        gt=0,
        le=7 * 86_400,
        description="How often the worker checks the audit chain (a break opens an incident)",
    )

    @property
    def incident_webhook_enabled(self) -> bool:
        return self.incident_webhook_url is not None

    # Periodic reports (`nguon.reports`): the reminder before each deadline, sent to the
    # incidents' webhook when it is set.
    report_reminder_days: int = Field(
        default=7,
        ge=0,
        le=60,
        description="How many days before its deadline an area is reminded of a report not "
        "written yet (0: never)",
    )
    report_reminder_check_seconds: float = Field(
        default=3600,
        gt=0,
        le=86_400,
        description="How often the worker sees which reports fall due",
    )

    # Commands to endpoints, and the MQTT channel to radios (nguon.commands).
    command_repush_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="An unacknowledged command is pushed again this often",
    )
    command_expire_seconds: float = Field(
        default=3600,
        gt=0,
        le=7 * 86_400,
        description="A command still unacknowledged this long after it was issued is expired",
    )
    mqtt_url: SecretStr | None = Field(
        default=None,
        description="The MQTT broker radios listen on, mqtt://[user:password@]host[:port] "
        "(port 1883) or mqtts:// for TLS (port 8883), the user name and password "
        "percent-encoded; unset: no MQTT",
    )
    mqtt_ca_file: Path | None = Field(
        default=None,
        description="A PEM bundle of the certificates to trust for an mqtts:// broker (a "
        "province's own CA) instead of the system's",
    )
    mqtt_topic_prefix: str = Field(
        default="nguon",
        pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$",
        description="The first levels of every topic the hub uses",
    )
    mqtt_client_id: str | None = Field(
        default=None,
        max_length=64,
        description="The hub's MQTT client id; unset: one of its own for each process",
    )

    @property
    def mqtt_enabled(self) -> bool:
        return self.mqtt_url is not None

    @property
    def mqtt_broker(self) -> MqttBroker | None:
        if self.mqtt_url is None:
            return None
        return MqttBroker.parse(self.mqtt_url.get_secret_value())

    def mqtt_tls_context(self) -> ssl.SSLContext | None:
        """For an mqtts:// broker: the system's trust or NGUON_MQTT_CA_FILE's, hostnames
        checked."""
        broker = self.mqtt_broker
        if broker is None or not broker.tls:
            return None
        return ssl.create_default_context(cafile=self.mqtt_ca_file)

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url_names_a_broker(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            MqttBroker.parse(value.get_secret_value())
        return value

    @field_validator("mqtt_ca_file")
    @classmethod
    def _mqtt_ca_file_holds_certificates(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        if not value.is_file():
            raise ValueError(f"NGUON_MQTT_CA_FILE: no file {value}")
        try:
            ssl.create_default_context(cafile=value)
        except (ssl.SSLError, OSError) as error:
            raise ValueError(
                f"NGUON_MQTT_CA_FILE: {value} is not a PEM bundle of certificates ({error})"
            ) from None
        return value

    @model_validator(mode="after")
    def _mqtt_ca_file_is_for_tls(self) -> "Settings":
        broker = self.mqtt_broker
        if self.mqtt_ca_file is not None and (broker is None or not broker.tls):
            raise ValueError(
                "NGUON_MQTT_CA_FILE is for an mqtts:// NGUON_MQTT_URL: without TLS it would "
                "not be used"
            )
        return self

    @property
    def uplink_enabled(self) -> bool:
        return self.central_url is not None

    @property
    def media_max_bytes(self) -> int:
        """The largest upload any kind admits: the request body limit of the upload route."""
        return max(
            self.media_max_audio_bytes,
            self.media_max_image_bytes,
            self.media_max_video_bytes,
            self.media_max_subtitle_bytes,
        )

    @model_validator(mode="after")
    def _uplink_is_signed(self) -> "Settings":
        if self.central_url is not None and self.central_key is None:
            raise ValueError("NGUON_CENTRAL_URL needs NGUON_CENTRAL_KEY to sign what goes up")
        return self

    @model_validator(mode="after")
    def _incident_webhook_is_signed(self) -> "Settings":
        if self.incident_webhook_url is not None and self.incident_webhook_secret is None:
            raise ValueError("NGUON_INCIDENT_WEBHOOK_URL needs NGUON_INCIDENT_WEBHOOK_SECRET")
        return self

    @model_validator(mode="after")
    def _speech_service_named(self) -> "Settings":
        if self.speech_engine == "http" and self.speech_url is None:
            raise ValueError("NGUON_SPEECH_ENGINE=http needs NGUON_SPEECH_URL")
        return self

    @property
    def speech_language_subtags(self) -> frozenset[str]:
        """`speech_languages` as primary subtags, lower case."""
        tags = (tag.strip().split("-", 1)[0].lower() for tag in self.speech_languages.split(","))
        return frozenset(tag for tag in tags if tag)

    @property
    def central_resource_host_names(self) -> frozenset[str]:
        """`central_resource_hosts` as names: host names compare case-insensitively."""
        names = (name.strip().lower() for name in self.central_resource_hosts.split(","))
        return frozenset(name for name in names if name)

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        return value if value.is_absolute() else (project_home() / value).resolve()

    def database_timeouts(self) -> DatabaseTimeouts:
        """The timeouts of a serving process's database engine."""
        return DatabaseTimeouts(
            statement=self.database_statement_timeout_seconds or None,
            lock=self.database_lock_timeout_seconds or None,
            idle_in_transaction=self.database_idle_in_transaction_timeout_seconds or None,
        )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'nguon.db'}"

    @property
    def runs_worker_in_process(self) -> bool:
        if self.worker_in_process is not None:
            return self.worker_in_process
        return self.kafka_bootstrap is None

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def signing_secret(self) -> str:
        """The configured secret, or one generated once and kept in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
