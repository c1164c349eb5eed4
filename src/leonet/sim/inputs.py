"""The files a scenario names, found at the door."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import InputError, quote
from ..scenario import Scenario

#: Longest path quoted whole: a resolved path is often longer than an excerpt's 80 characters, and
#: its end (the file's name) is what the reader needs.
PATH_QUOTE_LIMIT = 1024


def input_file(scenario: Scenario, path: str, location: str) -> Path:
    """The file a scenario field names, resolved against the scenario's folder; an InputError
    naming the scenario and the field when it is missing or a folder."""
    p = scenario.resolve_path(path)
    if not p.exists():
        raise InputError(f"no such file: {quote(str(p), PATH_QUOTE_LIMIT)}", source=scenario.source, location=location)
    if p.is_dir():
        raise InputError(f"{quote(str(p), PATH_QUOTE_LIMIT)} is a folder, expected a file", source=scenario.source, location=location)
    return p


def scenario_input_files(scenario: Scenario) -> list[tuple[str, Path]]:
    """Every file a scenario names, as (field, resolved path): the orbit files and their plane
    assignments, site, demand and horizon files, a laser list and a providers CSV. A test walks the
    scenario schema so that a new file field cannot be missed here."""
    from ..threats.providers import BUILTIN as BUILTIN_PROVIDERS

    named: list[tuple[str, str]] = []
    for k, spec in enumerate(scenario.constellation.orbit_files):
        named.append((f"constellation.orbit_files[{k}].path", spec.path))
        if spec.plane_assignment:
            named.append((f"constellation.orbit_files[{k}].plane_assignment", spec.plane_assignment))
    for k, spec in enumerate(scenario.ground.site_files):
        named.append((f"ground.site_files[{k}].path", spec.path))
    for k, spec in enumerate(scenario.ground.demand_files):
        named.append((f"ground.demand_files[{k}].path", spec.path))
    for k, spec in enumerate(scenario.ground.obstructions):
        if spec.file:
            named.append((f"ground.obstructions[{k}].file", spec.file))
    if scenario.network.isl.list_file:
        named.append(("network.isl.list_file", scenario.network.isl.list_file))
    providers = scenario.terrestrial.providers
    if providers is not None and providers not in BUILTIN_PROVIDERS:
        named.append(("terrestrial.providers", providers))
    return [(where, scenario.resolve_path(path)) for where, path in named]


#: Package folders (relative to the package) whose files cannot change a run's results: the web
#: app's page, styles, script and map are served to a browser, never read by a run.
NOT_RESULTS_DIRS = (("app", "static"),)
#: File suffixes that cannot change a run's results: documentation (README.md, SOURCE.md), which no
#: code reads. Everything else (code, data, presets, templates) stays in the digest.
NOT_RESULTS_SUFFIXES = (".md",)


def _affects_results(rel: tuple[str, ...]) -> bool:
    """Whether the package file at relative path parts ``rel`` can change a run's results."""
    if "__pycache__" in rel or rel[-1].endswith((".pyc", ".nbi", ".nbc")):  # caches of the code
        return False
    if any(rel[:len(d)] == d for d in NOT_RESULTS_DIRS):
        return False
    return not rel[-1].lower().endswith(NOT_RESULTS_SUFFIXES)


@lru_cache(maxsize=1)
def leonet_digest() -> str:
    """SHA-256 over leonet's own code and data (every ``.py`` and package-data file, by relative
    path): results written by another leonet are other results, even for the same scenario.
    Files that cannot change results (:data:`NOT_RESULTS_DIRS`, :data:`NOT_RESULTS_SUFFIXES`) are
    left out, so that editing the web app or the documentation keeps a run resumable."""
    return _package_digest(Path(__file__).resolve().parents[1])


def _package_digest(root: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if not p.is_file() or not _affects_results(p.relative_to(root).parts):
            continue
        h.update(p.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def inputs_digest(scenario: Scenario) -> dict[str, str]:
    """What a run was computed from besides the scenario text: ``{"leonet": leonet_digest(), field:
    sha256 of the file it names, ...}`` (a file missing here is left for the model to report)."""
    from ..results.store import file_sha256

    out = {"leonet": leonet_digest()}
    for where, path in scenario_input_files(scenario):
        if path.is_file():
            out[where] = file_sha256(path)
    return out
