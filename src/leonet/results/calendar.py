"""A results folder's calendar for its readers: the instant and the duration of every step, for
uniform calendars (start + k x step) and windowed ones (``steps.parquet``) alike.

Readers weight a step by the time it stands for, never by ``step_s``: :attr:`Calendar.weights`
is each step's duration in units of the coarse step: exactly 1.0 for every step of ``step_s``
(so ``sum(weights * x) * step_s`` reproduces ``count * step_s`` bit for bit in a calendar of equal
steps, :attr:`Calendar.even`), less for a window's finer steps and for the last step of a uniform
calendar whose duration is not a multiple of the step (it stops at the calendar's end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import yaml

from ..errors import InputError
from .store import SCENARIO_FILE, ResultStore

#: A calendar's text lists at most this many windows (more: the first two, a count, the last).
MAX_WINDOWS_LISTED = 4


def seconds_text(value: float) -> str:
    """Seconds without trailing zeros: 1, 0.1, 600, 86,400."""
    return f"{value:,.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Window:
    """A stretch of the calendar at its own step: name, [start_ns, end_ns) (UTC ns), step_s, and
    whether it is a sample of the stretch it opens (``sample``: the time after it was not simulated)."""

    name: str
    start_ns: int
    end_ns: int
    step_s: float
    sample: bool = False


@dataclass(frozen=True)
class Calendar:
    """The steps of a run.

    times_ns : int64 (T,) every step's instant (UTC ns).
    durations_s : float64 (T,) the time each step stands for (to the next one; the last to the end).
    step_s : the coarse step (s). uniform : True without windows. end_ns : the calendar's end.
    windows : the scenario's windows (empty for a uniform run, or when scenario.yaml is absent).
    """

    times_ns: np.ndarray
    durations_s: np.ndarray
    step_s: float
    uniform: bool
    end_ns: int
    windows: tuple[Window, ...] = field(default_factory=tuple)
    step_ns: int = 0
    start_ns: int = 0

    @property
    def n_steps(self) -> int:
        return len(self.times_ns)

    @cached_property
    def weights(self) -> np.ndarray:
        """float64 (T,): each step's duration in coarse steps (exactly 1.0 for a step of ``step_s``;
        a uniform calendar's last step is shorter when its duration is not a multiple of the step)."""
        return self.durations_s / self.step_s

    @cached_property
    def even(self) -> bool:
        """Whether every step stands for ``step_s`` (all :attr:`weights` exactly 1.0): readers may
        then count steps instead of weighing them."""
        return bool(np.all(self.durations_s == self.step_s))

    def index_of(self, t_ns) -> np.ndarray:
        """int64: the step index of each instant (each must be one of the run's instants)."""
        t = np.asarray(t_ns, dtype=np.int64)
        if self.uniform:
            return (t - self.start_ns) // self.step_ns
        return np.searchsorted(self.times_ns, t).astype(np.int64)

    def step_at(self, t_ns: int) -> int:
        """The step in force at instant ``t_ns`` (the last step starting at or before it): -1
        before the first step. Any integer is taken, even one beyond int64's range of ns (before
        1677 or after 2262)."""
        t = int(t_ns)
        if not self.n_steps or t < int(self.times_ns[0]):
            return -1
        if t >= int(self.times_ns[-1]):
            return self.n_steps - 1
        return int(np.searchsorted(self.times_ns, np.int64(t), side="right")) - 1

    def duration_of(self, t_ns) -> np.ndarray:
        """float64: the duration (s) of the step at each instant (instants of the run)."""
        return self.durations_s[self.index_of(t_ns)]

    def weight_of(self, t_ns) -> np.ndarray:
        """float64: :attr:`weights` of the step at each instant (instants of the run)."""
        return self.weights[self.index_of(t_ns)]

    def end_of(self, step: int) -> int:
        """The instant (ns) step ``step`` ends: the next step's instant, or the calendar's end."""
        return int(self.times_ns[step + 1]) if step + 1 < self.n_steps else self.end_ns

    def text(self) -> str:
        """"N steps of S s", or for a windowed run "N steps (S s, and windows at ...)"."""
        n = f"{self.n_steps:,} steps"
        if self.uniform:
            return f"{n} of {seconds_text(self.step_s)} s"
        import pandas as pd

        parts = []
        for w in self.windows:
            if w.start_ns >= self.end_ns:  # past the run's end: no step of it ran
                continue
            start = pd.Timestamp(w.start_ns, unit="ns", tz="UTC")
            label = f"{w.name} " if w.name else ""
            ran = min(w.end_ns, self.end_ns) - w.start_ns
            length = f"{seconds_text(ran / 1e9)} s" + (f" of its {seconds_text((w.end_ns - w.start_ns) / 1e9)} s"
                                                if ran < w.end_ns - w.start_ns else "")
            parts.append(f"{label}{start:%Y-%m-%d %H:%M:%S} for {length} at {seconds_text(w.step_s)} s")
        if len(parts) > MAX_WINDOWS_LISTED:  # many windows (the realism check's 96): the first two, the last, a count
            parts = parts[:2] + [f"... {len(parts) - 3} more ..."] + parts[-1:]
        where = "; ".join(parts) if parts else "finer steps"
        return f"{n} ({seconds_text(self.step_s)} s, and windows at {where})"


def _instant_ns(value, where: str, store: ResultStore) -> int:
    """UTC ns of an instant of the resolved scenario.yaml (ISO text with a zone, or a datetime)."""
    import pandas as pd

    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise InputError(f"{SCENARIO_FILE}: {where} is not an instant: {err}", source=str(store.root)) from None
    if t.tzinfo is None:
        raise InputError(f"{SCENARIO_FILE}: {where} has no timezone", source=str(store.root))
    return int(t.tz_convert("UTC").value)


def _windows(store: ResultStore) -> tuple[Window, ...]:
    """The windows of the run's resolved scenario (``scenario.yaml``, as the run validated it),
    read here without the engine's scenario model (readers import nothing of the engine)."""
    path = store.root / SCENARIO_FILE
    if not path.exists():
        return ()
    time = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("time") or {}
    windows = time.get("windows") or []
    if not windows:
        return ()
    start_ns = int(store.manifest.start_ns)
    out = []
    for k, w in enumerate(windows):
        try:
            a = (start_ns + round(float(w["start_s"]) * 1e9)) if w.get("start_s") is not None \
                else _instant_ns(w["start"], f"time.windows[{k}].start", store)
            out.append(Window(name=str(w.get("name") or ""), start_ns=a, end_ns=a + round(float(w["duration_s"]) * 1e9),
                              step_s=float(w["step_s"]), sample=bool(w.get("sample", False))))
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(f"{SCENARIO_FILE}: time.windows[{k}] cannot be read ({err!r})", source=str(store.root)) from None
    return tuple(sorted(out, key=lambda w: w.start_ns))


def calendar(store: ResultStore) -> Calendar:
    """The calendar of a results folder (read once per store)."""
    cached = getattr(store, "_leonet_calendar", None)
    if cached is not None:
        return cached
    m = store.manifest
    times = np.asarray(store.step_times_ns(), dtype=np.int64)
    durations = np.asarray(store.step_durations_s(), dtype=np.float64)
    end = m.end_ns if m.end_ns is not None else (int(times[-1]) + m.step_ns if len(times) else m.start_ns)
    cal = Calendar(times_ns=times, durations_s=durations, step_s=m.step_s, uniform=bool(m.uniform_steps),
                   end_ns=int(end), windows=() if m.uniform_steps else _windows(store), step_ns=int(m.step_ns),
                   start_ns=int(m.start_ns))
    store._leonet_calendar = cal
    return cal

