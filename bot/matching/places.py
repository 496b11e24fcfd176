"""Where the province's communes and wards are, and how far apart.

Coordinates come from ``vietnamadminunits`` (its public ``database.get_data``: a point per unit
of 2025, 3,321 units); codes are the 2025 ward codes of ``vietnam-provinces`` used everywhere
else (``people.home_commune_code``, venues, the commune matcher). The two packages number 161
units differently (in Lạng Sơn: xã Cao Lộc is 6193 in one and 6211 in the other), so points are
joined to units by province and name (exact, else without diacritics when that is unique), never
by code. Road distance is estimated as the straight line × 1.35
(``ROAD_FACTOR``): Lạng Sơn's roads follow valleys; the factor is a prior, not a measurement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import Ward
from vietnamadminunits.database import get_data

from bot.textnorm import fold

ROAD_FACTOR = 1.35
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Place:
    """A 2025 commune or ward: code (no leading zeros, as stored), name and its point."""

    code: str
    name: str
    province_code: int
    lat: float
    lon: float


def normal_code(code: str | int | None) -> str | None:
    """A ward code as stored ("06187" and 6187 → "6187"); None for nothing."""
    if code is None:
        return None
    text = str(code).strip().lstrip("0")
    return text or None


@lru_cache(maxsize=1)
def all_places() -> dict[str, Place]:
    """Every 2025 unit with a point, by its ``vietnam-provinces`` code."""
    exact: dict[tuple[int, str], tuple[float, float]] = {}
    folded: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for row in get_data(["ward", "provinceCode", "wardLat", "wardLon"]):
        if row["wardLat"] is None or row["wardLon"] is None:
            continue
        point = (float(row["wardLat"]), float(row["wardLon"]))
        province = int(row["provinceCode"])
        exact[(province, row["ward"])] = point
        folded.setdefault((province, fold(row["ward"])), []).append(point)
    places: dict[str, Place] = {}
    for ward in Ward.iter_all():
        province = int(ward.province_code)
        near = folded.get((province, fold(ward.name)), [])
        found = exact.get((province, ward.name)) or (near[0] if len(near) == 1 else None)
        if found is not None:
            code = str(int(ward.code))
            places[code] = Place(code, ward.name, province, *found)
    return places


def place(code: str | int | None) -> Place | None:
    """The unit with this code, or None when unknown."""
    key = normal_code(code)
    return all_places().get(key) if key else None


def straight_km(a: Place, b: Place) -> float:
    """Great-circle distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


@lru_cache(maxsize=65536)
def road_km(a: str | int | None, b: str | int | None) -> float | None:
    """Estimated road distance between two units by code; None when either is unknown.
    Remembered: a province has 65 units, so ranking many people computes each pair once
    (``bench/matching.py`` counts it)."""
    pa, pb = place(a), place(b)
    if pa is None or pb is None:
        return None
    return straight_km(pa, pb) * ROAD_FACTOR
