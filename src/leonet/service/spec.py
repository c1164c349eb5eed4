"""Proposed scenario schema for the service model: a ``service:`` section (issue 11).

Not wired into :mod:`leonet.scenario` yet; the integrator adds ``service: ServiceSpec =
ServiceSpec()`` to ``Scenario``. Every model forbids unknown fields and is frozen, like the
scenario's own. Each spec turns into the parameter objects of the service modules with
``to_params()``, so defaults live in one place (the modules) and the schema only overrides.

Example::

    service:
      enabled: true
      kit: standard                 # or per dish group: ground.dishes[i].kit (integrator's choice)
      traffic: {busy_hour_on_share: 0.5, period_s: 60}
      speed_test: {enabled: true}
      latency: {jitter: true, reconfiguration: true, outages: true, target: pop}
      background: {enabled: true, as_of: 2024-01-15, cell_deg: 1.0}
      admission: {enabled: true, target_utilisation: 0.8}
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .kits import DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ, DEFAULT_KIT, get_kit
from .latency import DEFAULT_LATENCY, LatencyParams
from .transfer import DEFAULT_UPLOAD_WINDOW_BYTES, DEFAULT_WINDOW_BYTES
from .traffic import DEFAULT_TRAFFIC, TrafficParams


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrafficSpec(_Model):
    """On/off traffic (:mod:`leonet.service.traffic`); None keeps the module's default."""

    period_s: float | None = Field(None, gt=0, le=3600, description="Length of an on/off period, s.")
    busy_hour_on_share: float | None = Field(None, ge=0, le=1, description="Probability a dish is on at the busy hour.")
    shares: dict[str, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] | None = Field(
        None, description="Share of on-time per use (browsing, video, video_call, bulk), each 0..1; must sum to 1.")

    def to_params(self) -> TrafficParams:
        changes = {k: v for k, v in (("period_s", self.period_s), ("busy_hour_on_share", self.busy_hour_on_share))
                   if v is not None}
        if self.shares is not None:
            known = {u.name: u for u in DEFAULT_TRAFFIC.uses}
            unknown = sorted(set(self.shares) - set(known))
            if unknown:
                raise ValueError(f"unknown use(s) {unknown}; known: {sorted(known)}")
            changes["uses"] = tuple(dataclasses.replace(u, share=float(self.shares.get(u.name, 0.0)))
                                    for u in DEFAULT_TRAFFIC.uses)
        return dataclasses.replace(DEFAULT_TRAFFIC, **changes)

    @model_validator(mode="after")
    def _valid(self):
        self.to_params()          # the dataclass checks shares summing to 1, ranges
        return self


class SpeedTestSpec(_Model):
    """Speed tests: each connected dish probes at its kit cap against the flows active then, as
    a TCP transfer whose window limits it over a long round trip (:mod:`leonet.service.transfer`)."""

    enabled: bool = True
    tcp_window_bytes: int | None = Field(DEFAULT_WINDOW_BYTES, ge=1024, le=2**31, description=(
        "Receive window of the test's transfer, bytes (default 2 MiB: Android's Wi-Fi receive buffer max "
        "4 MiB, half advertised; the Starlink app's test runs on a phone); null: no window limit (the test measures the link's share alone)."))
    upload_window_bytes: int | None = Field(DEFAULT_UPLOAD_WINDOW_BYTES, ge=1024, le=2**31, description=(
        "Data the test's upload may have in flight, bytes (default 512 KiB: Android's Wi-Fi send buffer max 1 MiB, "
        "half of it data; service.transfer); null: no limit."))
    connections: int = Field(1, ge=1, le=64, description="Parallel connections of the test, each with its own window.")


class LatencySpec(_Model):
    """Latency terms on/off (:class:`leonet.service.latency.LatencyParams`) and the target."""

    mac: bool = True
    processing: bool = True
    laser_hops: bool = True
    queueing: bool = True
    jitter: bool = True
    reconfiguration: bool = True
    outages: bool = True
    target: str = Field("pop", min_length=1, description=(
        "'pop' (the dish's own popPingLatencyMs), 'exchange' (the nearest internet exchange of "
        "terrestrial.exchanges) or a city name (a server there, by great-circle fibre)."))
    processing_ms: float | None = Field(None, ge=0, le=1000)
    isl_hop_ms: float | None = Field(None, ge=0, le=100, description=(
        "Extra round-trip delay per laser hop of the path, ms (default 0: Starlink's per-country latency "
        "fits best without one; bench/RESULTS.md, Realism)."))
    jitter_mean_ms: float | None = Field(None, ge=0, le=1000)
    saturated_queue_ms: float | None = Field(None, ge=0, le=10_000)
    outage_time_fraction: float | None = Field(None, ge=0, le=1)

    def to_params(self) -> LatencyParams:
        changes = dict(mac_on=self.mac, processing_on=self.processing, isl_hop_on=self.laser_hops,
                       queueing_on=self.queueing,
                       jitter_on=self.jitter, reconfiguration_on=self.reconfiguration,
                       outages_on=self.outages, target_on=self.target != "pop")
        for name in ("processing_ms", "isl_hop_ms", "jitter_mean_ms", "saturated_queue_ms", "outage_time_fraction"):
            if getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        return dataclasses.replace(DEFAULT_LATENCY, **changes)


class BackgroundSpec(_Model):
    """Subscribers outside the scenario (:mod:`leonet.service.background`)."""

    enabled: bool = False
    as_of: date | None = Field(None, description="Date of the subscriber total (default: the scenario's start).")
    subscribers: float | None = Field(None, ge=0, le=1e9, description="Global total; overrides the announced one.")
    countries: list[str] | None = Field(None, description="ISO alpha-2 codes where service is sold (default: all).")
    # the lower bound is background.MIN_CELL_DEG (not imported: it would load scipy with every scenario)
    cell_deg: float = Field(1.0, ge=0.1, le=10, description=(
        "Grid spacing of the subscriber density, deg; divides 180. At least 0.1 (11 km): a beam cell is 24 km, "
        "and the global grid grows as 1/cell_deg^2 (6.5 M cells at 0.1)."))
    beam_hopping: Literal["demand", "equal"] = Field("equal", description=(
        "How a satellite's beams share time among the cells it serves: 'demand' (as much as each cell needs; "
        "the satellite's capacity is the shared limit) or 'equal' (an equal slot per occupied cell, the "
        "background's cells included: beams / cells of a beam each)."))
    spread: Literal["population", "geoip-subnets"] = Field("population", description=(
        "How the total is shared among countries: by city population (every served country alike), or by "
        "each country's share of the subnets in Starlink's GeoIP feed (then by city population within it)."))

    @field_validator("cell_deg")
    @classmethod
    def _divides_180(cls, v):
        # the grid has whole rows and columns (background.subscriber_grid)
        if abs(180 / v - round(180 / v)) > 1e-9:
            raise ValueError("must divide 180 (0.1, 0.25, 0.5, 1, 2, ...)")
        return v

    @field_validator("countries")
    @classmethod
    def _codes(cls, v):
        if v is not None:
            bad = [c for c in v if not (len(c) == 2 and c.isalpha())]
            if bad:
                raise ValueError(f"ISO 3166 alpha-2 codes such as UA, PL, US expected, got {bad}")
            return [c.upper() for c in v]
        return v


#: Most subscribers a cell's admission limit may name (as many as the whole background's bound).
MAX_LIMIT_PER_CELL = 10**9


class AdmissionSpec(_Model):
    """Cell subscriber limits (:mod:`leonet.service.admission`); surplus dishes are SOLD_OUT."""

    enabled: bool = False
    limit_per_cell: int | None = Field(None, ge=0, le=MAX_LIMIT_PER_CELL, description=(
        "Subscribers a cell takes (default: from its beam capacity); at most 1e9 (the background's whole-world "
        "total, service.background.subscribers, is bounded alike)."))
    target_utilisation: float = Field(0.8, gt=0, le=1, description="Busy-hour beam load the default limit aims at.")
    order: Literal["earliest", "seeded"] = "earliest"
    dishes: bool = Field(True, description=(
        "Apply the limit to the scenario's dishes (false: they are never sold out; the limit still caps the "
        "background's density)."))


class ServiceSpec(_Model):
    """The service model (issue 11): kits, traffic, speed tests, latency, background, admission."""

    enabled: bool = False
    seed: int = Field(0, ge=0, le=2**62, description="Seed of every service draw (traffic, jitter, loss, outages).")
    kit: str = Field(DEFAULT_KIT, description="Dish kit of every dish (leonet/data/terminal_kits.csv).")
    kit_cap_efficiency_bps_per_hz: float | None = Field(DEFAULT_CAP_EFFICIENCY_BPS_PER_HZ, gt=0, le=10, description=(
        "Spectral efficiency at which a kit reaches its cap (default: the top DVB-S2X MODCOD, 5.90); at a lower "
        "MODCOD the cap falls in proportion (a modem's symbol rate is fixed); null: a flat cap (service.kits.modcod_cap_bps)."))
    traffic: TrafficSpec = TrafficSpec()
    speed_test: SpeedTestSpec = SpeedTestSpec()
    latency: LatencySpec = LatencySpec()
    background: BackgroundSpec = BackgroundSpec()
    admission: AdmissionSpec = AdmissionSpec()

    @field_validator("kit")
    @classmethod
    def _known_kit(cls, v):
        get_kit(v)    # InputError (a ValueError) with "did you mean"
        return v
