/* Fast paths of the field parsers for the shapes of the connected-vehicle columns (internal).
 *
 * Static inline so that the v2x column loops inline them: the call, the register saves and the
 * constant loads of an out-of-line parser were ~3 ns of a 25 ns WKT row. Each one either
 * parses its shape or says "not this shape" (nonzero), and then the general parser in
 * numparse.h decides. For text of the shape the general parser gives the same status and the
 * same bits (each function says why); test_csv and fuzz_v2x compare them with the references.
 *
 * Measured through blockops._core.v2x_parse_* (one thread, 2 M rows of pandas str columns, AMD
 * EPYC VM shared with other work, best of 15), before -> after: hex ID 31 -> ~195 M rows/s,
 * WKT point 14 -> ~42, "%m/%d/%Y %I:%M:%S %p" 32 -> ~62. A WKT row is ~380 instructions
 * (callgrind), two Eisel-Lemire conversions 80 of them, at ~5 instructions a cycle. */
#ifndef BO_CSV_NUMPARSE_FAST_H
#define BO_CSV_NUMPARSE_FAST_H
#include <float.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "blockops/bo_csv.h"
#include "csv_internal.h"

/* Eisel-Lemire: the IEEE bits (no sign) of w * 10^q, for w < 2^64 (numparse.c); the _small
 * one for 1 <= w < 10^19 and -19 <= q <= 0 only. */
#if defined(__GNUC__)
__attribute__((visibility("hidden")))
#endif
uint64_t bo_eisel_lemire(int64_t q, uint64_t w);
#if defined(__GNUC__)
__attribute__((visibility("hidden")))
#endif
uint64_t bo_eisel_lemire_small(int q, uint64_t w);
/* For vector versions of bo_eisel_lemire_small with q = -k, k = 0..15: the high word of the
 * 128-bit 5^q and the exponent term (((152170 + 65536) q) >> 16) + 63 + 1023. */
void bo_eisel_lemire_consts16(uint64_t pow5_hi[16], int64_t pow2_base[16]);

/* ---- SWAR: 8 bytes in a uint64_t, byte 0 of the text in the low byte ---- */
#define BO_ONES8 0x0101010101010101ULL
#define BO_HIGH8 0x8080808080808080ULL

static inline uint64_t bo_load8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* d holds bytes XOR '0' (so the digits are the bytes 0..9): the high bit of every byte that was
 * not an ASCII digit. (d & 0x7F) + 0x76 sets bit 7 exactly when d & 0x7F >= 10 and never
 * carries into the next byte; OR-ing d itself catches bytes >= 0x80. */
static inline uint64_t bo_nondigit_bits(uint64_t d)
{
    return (((d & ~BO_HIGH8) + 0x76 * BO_ONES8) | d) & BO_HIGH8;
}

/* The value of 8 digits (byte values 0..9, most significant in the low byte); fast_float's
 * parse_eight_digits_unrolled. Zero bytes at the low end act as leading zeros. */
static inline uint64_t bo_eight_digits(uint64_t d)
{
    d = d * 10 + (d >> 8);
    return (((d & 0x000000FF000000FFULL) * 0x000F424000000064ULL) +
            (((d >> 16) & 0x000000FF000000FFULL) * 0x0000271000000001ULL)) >> 32;
}

static inline double bo_bits_to_double(uint64_t bits, int neg)
{
    bits |= (uint64_t)(neg != 0) << 63;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Clinger's fast path (W. D. Clinger, "How to read floating point numbers accurately", PLDI
 * 1990): w < 2^53 and 10^nf <= 10^22 are exact doubles, so one IEEE division gives the
 * correctly rounded w / 10^nf. Needs double arithmetic without extended precision. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define BO_HAVE_CLINGER 1
static const double bo_pow10_d20[20] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                        1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                        1e14, 1e15, 1e16, 1e17, 1e18, 1e19};
#else
#define BO_HAVE_CLINGER 0
#endif

/* w * 10^-nf (w < 10^19, 0 <= nf <= 19) correctly rounded, with the sign. w < 10^15 (at most
 * 15 significant digits): Clinger's division; else Eisel-Lemire. The cut is on the digit count,
 * not on w <= 2^53: coordinates of 16 and 17 digits straddle 2^53 at random, and that branch
 * mispredicted more (+4.5 ns a WKT row) than the division saved, while a column's digit count
 * rarely crosses 15 (repr() of random doubles: 4 % of the numbers; 7-decimal BSM coordinates
 * never). Measured through the baseline WKT loop (one thread, 1 M rows, best of 30 alternating
 * with the previous code): 7-decimal rows 22.3 -> 16.7 ns, repr() rows of 16-17 digits
 * 22.3 -> 23.1 ns (those 4 % mispredict). Eisel-Lemire stays out of line: inlined it saved 15
 * instructions a row but measured ~5% slower (more live registers in the row loop). */
static inline double bo_decimal_to_double(uint64_t w, int nf, int neg)
{
#if BO_HAVE_CLINGER
    if (w < 1000000000000000ULL) {
        /* the sign as a bit, not `neg ? -x : x`: compilers branch on it, and a column of
         * random signs mispredicted half the time (~25% of a wide numeric read) */
        const double x = (double)(int64_t)w / bo_pow10_d20[nf];
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        return bo_bits_to_double(bits, neg);
    }
#endif
    return bo_bits_to_double(w ? bo_eisel_lemire_small(-nf, w) : 0, neg);
}

/* ---- decimals ---- */

/* The digits after an optional sign of the commonest CSV float, p[0..]: I.F with 1..7 integer
 * and 1..15 fraction digits, 19 in all, no exponent. Returns the end of the number (the caller
 * checks what follows) with *out = the correctly rounded value with the sign neg, or NULL for
 * any other text (the general parser decides). Reads only [lo, end). Static inline so that the
 * CSV column loop inlines it: through bo_parse_double_trimmed it cost a call through the PLT,
 * six register saves and restores and the sign and trim tests again, per value. */
static inline const char *bo_decimal_shape_fast(const char *lo, const char *p, const char *end,
                                                int neg, double *out)
{
    /* a fixed sequence of loads, masks and multiplies with no data-dependent branch, so
     * consecutive numbers overlap in the pipeline (a digit loop mispredicts on every length
     * change) */
    if (end - p >= 10 && end - lo >= 16) {
        const uint64_t x = bo_load8(p) ^ (0x30 * BO_ONES8), mx = bo_nondigit_bits(x);
        const int ki = mx ? __builtin_ctzll(mx) >> 3 : 0;
        if (ki && ((x >> (8 * ki)) & 0xFF) == ('.' ^ 0x30)) {
            const char *f = p + ki + 1;
            /* 16 bytes from f; near the end, the 16 bytes before end shifted down (the bytes
             * shifted in are 0, non-digits once XOR-ed with '0') */
            const char *b = end - f >= 16 ? f : end - 16;
            unsigned __int128 wd = ((unsigned __int128)bo_load8(b + 8) << 64 | bo_load8(b)) >>
                                   (8 * (f - b));
            wd ^= (unsigned __int128)(0x30 * BO_ONES8) << 64 | (0x30 * BO_ONES8);
            const uint64_t m0 = bo_nondigit_bits((uint64_t)wd);
            const uint64_t m1 = bo_nondigit_bits((uint64_t)(wd >> 64));
            const int kf = m0 ? __builtin_ctzll(m0) >> 3 : m1 ? 8 + (__builtin_ctzll(m1) >> 3) : 16;
            if (kf && kf < 16 && ki + kf <= 19) {
                wd <<= 8 * (16 - kf); /* the kf digits to the top, zeros (leading) below */
                const uint64_t frac = bo_eight_digits((uint64_t)wd) * 100000000 +
                                      bo_eight_digits((uint64_t)(wd >> 64));
                static const uint64_t p10[16] = {1, 10, 100, 1000, 10000, 100000, 1000000,
                                                 10000000, 100000000, 1000000000, 10000000000ULL,
                                                 100000000000ULL, 1000000000000ULL,
                                                 10000000000000ULL, 100000000000000ULL,
                                                 1000000000000000ULL};
                const uint64_t w = bo_eight_digits(x << (64 - 8 * ki)) * p10[kf] + frac;
                *out = bo_decimal_to_double(w, kf, neg);
                return f + kf;
            }
        }
    }
    return NULL;
}

/* ---- integers ---- */

/* [+-] and 1..8 digits, exactly s[0, len) (no blanks), with the 8 bytes before s + len readable
 * (s + len - 8 >= lo): 0 and the value, or 1 for any other text (then bo_parse_int64 decides;
 * for this shape it computes the same value). One load, a SWAR digit test and conversion
 * instead of a loop with an overflow test per digit; BSM counters and headings are 1..6 digits.
 * Static inline for the CSV column loop, as bo_decimal_shape_fast. */
static inline int bo_int_shape_fast(const char *lo, const char *s, size_t len, int64_t *out)
{
    const size_t sg = len && (s[0] == '-' || s[0] == '+');
    const size_t nd = len - sg;
    if (nd - 1 >= 8 || (size_t)(s + len - lo) < 8) /* nd in 1..8 */
        return 1;
    const uint64_t x = bo_load8(s + len - 8) ^ (0x30 * BO_ONES8);
    const uint64_t keep = ~0ULL << (8 * (8 - nd)); /* the nd digits: the top bytes */
    if (bo_nondigit_bits(x) & keep)
        return 1;
    const int64_t v = (int64_t)bo_eight_digits(x & keep); /* bytes before: leading zeros */
    *out = sg && s[0] == '-' ? -v : v;
    return 0;
}

/* ---- hexadecimal IDs ---- */

/* Exactly 8 hex digits (the BSM vehicle ID): one load, SWAR validation and conversion. Returns
 * 0 and the value, or -1 when some byte is not a hex digit (nothing written). */
static inline int bo_hex8(const char *s, uint64_t *out)
{
    const uint64_t x = bo_load8(s), l = x & ~BO_HIGH8, lc = l | 0x20 * BO_ONES8;
    /* per byte, bit 7: l in ['0', '9']; lc in ['a', 'f'] (lc = l | 0x20 also takes 'A'-'F').
     * Every sum stays below 0x100 (l, lc < 0x80), so no carry crosses a byte. */
    const uint64_t digit = (l + 0x50 * BO_ONES8) & ~(l + 0x46 * BO_ONES8);
    const uint64_t alpha = (lc + 0x1F * BO_ONES8) & ~(lc + 0x19 * BO_ONES8);
    if ((((digit | alpha) & BO_HIGH8) ^ BO_HIGH8) | (x & BO_HIGH8))
        return -1;
    /* nibbles: the low 4 bits, + 9 for letters ('A' = 0x41, 'a' = 0x61) */
    uint64_t v = (x & 0x0F * BO_ONES8) + ((alpha & BO_HIGH8) >> 7) * 9;
    v = ((v << 4) | (v >> 8)) & 0x00FF00FF00FF00FFULL;  /* byte pairs, first byte high */
    v = ((v << 8) | (v >> 16)) & 0x0000FFFF0000FFFFULL; /* 4-digit groups */
    *out = ((v << 16) | (v >> 32)) & 0xFFFFFFFFULL;
    return 0;
}

/* ---- WKT points ---- */

/* Bit i set when s[i] is an ASCII digit, for i < len (16 <= len <= 64); the last load ends at
 * s + len (overlapping bytes give the same bits). SSE2 (the x86-64 baseline, as in tokenize.c)
 * takes 5 instructions per 16 bytes; the SWAR version about 16 per 8 (callgrind: 100 of the 430
 * instructions of a BSM row), and is the portable fallback. */
static inline uint64_t bo_digit_bits64(const char *s, size_t len)
{
    uint64_t m = 0;
    size_t o = 0;
#if defined(__SSE2__)
    const __m128i lo = _mm_set1_epi8('0' - 1), hi = _mm_set1_epi8('9' + 1);
#define DIGITS16(p)                                                                        \
    ((uint64_t)(unsigned)_mm_movemask_epi8(_mm_and_si128(                                  \
        _mm_cmpgt_epi8(_mm_loadu_si128((const __m128i *)(p)), lo),                         \
        _mm_cmplt_epi8(_mm_loadu_si128((const __m128i *)(p)), hi))))
    /* signed compares: bytes >= 0x80 are negative, below '0' */
    if (len > 32 && len <= 48) /* BSM rows: no loop */
        return DIGITS16(s) | DIGITS16(s + 16) << 16 | DIGITS16(s + len - 16) << (len - 16);
    for (; o + 16 <= len; o += 16)
        m |= DIGITS16(s + o) << o;
    if (o < len)
        m |= DIGITS16(s + len - 16) << (len - 16);
#undef DIGITS16
#else
    /* the multiply gathers the high bit of byte j into bit 56 + j (no two partial products
     * meet, so no carries) */
    for (; o + 8 <= len; o += 8)
        m |= ((((~bo_nondigit_bits(bo_load8(s + o) ^ (0x30 * BO_ONES8))) & BO_HIGH8) >> 7) *
              0x0102040810204080ULL >> 56) << o;
    if (o < len)
        m |= ((((~bo_nondigit_bits(bo_load8(s + len - 8) ^ (0x30 * BO_ONES8))) & BO_HIGH8) >> 7) *
              0x0102040810204080ULL >> 56) << (len - 8);
#endif
    return m;
}

/* The value of the k digits (1..16) ending at e; the 16 bytes before e (8 when k <= 8) must be
 * readable. Bytes before the run are masked off, acting as leading zeros. */
static inline uint64_t bo_digit_run(const char *e, int k)
{
    const uint64_t lo =
        (bo_load8(e - 8) ^ (0x30 * BO_ONES8)) & (~0ULL << (k >= 8 ? 0 : 8 * (8 - k)));
    uint64_t v = bo_eight_digits(lo);
    if (k > 8)
        v += bo_eight_digits((bo_load8(e - 16) ^ (0x30 * BO_ONES8)) & (~0ULL << (8 * (16 - k)))) *
             100000000;
    return v;
}

/* bo_digit_run for the integer part of a coordinate, 1..8 digits ending at e (e - 8 readable):
 * up to 4 digits (almost always) in a uint32_t with two multiplies, about half of
 * bo_eight_digits' instructions (callgrind: 27 -> 12 a number). */
static inline uint64_t bo_int_run(const char *e, int k)
{
    if (k > 4)
        return bo_digit_run(e, k);
    uint32_t x;
    memcpy(&x, e - 4, sizeof x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap32(x);
#endif
    x = (x ^ 0x30303030u) & (0xFFFFFFFFu << (32 - 8 * k)); /* the k digits at the top */
    x = x * 10 + (x >> 8); /* bytes 0 and 2: 10 * first + second of each pair */
    return (((x & 0x00FF00FFu) * (1 + (100u << 16))) >> 16) & 0xFFFF;
}

#if defined(__SSE2__)
/* Byte constants of the number parsers, loaded from memory: from _mm_set1_epi8 the AVX2 builds
 * rebuilt each one in every iteration of the column loops (mov, vmovd, vpbroadcastb: the
 * loops' general-path call clobbers every vector register, so nothing is hoisted), and they
 * see through a plain load of a constant table. */
#define BO_K16(b) {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b}
#define BO_K32(b) {b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, \
                   b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b}
static const uint8_t bo_k_zero[32] __attribute__((aligned(32))) = BO_K32('0');
static const uint8_t bo_k_nine[32] __attribute__((aligned(32))) = BO_K32(9);
static const uint8_t bo_k_dot[32] __attribute__((aligned(32))) = BO_K32('.' - '0');
/* bo_keep64 + 32 - n + k (n = 16 or 32): n bytes whose top k are 0xFF */
static const uint8_t bo_keep64[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
#undef BO_K32
#undef BO_K16
/* the empty asm hides the table's address (hiding the loaded value does not do: the compiler
 * still builds the value it knows), so the load stays a load, folded into its user */
static inline __m128i bo_loadk(const uint8_t *t)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(t));
#endif
    return _mm_load_si128((const __m128i *)(const void *)t);
}
#if defined(__AVX2__)
static inline __m256i bo_loadk256(const uint8_t *t)
{
#if defined(__GNUC__)
    __asm__("" : "+r"(t));
#endif
    return _mm256_load_si256((const __m256i *)(const void *)t);
}
#endif
#define BO_LOADK(t) bo_loadk(t)
#endif

#if defined(__SSE2__)
/* The value of the k <= 16 digits at the top of x (the 16 bytes ending at a run of digits,
 * minus '0' byte by byte): the bytes before the run are masked to 0 and the 16 digits combined
 * pairwise in SSE lanes (2, 4, then 8 digits), about half the instructions of two
 * bo_eight_digits. With SSSE3 (the AVX2 builds) the first step is one pmaddubsw. */
static inline uint64_t bo_digit_run16_x(__m128i x, int k)
{
    __m128i v = _mm_and_si128(x, _mm_loadu_si128((const __m128i *)(bo_keep64 + 16 + k)));
    /* 16-bit lanes: first digit (low byte) * 10 + second */
#if defined(__SSSE3__)
    v = _mm_maddubs_epi16(v, _mm_set1_epi16(10 | 1 << 8));
#else
    v = _mm_add_epi16(_mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi16(0xFF)), _mm_set1_epi16(10)),
                      _mm_srli_epi16(v, 8));
#endif
    v = _mm_madd_epi16(v, _mm_set_epi16(1, 100, 1, 100, 1, 100, 1, 100)); /* 4 digits, i32 */
    v = _mm_packs_epi32(v, v);                                              /* <= 9999: i16 */
    v = _mm_madd_epi16(v, _mm_set_epi16(1, 10000, 1, 10000, 1, 10000, 1, 10000)); /* 8 */
    const uint64_t hi = (uint32_t)_mm_cvtsi128_si32(v);
    const uint64_t lo = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(v, 4));
    return hi * 100000000 + lo;
}

/* The same for k <= 16 digits ending at e, with the 16 bytes before e readable. */
static inline uint64_t bo_digit_run16(const char *e, int k)
{
    return bo_digit_run16_x(
        _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(e - 16)), BO_LOADK(bo_k_zero)), k);
}

/* Bit j: byte j of x (bytes minus '0') was an ASCII digit: x <= 9 unsigned (min, compare). */
static inline unsigned bo_digit_bits16_x(__m128i x)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, BO_LOADK(bo_k_nine)), x));
}
#endif

#if defined(__SSE2__)
/* [+-] and 1..15 digits, or 16 digits, exactly s[0, len) (no blanks), with the 16 bytes before
 * s + len readable (s + len - 16 >= lo): 0 and the value, or 1 for any other text (then
 * bo_parse_int64 decides; for this shape it computes the same value, and 16 digits cannot
 * overflow). One SSE2 digit test of the 16 bytes ending at the field and bo_digit_run16: the
 * general parser's digit loop with an overflow test per digit took ~15 ns for a 9-digit id.
 * The shape is one test on the field's non-digit bits (none, or only a sign in front), so a
 * column of mixed signs costs no mispredicted branch. */
static inline int bo_int_field_fast(const char *lo, const char *s, size_t len, int64_t *out)
{
    if (len - 1 >= 16 || (size_t)(s + len - lo) < 16) /* len in 1..16 */
        return 1;
    const char *e = s + len;
    const __m128i x =
        _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(e - 16)), BO_LOADK(bo_k_zero));
    const unsigned m = bo_digit_bits16_x(x);
    const unsigned first = 0x10000u >> len;         /* the bit of s[0] */
    const unsigned other = ~m & (0x10000u - first); /* the field's non-digits */
    const unsigned c0 = (unsigned char)s[0];
    const unsigned sgb = first & (0u - (((c0 - '+') & ~2u) == 0)); /* s[0] is '+' or '-' */
    /* a non-digit other than a leading sign, or a sign alone (then sgb is bit 15, the last
     * byte's) */
    if ((other & ~sgb) | (sgb & 0x8000u))
        return 1;
    const uint64_t u = bo_digit_run16_x(x, (int)len - (other != 0));
    const uint64_t neg = 0 - (uint64_t)(c0 == '-'); /* branch-free sign, as above */
    *out = (int64_t)((u ^ neg) - neg);
    return 0;
}
#endif

static const uint64_t bo_pow10_17[17] = {1ULL,
                                         10ULL,
                                         100ULL,
                                         1000ULL,
                                         10000ULL,
                                         100000ULL,
                                         1000000ULL,
                                         10000000ULL,
                                         100000000ULL,
                                         1000000000ULL,
                                         10000000000ULL,
                                         100000000000ULL,
                                         1000000000000ULL,
                                         10000000000000ULL,
                                         100000000000000ULL,
                                         1000000000000000ULL,
                                         10000000000000000ULL};

#if defined(__SSE2__)
/* A whole CSV float field s[0, len) of the shape [+-] 1..8 digits '.' 1..18 digits (19 digits in
 * all, no blanks, no exponent), with the 32 bytes before s + len readable (s + len - 32 >= lo):
 * 0 and the correctly rounded value, or 1 for any other text (then bo_parse_double_trimmed
 * decides; for text of this shape it computes the same w and exponent, so the same bits). The
 * WKT method on one field: digit and dot bits of the 32 bytes ending at the field from SSE2
 * compares, the shape one test on them (the field's non-digits are exactly one dot and maybe a
 * sign in front: a chain of tests, one branch each, was a third of the instructions), the
 * fraction length one count of leading zeros, the digits combined in SSE2 lanes
 * (bo_digit_run16) and the integer part in a uint32_t (bo_int_run); no variable 128-bit shifts
 * and no loop. */
static inline int bo_float_field_fast(const char *lo, const char *s, size_t len, double *out)
{
    if (len - 3 > 23 || (size_t)(s + len - lo) < 32) /* len in 3..26 */
        return 1;
    const char *e = s + len;
    /* bit j of m and d: byte e - 32 + j is a digit, a dot; x (a and b: the 16 bytes at e - 32
     * and e - 16): the bytes minus '0' */
#if defined(__AVX2__)
    const __m256i x = _mm256_sub_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(e - 32)),
                                      bo_loadk256(bo_k_zero));
    const uint32_t m = (uint32_t)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_min_epu8(x, bo_loadk256(bo_k_nine)), x));
    const uint32_t field = ~0u << (32 - len);
    const uint32_t d =
        (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, bo_loadk256(bo_k_dot))) & field;
#else
    const __m128i z = BO_LOADK(bo_k_zero), dot = BO_LOADK(bo_k_dot);
    const __m128i a = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(e - 32)), z);
    const __m128i b = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(e - 16)), z);
    const uint32_t m = bo_digit_bits16_x(a) | bo_digit_bits16_x(b) << 16;
    const uint32_t field = ~0u << (32 - len);
    const uint32_t d =
        ((uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, dot)) |
         (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, dot)) << 16) & field;
#endif
    const uint32_t first = field & (0 - field); /* the bit of s[0] */
    const unsigned ch = (unsigned char)s[0];
    const uint32_t sgb = first & (0 - (uint32_t)((ch == '-') | (ch == '+')));
    /* kf digits after the dot, ki before it (d | 1: clz of 0 is undefined; then kf = 31 and
     * the shape test fails) */
    const int kf = __builtin_clz(d | 1), sg = sgb != 0;
    const int ki = (int)len - sg - kf - 1;
    /* the non-digits are the dot and the sign bit, the dot is one byte with a digit on each
     * side (kf >= 1, ki >= 1; d a power of two) */
    const int shape = ((~m & field) == (d | sgb)) & (d != 0) & ((d & (d - 1)) == 0) & (kf >= 1) &
                      (ki >= 1) & (ki <= 8) & (ki + kf <= 19);
    if (!shape)
        return 1;
#if defined(__AVX2__)
    {
        /* Every digit (up to 19) in one vector without the dot, with no branch on the count (a
         * test of ki + kf <= 16 mispredicted on a third of the values of columns whose digit
         * counts straddle it): the fraction's kf bytes from x, the integer part's from x
         * shifted up one byte across the lanes (permute, alignr), the bytes before the number
         * zeroed. Each lane then gives two 8-digit values; the low lane holds at most the
         * first 3 of 19 digits, in its second. The same w as the integer part * 10^kf + the
         * fraction below. */
        const __m256i up = _mm256_alignr_epi8(x, _mm256_permute2x128_si256(x, x, 0x08), 15);
        __m256i v = _mm256_blendv_epi8(
            up, x, _mm256_loadu_si256((const __m256i *)(const void *)(bo_keep64 + kf)));
        v = _mm256_and_si256(
            v, _mm256_loadu_si256((const __m256i *)(const void *)(bo_keep64 + ki + kf)));
        v = _mm256_maddubs_epi16(v, _mm256_set1_epi16(10 | 1 << 8));
        v = _mm256_madd_epi16(v, _mm256_set1_epi32(100 | 1 << 16)); /* 4 digits, i32 */
        v = _mm256_packs_epi32(v, v);                                 /* <= 9999: i16 */
        v = _mm256_madd_epi16(v, _mm256_set1_epi32(10000 | 1 << 16)); /* 8 digits */
        const uint64_t q = (uint64_t)_mm_cvtsi128_si64(_mm256_extracti128_si256(v, 1));
        const uint64_t w = (uint64_t)(uint32_t)_mm256_extract_epi32(v, 1) * 10000000000000000ULL +
                           (q & 0xFFFFFFFFu) * 100000000 + (q >> 32);
        *out = bo_decimal_to_double(w, kf, ch == '-');
        return 0;
    }
#else
    static const uint64_t p10[19] = {
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
        10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
        1000000000000000000ULL};
    uint64_t frac;
    if (kf <= 16)
        frac = bo_digit_run16_x(b, kf);
    else /* 17 or 18 (repr() of doubles below 0.1 or 1; then ki <= 2) */
        frac = bo_digit_run16_x(b, 16) + bo_digit_run(e - 16, kf - 16) * p10[16];
    *out = bo_decimal_to_double(bo_int_run(e - kf - 1, ki) * p10[kf] + frac, kf, ch == '-');
    return 0;
#endif
}
#endif

/* One coordinate of the fixed shape at s + a: [+-] 1..8 digits '.' 1..16 digits (19 in all),
 * D the digit bits of the row. Returns the index of the byte after it, or 0 when the text
 * differs. The row ends with ')', so every run of digits stops inside it. */
static inline __attribute__((always_inline)) size_t bo_wkt_coord_fast(const char *s, uint64_t D,
                                                                      size_t a, double *v)
{
    const int neg = s[a] == '-';
    a += (s[a] == '-') | (s[a] == '+');
    const size_t i = a + (size_t)__builtin_ctzll(~D >> a); /* ~D >> a != 0: bit len-1 is ')' */
    const int ki = (int)(i - a);
    if (ki == 0 || ki > 8 || s[i] != '.')
        return 0;
    const size_t f = i + 1, e = f + (size_t)__builtin_ctzll(~D >> f);
    const int kf = (int)(e - f);
    if (kf == 0 || kf > 16 || ki + kf > 19)
        return 0;
    /* i >= 8 and, when kf > 8, e >= 18: the loads of bo_digit_run stay inside the row */
#if defined(__SSE2__)
    const uint64_t frac = e >= 16 ? bo_digit_run16(s + e, kf) : bo_digit_run(s + e, kf);
#else
    const uint64_t frac = bo_digit_run(s + e, kf);
#endif
    *v = bo_decimal_to_double(bo_int_run(s + i, ki) * bo_pow10_17[kf] + frac, kf, neg);
    return e;
}

/* "POINT (<lon> <lat>)" exactly so (one blank, each number [+-]int.frac), 16 to 63 bytes: the
 * shape of every BSM position. Digit bits for the whole row are computed once (a few
 * instructions per 8 bytes) and each run of digits is found with one count of trailing zeros,
 * instead of a loop and a branch per byte. 0 when parsed; 1 when the text has another shape
 * (then the general code decides: for this shape it takes the same two tokens and computes
 * the same w and exponent, so the results are the same bits). */
static inline __attribute__((always_inline)) int bo_wkt_point_fast(const char *s, size_t len,
                                                                   double *lon, double *lat)
{
    /* "point (" with the letters in any case: | 0x20 maps only 'P' and 'p' to 'p', etc. */
    if ((((bo_load8(s) | 0x2020202020ULL) & 0x00FFFFFFFFFFFFFFULL) != 0x002820746E696F70ULL) ||
        s[len - 1] != ')')
        return 1;
    const uint64_t D = bo_digit_bits64(s, len);
    const size_t e1 = bo_wkt_coord_fast(s, D, 7, lon);
    if (!e1 || s[e1] != ' ')
        return 1;
    const size_t e2 = bo_wkt_coord_fast(s, D, e1 + 1, lat);
    return e2 == len - 1 ? 0 : 1;
}

/* ---- "%m/%d/%Y %I:%M:%S %p" with every field at full width ----
 * The BSM timestamp ("07/31/2019 12:41:59 PM") is always this: 22 bytes, each digit, separator
 * and the AM/PM at a fixed position. The general interpreter (bo_parse_datetime_fmt_ref)
 * spends most of its time in the per-directive switch and the digit loops; here three 8-byte
 * loads validate all 14 digits at once. For text of that shape the interpreter reads every
 * field at the same position (each numeric directive reads at most 2 digits, %Y exactly 4, and
 * a blank directive one blank when the next byte is not blank), then applies the checks
 * reproduced below in the same precedence: any malformed field (-1) before a year out of range
 * (-2). */

static inline int bo_dtfmt_is_bsm(const bo_csv_dtfmt *f)
{
    return f->n == 13 && memcmp(f->op, "mLdLY ILMLS p", 13) == 0 && f->lit[1] == '/' &&
           f->lit[3] == '/' && f->lit[7] == ':' && f->lit[9] == ':';
}

/* Days from 1970-01-01 for a year in [1677, 2262]: days_from_civil in unsigned 32-bit
 * arithmetic (no negative eras), where the divisions by constants become multiplies. */
static inline int64_t bo_days_from_civil_u32(uint32_t y, uint32_t m, uint32_t d)
{
    y -= m <= 2;
    const uint32_t era = y / 400, yoe = y - era * 400;
    const uint32_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

/* Whether day d >= 1 exists in month mo (1..12) of year y (proleptic Gregorian). */
static inline int bo_day_exists(uint32_t y, uint32_t mo, uint32_t d)
{
    static const uint8_t dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const uint32_t leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= (uint32_t)dm[mo - 1] + (mo == 2 && leap);
}

/* A valid date and time in the years [1677, 2262] as ns since the epoch: 0, or -2 when the
 * instant is outside datetime64[ns] (the ends of those years). */
static inline int bo_civil_ns(uint32_t y, uint32_t mo, uint32_t d, uint32_t h, uint32_t mi,
                              uint32_t sec, int64_t *ns)
{
    const int64_t secs =
        bo_days_from_civil_u32(y, mo, d) * 86400 + (int64_t)(h * 3600 + mi * 60 + sec);
    if (secs < -9223372036LL + 1 || secs > 9223372036LL - 1)
        return -2;
    *ns = secs * 1000000000LL;
    return 0;
}

/* The fields of a full-width BSM timestamp. */
typedef struct bo_bsm_fields {
    uint32_t month, day, year, hour, minute, second; /* hour 0..23 */
} bo_bsm_fields;

/* s: 22 bytes, already trimmed. 1 when the text is not of the fixed shape (the caller falls
 * back), -1 for a malformed field (bo_parse_datetime_fmt_ref's -1, same checks), else 0 with
 * the fields; the year is not range-checked here. */
static inline int bo_bsm_fields_parse(const char *s, bo_bsm_fields *f)
{
    const uint64_t a = bo_load8(s) ^ (0x30 * BO_ONES8);      /* bytes 0..7   MM/DD/YY */
    const uint64_t b = bo_load8(s + 8) ^ (0x30 * BO_ONES8);  /* bytes 8..15  YY hh:mm */
    const uint64_t c = bo_load8(s + 14) ^ (0x30 * BO_ONES8); /* bytes 14..21 mm:ss AM */
    /* digits: bytes 0,1,3,4,6,7 of a and b, 3,4 of c (0,1 of c are b's 6,7) */
    const uint64_t nd = (bo_nondigit_bits(a) & 0x8080008080008080ULL) |
                        (bo_nondigit_bits(b) & 0x8080008080008080ULL) |
                        (bo_nondigit_bits(c) & 0x0000008080000000ULL);
    const unsigned ap = (unsigned char)s[20] | 0x20;
    const int shape = !nd & (s[2] == '/') & (s[5] == '/') & (s[13] == ':') & (s[16] == ':') &
                      bo_is_space(s[10]) & bo_is_space(s[19]) & ((s[21] | 0x20) == 'm') &
                      ((ap == 'a') | (ap == 'p'));
    if (!shape)
        return 1;
#define DIG(w, i) ((uint32_t)((w) >> (8 * (i))) & 0xFF)
    const uint32_t mo = DIG(a, 0) * 10 + DIG(a, 1), d = DIG(a, 3) * 10 + DIG(a, 4);
    const uint32_t y = DIG(a, 6) * 1000 + DIG(a, 7) * 100 + DIG(b, 0) * 10 + DIG(b, 1);
    const uint32_t h12 = DIG(b, 3) * 10 + DIG(b, 4), mi = DIG(b, 6) * 10 + DIG(b, 7);
    const uint32_t sec = DIG(c, 3) * 10 + DIG(c, 4);
#undef DIG
    if (h12 - 1 > 11u || mo - 1 > 11u || mi > 59 || sec > 59 || d == 0)
        return -1;
    if (!bo_day_exists(y, mo, d))
        return -1;
    f->month = mo;
    f->day = d;
    f->year = y;
    f->hour = h12 % 12 + (ap == 'p' ? 12 : 0);
    f->minute = mi;
    f->second = sec;
    return 0;
}

/* s: 22 bytes, already trimmed. 0 / -1 / -2 as bo_parse_datetime_fmt_ref, or 1 when the text is
 * not of the fixed shape (the caller falls back). */
static inline int bo_datetime_bsm_fast(const char *s, int64_t *ns)
{
    bo_bsm_fields f;
    const int rc = bo_bsm_fields_parse(s, &f);
    if (rc)
        return rc;
    if (f.year < 1677 || f.year > 2262)
        return -2;
    return bo_civil_ns(f.year, f.month, f.day, f.hour, f.minute, f.second, ns);
}

/* ---- ISO 8601 timestamps ---- */

/* "YYYY-MM-DD?HH:MM:SS" (? = T, t or a space), optionally with Z or z, exactly s[0, len): the
 * commonest timestamp of CSV exports. 0 and the value when bo_parse_datetime_iso gives 0 for
 * the text, else 1 (the general parser decides, and names what is wrong). For this shape the
 * general parser reads the same fields and applies the same checks: a month, day, hour,
 * minute or second out of range, a year outside [1677, 2262] or an instant outside
 * datetime64[ns] make it fail, and then this returns 1; in those years bo_days_from_civil_u32
 * is its days_from_civil. Static inline, with three SWAR loads for the 14 digits and the
 * separators: through the general path a value was ~320 instructions. bo_parse_datetime_iso
 * tries it first. */
static inline int bo_iso_fast(const char *s, size_t len, int64_t *ns)
{
    if (len - 19 > 1 || (len == 20 && (s[19] | 0x20) != 'z'))
        return 1;
    const uint64_t a = bo_load8(s) ^ (0x30 * BO_ONES8);      /* YYYY-MM- */
    const uint64_t b = bo_load8(s + 8) ^ (0x30 * BO_ONES8);  /* DD?HH:MM */
    const uint64_t c = bo_load8(s + 11) ^ (0x30 * BO_ONES8); /* HH:MM:SS */
    /* digits: bytes 0-3, 5, 6 of a; 0, 1, 3, 4, 6, 7 of b; 6, 7 of c. '-' ^ '0' is 0x1D at
     * bytes 4 and 7 of a, ':' ^ '0' 0x0A at byte 5 of b and of c */
    const unsigned sep = (unsigned char)s[10];
    const int shape = !((bo_nondigit_bits(a) & 0x0080800080808080ULL) |
                        (bo_nondigit_bits(b) & 0x8080008080008080ULL) |
                        (bo_nondigit_bits(c) & 0x8080000000000000ULL)) &
                      ((a & 0xFF0000FF00000000ULL) == 0x1D00001D00000000ULL) &
                      ((b & 0x0000FF0000000000ULL) == 0x00000A0000000000ULL) &
                      ((c & 0x0000FF0000000000ULL) == 0x00000A0000000000ULL) &
                      (((sep | 0x20) == 't') | (sep == ' '));
    if (!shape)
        return 1;
#define DIG(w, i) ((uint32_t)((w) >> (8 * (i))) & 0xFF)
    const uint32_t y = DIG(a, 0) * 1000 + DIG(a, 1) * 100 + DIG(a, 2) * 10 + DIG(a, 3);
    const uint32_t mo = DIG(a, 5) * 10 + DIG(a, 6), d = DIG(b, 0) * 10 + DIG(b, 1);
    const uint32_t h = DIG(b, 3) * 10 + DIG(b, 4), mi = DIG(b, 6) * 10 + DIG(b, 7);
    const uint32_t sec = DIG(c, 6) * 10 + DIG(c, 7);
#undef DIG
    if (mo - 1 > 11u || h > 23 || mi > 59 || sec > 59 || d == 0 || y - 1677 > 2262u - 1677u ||
        !bo_day_exists(y, mo, d))
        return 1;
    return bo_civil_ns(y, mo, d, h, mi, sec, ns) ? 1 : 0;
}

#endif
