"""Sweeps and Monte Carlo: variants from a sweep file, run as one study, summarised with
confidence intervals.

A sweep file (YAML) names parameters to vary (the cartesian product of their values) and random
draws repeated ``draws`` times with a seed::

    sweep:
      seed: 1
      draws: 10                  # Monte Carlo repetitions of every parameter combination (needs random)
      groups: [Kharkiv, Kyiv]    # the region the metrics cover (default: every dish)
      parameters:
        - {field: capacity.demand.activity, values: [0.1, 0.15, 0.2]}
        - {field: visibility.min_elevation_deg, range: {start: 25, stop: 40, step: 5}}
      random:
        - {kind: gateway_failures, count: 2}                         # 2 random gateways lost
        - {kind: jammer, circle: {lat_deg: 47.1, lon_deg: 37.5, radius_km: 50},
           eirp_dbw: [20, 40], start_s: 0}                           # position and power drawn
        - {kind: event_timing, event: east-ground-internet-down, start_s: [0, 600]}

Each variant's random choices are a pure function of (seed, draw): the same file gives the same
variants, and a study resumes where it stopped. Without random draws each parameter combination
runs once (a run is deterministic), and ``draws`` above 1 is refused. The tidy table has one row
per variant (its parameter values, draw number and metrics); the summary has, per parameter
combination and metric, the mean over draws and a 95 % confidence interval (Student's t on the
draws' spread), over the draws where the metric is defined (``draws`` counts them) and clipped to
the metric's range (``ci95_clipped``). A parameter value that is a list or mapping (e.g. ``bent_pipe_only_gateways``)
appears in both tables as its JSON text (``["Frankfurt, DE"]``). The jammer's drawn position is
labelled with its longitude in [-180, 180), as the jammer is placed.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from ..errors import InputError
from ..ground.geodesy import destination_point
from ..scenario.events import CircleSpec
from .metrics import METRICS
from .variants import DEFAULT_MAX_VARIANTS, Variant, run_variants


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: A number of a sweep file: finite (.inf and .nan are refused at the door).
Finite = Annotated[float, Field(allow_inf_nan=False)]
#: A drawn jammer's EIRP and an event's start, bounded as a scenario's events bound them.
Eirp = Annotated[float, Field(ge=-30, le=100, allow_inf_nan=False)]
StartS = Annotated[float, Field(ge=0, le=400 * 86_400, allow_inf_nan=False)]
#: Most values one parameter's range or list may hold.
MAX_PARAMETER_VALUES = 10_000


class RangeSpec(_Model):
    start: Finite
    stop: Finite
    step: float = Field(..., gt=0, allow_inf_nan=False)

    def values(self) -> list[float]:
        # counted as a float first: a huge span or a tiny step must be refused, not overflow int()
        span = (self.stop - self.start) / self.step
        if not math.isfinite(span) or span > MAX_PARAMETER_VALUES:
            raise ValueError(f"range from {self.start:g} to {self.stop:g} by {self.step:g} holds more than "
                             f"{MAX_PARAMETER_VALUES:,} values (at most {MAX_PARAMETER_VALUES:,})")
        n = int(math.floor(span + 1e-9)) + 1
        if n < 1:
            raise ValueError(f"range from {self.start:g} to {self.stop:g} is empty")
        if n > MAX_PARAMETER_VALUES:
            raise ValueError(f"range holds {n:,} values (at most {MAX_PARAMETER_VALUES:,})")
        return [round(self.start + k * self.step, 12) for k in range(n)]


class ParameterSpec(_Model):
    field: str = Field(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\[\]]+$")
    values: list[Any] | None = Field(None, min_length=1, max_length=10_000)
    range: RangeSpec | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.values is None) == (self.range is None):
            raise ValueError("give values or range")
        if self.range is not None:
            self.range.values()
        return self

    def all_values(self) -> list[Any]:
        return list(self.values) if self.values is not None else self.range.values()


class RandomSpec(_Model):
    """One random draw per variant: ``gateway_failures`` (``count`` gateways lost for the whole
    run), ``jammer`` (a jammer placed uniformly in ``circle`` with EIRP uniform in ``eirp_dbw``),
    ``event_timing`` (the named event of the scenario starts at a time uniform in ``start_s``)."""

    kind: Literal["gateway_failures", "jammer", "event_timing"]
    count: int = Field(1, ge=1, le=1000)
    circle: CircleSpec | None = None
    eirp_dbw: tuple[Eirp, Eirp] = (30.0, 30.0)
    start_s: tuple[StartS, StartS] | StartS = 0.0
    end_s: float | None = Field(None, ge=0, allow_inf_nan=False)
    event: str | None = None

    @model_validator(mode="after")
    def _needs(self):
        if self.kind == "jammer" and self.circle is None:
            raise ValueError("a jammer draw needs circle")
        if self.kind == "event_timing" and not self.event:
            raise ValueError("an event_timing draw needs event (a name from the scenario's events)")
        if self.eirp_dbw[0] > self.eirp_dbw[1]:
            raise ValueError("eirp_dbw is [low, high]")
        return self


class SweepSpec(_Model):
    seed: int = Field(0, ge=0, le=2**63 - 1)
    draws: int = Field(1, ge=1, le=100_000)
    groups: list[str] | None = None
    parameters: list[ParameterSpec] = Field([], max_length=20)
    random: list[RandomSpec] = Field([], max_length=20)
    metrics: list[str] = Field(list(METRICS))

    @model_validator(mode="after")
    def _known_metrics(self):
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; metrics: {', '.join(METRICS)}")
        if not self.parameters and not self.random:
            raise ValueError("a sweep needs parameters or random draws (or both)")
        if self.draws > 1 and not self.random:
            # a run is a pure function of its scenario: repeating one draws nothing new
            raise ValueError(f"draws: {self.draws} repeats the random draws, but the sweep has none (random:); "
                             "each parameter combination runs once: drop draws or add random draws")
        return self

    #: The sweep file read (set by :func:`read_sweep`): a variant's bad parameter value names it.
    _source: str | None = PrivateAttr(None)

    def parameter_origin(self, i: int) -> str:
        """Where ``parameters[i]`` was written, as an override's origin in a variant's errors
        ("visibility.min_elevation_deg (from sweep.parameters[1] in sweep.yaml)")."""
        return f"sweep.parameters[{i}]" + (f" in {self._source}" if self._source else "")

    def n_variants(self) -> int:
        n = self.draws if self.random else 1
        for p in self.parameters:
            n *= len(p.all_values())
        return n


def read_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; errors name the file and field. The YAML is parsed with the
    scenario files' limits (nesting, node count with aliases, keys given twice)."""
    from ..errors import did_you_mean
    from ..scenario.loading import _field_names, _loc_to_path, _walk_loc
    from ..scenario.yamlfile import MAX_SCENARIO_BYTES, parse_scenario_yaml, yaml_line
    from ..textfiles import read_text

    text = read_text(path, expected="a YAML mapping with a sweep: section", max_bytes=MAX_SCENARIO_BYTES)
    data, node = parse_scenario_yaml(text.encode("utf-8"), str(path))
    if not isinstance(data, dict) or "sweep" not in data:
        raise InputError("expected a mapping with a sweep: section", source=str(path))
    unknown = [k for k in data if k != "sweep"]
    if unknown:  # a second section is a typo or a misplaced key, never silently ignored
        line = yaml_line(node, (unknown[0],))
        raise InputError("unknown section: a sweep file holds one sweep: section (its fields: "
                         f"{', '.join(SweepSpec.model_fields)})", source=str(path),
                         location=f"{unknown[0]}" + (f" (line {line})" if line else ""))
    try:
        spec = SweepSpec.model_validate(data["sweep"])
    except ValidationError as err:
        first = err.errors()[0]
        loc, parents = _walk_loc(tuple(first["loc"]), data["sweep"], root=SweepSpec)
        msg = first["msg"].removeprefix("Value error, ")[:200]
        if first["type"] == "extra_forbidden":
            names = _field_names(parents)
            hint = did_you_mean(str(loc[-1]), names).strip().removeprefix("(").removesuffix(")")
            msg = f"unknown field ({hint or 'its fields: ' + ', '.join(names)})"
        elif first["type"] == "missing":
            msg = "required field is missing"
        where = _loc_to_path(("sweep", *loc))  # "sweep" for a whole-section check
        line = yaml_line(node, ("sweep", *loc))
        raise InputError(msg, source=str(path), location=where + (f" (line {line})" if line else "")) from None
    spec._source = str(path)
    return spec


def _gateway_names(base) -> list[str]:
    from ..sim.model import build_model

    model = build_model(base)
    return [model.sites.name[s] for s in model.network.gateway_sites]


def _random_events(spec: SweepSpec, base, draw: int, gateways: list[str]) -> tuple[list[dict], dict, dict]:
    """Events added, event start overrides, and labels for one draw (a pure function of seed, draw)."""
    rng = np.random.default_rng([spec.seed, draw])
    events, labels, timing = [], {}, {}
    for j, r in enumerate(spec.random):
        if r.kind == "gateway_failures":
            if r.count > len(gateways):
                raise InputError(f"cannot fail {r.count} of {len(gateways)} gateways", location=f"sweep.random[{j}].count")
            lost = sorted(rng.choice(len(gateways), size=r.count, replace=False).tolist())
            names = [gateways[k] for k in lost]
            events.append({"name": f"sweep-gw-{j}", "type": "gateway_loss", "start_s": 0, "target": {"sites": names}})
            labels[f"random{j}_gateways"] = ", ".join(names)
        elif r.kind == "jammer":
            c = r.circle
            dist_m = c.radius_km * 1e3 * math.sqrt(rng.random())  # area-uniform in the disc
            bearing = rng.random() * 2 * math.pi
            # along a great circle: a flat offset ran past the pole (latitudes above 90, refused)
            lat_a, lon_a = destination_point(c.lat_deg, c.lon_deg, math.degrees(bearing), dist_m)
            lat, lon = float(lat_a), float(lon_a)
            eirp = float(rng.uniform(*r.eirp_dbw))
            start = float(rng.uniform(*r.start_s)) if isinstance(r.start_s, tuple) else float(r.start_s)
            lon = ((lon + 180) % 360) - 180  # the label says where the jammer stands, as the event does
            ev = {"name": f"sweep-jammer-{j}", "type": "jamming", "start_s": start,
                  "jammer": {"lat_deg": round(lat, 6), "lon_deg": round(lon, 6), "eirp_dbw": eirp}}
            if r.end_s is not None:
                ev["end_s"] = r.end_s
            events.append(ev)
            labels.update({f"random{j}_lat_deg": lat, f"random{j}_lon_deg": lon, f"random{j}_eirp_dbw": eirp})
        else:
            names = [e.name for e in base.events]
            if r.event not in names:
                import difflib

                hint = difflib.get_close_matches(r.event, names, n=2)
                raise InputError(f"the scenario has no event {r.event!r}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                                 location=f"sweep.random[{j}].event")
            start = float(rng.uniform(*r.start_s)) if isinstance(r.start_s, tuple) else float(r.start_s)
            timing[r.event] = start
            labels[f"random{j}_start_s"] = start
    return events, timing, labels


def _relative_s(event, base) -> tuple[float, float | None]:
    """An event's start and end in seconds after the scenario's start (end None if open)."""
    t0 = base.time.start
    start = event.start_s if event.start_s is not None else (event.start - t0).total_seconds()
    if event.end_s is not None:
        return start, event.end_s
    return start, (event.end - t0).total_seconds() if event.end is not None else None


def sweep_variants(spec: SweepSpec, base) -> list[Variant]:
    gateways = _gateway_names(base) if any(r.kind == "gateway_failures" for r in spec.random) else []
    from ..scenario.overrides import OptionPath

    # each field remembers its parameter: a value the scenario refuses names the sweep file, not --set
    grids = [[(OptionPath(p.field, spec.parameter_origin(i)), v) for v in p.all_values()]
             for i, p in enumerate(spec.parameters)]
    out = []
    for combo in itertools.product(*grids) if grids else [()]:
        overrides = dict(combo)
        for draw in range(spec.draws if spec.random else 1):
            events, timing, labels = _random_events(spec, base, draw, gateways) if spec.random else ([], {}, {})
            base_events = [e.model_dump(mode="json", exclude_none=True) for e in base.events]
            for e, spec_e in zip(base_events, base.events):
                if e["name"] in timing:
                    start0, end0 = _relative_s(spec_e, base)
                    for key in ("start", "end", "start_s", "end_s"):
                        e.pop(key, None)
                    e["start_s"] = timing[e["name"]]
                    if end0 is not None:  # keep the event's length
                        e["end_s"] = timing[e["name"]] + (end0 - start0)
            name = ",".join(f"{k}={v}" for k, v in combo) or "base"
            name = f"{name}#draw{draw}" if spec.random else name
            out.append(Variant(name=name, overrides=overrides, keep_events=False,
                               add_events=tuple(base_events + events),
                               labels={**{str(k): label_value(v) for k, v in combo}, "draw": draw, **labels}))
    return out


def label_value(value):
    """A parameter value as a table label: scalars as they are, a list or mapping as its JSON text
    (keys sorted), so that equal values group together (a list cannot be a group key) and a column
    of mixed values still writes to Parquet."""
    import json

    if isinstance(value, np.ndarray):  # a list column read back from Parquet
        value = value.tolist()
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)
    return value


def metric_range(metric: str) -> tuple[float, float]:
    """The values a metric can take: a share lies in [0, 1], a rate or a time is >= 0."""
    return (0.0, 1.0) if METRICS[metric].unit == "share" else (0.0, math.inf)


def summarise(table: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """Per parameter combination and metric: draws (those where the metric is defined: a draw
    with no connected dish-time has no RTT, one with no demand no unmet_demand; they are left
    out of the mean), mean, standard deviation and the 95 % CI of the mean (Student's t; NaN with
    a single draw), clipped to the metric's range (:func:`metric_range`; ``ci95_clipped`` says
    where: Student's t on a few draws near a bound reaches past it)."""
    from scipy import stats

    keys = [p.field for p in spec.parameters]
    rows = []
    if keys:  # group on the labels' text form too: a list value (a table read back) is no group key
        table = table.assign(**{k: table[k].map(label_value) for k in keys})
    groups = table.groupby(keys, dropna=False, sort=False) if keys else [((), table)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        for m in spec.metrics:
            v = part[m].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            n = len(v)
            mean = float(v.mean()) if n else float("nan")
            sd = float(v.std(ddof=1)) if n > 1 else float("nan")
            half = float(stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)) if n > 1 else float("nan")
            low, high = mean - half, mean + half
            bottom, top = metric_range(m)
            clipped = bool(low < bottom or high > top)  # False for NaN
            rows.append({**dict(zip(keys, key)), "metric": m, "draws": n, "mean": mean, "sd": sd,
                         "ci95_low": max(low, bottom) if clipped else low,
                         "ci95_high": min(high, top) if clipped else high, "ci95_clipped": clipped})
    return pd.DataFrame(rows)


def run_sweep(spec: SweepSpec, base, study_dir, *, workers: int = 1, dask: str | None = None, progress=None,
              max_variants: int = DEFAULT_MAX_VARIANTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run a sweep; returns (the tidy variant table, the summary), both also written as Parquet."""
    n = spec.n_variants()
    if n > max_variants:
        raise InputError(f"the sweep makes {n:,} variants (more than {max_variants:,}): each is a full run; "
                         "reduce values or draws, or confirm with --max-variants")
    variants = sweep_variants(spec, base)
    table = run_variants(base, variants, study_dir, groups=spec.groups, workers=workers, dask=dask, kind="sweep",
                         progress=progress, max_variants=max_variants, groups_where="sweep.groups")
    summary = summarise(table, spec)
    out = Path(study_dir) / "summary.parquet"
    tmp = out.with_name(".summary.parquet.tmp")
    summary.to_parquet(tmp, index=False)
    tmp.replace(out)
    return table, summary
