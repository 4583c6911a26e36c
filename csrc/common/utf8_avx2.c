/* UTF-8 well-formedness, 32 bytes at a time (AVX2; compiled with -mavx2, called only when the
 * CPU has it: bo_utf8_check_level). The "lookup" method of J. Keiser and D. Lemire,
 * "Validating UTF-8 In Less Than One Instruction Per Byte" (Software: Practice and Experience,
 * 2021), as simdjson uses it: three 16-entry table lookups (pshufb) on the high and low nibble
 * of each byte's predecessor and the high nibble of the byte classify every ill-formed pair of
 * bytes, and the bytes 2 and 3 after a 3- and 4-byte lead must be continuations. It answers
 * only "well-formed or not"; the scalar checker (utf8.c) finds where, for the error message. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "blockops/bo_common.h"

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

static inline __m256i table16(char a0, char a1, char a2, char a3, char a4, char a5, char a6,
                              char a7, char a8, char a9, char a10, char a11, char a12, char a13,
                              char a14, char a15)
{
    return _mm256_setr_epi8(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15,
                            a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
}

/* bytes of (prev, cur) shifted by n: byte i is the byte n before cur[i] */
#define PREV(cur, prev, n) \
    _mm256_alignr_epi8((cur), _mm256_permute2x128_si256((prev), (cur), 0x21), 16 - (n))

static inline __m256i hi_nibble(__m256i v)
{
    return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
}

static inline __m256i block_errors(__m256i in, __m256i prev_in)
{
    const __m256i b1_high = table16(
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS, (char)TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE, (char)(TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4));
    const __m256i b1_low = table16(
        (char)(CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4), (char)(CARRY | OVERLONG_2),
        (char)CARRY, (char)CARRY, (char)(CARRY | TOO_LARGE),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE),
        (char)(CARRY | TOO_LARGE | TOO_LARGE_1000), (char)(CARRY | TOO_LARGE | TOO_LARGE_1000));
    const __m256i b2_high = table16(
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE),
        (char)(TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE), TOO_SHORT, TOO_SHORT,
        TOO_SHORT, TOO_SHORT);
    const __m256i prev1 = PREV(in, prev_in, 1);
    const __m256i sc = _mm256_and_si256(
        _mm256_and_si256(_mm256_shuffle_epi8(b1_high, hi_nibble(prev1)),
                         _mm256_shuffle_epi8(b1_low, _mm256_and_si256(prev1, _mm256_set1_epi8(0x0F)))),
        _mm256_shuffle_epi8(b2_high, hi_nibble(in)));
    /* the 2nd byte after a 3- or 4-byte lead, the 3rd after a 4-byte lead: continuations (the
     * TWO_CONTS bit of sc says the byte and its predecessor are continuations) */
    const __m256i prev2 = PREV(in, prev_in, 2), prev3 = PREV(in, prev_in, 3);
    const __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
    const __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
    const __m256i must23 = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
    return _mm256_xor_si256(must23, sc);
}

/* bytes at the end of a block that start a sequence the block does not finish: nonzero */
static inline __m256i incomplete(__m256i in)
{
    const __m256i max = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
    return _mm256_subs_epu8(in, max);
}

int bo_utf8_valid_avx2(const char *s, size_t len)
{
    __m256i err = _mm256_setzero_si256(), prev_in = _mm256_setzero_si256();
    __m256i prev_inc = _mm256_setzero_si256();
    size_t i = 0;
    for (;; i += 32) {
        __m256i in;
        if (i + 32 <= len) {
            in = _mm256_loadu_si256((const __m256i *)(s + i));
        } else { /* the tail, padded with ASCII NULs */
            if (i >= len)
                break;
            char tail[32] = {0};
            memcpy(tail, s + i, len - i);
            in = _mm256_loadu_si256((const __m256i *)tail);
        }
        if (_mm256_movemask_epi8(in) == 0) {
            err = _mm256_or_si256(err, prev_inc); /* an ASCII block after an unfinished lead */
            prev_inc = _mm256_setzero_si256();
        } else {
            err = _mm256_or_si256(err, block_errors(in, prev_in));
            prev_inc = incomplete(in);
        }
        prev_in = in;
        if (i + 32 >= len)
            break;
    }
    err = _mm256_or_si256(err, prev_inc);
    return _mm256_testz_si256(err, err);
}
