"""leonet: end-to-end simulation of Starlink-class LEO satellite internet.

The Python API mirrors the command line::

    import leonet
    scenario = leonet.load_scenario("ukraine-gen1", overrides={"time.duration_s": 60})
    result = leonet.run(scenario, out_dir="results/demo")
    steps = result.store.read("site_steps").to_pandas()

    model = leonet.build_model(scenario)          # satellites and sites as arrays
    pos = leonet.propagate(model.constellation, model.t_ns[:10])   # (T, N, 3) metres, ECEF
"""

__version__ = "0.1.0"

from .errors import InputError, LeonetError
from .ground.sites import Sites, dishes_around, read_sites_csv
from .network.visibility import VisibilityIndex, VisibilityRule
from .results.store import ResultStore
from .results.summary import coverage_summary
from .scenario import Scenario, list_presets, load_scenario, scenario_from_dict
from .sim.model import SimulationModel, build_model
from .sim.runner import RunResult, run
from .space.constellation import Constellation
from .space.elements import OrbitElements
from .space.propagate import Positions, propagate
from .space.walker import WalkerShell

__all__ = [
    "Constellation", "InputError", "LeonetError", "OrbitElements", "Positions", "ResultStore", "RunResult",
    "Scenario", "SimulationModel", "Sites", "VisibilityIndex", "VisibilityRule", "WalkerShell", "build_model",
    "coverage_summary", "dishes_around", "list_presets", "load_scenario", "propagate", "read_sites_csv", "run",
    "scenario_from_dict",
]
