/* The block step of the "lookup" UTF-8 validation (J. Keiser and D. Lemire, "Validating UTF-8 In
 * Less Than One Instruction Per Byte", Software: Practice and Experience, 2021), AVX2, for the
 * files compiled with -mavx2: utf8_avx2.c (a whole buffer) and the CSV string pass
 * (csrc/csv/convert_str.h, a value while it is copied). Internal. */
#ifndef BO_UTF8_LOOKUP_AVX2_H
#define BO_UTF8_LOOKUP_AVX2_H
#include <immintrin.h>

/* error classes of a pair of bytes (byte 1 = the predecessor, byte 2 = the byte) */
#define TOO_SHORT (1 << 0)      /* 11______ 0_______ or 11______ 11______ */
#define TOO_LONG (1 << 1)       /* 0_______ 10______ */
#define OVERLONG_3 (1 << 2)     /* 11100000 100_____ */
#define TOO_LARGE (1 << 3)      /* 11110100 1001____, 11110100 101_____, and leads above F4 */
#define SURROGATE (1 << 4)      /* 11101101 101_____ */
#define OVERLONG_2 (1 << 5)     /* 1100000_ 10______ */
#define TOO_LARGE_1000 (1 << 6) /* leads above F4 with 1000____ */
#define OVERLONG_4 (1 << 6)     /* 11110000 1000____ */
#define TWO_CONTS (1 << 7)      /* 10______ 10______ */
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

static inline __m256i bo_u8_table16(char a0, char a1, char a2, char a3, char a4, char a5,
                                    char a6, char a7, char a8, char a9, char a10, char a11,
                                    char a12, char a13, char a14, char a15)
{
    return _mm256_setr_epi8(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                            a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
}

/* bytes of (prev, cur) shifted by n: byte i is the byte n before cur[i] */
#define BO_U8_PREV(cur, prev, n) \
    _mm256_alignr_epi8((cur), _mm256_permute2x128_si256((prev), (cur), 0x21), 16 - (n))

static inline __m256i bo_u8_hi_nibble(__m256i v)
{
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}

static inline __m256i bo_u8_block_errors(__m256i in, __m256i prev_in)
{
    const __m256i b1_high = bo_u8_table16(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS, TOO_SHORT | OVERLONG_2,
        TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE,
        (char)(TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4));
    const __m256i b1_low = bo_u8_table16(
        (char)(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4), (char)(CARRY | OVERLONG_2),
        (char)CARRY, (char)CARRY, (char)(CARRY | TOO_LARGE),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000));
    const __m256i b2_high = bo_u8_table16(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE), TOO_SHORT, TOO_SHORT,
        TOO_SHORT, TOO_SHORT);
    const __m256i prev1 = BO_U8_PREV(in, prev_in, 1);
    const __m256i sc = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(b1_high, bo_u8_hi_nibble(prev1)),
                         _mm256_shuffle_epi8(b1_low,
                                             _mm256_and_si256(prev1, _mm256_set1_epi8(0x0F)))),
        _mm256_shuffle_epi8(b2_high, bo_u8_hi_nibble(in)));
    /* the 2nd byte after a 3- or 4-byte lead, the 3rd after a 4-byte lead: continuations (the
     * TWO_CONTS bit of sc says the byte and its predecessor are continuations) */
    const __m256i prev2 = BO_U8_PREV(in, prev_in, 2), prev3 = BO_U8_PREV(in, prev_in, 3);
    const __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
    const __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
    const __m256i must23 =
        _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must23, sc);
}

/* bytes at the end of a block that start a sequence the block does not finish: nonzero */
static inline __m256i bo_u8_incomplete(__m256i in)
{
    const __m256i max = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    return _mm256_subs_epu8(in, max);
}

/* (the names are this header's own) */
#undef TOO_SHORT
#undef TOO_LONG
#undef OVERLONG_3
#undef TOO_LARGE
#undef SURROGATE
#undef OVERLONG_2
#undef TOO_LARGE_1000
#undef OVERLONG_4
#undef TWO_CONTS
#undef CARRY
#undef BO_U8_PREV

/* One value's check, block by block (the state of bo_utf8_valid_avx2's loop): the blocks are
 * consecutive 32-byte pieces of the value, the last one padded with ASCII NULs. */
typedef struct {
    __m256i err, prev, inc;
} bo_u8_state;

static inline void bo_u8_init(bo_u8_state *u)
{
    u->err = u->prev = u->inc = _mm256_setzero_si256();
}

static inline void bo_u8_block(bo_u8_state *u, __m256i in)
{
    if (_mm256_movemask_epi8(in) == 0) {
        u->err = _mm256_or_si256(u->err, u->inc); /* an ASCII block after an unfinished lead */
        u->inc = _mm256_setzero_si256();
    } else {
        u->err = _mm256_or_si256(u->err, bo_u8_block_errors(in, u->prev));
        u->inc = bo_u8_incomplete(in);
    }
    u->prev = in;
}

/* 1 when every block given was well-formed and the last one finished its last character */
static inline int bo_u8_ok(const bo_u8_state *u)
{
    const __m256i e = _mm256_or_si256(u->err, u->inc);
    return _mm256_testz_si256(e, e);
}
#endif
