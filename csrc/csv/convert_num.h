/* The loops of the int64, float64, float32 and ISO 8601 datetime columns that the fast parsers
 * take (internal).
 *
 * Compiled twice: in convert.c for the x86-64 baseline (SSE2) and in convert_avx2.c with AVX2,
 * BMI1/2 and POPCNT, where the same intrinsics become three-operand VEX instructions (no
 * register copies), the first digit-combining step one pmaddubsw and the variable shifts
 * shlx/shrx. The includer defines NUM_PASS(name) (the function's name in this build) and
 * NUM_PASS_LINKAGE; the builds give the same bits (each parser's comment says why; test_csv
 * and the Python tests compare the levels). */
#include "convert_internal.h"
#include "numparse_fast.h"

#if defined(__SSE2__)
/* A float field of the shapes the fast parsers take: a decimal (bo_float_field_fast) or an
 * integer of up to 16 digits, whose int64 -> double conversion rounds to nearest as the
 * general parser does ("-0" is -0.0). 0 when parsed, else the general path decides. The two
 * shapes are disjoint (a dot or none), so the order of the tests changes no value; *int_first
 * tries the one that took the previous field first: a float column of integers (ints with
 * missing values, inferred as float64 as pandas does) failed the decimal test on every field,
 * which costs as much as a parse. */
static inline int float_fast(const char *lo, const char *s, size_t len, double *v, int *int_first)
{
    int64_t iv;
    if (!*int_first) {
        if (!bo_float_field_fast(lo, s, len, v))
            return 0;
        if (bo_int_field_fast(lo, s, len, &iv))
            return 1;
        *int_first = 1;
    } else if (bo_int_field_fast(lo, s, len, &iv)) {
        if (bo_float_field_fast(lo, s, len, v))
            return 1;
        *int_first = 0;
        return 0;
    }
    *v = iv == 0 && s[0] == '-' ? -0.0 : (double)iv;
    return 0;
}

#if defined(BO_NUM_BATCH8)
/* Eight rows of an int64 or float64 column at once (the AVX-512 build: BW, DQ, VL, VBMI and
 * BMI2). One field at a time cost about 70 instructions: the loads of its bounds, the 16-byte
 * load, the digit and sign tests, the combining and the store, each on 16 bytes of a 64-byte
 * register. Here every step works on eight fields: the bounds by one 64-bit load a row, the 16
 * bytes ending at each field in one 128-bit lane (rows 0-3 in one register, 4-7 in another),
 * the tests as 64-bit masks and the digits combined as bo_digit_run16_x does, lane by lane
 * (int64 fields of at most 8 bytes: 8 bytes a field, all eight in one register).
 * The int shape is bo_int_field_fast's exactly ([+-] and 1..15 digits, or 16 digits, the 16
 * bytes before the end readable), so a field either gets the same value or goes, alone, to
 * the one-field loop; the float shapes are below. */
static const uint8_t bo_b8_iota[64] __attribute__((aligned(64))) = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5,
    6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
/* byte indexes into the lengths (one int32 per row): x's 128-bit lane k holds row k, y's row
 * k + 4 */
#define BO_B8_REP16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t bo_b8_len_x[64] __attribute__((aligned(64))) = {
    BO_B8_REP16(0), BO_B8_REP16(4), BO_B8_REP16(8), BO_B8_REP16(12)};
static const uint8_t bo_b8_len_y[64] __attribute__((aligned(64))) = {
    BO_B8_REP16(16), BO_B8_REP16(20), BO_B8_REP16(24), BO_B8_REP16(28)};
#undef BO_B8_REP16

/* One bit per 128-bit lane of a 64-bit byte mask: lane k's bit k is set when any of its 16
 * bits is. Adding 0x7FFF to a group's low 15 bits carries into its bit 15 when any is set,
 * never into the next group. */
static inline unsigned bo_b8_lane_any(uint64_t m)
{
    const uint64_t low = 0x7FFF7FFF7FFF7FFFULL;
    return (unsigned)_pext_u64(((m & low) + low) | m, 0x8000800080008000ULL);
}

/* The byte classes of a batch register: x = the bytes less '0'; bit masks of the bytes of
 * each row's field (t = the byte's place in its row's width-byte window plus the row's length
 * is at least width), its first byte, and the field's digits, dots and leading signs. */
typedef struct {
    __m512i x;
    __mmask64 field, first, digit, dot, minus, sign;
} bo_b8_cls;

static inline bo_b8_cls bo_b8_classes(__m512i v, const uint8_t *iota, __m512i lens, char width)
{
    bo_b8_cls k;
    k.x = _mm512_sub_epi8(v, _mm512_set1_epi8('0'));
    const __m512i t = _mm512_add_epi8(_mm512_load_si512((const void *)iota), lens);
    k.field = _mm512_cmpge_epu8_mask(t, _mm512_set1_epi8(width));
    k.first = _mm512_cmpeq_epi8_mask(t, _mm512_set1_epi8(width));
    k.digit = _mm512_cmple_epu8_mask(k.x, _mm512_set1_epi8(9)) & k.field;
    k.dot = _mm512_cmpeq_epi8_mask(k.x, _mm512_set1_epi8('.' - '0')) & k.field;
    k.minus = _mm512_cmpeq_epi8_mask(k.x, _mm512_set1_epi8('-' - '0')) & k.first;
    k.sign = k.minus | (_mm512_cmpeq_epi8_mask(k.x, _mm512_set1_epi8('+' - '0')) & k.first);
    return k;
}

/* The shape tests and the values of four fields, one per 128-bit lane of v (the 16 bytes
 * ending at each field's end), lens their lengths' bytes broadcast over each lane: the lanes
 * whose text is not the shape (bit k: lane k) in *bad, the negative ones in *neg; the values
 * in the low 64 bits of each lane. */
static inline __m512i bo_b8_ints4(__m512i v, __m512i lens, unsigned *bad, unsigned *neg)
{
    const bo_b8_cls k = bo_b8_classes(v, bo_b8_iota, lens, 16);
    const __m512i x = k.x;
    const __mmask64 field = k.field, digit = k.digit, minus = k.minus, sign = k.sign;
    /* a non-digit other than a leading sign, or a sign alone (on the last byte) */
    *bad = bo_b8_lane_any((field & ~digit & ~sign) | (sign & 0x8000800080008000ULL));
    *neg = bo_b8_lane_any(minus);
    __m512i d = _mm512_maskz_mov_epi8(field & digit, x);
    d = _mm512_maddubs_epi16(d, _mm512_set1_epi16(10 | 1 << 8));
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(100 | 1 << 16)); /* 4 digits, i32 */
    d = _mm512_packs_epi32(d, d);                                 /* <= 9999: i16 */
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(10000 | 1 << 16)); /* 8 digits: hi, lo */
    return _mm512_add_epi64(_mm512_mul_epu32(d, _mm512_set1_epi64(100000000)),
                            _mm512_srli_epi64(d, 32));
}

/* The ends (less e_adj) in *ve and the lengths of eight fields whose bounds q holds (each a
 * field's start | the next field's start << 32). */
static inline __m256i bo_b8_lens(const uint64_t q[8], uint32_t e_adj, __m256i *ve)
{
    const __m512i vq = _mm512_setr_epi64((long long)q[0], (long long)q[1], (long long)q[2],
                                         (long long)q[3], (long long)q[4], (long long)q[5],
                                         (long long)q[6], (long long)q[7]);
    *ve = _mm256_sub_epi32(_mm512_cvtepi64_epi32(_mm512_srli_epi64(vq, 32)),
                           _mm256_set1_epi32((int)e_adj));
    return _mm256_sub_epi32(*ve, _mm512_cvtepi64_epi32(vq));
}

/* The bounds of rows r .. r + 7's field (o at row r's, stride apart; e_adj as in
 * fast_num_pass): q[i] = row i's field start | the next field's start (or the row's end) << 32,
 * one 64-bit load each; *ve the field ends; returns the lengths. */
static inline __m256i bo_b8_bounds(const uint32_t *o, size_t stride, uint32_t e_adj,
                                   uint64_t q[8], __m256i *ve)
{
    const uint32_t *o4 = o + 4 * stride;
    const size_t s1 = stride, s2 = 2 * stride, s3 = 3 * stride;
    memcpy(&q[0], o, 8);
    memcpy(&q[1], o + s1, 8);
    memcpy(&q[2], o + s2, 8);
    memcpy(&q[3], o + s3, 8);
    memcpy(&q[4], o4, 8);
    memcpy(&q[5], o4 + s1, 8);
    memcpy(&q[6], o4 + s2, 8);
    memcpy(&q[7], o4 + s3, 8);
    return bo_b8_lens(q, e_adj, ve);
}

/* The texts of eight fields whose bounds bo_b8_bounds (or bo_b8_bounds_row) loaded: q as it
 * gives them, e_adj as in fast_num_pass, len and ve as it returns them, buf holds at least 16
 * bytes. *x and *y: the 16 bytes ending at each field's end, fields 0-3 in x's 128-bit lanes,
 * 4-7 in y's (buf's first 16 for a field ending before byte 16); *lx and *ly: each lane's
 * field length in all its bytes. Returns the fields 1..16 bytes long, whose text was loaded.
 * Plain loads, not gathers: on AMD Zen 4 four gathers (the bounds and the texts) cost more
 * than the one-field loop's whole work. (The ends are taken from q one by one: an array of
 * them, GCC computed in a vector stored to the stack and read back in halves, which missed
 * store forwarding.) */
static inline __mmask8 bo_b8_texts(const char *buf, const uint64_t q[8], uint32_t e_adj,
                                   __m256i len, __m256i ve, __m512i *x, __m512i *y, __m512i *lx,
                                   __m512i *ly)
{
#define BO_B8_AT(i)                                                                            \
    _mm_loadu_si128((const __m128i *)(const void *)(buf + ((uint32_t)(q[i] >> 32) - e_adj >= 16 \
                                                               ? (uint32_t)(q[i] >> 32) - e_adj - 16 \
                                                               : 0)))
    __m512i v = _mm512_castsi128_si512(BO_B8_AT(0));
    v = _mm512_inserti32x4(v, BO_B8_AT(1), 1);
    v = _mm512_inserti32x4(v, BO_B8_AT(2), 2);
    *x = _mm512_inserti32x4(v, BO_B8_AT(3), 3);
    v = _mm512_castsi128_si512(BO_B8_AT(4));
    v = _mm512_inserti32x4(v, BO_B8_AT(5), 1);
    v = _mm512_inserti32x4(v, BO_B8_AT(6), 2);
    *y = _mm512_inserti32x4(v, BO_B8_AT(7), 3);
#undef BO_B8_AT
    const __m512i l = _mm512_castsi256_si512(len);
    *lx = _mm512_permutexvar_epi8(_mm512_load_si512((const void *)bo_b8_len_x), l);
    *ly = _mm512_permutexvar_epi8(_mm512_load_si512((const void *)bo_b8_len_y), l);
    return _mm256_cmplt_epu32_mask(_mm256_sub_epi32(len, _mm256_set1_epi32(1)),
                                   _mm256_set1_epi32(16)) &
           _mm256_cmpge_epu32_mask(ve, _mm256_set1_epi32(16));
}

/* The texts of rows r .. r + 7 of a column (o points at row r's field, stride apart; e_adj as in
 * fast_num_pass), as bo_b8_texts gives them. */
static inline __mmask8 bo_b8_load(const char *buf, const uint32_t *o, size_t stride,
                                  uint32_t e_adj, __m512i *x, __m512i *y, __m512i *lx,
                                  __m512i *ly)
{
    uint64_t q[8];
    __m256i ve;
    const __m256i len = bo_b8_bounds(o, stride, e_adj, q, &ve);
    return bo_b8_texts(buf, q, e_adj, len, ve, x, y, lx, ly);
}

/* The values of the eight int64 fields bo_b8_texts loaded (ok: the ones it loaded), the
 * fields of the shape in *good. */
static inline __m512i bo_b8_int64_vals(__m512i tx, __m512i ty, __m512i lx, __m512i ly,
                                       __mmask8 ok, __mmask8 *good)
{
    unsigned bx, by, nx, ny;
    const __m512i vx = bo_b8_ints4(tx, lx, &bx, &nx);
    const __m512i vy = bo_b8_ints4(ty, ly, &by, &ny);
    *good = (__mmask8)(ok & ~(bx | by << 4));
    const __m512i v =
        _mm512_permutex2var_epi64(vx, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), vy);
    return _mm512_mask_sub_epi64(v, (__mmask8)(nx | ny << 4), _mm512_setzero_si512(), v);
}

/* ---- int64 fields of at most 8 bytes (one 64-bit lane a field) ---- */

/* byte j of each 64-bit lane: its place in the lane; the byte index of that lane's row length
 * (lengths as int32 in row order) */
static const uint8_t bo_b8_iota8[64] __attribute__((aligned(64))) = {
    0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7,
    0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7};
#define BO_B8_REP8(v) v, v, v, v, v, v, v, v
static const uint8_t bo_b8_len8[64] __attribute__((aligned(64))) = {
    BO_B8_REP8(0),  BO_B8_REP8(4),  BO_B8_REP8(8),  BO_B8_REP8(12),
    BO_B8_REP8(16), BO_B8_REP8(20), BO_B8_REP8(24), BO_B8_REP8(28)};
#undef BO_B8_REP8

/* One bit per 64-bit lane of a 64-bit byte mask, set when any of the lane's 8 bits is (as
 * bo_b8_lane_any, on groups of 8) */
static inline unsigned bo_b8_lane8_any(uint64_t m)
{
    const uint64_t low = 0x7F7F7F7F7F7F7F7FULL;
    return (unsigned)_pext_u64(((m & low) + low) | m, 0x8080808080808080ULL);
}

/* The values of eight int64 fields whose bounds bo_b8_bounds loaded (q, len and ve as it gives
 * them, e_adj as in fast_num_pass), when none is longer than 8 bytes (a table of small
 * counts, codes and flags): the 8 bytes ending at each field in one 64-bit lane, so one
 * register holds the eight rows where the 16-byte batches need two, and one pass of the tests
 * and the digit combining does them all. The shape is bo_b8_ints4's within 8 bytes ([+-] and
 * 1..7 digits, or 8 digits); the fields of it in *good, the others (and a field ending before
 * byte 8 of the buffer) for the one-field loop. */
static inline __m512i bo_b8_int64_tiny_vals(const char *buf, const uint64_t q[8], uint32_t e_adj,
                                            __m256i len, __m256i ve, __mmask8 *good)
{
#define BO_B8_AT8(i)                                                                           \
    _mm_loadl_epi64((const __m128i *)(const void *)(buf + ((uint32_t)(q[i] >> 32) - e_adj >= 8 \
                                                               ? (uint32_t)(q[i] >> 32) - e_adj - 8 \
                                                               : 0)))
    __m512i v = _mm512_castsi128_si512(_mm_unpacklo_epi64(BO_B8_AT8(0), BO_B8_AT8(1)));
    v = _mm512_inserti32x4(v, _mm_unpacklo_epi64(BO_B8_AT8(2), BO_B8_AT8(3)), 1);
    v = _mm512_inserti32x4(v, _mm_unpacklo_epi64(BO_B8_AT8(4), BO_B8_AT8(5)), 2);
    v = _mm512_inserti32x4(v, _mm_unpacklo_epi64(BO_B8_AT8(6), BO_B8_AT8(7)), 3);
#undef BO_B8_AT8
    const __m512i lens = _mm512_permutexvar_epi8(_mm512_load_si512((const void *)bo_b8_len8),
                                                 _mm512_castsi256_si512(len));
    const bo_b8_cls k = bo_b8_classes(v, bo_b8_iota8, lens, 8);
    /* a non-digit other than a leading sign, or a sign alone (on the lane's last byte) */
    const unsigned bad =
        bo_b8_lane8_any((k.field & ~k.digit & ~k.sign) | (k.sign & 0x8080808080808080ULL));
    const unsigned neg = bo_b8_lane8_any(k.minus);
    __m512i d = _mm512_maskz_mov_epi8(k.field & k.digit, k.x);
    d = _mm512_maddubs_epi16(d, _mm512_set1_epi16(10 | 1 << 8));
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(100 | 1 << 16)); /* 4 digits a 32-bit half */
    d = _mm512_add_epi64(_mm512_mul_epu32(d, _mm512_set1_epi64(10000)), _mm512_srli_epi64(d, 32));
    const __mmask8 ok = _mm256_cmplt_epu32_mask(_mm256_sub_epi32(len, _mm256_set1_epi32(1)),
                                                _mm256_set1_epi32(8)) &
                        _mm256_cmpge_epu32_mask(ve, _mm256_set1_epi32(8));
    *good = (__mmask8)(ok & ~bad);
    return _mm512_mask_sub_epi64(d, (__mmask8)neg, _mm512_setzero_si512(), d);
}

/* The values of eight int64 fields whose bounds bo_b8_bounds (or bo_b8_bounds_row) loaded (q,
 * len and ve as it gives them, e_adj as in fast_num_pass), the fields of the shape in *good:
 * one register of 8-byte fields when none is longer, else the 16-byte batches. */
static inline __m512i bo_b8_int64_q(const char *buf, const uint64_t q[8], uint32_t e_adj,
                                    __m256i len, __m256i ve, __mmask8 *good)
{
    if (_mm256_cmple_epu32_mask(len, _mm256_set1_epi32(8)) == 0xFF)
        return bo_b8_int64_tiny_vals(buf, q, e_adj, len, ve, good);
    __m512i tx, ty, lx, ly;
    const __mmask8 ok = bo_b8_texts(buf, q, e_adj, len, ve, &tx, &ty, &lx, &ly);
    return bo_b8_int64_vals(tx, ty, lx, ly, ok, good);
}

/* The bounds of fields f[0..8) of one row (o: the row's offsets; ea[i]: field f[i]'s e_adj,
 * 0 for the row's last field), for the row-by-row loop of long rows: as bo_b8_bounds gives
 * them, the ends in q already less ea (so e_adj 0 for what takes q). */
static inline __m256i bo_b8_bounds_row(const uint32_t *o, const uint32_t *f, const uint32_t *ea,
                                       uint64_t q[8], __m256i *ve)
{
    for (int i = 0; i < 8; i++) {
        memcpy(&q[i], o + f[i], 8);
        q[i] -= (uint64_t)ea[i] << 32;
    }
    return bo_b8_lens(q, 0, ve);
}

/* The texts of fields f[0..8) of one row (bo_b8_bounds_row's arguments), as bo_b8_texts gives
 * them. */
static inline __mmask8 bo_b8_load_row(const char *buf, const uint32_t *o, const uint32_t *f,
                                      const uint32_t *ea, __m512i *x, __m512i *y, __m512i *lx,
                                      __m512i *ly)
{
    uint64_t q[8];
    __m256i ve;
    const __m256i len = bo_b8_bounds_row(o, f, ea, q, &ve);
    return bo_b8_texts(buf, q, 0, len, ve, x, y, lx, ly);
}

/* Rows r .. r + 7 of the int64 column (bo_b8_load's arguments): writes the rows of the shape
 * (and clears their mask bytes) and returns the others as bits (bit i: row r + i), for the
 * one-field loop. */
static inline unsigned bo_b8_int64(const char *buf, const uint32_t *o, size_t stride,
                                   uint32_t e_adj, int64_t *out, uint8_t *mask)
{
    uint64_t q[8];
    __m256i ve;
    __mmask8 good;
    const __m256i len = bo_b8_bounds(o, stride, e_adj, q, &ve);
    const __m512i v = bo_b8_int64_q(buf, q, e_adj, len, ve, &good);
    _mm512_mask_storeu_epi64(out, good, v);
    if (mask)
        _mm_mask_storeu_epi8(mask, good, _mm_setzero_si128());
    return ~(unsigned)good & 0xFF;
}

/* 10^0 .. 10^15, exact doubles, for the float batches' divisions */
static const double bo_b8_pow10[16] __attribute__((aligned(64))) = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/* The shape tests and the values of four float fields, one per 128-bit lane of v as in
 * bo_b8_ints4: [+-] digits with at most one dot anywhere among them and at least one digit,
 * in at most 16 bytes, so at most 16 digits without a dot and 15 with one. *bad and *neg as there; the
 * digits as one integer w in the low 64 bits of each lane, and the digits after the dot in
 * *kf (both 64-bit halves of each lane).
 *
 * A field of this shape is w / 10^kf: with a dot w < 10^15, so Clinger's division (exact w,
 * exact 10^kf, one correctly rounded IEEE division) gives what bo_decimal_to_double does;
 * without, kf = 0 and the division by 1 leaves the int64 -> double conversion, rounded to
 * nearest as float_fast's. Every path of the general parser is correctly rounded too, so a
 * field the one-field loop sends to it (more than 8 integer digits) gets the same bits. */
static inline __m512i bo_b8_decs4(__m512i v, __m512i lens, unsigned *bad, unsigned *neg,
                                  __m512i *kf)
{
    const bo_b8_cls k = bo_b8_classes(v, bo_b8_iota, lens, 16);
    const __m512i x = k.x;
    const __mmask64 field = k.field, digit = k.digit, dot = k.dot, minus = k.minus, sign = k.sign;
    /* the tests that look at the bits of one lane, on the four 16-bit lane masks side by
     * side (no borrow or carry crosses into the next lane) */
    const __m128i P = _mm_cvtsi64_si128((long long)dot);
    const __m128i zero = _mm_setzero_si128();
    const __m128i nodot = _mm_cmpeq_epi16(P, zero);
    /* above: the bytes after the dot (a lane without a dot: all, its digits stay put) */
    const __m128i above =
        _mm_or_si128(_mm_andnot_si128(_mm_sub_epi16(_mm_slli_epi16(P, 1), _mm_set1_epi16(1)),
                                      _mm_set1_epi16(-1)),
                     nodot);
    /* two dots; then a byte of the field that is none of digit, dot, leading sign; or no
     * digit at all ("-", ".", "-."). A dot first or last is a number (".5", "5.", as the
     * general parser reads them) and gets the same value here. */
    *bad = _mm_cmpneq_epi16_mask(_mm_and_si128(P, _mm_sub_epi16(P, _mm_set1_epi16(1))), zero) &
           0xF;
    *bad |= bo_b8_lane_any(field & ~digit & ~dot & ~sign) | (~bo_b8_lane_any(digit) & 0xF);
    *neg = bo_b8_lane_any(minus);
    const uint64_t ab = (uint64_t)_mm_cvtsi128_si64(above);
    /* the integer part moves up one byte onto the dot, next to the fraction (a lane's top
     * digit bit lands on the next lane's byte 0, where the shift put a zero) */
    const uint64_t up = digit << 1;
    __m512i d = _mm512_mask_blend_epi8(ab, _mm512_bslli_epi128(x, 1), x);
    d = _mm512_maskz_mov_epi8((ab & digit) | (~ab & up), d);
    /* the digits after the dot, counted with a sum of bytes (both halves of each lane) */
    const uint64_t fr = (uint64_t)_mm_cvtsi128_si64(_mm_andnot_si128(nodot, above)) & field;
    const __m512i c = _mm512_sad_epu8(_mm512_maskz_mov_epi8(fr, _mm512_set1_epi8(1)),
                                      _mm512_setzero_si512());
    *kf = _mm512_add_epi64(c, _mm512_shuffle_epi32(c, _MM_PERM_BADC));
    d = _mm512_maddubs_epi16(d, _mm512_set1_epi16(10 | 1 << 8));
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(100 | 1 << 16));
    d = _mm512_packs_epi32(d, d);
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(10000 | 1 << 16));
    return _mm512_add_epi64(_mm512_mul_epu32(d, _mm512_set1_epi64(100000000)),
                            _mm512_srli_epi64(d, 32));
}

/* The values (as bits) of the eight float64 fields bo_b8_texts loaded (ok: the ones it
 * loaded), the fields of the shape in *good. */
static inline __m512i bo_b8_float64_vals(__m512i tx, __m512i ty, __m512i lx, __m512i ly,
                                         __mmask8 ok, __mmask8 *good)
{
    __m512i kx, ky;
    unsigned bx, by, nx, ny;
    const __m512i wx = bo_b8_decs4(tx, lx, &bx, &nx, &kx);
    const __m512i wy = bo_b8_decs4(ty, ly, &by, &ny, &ky);
    *good = (__mmask8)(ok & ~(bx | by << 4));
    const __m512i rows = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i w = _mm512_permutex2var_epi64(wx, rows, wy);
    const __m512i kf = _mm512_permutex2var_epi64(kx, rows, ky);
    const __m512d p = _mm512_permutex2var_pd(_mm512_load_pd(bo_b8_pow10), kf,
                                             _mm512_load_pd(bo_b8_pow10 + 8));
    __m512i r = _mm512_castpd_si512(_mm512_div_pd(_mm512_cvtepi64_pd(w), p));
    return _mm512_mask_or_epi64(r, (__mmask8)(nx | ny << 4), r,
                                _mm512_set1_epi64((long long)0x8000000000000000ULL));
}

/* Rows r .. r + 7 of the float64 column, as bo_b8_int64. */
static inline unsigned bo_b8_float64(const char *buf, const uint32_t *o, size_t stride,
                                     uint32_t e_adj, double *out, uint8_t *mask)
{
    __m512i tx, ty, lx, ly;
    __mmask8 good;
    const __mmask8 ok = bo_b8_load(buf, o, stride, e_adj, &tx, &ty, &lx, &ly);
    const __m512i v = bo_b8_float64_vals(tx, ty, lx, ly, ok, &good); /* (sets good) */
    _mm512_mask_storeu_epi64(out, good, v);
    if (mask)
        _mm_mask_storeu_epi8(mask, good, _mm_setzero_si128());
    return ~(unsigned)good & 0xFF;
}

/* ---- float64 fields of up to 18 digits (32 bytes a field, two per register) ---- */

/* byte j of each 32-byte half: the field length of that half's row (lengths as int32 in row
 * order; add 8 for the next pair of rows) */
#define BO_B8_REP32(v) BO_B8_REP16(v), BO_B8_REP16(v)
#define BO_B8_REP16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const uint8_t bo_b8_len2[64] __attribute__((aligned(64))) = {BO_B8_REP32(0),
                                                                    BO_B8_REP32(4)};
#undef BO_B8_REP16
#undef BO_B8_REP32
/* byte j of each 32-byte half, and byte j - 1 (the first byte's index is zeroed by a mask) */
static const uint8_t bo_b8_iota32[64] __attribute__((aligned(64))) = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
static const uint8_t bo_b8_up32[64] __attribute__((aligned(64))) = {
    0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42,
    43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62};
/* 10^0 .. 10^23 (exact up to 10^22; the batches use up to 10^18) */
static const double bo_b8_pow10_24[24] __attribute__((aligned(64))) = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23};
/* 10^-0 .. 10^-23 rounded to nearest (what the literals give): the correction's factor */
static const double bo_b8_pow10_neg24[24] __attribute__((aligned(64))) = {
    1e-0,  1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,  1e-8,  1e-9,  1e-10, 1e-11,
    1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22, 1e-23};

/* One bit per 32-bit half of a 64-bit mask, set when any bit of the half is (as
 * bo_b8_lane_any) */
static inline unsigned bo_b8_half_any(uint64_t m)
{
    const uint64_t low = 0x7FFFFFFF7FFFFFFFULL;
    return (unsigned)_pext_u64(((m & low) + low) | m, 0x8000000080000000ULL);
}

/* The shape tests and the digits of two float fields, one per 32-byte half of v (the 32 bytes
 * ending at each field's end), lens their lengths in every byte of their half: the shape of
 * bo_b8_decs4 in up to 32 bytes with at most 18 digits. *bad and *neg (bits 0 and 1: the
 * rows), w (the digits as an integer, < 10^18) and *kf (the digits after the dot) in the
 * half's four 64-bit lanes. */
static inline __m512i bo_b8_decs2(__m512i v, __m512i lens, unsigned *bad, unsigned *neg,
                                  __m512i *kf)
{
    const bo_b8_cls k = bo_b8_classes(v, bo_b8_iota32, lens, 32);
    const __m512i x = k.x;
    const __mmask64 field = k.field, digit = k.digit, dot = k.dot, minus = k.minus, sign = k.sign;
    /* the tests of bo_b8_decs4 on the two 32-bit half masks side by side */
    const __m128i P = _mm_cvtsi64_si128((long long)dot), zero = _mm_setzero_si128();
    const __m128i nodot = _mm_cmpeq_epi32(P, zero);
    const __m128i above =
        _mm_or_si128(_mm_andnot_si128(_mm_sub_epi32(_mm_slli_epi32(P, 1), _mm_set1_epi32(1)),
                                      _mm_set1_epi32(-1)),
                     nodot);
    *bad = (_mm_cmpneq_epi32_mask(_mm_and_si128(P, _mm_sub_epi32(P, _mm_set1_epi32(1))), zero) &
            3) |
           bo_b8_half_any(field & ~digit & ~dot & ~sign) | (~bo_b8_half_any(digit) & 3) |
           (_mm_popcnt_u32((uint32_t)digit) > 18) | (_mm_popcnt_u32((uint32_t)(digit >> 32)) > 18)
               << 1;
    *neg = bo_b8_half_any(minus);
    const uint64_t ab = (uint64_t)_mm_cvtsi128_si64(above);
    /* the integer part one byte up, across the half's two 128-bit lanes */
    const __m512i upx = _mm512_maskz_permutexvar_epi8(
        ~0x0000000100000001ULL, _mm512_load_si512((const void *)bo_b8_up32), x);
    __m512i d = _mm512_mask_blend_epi8(ab, upx, x);
    d = _mm512_maskz_mov_epi8((ab & digit) | (~ab & (digit << 1)), d);
    const uint64_t fr = (uint64_t)_mm_cvtsi128_si64(_mm_andnot_si128(nodot, above)) & field;
    __m512i c = _mm512_sad_epu8(_mm512_maskz_mov_epi8(fr, _mm512_set1_epi8(1)),
                                _mm512_setzero_si512());
    c = _mm512_add_epi64(c, _mm512_shuffle_epi32(c, _MM_PERM_BADC));
    *kf = _mm512_add_epi64(c, _mm512_shuffle_i64x2(c, c, _MM_SHUFFLE(2, 3, 0, 1)));
    d = _mm512_maddubs_epi16(d, _mm512_set1_epi16(10 | 1 << 8));
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(100 | 1 << 16));
    d = _mm512_packs_epi32(d, d);
    d = _mm512_madd_epi16(d, _mm512_set1_epi32(10000 | 1 << 16));
    /* each 128-bit lane's 16 digits; a row is its first lane's * 10^16 + its second's */
    d = _mm512_add_epi64(_mm512_mul_epu32(d, _mm512_set1_epi64(100000000)),
                         _mm512_srli_epi64(d, 32));
    return _mm512_add_epi64(_mm512_mullo_epi64(d, _mm512_set1_epi64(10000000000000000LL)),
                            _mm512_shuffle_i64x2(d, d, _MM_SHUFFLE(3, 3, 1, 1)));
}

/* The values (as bits) of eight float64 fields of up to 18 digits whose bounds bo_b8_bounds (or
 * bo_b8_bounds_row) loaded (q8, len and ve as it gives them, e_adj as in fast_num_pass; buf
 * holds at least 32 bytes), the fields of the shape in *good. The value w / 10^kf correctly
 * rounded, w < 10^18, by a division with its remainder: hi + lo = w exactly (hi = w rounded, lo
 * = w - hi, a small integer), q = hi / 10^kf rounded, e = hi - q 10^kf exactly (one FMA: the
 * remainder of a correctly rounded quotient is a double), and w / 10^kf = q + (e + lo) / 10^kf,
 * whose second term c, taken as (e + lo) times 10^-kf rounded (three roundings, no second
 * division), is within ~2^-50 of its size. The sum s = q + c rounded is then the correctly
 * rounded value unless q + c lies within that much of halfway between s and a neighbour: the
 * exact rounding error of the sum (Fast2Sum) says how far it lies, and such a row (about one in
 * 2^30), or one whose s is a power of two (the halfway point below is then nearer; and zero),
 * goes to the one-field loop. */
static inline __m512i bo_b8_float64_long_vals(const char *buf, const uint64_t q8[8],
                                               uint32_t e_adj, __m256i len, __m256i ve,
                                               __mmask8 *good)
{
    const __mmask8 ok = _mm256_cmplt_epu32_mask(_mm256_sub_epi32(len, _mm256_set1_epi32(1)),
                                                _mm256_set1_epi32(32)) &
                        _mm256_cmpge_epu32_mask(ve, _mm256_set1_epi32(32));
#define BO_B8_AT32(i)                                                                          \
    _mm256_loadu_si256((const __m256i *)(const void *)(buf + ((uint32_t)(q8[i] >> 32) - e_adj >= 32 \
                                                                  ? (uint32_t)(q8[i] >> 32) - e_adj - 32 \
                                                                  : 0)))
#define BO_B8_PAIR(i) _mm512_inserti64x4(_mm512_castsi256_si512(BO_B8_AT32(i)), BO_B8_AT32(i + 1), 1)
    const __m512i l = _mm512_castsi256_si512(len);
    const __m512i li = _mm512_load_si512((const void *)bo_b8_len2);
    unsigned b[4], n[4];
    __m512i w[4], k[4];
    _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++)
        w[j] = bo_b8_decs2(BO_B8_PAIR(2 * j),
                           _mm512_permutexvar_epi8(_mm512_add_epi8(li, _mm512_set1_epi8((char)(8 * j))), l),
                           &b[j], &n[j], &k[j]);
#undef BO_B8_PAIR
#undef BO_B8_AT32
    /* rows 0-7 from the pairs' 64-bit lanes 0 and 4 */
    const __m512i i_lo = _mm512_setr_epi64(0, 4, 8, 12, 0, 0, 0, 0);
    const __m512i i_hi = _mm512_setr_epi64(0, 0, 0, 0, 0, 4, 8, 12);
    const __m512i wv = _mm512_mask_blend_epi64(0xF0, _mm512_permutex2var_epi64(w[0], i_lo, w[1]),
                                               _mm512_permutex2var_epi64(w[2], i_hi, w[3]));
    const __m512i kv = _mm512_mask_blend_epi64(0xF0, _mm512_permutex2var_epi64(k[0], i_lo, k[1]),
                                               _mm512_permutex2var_epi64(k[2], i_hi, k[3]));
    const unsigned bad = b[0] | b[1] << 2 | b[2] << 4 | b[3] << 6;
    const unsigned neg = n[0] | n[1] << 2 | n[2] << 4 | n[3] << 6;
    const __mmask8 k16 = _mm512_cmpge_epu64_mask(kv, _mm512_set1_epi64(16));
    const __m512d p = _mm512_mask_blend_pd(
        k16, _mm512_permutex2var_pd(_mm512_load_pd(bo_b8_pow10_24), kv,
                                    _mm512_load_pd(bo_b8_pow10_24 + 8)),
        _mm512_permutexvar_pd(kv, _mm512_load_pd(bo_b8_pow10_24 + 16)));
    const __m512d rp = _mm512_mask_blend_pd(
        k16, _mm512_permutex2var_pd(_mm512_load_pd(bo_b8_pow10_neg24), kv,
                                    _mm512_load_pd(bo_b8_pow10_neg24 + 8)),
        _mm512_permutexvar_pd(kv, _mm512_load_pd(bo_b8_pow10_neg24 + 16)));
    const __m512d hi = _mm512_cvtepu64_pd(wv);
    const __m512d lo = _mm512_cvtepi64_pd(_mm512_sub_epi64(wv, _mm512_cvtpd_epu64(hi)));
    const __m512d q = _mm512_div_pd(hi, p);
    const __m512d e = _mm512_fnmadd_pd(q, p, hi);
    /* the correction by the rounded reciprocal, not a second division: |c| < 2 ulp(q), so
     * its few ulps of error are ~2^-49 of half an ulp of the sum, far inside the 2^-30
     * margin of the test below */
    const __m512d cc = _mm512_mul_pd(_mm512_add_pd(e, lo), rp);
    const __m512d sum = _mm512_add_pd(q, cc);
    const __m512d err = _mm512_sub_pd(cc, _mm512_sub_pd(sum, q));
    /* half an ulp of the sum: its exponent less 53, no mantissa */
    const __m512i sb = _mm512_castpd_si512(sum);
    const __m512i ex = _mm512_and_si512(sb, _mm512_set1_epi64(0x7FF0000000000000LL));
    const __m512d half = _mm512_castsi512_pd(_mm512_sub_epi64(ex, _mm512_set1_epi64(53LL << 52)));
    const __mmask8 near =
        _mm512_cmp_pd_mask(_mm512_abs_pd(err),
                           _mm512_mul_pd(half, _mm512_set1_pd(1.0 - 0x1p-30)), _CMP_GE_OQ) |
        _mm512_cmpeq_epi64_mask(sb, ex); /* a power of two, or zero */
    *good = (__mmask8)(ok & ~bad & ~near);
    return _mm512_mask_or_epi64(sb, (__mmask8)neg, sb,
                                _mm512_set1_epi64((long long)0x8000000000000000ULL));
}

/* Rows r .. r + 7 of the float64 column, fields of up to 18 digits (bo_b8_float64_long_vals),
 * as bo_b8_int64. */
static inline unsigned bo_b8_float64_long(const char *buf, const uint32_t *o, size_t stride,
                                          uint32_t e_adj, double *out, uint8_t *mask)
{
    uint64_t q8[8];
    __m256i ve;
    __mmask8 good;
    const __m256i len = bo_b8_bounds(o, stride, e_adj, q8, &ve);
    const __m512i v = bo_b8_float64_long_vals(buf, q8, e_adj, len, ve, &good); /* (sets good) */
    _mm512_mask_storeu_epi64(out, good, v);
    if (mask)
        _mm_mask_storeu_epi8(mask, good, _mm_setzero_si128());
    return ~(unsigned)good & 0xFF;
}
#endif

#if defined(BO_NUM_BATCH8)
/* The batches a column (or, row by row, a group of eight columns) takes next, from what the
 * last one left to the one-field loop (left: 0 after a batch with a flagged row, which says
 * nothing about the column). A column whose fields are mostly of other shapes (missing,
 * exponents, quoted, 19 digits and more) goes to the one-field loop for the rest of the pass
 * after a batch that took 2 fields or fewer: the batch's work comes on top of the one-field
 * loop's for every field it leaves. A float column some of whose fields are too long for the
 * 16-byte batches (up to 17 significant digits, as repr() writes doubles) takes the 32-byte
 * ones (long_ok: the buffer holds 32 bytes). */
enum { B8_SHORT = 0, B8_LONG = 1, B8_OFF = 2 };
static inline int bo_b8_next_mode(int mode, int left, bo_csv_type type, int long_ok)
{
    const int fl = type == BO_CSV_FLOAT64 && long_ok;
    if (left >= 6 && (!fl || mode == B8_LONG))
        return B8_OFF;
    return mode == B8_SHORT && fl && left >= 2 ? B8_LONG : mode;
}
#endif

/* One row of fast_num_pass (below): the fast parser of the type, else the general path. */
static inline __attribute__((always_inline)) int
fast_num_row(const char *buf, const uint32_t *o, uint32_t e_adj, void *out, uint8_t *mask,
             int64_t r, int rs, const bo_csv_type type, const struct bo_csv_slow *x,
             int *int_first)
{
    if (__builtin_expect(rs == ROW_CONVERT, 1)) {
        const uint32_t a = o[0];
        const char *const s = buf + a;
        const size_t len = o[1] - e_adj - a;
        int ok;
        if (type == BO_CSV_DATETIME_ISO) {
            int64_t v;
            if ((ok = !bo_iso_fast(s, len, &v)))
                ((int64_t *)out)[r] = v;
        } else if (type == BO_CSV_INT64) {
            int64_t v;
            if ((ok = !bo_int_field_fast(buf, s, len, &v)))
                ((int64_t *)out)[r] = v;
        } else {
            double v;
            if ((ok = !float_fast(buf, s, len, &v, int_first))) {
                if (type == BO_CSV_FLOAT32)
                    ((float *)out)[r] = (float)v;
                else
                    ((double *)out)[r] = v;
            }
        }
        if (ok) {
            if (mask)
                mask[r] = 0;
            return 0;
        }
    }
    if (rs != ROW_SKIP && bo_csv_convert_slow(x, r, rs == ROW_PADDED) < 0)
        return -1;
    return 0;
}

/* Rows [p0, p1) of the int64, float64, float32 or ISO datetime column c (type: a constant in
 * each build of it below) whose fields the fast parsers may take without the missing-value
 * match (fast[] of convert_chunk); st: the rows' states from p0 (NULL: every row is
 * ROW_CONVERT); x: what the general path needs for the other fields. Everything the loop reads
 * more than once is in a local: through c and ix, every store into the column (a uint8_t mask
 * may alias anything) made the compiler load the field number, the type, the output pointers
 * and the stride again, row after row; and the general path's arguments, one by one, kept the
 * loop's own values on the stack. Returns -1 when out of memory, else 0. */
static inline __attribute__((always_inline)) int
fast_num_pass(const char *buf, const bo_csv_index *ix, const bo_csv_col *c, const uint8_t *st,
              int64_t p0, int64_t p1, const bo_csv_type type, const struct bo_csv_slow *x)
{
    const size_t stride = (size_t)ix->n_fields + 1;
    /* field f ends one byte before field f + 1 starts, the last field where the row ends
     * (offs[n_fields], the next slot too) */
    const uint32_t e_adj = c->field + 1 < ix->n_fields;
    const uint32_t *o = ix->offs + (size_t)p0 * stride + c->field;
    void *const out = c->out;
    uint8_t *const mask = c->mask;
    int int_first = 0;
    int64_t r = p0;
#if defined(BO_NUM_BATCH8)
    if ((type == BO_CSV_INT64 || type == BO_CSV_FLOAT64) && ix->consumed >= 16 &&
        p1 - p0 >= 16) {
        const int long_ok = ix->consumed >= 32;
        int mode = B8_SHORT;
        for (; r + 8 <= p1; r += 8, o += 8 * stride) {
            uint64_t st8 = 0; /* ROW_CONVERT is 0 */
            if (st)
                memcpy(&st8, st + (r - p0), 8);
            unsigned rest = st8                    ? 0xFF
                            : type == BO_CSV_INT64 ? bo_b8_int64(buf, o, stride, e_adj,
                                                                 (int64_t *)out + r,
                                                                 mask ? mask + r : NULL)
                            : mode == B8_LONG
                                ? bo_b8_float64_long(buf, o, stride, e_adj, (double *)out + r,
                                                     mask ? mask + r : NULL)
                                  : bo_b8_float64(buf, o, stride, e_adj, (double *)out + r,
                                                  mask ? mask + r : NULL);
            mode = bo_b8_next_mode(mode, st8 ? 0 : __builtin_popcount(rest), type, long_ok);
            for (; rest; rest &= rest - 1) {
                const int i = __builtin_ctz(rest);
                if (fast_num_row(buf, o + (size_t)i * stride, e_adj, out, mask, r + i,
                                 st ? st[r + i - p0] : ROW_CONVERT, type, x, &int_first) < 0)
                    return -1;
            }
            if (mode == B8_OFF) {
                r += 8;
                o += 8 * stride;
                break;
            }
        }
    }
    /* the rows left: the AVX2 build's loop (this build's copy of it, with AVX-512 code
     * generation, measured 5-7 % slower on the one-field path) */
    if (r < p1)
        return (type == BO_CSV_INT64 ? pass_int64_avx2 : pass_float64_avx2)(
            buf, ix, c, st ? st + (r - p0) : NULL, r, p1, x);
#else
    for (; r < p1; r++, o += stride) {
        /* (st is NULL, known before the loop, in most chunks: the compiler makes two loops) */
        if (fast_num_row(buf, o, e_adj, out, mask, r, st ? st[r - p0] : ROW_CONVERT, type, x,
                         &int_first) < 0)
            return -1;
    }
#endif
    return 0;
}

/* One function per type, the type a constant, out of line: inlined into convert_chunk (many
 * values live across its loops) the loop kept its locals on the stack. */
#define FAST_NUM_PASS(name, type)                                                              \
    NUM_PASS_LINKAGE __attribute__((noinline)) int NUM_PASS(name)(                            \
        const char *buf, const bo_csv_index *ix, const bo_csv_col *c, const uint8_t *st,       \
        int64_t p0, int64_t p1, const struct bo_csv_slow *x)                                   \
    {                                                                                         \
        return fast_num_pass(buf, ix, c, st, p0, p1, type, x);                                 \
    }
FAST_NUM_PASS(pass_int64, BO_CSV_INT64)
FAST_NUM_PASS(pass_float64, BO_CSV_FLOAT64)
#if !defined(BO_NUM_BATCH8) /* (the AVX-512 build has the int64 and float64 passes only) */
FAST_NUM_PASS(pass_float32, BO_CSV_FLOAT32)
FAST_NUM_PASS(pass_datetime_iso, BO_CSV_DATETIME_ISO)
#endif
#undef FAST_NUM_PASS

#if defined(BO_NUM_BATCH8)
/* Rows [p0, p1) of n int64 or float64 columns (type) whose fields are f[j], in the order of
 * the row, each fast[] in convert_chunk (ea[j]: 0 for the row's last field, else 1; outs[j],
 * masks[j]: the column's values and mask, xs[j] its general path), row by row, eight fields of
 * a row at once; mode: n / 8 bytes of scratch. For long rows: a pass of a few rows
 * (PASS_BYTES) leaves the column batches, eight rows of one column, too few rows, and their
 * rows are eight lines of text and eight of index apart; a row's fields are next to each
 * other in both. Every value is written as the column loop writes it (a batch's shape, else
 * fast_num_row), and each group of eight columns adapts as a column does there
 * (bo_b8_next_mode). Returns -1 when out of memory, else 0. */
static inline __attribute__((always_inline)) int
rows_pass(const char *buf, const bo_csv_index *ix, int n, const uint32_t *f, const uint32_t *ea,
          void *const *outs, uint8_t *const *masks, const struct bo_csv_slow *const *xs,
          uint8_t *mode, const uint8_t *st, int64_t p0, int64_t p1, const bo_csv_type type)
{
    const size_t stride = (size_t)ix->n_fields + 1;
    const int long_ok = ix->consumed >= 32;
    int int_first = 0;
    memset(mode, B8_SHORT, (size_t)(n / 8));
    for (int64_t r = p0; r < p1; r++) {
        const int rs = st ? st[r - p0] : ROW_CONVERT;
        const uint32_t *o = ix->offs + (size_t)r * stride;
        int j = 0;
        if (rs == ROW_CONVERT && ix->consumed >= 16)
            for (; j + 8 <= n; j += 8) {
                const int g = j / 8;
                __mmask8 good = 0;
                __m512i v = _mm512_setzero_si512();
                if (type == BO_CSV_INT64 && mode[g] == B8_SHORT) {
                    uint64_t q[8];
                    __m256i ve;
                    const __m256i len = bo_b8_bounds_row(o, f + j, ea + j, q, &ve);
                    v = bo_b8_int64_q(buf, q, 0, len, ve, &good);
                } else if (mode[g] == B8_SHORT) {
                    __m512i tx, ty, lx, ly;
                    const __mmask8 ok =
                        bo_b8_load_row(buf, o, f + j, ea + j, &tx, &ty, &lx, &ly);
                    v = bo_b8_float64_vals(tx, ty, lx, ly, ok, &good);
                } else if (type == BO_CSV_FLOAT64 && mode[g] == B8_LONG) {
                    uint64_t q[8];
                    __m256i ve;
                    const __m256i len = bo_b8_bounds_row(o, f + j, ea + j, q, &ve);
                    v = bo_b8_float64_long_vals(buf, q, 0, len, ve, &good);
                }
                if (good) {
                    uint64_t w[8];
                    _mm512_storeu_si512((void *)w, v);
                    for (int i = 0; i < 8; i++) {
                        ((uint64_t *)outs[j + i])[r] = w[i]; /* (the others: below) */
                        if (masks[j + i])
                            masks[j + i][r] = 0;
                    }
                }
                const unsigned rest = ~(unsigned)good & 0xFF;
                for (unsigned k = rest; k; k &= k - 1) {
                    const int i = j + __builtin_ctz(k);
                    if (fast_num_row(buf, o + f[i], ea[i], outs[i], masks[i], r, ROW_CONVERT,
                                     type, xs[i], &int_first) < 0)
                        return -1;
                }
                if (mode[g] != B8_OFF)
                    mode[g] = (uint8_t)bo_b8_next_mode(mode[g], __builtin_popcount(rest), type,
                                                       long_ok);
            }
        for (; j < n; j++)
            if (fast_num_row(buf, o + f[j], ea[j], outs[j], masks[j], r, rs, type, xs[j],
                             &int_first) < 0)
                return -1;
    }
    return 0;
}

/* Rows [p0, p1) of n int64 or float64 columns (type; f, ea, outs, masks, xs as for
 * rows_pass; mode: n bytes of scratch) of a chunk whose columns are all numbers of these two
 * types, in short rows: eight rows of each column in turn, then the next eight. The column
 * loop walked one column over the whole pass and the next over it again, so that the pass's
 * text and index were prefetched up front and read once per column; here each eight rows'
 * lines are read while they are in L1, in the order of the text. Every value is written as
 * the column loop writes it (a batch of its mode, else fast_num_row), and each column adapts
 * as there (bo_b8_next_mode; a column off the batches takes the one-field path for the rest
 * of the pass). Returns -1 when out of memory, else 0. */
static inline __attribute__((always_inline)) int
cols_pass(const char *buf, const bo_csv_index *ix, int n, const uint32_t *f, const uint32_t *ea,
          void *const *outs, uint8_t *const *masks, const struct bo_csv_slow *const *xs,
          uint8_t *mode, const uint8_t *st, int64_t p0, int64_t p1, const bo_csv_type type)
{
    const size_t stride = (size_t)ix->n_fields + 1;
    const int long_ok = ix->consumed >= 32;
    int int_first = 0;
    memset(mode, B8_SHORT, (size_t)n);
    int64_t r = p0;
    if (ix->consumed >= 16)
        for (; r + 8 <= p1; r += 8) {
            uint64_t st8 = 0;
            if (st)
                memcpy(&st8, st + (r - p0), 8);
            const uint32_t *orow = ix->offs + (size_t)r * stride;
            for (int j = 0; j < n; j++) {
                const uint32_t *o = orow + f[j];
                unsigned rest;
                const int m = mode[j];
                if (st8 || m == B8_OFF)
                    rest = 0xFF;
                else if (type == BO_CSV_INT64)
                    rest = bo_b8_int64(buf, o, stride, ea[j], (int64_t *)outs[j] + r,
                                       masks[j] ? masks[j] + r : NULL);
                else if (m == B8_LONG)
                    rest = bo_b8_float64_long(buf, o, stride, ea[j], (double *)outs[j] + r,
                                              masks[j] ? masks[j] + r : NULL);
                else
                    rest = bo_b8_float64(buf, o, stride, ea[j], (double *)outs[j] + r,
                                         masks[j] ? masks[j] + r : NULL);
                if (!st8 && m != B8_OFF)
                    mode[j] = (uint8_t)bo_b8_next_mode(m, __builtin_popcount(rest), type, long_ok);
                for (; rest; rest &= rest - 1) {
                    const int i = __builtin_ctz(rest);
                    if (fast_num_row(buf, o + (size_t)i * stride, ea[j], outs[j], masks[j], r + i,
                                     st ? st[r + i - p0] : ROW_CONVERT, type, xs[j],
                                     &int_first) < 0)
                        return -1;
                }
            }
        }
    for (; r < p1; r++) {
        const uint32_t *orow = ix->offs + (size_t)r * stride;
        for (int j = 0; j < n; j++)
            if (fast_num_row(buf, orow + f[j], ea[j], outs[j], masks[j], r,
                             st ? st[r - p0] : ROW_CONVERT, type, xs[j], &int_first) < 0)
                return -1;
    }
    return 0;
}

/* rows_pass or cols_pass (walk) for one type, out of line (bo_csv_rows_fn) */
#define MULTI_PASS(name, walk, type)                                                           \
    NUM_PASS_LINKAGE __attribute__((noinline)) int NUM_PASS(name)(                            \
        const char *buf, const bo_csv_index *ix, int n, const uint32_t *f, const uint32_t *ea, \
        void *const *outs, uint8_t *const *masks, const struct bo_csv_slow *const *xs,         \
        uint8_t *mode, const uint8_t *st, int64_t p0, int64_t p1)                              \
    {                                                                                         \
        return walk(buf, ix, n, f, ea, outs, masks, xs, mode, st, p0, p1, type);                \
    }
MULTI_PASS(rows_int64, rows_pass, BO_CSV_INT64)
MULTI_PASS(rows_float64, rows_pass, BO_CSV_FLOAT64)
MULTI_PASS(cols_int64, cols_pass, BO_CSV_INT64)
MULTI_PASS(cols_float64, cols_pass, BO_CSV_FLOAT64)
#undef MULTI_PASS
#endif
#endif
