/* UTF-8 well-formedness, shared by the CSV string columns (csrc/csv/convert.c) and the report
 * reader's keys (csrc/report/one_report.c). */
#include <stdint.h>
#include <string.h>

#include "blockops/bo_common.h"

#define HIGH8 0x8080808080808080ULL

int64_t bo_utf8_check(const char *s, size_t len)
{
    /* Table 3-7 of the Unicode standard (well-formed byte sequences): the second byte's range
     * depends on the lead byte (E0: A0..BF excludes overlongs, ED: 80..9F excludes surrogates,
     * F0: 90..BF overlongs, F4: 80..8F the code points above U+10FFFF); C0, C1 and F5..FF
     * never start a sequence. */
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        while (i + 8 <= len) { /* ASCII runs a word at a time */
            uint64_t w;
            memcpy(&w, p + i, sizeof w);
            if (w & HIGH8)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        const unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else
            return (int64_t)i;
        if (len - i <= n || p[i + 1] < lo || p[i + 1] > hi)
            return (int64_t)i;
        for (size_t k = 2; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return (int64_t)i;
        i += n + 1;
    }
    return -1;
}

#if defined(BO_HAVE_AVX2)
int bo_utf8_valid_avx2(const char *s, size_t len); /* utf8_avx2.c */
#endif

int64_t bo_utf8_check_level(const char *s, size_t len, int simd)
{
#if defined(BO_HAVE_AVX2)
    /* the vector check says well-formed or not; only ill-formed text (rare) is walked again
     * byte by byte for the offset */
    if (simd >= BO_SIMD_AVX2 && len >= 32 && bo_utf8_valid_avx2(s, len))
        return -1;
#else
    (void)simd;
#endif
    return bo_utf8_check(s, len);
}
