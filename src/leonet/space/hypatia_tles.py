"""Hypatia's ``tles.txt``: a TLE file whose first line gives the shell's shape.

Hypatia (Kassing et al., IMC 2020) writes its constellations as a first line ``"<orbits>
<sats_per_orbit>"`` followed by 3-line element sets numbered plane by plane (satellite id =
orbit * sats_per_orbit + slot). Reading that file gives the same satellites, planes and slots as
Hypatia uses, so its studies can be reproduced from the file as well as from parameters.

It is an orbit-file format like TLE and OMM (:mod:`leonet.space.tle`, :mod:`leonet.space.omm`), read
at the door by :func:`leonet.sim.model.build_constellation`; writing Hypatia's files is
:mod:`leonet.hypatia.export`, which runs the engine (so the reader lives below the engine, here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError, quote
from .elements import OrbitElements
from .tle import parse_tle, read_text


def read_hypatia_tles(path: str | Path) -> tuple[OrbitElements, np.ndarray, np.ndarray]:
    """Elements, plane and slot (int32 arrays) of a Hypatia ``tles.txt``."""
    source = str(path)
    text = read_text(path)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError("empty file; expected Hypatia's tles.txt", source, "line 1")
    head = lines[0].split()
    if len(head) != 2 or not all(h.isdigit() for h in head):
        raise InputError(
            f"first line should be '<orbits> <sats_per_orbit>' (Hypatia's tles.txt), got {quote(lines[0].strip())}",
            source, "line 1",
        )
    orbits, per_orbit = int(head[0]), int(head[1])
    # Blank out the header rather than drop it, so the TLE reader's line numbers stay the file's.
    elements = parse_tle("\n" + "\n".join(lines[1:]), source)
    if len(elements) != orbits * per_orbit:
        raise InputError(
            f"the header says {orbits} x {per_orbit} = {orbits * per_orbit} satellites, the file has {len(elements)}",
            source, "line 1",
        )
    index = np.arange(len(elements))
    return elements, (index // per_orbit).astype(np.int32), (index % per_orbit).astype(np.int32)
