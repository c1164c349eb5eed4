"""Cells and admission (leonet.service.admission) and the SOLD_OUT state."""

import numpy as np
import pytest

from leonet import states
from leonet.errors import InputError
from leonet.service.admission import (CELL_AREA_M2, admitted, admitted_counts, cell_subscriber_limit,
                                      dish_cells)
from leonet.service.rng import uniform


def _oracle(cells, n, limit, before, key):
    """One dish at a time, in (cell, key) order: the reference the vectorised code must match."""
    got = np.zeros(len(cells), dtype=int)
    used = {}
    for i in sorted(range(len(cells)), key=lambda i: (cells[i], key[i], i)):
        c = cells[i]
        room = max(limit[c] - int(np.ceil(before[c])), 0) - used.get(c, 0)
        got[i] = min(max(room, 0), n[i])
        used[c] = used.get(c, 0) + n[i]
    return got


@pytest.mark.parametrize("trial", range(20))
def test_admission_matches_a_dish_by_dish_oracle(trial):
    rng = np.random.default_rng(trial)
    d, c = int(rng.integers(1, 60)), int(rng.integers(1, 6))
    cells = rng.integers(0, c, d)
    cells[0] = c - 1                          # every cell id up to c - 1 may appear
    n = rng.integers(0, 30, d)
    limit = rng.integers(0, 200, c)
    before = rng.uniform(0, 100, c)
    ids = rng.permutation(d) + 1000
    got = admitted_counts(cells, n, limit, before, dish_ids=ids)
    np.testing.assert_array_equal(got, _oracle(cells, n, limit, before, ids))
    seeded = admitted_counts(cells, n, limit, before, dish_ids=ids, seed=7)
    np.testing.assert_array_equal(seeded, _oracle(cells, n, limit, before, uniform(7, "admission.order", ids)))
    # Never more than the room in a cell; every dish admitted when the room suffices.
    for cell in range(c):
        m = cells == cell
        room = max(limit[cell] - int(np.ceil(before[cell])), 0)
        assert got[m].sum() == min(room, n[m].sum())


def test_single_dishes_earliest_first():
    cells = np.array([0, 0, 0, 1, 0])
    assert admitted(cells, 2).tolist() == [True, True, False, True, False]
    assert admitted(cells, 2, dish_ids=[5, 4, 3, 2, 1]).tolist() == [False, False, True, True, True]
    assert admitted(cells, 2, already_in_cell=[1, 2]).tolist() == [True, False, False, False, False]
    # Seeded: deterministic for a seed.
    a = admitted(cells, 2, seed=3)
    assert a.tolist() == admitted(cells, 2, seed=3).tolist() and a.sum() == 3


def test_cells_and_limits():
    # Two dishes 5 km apart share a 24 km cell (away from a boundary); one 100 km away does not.
    cells = dish_cells([50.10, 50.10, 51.0], [30.10, 30.17, 30.10])
    assert cells[0] == cells[1] != cells[2]
    assert CELL_AREA_M2 == 24e3**2
    # A 2 Gbps beam at 80 % busy-hour load, 4 Mbps per subscriber: 400 subscribers.
    assert cell_subscriber_limit(2e9, 4e6, 0.8) == 400
    with pytest.raises(InputError, match="target_utilisation"):
        cell_subscriber_limit(2e9, 4e6, 0.0)
    with pytest.raises(InputError, match="limit_per_cell"):
        admitted_counts([0, 3], 1, [5, 5])


def test_sold_out_state_appended():
    s = states.BY_NAME["SOLD_OUT"]
    assert (s.name, s.code, s.outage) == ("SOLD_OUT", 7, True)
    assert [x.code for x in states.STATES] == list(range(len(states.STATES)))
    assert "SOLD_OUT" in states.OUTAGE_STATES and states.DISH_WORD["SOLD_OUT"] == "NO_SERVICE_PLAN"
    assert states.STATE_NAMES[:7] == ("CONNECTED", "NO_SATS", "NO_PATH", "OBSTRUCTED", "OFFLINE", "JAMMED", "CONGESTED")


def _sites(dishes, names=None):
    from leonet.ground.sites import Sites

    n = len(dishes) + 1
    return Sites(name=names or [f"s{k}" for k in range(n - 1)] + ["gw"], kind=["dish"] * (n - 1) + ["gateway"],
                 lat_deg=np.linspace(50, 51, n), lon_deg=np.full(n, 30.0), elevation_m=np.zeros(n),
                 group=["g"] * (n - 1) + ["gateways"],
                 attrs={"dishes": np.array([*dishes, None], dtype=object), "kit": np.array(["mini"] * n, dtype=object)})


def test_a_site_admitted_in_part_splits_into_its_admitted_and_waiting_dishes():
    """Every site is then all admitted or all SOLD_OUT: the admitted dishes keep the row and name,
    the rest is a site appended at the end, '<name> (sold out)', like its site in all else."""
    from leonet.sim.sold_out import split_partly_admitted

    sites = _sites([10, 10, 10, 1])
    out, split = split_partly_admitted(sites, [0, 1, 2, 3], [10, 10, 10, 1], [10, 4, 0, 1])
    assert out.name.tolist() == ["s0", "s1", "s2", "s3", "gw", "s1 (sold out)"]
    assert out.attrs["dishes"].tolist() == [10, 4, 10, 1, None, 6]
    assert split.parent.tolist() == [0, 1, 2, 3, 4, 1] and split.n_split == 1 and split.written is sites
    for col in ("kind", "lat_deg", "lon_deg", "group"):
        np.testing.assert_array_equal(getattr(out, col), getattr(sites, col)[split.parent])
    assert out.attrs["kit"].tolist() == ["mini"] * 6
    # none admitted in part: the sites themselves
    same, none = split_partly_admitted(sites, [0, 1, 2, 3], [10, 10, 10, 1], [10, 0, 10, 1])
    assert same is sites and none is None
    # a name the part would take is another site's: said, not a duplicate
    clash = _sites([10, 10], names=["a", "a (sold out)", "gw"])
    with pytest.raises(InputError, match="rename that site"):
        split_partly_admitted(clash, [0, 1], [10, 10], [3, 10])
