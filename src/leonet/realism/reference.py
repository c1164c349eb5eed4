"""Fixed reference figures beside Starlink's per-country ones: Ookla's US medians and one dish's
own 1 Hz history.

- Ookla, Q1 2025, Starlink in the US: median download ~105 Mbps, upload ~15 Mbps, latency
  40-45 ms to a speed-test server (REFERENCE.md; a server, not the PoP: a few ms more).
- ``leonet/data/measured/dish/dish_history_1hz_2024-06.json``: a US residential dish's own 900 s
  history at 1 Hz, June 2024 (NUWiNS/starlink-measurement, commit e9a714e; see that folder's
  SOURCE.md): ``popPingLatencyMs`` (to the PoP), ``popPingDropRate``. Its statistics are
  computed here, not typed in.
"""

from __future__ import annotations

from datetime import date

import json

import numpy as np

from ..errors import InputError
from .quality import quality_percentile

#: Ookla Speedtest Intelligence, Starlink US, Q1 2025 (REFERENCE.md): metric -> (value, note).
OOKLA_US_Q1_2025 = {
    "download_p50": (105.0, "Ookla US median, Q1 2025"),
    "upload_p50": (15.0, "Ookla US median, Q1 2025"),
    "latency_p50": (42.5, "Ookla US median 40-45 ms to a server, Q1 2025"),
}
#: The middle of Ookla's quarter, for date-dependent parameters.
OOKLA_DATE = date(2025, 2, 15)
DISH_HISTORY_FILE = "dish_history_1hz_2024-06.json"
#: Where the measured dish may have been (its owners are at Northwestern University, Evanston,
#: IL; the file does not say): leonet's comparable dish stands there.
DISH_HISTORY_PLACE = ("Evanston, IL (assumed)", 42.0451, -87.6877)
#: The month of the history (June 2024), for date-dependent parameters.
DISH_HISTORY_DATE = date(2024, 6, 15)
SLOT_S = 15


def _history_file() -> tuple[dict, str]:
    """The shipped dish-history JSON (parsed) and its label for errors."""
    from importlib.resources import files

    label = f"leonet/data/measured/dish/{DISH_HISTORY_FILE}"
    return json.loads(files("leonet").joinpath("data", "measured", "dish", DISH_HISTORY_FILE).read_text("utf-8")), label


def dish_history() -> tuple[np.ndarray, np.ndarray, str]:
    """(latency_ms (900,), drop_rate (900,), source) of the shipped 1 Hz history, oldest first.

    The API returns ring buffers; ``current`` counts samples written, so the oldest sample sits
    at ``current % 900``.
    """
    data, label = _history_file()
    try:
        h = data["dishGetHistory"]
        latency = np.asarray(h["popPingLatencyMs"], dtype=float)
        drop = np.asarray(h["popPingDropRate"], dtype=float)
        current = int(h["current"])
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"not a dishGetHistory file: {e}", label, "dishGetHistory") from None
    if latency.shape != drop.shape:
        raise InputError("popPingLatencyMs and popPingDropRate differ in length", label, "dishGetHistory")
    shift = current % latency.size
    return np.roll(latency, -shift), np.roll(drop, -shift), label


def _latency_steps(latency_ms: np.ndarray, drop_rate: np.ndarray):
    """(latency (S,) with fully lost seconds NaN, |change| (S-1,), the 15 s phase of each change,
    the reconfiguration phase: where changes are largest on average; the file carries no
    timestamps, so it is found from the data)."""
    lat = np.where(np.asarray(drop_rate) >= 1.0, np.nan, np.asarray(latency_ms, dtype=float))
    step = np.abs(np.diff(lat))
    phase = np.arange(1, lat.size) % SLOT_S
    means = np.array([np.nanmean(step[phase == p]) if np.isfinite(step[phase == p]).any() else -1.0
                      for p in range(SLOT_S)])
    return lat, step, phase, int(np.argmax(means))


def series_stats(latency_ms: np.ndarray, drop_rate: np.ndarray) -> dict[str, float]:
    """Statistics of a 1 Hz series (seconds in order).

    latency p20/p50/p80 (quality convention; seconds with full loss or no latency left out);
    ``slot_step_ms``: median |change| of latency at the 15 s phase where changes are largest
    (the reconfiguration boundary, found from the data since the file carries no timestamps);
    ``jitter_within_slot_ms``: median |change| at the other 14 phases; ``drop_rate_mean`` and
    ``seconds_with_drops`` (share of seconds with drop rate > 0); ``seconds_lost`` (share of
    seconds with every ping lost: outages) and ``drop_rate_mean_outside_outages`` (the mean drop
    rate of the other seconds: the loss a dish sees while it has service).
    """
    lat, step, phase, boundary = _latency_steps(latency_ms, drop_rate)
    out = {f"latency_p{q}": quality_percentile(lat, 1.0, q, higher_is_better=False) for q in (20, 50, 80)}
    out["slot_step_ms"] = float(np.nanmedian(step[phase == boundary]))
    out["jitter_within_slot_ms"] = float(np.nanmedian(step[phase != boundary]))
    out["drop_rate_mean"] = float(np.mean(drop_rate))
    out["seconds_with_drops"] = float(np.mean(drop_rate > 0))
    drop = np.asarray(drop_rate, dtype=float)
    lost = drop >= 1.0
    out["seconds_lost"] = float(np.mean(lost))
    out["drop_rate_mean_outside_outages"] = float(np.mean(drop[~lost])) if (~lost).any() else float("nan")
    return out


def outage_record() -> dict[str, tuple[int, float]]:
    """The shipped dish's own outage record (``dishGetHistory.outages``, since it booted): cause ->
    (events, seconds). It tells what kind of installation the history comes from (the measured
    dish was often ``OBSTRUCTED``), which a clear-sky comparison must say."""
    data, label = _history_file()
    out: dict[str, tuple[int, float]] = {}
    try:
        for o in data["dishGetHistory"].get("outages", []):
            n, secs = out.get(str(o["cause"]), (0, 0.0))
            out[str(o["cause"])] = (n + 1, secs + int(o["durationNs"]) / 1e9)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"an outage without cause or duration: {e}", label, "dishGetHistory.outages") from None
    return out


def reconfiguration_loss(latency_ms: np.ndarray, drop_rate: np.ndarray, pings_per_s: int = 15,
                         seconds: int = 2) -> dict[str, float]:
    """The loss around each 15 s reconfiguration in a 1 Hz history (seconds in order).

    The reconfiguration is the phase where latency steps most (as in :func:`series_stats`); the
    disturbed seconds are the ``seconds`` ending with that step's second (the step's and the one
    before it by default). Seconds with full loss (an obstruction or an outage) are left out.
    Returns ``pings_lost`` (excess pings lost per reconfiguration: the disturbed phases' mean drop
    rates above the other phases' median, summed, x ``pings_per_s``), ``seconds_with_drops_share``
    (share of disturbed seconds with any drop) and ``other_drop_rate`` (that median: the loss
    outside reconfigurations).
    """
    drop = np.asarray(drop_rate, dtype=float)
    boundary = _latency_steps(latency_ms, drop)[3]
    phase = np.arange(drop.size) % SLOT_S
    kept = drop < 1.0
    near = [(boundary - k) % SLOT_S for k in range(seconds)]
    per_phase = np.array([drop[kept & (phase == p)].mean() for p in range(SLOT_S)])
    other = float(np.median(np.delete(per_phase, near)))
    excess = float(np.sum(per_phase[near] - other))
    disturbed = np.isin(phase, near)
    return {"pings_lost": excess * pings_per_s,
            "seconds_with_drops_share": float(np.mean(drop[kept & disturbed] > 0)),
            "other_drop_rate": other}
