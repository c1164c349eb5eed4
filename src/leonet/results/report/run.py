"""The run as the report reads it: the manifest, the calendar, the sites, the summaries, and the
dish figures of :mod:`.dishfigures`; plus chunk-by-chunk readers of the per-step tables.

Nothing here holds a per-step table whole: the summaries take ``dish_steps`` apart a block of
whole dish groups at a time (:mod:`leonet.results.blocks`), and the readers below go through the
chunk files one at a time (a chunk file holds a run of consecutive steps, and the files come in
step order), so memory stays flat in the length of the run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..calendar import calendar
from ..contract import read_contract
from ..store import ResultStore
from ..summary import BUDGET_ROWS, NetworkSummary, network_summary
from .dishfigures import DishFigures, dish_figures
from .markup import palette_colour


class ReportRun:
    """What the sections read: ``store``, ``manifest``, ``contract``, ``facts``, ``calendar``
    (``cal``), ``sites`` (one row per site, ``group`` "" when none), ``net`` (the network
    summary, None without dish_steps), ``groups`` (service per dish group), ``dish_group``
    ((S,) group of each site, "dish" when none), ``picked`` (the dishes drawn one line each in
    the RTT CDF) and ``figures`` (:class:`DishFigures`).

    ``budget_rows``: the most dish_steps rows held at once (default
    :data:`leonet.results.summary.BUDGET_ROWS`)."""

    def __init__(self, store: ResultStore, max_dishes: int = 50, budget_rows: int | None = None):
        self.store = store
        self.budget_rows = BUDGET_ROWS if budget_rows is None else int(budget_rows)
        self.manifest = store.read_manifest()
        store.verify()  # a damaged or missing chunk stops the report, naming the file
        self.contract = read_contract(store)
        self.facts = self.contract.facts
        self.slot_s = self.facts.slot.period_s
        self.tables = store.tables()
        self.sites = store.read("sites", columns=["name", "kind", "group", "lat_deg", "lon_deg"]).to_pandas()
        self.sites["group"] = self.sites["group"].fillna("").astype(str)
        self.net: NetworkSummary | None = (network_summary(store, budget_rows=self.budget_rows)
                                           if "dish_steps" in self.tables else None)
        groups = self.net.by_group() if self.net is not None else pd.DataFrame()
        self.groups = groups if len(groups) else pd.DataFrame()
        self.has_dishes = self.net is not None and len(self.net.per_dish) > 0
        self.has_pairs = self.net is not None and "pair_steps" in self.tables and len(self.net.per_pair) > 0
        self.step_s = self.manifest.step_s
        self.cal = calendar(store)
        self.dish_group = np.where(self.sites["group"].to_numpy() == "", "dish", self.sites["group"].to_numpy())
        self.group_colour = {g: palette_colour(i) for i, g in enumerate(self.groups.get("group", []))}
        self.picked: list[int] = self._pick_dishes(max(0, int(max_dishes))) if self.has_dishes else []
        self.figures: DishFigures | None = None
        if self.has_dishes:
            self.figures = dish_figures(self, self.picked)

    @property
    def name(self) -> str:
        return str(self.manifest.scenario or self.facts.name or self.store.root.name)

    def _pick_dishes(self, limit: int) -> list[int]:
        """Up to ``limit`` dish site indices, taken round-robin over the groups (table order)."""
        per_group = {g: list(s) for g, s in self.net.per_dish.assign(group=self.dish_group[self.net.per_dish["site"]])
                     .groupby("group", sort=False)["site"]}
        order = [g for g in self.groups["group"] if g in per_group]
        picked: list[int] = []
        i = 0
        while len(picked) < limit and any(i < len(per_group[g]) for g in order):
            for g in order:
                if i < len(per_group[g]) and len(picked) < limit:
                    picked.append(int(per_group[g][i]))
            i += 1
        return picked


def first_steps(parts: list, columns: list[str], filters, max_steps: int) -> tuple[pd.DataFrame, int]:
    """The rows (``columns``, ``filters`` as for :func:`pyarrow.parquet.read_table`) of the chunk
    files ``parts`` that hold the first ``max_steps`` instants of ``t`` among those rows (and
    perhaps a few more: the caller cuts at the ``max_steps``-th instant), and the number of
    instants among the rows of all the files. Reads one file at a time and keeps the files it
    needs only: chunk files hold disjoint runs of consecutive steps, in step order."""
    kept: list[pa.Table] = []
    held = total = 0
    for part in parts:
        table = pq.read_table(part, columns=columns, filters=filters)
        n = len(pc.unique(table.column("t"))) if table.num_rows else 0
        total += n
        if held < max_steps and table.num_rows:
            kept.append(table)
            held += n
    if not kept:
        empty = pq.read_schema(parts[0]) if parts else None
        table = empty.empty_table().select(columns) if empty is not None else pa.table({c: [] for c in columns})
        return table.to_pandas(), total
    return pa.concat_tables(kept).to_pandas(), total
