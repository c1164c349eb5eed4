"""Every scenario preset (shortened) still produces the recorded tables, column by column.

Refactors must not change results. A change that is meant to change results re-records the
digests (``python tests/golden/record_presets.py``) and says why in its commit message.
"""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
import record_presets  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(record_presets.CASES))
def test_preset_tables_unchanged(preset, tmp_path):
    expected = json.loads(record_presets.GOLDEN.read_text())[preset]
    got = record_presets.run_case(preset, record_presets.CASES[preset], tmp_path)
    diff = record_presets.differences({preset: expected}, {preset: got})
    assert not diff, "results changed:\n" + "\n".join(diff)
