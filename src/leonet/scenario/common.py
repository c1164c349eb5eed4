"""What every section of the scenario schema shares: the frozen, strict pydantic base, the range
of instants a scenario may name, the seed range, and the checks used by several sections."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict


SEED_MAX = 2**32 - 1
#: Instants a scenario may name (time.start, shell epochs): SGP4's element sets begin in 1957, and
#: int64 nanoseconds end in 2262; 2200 keeps a year-long run well inside.
EARLIEST_UTC = datetime(1957, 1, 1, tzinfo=timezone.utc)
LATEST_UTC = datetime(2200, 1, 1, tzinfo=timezone.utc)


def check_instant(v: datetime | None, what: str) -> datetime | None:
    """``v`` in UTC; a ValueError (pydantic shows it with the field) when it has no timezone or
    lies outside [:data:`EARLIEST_UTC`, :data:`LATEST_UTC`)."""
    if v is None:
        return v
    if v.tzinfo is None:
        raise ValueError(f"{what} has no timezone; write it in UTC, e.g. 2022-03-01T12:00:00Z")
    v = v.astimezone(timezone.utc)
    if not EARLIEST_UTC <= v < LATEST_UTC:
        raise ValueError(f"{what} must be from {EARLIEST_UTC.year} to {LATEST_UTC.year - 1} (SGP4 and int64 "
                         f"nanosecond time), got {v.isoformat()}")
    return v


def check_kit(name):
    """A known kit name (InputError with "did you mean" otherwise); None passes."""
    if name is not None:
        from ..service.kits import get_kit

        get_kit(name)
    return name


class FieldError(ValueError):
    """A validator's error about one field of its section: ``loc`` is the field's path inside the
    validated model (``("eccentricity",)`` in a shell, ``("events", 2, "end")`` in the scenario).

    Raise it from a model validator that checks several fields (or sections) together so that the
    error names the field, with its YAML line, rather than the section
    (:func:`leonet.scenario.loading.scenario_from_dict` reads ``loc``)."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


class Spec(BaseModel):
    """Base of every scenario section: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
