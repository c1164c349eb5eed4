"""Variants of one scenario, run as one study: the engine under every planning command.

A :class:`Variant` is the base scenario with dotted-field overrides and/or events added (or the
base's own events dropped). :func:`run_variants` runs each into ``STUDY/variants/<name>`` (a normal
results folder: `leonet summary`, `report` and `serve` work on it), in this process, on local
processes or on a Dask cluster, and returns one tidy table: a row per variant, its labels and the
region metrics of :mod:`.metrics`. Running the same study again resumes: finished variants are
read back, not recomputed (each variant's run resumes by itself).
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd

from ..errors import InputError, LeonetError
from .metrics import region_metrics

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


def _run_one(base_data: dict, base_dir: str, variant: Variant, out_dir: str, groups: list[str] | None) -> dict:
    """Run one variant (or read it back when it is complete) and return its metrics."""
    from ..sim.runner import run

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    sc = scenario_for(base_data, base_dir, variant)
    run(sc, out_dir=out_dir, overwrite=True, model=_shared_model(base_data, base_dir, sc))
    return region_metrics(out_dir, groups)


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
                 max_variants: int = DEFAULT_MAX_VARIANTS) -> pd.DataFrame:
    """Run every variant of ``base`` and return the study table (also written to
    ``study_dir/variants.parquet``): one row per variant with its labels, metrics and folder."""
    if not variants:
        raise InputError("the study has no variants")
    if len(variants) > max_variants:
        raise InputError(f"the study has {len(variants):,} variants, more than the limit of {max_variants:,}; "
                         "narrow it down or raise the limit explicitly (max_variants / --max-variants)")
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}", location="--workers")
    _unique(variants)
    root = Path(study_dir)
    root.mkdir(parents=True, exist_ok=True)
    base_data = scenario_data(base)
    for v in variants:  # validate every variant before running any
        scenario_for(base_data, base.base_dir, v)
    (root / STUDY_FILE).write_text(json.dumps({"kind": kind, "base": base.name, "groups": groups,
                                               "variants": [v.name for v in variants]}, indent=1))
    payloads = [(base_data, base.base_dir, v, str(root / "variants" / folder_name(v.name)), groups) for v in variants]
    results: dict[str, dict] = {}
    done = 0
    if progress:
        progress(0, len(variants))
    for name, metrics in _execute(payloads, workers, dask):
        results[name] = metrics
        done += 1
        if progress:
            progress(done, len(variants))
    rows = []
    for v, p in zip(variants, payloads):
        rows.append({"variant": v.name, **v.labels, **results[v.name], "results": p[3]})
    table = pd.DataFrame(rows)
    tmp = root / f".{TABLE_FILE}.tmp"
    table.to_parquet(tmp, index=False)
    os.replace(tmp, root / TABLE_FILE)
    return table


def _execute(payloads: list[tuple], workers: int, dask: str | None) -> Iterable[tuple[str, dict]]:
    if dask:
        yield from _execute_dask(payloads, dask, workers)
    elif workers > 1 and len(payloads) > 1:
        yield from _execute_processes(payloads, workers)
    else:
        for p in payloads:
            yield p[2].name, _run_one(*p)


def _execute_processes(payloads: list[tuple], workers: int) -> Iterable[tuple[str, dict]]:
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
    pending = {}
    queue = list(payloads)
    try:
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                p = queue.pop(0)
                pending[pool.submit(_run_one, *p)] = p[2].name
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                name = pending.pop(fut)
                try:
                    yield name, fut.result()
                except BrokenProcessPool:
                    raise LeonetError("a worker process died (killed or out of memory); finished variants are kept - "
                                      "run the same command again to resume") from None
    finally:
        for fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _execute_dask(payloads: list[tuple], address: str, workers: int) -> Iterable[tuple[str, dict]]:
    from ..sim.executors import dask_client

    with dask_client(address, workers) as (client, as_completed):
        futures = {client.submit(_run_one, *p, pure=False): p[2].name for p in payloads}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
