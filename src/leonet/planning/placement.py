"""Where to add gateways: greedy placement over candidate sites.

Each round tries every remaining candidate added to the ground segment (as a gateway site with
the scenario's antennas per gateway), runs the scenario, and keeps the one that most improves the
target metric for the region; it stops after ``add`` rounds, or sooner when no candidate improves
the metric (every one leaves it where it is, or worse: the study says so rather than pick one).
Greedy is the standard heuristic for this kind of facility placement (the objective is not
submodular in general, so it is a heuristic, not an optimum: the report shows each round's
runner-up).

``robust=True`` scores each candidate by its worst case over the N-1 loss of each gateway in use
(the existing ones that served the region in the base run, and the ones already added): the site
that keeps the region best served when any single gateway is struck. The base is scored the same
way (its own N-1 cases run too), and a candidate is picked when its worst case beats the current
one (or ties it and improves the metric as is): a site that removes a single point of failure is
picked even where it adds nothing while every gateway works.

Candidates come from a CSV (``name,lat_deg,lon_deg``, and optionally ``elevation_m``, the site's
height above sea level; other columns are refused) or a grid over a region
(``lat_min,lon_min,lat_max,lon_max,step_deg``).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .metrics import METRICS, check_region
from .targets import check_capacity
from .variants import RunningProgress, Variant, run_variants, scenario_data, write_study_result

MAX_CANDIDATES = 2_000


@dataclass(frozen=True)
class Candidate:
    name: str
    lat_deg: float
    lon_deg: float
    elevation_m: float = 0.0


@dataclass
class Placement:
    """The sites picked, in order, with the metric after each addition; ``rounds`` holds every
    candidate's score in every round (for the report), the last one without a pick where
    ``stopped`` says why the placement stopped before ``add`` sites (no candidate improves the
    metric)."""

    metric: str
    base_value: float
    picked: list[Candidate] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    rounds: list[pd.DataFrame] = field(default_factory=list)
    stopped: str | None = None
    #: with ``robust``: the base's worst case over N-1 of its gateways in use (its value as is
    #: where no loss is worse), the gateway whose loss gives it (None: none), and each pick's worst case
    base_worst: float | None = None
    base_worst_case: str | None = None
    worsts: list[float] = field(default_factory=list)


#: The columns a candidate file may have (the first three, in this order, are required).
CANDIDATE_COLUMNS = ("name", "lat_deg", "lon_deg", "elevation_m")


def read_candidates(path: str | Path) -> list[Candidate]:
    """Candidates from a CSV with columns name, lat_deg, lon_deg and optionally elevation_m
    (errors name file and line; a row must have as many fields as the header)."""
    from ..scenario.ground import SiteSpec
    from ..textfiles import read_text

    text = read_text(path, expected="columns name,lat_deg,lon_deg")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if header[:3] != ["name", "lat_deg", "lon_deg"]:
        raise InputError("the header must start with name,lat_deg,lon_deg", source=str(path), location="line 1")
    unknown = [h for h in header[3:] if h not in CANDIDATE_COLUMNS[3:]]
    if unknown or len(set(header)) != len(header):
        # a column the placement would not use is refused, not dropped unread
        what = f"unknown column(s) {', '.join(repr(h[:40]) for h in unknown)}" if unknown else "a repeated column"
        raise InputError(f"{what}; the columns are name,lat_deg,lon_deg and optionally elevation_m",
                         source=str(path), location="line 1")
    elevation_col = header.index("elevation_m") if "elevation_m" in header else None
    bounds = SiteSpec.model_fields["elevation_m"].metadata
    low = next((m.ge for m in bounds if getattr(m, "ge", None) is not None), -math.inf)
    high = next((m.le for m in bounds if getattr(m, "le", None) is not None), math.inf)
    out, seen = [], set()
    for line, row in enumerate(reader, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise InputError(f"expected {len(header)} field(s) ({','.join(header)}), got {len(row)}", source=str(path),
                             location=f"line {line}")
        name = row[0].strip()
        try:
            lat, lon = float(row[1]), float(row[2])
        except ValueError:
            raise InputError(f"lat_deg and lon_deg must be numbers, got {row[1][:20]!r}, {row[2][:20]!r}",
                             source=str(path), location=f"line {line}") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"({lat:g}, {lon:g}) is not a valid lat/lon", source=str(path), location=f"line {line}")
        elevation = 0.0
        if elevation_col is not None:
            try:
                elevation = float(row[elevation_col])
            except ValueError:
                raise InputError(f"elevation_m must be a number, got {row[elevation_col][:20]!r}", source=str(path),
                                 location=f"line {line}") from None
            if not low <= elevation <= high:
                raise InputError(f"elevation_m must be between {low:g} and {high:g}, got {row[elevation_col][:20]}",
                                 source=str(path), location=f"line {line}")
        if not name or name in seen:
            raise InputError(f"candidate names must be unique and non-empty ({name[:40]!r})", source=str(path),
                             location=f"line {line}")
        seen.add(name)
        out.append(Candidate(name, lat, lon, elevation))
        if len(out) > MAX_CANDIDATES:
            raise InputError(f"more than {MAX_CANDIDATES:,} candidates", source=str(path))
    if not out:
        raise InputError("no candidate rows", source=str(path))
    return out


def grid_candidates(spec: str) -> list[Candidate]:
    """Candidates on a lat/lon grid: ``"lat_min,lon_min,lat_max,lon_max,step_deg"``."""
    try:
        lat0, lon0, lat1, lon1, step = (float(x) for x in spec.split(","))
    except ValueError:
        raise InputError(f"expected lat_min,lon_min,lat_max,lon_max,step_deg, got {spec[:60]!r}", location="--grid") from None
    if not all(math.isfinite(v) for v in (lat0, lon0, lat1, lon1, step)):  # inf or nan compare quietly
        raise InputError(f"every number must be finite, got {spec[:60]!r}", location="--grid")
    if not (step > 0 and -90 <= lat0 < lat1 <= 90 and -180 <= lon0 < lon1 <= 180):
        raise InputError("needs lat_min < lat_max, lon_min < lon_max within range and step_deg > 0", location="--grid")
    lats = np.arange(lat0, lat1 + 1e-9, step)
    lons = np.arange(lon0, lon1 + 1e-9, step)
    if len(lats) * len(lons) > MAX_CANDIDATES:
        raise InputError(f"the grid has {len(lats) * len(lons):,} points (at most {MAX_CANDIDATES:,}); use a larger step",
                         location="--grid")
    return [Candidate(f"grid {la:.2f},{lo:.2f}", float(la), float(lo)) for la in lats for lo in lons]


def _with_gateways(base_data: dict, added: list[Candidate]) -> dict:
    ground = dict(base_data.get("ground", {}))
    sites = list(ground.get("sites", []))
    sites += [{"name": f"new-gw {c.name}", "lat_deg": c.lat_deg, "lon_deg": c.lon_deg, "elevation_m": c.elevation_m,
               "kind": "gateway"} for c in added]
    ground["sites"] = sites
    return ground


def _score(table: pd.DataFrame, metric: str) -> pd.Series:
    """Higher is better for every metric's score."""
    sign = 1.0 if METRICS[metric].higher_is_better else -1.0
    return sign * table[metric].astype(float)


def place_gateways(base, candidates: list[Candidate], add: int, study_dir, *, metric: str = "availability",
                   groups: list[str] | None = None, robust: bool = False,
                   workers: int = 1, dask: str | None = None, progress=None) -> Placement:
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}", location="--metric")
    if not 1 <= add <= len(candidates):
        raise InputError(f"--add must be between 1 and the {len(candidates)} candidates, got {add}", location="--add")
    check_capacity([metric], base, "--metric")
    check_region(base, groups)
    data = scenario_data(base)
    study = Path(study_dir)
    running = RunningProgress(progress)  # one bar over every run, the base's too
    base_run = run_variants(base, [Variant("base")], study, groups=groups, workers=1, kind="placement",
                            progress=running)
    running.batch_done(1)
    result = Placement(metric, float(base_run[metric].iloc[0]))
    used_gateways = _gateways_in_use(base_run["results"].iloc[0], groups) if robust else []
    if robust:  # the base's own worst case, which a candidate's must beat
        result.base_worst = result.base_value
        lost = [Variant(f"base-without-{g}", add_events=(_loss_event(g),)) for g in used_gateways]
        if lost:
            table = run_variants(base, lost, study, groups=groups, workers=workers, dask=dask,
                                 kind="placement", progress=running, append=True)
            running.batch_done(len(lost))
            value_of = dict(zip(table["variant"], table[metric].astype(float)))
            for v, g in zip(lost, used_gateways):
                if _improves(result.base_worst, float(value_of.get(v.name, math.nan)), metric):
                    result.base_worst, result.base_worst_case = float(value_of[v.name]), g
    remaining = list(candidates)
    for round_no in range(add):
        variants = []
        for c in remaining:
            ground = _with_gateways(data, result.picked + [c])
            variants.append(Variant(f"r{round_no}-{c.name}", overrides={"ground": ground}, labels={"candidate": c.name}))
            if robust:
                for g in used_gateways + [f"new-gw {p.name}" for p in result.picked]:
                    variants.append(Variant(f"r{round_no}-{c.name}-without-{g}", overrides={"ground": ground},
                                            add_events=(_loss_event(g),), labels={"candidate": c.name}))
        table = run_variants(base, variants, study, groups=groups, workers=workers, dask=dask,
                             kind="placement", progress=running, append=True)  # the study keeps every round
        running.batch_done(len(variants))
        table["score"] = _score(table, metric)
        per = table.groupby("candidate", sort=False).agg(score=("score", "min"), value=(metric, "first"),
                                                         worst=(metric, "min" if METRICS[metric].higher_is_better else "max"))
        if robust:  # worst case first; among equal worst cases, the better value as is
            per = per.assign(_as_is=(1.0 if METRICS[metric].higher_is_better else -1.0) * per["value"].astype(float))
            per = per.sort_values(["score", "_as_is"], ascending=False, kind="stable").drop(columns="_as_is")
        else:
            per = per.sort_values("score", ascending=False, kind="stable")
        best = per.index[0]
        result.rounds.append(per.reset_index())
        now = result.values[-1] if result.values else result.base_value
        value, worst = float(per.loc[best, "value"]), float(per.loc[best, "worst"])
        if robust:
            # the configuration now, over the same N-1 set as the candidates: the last pick's worst
            # case (every loss but its own) and, losing it, the configuration before it
            now_worst = result.base_worst if not result.picked else _worse_of(
                result.worsts[-1], result.values[-2] if len(result.values) > 1 else result.base_value, metric)
            better = _improves(worst, now_worst, metric) or (not _improves(now_worst, worst, metric)
                                                              and _improves(value, now, metric))
        else:
            better = _improves(value, now, metric)
        if not better:
            # every candidate leaves the metric where it is (ties with no gain): picking the first
            # would show a site that changes nothing as if it helped
            where = "as is" if not result.picked else "after round " + str(len(result.picked))
            many = f"{len(per)} candidate{'s' if len(per) != 1 else ''}"
            if robust:
                result.stopped = (f"no candidate improves {metric} or its worst N-1 case ({_fmt(now)} {where}, "
                                  f"worst case {_fmt(now_worst)}"
                                  + (f" losing {result.base_worst_case}" if not result.picked and result.base_worst_case
                                     else "")
                                  + f"; the most robust of the {many} gives {_fmt(value)}, worst case {_fmt(worst)})")
            else:
                result.stopped = (f"no candidate improves {metric} ({_fmt(now)} {where}; "
                                  f"the best of the {many} gives {_fmt(value)})")
            break
        pick = next(c for c in remaining if c.name == best)
        result.picked.append(pick)
        result.values.append(value)
        if robust:
            result.worsts.append(worst)
        remaining.remove(pick)
    names = [p.name for p in result.picked] + [None] * (len(result.rounds) - len(result.picked))
    rounds = pd.concat([r.assign(round=k + 1, picked=r["candidate"] == p)
                        for k, (r, p) in enumerate(zip(result.rounds, names))], ignore_index=True)
    tmp = study / ".rounds.parquet.tmp"
    rounds.to_parquet(tmp, index=False)
    tmp.replace(study / "rounds.parquet")
    picked = [{"candidate": c.name, "lat_deg": c.lat_deg, "lon_deg": c.lon_deg, "value": _json_float(v)}
              for c, v in zip(result.picked, result.values)]
    for p, w in zip(picked, result.worsts):
        p["worst"] = _json_float(w)
    answer = {"metric": metric, "robust": robust, "base_value": _json_float(result.base_value), "picked": picked,
              "stopped": result.stopped}
    if robust:
        answer.update(base_worst=_json_float(result.base_worst), base_worst_case=result.base_worst_case)
    write_study_result(study, answer)
    return result


def _loss_event(gateway: str) -> dict:
    """The N-1 case: ``gateway`` lost for the whole run."""
    return {"name": "placement-n1", "type": "gateway_loss", "start_s": 0, "target": {"sites": [gateway]}}


def _worse_of(a: float, b: float, metric: str) -> float:
    """The worse of two values of the metric (a NaN counts for nothing, as in a candidate's worst case)."""
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return b if _improves(a, b, metric) else a


def _improves(value: float, now: float, metric: str) -> bool:
    """True when ``value`` is better than ``now`` for the metric (a defined value improves on NaN)."""
    if math.isnan(value):
        return False
    if math.isnan(now):
        return True
    return value > now if METRICS[metric].higher_is_better else value < now


def _fmt(v: float) -> str:
    return "undefined" if math.isnan(v) else f"{v:.4g}"


def _json_float(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _gateways_in_use(results_dir: str, groups: list[str] | None) -> list[str]:
    """Gateway site names that carried the region's dishes in a run."""
    from ..results.store import ResultStore

    store = ResultStore(results_dir)
    d = store.read("dish_steps", columns=["site", "gateway"]).to_pandas()
    sites = store.read("sites", columns=["name", "group"]).to_pandas()
    if groups:
        d = d[np.isin(sites["group"].to_numpy()[d["site"].to_numpy()], groups)]
    used = sorted(set(d["gateway"][d["gateway"] >= 0].tolist()))
    return [sites["name"].iloc[g] for g in used]
