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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blockops/bo_csv.h"
#include "csv_internal.h"
#include "numparse.h"
#include "numparse_fast.h"
#include "pow5_table.h"

typedef struct { uint64_t hi, lo; } u128;

static inline u128 mul64(uint64_t a, uint64_t b)
{
    unsigned __int128 p = (unsigned __int128)a * b;
    u128 r = {(uint64_t)(p >> 64), (uint64_t)p};
    return r;
}

/* Eisel-Lemire for binary64. Returns the IEEE bits without sign. */
static inline uint64_t el_compute(int64_t q, uint64_t w)
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

uint64_t bo_eisel_lemire(int64_t q, uint64_t w)
{
    return el_compute(q, w);
}

/* el_compute for 1 <= w < 10^19 and -19 <= q <= 0 (the decimals of the fast paths): the value
 * is in [1e-19, 1e19), so the zero, subnormal and infinity cases cannot occur and are left
 * out; the rest is the same computation (the tests compare against el_compute). */
uint64_t bo_eisel_lemire_small(int q, uint64_t w)
{
    const int mbits = 52;
    const int lz = __builtin_clzll(w);
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
    const int upperbit = (int)(first.hi >> 63);
    const int shift = upperbit + 64 - mbits - 3;
    uint64_t mantissa = first.hi >> shift;
    int32_t power2 = (((152170 + 65536) * q) >> 16) + 63 + upperbit - lz + 1023;
    if (first.lo <= 1 && q >= -4 && (mantissa & 3) == 1 && (mantissa << shift) == first.hi)
        mantissa &= ~(uint64_t)1; /* exactly half-way: round to even */
    mantissa += mantissa & 1;
    mantissa >>= 1;
    if (mantissa >= ((uint64_t)2 << mbits)) {
        mantissa = (uint64_t)1 << mbits;
        power2++;
    }
    mantissa &= ~((uint64_t)1 << mbits);
    return ((uint64_t)power2 << mbits) | mantissa;
}

void bo_eisel_lemire_consts16(uint64_t pow5_hi[16], int64_t pow2_base[16])
{
    for (int k = 0; k < 16; k++) {
        pow5_hi[k] = bo_pow5_128[-k - BO_POW5_SMALLEST][0];
        pow2_base[k] = (((152170 + 65536) * -k) >> 16) + 63 + 1023; /* as in el_compute */
    }
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

/* The general parser: every syntax the CSV reader accepts (exponents, inf/nan, any number of
 * digits). bo_parse_double_trimmed tries parse_decimal_fast first and falls back to this. */
int bo_parse_double_ref(const char *s, size_t len, double *out)
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
    *out = bo_bits_to_double(bits, neg);
    return 0;
}

static const uint64_t pow10_u64[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

/* Appends the run of digits at p to *w (mod 2^64: callers give up past 19 digits) and adds its
 * length to *nd; returns the end of the run. Only [lo, end) is read: 8-byte loads near the end
 * are taken at end - 8 (which must be >= lo) and shifted. */
static inline const char *scan_digits(const char *lo, const char *p, const char *end, uint64_t *w,
                                      int64_t *nd)
{
    uint64_t v = *w;
    int64_t n = *nd;
    uint64_t d, m;
    while (end - p >= 8) {
        d = bo_load8(p) ^ (0x30 * BO_ONES8);
        m = bo_nondigit_bits(d);
        if (m)
            goto partial;
        v = v * 100000000 + bo_eight_digits(d);
        p += 8;
        n += 8;
    }
    if (p == end)
        goto done;
    if (end - lo < 8) {
        for (; p < end && bo_is_digit(*p); p++, n++)
            v = 10 * v + (uint64_t)(*p - '0');
        goto done;
    }
    /* 1..7 bytes left: the top bytes shifted in are 0 ^ '0' = 0x30, non-digits, so m != 0 */
    d = (bo_load8(end - 8) >> (8 * (8 - (end - p)))) ^ (0x30 * BO_ONES8);
    m = bo_nondigit_bits(d);
partial: {
    const int k = __builtin_ctzll(m) >> 3; /* digits before the first non-digit, 0..7 */
    if (k) {
        v = v * pow10_u64[k] + bo_eight_digits(d << (64 - 8 * k));
        p += k;
        n += k;
    }
}
done:
    *w = v;
    *nd = n;
    return p;
}

/* The common number: [+-] digits [. digits] with 1..19 digits in all and no exponent. Returns
 * the end of the number (the caller checks what follows), or NULL for anything else: then the
 * general parser decides. For text of this form the general parser computes the same w and
 * decimal exponent (digit_count <= 19: no truncation) and calls el_compute with them, so both
 * give the same double bit for bit. Reads only [lo, end). */
static inline const char *parse_decimal_fast(const char *lo, const char *p, const char *end,
                                             double *out)
{
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    const char *e = bo_decimal_shape_fast(lo, p, end, neg, out);
    if (e)
        return e;
    uint64_t w = 0;
    int64_t nd = 0, nint;
    p = scan_digits(lo, p, end, &w, &nd);
    nint = nd;
    if (p < end && *p == '.')
        p = scan_digits(lo, p + 1, end, &w, &nd);
    if (nd == 0 || nd > 19)
        return NULL;
    *out = bo_decimal_to_double(w, (int)(nd - nint), neg);
    return p;
}

int bo_parse_double_trimmed(const char *s, size_t len, double *out)
{
    const char *end = s + len;
    if (parse_decimal_fast(s, s, end, out) == end && len)
        return 0;
    return bo_parse_double_ref(s, len, out);
}

/* A CSV field reads as pandas' C parser reads it: no NaN spelling is a number there (NaN comes
 * only from the NA strings, matched exactly before conversion, so "NAN", "+nan" and " nan" are
 * text), and infinity is [+-]inf or [+-]infinity in any case as the whole field, without the
 * blanks it allows around digits (" inf" is text, " 1.5 " a number). 1e400 is still inf. */
int bo_csv_parse_double(const char *s, size_t len, double *out)
{
    const size_t len0 = len;
    bo_trim_num(&s, &len);
    if (bo_parse_double_trimmed(s, len, out))
        return -1;
    if (__builtin_expect(!isfinite(*out), 0)) {
        const char *p = s + (len && (*s == '+' || *s == '-'));
        const int word = p < s + len && !bo_is_digit(*p) && *p != '.';
        if (word && (isnan(*out) || len != len0))
            return -1;
    }
    return 0;
}

/* Whether [p, end) is all ASCII digits: a number too large for its type is out of range
 * (-2) only if it is an integer; "11111111111111111111.5" is not one. */
static int all_digits(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!bo_is_digit(*p))
            return 0;
    return 1;
}

int bo_parse_int64(const char *s, size_t len, int64_t *out)
{
    bo_trim_num(&s, &len);
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
            return all_digits(p + 1, end) ? -2 : -1; /* overflow, if it is an integer */
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int bo_parse_uint64(const char *s, size_t len, uint64_t *out)
{
    bo_trim_num(&s, &len);
    const char *p = s, *end = s + len;
    if (p < end && *p == '+')
        p++;
    if (p == end)
        return -1;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (!bo_is_digit(*p))
            return -1;
        const uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return all_digits(p + 1, end) ? -2 : -1; /* overflow, if it is an integer */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Hexadecimal digits: 0x10 | value, 0 for any other byte, so that AND-ing the entries of a
 * field tells whether all its bytes were digits (no per-byte branch: which bytes are letters is
 * random in IDs, and that branch mispredicted about one byte in three). */
#define HX(c, v) [c] = 0x10 | (v)
static const uint8_t hexval[256] = {
    HX('0', 0),  HX('1', 1),  HX('2', 2),  HX('3', 3),  HX('4', 4),  HX('5', 5),
    HX('6', 6),  HX('7', 7),  HX('8', 8),  HX('9', 9),  HX('a', 10), HX('b', 11),
    HX('c', 12), HX('d', 13), HX('e', 14), HX('f', 15), HX('A', 10), HX('B', 11),
    HX('C', 12), HX('D', 13), HX('E', 14), HX('F', 15)};
#undef HX

int bo_parse_hex64(const char *s, size_t len, uint64_t *out)
{
    /* 8 hex digits: nothing to trim or strip ('.', 'x' and blanks are not hex digits) */
    if (len == 8 && bo_hex8(s, out) == 0)
        return 0;
    bo_trim(&s, &len);
    /* a trailing ".0" (IDs that went through a float column) is accepted */
    if (len >= 2 && s[len - 2] == '.' && s[len - 1] == '0')
        len -= 2;
    if (len >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return -1;
    if (len == 8)
        return bo_hex8(s, out);
    uint64_t v = 0;
    if (len <= 16) { /* cannot overflow */
        unsigned ok = 0x10;
        for (size_t i = 0; i < len; i++) {
            const unsigned t = hexval[(unsigned char)s[i]];
            ok &= t;
            v = (v << 4) | (t & 15);
        }
        if (!ok)
            return -1;
        *out = v;
        return 0;
    }
    /* longer (leading zeros are allowed): the first offending byte decides between malformed
     * (-1) and more than 64 bits (-2), as in the reference */
    for (size_t i = 0; i < len; i++) {
        const unsigned t = hexval[(unsigned char)s[i]];
        if (!t)
            return -1;
        if (v >> 60)
            return -2;
        v = (v << 4) | (t & 15);
    }
    *out = v;
    return 0;
}

/* One coordinate of a WKT point at p: the number and the byte after it, which must be a blank,
 * ')' or the end (the reference's token rule). NULL when it is not a number. */
static inline const char *wkt_number(const char *lo, const char *p, const char *end, double *v)
{
    const char *q = parse_decimal_fast(lo, p, end, v);
    if (q && (q == end || bo_is_space(*q) || *q == ')'))
        return q;
    /* anything else (exponents, inf/nan, > 19 digits, junk): the reference's token scan */
    q = p;
    while (q < end && !bo_is_space(*q) && *q != ')')
        q++;
    if (q == p || bo_parse_double_ref(p, (size_t)(q - p), v))
        return NULL;
    return q;
}

/* WKT "POINT (lon lat)": moved here from convert.c so that the CSV reader and the v2x string
 * converters accept exactly the same text. Same rules as bo_parse_wkt_point_ref; the common
 * shape goes through bo_wkt_point_fast, the rest in one pass (the numbers are parsed where they
 * start instead of after a scan for their end). */
int bo_parse_wkt_point(const char *s, size_t len, double *lon, double *lat)
{
    bo_trim(&s, &len);
    if (len >= 16 && len <= 63 && bo_wkt_point_fast(s, len, lon, lat) == 0)
        return 0;
    const char *p = s, *end = s + len;
    /* c | 0x20 equals a lower-case letter only for that letter and its upper case */
    if (len < 5 || ((p[0] | 0x20) != 'p') | ((p[1] | 0x20) != 'o') | ((p[2] | 0x20) != 'i') |
                       ((p[3] | 0x20) != 'n') | ((p[4] | 0x20) != 't'))
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
    if (!(p = wkt_number(s, p, end, lon)))
        return -1;
    if (p == end || !bo_is_space(*p))
        return -1;
    while (p < end && bo_is_space(*p))
        p++;
    if (!(p = wkt_number(s, p, end, lat)))
        return -1;
    while (p < end && bo_is_space(*p))
        p++;
    if (p == end || *p != ')')
        return -1;
    p++;
    return p == end ? 0 : -1;
}

/* The original byte-at-a-time parser, kept as the reference the fast path is tested against
 * (test_csv, fuzz_v2x). */
int bo_parse_hex64_ref(const char *s, size_t len, uint64_t *out)
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

/* The original WKT parser (token scan, then the general number parser), kept as the reference
 * for bo_parse_wkt_point. */
int bo_parse_wkt_point_ref(const char *s, size_t len, double *lon, double *lat)
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
    if (p == a || bo_parse_double_ref(a, (size_t)(p - a), lon))
        return -1;
    if (p == end || !bo_is_space(*p))
        return -1;
    while (p < end && bo_is_space(*p))
        p++;
    const char *b = p;
    while (p < end && !bo_is_space(*p) && *p != ')')
        p++;
    if (p == b || bo_parse_double_ref(b, (size_t)(p - b), lat))
        return -1;
    while (p < end && bo_is_space(*p))
        p++;
    if (p == end || *p != ')')
        return -1;
    p++;
    return p == end ? 0 : -1;
}
