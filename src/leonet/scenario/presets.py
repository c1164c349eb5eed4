"""The scenario and constellation presets shipped with leonet (``leonet/presets``)."""

from __future__ import annotations

import copy
from importlib import resources

import yaml

from ..errors import InputError, quote


def preset_root():
    """The folder of the shipped presets (``scenarios/``, ``constellations/``)."""
    return resources.files("leonet") / "presets"


def read_preset_yaml(kind: str, name: str, source: str | None = None, location: str | None = None) -> tuple[dict, str]:
    """The parsed preset ``name`` of ``kind`` (scenarios, constellations) and its path; an InputError
    naming the available presets when there is none of that name."""
    from ..errors import did_you_mean

    root = preset_root() / kind
    names = [p["name"] for p in list_presets() if p["kind"] == kind[:-1]]
    path = root / f"{name}.yaml"
    if name not in names or not path.is_file():
        available = ", ".join(names) or "none"
        raise InputError(f"unknown {kind[:-1]} preset {quote(name)}{did_you_mean(name, names)}; available: {available}",
                         source=source, location=location)
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text), str(path)


def list_presets() -> list[dict[str, str]]:
    """Every embedded preset: dicts with ``kind`` (scenario/constellation), ``name``, ``description``."""
    out = []
    for kind in ("scenarios", "constellations"):
        folder = preset_root() / kind
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
                desc = data.get("description") or data.get("constellation", {}).get("description", "")
                out.append({"kind": kind[:-1], "name": entry.name[:-5], "description": " ".join(str(desc).split())})
    return out


DEFAULT_SCENARIO = "ukraine-2022"


def expand_constellation_preset(data: dict, source: str) -> dict:
    """``data`` with its ``constellation: NAME`` (or ``constellation: {preset: NAME, ...}``) replaced by
    the preset's constellation, the fields given beside ``preset`` winning."""
    cons = data.get("constellation")
    if isinstance(cons, str):
        cons = {"preset": cons}
    if isinstance(cons, dict) and cons.get("preset"):
        preset, _ = read_preset_yaml("constellations", str(cons["preset"]), source, "constellation.preset")
        merged = copy.deepcopy(preset["constellation"])
        for key, value in cons.items():
            if key != "preset" and value not in (None, [], ""):
                merged[key] = value
        merged["preset"] = cons["preset"]
        data = dict(data)
        data["constellation"] = merged
    return data
