"""OMM reading (JSON, CSV, XML): agreement with the TLE of the same satellites, and broken inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.space.omm import parse_omm_csv, parse_omm_json, parse_omm_xml, read_omm
from leonet.space.tle import alpha5_to_number, read_tle
from leonet.timeutil import utc_to_ns

DATA = Path(__file__).parent / "data"
FLOAT_FIELDS = ("mean_motion_rev_per_day", "eccentricity", "inclination_deg", "raan_deg",
                "arg_perigee_deg", "mean_anomaly_deg", "bstar_per_earth_radius",
                "mean_motion_dot_rev_per_day2", "mean_motion_ddot_rev_per_day3")


def assert_same(a, b, names=True):
    assert len(a) == len(b)
    if names:
        assert list(a.name) == list(b.name)
    np.testing.assert_array_equal(a.epoch_ns, b.epoch_ns)
    for f in FLOAT_FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def json_records() -> list[dict]:
    return json.loads((DATA / "sample.json").read_text())


def test_three_formats_agree():
    from_json = read_omm(DATA / "sample.json")
    from_csv = read_omm(DATA / "sample.csv")
    from_xml = read_omm(DATA / "sample.xml")
    assert list(from_json.catalog_id) == ["25544", "44713", "44714", "5", "44922", "100001"]
    assert from_json.name[3] == "VANGUARD 1"
    for other in (from_csv, from_xml):
        assert list(other.catalog_id) == list(from_json.catalog_id)
        assert_same(other, from_json)


def test_omm_matches_tle_of_the_same_satellites():
    tle = read_tle(DATA / "sample.tle")
    omm = read_omm(DATA / "sample.json")
    # Same satellites, matched by catalog number: TLE writes "00005" and "A0001", OMM 5 and 100001.
    assert [alpha5_to_number(c) for c in tle.catalog_id] == [int(c) for c in omm.catalog_id]
    assert_same(tle, omm, names=False)
    assert omm.epoch_ns[0] == utc_to_ns("2008-09-20T12:25:40.104192Z")


def test_format_by_content_when_extension_says_nothing(tmp_path):
    for name in ("sample.json", "sample.csv", "sample.xml"):
        target = tmp_path / (name.replace(".", "_") + ".txt")
        shutil.copy(DATA / name, target)
        assert_same(read_omm(target), read_omm(DATA / name))


def test_xml_namespace_and_single_omm_root():
    text = (DATA / "sample.xml").read_text()
    namespaced = text.replace("<ndm ", '<ndm xmlns="urn:ccsds:recommendation:navigation:schema:ndmxml" ', 1)
    assert_same(parse_omm_xml(namespaced), read_omm(DATA / "sample.xml"))
    start = text.index("<omm ")
    single = text[start: text.index("</omm>") + len("</omm>")]
    assert list(parse_omm_xml(single).name) == ["ISS (ZARYA)"]


def test_space_track_style_strings_and_epoch_forms():
    records = json_records()[:1]
    record = records[0]
    for key in ("MEAN_MOTION", "ECCENTRICITY", "BSTAR", "NORAD_CAT_ID"):
        record[key] = str(record[key])
    record["EPOCH"] = "2008-264T12:25:40.104192Z"  # CCSDS day-of-year form, with Z
    record["MEAN_ELEMENT_THEORY"] = "SGP4"
    e = parse_omm_json(json.dumps(records))
    assert e.epoch_ns[0] == utc_to_ns("2008-09-20T12:25:40.104192Z")
    assert e.catalog_id[0] == "25544"
    assert e.bstar_per_earth_radius[0] == -1.1606e-05


def test_six_digit_catalog_number():
    records = json_records()
    records[0]["NORAD_CAT_ID"] = 270001
    assert parse_omm_json(json.dumps(records)).catalog_id[0] == "270001"


# ------------------------------------------------------------------------------- broken inputs


def json_error(records, source="sats.json") -> str:
    with pytest.raises(InputError) as info:
        parse_omm_json(json.dumps(records) if not isinstance(records, str) else records, source)
    return str(info.value)


def test_missing_field_names_record():
    records = json_records()
    del records[2]["BSTAR"]
    assert json_error(records) == "sats.json: record 3 (STARLINK-1008): BSTAR: missing (required)"


def test_wrong_type():
    records = json_records()
    records[1]["MEAN_MOTION"] = "abc"
    assert json_error(records) == (
        "sats.json: record 2 (STARLINK-1007): MEAN_MOTION: expected a number, got 'abc'")
    records[1]["MEAN_MOTION"] = True
    assert "MEAN_MOTION: expected a number, got True" in json_error(records)
    records[1]["MEAN_MOTION"] = "nan"
    assert "MEAN_MOTION: expected a number, got 'nan'" in json_error(records)
    records = json_records()
    records[0]["NORAD_CAT_ID"] = 25544.5
    assert "record 1 (ISS (ZARYA)): NORAD_CAT_ID: expected a whole number, got 25544.5" in json_error(records)


def test_bad_values():
    records = json_records()
    records[0]["INCLINATION"] = 200
    assert "INCLINATION: is 200.0, expected 0 to 180 degrees" in json_error(records)
    records = json_records()
    records[0]["ECCENTRICITY"] = 1.0
    assert "ECCENTRICITY: is 1.0, expected 0 <= e < 1" in json_error(records)
    records = json_records()
    records[0]["EPOCH"] = "2024-01-15T12:34:56+01:00"
    assert "EPOCH: expected a UTC time like 2024-01-15T12:34:56.789012" in json_error(records)
    records[0]["EPOCH"] = "2023-02-29T00:00:00"
    assert "EPOCH: '2023-02-29T00:00:00' is not a valid date" in json_error(records)


def test_not_sgp4_elements_refused():
    records = json_records()
    records[0]["EPHEMERIS_TYPE"] = 4
    assert "record 1 (ISS (ZARYA)): EPHEMERIS_TYPE: is 4, expected 0" in json_error(records)
    records = json_records()
    records[0]["MEAN_ELEMENT_THEORY"] = "SGP4-XP"
    assert "MEAN_ELEMENT_THEORY: is 'SGP4-XP', expected 'SGP4'" in json_error(records)
    text = (DATA / "sample.xml").read_text().replace("<REF_FRAME>TEME", "<REF_FRAME>GCRF", 1)
    with pytest.raises(InputError, match="record 1 \\(ISS \\(ZARYA\\)\\): REF_FRAME: is 'GCRF'"):
        parse_omm_xml(text, "sats.xml")


def test_json_structure_errors():
    assert json_error("[{]") .startswith("sats.json: line 1, column 3: not valid JSON")
    assert json_error({"OBJECT_NAME": "X"}) == "sats.json: expected a JSON list of OMM records, got a object"
    assert json_error([1]) == "sats.json: record 1: expected a JSON object, got a number"
    assert json_error([]) == "sats.json: no OMM records found"


def test_csv_errors_name_the_line():
    lines = (DATA / "sample.csv").read_text().splitlines()
    bad = list(lines)
    bad[3] = bad[3].replace("15.06394211", "fast")
    with pytest.raises(InputError) as info:
        parse_omm_csv("\n".join(bad), "sats.csv")
    assert str(info.value) == "sats.csv: line 4: MEAN_MOTION: expected a number, got 'fast'"

    bad = list(lines)
    bad[2] = bad[2].rsplit(",", 1)[0]
    with pytest.raises(InputError, match="sats.csv: line 3: has 16 values, the header has 17 columns"):
        parse_omm_csv("\n".join(bad), "sats.csv")

    bad = list(lines)
    bad[0] = bad[0].replace("BSTAR", "B_STAR")
    with pytest.raises(InputError, match="sats.csv: line 1: the header lacks the column\\(s\\) BSTAR"):
        parse_omm_csv("\n".join(bad), "sats.csv")

    bad = list(lines)
    bad[2] = bad[2].replace(",0.00036774,", ",,")
    with pytest.raises(InputError, match="sats.csv: line 3: BSTAR: missing"):
        parse_omm_csv("\n".join(bad), "sats.csv")


def test_xml_errors():
    text = (DATA / "sample.xml").read_text()
    with pytest.raises(InputError, match="sats.xml: line 3, column 5: not valid XML: not well-formed \\(invalid token\\)$"):
        parse_omm_xml(text.replace("<omm ", "<omm<", 1), "sats.xml")
    bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><ndm>&lol;</ndm>'
    with pytest.raises(InputError, match="sats.xml: XML with a DOCTYPE or ENTITY declaration is refused"):
        parse_omm_xml(bomb, "sats.xml")
    with pytest.raises(InputError, match="sats.xml: no OMM segment found"):
        parse_omm_xml("<ndm></ndm>", "sats.xml")
    missing = text.replace("<MEAN_ANOMALY>325.0288</MEAN_ANOMALY>", "", 1)
    with pytest.raises(InputError, match=r"sats.xml: record 1 \(ISS \(ZARYA\)\): MEAN_ANOMALY: missing"):
        parse_omm_xml(missing, "sats.xml")
    wrong = text.replace("<MEAN_MOTION>15.06402167<", "<MEAN_MOTION>abc<", 1)
    with pytest.raises(InputError, match=r"record 2 \(STARLINK-1007\): MEAN_MOTION: expected a number, got 'abc'"):
        parse_omm_xml(wrong, "sats.xml")


def test_file_level_errors(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="empty.json: the file is empty"):
        read_omm(empty)
    binary = tmp_path / "gp.json"
    binary.write_bytes(b"[\x00\x01\x02]")
    with pytest.raises(InputError, match="gp.json: binary content"):
        read_omm(binary)
    unknown = tmp_path / "gp.dat"
    unknown.write_text("hello world\n")
    with pytest.raises(InputError, match="gp.dat: not OMM: expected JSON"):
        read_omm(unknown)
    tle = tmp_path / "gp.txt"
    shutil.copy(DATA / "sample.tle", tle)
    with pytest.raises(InputError, match="looks like TLE text"):
        read_omm(tle)
