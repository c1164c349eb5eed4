"""Run the realism check: each country of a metrics file through leonet's engine, compared with
Starlink's published figures, plus fixed reference rows (Ookla US, one dish's 1 Hz history).

The table (one row per country and figure) has the columns of :data:`COLUMNS`. Tolerances (the
goal of issue 11): latency p50 within 5 ms and download p50 within 20 %; the other figures are
shown without a tolerance (``within_tolerance`` null). Beside it, each country split by home PoP
(:mod:`leonet.realism.breakdown`). What is refused before anything runs (the
countries, the output folder, what the check reads of a scenario) is in :mod:`leonet.realism.door`.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .calibrated import (BUSY_HOUR_LOCAL, assumptions, country_plan, extract_orbit_file, ground_segment, ground_year_of,
                         local_time_utc, orbit_set_for, processing_ms_at, simulated_day_note)
from .breakdown import BY_POP_COLUMNS, home_pop_rows
from .figures import leonet_figures, online as _online
from .door import TABLE_FILES, check_out_dir, chosen_countries, needs_dishes, needs_service
from .metrics import FIELDS, UNITS, PublishedMetrics, iso3_to_iso2
from .persistence import add_month_before, persistence_lines
from .tolerance import DOWNLOAD_TOLERANCE, LATENCY_TOLERANCE_MS, within
from .reference import (DISH_HISTORY_DATE, DISH_HISTORY_PLACE, OOKLA_DATE, OOKLA_US_Q1_2025, dish_history, outage_record,
                        series_stats)

#: How the note of a country that did not run begins (the reason follows).
NOT_RUN = "not run: "
COLUMNS = ("country", "metric", "unit", "published", "source", "leonet", "within_tolerance", "tolerance",
           "published_month_before",
           "sim_start", "dish_sites", "dishes", "connected_share", "home_pop", "at_home_pop_share",
           "run_s", "note")


@dataclass
class RealismResult:
    """The table's rows (dicts with :data:`COLUMNS`), the summary lines and per-country run times."""

    rows: list = field(default_factory=list)
    summary: list = field(default_factory=list)
    run_s: dict = field(default_factory=dict)
    by_pop: list = field(default_factory=list)   # rows of the home-PoP breakdown (leonet.realism.breakdown)

    def table(self):
        import pyarrow as pa

        return pa.Table.from_pylist([{c: r.get(c) for c in COLUMNS} for r in self.rows], schema=_schema())

    def by_pop_table(self):
        """The home-PoP breakdown as an Arrow table (:data:`~leonet.realism.breakdown.BY_POP_COLUMNS`)."""
        import pyarrow as pa

        text = ("country", "home_pop", "landing")
        schema = pa.schema([(c, pa.string() if c in text else pa.float64()) for c in BY_POP_COLUMNS])
        return pa.Table.from_pylist([{c: r.get(c) for c in BY_POP_COLUMNS} for r in self.by_pop], schema=schema)


def _schema():
    import pyarrow as pa

    types = {"published": pa.float64(), "leonet": pa.float64(), "within_tolerance": pa.bool_(),
             "published_month_before": pa.float64(),
             "dish_sites": pa.int64(), "dishes": pa.int64(), "connected_share": pa.float64(),
             "at_home_pop_share": pa.float64(), "run_s": pa.float64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in COLUMNS])


def with_overrides(scenario_dict: dict, overrides: dict | None, source: str = "--set") -> dict:
    """A copy of a calibrated scenario with ``overrides`` (dotted field path -> value, as ``leonet
    run --set``) applied: a sensitivity run changes one assumption for every country alike."""
    if not overrides:
        return scenario_dict
    import copy

    from ..scenario.overrides import apply_override

    out = copy.deepcopy(scenario_dict)
    for dotted, value in overrides.items():
        apply_override(out, dotted, value, source=source)
    return out


def _run(scenario_dict: dict, out_dir: Path, dishes: int):
    """Run one scenario of the check (``dishes``: its sample dishes); its sites and dish_steps."""
    import leonet

    scenario = leonet.scenario_from_dict(scenario_dict)
    needs_service(scenario)
    result = leonet.run(scenario, out_dir=out_dir, overwrite=True)
    sites = result.store.read("sites").to_pandas()
    needs_dishes(sites["kind"].to_numpy(), dishes, scenario_dict)
    steps = result.store.read("dish_steps").to_pandas()
    return sites, steps


def _dishes_per_site(sites) -> np.ndarray:
    d = sites["dishes"] if "dishes" in sites.columns else None
    return np.array([int(x) if x is not None and x == x else 1 for x in (d if d is not None else [1] * len(sites))])


def _weights(plan, sites) -> np.ndarray:
    """(S,) weight of each site in the figures: the subscribers a sample dish stands for (the
    plan's weights, dish sites first in the plan's order), else its dish count."""
    w = _dishes_per_site(sites).astype(float)
    if getattr(plan, "weights", None) is not None:
        dish = np.flatnonzero(sites["kind"].to_numpy() == "dish")
        w[dish[: len(plan.weights)]] = plan.weights
    return w


def _pop_codes(sites) -> dict[int, str]:
    """Site index of each PoP of a run's ``sites`` table -> its code (e.g. frntdeu1)."""
    from ..ground.builtin import pop_codes_of
    from ..ground.sites import Sites

    pops = sites.index[sites["kind"] == "pop"].to_numpy()
    codes = pop_codes_of(Sites(
        name=sites["name"].to_numpy()[pops], kind=["pop"] * len(pops), lat_deg=sites["lat_deg"].to_numpy()[pops],
        lon_deg=sites["lon_deg"].to_numpy()[pops], elevation_m=np.zeros(len(pops)), group=[""] * len(pops),
        attrs={c: sites[c].to_numpy()[pops].astype(object) for c in ("pop_code", "clli") if c in sites.columns}))
    return dict(zip(pops.tolist(), codes.tolist()))


def _home_share(steps, weights: np.ndarray, code_of_site: dict[int, str]) -> tuple[str, float]:
    """The dishes' home PoPs (their codes, "/"-joined) and the share of connected steps that leave
    there, each dish's steps weighted by ``weights`` (S,) (:func:`_weights`: the subscribers it
    stands for, as in the figures and the home-PoP breakdown): the run's own ``home_pop`` and
    ``pop`` columns of ``dish_steps``."""
    home = steps["home_pop"].to_numpy()
    w = weights[steps["site"].to_numpy()] * _online(steps)
    share = float((w * (steps["pop"].to_numpy() == home)).sum() / w.sum()) if w.sum() else float("nan")
    label = "/".join(sorted({code_of_site[int(h)] for h in np.unique(home[home >= 0])})) or "-"
    return label, share


def run_country(iso3: str, metrics: PublishedMetrics, orbit_file: Path, work: Path, mode: str,
                overrides: dict | None = None, ground: int | None = None) -> list[dict]:
    """Rows of one country: its nine figures, published beside leonet's (``overrides``: see
    :func:`with_overrides`)."""
    return country_run(iso3, metrics, orbit_file, work, mode, overrides, ground).rows


@dataclass
class CountryRun:
    """One country's rows of the table and of the home-PoP breakdown (none when it did not run)."""

    rows: list
    by_pop: list = field(default_factory=list)


def country_run(iso3: str, metrics: PublishedMetrics, orbit_file: Path, work: Path, mode: str,
                overrides: dict | None = None, ground: int | None = None) -> CountryRun:
    """:func:`run_country`'s rows and the country's home-PoP breakdown
    (:func:`leonet.realism.breakdown.home_pop_rows`)."""
    iso2 = metrics.iso2(iso3)
    source = f"Starlink {metrics.date.isoformat()}"
    t0 = time.perf_counter()
    try:
        plan = country_plan(iso3, iso2, metrics.date, orbit_file, mode, ground)
        sites, steps = _run(with_overrides(plan.scenario, overrides), work / iso3, len(plan.weights))
    except InputError as err:
        return CountryRun([{"country": iso3, "metric": f, "unit": UNITS[f.split("_")[0]],
                            "published": metrics.countries[iso3][f], "source": source, "leonet": None,
                            "note": f"{NOT_RUN}{err}"} for f in FIELDS])
    run_s = time.perf_counter() - t0
    weights = _weights(plan, sites)
    figures = leonet_figures(steps, weights)
    connected = float(np.average(_online(steps), weights=weights[steps["site"].to_numpy()]))
    codes = _pop_codes(sites)
    home, at_home = _home_share(steps, weights, codes)
    rows = []
    for f in FIELDS:
        ok, tol = within(f, metrics.countries[iso3][f], figures[f])
        rows.append({
            "country": iso3, "metric": f, "unit": UNITS[f.split("_")[0]], "published": metrics.countries[iso3][f],
            "source": source, "leonet": figures[f], "within_tolerance": ok, "tolerance": tol,
            "sim_start": plan.sim_start.isoformat(), "dish_sites": int((sites["kind"] == "dish").sum()),
            "dishes": int(round(weights[sites["kind"].to_numpy() == "dish"].sum())),
            "connected_share": connected, "home_pop": home, "at_home_pop_share": at_home, "run_s": run_s,
            "note": ("the dish's 1 Hz RTT to its home PoP" if f.startswith("latency") else "speed-test probe")
            + (f"; dishes at {plan.places}" if plan.places != "geonames cities" else ""),
        })
    return CountryRun(rows, home_pop_rows(iso3, sites, steps, weights, codes))


def _reference_plan(orbit_file: Path, when, mode: str, ground: int | None = None):
    """The US plan the reference rows start from."""
    return country_plan("USA", iso3_to_iso2()["USA"], when, orbit_file, mode, ground)


def _reference_rows(orbit_file: Path, work: Path, when, mode: str, overrides: dict | None = None,
                    ground: int | None = None) -> list[dict]:
    """Ookla US rows (a US run) and the 1 Hz dish-history rows (one dish at 1 s steps)."""
    plan = _reference_plan(orbit_file, when, mode, ground)
    return _ookla_rows(plan, work, overrides) + _dish_history_rows(plan, work, mode, overrides)


def _ookla_scenario(plan) -> dict:
    """The US plan's scenario as Ookla measured: Ookla's figures are of Q1 2025 and to a test
    server (the processing term of that date, and the leg from the PoP to its nearest internet
    exchange)."""
    us = dict(plan.scenario)
    us["service"] = {**plan.scenario["service"], "latency": {**plan.scenario["service"].get("latency", {}),
                                                             "processing_ms": processing_ms_at(OOKLA_DATE),
                                                             "target": "exchange"}}
    return us


def _ookla_rows(plan, work: Path, overrides: dict | None) -> list[dict]:
    """Ookla's US medians beside the US plan's figures."""
    t0 = time.perf_counter()
    sites, steps = _run(with_overrides(_ookla_scenario(plan), overrides), work / "USA", len(plan.weights))
    figures = leonet_figures(steps, _weights(plan, sites))
    run_s = time.perf_counter() - t0
    rows = []
    for f, (value, src) in OOKLA_US_Q1_2025.items():
        ok, tol = within(f, value, figures[f])
        rows.append({"country": "USA (reference)", "metric": f, "unit": UNITS[f.split("_")[0]], "published": value,
                     "source": src, "leonet": figures[f], "within_tolerance": ok, "tolerance": tol,
                     "sim_start": plan.sim_start.isoformat(), "dish_sites": int((sites["kind"] == "dish").sum()),
                     "run_s": run_s, "note": f"leonet: the {plan.orbit_set.isoformat()} constellation and {plan.ground} ground segment"
                     + ("; latency to the PoP's nearest internet exchange, processing of Q1 2025"
                        if f.startswith("latency") else "")})
    return rows


def _dish_history_scenario(plan, mode: str) -> tuple[dict, object]:
    """The scenario of one dish at the dish history's assumed place, and its start instant."""
    name, lat, lon = DISH_HISTORY_PLACE
    one = dict(plan.scenario)
    one["name"] = "realism-dish-history"
    one["ground"] = {**plan.scenario["ground"], "sites": [{"name": "dish-1hz", "lat_deg": lat, "lon_deg": lon,
                                                           "kind": "dish", "dishes": 1}]}
    # at the evening busy hour there (assumption: the history's hour is not known), 1 s steps
    start = local_time_utc(plan.day, lon, BUSY_HOUR_LOCAL)
    one["time"] = {"start": start.isoformat().replace("+00:00", "Z"), "duration_s": 60.0 if mode == "fast" else 180.0,
                   "step_s": 1.0}
    # the history is of June 2024: the processing term of that month (calibrated.PROCESSING_MS)
    one["service"] = {**plan.scenario["service"],
                      "latency": {**plan.scenario["service"].get("latency", {}),
                                  "processing_ms": processing_ms_at(DISH_HISTORY_DATE)}}
    return one, start


def _dish_history_rows(plan, work: Path, mode: str, overrides: dict | None) -> list[dict]:
    """The shipped 1 Hz dish history's statistics beside one leonet dish at its assumed place."""
    name = DISH_HISTORY_PLACE[0]
    one, start = _dish_history_scenario(plan, mode)
    t0 = time.perf_counter()
    _, steps1 = _run(with_overrides(one, overrides), work / "dish-1hz", 1)
    run1 = time.perf_counter() - t0
    lat_ms = np.where(_online(steps1), steps1["rtt_ms"].to_numpy(dtype=float), np.nan)
    drop = (steps1["drop_rate"].to_numpy(dtype=float) if "drop_rate" in steps1.columns
            else np.where(np.isfinite(lat_ms), 0.0, 1.0))
    ours = series_stats(lat_ms, drop)
    measured, measured_drop, _ = dish_history()
    theirs = series_stats(measured, measured_drop)
    units = {"slot_step_ms": "ms", "jitter_within_slot_ms": "ms", "drop_rate_mean": "fraction",
             "seconds_with_drops": "fraction", "seconds_lost": "fraction", "drop_rate_mean_outside_outages": "fraction"}
    # what kind of installation the measured dish was: its own outage record says (an obstructed one)
    record = outage_record()
    obstructed = record.get("OBSTRUCTED", (0, 0.0))
    caveat = (f"; the measured dish's own record: OBSTRUCTED {obstructed[0]} times ({obstructed[1]:,.0f} s), "
              f"NO_SCHEDULE {record.get('NO_SCHEDULE', (0, 0.0))[0]} times; leonet's has a clear view")
    rows = []
    for k, value in theirs.items():
        loss = k.startswith(("drop_rate", "seconds_"))
        rows.append({"country": "dish 1 Hz (reference)", "metric": k, "unit": units.get(k, "ms"), "published": value,
                     "source": "a US dish, 1 Hz, June 2024", "leonet": ours[k],
                     "within_tolerance": None, "sim_start": start.isoformat(), "dish_sites": 1,
                     "run_s": run1, "note": f"leonet: one dish at {name}, 1 s steps from {BUSY_HOUR_LOCAL:.0f}:00 local"
                     + (caveat if loss else "")})
    return rows


def check_overrides(metrics: PublishedMetrics, countries: list[str], orbit_file: Path, mode: str,
                    overrides: dict | None, references: bool = True, ground: int | None = None) -> None:
    """Check ``overrides`` before anything runs, on the calibrated scenario of the first of
    ``countries`` that has one (a country without cities gives a "not run" row of its own) and,
    with ``references``, the reference rows' US scenarios: each path and value, the model built
    from them (gateways, PoPs and sites the overrides name), and what the check itself reads (the
    service model, its own sample dishes). Raises :class:`InputError` naming the field."""
    if not overrides:
        return
    import leonet

    checks = []
    for iso3 in countries:
        try:
            plan = country_plan(iso3, metrics.iso2(iso3), metrics.date, orbit_file, mode, ground)
        except InputError:
            continue
        checks.append((plan.scenario, len(plan.weights), f"{iso3}'s realism scenario"))
        break
    if references:
        us = _reference_plan(orbit_file, metrics.date, mode, ground)
        refs = "reference rows' scenario, which --no-references leaves out"
        checks += [(_ookla_scenario(us), len(us.weights), f"the Ookla US {refs}"),
                   (_dish_history_scenario(us, mode)[0], 1, f"the 1 Hz dish {refs}")]
    for base, dishes, what in checks:
        source = f"--set (on {what})"
        data = with_overrides(base, overrides, source)
        scenario = leonet.scenario_from_dict(data, source=source)
        needs_service(scenario, source)
        model = leonet.build_model(scenario)
        needs_dishes(model.sites.kind, dishes, data, source)


def _none_ran(chosen: list[str], rows_of: dict[str, list[dict]]) -> InputError | None:
    """The error to raise when no country of ``chosen`` ran (None when one did): the reasons,
    once when every country failed alike."""
    reasons = {}
    for iso3 in chosen:
        first = rows_of[iso3][0]
        if first.get("leonet") is not None or not str(first.get("note", "")).startswith(NOT_RUN):
            return None
        reasons[iso3] = first["note"][len(NOT_RUN):]
    if len(reasons) > 1 and len(set(reasons.values())) == 1:
        return InputError(f"no country ran: all {len(reasons)} failed with: {next(iter(reasons.values()))}")
    shown = "; ".join(f"{c}: {r}" for c, r in list(reasons.items())[:3])
    more = f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else ""
    return InputError(f"no country ran: {shown}{more}")


def run_realism(metrics: PublishedMetrics, countries: list[str] | None = None, mode: str = "full",
                references: bool = True, work_dir: Path | None = None, progress=None,
                overrides: dict | None = None, workers: int = 1, ground: int | None = None) -> RealismResult:
    """Run the check (see the module docstring); ``mode`` "fast" shortens windows and cities;
    ``ground`` is the ground segment's year (:data:`~leonet.realism.calibrated.GROUND_SEGMENTS`:
    2023 or 2026; None, the one nearest the date the check simulates,
    :func:`~leonet.realism.calibrated.ground_year_of`: 2023 for the shipped files).
    ``overrides`` (dotted field path -> value) change one or more assumptions in every country's
    scenario alike (a sensitivity run); they are checked before anything runs
    (:func:`check_overrides`, on the first country), and listed in the summary. ``workers`` > 1
    runs countries in that many processes at once (the same rows, in the same order; only
    ``run_s`` differs). A country that cannot run gives rows with a "not run: ..." note; when no
    country runs, :class:`InputError` says why (and the reference rows are not run)."""
    if workers < 1:
        raise InputError(f"must be at least 1, got {workers}", location="workers")
    chosen = chosen_countries(metrics, countries)
    ground = ground_year_of(metrics.date) if ground is None else ground
    ground_segment(ground)  # an unknown year fails before anything runs
    result = RealismResult()
    with tempfile.TemporaryDirectory(prefix="leonet-realism-") as tmp:
        work = Path(work_dir) if work_dir else Path(tmp)
        orbit_file = extract_orbit_file(orbit_set_for(metrics.date), Path(tmp))
        # a bad path or value fails here, naming it, not as 40 "not run" rows
        check_overrides(metrics, chosen, orbit_file, mode, overrides, references, ground)
        runs = dict(zip(chosen, _run_countries(chosen, metrics, orbit_file, work, mode, overrides, workers,
                                               progress, ground)))
        failed = _none_ran(chosen, {iso3: r.rows for iso3, r in runs.items()})
        if failed is not None:
            raise failed
        for iso3, run in runs.items():
            result.rows.extend(run.rows)
            result.by_pop.extend(run.by_pop)
            result.run_s[iso3] = run.rows[0].get("run_s")
        add_month_before(metrics, result.rows)
        if references:
            result.rows.extend(_reference_rows(orbit_file, work, metrics.date, mode, overrides, ground))
    changed = [f"override (a sensitivity run, not the calibrated model): {k} = {v!r}" for k, v in (overrides or {}).items()]
    dated = [n for n in (simulated_day_note(metrics.date),) if n]
    result.summary = (summarise(result.rows, chosen) + persistence_lines(metrics, chosen, result.rows) + dated + changed
                      + [f"assumption: {a}" for a in assumptions(mode, overrides or (), ground)])
    return result


def _run_countries(chosen: list[str], metrics: PublishedMetrics, orbit_file: Path, work: Path, mode: str,
                   overrides: dict | None, workers: int, progress, ground: int | None = None) -> list[CountryRun]:
    """Each country's rows and breakdown (:func:`country_run`), in the order of ``chosen``; with ``workers`` > 1
    in a pool of fresh processes (spawned, as the engine's workers are), ``progress`` called as each
    country finishes."""
    if workers == 1 or len(chosen) < 2:
        out = []
        for k, iso3 in enumerate(chosen):
            out.append(country_run(iso3, metrics, orbit_file, work, mode, overrides, ground))
            if progress:
                progress(k + 1, len(chosen), iso3)
        return out
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    # each spawned worker imports the calling script again: a script without a __main__ guard would
    # start pools from its workers; say so instead of failing inside multiprocessing
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise InputError("run_realism(..., workers>1) was called while a worker process was starting: the script "
                         "that calls it runs again in each worker. Put its code under "
                         "`if __name__ == \"__main__\":`, or use workers=1", location="workers")
    done: dict[str, CountryRun] = {}
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(chosen)), mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(country_run, iso3, metrics, orbit_file, work, mode, overrides, ground): iso3
                       for iso3 in chosen}
            for n, future in enumerate(as_completed(futures), 1):
                done[futures[future]] = future.result()
                if progress:
                    progress(n, len(chosen), futures[future])
    except BrokenProcessPool:
        raise InputError("a worker process ended before its country was run (a script that calls run_realism with "
                         "workers>1 needs `if __name__ == \"__main__\":`; out of memory is the other cause); "
                         "use workers=1 to run countries one by one", location="workers") from None
    return [done[c] for c in chosen]


def summarise(rows: list[dict], countries: list[str]) -> list[str]:
    """Counts of countries within tolerance, and whether Ukraine stays slower than Germany."""
    by = {(r["country"], r["metric"]): r for r in rows}
    run = [c for c in countries if by.get((c, "latency_p50"), {}).get("leonet") is not None]
    lat_ok = [c for c in run if by[(c, "latency_p50")]["within_tolerance"]]
    down_ok = [c for c in run if by[(c, "download_p50")]["within_tolerance"]]
    both = [c for c in lat_ok if c in down_ok]
    lines = [
        f"countries run: {len(run)} of {len(countries)}",
        f"latency p50 within {LATENCY_TOLERANCE_MS:g} ms: {len(lat_ok)} of {len(run)}",
        f"download p50 within {DOWNLOAD_TOLERANCE:.0%}: {len(down_ok)} of {len(run)}",
        f"both: {len(both)} of {len(run)} (goal: at least 80 %)",
    ]
    if ("UKR", "latency_p50") in by and ("DEU", "latency_p50") in by:
        u, d = by[("UKR", "latency_p50")], by[("DEU", "latency_p50")]
        if u.get("leonet") is not None and d.get("leonet") is not None:
            kept = (u["leonet"] > d["leonet"]) == (u["published"] > d["published"])
            lines.append(f"order kept (Ukraine slower than Germany, latency p50): {'yes' if kept else 'no'} "
                         f"(published {u['published']:.1f} vs {d['published']:.1f} ms; "
                         f"leonet {u['leonet']:.1f} vs {d['leonet']:.1f} ms)")
    return lines


def write_table(result: RealismResult, out_dir: Path) -> tuple[Path, Path]:
    """Write the table as ``realism.csv`` and ``realism.parquet`` (and the summary as
    ``realism_summary.txt``, the home-PoP breakdown as ``realism_by_home_pop.csv``) into
    ``out_dir``; each file is written whole to a temporary name and then renamed, so nothing
    half-written is left."""
    import os

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = check_out_dir(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = result.table()
    paths = tuple(out / name for name in TABLE_FILES)
    tmp = [p.with_name(p.name + ".part") for p in paths]
    pacsv.write_csv(table, tmp[0])
    pq.write_table(table, tmp[1])
    tmp[2].write_text("\n".join(result.summary) + "\n", encoding="utf-8")
    pacsv.write_csv(result.by_pop_table(), tmp[3])
    for t, p in zip(tmp, paths):
        os.replace(t, p)
    return paths[0], paths[1]
