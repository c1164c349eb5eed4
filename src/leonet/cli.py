"""The ``leonet`` command line: run scenarios, list presets, summarise results (the summaries'
printing: :mod:`leonet.cli_summary`).

Input problems are printed as one clear message (file, field or line, what was expected) with
exit status 2, never as a traceback.

Each command imports what it needs inside its body, so that ``leonet --help`` and
``leonet --version`` load no numerical library (numpy, scipy, numba, pyarrow, pandas);
tests/test_architecture.py checks it.
"""

from __future__ import annotations


import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ._version import __version__
from .errors import InputError, LeonetError

app = typer.Typer(
    name="leonet",
    help="Simulate Starlink-class satellite internet end to end: orbits, links, ground segment, per-user service.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console()
err_console = Console(stderr=True)


def _version(value: bool):
    if value:
        console.print(f"leonet {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
):
    """leonet: Starlink-class LEO network simulation."""
    _say_warnings_plainly()
    from .cli_options import wide_when_not_a_terminal

    wide_when_not_a_terminal(console)  # `leonet run X > log`: whole names in the tables, not 80 columns


def _say_warnings_plainly() -> None:
    """Python's warnings from leonet's own modules (the Earth orientation table's, the
    constellation's) as one line each, "warning: ...", once per message, as leonet's other
    warnings read (not Python's file:line and source line, not once per module that triggers it).
    Other libraries' warnings keep Python's format."""
    import warnings

    said: set[str] = set()
    python_way = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if "leonet" not in str(filename):
            return python_way(message, category, filename, lineno, file, line)
        text = str(message)
        if text not in said:
            said.add(text)
            from rich.markup import escape

            err_console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)

    warnings.showwarning = show


from .cli_options import overrides as _overrides, parse_sets as _parse_sets, stage_bar  # noqa: E402,F401


@app.command()
def run(
    scenario: Optional[str] = typer.Argument(
        None, metavar="SCENARIO", help="Scenario YAML file or scenario preset name (default: the embedded ukraine-2022)."
    ),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results folder (default: the scenario's outputs.dir)."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Override time.duration_s (seconds simulated)."),
    step: Optional[float] = typer.Option(None, "--step", help="Override time.step_s (seconds between steps)."),
    start: Optional[str] = typer.Option(None, "--start", help="Override time.start (UTC, e.g. 2022-03-01T12:00:00Z)."),
    set_: list[str] = typer.Option([], "--set", help="Override any scenario field: --set visibility.min_elevation_deg=40 (repeatable)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace results of a different scenario in the --out folder."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar; print only the summary."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Local worker processes (chunks run in parallel)."),
    dask: Optional[str] = typer.Option(None, "--dask", help="Run chunks on a Dask cluster: tcp://scheduler:8786, or 'local' for a LocalCluster of --workers processes (needs leonet[dask])."),
    baseline: bool = typer.Option(False, "--baseline", help="Also run the scenario without its events (deliveries kept: the fleet growing is no threat) into OUT/baseline, and compare."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write the HTML report (RESULTS/report.html) after the run."),
    max_memory: Optional[str] = typer.Option(None, "--max-memory", help="Refuse a run whose estimated memory is larger (e.g. 8G, 512M; default: 80% of this machine's memory)."),
):
    """Run a scenario and print a summary. Results go to Parquet files in the results folder.

    Running the same command again after an interruption resumes: finished chunks are kept.
    """
    from .scenario import load_scenario

    sc = load_scenario(scenario, overrides=_overrides(duration, step, start, set_))
    # The engine is imported once the scenario is known to be good: a bad input fails fast.
    from .results.summary import coverage_summary, network_summary
    from .sim.daskrun import check_dask_address
    from .sim.runner import run as run_scenario

    check_dask_address(dask)  # before the results folder is prepared: nothing written for a bad address

    max_memory_bytes = None
    if max_memory is not None:
        from .sim.budget import parse_memory

        max_memory_bytes = parse_memory(max_memory)
    if not quiet:
        err_console.print(f"[bold]leonet[/] {__version__}: scenario [cyan]{sc.name}[/]: {sc.description}")
    with Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("steps"), TimeElapsedColumn(), TimeRemainingColumn(), console=err_console,
        disable=quiet, transient=False,
    ) as bar:
        task = bar.add_task("building", total=sc.time.n_steps)
        began = []   # the runner reports once its folder is ready: past the run's doors

        def progress(done: int, total: int) -> None:
            began.append(True)
            bar.update(task, completed=done, total=total, description="simulating")

        try:
            result = run_scenario(sc, out_dir=out, overwrite=overwrite, progress=progress, workers=workers, dask=dask,
                                  baseline=baseline,
                                  on_baseline=lambda: bar.update(task, completed=0, description="baseline"),
                                  max_memory_bytes=max_memory_bytes)
        except KeyboardInterrupt:
            bar.stop()
            err_console.print("interrupted: finished chunks are kept; run the same command again to resume.")
            raise typer.Exit(130) from None
        except Exception:
            if not began:
                bar.live.transient = True   # refused at a door (folder, memory): the error alone
            raise
        base_result = result.baseline
    for damaged in result.recomputed + (base_result.recomputed if base_result is not None else []):
        err_console.print(f"[yellow]recomputed:[/] {damaged}")
    from .cli_summary import (calendar_text, print_coverage, print_network, print_resilience, print_results_hint,
                              print_run_header)

    summary = coverage_summary(result.store)
    print_run_header(console, result)
    print_coverage(console, summary, calendar_text(result.store))
    print_network(console, network_summary(result.store), result.model.network.warnings if sc.network.enabled else ())
    if sc.events and sc.network.enabled:
        print_resilience(console, result, base_result)
    print_results_hint(console, result.store)
    if report:
        from .results.report import write_report

        with _stage_bar("report", quiet=quiet) as progress:
            report_path = write_report(result.store.root, progress=progress)
        console.print(f"Report: [bold]{report_path}[/] (one HTML file, opens offline; "
                      f"or browse the run with `leonet serve {result.store.root}`)")


def _stage_bar(what: str, quiet: bool = False):
    """A progress bar on stderr for a long command; yields ``progress(stage, done, total)``."""
    return stage_bar(err_console, what, quiet)


@app.command()
def sites(
    name: Optional[str] = typer.Argument(None, metavar="NAME", help="A built-in set (e.g. starlink-gateways-2023) to list its sites; omit for the sets and regions."),
    region: Optional[str] = typer.Option(None, "--region", help="Only sites of this region (Europe, North America, South America, APAC, Africa); the 2023 Starlink sets only."),
    search: Optional[str] = typer.Option(None, "--search", "-s", help="Only names containing this text (any case)."),
    all_statuses: bool = typer.Option(False, "--all", help="Gateways: also those not operational on 2023-10-10."),
):
    """List the built-in site sets, their regions and the names in them (the names scenarios use
    in ground.builtin, events' target.sites, network.pairs and obstructions)."""
    import numpy as np

    from .errors import did_you_mean
    from .ground import (BUILTIN_SITE_SETS, STARLINK_REGIONS, hypatia_top100_cities, starlink_gateways_2023,
                         starlink_gateways_2026, starlink_pops_2023, starlink_pops_2026)

    if name is None:
        if region is not None or search:
            option = "--region" if region is not None else "--search"
            raise InputError(f"{option} filters the sites of one set: give the set, e.g. `leonet sites "
                             f"starlink-gateways-2023 {option} {region if region is not None else search}` "
                             "(`leonet sites` lists the sets)", location=option)
        t = Table(title="Built-in site sets (ground.builtin in a scenario; `leonet sites NAME` lists one)")
        for col in ("name", "sites", "description"):
            t.add_column(col)
        counts = {"hypatia-top100": len(hypatia_top100_cities()),
                  "starlink-gateways-2023": len(starlink_gateways_2023()),
                  "starlink-pops-2023": len(starlink_pops_2023()),
                  "starlink-gateways-2026": len(starlink_gateways_2026()),
                  "starlink-pops-2026": len(starlink_pops_2026())}
        for set_name, (_, desc) in BUILTIN_SITE_SETS.items():
            t.add_row(set_name, f"{counts.get(set_name, '')}", desc)
        console.print(t)
        console.print("Regions (ground.builtin[].regions): " + ", ".join(STARLINK_REGIONS))
        return
    loaders = {"hypatia-top100": lambda: hypatia_top100_cities(),
               "starlink-gateways-2023": lambda: starlink_gateways_2023(statuses="all" if all_statuses else "operational"),
               "starlink-pops-2023": lambda: starlink_pops_2023(),
               "starlink-gateways-2026": lambda: starlink_gateways_2026(statuses="all" if all_statuses else "operational"),
               "starlink-pops-2026": lambda: starlink_pops_2026(statuses="all" if all_statuses else "operational")}
    if name not in loaders:
        raise InputError(f"unknown built-in site set {name!r}{did_you_mean(name, loaders)}; sets: {', '.join(loaders)}")
    found = loaders[name]()
    if region is not None:
        if name not in ("starlink-gateways-2023", "starlink-pops-2023"):
            # The other sets carry no region (ground.builtin refuses regions for them too).
            raise InputError(f"the set {name!r} has no regions (only the 2023 Starlink sets do); use --search "
                             "to find names", location="--region")
        if region not in STARLINK_REGIONS:
            raise InputError(f"unknown region {region!r}{did_you_mean(region, STARLINK_REGIONS)}; regions: "
                             f"{', '.join(STARLINK_REGIONS)}", location="--region")
        found = found.take(np.asarray(found.group) == region)
    if search:
        found = found.take(np.array([search.casefold() in str(n).casefold() for n in found.name], dtype=bool))
    t = Table(title=f"{name}: {len(found)} site(s)" + (f" in {region}" if region else "") + (f" matching {search!r}" if search else ""))
    for col in ("name", "kind", "region / group", "lat_deg", "lon_deg"):
        t.add_column(col, justify="right" if col.endswith("_deg") else "left")
    for i in range(len(found)):
        t.add_row(str(found.name[i]), str(found.kind[i]), str(found.group[i]), f"{found.lat_deg[i]:.4f}", f"{found.lon_deg[i]:.4f}")
    console.print(t)
    if not len(found) and search:
        console.print(f"no name contains {search!r}{did_you_mean(search, loaders[name]().name)}")


@app.command()
def presets():
    """List the embedded scenario and constellation presets."""
    from .scenario import DEFAULT_SCENARIO, list_presets

    t = Table(title="leonet presets")
    t.add_column("kind")
    t.add_column("name")
    t.add_column("description")
    for p in list_presets():
        name = p["name"] + (" (default)" if p["kind"] == "scenario" and p["name"] == DEFAULT_SCENARIO else "")
        t.add_row(p["kind"], name, p["description"])
    console.print(t)
    console.print("Run a scenario preset with `leonet run NAME`; use a constellation preset in a scenario file as `constellation: NAME`.")
    from .ground.builtin import BUILTIN_SITE_SETS

    s = Table(title="Built-in site sets (ground.builtin in a scenario)")
    s.add_column("name")
    s.add_column("description")
    for name, (_, desc) in BUILTIN_SITE_SETS.items():
        s.add_row(name, desc)
    console.print(s)


@app.command()
def validate(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario YAML file or preset name."),
    show: bool = typer.Option(False, "--show", help="Print the resolved scenario (presets expanded)."),
):
    """Check a scenario file (and every file it names) without running it."""
    from .scenario import load_scenario
    from .sim.model import build_model

    from .sim.budget import scenario_size

    sc = load_scenario(scenario)
    model = build_model(sc)
    size = scenario_size(sc, len(model.constellation), len(model.sites), stations=int((model.sites.kind == "station").sum()))
    # With --show, stdout is the scenario alone, written as is (no wrapping at the terminal's
    # width), so that `leonet validate X --show > s.yaml` is a scenario file; the verdict goes to stderr.
    (err_console if show else console).print(
        f"{scenario}: valid - {len(model.constellation):,} satellites, {len(model.sites):,} sites, "
        f"{sc.time.n_steps:,} steps (about {size.peak_bytes / 2**30:,.1f} GiB of memory in one process).")
    # The warnings `leonet run` would print (windows and events after the end, satellites that will
    # not fly): valid, but the run would not show all of it. With the network off, build_model
    # has already warned about propagation on stderr; the calendar's and events' warnings remain.
    if sc.network.enabled:
        warned = model.network.warnings
    else:
        from .sim.run_warnings import event_warnings, scenario_warnings

        warned = scenario_warnings(sc, model.constellation) + event_warnings(sc)
    for w in warned:
        (err_console if show else console).print(f"[yellow]warning:[/] {w}")
    if show:
        import yaml

        from .scenario.overrides import apply_override
        from .sim.inputs import scenario_input_files

        # The files it names as absolute paths: relative ones are relative to the scenario's own
        # folder (a preset's is inside leonet), so the printed scenario works wherever it is saved.
        data = yaml.safe_load(sc.to_yaml())
        for where, path in scenario_input_files(sc):
            apply_override(data, where, str(path), "--show")
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        sys.stdout.flush()


@app.command()
def summary(results: Path = typer.Argument(..., metavar="RESULTS", help="A results folder written by `leonet run`.")):
    """Print the summary of a results folder again."""
    from .results.store import ResultStore
    from .results.summary import coverage_summary, network_summary

    from .results.contract import read_contract
    from .cli_summary import (calendar_text, print_coverage, print_network, print_stored_header,
                              print_stored_resilience, stored_baseline)

    store = ResultStore(results)
    m = store.read_manifest()
    store.verify()  # a damaged or missing chunk or static table: one message naming the files, no summary
    contract = read_contract(store)
    cal_text = calendar_text(store)
    print_stored_header(console, m, cal_text, store.read("sites").to_pandas())
    if "site_steps" not in store.tables():  # stopped before its first chunk: nothing to sum up yet
        console.print(f"{store.incomplete_note() or 'no steps written'}: nothing to summarise yet; run the same "
                      "`leonet run` command again to finish it")
        return
    print_coverage(console, coverage_summary(store), cal_text)
    print_network(console, network_summary(store), contract.warnings)
    if contract.events and "dish_steps" in store.tables():  # what `leonet run` prints after its events
        print_stored_resilience(console, store, stored_baseline(console, store))


@app.command("report")
def report_cmd(
    results: Path = typer.Argument(..., metavar="RESULTS", help="A results folder written by `leonet run`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="HTML file (default: RESULTS/report.html)."),
    max_dishes: int = typer.Option(50, "--max-dishes", min=0, help="At most this many individual dishes in the plots."),
):
    """Write one self-contained HTML report of a run (RTT CDFs, RTT over time with the run's slots,
    availability map, throughput, outage causes). It opens offline."""
    from .results.report import write_report

    if out is not None and results.is_dir():  # not a results folder: write_report says so
        from .results.outputs import check_export_output

        # never over the run's own files (manifest.json, a table) nor over another kind of file
        check_export_output(out, results, default="report.html", own_suffixes=(".html", ".htm"))
    from .results.store import ResultStore

    ResultStore(results).read_manifest()  # not a results folder: said before a progress bar is drawn
    with _stage_bar("report") as progress:
        path = write_report(results, out, max_dishes_in_plots=max_dishes, progress=progress)
    console.print(f"wrote {path}")


@app.command("serve")
def serve_cmd(
    results: Path = typer.Argument(..., metavar="RESULTS", help="A results folder written by `leonet run`."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only). Anything but a loopback address needs --allow-remote."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow --host beyond this machine; every API call then needs a token."),
    token: Optional[str] = typer.Option(None, "--token", envvar="LEONET_TOKEN", help="The token API calls must carry (header X-Leonet-Token, or ?token=); generated and printed when --allow-remote is given without it."),
    allowed_host: list[str] = typer.Option([], "--allowed-host", help="Another name this server may be addressed by (the Host header; repeatable). Localhost names and the bound address are always allowed."),
    dish: Optional[str] = typer.Option(None, "--dish", help="Open this dish's view (its id, the site name) in the printed URL."),
):
    """Start the local web app: a globe of the run, each dish's app view (status, latency,
    outages, obstruction map) and the JSON API it reads (OpenAPI at /openapi.json).

    Only requests addressed to this machine by its own names are answered (others: 400). To
    listen beyond localhost: `--host 0.0.0.0 --allow-remote`; the printed URL then carries a
    token that every API call needs."""
    from .app.server import serve

    if dish is not None:
        _check_dish_id(results, dish)
    serve(results, host=host, port=port, open_browser=open_browser, allow_remote=allow_remote, token=token,
          allowed_hosts=tuple(allowed_host), dish=dish)


def _check_dish_id(results: Path, dish: str) -> None:
    """``serve --dish``: the id must be a dish site of the run (its name), else one clear error
    before the server starts. A folder whose sites table cannot be read is left to ``serve``'s
    own checks (it says what is wrong with the folder)."""
    from .errors import did_you_mean

    try:
        import pyarrow.parquet as pq

        sites = pq.read_table(results / "sites.parquet", columns=["name", "kind"]).to_pydict()
    except Exception:  # noqa: BLE001 - not a readable results folder: serve refuses it, naming the file
        return
    dishes = [str(n) for n, k in zip(sites["name"], sites["kind"]) if k == "dish"]
    if dish not in dishes:
        raise InputError(f"no dish {dish!r} in this run{did_you_mean(dish, dishes)} ({len(dishes):,} dish "
                         f"site{'' if len(dishes) == 1 else 's'}; a dish's id is its site name, as in "
                         f"{results / 'sites.parquet'})", location="--dish")


@app.command("dish", context_settings={"ignore_unknown_options": True})
def dish_cmd(
    lat: float = typer.Argument(..., metavar="LAT", help="The dish's latitude, deg (south negative: `leonet dish -33.92 18.42`)."),
    lon: float = typer.Argument(..., metavar="LON", help="The dish's longitude, deg (east positive)."),
    horizon: Optional[Path] = typer.Option(None, "--horizon", help="The dish's horizon: CSV with columns azimuth_deg,elevation_deg."),
    obstruction_map: Optional[Path] = typer.Option(None, "--obstruction-map", help="The obstruction map the dish exports (starlink-grpc-tools): a PNG, a .npy array or a text grid of signal quality (-1 no data)."),
    map_min_elevation: float = typer.Option(25.0, "--map-min-elevation", min=0, max=89, help="Elevation at the edge of the obstruction map's circle, deg (the dish reports it; 25 by default)."),
    kit: str = typer.Option("standard", "--kit", help="Dish kit (leonet/data/terminal_kits.csv): its caps (down/up) and minimum elevation."),
    duration: float = typer.Option(120.0, "--duration", help="Seconds simulated (1 s steps; at most 3,600)."),
    constellation: str = typer.Option("starlink-2026-08-22", "--constellation", help="A shipped element set, run on its day: starlink-2026-08-22 (10,744 satellites, the newest; the default) or starlink-2023-12-27 (5,202, the sky of Starlink's published figures of Jan 2024); or a Starlink constellation preset: starlink-gen1, starlink-gen2, starlink-shell1 (run from now, without the background load, which is calibrated on the real satellites)."),
    ground: int = typer.Option(2026, "--ground", help="The ground segment, as leonet realism runs it: 2026 (the 2026 list's operational gateways) or 2023 (the 2023 map's gateways that carried traffic, with their antenna counts); the gateways and PoPs within reach."),
    start: Optional[str] = typer.Option(None, "--start", help="Override the start (UTC, e.g. 2023-12-27T18:00:00Z)."),
    no_background: bool = typer.Option(False, "--no-background", help="Leave out the other subscribers who load the dish's satellites (the sky to the dish alone)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Results folder (default: results/my-dish-LAT-LON)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port of the app."),
    no_open: bool = typer.Option(False, "--no-open", help="Do not open a browser (print the URL only)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Run only; do not start the app."),
):
    """A dish owner's one command: simulate one dish at LAT LON with its horizon, the gateways
    and PoPs around it, the constellation of the day and the calibrated service model of that day
    (other subscribers' load, the processing term: what leonet realism checks), then open the app
    on that dish."""
    from .mydish import DISH_NAME, dish_scenario
    from .scenario import scenario_from_dict
    from .sim.runner import run as run_scenario

    if horizon is not None and obstruction_map is not None:
        raise InputError("give --horizon or --obstruction-map, not both", location="--horizon")
    if horizon is not None:  # read at the door: its errors name --horizon, before anything is built
        from .ground.obstructions import read_horizon_csv

        if not horizon.is_file():
            raise InputError(f"no such file: {str(horizon)!r}" if not horizon.exists() else
                             f"{str(horizon)!r} is not a file", location="--horizon")
        read_horizon_csv(horizon)
    profile = None
    if obstruction_map is not None:
        from .ground.obstruction_map import horizon_from_grid, read_obstruction_grid

        az, el = horizon_from_grid(read_obstruction_grid(obstruction_map), map_min_elevation)
        profile = list(zip(az.tolist(), el.tolist()))
    out = out or Path("results") / f"my-dish-{lat:.4f}-{lon:.4f}"
    data, chosen = dish_scenario(lat, lon, out, horizon=profile, horizon_file=horizon, kit=kit, duration_s=duration,
                                 constellation=constellation, ground_year=ground, start=start,
                                 background=not no_background)
    sc = scenario_from_dict(data, source="leonet dish")
    err_console.print(f"[bold]leonet dish[/]: {sc.description}; nearest gateway {chosen['nearest_gateway']} "
                      f"({chosen['nearest_gateway_km']:,.0f} km); from {chosen['start']}")
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("steps"), TimeElapsedColumn(), console=err_console) as bar:
        task = bar.add_task("simulating", total=sc.time.n_steps)
        result = run_scenario(sc, out_dir=out, overwrite=True,
                              progress=lambda done, total: bar.update(task, completed=done, total=total))
    from .cli_summary import print_dish_line, print_results_hint
    from .mydish import dish_gateway_shares, never_online_line
    from .results.summary import network_summary

    ns = network_summary(result.store)
    # a dish never online has no RTT, gateway or PoP to print: say why instead
    never = never_online_line(DISH_NAME, ns, chosen["home_pop"])
    if never:
        console.print(never, soft_wrap=True)
    else:
        print_dish_line(console, DISH_NAME, ns.per_dish.iloc[0], gateway_shares=dish_gateway_shares(result.store))
    print_results_hint(console, result.store)
    if no_serve:
        return
    from .app.server import serve

    serve(result.store.root, port=port, open_browser=not no_open, dish=DISH_NAME)


from .cli_export import register as _register_export  # noqa: E402

_register_export(app)


@app.command("realism")
def realism_cmd(
    metrics: Optional[Path] = typer.Option(None, "--metrics", help="A per-country metrics file in Starlink's format (default: the shipped 2024-01-06 file, 40 countries)."),
    countries: Optional[str] = typer.Option(None, "--countries", help="Only these ISO alpha-3 codes, comma-separated (e.g. UKR,DEU)."),
    date_text: Optional[str] = typer.Option(None, "--date", help="The metrics' date (YYYY-MM-DD) when the file name holds none (where it holds one, the two must agree)."),
    fast: bool = typer.Option(False, "--fast", help="Fewer samples (4 one-step windows over 4 days, not 96 over 24) and cities (3, not 8): a quick look."),
    no_references: bool = typer.Option(False, "--no-references", help="Leave out the Ookla US and 1 Hz dish rows."),
    out: Path = typer.Option(Path("results/realism"), "--out", help="Folder for realism.csv, realism.parquet, realism_summary.txt and realism_by_home_pop.csv (each country split by home PoP)."),
    set_: list[str] = typer.Option([], "--set", help="Change an assumption in every country's scenario alike, a sensitivity run: --set service.admission.target_utilisation=0.7 (repeatable; listed in the summary)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Countries run at once, each in its own process (the same table)."),
    ground: Optional[int] = typer.Option(None, "--ground", help="The ground segment: 2023 (the community map of 2023-10-10) or 2026 (the community list of 2026-03-20); by default the one nearest the date the check simulates (2023 for the shipped files)."),
):
    """Compare leonet with Starlink's published per-country figures (and Ookla US, a dish's 1 Hz history)."""
    from datetime import date

    from .realism.check import check_out_dir, chosen_countries, run_realism, write_table
    from .realism.metrics import read_published_metrics

    when = None
    if date_text:
        try:
            when = date.fromisoformat(date_text)
        except ValueError:
            raise InputError(f"--date must be YYYY-MM-DD, got {date_text!r}", location="--date") from None
    from .realism.calibrated import ground_segment, ground_year_of

    if ground is not None:
        ground_segment(ground)  # a year without a ground segment fails before the metrics are read
    check_out_dir(out)  # before the run: a file or an unwritable folder must not cost the results
    overrides = _parse_sets(set_)
    m = read_published_metrics(metrics, when)
    ground = ground_year_of(m.date) if ground is None else ground
    # "" names no country: an error; blank entries ("UKR,,DEU") are skipped, and not counted
    chosen = chosen_countries(m, countries.split(",") if countries is not None else None)
    console.print(f"metrics: {m.source} ({m.date.isoformat()}), {len(chosen)} "
                  f"{'country' if len(chosen) == 1 else 'countries'}; ground segment of {ground}")
    result = run_realism(m, chosen, mode="fast" if fast else "full", references=not no_references,
                         progress=lambda k, n, c: console.print(f"  {k}/{n} {c}", highlight=False),
                         overrides=overrides, workers=workers, ground=ground)
    t = Table(title="leonet vs published (p50 rows; all nine figures in the files)")
    for col in ("country", "metric", "published (source)", "leonet", "within tolerance"):
        t.add_column(col)
    for r in result.rows:
        if not r["metric"].endswith("p50") and "reference" not in r["country"]:
            continue
        value = "-" if r.get("leonet") is None or r["leonet"] != r["leonet"] else f"{r['leonet']:.3g} {r['unit']}"
        verdict = {True: "yes", False: "NO", None: "-"}[r.get("within_tolerance")]
        t.add_row(r["country"], r["metric"], f"{r['published']:.3g} {r['unit']} ({r['source']})", value, verdict)
    console.print(t)
    for line in result.summary:
        console.print(line, highlight=False, markup=False)
    csv_path, parquet_path = write_table(result, out)
    console.print(f"wrote {csv_path} and {parquet_path}; by home PoP (where each PoP's subscribers land, "
                  f"what they get): {csv_path.with_name('realism_by_home_pop.csv')}")


from .cli_planning import register as _register_planning  # noqa: E402

_register_planning(app)


def _stop_as_ctrl_c(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: runs the app, turning leonet errors into clear messages.

    A SIGTERM (a scheduler, ``docker stop``, ``timeout``) stops a command as Ctrl-C does: a run
    keeps and records its finished chunks and says how to resume, instead of dying between
    writing a chunk and recording it in the manifest."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_as_ctrl_c)
    try:
        app(args=argv, prog_name="leonet")
    except LeonetError as err:
        from rich.markup import escape

        err_console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)  # paths whole, never folded
        return 2
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
