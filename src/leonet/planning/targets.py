"""Service targets: ``"unmet_demand<=0.01,availability>=0.99"`` -> checked conditions.

A target is a comma-separated list of ``metric OP value`` with OP one of ``>=``, ``<=``, ``>``,
``<``; metrics are those of :data:`leonet.planning.metrics.METRICS`. Unknown metrics, bad
operators and non-numbers are errors that quote the offending part and suggest a metric name. A
percentage (``99%``) is for shares only (availability, unmet_demand); a bound no value can meet
(negative, ``<0``, a share ``>1``) is refused.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from dataclasses import dataclass

from ..errors import InputError
from .metrics import METRICS

_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
_PART = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+0-9.eE%]+)\s*$")
_MAX_PARTS = 20


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    value: float

    def met(self, metrics: dict[str, float]) -> bool:
        """True when the metric satisfies the condition (a NaN metric never does)."""
        got = metrics.get(self.metric, float("nan"))
        return bool(not math.isnan(got) and _OPS[self.op](got, self.value))

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


def parse_target(text: str, where: str = "--target") -> tuple[Condition, ...]:
    """Parse a target string (see the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("a target needs at least one condition, e.g. unmet_demand<=0.01", location=where)
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) > _MAX_PARTS:
        raise InputError(f"at most {_MAX_PARTS} conditions, got {len(parts)}", location=where)
    out = []
    for part in parts:
        shown = part.strip()[:60]
        m = _PART.match(part)
        if not m:
            raise InputError(f"cannot read {shown!r}: write metric>=value (operators >=, <=, >, <)", location=where)
        name, op, raw = m.groups()
        if name not in METRICS:
            hint = difflib.get_close_matches(name, list(METRICS), n=2)
            did = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
            raise InputError(f"unknown metric {name!r}{did} (metrics: {', '.join(METRICS)})", location=where)
        share = METRICS[name].unit == "share"
        pct = raw.endswith("%")
        if pct and not share:  # 25% of what? Only a share reads as a percentage
            raise InputError(f"{shown!r}: {name} is in {METRICS[name].unit}, not a share; a percentage (%) "
                             f"fits only the shares ({', '.join(m for m, d in METRICS.items() if d.unit == 'share')})",
                             location=where)
        try:
            value = float(raw[:-1] if pct else raw) / (100.0 if pct else 1.0)
        except ValueError:
            raise InputError(f"{raw[:30]!r} in {shown!r} is not a number", location=where) from None
        if not math.isfinite(value):
            raise InputError(f"{raw[:30]!r} in {shown!r} is not a finite number", location=where)
        if share and not 0 <= value <= 1:
            raise InputError(f"{name} is a share between 0 and 1 (or a percentage such as 99%), got {raw[:30]}", location=where)
        if value < 0:  # every metric is >= 0 (Mbps, ms): such a bound is never met, or always
            raise InputError(f"{shown!r}: {name} is never negative ({METRICS[name].unit}); give a bound >= 0",
                             location=where)
        top = 1.0 if share else math.inf
        if (op == "<" and value == 0) or (op == ">" and value == top):
            raise InputError(f"{shown!r} can never be met ({name} lies in 0..{top:g})", location=where)
        out.append(Condition(name, op, value))
    return tuple(out)


def all_met(conditions: tuple[Condition, ...], metrics: dict[str, float]) -> bool:
    return all(c.met(metrics) for c in conditions)


def check_capacity(metrics, scenario, where: str) -> None:
    """Refuse, before anything runs, throughput metrics (``needs_capacity``) of a scenario whose
    capacity model is off: they would be NaN in every variant, and a NaN never meets a target."""
    if scenario.capacity.enabled:
        return
    need = [m for m in dict.fromkeys(metrics) if METRICS[m].needs_capacity]
    if need:
        raise InputError(f"{', '.join(need)} {'needs' if len(need) == 1 else 'need'} the capacity model, "
                         "which the scenario has off "
                         "(capacity.enabled: false; turn it on, e.g. --set capacity.enabled=true, or use "
                         f"{', '.join(m for m, d in METRICS.items() if not d.needs_capacity)})", location=where)
