"""A country's realism run split by home PoP: where each part of its subscribers' traffic lands and
what it gets, so a miss in the country table can be read (a country whose subscribers the GeoIP
feed homes partly in a far PoP, a PoP's traffic landing far from it).

One row per (country, home PoP) of the run's sample dishes, from the run's own ``dish_steps``:

- ``subscriber_share``: the share of the country's subscribers homed there (the plan's weights);
- ``connected_share``: of their dish-steps, the weighted share not in an outage;
- ``latency_p50_ms``, ``download_p50_mbps``: the country table's figures
  (:func:`leonet.realism.figures.leonet_figures`) of these dishes only;
- ``propagation_p50_ms``: the median of the same steps' ``propagation_rtt_ms`` (the route's round
  trip alone, light in space and fibre): ``latency_p50_ms`` minus it is what the service terms
  (MAC, processing, queueing, jitter) add, so a miss can be told to be the route's or the terms';
- ``laser_hops_mean``: the mean laser hops of their connected steps;
- ``at_home_pop_share``: the share of their connected steps that leave at the home PoP;
- ``landing``: the gateways their connected steps come down at, most used first, with shares
  (at most :data:`LANDING_SHOWN`; ``"-"`` when none).
"""

from __future__ import annotations

import numpy as np

from .figures import leonet_figures, online
from .quality import quality_percentile

#: Columns of the breakdown table, in order.
BY_POP_COLUMNS = ("country", "home_pop", "subscriber_share", "connected_share", "latency_p50_ms",
                  "propagation_p50_ms", "download_p50_mbps", "laser_hops_mean", "at_home_pop_share", "landing")
#: Gateways named per row, most used first.
LANDING_SHOWN = 4


def home_pop_rows(iso3: str, sites, steps, weights: np.ndarray, pop_code: dict[int, str]) -> list[dict]:
    """Rows of :data:`BY_POP_COLUMNS` for one country's run.

    sites : the run's ``sites`` table (pandas; its ``name`` column names the gateways).
    steps : the run's ``dish_steps`` (pandas: ``site``, ``state``, ``home_pop``, ``pop``,
        ``gateway``, ``rtt_ms``, ``propagation_rtt_ms``, ``speedtest_down_bps``, ``speedtest_up_bps``,
        ``isl_hops``).
    weights : (S,) subscribers each site stands for.
    pop_code : site index of each PoP -> its code (the country table's ``home_pop`` labels).
    """
    weights = np.asarray(weights, dtype=float)
    home, site = steps["home_pop"].to_numpy(), steps["site"].to_numpy()
    on_all = online(steps)
    total = float(weights[np.unique(site)].sum())
    names = sites["name"].to_numpy(dtype=object)
    rows = []
    for h in np.unique(home[home >= 0]):
        mine = home == h
        part = steps[mine]
        on = on_all[mine]
        w = weights[site[mine]]
        connected_w = w * on
        used = connected_w.sum()
        landing = "-"
        if used > 0:
            g = part["gateway"].to_numpy()
            counts = {int(k): float(connected_w[g == k].sum()) for k in np.unique(g[on & (g >= 0)])}
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:LANDING_SHOWN]
            landing = "; ".join(f"{names[k]} {v / used:.0%}" for k, v in top) or "-"
        figures = leonet_figures(part, weights)
        hops = part["isl_hops"].to_numpy(dtype=float)
        prop = part["propagation_rtt_ms"].to_numpy(dtype=float)
        rows.append({
            "country": iso3, "home_pop": pop_code.get(int(h), str(names[int(h)])),
            "subscriber_share": float(weights[np.unique(site[mine])].sum()) / total if total else float("nan"),
            "connected_share": float(used / w.sum()) if w.sum() else float("nan"),
            "latency_p50_ms": figures["latency_p50"],
            "propagation_p50_ms": quality_percentile(np.where(on, prop, np.nan), w, 50.0, False),
            "download_p50_mbps": figures["download_p50"],
            "laser_hops_mean": float(np.sum(connected_w * np.where(on, hops, 0)) / used) if used else float("nan"),
            "at_home_pop_share": float(np.sum(connected_w * (part["pop"].to_numpy() == h)) / used) if used else float("nan"),
            "landing": landing,
        })
    return rows
