"""The order of play, checked as properties over any mix of bulletins."""

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from nguon.areas.levels import AreaLevel
from nguon.bulletins.enums import Priority
from nguon.dispatch.order import PRIORITY_RANK, colliding, in_play_order, in_slot_order

START = datetime(2026, 11, 24, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    bulletin_id: str
    priority: Priority
    level: AreaLevel
    slot: datetime | None
    published_at: datetime


minutes = st.integers(min_value=0, max_value=7 * 24 * 60).map(
    lambda m: START + timedelta(minutes=m)
)
items = st.lists(
    st.builds(
        Item,
        bulletin_id=st.uuids().map(lambda u: u.hex),
        priority=st.sampled_from(list(Priority)),
        level=st.sampled_from(list(AreaLevel)),
        slot=st.none() | minutes,
        published_at=minutes,
    ),
    max_size=40,
)


@given(items)
def test_order_is_a_permutation(bulletins: list[Item]) -> None:
    assert sorted(in_play_order(bulletins), key=id) == sorted(bulletins, key=id)


@given(items)
def test_emergency_before_priority_before_normal(bulletins: list[Item]) -> None:
    ranks = [PRIORITY_RANK[b.priority] for b in in_play_order(bulletins)]
    assert ranks == sorted(ranks)


@given(items)
def test_within_a_class_province_before_district_before_commune(bulletins: list[Item]) -> None:
    ordered = in_play_order(bulletins)
    for earlier, later in itertools.pairwise(ordered):
        if earlier.priority == later.priority:
            assert earlier.level.rank <= later.level.rank


@given(items)
def test_same_class_and_level_follow_slot_then_publication(bulletins: list[Item]) -> None:
    ordered = in_play_order(bulletins)
    for earlier, later in itertools.pairwise(ordered):
        if (earlier.priority, earlier.level) != (later.priority, later.level):
            continue
        if earlier.slot and later.slot:
            assert earlier.slot <= later.slot
        if later.slot and not earlier.slot:
            raise AssertionError("an unscheduled item came before a scheduled one")
        if earlier.slot == later.slot:
            assert earlier.published_at <= later.published_at


@given(items, st.randoms(use_true_random=False))
def test_the_order_does_not_depend_on_the_input_order(
    bulletins: list[Item], shuffler: random.Random
) -> None:
    shuffled = list(bulletins)
    shuffler.shuffle(shuffled)
    assert in_play_order(shuffled) == in_play_order(bulletins)


def test_the_regulation_example() -> None:
    """Điều 8: a commune's emergency still goes first; then province, district, commune."""
    made = START
    commune_emergency = Item("e", Priority.emergency, AreaLevel.commune, None, made)
    province = Item("p", Priority.priority, AreaLevel.province, None, made + timedelta(hours=3))
    district = Item("d", Priority.priority, AreaLevel.district, None, made)
    commune = Item("c", Priority.priority, AreaLevel.commune, None, made)
    normal = Item("n", Priority.normal, AreaLevel.central, None, made)
    ordered = in_play_order([normal, commune, district, province, commune_emergency])
    assert [b.bulletin_id for b in ordered] == ["e", "p", "d", "c", "n"]


positions = st.lists(st.integers(min_value=0, max_value=50), min_size=40, max_size=40)


@given(items, positions)
def test_the_chairs_order_moves_only_colliding_priority_items(
    bulletins: list[Item], chosen: list[int]
) -> None:
    chair = {b.bulletin_id: place for b, place in zip(bulletins, chosen, strict=False)}
    plain = in_play_order(bulletins)
    arranged = in_play_order(bulletins, chair)
    movable = {id(item) for item in colliding(bulletins)}
    assert sorted(arranged, key=id) == sorted(plain, key=id)
    for before, after in zip(plain, arranged, strict=True):
        if id(before) not in movable:
            assert after is before
    ranks = [PRIORITY_RANK[b.priority] for b in arranged]
    assert ranks == sorted(ranks)


def test_the_chair_orders_a_collision_with_the_communes_own_item() -> None:
    made = START
    province = Item("p", Priority.priority, AreaLevel.province, None, made)
    district = Item("d", Priority.priority, AreaLevel.district, None, made)
    commune = Item("c", Priority.priority, AreaLevel.commune, None, made)
    later = Item("l", Priority.priority, AreaLevel.province, made + timedelta(hours=9), made)
    emergency = Item("e", Priority.emergency, AreaLevel.province, None, made)
    everything = [later, commune, district, emergency, province]
    ordered = in_play_order(everything, {"c": 0, "p": 1, "d": 2, "l": 3, "e": 4})
    # The item at another slot and the emergency keep their places.
    assert [b.bulletin_id for b in ordered] == ["e", "l", "c", "p", "d"]


@given(items, positions)
def test_a_timeline_runs_slot_by_slot_each_slot_in_the_chairs_order(
    bulletins: list[Item], chosen: list[int]
) -> None:
    chair = {b.bulletin_id: place for b, place in zip(bulletins, chosen, strict=False)}
    timeline = in_slot_order(bulletins, chair)
    assert sorted(timeline, key=id) == sorted(bulletins, key=id)
    times = [b.slot or datetime.max.replace(tzinfo=UTC) for b in timeline]
    assert times == sorted(times)
    for slot, group in itertools.groupby(timeline, key=lambda b: b.slot):
        assert list(group) == in_play_order([b for b in bulletins if b.slot == slot], chair)
