"""A results folder resumes only runs of the same scenario computed from the same inputs.

The scenario text alone once decided a resume: after an orbit or site file was edited (or leonet
itself changed: its built-in ground data, its code) a rerun into the same folder kept the old
chunks beside the new sites and satellites tables, mixing two runs silently.
"""

from __future__ import annotations

import json
import shutil
import typing
from pathlib import Path

import pydantic
import pytest

import leonet
from leonet.errors import InputError
from leonet.sim.inputs import inputs_digest, leonet_digest, scenario_input_files

DATA = Path(__file__).parent / "data"
SCENARIO = """
name: resume-inputs
constellation:
  orbit_files: [{path: sample.tle}]
ground:
  site_files: [{path: sites.csv}]
time: {start: 2024-01-15T12:00:00Z, duration_s: 10, step_s: 5}
"""


def _folder(tmp_path):
    shutil.copy(DATA / "sample.tle", tmp_path / "sample.tle")
    (tmp_path / "sites.csv").write_text("name,lat_deg,lon_deg,kind\nD,50,10,dish\n")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    return tmp_path / "s.yaml", tmp_path / "out"


def test_a_rerun_resumes_only_from_the_same_inputs(tmp_path):
    yaml, out = _folder(tmp_path)
    first = leonet.run(leonet.load_scenario(yaml), out_dir=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["inputs_sha256"]) == {"leonet", "constellation.orbit_files[0].path", "ground.site_files[0].path"}
    assert manifest["inputs_sha256"]["leonet"] == leonet_digest()
    again = leonet.run(leonet.load_scenario(yaml), out_dir=out)
    assert again.resumed and not first.resumed
    # an edited site file: the same scenario text, other results
    (tmp_path / "sites.csv").write_text("name,lat_deg,lon_deg,kind\nD,50,10,dish\nE,40,0,dish\n")
    with pytest.raises(InputError, match=r"other inputs \(the file of ground.site_files\[0\].path changed\)"):
        leonet.run(leonet.load_scenario(yaml), out_dir=out)
    rerun = leonet.run(leonet.load_scenario(yaml), out_dir=out, overwrite=True)
    assert not rerun.resumed and len(rerun.store.read("sites")) == 2
    assert leonet.run(leonet.load_scenario(yaml), out_dir=out).resumed


def test_results_of_another_leonet_are_not_resumed(tmp_path):
    yaml, out = _folder(tmp_path)
    leonet.run(leonet.load_scenario(yaml), out_dir=out)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["inputs_sha256"]["leonet"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="another leonet"):
        leonet.run(leonet.load_scenario(yaml), out_dir=out)
    del manifest["inputs_sha256"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="written by an earlier leonet"):
        leonet.run(leonet.load_scenario(yaml), out_dir=out)
    assert not leonet.run(leonet.load_scenario(yaml), out_dir=out, overwrite=True).resumed


def _file_fields(model: type[pydantic.BaseModel], prefix: str = "") -> set[str]:
    """Dotted names of the scenario schema's fields that name a file (by their name)."""
    out = set()
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{model.__name__}.{name}"
        names_a_file = name in ("path", "file", "providers") or name.endswith("_file") or name == "plane_assignment"
        if names_a_file and typing.get_origin(field.annotation) is not list:  # events' providers: a list of names
            out.add(dotted)
        for arg in [field.annotation, *typing.get_args(field.annotation)] + [
                a for t in typing.get_args(field.annotation) for a in typing.get_args(t)]:
            if isinstance(arg, type) and issubclass(arg, pydantic.BaseModel):
                out |= _file_fields(arg)
    return out


def test_every_file_field_of_the_schema_is_an_input():
    """A file field added to the schema without scenario_input_files would let a resume mix runs."""
    from leonet.scenario import Scenario

    assert _file_fields(Scenario) == {
        "OrbitFileSpec.path", "OrbitFileSpec.plane_assignment", "SiteFileSpec.path", "DemandFileSpec.path",
        "ObstructionSpec.file", "IslSpec.list_file", "TerrestrialSpec.providers"}
    sc = leonet.scenario_from_dict({
        "name": "all-files", "base_dir": "/data",
        "constellation": {"orbit_files": [{"path": "a.tle", "plane_assignment": "p.csv"}]},
        "ground": {"site_files": [{"path": "s.csv"}], "demand_files": [{"path": "d.csv"}],
                   "obstructions": [{"sites": ["x"], "file": "h.csv"}]},
        "network": {"isl": {"topology": "list", "list_file": "isl.txt"}},
        "terrestrial": {"providers": "providers.csv"},
        "time": {"start": "2024-01-15T12:00:00Z", "duration_s": 10, "step_s": 5}})
    assert [w for w, _ in scenario_input_files(sc)] == [
        "constellation.orbit_files[0].path", "constellation.orbit_files[0].plane_assignment",
        "ground.site_files[0].path", "ground.demand_files[0].path", "ground.obstructions[0].file",
        "network.isl.list_file", "terrestrial.providers"]
    assert set(inputs_digest(sc)) == {"leonet"}  # none of these files exists: the model reports them, not this
