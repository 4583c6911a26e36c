/* The structural scan (scan_rows.h) with AVX2 masks: two 32-byte loads and three compares each
 * per 64-byte window, where SSE2 takes four 16-byte loads and twelve compares and moves. Built
 * with -mavx2 and called only on CPUs that have it (pick_scan in tokenize.c). */
#include <immintrin.h>

#include "tokenize_internal.h"

static inline uint64_t mask64(__m256i lo, __m256i hi)
{
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(lo) |
           (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;
}

static inline void load_masks(const char *p, const char *end, char delim, char quote,
                              tok_masks *m)
{
    char pad[64];
    const char *const src = window_bytes(p, end, pad);
    const __m256i a = _mm256_loadu_si256((const __m256i *)src);
    const __m256i b = _mm256_loadu_si256((const __m256i *)(src + 32));
    const __m256i vd = _mm256_set1_epi8(delim), vn = _mm256_set1_epi8('\n'),
                  vr = _mm256_set1_epi8('\r');
    m->brk = mask64(_mm256_or_si256(_mm256_cmpeq_epi8(a, vn), _mm256_cmpeq_epi8(a, vr)),
                    _mm256_or_si256(_mm256_cmpeq_epi8(b, vn), _mm256_cmpeq_epi8(b, vr)));
    m->delim = mask64(_mm256_cmpeq_epi8(a, vd), _mm256_cmpeq_epi8(b, vd));
    if (quote) {
        const __m256i vq = _mm256_set1_epi8(quote);
        m->quote = mask64(_mm256_cmpeq_epi8(a, vq), _mm256_cmpeq_epi8(b, vq));
    } else {
        m->quote = 0; /* no quoting */
    }
}

#define SCAN_ROWS size_t bo_csv_scan_rows_avx2
#define SCAN_POPCNT 1
#include "scan_rows.h"
