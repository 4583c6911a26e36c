/* v2x converters on Arrow-layout string columns (sliced offsets, validity bitmaps with a bit
 * offset, blanks, hostile text), thread-count invariance, buffer validation, and timestamp
 * parts checked by round trip through days_from_civil over the whole datetime64[ns] range. */
#include "blockops/bo_v2x.h"
#include "bo_test.h"
#include "numparse.h"
#include "numparse_fast.h"
#include "v2x_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An Arrow-like column built from C strings: a junk prefix so offsets[0] != 0, data sized
 * exactly (ASan sees any over-read), and a bitmap whose row 0 sits at bit BIT_OFF. NULL
 * strings are invalid rows. */
#define BIT_OFF 5
typedef struct {
    size_t n;
    int64_t *offsets;
    uint8_t *data;
    size_t data_len;
    uint8_t *valid;
    size_t valid_len;
} col_t;

static col_t col_make(const char *const *v, size_t n)
{
    col_t c = {n, NULL, NULL, 0, NULL, 0};
    size_t total = 3;
    for (size_t i = 0; i < n; i++)
        total += v[i] ? strlen(v[i]) : 0;
    c.offsets = malloc((n + 1) * sizeof *c.offsets);
    c.data = malloc(total ? total : 1);
    c.valid_len = (BIT_OFF + n + 7) / 8;
    c.valid = calloc(c.valid_len ? c.valid_len : 1, 1);
    if (!c.offsets || !c.data || !c.valid) {
        CHECK(0);
        exit(1);
    }
    memcpy(c.data, "###", 3);
    int64_t at = 3;
    for (size_t i = 0; i < n; i++) {
        c.offsets[i] = at;
        if (v[i]) {
            size_t l = strlen(v[i]);
            memcpy(c.data + at, v[i], l);
            at += (int64_t)l;
            size_t b = BIT_OFF + i;
            c.valid[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    }
    c.offsets[n] = at;
    c.data_len = (size_t)at;
    return c;
}

static void col_free(col_t *c)
{
    free(c->offsets);
    free(c->data);
    free(c->valid);
}

static void test_hex(void)
{
    static const char *const v[] = {
        "1f", " 0x1F ", "ABC.0", "\t7fffffffffffffff", "8000000000000000", "10000000000000000",
        "0x", "", "  ", NULL, "g", "1f.00", "-1", "0", "00000000000000000000000001",
        "ffffffffffffffff", "deadBEEF", "1f .0", "0x.0", ".0", "1 2", "+1"};
    static const int64_t want[] = {31, 31, 2748, INT64_MAX, 0, 0, 0, 0, 0, 0, 0,
                                   0, 0, 0, 1, 0, 0xdeadbeef, 0, 0, 0, 0, 0};
    static const uint8_t wst[] = {0, 0, 0, 0, 2, 2, 2, 1, 1, 1, 2, 2, 2, 0, 0, 2, 0, 2, 2, 2, 2, 2};
    const size_t n = sizeof v / sizeof *v;
    col_t c = col_make(v, n);
    int64_t out[32];
    uint8_t st[32];
    CHECK(bo_v2x_check_strings(c.offsets, n, c.data_len, c.valid, c.valid_len, BIT_OFF, NULL) ==
          BO_OK);
    CHECK(bo_v2x_parse_hex(c.offsets, c.data, c.valid, BIT_OFF, n, out, st, 2) == BO_OK);
    for (size_t i = 0; i < n; i++)
        CHECKF(out[i] == want[i] && st[i] == wst[i], "hex row %zu \"%s\": %lld/%d", i,
               v[i] ? v[i] : "(null)", (long long)out[i], st[i]);
    /* without a bitmap the NULL row is an empty string: still status 1 */
    CHECK(bo_v2x_parse_hex(c.offsets, c.data, NULL, 0, n, out, st, 1) == BO_OK);
    CHECK(st[9] == 1 && out[9] == 0 && st[0] == 0);
    /* a slice: rows 2.. with bit offset BIT_OFF + 2 */
    CHECK(bo_v2x_parse_hex(c.offsets + 2, c.data, c.valid, BIT_OFF + 2, n - 2, out, st, 1) ==
          BO_OK);
    CHECK(out[0] == 2748 && st[7] == 1);
    CHECK(bo_v2x_parse_hex(c.offsets, c.data, NULL, 0, 0, NULL, NULL, 1) == BO_OK);
    CHECK(bo_v2x_parse_hex(c.offsets, c.data, NULL, 0, 2, NULL, st, 1) == BO_ERR_ARG);
    col_free(&c);
}

static void test_wkt(void)
{
    static const char *const v[] = {
        "POINT (1.5 -2.25)", "POINT(1 2)", " point ( 3\t4 ) ", "POINT EMPTY", "POINT (1)",
        "POINT (1 2) x", "POINT (1 2 3)", "", NULL, "POINT (-83.1e0 4.25E1)", "LINESTRING (1 2)",
        "POINT (1,2)", "POINT (nan 1)", "POINT (1 2", "POINT"};
    static const uint8_t wst[] = {0, 0, 0, 1, 2, 2, 2, 1, 1, 0, 2, 2, 0, 2, 2};
    const size_t n = sizeof v / sizeof *v;
    col_t c = col_make(v, n);
    for (int lvl = 0; lvl < BO_SIMD_NLEVELS; lvl++) {
        if (!bo_v2x_wkt_kernel_name((bo_simd_level)lvl))
            continue;
        double lon[32], lat[32];
        uint8_t st[32];
        CHECK(bo_v2x_parse_wkt(c.offsets, c.data, c.valid, BIT_OFF, n, lon, lat, st, 3,
                               (bo_simd_level)lvl) == BO_OK);
        for (size_t i = 0; i < n; i++) {
            CHECKF(st[i] == wst[i], "wkt level %d row %zu: status %d", lvl, i, st[i]);
            if (st[i])
                CHECKF(isnan(lon[i]) && isnan(lat[i]), "wkt row %zu: not NaN", i);
        }
        CHECK(lon[0] == 1.5 && lat[0] == -2.25);
        CHECK(lon[1] == 1 && lat[1] == 2);
        CHECK(lon[2] == 3 && lat[2] == 4);
        CHECK(lon[9] == -83.1 && lat[9] == 42.5);
        CHECK(isnan(lon[12]) && lat[12] == 1);
    }
    /* a level that is not available here is an error, not a silent fallback */
    for (int lvl = 0; lvl < BO_SIMD_NLEVELS; lvl++)
        if (!bo_v2x_wkt_kernel_name((bo_simd_level)lvl)) {
            double x, y;
            uint8_t st;
            CHECK(bo_v2x_parse_wkt(c.offsets, c.data, c.valid, BIT_OFF, 1, &x, &y, &st, 1,
                                   (bo_simd_level)lvl) == BO_ERR_UNSUPPORTED);
        }
    CHECK(bo_v2x_wkt_kernel_name(BO_SIMD_SCALAR) != NULL);
    CHECK(bo_v2x_wkt_kernel_name((bo_simd_level)-1) == NULL);
    CHECK(bo_v2x_wkt_kernel_name(BO_SIMD_NLEVELS) == NULL);
    col_free(&c);
}

static void test_datetime(void)
{
    static const char *const v[] = {"01/02/2020 01:02:03 PM", "01/02/2020 12:02:03 AM",
                                    " 1/2/2020 1:02:03 pm ", "13/02/2020 01:02:03 PM",
                                    "01/02/2020 01:02:03", "", NULL, "02/29/2021 01:00:00 AM",
                                    "01/01/2300 01:00:00 AM", "xx"};
    static const int64_t want[] = {1577970123000000000LL, 1577923323000000000LL,
                                   1577970123000000000LL};
    static const uint8_t wst[] = {0, 0, 0, 2, 2, 1, 1, 2, 2, 2};
    const size_t n = sizeof v / sizeof *v;
    col_t c = col_make(v, n);
    bo_csv_dtfmt f;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &f, NULL) == BO_OK);
    int64_t ns[16];
    uint8_t st[16];
    CHECK(bo_v2x_parse_datetime(c.offsets, c.data, c.valid, BIT_OFF, n, &f, ns, st, 2) == BO_OK);
    for (size_t i = 0; i < n; i++) {
        CHECKF(st[i] == wst[i], "datetime row %zu: status %d", i, st[i]);
        if (i < 3)
            CHECKF(ns[i] == want[i], "datetime row %zu: %lld", i, (long long)ns[i]);
        if (st[i])
            CHECK(ns[i] == BO_V2X_NAT);
    }
    col_free(&c);

    static const char *const iso[] = {"2017-07-04T12:00:00.123456", "2017-07-04 12:00:00.123456Z",
                                      "2017-07-04T14:00:00.123456+02:00", "2017-07-04",
                                      "2017-7-4", "1677-01-01T00:00:00", " "};
    static const uint8_t ist[] = {0, 0, 0, 0, 2, 2, 1};
    c = col_make(iso, 7);
    CHECK(bo_v2x_parse_datetime(c.offsets, c.data, NULL, 0, 7, NULL, ns, st, 1) == BO_OK);
    for (size_t i = 0; i < 7; i++)
        CHECKF(st[i] == ist[i], "iso row %zu: status %d", i, st[i]);
    CHECK(ns[0] == 1499169600123456000LL && ns[1] == ns[0] && ns[2] == ns[0]);
    CHECK(ns[3] == 1499126400000000000LL);
    col_free(&c);
}

static void test_check(void)
{
    int64_t off[4] = {0, 2, 1, 3};
    uint8_t bits[1] = {0xff};
    bo_error e;
    CHECK(bo_v2x_check_strings(off, 3, 3, NULL, 0, 0, &e) == BO_ERR_ARG && e.index == 2);
    off[2] = 2;
    CHECK(bo_v2x_check_strings(off, 3, 3, NULL, 0, 0, &e) == BO_OK);
    CHECK(bo_v2x_check_strings(off, 3, 2, NULL, 0, 0, &e) == BO_ERR_ARG && e.index == 3);
    off[0] = -1;
    CHECK(bo_v2x_check_strings(off, 3, 3, NULL, 0, 0, &e) == BO_ERR_ARG && e.index == 0);
    off[0] = 0;
    CHECK(bo_v2x_check_strings(off, 3, 3, bits, 1, 5, &e) == BO_OK);
    CHECK(bo_v2x_check_strings(off, 3, 3, bits, 1, 6, &e) == BO_ERR_ARG);
    CHECK(bo_v2x_check_strings(off, 3, 3, bits, 1, -1, &e) == BO_ERR_ARG);
    CHECK(bo_v2x_check_strings(off, 3, 3, bits, 1, INT64_MAX, &e) == BO_ERR_ARG);
    CHECK(bo_v2x_check_strings(off, 0, 0, bits, 0, 0, &e) == BO_OK);
    CHECK(bo_v2x_check_strings(off, 0, 0, bits, 0, 1, &e) == BO_ERR_ARG);
    CHECK(bo_v2x_check_strings(off, 3, 3, bits, 0, 9, &e) == BO_ERR_ARG);
    /* the branch-free pass: values whose differences wrap past the sign bit */
    int64_t big[4] = {0, INT64_C(1) << 62, -(INT64_C(1) << 62) - 1, 5};
    CHECK(bo_v2x_check_strings(big, 3, SIZE_MAX / 2, NULL, 0, 0, &e) == BO_ERR_ARG && e.index == 2);
    int64_t ext[4] = {0, INT64_MAX, INT64_MIN, 1};
    CHECK(bo_v2x_check_strings(ext, 3, 10, NULL, 0, 0, &e) == BO_ERR_ARG && e.index == 1);
    int64_t neg[4] = {0, 1, 2, INT64_MIN};
    CHECK(bo_v2x_check_strings(neg, 3, 10, NULL, 0, 0, &e) == BO_ERR_ARG && e.index == 3);
    /* random columns with one entry disturbed, against the rule itself: the first i with
     * offsets[i] < offsets[i - 1] or offsets[i] > data_len is the one named */
    int64_t r[40];
    for (int it = 0; it < 20000; it++) {
        const size_t n = (size_t)urand(0, 39);
        r[0] = (int64_t)urand(0, 4);
        for (size_t i = 1; i <= n; i++)
            r[i] = r[i - 1] + (int64_t)urand(0, 4);
        const size_t dl = (size_t)r[n] + (size_t)urand(0, 3);
        if (n && urand(0, 1) < 0.7) {
            static const int64_t odd[] = {-1, INT64_MIN, INT64_MAX, INT64_C(1) << 62,
                                          -(INT64_C(1) << 62), 0, 1000};
            const size_t k = 1 + (size_t)urand(0, (double)n);
            r[k] = urand(0, 1) < 0.5 ? odd[(int)urand(0, 7) % 7] : r[k] + (int64_t)urand(-6, 6);
        }
        int64_t want = -1;
        for (size_t i = 1; i <= n && want < 0; i++)
            if (r[i] < r[i - 1] || (uint64_t)r[i] > dl)
                want = (int64_t)i;
        e.index = -7;
        const bo_status st = bo_v2x_check_strings(r, n, dl, NULL, 0, 0, &e);
        CHECKF(want < 0 ? st == BO_OK : st == BO_ERR_ARG && e.index == want,
               "check_strings n %zu: status %d index %lld, want %lld", n, st,
               (long long)e.index, (long long)want);
        if (want >= 0 && st != BO_ERR_ARG)
            break;
    }
}

/* Many random rows: every converter gives the same bytes on 1..4 threads. */
static void test_threads(void)
{
    enum { N = 40000 };
    static const char *const pool[] = {"1f", "0xABCDEF", "POINT (1 2)", "POINT(-83.5 42.25)",
                                       "2017-07-04T12:00:00", "07/04/2017 01:00:00 PM", "",
                                       "zz", "ffffffffffffffff.0", "POINT EMPTY", NULL};
    const char **v = malloc(N * sizeof *v);
    if (!v) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < N; i++)
        v[i] = pool[(size_t)urand(0, sizeof pool / sizeof *pool) % (sizeof pool / sizeof *pool)];
    col_t c = col_make(v, N);
    bo_csv_dtfmt f;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &f, NULL) == BO_OK);
    int64_t *a = malloc(N * 8), *b = malloc(N * 8);
    double *x = malloc(N * 8), *y = malloc(N * 8), *x2 = malloc(N * 8), *y2 = malloc(N * 8);
    uint8_t *s1 = malloc(N), *s2 = malloc(N);
    if (!a || !b || !x || !y || !x2 || !y2 || !s1 || !s2) {
        CHECK(0);
        goto done;
    }
    for (int t = 2; t <= 4; t++) {
        bo_v2x_parse_hex(c.offsets, c.data, c.valid, BIT_OFF, N, a, s1, 1);
        bo_v2x_parse_hex(c.offsets, c.data, c.valid, BIT_OFF, N, b, s2, t);
        CHECKF(!memcmp(a, b, N * 8) && !memcmp(s1, s2, N), "hex, %d threads", t);
        for (int lvl = 0; lvl < BO_SIMD_NLEVELS; lvl++) {
            if (!bo_v2x_wkt_kernel_name((bo_simd_level)lvl))
                continue;
            bo_v2x_parse_wkt(c.offsets, c.data, c.valid, BIT_OFF, N, x, y, s1, 1, BO_SIMD_SCALAR);
            bo_v2x_parse_wkt(c.offsets, c.data, c.valid, BIT_OFF, N, x2, y2, s2, t,
                             (bo_simd_level)lvl);
            CHECKF(!memcmp(x, x2, N * 8) && !memcmp(y, y2, N * 8) && !memcmp(s1, s2, N),
                   "wkt, level %d, %d threads", lvl, t);
        }
        for (int k = 0; k < 2; k++) {
            const bo_csv_dtfmt *fp = k ? &f : NULL;
            bo_v2x_parse_datetime(c.offsets, c.data, c.valid, BIT_OFF, N, fp, a, s1, 1);
            bo_v2x_parse_datetime(c.offsets, c.data, c.valid, BIT_OFF, N, fp, b, s2, t);
            CHECKF(!memcmp(a, b, N * 8) && !memcmp(s1, s2, N), "datetime, %d threads", t);
        }
    }
    size_t ok = 0;
    for (size_t i = 0; i < N; i++)
        ok += s1[i] == 0;
    CHECK(ok > N / 20); /* the format rows parsed */
done:
    free(a);
    free(b);
    free(x);
    free(y);
    free(x2);
    free(y2);
    free(s1);
    free(s2);
    free(v);
    col_free(&c);
}

/* The forward direction (H. Hinnant's days_from_civil), as a reference for the inverse. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : dm[m - 1];
}

static void test_parts(void)
{
    enum { N = 50000 };
    int64_t *t = malloc(N * 8);
    int8_t *mo = malloc(N), *d = malloc(N), *h = malloc(N), *mi = malloc(N), *s = malloc(N),
           *pm = malloc(N);
    int16_t *y = malloc(N * 2);
    uint8_t *st = malloc(N);
    int8_t *mo2 = malloc(N);
    uint8_t *st2 = malloc(N);
    if (!t || !mo || !d || !h || !mi || !s || !pm || !y || !st || !mo2 || !st2) {
        CHECK(0);
        goto done;
    }
    static const int64_t fixed[] = {0, -1, 1, INT64_MIN, INT64_MIN + 1, INT64_MAX,
                                    86400000000000LL, -86400000000000LL, -86400000000001LL,
                                    951782400000000000LL /* 2000-02-29 */,
                                    -2208988800000000000LL /* 1900-01-01 */};
    const size_t nf = sizeof fixed / sizeof *fixed;
    for (size_t i = 0; i < N; i++) {
        if (i < nf)
            t[i] = fixed[i];
        else if (i % 3 == 0) /* whole seconds near day boundaries */
            t[i] = ((int64_t)urand(-106751, 106751) * 86400 + (int64_t)urand(-2, 2)) * 1000000000LL;
        else
            t[i] = (int64_t)urand(-9.2e18, 9.2e18);
    }
    CHECK(bo_v2x_timestamp_parts(t, N, mo, d, y, h, mi, s, pm, st, 1) == BO_OK);
    for (size_t i = 0; i < N; i++) {
        if (t[i] == INT64_MIN) {
            CHECK(st[i] == 1 && !mo[i] && !d[i] && !y[i] && !h[i] && !mi[i] && !s[i] && !pm[i]);
            continue;
        }
        int ok = st[i] == 0 && mo[i] >= 1 && mo[i] <= 12 && d[i] >= 1 &&
                 d[i] <= days_in_month(y[i], mo[i]) && h[i] >= 0 && h[i] < 24 && mi[i] >= 0 &&
                 mi[i] < 60 && s[i] >= 0 && s[i] < 60 && pm[i] == (h[i] >= 12) &&
                 y[i] >= 1677 && y[i] <= 2262;
        if (ok) {
            /* t - civil seconds must be the sub-second part, in [0, 1e9) (floor semantics) */
            __int128 secs = (__int128)days_from_civil(y[i], mo[i], d[i]) * 86400 + h[i] * 3600 +
                            mi[i] * 60 + s[i];
            __int128 sub = (__int128)t[i] - secs * 1000000000;
            ok = sub >= 0 && sub < 1000000000;
        }
        if (!ok) {
            CHECKF(0, "parts of %lld: %d-%d-%d %d:%d:%d pm %d st %d", (long long)t[i], y[i],
                   mo[i], d[i], h[i], mi[i], s[i], pm[i], st[i]);
            break;
        }
    }
    /* fixed points */
    CHECK(y[0] == 1970 && mo[0] == 1 && d[0] == 1 && h[0] == 0 && pm[0] == 0);
    CHECK(y[1] == 1969 && mo[1] == 12 && d[1] == 31 && h[1] == 23 && mi[1] == 59 && s[1] == 59 &&
          pm[1] == 1);
    CHECK(y[4] == 1677 && mo[4] == 9 && d[4] == 21 && h[4] == 0 && mi[4] == 12 && s[4] == 43);
    CHECK(y[5] == 2262 && mo[5] == 4 && d[5] == 11 && h[5] == 23 && mi[5] == 47 && s[5] == 16);
    CHECK(y[8] == 1969 && mo[8] == 12 && d[8] == 30 && h[8] == 23);
    CHECK(y[9] == 2000 && mo[9] == 2 && d[9] == 29);
    CHECK(y[10] == 1900 && mo[10] == 1 && d[10] == 1);
    for (int th = 2; th <= 4; th++) {
        CHECK(bo_v2x_timestamp_parts(t, N, mo2, d, y, h, mi, s, pm, st2, th) == BO_OK);
        CHECKF(!memcmp(mo, mo2, N) && !memcmp(st, st2, N), "parts, %d threads", th);
    }
    CHECK(bo_v2x_timestamp_parts(t, 3, mo, d, y, NULL, mi, s, pm, st, 1) == BO_ERR_ARG);
    CHECK(bo_v2x_timestamp_parts(NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1) ==
          BO_OK);
done:
    free(t);
    free(mo);
    free(d);
    free(h);
    free(mi);
    free(s);
    free(pm);
    free(y);
    free(st);
    free(mo2);
    free(st2);
}

/* BSM-shaped columns (the fast paths of numparse_fast.h, inlined in the v2x loops) against the
 * reference parsers row by row. Four rotations of each column put four different rows last,
 * where ASan sees any read past the data buffer (test_csv and fuzz_v2x check single rows in
 * exact-size buffers). Rows are the common shapes plus mutated ones. */
static void test_bsm_vs_reference(void)
{
    enum { N = 3000 };
    char (*txt)[3][64] = malloc(sizeof *txt * N);
    if (!txt) {
        CHECK(0);
        return;
    }
    static const char hostile[] = " \t.)(-+eExX0g/:@\x80\xb0\xff";
    for (size_t i = 0; i < N; i++) {
        const unsigned long long id = (unsigned long long)urand(0, 4294967296.0);
        snprintf(txt[i][0], 64, i % 7 ? "%08llX" : "%llx", id);
        snprintf(txt[i][1], 64, "POINT (%.*f %.*f)", (int)urand(1, 16), urand(-180, 180),
                 (int)urand(1, 16), urand(-90, 90));
        snprintf(txt[i][2], 64, "%02d/%02d/%04d %02d:%02d:%02d %s", (int)urand(0, 14),
                 (int)urand(0, 33), (int)urand(1600, 2300), (int)urand(0, 14), (int)urand(0, 61),
                 (int)urand(0, 61), urand(0, 1) < 0.5 ? "AM" : "pm");
        for (int k = 0; k < 3; k++)
            if (urand(0, 1) < 0.2) {
                size_t l = strlen(txt[i][k]);
                txt[i][k][(size_t)urand(0, (double)l) % l] =
                    hostile[(size_t)urand(0, sizeof hostile - 1) % (sizeof hostile - 1)];
            }
    }
    bo_csv_dtfmt f;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &f, NULL) == BO_OK);
    int bad = 0;
    for (int k = 0; k < 3; k++) {
        /* the column: rows r..N-1 then 0..r-1 */
        for (size_t rot = 0; rot < 4; rot++) {
            const size_t r = rot * (N / 4) + 1;
            const char **v = malloc(N * sizeof *v);
            if (!v) {
                CHECK(0);
                break;
            }
            for (size_t j = 0; j < N; j++)
                v[j] = txt[(j + r) % N][k];
            col_t c = col_make(v, N);
            int64_t iv[N];
            double lon[N], lat[N];
            uint8_t st[N];
            if (k == 0)
                CHECK(bo_v2x_parse_hex(c.offsets, c.data, c.valid, BIT_OFF, N, iv, st, 1) == BO_OK);
            else if (k == 1) /* the best level here; test_wkt_kernels compares the levels */
                CHECK(bo_v2x_parse_wkt(c.offsets, c.data, c.valid, BIT_OFF, N, lon, lat, st, 1,
                                       bo_simd_best()) == BO_OK);
            else
                CHECK(bo_v2x_parse_datetime(c.offsets, c.data, c.valid, BIT_OFF, N, &f, iv, st,
                                            1) == BO_OK);
            for (size_t j = 0; j < N && bad < 5; j++) {
                const char *t = v[j];
                const size_t l = strlen(t);
                int ok;
                if (k == 0) {
                    uint64_t u = 0;
                    const int rc = bo_parse_hex64_ref(t, l, &u);
                    ok = rc == 0 && u <= INT64_MAX ? st[j] == 0 && iv[j] == (int64_t)u
                                                   : st[j] == 2 && iv[j] == 0;
                } else if (k == 1) {
                    double a, b;
                    const int rc = bo_parse_wkt_point_ref(t, l, &a, &b);
                    ok = rc == 0 ? st[j] == 0 && !memcmp(&a, &lon[j], 8) && !memcmp(&b, &lat[j], 8)
                                 : st[j] == (rc == 1 ? 1 : 2) && isnan(lon[j]) && isnan(lat[j]);
                } else {
                    int64_t ns = 0;
                    const int rc = bo_parse_datetime_fmt_ref(t, l, &f, &ns);
                    ok = rc == 0 ? st[j] == 0 && iv[j] == ns : st[j] == 2 && iv[j] == BO_V2X_NAT;
                }
                if (!ok) {
                    CHECKF(0, "column %d row \"%s\": status %d", k, t, st[j]);
                    bad++;
                }
            }
            col_free(&c);
            free(v);
        }
    }
    free(txt);
}

/* bo_v2x_datetime_parts == bo_v2x_parse_datetime then bo_v2x_timestamp_parts, row for row:
 * random BSM text (valid, malformed, hostile bytes, the edge years 1677/2262 and beyond), ISO
 * text, NULLs; with the BSM format and with ISO (fmt NULL); 1 and 3 threads. */
static void test_datetime_parts_fused(void)
{
    enum { N = 4000 };
    static char txt[N][64];
    const char *v[N];
    static const char hostile[] = " \t.:/-+TZ0x\x80\xff";
    for (size_t i = 0; i < N; i++) {
        const int kind = (int)urand(0, 10);
        if (kind == 0)
            snprintf(txt[i], 64, "%04d-%02d-%02dT%02d:%02d:%02d", (int)urand(1670, 2270),
                     (int)urand(1, 13), (int)urand(1, 29), (int)urand(0, 24), (int)urand(0, 60),
                     (int)urand(0, 60));
        else
            snprintf(txt[i], 64, "%02d/%02d/%04d %02d:%02d:%02d %s", (int)urand(0, 14),
                     (int)urand(0, 33),
                     kind == 1 ? (urand(0, 1) < 0.5 ? 1677 : 2262) : (int)urand(1600, 2300),
                     (int)urand(0, 14), (int)urand(0, 61), (int)urand(0, 61),
                     urand(0, 1) < 0.5 ? "AM" : "pm");
        if (urand(0, 1) < 0.1) {
            size_t l = strlen(txt[i]);
            txt[i][(size_t)urand(0, (double)l) % l] =
                hostile[(size_t)urand(0, sizeof hostile - 1) % (sizeof hostile - 1)];
        }
        v[i] = urand(0, 1) < 0.03 ? NULL : txt[i];
    }
    col_t c = col_make(v, N);
    bo_csv_dtfmt f;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &f, NULL) == BO_OK);
    static int64_t ns[N];
    static int8_t a[7][N], b[7][N];
    static int16_t ya[N], yb[N];
    static uint8_t sa[N], sb[N], sp[N];
    int bad = 0, n_ok = 0;
    for (int use_fmt = 0; use_fmt < 2; use_fmt++)
        for (int T = 1; T <= 3; T += 2) {
            const bo_csv_dtfmt *fp = use_fmt ? &f : NULL;
            CHECK(bo_v2x_parse_datetime(c.offsets, c.data, c.valid, BIT_OFF, N, fp, ns, sp, T) ==
                  BO_OK);
            CHECK(bo_v2x_timestamp_parts(ns, N, a[0], a[1], ya, a[3], a[4], a[5], a[6], sa, T) ==
                  BO_OK);
            CHECK(bo_v2x_datetime_parts(c.offsets, c.data, c.valid, BIT_OFF, N, fp, b[0], b[1],
                                        yb, b[3], b[4], b[5], b[6], sb, T) == BO_OK);
            for (size_t i = 0; i < N && bad < 5; i++) {
                const int want_st = sp[i]; /* 0 ok, 1 null, 2 invalid */
                int same = sb[i] == want_st && yb[i] == (want_st ? 0 : ya[i]);
                for (int k = 0; k < 7; k++)
                    if (k != 2)
                        same &= b[k][i] == (want_st ? 0 : a[k][i]);
                n_ok += want_st == 0;
                if (!same) {
                    CHECKF(0, "fmt %d T %d row \"%s\": status %d vs %d", use_fmt, T,
                           v[i] ? v[i] : "(null)", sb[i], want_st);
                    bad++;
                }
            }
        }
    CHECKF(n_ok > N / 2, "%d rows parsed", n_ok); /* the comparison saw many good rows */
    col_free(&c);
}


/* ---- the WKT kernels of every level against the reference parser and strtod ---- */

static unsigned long long u64rand(void)
{
    return ((unsigned long long)urand(0, 4294967296.0) << 32) ^
           (unsigned long long)urand(0, 4294967296.0);
}

/* n random decimal digits (the first one not 0 when nz) */
static int digits(char *o, int n, int nz)
{
    for (int i = 0; i < n; i++)
        o[i] = (char)('0' + (i == 0 && nz ? 1 + (int)urand(0, 9) % 9 : (int)urand(0, 10) % 10));
    return n;
}

/* One coordinate's text: mostly the shapes of the kernels' fast paths (sign, 1-19 integer and
 * 1-19 fraction digits, leading zeros, zeros, exact half-way values), some only the general
 * parser takes (20+ digits, exponents, inf/nan, '+', ".5", "5."). *plain: a decimal that
 * strtod must agree with. */
static int gen_coord(char *o, int *plain)
{
    int k = 0;
    const double u = urand(0, 1);
    *plain = 1;
    if (urand(0, 1) < 0.5)
        o[k++] = '-';
    if (u < 0.55) { /* coordinates: 1-3 integer digits, 1-17 fraction digits */
        k += digits(o + k, 1 + (int)urand(0, 3), urand(0, 1) < 0.9);
        o[k++] = '.';
        k += digits(o + k, 1 + (int)urand(0, 17), 0);
    } else if (u < 0.75) { /* any split of up to 21 digits, leading zeros allowed */
        const int nd = 2 + (int)urand(0, 20), ki = 1 + (int)urand(0, nd - 1);
        k += digits(o + k, ki, urand(0, 1) < 0.5);
        o[k++] = '.';
        k += digits(o + k, nd - ki, 0);
    } else if (u < 0.85) { /* exactly half-way between two doubles (q >= -4), or near it */
        const unsigned long long m = (1ULL << 52) + (u64rand() & ((1ULL << 52) - 1));
        static const char *const tail[] = {".5", ".50", ".500", ".25", ".75", ".4999", ".5001"};
        const int big = urand(0, 1) < 0.5; /* 2^53 + odd: half-way at .0 */
        k += sprintf(o + k, "%llu", big ? 2 * m + 1 : m);
        k += sprintf(o + k, "%s", big ? (urand(0, 1) < 0.5 ? ".0" : ".000")
                                      : tail[(int)urand(0, 7) % 7]);
    } else if (u < 0.9) { /* zeros */
        static const char *const z[] = {"0.0", "0.000000", "00.0", "0.0000000000000000001",
                                        "1.0000000000000000000", "9.999999999999999999"};
        k += sprintf(o + k, "%s", z[(int)urand(0, 6) % 6]);
    } else {
        static const char *const g[] = {"1e5", "2.5E-3", "inf", "nan", "+1.5", ".5", "5.",
                                        "1", "-", "1.2.3", "0x10", "1,5", "12345678901234567890.5"};
        const int i = (int)urand(0, 13) % 13;
        k += sprintf(o + k, "%s", g[i]);
        *plain = i >= 4 && i != 8 && i != 9 && i != 10 && i != 11;
    }
    o[k] = '\0';
    return k;
}

static void test_wkt_kernels(void)
{
    enum { N = 30000 };
    char (*txt)[96] = malloc(sizeof *txt * N), (*co)[2][48] = malloc(sizeof *co * N);
    int *plain = malloc(sizeof *plain * N * 2);
    const char **v = malloc(sizeof *v * N);
    double *lon = malloc(8 * N), *lat = malloc(8 * N), *lon0 = malloc(8 * N), *lat0 = malloc(8 * N);
    uint8_t *st = malloc(N), *st0 = malloc(N);
    if (!txt || !co || !plain || !v || !lon || !lat || !lon0 || !lat0 || !st || !st0) {
        CHECK(0);
        goto done;
    }
    static const char *const pre[] = {"POINT (", "POINT (", "POINT (", "POINT (", "point (",
                                      "POINT(", " POINT (", "POINT  (", "POINT ( ", "Point ("};
    static const char *const mid[] = {" ", " ", " ", " ", " ", "  ", "\t", "", ","};
    static const char *const post[] = {")", ")", ")", ")", ")", ")  ", " )", "", "))", ")x",
                                       ")0", ")12", ")\t7"};
    static const char hostile[] = " \t.)(-+eE0/\x80\xff";
    for (size_t i = 0; i < N; i++) {
        const int common = urand(0, 1) < 0.7;
        gen_coord(co[i][0], &plain[2 * i]);
        gen_coord(co[i][1], &plain[2 * i + 1]);
        snprintf(txt[i], sizeof txt[i], "%s%s%s%s%s",
                 common ? "POINT (" : pre[(int)urand(0, 10) % 10], co[i][0],
                 common ? " " : mid[(int)urand(0, 9) % 9], co[i][1],
                 common ? ")" : post[(int)urand(0, 13) % 13]);
        if (urand(0, 1) < 0.05) {
            const size_t l = strlen(txt[i]);
            txt[i][(size_t)urand(0, (double)l) % l] =
                hostile[(size_t)urand(0, sizeof hostile - 1) % (sizeof hostile - 1)];
        }
        const double r = urand(0, 1);
        v[i] = r < 0.02 ? NULL : r < 0.03 ? "" : r < 0.035 ? "POINT EMPTY" : txt[i];
    }
    /* a run of one layout (what BSM exports look like) and a run of rows that all differ */
    for (size_t i = 1000; i < 3000; i++) {
        snprintf(txt[i], sizeof txt[i], "POINT (-1%02d.%07d 4%d.%07d)", (int)urand(0, 100),
                 (int)urand(0, 1e7), (int)urand(0, 10), (int)urand(0, 1e7));
        v[i] = txt[i];
    }
    col_t c = col_make(v, N);
    /* the reference, row by row */
    int bad = 0, n_fast_shape = 0;
    for (size_t i = 0; i < N; i++) {
        const char *t = v[i] ? v[i] : "";
        double a = NAN, b = NAN;
        const int rc = v[i] ? bo_parse_wkt_point_ref(t, strlen(t), &a, &b) : 1;
        st0[i] = rc == 0 ? 0 : (rc == 1 || !v[i] || !*t) ? 1 : 2;
        if (rc == -1) {
            const char *q = t;
            while (*q == ' ' || *q == '\t')
                q++;
            if (!*q)
                st0[i] = 1; /* blank: missing */
        }
        lon0[i] = rc == 0 ? a : NAN;
        lat0[i] = rc == 0 ? b : NAN;
        n_fast_shape += rc == 0 && v[i] == txt[i] && !strncmp(t, "POINT (", 7);
        /* the reference itself against strtod, on the rows made of two plain decimals */
        if (rc == 0 && v[i] == txt[i] && i >= 3000 && plain[2 * i] && plain[2 * i + 1] &&
            strstr(t, co[i][0]) && strstr(t, co[i][1])) {
            const double x = strtod(co[i][0], NULL), y = strtod(co[i][1], NULL);
            if ((memcmp(&x, &a, 8) || memcmp(&y, &b, 8)) && bad < 5) {
                CHECKF(0, "reference '%s': %.17g %.17g, strtod %.17g %.17g", t, a, b, x, y);
                bad++;
            }
        }
    }
    CHECKF(n_fast_shape > N / 2, "%d rows of the common shape", n_fast_shape);
    for (int lvl = 0; lvl < BO_SIMD_NLEVELS; lvl++) {
        if (!bo_v2x_wkt_kernel_name((bo_simd_level)lvl))
            continue;
        /* whole column with 1 and 3 threads; prefixes of every length to 40 (the tails of the
         * 4-row conversions and 16-row passes) */
        for (size_t n = 1; n <= N; n = n < 40 ? n + 1 : n == 40 ? N - 1 : N + 1) {
            for (int T = 1; T <= (n >= N - 1 ? 3 : 1); T += 2) {
                memset(st, 0xEE, n);
                CHECK(bo_v2x_parse_wkt(c.offsets, c.data, c.valid, BIT_OFF, n, lon, lat, st, T,
                                       (bo_simd_level)lvl) == BO_OK);
                for (size_t i = 0; i < n && bad < 10; i++) {
                    const int ok = st[i] == st0[i] && !memcmp(&lon[i], &lon0[i], 8) &&
                                   !memcmp(&lat[i], &lat0[i], 8);
                    if (!ok && (st0[i] == 0 || !(isnan(lon[i]) && isnan(lat[i])) ||
                                st[i] != st0[i])) {
                        CHECKF(0, "level %s (%s), n %zu, T %d, row %zu '%s': %d %.17g %.17g vs "
                               "reference %d %.17g %.17g", bo_simd_name((bo_simd_level)lvl),
                               bo_v2x_wkt_kernel_name((bo_simd_level)lvl), n, T, i,
                               v[i] ? v[i] : "(null)", st[i], lon[i], lat[i], st0[i], lon0[i],
                               lat0[i]);
                        bad++;
                    }
                }
            }
        }
    }
    col_free(&c);
done:
    free(txt);
    free(co);
    free(plain);
    free(v);
    free(lon);
    free(lat);
    free(lon0);
    free(lat0);
    free(st);
    free(st0);
}

#ifdef BO_HAVE_WKT_AVX512
/* The 8-lane Eisel-Lemire of the AVX-512 kernel against the scalar one. */
static void test_el8(void)
{
    if (!bo_v2x_wkt_kernel_name(BO_SIMD_AVX512) ||
        strcmp(bo_v2x_wkt_kernel_name(BO_SIMD_AVX512), "avx512") != 0) {
        printf("test_el8: skipped (no AVX-512 WKT kernel on this CPU)\n");
        return;
    }
    int bad = 0;
    long n_half = 0;
    for (long it = 0; it < 400000 && bad < 5; it++) {
        uint64_t w[8], bits[8];
        uint8_t kf[8], neg[8];
        for (int j = 0; j < 8; j++) {
            const int kind = (int)urand(0, 8);
            uint64_t x = u64rand();
            kf[j] = (uint8_t)urand(0, 20);
            neg[j] = urand(0, 1) < 0.5;
            if (kind == 0) /* any magnitude below 10^19 */
                x = x % 10000000000000000000ULL >> (int)urand(0, 64);
            else if (kind == 1) /* powers of two and their neighbours */
                x = (1ULL << (int)urand(0, 63)) + (uint64_t)(int)urand(-2, 3);
            else if (kind == 2 || kind == 3) {
                /* exactly half-way between two doubles: (2K + 1) 2^-s with 2^52 <= K < 2^53
                 * has 54 significant bits, the last one set; in decimal s fraction digits
                 * (kind 3: trailing zeros up to kf = 4) */
                const int sh = (int)urand(1, 5), kf2 = kind == 2 ? sh : (int)urand(sh, 5);
                const uint64_t K = (1ULL << 52) + (x & ((1ULL << 52) - 1));
                unsigned __int128 W = (unsigned __int128)(2 * K + 1);
                for (int q = 0; q < sh; q++)
                    W *= 5;
                for (int q = sh; q < kf2; q++)
                    W *= 10;
                if (W >= 10000000000000000000ULL)
                    W /= 10; /* no longer half-way: still a valid case */
                x = (uint64_t)W;
                kf[j] = (uint8_t)kf2;
                n_half++;
            }
            else if (kind == 4)
                x = 0;
            else /* BSM coordinates: 15-19 digits */
                x = x % 10000000000000000000ULL / (uint64_t)(1 + (int)urand(0, 10000));
            if (x >= 10000000000000000000ULL)
                x %= 10000000000000000000ULL;
            w[j] = x;
        }
        bo_v2x_el8_avx512(w, kf, neg, bits);
        for (int j = 0; j < 8; j++) {
            const uint64_t want = (w[j] ? bo_eisel_lemire_small(-(int)kf[j], w[j]) : 0) |
                                  ((uint64_t)(neg[j] != 0) << 63);
            if (bits[j] != want) {
                CHECKF(0, "el8: w %llu kf %d neg %d: %016llx, scalar %016llx",
                       (unsigned long long)w[j], kf[j], neg[j], (unsigned long long)bits[j],
                       (unsigned long long)want);
                bad++;
            }
        }
    }
    CHECK(n_half > 1000);
}
#endif

int main(void)
{
    test_datetime_parts_fused();
    test_hex();
    test_wkt();
    test_datetime();
    test_check();
    test_threads();
    test_parts();
    test_bsm_vs_reference();
    test_wkt_kernels();
#ifdef BO_HAVE_WKT_AVX512
    test_el8();
#endif
    TEST_MAIN_END();
}
