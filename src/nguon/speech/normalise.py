"""What the engine is given to read: Vietnamese written as it is spoken.

sea-g2p's normaliser expands numbers, dates, times, units and the usual abbreviations (UBND,
HĐND, km/h, °C, %). A few abbreviations of administrative units it leaves wrong (`TX.` read
letter by letter, `H.` as the letter "hát", `TP.` and `TT.` kept with their dots) are expanded
here first; other languages pass through untouched.
"""

import re
from functools import lru_cache

from sea_g2p import Normalizer

# Abbreviations of administrative units before a place name: "TX. Tân Châu", "H. Châu Thành".
UNIT_ABBREVIATIONS = {
    "TP": "thành phố",
    "Tp": "thành phố",
    "TX": "thị xã",
    "Tx": "thị xã",
    "TT": "thị trấn",
    "Tt": "thị trấn",
    "H": "huyện",
    "X": "xã",
}
# Only before a capitalised name, after a space: "TP.HCM" is sea-g2p's to expand, and a
# lone "H." elsewhere may be a person's initial.
_UNIT = re.compile(r"(?<![\w.])(" + "|".join(UNIT_ABBREVIATIONS) + r")\.\s+(?=[^\W\d_])")
# A phone number written with dots or hyphens between its groups ("0296.3852.123"): sea-g2p
# reads those as "chấm"; with spaces it reads the groups one by one.
_PHONE = re.compile(r"(?<![\d.,])(?:\+84|0)\d{2,4}(?:[.\-]\d{2,4}){1,3}(?![\d,]|\.\d)")
_PHONE_LABEL = re.compile(r"\bĐT\s*:")
# "7:00" and "14h00" are read "bảy giờ không phút": the hour alone is how people say it.
_ZERO_MINUTES = re.compile(r"\bgiờ không phút\b")


@lru_cache(maxsize=1)
def _vietnamese() -> Normalizer:
    return Normalizer(lang="vi")


def _expand_unit(match: re.Match[str]) -> str:
    following = match.string[match.end() : match.end() + 1]
    if match.group(1) in ("H", "X") and not following.isupper():
        return match.group(0)
    return f"{UNIT_ABBREVIATIONS[match.group(1)]} "


def normalise(text: str, language: str) -> str:
    """The text as the engine should read it in `language` (a BCP 47 tag)."""
    if language.split("-", 1)[0].lower() != "vi":
        return text
    text = _UNIT.sub(_expand_unit, text)
    text = _PHONE_LABEL.sub("điện thoại:", text)
    text = _PHONE.sub(lambda match: re.sub(r"[.\-]", " ", match.group(0)), text)
    spoken = _vietnamese().normalize(text)
    assert isinstance(spoken, str)
    return _ZERO_MINUTES.sub("giờ", spoken)
