/* blockops counter-based keyed random numbers: Philox4x32-10.
 *
 * J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers: as easy as
 * 1, 2, 3", SC'11 (the Random123 library). A draw is a pure function of
 * (seed, stream, key, counter) with no state, so the value a row gets does not depend on how
 * the data are partitioned, ordered or threaded: the same row key gives the same number in a
 * pandas frame, in any Dask partition and on any thread count.
 *
 * Mapping onto one Philox block (documented contract; tests/reference/rng_ref.py mirrors it):
 *   Philox key     = (seed & 0xffffffff, seed >> 32)
 *   Philox counter = (key & 0xffffffff, key >> 32, counter, stream)
 *   out[4]         = Philox4x32-10(counter, key)
 *   u64            = out[0] | (uint64_t)out[1] << 32        (out[2], out[3] are not used)
 *   unit           = (u64 >> 11) * 2^-53                     in [0, 1), 53 random bits
 *   uniform        = low + (high - low) * unit               (no FMA contraction)
 * `counter` numbers successive independent draws for the same (key, stream), e.g. the k-th
 * random column of a row; `stream` separates uses (sampling vs noise) under one seed. */
#ifndef BLOCKOPS_BO_RNG_H
#define BLOCKOPS_BO_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "blockops/bo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BO_PHILOX_M0 0xD2511F53u
#define BO_PHILOX_M1 0xCD9E8D57u
#define BO_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define BO_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

/* The raw bijection: 10 rounds, key bumped by (W0, W1) before rounds 2..10 (Random123's
 * philox4x32_R with R = 10). */
static inline void bo_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                    uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += BO_PHILOX_W0;
            k1 += BO_PHILOX_W1;
        }
        const uint64_t p0 = (uint64_t)BO_PHILOX_M0 * c0;
        const uint64_t p1 = (uint64_t)BO_PHILOX_M1 * c2;
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* One 64-bit draw (see the mapping above). */
static inline uint64_t bo_rng_u64(uint64_t seed, uint32_t stream, uint64_t key, uint32_t counter)
{
    const uint32_t ctr[4] = {(uint32_t)key, (uint32_t)(key >> 32), counter, stream};
    const uint32_t k[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t out[4];
    bo_philox4x32_10(ctr, k, out);
    return (uint64_t)out[0] | ((uint64_t)out[1] << 32);
}

/* u64 >> 11 scaled by 2^-53: every value k * 2^-53, k in [0, 2^53), exactly; never 1.0. */
static inline double bo_rng_unit_from_u64(uint64_t u) { return (double)(u >> 11) * 0x1.0p-53; }

static inline double bo_rng_unit(uint64_t seed, uint32_t stream, uint64_t key, uint32_t counter)
{
    return bo_rng_unit_from_u64(bo_rng_u64(seed, stream, key, counter));
}

/* out[i] = bo_rng_u64(seed, stream, keys[i], counter), i < n. Identical for every n_threads
 * (<= 0 means 1). BO_ERR_ARG when n > 0 and keys or out is NULL. */
bo_status bo_rng_u64_array(const uint64_t *BO_RESTRICT keys, size_t n, uint64_t seed,
                           uint32_t stream, uint32_t counter, uint64_t *BO_RESTRICT out,
                           int n_threads);

/* out[i] = low + (high - low) * bo_rng_unit(seed, stream, keys[i], counter). With
 * low <= high the values lie in [low, high) up to the rounding of the final multiply-add
 * (as with numpy's uniform, high itself can come out when high - low is not representable
 * exactly). Identical for every n_threads. */
bo_status bo_rng_uniform_array(const uint64_t *BO_RESTRICT keys, size_t n, uint64_t seed,
                               uint32_t stream, uint32_t counter, double low, double high,
                               double *BO_RESTRICT out, int n_threads);

#ifdef __cplusplus
}
#endif
#endif
