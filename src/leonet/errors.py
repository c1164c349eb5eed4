"""Errors that leonet reports to users.

Every problem with user input is raised as :class:`InputError`, which names *where* the problem
is (a file, a field path such as ``constellation.shells[2].planes``, or a line number) and *what*
was expected. The command line prints these as one clear message without a traceback.
"""

from __future__ import annotations

import warnings

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


def warn_to(warn, text: str) -> None:
    """Pass a warning ``text`` to ``warn`` (a callable: the command line's printer) or, with None,
    raise it as a Python warning that points at the caller of the function that called this one
    (an exporter's caller, not the exporter)."""
    if warn is not None:
        warn(text)
    else:
        warnings.warn(text, stacklevel=3)


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


def did_you_mean(word, choices, n: int = 3) -> str:
    """`` (did you mean 'Aerzen, DE'?)`` for the choices closest to ``word``, or ``""``.

    Names that start with ``word`` (ignoring case: "Aerzen" -> "Aerzen, DE") come first, then
    :func:`difflib.get_close_matches`. Very long lists are searched by prefix only (fast).
    """
    import difflib

    text = str(word)
    if not text or len(text) > 200:
        return ""
    folded = text.casefold()
    names = [str(c) for c in choices]
    hits = [c for c in names if c.casefold().startswith(folded) or c.casefold() == folded][:n]
    if len(hits) < n and len(names) <= 50_000:
        by_case = {c.casefold(): c for c in names}
        for m in difflib.get_close_matches(folded, list(by_case), n=n, cutoff=0.6):
            if by_case[m] not in hits:
                hits.append(by_case[m])
    hits = hits[:n]
    if not hits:
        return ""
    return " (did you mean " + " or ".join(repr(h) for h in hits) + "?)"
