"""Request and response models, and the bounds every input is held to before it reaches a query.

Both databases refuse some values a client can send: PostgreSQL text cannot hold the NUL
character, neither backend takes an integer past 64 bits (row ids are 32-bit INTEGER columns on
PostgreSQL), and date arithmetic overflows at the ends of the calendar. Every input is checked
here, once, so that such values are a 422 naming the field rather than a 500 from the driver.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

NUL = "\x00"
NUL_MESSAGE = "must not contain the NUL character (\\x00)"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Row ids are INTEGER columns: 32 bits on PostgreSQL.
ROW_ID_MAX = 2**31 - 1
# Instants the playlist and slot arithmetic can add a day or a week to, either way.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(9000, 1, 1, tzinfo=UTC)
INSTANT_MESSAGE = (
    f"must be an instant from {EARLIEST_INSTANT:%Y-%m-%d} to {LATEST_INSTANT:%Y-%m-%d} (UTC)"
)

# What each regular expression a field is held to asks for, in words, for the 422 detail.
_PATTERN_WORDS: dict[str, str] = {}


def pattern(regex: str, words: str) -> str:
    """`regex` for a `pattern=` constraint, remembering what it asks for in words."""
    _PATTERN_WORDS[regex] = words
    return regex


def pattern_words(regex: str) -> str | None:
    return _PATTERN_WORDS.get(regex)


def _nul_refused() -> PydanticCustomError:
    return PydanticCustomError("nul", NUL_MESSAGE)


def within_calendar(instant: datetime) -> datetime:
    moment = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    if not EARLIEST_INSTANT <= moment <= LATEST_INSTANT:
        raise PydanticCustomError("instant_range", INSTANT_MESSAGE)
    return instant


# Every instant the API accepts, in a query or a body.
Instant = Annotated[AwareDatetime, AfterValidator(within_calendar)]


def check_storable(value: Any) -> None:
    """Refuse what no backend can store or compute with, anywhere inside `value`."""
    if isinstance(value, str):
        if NUL in value:
            raise _nul_refused()
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise PydanticCustomError(
                "int_range",
                "must be an integer from {ge} to {le}",
                {"ge": INT64_MIN, "le": INT64_MAX},
            )
    elif isinstance(value, datetime):
        within_calendar(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            check_storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key)
            check_storable(item)
    elif isinstance(value, BaseModel) and not isinstance(value, _StorableInput):
        for item in value.__dict__.values():
            check_storable(item)


class _StorableInput(BaseModel):
    """Every field, nested values too, checked by `check_storable` (nested models check their
    own, so that the error names the innermost field)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        check_storable(value)
        return value


class RequestModel(_StorableInput):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FormModel(_StorableInput):
    """Form bodies: fields a standard client adds (OAuth2's `grant_type`, `scope`) are ignored."""

    model_config = ConfigDict(extra="ignore")


def kept_if_omitted() -> Any:
    """The default of a PATCH field that may be left out but not cleared.

    A field left out keeps its stored value; an explicit `null` is refused as invalid input,
    instead of reaching a column or a rule that needs a value. Fields that may be cleared are
    typed `X | None = None`.
    """
    return Field(default=None)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Item = TypeVar("Item")


class Page(ResponseModel, Generic[Item]):
    items: list[Item]
