"""The JSON files a run writes beside its tables so that readers need nothing else: their shapes
(pydantic models) and how to read them. The engine fills them (:mod:`leonet.sim.contract`); the
app, the report, the summaries and the exports read them here and never open the scenario's
input files (a horizon mask given as ``file: horizon.csv`` is stored resolved, for instance).

Files (all in the results folder):

- ``run.json`` (:class:`RunFacts`): description, slot period and offset, minimum elevation,
  laser-link rules, congestion threshold, the state vocabulary, the run's warnings;
- ``obstructions.json`` (:class:`Obstructions`): horizon masks (M, 360) deg and each site's mask;
- ``events.json`` (list of :class:`EventRecord`): each event's resolved instants and targets;
- ``isl_candidates.json`` (:class:`IslCandidates`): the laser-link candidate pairs.

A folder written before these files existed (manifest format 1) reads as a run without masks,
events, lasers or warnings, and says so in :attr:`RunContract.notes`. A later folder lacking one
of them is damaged (:class:`~leonet.results.store.DamagedResults` naming the file), as a folder
lacking a chunk is: the run writes all four (:meth:`~leonet.results.store.ResultStore.written_files`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from .store import EVENTS_FILE, ISL_FILE, OBSTRUCTIONS_FILE, RUN_FILE, ResultStore

N_AZIMUTH = 360


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StateRecord(_Model):
    """One dish state of :mod:`leonet.states`, as stored."""

    name: str
    code: int
    dish_word: str
    colour: str
    outage: bool
    meaning: str


class SlotFacts(_Model):
    period_s: float = Field(15.0, gt=0)
    offset_s: float = 12.0
    policy: str = "highest-elevation"


class IslFacts(_Model):
    topology: str = "none"
    grazing_height_m: float = 80e3
    max_range_m: float | None = None


class RunFacts(_Model):
    """``run.json``: what readers need to know about the run besides its tables."""

    name: str
    description: str = ""
    network: bool = False
    capacity: bool = False
    min_elevation_deg: float | None = None
    slot: SlotFacts = SlotFacts()
    isl: IslFacts = IslFacts()
    congested_below_mbps: float | None = None
    states: list[StateRecord] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Obstructions(_Model):
    """``obstructions.json``: resolved horizon masks, lowest clear elevation (deg) at azimuth
    0..359 deg, and the mask number of each site (-1: clear sky)."""

    masks_deg: list[list[float]] = Field(default_factory=list)
    mask_of_site: list[int] = Field(default_factory=list)


class EventRecord(_Model):
    """One event of ``events.json``: the instants it acts on ([start, end), end None when it
    lasts past the run) and what it hits (site names, satellite indices, gateway names whose
    fibre is cut, backbone links as PoP-name pairs)."""

    name: str
    type: str
    description: str = ""
    start_ns: int
    end_ns: int | None = None
    sites: list[str] = Field(default_factory=list)
    satellites: list[int] = Field(default_factory=list)
    satellite_fail_ns: list[int] | None = Field(None, description="satellite_failures: failure instant of each satellite.")
    gateway_fibres: list[str] = Field(default_factory=list)
    backbone_links: list[list[str]] = Field(default_factory=list)


class IslCandidates(_Model):
    """``isl_candidates.json``: (E, 2) satellite index pairs that may hold a laser link."""

    pairs: list[list[int]] = Field(default_factory=list)


@dataclass
class RunContract:
    """Everything a reader needs from a results folder besides its tables, typed.

    ``masks`` (M, 360) float64 deg; ``mask_of_site`` (S,) int64; ``isl_pairs`` (E, 2) int64.
    ``notes`` says what an older folder lacks.
    """

    facts: RunFacts
    masks: np.ndarray
    mask_of_site: np.ndarray
    events: list[EventRecord]
    isl_pairs: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """The run's warnings, then what this folder lacks."""
        return list(self.facts.warnings) + list(self.notes)


def _parse(store: ResultStore, name: str, model, default):
    raw = store.read_json(name)  # None: an older leonet's folder; missing but written: DamagedResults
    if raw is None:
        return None
    entry = None
    try:
        if not isinstance(model, list):
            return model.model_validate(raw)
        out = []
        for entry, e in enumerate(raw):
            out.append(model[0].model_validate(e))
        return out
    except ValidationError as err:
        # name the field pydantic refused ("[0].sites: Field required"), as manifest.json's errors do
        first = err.errors()[0]
        where = (f"[{entry}]" if entry is not None else "") + "".join(f".{x}" for x in first["loc"])
        raise InputError(f"{name} is damaged: {where.lstrip('.') or '(top level)'}: {first['msg']}",
                         source=str(store.root)) from None
    except (TypeError, AttributeError) as err:
        raise InputError(f"{name} is damaged: {str(err).splitlines()[0][:200]}", source=str(store.root)) from None


def read_contract(store: ResultStore) -> RunContract:
    """The contract files of ``store`` (see module docstring), checked."""
    m = store.manifest
    notes = []
    facts = _parse(store, RUN_FILE, RunFacts, None)
    if facts is None:
        notes.append("this results folder was written by an older leonet (no run.json): "
                     "no warnings, horizon masks, events or laser links were stored")
        facts = RunFacts(name=m.scenario)
    obs = _parse(store, OBSTRUCTIONS_FILE, Obstructions, None) or Obstructions()
    masks = np.asarray(obs.masks_deg, dtype=np.float64).reshape(-1, N_AZIMUTH)
    mask_of_site = np.asarray(obs.mask_of_site, dtype=np.int64) if obs.mask_of_site else np.full(m.n_sites, -1, np.int64)
    if len(mask_of_site) != m.n_sites or (len(mask_of_site) and mask_of_site.max() >= len(masks)):
        raise InputError(f"{OBSTRUCTIONS_FILE} does not match the run's {m.n_sites} sites and {len(masks)} masks",
                         source=str(store.root))
    events = _parse(store, EVENTS_FILE, [EventRecord], None) or []
    isl = _parse(store, ISL_FILE, IslCandidates, None) or IslCandidates()
    pairs = np.asarray(isl.pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= m.n_satellites):
        raise InputError(f"{ISL_FILE} names satellites outside 0..{m.n_satellites - 1}", source=str(store.root))
    return RunContract(facts=facts, masks=masks, mask_of_site=mask_of_site, events=events, isl_pairs=pairs, notes=notes)
