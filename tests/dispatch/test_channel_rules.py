"""Which channels a bulletin reaches, what each plays of it, and how a bilingual display folds
variants: checked as properties over any content."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import BulletinKind, Category, Priority
from nguon.dispatch.channels import Content, endpoint_kinds_reached, played_by
from nguon.dispatch.playlist import OnAir, fold_translations
from nguon.endpoints.windows import EndpointKind
from nguon.media.kinds import MediaKind

START = datetime(2026, 12, 4, tzinfo=UTC)

contents = st.builds(
    Content,
    has_body=st.booleans(),
    media_kinds=st.frozensets(st.sampled_from(list(MediaKind))),
)


@given(contents)
def test_a_channel_is_reached_exactly_when_it_has_something_to_play(content: Content) -> None:
    for kind in EndpointKind:
        played = played_by(kind, content)
        something = (played.body and content.has_body) or bool(
            played.media_kinds & content.media_kinds
        )
        assert (kind in endpoint_kinds_reached(content)) == something


@given(contents)
def test_radios_get_only_sound_and_displays_never_do(content: Content) -> None:
    assert played_by(EndpointKind.radio, content).media_kinds == {MediaKind.audio}
    assert MediaKind.audio not in played_by(EndpointKind.display, content).media_kinds
    # A radio reads the body only where nothing is recorded.
    assert played_by(EndpointKind.radio, content).body == (
        MediaKind.audio not in content.media_kinds
    )


def on_air(number: int, translation_of: int | None) -> OnAir:
    return OnAir(
        bulletin_id=f"b{number}",
        revision=1,
        title=f"Bulletin {number}",
        kind=BulletinKind.text,
        body="Text",
        language="vi",
        category=Category.access_to_information,
        priority=Priority.priority,
        level=AreaLevel.province,
        origin_area="01",
        media=(),
        schedule=None,
        valid_from=START,
        valid_until=START,
        published_at=START,
        translation_of=None if translation_of is None else f"b{translation_of}",
    )


def linked(links: list[int | None]) -> list[OnAir]:
    """Bulletin n is an original (None), a variant of an original before it (its number), or
    of one not on air (-1)."""

    def original_of(number: int, link: int | None) -> int | None:
        if link is not None and 0 <= link < number and links[link] is None:
            return link
        return -1 if link == -1 else None

    return [on_air(n, original_of(n, link)) for n, link in enumerate(links)]


bulletins = st.lists(st.none() | st.integers(min_value=-1, max_value=19), max_size=20).map(linked)


@given(bulletins)
def test_folding_keeps_every_bulletin_once_and_no_variant_beside_its_original(
    given_on_air: list[OnAir],
) -> None:
    folded = fold_translations(given_on_air)
    shown = [b.bulletin_id for item in folded for b in (item, *item.translations)]
    assert sorted(shown) == sorted(b.bulletin_id for b in given_on_air)
    items = {item.bulletin_id for item in folded}
    assert not any(item.translation_of in items for item in folded)
    for item in folded:
        assert all(variant.translation_of == item.bulletin_id for variant in item.translations)
