"""The study report: one offline HTML page per study folder (contingency ranking with its map,
capacity limit, sweep summary, gateway placement), written beside the study's tables.

Self-contained like the run report: plotly.js and the Natural Earth base map are embedded, so the
file opens without a network connection.
"""

from __future__ import annotations

import html
import json
import math
import os
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .metrics import METRICS
from .variants import STUDY_FILE

REPORT_FILE = "report.html"
_CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;font-size:.9rem}td,th{border-bottom:1px solid #ddd;padding:.25rem .6rem;text-align:right}
td.l,th.l{text-align:left}h1{font-size:1.5rem}.note{color:#555;font-size:.9rem}"""


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _num(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}g}" if isinstance(v, float) else _esc(v)


def _table(frame: pd.DataFrame, text_cols: set[str]) -> str:
    head = "".join(f'<th class="{"l" if c in text_cols else ""}">{_esc(c)}</th>' for c in frame.columns)
    rows = []
    for _, r in frame.iterrows():
        rows.append("<tr>" + "".join(
            f'<td class="l">{_esc(r[c])}</td>' if c in text_cols else f"<td>{_num(r[c])}</td>" for c in frame.columns) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _plot(fig, div_id: str) -> str:
    import plotly.io as pio

    fig.update_layout(template="plotly_white", height=440, margin=dict(l=60, r=30, t=50, b=50))
    payload = pio.to_json(fig, validate=False).replace("<", "\\u003c")
    return (f'<div id="{_esc(div_id)}"></div><script>(function(){{var f={payload};'
            f'Plotly.newPlot({json.dumps(div_id)}, f.data, f.layout, {{"displaylogo": false}});}})();</script>')


def _contingency(study: Path, kind: str) -> tuple[str, bool]:
    import plotly.graph_objects as go

    ranked = pd.read_parquet(study / "ranking.parquet")
    cols = ["rank", "element", "n"] + [f"delta_{m}" for m in METRICS if ranked[f"delta_{m}"].notna().any()]
    what = ("Each of the scenario's events taken out for the whole run (the others kept)"
            if kind.startswith("contingency-events") else "Each element removed for the whole run, on top of the scenario as it is")
    body = [f'<p class="note">{what}; changes against the scenario as it is, every event in (negative availability '
            "and throughput changes hurt). Worst first.</p>", _table(ranked[cols], {"element"})]
    top = ranked.head(25)
    fig = go.Figure(go.Bar(x=top["delta_availability"], y=top["element"], orientation="h"))
    fig.update_layout(title="Availability change when lost", yaxis=dict(autorange="reversed"), xaxis_title="change in availability")
    body.append(_plot(fig, "ranking-bars"))
    geo = ranked.dropna(subset=["lat_deg", "lon_deg"])
    needs_geo = len(geo) > 0
    if needs_geo:
        fig = go.Figure(go.Scattergeo(lat=geo["lat_deg"], lon=geo["lon_deg"], text=geo["element"], mode="markers",
                                      marker=dict(size=10, color=geo["delta_availability"], colorscale="RdYlGn",
                                                  colorbar=dict(title="avail. change"), line=dict(width=0.5))))
        fig.update_geos(fitbounds="locations", showcountries=True, resolution=110)
        fig.update_layout(title="Where the critical elements are")
        body.append(_plot(fig, "ranking-map"))
    return "".join(body), needs_geo


def _sweep(study: Path) -> str:
    import plotly.graph_objects as go

    summary = pd.read_parquet(study / "summary.parquet")
    variants = pd.read_parquet(study / "variants.parquet")
    text = {c for c in summary.columns if summary[c].dtype == object}
    body = ['<p class="note">draws: the draws each figure averages (a draw where the metric is undefined, '
            "RTT with no connected dish-time or unmet_demand with no demand, is left out). The 95 % interval is "
            "Student's t over those draws, clipped to the metric's range (shares 0..1, Mbps and ms at least 0) "
            "where ci95_clipped says so.</p>", _table(summary, text)]
    params = [c for c in summary.columns
              if c not in ("metric", "draws", "mean", "sd", "ci95_low", "ci95_high", "ci95_clipped")]
    for k, m in enumerate(summary["metric"].unique()):
        fig = go.Figure()
        if params:
            x = variants[params[0]].astype(str)
            fig.add_trace(go.Box(x=x, y=variants[m], boxpoints="all", name=m))
            fig.update_layout(xaxis_title=params[0])
        else:
            fig.add_trace(go.Histogram(x=variants[m], name=m))
        fig.update_layout(title=f"{m}: spread over draws", yaxis_title=m)
        body.append(_plot(fig, f"sweep-{k}"))
    return "".join(body)


def _variants(study: Path) -> str:
    table = pd.read_parquet(study / "variants.parquet").drop(columns=["results"], errors="ignore")
    return _table(table, {c for c in table.columns if table[c].dtype == object})


def _capacity_result(result: dict) -> str:
    """The capacity limit's answer (study.json's ``result``) as a paragraph and a list: the
    sentences the terminal prints (:func:`leonet.planning.capacity_limit.describe`)."""
    from .capacity_limit import describe

    lines = describe(result)
    head = _esc(lines[0]) if lines else ""
    if lines and lines[0].startswith("At most "):  # the answer stands out
        n = f"{result.get('dishes') or 0:,}"
        head = head.replace(f"At most {n} dishes", f"At most <b>{n}</b> dishes", 1)
    notes = "".join(f'<p class="note">{_esc(line)}</p>' for line in lines[1:])
    items = [f"<li>binding: {_esc(b['text'])}</li>" if b.get("text") else
             f"<li>binding: {_esc(b['kind'])} ({_esc(b['element'])}), saturated in {_num(b['saturated_steps'])} "
             "step(s)</li>" for b in result.get("binding", [])]
    return f"<p>{head}</p>" + notes + (f"<ul>{''.join(items)}</ul>" if items else "") + \
        '<p class="note">Every count tried, round by round:</p>'


def _placement_result(result: dict) -> str:
    """The gateways placed (study.json's ``result``)."""
    metric = _esc(result.get("metric", ""))
    items = [f"<li>{_esc(p['candidate'])} ({_num(p['lat_deg'])}, {_num(p['lon_deg'])}): {metric} {_num(p['value'])}"
             + (f", worst N-1 case {_num(p['worst'])}" if "worst" in p else "") + "</li>"
             for p in result.get("picked", [])]
    worst = ""
    if result.get("robust") and "base_worst" in result:
        case = result.get("base_worst_case")
        worst = (f", worst N-1 case {_num(result.get('base_worst'))}"
                 + (f" (losing {_esc(case)})" if case else " (no gateway loss is worse)"))
    stopped = f'<p>Stopped: {_esc(result["stopped"])}.</p>' if result.get("stopped") else ""
    added = f"added in order:</p><ol>{''.join(items)}</ol>" if items else "none added.</p>"
    return f"<p>{metric} {_num(result.get('base_value'))} as is{worst}; {added}" + stopped


def build_study_html(study_dir: str | Path) -> str:
    import plotly.offline

    study = Path(study_dir)
    meta_path = study / STUDY_FILE
    if not meta_path.exists():
        raise InputError("is not a study folder (no study.json)", source=str(study))
    meta = json.loads(meta_path.read_text())
    kind = str(meta.get("kind", "study"))
    needs_geo = False
    result = meta.get("result") or {}
    if kind.startswith("contingency") and (study / "ranking.parquet").exists():
        body, needs_geo = _contingency(study, kind)
    elif kind == "sweep" and (study / "summary.parquet").exists():
        body = _sweep(study)
    elif kind == "placement" and (study / "rounds.parquet").exists():
        rounds = pd.read_parquet(study / "rounds.parquet")
        body = ((_placement_result(result) if result else "")
                + '<p class="note">Every candidate of every round (score: higher is better; the worst case over '
                "N-1 with --robust); the picked site of each round is marked.</p>"
                + _table(rounds, {"candidate"}))
    elif kind == "capacity-limit" and result:
        body = _capacity_result(result) + _variants(study)
    else:
        body = _variants(study)
    geo = ""
    if needs_geo:
        topo = (resources.files("leonet") / "results" / "templates" / "world_110m.json").read_text(encoding="utf-8")
        geo = '<script>window.PlotlyGeoAssets={topojson:{"world_110m":%s}};</script>' % topo.replace("<", "\\u003c")
    title = f"leonet {kind}: {meta.get('base', '')}"
    groups = ", ".join(meta.get("groups") or []) or "all dishes"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>", geo, f"<script>{plotly.offline.get_plotlyjs()}</script>", "</head><body>",
        f"<h1>{_esc(title)}</h1>", f'<p class="note">Region: {_esc(groups)}; {len(meta.get("variants", []))} variants; '
        f"tables and each variant's results folder in <code>{_esc(study.resolve())}</code>.</p>", body,
        "</body></html>"])


def write_study_report(study_dir: str | Path) -> Path:
    """Write ``STUDY/report.html`` atomically and return its path."""
    out = Path(study_dir) / REPORT_FILE
    text = build_study_html(study_dir)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as err:
        raise InputError(f"cannot write the report: {err.strerror or err}", source=str(out)) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
