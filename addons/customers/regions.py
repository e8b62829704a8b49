"""China's regions (province → city → district, GB/T 2260 codes) from the bundled
``data/regions.json`` (source and licence in ``data/README.md``): the customer form's cascading
selects, the import's name resolution and the services' combination check all read it here.

A name may be written with or without its suffix (上海 / 上海市, 广西 / 广西壮族自治区, 浦东 /
浦东新区); what is stored is always the full name, so lists, filters and reports group alike.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path

from .exceptions import CityNotInProvince, DistrictNotInCity, ProvinceUnknown, RegionIncomplete

DATA = Path(__file__).parent / "data" / "regions.json"
#: Suffixes a name may be written without, longest first.
SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "自治州", "地区", "新区",
            "省", "市", "盟", "区", "县")
SPACES = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class Region:
    """One division; ``code`` is its GB/T 2260 code ("" for the few the standard does not code)."""

    code: str
    name: str
    children: tuple[Region, ...] = ()

    def child(self, name: str | None) -> Region | None:
        return find(self.children, name)


@functools.cache
def provinces() -> tuple[Region, ...]:
    """Every province-level division, read once per process."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return tuple(Region(code, name, tuple(Region(c_code, c_name, tuple(Region(*d) for d in districts))
                                          for c_code, c_name, districts in cities))
                 for code, name, cities in raw)


@functools.cache
def _by_code() -> dict[str, tuple[Region, ...]]:
    index: dict[str, tuple[Region, ...]] = {}
    for province in provinces():
        index[province.code] = (province,)
        for city in province.children:
            if city.code:
                index.setdefault(city.code, (province, city))
            for district in city.children:
                if district.code:
                    index.setdefault(district.code, (province, city, district))
    return index


def by_code(code: str) -> tuple[Region, ...]:
    """The path (province, city, district) to the division of ``code``; () when unknown."""
    return _by_code().get((code or "").strip(), ())


def short(name: str) -> str:
    """A name without its administrative suffix: 广西壮族自治区 → 广西, 浦东新区 → 浦东."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def find(regions: Iterable[Region], name: str | None) -> Region | None:
    """The region among ``regions`` called ``name``, by its full name, its name without suffix
    or — when only one fits — the start of its name (延边 → 延边朝鲜族自治州); None otherwise."""
    wanted = SPACES.sub("", name or "")
    if not wanted:
        return None
    regions = tuple(regions)
    for region in regions:
        if region.name == wanted:
            return region
    key = short(wanted)
    matches = [r for r in regions if short(r.name) == key]
    if not matches and len(wanted) >= 2:
        matches = [r for r in regions if r.name.startswith(wanted)]
    return matches[0] if len(matches) == 1 else None


def cities(province: str | None) -> tuple[Region, ...]:
    found = find(provinces(), province)
    return found.children if found else ()


def districts(province: str | None, city: str | None) -> tuple[Region, ...]:
    found = find(provinces(), province)
    town = found.child(city) if found else None
    return town.children if town else ()


def resolve(province: str | None, city: str | None = None, district: str | None = None
            ) -> tuple[str | None, str | None, str | None]:
    """The full names of a combination, each level inside the one above; empty levels stay None.

    Raises ProvinceUnknown, CityNotInProvince, DistrictNotInCity, or RegionIncomplete (a city
    without its province, a district without its city)."""
    province, city, district = (SPACES.sub("", v or "") or None for v in (province, city, district))
    if (city and not province) or (district and not city):
        raise RegionIncomplete()
    if province is None:
        return None, None, None
    found = find(provinces(), province)
    if found is None:
        raise ProvinceUnknown(name=province)
    if city is None:
        return found.name, None, None
    town = found.child(city)
    if town is None:
        raise CityNotInProvince(name=city, province=found.name)
    if district is None:
        return found.name, town.name, None
    area = town.child(district)
    if area is None:
        raise DistrictNotInCity(name=district, city=town.name)
    return found.name, town.name, area.name


def valid(province: str | None, city: str | None = None, district: str | None = None) -> bool:
    """Whether the combination names real divisions, each inside the one above."""
    try:
        resolve(province, city, district)
    except (ProvinceUnknown, CityNotInProvince, DistrictNotInCity, RegionIncomplete):
        return False
    return True


FIELDS = ("province", "city", "district")


def resolve_values(values: dict, current: object = None) -> None:
    """Check the region a customer's ``values`` give (a form, an import row, an API body) and
    put the full names in. A partial change is checked with the record's other levels; a
    record's region left as it was (even one typed before this list existed) passes."""
    if not any(field in values for field in FIELDS):
        return
    merged = tuple(values.get(f, getattr(current, f, None)) for f in FIELDS)
    if current is not None and merged == tuple(getattr(current, f, None) for f in FIELDS):
        return
    for field, name in zip(FIELDS, resolve(*merged), strict=True):
        if field in values or getattr(current, field, None) != name:
            values[field] = name
