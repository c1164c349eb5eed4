"""The first hour of a new user, as the README leads them (issue 13): the Python API pasted into a
script, a worker process that dies, `leonet sites`, and the README's filtered reads."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SRC = str(Path(__file__).resolve().parents[1] / "src")


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _readme_block(after: str) -> str:
    """The first ```python block after the heading or sentence ``after`` in the README."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    m = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert m, f"no python block after {after!r}"
    return m.group(1)


@pytest.mark.slow
def test_readme_python_api_runs_as_a_script(tmp_path):
    code = _readme_block("## Python API")
    assert 'if __name__ == "__main__":' in code  # workers=2 needs the guard (spawned workers import the script)
    code = code.replace('"time.duration_s": 600', '"time.duration_s": 60, "outputs.chunk_steps": 2')
    code = code.replace('out_dir="results/demo"', f'out_dir="{tmp_path / "demo"}"')
    script = tmp_path / "api.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "demo" / "dish_steps").is_dir()


@pytest.mark.slow
def test_script_without_main_guard_fails_fast_with_a_message(tmp_path):
    script = tmp_path / "noguard.py"
    script.write_text(textwrap.dedent(f"""
        import leonet
        scenario = leonet.load_scenario("ukraine-2022", overrides={{"time.duration_s": 60, "time.step_s": 10,
                                                                   "outputs.chunk_steps": 2}})
        leonet.run(scenario, out_dir="{tmp_path / 'demo'}", workers=2)
    """))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=_env(), cwd=tmp_path)
    assert r.returncode != 0
    assert "__main__" in r.stderr and "worker process died" in r.stderr
    assert time.perf_counter() - t0 < 200  # it used to hang forever


@pytest.mark.slow
def test_a_killed_worker_ends_the_run_with_a_message(tmp_path):
    psutil = pytest.importorskip("psutil")
    out = tmp_path / "res"
    cmd = [sys.executable, "-c", "import sys; from leonet.cli import main; sys.exit(main(sys.argv[1:]))",
           "run", "--duration", "600", "--step", "2", "--set", "outputs.chunk_steps=3", "--workers", "2",
           "--quiet", "--no-report", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        parent = psutil.Process(proc.pid)
        deadline = time.time() + 180
        workers = []
        while time.time() < deadline and proc.poll() is None:
            workers = [c for c in parent.children(recursive=True)
                       if "resource_tracker" not in " ".join(c.cmdline())]
            chunks_written = (out / "site_steps").exists() and any((out / "site_steps").glob("*.parquet"))
            if len(workers) >= 2 and chunks_written:
                break
            time.sleep(0.2)
        assert proc.poll() is None and workers, "the run ended before a worker could be killed"
        os.kill(workers[0].pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=60)  # used to hang: the pool never noticed
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2, stderr[-3000:]
    assert "worker process died" in stderr and "Traceback" not in stderr


_SENDER = """
import os
from pathlib import Path


def big_result(marker_dir, n):
    Path(marker_dir, str(os.getpid())).touch()  # about to return: the result is sent next
    return b"x" * n
"""

_POOL_SCRIPT = """
import sys
from leonet.errors import LeonetError
from leonet.sim.pool import run_pool
import sender

if __name__ == "__main__":
    try:
        for _ in run_pool(sender.big_result, sys.argv[1], [(k, (8_000_000,)) for k in range(1000)], workers=2):
            pass
    except LeonetError as err:
        print(err, file=sys.stderr)
        sys.exit(2)
"""


@pytest.mark.slow
def test_a_worker_killed_while_sending_its_result_ends_the_run(tmp_path):
    """The race behind a killed worker's hang, made certain: the worker dies half-way through
    sending an 8 MB result (the main process is stopped meanwhile, so the pipe fills and the
    worker is stuck sending). The pool's reader then waits for the rest of that message; the
    process used to print its error and hang at exit."""
    (tmp_path / "sender.py").write_text(_SENDER)
    (tmp_path / "pool.py").write_text(_POOL_SCRIPT)
    markers = tmp_path / "markers"
    markers.mkdir()
    env = _env()
    env["PYTHONPATH"] = str(tmp_path) + os.pathsep + env["PYTHONPATH"]
    proc = subprocess.Popen([sys.executable, str(tmp_path / "pool.py"), str(markers)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None and not any(markers.iterdir()):
            time.sleep(0.05)
        assert proc.poll() is None and any(markers.iterdir()), "no worker started a task"
        os.kill(proc.pid, signal.SIGSTOP)  # nothing reads the results now: the sender blocks mid-message
        sender = int(next(markers.iterdir()).name)
        time.sleep(1.0)
        os.kill(sender, signal.SIGKILL)
        os.kill(proc.pid, signal.SIGCONT)
        stdout, stderr = proc.communicate(timeout=60)  # used to hang after printing the error
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, stderr[-3000:]
    assert "worker process died" in stderr and "Traceback" not in stderr, stderr[-3000:]


def test_sites_command_lists_sets_regions_and_names():
    from typer.testing import CliRunner

    from leonet.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["sites"])
    assert r.exit_code == 0 and "starlink-gateways-2023" in r.output and "Europe" in r.output
    r = runner.invoke(app, ["sites", "starlink-gateways-2023", "--search", "aerzen"])
    assert r.exit_code == 0 and "Aerzen, DE" in r.output
    r = runner.invoke(app, ["sites", "starlink-pops-2023", "--region", "Europe"])
    assert r.exit_code == 0 and "FRA" in r.output and "SEA" not in r.output


def test_readme_filtered_read_with_pyarrow(tmp_path):
    """The README's pyarrow filter, run on a small station-pair run."""
    import leonet

    sc = leonet.load_scenario("hypatia-starlink", overrides={"time.duration_s": 4, "time.step_s": 1})
    results = tmp_path / "results" / sc.name
    leonet.run(sc, out_dir=results)
    code = _readme_block("### Reading a slice of a large run")
    code = code.replace("results/hypatia-starlink", str(results))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    table = scope["table"]
    assert table.num_rows == 4 and set(table.column("src").to_pylist()) == {scope["src"]}


def test_run_refuses_more_than_max_memory_with_the_way_to_proceed(tmp_path, capsys):
    from leonet.cli import main

    code = main(["run", "ukraine-2022", "--max-memory", "300M", "--duration", "20", "--quiet",
                 "--out", str(tmp_path / "res")])
    err = capsys.readouterr().err.replace("\n", " ")
    assert code == 2 and "would need about" in err and "To proceed:" in err and "--max-memory" in err
    assert not (tmp_path / "res").exists()  # refused before anything was written
