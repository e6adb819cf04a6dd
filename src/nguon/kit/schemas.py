from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class RequestModel(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
