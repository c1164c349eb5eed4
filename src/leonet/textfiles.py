"""Reading the text files users pass (orbit data, CSVs), with one clear error for each way they
can be wrong: missing, unreadable, binary, not UTF-8, or empty."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError


def read_text(path: str | Path, expected: str | None = None) -> str:
    """The file's text (UTF-8, optional BOM).

    Raises :class:`InputError` naming the file when it is missing or unreadable, holds a NUL byte
    (binary data) or is not UTF-8; with ``expected`` (e.g. "columns azimuth_deg,elevation_deg"),
    also when it is empty, saying what was expected.
    """
    source = str(path)
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", source)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the file: {e.strerror}", source) from e
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"binary content (a NUL byte at offset {nul}), expected a text file", source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}), expected a text file", source
        ) from e
    if expected is not None and not text.strip():
        raise InputError(f"file is empty; expected {expected}", source)
    return text
