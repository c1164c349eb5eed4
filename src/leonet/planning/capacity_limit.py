"""How many dishes fit: the largest dish count that still meets a service target.

The dishes of the chosen groups (all dish groups by default) are scaled together, keeping their
shares, and the target (e.g. ``unmet_demand<=0.01,availability>=0.99``, over those groups) is
checked by running the scenario. The search assumes that more dishes never serve the existing
ones better (they share the same beams, satellites, feeders and PoPs) and bisects; with W workers
each round tries W counts at once (a W+1-section), so a study takes about log(range)/log(W+1)
rounds. The assumption does not hold for every target, so the search checks it where it can:

- when the scenario's own count meets the target, one dish per site is tried as well (fewer
  dishes should meet it too);
- when the scenario's own count fails, larger counts are tried too (doubling up to
  ``max_dishes``) before fewer: a demand-driven metric can rise with the count. Delivered
  throughput (``p10_down_mbps`` and the other ``*_down_mbps``) is at most what the dishes ask
  for: with on/off traffic a site of few dishes is idle in most steps (0 Mbps), so its p10 rises
  with more dishes.

Where a count fails while a larger one meets, the answer is ``outcome`` "not-monotone": the counts
that failed and met are named and no limit is claimed. A metric that is undefined (NaN) at a count
(``unmet_demand`` with no demand in the window, RTT with no connected dish-time) neither meets nor
fails there: the count is recorded as undefined and the search goes on past it.

Dish counts move in whole dishes per site (a group of 10 sites moves in steps of 10 dishes): the
answer's resolution is the number of sites scaled, and the report says so. The binding link is
read from the smallest count that fails: the most often saturated link on the dishes' routes.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field


from ..errors import InputError
from .metrics import DEMAND_DRIVEN, binding_links, check_region
from .targets import Condition, check_capacity
from .variants import RunningProgress, Variant, run_variants, scenario_data, write_study_result

MAX_ROUNDS = 40

#: A count's verdict: every condition met; a condition failed on a defined metric; or no
#: condition failed but a metric of the target is undefined (NaN) there.
MET, FAILED, UNDEFINED = "met", "failed", "undefined"

#: Why a metric is NaN at a count (what "undefined" means for it).
_WHY_NAN = {
    "unmet_demand": "the region's dishes asked for no downlink in the window",
    "rtt_p50_ms": "no connected dish-time", "rtt_p95_ms": "no connected dish-time",
}


@dataclass(frozen=True)
class CapacityLimit:
    """The answer. ``outcome``: "limit" (``dishes`` is the largest count found to meet the target,
    ``fails_at`` the smallest larger count found not to), "holds" (met up to the most dishes
    tried; ``fails_at`` None), "fails" (no count tried meets it; ``dishes`` 0), "undefined" (the
    target's metrics are NaN at every count tried) or "not-monotone" (a count fails while a larger
    one meets: no limit; ``dishes``/``fails_at`` are only the largest count found to meet and the
    next count tried above it). ``resolution`` is dishes per step of the search; the metrics at
    ``dishes`` and ``fails_at``, the binding links at ``fails_at``, every count tried (met or not)
    and the undefined ones (count, metrics NaN there). ``no_better`` names the metrics that made
    the search stop trying more dishes above a failing start (more dishes got them no closer to
    the bound); empty where it doubled up to ``max_dishes`` or found a count that meets."""

    dishes: int
    fails_at: int | None
    resolution: int
    metrics_met: dict
    metrics_failed: dict
    binding: list[dict] = field(default_factory=list)
    tried: list[tuple[int, bool]] = field(default_factory=list)
    outcome: str = "limit"
    start: int = 0
    max_dishes: int | None = None
    undefined: list[tuple[int, list[str]]] = field(default_factory=list)
    target: list[str] = field(default_factory=list)
    no_better: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The answer as study.json's ``result`` (JSON values)."""
        return {
            "target": list(self.target), "outcome": self.outcome, "dishes": self.dishes, "fails_at": self.fails_at,
            "start": self.start, "max_dishes": self.max_dishes, "resolution": self.resolution,
            "metrics_met": _plain(self.metrics_met), "metrics_failed": _plain(self.metrics_failed),
            "binding": self.binding,
            "tried": [{"dishes": n, "met": ok, "undefined": n in {u for u, _ in self.undefined}} for n, ok in self.tried],
            "undefined": [{"dishes": n, "metrics": list(ms)} for n, ms in self.undefined],
            "no_better": list(self.no_better)}


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


def _per_site_limit(spec_field: str) -> int:
    """The scenario's own upper bound on a dish count field (``dishes_per_site`` of a dish group,
    ``dishes`` of a site), read from its schema so the two never disagree."""
    from ..scenario.ground import DishGroupSpec, SiteSpec

    spec = DishGroupSpec if spec_field == "dishes_per_site" else SiteSpec
    return min(int(m.le) for m in spec.model_fields[spec_field].metadata if getattr(m, "le", None) is not None)


def _largest_count(fields: list[tuple[list, int, str, int]]) -> tuple[int, str, int]:
    """The largest total :func:`scaled` can give without a count passing the scenario's limit per
    site, with the field that reaches its limit first and that limit."""
    now = sum(int(c[k].get(f) or 1) * n for c, k, f, n in fields)
    best = None
    for c, k, f, n in fields:
        cap = _per_site_limit(f)
        reach = (cap * now) // int(c[k].get(f) or 1)  # scaled() multiplies every count by total / now
        where = f"ground.{'dish_groups' if f == 'dishes_per_site' else 'sites'}[{k}].{f}"
        if best is None or reach < best[0]:
            best = (int(reach), where, cap)
    return best


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


def verdict(conditions: tuple[Condition, ...], metrics: dict) -> tuple[str, list[str]]:
    """A count's verdict (:data:`MET`, :data:`FAILED` or :data:`UNDEFINED`) and the target's
    metrics that are NaN there. A condition failed on a defined metric fails the count whatever
    the others are; otherwise a NaN metric leaves it undefined (neither met nor failed)."""
    nan = []
    failed = False
    for c in conditions:
        try:
            v = float(metrics.get(c.metric, float("nan")))
        except (TypeError, ValueError):
            v = float("nan")
        if math.isnan(v):
            if c.metric not in nan:
                nan.append(c.metric)
        elif not c.met(metrics):
            failed = True
    return (FAILED if failed else UNDEFINED if nan else MET), nan


def capacity_limit(base, conditions: tuple[Condition, ...], study_dir, *, groups: list[str] | None = None,
                   workers: int = 1, dask: str | None = None, max_dishes: int = 1_000_000,
                   progress=None) -> CapacityLimit:
    """Search for the largest dish count of ``groups`` that meets every condition (see the module
    docstring for how the search checks that fewer dishes are no worse off). The answer (and the
    binding links) is also written to the study's ``study.json`` (``result``); its table holds
    every count tried, round after round. A ``max_dishes`` below the scenario's own count of the
    region is refused: the search starts from that count."""
    check_capacity([c.metric for c in conditions], base, "--target")
    if not base.capacity.enabled:  # then dishes share nothing: every count meets a target as the first does
        raise InputError("the number of dishes changes nothing without the capacity model, which the scenario has "
                         "off (capacity.enabled: false): no link is shared, so every count would meet or miss the "
                         "target as the scenario's own does; turn it on, e.g. --set capacity.enabled=true",
                         location="capacity.enabled")
    check_region(base, groups)
    data = scenario_data(base)
    fields = _dish_fields(data, groups)
    resolution = sum(n for _, _, _, n in fields)
    start = sum(int(c[k].get(f) or 1) * n for c, k, f, n in fields)
    if max_dishes < start:
        region = "the region's dishes" if groups else "its dishes"
        raise InputError(f"{max_dishes:,} is below the scenario's own count of {region} ({start:,}), where the "
                         f"search starts; give --max-dishes {start:,} or more (or fewer dishes in the scenario)",
                         location="--max-dishes")
    reach, where, cap = _largest_count(fields)
    if max_dishes > reach:  # refused before any variant runs, not rounds later on a count it cannot hold
        raise InputError(f"{max_dishes:,} is more than the scenario can be scaled to: with the region's shares kept, "
                         f"{reach:,} dishes make {where} reach its limit of {cap:,}; give --max-dishes {reach:,} or "
                         "less", location="--max-dishes")
    per_round = max(1, workers)
    tried: dict[int, tuple[str, dict, str, list[str]]] = {}

    running = RunningProgress(progress)  # one bar over every round

    def evaluate(totals: list[int]) -> int:
        """Run the counts not tried yet; returns how many were new."""
        todo = []
        for want in sorted(set(totals)):
            d, got = scaled(data, groups, want)
            while got > max_dishes and want > 1:  # rounding per site can overshoot the limit
                want -= max(1, got - max_dishes)
                d, got = scaled(data, groups, want)
            if got not in tried and got not in [v.labels["dishes"] for v in todo]:
                todo.append(Variant(name=f"dishes-{got}", overrides={"ground": d["ground"]}, labels={"dishes": got}))
        if not todo:
            return 0
        # every round adds its counts to the study's table (the first starts it afresh)
        try:
            table = run_variants(base, todo, study_dir, groups=groups, workers=workers, dask=dask,
                                 kind="capacity-limit", progress=running, append=bool(tried))
        except InputError as err:
            if not tried:
                raise
            # a later round failed: the folder holds the earlier rounds' counts and no result; say so
            raise InputError(f"{err.message} (the study stopped unfinished: {study_dir} holds the {len(tried)} "
                             "count(s) tried before, in its table, and no result)",
                             source=err.source, location=err.location) from None
        running.batch_done(len(todo))
        for _, row in table.iterrows():
            metrics = {k: row[k] for k in row.index if k not in ("variant", "dishes", "results")}
            state, nan = verdict(conditions, metrics)
            tried[int(row["dishes"])] = (state, metrics, row["results"], nan)
        return len(todo)

    def bracket(below: int | None = None) -> tuple[int, int | None]:
        """The largest count met (below ``below``; 0 if none) and the smallest larger count not met."""
        lo = max((n for n, t in tried.items() if t[0] == MET and (below is None or n < below)), default=0)
        return lo, min((n for n, t in tried.items() if t[0] != MET and n > lo), default=None)

    rounds = 0

    def grow(first_extra: list[int]) -> None:
        """Double from the largest count met until a larger count does not meet it (or the limit)."""
        nonlocal rounds
        extra = list(first_extra)
        lo, hi = bracket()
        while hi is None and lo < max_dishes and rounds < MAX_ROUNDS:
            rounds += 1
            if not evaluate([min(max_dishes, lo * (2 ** (j + 1))) for j in range(per_round)] + extra):
                break  # the scaling reaches no larger count
            extra = []
            lo, hi = bracket()
        if extra:  # the doubling never ran (the scenario's count is the limit): the extra counts alone
            evaluate(extra)

    def bisect(lo: int, hi: int | None) -> None:
        nonlocal rounds
        while hi is not None and hi - lo > resolution and rounds < MAX_ROUNDS:
            rounds += 1
            step = (hi - lo) / (per_round + 1)
            if not evaluate([int(round(lo + step * (j + 1))) for j in range(per_round)]):
                break  # the scaling reaches no count between lo and hi
            lo, hi = bracket(below=hi)

    no_better: list[str] = []
    evaluate([start])
    if tried[start][0] == MET:
        # one dish per site beside the first larger counts: fewer dishes should meet it too
        grow([resolution] if start > resolution else [])
        bisect(*bracket())
    else:
        # more dishes first (doubling up to max_dishes): a demand-driven metric can rise with them.
        # The doubling stops early only where every condition failed is on a load-driven metric
        # (not DEMAND_DRIVEN) that more dishes made no better: more load, no closer to the bound.
        while (not any(t[0] == MET for t in tried.values()) and max(tried) < max_dishes and rounds < MAX_ROUNDS):
            rounds += 1
            top = max(tried)
            if not evaluate([min(max_dishes, top * (2 ** (j + 1))) for j in range(per_round)]):
                break
            chain = sorted(n for n in tried if n >= top)
            stop = _no_better(conditions, tried[chain[-2]][1], tried[chain[-1]][1])
            if stop and not any(t[0] == MET for t in tried.values()):
                no_better = stop
                break
        if any(t[0] == MET for t in tried.values()):
            grow([])
            bisect(*bracket())
        else:  # no larger count meets it: fewer dishes
            bisect(*bracket(below=start))

    met = [n for n, t in tried.items() if t[0] == MET]
    failed = [n for n, t in tried.items() if t[0] == FAILED]
    lo, hi = bracket()
    if not met:
        outcome, lo = ("fails" if failed else UNDEFINED), 0
        hi = min(failed) if failed else None
    elif failed and min(failed) < max(met):
        outcome = "not-monotone"
    else:
        outcome = "limit" if hi is not None else "holds"
    got = tried.get(lo)
    miss = tried.get(hi) if hi is not None else None
    result = CapacityLimit(
        dishes=int(lo), fails_at=None if hi is None else int(hi), resolution=resolution,
        metrics_met=got[1] if got else {}, metrics_failed=miss[1] if miss else {},
        binding=binding_links(miss[2], groups) if miss and miss[0] == FAILED else [],
        tried=sorted((n, t[0] == MET) for n, t in tried.items()),
        outcome=outcome, start=int(start), max_dishes=int(max_dishes),
        undefined=sorted((n, list(t[3])) for n, t in tried.items() if t[0] == UNDEFINED),
        target=[str(c) for c in conditions], no_better=no_better)
    write_study_result(study_dir, result.as_dict())
    return result


def _value(metrics: dict, name: str) -> float:
    try:
        return float(metrics.get(name, float("nan")))
    except (TypeError, ValueError):
        return float("nan")


def _no_better(conditions: tuple[Condition, ...], fewer: dict, more: dict) -> list[str]:
    """The metrics of the conditions that the larger count (``more``) fails, where it got no
    closer to the bound than the smaller (``fewer``); empty where more dishes may still help: a
    condition failed on a demand-driven metric, a metric undefined at either count, or one that
    got closer (or where the larger count meets the target)."""
    names = []
    for c in conditions:
        if c.met(more):
            continue
        a, b = _value(fewer, c.metric), _value(more, c.metric)
        if math.isnan(a) or math.isnan(b) or c.metric in DEMAND_DRIVEN:
            return []
        if (b > a) if c.op in (">=", ">") else (b < a):
            return []
        names.append(c.metric)
    return names


def _counts(ns: list[int], limit: int = 6) -> str:
    """Counts as text: "3, 6 and 12"; a long list shortened."""
    ns = sorted(ns)
    text = [f"{n:,}" for n in ns]
    if len(text) > limit:
        text = text[:limit - 2] + ["...", text[-1]]
        return ", ".join(text) + f" ({len(ns)} counts)"
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def describe(result: dict) -> list[str]:
    """The answer (study.json's ``result``) in words, one sentence a line: what the terminal and
    the report say. Results written before ``outcome`` existed read as that search left them, with
    a line that says so (it did not check that fewer dishes are no worse off)."""
    target = ", ".join(result.get("target", []))
    dishes, fails = result.get("dishes") or 0, result.get("fails_at")
    tried = result.get("tried", [])
    met = [t["dishes"] for t in tried if t.get("met")]
    undefined = {u["dishes"]: u.get("metrics", []) for u in result.get("undefined", [])}
    earlier = "outcome" not in result
    if earlier and fails is not None:  # an earlier search counted a NaN metric as a failure
        names = {re.match(r"\w*", t).group() for t in result.get("target", [])}
        nan = [m for m in sorted(names) if m in result.get("metrics_failed", {})
               and result["metrics_failed"][m] is None]
        if nan:
            undefined[fails] = nan
    failed = [t["dishes"] for t in tried if not t.get("met") and t["dishes"] not in undefined]
    outcome = result.get("outcome") or ("holds" if fails is None else "limit" if dishes
                                        else "fails" if failed else UNDEFINED)
    cap = result.get("max_dishes")
    limit = f" (--max-dishes {cap:,})" if cap is not None else ""
    resolution = result.get("resolution")
    lines = []
    if outcome == "limit":
        why = ""
        if fails in undefined:
            why = f": {', '.join(undefined[fails])} undefined there"
        lines.append(f"At most {dishes:,} dishes meet {target}; {fails:,} do not{why} "
                     f"(resolution {resolution} dishes: one per site scaled).")
    elif outcome == "holds":
        lines.append(f"{target} still holds at {dishes:,} dishes, the most the search tried{limit}.")
    elif outcome == "fails":
        low, high = (min(failed), max(failed)) if failed else (fails, fails)
        what = "one dish per site" if low == resolution else f"{low:,} dishes"
        span = f"at {what}" if low == high else f"at every count tried, from {what} to {high:,} dishes"
        lines.append(f"{target} fails {span}: no count tried meets it.")
    elif outcome == "undefined":
        lines.append(f"{target} cannot be judged at any count tried ({_counts(list(undefined))} dishes): "
                     "a metric of it is undefined (NaN) at each.")
    else:  # not-monotone
        below = [n for n in failed if n < max(met)]
        above = [n for n in met if n > min(below)]
        top = (f"of the counts tried the largest that meets it is {dishes:,}"
               + (f" ({fails:,} do not)" if fails is not None else f", the most tried{limit}"))
        named = {re.match(r"\w*", t).group() for t in result.get("target", [])}
        demand = [m for m in DEMAND_DRIVEN if m in named]
        hint = (f" ({', '.join(demand)}: delivered traffic, at most what the dishes ask for; sites of few dishes "
                "are idle in most steps, so it rises with the count)" if demand else "")
        lines.append(f"{target} is not monotone in the number of dishes: {_counts(below)} dishes fail it while "
                     f"{_counts(above)} meet it, so no limit is claimed{hint}; {top}.")
    if earlier:
        lines.append("This study was searched by an earlier leonet, which did not try more dishes where the "
                     "scenario's count failed, nor fewer where it met: run it again for the checked answer.")
    start = result.get("start")
    above = [n for n in failed if start is not None and n > start]
    if outcome in ("limit", "fails") and start in failed and above:
        why = (f"{', '.join(result['no_better'])} got no better with more dishes, so the search looked no higher"
               if result.get("no_better") else f"doubling up to --max-dishes {cap:,}" if cap is not None else "")
        lines.append(f"More dishes than the scenario's {start:,} were tried too, up to {max(above):,}: none meets it"
                     + (f" ({why})." if why else "."))
    by_metric: dict[str, list[int]] = {}
    for n, ms in undefined.items():
        for m in ms:
            by_metric.setdefault(m, []).append(n)
    for m, ns in by_metric.items():
        on = "" if earlier or outcome == UNDEFINED else ", and the search went on past it"
        lines.append(f"{m} is undefined (NaN) at {_counts(ns)} dishes ({_WHY_NAN.get(m, 'no dish-time measures it')}): "
                     f"such a count neither meets nor fails the target{on}.")
    return lines


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
