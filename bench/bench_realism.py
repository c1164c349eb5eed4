"""The full realism check: every country of Starlink's 2024-01-06 figures (40) through leonet,
with the Ookla US and 1 Hz dish reference rows; writes the table into bench/RESULTS.md (section
"Realism") and realism.csv / realism.parquet into bench/realism/.

    PYTHONPATH=src python bench/bench_realism.py [--fast] [--workers N]

Timings are wall-clock on a shared machine (approximate); the CPU model is read from lscpu.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time
from pathlib import Path

from leonet.realism.check import run_realism, write_table
from leonet.realism.metrics import read_published_metrics

HERE = Path(__file__).resolve().parent
MARK_BEGIN, MARK_END = "<!-- realism:begin -->", "<!-- realism:end -->"


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        return re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except Exception:  # noqa: BLE001 - informational only
        return "unknown CPU"


def _fmt(v, unit=""):
    return "-" if v is None or v != v else f"{v:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--workers", type=int, default=2, help="countries run at once (default 2: the CI machine's cores)")
    args = ap.parse_args()
    metrics = read_published_metrics()
    t0 = time.perf_counter()
    result = run_realism(metrics, mode="fast" if args.fast else "full", workers=args.workers,
                         progress=lambda k, n, c: print(f"{k}/{n} {c} {time.perf_counter() - t0:.0f} s", flush=True))
    total = time.perf_counter() - t0
    write_table(result, HERE / "realism")
    by = {(r["country"], r["metric"]): r for r in result.rows}
    countries = list(metrics.countries)
    lines = [MARK_BEGIN, "## Realism: leonet vs Starlink's published per-country figures", "",
             f"`bench/bench_realism.py{' --fast' if args.fast else ''}`: {len(countries)} countries of "
             f"`{Path(metrics.source).name}` plus reference rows, {total:.0f} s in all on {_cpu()} "
             "(shared machine, approximate). leonet latency is the dish's 1 Hz RTT to its home PoP; speeds "
             "are its speed-test probes (service model). Quality percentiles (p20 = the worse value). Full table (all nine "
             "figures per country): `bench/realism/realism.csv`; each country by home PoP (where its subscribers land, "
             "what they get): `bench/realism/realism_by_home_pop.csv`.", "",
             "| country | latency p50 published / leonet (ms) | ok | download p50 published / leonet (Mbps) | ok "
             "| upload p50 published / leonet (Mbps) | connected | home PoP (share reached) | run s |",
             "|---|---|---|---|---|---|---|---|---|"]
    ok = {True: "yes", False: "no", None: "-"}
    for c in countries:
        la, do, up = by[(c, "latency_p50")], by[(c, "download_p50")], by[(c, "upload_p50")]
        lines.append(
            f"| {c} | {la['published']:.1f} / {_fmt(la.get('leonet'))} | {ok[la.get('within_tolerance')]} "
            f"| {do['published']:.0f} / {_fmt(do.get('leonet'))} | {ok[do.get('within_tolerance')]} "
            f"| {up['published']:.1f} / {_fmt(up.get('leonet'))} | {_fmt(la.get('connected_share'))} "
            f"| {la.get('home_pop') or '-'} ({_fmt(la.get('at_home_pop_share'))}) | {_fmt(la.get('run_s'))} |")
    lines += ["", "| reference | figure | published | leonet | source |", "|---|---|---|---|---|"]
    for r in result.rows:
        if "reference" in r["country"]:
            lines.append(f"| {r['country']} | {r['metric']} ({r['unit']}) | {r['published']:.3g} "
                         f"| {_fmt(r.get('leonet'))} | {r['source']} |")
    lines += [""] + [f"- {s}" for s in result.summary] + [MARK_END]
    block = "\n".join(lines)
    path = HERE / "RESULTS.md"
    text = path.read_text(encoding="utf-8")
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    print(block)


if __name__ == "__main__":
    main()
