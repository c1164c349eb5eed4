"""``--set`` overrides: a dotted field path (``ground.dish_groups[0].count``) set to a value in
the scenario's data before validation."""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError, quote


class OptionPath(str):
    """An override's field path that remembers the command-line option that gave it
    (``--duration`` for ``time.duration_s``); a plain path came from ``--set``."""

    option: str

    def __new__(cls, path: str, option: str = "--set"):  # the default: pickle calls it with the path only
        self = super().__new__(cls, path)
        self.option = option
        return self


def override_option(dotted) -> str:
    """The option that set the override ``dotted``: ``--set`` unless it is an :class:`OptionPath`
    (or an :class:`OverriddenKeys` that remembers one)."""
    return getattr(dotted, "option", "--set")


class OverriddenKeys(tuple):
    """An override's field path as keys (``("time", "duration_s")``) that remembers the option that
    set it, so that an error found after loading (a scenario's ``_overridden``) names that option.
    Equal to, and hashed as, the plain tuple of its keys."""

    option: str

    def __new__(cls, keys=(), option: str = "--set"):
        self = super().__new__(cls, keys)
        self.option = option
        return self


def overridden_keys(dotted, source: str) -> OverriddenKeys:
    """``dotted``'s keys (:func:`override_path`) with the option that set it (:func:`override_option`)."""
    return OverriddenKeys(override_path(dotted, source), override_option(dotted))


def option_of(loc: tuple, overridden) -> tuple[tuple | None, str]:
    """The override (one of ``overridden``, field paths as keys) that set the field at ``loc`` (the
    field itself or a section around it; the innermost when several do: ``--set time={...}`` and
    ``--duration`` both set ``time.duration_s``, the latter last) and the option that gave it;
    ``(None, "--set")`` when none did."""
    keys = max((k for k in overridden or () if tuple(loc[:len(k)]) == tuple(k)), key=len, default=None)
    return keys, override_option(keys) if keys is not None else "--set"


_OVERRIDE_KEY = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def override_path(dotted: str, source: str) -> list[str | int]:
    """``"ground.dish_groups[0].count"`` -> ``["ground", "dish_groups", 0, "count"]``."""
    keys: list[str | int] = []
    for part in dotted.split("."):
        m = _OVERRIDE_KEY.fullmatch(part.strip())
        if m is None:
            raise InputError(f"cannot override {quote(dotted)}: expected a field path such as "
                             "time.step_s or ground.dish_groups[0].count", source=source)
        keys.append(m.group(1))
        keys.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return keys


def apply_override(data: dict, dotted: str, value: Any, source: str) -> None:
    """Set the field at ``dotted`` (dots between fields, ``[i]`` for list items) to ``value``;
    missing mappings on the way are created, list items must exist."""
    keys = override_path(dotted, source)
    target: Any = data
    walked = ""
    for key, nxt in zip(keys[:-1], keys[1:]):
        if isinstance(key, int):
            if not isinstance(target, list) or key >= len(target):
                have = f"has {len(target)} item(s)" if isinstance(target, list) else "is not a list"
                raise InputError(f"cannot override {dotted}: {walked} {have}", source=source)
            target = target[key]
            walked += f"[{key}]"
        else:
            if not isinstance(target, dict):
                raise InputError(f"cannot override {dotted}: {walked} is not a mapping", source=source)
            if key not in target or target[key] is None:
                if isinstance(nxt, int):
                    raise InputError(f"cannot override {dotted}: {(walked + '.' if walked else '') + key} "
                                     "is not given in the scenario (no list to index)", source=source)
                target[key] = {}
            target = target[key]
            walked += ("." if walked else "") + key
    last = keys[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise InputError(f"cannot override {dotted}: {walked} has no item {last}", source=source)
    elif not isinstance(target, dict):
        raise InputError(f"cannot override {dotted}: {walked} is not a mapping", source=source)
    target[last] = value
