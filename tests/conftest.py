"""Fixtures shared by the whole test session, and the test lanes.

Lanes (markers declared in pyproject.toml):

- ``slow``: end-to-end tests: simulation runs, a ``leonet`` subprocess that simulates, the app's
  HTTP server, Dask or worker processes, every preset (test_golden).
- ``browser``: drives headless Chromium.

``pytest -m "not slow and not browser"`` is the fast lane; ``pytest`` runs everything. Both run on
two processes (pytest-xdist, ``-n 2 --dist loadfile`` in pyproject.toml's addopts): each process
takes whole test files, so a module's fixtures are built once; ``-n 0`` runs in this process.

Shared runs: :func:`shared_run` builds a results folder once per session (once per process) for
each distinct (scenario, overrides, baseline) and hands the same folder to every test file that
asks for it.
A shared folder is read-only by convention: a test that changes it works on a copy
(``shutil.copytree``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest


def _key(scenario: str, overrides: dict | None, baseline: bool) -> str:
    return json.dumps([scenario, overrides or {}, baseline], sort_keys=True, default=str)


@pytest.fixture(scope="session")
def shared_run(tmp_path_factory) -> Callable[..., Path]:
    """``shared_run(scenario, overrides=None, baseline=False) -> Path``: a results folder.

    ``scenario`` is a preset name or a scenario file, ``overrides`` a dict of dotted fields as for
    :func:`leonet.load_scenario`. With ``baseline=True`` the same scenario without its events is
    also run into ``RESULTS/baseline`` (what ``leonet run --baseline`` writes). Each distinct set
    of arguments is run once per session; later calls return the same folder.
    """
    import leonet

    folders: dict[str, Path] = {}

    def get(scenario: str, overrides: dict | None = None, baseline: bool = False) -> Path:
        key = _key(str(scenario), overrides, baseline)
        if key not in folders:
            folder = tmp_path_factory.mktemp("shared") / "run"
            sc = leonet.load_scenario(scenario, overrides=dict(overrides or {}))
            leonet.run(sc, out_dir=folder)
            if baseline:
                base = sc.model_copy(update={"events": [], "name": sc.name + "-baseline"})
                leonet.run(base, out_dir=folder / "baseline")
            folders[key] = folder
        return folders[key]

    return get


@pytest.fixture(autouse=True, scope="session")
def _leonet_cache_dir(tmp_path_factory):
    """The on-disk caches (ITU-R attenuation tables) go to a folder of this test session, never
    the user's ~/.cache/leonet."""
    import os

    old = os.environ.get("LEONET_CACHE_DIR")
    os.environ["LEONET_CACHE_DIR"] = str(tmp_path_factory.mktemp("leonet-cache"))
    yield
    if old is None:
        os.environ.pop("LEONET_CACHE_DIR", None)
    else:
        os.environ["LEONET_CACHE_DIR"] = old
