"""Turn a validated :class:`~leonet.scenario.Scenario` into the arrays a simulation runs on.

Everything here happens once per run (or once per worker): read orbit files, build Walker shells,
place ground sites (:mod:`.ground_build`), and index the sites for visibility queries. Input files are read and checked
here, at the door, so that a bad file stops the run before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, quote
from ..ground.sites import Sites
from ..network.visibility import VisibilityIndex
from ..scenario import Scenario
from ..scenario.loading import location_with_line
from ..space.constellation import Constellation
from ..space.elements import OrbitElements
from ..space.frames import FrameConvention
from ..space.walker import WalkerShell, walker_elements
from ..timeutil import utc_to_ns
from .ground_build import build_sites, dish_rows
from .sold_out import SoldOutSplit, SplitTimeline, split_partly_admitted
from .inputs import input_file
from .run_warnings import epoch_warnings, event_warnings, network_off_warnings, propagation_warnings
from .settings import RunSettings, run_settings

if TYPE_CHECKING:
    from ..capacity.model import CapacityModel
    from ..threats.timeline import Timeline
    from .network_model import NetworkModel
    from .service_model import ServiceModel
    from .terrestrial import Terrestrial


def _read_orbit_file(path: Path, fmt: str) -> OrbitElements:
    from ..space import omm, tle

    if not path.exists():
        raise InputError("no such file", source=str(path))
    if fmt == "auto":
        inner = path.with_suffix("") if path.suffix.lower() == ".gz" else path  # starlink.tle.gz -> .tle
        fmt = "omm" if inner.suffix.lower() in (".json", ".csv", ".xml") else "tle"
    return tle.read_tle(path) if fmt == "tle" else omm.read_omm(path)


def check_flyable(elements: OrbitElements, source: str) -> None:
    """Refuse orbits that run through the Earth and catalog numbers given twice, naming the file
    and the satellite (the readers accept both: they read what the format allows)."""
    from ..space.elements import implausible_orbit, repeated_catalog_id

    bad = implausible_orbit(elements.mean_motion_rev_per_day, elements.eccentricity)
    if bad is not None:
        i, reason = bad
        raise InputError(reason, source, f"satellite {quote(elements.name[i])} (catalog {elements.catalog_id[i]})")
    repeat = repeated_catalog_id(elements.catalog_id)
    if repeat is not None:
        i, j = repeat
        raise InputError(f"catalog number {elements.catalog_id[j]} is given twice ({quote(elements.name[i])} and "
                         f"{quote(elements.name[j])}); keep one element set per satellite", source,
                         f"satellite {quote(elements.name[j])}")


def _walker_part(k: int, spec, start_ns: int) -> tuple:
    """(shell name, elements, plane, slot, False: planes given) of the Walker shell
    ``constellation.shells[k]``."""
    shell = WalkerShell(
        name=spec.name or f"shell{k + 1}",
        altitude_m=spec.altitude_km * 1000.0,
        inclination_deg=spec.inclination_deg,
        planes=spec.planes,
        sats_per_plane=spec.sats_per_plane,
        epoch_ns=utc_to_ns(spec.epoch) if spec.epoch is not None else start_ns,
        raan_spread_deg=spec.raan_spread_deg,
        phasing=spec.phasing,
        walker_f=spec.walker_f,
        raan_offset_deg=spec.raan_offset_deg,
        eccentricity=spec.eccentricity,
        arg_perigee_deg=spec.arg_perigee_deg,
        mean_motion_rev_per_day=spec.mean_motion_rev_per_day,
    )
    return (shell.name, *walker_elements(shell), False)


def _orbit_file_part(scenario: Scenario, k: int, spec, start_ns: int) -> tuple:
    """(shell name, elements, plane, slot, whether the planes were inferred) of the orbit file
    ``constellation.orbit_files[k]``, read and checked (flyable, catalog numbers once each). The
    shell is named ``shell``, or else after the file."""
    from ..space import planes as planes_mod

    path = input_file(scenario, spec.path, f"constellation.orbit_files[{k}].path")
    if spec.format == "hypatia":
        from ..space.hypatia_tles import read_hypatia_tles

        if not path.exists():
            raise InputError("no such file", source=str(path))
        elements, plane, slot = read_hypatia_tles(path)
    else:
        elements = _read_orbit_file(path, spec.format)
    if len(elements) == 0:
        raise InputError("holds no satellites", source=str(path))
    check_flyable(elements, str(path))
    if spec.station_keeping:  # no natural decay: the operator keeps the altitude
        import dataclasses

        zero = np.zeros(len(elements))
        elements = dataclasses.replace(elements, bstar_per_earth_radius=zero, mean_motion_dot_rev_per_day2=zero,
                                       mean_motion_ddot_rev_per_day3=zero)
    inferred = False
    if spec.format == "hypatia" and not spec.plane_assignment:
        pass  # planes and slots come from the file's order
    elif spec.plane_assignment:
        plane, slot = planes_mod.read_plane_assignment(
            input_file(scenario, spec.plane_assignment, f"constellation.orbit_files[{k}].plane_assignment"),
            elements.catalog_id
        )
    else:
        plane, slot = planes_mod.infer_planes(elements, at_ns=start_ns)
        inferred = True
    return (spec.shell or path.stem, elements, plane, slot, inferred)


def build_constellation(scenario: Scenario) -> Constellation:
    """Walker shells first, then orbit files, in the order the scenario gives them; records which
    shells had their planes inferred (``Constellation.inferred_plane_shells``)."""
    start_ns = utc_to_ns(scenario.time.start)
    parts = [_walker_part(k, spec, start_ns) for k, spec in enumerate(scenario.constellation.shells)]
    parts += [_orbit_file_part(scenario, k, spec, start_ns) for k, spec in enumerate(scenario.constellation.orbit_files)]
    names = [p[0] for p in parts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"shell names must be unique; repeated: {', '.join(dupes)}", location="constellation")
    frame = FrameConvention(scenario.frames.earth_rotation, scenario.frames.polar_motion)
    if frame.earth_rotation == "ut1":  # refuse dates before the IERS table (and warn) now, not mid-run
        from ..space.earth_rotation import ut1_minus_utc_s

        ut1_minus_utc_s(np.array([start_ns, start_ns + int(scenario.time.duration_s * 1e9)]))
    return Constellation.from_parts([p[:4] for p in parts], frame=frame,
                                    inferred_plane_shells=tuple(p[0] for p in parts if p[4]))




@dataclass
class SimulationModel:
    """A scenario made concrete: its satellites, its sites, its instants, and what the engine
    needs of the rest, read once by :func:`build_model`.

    The step, its stages, the results contract and the runner read :attr:`settings` and the
    built parts below, never :attr:`scenario`, which is kept only as the door's input: the runner
    writes it to ``scenario.yaml`` (and checks that ``run(model=...)`` was built for the scenario
    it runs), and :func:`model_with_events` compares it with a variant's.

    Attributes
    ----------
    settings : RunSettings, the scenario's switches and scalars.
    constellation : the satellites (N); sites : the ground sites (S); t_ns : (T,) int64 instants, ns.
    masks : (M, 360) horizon masks, deg; mask_of_site : (S,) int64 mask number of each site (-1: clear sky).
    network : NetworkModel (None with the network model off).
    timeline : the events resolved against the sites and satellites (None with the network model off).
    terrestrial : each site's ground internet (None with the network model off).
    capacity : CapacityModel (None with the capacity model off).
    service : ServiceModel (None with the service model off).
    scenario : the validated scenario the model was built from (see above).
    split : SoldOutSplit or None: with the service model's admission, each dish site admitted in
        part is two sites, its admitted dishes (its row and name) and the waiting rest, appended
        as ``<name> (sold out)`` (:func:`~leonet.sim.sold_out.split_partly_admitted`); then
        ``sites`` is the split list and ``split.written`` the scenario's own, which its events
        and obstructions name. None: no site was split.
    """

    settings: RunSettings
    constellation: Constellation
    sites: Sites
    t_ns: np.ndarray = field(repr=False)
    masks: np.ndarray = field(default_factory=lambda: np.zeros((0, 360)), repr=False)
    mask_of_site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    network: NetworkModel | None = field(default=None, repr=False)
    timeline: Timeline | None = field(default=None, repr=False)
    terrestrial: Terrestrial | None = field(default=None, repr=False)
    capacity: CapacityModel | None = field(default=None, repr=False)
    service: ServiceModel | None = field(default=None, repr=False)
    scenario: Scenario | None = field(default=None, repr=False)
    split: SoldOutSplit | None = field(default=None, repr=False)

    @cached_property
    def visibility(self) -> VisibilityIndex:
        """The sites' visibility index (the ground-link rule, masks, nearest k for dishes)."""
        rule = self.settings.visibility
        return VisibilityIndex(
            self.sites.ecef_m, self.sites.lat_deg, self.sites.lon_deg, rule,
            masks=self.masks, mask_of_site=self.mask_of_site if len(self.mask_of_site) else None,
            nearest_sites=np.asarray(self.sites.kind) == "dish",  # gateways and PoPs see everything
            sat_band=altitude_bands(self.constellation) if rule.nearest_k is not None else None,
        )

    @cached_property
    def dish_count(self) -> np.ndarray:
        """(S,) int64: how many identical dishes each site stands for (1 for non-dish sites)."""
        raw = self.sites.attrs.get("dishes")
        if raw is None:
            return np.ones(len(self.sites), dtype=np.int64)
        return np.array([1 if v is None else int(v) for v in raw], dtype=np.int64)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("visibility", None)  # the k-d tree is rebuilt on first use (cheap)
        return state


def altitude_bands(constellation: Constellation, width_m: float = 30e3) -> np.ndarray:
    """(N,) altitude band of each satellite: shells whose mean altitudes lie within ``width_m`` of
    the band's lowest share a band (Gen2: ~340-360, ~525-535 and ~604-614 km -> 3 bands)."""
    from ..space.walker import altitude_m_from_mean_motion

    shell_alt = np.array([
        np.median(altitude_m_from_mean_motion(constellation.elements.mean_motion_rev_per_day[constellation.shell == k]))
        for k in range(len(constellation.shell_names))
    ]) if len(constellation) else np.zeros(0)
    order = np.argsort(shell_alt)
    band_of_shell = np.zeros(len(shell_alt), dtype=np.int64)
    band, base = 0, None
    for k in order:
        if base is None or shell_alt[k] - base > width_m:
            band, base = (band + 1 if base is not None else 0), shell_alt[k]
        band_of_shell[k] = band
    return band_of_shell[constellation.shell] if len(constellation) else np.zeros(0, dtype=np.int64)


def build_masks(scenario: Scenario, sites: Sites) -> tuple[np.ndarray, np.ndarray]:
    """Horizon masks (M, 360) and the mask number of each site (-1: clear sky)."""
    from ..ground.obstructions import horizon_from_points, read_horizon_csv

    masks = []
    mask_of_site = np.full(len(sites), -1, dtype=np.int64)
    for k, spec in enumerate(scenario.ground.obstructions):
        where = f"ground.obstructions[{k}]"
        if spec.file:
            horizon = read_horizon_csv(input_file(scenario, spec.file, f"{where}.file"))
        else:
            az, el = zip(*spec.profile)
            try:
                horizon = horizon_from_points(az, el, source=where)
            except InputError as err:
                raise InputError(err.message, location=f"{where}.profile") from None
        chosen = np.zeros(len(sites), dtype=bool)
        if spec.sites:
            try:
                chosen[sites.index_of(spec.sites)] = True
            except InputError as err:
                raise InputError(err.message, location=f"{where}.sites") from None
        for group in spec.groups:
            in_group = np.asarray(sites.group) == group
            if not in_group.any():
                from ..errors import did_you_mean

                hint = did_you_mean(group, sorted(set(np.asarray(sites.group).tolist())))
                raise InputError(f"no site has group {quote(group)}{hint}", location=f"{where}.groups")
            chosen |= in_group
        masks.append(horizon)
        mask_of_site[chosen] = len(masks) - 1
    return (np.array(masks) if masks else np.zeros((0, 360))), mask_of_site


def build_timeline(scenario: Scenario, model: SimulationModel) -> Timeline | SplitTimeline:
    """The scenario's events resolved against ``model``'s sites, satellites and network
    (:class:`~leonet.threats.timeline.Timeline`); the providers table is read here. With sites
    split by admission (``model.split``), the events are resolved against the scenario's sites as
    written and each sold-out part shares its site's (:class:`SplitTimeline`)."""
    from ..space.propagate import propagate
    from ..threats.timeline import Timeline

    net = model.network
    providers = None
    if scenario.terrestrial.providers is not None:
        from ..threats.providers import load_providers

        try:
            providers = load_providers(scenario.terrestrial.providers, scenario.base_dir)
        except InputError as err:
            raise InputError(err.message, source=err.source, location=err.location or "terrestrial.providers") from None
    timeline = Timeline(
        list(scenario.events), int(model.t_ns[0]) if len(model.t_ns) else 0,
        model.sites if model.split is None else model.split.written, model.constellation,
        net.gateway_sites, net.pop_sites, net.gateway_pop, net.backbone,   # the same rows in both: parts come last
        positions_at=lambda t: propagate(model.constellation, np.array([t], dtype=np.int64)).ecef_m[0],
        providers=providers,
    )
    return timeline if model.split is None else SplitTimeline(timeline, model.split.parent)


def _with_warnings(network: NetworkModel, drop: list[str], add: list[str]) -> NetworkModel:
    """``network`` with the warnings ``drop`` taken out and ``add`` put in (the same object when
    that changes nothing). The run's warnings live in :attr:`NetworkModel.warnings`."""
    import dataclasses

    kept = tuple(w for w in network.warnings if w not in set(drop))
    warnings = kept + tuple(w for w in add if w not in kept)
    return network if warnings == network.warnings else dataclasses.replace(network, warnings=warnings)


def _build_network_parts(scenario: Scenario, model: SimulationModel) -> None:
    """Network, timeline, terrestrial, capacity and service models of ``model`` (as the scenario
    turns them on), in the order each needs the one before. The run's warnings (the network
    model's, satellites SGP4 cannot propagate, events after the calendar's end) end up in
    ``model.network.warnings``."""
    from .network_model import build_network_model
    from .service_model import build_admission, build_service_model
    from .terrestrial import build_terrestrial

    admitted = None
    if scenario.capacity.enabled:
        model.capacity = _capacity_model(scenario, model.sites)
        if scenario.service.enabled:  # background and admission first: they may split sites
            admitted = _split_sold_out(scenario, model, build_admission(model, scenario))
    model.network = build_network_model(scenario, model.constellation, model.sites)  # ISL lists, pairs
    split_note = ([model.split.note(int(model.dish_count[model.network.dish_sites].sum()),
                                    int(admitted.n_admitted.sum()))] if model.split is not None else [])
    model.network = _with_warnings(model.network, [], propagation_warnings(model.constellation, model.t_ns)
                                   + epoch_warnings(scenario, model.constellation, model.t_ns)
                                   + event_warnings(scenario) + split_note)
    model.timeline = build_timeline(scenario, model)  # checks event targets
    model.terrestrial = build_terrestrial(scenario, model.sites)
    if admitted is not None:  # kits, caps, traffic, latency
        model.service = build_service_model(model, scenario, admitted)


def _capacity_model(scenario: Scenario, sites: Sites) -> CapacityModel:
    from ..capacity.model import build_capacity_model

    return build_capacity_model(scenario.capacity, sites.take(dish_rows(sites)), scenario.visibility.min_elevation_deg)


def _split_sold_out(scenario: Scenario, model: SimulationModel, admitted):
    """Make each dish site of ``model`` admitted in part two sites (:func:`split_partly_admitted`):
    its sites, horizon masks and capacity model's cells, and ``model.split``. Returns
    ``admitted`` (:class:`~leonet.sim.service_model.Admission`, of the sites as written) over the
    dish sites after the split: the same dishes admitted, a sold-out part none."""
    written = model.sites
    rows = dish_rows(written)
    sites, split = split_partly_admitted(written, rows, model.dish_count[rows], admitted.n_admitted)
    if split is None:
        return admitted
    model.sites, model.split = sites, split
    if len(model.mask_of_site):
        model.mask_of_site = model.mask_of_site[split.parent]   # a part stands where its site does
    for name in ("dish_count", "visibility"):   # computed on first use: of the written sites
        model.__dict__.pop(name, None)
    model.capacity = _capacity_model(scenario, sites)   # a cell per dish site, parts included
    new_rows = dish_rows(sites)
    return admitted.after_split(np.searchsorted(rows, split.parent[new_rows]), new_rows >= len(written))


def same_but_events(a: Scenario, b: Scenario) -> bool:
    """Whether two scenarios differ only in their events and name (their built models can share
    everything but the timeline)."""
    skip = {"events", "name", "description"}
    return (a.model_dump(mode="json", exclude=skip) == b.model_dump(mode="json", exclude=skip))


#: The parts of a built model computed on first use that do not depend on a scenario's events
#: (shared by its variants; the network, capacity, service and terrestrial models are fields,
#: shared by ``dataclasses.replace``).
_EVENT_FREE_PARTS = ("visibility", "dish_count")


def share_event_free_parts(base: SimulationModel, model: SimulationModel) -> None:
    """Give ``model`` the event-free parts ``base`` has built and it has not (visibility index,
    network, capacity, service and terrestrial models); the two scenarios must differ only in
    their events (:func:`same_but_events`). Variants unpickled in a worker share them again so."""
    for name in _EVENT_FREE_PARTS:
        if name in base.__dict__ and name not in model.__dict__:
            model.__dict__[name] = base.__dict__[name]


def model_with_events(base: SimulationModel, scenario: Scenario) -> SimulationModel:
    """``base`` (a built model) for ``scenario``, which differs from ``base.scenario`` only in its
    events: constellation, sites, visibility index, network, capacity and service model are
    shared; the events are resolved (and checked) anew. Exactly what :func:`build_model` would
    give, without reading and building the inputs again."""
    import dataclasses

    if not same_but_events(base.scenario, scenario):
        raise ValueError("model_with_events: the scenarios differ in more than their events")
    model = dataclasses.replace(base, settings=run_settings(scenario), scenario=scenario, timeline=None)
    share_event_free_parts(base, model)
    if scenario.network.enabled:
        model.network = _with_warnings(base.network, event_warnings(base.scenario), event_warnings(scenario))
        try:
            model.timeline = build_timeline(scenario, model)  # resolves the variant's events now
        except InputError as err:
            if err.source is not None:
                raise
            raise InputError(err.message, source=scenario.source,
                             location=location_with_line(scenario.source, err.location, scenario._overridden)) from None
    return model


def as_scenario(scenario) -> Scenario:
    """``scenario`` as a :class:`Scenario`: one already, a preset name or YAML path
    (:func:`leonet.load_scenario`), or a dict as parsed from YAML (:func:`leonet.scenario_from_dict`);
    anything else is a TypeError saying so (a dict read as a scenario failed deep in the budget
    with "'dict' object has no attribute 'constellation'")."""
    if isinstance(scenario, Scenario):
        return scenario
    from ..scenario.loading import load_scenario, scenario_from_dict

    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario)
    raise TypeError(f"a scenario is a leonet.Scenario, a preset name or YAML path, or a dict; got "
                    f"{type(scenario).__name__}")


def build_model(scenario: Scenario, max_memory_bytes: int | None = None, workers: int = 1) -> SimulationModel:
    """Read every input of ``scenario`` and build the arrays the simulation runs on.

    The run's size is checked first from the scenario alone and again once every file is read
    (:mod:`leonet.sim.budget`): a run that would need more than ``max_memory_bytes`` (default
    80 % of this machine's memory) is refused with the estimate and the ways to proceed. Every
    input file is read and every field checked here, before anything is written.
    """
    scenario = as_scenario(scenario)
    try:
        from . import budget

        budget.check_run_size(scenario, max_memory_bytes, workers)
        constellation = build_constellation(scenario)
        sites = build_sites(scenario)
        budget.check_size(budget.scenario_size(scenario, len(constellation), len(sites), workers,
                                                stations=int((sites.kind == "station").sum())), max_memory_bytes,
                          source=scenario.source)
        masks, mask_of_site = build_masks(scenario, sites)
        t_ns = utc_to_ns(scenario.time.start) + scenario.time.offsets_ns()
        model = SimulationModel(settings=run_settings(scenario), constellation=constellation, sites=sites, t_ns=t_ns,
                                masks=masks, mask_of_site=mask_of_site, scenario=scenario)
        if scenario.network.enabled:
            _build_network_parts(scenario, model)
        else:  # no network model, no run.json warnings: said on stderr (as the IERS table's)
            import warnings

            for text in (propagation_warnings(constellation, t_ns) + epoch_warnings(scenario, constellation, t_ns)
                         + network_off_warnings(scenario)):
                warnings.warn(text, stacklevel=2)
    except InputError as err:
        if err.source is not None:
            raise
        # Problems found while building name a field of the scenario: say which scenario, and the line.
        raise InputError(err.message, source=scenario.source,
                         location=location_with_line(scenario.source, err.location, scenario._overridden)) from None
    return model
