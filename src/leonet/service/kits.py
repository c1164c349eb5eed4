"""The user terminal as a link: dish kits as validated data and their per-dish rate caps.

The kits live in ``leonet/data/terminal_kits.csv`` (approximate figures; sources in
``leonet/data/SOURCE.md``). Every dish carries a kit; its maximum down/up rate is the capacity of
a link that only that dish's traffic crosses, so no dish is ever allocated more than its
hardware delivers.

How the terminal enters the max-min allocation (:func:`leonet.capacity.maxmin.max_min_fair`):
each dish site is one flow whose demand per dish is capped at its kit's cap and which is weighted
by the dishes it stands for (``sim/stages/allocation.service_allocate``). A link crossed by one
flow only limits that flow to its capacity, exactly as a demand does, so the cap is the terminal
link without the link (``tests/test_service_kits.py`` checks the two against each other).
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import InputError

#: The kit a dish has when a scenario names none.
DEFAULT_KIT = "standard"
#: Spectral efficiency at which a kit reaches its published cap: the top of the DVB-S2X ladder
#: (256APSK 3/4, ETSI EN 302 307-2), bit/s/Hz (:func:`modcod_cap_bps`; an assumption).
DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ = 5.900855

_NUMBERS = ("max_down_mbps", "max_up_mbps", "aperture_m2", "g_over_t_db_per_k", "eirp_dbw",
            "field_of_view_deg", "min_elevation_deg", "power_min_w", "power_max_w")


@dataclass(frozen=True)
class Kit:
    """One dish kit (approximate figures; see ``leonet/data/SOURCE.md``).

    Attributes
    ----------
    name : the kit's name in scenarios (``standard``, ``mini``, ...).
    description : one line for people.
    max_down_mbps, max_up_mbps : the most the terminal carries down / up, Mbps.
    aperture_m2 : face area of the phased array, m^2.
    g_over_t_db_per_k : receive figure of merit, dB/K.
    eirp_dbw : transmit EIRP, dBW.
    field_of_view_deg : full cone of the field of view about the array's boresight, deg. For
        reference only: the dishes tilt (actuated, or set up facing north), so the sky a dish
        serves is set by ``min_elevation_deg``, which the visibility rule uses.
    min_elevation_deg : lowest elevation it serves a satellite at, deg.
    power_min_w, power_max_w : average power draw range, W.
    """

    name: str
    description: str
    max_down_mbps: float
    max_up_mbps: float
    aperture_m2: float
    g_over_t_db_per_k: float
    eirp_dbw: float
    field_of_view_deg: float
    min_elevation_deg: float
    power_min_w: float
    power_max_w: float

    @property
    def max_down_bps(self) -> float:
        return self.max_down_mbps * 1e6

    @property
    def max_up_bps(self) -> float:
        return self.max_up_mbps * 1e6


def _kits_text() -> tuple[str, str]:
    from importlib.resources import files

    resource = files("leonet").joinpath("data", "terminal_kits.csv")
    return resource.read_text(encoding="utf-8"), "leonet/data/terminal_kits.csv"


def parse_kits(text: str, source: str) -> dict[str, Kit]:
    """Kits from CSV text; every problem is an :class:`InputError` naming ``source`` and the line
    and column."""
    rows = list(csv.DictReader(io.StringIO(text)))
    wanted = ["kit"] + [f.name for f in fields(Kit)][1:]
    header = list(rows[0].keys()) if rows else []
    missing = [c for c in wanted if c not in header]
    if missing:
        raise InputError(f"missing column(s) {missing}; expected {','.join(wanted)}", source, "line 1")
    extra = [c for c in header if c not in wanted]
    if extra:
        raise InputError(f"unknown column(s) {extra}; expected {','.join(wanted)}", source, "line 1")
    kits: dict[str, Kit] = {}
    for line, row in enumerate(rows, start=2):
        where = f"line {line}"
        name = (row["kit"] or "").strip()
        if not name.isidentifier() or name != name.lower():
            raise InputError(f"kit must be a lower-case name like 'standard', got {name!r}", source, f"{where}, kit")
        if name in kits:
            raise InputError(f"kit {name!r} appears twice", source, f"{where}, kit")
        values = {}
        for column in _NUMBERS:
            raw = (row[column] or "").strip()
            try:
                value = float(raw)
            except ValueError:
                raise InputError(f"must be a number, got {raw!r}", source, f"{where}, {column}") from None
            if not math.isfinite(value):
                raise InputError(f"must be finite, got {raw!r}", source, f"{where}, {column}")
            values[column] = value
        for column in ("max_down_mbps", "max_up_mbps", "aperture_m2", "field_of_view_deg", "power_min_w"):
            if values[column] <= 0:
                raise InputError(f"must be > 0, got {values[column]:g}", source, f"{where}, {column}")
        if values["max_down_mbps"] > 1000 or values["max_up_mbps"] > 1000:
            raise InputError("a dish's rate above 1000 Mbps is beyond its 1 GbE port", source, f"{where}, max_down_mbps")
        if not values["field_of_view_deg"] <= 180:
            raise InputError("must be <= 180 deg (a full cone)", source, f"{where}, field_of_view_deg")
        if not 0 <= values["min_elevation_deg"] < 90:
            raise InputError("must be in [0, 90) deg", source, f"{where}, min_elevation_deg")
        if values["power_max_w"] < values["power_min_w"]:
            raise InputError("must be >= power_min_w", source, f"{where}, power_max_w")
        kits[name] = Kit(name=name, description=(row["description"] or "").strip(), **values)
    if not kits:
        raise InputError("no kits", source)
    return kits


@lru_cache(maxsize=8)
def load_kits(path: str | None = None) -> dict[str, Kit]:
    """The kits by name: the shipped table, or the CSV at ``path`` (same columns)."""
    if path is None:
        text, source = _kits_text()
    else:
        from ..textfiles import read_text

        text, source = read_text(Path(path), "columns kit,description," + ",".join(_NUMBERS)), str(path)
    return parse_kits(text, source)


def get_kit(name: str, kits: dict[str, Kit] | None = None, *, source: str | None = None,
            location: str = "kit") -> Kit:
    """The kit called ``name``; an unknown name is an :class:`InputError` at ``location``
    (a field path such as ``service.kit``) listing the known kits and the closest match."""
    kits = load_kits() if kits is None else kits
    try:
        return kits[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), list(kits), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InputError(f"unknown kit {name!r}{hint} (known: {', '.join(kits)})", source, location) from None


def kit_caps_bps(kit_names, kits: dict[str, Kit] | None = None, *, source: str | None = None,
                 location: str = "kit") -> tuple[np.ndarray, np.ndarray]:
    """Per-dish terminal capacities from kit names.

    Parameters
    ----------
    kit_names : str or array-like of str, shape (D,); one name broadcasts to every dish.

    Returns
    -------
    down_bps, up_bps : float64 arrays (D,) (0-d for a single name), the terminal link capacity
        of each dish, bps.
    """
    names = np.asarray(kit_names, dtype=object)
    unique, inverse = np.unique(names.astype(str), return_inverse=True)
    chosen = [get_kit(str(n), kits, source=source, location=location) for n in unique]
    down = np.array([k.max_down_bps for k in chosen])[inverse].reshape(names.shape)
    up = np.array([k.max_up_bps for k in chosen])[inverse].reshape(names.shape)
    return down, up


def modcod_cap_bps(cap_bps, efficiency_bps_per_hz, cap_efficiency_bps_per_hz: float | None) -> np.ndarray:
    """A terminal's cap at the link's MODCOD: ``cap x min(1, eta / eta_cap)``, bps (shapes broadcast).

    A kit's published maximum rate is what its modem carries at the best MODCOD the link supports
    (``cap_efficiency_bps_per_hz``, the top of the DVB-S2X ladder by default:
    :data:`DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ`). The modem moves a fixed number of symbols per
    second, so at a lower MODCOD (a longer slant range, rain, a scan angle far off boresight) the
    same symbols carry fewer bits: the cap falls with the link's spectral efficiency ``eta``.
    **Assumption** (not a published Starlink figure): Michel et al. (IMC 2022) saw > 300 Mbps only
    at best; the published per-country medians of lightly loaded countries sit near 0.8 of the
    standard dish's 300 Mbps, about the ratio of a typical link's efficiency (~4.6 bit/s/Hz at
    18.6 dB) to the top one (5.9).

    Where ``eta`` is not a positive number (no link), the nominal cap stays (nothing is carried
    there anyway). ``cap_efficiency_bps_per_hz`` None: a flat cap, the nominal one everywhere.
    """
    cap = np.asarray(cap_bps, dtype=float)
    if cap_efficiency_bps_per_hz is None:
        return np.broadcast_to(cap, np.broadcast(cap, np.asarray(efficiency_bps_per_hz)).shape).copy()
    eta = np.asarray(efficiency_bps_per_hz, dtype=float)
    with np.errstate(invalid="ignore"):
        share = np.where(np.isfinite(eta) & (eta > 0), np.minimum(eta / float(cap_efficiency_bps_per_hz), 1.0), 1.0)
    return cap * share

