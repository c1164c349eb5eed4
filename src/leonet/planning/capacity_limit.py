"""How many dishes fit: the largest dish count that still meets a service target.

The dishes of the chosen groups (all dish groups by default) are scaled together, keeping their
shares, and the target (e.g. ``p10_down_mbps>=25,availability>=0.99``, over those groups) is
checked by running the scenario. More dishes never serve the existing ones better (they share the
same beams, satellites, feeders and PoPs), so the answer is found by bisection; with W workers each
round tries W counts at once (a W+1-section), so a study takes about log(range)/log(W+1) rounds.

Dish counts move in whole dishes per site (a group of 10 sites moves in steps of 10 dishes): the
answer's resolution is the number of sites scaled, and the report says so. The binding link is
read from the smallest count that fails: the most often saturated link on the dishes' routes.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field


from ..errors import InputError
from .metrics import binding_links, check_region
from .targets import Condition, all_met, check_capacity
from .variants import RunningProgress, Variant, run_variants, scenario_data, write_study_result

MAX_ROUNDS = 40


@dataclass(frozen=True)
class CapacityLimit:
    """The answer: ``dishes`` (the largest count found to meet the target, 0 if even one site's
    worth fails), ``fails_at`` (the smallest count found to fail; None if none failed up to the
    search limit), ``resolution`` (dishes per step of the search), the metrics at both, and the
    binding links at ``fails_at``."""

    dishes: int
    fails_at: int | None
    resolution: int
    metrics_met: dict
    metrics_failed: dict
    binding: list[dict] = field(default_factory=list)
    tried: list[tuple[int, bool]] = field(default_factory=list)


def _dish_fields(data: dict, groups: list[str] | None) -> list[tuple[list, int, str, int]]:
    """(container, index, field, dishes per site) of every scalable dish count, and site counts."""
    g = data.get("ground", {})
    if g.get("demand_files"):
        raise InputError("capacity-limit cannot scale dishes given by demand files; use dish_groups or sites",
                         location="ground.demand_files")
    if g.get("population_dishes"):
        raise InputError("capacity-limit cannot scale population_dishes yet; use dish_groups or sites",
                         location="ground.population_dishes")
    out = []
    for k, grp in enumerate(g.get("dish_groups", [])):
        if groups is None or grp["name"] in groups:
            out.append((g["dish_groups"], k, "dishes_per_site", int(grp.get("count", 1))))
    for k, site in enumerate(g.get("sites", [])):
        if site.get("kind", "dish") == "dish" and (groups is None or site.get("group", "") in groups):
            out.append((g["sites"], k, "dishes", 1))
    if not out:
        raise InputError("selects no dishes to scale (check --groups; dish_groups and dish sites scale)",
                         location="--groups")
    return out


def scaled(data: dict, groups: list[str] | None, total: int) -> tuple[dict, int]:
    """The scenario dict with the chosen dishes scaled to about ``total`` (>= 1 per site), and the
    total it actually holds."""
    data = copy.deepcopy(data)
    fields = _dish_fields(data, groups)
    now = sum(int(c[k].get(f) or 1) * n for c, k, f, n in fields)
    got = 0
    for c, k, f, n in fields:
        per_site = max(1, int(round((c[k].get(f) or 1) * total / max(now, 1))))
        c[k][f] = per_site
        got += per_site * n
    return data, got


def capacity_limit(base, conditions: tuple[Condition, ...], study_dir, *, groups: list[str] | None = None,
                   workers: int = 1, dask: str | None = None, max_dishes: int = 1_000_000,
                   progress=None) -> CapacityLimit:
    """Search for the largest dish count of ``groups`` that meets every condition. The answer
    (and the binding links) is also written to the study's ``study.json`` (``result``); its table
    holds every count tried, round after round."""
    check_capacity([c.metric for c in conditions], base, "--target")
    check_region(base, groups)
    data = scenario_data(base)
    fields = _dish_fields(data, groups)
    resolution = sum(n for _, _, _, n in fields)
    start = sum(int(c[k].get(f) or 1) * n for c, k, f, n in fields)
    per_round = max(1, workers)
    tried: dict[int, tuple[bool, dict, str]] = {}

    running = RunningProgress(progress)  # one bar over every round

    def evaluate(totals: list[int]) -> int:
        """Run the counts not tried yet; returns how many were new."""
        todo = []
        for want in sorted(set(totals)):
            d, got = scaled(data, groups, want)
            if got not in tried and got not in [v.labels["dishes"] for v in todo]:
                todo.append(Variant(name=f"dishes-{got}", overrides={"ground": d["ground"]}, labels={"dishes": got}))
        if not todo:
            return 0
        # every round adds its counts to the study's table (the first starts it afresh)
        table = run_variants(base, todo, study_dir, groups=groups, workers=workers, dask=dask,
                             kind="capacity-limit", progress=running, append=bool(tried))
        running.batch_done(len(todo))
        for _, row in table.iterrows():
            metrics = {k: row[k] for k in row.index if k not in ("variant", "dishes", "results")}
            tried[int(row["dishes"])] = (all_met(conditions, metrics), metrics, row["results"])
        return len(todo)

    evaluate([start])
    lo, hi = (start, None) if tried[max(tried)][0] else (0, start)
    rounds = 0
    while hi is None and lo < max_dishes and rounds < MAX_ROUNDS:  # grow until a count fails
        rounds += 1
        evaluate([min(max_dishes, lo * (2 ** (j + 1))) for j in range(per_round)])
        fails = sorted(n for n, (ok, _, _) in tried.items() if not ok)
        oks = sorted(n for n, (ok, _, _) in tried.items() if ok)
        lo = max(oks) if oks else 0
        hi = min((n for n in fails if n > lo), default=None)
    while hi is not None and hi - lo > resolution and rounds < MAX_ROUNDS:
        rounds += 1
        step = (hi - lo) / (per_round + 1)
        if not evaluate([int(round(lo + step * (j + 1))) for j in range(per_round)]):
            break  # the scaling reaches no count between lo and hi
        oks = sorted(n for n, (ok, _, _) in tried.items() if ok and n < hi)
        lo = max(oks) if oks else 0
        hi = min(n for n, (ok, _, _) in tried.items() if not ok and n > lo)
    met = tried.get(lo, (True, {}, None))
    failed = tried.get(hi, (False, {}, None)) if hi is not None else (False, {}, None)
    result = CapacityLimit(
        dishes=int(lo), fails_at=None if hi is None else int(hi), resolution=resolution,
        metrics_met=met[1], metrics_failed=failed[1],
        binding=binding_links(failed[2], groups) if failed[2] else [],
        tried=sorted((n, ok) for n, (ok, _, _) in tried.items()),
    )
    write_study_result(study_dir, {
        "target": [str(c) for c in conditions], "dishes": result.dishes, "fails_at": result.fails_at,
        "resolution": result.resolution, "metrics_met": _plain(result.metrics_met),
        "metrics_failed": _plain(result.metrics_failed), "binding": result.binding,
        "tried": [{"dishes": n, "met": ok} for n, ok in result.tried]})
    return result


def _plain(metrics: dict) -> dict:
    """A row's metrics as JSON values (numbers; None for NaN; the path as text)."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, str):
            out[k] = v
        else:
            try:
                f = float(v)
            except (TypeError, ValueError):
                continue
            out[k] = f if math.isfinite(f) else None
    return out

