"""leonet: end-to-end simulation of Starlink-class LEO satellite internet.

The Python API mirrors the command line::

    import leonet
    scenario = leonet.load_scenario("ukraine-gen1", overrides={"time.duration_s": 60})
    result = leonet.run(scenario, out_dir="results/demo")
    steps = result.store.read("site_steps").to_pandas()

    model = leonet.build_model(scenario)          # satellites and sites as arrays
    pos = leonet.propagate(model.constellation, model.t_ns[:10])   # (T, N, 3) metres, ECEF

``import leonet`` itself is light: it holds only the version and a table of where each public
name lives; a name's module (and numpy, pyarrow, ... with it) is imported the first time the name
is used (PEP 562 module ``__getattr__``). ``leonet --help`` therefore loads no numerical library.
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._version import __version__

#: Public name -> the module (relative to this package) that defines it.
_EXPORTS: dict[str, str] = {
    "InputError": ".errors",
    "LeonetError": ".errors",
    "Sites": ".ground.sites",
    "dishes_around": ".ground.dishes",
    "read_sites_csv": ".ground.sites_csv",
    "VisibilityIndex": ".network.visibility",
    "VisibilityRule": ".network.visibility",
    "ResultStore": ".results.store",
    "coverage_summary": ".results.summary",
    "Scenario": ".scenario",
    "list_presets": ".scenario",
    "load_scenario": ".scenario",
    "scenario_from_dict": ".scenario",
    "SimulationModel": ".sim.model",
    "build_model": ".sim.model",
    "RunResult": ".sim.runner",
    "run": ".sim.runner",
    "Constellation": ".space.constellation",
    "OrbitElements": ".space.elements",
    "Positions": ".space.propagate",
    "propagate": ".space.propagate",
    "WalkerShell": ".space.walker",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import the module that defines a public name on first use, and keep the name here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if _TYPE_CHECKING:  # static type checkers and IDEs see the eager imports
    from .errors import InputError, LeonetError
    from .ground.dishes import dishes_around
    from .ground.sites import Sites
    from .ground.sites_csv import read_sites_csv
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
