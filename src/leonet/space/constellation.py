"""A constellation: orbital elements for every satellite, with its shell, plane and slot, and the
SGP4 satellite records built from them.

All orbit sources meet here: Walker shells and TLE/OMM files both give
:class:`~leonet.space.elements.OrbitElements`, and :func:`build_satrecs` turns any of them into
SGP4 records with ``sgp4init`` (WGS72 gravity, improved mode, as for published element sets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from ..constants import NS_PER_DAY
from .elements import OrbitElements
from .frames import FrameConvention
from .tle import catalog_key as _catalog_key
from .walker import WalkerShell, walker_elements

# sgp4init's epoch is counted in days from 1949-12-31T00:00 UTC.
_SGP4_EPOCH_NS = -7_306 * NS_PER_DAY  # JD 2433281.5 (1949-12-31T00:00) is 7,306 days before 1970-01-01
_RAD_PER_MIN_PER_REV_PER_DAY = 2.0 * np.pi / 1440.0
#: Schema metadata key of a satellites table: its shell names in index order (JSON), so that shells
#: read back keep their numbers, the empty ones too.
_META_SHELLS = b"leonet.shell_names"
_MAX_SGP4_SATNUM = 339_999  # the largest number Alpha-5 can write


def _satnum(catalog_id: str, fallback: int) -> int:
    text = (catalog_id or "").strip()
    if text.isdigit() and int(text) <= _MAX_SGP4_SATNUM:
        return int(text)
    if len(text) == 5 and text[0].isalpha() and text[1:].isdigit():
        letter = text[0].upper()
        value = ord(letter) - ord("A") + 10 - (letter > "I") - (letter > "O")
        return value * 10_000 + int(text[1:])
    # Our own catalog_id column keeps the real id; SGP4 only needs a number for its records.
    return fallback % 100_000


def _refuse_satellites_in_two_parts(parts) -> None:
    """InputError if one catalog number is in two parts (orbit files): the satellite would fly twice,
    under two names and two element sets. Each file's own repeats are refused when it is read."""
    given = [np.flatnonzero(np.asarray(p[1].catalog_id, dtype=object).astype(bool)) for p in parts]
    if sum(len(g) > 0 for g in given) < 2:
        return   # Walker shells have no catalog numbers: nothing to compare
    seen: dict = {}
    for k, part in enumerate(parts):
        elements = part[1]
        for i in given[k].tolist():
            cid = elements.catalog_id[i]
            if not str(cid).strip():
                continue
            key = _catalog_key(cid)
            first = seen.setdefault(key, (k, i))
            if first[0] == k:
                continue
            from ..errors import InputError, quote

            def where(m, j):
                src = parts[m][1].source
                sat = f"as {quote(parts[m][1].name[j])} (catalog {parts[m][1].catalog_id[j]})"
                return f"{src} {sat}" if src else f"shell {quote(parts[m][0])} {sat}"

            raise InputError(
                f"catalog number {str(cid).strip()} is in two orbit files: {where(*first)} and {where(k, i)}; "
                "a satellite must be given once (remove it from one of the files)",
                elements.source or None, f"satellite {quote(elements.name[i])}")


def build_satrecs(elements: OrbitElements) -> list[Satrec]:
    """One SGP4 record per satellite, initialised directly from mean elements (no TLE text)."""
    epoch_days = (elements.epoch_ns - _SGP4_EPOCH_NS) / NS_PER_DAY
    no_kozai = elements.mean_motion_rev_per_day * _RAD_PER_MIN_PER_REV_PER_DAY
    ndot = elements.mean_motion_dot_rev_per_day2 * _RAD_PER_MIN_PER_REV_PER_DAY / 1440.0
    nddot = elements.mean_motion_ddot_rev_per_day3 * _RAD_PER_MIN_PER_REV_PER_DAY / 1440.0**2
    incl = np.deg2rad(elements.inclination_deg)
    raan = np.deg2rad(elements.raan_deg)
    argp = np.deg2rad(elements.arg_perigee_deg)
    mo = np.deg2rad(elements.mean_anomaly_deg)
    records = []
    for i in range(len(elements)):  # sgp4init has no array form; this runs once per run
        sat = Satrec()
        sat.sgp4init(
            WGS72, "i", _satnum(elements.catalog_id[i], i), float(epoch_days[i]),
            float(elements.bstar_per_earth_radius[i]), float(ndot[i]), float(nddot[i]),
            float(elements.eccentricity[i]), float(argp[i]), float(incl[i]), float(mo[i]),
            float(no_kozai[i]), float(raan[i]),
        )
        records.append(sat)
    return records


@dataclass(frozen=True)
class Constellation:
    """Every satellite of a scenario, as columns.

    Attributes
    ----------
    elements : OrbitElements, n rows.
    shell : int32 (n,), index into ``shell_names``.
    plane : int32 (n,), plane number within the shell (-1 if unknown).
    slot : int32 (n,), position within the plane (-1 if unknown).
    shell_names : tuple of str.
    frame : how :func:`~leonet.space.propagate.propagate` turns TEME into Earth-fixed positions
        (the scenario's ``frames``; default GMST of UT1, no polar motion).
    inferred_plane_shells : names (of ``shell_names``) of the shells whose planes and slots were
        inferred from the elements (:func:`leonet.space.planes.infer_planes`) when the
        constellation was built, not given (Walker shells, plane assignment files, Hypatia's file
        order).
    """

    elements: OrbitElements
    shell: np.ndarray
    plane: np.ndarray
    slot: np.ndarray
    shell_names: tuple[str, ...] = field(default=())
    frame: FrameConvention = field(default=FrameConvention())
    inferred_plane_shells: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.elements)

    @property
    def names(self) -> np.ndarray:
        return self.elements.name

    @property
    def inferred_planes(self) -> np.ndarray:
        """(n,) bool: satellites whose plane and slot were inferred (in ``inferred_plane_shells``)."""
        per_shell = np.array([name in self.inferred_plane_shells for name in self.shell_names], dtype=bool)
        return per_shell[self.shell] if len(self) else np.zeros(0, dtype=bool)

    @cached_property
    def satrec_array(self) -> SatrecArray:
        """The SGP4 records as one ``SatrecArray`` (built on first use)."""
        return SatrecArray(build_satrecs(self.elements))

    def __getstate__(self):
        # SGP4 records are rebuilt on the other side: they are cheap and not all picklable.
        state = dict(self.__dict__)
        state.pop("satrec_array", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    @staticmethod
    def from_parts(parts: list[tuple[str, OrbitElements, np.ndarray, np.ndarray]],
                   frame: FrameConvention = FrameConvention(),
                   inferred_plane_shells: tuple[str, ...] = ()) -> "Constellation":
        """Join named shells, each given as (name, elements, plane, slot); the shells named in
        ``inferred_plane_shells`` had their planes and slots inferred."""
        names = tuple(p[0] for p in parts)
        if len(set(names)) != len(names):
            raise ValueError(f"shell names must be unique, got {names}")
        unknown = sorted(set(inferred_plane_shells) - set(names))
        if unknown:
            raise ValueError(f"inferred_plane_shells names shells that are not parts: {unknown}")
        _refuse_satellites_in_two_parts(parts)
        shell = np.concatenate(
            [np.full(len(p[1]), k, dtype=np.int32) for k, p in enumerate(parts)]
        ) if parts else np.zeros(0, dtype=np.int32)
        return Constellation(
            elements=OrbitElements.concatenate([p[1] for p in parts]),
            shell=shell,
            plane=np.concatenate([np.asarray(p[2], dtype=np.int32) for p in parts]) if parts else shell,
            slot=np.concatenate([np.asarray(p[3], dtype=np.int32) for p in parts]) if parts else shell,
            shell_names=names,
            frame=frame,
            inferred_plane_shells=tuple(inferred_plane_shells),
        )

    @staticmethod
    def from_walker(shells: list[WalkerShell]) -> "Constellation":
        """A constellation of Walker shells, in order."""
        return Constellation.from_parts([(s.name, *walker_elements(s)) for s in shells])

    @staticmethod
    def from_table(table) -> "Constellation":
        """The constellation of a table :meth:`to_table` wrote (a results folder's ``satellites``;
        row order = satellite index), ready to propagate: its frame from the schema metadata
        (``FrameConvention.from_metadata``: results written before frames were recorded rotate on
        UTC), shells numbered as the metadata lists them (tables written before it did: in the order
        they first appear), and plane and slot -1 where absent."""
        import json

        n = table.num_rows
        names = set(table.column_names)
        shells = [str(s) for s in table.column("shell").to_pylist()] if "shell" in names else [""] * n
        listed = (table.schema.metadata or {}).get(_META_SHELLS)
        shell_names = tuple(dict.fromkeys([*(json.loads(listed) if listed else []), *shells]))
        number = {s: k for k, s in enumerate(shell_names)}

        def index(column: str) -> np.ndarray:
            if column not in names:
                return np.full(n, -1, dtype=np.int32)
            return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=np.int32)

        return Constellation(
            elements=OrbitElements.from_table(table), shell=np.array([number[s] for s in shells], dtype=np.int32),
            plane=index("plane"), slot=index("slot"), shell_names=shell_names,
            frame=FrameConvention.from_metadata(table.schema.metadata),
        )

    def to_table(self):
        """Satellites as a ``pyarrow.Table``: index, shell, plane, slot and elements; the schema
        metadata records :attr:`frame` (read back with ``FrameConvention.from_metadata``)."""
        import json

        import pyarrow as pa

        table = self.elements.to_table()
        shell_name = np.array(self.shell_names, dtype=object)[self.shell] if len(self) else []
        table = table.add_column(0, "sat", pa.array(np.arange(len(self), dtype=np.int32)))
        table = table.add_column(2, "shell", pa.array(list(shell_name), pa.string()))
        table = table.add_column(3, "plane", pa.array(self.plane))
        table = table.add_column(4, "slot", pa.array(self.slot))
        shells = {_META_SHELLS: json.dumps(list(self.shell_names)).encode()}
        return table.replace_schema_metadata({**(table.schema.metadata or {}), **self.frame.to_metadata(), **shells})
