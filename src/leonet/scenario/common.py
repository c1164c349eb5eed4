"""What every section of the scenario schema shares: the frozen, strict pydantic base, the range
of instants a scenario may name, the seed range, and the checks used by several sections."""

from __future__ import annotations

import re
import types
import typing
from datetime import datetime, timezone

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationInfo, field_validator


SEED_MAX = 2**32 - 1
#: Instants a scenario may name (time.start, shell epochs): SGP4's element sets begin in 1957, and
#: int64 nanoseconds end in 2262; 2200 keeps a year-long run well inside.
EARLIEST_UTC = datetime(1957, 1, 1, tzinfo=timezone.utc)
LATEST_UTC = datetime(2200, 1, 1, tzinfo=timezone.utc)


def check_instant(v: datetime | None, what: str) -> datetime | None:
    """``v`` in UTC; a ValueError (pydantic shows it with the field) when it has no timezone or
    lies outside [:data:`EARLIEST_UTC`, :data:`LATEST_UTC`)."""
    if v is None:
        return v
    if v.tzinfo is None:
        raise ValueError(f"{what} has no timezone; write it in UTC, e.g. 2022-03-01T12:00:00Z")
    v = v.astimezone(timezone.utc)
    if not EARLIEST_UTC <= v < LATEST_UTC:
        raise ValueError(f"{what} must be from {EARLIEST_UTC.year} to {LATEST_UTC.year - 1} (SGP4 and int64 "
                         f"nanosecond time), got {v.isoformat()}")
    return v


_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(v):
    """Refuse a number (or text of one) where a date/time is wanted: pydantic would read it as
    seconds since 1970, so ``start: 20220301`` would become 1970-08-23 without a word."""
    if isinstance(v, (int, float)) or (isinstance(v, str) and _NUMBER_TEXT.fullmatch(v)):
        raise ValueError("give an ISO date/time, e.g. 2022-03-01T00:00:00Z, not a number (it would be read as "
                         "seconds since 1970)")
    return v


#: A date/time field of the scenario: an ISO date/time (a YAML timestamp or text), never a number.
Instant = typing.Annotated[datetime, BeforeValidator(_not_a_number)]


def _not_empty_path(v):
    """Refuse an empty (or blank) path: relative to the scenario's folder it would name the
    folder itself, and the error would come later, naming the folder rather than the field."""
    if isinstance(v, str) and not v.strip():
        raise ValueError("an empty path: name a file (relative to the scenario's folder, or absolute)")
    return v


#: A file named by the scenario (site files, orbit files, ...): a path, never empty.
FilePath = typing.Annotated[str, AfterValidator(_not_empty_path)]


def check_kit(name):
    """A known kit name (InputError with "did you mean" otherwise); None passes."""
    if name is not None:
        from ..service.kits import get_kit

        get_kit(name)
    return name


class FieldError(ValueError):
    """A validator's error about one field of its section: ``loc`` is the field's path inside the
    validated model (``("eccentricity",)`` in a shell, ``("events", 2, "end")`` in the scenario).

    Raise it from a model validator that checks several fields (or sections) together so that the
    error names the field, with its YAML line, rather than the section
    (:func:`leonet.scenario.loading.scenario_from_dict` reads ``loc``)."""

    def __init__(self, loc: tuple, message: str):
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message


def _number_type(annotation) -> bool:
    """Whether a field of this type takes a number (int or float, perhaps optional) and not a
    boolean."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _number_type(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(args) and bool not in args and any(_number_type(a) for a in args)
    return annotation in (int, float)


def bool_for_number(annotation, value, path: tuple = ()) -> tuple | None:
    """The path (inside ``value``) of a true/false given where ``annotation`` wants a number,
    or None. Looks into lists, tuples, dicts and pydantic models that are not :class:`Spec`
    (a Spec checks its own fields)."""
    if isinstance(value, bool):
        return path if _number_type(annotation) else None
    if not isinstance(value, (list, tuple, dict)):
        return None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return bool_for_number(args[0], value, path)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            hit = bool_for_number(arg, value, path)
            if hit is not None:
                return hit
        return None
    if isinstance(value, (list, tuple)) and origin in (list, tuple, set, frozenset) and args:
        for i, item in enumerate(value):
            arg = args[0] if origin is not tuple or (len(args) == 2 and args[1] is Ellipsis) else (
                args[i] if i < len(args) else None)
            hit = bool_for_number(arg, item, path + (i,)) if arg is not None else None
            if hit is not None:
                return hit
        return None
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        for k, item in value.items():
            hit = bool_for_number(args[1], item, path + (k,))
            if hit is not None:
                return hit
        return None
    if (isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseModel)
            and not issubclass(annotation, Spec)):
        for name, field in annotation.model_fields.items():
            key = field.alias if field.alias in value else name
            if key in value:
                hit = bool_for_number(field.annotation, value[key], path + (key,))
                if hit is not None:
                    return hit
    return None


class Spec(BaseModel):
    """Base of every scenario section: unknown fields are errors, values are frozen, and a number
    field refuses true/false."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value, info: ValidationInfo):
        # pydantic reads true as 1 and false as 0 in int and float fields: ``step_s: true`` would
        # be 1 s steps, ``count: true`` one dish, without a word.
        if isinstance(value, (bool, list, tuple, dict)):
            hit = bool_for_number(cls.model_fields[info.field_name].annotation, value)
            if hit is not None:
                raise FieldError(hit, f"wants a number, not {str(_at(value, hit)).lower()} (a yes/no value)")
        return value


def _at(value, path: tuple):
    for key in path:
        value = value[key]
    return value
