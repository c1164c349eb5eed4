"""15 s reconfiguration slots (UTC seconds 12, 27, 42, 57) and serving-satellite choice, checked
against datetime arithmetic and brute-force loops."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from leonet.constants import NS_PER_S
from leonet.network.slots import SlotClock, choose_serving

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(dt: datetime, extra_ns: int = 0) -> int:
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000 + extra_ns


def expected_slot_start(dt: datetime) -> datetime:
    """The latest instant <= dt whose UTC second is 12, 27, 42 or 57 (with zero sub-second)."""
    floor = dt.replace(microsecond=0)
    for back in range(16):
        cand = floor - timedelta(seconds=back)
        if cand.second in (12, 27, 42, 57):
            return cand
    raise AssertionError("no slot boundary within 15 s")


def test_slot_boundaries_at_utc_seconds_12_27_42_57():
    clock = SlotClock(15, 12)
    rng = np.random.default_rng(0)
    instants = []
    for _ in range(300):
        base = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(seconds=int(rng.integers(0, 40 * 365 * 86400)))
        instants.append((base, int(rng.integers(0, NS_PER_S))))  # random sub-second part
    for _ in range(100):  # exactly on a boundary, and one nanosecond before it
        base = datetime(2024, 5, 17, 3, int(rng.integers(60)), int(rng.choice([12, 27, 42, 57])), tzinfo=UTC)
        instants.append((base, 0))
        instants.append((base - timedelta(seconds=1), NS_PER_S - 1))
    t_ns = np.array([to_ns(dt, extra) for dt, extra in instants], dtype=np.int64)
    starts = clock.slot_start(t_ns)
    assert starts.dtype == np.int64 and starts.shape == t_ns.shape
    for (dt, extra), t, start in zip(instants, t_ns, starts):
        exact = dt + timedelta(microseconds=extra // 1000)  # datetime has microseconds only
        assert start == to_ns(expected_slot_start(exact)), (dt, extra)
        assert 0 <= t - start < 15 * NS_PER_S
        assert (start // NS_PER_S) % 60 in (12, 27, 42, 57) and start % NS_PER_S == 0


def test_slot_boundary_exact_and_just_before():
    clock = SlotClock(15, 12)
    on = to_ns(datetime(2022, 3, 1, 12, 0, 27, tzinfo=UTC))
    assert clock.slot_start(np.array([on]))[0] == on
    assert clock.slot_start(np.array([on - 1]))[0] == on - 15 * NS_PER_S
    assert clock.slot_start(np.array([on + 15 * NS_PER_S - 1]))[0] == on
    # Across the minute: 00:00:57 .. 00:01:11.999 is one slot.
    start = to_ns(datetime(2022, 3, 1, 12, 0, 57, tzinfo=UTC))
    t = to_ns(datetime(2022, 3, 1, 12, 1, 11, 999_999, tzinfo=UTC))
    assert clock.slot_start(np.array([t]))[0] == start
    assert clock.slot_start(np.array([t + 1000]))[0] == start + 15 * NS_PER_S  # 12:01:12


def test_slot_start_scalar_and_period_offset():
    clock = SlotClock()
    assert clock.period_ns == 15 * NS_PER_S and clock.offset_ns == 12 * NS_PER_S
    assert int(clock.slot_start(13 * NS_PER_S)) == 12 * NS_PER_S
    assert int(clock.slot_start(11 * NS_PER_S)) == -3 * NS_PER_S  # floor, not truncation


# --- choose_serving -----------------------------------------------------------------------------


def random_pairs(seed, n_sites=30, n_sats=50, k=200):
    rng = np.random.default_rng(seed)
    pairs = {(int(rng.integers(n_sites)), int(rng.integers(n_sats))) for _ in range(k)}
    pairs = np.array(sorted(pairs))
    rng.shuffle(pairs)
    site, sat = pairs[:, 0].astype(np.int32), pairs[:, 1].astype(np.int32)
    elev = rng.uniform(25, 90, len(site))
    # Coarse remaining times so that ties (broken by elevation) really occur.
    remaining = rng.integers(0, 20, len(site)).astype(np.float64) * 15.0
    return site, sat, elev, remaining, n_sites + 5  # 5 extra sites with nothing in view


@pytest.mark.parametrize("seed", range(10))
def test_highest_elevation_matches_brute_force(seed):
    site, sat, elev, _rem, n_sites = random_pairs(seed)
    got = choose_serving(site, sat, elev, n_sites)
    assert got.dtype == np.int32 and got.shape == (n_sites,)
    for s in range(n_sites):
        best, best_e = -1, -np.inf
        for k in range(len(site)):
            if site[k] == s and elev[k] > best_e:
                best, best_e = int(sat[k]), elev[k]
        assert got[s] == best
    assert (got[n_sites - 5:] == -1).all()


@pytest.mark.parametrize("seed", range(10))
def test_longest_visibility_matches_brute_force(seed):
    site, sat, elev, rem, n_sites = random_pairs(seed)
    got = choose_serving(site, sat, elev, n_sites, remaining_s=rem, policy="longest-visibility")
    ties = 0
    for s in range(n_sites):
        mine = [k for k in range(len(site)) if site[k] == s]
        if not mine:
            assert got[s] == -1
            continue
        top = max(rem[k] for k in mine)
        ties += sum(1 for k in mine if rem[k] == top) > 1
        best = max((k for k in mine if rem[k] == top), key=lambda k: elev[k])
        assert got[s] == sat[best]
    assert seed != 0 or ties > 0  # the tie-break is exercised


def test_choose_serving_small_cases():
    site = np.array([2, 0, 2, 0])
    sat = np.array([7, 8, 9, 5])
    elev = np.array([40.0, 30.0, 60.0, 35.0])
    rem = np.array([300.0, 100.0, 100.0, 100.0])
    assert list(choose_serving(site, sat, elev, 4)) == [5, -1, 9, -1]
    assert list(choose_serving(site, sat, elev, 4, rem, "longest-visibility")) == [5, -1, 7, -1]
    e = np.zeros(0, dtype=np.int32)
    assert list(choose_serving(e, e, np.zeros(0), 3)) == [-1, -1, -1]


def test_unknown_policy_raises():
    site = np.array([0])
    with pytest.raises(ValueError, match="policy"):
        choose_serving(site, site, np.array([50.0]), 1, policy="closest")
    with pytest.raises(ValueError, match="policy"):
        choose_serving(site[:0], site[:0], np.zeros(0), 1, policy="closest")  # even with no pairs
    with pytest.raises(ValueError, match="remaining_s"):
        choose_serving(site, site, np.array([50.0]), 1, policy="longest-visibility")


def test_load_aware_spreads_a_cell_over_its_best_satellites():
    from leonet.network.slots import spread_over_satellites

    # 6 dishes in one cell, each seeing satellites 10, 11, 12 with elevations 80 > 60 > 40, and a
    # lone dish in another cell.
    site = np.repeat(np.arange(6), 3)
    sat = np.tile([10, 11, 12], 6)
    el = np.tile([80.0, 60.0, 40.0], 6)
    site = np.r_[site, 6, 6]
    sat = np.r_[sat, 10, 11]
    el = np.r_[el, 30.0, 50.0]
    cell = np.array([0, 0, 0, 0, 0, 0, 1])
    got = spread_over_satellites(site, sat, el, 8, cell, max_sats_per_cell=2)
    assert list(got[:6]) == [10, 11, 10, 11, 10, 11]
    assert got[6] == 11 and got[7] == -1  # best for the lone dish; -1 for a dish that sees nothing
    got3 = spread_over_satellites(site, sat, el, 8, cell, max_sats_per_cell=3)
    assert list(got3[:6]) == [10, 11, 12, 10, 11, 12]
    assert got3[6] == 11
