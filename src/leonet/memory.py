"""Handing memory freed by a run back to the operating system.

A run's chunks allocate and free hundreds of MB (Arrow tables, Parquet bytes, path lists); the
allocators keep the freed pages for reuse: pyarrow's pool (mimalloc or jemalloc) and glibc's
malloc arenas. What comes after a run in the same process (the summary, the report) then starts
from a resident size ~90 MB above what is in use (measured on ``hypatia-starlink``: 430 MB
resident after the run, 342 MB after this call), and the command's peak is that much higher.
This returns those pages; it changes no result. Where glibc is not the C library (macOS, musl),
only the Arrow pool is trimmed.

The opposite, while chunks are computed: :func:`reuse_freed_heap` keeps freed memory in glibc's
heap so that the next step's arrays reuse it instead of faulting fresh pages in from the kernel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


#: glibc's mallopt parameters (malloc.h) and the values :func:`reuse_freed_heap` sets.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Blocks up to this size come from the heap, not from their own mmap (32 MiB: the most glibc
#: accepts on 64-bit; a step's largest arrays, a chunk's path values, are ~20 MB on
#: ``hypatia-starlink``).
HEAP_BLOCK_MAX_BYTES = 32 * 1024 * 1024
#: Free memory at the top of the heap is returned to the kernel only beyond this.
HEAP_TRIM_BYTES = 128 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def _glibc():
    """glibc as a ctypes library, or None where the C library is another (macOS, musl); looked up
    once (``find_library`` runs ``ldconfig``)."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return None
    try:
        libc = ctypes.CDLL(libc_name)
        libc.malloc_trim, libc.mallopt  # glibc only
    except (OSError, AttributeError):
        return None
    return libc


def reuse_freed_heap() -> bool:
    """Keep memory freed by one step for the next (glibc): blocks up to
    :data:`HEAP_BLOCK_MAX_BYTES` come from the heap and up to :data:`HEAP_TRIM_BYTES` of free
    heap stay mapped. Returns whether glibc took both settings (False elsewhere; nothing changes).

    Why: glibc's default adapts its mmap threshold to the blocks freed, but a chunk's larger
    arrays (path values, table columns) still went back to the kernel and were faulted in again
    zeroed at the next chunk: on ``hypatia-starlink`` ~5,000 page faults per 50-step chunk, about
    0.25-0.4 ms of CPU (system time) per step of ~4.4. With these settings a chunk after the first
    faults in almost nothing. It changes no result; the process may keep up to 128 MiB more mapped
    between steps (measured: peak RSS of ``leonet run hypatia-starlink --duration 30`` 412 -> 413
    MB), and
    :func:`release_free_memory` still returns everything at the end. Idempotent.
    """
    libc = _glibc()
    if libc is None:
        return False
    took_mmap = libc.mallopt(M_MMAP_THRESHOLD, HEAP_BLOCK_MAX_BYTES)
    took_trim = libc.mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_BYTES)
    return bool(took_mmap and took_trim)


def release_free_memory() -> None:
    """Return freed memory of pyarrow's pool and of glibc's malloc to the operating system."""
    gc.collect()
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
