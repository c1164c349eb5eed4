"""The files a scenario names, found at the door."""

from __future__ import annotations

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
