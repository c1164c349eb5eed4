"""Options shared by the CLI's commands: scenario overrides from --set, --duration, --step, --start.

Light on purpose (no numerical imports): ``leonet --help`` loads it.
"""

from __future__ import annotations

from .errors import InputError


def parse_sets(sets: list[str]) -> dict:
    import yaml

    out = {}
    for item in sets:
        if "=" not in item:
            raise InputError(f"--set expects FIELD=VALUE (e.g. time.step_s=0.5), got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise InputError(f"--set {key}: value {value!r} is not valid YAML") from None
    return out


def overrides(duration: float | None, step: float | None, start: str | None, sets: list[str]) -> dict:
    out = parse_sets(sets)
    if duration is not None:
        out["time.duration_s"] = duration
    if step is not None:
        out["time.step_s"] = step
    if start is not None:
        out["time.start"] = start
    return out
