"""The console's languages: Vietnamese first, English on request.

Texts in templates and code are English message ids; the Vietnamese catalogue under `locales/`
gives what people read. The catalogue is read from its `.po` files at start, so no compiled
file is kept beside them.
"""

from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Literal

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

Language = Literal["vi", "en"]
DEFAULT_LANGUAGE: Language = "vi"
LOCALES = Path(__file__).parent / "locales"


def vietnamese_catalog() -> Catalog:
    """Every `.po` file of the Vietnamese catalogue, as one catalogue."""
    merged = Catalog(locale="vi", domain="messages")
    for path in sorted((LOCALES / "vi" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as source:
            for message in read_po(source, locale="vi"):
                if message.id and message.string:
                    merged.add(message.id, message.string)
    return merged


@cache
def translations(language: Language) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, vietnamese_catalog())
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def language_of(value: str | None) -> Language:
    return "en" if value == "en" else DEFAULT_LANGUAGE
