/* Array kernels of the keyed Philox generator (see bo_rng.h for the mapping).
 *
 * Every element depends only on its own key, so a static split over any number of threads
 * gives bit-identical output. */
#include "blockops/bo_rng.h"
#include "bo_omp.h"

/* Below this many keys a parallel region costs more than it saves: one draw is ~5 ns, a
 * fork/join ~2-5 us. */
#define RNG_PAR_MIN 16384

static inline int rng_threads(size_t n, int n_threads)
{
    if (n_threads < 1 || n < RNG_PAR_MIN)
        return 1;
    return n_threads;
}

bo_status bo_rng_u64_array(const uint64_t *restrict keys, size_t n, uint64_t seed,
                           uint32_t stream, uint32_t counter, uint64_t *restrict out,
                           int n_threads)
{
    if (n && (!keys || !out))
        return BO_ERR_ARG;
    const int T = rng_threads(n, n_threads);
    const int64_t m = (int64_t)n;
    (void)T;
    BO_OMP(parallel for num_threads(T) schedule(static) if(T > 1))
    for (int64_t i = 0; i < m; i++)
        out[i] = bo_rng_u64(seed, stream, keys[i], counter);
    return BO_OK;
}

bo_status bo_rng_uniform_array(const uint64_t *restrict keys, size_t n, uint64_t seed,
                               uint32_t stream, uint32_t counter, double low, double high,
                               double *restrict out, int n_threads)
{
    if (n && (!keys || !out))
        return BO_ERR_ARG;
    const int T = rng_threads(n, n_threads);
    const int64_t m = (int64_t)n;
    /* computed once, as the reference does: low + (high - low) * unit, two roundings (this
     * file is compiled with -ffp-contract=off so no FMA merges them) */
    const double span = high - low;
    (void)T;
    BO_OMP(parallel for num_threads(T) schedule(static) if(T > 1))
    for (int64_t i = 0; i < m; i++)
        out[i] = low + span * bo_rng_unit(seed, stream, keys[i], counter);
    return BO_OK;
}
