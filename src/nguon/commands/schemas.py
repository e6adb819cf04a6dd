from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from nguon.commands.models import CommandKind, CommandStatus
from nguon.endpoints.windows import EndpointKind
from nguon.kit.schemas import RequestModel, ResponseModel, pattern

Volume = Annotated[int, Field(ge=0, le=100, description="The output level, 0–100 (volume only)")]


class CommandOrder(RequestModel):
    command: CommandKind
    volume: Volume | None = None

    @model_validator(mode="after")
    def _volume_goes_with_its_command(self) -> Self:
        if self.command is CommandKind.volume and self.volume is None:
            raise ValueError("a volume command needs a volume, 0–100")
        if self.command is not CommandKind.volume and self.volume is not None:
            raise ValueError(f"{self.command.value} takes no volume")
        return self


class AreaCommandOrder(CommandOrder):
    area: Annotated[
        str,
        Field(
            pattern=pattern(r"^(VN|\d{2,5})$", "an administrative unit's code"),
            description="Every endpoint in service below this unit gets the command",
        ),
    ]
    endpoint_kind: Annotated[
        EndpointKind | None, Field(description="Only radios, or only displays; all when left out")
    ] = None


class CommandAnswer(RequestModel):
    status: Annotated[
        Literal["acked", "failed"], Field(description="`acked`: done; `failed`: could not")
    ] = "acked"
    detail: Annotated[
        str | None, Field(max_length=500, description="What the device says with it")
    ] = None


class CommandRead(ResponseModel):
    id: str
    endpoint: str
    command: CommandKind
    volume: int | None
    status: CommandStatus
    issued_by: str
    attempts: Annotated[int, Field(description="How often it was pushed to the endpoint")]
    created_at: datetime
    sent_at: Annotated[datetime | None, Field(description="When it was last pushed")]
    next_attempt_at: Annotated[
        datetime | None, Field(description="When it is pushed again, while unanswered")
    ]
    expires_at: datetime
    answered_at: datetime | None
    answered_over: Annotated[str | None, Field(description="`http` or `mqtt`")]
    detail: Annotated[str | None, Field(description="What the device said with its answer")]
    last_error: Annotated[str | None, Field(description="The last webhook failure, if any")]
