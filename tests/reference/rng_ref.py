"""Pure-Python / NumPy reference of blockops' keyed Philox4x32-10 generator.

Philox4x32-10 as published (Salmon et al., SC'11; Random123's philox4x32_R with R = 10): each
round multiplies counter words 0 and 2 by M0 and M1 (32x32 -> 64 bits), and the key is bumped by
(W0, W1) before rounds 2..10. The blockops mapping (csrc/include/blockops/bo_rng.h):

    Philox key     = (seed & 0xffffffff, seed >> 32)
    Philox counter = (key & 0xffffffff, key >> 32, counter, stream)
    u64            = out[0] | out[1] << 32
    unit           = (u64 >> 11) * 2**-53
    uniform        = low + (high - low) * unit

``philox4x32_10`` / ``u64`` / ``unit`` / ``uniform`` are scalar pure Python (the definition);
``u64_array`` / ``uniform_array`` are the same in vectorized NumPy uint64 arithmetic (checked
against the scalar functions in tests/test_rng.py) so large arrays can be compared too.
Nothing here imports blockops.
"""
from __future__ import annotations

import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = 0xFFFFFFFF
MASK64 = 0xFFFFFFFFFFFFFFFF

# Random123 tests/kat_vectors, "philox4x32 10" lines: (counter[4], key[2]) -> out[4]
KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF),
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def philox4x32_10(ctr, key):
    """The raw bijection on 4 x 32-bit words under a 2 x 32-bit key."""
    c0, c1, c2, c3 = (int(x) & MASK32 for x in ctr)
    k0, k1 = (int(x) & MASK32 for x in key)
    for r in range(10):
        if r:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & MASK32, p1 & MASK32, \
                         ((p0 >> 32) ^ c3 ^ k1) & MASK32, p0 & MASK32
    return c0, c1, c2, c3


def u64(seed: int, stream: int, key: int, counter: int) -> int:
    seed &= MASK64
    key &= MASK64
    out = philox4x32_10((key & MASK32, key >> 32, counter, stream), (seed & MASK32, seed >> 32))
    return out[0] | (out[1] << 32)


def unit(seed: int, stream: int, key: int, counter: int) -> float:
    return (u64(seed, stream, key, counter) >> 11) * 2.0 ** -53


def uniform(seed: int, stream: int, key: int, counter: int, low: float = 0.0,
            high: float = 1.0) -> float:
    return low + (high - low) * unit(seed, stream, key, counter)


def u64_array(keys, seed: int, stream: int, counter: int = 0) -> np.ndarray:
    """Vectorized u64 for an array of keys (signed keys reinterpreted bitwise)."""
    keys = np.asarray(keys)
    k = keys.astype(np.int64).view(np.uint64) if keys.dtype.kind == "i" else \
        keys.astype(np.uint64)
    seed &= MASK64
    m32 = np.uint64(MASK32)
    c0 = k & m32
    c1 = k >> np.uint64(32)
    c2 = np.full_like(k, counter & MASK32)
    c3 = np.full_like(k, stream & MASK32)
    k0, k1 = seed & MASK32, seed >> 32
    for r in range(10):
        if r:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = np.uint64(M0) * c0          # < 2**64: exact in uint64
        p1 = np.uint64(M1) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)), p1 & m32, \
                         ((p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)), p0 & m32
    return c0 | (c1 << np.uint64(32))


def uniform_array(keys, seed: int, stream: int, counter: int = 0, low: float = 0.0,
                  high: float = 1.0) -> np.ndarray:
    u = (u64_array(keys, seed, stream, counter) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return np.float64(low) + (np.float64(high) - np.float64(low)) * u
