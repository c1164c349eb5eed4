"""Errors that leonet reports to users.

Every problem with user input is raised as :class:`InputError`, which names *where* the problem
is (a file, a field path such as ``constellation.shells[2].planes``, or a line number) and *what*
was expected. The command line prints these as one clear message without a traceback.
"""

from __future__ import annotations


#: Longest excerpt of a user's value that an error message quotes, in characters.
QUOTE_LIMIT = 80


def quote(value, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)``, cut to about ``limit`` characters with a note of the full length, so that an
    error about a 100 KB value does not copy it."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters as text"
    return f"{text[:limit]}... ({size})"


class LeonetError(Exception):
    """Base class for errors that leonet reports to users."""


class InputError(LeonetError, ValueError):
    """Invalid user input: a file, a field or a line that is not what leonet expects.

    Parameters
    ----------
    message:
        What is wrong and what was expected.
    source:
        The file (or other input) the problem is in, e.g. ``"my-scenario.yaml"``.
    location:
        Where inside the source: a field path (``"time.step_s"``) or ``"line 3"``.
    """

    def __init__(self, message: str, source: str | None = None, location: str | None = None):
        self.message = message
        self.source = source
        self.location = location
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.source, self.location) if p)
        return f"{where}: {self.message}" if where else self.message
