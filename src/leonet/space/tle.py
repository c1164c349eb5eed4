"""Two-line element sets (TLE): a strict reader and a writer.

The format (Spacetrack Report #3; CelesTrak, "NORAD Two-Line Element Set Format") is fixed
columns, 69 characters a line, the last one a modulo-10 checksum. A set may have a name line
before it (a "3LE", the name often written after "0 "). Columns below are 1-based and inclusive,
as the format documents them.

Line 1: 1 line number, 3-7 catalog number, 8 classification, 10-17 international designator,
19-20 epoch year, 21-32 epoch day of year with fraction, 34-43 ndot/2 (rev/day^2), 45-52 nddot/6
(rev/day^3, implied decimal and exponent), 54-61 B* (1/earth radii, likewise), 63 ephemeris type,
65-68 element set number, 69 checksum.
Line 2: 1 line number, 3-7 catalog number, 9-16 inclination, 18-25 RAAN, 27-33 eccentricity
(implied leading decimal point), 35-42 argument of perigee, 44-51 mean anomaly (degrees),
53-63 mean motion (rev/day), 64-68 revolution number, 69 checksum.

Parsing is done on an (n, 69) byte matrix, one row per line, so checks and conversions run over
all satellites at once; only splitting the text into sets walks the lines one by one.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..constants import NS_PER_DAY
from ..errors import InputError, quote
from ..textfiles import read_text  # noqa: F401  (the orbit readers' shared reader)
from .elements import OrbitElements

LINE_LENGTH = 69
# The epoch's day fraction has 8 decimals: 1e-8 day is exactly 864,000 ns, so the epoch is exact.
_NS_PER_DAY_DIGIT8 = NS_PER_DAY // 10**8
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # I and O are skipped: they read like 1 and 0
_CATALOG_RE = re.compile(r"^(\d{1,5}|[A-HJ-NP-Z]\d{4})$")
_DECIMAL_CHARS = np.frombuffer(b" +-.0123456789", dtype=np.uint8)
_DIGITS_OR_SPACE = np.frombuffer(b" 0123456789", dtype=np.uint8)
# 10**k as exact floats, for implied-exponent fields (k up to 14).
_POW10 = np.array([float(f"1e{k}") for k in range(15)])
# Columns that the format leaves blank; a character there means the fields are shifted.
_BLANK_COLUMNS = {1: (2, 9, 18, 33, 44, 53, 62, 64), 2: (2, 8, 17, 26, 34, 43, 52)}


def alpha5_to_number(text: str) -> int:
    """Catalog number written in a TLE's five columns -> int ("25544" -> 25544, "A0001" -> 100001).

    Alpha-5 writes 100000-339999 as a letter (A=10 ... Z=33, skipping I and O) and four digits.
    Raises ValueError for anything else.
    """
    text = text.strip()
    if not _CATALOG_RE.match(text):
        raise ValueError(
            f"catalog number {text!r} is neither 1-5 digits nor Alpha-5 (letter + 4 digits)")
    if text[0].isdigit():
        return int(text)
    return (_ALPHA5_LETTERS.index(text[0]) + 10) * 10_000 + int(text[1:])


def catalog_key(catalog_id) -> int | str:
    """A catalog number as an int where it is one ("00005" and "5"; Alpha-5 "A0001" and OMM's
    "100001" are one satellite), else its text: the key that says two records are one satellite."""
    text = str(catalog_id).strip()
    if text.isdigit():
        return int(text)
    try:
        return alpha5_to_number(text)
    except ValueError:
        return text


def number_to_alpha5(number: int) -> str:
    """int catalog number -> the five TLE columns ("00005", "25544", "A0001"); up to 339999."""
    if not 0 <= number <= 339_999:
        raise ValueError(f"catalog number {number} does not fit a TLE (0 to 339999 with Alpha-5)")
    if number < 100_000:
        return f"{number:05d}"
    return _ALPHA5_LETTERS[number // 10_000 - 10] + f"{number % 10_000:04d}"


def checksum(line: str) -> int:
    """Modulo-10 checksum of a TLE line's first 68 columns: digits count their value, '-' one."""
    return sum(int(c) if c.isdigit() else (c == "-") for c in line[:68]) % 10


# ----------------------------------------------------------------------------------------- reading


def read_tle(path: str | Path) -> OrbitElements:
    """Read a TLE file (2-line and 3-line sets, mixed). See :func:`parse_tle`."""
    return parse_tle(read_text(path), source=str(path))


def parse_tle(text: str, source: str = "<string>") -> OrbitElements:
    """Parse TLE text into :class:`OrbitElements` (n sets -> arrays of shape (n,)).

    Sets may carry a name line (optionally starting with "0 ") or not, mixed within one text; blank
    lines are ignored and CRLF line ends are fine. A set without a name line is named by its
    catalog number. ``catalog_id`` is the catalog field as written, stripped ("25544", "A0001").

    Every line is checked (length, line number, checksum, matching catalog numbers, blank
    separator columns, each field's format and range), each check over all sets at once, in that
    order; a failed check raises :class:`InputError` naming ``source`` and the 1-based line in the
    text of the first set that fails it.
    """
    sets = _split_sets(text, source)
    if not sets.line1:
        raise InputError("no element sets found: expected lines starting with '1 ' and '2 '", source)
    rows1 = np.asarray(sets.row1)
    rows2 = np.asarray(sets.row2)
    m1 = np.frombuffer("".join(sets.line1).encode("ascii"), dtype=np.uint8).reshape(-1, LINE_LENGTH)
    m2 = np.frombuffer("".join(sets.line2).encode("ascii"), dtype=np.uint8).reshape(-1, LINE_LENGTH)
    for number, m, rows in ((1, m1, rows1), (2, m2, rows2)):
        _check_checksums(m, rows, source)
        blank = np.asarray(_BLANK_COLUMNS[number]) - 1
        shifted = (m[:, blank] != ord(" ")).any(axis=1)
        _raise_first(shifted, rows, source, lambda i, m=m, blank=blank: (
            f"column {blank[np.argmax(m[i, blank] != ord(' '))] + 1} should be blank; "
            "the fields of this line are shifted"))

    catalog1 = [line[2:7].strip() for line in sets.line1]
    bad = np.array([not _CATALOG_RE.match(c) for c in catalog1])
    _raise_first(bad, rows1, source, lambda i: (
        f"catalog number (columns 3-7) is {quote(catalog1[i])}, expected 1-5 digits or Alpha-5 "
        "(a letter other than I or O, then 4 digits)"))
    differs = (m1[:, 2:7] != m2[:, 2:7]).any(axis=1)
    _raise_first(differs, rows2, source, lambda i: (
        f"catalog number is {sets.line2[i][2:7]!r}, but line 1 of this set (line {rows1[i]}) "
        f"says {sets.line1[i][2:7]!r}"))

    epoch_ns = _epoch_ns(m1, rows1, source)
    ndot = _decimal(m1, rows1, source, 34, 43, "mean motion derivative ndot/2")
    nddot = _implied_exponent(m1, rows1, source, 45, 52, "mean motion second derivative nddot/6")
    bstar = _implied_exponent(m1, rows1, source, 54, 61, "B* drag term")
    ephemeris = m1[:, 62]
    bad = (ephemeris != ord("0")) & (ephemeris != ord(" "))
    _raise_first(bad, rows1, source, lambda i: (
        f"ephemeris type (column 63) is {chr(ephemeris[i])!r}, expected 0 (SGP4 mean elements); "
        "other types, such as 4 (SGP4-XP), cannot be propagated with SGP4"))
    _digits_or_blank(m1, rows1, source, 65, 68, "element set number")

    inclination = _decimal(m2, rows2, source, 9, 16, "inclination")
    raan = _decimal(m2, rows2, source, 18, 25, "right ascension of the ascending node")
    eccentricity = _digits(m2, rows2, source, 27, 33, "eccentricity") / 1e7
    arg_perigee = _decimal(m2, rows2, source, 35, 42, "argument of perigee")
    mean_anomaly = _decimal(m2, rows2, source, 44, 51, "mean anomaly")
    mean_motion = _decimal(m2, rows2, source, 53, 63, "mean motion")
    _digits_or_blank(m2, rows2, source, 64, 68, "revolution number")

    for values, what, lo, hi in (
        (inclination, "inclination", 0.0, 180.0),
        (raan, "right ascension of the ascending node", 0.0, 360.0),
        (arg_perigee, "argument of perigee", 0.0, 360.0),
        (mean_anomaly, "mean anomaly", 0.0, 360.0),
    ):
        _raise_first((values < lo) | (values > hi), rows2, source,
                     lambda i, v=values, w=what, lo=lo, hi=hi: (
                         f"{w} is {v[i]}, expected {lo:g} to {hi:g} degrees"))
    _raise_first(mean_motion <= 0.0, rows2, source,
                 lambda i: f"mean motion is {mean_motion[i]}, expected a positive number of rev/day")

    names = [name if name is not None else cat for name, cat in zip(sets.names, catalog1)]
    return OrbitElements(
        name=np.array(names, dtype=object),
        catalog_id=np.array(catalog1, dtype=object),
        epoch_ns=epoch_ns,
        mean_motion_rev_per_day=mean_motion,
        eccentricity=eccentricity,
        inclination_deg=inclination,
        raan_deg=raan,
        arg_perigee_deg=arg_perigee,
        mean_anomaly_deg=mean_anomaly,
        bstar_per_earth_radius=bstar,
        mean_motion_dot_rev_per_day2=ndot,
        mean_motion_ddot_rev_per_day3=nddot,
        source=source,
    )


@dataclass
class _Sets:
    """Element sets as found in the text: name (None if no name line), lines and line numbers."""

    names: list = field(default_factory=list)
    line1: list = field(default_factory=list)
    line2: list = field(default_factory=list)
    row1: list = field(default_factory=list)
    row2: list = field(default_factory=list)


def _split_sets(text: str, source: str) -> _Sets:
    """Walk the lines: [name] line-1 line-2, repeated. Checks each data line's length and ASCII."""
    sets = _Sets()
    name: tuple[str, int] | None = None  # a name line waiting for its line 1
    line1: tuple[str, int] | None = None  # a line 1 waiting for its line 2
    for row, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line:
            continue
        if line1 is not None:
            if not line.startswith("2 "):
                raise InputError(
                    f"expected line 2 of the element set begun on line {line1[1]} (starting '2 '), "
                    f"got {_excerpt(line)}", source, f"line {row}")
            sets.names.append(name[0] if name else None)
            sets.line1.append(line1[0])
            sets.row1.append(line1[1])
            sets.line2.append(_data_line(line, 2, row, source))
            sets.row2.append(row)
            name = line1 = None
        elif line.startswith("1 "):
            line1 = (_data_line(line, 1, row, source), row)
        elif line.startswith("2 "):
            raise InputError("line 2 of an element set without its line 1 before it",
                             source, f"line {row}")
        elif name is not None:
            raise InputError(
                f"expected line 1 of the element set named {quote(name[0])} (line {name[1]}), starting "
                f"'1 ', got {_excerpt(line)}", source, f"line {row}")
        else:
            text_name = line.strip()
            if text_name.startswith("0 "):
                text_name = text_name[2:].strip()
            name = (text_name, row)
    if line1 is not None:
        raise InputError("the text ends after line 1 of an element set; its line 2 is missing",
                         source, f"line {line1[1]}")
    if name is not None:
        raise InputError(f"the text ends after the name line {quote(name[0])}; its lines 1 and 2 are missing",
                         source, f"line {name[1]}")
    return sets


def _data_line(line: str, number: int, row: int, source: str) -> str:
    if len(line) != LINE_LENGTH:
        raise InputError(
            f"line {number} of an element set has {len(line)} characters, expected {LINE_LENGTH}",
            source, f"line {row}")
    if not line.isascii():
        raise InputError(f"line {number} of an element set holds non-ASCII characters",
                         source, f"line {row}")
    return line


def _excerpt(line: str) -> str:
    return repr(line if len(line) <= 30 else line[:30] + "...")


def _raise_first(bad: np.ndarray, rows: np.ndarray, source: str, describe) -> None:
    """Raise InputError for the first True in ``bad``; ``describe(i)`` says what is wrong."""
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(describe(i), source, f"line {rows[i]}")


def _check_checksums(m: np.ndarray, rows: np.ndarray, source: str) -> None:
    body = m[:, : LINE_LENGTH - 1].astype(np.int16)
    is_digit = (body >= ord("0")) & (body <= ord("9"))
    total = (np.where(is_digit, body - ord("0"), 0) + (body == ord("-"))).sum(axis=1) % 10
    last = m[:, LINE_LENGTH - 1].astype(np.int16) - ord("0")
    not_digit = (last < 0) | (last > 9)
    _raise_first(not_digit, rows, source, lambda i: (
        f"column 69 is {chr(m[i, -1])!r}, expected the checksum digit"))
    _raise_first(total != last, rows, source, lambda i: (
        f"checksum is {total[i]}, the line's last digit says {last[i]}"))


def _columns(m: np.ndarray, first: int, last: int) -> np.ndarray:
    """Columns first..last (1-based, inclusive) of every row, shape (n, last - first + 1)."""
    return m[:, first - 1 : last]


def _field_text(m: np.ndarray, i: int, first: int, last: int) -> str:
    return bytes(_columns(m, first, last)[i]).decode("ascii")


def _decimal(m, rows, source, first: int, last: int, what: str) -> np.ndarray:
    """A fixed-point decimal field ("51.6416", "-.00002182") -> float64 (n,)."""
    sub = _columns(m, first, last)
    col = np.ascontiguousarray(sub).view(f"S{last - first + 1}").ravel()

    def describe(i):
        written = _field_text(m, i, first, last)
        return f"{what} (columns {first}-{last}) is {written!r}, expected a number"

    _raise_first(~np.isin(sub, _DECIMAL_CHARS).all(axis=1), rows, source, describe)
    try:
        return col.astype(np.float64)
    except ValueError:
        pass
    # Error path only: find which row did not convert ("1.2.3", "- 5", a blank field).
    bad = np.zeros(len(col), dtype=bool)
    for i, value in enumerate(col):
        try:
            float(value)
        except ValueError:
            bad[i] = True
    _raise_first(bad, rows, source, describe)
    raise AssertionError("unreachable: a field failed to convert but no row is bad")


def _digits(m, rows, source, first: int, last: int, what: str) -> np.ndarray:
    """A field of digits only (eccentricity's implied "0.") -> int64 (n,)."""
    sub = _columns(m, first, last).astype(np.int64) - ord("0")
    bad = ((sub < 0) | (sub > 9)).any(axis=1)
    _raise_first(bad, rows, source, lambda i: (
        f"{what} (columns {first}-{last}) is {_field_text(m, i, first, last)!r}, "
        f"expected {last - first + 1} digits"))
    return sub @ (10 ** np.arange(last - first, -1, -1, dtype=np.int64))


def _digits_or_blank(m, rows, source, first: int, last: int, what: str) -> None:
    """Check a field we do not keep (element set or revolution number) holds only digits/blanks."""
    bad = ~np.isin(_columns(m, first, last), _DIGITS_OR_SPACE).all(axis=1)
    _raise_first(bad, rows, source, lambda i: (
        f"{what} (columns {first}-{last}) is {_field_text(m, i, first, last)!r}, expected digits"))


def _implied_exponent(m, rows, source, first: int, last: int, what: str) -> np.ndarray:
    """An implied-decimal field with exponent: "-11606-4" = -0.11606e-4 -> float64 (n,).

    Layout (8 columns): mantissa sign (' ', '+' or '-'), five digits read as 0.ddddd, exponent
    sign ('+' or '-'), one exponent digit.
    """
    sub = _columns(m, first, last)
    sign_ok = np.isin(sub[:, 0], np.frombuffer(b" +-", dtype=np.uint8))
    digits = sub[:, 1:6].astype(np.int64) - ord("0")
    digits_ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
    exp_sign_ok = np.isin(sub[:, 6], np.frombuffer(b"+-", dtype=np.uint8))
    exp_digit = sub[:, 7].astype(np.int64) - ord("0")
    bad = ~(sign_ok & digits_ok & exp_sign_ok & (exp_digit >= 0) & (exp_digit <= 9))
    _raise_first(bad, rows, source, lambda i: (
        f"{what} (columns {first}-{last}) is {_field_text(m, i, first, last)!r}, expected "
        "a sign, 5 digits and a signed exponent digit, like ' 12345-4' (0.12345e-4)"))
    mantissa = (digits @ np.array([10_000, 1_000, 100, 10, 1])).astype(np.float64)
    exponent = np.where(sub[:, 6] == ord("-"), -exp_digit, exp_digit)
    # value = mantissa * 10**(exponent - 5); dividing or multiplying by an exact power of ten
    # rounds once, so the result is the float nearest the written decimal.
    scale = exponent - 5
    value = np.where(scale < 0, mantissa / _POW10[np.abs(scale)], mantissa * _POW10[np.abs(scale)])
    return np.where(sub[:, 0] == ord("-"), -value, value)


def _epoch_ns(m1, rows1, source) -> np.ndarray:
    """Epoch (columns 19-32, "YYDDD.DDDDDDDD") -> int64 UTC ns since the Unix epoch, exactly."""
    sub = _columns(m1, 19, 32)
    digit_cols = np.r_[0:5, 6:14]
    values = sub.astype(np.int64) - ord("0")
    digits_ok = ((values[:, digit_cols] >= 0) & (values[:, digit_cols] <= 9)).all(axis=1)
    ok = digits_ok & (sub[:, 5] == ord("."))
    _raise_first(~ok, rows1, source, lambda i: (
        f"epoch (columns 19-32) is {_field_text(m1, i, 19, 32)!r}, expected YYDDD.DDDDDDDD "
        "(two-digit year, day of year, 8 decimals)"))
    yy = values[:, 0] * 10 + values[:, 1]
    year = np.where(yy >= 57, 1900 + yy, 2000 + yy)  # the format's rule: 57-99 -> 19xx
    day = values[:, 2:5] @ np.array([100, 10, 1])
    fraction = values[:, 6:14] @ (10 ** np.arange(7, -1, -1, dtype=np.int64))
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    bad = (day < 1) | (day > 365 + leap)
    _raise_first(bad, rows1, source, lambda i: (
        f"epoch day of year is {day[i]}, expected 1 to {365 + leap[i]} in {year[i]}"))
    year_start_ns = (year - 1970).astype("datetime64[Y]").astype("datetime64[ns]").astype(np.int64)
    return year_start_ns + (day - 1) * NS_PER_DAY + fraction * _NS_PER_DAY_DIGIT8


# ----------------------------------------------------------------------------------------- writing


def format_tle(
    elements: OrbitElements, index: int, catalog_number: int | None = None
) -> tuple[str, str]:
    """Lines 1 and 2 (69 characters each, with checksums) for satellite ``index``.

    The catalog field is ``catalog_number`` if given, else the satellite's ``catalog_id``
    (numbers from 100000 to 339999 are written in Alpha-5). Values are rounded to the format's
    precision: epoch to 1e-8 day (864 us), angles to 1e-4 deg, eccentricity to 1e-7, mean motion
    to 1e-8 rev/day, B* and nddot/6 to 5 significant digits. The international designator is left
    blank and the element set and revolution numbers are written as 0 (leonet does not keep them).
    Raises ValueError when a value does not fit the format.
    """
    e = elements
    who = f"satellite {index} ({e.name[index]!r})"
    if catalog_number is not None:
        satnum = number_to_alpha5(int(catalog_number))
    else:
        text = str(e.catalog_id[index]).strip()
        if not text:
            raise ValueError(f"{who} has no catalog_id; pass catalog_number")
        satnum = number_to_alpha5(int(text) if text.isdigit() else alpha5_to_number(text))

    year, day, fraction = _epoch_fields(int(e.epoch_ns[index]), who)
    ndot = _format_ndot(float(e.mean_motion_dot_rev_per_day2[index]), who)
    nddot = _format_exponent(float(e.mean_motion_ddot_rev_per_day3[index]), f"{who} nddot/6")
    bstar = _format_exponent(float(e.bstar_per_earth_radius[index]), f"{who} B*")
    line1 = f"1 {satnum}U {'':8} {year % 100:02d}{day:03d}.{fraction:08d} {ndot} {nddot} {bstar} 0    0"

    inclination = float(e.inclination_deg[index])
    if not 0.0 <= inclination <= 180.0:
        raise ValueError(f"{who} inclination {inclination} deg is outside 0 to 180")
    eccentricity = round(float(e.eccentricity[index]) * 1e7)
    if not 0 <= eccentricity < 10**7:
        raise ValueError(f"{who} eccentricity {e.eccentricity[index]} does not fit 0 to 0.9999999")
    mean_motion = float(e.mean_motion_rev_per_day[index])
    if not 0.0 < mean_motion < 100.0:
        raise ValueError(f"{who} mean motion {mean_motion} rev/day does not fit 0 to 100")
    angles = [_angle_360(float(getattr(e, f)[index]), who) for f in
              ("raan_deg", "arg_perigee_deg", "mean_anomaly_deg")]
    line2 = (f"2 {satnum} {inclination:8.4f} {angles[0]:8.4f} {eccentricity:07d} "
             f"{angles[1]:8.4f} {angles[2]:8.4f} {mean_motion:11.8f}{0:5d}")
    return line1 + str(checksum(line1)), line2 + str(checksum(line2))


def write_tle(elements: OrbitElements, with_names: bool = True) -> str:
    """All satellites as TLE text: name line (if ``with_names``), line 1, line 2; "\\n" line ends."""
    out = []
    for i in range(len(elements)):  # text is written line by line; there is no array form
        if with_names:
            out.append(str(elements.name[i]))
        out.extend(format_tle(elements, i))
    return "".join(line + "\n" for line in out)


def _epoch_fields(epoch_ns: int, who: str) -> tuple[int, int, int]:
    """int64 ns -> (year, day of year, 8-digit day fraction), rounded to the nearest 1e-8 day."""
    steps = (epoch_ns + _NS_PER_DAY_DIGIT8 // 2) // _NS_PER_DAY_DIGIT8  # round half up
    days, fraction = divmod(steps, 10**8)
    date = np.datetime64(days, "D")
    year = int(date.astype("datetime64[Y]").astype(np.int64)) + 1970
    if not 1957 <= year <= 2056:
        raise ValueError(f"{who} epoch year {year} does not fit a TLE's two digits (1957 to 2056)")
    day = int((date - np.datetime64(f"{year}-01-01", "D")).astype(np.int64)) + 1
    return year, day, int(fraction)


def _format_ndot(value: float, who: str) -> str:
    """ndot/2 as " .00002182" / "-.00002182" (10 columns)."""
    text = f"{abs(value):.8f}"
    if not math.isfinite(value) or not text.startswith("0."):
        raise ValueError(f"{who} ndot/2 {value} rev/day^2 does not fit the format (|x| < 1)")
    sign = "-" if value < 0 and text != "0.00000000" else " "
    return sign + text[1:]


def _format_exponent(value: float, what: str) -> str:
    """An implied-decimal field: -1.1606e-5 -> "-11606-4" (sign, 0.ddddd, exponent digit)."""
    if not math.isfinite(value):
        raise ValueError(f"{what} is {value}, expected a finite number")
    if value == 0.0:
        return " 00000+0"
    mantissa_text, exponent_text = f"{abs(value):.4e}".split("e")  # "1.1606", "-05"
    digits = mantissa_text.replace(".", "")
    exponent = int(exponent_text) + 1  # 1.1606e-05 = 0.11606e-4
    if exponent > 9:
        raise ValueError(f"{what} is {value}, too large for the format (below 1e9)")
    if exponent < -9:
        # Below 0.1e-9 the mantissa loses leading digits; values under 0.5e-14 write as zero.
        digits = f"{round(abs(value) * 1e14):05d}"
        exponent = -9
        if digits == "00000":
            return " 00000+0"
    sign = "-" if value < 0 else " "
    return f"{sign}{digits}{'-' if exponent < 0 else '+'}{abs(exponent)}"


def _angle_360(value: float, who: str) -> float:
    """An angle in [0, 360) after rounding to the format's 1e-4 deg (359.99996 -> 0.0)."""
    if not math.isfinite(value):
        raise ValueError(f"{who} has an angle of {value}, expected a finite number")
    return (round(value, 4) % 360.0) + 0.0  # + 0.0 turns -0.0 into 0.0
