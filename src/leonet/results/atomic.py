"""Atomic file writes: a file is written to a temporary name beside its destination and renamed
into place, so a reader never sees half a file; a failed write (a full disk, a read-only folder)
leaves the destination as it was and raises one clear :class:`~leonet.errors.LeonetError` naming
the file, never an ``OSError`` traceback.
"""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import LeonetError


class WriteError(LeonetError):
    """A file could not be written (full disk, no permission, ...); the destination is untouched."""


def tmp_name(path: Path) -> Path:
    """The temporary name a write of ``path`` goes to (a hidden file beside it)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_error(path: Path, err: OSError) -> WriteError:
    """The message for a failed write of ``path``."""
    why = "the disk is full" if err.errno == errno.ENOSPC else (err.strerror or str(err))
    hint = " - free some space and run the command again" if err.errno == errno.ENOSPC else ""
    return WriteError(f"could not write {path}: {why}; nothing was changed there{hint}")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; on success it is renamed into place.

    Any ``OSError`` inside the block or in the rename becomes a :class:`WriteError`; the temporary
    file is removed in every case.
    """
    path = Path(path)
    tmp = tmp_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        raise write_error(path, err) from None
    finally:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass


def write_bytes(path: str | Path, data: bytes, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see module docstring)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))
