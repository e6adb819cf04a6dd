"""Every refusal a person can meet has its Vietnamese wording in the console's catalogue.

The services' details are English (API clients rely on them); the console shows them in
Vietnamese through `translate_detail`. The walk below reads every `raise` of a hub error in the
sources, and every `ValueError` of a request model's rules, so a new English refusal without a
Vietnamese wording fails here, naming where it is.
An f-string becomes a catalogue message id with a `{slot}` for each value, named after the
expression that gives it: `{bulletin.id}` → `{bulletin_id}`, `{slot.isoformat()}` → `{slot}`,
`{', '.join(unknown)}` → `{unknown}`, `{shown or 'none'}` → `{shown}`.
"""

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from httpx import AsyncClient

import nguon
from nguon.console import web
from nguon.console.translations import vietnamese_catalog
from nguon.console.web import PLACEHOLDER, translate_detail
from nguon.endpoints.windows import minutes, normalise, shortfall
from nguon.identity.roles import Holder, Role, wrong_holder
from nguon.identity.service import check_password
from nguon.kit.errors import NguonError
from tests.console.conftest import csrf

SOURCES = Path(nguon.__file__).parent
ROOT_ERROR = "NguonError"
# A `ValueError` in a request model's validator (or a schemas module's check) reaches the person
# as a field's rule, in pydantic's words.
REQUEST_MODELS = ("RequestModel", "FormModel")
FIELD_RULE = "Value error, "
# Answered to the central system alone, a machine that reads the English detail; no page shows
# them.
MACHINE_ONLY = "CentralRefusal"


@dataclass(frozen=True)
class Detail:
    where: str
    msgid: str


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def slot_name(value: ast.expr) -> str:
    """The catalogue's name for the value an f-string puts in a detail."""
    if isinstance(value, ast.Name):
        return value.id
    if isinstance(value, ast.Attribute):
        return f"{slot_name(value.value)}_{value.attr}"
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        receiver = value.func.value
        # `', '.join(names)` shows `names`; `moment.isoformat()` shows `moment`.
        if isinstance(receiver, ast.Constant) and value.args:
            return slot_name(value.args[0])
        return slot_name(receiver)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.args:
        return f"{value.func.id.strip('_')}_{slot_name(value.args[0])}"
    if isinstance(value, ast.Subscript):
        return slot_name(value.value)
    if isinstance(value, ast.BoolOp):
        return slot_name(value.values[0])
    if isinstance(value, ast.IfExp):
        return slot_name(value.body)
    return re.sub(r"\W+", "_", ast.unparse(value)).strip("_")


def msgid_of(node: ast.expr, where: str) -> str | None:
    """The detail as a catalogue message id, or None when it is not written out here."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts: list[str] = []
    expressions: dict[str, str] = {}
    for part in node.values:
        if isinstance(part, ast.Constant):
            parts.append(str(part.value))
            continue
        assert isinstance(part, ast.FormattedValue)
        name = slot_name(part.value)
        expression = ast.unparse(part.value)
        # One slot name for two different values could not give both back.
        assert expressions.setdefault(name, expression) == expression, (
            f"{where}: {expression} and {expressions[name]} both make the slot {{{name}}}"
        )
        parts.append(f"{{{name}}}")
    return "".join(parts)


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text()) for path in sorted(SOURCES.rglob("*.py"))}


def _subclasses(trees: dict[Path, ast.Module], root: str) -> set[str]:
    """`root` and every class of the sources that derives from it, by name."""
    bases = [
        (node.name, {_name(base) for base in node.bases})
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]
    found = {root}
    while grown := {name for name, parents in bases if parents & found} - found:
        found |= grown
    return found


def _own_details(
    trees: dict[Path, ast.Module], errors: set[str]
) -> Iterator[tuple[Path, ast.expr]]:
    """Details an error class words itself: `super().__init__(f"...")` in its `__init__`."""
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in errors:
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "__init__"
                        and call.args
                    ):
                        yield path, call.args[0]


def _field_rules(trees: dict[Path, ast.Module]) -> Iterator[tuple[Path, ast.Raise]]:
    """The `raise ValueError(...)` of request models and of schemas modules' checks."""
    models: set[str] = set()
    for root in REQUEST_MODELS:
        models |= _subclasses(trees, root)
    for path, tree in trees.items():
        scopes = [
            node
            for node in ast.walk(tree)
            if (isinstance(node, ast.ClassDef) and node.name in models)
            or (path.name == "schemas.py" and isinstance(node, ast.FunctionDef))
        ]
        for scope in scopes:
            for node in ast.walk(scope):
                if (
                    isinstance(node, ast.Raise)
                    and isinstance(node.exc, ast.Call)
                    and _name(node.exc.func) == "ValueError"
                ):
                    yield path, node


def refusal_details() -> list[Detail]:
    trees = _trees()
    errors = _subclasses(trees, ROOT_ERROR) - _subclasses(trees, MACHINE_ONLY)
    details = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                call = node.exc
                if _name(call.func) in errors and call.args:
                    where = f"{path.relative_to(SOURCES.parents[1])}:{node.lineno}"
                    if (msgid := msgid_of(call.args[0], where)) is not None:
                        details.append(Detail(where, msgid))
    for path, rule in dict.fromkeys(_field_rules(trees)):
        assert isinstance(rule.exc, ast.Call)
        where = f"{path.relative_to(SOURCES.parents[1])}:{rule.lineno}"
        if (msgid := msgid_of(rule.exc.args[0], where)) is not None:
            details.append(Detail(where, FIELD_RULE + msgid))
    for path, argument in _own_details(trees, errors):
        where = f"{path.relative_to(SOURCES.parents[1])}:{argument.lineno}"
        if (msgid := msgid_of(argument, where)) is not None:
            details.append(Detail(where, msgid))
    return details


def test_the_walk_finds_the_refusals_with_their_values_as_slots() -> None:
    msgids = {detail.msgid for detail in refusal_details()}
    assert "You cannot disable your own account." in msgids
    assert (
        "Cannot {action} bulletin {bulletin_id}: it is {bulletin_status}, and {action} "
        "needs {names}." in msgids
    )
    assert "Unknown weekday(s) {unknown}; use {WEEKDAYS}." in msgids
    assert "Value error, the push URL must not carry credentials" in msgids
    # A detail an error class words itself, and none of the central system's.
    assert any(msgid.startswith("A request with the {HEADER} {key} is being") for msgid in msgids)
    assert not any(msgid.startswith("X-Signature") for msgid in msgids)


def test_every_refusal_has_a_vietnamese_wording() -> None:
    catalogue = vietnamese_catalog()
    missing = [
        f"{detail.where}: {detail.msgid}"
        for detail in refusal_details()
        if not catalogue.get(detail.msgid)
    ]
    assert missing == [], "refusals without Vietnamese in locales/vi:\n" + "\n".join(missing)


def test_every_wording_gives_back_the_values_of_its_detail() -> None:
    wrong = [
        f"{message.id}: {message.string}"
        for message in vietnamese_catalog()
        if isinstance(message.id, str)
        and set(PLACEHOLDER.findall(message.id)) != set(PLACEHOLDER.findall(str(message.string)))
    ]
    assert wrong == []


def _refusal(action: Callable[[], object]) -> str:
    with pytest.raises(NguonError) as refused:
        action()
    return refused.value.detail


@pytest.mark.parametrize(
    ("detail", "vietnamese"),
    [
        (
            _refusal(lambda: minutes("7h-9h")),
            "Khung giờ '7h-9h' không đúng dạng HH:MM-HH:MM.",
        ),
        (
            _refusal(lambda: normalise({"mon": ["06:00-08:00", "07:30-09:00"]})),
            "Ngày mon, khung giờ 06:00-08:00 và 07:30-09:00 chồng lên nhau.",
        ),
        (
            str(shortfall({"mon": ["07:00-09:00"]}, 6, "border-gate cluster")),
            "Thiết bị border-gate cluster phải hoạt động ít nhất 6 giờ mỗi ngày; các ngày chưa "
            "đủ giờ: mon 2 h.",
        ),
        (
            _refusal(lambda: check_password("an.nguyen", "an.nguyen-2026")),
            "Mật khẩu không được chứa tên đăng nhập.",
        ),
        (
            str(wrong_holder(Role.integration, Holder.user)),
            "Vai trò hệ thống cung cấp tin không dành cho user accounts: user accounts chỉ nhận "
            "vai trò quản trị, biên tập, thẩm định, cung cấp tin, Chủ tịch UBND xã hoặc xem; "
            "vai trò hệ thống cung cấp tin dành cho API keys.",
        ),
        (
            "Cannot approve bulletin 7: it is draft, and approve needs appraised or submitted.",
            "Không thể duyệt tin 7: tin đang ở trạng thái bản nháp, mà duyệt cần "
            "đã thẩm định hoặc chờ duyệt.",
        ),
    ],
)
def test_a_refusal_comes_out_in_vietnamese_with_its_values(detail: str, vietnamese: str) -> None:
    assert translate_detail(detail, "vi") == vietnamese
    assert translate_detail(detail, "en") == detail


def test_each_wording_with_values_is_found_for_its_own_details() -> None:
    """Values with spaces and punctuation in them still match, and no broader wording catches
    a detail that has its own."""
    catalogue = vietnamese_catalog()
    wrong = []
    for message in catalogue:
        if isinstance(message.id, str) and PLACEHOLDER.search(message.id):
            values = {name: f"({name}: a, b)" for name in PLACEHOLDER.findall(message.id)}
            detail = message.id.format(**values)
            if catalogue.get(detail):
                continue  # a detail the catalogue also words whole, such as an unknown type
            if translate_detail(detail, "vi") != str(message.string).format(**values):
                wrong.append(message.id)
    assert wrong == []


def test_the_closer_of_two_wordings_that_match_a_detail_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broad_first = Catalog(locale="vi")
    broad_first.add("{what}: {why}", "{what}: {why} (chung)")
    broad_first.add("Window {span}: {why}", "Khung giờ {span}: {why}")
    monkeypatch.setattr(web, "vietnamese_catalog", lambda: broad_first)
    web._detail_patterns.cache_clear()
    try:
        assert translate_detail("Window 7h: too short", "vi") == "Khung giờ 7h: too short"
        assert translate_detail("Plays: none", "vi") == "Plays: none (chung)"
    finally:
        web._detail_patterns.cache_clear()


async def test_a_form_field_that_breaks_its_rule_is_refused_in_vietnamese(
    client: AsyncClient,
) -> None:
    token = await csrf(client)
    answer = await client.post(
        "/console/sign-in",
        data={"username": "a" * 65, "password": "x", "csrf_token": token, "next": "/console/"},
    )
    assert answer.status_code == 422
    assert "text/html" in answer.headers["content-type"]
    assert "1 trường không hợp lệ: username: tối đa 64 ký tự" in answer.text
    english = await client.post("/api/v1/auth/token", data={"username": "a" * 65, "password": "x"})
    assert english.json()["detail"] == (
        "1 invalid field(s): body.username: must be at most 64 characters"
    )


def test_the_hubs_own_words_inside_a_refusal_are_translated_and_names_are_not() -> None:
    """A status, a kind or an action named in a detail reads in Vietnamese; a person's name or
    a bulletin's id stays as it is, even where it spells one of those words."""
    detail = (
        "Cannot appraise bulletin draft: it is draft, and appraise needs submitted or appraised."
    )
    assert translate_detail(detail, "vi") == (
        "Không thể thẩm định tin draft: tin đang ở trạng thái bản nháp, "
        "mà thẩm định cần chờ duyệt hoặc đã thẩm định."
    )
    assert translate_detail(detail, "en") == detail
