"""The package's shape: who may import whom, no import circle, a light package face.

The contracts themselves live in pyproject.toml ([tool.importlinter]); import-linter checks them
on the real import graph (grimp), counting imports inside functions and under TYPE_CHECKING.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PYPROJECT = ROOT / "pyproject.toml"

#: What ``leonet --help`` and ``leonet --version`` must not load.
NUMERICAL = ("numpy", "scipy", "numba", "pyarrow", "pandas")


def _env() -> dict[str, str]:
    """The environment of a child interpreter that imports leonet from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _lint(contract_id: str) -> subprocess.CompletedProcess:
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run(
        [sys.executable, "-c", code, str(PYPROJECT), "--contract", contract_id, "--no-cache", "--no-logo"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(
    "contract_id",
    [
        "layers",
        "acyclic",
        "readers",
        "step",
    ],
)
def test_import_contract(contract_id):
    done = _lint(contract_id)
    assert "Contracts: 1 kept, 0 broken." in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr


#: The step's code: it reads the model's RunSettings and built parts, never the Scenario.
STEP_CODE = ("sim/step.py", "sim/instants.py", "sim/contract.py", "sim/executors.py", "sim/pool.py", "sim/daskrun.py",
             "sim/stages",
             "hypatia")


def _scenario_reads(tree) -> list[int]:
    """Lines of ``<anything>.scenario`` attribute reads in ``tree``."""
    import ast

    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "scenario"]


def test_the_step_never_reads_the_scenario():
    """The scenario is read once, at the door (build_model); the step, its stages, the results
    contract, the executors, the Hypatia export and the model's own methods read what was
    extracted from it (SimulationModel.settings and the built parts)."""
    import ast

    pkg = SRC / "leonet"
    files = [f for name in STEP_CODE for f in ([pkg / name] if name.endswith(".py") else sorted((pkg / name).glob("*.py")))]
    found = {str(f.relative_to(pkg)): _scenario_reads(ast.parse(f.read_text())) for f in files}
    model = ast.parse((pkg / "sim" / "model.py").read_text())
    cls = next(n for n in model.body if isinstance(n, ast.ClassDef) and n.name == "SimulationModel")
    found["sim/model.py SimulationModel"] = _scenario_reads(cls)
    assert len(files) > 10
    assert {k: v for k, v in found.items() if v} == {}


def test_no_import_cycle_between_any_modules():
    """No strongly connected component in the module graph, parent packages included (the
    acyclic_siblings contract sees siblings only, not a module importing its own package)."""
    grimp = pytest.importorskip("grimp")
    sys.path.insert(0, str(SRC))
    try:
        graph = grimp.build_graph("leonet", cache_dir=None)
    finally:
        sys.path.remove(str(SRC))
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    # Tarjan's strongly connected components, iterative.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        cycles.append(sorted(comp))
    assert cycles == [], f"import circles: {cycles}"


def _imported_modules(*argv: str) -> tuple[set[str], str]:
    """Top-level names of every module imported by ``python -X importtime -m leonet ARGV``."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "leonet", *argv],
                          env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "leonet" in names and "typer" in names, "importtime output not understood"
    return names, done.stdout


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("export", "--help")])
def test_help_and_version_load_no_numerical_library(argv):
    names, out = _imported_modules(*argv)
    assert not names & set(NUMERICAL), f"leonet {' '.join(argv)} imported {sorted(names & set(NUMERICAL))}"
    assert out.strip(), "no output"


def test_import_leonet_is_light_and_names_resolve_lazily():
    code = (
        "import sys, leonet\n"
        f"heavy = [m for m in {NUMERICAL!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert set(leonet.__all__) <= set(dir(leonet))\n"
        "print(leonet.__version__)\n"
        "missing = [n for n in leonet.__all__ if getattr(leonet, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert leonet.run.__module__ == 'leonet.sim.runner'\n"
        "assert 'numpy' in sys.modules\n"
        "try:\n"
        "    leonet.no_such_name\n"
        "except AttributeError as e:\n"
        "    assert 'no_such_name' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    from leonet._version import __version__

    assert done.stdout.strip() == __version__


def test_version_is_written_once():
    """pyproject.toml reads the version from leonet/_version.py; the CLI prints that one."""
    import tomllib

    from leonet._version import __version__

    project = tomllib.loads(PYPROJECT.read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/leonet/_version.py"
    done = subprocess.run([sys.executable, "-m", "leonet", "--version"], env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == f"leonet {__version__}"
