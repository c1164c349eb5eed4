"""Scenario files: the pydantic schema, YAML loading, presets and clear errors.

A scenario says which constellation flies, which ground sites exist, which time window to
simulate, which visibility rule applies, which events happen and where results go. It is
validated once, at the door; everything downstream trusts it (the engine reads what
:func:`leonet.sim.model.build_model` extracts from it, not the scenario itself). Errors name the
file, the field path (``constellation.shells[2].planes``), the YAML line where possible, and what
was expected.

Relative paths of the files a scenario reads are resolved against the file's own folder;
``outputs.dir`` (like ``--out``) is relative to the working folder.

Modules, one section or step each:

    common         the strict frozen base (Spec), instant and seed ranges, shared checks
    timing         time:            the calendar (coarse grid, windows)
    constellation  constellation:, frames:   Walker shells, orbit files, Earth-fixed frame
    ground         ground:          sites, site files, built-in sets, dish groups, masks
    network        visibility:, network:, terrestrial:
    capacity       capacity:
    events         events:          the threat timeline's specs (leonet.threats resolves them)
    schema         Scenario: the sections together, checks across sections, paths
    presets        the shipped scenario and constellation presets
    yamlfile       a file's YAML parsed once, with limits, and field -> YAML line
    overrides      --set overrides (dotted field paths)
    loading        load_scenario, scenario_from_dict: all of the above, errors formatted
"""

from __future__ import annotations

from ..service.spec import ServiceSpec
from .capacity import CapacitySpec, DemandSpec, RadioSpec, SatelliteHardwareSpec
from .common import EARLIEST_UTC, LATEST_UTC, SEED_MAX, Spec
from .constellation import ConstellationSpec, FramesSpec, OrbitFileSpec, ShellSpec
from .events import (EVENT_TYPES, CircleSpec, CountermeasureSpec, EventSpec, JammerSpec, RegionSpec,
                     TargetSpec)
from .ground import (BUILTIN_SITE_SET_NAMES, SITE_KINDS, BuiltinSitesSpec, DemandFileSpec, DishGroupSpec,
                     GroundSpec, ObstructionSpec, PopulationDishesSpec, SiteFileSpec, SiteSpec)
from .loading import load_scenario, scenario_from_dict
from .network import (ExchangeSpec, IslSpec, NetworkSpec, SlotSpec, TerrestrialSpec,
                      VisibilitySpec)
from .presets import DEFAULT_SCENARIO, list_presets
from .schema import OutputSpec, Scenario
from .timing import MAX_STEPS, TimeSpec, TimeWindowSpec
from .yamlfile import MAX_NESTING, MAX_SCENARIO_BYTES, MAX_YAML_NODES, parse_scenario_yaml

__all__ = [
    "BUILTIN_SITE_SET_NAMES", "DEFAULT_SCENARIO", "EARLIEST_UTC", "EVENT_TYPES", "LATEST_UTC", "MAX_NESTING",
    "MAX_SCENARIO_BYTES", "MAX_STEPS", "MAX_YAML_NODES", "SEED_MAX", "SITE_KINDS",
    "BuiltinSitesSpec", "CapacitySpec", "CircleSpec", "ConstellationSpec", "CountermeasureSpec", "DemandFileSpec",
    "DemandSpec", "DishGroupSpec", "EventSpec", "ExchangeSpec", "FramesSpec", "GroundSpec", "IslSpec", "JammerSpec",
    "NetworkSpec", "ObstructionSpec", "OrbitFileSpec", "OutputSpec", "PopulationDishesSpec", "RadioSpec",
    "RegionSpec", "SatelliteHardwareSpec", "Scenario", "ServiceSpec", "ShellSpec", "SiteFileSpec", "SiteSpec",
    "SlotSpec", "Spec", "TargetSpec", "TerrestrialSpec", "TimeSpec", "TimeWindowSpec", "VisibilitySpec",
    "list_presets", "load_scenario", "parse_scenario_yaml", "scenario_from_dict",
]
