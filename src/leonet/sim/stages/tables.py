"""Stage 6, the tables: each step's stage results as rows of the result tables, built at the end
of a chunk with the schemas of :mod:`leonet.sim.schemas`."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ...network.paths import list_offsets_values, same_rows
from ...network.slots import best_row_per_site
from ...service.quality import OUTAGE_BY_CODE
from .. import schemas
from ..instants import Chunk
from ..model import SimulationModel
from .result import Step
from .sky import Sky


def same_routes(a: tuple, b: tuple) -> np.ndarray:
    """(D,) bool: whether each dish's route signature (serving satellite, gateway, PoP, each (D,);
    path (D, W), -1 padded) is the same in ``a`` and ``b`` (the paths' widths may differ). Equal to
    :func:`same_rows` of the signatures as one matrix each, ``np.c_[serving, gateway, pop, path]``,
    without building them (at Gen2 x 100,000 dishes a path is 75 wide: 30 MB per step)."""
    same = (a[0] == b[0]) & (a[1] == b[1]) & (a[2] == b[2])
    return same & same_rows(a[3], b[3]) if len(same) else same


def same_routes_reference(a: tuple, b: tuple) -> np.ndarray:
    """:func:`same_routes` as the rows of one matrix per signature (the reference)."""
    return same_rows(np.c_[a[0], a[1], a[2], a[3]], np.c_[b[0], b[1], b[2], b[3]])


class PathChanges:
    """Whether each dish's and station pair's route (serving satellite, gateway, PoP, satellites)
    differs from the step before; the first step of a run has nothing before it (no change)."""

    def __init__(self) -> None:
        self._dish: np.ndarray | None = None
        self._pair_seen = False

    def update(self, step: Step) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(D,) and (M,) bool for this step (None where the step has no dishes' or pairs' routes)."""
        dish = pair = None
        if step.service is not None:
            s = step.service
            # a dish in an outage has no route: its satellite in view (a sold-out or powerless
            # dish keeps one) changing is not a path change (us-rural-gen1's sold-out dishes
            # doubled their groups' path changes); losing or regaining the route still is one
            sig = (np.where(OUTAGE_BY_CODE[s.state], -1, step.routes.serving), s.gateway, s.pop, s.path)
            dish = np.zeros(len(s.state), dtype=bool) if self._dish is None else ~same_routes(self._dish, sig)
            self._dish = sig
        if step.pairs is not None:
            # The pairs stage compares each path with its tracker's previous step (one tracker per
            # chunk, like this object); it has no step before the chunk's first, as here.
            pair = step.pairs.changed if self._pair_seen else np.zeros(len(step.pairs.changed), dtype=bool)
            self._pair_seen = True
        return dish, pair


class TableRows:
    """The rows of a chunk's tables, added step by step (:meth:`add`), built once (:meth:`tables`).

    With ``n_steps`` (the chunk's output steps), the tables with a fixed number of rows per step
    (``site_steps``: one per site, ``dish_steps``: one per dish, ``pair_steps``: one per pair,
    ``network_steps``: one) are written straight into preallocated columns of the schema's type,
    each step into its slice, and path columns into one offsets column as they come; the tables
    are then made from those arrays without concatenating per-step parts. The other tables (and
    every table without ``n_steps``) keep per-step parts. Both give the same tables.
    """

    def __init__(self, model: SimulationModel, n_steps: int | None = None):
        self.model = model
        s = model.settings
        self.schemas: dict[str, pa.Schema] = {"site_steps": schemas.SITE_STEPS}
        rows_per_step = {"site_steps": len(model.sites)}
        if s.visibility_pairs:
            self.schemas["visibility"] = schemas.VISIBILITY
        if s.network:
            self.schemas["dish_steps"] = schemas.dish_steps_schema(s.capacity, s.service, s.deliveries)
            self.schemas["network_steps"] = schemas.NETWORK_STEPS
            rows_per_step.update(dish_steps=len(model.network.dish_sites), network_steps=1)
            if len(model.network.pair_src):
                self.schemas["pair_steps"] = schemas.PAIR_STEPS
                rows_per_step["pair_steps"] = len(model.network.pair_src)
            if s.capacity:
                self.schemas["load_steps"] = schemas.LOAD_STEPS
        self._parts: dict[str, dict[str, list[np.ndarray]]] = {name: {} for name in self.schemas}
        # Path columns are kept per step as (offsets, values) without the -1 padding: a chunk of
        # 50 steps x 9,900 pairs would otherwise hold 50 padded (M, L) matrices, then their
        # padded concatenation (~250 MB for the Hypatia workload).
        self._paths = {name: {f.name for f in schema if f.type == schemas.PATH} for name, schema in self.schemas.items()}
        self._fixed: dict[str, _FixedColumns] = {}
        if n_steps is not None:
            for name, n in rows_per_step.items():
                if name in self.schemas:
                    self._fixed[name] = _FixedColumns(self.schemas[name], int(n), int(n_steps))

    def add(self, step: Step, dish_changed: np.ndarray | None, pair_changed: np.ndarray | None) -> None:
        """The rows of one output step."""
        self._append("site_steps", site_rows(step.sky, len(self.model.sites)))
        if "visibility" in self.schemas:
            self._append("visibility", visibility_rows(step.sky))
        if step.service is None:
            return
        self._append("dish_steps", dish_rows(self.model, step, dish_changed))
        self._append("network_steps", network_rows(step))
        if step.pairs is not None:
            self._append("pair_steps", pair_rows(self.model, step, pair_changed))
        if step.allocation is not None:
            for direction, r in enumerate(step.allocation.directions):
                self._append("load_steps", load_rows(step.t_ns, direction, r))

    def tables(self, chunk: Chunk, t_ns: np.ndarray) -> dict[str, pa.Table]:
        """Every table of the chunk (and ``positions`` at ``t_ns`` when the scenario asks for them)."""
        out = {name: (self._fixed[name].table() if name in self._fixed else build_table(schema, self._parts[name]))
               for name, schema in self.schemas.items()}
        if self.model.settings.positions:
            out["positions"] = build_table(schemas.POSITIONS, position_rows(chunk, t_ns))
        return out

    def _append(self, name: str, rows: dict[str, np.ndarray]) -> None:
        if name in self._fixed:
            self._fixed[name].append(rows)
            return
        parts, paths = self._parts[name], self._paths[name]
        for column, values in rows.items():
            if column in paths and not isinstance(values, tuple):
                values = list_offsets_values(values)
            parts.setdefault(column, []).append(values)


class _FixedColumns:
    """The columns of a table with ``n`` rows per step, for at most ``n_steps`` steps, each a
    preallocated array of the schema's type (times as int64, codes as int8) that step k fills at
    rows ``k*n .. (k+1)*n``; a path column is one int32 offsets array filled as steps come and the
    steps' values, joined once at the end."""

    def __init__(self, schema: pa.Schema, n: int, n_steps: int):
        self.schema, self.n, self.n_steps = schema, n, n_steps
        self.steps = 0
        self._data: dict[str, np.ndarray] = {}
        self._count: dict[str, int] = {}
        self._values: dict[str, list[np.ndarray]] = {}
        self._top: dict[str, int] = {}
        self._fields = {f.name: f for f in schema}
        self._is_path = {f.name: f.type == schemas.PATH for f in schema}  # (pyarrow's type test is slow)

    def append(self, rows: dict[str, np.ndarray]) -> None:
        n, k = self.n, self.steps
        if k >= self.n_steps:
            raise ValueError(f"{k + 1} steps added to a chunk of {self.n_steps}")
        for column, values in rows.items():
            field = self._fields[column]
            if self._count.get(column, 0) != k:
                raise ValueError(f"column {column!r} missed a step")
            if self._is_path[column]:
                offsets, vals = values if isinstance(values, tuple) else list_offsets_values(values)
                if column not in self._data:
                    self._data[column] = np.empty(self.n_steps * n + 1, dtype=np.int32)
                    self._data[column][0] = 0
                    self._values[column], self._top[column] = [], 0
                if len(offsets) != n + 1:
                    raise ValueError(f"column {column!r}: {len(offsets) - 1} rows in a step, not {n}")
                top = self._top[column]
                np.add(offsets[1:], top, out=self._data[column][k * n + 1: (k + 1) * n + 1], casting="unsafe")
                self._values[column].append(vals)
                self._top[column] = top + len(vals)
            else:
                if column not in self._data:
                    self._data[column] = np.empty(self.n_steps * n, dtype=_numpy_type(field))
                values = np.asarray(values)
                if values.shape != (n,):
                    raise ValueError(f"column {column!r}: {values.shape} rows in a step, not {n}")
                self._data[column][k * n: (k + 1) * n] = values
            self._count[column] = k + 1
        self.steps = k + 1

    def table(self) -> pa.Table:
        rows = self.steps * self.n
        arrays = []
        for field in self.schema:
            name = field.name
            if self._count.get(name, 0) != self.steps:
                if self._count.get(name, 0) or rows:
                    raise ValueError(f"column {name!r} has {self._count.get(name, 0)} of {self.steps} steps")
                arrays.append(_column(field, []))
            elif field.type == schemas.PATH:
                values = (_joined_runs(self._values[name]).astype(np.int32, copy=False) if self._values[name]
                          else np.zeros(0, dtype=np.int32))
                arrays.append(pa.ListArray.from_arrays(pa.array(self._data[name][: rows + 1]), pa.array(values)))
            else:
                arrays.append(_column(field, [self._data[name][:rows]]))
        return pa.Table.from_arrays(arrays, schema=self.schema)


def _joined_runs(parts: list[np.ndarray]) -> np.ndarray:
    """``np.concatenate(parts)``; where the parts are 1-D views that follow one another in one
    array's memory (the pair walker's arena), that array's span instead of a copy (empty parts,
    whose address says nothing, are passed over)."""
    full = [p for p in parts if len(p)]
    base = full[0].base if len(full) > 1 else None
    if (isinstance(base, np.ndarray) and base.ndim == 1 and base.flags.c_contiguous
            and all(isinstance(p, np.ndarray) and p.dtype == base.dtype for p in parts)):
        item = base.itemsize
        start = (full[0].ctypes.data - base.ctypes.data) // item
        end = start
        for p in full:
            if (p.base is not base or p.ndim != 1 or not p.flags.c_contiguous
                    or p.ctypes.data != base.ctypes.data + end * item):
                break
            end += len(p)
        else:
            return base[start:end]
    return np.concatenate(parts)


def _numpy_type(field: pa.Field) -> np.dtype:
    if field.type == schemas.TIME:
        return np.dtype(np.int64)
    if field.type == schemas.CODE:
        return np.dtype(np.int8)
    return np.dtype(field.type.to_pandas_dtype())


def site_rows(sky: Sky, n_sites: int) -> dict[str, np.ndarray]:
    """Per site: satellites in view (and clear of obstructions), and the highest clear one."""
    best_sat = np.full(n_sites, -1, dtype=np.int32)
    best_el = np.full(n_sites, np.nan, dtype=np.float32)
    best_range = np.full(n_sites, np.nan, dtype=np.float32)
    clear = sky.clear
    if len(clear):
        rows = best_row_per_site(clear.site, clear.elevation_deg, n_sites)
        has = rows >= 0
        best_sat[has] = clear.sat[rows[has]]
        best_el[has] = clear.elevation_deg[rows[has]]
        best_range[has] = clear.range_m[rows[has]]
    return {"t": np.full(n_sites, sky.t_ns, dtype=np.int64), "site": np.arange(n_sites, dtype=np.int32),
            "n_visible": np.bincount(sky.in_view.site, minlength=n_sites).astype(np.int16),
            "n_clear": np.bincount(clear.site, minlength=n_sites).astype(np.int16),
            "best_sat": best_sat, "best_elevation_deg": best_el, "best_range_m": best_range}


def visibility_rows(sky: Sky) -> dict[str, np.ndarray]:
    p = sky.in_view
    return {"t": np.full(len(p), sky.t_ns, dtype=np.int64), "site": p.site, "sat": p.sat,
            "elevation_deg": p.elevation_deg, "azimuth_deg": p.azimuth_deg, "range_m": p.range_m,
            "obstructed": p.obstructed}


def dish_rows(model: SimulationModel, step: Step, changed: np.ndarray) -> dict[str, np.ndarray]:
    s, n_d = step.service, len(step.service.state)
    rows = {
        "t": np.full(n_d, step.t_ns, dtype=np.int64), "site": model.network.dish_sites,
        "slot_start": np.full(n_d, step.slot_start_ns, dtype=np.int64), "serving_sat": step.routes.serving,
        "state": s.state, "rtt_ms": s.rtt_ms, "gateway": s.gateway, "pop": s.pop, "isl_hops": s.isl_hops,
        "hops": s.hops, "path": s.path, "path_changed": changed, "rerouted_mid_slot": s.rerouted_mid_slot,
        "ground_online": s.ground_online, "ground_rtt_ms": s.ground_rtt_ms, "online_by": s.online_by,
    }
    a = step.allocation
    if a is not None:
        rows.update(downlink_bps=a.down_bps, uplink_bps=a.up_bps, demand_down_bps=a.demand_down_bps,
                    demand_up_bps=a.demand_up_bps, speedtest_down_bps=a.speedtest_down_bps,
                    speedtest_up_bps=a.speedtest_up_bps, unmet_down_bps=a.unmet_down_bps, bottleneck=a.bottleneck,
                    sinr_down_db=a.sinr_down_db, sinr_up_db=a.sinr_up_db,
                    efficiency_down_bps_per_hz=a.efficiency_down_bps_per_hz, queue_ms=a.queue_ms)
    svc = model.service
    if svc is not None and a is not None:
        net = model.network
        home = np.where(net.dish_home_pop >= 0, net.pop_sites[np.maximum(net.dish_home_pop, 0)], -1) \
            if len(net.pop_sites) else np.full(n_d, -1)
        rows.update(queue_ms=s.queue_ms, drop_rate=s.drop_rate, speedtest_down_bps=s.speedtest_down_bps,
                    speedtest_up_bps=s.speedtest_up_bps, rtt_loaded_ms=s.rtt_loaded_ms, home_pop=home,
                    kit_down_bps=svc.cap_down_bps, kit_up_bps=svc.cap_up_bps, dishes_admitted=svc.n_admitted,
                    dishes_on=a.dishes_on, background_down_bps=a.background_down_bps,
                    propagation_rtt_ms=s.propagation_rtt_ms)
    rows["ground_level"] = s.ground_level
    if model.settings.deliveries:
        ev = step.sky.events
        rows["delivered"] = (np.ones(n_d) if ev is None or ev.delivered is None
                             else ev.delivered[model.network.dish_sites])
    return rows


def network_rows(step: Step) -> dict[str, np.ndarray]:
    isl = step.links.isl
    counts = {"isl_active": len(isl.links), "isl_dropped_grazing": isl.dropped_grazing,
              "isl_dropped_range": isl.dropped_range, "isl_dropped_failed": isl.dropped_failed,
              "feeder_links": len(step.links.feeder_gateway)}
    return {"t": np.array([step.t_ns], dtype=np.int64), **{k: np.array([v], dtype=np.int32) for k, v in counts.items()}}


def pair_rows(model: SimulationModel, step: Step, changed: np.ndarray) -> dict[str, np.ndarray]:
    net, p = model.network, step.pairs
    return {"t": np.full(len(net.pair_src), step.t_ns, dtype=np.int64), "src": net.pair_src, "dst": net.pair_dst,
            "rtt_ms": 2e3 * p.one_way_s, "hops": p.hops, "path": (p.offsets, p.values), "path_changed": changed}


def load_rows(t_ns: int, direction: int, r) -> dict[str, np.ndarray]:
    """The busy links of one direction (index into schemas.DIRECTIONS) of a DirectionResult."""
    busy = r.link_load_bps > 0
    n = int(busy.sum())
    return {"t": np.full(n, t_ns, dtype=np.int64), "direction": np.full(n, direction, dtype=np.int8),
            "kind": r.link_kind[busy], "a": r.link_a[busy], "b": r.link_b[busy], "load_bps": r.link_load_bps[busy],
            "utilisation": r.link_utilisation[busy]}


def position_rows(chunk: Chunk, t_ns: np.ndarray) -> dict[str, list[np.ndarray]]:
    """The ``positions`` rows: where each satellite is, lost ones included (they still orbit; the
    dish and pair tables show they serve nothing), NaN only where SGP4 fails (its error code)."""
    n_sats = len(chunk.model.constellation)
    xyz = np.concatenate([chunk.orbit_ecef(t) for t in t_ns])
    return {"t": [np.repeat(t_ns, n_sats)], "sat": [np.tile(np.arange(n_sats, dtype=np.int32), len(t_ns))],
            "x_m": [xyz[:, 0]], "y_m": [xyz[:, 1]], "z_m": [xyz[:, 2]],
            "error_code": [np.concatenate([chunk.error_code(t) for t in t_ns])]}


def build_table(schema: pa.Schema, parts: dict[str, list[np.ndarray]]) -> pa.Table:
    """A table of ``schema`` from each column's parts (one array per step; a missing column is
    empty). Values are cast to the schema's types; coded columns take their words from
    :data:`leonet.sim.schemas.VOCABULARY`."""
    return pa.Table.from_arrays([_column(field, parts.get(field.name, [])) for field in schema], schema=schema)


def _column(field: pa.Field, parts: list[np.ndarray]) -> pa.Array:
    if field.type == schemas.PATH:
        return _list_column(parts)
    if field.type == schemas.TIME:
        data = _joined(parts, np.int64)
        return pa.array(data.astype(np.int64, copy=False), type=pa.int64()).cast(schemas.TIME)
    if field.type == schemas.CODE:
        data = _joined(parts, np.int8)
        return pa.DictionaryArray.from_arrays(pa.array(data.astype(np.int8, copy=False)),
                                              pa.array(list(schemas.VOCABULARY[field.name]), pa.string()))
    dtype = field.type.to_pandas_dtype()
    return pa.array(_joined(parts, dtype).astype(dtype, copy=False))


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    """The parts one after the other (the part itself when there is one; empty of ``dtype`` when
    none)."""
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.asarray(parts[0]) if len(parts) == 1 else np.concatenate(parts)


def _list_column(parts: list) -> pa.Array:
    """pyarrow list<int32> from a column's parts: per step either an (M, L) int32 matrix padded
    with -1 or its (offsets, values) from :func:`list_offsets_values` (the padding dropped)."""
    pieces = [p if isinstance(p, tuple) else list_offsets_values(p) for p in parts]
    if not pieces:
        return pa.ListArray.from_arrays(pa.array(np.zeros(1, dtype=np.int32)), pa.array(np.zeros(0, dtype=np.int32)))
    lengths = np.concatenate([np.diff(o) for o, _ in pieces])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate([v for _, v in pieces]).astype(np.int32, copy=False)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))
