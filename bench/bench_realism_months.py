"""The realism check on every monthly file of Starlink's published per-country figures (Sep 2023 -
Jan 2024, ``../shared/data/measured/starlink_published_metrics/``): how many countries are within
tolerance each month, and over the months the processing term is not fitted on (a hold-out).
Writes the table into bench/RESULTS.md (block ``realism-months``).

    PYTHONPATH=src python bench/bench_realism_months.py [--folder DIR]

About 40-65 s per file with the default 2 workers on 2 cores (each country samples 96 instants over 24 days).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from leonet.realism.calibrated import PROCESSING_FIT
from leonet.realism.check import run_realism
from leonet.realism.metrics import read_published_metrics
from leonet.realism.persistence import persistence

HERE = Path(__file__).resolve().parent
FOLDER = HERE.parents[1] / "shared" / "data" / "measured" / "starlink_published_metrics"
MARK_BEGIN, MARK_END = "<!-- realism-months:begin -->", "<!-- realism-months:end -->"
#: Upload p50 counted as the download is (within 20 %); reported beside the goal, not part of it.
UPLOAD_TOLERANCE = 0.2


def counts(rows) -> dict[str, int]:
    """Countries within tolerance: latency p50, download p50, both, and how many ran; and upload p50
    within 20 % (not one of the check's goals: the uplink's G/T is fitted on the Sep 2023 file)."""
    by: dict[str, dict[str, bool]] = {}
    for r in rows:
        if r["metric"] in ("latency_p50", "download_p50"):
            by.setdefault(r["country"], {})[r["metric"]] = bool(r.get("within_tolerance"))
        elif r["metric"] == "upload_p50" and r.get("leonet") is not None:
            by.setdefault(r["country"], {})[r["metric"]] = abs(r["leonet"] / r["published"] - 1) <= UPLOAD_TOLERANCE
    return {"countries": len(by), "latency": sum(v.get("latency_p50", False) for v in by.values()),
            "download": sum(v.get("download_p50", False) for v in by.values()),
            "both": sum(v.get("latency_p50", False) and v.get("download_p50", False) for v in by.values()),
            "upload": sum(v.get("upload_p50", False) for v in by.values())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", default=str(FOLDER), help="folder of residential_countries_<date>.json files")
    ap.add_argument("--workers", type=int, default=2, help="countries run at once (default 2: the CI machine's cores)")
    args = ap.parse_args()
    files = sorted(Path(args.folder).glob("residential_countries_*.json"))
    if not files:
        raise SystemExit(f"no residential_countries_*.json in {args.folder}")
    lines = [MARK_BEGIN, "| Starlink file | countries | latency within 5 ms | download within 20 % | both | upload within 20 % "
                         "| yardstick: both, Starlink's month before / leonet, on the countries both files hold | run s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    total = {"countries": 0, "latency": 0, "download": 0, "both": 0, "upload": 0}
    held = dict(total)
    yard = [0, 0, 0]   # Starlink's month before, leonet, countries
    before = None
    for f in files:
        t0 = time.perf_counter()
        metrics = read_published_metrics(f)
        rows = run_realism(metrics, references=False, workers=args.workers).rows
        c = counts(rows)
        fitted = f.name == PROCESSING_FIT["metrics_file"]
        yardstick = "-"
        if before is not None:
            p = persistence(metrics, before)
            ok = {(r["country"], r["metric"]) for r in rows if r.get("within_tolerance")}
            ours = sum((k, "latency_p50") in ok and (k, "download_p50") in ok for k in p.countries)
            yardstick = f"{len(p.both_within)} / {ours} of {len(p.countries)}"
            yard = [yard[0] + len(p.both_within), yard[1] + ours, yard[2] + len(p.countries)]
        before = metrics
        print(f"{f.name}: {c} yardstick {yardstick} ({time.perf_counter() - t0:.0f} s)", flush=True)
        lines.append(f"| {f.name}{' (the fit' + chr(39) + 's month)' if fitted else ''} | {c['countries']} | "
                     f"{c['latency']} | {c['download']} | {c['both']} | {c['upload']} | {yardstick} | "
                     f"{time.perf_counter() - t0:.0f} |")
        for k in total:
            total[k] += c[k]
            if not fitted:
                held[k] += c[k]
    lines.append(f"| all files | {total['countries']} | {total['latency']} | {total['download']} | {total['both']} | {total['upload']} "
                 f"| {yard[0]} / {yard[1]} of {yard[2]} | |")
    lines.append(f"| the months the processing term (and the uplink G/T) is not fitted on | {held['countries']} | {held['latency']} | "
                 f"{held['download']} | {held['both']} | {held['upload']} | | |")
    lines.append(MARK_END)
    results = HERE / "RESULTS.md"
    text = results.read_text()
    block = "\n".join(lines)
    if MARK_BEGIN in text:
        text = re.sub(re.escape(MARK_BEGIN) + ".*?" + re.escape(MARK_END), lambda _: block, text, flags=re.S)
    else:
        anchor = "**All five monthly files**"
        text = text.replace(anchor, "The five files as `bench/bench_realism_months.py` last wrote them:\n\n" + block
                            + "\n\n" + anchor, 1) if anchor in text else text + "\n" + block + "\n"
    results.write_text(text)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
