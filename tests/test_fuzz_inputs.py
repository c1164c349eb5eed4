"""Property-based fuzzing of every input leonet reads, through the real command line.

Hypothesis mutates a valid scenario and each file it names - scenario YAML (its values and its
text), TLE, OMM as JSON, CSV and XML, sites CSV, horizon CSV and demand CSV - and runs
``leonet validate`` on the result, in this process (``leonet.cli.main``). Every outcome must be
either "valid" (exit 0) or one clear message (exit 2) that names the file it is about; never a
traceback, never a hang (each case has a time limit). The named crashes found by the first
harness are pinned as plain regression tests in tests/test_input_bounds.py.

Budget: about a minute for the whole module (``max_examples`` per input kind below).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
from pathlib import Path

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from leonet.cli import main  # noqa: E402

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"
#: Cases per input kind (9 kinds); LEONET_FUZZ_EXAMPLES=2000 LEONET_FUZZ_RANDOM=1 for a long hunt.
EXAMPLES = int(os.environ.get("LEONET_FUZZ_EXAMPLES", "150"))
RANDOM = bool(os.environ.get("LEONET_FUZZ_RANDOM"))
CASE_TIMEOUT_S = 20  # a case that takes longer is a hang

#: Text that has broken parsers before: huge and negative numbers, dates outside int64
#: nanoseconds, separators, quotes, newlines in fields, NUL, deep nesting, long values.
TOKENS = [
    "", " ", "-1", "0", "-0", "1e999", "-1e999", "nan", "NaN", "inf", "-inf", "9" * 400, "9" * 5000,
    "18446744073709551616", "9223372036854775808", "-9223372036854775809", "1.5.2", "0x1F",
    ",", ",,,,", ";", "\n", "\r\n", "\r", '"', '"a\nb"', "'", "\t", "\x00", "\ufeff", "é", "名",
    "a" * 100_000, "[" * 1000, "{" * 1000, "- " * 1000, "2300-01-01T00:00:00Z", "1600-01-01T00:00:00",
    "2262-04-12T00:00:00", "0.9999999", "100.0", "999999", "True", "null", "~", "[]", "{}", "- ", ": ",
    "&a [1]", "*a", "!!python/object/apply:os.system ['true']", "<", ">", "<!ENTITY x 'y'>", "]]>",
]


CASES = {"run": 0, "valid": 0, "refused": 0}


def _run_validate(path: Path) -> tuple[int, str]:
    CASES["run"] += 1
    out, err = io.StringIO(), io.StringIO()

    def hung(signum, frame):
        raise TimeoutError(f"validate took longer than {CASE_TIMEOUT_S} s (a hang)")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(CASE_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", str(path)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return code, err.getvalue() + out.getvalue()


def _check(scenario: Path, about: Path) -> None:
    """Exit 0, or exit 2 with one message naming the file it is about (or the scenario)."""
    code, text = _run_validate(scenario)
    assert "Traceback" not in text, text[-3000:]
    assert code in (0, 2), (code, text[-3000:])
    CASES["valid" if code == 0 else "refused"] += 1
    if code == 2:
        flat = text.replace("\n", "")
        assert "error:" in flat, flat[:2000]
        assert about.name in flat or scenario.name in flat, flat[:2000]
        assert len(flat) < 5_000, f"an error message of {len(flat):,} characters: {flat[:300]}..."


# ----------------------------------------------------------------------------------- base inputs

SITES_CSV = "name,lat_deg,lon_deg,elevation_m,kind,group\nhome,50.45,30.52,120,dish,Kyiv\nfarm,49.84,24.03,290,dish,Lviv\n"
HORIZON_CSV = "azimuth_deg,elevation_deg\n0,10\n90,25\n180,5\n270,30\n"
DEMAND_CSV = "city,dishes,country\nKharkiv,40,UA\nOdesa,25,UA\n"


def _scenario(orbit_file: str | None = None, fmt: str = "auto") -> dict:
    constellation = {"shells": [{"name": "s1", "altitude_km": 550, "inclination_deg": 53, "planes": 6,
                                 "sats_per_plane": 4}]}
    if orbit_file:
        constellation = {"orbit_files": [{"path": orbit_file, "format": fmt}]}
    return {
        "name": "fuzz",
        "constellation": constellation,
        "ground": {
            "sites": [{"name": "gw", "lat_deg": 52.0, "lon_deg": 9.3, "kind": "gateway"}],
            "site_files": [{"path": "sites.csv"}],
            "dish_groups": [{"name": "Dnipro", "lat_deg": 48.46, "lon_deg": 35.05, "count": 3, "seed": 1}],
            "obstructions": [{"groups": ["Kyiv"], "file": "horizon.csv"}],
            "demand_files": [{"path": "demand.csv", "sites_per_city": 2}],
        },
        "time": {"start": "2024-01-15T06:00:00Z", "duration_s": 60, "step_s": 20},
        "network": {"enabled": False},
    }


@pytest.fixture(scope="module", autouse=True)
def count_cases():
    yield
    print(f"\nfuzz cases run through `leonet validate`: {CASES['run']:,} "
          f"({CASES['valid']:,} valid, {CASES['refused']:,} refused with one message)")


@pytest.fixture(scope="module", autouse=True)
def small_machine():
    """Pretend the machine has 1 GiB: huge but schema-valid sizes (millions of dishes) are then
    refused by the run-size check at once instead of being built for minutes."""
    from leonet.sim import budget

    saved = budget.default_max_memory_bytes
    budget.default_max_memory_bytes = lambda: 2**30
    yield
    budget.default_max_memory_bytes = saved


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz")
    (d / "sites.csv").write_text(SITES_CSV)
    (d / "horizon.csv").write_text(HORIZON_CSV)
    (d / "demand.csv").write_text(DEMAND_CSV)
    for name in ("sample.tle", "sample.json", "sample.csv", "sample.xml"):
        shutil.copy(DATA / name, d / name)
    for orbit in (None, "sample.tle", "sample.json", "sample.csv", "sample.xml"):
        stem = "walker" if orbit is None else orbit.replace(".", "_")
        (d / f"{stem}.yaml").write_text(yaml.safe_dump(_scenario(orbit), sort_keys=False))
    return d


def test_base_inputs_are_valid(base):
    for scenario in ("walker.yaml", "sample_tle.yaml", "sample_json.yaml", "sample_csv.yaml", "sample_xml.yaml"):
        code, text = _run_validate(base / scenario)
        assert code == 0, text


# ---------------------------------------------------------------------------------- text mutation

_edit = st.one_of(
    st.tuples(st.just("insert"), st.floats(0, 1), st.one_of(st.sampled_from(TOKENS), st.text(max_size=6))),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40)),
    st.tuples(st.just("cell"), st.floats(0, 1), st.sampled_from(TOKENS)),
    st.tuples(st.just("dup_line"), st.floats(0, 1), st.just("")),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just("")),
    st.tuples(st.just("bytes"), st.floats(0, 1), st.binary(min_size=1, max_size=4)),
)


def _mutate(data: bytes, edits) -> bytes:
    for kind, where, arg in edits:
        pos = int(where * len(data))
        if kind == "insert":
            data = data[:pos] + arg.encode("utf-8", "surrogatepass") + data[pos:]
        elif kind == "delete":
            data = data[:pos] + data[pos + arg:]
        elif kind == "bytes":
            data = data[:pos] + arg + data[pos:]
        elif kind == "truncate":
            data = data[:pos]
        else:
            lines = data.split(b"\n")
            k = min(int(where * len(lines)), len(lines) - 1)
            if kind == "dup_line":
                lines.insert(k, lines[k])
            else:  # replace one comma-separated cell (or a token inside a fixed-column line)
                cells = lines[k].split(b",")
                j = (k * 7 + len(arg)) % len(cells)
                cells[j] = arg.encode("utf-8", "surrogatepass")
                lines[k] = b",".join(cells)
            data = b"\n".join(lines)
    return data


def _fuzz_file(base: Path, scenario: str, target: str, edits, tmp_dir: Path) -> None:
    work = tmp_dir
    for f in base.iterdir():
        shutil.copy(f, work / f.name)
    original = (base / target).read_bytes()
    (work / target).write_bytes(_mutate(original, edits))
    _check(work / scenario, work / target)


_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                            HealthCheck.data_too_large])


@pytest.mark.parametrize("scenario,target", [
    ("sample_tle.yaml", "sample.tle"),
    ("sample_json.yaml", "sample.json"),
    ("sample_csv.yaml", "sample.csv"),
    ("sample_xml.yaml", "sample.xml"),
    ("walker.yaml", "sites.csv"),
    ("walker.yaml", "horizon.csv"),
    ("walker.yaml", "demand.csv"),
    ("walker.yaml", "walker.yaml"),
])
def test_mutated_file_gives_exit_0_or_one_message(base, tmp_path_factory, scenario, target):
    @_SETTINGS
    @given(edits=st.lists(_edit, min_size=1, max_size=4))
    def case(edits):
        _fuzz_file(base, scenario, target, edits, tmp_path_factory.mktemp("case"))

    case()


# ------------------------------------------------------------------------------ value mutation

_nasty_value = st.one_of(
    st.integers(-2**70, 2**70),
    st.sampled_from([10**400, -10**400, 2**63, 2**64, -1, 0, 10**7, 10**10, 10_000_000, 31622400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["a" * 100_000, "2300-01-01T00:00:00Z", "1600-01-01T00:00:00Z", "x.csv", "/dev/zero",
                     "..", "/", "ukraine-2022", "Aerzen"]),
    st.none(), st.booleans(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", "lat_deg", "count"]), st.integers(-5, 5), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _set(node, path, value, delete=False):
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value


@_SETTINGS
@given(data=st.data())
def test_mutated_scenario_values_give_exit_0_or_one_message(base, tmp_path_factory, data):
    doc = _scenario("sample.tle") if data.draw(st.booleans()) else _scenario()
    doc["ground"]["dish_groups"][0].update({"count": 3})
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(doc) if p]
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "replace", "delete", "unknown"]))
        if action == "delete":
            _set(doc, path, None, delete=True)
        elif action == "unknown":
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                parent["bogus_field"] = 1
        else:
            _set(doc, path, data.draw(_nasty_value))
    work = tmp_path_factory.mktemp("case")
    for f in base.iterdir():
        shutil.copy(f, work / f.name)
    (work / "s.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    _check(work / "s.yaml", work / "s.yaml")
