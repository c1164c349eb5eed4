"""The report's first section: the run (scenario, time window, satellites and sites, status,
leonet version)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..._version import __version__
from ...errors import InputError
from ..summary import site_weights
from .markup import esc, secs
from .run import ReportRun


def overview_section(run: ReportRun, results_dir: Path, generated: str) -> str:
    m = run.manifest
    start_ns = m.start_ns
    start = pd.Timestamp(start_ns, unit="ns", tz="UTC")
    cal = run.cal
    end_ns = cal.end_ns  # the calendar's end (a uniform run's last step may stop short of a whole step)
    end = pd.Timestamp(end_ns, unit="ns", tz="UTC")
    kinds = run.sites["kind"].value_counts()
    kind_words = {"dish": ("dish", "dishes"), "gateway": ("gateway", "gateways"), "pop": ("PoP", "PoPs"),
                  "station": ("station", "stations")}
    counts = [f"{int(kinds[k]):,} {kind_words[k][int(kinds[k]) != 1]}" for k in ("dish", "station", "gateway", "pop")
              if k in kinds]
    if "dish" in kinds:
        # a dish site may stand for many identical dishes (``dishes``): say both, as the CLI's
        # run header does, or "68 dishes" reads as 68 where the tables count 20,966
        dishes = int(round(site_weights(run.store)[run.sites["kind"].to_numpy() == "dish"].sum()))
        n = int(kinds["dish"])
        if dishes != n:
            counts[0] = f"{n:,} dish site{'s' if n != 1 else ''} ({dishes:,} dishes)"
    sites_text = ", ".join(counts) or "none"
    try:
        shells = run.store.read("satellites", columns=["shell"]).to_pandas()["shell"].nunique()
        shells_text = f" in {shells} shell{'s' if shells != 1 else ''}"
    except (InputError, KeyError, OSError):
        shells_text = ""
    isl = run.facts.isl.topology if run.facts.network else None
    status = "complete" if m.completed else (
        f"incomplete: the run stopped before its end (chunks written so far are shown; "
        f"{m.chunks_total} chunks planned)")
    rows = [
        ("Scenario", esc(run.name)),
        ("Description", esc(run.facts.description or "–")),
        ("Time window", f"{start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} UTC "
                        f"({secs((end_ns - start_ns) / 1e9)} s: {esc(cal.text())})"),
        ("Satellites", f"{m.n_satellites:,}{shells_text}"),
        ("Ground sites", esc(sites_text)),
    ]
    if isl:
        rows.append(("Laser links", esc(isl)))
    rows += [
        ("Run status", esc(status)),
        *((("Warnings", "<br>".join(esc(w) for w in run.contract.warnings)),) if run.contract.warnings else ()),
        ("leonet version", f"run with {esc(m.leonet_version or '?')}, report by {esc(__version__)}"),
        ("Results folder", f"<code>{esc(results_dir)}</code>"),
        ("Report generated", esc(generated)),
    ]
    return '<dl class="meta">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"
