"""The ``capacity:`` section: demand, satellite hardware, radio overrides and the capacity
model's parameters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .common import Spec


class SatelliteHardwareSpec(Spec):
    """User-side resources of every satellite (one generation for the whole constellation)."""

    generation: Literal["v1.5", "v2-mini", "custom"] = Field(
        "v1.5", description=("Sets the defaults below: v1.5 ~20 Gbps down, v2-mini ~96 Gbps down (REFERENCE.md, uncertain); "
                             "custom has none: give beams, down_capacity_gbps and up_capacity_gbps.")
    )
    beams: int | None = Field(None, ge=1, le=1000, description="User beams per satellite (uncertain: v1.5 24, v2-mini 48).")
    down_capacity_gbps: float | None = Field(None, gt=0, le=10_000)
    up_capacity_gbps: float | None = Field(None, gt=0, le=10_000)
    v2_mini_from_catalog: int | None = Field(None, ge=1, le=10_000_000, description=(
        "With the service model on real element sets: satellites with a NORAD catalog number at least this are "
        "V2 Mini (their capacity and beams), the others the generation above. Starlink's first V2 Minis "
        "(Group 6-1, 2023-02-27, COSPAR 2023-026) start at 55695."))

    @model_validator(mode="after")
    def _custom_is_complete(self):
        # custom has no defaults of its own: a missing value would otherwise be some generation's
        if self.generation == "custom":
            missing = [f for f in ("beams", "down_capacity_gbps", "up_capacity_gbps") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"generation: custom needs beams, down_capacity_gbps and up_capacity_gbps "
                                 f"(missing: {', '.join(missing)})")
        return self


class DemandSpec(Spec):
    """Busy-hour demand of every dish (surges scale it per dish)."""

    down_mbps: float = Field(25.0, ge=0, le=100_000, description="Demand of an active dish, downlink (assumption).")
    up_mbps: float = Field(3.0, ge=0, le=100_000, description="Demand of an active dish, uplink (assumption).")
    activity: float = Field(
        0.15, gt=0, le=1,
        description="Busy-hour activity factor: mean share of the demand offered (25 x 0.15 = 3.75 Mbps per dish; assumption).",
    )


class RadioSpec(Spec):
    """Overrides of the radio defaults (leonet.capacity.linkbudget.RadioDefaults; sources there).
    Ranges refuse physically impossible values, not merely unusual ones."""

    user_downlink_frequency_hz: float | None = Field(None, ge=1e9, le=100e9)
    user_uplink_frequency_hz: float | None = Field(None, ge=1e9, le=100e9)
    user_downlink_bandwidth_hz: float | None = Field(None, gt=0, le=10e9)
    user_uplink_bandwidth_hz: float | None = Field(None, gt=0, le=10e9)
    satellite_eirp_density_dbw_per_mhz: float | None = Field(None, ge=-50, le=80)
    user_terminal_g_over_t_db_per_k: float | None = Field(None, ge=-40, le=60)
    user_terminal_eirp_dbw: float | None = Field(None, ge=-30, le=80)
    satellite_g_over_t_db_per_k: float | None = Field(None, ge=-40, le=60)
    user_terminal_dish_diameter_m: float | None = Field(None, ge=1e-3, le=20)   # ITU-R scintillation holds from 1 mm (capacity.atmosphere)

    @model_validator(mode="after")
    def _bandwidth_below_carrier(self):
        for bw, f in (("user_downlink_bandwidth_hz", "user_downlink_frequency_hz"),
                      ("user_uplink_bandwidth_hz", "user_uplink_frequency_hz")):
            b, c = getattr(self, bw), getattr(self, f)
            if b is not None and c is not None and b >= c:
                raise ValueError(f"{bw} ({b:g} Hz) must be below {f} ({c:g} Hz)")
        return self


class CapacitySpec(Spec):
    """The capacity model (off unless enabled): link budgets, beams, feeders, lasers, PoPs and
    max-min fair sharing. Every default is approximate; see the README's capacity section."""

    enabled: bool = False
    demand: DemandSpec = DemandSpec()
    satellite: SatelliteHardwareSpec = SatelliteHardwareSpec()
    radio: RadioSpec = RadioSpec()
    cell_size_km: float = Field(24.0, gt=0.1, le=500, description="Cells are squares of this side; a beam serves one cell.")
    gateway_antenna_gbps: float = Field(10.0, gt=0, le=10_000, description="Capacity of one gateway antenna (one satellite).")
    isl_gbps: float = Field(100.0, gt=0, le=10_000, description="Laser link capacity per direction (REFERENCE: 100 Gbps).")
    pop_gbps: float = Field(400.0, gt=0, le=1_000_000, description="Capacity of each PoP.")
    margin_db: float = Field(3.0, ge=0, le=20, description="Link margin before choosing a MODCOD.")
    atmosphere: bool = Field(True, description="ITU-R rain/gas/cloud attenuation (itur) at availability_pct.")
    availability_pct: float = Field(99.5, ge=90, le=99.999)
    congested_below_mbps: float = Field(5.0, ge=0, le=10_000, description="A connected dish that gets less than this (and less than it asks for) is CONGESTED.")
    queue_scale_ms: float = Field(2.0, ge=0, le=1000, description="Queueing delay = scale x rho / (1 - rho) at the busiest link.")
    queue_max_ms: float = Field(50.0, ge=0, le=10_000, description="Per direction: a full buffer of ~50 ms (assumption).")
    jamming_rejection_db: float = Field(20.0, ge=0, le=100, description="Dish off-axis rejection of a jammer (phased-array nulling).")
    satellite_jamming_rejection_db: float = Field(10.0, ge=0, le=100, description="Satellite receive off-axis rejection of a ground jammer.")
