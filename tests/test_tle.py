"""TLE reading and writing: published sets, cross-checks against sgp4, and broken inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sgp4
from sgp4.api import Satrec

from leonet.errors import InputError
from leonet.space.elements import OrbitElements
from leonet.space.tle import (
    alpha5_to_number,
    checksum,
    format_tle,
    number_to_alpha5,
    parse_tle,
    read_tle,
    write_tle,
)
from leonet.timeutil import jd_to_ns, utc_to_ns

DATA = Path(__file__).parent / "data"

# The ISS example of CelesTrak's "NORAD Two-Line Element Set Format" page, verbatim.
ISS = """ISS (ZARYA)
1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927
2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537
"""
RAD_PER_MIN_PER_REV_PER_DAY = 2.0 * np.pi / 1440.0


def fix(line: str) -> str:
    """A line with its checksum recomputed (to test the checks after the checksum)."""
    return line[:68] + str(checksum(line))


def sgp4_lines(text: str) -> list[tuple[str, str]]:
    lines = [line.rstrip() for line in text.splitlines() if line[:2] in ("1 ", "2 ")]
    return list(zip(lines[::2], lines[1::2]))


def assert_matches_sgp4(elements: OrbitElements, pairs: list[tuple[str, str]]) -> None:
    assert len(elements) == len(pairs)
    for i, (line1, line2) in enumerate(pairs):
        sat = Satrec.twoline2rv(line1, line2)
        assert sat.inclo == pytest.approx(np.deg2rad(elements.inclination_deg[i]), rel=1e-14)
        assert sat.nodeo == pytest.approx(np.deg2rad(elements.raan_deg[i]), rel=1e-14)
        assert sat.ecco == pytest.approx(elements.eccentricity[i], rel=1e-14)
        assert sat.argpo == pytest.approx(np.deg2rad(elements.arg_perigee_deg[i]), rel=1e-14)
        assert sat.mo == pytest.approx(np.deg2rad(elements.mean_anomaly_deg[i]), rel=1e-14)
        assert sat.no_kozai == pytest.approx(
            elements.mean_motion_rev_per_day[i] * RAD_PER_MIN_PER_REV_PER_DAY, rel=1e-14)
        assert sat.bstar == pytest.approx(elements.bstar_per_earth_radius[i], rel=1e-14)
        assert abs(jd_to_ns(sat.jdsatepoch, sat.jdsatepochF) - elements.epoch_ns[i]) <= 1_000


# ------------------------------------------------------------------------------------- reading


def test_iss_published_example():
    e = parse_tle(ISS)
    assert list(e.name) == ["ISS (ZARYA)"]
    assert list(e.catalog_id) == ["25544"]
    # 2008 day 264.51782528 = 20 Sep, 0.51782528 day = 44740.104192 s exactly.
    assert e.epoch_ns[0] == utc_to_ns("2008-09-20T12:25:40.104192Z")
    assert e.inclination_deg[0] == 51.6416
    assert e.raan_deg[0] == 247.4627
    assert e.eccentricity[0] == 0.0006703
    assert e.arg_perigee_deg[0] == 130.5360
    assert e.mean_anomaly_deg[0] == 325.0288
    assert e.mean_motion_rev_per_day[0] == 15.72125391
    assert e.bstar_per_earth_radius[0] == -0.11606e-4
    assert e.mean_motion_dot_rev_per_day2[0] == -0.00002182
    assert e.mean_motion_ddot_rev_per_day3[0] == 0.0


def test_sample_file_mixed_sets_and_sgp4_agrees():
    text = (DATA / "sample.tle").read_text()
    e = read_tle(DATA / "sample.tle")
    assert list(e.name) == ["ISS (ZARYA)", "STARLINK-1007", "STARLINK-1008", "00005",
                            "STARLINK-1130", "STARLINK-31990"]
    assert list(e.catalog_id) == ["25544", "44713", "44714", "00005", "44922", "A0001"]
    assert_matches_sgp4(e, sgp4_lines(text))
    assert Satrec.twoline2rv(*sgp4_lines(text)[-1]).satnum == 100001


def test_vallado_verification_sets_agree_with_sgp4():
    """Every set of Vallado's SGP4-VER.TLE (shipped with sgp4), cut to 69 columns."""
    path = Path(sgp4.__file__).parent / "SGP4-VER.TLE"
    lines = [line.rstrip("\n")[:69] for line in path.read_text().splitlines() if line[:2] in ("1 ", "2 ")]
    pairs = list(zip(lines[::2], lines[1::2]))
    # 33333-33335 are the set's deliberately broken cases; their checksums do not add up.
    broken = [p for p in pairs if p[0][2:7] in ("33333", "33334", "33335")]
    good = [p for p in pairs if p not in broken]
    assert len(good) >= 30 and len(broken) == 3
    assert_matches_sgp4(parse_tle("\n".join(a + "\n" + b for a, b in good)), good)
    for a, b in broken:
        with pytest.raises(InputError, match="checksum"):
            parse_tle(a + "\n" + b)


def test_crlf_blank_lines_and_zero_prefix():
    text = "\r\n\r\n0 ISS (ZARYA)\r\n" + ISS.split("\n", 1)[1].replace("\n", "  \r\n") + "\r\n"
    e = parse_tle(text)
    assert list(e.name) == ["ISS (ZARYA)"]
    assert e.inclination_deg[0] == 51.6416


def test_epoch_century_rule():
    e = parse_tle((DATA / "sample.tle").read_text())
    assert e.epoch_ns[3] == utc_to_ns("2000-06-27T18:50:19.733568Z")  # "00179.78495062"
    line1 = fix(ISS.splitlines()[1].replace("08264", "57001"))
    assert parse_tle(line1 + "\n" + ISS.splitlines()[2]).epoch_ns[0] == utc_to_ns(
        "1957-01-01T12:25:40.104192Z")


def test_alpha5():
    assert alpha5_to_number("A0001") == 100001
    assert alpha5_to_number("H9999") == 179999
    assert alpha5_to_number("J0000") == 180000  # I is skipped
    assert alpha5_to_number("P0000") == 230000  # O is skipped
    assert alpha5_to_number("Z9999") == 339999
    assert alpha5_to_number("25544") == 25544
    for n in (5, 25544, 100001, 180000, 230000, 339999):
        assert alpha5_to_number(number_to_alpha5(n)) == n
    with pytest.raises(ValueError):
        alpha5_to_number("I0001")
    with pytest.raises(ValueError):
        number_to_alpha5(340000)


# ------------------------------------------------------------------------------- broken inputs


def iss_lines() -> list[str]:
    return ISS.splitlines()


def error_of(text: str, source: str = "sats.tle") -> str:
    with pytest.raises(InputError) as info:
        parse_tle(text, source)
    return str(info.value)


def test_bad_checksum_names_line():
    lines = ["", "", *iss_lines()]  # the set starts on line 3
    lines[4] = lines[4][:68] + "9"
    assert error_of("\n".join(lines)) == "sats.tle: line 5: checksum is 7, the line's last digit says 9"


def test_short_line():
    lines = iss_lines()
    lines[1] = lines[1][:60]
    assert error_of("\n".join(lines)) == (
        "sats.tle: line 2: line 1 of an element set has 60 characters, expected 69")


def test_bad_field():
    lines = iss_lines()
    lines[2] = fix(lines[2][:10] + "x" + lines[2][11:])
    message = error_of("\n".join(lines))
    assert message.startswith("sats.tle: line 3: inclination (columns 9-16) is ' 5x.6416'")
    assert "expected a number" in message


def test_bad_implied_exponent_field():
    lines = iss_lines()
    lines[1] = fix(lines[1][:53] + "-11606x4" + lines[1][61:])
    assert "line 2: B* drag term (columns 54-61) is '-11606x4'" in error_of("\n".join(lines))


def test_shifted_fields():
    lines = iss_lines()
    lines[2] = fix(lines[2][:16] + "7" + lines[2][17:])
    assert "line 3: column 17 should be blank" in error_of("\n".join(lines))


def test_missing_line_2():
    lines = iss_lines()
    assert error_of("\n".join(lines[:2])) == (
        "sats.tle: line 2: the text ends after line 1 of an element set; its line 2 is missing")
    message = error_of("\n".join(lines[:2] + lines))
    assert message.startswith("sats.tle: line 3: expected line 2 of the element set begun on line 2")


def test_line_2_without_line_1():
    assert "line 2: line 2 of an element set without its line 1" in error_of(
        "\n".join(iss_lines()[::2]))


def test_name_line_without_set():
    assert "line 1: the text ends after the name line 'ISS (ZARYA)'" in error_of(iss_lines()[0])
    assert "line 2: expected line 1 of the element set named 'ISS (ZARYA)'" in error_of(
        "ISS (ZARYA)\nSTARLINK-1007\n")


def test_mismatched_catalog_numbers():
    lines = iss_lines()
    lines[2] = fix(lines[2].replace("25544", "25545"))
    assert error_of("\n".join(lines)) == (
        "sats.tle: line 3: catalog number is '25545', but line 1 of this set (line 2) says '25544'")


def test_bad_catalog_number():
    lines = [fix(line.replace("25544", "I0001")) for line in iss_lines()]
    assert "line 2: catalog number (columns 3-7) is 'I0001'" in error_of("\n".join(lines))


def test_day_of_year_out_of_range():
    lines = iss_lines()
    lines[1] = fix(lines[1].replace("08264", "07366"))  # 2007 is not a leap year
    assert "line 2: epoch day of year is 366, expected 1 to 365 in 2007" in error_of("\n".join(lines))


def test_sgp4_xp_ephemeris_type_refused():
    lines = iss_lines()
    lines[1] = fix(lines[1][:62] + "4" + lines[1][63:])
    assert "line 2: ephemeris type (column 63) is '4'" in error_of("\n".join(lines))


def test_angle_out_of_range():
    lines = iss_lines()
    lines[2] = fix(lines[2].replace(" 51.6416", "191.6416"))
    assert "line 3: inclination is 191.6416, expected 0 to 180 degrees" in error_of("\n".join(lines))


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tle"
    path.write_text("\n\n")
    with pytest.raises(InputError, match="empty.tle: no element sets found"):
        read_tle(path)


def test_binary_file(tmp_path):
    path = tmp_path / "sats.tle"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match=r"sats.tle: binary content \(a NUL byte at offset 8\)"):
        read_tle(path)
    path.write_bytes(b"\xff\xfe1 25544U")
    with pytest.raises(InputError, match="sats.tle: not UTF-8 text"):
        read_tle(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="nope.tle: no such file"):
        read_tle(tmp_path / "nope.tle")


# ------------------------------------------------------------------------------------- writing


def test_writer_reproduces_published_element_columns():
    line1, line2 = format_tle(parse_tle(ISS), 0)
    published1, published2 = iss_lines()[1:]
    assert len(line1) == len(line2) == 69
    assert line1[:9] == published1[:9] and line1[18:62] == published1[18:62].replace("00000-0", "00000+0")
    assert line2[:63] == published2[:63]
    assert int(line1[68]) == checksum(line1) and int(line2[68]) == checksum(line2)


def test_round_trip_sample_and_sgp4_accepts_output():
    e = read_tle(DATA / "sample.tle")
    text = write_tle(e)
    back = parse_tle(text)
    assert list(back.name) == list(e.name)
    assert list(back.catalog_id) == list(e.catalog_id)
    for f in ("epoch_ns", "mean_motion_rev_per_day", "eccentricity", "inclination_deg", "raan_deg",
              "arg_perigee_deg", "mean_anomaly_deg", "bstar_per_earth_radius",
              "mean_motion_dot_rev_per_day2", "mean_motion_ddot_rev_per_day3"):
        np.testing.assert_array_equal(getattr(back, f), getattr(e, f), err_msg=f)
    assert_matches_sgp4(back, sgp4_lines(text))


def random_elements(n: int, seed: int = 7) -> OrbitElements:
    rng = np.random.default_rng(seed)
    return OrbitElements(
        name=[f"SAT-{i}" for i in range(n)],
        catalog_id=[str(v) for v in rng.integers(1, 339_999, n)],
        epoch_ns=rng.integers(utc_to_ns("1990-01-01T00:00:00Z"), utc_to_ns("2050-01-01T00:00:00Z"), n),
        mean_motion_rev_per_day=rng.uniform(0.9, 16.5, n),
        eccentricity=rng.uniform(0.0, 0.9, n),
        inclination_deg=rng.uniform(0.0, 180.0, n),
        raan_deg=rng.uniform(0.0, 360.0, n),
        arg_perigee_deg=rng.uniform(0.0, 360.0, n),
        mean_anomaly_deg=rng.uniform(0.0, 360.0, n),
        bstar_per_earth_radius=rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-12, -1, n),
        mean_motion_dot_rev_per_day2=rng.uniform(-1e-3, 1e-3, n),
        mean_motion_ddot_rev_per_day3=rng.choice([-1, 1], n) * 10.0 ** rng.uniform(-14, -4, n),
    )


def test_round_trip_random_within_field_precision():
    e = random_elements(300)
    text = write_tle(e)
    back = parse_tle(text)
    assert list(back.catalog_id) == [number_to_alpha5(int(c)) for c in e.catalog_id]
    assert np.all(np.abs(back.epoch_ns - e.epoch_ns) <= 432_000)  # half of 1e-8 day
    for f, tolerance in (("inclination_deg", 0.5e-4), ("eccentricity", 0.5e-7),
                         ("mean_motion_rev_per_day", 0.5e-8), ("mean_motion_dot_rev_per_day2", 0.5e-8)):
        np.testing.assert_allclose(getattr(back, f), getattr(e, f), rtol=0, atol=tolerance * 1.001, err_msg=f)
    for f in ("raan_deg", "arg_perigee_deg", "mean_anomaly_deg"):
        difference = (getattr(back, f) - getattr(e, f) + 180.0) % 360.0 - 180.0
        assert np.all(np.abs(difference) <= 0.5e-4 * 1.001), f
    # 5 significant digits, down to the format's smallest step (1e-14).
    for f in ("bstar_per_earth_radius", "mean_motion_ddot_rev_per_day3"):
        original, written = getattr(e, f), getattr(back, f)
        assert np.all(np.abs(written - original) <= np.maximum(5e-5 * np.abs(original), 0.5e-14)), f
    assert_matches_sgp4(back, sgp4_lines(text))


def test_writer_edge_values():
    e = OrbitElements(
        name=["EDGE"], catalog_id=["5"],
        epoch_ns=utc_to_ns("2023-12-31T23:59:59.9999Z"),  # rounds into the next year
        mean_motion_rev_per_day=15.5, eccentricity=0.0, inclination_deg=180.0,
        raan_deg=359.99996, arg_perigee_deg=-0.00001, mean_anomaly_deg=360.0,
        bstar_per_earth_radius=9.999996e-5, mean_motion_dot_rev_per_day2=-1e-12,
        mean_motion_ddot_rev_per_day3=1e-20,
    )
    line1, line2 = format_tle(e, 0)
    assert line1[2:7] == "00005"
    assert line1[18:32] == "24001.00000000"
    assert line1[33:43] == " .00000000"
    assert line1[44:52] == " 00000+0"
    assert line1[53:61] == " 10000-3"
    assert line2[8:25] == "180.0000   0.0000"
    assert line2[34:51] == "  0.0000   0.0000"
    parse_tle(line1 + "\n" + line2)


def test_writer_refuses_what_does_not_fit():
    e = random_elements(1)
    with pytest.raises(ValueError, match="does not fit a TLE"):
        format_tle(e, 0, catalog_number=400_000)
    with pytest.raises(ValueError, match="no catalog_id"):
        format_tle(OrbitElements(**{**e.__dict__, "catalog_id": np.array([""], dtype=object)}), 0)
    late = OrbitElements(**{**e.__dict__, "epoch_ns": np.array([utc_to_ns("2057-01-01T00:00:00Z")])})
    with pytest.raises(ValueError, match="epoch year 2057"):
        format_tle(late, 0)
