"""Every text the console shows has its Vietnamese wording in the catalogue."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from nguon.console import web
from nguon.console.translations import LOCALES, vietnamese_catalog
from nguon.console.web import translate_detail

CONSOLE_DIR = web.TEMPLATES.parent


def test_every_text_of_the_templates_is_in_the_vietnamese_catalogue() -> None:
    used = {
        message[2]
        for message in extract_from_dir(
            str(CONSOLE_DIR),
            method_map=[("templates/**.html", "jinja2")],
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    }
    catalogue = vietnamese_catalog()
    assert used, "no texts found in the templates"
    missing = sorted(str(text) for text in used if not catalogue.get(text))
    assert missing == []


def test_a_refusal_with_values_in_it_is_put_in_vietnamese_with_its_values() -> None:
    detail = "Too many failed sign-ins: the account is locked until 2026-12-02T10:00:00+00:00."
    assert translate_detail(detail, "vi") == (
        "Đăng nhập sai quá nhiều lần: tài khoản bị tạm khóa đến 2026-12-02T10:00:00+00:00."
    )
    assert translate_detail(detail, "en") == detail
    unknown = "A refusal the catalogue does not know yet."
    assert translate_detail(unknown, "vi") == unknown


def test_a_text_has_one_wording_whichever_part_of_the_catalogue_holds_it() -> None:
    """The catalogue is read from several files; a text in two of them must read the same in
    both, or a page would show whichever file happened to be read first."""
    wordings: dict[str, dict[str, str]] = {}
    for path in sorted((LOCALES / "vi" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as source:
            for message in read_po(source, locale="vi"):
                if message.id and message.string:
                    wordings.setdefault(str(message.id), {})[path.name] = str(message.string)
    differing = {text: files for text, files in wordings.items() if len(set(files.values())) > 1}
    assert differing == {}
