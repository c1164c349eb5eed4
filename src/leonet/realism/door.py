"""The realism check's door: what it refuses before (or instead of) running a country.

It validates the countries asked for (against the metrics file), the folder the table is to be
written into, and a scenario the check would run (the service model on, its own sample dishes).
Each refusal is an :class:`~leonet.errors.InputError` that names the file, field or option at fault.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, did_you_mean
from .metrics import PublishedMetrics

#: The files :func:`leonet.realism.check.write_table` writes into its folder.
TABLE_FILES = ("realism.csv", "realism.parquet", "realism_summary.txt", "realism_by_home_pop.csv")


def needs_service(scenario, source: str | None = None) -> None:
    """Refuse a scenario without the service model: the check reads its columns of dish_steps
    (the speed tests, the RTT to the home PoP, the home PoP itself)."""
    if not scenario.service.enabled:
        raise InputError("the realism check compares the service model's figures (speed tests, the RTT to the home "
                         "PoP, the home PoP): it must stay on", source, "service.enabled")


def needs_dishes(kinds, wanted: int, scenario_dict: dict, source: str | None = None) -> None:
    """Refuse a scenario whose dish sites (``kinds``: every site's kind) are not the check's own
    ``wanted`` sample dishes: the figures weight each sample dish by the subscribers it stands for."""
    have = int((np.asarray(kinds, dtype=object) == "dish").sum())
    if have == wanted:
        return
    listed = sum(1 for s in (scenario_dict.get("ground") or {}).get("sites") or []
                 if isinstance(s, dict) and s.get("kind") == "dish")
    raise InputError(f"the realism check's figures are of its own sample dishes ({wanted} here: one per city and home "
                     f"PoP, each weighted by the subscribers it stands for), but the scenario has {have} dish site(s): "
                     "an override may change the sample dishes' fields, not remove or add dishes", source,
                     "ground.sites" if listed != wanted else "ground")


def chosen_countries(metrics: PublishedMetrics, countries: list[str] | None = None) -> list[str]:
    """The countries a check runs: ``countries`` (ISO alpha-3 codes, any case; blank entries are
    skipped) or, when None, every country of the metrics file. Refuses none, one twice, or one
    the file lacks."""
    if countries is None:
        return list(metrics.countries)
    chosen = [c.strip().upper() for c in countries if c.strip()]
    if not chosen:
        raise InputError("names no country (give ISO alpha-3 codes, e.g. UKR,DEU, or leave it out for all)",
                         location="countries")
    twice = sorted({c for c in chosen if chosen.count(c) > 1})
    if twice:
        raise InputError(f"country code(s) {twice} given twice", location="countries")
    unknown = [c for c in chosen if c not in metrics.countries]
    if unknown:
        hint = did_you_mean(unknown[0], list(metrics.countries)) if len(unknown) == 1 else ""
        raise InputError(f"country code(s) {unknown} are not in the metrics file{hint}; it has "
                         f"{', '.join(sorted(metrics.countries))}", metrics.source, "countries")
    return chosen


def check_out_dir(out_dir, option: str = "--out") -> Path:
    """Refuse a folder the table cannot be written into, before anything runs: a file, a path
    through a file, a folder (or the nearest existing one above it) that is not writable, or a
    folder where one of :data:`TABLE_FILES` is not a file. Creates nothing."""
    import os

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file, not a folder (the realism table is written into a folder)", location=option)
    if out.is_symlink() and not out.exists():
        raise InputError(f"{out} is a link to nothing", location=option)
    above = out
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir():
        raise InputError(f"cannot make the folder {out}: {above} is a file", location=option)
    if not os.access(above, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {out}: {above} is not writable", location=option)
    for name in TABLE_FILES:
        if (out / name).exists() and not (out / name).is_file():
            raise InputError(f"{out / name} is in the way (not a file)", location=option)
    return out
