"""Variants of one scenario, run as one study: the engine under every planning command.

A :class:`Variant` is the base scenario with dotted-field overrides and/or events added (or the
base's own events dropped). :func:`run_variants` runs each into ``STUDY/variants/<name>`` (a normal
results folder: `leonet summary`, `report` and `serve` work on it), in this process, on local
processes or on a Dask cluster (:func:`leonet.sim.executors.run_tasks`, the executor runs use),
and returns one tidy table: a row per variant, its labels, the region metrics of :mod:`.metrics`
and the ``path`` it took. Running the same study again resumes: finished variants are read back,
not recomputed (each variant's run resumes by itself).

Stage reuse. Variants that differ from each other only in their events (N-1 over gateways, PoPs,
fibre or planes; Monte Carlo draws of failures or jammers at one parameter setting) run together
(``path`` "shared-steps", :func:`leonet.sim.runner.run_group`): one build, and each step's
positions, visibility and sky-only links computed once for all of them, the stages after per
variant (allocation and service once for variants whose dishes' routes agree). Every folder
equals its variant's standalone run. Variants that change anything else (dish counts, sites,
constellation, time) are built and run on their own (``path`` "independent"; those that change
only events still share the base's build).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import InputError
from .metrics import check_region, region_metrics

#: Refuse studies larger than this without an explicit ``max_variants``.
DEFAULT_MAX_VARIANTS = 2_000
STUDY_FILE = "study.json"
TABLE_FILE = "variants.parquet"


@dataclass(frozen=True)
class Variant:
    """One variant: ``overrides`` (dotted field -> value), ``add_events`` (event dicts in the
    scenario's format), ``keep_events`` (False: drop the base's own events, e.g. a baseline), and
    ``labels`` (what this variant stands for, as columns of the study table)."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    add_events: tuple[dict, ...] = ()
    keep_events: bool = True
    labels: dict[str, Any] = field(default_factory=dict)


def folder_name(name: str) -> str:
    """A variant name made safe as a folder and scenario name (letters, digits, . _ -)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "variant"
    return safe[:120]


def scenario_data(base) -> dict:
    """The base scenario as the dict it would be read from (resolved, without its base_dir)."""
    data = base.model_dump(mode="json", exclude_none=True)
    data.pop("base_dir", None)
    return data


def scenario_for(base_data: dict, base_dir: str, variant: Variant):
    """The scenario of one variant (validated; errors name the variant)."""
    from ..scenario import scenario_from_dict

    data = dict(base_data)
    events = list(data.get("events", [])) if variant.keep_events else []
    data["events"] = events + [dict(e) for e in variant.add_events]
    data["name"] = folder_name(f"{base_data['name']}.{variant.name}")
    return scenario_from_dict(data, source=f"variant {variant.name}", base_dir=base_dir,
                              overrides=dict(variant.overrides))


#: Per process: the built base scenario of the study in hand (digest of its data -> model), so
#: that variants which change only events share one build (inputs read, sites placed, network,
#: capacity and service models made once per process, not once per variant).
_BUILT: dict[str, object] = {}


def _shared_model(base_data: dict, base_dir: str, sc):
    """The variant's model, built from the process's shared base build when the variant changes
    only events; None when it changes more (it is built on its own)."""
    import hashlib

    from ..sim.model import build_model, model_with_events, same_but_events

    key = hashlib.sha256(json.dumps([base_data, base_dir], sort_keys=True, default=str).encode()).hexdigest()
    base = _BUILT.get(key)
    if base is None:
        base_sc = scenario_for(base_data, base_dir, Variant("base"))
        if not same_but_events(base_sc, sc):
            return None
        _BUILT.clear()  # one study at a time per process
        base = _BUILT[key] = build_model(base_sc)
    if not same_but_events(base.scenario, sc):
        return None
    return model_with_events(base, sc)


#: The ``path`` column of a study table: how each variant was run.
SHARED, INDEPENDENT = "shared-steps", "independent"


def _run_unit(shared: tuple, variants: tuple[Variant, ...], out_dirs: tuple[str, ...],
              progress: Callable[[int, int], None] | None = None) -> dict[str, dict]:
    """Run one unit of a study (one variant, or variants that differ only in events, together)
    or read it back when complete; return each variant's metrics and path, by name."""
    from ..sim.model import build_model, model_with_events
    from ..sim.runner import run, run_group

    base_data, base_dir, groups = shared
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    scs = [scenario_for(base_data, base_dir, v) for v in variants]
    if len(scs) == 1:
        run(scs[0], out_dir=out_dirs[0], overwrite=True, model=_shared_model(base_data, base_dir, scs[0]))
        path = INDEPENDENT
    else:
        first = _shared_model(base_data, base_dir, scs[0]) or build_model(scs[0])
        models = [first] + [model_with_events(first, sc) for sc in scs[1:]]
        steps = len(first.t_ns)
        run_group(scs, list(out_dirs), models=models, overwrite=True,
                  progress=(lambda d, t: progress(d // max(steps, 1), len(scs))) if progress else None)
        path = SHARED
    return {v.name: {**region_metrics(d, groups), "path": path} for v, d in zip(variants, out_dirs)}


def _event_free_key(sc) -> str:
    """What a variant's scenario is apart from its events and name: variants with the same key
    differ only in events and step together."""
    return json.dumps(sc.model_dump(mode="json", exclude={"events", "name", "description"}), sort_keys=True,
                      default=str)


#: The most variants one unit steps through together (each holds its results folder's lock, an
#: open file, and its rows of the chunk in hand); larger classes are split into several units.
MAX_TOGETHER = 64


def _units(scenarios: list, lanes: int) -> list[list[int]]:
    """Variant numbers grouped into units: those that differ only in events together (at most
    :data:`MAX_TOGETHER`), each class split into up to ``lanes`` parts when there are fewer
    classes than lanes (parallel work)."""
    classes: dict[str, list[int]] = {}
    for k, sc in enumerate(scenarios):
        classes.setdefault(_event_free_key(sc), []).append(k)
    units = []
    split = len(classes) < lanes
    for members in classes.values():
        parts = min(len(members), lanes) if split else 1
        per = min(-(-len(members) // parts), MAX_TOGETHER)
        units += [members[i:i + per] for i in range(0, len(members), per)]
    return units


def _unique(variants: list[Variant]) -> None:
    seen: dict[str, str] = {}
    for v in variants:
        key = folder_name(v.name)
        if key in seen:
            raise InputError(f"two variants share the folder name {key!r} ({seen[key]!r} and {v.name!r})")
        seen[key] = v.name


def run_variants(base, variants: list[Variant], study_dir: str | Path, *, groups: list[str] | None = None,
                 workers: int = 1, dask: str | None = None, kind: str = "study",
                 progress: Callable[[int, int], None] | None = None,
                 max_variants: int = DEFAULT_MAX_VARIANTS, append: bool = False,
                 groups_where: str = "--groups") -> pd.DataFrame:
    """Run every variant of ``base`` and return the table of these variants: one row per variant
    with its labels, metrics, ``path`` (:data:`SHARED`: stepped together with variants that
    differ from it only in events; :data:`INDEPENDENT`: run on its own) and folder.

    The study's table (``study_dir/variants.parquet``) and ``study.json`` hold these variants, or,
    with ``append`` (a later batch of the same study: a search's next round), every variant the
    study ran so far, this batch's rows replacing earlier rows of the same name. ``groups``
    (named at ``groups_where`` in errors) must select dishes in every variant; that, like every
    variant's scenario, is checked before anything runs."""
    if not variants:
        raise InputError("the study has no variants")
    if len(variants) > max_variants:
        raise InputError(f"the study has {len(variants):,} variants, more than the limit of {max_variants:,}; "
                         "narrow it down or raise the limit explicitly (max_variants / --max-variants)")
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", location="--workers")
    _unique(variants)
    root = Path(study_dir)
    base_data = scenario_data(base)
    scenarios = [scenario_for(base_data, base.base_dir, v) for v in variants]  # validates every one first
    checked: set[str] = set()
    for sc in scenarios:  # the region has dishes in each variant (once per distinct dish side)
        ground = sc.ground.model_dump(mode="json")
        ground["sites"] = [s for s in ground.get("sites", []) if s.get("kind") == "dish"]  # added gateways alike
        key = json.dumps([ground, sc.network.enabled], sort_keys=True, default=str)
        if key not in checked:
            check_region(sc, groups, groups_where)
            checked.add(key)
    root.mkdir(parents=True, exist_ok=True)  # only once the study is known to be sound
    earlier = _earlier(root) if append else None
    names = ([n for n in earlier[0].get("variants", []) if n not in {v.name for v in variants}] if earlier else [])
    meta = {**(earlier[0] if earlier else {}), "kind": kind, "base": base.name, "groups": groups,
            "variants": names + [v.name for v in variants]}
    if not append:
        meta.pop("result", None)  # a new study: an earlier result no longer holds
    _write_json(root / STUDY_FILE, meta)
    dirs = [str(root / "variants" / folder_name(v.name)) for v in variants]
    lanes = workers if (workers > 1 or dask) else 1
    units = _units(scenarios, lanes)
    shared = (base_data, base.base_dir, groups)
    results: dict[str, dict] = {}
    total = len(variants)
    if progress:
        progress(0, total)
    if dask or (workers > 1 and len(units) > 1):
        from ..sim.executors import run_tasks

        tasks = [(k, (tuple(variants[i] for i in unit), tuple(dirs[i] for i in unit))) for k, unit in enumerate(units)]
        for _, metrics in run_tasks(_run_unit, shared, tasks, workers, dask, what="variants"):
            results.update(metrics)
            if progress:
                progress(len(results), total)
    else:
        for unit in units:
            done = len(results)
            step = (lambda d, t, done=done: progress(done + d, total)) if progress else None
            results.update(_run_unit(shared, tuple(variants[i] for i in unit), tuple(dirs[i] for i in unit), step))
            if progress:
                progress(len(results), total)
    rows = []
    for v, d in zip(variants, dirs):
        rows.append({"variant": v.name, **v.labels, **results[v.name], "results": d})
    table = pd.DataFrame(rows)
    whole = table
    if earlier is not None and earlier[1] is not None:
        kept = earlier[1][~earlier[1]["variant"].isin(table["variant"])]
        whole = pd.concat([kept, table], ignore_index=True) if len(kept) else table
    tmp = root / f".{TABLE_FILE}.tmp"
    whole.to_parquet(tmp, index=False)
    os.replace(tmp, root / TABLE_FILE)
    return table


def _earlier(root: Path) -> tuple[dict, pd.DataFrame | None] | None:
    """The study's ``study.json`` and table so far (None for a folder without a study)."""
    meta_path = root / STUDY_FILE
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read the study's {STUDY_FILE} ({err})", source=str(root)) from None
    table = pd.read_parquet(root / TABLE_FILE) if (root / TABLE_FILE).exists() else None
    return meta, table


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(value, indent=1, default=_plain))
    os.replace(tmp, path)


def _plain(v):
    """JSON for numpy scalars and arrays (a study result's metrics)."""
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"{type(v).__name__} is not JSON")


def write_study_result(study_dir: str | Path, result: dict) -> None:
    """Record a study's answer (a capacity limit, the gateways placed) in its ``study.json``
    under ``result``, where its report and readers find it."""
    path = Path(study_dir) / STUDY_FILE
    meta = json.loads(path.read_text()) if path.exists() else {}
    meta["result"] = result
    _write_json(path, meta)



class RunningProgress:
    """A progress callback that counts on across the batches of a study that runs
    :func:`run_variants` several times (capacity-limit's bisection, placement's rounds): a batch's
    (done, total) is shown after the variants of the batches before it, so the bar does not
    restart at every round. Call :meth:`batch_done` after each batch."""

    def __init__(self, progress):
        self.progress = progress
        self.before = 0

    def __call__(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.before + done, self.before + total)

    def batch_done(self, variants: int) -> None:
        self.before += variants
