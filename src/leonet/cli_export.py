"""The ``leonet export`` commands: a results folder as CSV or CZML, a scenario as Hypatia's
satellite-network state. Each imports what it needs inside its body (``leonet --help`` stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .cli_options import consoles, overrides as _overrides, stage_bar


def _warner(err_console):
    """What an export says beside its files (an incomplete run, links left out): on stderr."""
    def warn(text: str) -> None:
        from rich.markup import escape

        err_console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False, soft_wrap=True)

    return warn


def register(app: typer.Typer) -> None:
    """Add ``leonet export`` (csv, czml, hypatia) to the CLI app."""

    export_app = typer.Typer(help="Export results or scenarios for other tools (CSV, CZML, Hypatia).", no_args_is_help=True)
    app.add_typer(export_app, name="export")

    @export_app.command("csv")
    def export_csv_cmd(
        results: Path = typer.Argument(..., metavar="RESULTS", help="A results folder written by `leonet run`."),
        out_dir: Optional[Path] = typer.Argument(None, metavar="OUT_DIR", help="Folder for the CSV files (default: RESULTS/csv)."),
        table: list[str] = typer.Option([], "--table", "-t", help="Only these tables (repeatable); default: all."),
        max_rows: Optional[int] = typer.Option(None, "--max-rows", min=1, help="At most this many rows per table."),
    ):
        """Write the results tables as CSV for spreadsheets (ISO times, names beside indices)."""
        from .results.csv_export import export_csv

        console, err_console = consoles()
        with stage_bar(err_console, "csv") as progress:
            paths = export_csv(results, out_dir or results / "csv", tables=table or None, max_rows=max_rows,
                               progress=progress, warn=_warner(err_console))
        for p in paths:
            console.print(f"wrote {p} ({p.stat().st_size / 1e6:.1f} MB)")

    @export_app.command("czml")
    def export_czml_cmd(
        results: Path = typer.Argument(..., metavar="RESULTS", help="A results folder written by `leonet run`."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="CZML file (default: RESULTS/run.czml)."),
        every: int = typer.Option(10, "--every", min=1, help=(
            "Sample satellite positions at every N-th step, and every 300 s between samples further apart (so "
            "that Cesium's interpolated orbits stay within ~40 m of the orbit; a run too long for the document's "
            "1,000,000 samples draws satellites in stretches from each sampled step, and says so).")),
        max_satellites: Optional[int] = typer.Option(1000, "--max-satellites", min=1, help="Keep the serving satellites plus an even sample up to this many."),
        max_links: int = typer.Option(10_000, "--max-links", min=0, help="Keep at most this many serving links (the longest); says how many were left out."),
    ):
        """Write CZML so the run plays in any Cesium viewer: satellites, dishes by state, serving links."""
        from .results.czml import export_czml

        console, err_console = consoles()
        with stage_bar(err_console, "czml") as progress:
            path = export_czml(results, out or results / "run.czml", max_satellites=max_satellites, every_n_steps=every,
                               max_links=max_links, progress=progress, warn=_warner(err_console))
        console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")

    @export_app.command("hypatia")
    def export_hypatia_cmd(
        scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario file or preset with kind: station sites (e.g. hypatia-starlink)."),
        out_dir: Path = typer.Argument(..., metavar="OUT_DIR", help="Folder for Hypatia's satellite network state: new, empty, or a previous export (its files are replaced); any other folder is refused."),
        duration: Optional[float] = typer.Option(None, "--duration", help="Override time.duration_s."),
        step: Optional[float] = typer.Option(None, "--step", help="Override time.step_s (Hypatia: 0.1)."),
        workers: int = typer.Option(1, "--workers", "-w", min=1, help="Local worker processes."),
        gsl_bandwidth: float = typer.Option(1.0, "--gsl-bandwidth", help="GSL interface bandwidth written to gsl_if_bandwidth files and gsl_interfaces_info.txt: a unitless factor > 0 (Hypatia's bandwidth_fraction); ns-3 sets each GSL interface to it times gsl_data_rate_megabit_per_s Mbit/s (Hypatia's studies use 1)."),
    ):
        """Write Hypatia's satellite-network-state files (tles.txt, isls.txt, ground_stations.txt,
        gsl_interfaces_info.txt, description.txt, fstate_<t>.txt, gsl_if_bandwidth_<t>.txt) so that
        Hypatia's ns-3 simulator can run on them: every time.step_s (its one update interval) in
        dynamic_state_<step ms>ms_for_<duration s>s; the finer instants of time.windows are left out,
        with a warning."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        from .hypatia.export import check_bandwidth, export_hypatia
        from .hypatia.files import check_out_dir
        from .scenario import load_scenario
        from .sim.model import build_model

        console, err_console = consoles()
        check_bandwidth(gsl_bandwidth, "--gsl-bandwidth")  # the arguments first: before any work
        replacing = check_out_dir(out_dir)
        sc = load_scenario(scenario, overrides=_overrides(duration, step, None, []))
        model = build_model(sc)
        if replacing:
            err_console.print(f"replacing the Hypatia export in {out_dir} (files of the same names)", highlight=False)
        with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("steps"), TimeElapsedColumn(), TimeRemainingColumn(), console=err_console) as bar:
            task = bar.add_task("exporting", total=len(model.t_ns))
            summary = export_hypatia(model, out_dir, progress=lambda d, t: bar.update(task, completed=d, total=t),
                                     gsl_bandwidth=gsl_bandwidth, workers=workers)
        console.print(f"wrote {summary.files_written} files to {summary.out_dir} ({summary.steps} steps, "
                      f"{summary.fstate_entries:,} fstate entries, {summary.ms_per_step:.1f} ms per step)")
        for w in summary.warnings:
            console.print(f"[yellow]warning:[/] {w}")
