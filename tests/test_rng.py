"""blockops._core.rng_u64 / rng_uniform against the pure-Python Philox4x32-10 reference."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blockops import _core
from reference import rng_ref as ref

U64_MAX = 2**64 - 1
SEEDS = [0, 1, 42, 2**32 - 1, 2**32, 2**63 - 1, 2**63, U64_MAX, -1, -(2**63), 0x0123456789ABCDEF]
STREAMS = [0, 1, 7, 2**31, 2**32 - 1]
COUNTERS = [0, 1, 3, 2**32 - 1]


def _keys(n, seed=0):
    r = np.random.default_rng(seed)
    k = r.integers(0, 2**64, size=n, dtype=np.uint64)
    special = np.array([0, U64_MAX, 1, 2**63, 2**63 - 1, 2**32, 2**32 - 1], dtype=np.uint64)
    k[:min(n, len(special))] = special[:min(n, len(special))]
    return k


def test_known_answer_vectors():
    # the reference itself first: a wrong reference would make every other test meaningless
    for ctr, key, out in ref.KAT:
        assert ref.philox4x32_10(ctr, key) == out
    # counter = (key_lo, key_hi, counter, stream), key = seed: KAT 1 and 2 through the mapping
    assert _core.rng_u64(np.array([0], np.uint64), seed=0, stream=0)[0] == 0xE169C58D6627E8D5
    assert _core.rng_u64(np.array([U64_MAX], np.uint64), seed=U64_MAX, stream=2**32 - 1,
                         counter=2**32 - 1)[0] == 0x41C83B0E408F276D
    ctr, key, out = ref.KAT[2]
    k = ctr[0] | ctr[1] << 32
    got = _core.rng_u64(np.array([k], np.uint64), seed=key[0] | key[1] << 32, stream=ctr[3],
                        counter=ctr[2])
    assert int(got[0]) == out[0] | out[1] << 32


def test_vectorized_reference_matches_scalar():
    keys = _keys(64, 1)
    for seed in (0, U64_MAX, 12345):
        vec = ref.u64_array(keys, seed, 3, 9)
        assert [int(x) for x in vec] == [ref.u64(seed, 3, int(k), 9) for k in keys]
        uni = ref.uniform_array(keys, seed, 3, 9, -2.0, 5.0)
        assert list(uni) == [ref.uniform(seed, 3, int(k), 9, -2.0, 5.0) for k in keys]


@pytest.mark.parametrize("n", list(range(34)) + [1000, 70001])
def test_u64_lengths(n):
    keys = _keys(n, n)
    got = _core.rng_u64(keys, seed=99, stream=5, counter=2)
    assert got.dtype == np.uint64 and got.shape == (n,)
    np.testing.assert_array_equal(got, ref.u64_array(keys, 99, 5, 2))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("stream", STREAMS)
def test_u64_seeds_streams(seed, stream):
    keys = _keys(40, 7)
    for counter in COUNTERS:
        got = _core.rng_u64(keys, seed=seed, stream=stream, counter=counter)
        want = [ref.u64(seed, stream, int(k), counter) for k in keys]
        assert [int(x) for x in got] == want


@given(seed=st.integers(-(2**63), 2**64 - 1), stream=st.integers(0, 2**32 - 1),
       counter=st.integers(0, 2**32 - 1),
       keys=st.lists(st.integers(0, 2**64 - 1), min_size=0, max_size=20),
       low=st.floats(-1e6, 1e6), width=st.floats(0, 1e6))
@settings(max_examples=200, deadline=None)
def test_hypothesis(seed, stream, counter, keys, low, width):
    k = np.array(keys, dtype=np.uint64)
    got = _core.rng_u64(k, seed=seed, stream=stream, counter=counter)
    assert [int(x) for x in got] == [ref.u64(seed, stream, x, counter) for x in keys]
    high = low + width
    u = _core.rng_uniform(k, seed=seed, stream=stream, counter=counter, low=low, high=high)
    assert list(u) == [ref.uniform(seed, stream, x, counter, low, high) for x in keys]


def test_signed_keys_reinterpreted():
    s = np.array([0, -1, 1, -(2**63), 2**63 - 1, -12345], dtype=np.int64)
    got = _core.rng_u64(s, seed=5, stream=1)
    np.testing.assert_array_equal(got, _core.rng_u64(s.view(np.uint64), seed=5, stream=1))
    assert int(got[1]) == ref.u64(5, 1, U64_MAX, 0)
    # narrower integer types keep their value (sign-extended, then reinterpreted)
    for dt in (np.int8, np.int16, np.int32):
        v = np.array([-1, 0, 5, -128], dtype=dt)
        np.testing.assert_array_equal(_core.rng_u64(v, seed=5, stream=1),
                                      _core.rng_u64(v.astype(np.int64), seed=5, stream=1))
    for dt in (np.uint8, np.uint16, np.uint32):
        v = np.array([0, 5, 200], dtype=dt)
        np.testing.assert_array_equal(_core.rng_u64(v, seed=5, stream=1),
                                      _core.rng_u64(v.astype(np.uint64), seed=5, stream=1))


def test_negative_seed_is_twos_complement():
    keys = _keys(10)
    for s in (-1, -(2**63), -42):
        np.testing.assert_array_equal(_core.rng_u64(keys, seed=s, stream=0),
                                      _core.rng_u64(keys, seed=s + 2**64, stream=0))
    np.testing.assert_array_equal(_core.rng_uniform(keys, seed=-7, stream=3),
                                  _core.rng_uniform(keys, seed=2**64 - 7, stream=3))


@pytest.mark.parametrize("n", [5, 1000, 200_003])
def test_thread_count_invariance(n):
    keys = _keys(n, 3)
    a = [_core.rng_u64(keys, seed=1, stream=2, counter=3, n_threads=t) for t in (1, 2, 3)]
    b = [_core.rng_uniform(keys, seed=1, stream=2, low=-1, high=1, n_threads=t) for t in (1, 2, 3)]
    for t in (1, 2):
        np.testing.assert_array_equal(a[0], a[t])
        np.testing.assert_array_equal(b[0], b[t])


def test_partition_invariance():
    keys = _keys(5000, 4)
    whole = _core.rng_u64(keys, seed=11, stream=0, n_threads=2)
    parts = np.concatenate([_core.rng_u64(p, seed=11, stream=0) for p in np.array_split(keys, 7)])
    np.testing.assert_array_equal(whole, parts)


def test_uniform_values():
    keys = _keys(200_000, 5)
    u = _core.rng_uniform(keys, seed=3, stream=1)
    assert u.dtype == np.float64
    assert (u >= 0).all() and (u < 1).all()
    np.testing.assert_array_equal(u, ref.uniform_array(keys, 3, 1))
    assert abs(u.mean() - 0.5) < 0.005  # sd 0.00065
    v = _core.rng_uniform(keys, seed=3, stream=1, low=10.0, high=20.0, n_threads=2)
    np.testing.assert_array_equal(v, ref.uniform_array(keys, 3, 1, 0, 10.0, 20.0))
    assert (v >= 10).all() and (v < 20).all()
    # low == high: a constant
    assert (_core.rng_uniform(keys[:10], seed=3, stream=1, low=2.5, high=2.5) == 2.5).all()


def test_different_inputs_differ():
    keys = _keys(1000, 6)
    base = _core.rng_u64(keys, seed=1, stream=0)
    for kw in ({"seed": 2, "stream": 0}, {"seed": 1, "stream": 1},
               {"seed": 1, "stream": 0, "counter": 1}):
        other = _core.rng_u64(keys, **kw)
        assert (other != base).mean() > 0.99


def test_layouts_readonly_noncontiguous_swapped():
    keys = _keys(301, 8)
    want = ref.u64_array(keys, 77, 3)
    ro = keys.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(_core.rng_u64(ro, seed=77, stream=3), want)
    big = np.zeros(2 * len(keys), dtype=np.uint64)
    big[::2] = keys
    strided = big[::2]
    np.testing.assert_array_equal(_core.rng_u64(strided, seed=77, stream=3), want)
    np.testing.assert_array_equal(_core.rng_u64(keys[::-1], seed=77, stream=3), want[::-1])
    sw = keys.astype(keys.dtype.newbyteorder())
    np.testing.assert_array_equal(_core.rng_u64(sw, seed=77, stream=3), want)
    before = keys.copy()
    _core.rng_u64(keys, seed=77, stream=3)
    _core.rng_uniform(keys, seed=77, stream=3)
    np.testing.assert_array_equal(keys, before)  # input not written
    u = _core.rng_uniform(strided, seed=77, stream=3)
    np.testing.assert_array_equal(u, ref.uniform_array(keys, 77, 3))


def test_shapes():
    keys = _keys(12, 9).reshape(3, 4)
    got = _core.rng_u64(keys, seed=1, stream=1)
    assert got.shape == (3, 4)
    np.testing.assert_array_equal(got.ravel(), ref.u64_array(keys.ravel(), 1, 1))
    assert _core.rng_u64([1, 2, 3], seed=1, stream=1).shape == (3,)
    assert int(_core.rng_u64(np.uint64(5), seed=1, stream=1)) == ref.u64(1, 1, 5, 0)


def test_argument_errors():
    k = np.arange(3, dtype=np.uint64)
    with pytest.raises(TypeError, match="seed"):
        _core.rng_u64(k, stream=0)
    with pytest.raises(TypeError, match="stream"):
        _core.rng_u64(k, seed=0)
    with pytest.raises(TypeError):
        _core.rng_u64(k, 1, 2)  # seed/stream are keyword-only
    for bad in (2**64, -(2**63) - 1):
        with pytest.raises(ValueError, match="seed"):
            _core.rng_u64(k, seed=bad, stream=0)
    for name in ("stream", "counter"):
        for bad in (-1, 2**32):
            kw = {"seed": 0, "stream": 0, name: bad}
            with pytest.raises(ValueError, match=name):
                _core.rng_u64(k, **kw)
            with pytest.raises(ValueError, match=name):
                _core.rng_uniform(k, **kw)
    with pytest.raises(TypeError):
        _core.rng_u64(k, seed=1.5, stream=0)
    with pytest.raises(TypeError, match="integer"):
        _core.rng_u64(np.array([1.0, 2.0]), seed=1, stream=0)
    with pytest.raises(TypeError, match="integer"):
        _core.rng_u64(np.array([True]), seed=1, stream=0)
    with pytest.raises(ValueError, match="n_threads"):
        _core.rng_u64(k, seed=1, stream=0, n_threads=0)
    with pytest.raises(ValueError, match="finite"):
        _core.rng_uniform(k, seed=1, stream=0, high=np.inf)
    # numpy integer scalars are fine as seed / stream
    np.testing.assert_array_equal(_core.rng_u64(k, seed=np.uint64(U64_MAX), stream=np.int32(3)),
                                  _core.rng_u64(k, seed=-1, stream=3))


def test_signatures():
    s = inspect.signature(_core.rng_u64)
    assert list(s.parameters) == ["keys", "seed", "stream", "counter", "n_threads"]
    assert s.parameters["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert s.parameters["counter"].default == 0
    s = inspect.signature(_core.rng_uniform)
    assert list(s.parameters) == ["keys", "seed", "stream", "counter", "low", "high", "n_threads"]
    assert s.parameters["high"].default == 1.0
