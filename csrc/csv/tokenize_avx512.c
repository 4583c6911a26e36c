/* The structural scan (scan_rows.h) with AVX-512BW masks and VBMI2 field writes: one 64-byte
 * load and one compare per class for a window's masks, and a row's field starts in the window
 * written 16 at a time (the positions of the delimiter bits gathered by one byte compress,
 * widened to 32 bits), where the AVX2 build writes them one count of trailing zeros at a time.
 * Built with AVX-512F/BW/VL/VBMI2 and called only on CPUs that have them (pick_scan in
 * tokenize.c); the index is the same as every other build's. */
#include <immintrin.h>

#include "tokenize_internal.h"

static inline void load_masks(const char *p, const char *end, char delim, char quote,
                              tok_masks *m)
{
    char pad[64];
    const char *const src = window_bytes(p, end, pad);
    const __m512i a = _mm512_loadu_si512((const void *)src);
    m->brk = _mm512_cmpeq_epi8_mask(a, _mm512_set1_epi8('\n')) |
             _mm512_cmpeq_epi8_mask(a, _mm512_set1_epi8('\r'));
    m->delim = _mm512_cmpeq_epi8_mask(a, _mm512_set1_epi8(delim));
    m->quote = quote ? _mm512_cmpeq_epi8_mask(a, _mm512_set1_epi8(quote)) : 0;
}

static const uint8_t iota64[64] __attribute__((aligned(64))) = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
    44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

/* dst[i] = base + (position of the i-th set bit of d), i < cnt = popcount(d), in stores of 16
 * slots (up to 15 written past dst + cnt: the caller's slack). */
static inline void store_fields16(uint32_t *dst, uint64_t d, uint32_t base, int cnt)
{
    __m512i pos = _mm512_maskz_compress_epi8(d, _mm512_load_si512((const void *)iota64));
    const __m512i b = _mm512_set1_epi32((int)base);
    for (int k = 0;; k += 16) { /* the next 16 positions are always in the low 128 bits */
        _mm512_storeu_si512((void *)(dst + k),
                            _mm512_add_epi32(_mm512_cvtepu8_epi32(_mm512_castsi512_si128(pos)), b));
        if (__builtin_expect(cnt <= k + 16, 1))
            break;
        pos = _mm512_shuffle_i32x4(pos, pos, _MM_SHUFFLE(0, 3, 2, 1));
    }
}

#define SCAN_ROWS size_t bo_csv_scan_rows_avx512
#define SCAN_STORE16 store_fields16
#include "scan_rows.h"
