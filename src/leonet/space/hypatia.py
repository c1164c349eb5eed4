"""Moved to :mod:`leonet.hypatia.tles` (Hypatia's reader and exporter live together in
:mod:`leonet.hypatia`); this name stays for code that imports it from here."""

from ..hypatia.tles import read_hypatia_tles

__all__ = ["read_hypatia_tles"]
