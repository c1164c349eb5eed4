"""The app's two query errors: :class:`NotFound` (HTTP 404) and :class:`BadQuery` (HTTP 422),
raised by the readers and turned into responses by :mod:`leonet.app.server`."""

from __future__ import annotations


class NotFound(Exception):
    """An id, a step or a table the run does not have (HTTP 404)."""


class BadQuery(Exception):
    """A parameter outside what this run allows (HTTP 422), naming the parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message
