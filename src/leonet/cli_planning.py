"""The planner's commands: ``contingency``, ``capacity-limit``, ``sweep`` and ``place-gateways``.

Each is one study (variants of a scenario, :mod:`leonet.planning`) into a study folder, with a
progress bar over variants, a table in the terminal and Parquet tables in the folder.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer


from .cli_options import consoles as _console  # noqa: E402


def _bar(err_console, what: str):
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from .cli_options import lazy_progress

    return lazy_progress(TextColumn(f"[progress.description]{what}"), BarColumn(), MofNCompleteColumn(),
                         TextColumn("variants"), TimeElapsedColumn(), console=err_console, transient=False)


def _load(scenario: str, sets: list[str], duration: float | None, step: float | None, dask: str | None = None):
    from .cli_options import overrides as _overrides
    from .scenario import load_scenario

    sc = load_scenario(scenario, overrides=_overrides(duration, step, None, sets))
    if dask:  # before the study folder is written: a bad address leaves nothing behind
        from .sim.daskrun import check_dask_address

        check_dask_address(dask)
    return sc


def _groups(text: str | None) -> list[str] | None:
    return [g.strip() for g in text.split(",") if g.strip()] if text else None


def _fmt(v, digits=3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:+.{digits}g}" if isinstance(v, float) else str(v)


def _report(console, folder: Path) -> None:
    from .planning.report import write_study_report

    console.print(f"Report: {write_study_report(folder)} (one HTML file, opens offline)")


def _paths(console, table) -> None:
    """Say how the variants ran: stepped together (shared sky) or on their own."""
    if table is None or "path" not in getattr(table, "columns", ()):
        return
    from .planning.variants import INDEPENDENT, SHARED

    counts = table["path"].value_counts()
    console.print(f"Variants: {int(counts.get(SHARED, 0))} stepped together with those that differ from them only in "
                  f"events, sharing positions, visibility and links ({SHARED}); {int(counts.get(INDEPENDENT, 0))} "
                  f"run on their own ({INDEPENDENT})")


def _with_base(table, ranked):
    """The ranking and the study's base row (the ranking holds the contingencies only)."""
    import pandas as pd

    from .planning.contingency import BASE

    return ranked if table is None else pd.concat([table[table["variant"] == BASE], ranked], ignore_index=True)


def _last_table(folder: Path):
    import pandas as pd

    from .planning.variants import TABLE_FILE

    f = folder / TABLE_FILE
    return pd.read_parquet(f) if f.exists() else None


def _study_dir(out: Path | None, scenario_name: str, kind: str) -> Path:
    return out if out is not None else Path("results") / f"{scenario_name}.{kind}"


SCENARIO_ARG = typer.Argument(..., metavar="SCENARIO", help="Scenario file or preset name.")
OUT_OPT = typer.Option(None, "--out", "-o", help="Study folder (default: results/<scenario>.<study>).")
GROUPS_OPT = typer.Option(None, "--groups", help="Comma-separated dish groups that make the region (default: all dishes).")
WORKERS_OPT = typer.Option(1, "--workers", "-w", min=1, help="Variants run on this many local processes.")
DASK_OPT = typer.Option(None, "--dask", help="Run variants on a Dask cluster: tcp://host:8786, or 'local'.")
SET_OPT = typer.Option([], "--set", help="Override a scenario field for every variant (repeatable).")
DURATION_OPT = typer.Option(None, "--duration", help="Override time.duration_s.")
STEP_OPT = typer.Option(None, "--step", help="Override time.step_s.")


def register(app: typer.Typer) -> None:
    """Add the planning commands to the CLI app."""

    @app.command("contingency")
    def contingency_cmd(
        scenario: str = SCENARIO_ARG,
        kind: str = typer.Option("gateways", "--kind", help="What to remove in turn: gateways, pops, fibre, planes or events."),
        n2: int = typer.Option(0, "--n2", min=0, max=50, help="Also remove every pair of the K worst together (N-2)."),
        top: int = typer.Option(15, "--top", min=1, help="Rows shown in the terminal."),
        out: Optional[Path] = OUT_OPT, groups: Optional[str] = GROUPS_OPT, workers: int = WORKERS_OPT,
        dask: Optional[str] = DASK_OPT, set_: list[str] = SET_OPT, duration: Optional[float] = DURATION_OPT,
        step: Optional[float] = STEP_OPT,
    ):
        """Rank what hurts the region most if lost (N-1, optionally N-2): each gateway, PoP, fibre
        link, satellite plane or scenario event removed in turn (an event: taken out, the others
        kept), against the scenario as it is."""
        from rich.table import Table

        from .planning.contingency import contingency

        console, err_console = _console()
        sc = _load(scenario, set_, duration, step, dask)
        folder = _study_dir(out, sc.name, f"contingency-{kind}")
        with _bar(err_console, f"N-1{' and N-2' if n2 > 1 else ''} {kind}") as bar:
            task = bar.add_task("", total=None)
            ranked = contingency(sc, kind, folder, n2=n2, groups=_groups(groups), workers=workers, dask=dask,
                                 progress=lambda d, t: bar.update(task, completed=d, total=t))
        lost = ("each of its events taken out" if kind == "events"
                else f"losing one {kind[:-1] if kind.endswith('s') else kind}")
        t = Table(title=f"{sc.name}: {lost} (worst first, change vs as-is)")
        for col in ("rank", "element", "availability", "p10 down (Mbps)", "unmet demand", "RTT p50 (ms)"):
            t.add_column(col, justify="left" if col == "element" else "right")
        for _, r in ranked.head(top).iterrows():
            t.add_row(str(r["rank"]), str(r["element"]), _fmt(r["delta_availability"]), _fmt(r["delta_p10_down_mbps"]),
                      _fmt(r["delta_unmet_demand"]), _fmt(r["delta_rtt_p50_ms"]))
        console.print(t)
        _paths(console, _with_base(_last_table(folder), ranked))
        console.print(f"Ranking: {folder / 'ranking.parquet'}; each variant's results in {folder / 'variants'}")
        _report(console, folder)

    @app.command("capacity-limit")
    def capacity_limit_cmd(
        scenario: str = SCENARIO_ARG,
        target: str = typer.Option(..., "--target", help="Conditions, e.g. \"unmet_demand<=0.01,availability>=0.99\"."),
        max_dishes: int = typer.Option(1_000_000, "--max-dishes", min=1,
                                       help="The most dishes tried (at least the scenario's own count of the region)."),
        out: Optional[Path] = OUT_OPT, groups: Optional[str] = GROUPS_OPT, workers: int = WORKERS_OPT,
        dask: Optional[str] = DASK_OPT, set_: list[str] = SET_OPT, duration: Optional[float] = DURATION_OPT,
        step: Optional[float] = STEP_OPT,
    ):
        """Find the largest number of dishes (of --groups, shares kept) that meets the target, and
        name the link that binds.

        The search assumes more dishes never serve the region better, and checks it: where the
        scenario's own count meets the target it also tries one dish per site; where it fails, it
        tries more dishes before fewer (doubling up to --max-dishes; for a metric that is not
        demand-driven, until more dishes get it no closer to the bound). A count that fails while
        a larger one meets is reported as not monotone, with no limit claimed.

        Delivered throughput (p10_down_mbps, p50_down_mbps, mean_down_mbps) is demand-driven: at
        most what the dishes ask for, and low for few dishes that are idle most of the time, so it
        rises with the count and no count lifts it above the demand. unmet_demand and availability
        measure the service; unmet_demand is undefined at a count whose dishes asked for nothing
        in the window, and such a count neither meets nor fails the target."""
        from .planning.capacity_limit import capacity_limit, describe
        from .planning.targets import parse_target

        console, err_console = _console()
        conditions = parse_target(target)
        sc = _load(scenario, set_, duration, step, dask)
        folder = _study_dir(out, sc.name, "capacity-limit")
        with _bar(err_console, "capacity limit") as bar:
            task = bar.add_task("", total=None)
            res = capacity_limit(sc, conditions, folder, groups=_groups(groups), workers=workers, dask=dask,
                                 max_dishes=max_dishes, progress=lambda d, t: bar.update(task, completed=d, total=t))
        region = groups or "all dishes"
        for k, line in enumerate(describe(res.as_dict())):
            first = line.replace("At most", "at most", 1) if line.startswith("At most") else line
            console.print(f"{sc.name} ({region}): {first}" if k == 0 else f"  {line}", markup=False)

        def value(metrics: dict, m: str) -> str:
            v = metrics.get(m, float("nan"))
            return "undefined" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"

        at = [(res.dishes, res.metrics_met)] if res.dishes else []
        at += [(res.fails_at, res.metrics_failed)] if res.fails_at is not None else []
        for m in sorted({c.metric for c in conditions}) if at else []:
            console.print(f"  {m}: " + "; ".join(f"{value(ms, m)} at {n:,}" for n, ms in at))
        for b in res.binding:
            console.print(f"  binding: {b['text']}" if b.get("text") else
                          f"  binding: {b['kind']} ({b['element']}), saturated in {b['saturated_steps']} step(s)",
                          markup=False)
        undefined = {n for n, _ in res.undefined}
        console.print("Tried: " + ", ".join(f"{n:,}{'?' if n in undefined else chr(10003) if ok else chr(10007)}"
                                            for n, ok in res.tried)
                      + (" (? undefined)" if undefined else ""))
        _paths(console, _last_table(folder))
        console.print(f"Study: {folder}")
        _report(console, folder)

    @app.command("sweep")
    def sweep_cmd(
        scenario: str = SCENARIO_ARG,
        sweep_file: Path = typer.Argument(..., metavar="SWEEP_FILE", help="Sweep file (YAML with a sweep: section; see the README)."),
        max_variants: int = typer.Option(500, "--max-variants", min=1, help="Refuse larger sweeps unless raised."),
        out: Optional[Path] = OUT_OPT, workers: int = WORKERS_OPT, dask: Optional[str] = DASK_OPT,
        set_: list[str] = SET_OPT, duration: Optional[float] = DURATION_OPT, step: Optional[float] = STEP_OPT,
    ):
        """Run a parameter sweep and/or Monte Carlo draws; print the mean and 95 % interval of each
        metric per parameter combination. Resumes where it stopped."""
        from rich.table import Table

        from .planning.sweep import read_sweep, run_sweep

        console, err_console = _console()
        spec = read_sweep(sweep_file)
        sc = _load(scenario, set_, duration, step, dask)
        folder = _study_dir(out, sc.name, "sweep")
        n = spec.n_variants()
        err_console.print(f"{n:,} variant{'' if n == 1 else 's'} of {sc.name}")
        with _bar(err_console, "sweep") as bar:
            task = bar.add_task("", total=spec.n_variants())
            _, summary = run_sweep(spec, sc, folder, workers=workers, dask=dask, max_variants=max_variants,
                                   progress=lambda d, t: bar.update(task, completed=d, total=t))
        keys = [p.field for p in spec.parameters]
        # draws repeat the random draws only; without them each combination runs once
        runs = spec.draws if spec.random else 1
        each = f"{runs} draw{'' if runs == 1 else 's'} each" if spec.random else "one run per combination"
        t = Table(title=f"{sc.name}: sweep ({each})")
        # a draw where a metric is undefined (no connected dish-time: no RTT) is left out of its figure
        fewer = bool((summary["draws"] < runs).any())
        clipped = bool(summary["ci95_clipped"].any())
        for col in keys + ["metric"] + (["draws"] if fewer else []) + ["mean", "95% interval"]:
            t.add_column(col, justify="right")
        for _, r in summary.iterrows():
            ci = "-" if math.isnan(r["ci95_low"]) else f"{r['ci95_low']:.4g} .. {r['ci95_high']:.4g}"
            ci += " *" if r["ci95_clipped"] else ""
            draws = [f"{int(r['draws'])} of {runs}" if r["draws"] < runs else ""] if fewer else []
            mean = "-" if math.isnan(r["mean"]) else f"{r['mean']:.4g}"
            t.add_row(*[str(r[k]) for k in keys], r["metric"], *draws, mean, ci)
        console.print(t)
        if fewer:
            console.print(f"draws: where a figure averages fewer draws than the {runs} that ran, the metric was "
                          "undefined in the others (RTT with no connected dish-time, unmet_demand with no "
                          "demand): they are left out of its mean and interval.")
        if clipped:
            console.print("* interval clipped to the metric's range (shares 0..1, Mbps and ms at least 0): "
                          "Student's t on a few draws near a bound reaches past it.")
        _paths(console, _last_table(folder))
        console.print(f"Tables: {folder / 'variants.parquet'} (one row per variant), {folder / 'summary.parquet'}")
        _report(console, folder)

    @app.command("place-gateways")
    def place_gateways_cmd(
        scenario: str = SCENARIO_ARG,
        candidates: Optional[Path] = typer.Option(None, "--candidates", help="CSV of candidate sites: name,lat_deg,lon_deg."),
        grid: Optional[str] = typer.Option(None, "--grid", help="Candidates on a grid: lat_min,lon_min,lat_max,lon_max,step_deg."),
        add: int = typer.Option(1, "--add", min=1, max=50, help="How many gateways to add."),
        metric: str = typer.Option("availability", "--metric", help="The metric to improve."),
        robust: bool = typer.Option(False, "--robust", help="Score each site by its worst case over N-1 of the gateways in use."),
        out: Optional[Path] = OUT_OPT, groups: Optional[str] = GROUPS_OPT, workers: int = WORKERS_OPT,
        dask: Optional[str] = DASK_OPT, set_: list[str] = SET_OPT, duration: Optional[float] = DURATION_OPT,
        step: Optional[float] = STEP_OPT,
    ):
        """Greedily add the gateway sites that most improve a metric for the region."""
        from .errors import InputError
        from .planning.placement import grid_candidates, place_gateways, read_candidates

        console, err_console = _console()
        if (candidates is None) == (grid is None):
            raise InputError("give --candidates FILE or --grid lat_min,lon_min,lat_max,lon_max,step_deg (one of them)")
        cands = read_candidates(candidates) if candidates is not None else grid_candidates(grid)
        sc = _load(scenario, set_, duration, step, dask)
        folder = _study_dir(out, sc.name, "place-gateways")
        with _bar(err_console, "placing") as bar:
            task = bar.add_task("", total=None)
            res = place_gateways(sc, cands, add, folder, metric=metric, groups=_groups(groups), robust=robust,
                                 workers=workers, dask=dask, progress=lambda d, t: bar.update(task, completed=d, total=t))
        worst = ""
        if robust:  # the base's own worst case, which the candidates' are compared with
            worst = f"; worst N-1 case {res.base_worst:.4g}" + (
                f" (losing {res.base_worst_case})" if res.base_worst_case else " (no gateway loss is worse)")
        console.print(f"{sc.name}: {metric} {res.base_value:.4g} as is{worst}", markup=False)
        for k, (c, v) in enumerate(zip(res.picked, res.values), start=1):
            runner = res.rounds[k - 1]
            second = f"; runner-up {runner['candidate'].iloc[1]}" if len(runner) > 1 else ""
            case = f", worst N-1 case {res.worsts[k - 1]:.4g}" if robust and k <= len(res.worsts) else ""
            console.print(f"  {k}. {c.name} ({c.lat_deg:.3f}, {c.lon_deg:.3f}): {metric} {v:.4g}{case}{second}",
                          markup=False)
        if res.stopped:
            done = f"{len(res.picked)} of the {add} asked for" if res.picked else f"none of the {add} asked for"
            console.print(f"  Stopped: {res.stopped}; {done} added.", markup=False)
        _paths(console, _last_table(folder))
        console.print(f"Study: {folder}")
        _report(console, folder)
