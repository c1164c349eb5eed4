"""The whole scenario: its sections put together, the checks across sections, and paths."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from pydantic import Field, PrivateAttr, model_validator

from ..service.spec import ServiceSpec
from .capacity import CapacitySpec
from .common import FieldError, Spec
from .constellation import ConstellationSpec, FramesSpec
from .events import CAPACITY_EVENT_TYPES, EventSpec
from .ground import GroundSpec
from .network import NetworkSpec, TerrestrialSpec, VisibilitySpec
from .timing import TimeSpec


class OutputSpec(Spec):
    dir: str = Field("results/{name}", description="Results folder; {name} is the scenario name.")
    chunk_steps: int = Field(60, ge=1, le=1_000_000, description="Steps per Parquet chunk.")
    visibility_pairs: bool = Field(True, description="Write every (step, site, satellite) in view.")
    positions: bool = Field(False, description="Write satellite positions at every step.")


class Scenario(Spec):
    """A whole scenario. Build one with :func:`load_scenario`."""

    name: str = Field(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    description: str = ""
    constellation: ConstellationSpec
    ground: GroundSpec = GroundSpec()
    time: TimeSpec
    visibility: VisibilitySpec = VisibilitySpec()
    network: NetworkSpec = NetworkSpec()
    terrestrial: TerrestrialSpec = TerrestrialSpec()
    capacity: CapacitySpec = CapacitySpec()
    service: ServiceSpec = Field(ServiceSpec(), description="The service model (docs/service-model.md); needs capacity.")
    # bounded: every step loops over the active events (and each jammer's link budget per dish);
    # the presets' longest timeline (ukraine-2022-year) has 16
    events: list[EventSpec] = Field([], max_length=10_000, description=(
        "The threat timeline (see the README's events section); at most 10,000 events."))
    frames: FramesSpec = FramesSpec()
    outputs: OutputSpec = OutputSpec()
    #: Field paths the command line set (``--set``, ``--duration`` ...: tuples of keys, each an
    #: :class:`~leonet.scenario.overrides.OverriddenKeys` that knows its option), so that an error
    #: found later names the option ("(from --duration)", "(from --set)"), not the line of the value
    #: in the file it replaced.
    _overridden: tuple = PrivateAttr(default=())
    #: Folder that relative paths in the scenario are resolved against (not part of the file).
    base_dir: str = Field(".", exclude=True)
    #: Where the scenario came from (its file, or "preset NAME"), for error messages.
    source: str = Field("<scenario>", exclude=True)

    @model_validator(mode="after")
    def _service_needs_capacity(self):
        if self.service.enabled and not (self.capacity.enabled and self.network.enabled):
            raise ValueError("service.enabled needs capacity.enabled and network.enabled")
        return self

    @model_validator(mode="after")
    def _nearest_k_is_enough(self):
        k = self.visibility.nearest_k
        if k is not None and self.network.slots.policy == "load-aware" and k < self.network.slots.max_sats_per_cell:
            raise ValueError(f"visibility.nearest_k ({k}) must be at least network.slots.max_sats_per_cell")
        return self

    @model_validator(mode="after")
    def _events_can_act(self):
        """Events that could not change the run are errors: one that needs the capacity model without
        it (jamming, demand_surge), one that ends at or before the calendar's start."""
        for k, e in enumerate(self.events):
            if e.type in CAPACITY_EVENT_TYPES and not self.capacity.enabled:
                how = ("the jammer lowers the links' SINR in its link budget" if e.type == "jamming"
                       else "the surge scales the demand it shares out")
                raise FieldError(("events", k, "type"),
                                 f"a {e.type} event acts only through the capacity model ({how}); without it the "
                                 "event would change nothing: set capacity.enabled: true")
            if e.end is not None and e.end <= self.time.start:
                raise FieldError(("events", k, "end"),
                                 f"the event ends ({e.end.isoformat()}) at or before the calendar's start "
                                 f"(time.start {self.time.start.isoformat()}): it would change nothing")
            # an end written in the other form than the start (start with end_s, start_s with end):
            # the event alone cannot compare them; the field named is the one the user wrote
            start_ns, end_ns = self.event_span_ns(e)
            t0 = self.time.start.isoformat()
            if e.start is not None and e.end_s is not None:
                end_at = (self.time.start + timedelta(microseconds=end_ns // 1000)).isoformat()
                if end_ns <= start_ns:
                    raise FieldError(("events", k, "end_s"),
                                     f"end_s {e.end_s:g} (time.start {t0} + {e.end_s:g} s = {end_at}) is not after "
                                     f"start ({e.start.isoformat()})")
                if end_ns <= 0:
                    raise FieldError(("events", k, "end_s"),
                                     f"the event ends (end_s {e.end_s:g}: time.start {t0}) at or before the "
                                     "calendar's start: it would change nothing")
            if e.start_s is not None and e.end is not None and end_ns <= start_ns:
                start_at = (self.time.start + timedelta(microseconds=start_ns // 1000)).isoformat()
                raise FieldError(("events", k, "end"),
                                 f"end ({e.end.isoformat()}) is not after start_s {e.start_s:g} (time.start {t0} + "
                                 f"{e.start_s:g} s = {start_at})")
        return self

    @model_validator(mode="after")
    def _service_fields_need_service(self):
        """A dish group's users_per_dish and a site's or group's kit act only through the service
        model: without it, an error (as for the events that need the capacity model), not a setting
        ignored without a word."""
        if self.service.enabled:
            return self
        # a kit caps a dish's rates in the service model only: without it, named and refused
        kits = [(("ground", "sites", i, "kit"), s.kit) for i, s in enumerate(self.ground.sites) if s.kit] + \
               [(("ground", "dish_groups", i, "kit"), g.kit) for i, g in enumerate(self.ground.dish_groups) if g.kit]
        if kits:
            loc, kit = kits[0]
            raise FieldError(loc, f"kit {kit!r} acts only through the service model (it caps the dish's "
                                  "rates there); without it no dish has a cap and it would change nothing: set "
                                  "service.enabled: true (with capacity.enabled), or remove it")
        for i, g in enumerate(self.ground.dish_groups):
            if g.users_per_dish > 1:
                raise FieldError(("ground", "dish_groups", i, "users_per_dish"),
                                 "users_per_dish acts only through the service model (the users' traffic shares "
                                 "the dish's kit cap); without it every dish carries one dish's demand and it would "
                                 "change nothing: set service.enabled: true (with capacity.enabled), or remove it")
        return self

    def event_span_ns(self, e: EventSpec) -> tuple[int, int | None]:
        """An event's start and end (None: open-ended) as ns after time.start, whichever form
        (``start``/``start_s``, ``end``/``end_s``) it is written in."""
        def after_start(instant, seconds):
            if seconds is not None:
                return round(seconds * 1e9)
            return None if instant is None else (instant - self.time.start) // timedelta(microseconds=1) * 1000

        return after_start(e.start, e.start_s), after_start(e.end, e.end_s)

    def events_after_end(self) -> list[str]:
        """Names of the events that start at or after the calendar's end (time.start + duration_s;
        a run shortened with --duration): they change nothing, and the run warns about them."""
        end_ns = round(self.time.duration_s * 1e9)
        return [e.name for e in self.events if self.event_span_ns(e)[0] >= end_ns]

    def resolve_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def output_dir(self) -> Path:
        return Path(self.outputs.dir.replace("{name}", self.name)).expanduser()

    def to_yaml(self) -> str:
        """The resolved scenario (presets expanded, overrides applied) as YAML."""
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
