"""Reading the text files users pass (orbit data, CSVs, scenarios), with one clear error for each
way they can be wrong: missing, a folder or a device, too large, unreadable, binary, not UTF-8, or
empty. Reads are bounded: a file larger than :data:`MAX_INPUT_BYTES` (or an endless one such as
``/dev/zero``) is refused after reading at most that many bytes. A file named ``*.gz`` is read
through gzip, with the same bound on what it expands to."""

from __future__ import annotations

import stat
from pathlib import Path

from .errors import InputError

#: Largest input file read, bytes (256 MiB; CelesTrak's whole active catalogue as JSON is ~30 MB).
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_bytes(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The file's bytes, at most ``max_bytes``.

    Raises :class:`InputError` naming the file when it is missing, a folder, not a regular file
    (a device, a pipe), larger than ``max_bytes`` or unreadable.
    """
    source = str(path)
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        raise InputError("no such file (not found)", source) from None
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror}", source) from None
    if stat.S_ISDIR(mode):
        raise InputError("is a folder, expected a file", source)
    if not stat.S_ISREG(mode):
        raise InputError("is not a regular file (a device or a pipe?), expected a file", source)
    try:
        with open(p, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror}", source) from None
    if len(data) > max_bytes:
        raise InputError(
            f"is larger than {max_bytes / 2**20:,.0f} MiB, the most leonet reads from one input file; "
            "split it into several files", source)
    if p.suffix.lower() == ".gz":
        data = _gunzip(data, max_bytes, source)
    return data


def _gunzip(data: bytes, max_bytes: int, source: str) -> bytes:
    """A gzip file's content, at most ``max_bytes`` (a "zip bomb" is refused, not expanded)."""
    import zlib

    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, max_bytes + 1)
    except zlib.error as e:
        raise InputError(f"not a valid gzip file ({e})", source) from None
    if len(out) > max_bytes or inflate.unconsumed_tail:
        raise InputError(f"expands to more than {max_bytes / 2**20:,.0f} MiB, the most leonet reads from one "
                         "input file", source)
    return out


def read_text(path: str | Path, expected: str | None = None, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The file's text (UTF-8, optional BOM), at most ``max_bytes`` long.

    Raises :class:`InputError` naming the file when it is missing, not a regular file, too large
    or unreadable (see :func:`read_bytes`), holds a NUL byte (binary data) or is not UTF-8; with
    ``expected`` (e.g. "columns azimuth_deg,elevation_deg"), also when it is empty, saying what
    was expected.
    """
    source = str(path)
    data = read_bytes(path, max_bytes)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"binary content (a NUL byte at offset {nul}), expected a text file", source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}, line {line}), expected a text file",
            source) from e
    if expected is not None and not text.strip():
        raise InputError(f"file is empty; expected {expected}", source)
    return text
