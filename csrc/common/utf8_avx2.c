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

#include "utf8_lookup_avx2.h"

int bo_utf8_valid_avx2(const char *s, size_t len)
{
    bo_u8_state u;
    bo_u8_init(&u);
    for (size_t i = 0; i < len; i += 32) {
        if (i + 32 <= len) {
            bo_u8_block(&u, _mm256_loadu_si256((const __m256i *)(s + i)));
        } else { /* the tail, padded with ASCII NULs */
            char tail[32] = {0};
            memcpy(tail, s + i, len - i);
            bo_u8_block(&u, _mm256_loadu_si256((const __m256i *)tail));
        }
    }
    return bo_u8_ok(&u);
}
