"""Time that zooms: a calendar of coarse steps with windows at their own steps (issue 12)."""

import textwrap

import numpy as np
import pytest
import yaml

import leonet
from leonet.errors import InputError
from leonet.results.store import ResultStore

BASE = """
name: calendar
constellation: starlink-shell1
ground:
  dish_groups:
    - {name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 2, radius_km: 5, seed: 1}
  builtin:
    - {name: starlink-gateways-2023, regions: [Europe]}
    - {name: starlink-pops-2023, regions: [Europe]}
time:
  start: 2022-03-09T00:00:00Z
  duration_s: 7200
  step_s: 900
  windows: WINDOWS
outputs: {visibility_pairs: false, chunk_steps: 7}
"""


def scenario(windows: str):
    return leonet.scenario_from_dict(yaml.safe_load(textwrap.dedent(BASE).replace("WINDOWS", windows)))


def test_windows_add_their_instants_to_the_coarse_grid():
    sc = scenario("[{name: hack, start: 2022-03-09T01:00:00Z, duration_s: 60, step_s: 10}, "
                  "{name: fix, start_s: 5400, duration_s: 30, step_s: 15}]")
    off_s = sc.time.offsets_ns() / 1e9
    coarse = np.arange(0, 7200, 900.0)
    hack = 3600 + np.arange(0, 60, 10.0)
    fix = 5400 + np.arange(0, 30, 15.0)
    np.testing.assert_array_equal(off_s, np.unique(np.r_[coarse, hack, fix]))
    assert sc.time.n_steps == len(off_s) == 8 + 6 - 1 + 2 - 1  # shared instants counted once
    assert not sc.time.uniform


@pytest.mark.parametrize("windows, needle", [
    ("[{start_s: 0, duration_s: 600, step_s: 10}, {start_s: 300, duration_s: 600, step_s: 10}]", "overlap"),
    ("[{start: 2022-03-08T23:00:00Z, duration_s: 60, step_s: 10}]", "starts before time.start"),
    ("[{start_s: 0, start: 2022-03-09T00:00:00Z, duration_s: 60, step_s: 10}]", "give start (UTC) or start_s"),
    ("[{start_s: 0, duration_s: 60, step_s: 0.0000000001}]", "greater than or equal to 0.001"),
    # a window must start within the longest calendar: no overflow, no year-9999 window skipped
    ("[{start_s: 1.0e+300, duration_s: 60, step_s: 10}]", "time.windows[0].start_s"),
    ("[{start_s: 1.5e+21, duration_s: 60, step_s: 10}]", "less than 31622400"),
    ("[{start: 9999-01-01T00:00:00Z, duration_s: 60, step_s: 10}]", "from 1957 to 2199"),
    ("[{start: 2023-06-01T00:00:00Z, duration_s: 60, step_s: 10}]", "within the longest calendar (366 days"),
    ("[{start: 20220309, duration_s: 60, step_s: 10}]", "give an ISO date/time"),
])
def test_bad_windows_are_named(windows, needle):
    with pytest.raises(InputError) as err:
        scenario(windows)
    assert needle in str(err.value) and "time" in str(err.value)


def test_huge_calendars_are_refused_before_anything_is_built():
    text = textwrap.dedent(BASE).replace("duration_s: 7200", "duration_s: 172800").replace(
        "WINDOWS", "[{start_s: 0, duration_s: 86400, step_s: 0.001}]")
    with pytest.raises(InputError, match="more than 50,000,000"):
        leonet.scenario_from_dict(yaml.safe_load(text))


def test_a_windowed_run_records_its_instants_and_their_durations(tmp_path):
    sc = scenario("[{name: hack, start_s: 1800, duration_s: 60, step_s: 5}]")
    result = leonet.run(sc, out_dir=tmp_path / "r")
    store = ResultStore(result.store.root)
    assert not store.manifest.uniform_steps
    times = store.step_times_ns()
    np.testing.assert_array_equal(times, result.model.t_ns)
    durations = store.step_durations_s()
    assert durations.sum() == pytest.approx(7200.0)   # the steps tile the calendar
    assert durations.min() == 5.0 and durations.max() == 900.0
    d = store.read("dish_steps", columns=["t"]).column("t").cast("int64").to_numpy()
    assert set(np.unique(d)) == set(times.tolist())
    np.testing.assert_array_equal(store.steps_of(times), np.arange(len(times)))


def test_a_uniform_run_needs_no_steps_table(tmp_path):
    sc = scenario("[]")
    store = ResultStore(leonet.run(sc, out_dir=tmp_path / "u").store.root)
    assert store.manifest.uniform_steps and not (store.root / "steps.parquet").exists()
    np.testing.assert_allclose(store.step_durations_s(), 900.0)


def test_windows_past_a_shortened_calendar_are_clipped_or_skipped_and_said_so():
    sc = scenario("[{name: late, start_s: 7000, duration_s: 600, step_s: 100}, {name: after, start_s: 9000, "
                  "duration_s: 60, step_s: 10}]")
    off_s = sc.time.offsets_ns() / 1e9
    assert off_s.max() < 7200 and 7100 in off_s          # clipped at the calendar's end
    assert sc.time.skipped_windows() == ["after"]
    model = leonet.build_model(sc)
    assert any("after" in w for w in model.network.warnings)


def test_a_calendar_of_many_windows_reads_short():
    """A calendar of many windows (24 here, as the realism check sampled a day until Dec 2026; 96 now) is
    not listed window by window: the first
    two, a count and the last; four or fewer are listed in full."""
    from leonet.results.calendar import MAX_WINDOWS_LISTED, Calendar, Window

    hour_ns = 3600 * 10**9
    t0 = 1_704_491_472 * 10**9  # 2024-01-05 21:51:12 UTC

    def cal(n):
        wins = tuple(Window(f"local {k:02d}:00", t0 + k * hour_ns, t0 + k * hour_ns + 60 * 10**9, 15.0)
                     for k in range(n))
        times = np.array(sorted({w.start_ns + j * 15 * 10**9 for w in wins for j in range(4)}), dtype=np.int64)
        return Calendar(times_ns=times, durations_s=np.full(len(times), 15.0), step_s=86_400.0, uniform=False,
                        end_ns=t0 + 24 * hour_ns, windows=wins)

    text = cal(24).text()
    assert text.startswith("96 steps (86,400 s, and windows at local 00:00 2024-01-05 21:51:12 for 60 s at 15 s; local 01:00")
    assert "; ... 21 more ...; local 23:00 2024-01-06 20:51:12 for 60 s at 15 s)" in text
    assert "local 02:00" not in text
    full = cal(MAX_WINDOWS_LISTED).text()
    assert "more" not in full and all(f"local {k:02d}:00" in full for k in range(MAX_WINDOWS_LISTED))


def _time(step_s, windows, duration_s=7200):
    from leonet.scenario.timing import TimeSpec

    return TimeSpec(start="2022-03-09T00:00:00Z", duration_s=duration_s, step_s=step_s, windows=windows)


def test_a_sample_window_shares_its_stretch_equally():
    """Worked by hand: hourly coarse steps over 2 h, a 60 s window at 15 s at each hour. Without
    ``sample`` a window's last instant stands for the rest of its hour (3,555 s); with it the four
    instants stand for 900 s each. Either way the durations sum to the calendar's 7,200 s."""
    wins = [{"start_s": k * 3600, "duration_s": 60, "step_s": 15} for k in range(2)]
    plain = _time(3600, wins).durations_s()
    assert plain.tolist() == [15, 15, 15, 3555] * 2
    sampled = _time(3600, [{**w, "sample": True} for w in wins]).durations_s()
    assert sampled.tolist() == [900.0] * 8 and sampled.sum() == 7200
    # with a coarse step longer than the gap, a window's stretch ends where the next window starts
    day = _time(7200, [{**w, "sample": True} for w in wins]).durations_s()
    assert day.tolist() == [900.0] * 8
    # a sample window in a coarse grid: the stretch up to the next coarse instant (here 900 s)
    grid = _time(900, [{"start_s": 1800, "duration_s": 30, "step_s": 10, "sample": True}]).durations_s()
    assert grid.tolist() == [900, 900, 300, 300, 300] + [900] * 5


@pytest.mark.parametrize("seed", range(20))
def test_durations_always_sum_to_the_calendar(seed):
    """Any mix of windows, sample or not, clipped or not: every instant stands for a positive time and
    the durations sum to the calendar's length (lost time and shares stay whole)."""
    rng = np.random.default_rng(seed)
    step_s = float(rng.choice([60, 600, 3600]))
    duration_s = float(rng.integers(2, 12)) * step_s
    wins, t = [], 0.0
    while len(wins) < 5:
        t += float(rng.integers(0, 3)) * step_s + float(rng.integers(1, 5)) * 7.0
        length = float(rng.integers(1, 6)) * 5.0
        if t + length > duration_s * 1.2:
            break
        wins.append({"start_s": t, "duration_s": length, "step_s": 5.0, "sample": bool(rng.integers(0, 2))})
        t += length
    spec = _time(step_s, wins, duration_s)
    d = spec.durations_s()
    assert len(d) == spec.n_steps and (d > 0).all()
    assert d.sum() == pytest.approx(duration_s)


def test_a_run_with_sample_windows_weighs_them_in_its_steps_table(tmp_path):
    """The run writes the sample durations into its steps table, and readers take them from there."""
    from leonet.results.calendar import calendar

    sc = scenario('[{name: a, start_s: 0, duration_s: 60, step_s: 15, sample: true}, '
                  '{name: b, start_s: 3600, duration_s: 60, step_s: 15, sample: true}]')
    sc = leonet.scenario_from_dict({**sc.model_dump(mode="json", exclude_none=True),
                                    "time": {**sc.time.model_dump(mode="json", exclude_none=True), "step_s": 3600}})
    run = leonet.run(sc, out_dir=tmp_path / "out")
    cal = calendar(ResultStore(run.store.root))
    assert cal.durations_s.tolist() == [900.0] * 8 and cal.durations_s.sum() == 7200


def test_a_window_cut_by_the_end_says_how_much_ran_and_one_past_it_is_not_listed():
    from leonet.results.calendar import Calendar, Window

    s = 10**9
    wins = (Window("edge-end", 100 * s, 160 * s, 5.0), Window("after", 200 * s, 260 * s, 5.0))
    times = np.array([0, 30 * s, 60 * s, 90 * s, 100 * s, 105 * s, 110 * s, 115 * s], dtype=np.int64)
    cal = Calendar(times_ns=times, durations_s=np.diff(np.r_[times, 120 * s]) / 1e9, step_s=30.0, uniform=False,
                   end_ns=120 * s, windows=wins)
    text = cal.text()
    assert "edge-end 1970-01-01 00:01:40 for 20 s of its 60 s at 5 s" in text and "after" not in text
