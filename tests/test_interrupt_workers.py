"""Local worker processes when a run ends early: Ctrl-C with ``--workers 2`` (the terminal sends
SIGINT to the whole process group) ends the run within seconds, leaves no worker behind and keeps
what was finished for a rerun; a script without a ``__main__`` guard ends with the advice to add
one, not with "run the same command again"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")

# 120 satellites, 30 chunks of 200 one-second steps: long enough to interrupt after a chunk
# (60 until Dec 2026; the resume then ran the suite's longest test)
SCENARIO = """
name: longr2
constellation:
  shells: [{name: sh, altitude_km: 550, inclination_deg: 53, planes: 12, sats_per_plane: 10}]
ground:
  sites:
    - {name: GW-Berlin, lat_deg: 52.52, lon_deg: 13.40, kind: gateway}
    - {name: FRA, lat_deg: 50.11, lon_deg: 8.68, kind: pop}
  dish_groups: [{name: Kyiv, lat_deg: 50.45, lon_deg: 30.52, count: 3, radius_km: 10, seed: 1}]
time: {start: 2022-03-01T12:00:00Z, duration_s: 3000, step_s: 1}
outputs: {chunk_steps: 200}
"""
CHUNKS = 15


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _recorded(out: Path) -> dict:
    try:
        return json.loads((out / "manifest.json").read_text()).get("chunks", {})
    except (OSError, ValueError):  # not written yet, or being replaced
        return {}


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_with_workers_exits_promptly_leaves_no_worker_and_resumes(tmp_path, stop):
    """SIGTERM (a scheduler, ``docker stop``, ``timeout``) as Ctrl-C; the folder left is an
    incomplete run, not a damaged one: no chunk file the manifest does not record (workers finish
    files the main process never records), no temporary file. The rerun after Ctrl-C resumes; after
    SIGTERM the folder is the same kind (checked above), so its rerun is not repeated."""
    psutil = pytest.importorskip("psutil")
    scenario = tmp_path / "longr2.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "res"
    cmd = [sys.executable, "-m", "leonet.cli", "run", str(scenario), "--out", str(out), "--no-report", "--quiet",
           "--workers", "2"]
    # its own process group, which Ctrl-C in a terminal signals as a whole (workers included)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not _recorded(out).get("site_steps"):
            time.sleep(0.05)
        assert proc.poll() is None and _recorded(out).get("site_steps"), "the run ended before a chunk was recorded"
        children = psutil.Process(proc.pid).children(recursive=True)
        workers = [c for c in children if "resource_tracker" not in " ".join(c.cmdline())]
        assert len(workers) == 2, [c.cmdline() for c in children]
        os.killpg(proc.pid, stop)
        t0 = time.monotonic()
        stdout, stderr = proc.communicate(timeout=30)  # used to hang now and then, for ever
        assert time.monotonic() - t0 < 30
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, stderr[-3000:]
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr[-3000:]
    _, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, f"left behind: {[(p.pid, p.cmdline()) for p in alive]}"

    recorded = _recorded(out)
    kept = {out / t / f"part-{int(c):06d}.parquet" for t, cs in recorded.items() for c in cs}
    on_disk = {p for p in out.glob("*/*") if p.name.startswith(("part-", ".part-"))}
    assert on_disk == kept, f"not recorded: {sorted(p.name for p in on_disk - kept)[:5]}"
    s = subprocess.run([sys.executable, "-m", "leonet.cli", "summary", str(out)], capture_output=True, text=True,
                       timeout=120, env=_env())
    assert s.returncode == 0 and "incomplete run" in s.stdout and "damaged" not in s.stdout + s.stderr, s.stderr[-2000:]
    kept = {p: p.stat().st_mtime_ns for p in kept if p.exists()}
    assert kept and len(recorded["site_steps"]) < CHUNKS, "the interrupt came too late to test resume"
    if stop == signal.SIGTERM:
        return
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=_env())
    assert r.returncode == 0, r.stderr[-3000:]
    assert "resumed" in r.stdout
    for p, mtime in kept.items():  # nothing finished before the interrupt was computed again
        assert p.stat().st_mtime_ns == mtime, p
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["completed"] and len(manifest["chunks"]["site_steps"]) == CHUNKS


@pytest.mark.slow
def test_script_without_main_guard_ends_with_the_guard_advice(tmp_path):
    """Spawned workers import the script again and refuse to start a pool from it: the main
    process's error is the README's advice (add the guard), not "run the same command again",
    and a rerun gives the same advice."""
    script = tmp_path / "noguard.py"
    script.write_text(textwrap.dedent("""
        import tempfile
        import leonet

        scenario = leonet.load_scenario("ukraine-2022", overrides={"time.duration_s": 60, "time.step_s": 10,
                                                                   "outputs.chunk_steps": 2})
        leonet.run(scenario, out_dir=tempfile.mkdtemp(prefix="res-", dir="."), workers=2)
    """))
    for _ in range(2):
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, env=_env(),
                           cwd=tmp_path)
        assert time.monotonic() - t0 < 200
        assert r.returncode != 0
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith("leonet.errors.LeonetError: a worker process died while starting"), r.stderr[-3000:]
        assert 'if __name__ == "__main__":' in last and "README" in last
        assert "run the same command again" not in r.stderr, r.stderr[-3000:]


_PROBE = """
import signal
import threading


def probe(_shared, k):
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN, any(
        t.name == "leonet-parent-watch" for t in threading.enumerate())
"""


@pytest.mark.slow
def test_workers_ignore_ctrl_c_and_watch_their_main_process(tmp_path, monkeypatch):
    """Only the main process handles Ctrl-C (it ends its workers); a worker whose main process is
    killed ends itself."""
    from leonet.sim.pool import run_pool

    (tmp_path / "sigprobe.py").write_text(_PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get this process's sys.path
    import sigprobe

    got = dict(run_pool(sigprobe.probe, None, [(k, (k,)) for k in range(4)], workers=2))
    assert got == {k: (True, True) for k in range(4)}


def test_ctrl_c_while_workers_start_is_raised_once_they_are_listed():
    """A Ctrl-C while the pool starts a worker waits until the worker is listed (and its end
    assured), then is raised as usual."""
    from leonet.sim.pool import _sigint_deferred

    if threading.current_thread() is not threading.main_thread() or not callable(signal.getsignal(signal.SIGINT)):
        pytest.skip("needs Python's Ctrl-C handler in the main thread")
    before = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with _sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)
            reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is before
