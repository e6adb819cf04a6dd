"""What the hub asks of a device, and where the asking stands."""

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from nguon.kit.db import Base, UTCDateTime, utcnow


class CommandKind(StrEnum):
    switch_on = "switch_on"  # play the playlist again
    switch_off = "switch_off"  # silence everything but emergencies (see nguon.commands.service)
    volume = "volume"  # set the output level, 0–100
    restart = "restart"  # restart the device
    fetch_now = "fetch_now"  # fetch the playlist at once


class CommandStatus(StrEnum):
    pending = "pending"  # not yet handed to any channel
    sent = "sent"  # handed to the endpoint's channels; re-pushed until acknowledged
    acked = "acked"  # the device says it did it
    failed = "failed"  # the device says it could not
    expired = "expired"  # no answer before NGUON_COMMAND_EXPIRE_SECONDS


OPEN = (CommandStatus.pending, CommandStatus.sent)


def new_command_id() -> str:
    return secrets.token_hex(16)


class EndpointCommand(Base):
    """One command to one endpoint; an area's command is one row per endpoint."""

    __tablename__ = "endpoint_commands"
    __table_args__ = (
        # The pusher's queue: only the commands still waiting for an answer, by when due.
        Index(
            "ix_endpoint_commands_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sent')"),
            sqlite_where=text("status IN ('pending', 'sent')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_command_id)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[CommandKind] = mapped_column(
        Enum(CommandKind, native_enum=False, length=16, create_constraint=True, name="command_kind")
    )
    volume: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[CommandStatus] = mapped_column(
        Enum(
            CommandStatus,
            native_enum=False,
            length=16,
            create_constraint=True,
            name="command_status",
        )
    )
    issued_by: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How the answer came: "http" or "mqtt"; and what the device said with it.
    answered_over: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(500))
    # The last webhook attempt's failure, when the endpoint has a push URL.
    last_error: Mapped[str | None] = mapped_column(String(500))


@dataclass(frozen=True, slots=True)
class IssuedCommand:
    """A command as it was just stored: an area's command is thousands, which are cheaper
    shaped from the values written than read back as entities."""

    public_id: str
    endpoint_id: int
    kind: CommandKind
    volume: int | None
    status: CommandStatus
    issued_by: str
    attempts: int
    next_attempt_at: datetime
    expires_at: datetime
    created_at: datetime
    sent_at: datetime | None = None
    answered_at: datetime | None = None
    answered_over: str | None = None
    detail: str | None = None
    last_error: str | None = None

    def row(self) -> dict[str, Any]:
        """Its column values (`dataclasses.asdict` deep-copies each: slow by the thousand)."""
        return {name: getattr(self, name) for name in self.__slots__}


# What is shown of a command: a stored row, or one just issued.
CommandFacts = EndpointCommand | IssuedCommand
