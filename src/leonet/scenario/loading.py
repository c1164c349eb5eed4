"""Loading a scenario: from a file or a preset, overrides applied, validated once, every problem
an :class:`~leonet.errors.InputError` naming the file, the field path and the YAML line."""

from __future__ import annotations

import copy
import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import InputError, did_you_mean, quote
from .common import FieldError
from .overrides import apply_override, option_of, overridden_keys, override_option, override_path
from .presets import (DEFAULT_SCENARIO, expand_constellation_preset, list_presets, preset_root,
                      read_preset_yaml)
from .schema import Scenario
from .yamlfile import MAX_SCENARIO_BYTES, parse_scenario_yaml, yaml_line


def _loc_to_path(loc: tuple) -> str:
    out = ""
    for key in loc:
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out


def _members(annotation) -> list:
    """The types a field's annotation may hold: Annotated unwrapped, unions (Optional included)
    flattened."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _is_model(t) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _walk_loc(loc: tuple, data, root: type = Scenario) -> tuple[tuple, list]:
    """``loc`` (a pydantic error's) without the tags pydantic adds for the member of a union it
    tried (``list[ExchangeSpec]``, ``literal['builtin']``: class names that mean nothing to the
    scenario's author and hide the line), and the types the field before its last key may hold
    (to suggest a field name for an unknown one). Walks :class:`Scenario`'s annotations and
    ``data`` along ``loc`` (``root``: the model ``data`` is read as, a sweep file's section too)."""
    kinds: list = [root]
    value = data
    out: list = []
    for i, key in enumerate(loc):
        if i == len(loc) - 1:
            parents = kinds
        members = [m for k in kinds for m in _members(k) if m is not type(None)]
        in_data = isinstance(value, dict) and key in value
        if isinstance(key, str):
            fields = [m.model_fields[key].annotation for m in members if _is_model(m) and key in m.model_fields]
            if not fields and not in_data and len(members) > 1:
                continue   # a union member's tag
            kinds = fields or [typing.get_args(m)[1] for m in members
                               if typing.get_origin(m) is dict and len(typing.get_args(m)) == 2]
        else:
            nxt = []
            for m in members:
                origin, args = typing.get_origin(m), typing.get_args(m)
                if origin in (list, set, frozenset) and args:
                    nxt.append(args[0])
                elif origin is tuple and args:
                    nxt.append(args[0] if len(args) == 2 and args[1] is Ellipsis else
                               args[key] if isinstance(key, int) and key < len(args) else None)
            kinds = [k for k in nxt if k is not None]
        out.append(key)
        if in_data or (isinstance(value, (list, tuple)) and isinstance(key, int) and 0 <= key < len(value)):
            value = value[key]
        else:
            value = None
    return tuple(out), (parents if loc else [])


def _field_names(kinds: list) -> list[str]:
    """The field names (as written in a scenario) of the models among ``kinds``."""
    names = []
    for m in (m for k in kinds for m in _members(k)):
        if _is_model(m):
            names += [f.alias or n for n, f in m.model_fields.items() if not f.exclude and (f.alias or n) not in names]
    return names


def _format_validation_error(err: ValidationError, source: str, node: yaml.Node | None, data: dict | None = None,
                             overridden: list[tuple] | None = None) -> InputError:
    """``overridden``: the field paths the command line set, as keys; each an
    :class:`~leonet.scenario.overrides.OverriddenKeys` that names the option that set it
    (``--duration``; ``--set`` for a plain tuple)."""
    overridden = list(overridden or [])
    lines = []
    for e in err.errors():
        loc = tuple(k for k in e["loc"] if not (isinstance(k, str) and k.startswith("function-")))
        field_error = (e.get("ctx") or {}).get("error")
        given = e.get("input")
        if isinstance(field_error, FieldError):  # a check across fields names the field it is about
            loc += field_error.loc
        elif isinstance(e.get("input"), dict):
            # a check of a section that names one of its fields first ("step_s must be a whole number
            # of nanoseconds", on time): that field, when the command line set it (the section's line
            # in the file would not hold the value)
            first = e["msg"].removeprefix("Value error, ").split(" ", 1)[0]
            if first in e["input"] and option_of(loc + (first,), overridden)[0] == loc + (first,):
                loc, given = loc + (first,), e["input"][first]
        loc, parents = _walk_loc(loc, data)
        path = _loc_to_path(loc) or "(top level)"
        if data and len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            try:  # name the event, not only its position
                event_name = data["events"][loc[1]].get("name")
            except (IndexError, AttributeError, TypeError):
                event_name = None
            if event_name:
                path = path.replace(f"events[{loc[1]}]", f"events[{loc[1]}] ({event_name})", 1)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            hint = did_you_mean(loc[-1], _field_names(parents)) if loc else ""
            hint = hint.strip().removeprefix("(").removesuffix(")") if hint else "check its spelling;"
            msg = f"unknown field ({hint} see the scenario format in the README)"
        elif e["type"] in ("model_type", "model_attributes_type", "dataclass_type"):
            msg = "Input should be a mapping (field: value, ...)"   # pydantic's names the class
            if isinstance(given, list):
                msg += ", not a list"
        elif e["type"] == "missing":
            msg = "required field is missing"
        if e["type"] not in ("missing", "extra_forbidden") and not isinstance(given, (dict, list)) \
                and not isinstance(field_error, FieldError):
            shown = quote(given) if isinstance(given, (str, int, float, bool, type(None))) else quote(str(given))
            msg += f" (got {shown})"
            if e["type"] == "string_type" and isinstance(given, bool):
                # YAML 1.1 (PyYAML) reads NO, no, off, on, yes as booleans: Norway's code is the classic case
                msg += "; YAML reads yes/no/on/off as booleans: quote the text ('NO', 'on')"
        # A value set by --set has no line in the file: the file's line would point at the value
        # the override replaced.
        # An unknown field the override's path runs through (``--set foo.bar=1``) is the override's too.
        # The innermost override names the option: --duration over a --set of the whole time section.
        keys, set_by = option_of(loc, overridden)
        if keys is None and e["type"] == "extra_forbidden":
            keys = next((k for k in overridden if tuple(k[:len(loc)]) == loc), None)
            set_by = override_option(keys) if keys is not None else set_by
        by_override = keys is not None
        if not by_override:
            # a window or an event that was fine in the file until --start/--step/--duration moved
            # the calendar under it: the message names the calendar's field, and the option that set it
            for field in ("start", "step_s", "duration_s"):
                set_field, option = option_of(("time", field), overridden)
                if set_field is not None and re.search(rf"time\.{field} \(?\d", msg):  # quotes its value
                    msg += f" (time.{field} was set on the command line, by {option})"
            # a check of a section whose fields the command line set in part (a window's
            # duration_s against its step_s): the file's line is the section's, the value is not
            inside = [k for k in overridden if len(k) > len(loc) and tuple(k[:len(loc)]) == tuple(loc)]
            for k in inside[:3]:
                msg += f" ({_loc_to_path(tuple(k))} was set on the command line, by {override_option(k)})"
        line = None if by_override else yaml_line(node, loc)
        where = f"{path} (from {set_by})" if by_override else f"{path} (line {line})" if line else path
        lines.append(f"{where}: {msg}")
    first, *rest = lines
    message = first if not rest else first + "".join(f"\n  {r}" for r in rest)
    return InputError(message, source=source)


def _take_preset_field(data: dict, dotted: str, source: str) -> None:
    """Make ``data``'s constellation ready for the override ``dotted``: ``constellation: NAME`` is
    written ``{preset: NAME}`` for an override of one of its fields (``constellation.preset``);
    one that reaches inside a field the scenario leaves to its preset
    (``constellation.shells[0].planes``) first gets the preset's value of that field, so that it
    changes the preset's shells rather than failing on a list the text does not have."""
    keys = override_path(dotted, source)
    if len(keys) < 2 or keys[0] != "constellation":
        return
    cons = data.get("constellation")
    if isinstance(cons, str):
        cons = data["constellation"] = {"preset": cons}
    if len(keys) < 3 or not isinstance(keys[1], str) or keys[1] in ("preset", "description"):
        return
    if not isinstance(cons, dict) or not cons.get("preset") or cons.get(keys[1]) not in (None, [], ""):
        return
    preset, _ = read_preset_yaml("constellations", str(cons["preset"]), source, "constellation.preset")
    if keys[1] in preset.get("constellation", {}):
        cons[keys[1]] = copy.deepcopy(preset["constellation"][keys[1]])


def scenario_from_dict(
    data: Any, source: str = "<scenario>", base_dir: str | Path = ".", node: yaml.Node | None = None,
    overrides: dict[str, Any] | None = None,
) -> Scenario:
    """Validate a scenario given as a dict (as parsed from YAML).

    ``overrides`` maps dotted field paths (``"time.duration_s"``) to values applied, in order,
    before validation. They apply to the scenario as written, before its constellation preset is
    expanded: ``constellation.preset=kuiper`` or ``constellation=kuiper`` chooses the preset that
    is then expanded. A path into a field that only the preset gives
    (``constellation.shells[0].planes`` under ``constellation: starlink-shell1``) sets that field
    of the preset's value (which then stands beside the preset, as if written).
    """
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise InputError(f"a scenario must be a YAML mapping with name, constellation, ground, time; got {kind}", source=source)
    data = copy.deepcopy(data)
    for dotted, value in (overrides or {}).items():
        _take_preset_field(data, dotted, source)
        apply_override(data, dotted, value, source)
    data = expand_constellation_preset(data, source)
    data["base_dir"] = str(base_dir)
    data["source"] = str(source)
    overridden = [overridden_keys(dotted, source) for dotted in (overrides or {})]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise _format_validation_error(err, source, node, data, overridden) from None
    scenario._overridden = tuple(overridden)
    return scenario


def load_scenario(name_or_path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load a scenario from a YAML file or an embedded scenario preset (default: the embedded default).

    Raises :class:`~leonet.errors.InputError` naming the file, field and line for any problem.
    """
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    path = Path(name_or_path)
    text_path = preset_root() / "scenarios" / f"{name_or_path}.yaml"
    looks_like_path = path.suffix.lower() in (".yaml", ".yml") or "/" in str(name_or_path) or "\\" in str(name_or_path)
    # A preset name wins over a folder of the same name in the current folder; a file wins over it.
    is_preset = not looks_like_path and text_path.is_file() and not path.is_file()
    if not is_preset and (looks_like_path or path.exists()):
        from ..textfiles import read_bytes

        source = str(path)
        raw = read_bytes(path, MAX_SCENARIO_BYTES)  # refuses missing files, folders, devices, giants
        base_dir = path.resolve().parent
    else:
        if not text_path.is_file():
            import difflib

            names = [p["name"] for p in list_presets() if p["kind"] == "scenario"]
            cons = [p["name"] for p in list_presets() if p["kind"] == "constellation"]
            hint = ""
            if str(name_or_path) in cons:
                hint = f" ({name_or_path} is a constellation preset: use it as `constellation: {name_or_path}` in a scenario)"
            else:
                close = difflib.get_close_matches(str(name_or_path), names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"no file or scenario preset named {quote(str(name_or_path))}{hint}; "
                             f"scenario presets: {', '.join(names)}")
        source = f"preset {name_or_path}"
        raw = text_path.read_bytes()
        base_dir = Path(str(text_path)).parent
    data, node = parse_scenario_yaml(raw, source)
    return scenario_from_dict(data, source=source, base_dir=base_dir, node=node, overrides=overrides)


def _location_to_loc(location: str) -> tuple | None:
    """``events[8] (triolan-hack).target.groups`` -> ``("events", 8, "target", "groups")``
    (the event's name in brackets, as errors write it, dropped); None for anything else."""
    import re

    text = re.sub(r"\] \([^)]*\)", "]", location)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\]|\.[A-Za-z_][A-Za-z0-9_]*)*", text):
        return None
    return tuple(int(k[1:-1]) if k.startswith("[") else k.lstrip(".")
                 for k in re.findall(r"\[\d+\]|\.?[A-Za-z_][A-Za-z0-9_]*", text))


def location_with_line(source: str | None, location: str | None, overridden=()) -> str | None:
    """``location`` (a field of the scenario read from ``source``: a file, or ``preset NAME``) with
    the line of the file it stands on, as validation errors give it: problems found later, while
    the model is built (an event's unknown group, a provider), name their line too. The location
    as it is when the file cannot be read again or does not hold the field: the line only adds to
    an error already raised. ``overridden``: the field paths the command line set (the scenario's
    ``_overridden``), named by the option that set them ("(from --set)", "(from --duration)") instead."""
    if not source or not location:
        return location
    loc = _location_to_loc(location)
    if loc is None:
        return location
    keys, option = option_of(loc, overridden)
    if keys is not None:
        return f"{location} (from {option})"   # the file's line holds the value the command line replaced
    path = preset_root() / "scenarios" / f"{source[len('preset '):]}.yaml" if source.startswith("preset ") else Path(source)
    try:
        from ..textfiles import read_bytes

        _, node = parse_scenario_yaml(read_bytes(path, MAX_SCENARIO_BYTES), source)
    except (InputError, OSError):
        return location
    line = yaml_line(node, loc)
    return f"{location} (line {line})" if line else location

