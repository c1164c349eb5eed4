"""Whether a run and its baseline can be compared dish by dish: the same sites, row for row.

A comparison joins the two runs' dish-steps on (instant, site), and ``site`` is a row of each
run's own ``sites.parquet``: a baseline with other sites (another scenario put in its folder, a
run of another place) would pair each dish with whatever dish has its row number there, and read
RTT changes of dishes that never met. ``leonet run --baseline`` writes the same sites to both; this
check catches the rest.
"""

from __future__ import annotations

import numpy as np

from .store import ResultStore

#: The columns that make two site tables the same places (dishes: how many a dish site stands for).
SITE_KEYS = ("name", "kind", "lat_deg", "lon_deg", "dishes")
#: Differing rows named in the message at most.
MAX_NAMED = 3


def sites_mismatch(store: ResultStore, base: ResultStore) -> str | None:
    """Why ``base``'s sites are not ``store``'s, row for row (names, kinds, positions, dishes), or
    None when they are. The text names the first differing rows ("row 3: 'Odesa0' in the baseline,
    'Kyiv0' in the run")."""
    a, b = store.read("sites", columns=None), base.read("sites", columns=None)
    if a.num_rows != b.num_rows:
        return f"has {b.num_rows:,} sites where the run has {a.num_rows:,}"
    differ_by_key: dict[str, np.ndarray] = {}   # (n,) bool per column: the rows where it differs
    for key in (k for k in SITE_KEYS if k in a.column_names or k in b.column_names):
        if (key in a.column_names) != (key in b.column_names):
            return f"has {'no' if key not in b.column_names else 'a'} column {key!r} in sites.parquet where the run has " \
                   f"{'one' if key in a.column_names else 'none'}"
        differ_by_key[key] = _unequal(a.column(key).to_numpy(zero_copy_only=False),
                                      b.column(key).to_numpy(zero_copy_only=False))
    differ = np.logical_or.reduce(list(differ_by_key.values()))
    if not differ.any():
        return None
    rows = np.flatnonzero(differ)
    names_a, names_b = a.column("name").to_pylist(), b.column("name").to_pylist()

    def differing(r: int) -> str:
        return ", ".join(f"{key} {b.column(key)[r].as_py()!r} in the baseline, {a.column(key)[r].as_py()!r} in the run"
                         for key, d in differ_by_key.items() if d[r])

    named = "; ".join(f"row {r}: {names_b[r]!r} in the baseline, {names_a[r]!r} in the run"
                      if names_a[r] != names_b[r] else f"row {r}: {names_a[r]!r} differs ({differing(r)})"
                      for r in rows[:MAX_NAMED])
    more = f" and {len(rows) - MAX_NAMED:,} more" if len(rows) > MAX_NAMED else ""
    return f"has other sites than the run ({named}{more})"


def _unequal(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n,) bool: the rows where two columns differ (NaN equals NaN: a site without a count)."""
    if x.dtype.kind == "f" and y.dtype.kind == "f":
        return ~((x == y) | (np.isnan(x) & np.isnan(y)))
    return np.asarray(x != y, dtype=bool)

