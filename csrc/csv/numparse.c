/* Number parsing for the CSV converters: correctly rounded decimal -> double (the same double
 * as Python's float()), integers with overflow checks, hexadecimal IDs.
 *
 * Doubles: Eisel-Lemire (D. Lemire, "Number Parsing at a Gigabyte per Second", SPE 2021, with
 * the no-fallback proof of Mushtak & Lemire 2022 for <= 19 significant digits). Inputs with
 * more than 19 significant digits are decided from the first 19 when the truncated value and
 * its successor round to the same double; otherwise (rare) strtod_l in the "C" locale, which
 * glibc rounds correctly. */
#define _GNU_SOURCE
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "blockops/bo_csv.h"
#include "csv_internal.h"
#include "numparse.h"
#include "pow5_table.h"

typedef struct { uint64_t hi, lo; } u128;

static inline u128 mul64(uint64_t a, uint64_t b)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    u128 r = {(uint64_t)(p >> 64), (uint64_t)p};
    return r;
}

/* Eisel-Lemire for binary64. Returns the IEEE bits without sign. */
static uint64_t el_compute(int64_t q, uint64_t w)
{
    const int mbits = 52;
    if (w == 0 || q < BO_POW5_SMALLEST)
        return 0;
    if (q > BO_POW5_LARGEST)
        return (uint64_t)0x7FF << mbits;
    int lz = __builtin_clzll(w);
    w <<= lz;
    const uint64_t *t = bo_pow5_128[q - BO_POW5_SMALLEST];
    u128 first = mul64(w, t[0]);
    const uint64_t precision_mask = UINT64_MAX >> (mbits + 3);
    if ((first.hi & precision_mask) == precision_mask) {
        u128 second = mul64(w, t[1]);
        first.lo += second.hi;
        if (second.hi > first.lo)
            first.hi++;
    }
    int upperbit = (int)(first.hi >> 63);
    int shift = upperbit + 64 - mbits - 3;
    uint64_t mantissa = first.hi >> shift;
    int32_t power2 = (int32_t)(((((152170 + 65536) * q) >> 16) + 63) + upperbit - lz + 1023);
    if (power2 <= 0) { /* subnormal (or zero) */
        if (-power2 + 1 >= 64)
            return 0;
        mantissa >>= -power2 + 1;
        mantissa += mantissa & 1;
        mantissa >>= 1;
        power2 = mantissa < ((uint64_t)1 << mbits) ? 0 : 1;
        return ((uint64_t)power2 << mbits) | (mantissa & (((uint64_t)1 << mbits) - 1));
    }
    /* exactly half-way between two doubles: round to even (only possible for small |q|) */
    if (first.lo <= 1 && q >= -4 && q <= 23 && (mantissa & 3) == 1 &&
        (mantissa << shift) == first.hi)
        mantissa &= ~(uint64_t)1;
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if (mantissa >= ((uint64_t)2 << mbits)) {
        mantissa = (uint64_t)1 << mbits;
        power2++;
    }
    mantissa &= ~((uint64_t)1 << mbits);
    if (power2 >= 0x7FF)
        return (uint64_t)0x7FF << mbits;
    return ((uint64_t)power2 << mbits) | mantissa;
}

static double bits_to_double(uint64_t bits, int neg)
{
    bits |= (uint64_t)(neg != 0) << 63;
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int slow_strtod(const char *s, size_t len, double *out)
{
    char small[128];
    char *tmp = len < sizeof small ? small : malloc(len + 1);
    if (!tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    int rc = -1;
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (c) {
        char *end;
        *out = strtod_l(tmp, &end, c);
        rc = end == tmp + len ? 0 : -1;
        freelocale(c);
    }
    if (tmp != small)
        free(tmp);
    return rc;
}

int bo_parse_double_trimmed(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    if (p == end)
        return -1;
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (p < end && !bo_is_digit(*p) && *p != '.') {
        size_t rest = (size_t)(end - p);
        if (bo_ieq(p, rest, "inf", 3) || bo_ieq(p, rest, "infinity", 8)) {
            *out = neg ? -__builtin_inf() : __builtin_inf();
            return 0;
        }
        if (bo_ieq(p, rest, "nan", 3)) {
            *out = neg ? -__builtin_nan("") : __builtin_nan("");
            return 0;
        }
        return -1;
    }
    const char *start_digits = p;
    uint64_t w = 0;
    while (p < end && bo_is_digit(*p)) {
        w = 10 * w + (uint64_t)(*p - '0');
        p++;
    }
    const char *end_int = p;
    int64_t digit_count = end_int - start_digits;
    int64_t exponent = 0;
    const char *frac = NULL, *end_frac = NULL;
    if (p < end && *p == '.') {
        p++;
        frac = p;
        while (p < end && bo_is_digit(*p)) {
            w = 10 * w + (uint64_t)(*p - '0');
            p++;
        }
        end_frac = p;
        exponent = frac - p;
        digit_count -= exponent;
    }
    if (digit_count == 0)
        return -1;
    int64_t exp_number = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || !bo_is_digit(*p))
            return -1;
        while (p < end && bo_is_digit(*p)) {
            if (exp_number < 0x10000000)
                exp_number = 10 * exp_number + (*p - '0');
            p++;
        }
        if (eneg)
            exp_number = -exp_number;
        exponent += exp_number;
    }
    if (p != end)
        return -1;
    int truncated = 0;
    if (digit_count > 19) {
        const char *z = start_digits;
        while (z < end && (*z == '0' || *z == '.')) {
            if (*z == '0')
                digit_count--;
            z++;
        }
        if (digit_count > 19) {
            truncated = 1;
            const uint64_t min19 = 1000000000000000000ULL;
            w = 0;
            const char *d = start_digits;
            while (w < min19 && d != end_int) {
                w = w * 10 + (uint64_t)(*d - '0');
                d++;
            }
            if (w >= min19) {
                exponent = (end_int - d) + exp_number;
            } else {
                d = frac;
                while (w < min19 && d != end_frac) {
                    w = w * 10 + (uint64_t)(*d - '0');
                    d++;
                }
                exponent = (frac - d) + exp_number;
            }
        }
    }
    uint64_t bits = el_compute(exponent, w);
    if (truncated && bits != el_compute(exponent, w + 1))
        return slow_strtod(s, len, out);
    *out = bits_to_double(bits, neg);
    return 0;
}

int bo_csv_parse_double(const char *s, size_t len, double *out)
{
    bo_trim(&s, &len);
    return bo_parse_double_trimmed(s, len, out);
}

int bo_parse_int64(const char *s, size_t len, int64_t *out)
{
    bo_trim(&s, &len);
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
    }
    if (p == end)
        return -1;
    uint64_t v = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < end; p++) {
        if (!bo_is_digit(*p))
            return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (limit - d) / 10)
            return -2; /* overflow */
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int bo_parse_hex64(const char *s, size_t len, uint64_t *out)
{
    bo_trim(&s, &len);
    /* a trailing ".0" (IDs that went through a float column) is accepted */
    if (len >= 2 && s[len - 2] == '.' && s[len - 1] == '0')
        len -= 2;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i], d;
        if (c - '0' < 10u)
            d = c - '0';
        else if ((c | 32u) - 'a' < 6u)
            d = (c | 32u) - 'a' + 10;
        else
            return -1;
        if (v >> 60)
            return -2; /* more than 64 bits */
        v = (v << 4) | d;
    }
    *out = v;
    return 0;
}

/* WKT "POINT (lon lat)": moved here from convert.c so that the CSV reader and the v2x string
 * converters accept exactly the same text. */
int bo_parse_wkt_point(const char *s, size_t len, double *lon, double *lat)
{
    bo_trim(&s, &len);
    const char *p = s, *end = s + len;
    if (end - p < 5 || !bo_ieq(p, 5, "point", 5))
        return -1;
    p += 5;
    while (p < end && bo_is_space(*p))
        p++;
    if (end - p == 5 && bo_ieq(p, 5, "empty", 5)) {
        *lon = *lat = __builtin_nan("");
        return 1;
    }
    if (p == end || *p != '(')
        return -1;
    p++;
    while (p < end && bo_is_space(*p))
        p++;
    const char *a = p;
    while (p < end && !bo_is_space(*p) && *p != ')')
        p++;
    if (p == a || bo_parse_double_trimmed(a, (size_t)(p - a), lon))
        return -1;
    if (p == end || !bo_is_space(*p))
        return -1;
    while (p < end && bo_is_space(*p))
        p++;
    const char *b = p;
    while (p < end && !bo_is_space(*p) && *p != ')')
        p++;
    if (p == b || bo_parse_double_trimmed(b, (size_t)(p - b), lat))
        return -1;
    while (p < end && bo_is_space(*p))
        p++;
    if (p == end || *p != ')')
        return -1;
    p++;
    return p == end ? 0 : -1;
}
