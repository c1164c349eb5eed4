"""An error about a value given by --duration, --step or --start names that option, not a --set
the user never passed; a value from --set still says "(from --set)"."""

import pickle
import subprocess
import sys

import pytest

import leonet
from leonet.cli_options import overrides
from leonet.errors import InputError
from leonet.scenario.loading import location_with_line

LEONET = [sys.executable, "-m", "leonet.cli"]


def cli_error(*args, tmp_path) -> str:
    """The error `leonet ARGS` prints (exit 2), its whitespace normalised (rich wraps at 80 columns)."""
    r = subprocess.run([*LEONET, *args], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    return " ".join(r.stderr.split())


@pytest.mark.slow   # the CLI in a subprocess
@pytest.mark.parametrize("args, where", [
    (["--duration", "-5"], "time.duration_s (from --duration)"),
    (["--duration", "1e12"], "time.duration_s (from --duration)"),
    (["--step", "0"], "time.step_s (from --step)"),
    (["--step", "100000"], "time.step_s (from --step)"),
    (["--start", "notadate"], "time.start (from --start)"),
    (["--start", "1900-01-01"], "time.start (from --start)"),
    # a check of the whole time section that is about the step: the step, not the section's line
    (["--step", "1.0000000001"], "time.step_s (from --step): step_s must be a whole number of nanoseconds"),
    # --duration set the value even under a --set of the whole section
    (["--set", "time={start: 2022-03-01T00:00:00Z, duration_s: 60, step_s: 1}", "--duration", "-5"],
     "time.duration_s (from --duration)"),
    (["--set", "time.duration_s=-5"], "time.duration_s (from --set)"),
    (["--set", "time.step_s=1.0000000001"], "time.step_s (from --set)"),
])
def test_a_bad_value_names_the_option_that_gave_it(tmp_path, args, where):
    msg = cli_error("run", "ukraine-2022", *args, "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    assert where in msg, msg
    assert "(line" not in msg, msg
    wrong = {"--duration", "--step", "--start", "--set"} - {where.split("(from ")[1].split(")")[0]}
    assert not any(f"(from {o})" in msg for o in wrong), msg


@pytest.mark.slow   # the CLI in a subprocess
@pytest.mark.parametrize("args, note", [
    (["--step", "7"], "no finer than time.step_s (7 s)"),
    (["--start", "2022-06-01T00:00:00Z"], "starts before time.start (2022-06-01T00:00:00+00:00)"),
    (["--start", "2021-01-01T00:00:00Z"], "days after time.start (2021-01-01T00:00:00+00:00)"),
])
def test_a_window_the_option_moved_the_calendar_under_names_the_option(tmp_path, args, note):
    msg = cli_error("run", "ukraine-2022", *args, "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    field = "step_s" if args[0] == "--step" else "start"
    assert note in msg and "(line" in msg, msg   # the window's own line: the file holds it
    assert msg.endswith(f"(time.{field} was set on the command line, by {args[0]})"), msg
    assert "or --set" not in msg, msg


@pytest.mark.slow   # the CLI in a subprocess
def test_a_window_a_set_moved_the_calendar_under_says_set(tmp_path):
    msg = cli_error("run", "ukraine-2022", "--set", "time.step_s=7", "--out", str(tmp_path / "out"),
                    tmp_path=tmp_path)
    assert msg.endswith("(time.step_s was set on the command line, by --set)"), msg


@pytest.mark.slow   # the CLI in a subprocess
def test_an_event_before_a_start_from_the_command_line_names_the_option(tmp_path):
    msg = cli_error("run", "ukraine-2022", "--set", "time.windows=[]", "--start", "2023-01-01T00:00:00Z",
                    "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    assert "events[4] (sumy-outage).end (line" in msg and "at or before the calendar's start" in msg, msg
    assert msg.endswith("(time.start was set on the command line, by --start)"), msg


@pytest.mark.slow   # the CLI in a subprocess
def test_the_planning_commands_and_the_hypatia_export_name_the_option(tmp_path):
    msg = cli_error("contingency", "ukraine-2022", "--step", "7", "-o", str(tmp_path / "c"), tmp_path=tmp_path)
    assert msg.endswith("(time.step_s was set on the command line, by --step)"), msg
    msg = cli_error("export", "hypatia", "hypatia-starlink", str(tmp_path / "h"), "--duration", "-1",
                    tmp_path=tmp_path)
    assert "time.duration_s (from --duration)" in msg, msg


def test_an_error_found_after_loading_names_the_option():
    """build_model's errors go through location_with_line with the scenario's _overridden."""
    sc = leonet.load_scenario("ukraine-2022", overrides=overrides(3600, 30, None, [
        "events[3].target.groups=[Nowhere]"]))
    assert location_with_line(sc.source, "time.duration_s", sc._overridden) == "time.duration_s (from --duration)"
    assert location_with_line(sc.source, "time.step_s", sc._overridden) == "time.step_s (from --step)"
    assert location_with_line(sc.source, "time.start", sc._overridden).startswith("time.start (line ")
    # kept by a copy, as workers and variants get the scenario
    for copy in (pickle.loads(pickle.dumps(sc)), sc.model_copy(deep=True)):
        assert location_with_line(sc.source, "time.duration_s", copy._overridden) == \
            "time.duration_s (from --duration)"
    with pytest.raises(InputError) as err:
        leonet.build_model(sc)
    assert "events[3] (mariupol-power).target.groups[0] (from --set)" in str(err.value)


def test_the_python_api_keeps_naming_set():
    """Overrides given as a plain dict (leonet.load_scenario's) carry no option: "(from --set)" as before."""
    with pytest.raises(InputError) as err:
        leonet.load_scenario("ukraine-2022", overrides={"time.duration_s": -5})
    assert "time.duration_s (from --set)" in str(err.value)
    sc = leonet.load_scenario("ukraine-2022", overrides={"time.duration_s": 60})
    assert location_with_line(sc.source, "time.duration_s", sc._overridden) == "time.duration_s (from --set)"
    # plain tuples, as callers wrote _overridden before it knew its options
    assert location_with_line(sc.source, "time.duration_s", [("time", "duration_s")]) == \
        "time.duration_s (from --set)"


@pytest.mark.parametrize("override, words", [
    ({"time.windows[0].duration_s": 0.5}, "time.windows[0].duration_s was set on the command line, by --set"),
    ({"events[0].backup_hours": 3}, "events[0].backup_hours was set on the command line, by --set"),
])
def test_a_check_of_a_section_names_the_field_the_command_line_set_in_it(override, words):
    """A check across a section's fields (a window's step against its duration; a field an event type
    does not read) points at the section's line in the file; when the command line set one of those
    fields, the message says which (the file's line holds another value)."""
    with pytest.raises(InputError) as err:
        leonet.load_scenario("ukraine-2022", overrides=override)
    assert words in " ".join(str(err.value).split())
