"""The tables stage's preallocated columns (TableRows with the chunk's step count: fixed-size
tables written in place, path offsets as they come) against its per-step parts (TableRows
without it, the code the columns replace): the same tables, column for column, on many steps of
presets with station pairs, with dishes and capacity, and with events."""

import numpy as np
import pyarrow as pa
import pytest

from leonet.scenario import load_scenario
from leonet.sim.instants import Chunk
from leonet.sim.model import build_model
from leonet.sim.stages.pairs import pair_tracker
from leonet.sim.stages.tables import PathChanges, TableRows
from leonet.sim.step import instants_needed, step_at

CASES = {
    "hypatia-starlink": {"time.duration_s": 4.0},                      # 40 steps, 9,900 pairs
    "ukraine-gen1": {"time.duration_s": 40, "outputs.visibility_pairs": True},  # dishes, capacity
    "ukraine-2022": {"time.duration_s": 10 * 86400, "time.step_s": 7200},   # events, service
}


def ipc_bytes(column: pa.ChunkedArray) -> bytes:
    """The column as Arrow IPC bytes: equal bytes, equal values (NaN included) and types."""
    table = pa.table({"c": column.combine_chunks()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def both_tables(model, t_ns):
    chunk = Chunk(model, instants_needed(model, t_ns))
    plans, changes, tracker = {}, PathChanges(), pair_tracker(model)
    parts, fixed = TableRows(model), TableRows(model, len(t_ns))
    for t in t_ns:
        step = step_at(chunk, int(t), plans, tracker)
        chunk.forget_until(int(t))
        dish_changed, pair_changed = changes.update(step)
        parts.add(step, dish_changed, pair_changed)
        fixed.add(step, dish_changed, pair_changed)
    return parts.tables(chunk, t_ns), fixed.tables(chunk, t_ns)


@pytest.mark.parametrize("preset", [pytest.param(c, marks=pytest.mark.slow) if c == "ukraine-2022" else c for c in sorted(CASES)])
def test_preallocated_columns_equal_the_per_step_parts(preset):
    model = build_model(load_scenario(preset, overrides=CASES[preset]))
    t_ns = model.t_ns
    assert len(t_ns) >= 40
    ref, got = both_tables(model, t_ns)
    assert set(ref) == set(got)
    rows = 0
    for name in ref:
        assert got[name].schema == ref[name].schema, name
        for column in ref[name].column_names:
            assert ipc_bytes(got[name].column(column)) == ipc_bytes(ref[name].column(column)), (name, column)
        rows += ref[name].num_rows
    assert rows > 0


def test_a_step_too_many_or_a_short_column_is_an_error():
    model = build_model(load_scenario("hypatia-starlink", overrides={"time.duration_s": 0.3}))
    t_ns = model.t_ns[:2]
    chunk = Chunk(model, instants_needed(model, t_ns))
    plans, changes, tracker = {}, PathChanges(), pair_tracker(model)
    rows = TableRows(model, 1)
    step = step_at(chunk, int(t_ns[0]), plans, tracker)
    rows.add(step, *changes.update(step))
    step = step_at(chunk, int(t_ns[1]), plans, tracker)
    with pytest.raises(ValueError, match="steps added"):
        rows.add(step, *changes.update(step))
    with pytest.raises(ValueError, match="rows in a step"):
        TableRows(model, 2)._append("site_steps", {"t": np.zeros(3, dtype=np.int64)})


def test_no_dishes_results_kept_for_the_chunk_equal_fresh_ones():
    # Without dishes the dish stages give empty arrays at every step: the chunk keeps the first
    # step's; here they equal the stages run afresh at a later step, and a Step still has them.
    import dataclasses

    from leonet.sim.stages.links import ground_links_at, links_at
    from leonet.sim.stages.routes import internet_routes_at, route_dishes
    from leonet.sim.stages.service import serve
    from leonet.sim.stages.serving import plan_slot
    from leonet.sim.stages.sky import sky_at

    model = build_model(load_scenario("hypatia-starlink", overrides={"time.duration_s": 0.5}))
    assert len(model.network.dish_sites) == 0
    t_ns = model.t_ns[:4]
    chunk = Chunk(model, instants_needed(model, t_ns))
    steps = [step_at(chunk, int(t), {}, pair_tracker(model)) for t in t_ns]
    assert steps[0].service is steps[-1].service  # kept
    sky = sky_at(chunk, int(t_ns[-1]))
    slot = int(model.network.clock.slot_start(sky.t_ns))
    dishes = route_dishes(model, sky, ground_links_at(chunk, sky), internet_routes_at(chunk, links_at(chunk, sky)),
                          plan_slot(chunk, slot).paths)
    fresh = serve(model, sky, dishes, None)
    for kept, new in ((steps[-1].routes, dishes), (steps[-1].service, fresh)):
        for f in dataclasses.fields(new):
            a, b = getattr(kept, f.name), getattr(new, f.name)
            assert (a is None and b is None) or (a.shape == b.shape and a.dtype == b.dtype), f.name


def test_a_dish_in_an_outage_has_no_path_to_change():
    """A sold-out or powerless dish keeps a satellite in view, and that satellite changing is not
    a path change (us-rural-gen1's sold-out dishes doubled their groups' path changes); losing the
    route is one, and an online dish whose serving satellite changes still changes."""
    from types import SimpleNamespace

    from leonet.states import code

    def step(serving, states):
        n = len(serving)
        service = SimpleNamespace(state=np.array([code(s) for s in states], dtype=np.int8),
                                  gateway=np.array([0 if s == "CONNECTED" else -1 for s in states]),
                                  pop=np.array([0 if s == "CONNECTED" else -1 for s in states]),
                                  path=np.full((n, 1), -1))
        return SimpleNamespace(service=service, routes=SimpleNamespace(serving=np.array(serving)), pairs=None)

    changes = PathChanges()
    changes.update(step([1, 1, 1, 1], ["CONNECTED", "SOLD_OUT", "OFFLINE", "CONNECTED"]))
    dish, _ = changes.update(step([2, 2, 2, 1], ["CONNECTED", "SOLD_OUT", "OFFLINE", "NO_PATH"]))
    assert dish.tolist() == [True, False, False, True]
