"""Rendering console pages: Jinja2 templates in the person's language, with the hub's dates."""

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from nguon import __version__
from nguon.console.session import (
    CSRF_FIELD,
    CSRF_HEADER,
    LANGUAGE_COOKIE,
    csrf_token,
    remember_csrf,
)
from nguon.console.translations import Language, language_of, translations, vietnamese_catalog

TEMPLATES = Path(__file__).parent / "templates"
# Times are shown as people in the province read their clocks.
HUB_TIME_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def environment(language: Language) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["local_time"] = local_time
    return env


def local_time(moment: datetime | None) -> str:
    """`dd/mm/yyyy HH:mm` on the hub's clock; an empty cell for no time."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment, "dd/MM/yyyy HH:mm", tzinfo=HUB_TIME_ZONE)


def numbers_in(language: Language) -> dict[str, Callable[[float], str]]:
    """Number formats of the person's language, for templates (Vietnamese writes 1.234,5)."""
    return {
        "number": lambda value: format_decimal(value, "#,##0.##", locale=language),
        "percent": lambda value: format_percent(value, "#,##0.#%", locale=language),
    }


def request_language(request: Request) -> Language:
    return language_of(request.cookies.get(LANGUAGE_COOKIE))


def _slot_pattern(message_id: str) -> tuple[re.Pattern[str], int]:
    """A pattern matching the details `message_id` makes, and how many of its characters are
    fixed text. A value may be empty or hold any character; a slot named twice holds the same
    value both times."""
    parts = PLACEHOLDER.split(message_id)
    texts, names = parts[::2], parts[1::2]
    regex = re.escape(texts[0])
    for index, name in enumerate(names):
        slot = f"(?P={name})" if name in names[:index] else f"(?P<{name}>.*?)"
        regex += slot + re.escape(texts[index + 1])
    return re.compile(f"^{regex}$", re.DOTALL), sum(len(text) for text in texts)


@cache
def _detail_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Catalogue entries with `{name}` slots, as patterns that match the details they make.

    The one with the most fixed text is tried first: where a broad wording (`{what}: {why}`)
    would also match a detail another entry words more closely, the closer one wins."""
    patterns = []
    for message in vietnamese_catalog():
        if isinstance(message.id, str) and PLACEHOLDER.search(message.id):
            pattern, fixed = _slot_pattern(message.id)
            patterns.append((fixed, pattern, str(message.string)))
    patterns.sort(key=lambda entry: -entry[0])
    return tuple((pattern, wording) for _, pattern, wording in patterns)


def translate_detail(detail: str, language: Language) -> str:
    """A problem's detail in the person's language, where the catalogue knows its wording."""
    if language == "en":
        return detail
    translated = translations(language).gettext(detail)
    if translated != detail:
        return translated
    for pattern, wording in _detail_patterns():
        if match := pattern.match(detail):
            values = {
                slot: _value_in(value, language) if slot.endswith(NAMED_VALUES) else value
                for slot, value in match.groupdict().items()
            }
            return wording.format(**values)
    return detail


# Slots that carry the hub's own words (a status, a kind, an action, a role, a level), which the
# catalogue also translates; names, codes and times are left as they are.
NAMED_VALUES = (
    "action", "status", "kind", "names", "needed", "level", "role", "roles", "allowed", "wanted",
    "priority", "expected",
)  # fmt: skip


def _value_in(value: str, language: Language) -> str:
    """A word of the hub in the person's language; a list of them (`a or b`, `a, b`) each."""
    words = translations(language)
    for joiner in (" or ", ", "):
        if joiner in value:
            said = words.gettext(joiner)
            return said.join(_value_in(part, language) for part in value.split(joiner))
    return words.gettext(value)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    language = request_language(request)
    page = environment(language).get_template(template)
    body = page.render(
        request=request,
        language=language,
        principal=getattr(request.state, "principal", None),
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        csrf_token=csrf_token(request),
        version=__version__,
        **(context or {}),
    )
    response = HTMLResponse(body, status_code=status)
    remember_csrf(request, response)
    return response
