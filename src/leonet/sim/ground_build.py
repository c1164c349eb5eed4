"""The scenario's ground sites, built once per run: explicit sites, site files, built-in sets,
dish groups, dishes from city populations and demand files; generated names that two sources
both make are an error naming both (the group, or the demand file's line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import ground as ground_sites
from ..errors import InputError, quote
from ..ground.sites import Sites
from ..scenario import Scenario
from .inputs import input_file


def _city_sites(city, dishes: int, sites_per_city: int, radius_km: float, seed: int) -> Sites:
    from ..ground.population import split_dishes

    n = min(sites_per_city, max(dishes, 1))
    made = ground_sites.dishes_around(city.lat_deg, city.lon_deg, n, radius_km * 1e3, seed,
                                      name_prefix=city.name, group=city.name)
    return Sites(made.name, made.kind, made.lat_deg, made.lon_deg, made.elevation_m, made.group,
                 {**made.attrs, "dishes": np.array(split_dishes(dishes, n).tolist(), dtype=object)})


def _population_sites(scenario: Scenario) -> list[tuple[Sites, object]]:
    """Dish sites from city populations and from demand files, each city's with where it comes
    from (a string, or a function giving one; for :func:`_check_unique_names`)."""
    g = scenario.ground
    if not g.population_dishes and not g.demand_files:
        return []
    from ..ground import population as pop

    parts = []
    for k, spec in enumerate(g.population_dishes):
        where = f"ground.population_dishes[{k}]"
        try:
            cities = pop.cities_of(spec.countries, spec.min_population, spec.max_cities) if spec.countries else []
        except InputError as err:
            raise InputError(err.message, location=f"{where}.countries") from None
        if spec.cities:
            named = []
            for name in spec.cities:
                hit = next((c for c in cities if c.name.casefold() == name.casefold()), None) if cities else None
                hit = hit or pop.find_city(name, spec.countries[0] if len(spec.countries) == 1 else None)
                if hit is None:
                    raise InputError(f"unknown city {quote(name)}{pop.suggest_city(name)} (GeoNames cities over 15,000 people)",
                                     location=f"{where}.cities")
                named.append(hit)
            cities = named
        if not cities:
            raise InputError("selects no city (check min_population and countries)", location=where)
        made = 0
        for j, city in enumerate(cities):
            dishes = int(round(city.population * spec.take_up))
            if dishes > 0:
                parts.append((_city_sites(city, dishes, spec.sites_per_city, spec.radius_km, spec.seed + j),
                              f"{where} (city {city.name}, {city.country})"))
                made += 1
        if not made:
            largest = max(cities, key=lambda c: c.population)
            raise InputError(f"take_up {spec.take_up:g} gives no dish: the largest of its {len(cities)} "
                             f"city(ies), {largest.name} ({largest.population:,} people), rounds to "
                             f"{largest.population * spec.take_up:.2g} dishes", location=f"{where}.take_up")
    for k, spec in enumerate(g.demand_files):
        path = input_file(scenario, spec.path, f"ground.demand_files[{k}].path")
        for j, (city, dishes) in enumerate(pop.read_demand_file(path)):
            if dishes > 0:
                # the line is looked up only for an error (a second read of the file)
                parts.append((_city_sites(city, dishes, spec.sites_per_city, spec.radius_km, spec.seed + j),
                              lambda _, k=k, path=path, j=j, city=city: (
                                  f"ground.demand_files[{k}] ({path}, line {_demand_file_line(path, j)}: "
                                  f"{city.name}, {city.country})")))
    return parts


def _demand_file_line(path: Path, row: int) -> int | None:
    """The line of the ``row``-th city (0-based, blank rows skipped) of a demand file, as
    :func:`leonet.ground.population.read_demand_file` counts them."""
    import csv
    import io

    from ..textfiles import read_text

    reader = csv.reader(io.StringIO(read_text(path, "columns city,dishes[,country]"), newline=""), strict=True)
    next(reader, None)
    seen = -1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            seen += 1
            if seen == row:
                return reader.line_num
    return None


def _check_unique_names(parts: list[tuple[Sites | list[str], object]]) -> None:
    """Refuse two sites of one name, naming the two sources that make it (``parts``: each
    part's sites or names, with its source: a string, or a function of the row giving one).

    Dish groups and cities name their sites ``<name><index>``, so ``Kyiv`` with 11 dishes and
    ``Kyiv1`` both make ``Kyiv10``; without this the error named neither."""
    def names_of(part):
        return part.name if isinstance(part, Sites) else part

    total = sum(len(names_of(p)) for p, _ in parts)
    if len(set(n for p, _ in parts for n in names_of(p))) == total:
        return
    first: dict[str, tuple[int, int]] = {}
    for k, (part, _) in enumerate(parts):
        for i, name in enumerate(names_of(part)):
            if name not in first:
                first[name] = (k, i)
                continue
            (k0, i0), (k1, i1) = first[name], (k, i)
            a, b = (parts[k0][1](i0) if callable(parts[k0][1]) else parts[k0][1],
                    parts[k1][1](i1) if callable(parts[k1][1]) else parts[k1][1])
            if a == b:
                raise InputError(f"{a} gives the site name {quote(str(name))} twice; site names must be unique",
                                 location="ground")
            groups = sum(src.startswith("ground.dish_groups") for src in (a, b))
            cities = sum(src.startswith(("ground.population_dishes", "ground.demand_files")) for src in (a, b))
            if groups:
                how = "rename one group" if groups == 2 else "rename the group"
            elif cities == 2:
                how = "give one of the two cities as a dish group of another name"
            else:
                how = "rename the site"
            naming = (" (dish groups and cities name their sites <name><index>: Kyiv0, Kyiv1, ...)"
                      if groups + cities else "")
            raise InputError(f"{b} makes the site {quote(str(name))}, which {a} also makes{naming}; {how}",
                             location="ground")


def build_sites(scenario: Scenario) -> Sites:
    """All ground sites: explicit sites, site files, built-in sets, then generated dishes."""
    g = scenario.ground
    parts: list[Sites] = []
    origins: list = []  # where each part comes from, for _check_unique_names
    if g.sites:
        _check_unique_names([([s.name for s in g.sites], lambda i: f"ground.sites[{i}] ({g.sites[i].name})")])
        origins.append(lambda i: f"ground.sites[{i}] ({g.sites[i].name})")
        parts.append(Sites(
            name=[s.name for s in g.sites], kind=[s.kind for s in g.sites],
            lat_deg=[s.lat_deg for s in g.sites], lon_deg=[s.lon_deg for s in g.sites],
            elevation_m=[s.elevation_m for s in g.sites], group=[s.group for s in g.sites],
            attrs={"dishes": np.array([s.dishes if s.kind == "dish" else None for s in g.sites], dtype=object),
                   **({"kit": np.array([s.kit for s in g.sites], dtype=object)} if any(s.kit for s in g.sites) else {}),
                   **({"home_pop": np.array([s.home_pop for s in g.sites], dtype=object)}
                      if any(s.home_pop for s in g.sites) else {}),
                   **({"antennas": np.array([s.antennas for s in g.sites], dtype=object)}
                      if any(s.antennas for s in g.sites) else {})},
        ))
    for k, spec in enumerate(g.site_files):
        path = input_file(scenario, spec.path, f"ground.site_files[{k}].path")
        parts.append(ground_sites.read_sites_csv(path, default_kind=spec.kind))
        origins.append(f"ground.site_files[{k}] ({path})")
    for k, spec in enumerate(g.builtin):
        parts.append(ground_sites.builtin_sites(spec.name, spec.regions, spec.statuses, spec.antennas,
                                                location=f"ground.builtin[{k}]"))
        origins.append(f"ground.builtin[{k}] ({spec.name})")
    for k, spec in enumerate(g.dish_groups):
        made = ground_sites.dishes_around(
            spec.lat_deg, spec.lon_deg, spec.count, spec.radius_km * 1000.0, spec.seed,
            name_prefix=spec.name, group=spec.name,
        )
        parts.append(Sites(made.name, made.kind, made.lat_deg, made.lon_deg, made.elevation_m, made.group,
                           {**made.attrs, "dishes": np.full(len(made), spec.dishes_per_site, dtype=object),
                            **({"kit": np.full(len(made), spec.kit, dtype=object)} if spec.kit else {}),
                            **({"users_per_dish": np.full(len(made), spec.users_per_dish, dtype=object)}
                               if spec.users_per_dish > 1 else {})}))
        origins.append(f"ground.dish_groups[{k}] ({spec.name})")
    for made, origin in _population_sites(scenario):
        parts.append(made)
        origins.append(origin)
    _check_unique_names(list(zip(parts, origins)))
    return Sites.concatenate(parts) if parts else Sites.concatenate([])


def dish_rows(sites: Sites) -> np.ndarray:
    """int64 rows of the dish sites of ``sites`` (the network model's ``dish_sites``)."""
    return np.flatnonzero(np.asarray(sites.kind) == "dish")
