/* Philox4x32-10: Random123's known-answer vectors, the documented (seed, stream, key, counter)
 * mapping, the unit/uniform transforms, and bit-identical arrays for every thread count. */
#include "blockops/bo_rng.h"
#include "bo_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void test_kat(void)
{
    /* Random123 1.14 tests/kat_vectors, "philox4x32 10" lines (counter[4] key[2] -> out[4]);
     * re-derived with the pure-Python implementation in tests/reference/rng_ref.py. */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int k = 0; k < 3; k++) {
        uint32_t out[4];
        bo_philox4x32_10(kat[k], kat[k] + 4, out);
        for (int j = 0; j < 4; j++)
            CHECKF(out[j] == kat[k][6 + j], "kat %d word %d: %08x != %08x", k, j, out[j],
                   kat[k][6 + j]);
    }
}

static void test_mapping(void)
{
    /* counter = (key_lo, key_hi, counter, stream), key = (seed_lo, seed_hi), u64 = w0 | w1<<32 */
    CHECK(bo_rng_u64(0, 0, 0, 0) == 0xe169c58d6627e8d5ULL);
    CHECK(bo_rng_u64(UINT64_MAX, UINT32_MAX, UINT64_MAX, UINT32_MAX) == 0x41c83b0e408f276dULL);
    /* from tests/reference/rng_ref.py */
    CHECK(bo_rng_u64(0x0123456789abcdefULL, 7, 0xfedcba9876543210ULL, 3) == 0xe6b64da23893e6c5ULL);
    CHECK(bo_rng_u64(42, 1, 12345, 0) == 0x356aa6c91cd1c640ULL);
    uint32_t ctr[4] = {0x76543210u, 0xfedcba98u, 3, 7}, key[2] = {0x89abcdefu, 0x01234567u}, o[4];
    bo_philox4x32_10(ctr, key, o);
    CHECK(bo_rng_u64(0x0123456789abcdefULL, 7, 0xfedcba9876543210ULL, 3) ==
          ((uint64_t)o[0] | (uint64_t)o[1] << 32));
    /* every input matters */
    uint64_t base = bo_rng_u64(1, 2, 3, 4);
    CHECK(bo_rng_u64(1 ^ (1ULL << 40), 2, 3, 4) != base);
    CHECK(bo_rng_u64(1, 2 ^ (1u << 31), 3, 4) != base);
    CHECK(bo_rng_u64(1, 2, 3 ^ (1ULL << 63), 4) != base);
    CHECK(bo_rng_u64(1, 2, 3, 5) != base);
}

static void test_unit(void)
{
    CHECK(bo_rng_unit_from_u64(0) == 0.0);
    CHECK(bo_rng_unit_from_u64(UINT64_MAX) == 1.0 - 0x1.0p-53);
    CHECK(bo_rng_unit_from_u64(1ULL << 63) == 0.5);
    CHECK(bo_rng_unit_from_u64((1ULL << 11) - 1) == 0.0);
    double sum = 0;
    const int N = 100000;
    for (int i = 0; i < N; i++) {
        double u = bo_rng_unit(7, 0, (uint64_t)i, 0);
        CHECK(u >= 0.0 && u < 1.0);
        sum += u;
    }
    /* mean of 1e5 uniforms: sd 0.0009; 6 sd */
    CHECKF(fabs(sum / N - 0.5) < 0.0055, "mean %g", sum / N);
}

static void test_arrays(void)
{
    enum { N = 100003 }; /* above the parallel threshold, odd */
    uint64_t *keys = malloc(N * sizeof *keys), *a = malloc(N * sizeof *a),
             *b = malloc(N * sizeof *b);
    double *u = malloc(N * sizeof *u), *v = malloc(N * sizeof *v);
    CHECK(keys && a && b && u && v);
    if (!keys || !a || !b || !u || !v)
        goto done;
    for (size_t i = 0; i < N; i++)
        keys[i] = (uint64_t)i * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)i << 40);
    keys[0] = 0;
    keys[1] = UINT64_MAX;
    const uint64_t seed = 0xdeadbeefcafef00dULL;
    CHECK(bo_rng_u64_array(keys, N, seed, 5, 9, a, 1) == BO_OK);
    for (size_t i = 0; i < N; i++)
        if (a[i] != bo_rng_u64(seed, 5, keys[i], 9)) {
            CHECKF(0, "u64 array[%zu]", i);
            break;
        }
    for (int t = 0; t <= 4; t++) {
        memset(b, 0, N * sizeof *b);
        CHECK(bo_rng_u64_array(keys, N, seed, 5, 9, b, t) == BO_OK);
        CHECKF(!memcmp(a, b, N * sizeof *a), "u64 array differs with %d threads", t);
    }
    const double lo = -3.25, hi = 7.5;
    CHECK(bo_rng_uniform_array(keys, N, seed, 5, 9, lo, hi, u, 1) == BO_OK);
    for (size_t i = 0; i < N; i++) {
        volatile double span = hi - lo, unit = bo_rng_unit(seed, 5, keys[i], 9);
        volatile double prod = span * unit;
        double want = lo + prod;
        if (u[i] != want || !(u[i] >= lo && u[i] < hi)) {
            CHECKF(0, "uniform[%zu] = %.17g, want %.17g", i, u[i], want);
            break;
        }
    }
    for (int t = 0; t <= 4; t++) {
        CHECK(bo_rng_uniform_array(keys, N, seed, 5, 9, lo, hi, v, t) == BO_OK);
        CHECKF(!memcmp(u, v, N * sizeof *u), "uniform array differs with %d threads", t);
    }
    /* a prefix computed alone equals the prefix of the whole (partition invariance) */
    CHECK(bo_rng_u64_array(keys + 17, 33, seed, 5, 9, b, 3) == BO_OK);
    CHECK(!memcmp(a + 17, b, 33 * sizeof *a));
    CHECK(bo_rng_u64_array(NULL, 0, seed, 0, 0, NULL, 2) == BO_OK);
    CHECK(bo_rng_u64_array(NULL, 3, seed, 0, 0, a, 2) == BO_ERR_ARG);
    CHECK(bo_rng_uniform_array(keys, 3, seed, 0, 0, 0, 1, NULL, 2) == BO_ERR_ARG);
done:
    free(keys);
    free(a);
    free(b);
    free(u);
    free(v);
}

int main(void)
{
    test_kat();
    test_mapping();
    test_unit();
    test_arrays();
    TEST_MAIN_END();
}
