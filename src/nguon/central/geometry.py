"""Which endpoints a CAP area's polygons and circles cover, by the GPS position registered for
each endpoint. Areas are a province's size, so a flat-earth ray cast on degrees is exact enough
for polygons; circles use the great-circle distance, since CAP gives their radius in km."""

import itertools
import math
from collections.abc import Sequence

from nguon.central.cap import CapCircle

EARTH_RADIUS_KM = 6371.0088

Point = tuple[float, float]  # (latitude, longitude)


def in_polygon(point: Point, ring: Sequence[Point]) -> bool:
    """Whether `point` lies inside the closed ring (even-odd rule; CAP rings repeat the first
    point at the end)."""
    latitude, longitude = point
    inside = False
    for (lat_a, lon_a), (lat_b, lon_b) in itertools.pairwise(ring):
        if (lat_a > latitude) != (lat_b > latitude):
            crossing = lon_a + (latitude - lat_a) * (lon_b - lon_a) / (lat_b - lat_a)
            if longitude < crossing:
                inside = not inside
    return inside


def distance_km(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance."""
    lat_a, lon_a, lat_b, lon_b = map(math.radians, (*a, *b))
    h = (
        math.sin((lat_b - lat_a) / 2) ** 2
        + math.cos(lat_a) * math.cos(lat_b) * math.sin((lon_b - lon_a) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def in_circle(point: Point, circle: CapCircle) -> bool:
    return distance_km(point, (circle.latitude, circle.longitude)) <= circle.radius_km
