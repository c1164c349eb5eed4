"""N-1 and N-2 contingency ranking: which element, if lost, hurts the region most.

Power-grid planners rank contingencies by removing each element in turn (N-1) and the worst pairs
together (N-2). Here the elements are a scenario's gateways, PoPs, fibre links (gateway-PoP and
PoP backbone), satellite planes, or its own events; each is removed for the whole run, on top of
the scenario as it is: an element of the network by an event (``gateway_loss``, ``pop_loss``,
``fibre_cut``, ``satellite_loss`` of one plane), one of the scenario's events by taking it out
(the others kept). The effect of each is its metrics minus the base run's (the scenario as it is,
every event in), ranked worst first: availability lost, then p10 throughput lost, then unmet
demand added, then RTT added. Taking out an event that hurts shows as a gain (ranked last).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, did_you_mean
from .metrics import METRICS, check_region
from .variants import Variant, run_variants

KINDS = ("gateways", "pops", "fibre", "planes", "events")
BASE = "base"
#: The order in which effects rank a contingency (worst first).
RANK_BY = (("availability", False), ("p10_down_mbps", False), ("unmet_demand", True), ("rtt_p50_ms", True))


@dataclass(frozen=True)
class Element:
    """One element that can be lost: its kind, a readable name, and the event that removes it
    (None for the scenario's own events, which are kept or dropped instead)."""

    kind: str
    name: str
    event: dict | None
    lat_deg: float = float("nan")
    lon_deg: float = float("nan")


def _loss(name: str, **event) -> dict:
    return {"name": f"n1-{name}"[:200], "start_s": 0, "description": f"contingency: {name} lost", **event}


def elements_of(base, kind: str) -> list[Element]:
    """The elements of ``kind`` in the scenario (see :data:`KINDS`)."""
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}{did_you_mean(kind, KINDS)}; kinds: {', '.join(KINDS)}", location="--kind")
    if kind == "events":
        if not base.events:
            raise InputError("the scenario has no events to rank", location="--kind events")
        return [Element("event", e.name, None) for e in base.events]
    from ..sim.model import build_model

    model = build_model(base)
    if not base.network.enabled:
        raise InputError("contingency ranking needs the network model (network.enabled)", location="network.enabled")
    net, sites = model.network, model.sites
    names = list(sites.name)
    out: list[Element] = []
    if kind == "gateways":
        for s in net.gateway_sites:
            out.append(Element("gateway", names[s], _loss(names[s], type="gateway_loss", target={"sites": [names[s]]}),
                               float(sites.lat_deg[s]), float(sites.lon_deg[s])))
    elif kind == "pops":
        for s in net.pop_sites:
            out.append(Element("pop", names[s], _loss(names[s], type="pop_loss", target={"sites": [names[s]]}),
                               float(sites.lat_deg[s]), float(sites.lon_deg[s])))
    elif kind == "fibre":
        for g, p in enumerate(net.gateway_pop):
            if p < 0:
                continue
            a, b = names[net.gateway_sites[g]], names[net.pop_sites[p]]
            out.append(Element("fibre", f"{a} - {b}", _loss(f"{a}-{b}", type="fibre_cut", links=[[a, b]]),
                               float(sites.lat_deg[net.gateway_sites[g]]), float(sites.lon_deg[net.gateway_sites[g]])))
        for pa, pb in net.backbone:
            a, b = names[net.pop_sites[pa]], names[net.pop_sites[pb]]
            out.append(Element("fibre", f"{a} - {b}", _loss(f"{a}-{b}", type="fibre_cut", links=[[a, b]]),
                               float(sites.lat_deg[net.pop_sites[pa]]), float(sites.lon_deg[net.pop_sites[pa]])))
    else:  # planes
        c = model.constellation
        for shell_no, shell in enumerate(c.shell_names):
            for plane in np.unique(c.plane[c.shell == shell_no]).tolist():
                out.append(Element("plane", f"{shell} plane {plane}", _loss(
                    f"{shell}-plane-{plane}", type="satellite_loss", target={"shells": [shell], "planes": [int(plane)]})))
    if not out:
        raise InputError(f"the scenario has no {kind}", location="--kind")
    return out


def _variant(elements: tuple[Element, ...]) -> Variant:
    label = " + ".join(e.name for e in elements)
    return Variant(name=label, add_events=tuple(e.event for e in elements),
                   labels={"element": label, "kind": elements[0].kind, "n": len(elements)})


def rank(table: pd.DataFrame) -> pd.DataFrame:
    """Effects against the base row (``delta_<metric>``), worst contingency first."""
    base = table.loc[table["variant"] == BASE].iloc[0]
    rows = table.loc[table["variant"] != BASE].copy()
    for m in METRICS:
        rows[f"delta_{m}"] = rows[m] - base[m]
    keys, ascending = [], []
    for m, increase_is_worse in RANK_BY:
        col = f"delta_{m}"
        if rows[col].notna().any():
            keys.append(col)
            ascending.append(not increase_is_worse)
    rows = rows.sort_values(keys, ascending=ascending, kind="stable", na_position="last") if keys else rows
    rows.insert(0, "rank", np.arange(1, len(rows) + 1))
    return rows.reset_index(drop=True)


def contingency(base, kind: str, study_dir, *, n2: int = 0, groups: list[str] | None = None, workers: int = 1,
                dask: str | None = None, progress=None, max_variants: int | None = None) -> pd.DataFrame:
    """Rank the N-1 losses of every element of ``kind`` (and, with ``n2`` = K > 1, every pair of the
    K worst) against the scenario as it is; for ``events``, each of the scenario's events taken out
    (the others kept). Returns the ranked table (also written as ``study_dir/ranking.parquet``)."""
    if kind in KINDS:  # an unknown kind is elements_of's error
        check_region(base, groups)  # before the model is built or anything runs
    els = elements_of(base, kind)
    # The base is the scenario as it is (its events too); each variant loses one element.
    variants = [Variant(BASE, labels={"element": "(as is)", "kind": "base", "n": 0})]
    variants += [(_without_events(base, (e,)) if kind == "events" else _variant((e,))) for e in els]
    extra = {} if max_variants is None else {"max_variants": max_variants}
    # One count over both batches, out of the study's variants: the base, each loss, each pair
    # (the pairs' batch steps the base along again, which is not counted twice).
    n_pairs = math.comb(min(n2, len(els)), 2) if n2 and n2 > 1 else 0
    whole = len(variants) + n_pairs
    table = run_variants(base, variants, study_dir, groups=groups, workers=workers, dask=dask,
                         kind=f"contingency-{kind}", progress=progress and (lambda d, t: progress(d, whole)), **extra)
    ranked = rank(table)
    if n2 and n2 > 1:
        worst = ranked.head(n2)["variant"].tolist()
        by_name = {e.name: e for e in els}
        pairs = [(by_name[a], by_name[b]) for a, b in itertools.combinations(worst, 2)]
        pair_variants = [(_without_events(base, p) if kind == "events" else _variant(p)) for p in pairs]
        done = len(variants)

        def pair_progress(d: int, t: int) -> None:  # the batch's base is not a new variant of the study
            progress(done + (d * len(pairs)) // max(t, 1), done + len(pairs))

        # appended: the study's table keeps the N-1 variants beside the pairs
        table2 = run_variants(base, variants[:1] + pair_variants, study_dir, groups=groups, workers=workers, dask=dask,
                              kind=f"contingency-{kind}-n2", progress=progress and pair_progress, append=True, **extra)
        ranked = rank(pd.concat([table, table2.loc[table2["variant"] != BASE]], ignore_index=True))
    coords = {e.name: (e.lat_deg, e.lon_deg) for e in els}
    ranked["lat_deg"] = [coords.get(v, (np.nan, np.nan))[0] for v in ranked["variant"]]
    ranked["lon_deg"] = [coords.get(v, (np.nan, np.nan))[1] for v in ranked["variant"]]
    from pathlib import Path

    out = Path(study_dir) / "ranking.parquet"
    tmp = out.with_name(".ranking.parquet.tmp")
    ranked.to_parquet(tmp, index=False)
    tmp.replace(out)
    return ranked


def _without_events(base, elements: tuple[Element, ...]) -> Variant:
    """The scenario as it is less the scenario's own events ``elements``."""
    drop = {e.name for e in elements}
    events = tuple(e.model_dump(mode="json", exclude_none=True) for e in base.events if e.name not in drop)
    label = " + ".join(e.name for e in elements)
    return Variant(name=label, keep_events=False, add_events=events,
                   labels={"element": label, "kind": "event", "n": len(elements)})
