/* The structural scan (scan_rows.h) with AVX-512BW masks: one 64-byte load and a compare per
 * character class gives each mask directly, and the window at the end of the buffer is a
 * masked load (masked-off bytes read as zero and cannot fault) instead of a copy into a padded
 * buffer. Built with -mavx512f -mavx512bw and called only on CPUs that have both (pick_scan in
 * tokenize.c). */
#include <immintrin.h>

#include "tokenize_internal.h"

static inline void load_masks(const char *p, const char *end, char delim, char quote,
                              tok_masks *m)
{
    const size_t left = (size_t)(end - p);
    const __m512i v = left >= 64 ? _mm512_loadu_si512((const void *)p)
                                 : _mm512_maskz_loadu_epi8((__mmask64)((1ULL << left) - 1), p);
    m->brk = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n')) |
             _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
    m->delim = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(delim));
    m->quote = quote ? _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(quote)) : 0;
}

#define SCAN_ROWS size_t bo_csv_scan_rows_avx512
#define SCAN_POPCNT 1
#include "scan_rows.h"
