"""Form input checked by the API's own schemas and refused in the API's own words."""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from nguon.kit.errors import InvalidInput
from nguon.kit.problems import fields_in_words, invalid_fields_detail

Schema = TypeVar("Schema", bound=BaseModel)


def refused_fields(errors: list[dict[str, str]]) -> InvalidInput:
    """The refusal of a form whose fields break their rules, each kept for the field it names."""
    return InvalidInput(invalid_fields_detail(errors), errors=errors)


def validated(schema: type[Schema], values: Mapping[str, Any]) -> Schema:
    """`values` as the API's `schema`, or the same 422 the API would give for them."""
    try:
        return schema.model_validate(values)
    except ValidationError as error:
        raise refused_fields(fields_in_words(error.errors())) from error
