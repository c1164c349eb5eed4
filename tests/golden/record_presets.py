"""Record (or check) what every scenario preset produces, shortened, table by table and column by
column, so that a refactor that must not change results can prove it did not.

    python tests/golden/record_presets.py            # write tests/golden/presets.json
    python tests/golden/record_presets.py --check    # compare with it (exit 1 on a difference)

Each table is read back from the run's Parquet files and hashed column by column from its Arrow
IPC bytes (values, types, nulls; not the Parquet writer's version string, which changes with
pyarrow releases). ``tests/test_golden.py`` runs the check in the suite (marked slow).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "presets.json"

#: preset -> overrides that keep it short but still cover its events, capacity and pairs.
CASES: dict[str, dict] = {
    # six days at 2 h steps, with the preset's first window (10 s steps around the jamming fix)
    "ukraine-2022": {"time.duration_s": 6 * 86400, "time.step_s": 7200, "outputs.chunk_steps": 40},
    "ukraine-gen1": {"time.duration_s": 30, "outputs.chunk_steps": 12, "outputs.positions": True,
                     "outputs.visibility_pairs": True},
    "us-rural-gen1": {"time.duration_s": 60, "outputs.chunk_steps": 5},
    "hypatia-starlink": {"time.duration_s": 0.5, "outputs.chunk_steps": 3},
    "ukraine-2022-year": {"time.duration_s": 86400, "outputs.chunk_steps": 4},
    "ukraine-2024": {"time.duration_s": 30, "outputs.chunk_steps": 2},
}


def _column_digest(column: pa.ChunkedArray) -> str:
    table = pa.table({"c": column.combine_chunks() if column.num_chunks else column})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:24]


def digests_of(results: Path) -> dict[str, dict[str, str]]:
    """{table: {column: digest, "#rows": n}} for every Parquet table of a results folder."""
    import pyarrow.parquet as pq

    out: dict[str, dict[str, str]] = {}
    for path in sorted(results.iterdir()):
        if path.is_dir() and any(path.glob("part-*.parquet")):
            parts = sorted(path.glob("part-*.parquet"))
            table = pa.concat_tables([pq.read_table(p) for p in parts])
        elif path.suffix == ".parquet":
            table = pq.read_table(path)
        else:
            continue
        name = path.stem if path.suffix == ".parquet" else path.name
        table = table.replace_schema_metadata(None)
        out[name] = {"#rows": str(table.num_rows), **{f: _column_digest(table[f]) for f in table.column_names}}
    return out


def run_case(preset: str, overrides: dict, where: Path) -> dict[str, dict[str, str]]:
    import leonet

    scenario = leonet.load_scenario(preset, overrides=overrides)
    result = leonet.run(scenario, out_dir=where / preset)
    return digests_of(result.store.root)


def record_all() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return {preset: run_case(preset, ov, Path(tmp)) for preset, ov in CASES.items()}


def differences(expected: dict, got: dict) -> list[str]:
    lines = []
    for preset in sorted(set(expected) | set(got)):
        e, g = expected.get(preset, {}), got.get(preset, {})
        for table in sorted(set(e) | set(g)):
            if table not in e or table not in g:
                lines.append(f"{preset}/{table}: table {'added' if table in g else 'missing'}")
                continue
            for col in sorted(set(e[table]) | set(g[table])):
                if e[table].get(col) != g[table].get(col):
                    lines.append(f"{preset}/{table}.{col}: {e[table].get(col)} -> {g[table].get(col)}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the recorded digests")
    args = ap.parse_args()
    got = record_all()
    if args.check:
        diff = differences(json.loads(GOLDEN.read_text()), got)
        print("\n".join(diff) if diff else "identical")
        return 1 if diff else 0
    GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
