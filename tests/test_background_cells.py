"""The background subscribers in a dish's own beam cell are on/off traffic, not a fluid (issue 11,
items 2-3): a cell of N subscribers has, on each use, the count of N independent on/off
processes (the binomial's mean and variance), drawn per cell and on/off period, independent of
the scenario's dishes, and its bulk downloads are elastic flows that share the beam with a speed
test."""

import numpy as np
import pytest

import leonet
from leonet.service.traffic import DEFAULT_TRAFFIC, PeriodUseCounts, TrafficParams, use_counts
from test_service_wiring import scenario

FLAT = TrafficParams(diurnal=(1.0,) * 24)          # p_on = busy_hour_on_share at every hour


def test_counts_on_each_use_are_binomial_over_periods():
    """Each of N subscribers is on use k with probability p_on x share_k, independently, so the
    count on k is Binomial(N, p_on share_k): its mean and variance over 4,000 periods."""
    n, periods = 400, 4_000
    t = np.arange(periods, dtype=np.int64) * FLAT.period_ns
    counts, n_on = use_counts(7, n, 0.0, t, 11, params=FLAT, stream="background.cell")
    assert counts.shape == (periods, len(FLAT.uses)) and (counts.sum(axis=1) == n_on).all()
    for k, use in enumerate(FLAT.uses):
        p = FLAT.busy_hour_on_share * use.share
        mean, var = n * p, n * p * (1 - p)
        assert abs(counts[:, k].mean() - mean) < 5 * np.sqrt(var / periods), use.name
        assert counts[:, k].var() == pytest.approx(var, rel=0.15), use.name


def test_counts_are_constant_within_a_period_and_keyed_by_their_stream():
    t0 = 1_704_567_612 * 10**9
    a, _ = use_counts(np.arange(50), 300, 10.0, t0, 3, stream="background.cell")
    b, _ = use_counts(np.arange(50), 300, 10.0, t0 + 10**9, 3, stream="background.cell")
    # a period is 60 s, each key with its own phase: most keys keep their counts over 1 s
    assert (a == b).all(axis=1).mean() > 0.9
    dishes, _ = use_counts(np.arange(50), 300, 10.0, t0, 3)            # the scenario's dishes' stream
    assert not (a == dishes).all()


def test_period_use_counts_equal_the_direct_draw_across_steps_and_jumps():
    ids, n, lon = np.arange(30), np.arange(30) * 7, np.linspace(-150, 150, 30)
    memo = PeriodUseCounts(ids, n, lon, 5, params=DEFAULT_TRAFFIC, stream="background.cell")
    t0 = 1_704_567_612 * 10**9
    for dt_s in (0, 1, 2, 30, 61, 3_600, 3_601, 0):          # steps, a jump, and back
        t = t0 + dt_s * 10**9
        counts, n_on = memo(t)
        want, want_on = use_counts(ids, n, lon, t, 5, stream="background.cell")
        assert (counts == want).all() and (n_on == want_on).all()


def _berlin(subscribers: float) -> dict:
    """test_service_wiring's Berlin scenario, its four sites one dish each (three in one beam cell,
    one 200 km away), with a background of ``subscribers`` in Germany."""
    sc = scenario(background={"enabled": True, "subscribers": subscribers, "countries": ["DE"]})
    sites = sc["ground"]["sites"]
    for k, site in enumerate(sites[:3]):
        site.update(lat_deg=52.52 + 0.01 * k, dishes=1)
    sites[3].pop("kit")
    return sc


def test_a_cells_subscribers_switch_on_and_off_together_with_the_binomials_spread():
    model = leonet.build_model(leonet.scenario_from_dict(_berlin(2e4)))
    svc = model.service
    row, period_counts = svc.cell_use_counts
    cell = np.asarray(model.capacity.dish_cell)
    # dishes in one beam cell share its background; the cell 200 km away has its own
    assert len(row) == len(cell) and all((row == row[i]).sum() == (cell == cell[i]).sum() for i in range(len(cell)))
    assert row[0] == row[1] and row[0] != row[-1]
    n = period_counts.n_dishes[row[0]]
    assert abs(n - svc.cell_background[0]) < 1        # the cell's subscribers, whole
    assert n > 20
    # over 800 on/off periods at one local hour: the mean and spread of N on/off processes
    t0 = int(model.t_ns[0])
    day_ns = 86_400 * 10**9
    t = [t0 + k * day_ns for k in range(800)]                        # same local time, new periods
    counts = np.array([period_counts(tt)[0][row[0]] for tt in t])
    p_on = float(leonet_on_probability(svc, 0, t0))
    for k, use in enumerate(svc.traffic.uses):
        p = p_on * use.share
        assert abs(counts[:, k].mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / len(t)), use.name
    assert counts[:, 0].var() == pytest.approx(n * p_on * 0.5 * (1 - p_on * 0.5), rel=0.2)
    assert (counts[:, -1] > 0).any() and (counts[:, -1] == 0).any()   # bulk: sometimes on, sometimes not


def leonet_on_probability(svc, dish: int, t_ns: int) -> float:
    from leonet.service.traffic import on_probability

    _, start_ns = _period_start(svc, dish, t_ns)
    return on_probability(svc.lon_deg[dish], start_ns, svc.traffic)


def _period_start(svc, dish, t_ns):
    from leonet.service.traffic import period_index

    row, period_counts = svc.cell_use_counts
    return period_index(period_counts.ids[row[dish]], t_ns, svc.seed, svc.traffic, stream="background.cell")


@pytest.mark.slow   # a run
def test_a_background_bulk_download_shares_the_beam_with_a_speed_test(tmp_path):
    """A cell of ~370 subscribers on a beam that their browsing and video nearly fill: a speed
    test reaches the kit's cap at the link's MODCOD when none of them downloads in bulk, and shares
    the rest with the bulk downloads (elastic flows) when some do. A fluid background (every
    subscriber's mean, bulk included) gave the same reading in every period of the hour."""
    sc = leonet.scenario_from_dict({**_berlin(4e4), "time": {"start": "2024-01-06T19:00:12Z",
                                                              "duration_s": 1_800, "step_s": 60}})
    r = leonet.run(sc, out_dir=tmp_path, overwrite=True)
    d = r.store.read("dish_steps").to_pandas()
    model = leonet.build_model(sc)
    row, period_counts = model.service.cell_use_counts
    site0 = d[(d["site"] == d["site"].min()) & d["speedtest_down_bps"].gt(0)]
    bulk = np.array([period_counts(int(pd_t))[0][row[0], -1] for pd_t in site0["t"].astype("int64")])
    assert (d["speedtest_down_bps"] <= d["kit_down_bps"] * (1 + 1e-9)).all()
    assert (bulk > 0).any() and (bulk == 0).any()
    with_bulk = site0["speedtest_down_bps"].to_numpy()[bulk > 0].mean()
    without = site0["speedtest_down_bps"].to_numpy()[bulk == 0].mean()
    assert with_bulk < 0.7 * without



def test_a_cells_draws_are_keyed_by_its_grid_square_on_their_own_stream():
    """The cells' on/off draws are use_counts keyed by each cell's grid square on the
    'background.cell' stream: not the dishes' stream (else cell k and dish row k would move
    together), and the same whatever other dishes the scenario has (a dish added 500 km away
    leaves Berlin's cell drawing the same)."""
    from leonet.capacity.model import cell_keys

    sc = _berlin(2e4)
    model = leonet.build_model(leonet.scenario_from_dict(sc))
    svc = model.service
    row, period_counts = svc.cell_use_counts
    keys = cell_keys(np.asarray(model.sites.lat_deg)[model.network.dish_sites], svc.lon_deg, 24e3)
    assert np.array_equal(period_counts.ids[row], keys)
    t = [int(model.t_ns[0]) + k * 61 * 10**9 for k in range(40)]
    ours = np.array([period_counts(tt)[0] for tt in t])
    want = np.array([use_counts(period_counts.ids, period_counts.n_dishes, period_counts.lon_deg, tt, svc.seed,
                                params=svc.traffic, stream="background.cell")[0] for tt in t])
    as_dishes = np.array([use_counts(period_counts.ids, period_counts.n_dishes, period_counts.lon_deg, tt, svc.seed,
                                     params=svc.traffic)[0] for tt in t])
    assert np.array_equal(ours, want) and not np.array_equal(ours, as_dishes)
    sc["ground"]["sites"].append({"name": "elsewhere", "lat_deg": 48.14, "lon_deg": 11.58})   # Munich
    other = leonet.build_model(leonet.scenario_from_dict(sc)).service
    row2, counts2 = other.cell_use_counts
    assert counts2.ids[row2[0]] == period_counts.ids[row[0]]
    assert all(np.array_equal(counts2(tt)[0][row2[0]], period_counts(tt)[0][row[0]]) for tt in t)
