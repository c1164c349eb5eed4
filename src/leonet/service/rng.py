"""A counter-based random number generator: every draw is a pure function of its keys.

A simulation cut into time chunks (run in any order, on any worker) must draw the same random
numbers for the same dish at the same instant. A sequential generator cannot promise that; a
hash of the *coordinates* of a draw can. Each draw hashes (seed, stream, key_1, key_2, ...) with
the SplitMix64 finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014; the finaliser constants are the published ones), chaining one key after another, and
maps the top 53 bits to a float in (0, 1). ``stream`` names what is drawn ("traffic.active",
"latency.jitter", ...), so different terms never share numbers.

Everything is vectorised with numpy uint64 arithmetic (wrapping multiplication is intended).
"""

from __future__ import annotations

import zlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of uint64 values (elementwise)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def stream_id(name: str) -> int:
    """A stable 32-bit number for a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def hash_u64(seed: int, stream: str, *keys) -> np.ndarray:
    """uint64 hash of (seed, stream, keys...), elementwise over the broadcast keys.

    Keys are integer array-likes (negative values are taken modulo 2**64).
    """
    with np.errstate(over="ignore"):
        z = _mix(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) + _GOLDEN * np.uint64(stream_id(stream) + 1))
        arrays = np.broadcast_arrays(*[np.asarray(k, dtype=np.int64) for k in keys]) if keys else []
        if not arrays:
            return np.asarray(z)
        z = np.full(arrays[0].shape, z, dtype=np.uint64)
        for k in arrays:
            z = _mix(z + _GOLDEN + k.astype(np.uint64))
    return z


def uniform(seed: int, stream: str, *keys) -> np.ndarray:
    """Uniform floats in the open interval (0, 1), one per element of the broadcast keys."""
    z = hash_u64(seed, stream, *keys)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 9007199254740992.0   # 2**53
