"""The ``time:`` section: the calendar of instants a run simulates (a coarse grid and finer
windows inside it)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from pydantic import Field, field_validator, model_validator

from .common import FieldError, Instant, Spec, check_instant


#: The longest calendar, s (a leap year); a window must start within it.
MAX_DURATION_S = 366 * 86_400


class TimeWindowSpec(Spec):
    """A stretch of the calendar simulated at its own (usually finer) step: time that zooms in on
    chosen moments (an attack, a fix landing) inside coarse steps for the months around them."""

    name: str = Field("", max_length=200, description="What happens in the window (for reports).")
    start: Instant | None = Field(None, description="UTC start (or start_s).")
    start_s: float | None = Field(None, ge=0, lt=MAX_DURATION_S, description=(
        "Seconds after time.start (instead of start); a window starts within the longest calendar (366 days)."))
    duration_s: float = Field(..., gt=0, le=MAX_DURATION_S)
    step_s: float = Field(..., ge=0.001, le=86_400)
    sample: bool = Field(False, description=(
        "The window samples the stretch of time it opens: its instants share equally the time from its start to "
        "the first coarse instant or window start at or after its end (the calendar's end if none), instead of each standing for "
        "the time until the next instant. Instants sampled over days (the realism check's 96 windows of one step over 24 days) then weigh "
        "every sample alike in the run's summary, report and app."))

    @field_validator("start")
    @classmethod
    def _utc(cls, v):
        if v is not None and v.tzinfo is None:
            raise ValueError("start has no timezone; write it in UTC, e.g. 2022-03-09T10:00:00Z")
        return check_instant(v, "start")

    @model_validator(mode="after")
    def _one_start(self):
        if (self.start is None) == (self.start_s is None):
            raise ValueError("give start (UTC) or start_s (seconds after time.start)")
        if self.step_s > self.duration_s:
            raise ValueError(f"step_s ({self.step_s:g}) is longer than duration_s ({self.duration_s:g})")
        if abs(round(self.step_s * 1e9) - self.step_s * 1e9) > 1e-3:
            raise ValueError("step_s must be a whole number of nanoseconds")
        return self


#: Refuse calendars with more instants than this (each instant is a full network step).
MAX_STEPS = 50_000_000


class TimeSpec(Spec):
    start: Instant = Field(..., description="UTC start, e.g. 2022-03-01T12:00:00Z.")
    duration_s: float = Field(..., gt=0, le=MAX_DURATION_S)
    step_s: float = Field(..., ge=0.001, le=86_400)
    windows: list[TimeWindowSpec] = Field([], max_length=1000, description=(
        "Stretches simulated at their own step inside the calendar (time that zooms); they must not overlap."))

    @field_validator("start")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return check_instant(v, "start")

    @field_validator("duration_s")
    @classmethod
    def _at_least_a_nanosecond(cls, v: float) -> float:
        # Instants are whole ns: a duration that rounds to 0 ns holds no step, and the run would
        # have nothing to simulate (it used to pass here and fail at the first step).
        if round(v * 1e9) < 1:
            raise ValueError(f"{v:g} s rounds to 0 ns: the calendar would hold no step; give at least 1e-9 s")
        return v

    @model_validator(mode="after")
    def _steps(self):
        # A calendar shorter than its step holds one instant (``leonet run --duration 60`` on a
        # preset of hourly steps is a one-step look, not an error).
        if abs(round(self.step_s * 1e9) - self.step_s * 1e9) > 1e-3:
            raise ValueError("step_s must be a whole number of nanoseconds")
        spans = sorted((self._window_span_ns(w), k) for k, w in enumerate(self.windows))
        early = [k for (a, b), k in spans if a < 0]
        if early:
            # name every early window (a --start moved past them all, as often as not) and the ways out
            named = [f"windows[{k}] ({self.windows[k].name or 'unnamed'}, from "
                     f"{self._window_start(self.windows[k]).isoformat()})" for k in early[:10]]
            others = (", as do " + ", ".join(named[1:]) if len(named) > 1 else "") + (
                f" and {len(early) - 10} more" if len(early) > 10 else "")
            raise FieldError(("windows", early[0]), (
                f"{named[0]} starts before time.start ({self.start.isoformat()}){others}; start the calendar at "
                f"or before {'them' if len(early) > 1 else 'it'}, or drop the windows (e.g. --set 'time.windows=[]')"))
        late = [k for (a, b), k in spans if a >= round(MAX_DURATION_S * 1e9)]
        if late:
            k = late[0]
            w = self.windows[k]
            raise FieldError(("windows", k, "start" if w.start is not None else "start_s"), (
                f"windows[{k}] ({w.name or 'unnamed'}) starts {self._window_start(w).isoformat()}, "
                f"{(self._window_start(w) - self.start).total_seconds() / 86_400:,.1f} days after time.start "
                f"({self.start.isoformat()}): a window must start within the longest calendar "
                f"({MAX_DURATION_S // 86_400} days after time.start)"))
        end_ns = round(self.duration_s * 1e9)
        for (a, b), k in spans:
            w = self.windows[k]
            # A window no finer than the calendar adds no detail, yet reports read as if it did.
            # Windows past the calendar's end are only skipped (a run shortened with --duration).
            if a < end_ns and round(w.step_s * 1e9) >= self.step_ns:
                raise FieldError(("windows", k, "step_s"), (
                    f"windows[{k}] ({w.name or 'unnamed'}) steps every {w.step_s:g} s, no finer than time.step_s "
                    f"({self.step_s:g} s): a window zooms in with a shorter step; give it one, or drop the "
                    "window (e.g. --set 'time.windows=[]')"))
        for ((a0, b0), k0), ((a1, b1), k1) in zip(spans, spans[1:]):
            if a1 < b0:
                raise ValueError(f"windows[{k0}] and windows[{k1}] overlap; windows must not overlap")
        # A windowed calendar lists its instants (a uniform one is sized by the run-size budget).
        upper = self._coarse_count() + sum(int(math.ceil(round(w.duration_s * 1e9) / round(w.step_s * 1e9)))
                                           for w in self.windows)
        if self.windows and upper > MAX_STEPS:
            raise ValueError(f"the calendar has about {upper:,} steps (more than {MAX_STEPS:,}); use coarser steps "
                             "or shorter windows")
        return self

    def _window_start(self, w: TimeWindowSpec) -> datetime:
        """A window's start as a UTC instant."""
        return w.start if w.start is not None else self.start + timedelta(seconds=w.start_s)

    def _window_span_ns(self, w: TimeWindowSpec) -> tuple[int, int]:
        """A window's [start, end) in ns after time.start."""
        a = round(w.start_s * 1e9) if w.start_s is not None else round((w.start - self.start).total_seconds() * 1e9)
        return a, a + round(w.duration_s * 1e9)

    def _coarse_count(self) -> int:
        return int(math.ceil(round(self.duration_s * 1e9) / self.step_ns))

    @property
    def step_ns(self) -> int:
        """The calendar's (coarse) step in ns; windows have their own."""
        return int(round(self.step_s * 1e9))

    @property
    def uniform(self) -> bool:
        """True when every step is ``step_s`` apart (no window inside the calendar)."""
        end_ns = round(self.duration_s * 1e9)
        return not any(self._window_span_ns(w)[0] < end_ns for w in self.windows)

    def skipped_windows(self) -> list[str]:
        """Windows that start at or after the calendar's end (a run shortened with --duration):
        they are not simulated; the run warns about them."""
        end_ns = round(self.duration_s * 1e9)
        return [w.name or f"windows[{k}]" for k, w in enumerate(self.windows) if self._window_span_ns(w)[0] >= end_ns]

    def clipped_windows(self) -> list[tuple[str, float, float]]:
        """(name, seconds simulated, seconds asked for) of each window that the calendar's end cuts
        short (it starts before the end and runs past it): the run warns about them."""
        end_ns = round(self.duration_s * 1e9)
        out = []
        for k, w in enumerate(self.windows):
            a, b = self._window_span_ns(w)
            if a < end_ns < b:
                out.append((w.name or f"windows[{k}]", (end_ns - a) / 1e9, w.duration_s))
        return out

    def any_instant_in(self, lo_ns: int, hi_ns: int) -> bool:
        """Whether the calendar holds an instant in [lo_ns, hi_ns) (ns after ``start``): what
        :meth:`offsets_ns` would list, found without listing them."""
        end_ns = round(self.duration_s * 1e9)
        hi_ns = min(hi_ns, end_ns)
        lo_ns = max(lo_ns, 0)
        if lo_ns >= hi_ns:
            return False
        grids = [(0, self._coarse_count() * self.step_ns, self.step_ns)]
        grids += [(a, b, round(w.step_s * 1e9)) for w in self.windows for a, b in [self._window_span_ns(w)]]
        for a, b, step in grids:
            first = a + max(0, -(-(lo_ns - a) // step)) * step   # the grid's first instant at or after lo_ns
            if first < min(b, hi_ns):
                return True
        return False

    def offsets_ns(self):
        """int64 (T,): every instant as ns after ``start``, sorted: the coarse grid (start, start +
        step_s, ... before start + duration_s) and each window's own grid."""
        import numpy as np

        parts = [np.arange(self._coarse_count(), dtype=np.int64) * self.step_ns]
        end_ns = round(self.duration_s * 1e9)
        for w in self.windows:
            a, b = self._window_span_ns(w)
            # a window past the calendar's end (a shortened run) is clipped or skipped, and said so
            parts.append(np.arange(a, min(b, end_ns), round(w.step_s * 1e9), dtype=np.int64))
        return np.unique(np.concatenate(parts))

    def durations_s(self, offsets_ns=None):
        """float64 (T,): the time each instant stands for, s (``offsets_ns``: :meth:`offsets_ns`, by
        default): until the next instant (the last until the calendar's end), except in windows with
        ``sample: true``, whose instants share their stretch equally (see :class:`TimeWindowSpec`). The
        durations sum to the calendar's length."""
        import numpy as np

        t = self.offsets_ns() if offsets_ns is None else np.asarray(offsets_ns, dtype=np.int64)
        end_ns = round(self.duration_s * 1e9)
        out = np.diff(np.r_[t, np.int64(max(end_ns, int(t[-1]) if len(t) else 0))]).astype(np.float64) / 1e9
        # a sample window's stretch ends at the next coarse instant or the next window, whichever comes first
        coarse = np.arange(self._coarse_count(), dtype=np.int64) * self.step_ns
        starts = np.array(sorted(self._window_span_ns(w)[0] for w in self.windows), dtype=np.int64)
        for w in self.windows:
            if not w.sample:
                continue
            a, b = self._window_span_ns(w)
            if a >= end_ns:
                continue
            later = np.r_[coarse[coarse >= b], starts[starts >= b], np.int64(end_ns)]
            stop = int(later.min())
            inside = (t >= a) & (t < stop)
            if inside.any():
                out[inside] = (stop - a) / 1e9 / int(inside.sum())
        return out

    @property
    def n_steps(self) -> int:
        """How many instants the calendar holds (start, start+step, ... strictly before
        start+duration, and the windows' instants)."""
        if self.uniform:
            return self._coarse_count()
        return len(self.offsets_ns())
