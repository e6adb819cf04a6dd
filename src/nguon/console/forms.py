"""Form input refused in the API's own words."""

from nguon.kit.errors import InvalidInput
from nguon.kit.problems import invalid_fields_detail


def refused_fields(errors: list[dict[str, str]]) -> InvalidInput:
    """The refusal of a form whose fields break their rules, each kept for the field it names."""
    return InvalidInput(invalid_fields_detail(errors), errors=errors)
