"""The obstruction map a Starlink dish exports, turned into a horizon profile.

The dish's gRPC service (``get_obstruction_map``; starlink-grpc-tools' ``dish_obstruction_map.py``
writes it as a PNG) gives a square grid of the sky seen from the dish: each cell is a direction,
with a signal quality in [0, 1] (0: obstructed, no signal; 1: clear) or -1 (no data: the dish has
not looked that way). The grid maps the sky as the public tools describe it: the centre is the
zenith, distance from the centre falls linearly to a minimum elevation at the circle that touches
the grid's edges, and azimuth is measured clockwise from the top of the grid (north; the map's
Earth reference frame). Cells outside that circle have no data.

leonet reads such a grid as:

* a text grid (``.csv``, ``.txt``): N rows of N numbers separated by commas or white space, the
  raw quality values (``numpy.savetxt`` of the tools' array);
* a NumPy array (``.npy``) of shape (N, N), the same values;
* a PNG (``.png``) as ``dish_obstruction_map.py`` writes it (8-bit RGB/RGBA or grey, not
  interlaced): a transparent (alpha 0) pixel has no data; otherwise its quality is how far its
  colour lies from the tool's default "obstructed" colour (#ED524A) towards "clear" (#3E80E0); a
  map written with the tool's ``--greyscale`` (every pixel grey) gives its brightness.

A direction is obstructed when its quality is below ``threshold`` (0.5). The horizon profile is,
per whole degree of azimuth, the highest obstructed elevation in that direction (a tree or roof
line hides everything below its top); directions without an obstructed cell are clear (0 deg).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError, quote
from ..horizon import N_AZIMUTH

#: The largest grid accepted (the dish's own is 123 x 123).
MAX_CELLS = 2048
#: starlink-grpc-tools' default colours, RGB: obstructed (quality 0) and clear (quality 1).
OBSTRUCTED_RGB = (0xED, 0x52, 0x4A)
CLEAR_RGB = (0x3E, 0x80, 0xE0)
MAX_FILE_BYTES = 64 << 20


def read_obstruction_grid(path: str | Path) -> np.ndarray:
    """(N, N) float64 signal quality of each cell (-1 = no data), from a text grid, ``.npy`` or PNG."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("no such file", source=source)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES >> 20} MB; an obstruction map is a small grid", source=source)
    suffix = path.suffix.lower()
    if suffix == ".png":
        grid = _png_quality(path.read_bytes(), source)
    elif suffix == ".npy":
        grid = _load_npy(path, source)
    else:
        rows = []
        for k, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                rows.append([float(x) for x in line.replace(",", " ").split()])
            except ValueError:
                raise InputError(f"expected numbers (signal quality 0..1, -1 for no data), got {line[:80]!r}",
                                 source=source, location=f"line {k}") from None
        if not rows or len({len(r) for r in rows}) != 1:
            raise InputError("expected a square grid of numbers (every row as long as the others)", source=source)
        grid = np.array(rows, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 2 or grid.shape[0] != grid.shape[1] or grid.shape[0] < 3:
        raise InputError(f"expected a square grid of at least 3 x 3 cells, got shape {grid.shape}", source=source)
    if grid.shape[0] > MAX_CELLS:
        raise InputError(f"a grid of at most {MAX_CELLS} x {MAX_CELLS} cells, got {grid.shape[0]}", source=source)
    if not np.all(np.isfinite(grid)) or np.any((grid > 1) | ((grid < 0) & (grid != -1))):
        raise InputError("cell values must be in [0, 1] (signal quality) or -1 (no data)", source=source)
    return grid


def _load_npy(path: Path, source: str) -> np.ndarray:
    """The array of a ``.npy`` file: real numbers only (bool, integer or float dtype). Text,
    complex (its imaginary part would be dropped), structured, date and object arrays are refused;
    pickles are never loaded."""
    try:
        grid = np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise InputError("holds Python objects (an object array or a pickle); expected a NumPy array of "
                             "numbers (signal quality 0..1, -1 for no data)", source=source) from None
        raise InputError(f"is not a NumPy array file ({str(err)[:80]})", source=source) from None
    except (OSError, EOFError) as err:
        raise InputError(f"is not a NumPy array file ({str(err)[:80]})", source=source) from None
    if not isinstance(grid, np.ndarray):   # an .npz archive saved under a .npy name
        grid.close()
        raise InputError("is a NumPy .npz archive, not one array; save the grid with numpy.save", source=source)
    if grid.dtype.kind not in "biuf":
        raise InputError(f"holds {quote(str(grid.dtype))} values; expected real numbers (signal quality 0..1, -1 for no data)",
                         source=source)
    return grid


def horizon_from_grid(grid: np.ndarray, min_elevation_deg: float, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(azimuth_deg, elevation_deg) points of the horizon profile of a quality grid (see the
    module doc): one point per whole degree of azimuth, shape (360,) each."""
    n = grid.shape[0]
    c = (n - 1) / 2.0
    row, col = np.mgrid[0:n, 0:n].astype(np.float64)
    dx, dy = col - c, c - row                      # east, north (row 0 is the top: north)
    r = np.hypot(dx, dy) / c                       # 0 at zenith, 1 at the circle
    az = np.degrees(np.arctan2(dx, dy)) % 360.0
    el = 90.0 - r * (90.0 - min_elevation_deg)
    hit = (grid >= 0) & (grid < threshold) & (r <= 1.0)
    horizon = np.zeros(N_AZIMUTH)
    if hit.any():
        # a cell blocks every azimuth its square spans, not only its centre's: near the zenith a
        # cell spans many degrees (once, with the western half blocked, 269 deg read 28 deg and 270
        # deg 89 deg: only the cells on the 270 deg row had their centre in that bin)
        first, last = _azimuth_span_bins(dx[hit], dy[hit], az[hit])
        count = last - first + 1
        bins = (np.repeat(first, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)) % N_AZIMUTH
        np.maximum.at(horizon, bins, np.repeat(el[hit], count))
    return np.arange(N_AZIMUTH, dtype=np.float64), np.clip(horizon, 0.0, 90.0)


def _azimuth_span_bins(dx: np.ndarray, dy: np.ndarray, az_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last whole-degree azimuth bin (unwrapped: last may exceed 359) that each grid
    cell's unit square spans, seen from the zenith at (0, 0); (K,) each. The cell holding the
    zenith spans all 360 bins."""
    offsets = np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])
    corner = np.degrees(np.arctan2(dx[:, None] + offsets[:, 0], dy[:, None] + offsets[:, 1]))
    delta = (corner - az_deg[:, None] + 180.0) % 360.0 - 180.0      # corners relative to the centre
    lo, hi = az_deg + delta.min(axis=1), az_deg + delta.max(axis=1)
    first = np.floor(lo).astype(np.int64)
    last = np.floor(np.nextafter(hi, -np.inf)).astype(np.int64)     # a corner exactly on a bin edge stays out
    whole = (np.abs(dx) <= 0.5) & (np.abs(dy) <= 0.5)
    first = np.where(whole, 0, first)
    last = np.where(whole, N_AZIMUTH - 1, np.maximum(last, first))
    return first, last


def _png_quality(data: bytes, source: str) -> np.ndarray:
    """Quality grid of a PNG written by dish_obstruction_map.py (see the module doc)."""
    pixels = _decode_png(data, source)                       # (H, W, 4) uint8 RGBA
    rgb = pixels[..., :3].astype(np.float64)
    a, b = np.array(OBSTRUCTED_RGB, float), np.array(CLEAR_RGB, float)
    grey = (pixels[..., 0] == pixels[..., 1]) & (pixels[..., 1] == pixels[..., 2])
    if grey[pixels[..., 3] > 0].all():
        quality = rgb[..., 0] / 255.0                        # greyscale maps: brightness is quality
    else:
        quality = np.clip(((rgb - a) @ (b - a)) / float((b - a) @ (b - a)), 0.0, 1.0)
    return np.where(pixels[..., 3] == 0, -1.0, quality)


def _decode_png(data: bytes, source: str) -> np.ndarray:
    """A minimal PNG decoder: 8-bit grey, grey+alpha, RGB or RGBA, not interlaced -> (H, W, 4)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InputError("is not a PNG file", source=source)
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None or not idat:
        raise InputError("is a damaged PNG (no header or no image data)", source=source)
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0 or not (0 < width <= MAX_CELLS and 0 < height <= MAX_CELLS):
        raise InputError("only 8-bit grey/RGB(A), non-interlaced PNGs of at most "
                         f"{MAX_CELLS} px a side are read (as dish_obstruction_map.py writes them)", source=source)
    stride = width * channels
    expected = (stride + 1) * height
    # zlib.decompress's bufsize is only a starting size, not a limit: a small file could expand
    # to gigabytes (a "zip bomb"), so inflate at most one byte past what the header promises
    inflate = zlib.decompressobj()
    try:
        raw = inflate.decompress(b"".join(idat), expected + 1)
    except zlib.error:
        raise InputError("is a damaged PNG (its image data does not decompress)", source=source) from None
    if len(raw) > expected or inflate.unconsumed_tail:
        raise InputError(f"is a damaged PNG (image data expands past the {expected:,} bytes its "
                         f"{width} x {height} header implies)", source=source)
    if len(raw) < expected:
        raise InputError(f"is a damaged PNG (image data too short: {len(raw):,} bytes, its "
                         f"{width} x {height} header implies {expected:,})", source=source)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1).astype(np.int64)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        elif f in (1, 3, 4):
            cur = np.zeros(stride, dtype=np.int64)
            for x in range(stride):
                left = cur[x - channels] if x >= channels else 0
                if f == 1:
                    pred = left
                elif f == 3:
                    pred = (left + prev[x]) >> 1
                else:
                    up_left = prev[x - channels] if x >= channels else 0
                    p = left + prev[x] - up_left
                    pa, pb, pc = abs(p - left), abs(p - prev[x]), abs(p - up_left)
                    pred = left if pa <= pb and pa <= pc else (prev[x] if pb <= pc else up_left)
                cur[x] = (line[x] + pred) & 255
        else:
            raise InputError(f"is a damaged PNG (filter {f} on row {y})", source=source)
        out[y] = cur
        prev = cur
    px = out.reshape(height, width, channels)
    if channels == 1:
        px = np.concatenate([px, px, px, np.full_like(px, 255)], axis=2)
    elif channels == 2:
        px = np.concatenate([px[..., :1], px[..., :1], px[..., :1], px[..., 1:]], axis=2)
    elif channels == 3:
        px = np.concatenate([px, np.full((height, width, 1), 255, np.uint8)], axis=2)
    return px
