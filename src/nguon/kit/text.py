"""Text folding for search: Vietnamese typed with or without diacritics finds the same words."""

import unicodedata

_SPECIAL = str.maketrans({"đ": "d", "Đ": "d"})  # đ is a letter of its own, not d + a mark


def fold(text: str) -> str:
    """Lower case, no diacritics, single spaces: "Bão số 3 ĐANG vào" -> "bao so 3 dang vao"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())
