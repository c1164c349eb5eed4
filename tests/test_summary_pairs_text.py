"""The station-pair table of `leonet run`/`leonet summary`: a pair never connected reads "-", not
"nan", and, being the worst, is among the pairs shown when only 15 of many are."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pandas as pd
from rich.console import Console

from leonet.cli_summary import _print_pairs


def _table(n: int, unreachable: int) -> str:
    rows = [{"src": f"A{i}", "dst": f"B{i}", "availability": 1.0, "rtt_p5_ms": 10.0 + i, "rtt_p50_ms": 20.0 + i,
             "rtt_p95_ms": 30.0 + i, "hops_p50": 3.0, "path_changes": 0} for i in range(n)]
    for row in rows[:unreachable]:
        row.update(availability=0.0, rtt_p5_ms=np.nan, rtt_p50_ms=np.nan, rtt_p95_ms=np.nan, hops_p50=np.nan)
    out = io.StringIO()
    _print_pairs(Console(file=out, width=200), SimpleNamespace(per_pair=pd.DataFrame(rows)))
    return out.getvalue()


def test_a_pair_never_connected_reads_a_dash():
    text = _table(3, 1)
    assert "nan" not in text
    line = next(x for x in text.splitlines() if "A0" in x)
    cells = [c.strip() for c in line.strip("│ ").split("│")]
    assert cells[-5:] == ["-", "-", "-", "-", "0"]


def test_pairs_never_connected_come_first_among_many():
    text = _table(40, 2)
    assert "A0 " in text and "A1 " in text and "never connected first" in " ".join(text.split())
