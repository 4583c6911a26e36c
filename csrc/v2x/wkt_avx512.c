/* The AVX-512 WKT kernel (F, BW, DQ, CD, VL, VBMI + BMI1/2; compiled with those flags only,
 * chosen at run time by bo_v2x_wkt_kernel). Same results as the baseline kernel, bit for bit:
 * rows of the common shape are parsed here, every other row goes through bo_v2x_wkt_row.
 *
 * Why it is shaped like this (one thread, 1 M synthetic BSM rows of 16-17 digit coordinates,
 * Zen 4 at 3.5 GHz, thread CPU time, best of ~20 calls alternating with the baseline kernel):
 *  - A row vector at a time (masked 64-byte load, digits found by compress + vpermb, digit
 *    groups summed by vpmaddubsw/vpmaddwd) was no faster than the baseline (23 vs 22 ns): the
 *    scalar decoding of the row's layout (where the dots, the blank and the signs are, and the
 *    checks) took ~40 instructions, and two Eisel-Lemire calls ~30 cycles, on one long
 *    dependency chain.
 *  - The layout is a function of the row's non-digit bit mask N alone (N fixes where every
 *    non-digit byte is, and the length when the last byte is one). A column has few layouts
 *    (27 in the synthetic file, 55 % of rows one of them; one or two in 7-decimal BSM exports),
 *    so a small cache keyed by N holds, per layout, the vpermb index that gathers the digits and
 *    the expected bytes. A row whose N is cached and whose non-digit bytes match is of that
 *    layout; the decoding runs only on a miss (21 rows of the million here).
 *  - Conversions are batched: the row pass leaves (w, kf, sign) per coordinate, and an 8-lane
 *    Eisel-Lemire converts 4 rows at a time (~1.8 ns a number vs ~3.3 for the scalar call).
 *  - The row pass calls nothing (rows it cannot take are done after it): 10.2 -> 9.8 ns.
 * Together 9.8 ns a row (the baseline kernel 24.2, the code before this kernel 22.3); 7-decimal
 * rows 9.6 (baseline 17.1). */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "blockops/bo_v2x.h"
#include "numparse_fast.h"
#include "v2x_internal.h"

/* One layout. idx: vpermb index gathering the first number's digits right-aligned into
 * lanes 0..31 and the second's into 32..63, dots skipped; other lanes index byte 0 (the 'P',
 * zero once non-digits are masked). tmpl: the row's bytes at the non-digit positions. meta:
 * kf | negative << 8 per number, as the conversion pass takes them. */
typedef struct wkt_layout {
    __m512i idx, tmpl;
    uint64_t key, meta[2];
} wkt_layout;

/* 64 entries, 32 sets of 2 ways (the newest in way 0): 12 KiB, inside L1d next to the streamed
 * text. Direct-mapped, two frequent layouts that collide would miss on every row. */
#define WKT_SLOTS 64
typedef struct wkt_cache {
    wkt_layout e[WKT_SLOTS];
    uint64_t pow5_hi[16];  /* Eisel-Lemire constants for q = -kf, kf = 0..15 */
    int64_t pow2_base[16];
} wkt_cache;

_Static_assert(sizeof(wkt_cache) <= BO_WKT_SCRATCH_BYTES, "bo_wkt_scratch is too small");

#define META_NEG (1u << 8)  /* the number is negative */
#define META_PASS (1u << 9) /* w already holds the final bits (a row of the general path) */

/* The set of a key: 32 sets of 2 ways. */
static inline unsigned wkt_set(uint64_t key)
{
    return (unsigned)((key * 0xD6E8FEB86659FD93ULL) >> 59);
}

/* Decode the layout of a row (16 <= len <= 64, v its bytes, D its digit bits, N = the other
 * bits below len) into *e. 0 when the row is "POINT (" [-]digits.digits " " [-]digits.digits
 * ")" exactly (the "POINT" in any case) with 1..19 digits per number; 1 for anything else.
 * The general parser takes the same two tokens of such a row and computes the same w and
 * exponent (<= 19 digits: no truncation), hence the same bits. */
static int wkt_decode(const char *s, size_t len, __m512i v, uint64_t D, uint64_t N,
                      wkt_layout *e)
{
    /* "point (" with the letters in any case: | 0x20 maps only 'P' and 'p' to 'p', etc. */
    if ((((bo_load8(s) | 0x2020202020ULL) & 0x00FFFFFFFFFFFFFFULL) != 0x002820746E696F70ULL) |
        (s[len - 1] != ')'))
        return 1;
    const uint64_t M = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('-'));
    const uint64_t P = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('.'));
    const uint64_t S = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' '));
    /* R: between "POINT (" and ")"; bit 63 a sentinel for the counts of empty masks */
    const uint64_t R = _bzhi_u64(~0ULL, (unsigned)len - 1) & ~0x7FULL, top = 1ULL << 63;
    const unsigned p0 = (unsigned)_tzcnt_u64(P | top), p1 = (unsigned)_tzcnt_u64(_blsr_u64(P) | top);
    const unsigned sp = (unsigned)_tzcnt_u64((S & R) | top);
    const unsigned n0 = (unsigned)(M >> 7) & 1, n1 = (unsigned)((M >> sp) >> 1) & 1;
    const unsigned ki0 = p0 - 7 - n0, kf0 = sp - p0 - 1, ki1 = p1 - sp - 1 - n1;
    const unsigned kf1 = (unsigned)len - 2 - p1, nd0 = ki0 + kf0, nd1 = ki1 + kf1;
    /* in R: only digits and these; exactly two dots and one blank; '-' only first in a
     * number; every run of digits non-empty (unsigned: 0 - 1 is huge), <= 19 digits a
     * number (then the ordering p0 < sp < p1 follows) */
    const int shape = (((D | P | S | M) & R) == R) & (_blsr_u64(_blsr_u64(P)) == 0) &
                      ((S & R) == (1ULL << sp)) & ((M & ~(0x80ULL | (2ULL << sp))) == 0) &
                      (ki0 - 1 < 19) & (kf0 - 1 < 19) & (nd0 <= 19) & (ki1 - 1 < 19) &
                      (kf1 - 1 < 19) & (nd1 <= 19);
    if (!shape)
        return 1;
    /* lane t, j = 31 - (t & 31) digits from the right end of its number: the byte at
     * end - 1 - j, one more to the left past the dot; lanes j >= nd index byte 0 */
    static const uint8_t rev[64] = {31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
                                    15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  0,
                                    31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
                                    15, 14, 13, 12, 11, 10, 9,  8,  7,  6,  5,  4,  3,  2,  1,  0};
    const uint64_t hi32 = 0xFFFFFFFF00000000ULL;
    __m512i idx = _mm512_mask_set1_epi8(_mm512_set1_epi8((char)(sp - 1)), hi32, (char)(len - 2));
    idx = _mm512_sub_epi8(idx, _mm512_loadu_si512(rev));
    const uint64_t past_dot = ((1ULL << (32 - kf0)) - 1) | (((1ULL << (32 - kf1)) - 1) << 32);
    const uint64_t used = (((1ULL << nd0) - 1) << (32 - nd0)) | (((1ULL << nd1) - 1) << (64 - nd1));
    idx = _mm512_mask_sub_epi8(idx, past_dot, idx, _mm512_set1_epi8(1));
    e->idx = _mm512_maskz_mov_epi8(used, idx);
    e->tmpl = _mm512_maskz_mov_epi8(N, v);
    e->key = N;
    e->meta[0] = kf0 | (n0 ? META_NEG : 0);
    e->meta[1] = kf1 | (n1 ? META_NEG : 0);
    return 0;
}

/* A row whose N is not in its set e[0..1]: decoded into way 0, the older entry moving to way
 * 1. NULL when the row is not of the common shape. The cold path, out of line; it loads the row
 * again instead of taking the row vector, so no 512-bit value lives across the call. */
static __attribute__((noinline)) wkt_layout *wkt_miss(wkt_layout *e, const char *s, size_t len,
                                                      uint64_t N)
{
    const __m512i v = _mm512_maskz_loadu_epi8(_bzhi_u64(~0ULL, (unsigned)len), s);
    const uint64_t D = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, _mm512_set1_epi8('0')),
                                              _mm512_set1_epi8(10));
    wkt_layout t;
    if (wkt_decode(s, len, v, D, N, &t))
        return NULL;
    e[1] = e[0];
    e[0] = t;
    return &e[0];
}

/* A row of 16..64 bytes: 1 with w[0..1] (the two numbers' digits as integers) and meta[0..1]
 * when it has the common shape, else 0. A layout not in the cache is decoded when `learn`
 * (a constant: the two inlined copies differ), else the row is left for the slow pass. */
static inline __attribute__((always_inline)) int wkt_row_fast(wkt_cache *c, const char *s,
                                                               size_t len, uint64_t *w,
                                                               uint64_t *meta, const int learn)
{
    const uint64_t km = _bzhi_u64(~0ULL, (unsigned)len);
    const __m512i v = _mm512_maskz_loadu_epi8(km, s); /* reads s[0, len) only */
    const __m512i zero = _mm512_set1_epi8('0');
    const uint64_t D = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, zero), _mm512_set1_epi8(10));
    const uint64_t N = km & ~D;
    /* bytes 0 ('P') and len - 1 (')') are non-digits in every cached layout. With bit len - 1
     * set, N alone fixes the length (its highest bit), so equal N means equal layout; without
     * that check "POINT (1.5 2.5)7" would match the layout of "POINT (1.5 2.5)" (fuzz_v2x).
     * And N = 0, the key of an empty entry, never gets past it. */
    const uint64_t ends = 1 | (1ULL << (len - 1));
    if ((N & ends) != ends)
        return 0;
    wkt_layout *const set = &c->e[2 * wkt_set(N)];
    /* the way without a branch: layouts sharing a set alternate at random in a column, and
     * as a branch (what gcc 12 makes of `set + (set[0].key != N)`, even with a 50 % hint) the
     * mispredictions cost 6 ns a row (16 instead of 10) on the synthetic column */
    const uintptr_t way1 = (uintptr_t)0 - (uintptr_t)(set[0].key != N);
    wkt_layout *e = (wkt_layout *)((uintptr_t)set + (way1 & sizeof(wkt_layout)));
    if (__builtin_expect(e->key != N, 0) && !(learn && (e = wkt_miss(set, s, len, N))))
        return 0;
    /* same N: digits exactly where the layout has them; the other bytes must match too */
    if (_mm512_mask_cmpneq_epi8_mask(N, v, e->tmpl))
        return 0;
    /* digits as 0..9 (everything else 0), gathered right-aligned per number */
    const __m512i x = _mm512_permutexvar_epi8(e->idx, _mm512_maskz_sub_epi8(D, v, zero));
    /* pairs (10 a + b), then 4 digits, then 8 digits per 64-bit lane: lanes 1, 2, 3 of each
     * half hold digits 8..31 of that number's 32 (the first 13 are zero: <= 19 digits) */
    const __m512i y = _mm512_maddubs_epi16(x, _mm512_set1_epi16(0x010A));
    const __m512i z = _mm512_madd_epi16(y, _mm512_set1_epi32(0x00010064));
    const __m512i g = _mm512_add_epi64(_mm512_mul_epu32(z, _mm512_set1_epi64(10000)),
                                       _mm512_srli_epi64(z, 32));
    /* w = g1 10^16 + g2 10^8 + g3 < 10^19: no overflow */
    const __m512i t = _mm512_mullo_epi64(
        g, _mm512_set_epi64(1, 100000000, 10000000000000000LL, 0, 1, 100000000,
                            10000000000000000LL, 0));
    const __m512i s1 = _mm512_permutexvar_epi64(_mm512_set_epi64(0, 0, 0, 0, 0, 0, 5, 1), t);
    const __m512i s2 = _mm512_permutexvar_epi64(_mm512_set_epi64(0, 0, 0, 0, 0, 0, 6, 2), t);
    const __m512i s3 = _mm512_permutexvar_epi64(_mm512_set_epi64(0, 0, 0, 0, 0, 0, 7, 3), t);
    _mm_storeu_si128((__m128i *)w,
                     _mm512_castsi512_si128(_mm512_add_epi64(_mm512_add_epi64(s1, s2), s3)));
    _mm_storeu_si128((__m128i *)meta, _mm_loadu_si128((const __m128i *)e->meta));
    return 1;
}

/* The high and low 64 bits of a * b per lane, from four 32 x 32 products. */
static inline __m512i mul_hi_lo(__m512i a, __m512i b, __m512i *lo)
{
    const __m512i m32 = _mm512_set1_epi64(0xFFFFFFFF);
    const __m512i ah = _mm512_srli_epi64(a, 32), bh = _mm512_srli_epi64(b, 32);
    const __m512i ll = _mm512_mul_epu32(a, b), lh = _mm512_mul_epu32(a, bh);
    const __m512i hl = _mm512_mul_epu32(ah, b), hh = _mm512_mul_epu32(ah, bh);
    const __m512i mid = _mm512_add_epi64(
        _mm512_add_epi64(_mm512_srli_epi64(ll, 32), _mm512_and_si512(lh, m32)),
        _mm512_and_si512(hl, m32));
    *lo = _mm512_or_si512(_mm512_slli_epi64(mid, 32), _mm512_and_si512(ll, m32));
    return _mm512_add_epi64(_mm512_add_epi64(hh, _mm512_srli_epi64(lh, 32)),
                            _mm512_add_epi64(_mm512_srli_epi64(hl, 32), _mm512_srli_epi64(mid, 32)));
}

/* 8 conversions: bo_eisel_lemire_small(-kf, w) with the sign, lane by lane, for kf <= 15 and
 * products not in the precision window (the scalar code's second multiply); those lanes, and
 * kf >= 16, are redone by the scalar function (~0.2 % of the lanes of BSM text). w = 0 gives
 * (-)0 as bo_decimal_to_double; META_PASS lanes return w unchanged. */
static inline __m512i el8(const uint64_t *pow5_hi, const int64_t *pow2_base, const uint64_t *wp,
                          const uint64_t *mp)
{
    const __m512i w = _mm512_loadu_si512(wp), meta = _mm512_loadu_si512(mp);
    const __m512i kf = _mm512_and_si512(meta, _mm512_set1_epi64(0xFF));
    const __m512i lz = _mm512_lzcnt_epi64(w);
    const __m512i wn = _mm512_sllv_epi64(w, lz);
    const __m512i p5 = _mm512_permutex2var_epi64(_mm512_loadu_si512(pow5_hi), kf,
                                                 _mm512_loadu_si512(pow5_hi + 8));
    __m512i lo;
    const __m512i hi = mul_hi_lo(wn, p5, &lo);
    const __m512i one = _mm512_set1_epi64(1);
    __mmask8 slow = _mm512_cmpeq_epi64_mask(_mm512_and_si512(hi, _mm512_set1_epi64(0x1FF)),
                                            _mm512_set1_epi64(0x1FF)) |
                    _mm512_cmpgt_epu64_mask(kf, _mm512_set1_epi64(15));
    const __m512i upper = _mm512_srli_epi64(hi, 63);
    const __m512i shift = _mm512_add_epi64(upper, _mm512_set1_epi64(64 - 52 - 3));
    __m512i m = _mm512_srlv_epi64(hi, shift);
    __m512i p2 = _mm512_permutex2var_epi64(_mm512_loadu_si512(pow2_base), kf,
                                           _mm512_loadu_si512(pow2_base + 8));
    p2 = _mm512_sub_epi64(_mm512_add_epi64(p2, upper), lz);
    /* exactly half-way (only for q >= -4): round to even */
    const __mmask8 half =
        _mm512_cmple_epu64_mask(lo, one) & _mm512_cmple_epu64_mask(kf, _mm512_set1_epi64(4)) &
        _mm512_cmpeq_epi64_mask(_mm512_and_si512(m, _mm512_set1_epi64(3)), one) &
        _mm512_cmpeq_epi64_mask(_mm512_sllv_epi64(m, shift), hi);
    m = _mm512_mask_andnot_epi64(m, half, one, m);
    m = _mm512_srli_epi64(_mm512_add_epi64(m, _mm512_and_si512(m, one)), 1);
    const __mmask8 carry = _mm512_cmpge_epu64_mask(m, _mm512_set1_epi64(2LL << 52));
    m = _mm512_mask_mov_epi64(m, carry, _mm512_set1_epi64(1LL << 52));
    p2 = _mm512_mask_add_epi64(p2, carry, p2, one);
    m = _mm512_andnot_si512(_mm512_set1_epi64(1LL << 52), m);
    __m512i bits = _mm512_maskz_mov_epi64(_mm512_test_epi64_mask(w, w),
                                          _mm512_or_si512(_mm512_slli_epi64(p2, 52), m));
    bits = _mm512_or_si512(
        bits, _mm512_slli_epi64(_mm512_and_si512(meta, _mm512_set1_epi64(META_NEG)), 63 - 8));
    const __mmask8 pass = _mm512_test_epi64_mask(meta, _mm512_set1_epi64(META_PASS));
    bits = _mm512_mask_mov_epi64(bits, pass, w);
    slow &= (__mmask8)~pass;
    if (__builtin_expect(slow != 0, 0)) {
        uint64_t b[8];
        _mm512_storeu_si512(b, bits);
        for (int j = 0; j < 8; j++)
            if ((slow >> j) & 1)
                b[j] = (wp[j] ? bo_eisel_lemire_small(-(int)(mp[j] & 0xFF), wp[j]) : 0) |
                       ((mp[j] & META_NEG) ? 1ULL << 63 : 0);
        bits = _mm512_loadu_si512(b);
    }
    return bits;
}

void bo_v2x_el8_avx512(const uint64_t *w, const uint8_t *kf, const uint8_t *neg, uint64_t *bits)
{
    uint64_t pow5_hi[16], m[8];
    int64_t pow2_base[16];
    bo_eisel_lemire_consts16(pow5_hi, pow2_base);
    for (int j = 0; j < 8; j++)
        m[j] = kf[j] | (neg[j] ? META_NEG : 0);
    _mm512_storeu_si512(bits, el8(pow5_hi, pow2_base, w, m));
}

/* Rows per pass: the row pass leaves 2 x 16 (w, meta) pairs in L1, then the conversions run
 * 4 rows at a time. */
#define WKT_BATCH 16

void bo_v2x_wkt_rows_avx512(bo_wkt_scratch *scratch, const int64_t *offsets,
                            const uint8_t *data, const uint8_t *valid_bits, int64_t bit_offset,
                            size_t begin, size_t end, double *lon, double *lat, uint8_t *status)
{
    wkt_cache *c = (wkt_cache *)scratch->bytes;
    if (!scratch->ready) {
        for (int k = 0; k < WKT_SLOTS; k++)
            c->e[k].key = 0; /* empty: never matches (N & 1 is checked first) */
        bo_eisel_lemire_consts16(c->pow5_hi, c->pow2_base);
        scratch->ready = 1;
    }
    _Alignas(64) uint64_t w[2 * WKT_BATCH], meta[2 * WKT_BATCH];
    for (size_t i0 = begin; i0 < end; i0 += WKT_BATCH) {
        const size_t nb = end - i0 < WKT_BATCH ? end - i0 : WKT_BATCH;
        /* The fast pass calls nothing: with a call in the loop every 512-bit constant was
         * re-made on every row (all vector registers are caller-saved) and some pointers
         * spilled. Rows it leaves (null, other shapes, layouts not cached yet) are marked. */
        uint32_t slow = 0;
        for (size_t r = 0; r < nb; r++) {
            const size_t i = i0 + r;
            const uint64_t b = (uint64_t)bit_offset + i;
            const char *s = (const char *)data + offsets[i];
            const size_t len = (size_t)(offsets[i + 1] - offsets[i]);
            if ((!valid_bits || ((valid_bits[b >> 3] >> (b & 7)) & 1)) && len - 16 <= 64 - 16 &&
                wkt_row_fast(c, s, len, &w[2 * r], &meta[2 * r], 0))
                status[i] = BO_V2X_OK;
            else
                slow |= 1u << r;
        }
        for (; slow; slow &= slow - 1) {
            const size_t r = (size_t)__builtin_ctz(slow), i = i0 + r;
            const uint64_t b = (uint64_t)bit_offset + i;
            double x = NAN, y = NAN;
            uint8_t st = BO_V2X_NULL;
            if (!valid_bits || ((valid_bits[b >> 3] >> (b & 7)) & 1)) {
                const char *s = (const char *)data + offsets[i];
                const size_t len = (size_t)(offsets[i + 1] - offsets[i]);
                if (len - 16 <= 64 - 16 && wkt_row_fast(c, s, len, &w[2 * r], &meta[2 * r], 1)) {
                    status[i] = BO_V2X_OK;
                    continue;
                }
                st = bo_v2x_wkt_row(s, len, &x, &y);
            }
            memcpy(&w[2 * r], &x, sizeof x);
            memcpy(&w[2 * r + 1], &y, sizeof y);
            meta[2 * r] = meta[2 * r + 1] = META_PASS;
            status[i] = st;
        }
        /* the tail of a pass goes through the same conversions, with masked stores */
        for (size_t r = nb; r < ((nb + 3) & ~(size_t)3); r++) {
            w[2 * r] = w[2 * r + 1] = 0;
            meta[2 * r] = meta[2 * r + 1] = META_PASS;
        }
        for (size_t r = 0; r < nb; r += 4) {
            const __m512i bits = el8(c->pow5_hi, c->pow2_base, &w[2 * r], &meta[2 * r]);
            /* lon0 lat0 lon1 lat1 ... -> lon0..3 | lat0..3 */
            const __m512i d =
                _mm512_permutexvar_epi64(_mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0), bits);
            const __mmask8 rows = (__mmask8)(nb - r >= 4 ? 0xF : (1u << (nb - r)) - 1);
            _mm256_mask_storeu_epi64(lon + i0 + r, rows, _mm512_castsi512_si256(d));
            _mm256_mask_storeu_epi64(lat + i0 + r, rows, _mm512_extracti64x4_epi64(d, 1));
        }
    }
}
