"""leonet.memory.reuse_freed_heap: freed step-sized arrays are reused, not faulted in again."""

import platform
import subprocess
import sys

import pytest

# A fresh interpreter per case: the setting is process-wide and cannot be undone.
_PROBE = """
import resource, sys
import numpy as np
from leonet.memory import reuse_freed_heap
if sys.argv[1] == "set":
    assert reuse_freed_heap()
def step():
    # A chunk's path column on hypatia-starlink: 50 steps' values (~400 kB each) held, then joined
    # (~20 MB); everything freed at the end of the chunk.
    parts = [np.ones(100_000, np.int32) for _ in range(50)]
    joined = np.concatenate(parts)
    return int(joined[::4096].sum())
for _ in range(3):
    step()
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
"""


def _faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_reused_heap_faults_nothing_in_where_the_default_faults_every_step():
    default, kept = _faults("default"), _faults("set")
    # 20 chunks of ~40 MB: the default maps fresh zeroed pages at each (~5,000 faults a chunk).
    assert default > 20 * 3000
    assert kept < 200


def test_idempotent():
    from leonet.memory import reuse_freed_heap

    first = reuse_freed_heap()
    assert reuse_freed_heap() == first
