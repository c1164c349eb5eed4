"""The ``constellation:`` and ``frames:`` sections: Walker shells, files of real orbit data, and
how satellite positions become Earth-fixed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from .common import FieldError, FilePath, Instant, Spec, check_instant


class ShellSpec(Spec):
    """A Walker shell (see :mod:`leonet.space.walker`)."""

    name: str | None = Field(None, description="Shell name; default shell<k> (1-based).")
    altitude_km: float = Field(..., gt=150, lt=40_000, description="Altitude above the equatorial radius, km.")
    inclination_deg: float = Field(..., ge=0, le=180)
    planes: int = Field(..., ge=1, le=10_000)
    sats_per_plane: int = Field(..., ge=1, le=10_000)
    raan_spread_deg: float = Field(360.0, gt=0, le=360, description="360 (Walker delta) or 180 (star).")
    phasing: Literal["half-slot", "walker"] = "half-slot"
    walker_f: int = Field(0, ge=0, le=10_000, description=(
        "Walker phasing factor f (0..planes-1), for phasing: walker only (an error with another phasing)."))
    raan_offset_deg: float = Field(0.0, ge=-360, le=360)
    eccentricity: float = Field(0.0, ge=0, lt=0.1, description=(
        "Near-circular shells only; the perigee, a (1 - e) - R, must lie above the Earth's surface."))
    arg_perigee_deg: float = Field(0.0, ge=-360, le=360)
    mean_motion_rev_per_day: float | None = Field(
        None, gt=0.9, lt=17.0, description="Overrides the mean motion derived from altitude_km."
    )
    epoch: Instant | None = Field(None, description="Element epoch (UTC); default: time.start.")

    @field_validator("epoch")
    @classmethod
    def _epoch_range(cls, v: datetime | None) -> datetime | None:
        return check_instant(v, "epoch")

    @model_validator(mode="after")
    def _check_f(self):
        if self.phasing == "walker" and self.walker_f >= self.planes:
            raise FieldError(("walker_f",), f"walker_f must be in 0..planes-1 = 0..{self.planes - 1}, got {self.walker_f}")
        if self.phasing != "walker" and self.walker_f != 0:
            raise FieldError(("walker_f",), f"walker_f ({self.walker_f}) applies to phasing: walker only (this shell's "
                             f"phasing is {self.phasing}); set phasing: walker or remove walker_f")
        return self

    @model_validator(mode="after")
    def _clears_the_earth(self):
        """The orbit's perigee must lie above the Earth's surface (else SGP4 cannot propagate it):
        perigee = a (1 - e) - R, km, with a from mean_motion_rev_per_day or altitude_km."""
        from ..space.elements import MIN_PERIGEE_KM, perigee_altitude_km
        from ..space.walker import mean_motion_rev_per_day

        n = self.mean_motion_rev_per_day
        if n is None:
            n = mean_motion_rev_per_day(self.altitude_km * 1e3)
        perigee = float(perigee_altitude_km(np.array([n]), np.array([self.eccentricity]))[0])
        if not perigee >= MIN_PERIGEE_KM:
            size = (f"mean_motion_rev_per_day {n:g}" if self.mean_motion_rev_per_day is not None
                    else f"altitude_km {self.altitude_km:g}")
            raise FieldError(("eccentricity",),
                             f"the orbit's perigee is {perigee:,.0f} km above the Earth's equatorial radius ({size}, "
                             f"eccentricity {self.eccentricity:g}): the orbit runs through the Earth and SGP4 cannot "
                             "propagate it; orbits must clear the Earth (lower the eccentricity or raise the orbit)")
        return self


class OrbitFileSpec(Spec):
    """A file of real orbit data: TLE (2- or 3-line) or OMM (CelesTrak JSON, CSV or XML)."""

    path: FilePath
    format: Literal["auto", "tle", "omm", "hypatia"] = Field(
        "auto", description="auto (by extension), tle, omm, or hypatia (tles.txt with an '<orbits> <sats>' header)."
    )
    shell: str | None = Field(None, description="Shell name for these satellites; default the file's stem.")
    plane_assignment: str | None = Field(
        None, description="CSV catalog_id,plane,slot; default: inferred from the elements."
    )
    station_keeping: bool = Field(False, description=(
        "The operator holds each satellite's orbit (Starlink's thrusters do): SGP4's drag terms (B*, "
        "mean-motion derivatives) are set to zero, so runs of months do not decay the satellites."))


class ConstellationSpec(Spec):
    preset: str | None = Field(None, description="A constellation preset (see `leonet presets`).")
    description: str | None = None
    shells: list[ShellSpec] = []
    orbit_files: list[OrbitFileSpec] = []

    @model_validator(mode="after")
    def _nonempty(self):
        if not self.shells and not self.orbit_files:
            raise ValueError("a constellation needs a preset, shells or orbit_files")
        return self


class FramesSpec(Spec):
    """How satellite positions become Earth-fixed (see :mod:`leonet.space.frames`)."""

    earth_rotation: Literal["ut1", "utc"] = Field(
        "ut1", description="ut1: the Earth's real angle (IERS UT1-UTC, offline); utc: as Hypatia (satellites up to ~450 m off).",
    )
    polar_motion: bool = Field(False, description="Also rotate by the IERS pole offset (moves satellites ~5-20 m); needs ut1.")

    @model_validator(mode="after")
    def _polar_needs_ut1(self):
        if self.polar_motion and self.earth_rotation != "ut1":
            raise ValueError("polar_motion: true needs earth_rotation: ut1")
        return self
