/* libFuzzer target for the v2x string-column converters and timestamp parts.
 *
 *   cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DBLOCKOPS_FUZZ=ON -DBLOCKOPS_PYTHON=OFF && \
 *   cmake --build build/fuzz --target fuzz_v2x && \
 *   ./build/fuzz/fuzz_v2x -max_total_time=60 csrc/fuzz/corpus/v2x
 *
 * Byte 0 picks options: bits 0-1 the datetime format (ISO, "%m/%d/%Y %I:%M:%S %p", the first
 * line of the input as a format, "%Y-%m-%d %H:%M:%S.%f"), bit 2 a validity bitmap, bits 3-5
 * its bit offset, bits 6-7 the thread count. Byte 1 is the bitmap's byte pattern. The rest is
 * split at '\n' into rows (an exact-size copy, so ASan sees any read past a row's bytes).
 * Besides sanitizer reports it checks the contracts in bo_v2x.h:
 *   - statuses are 0/1/2 and the value of a non-ok row is its sentinel (0, NaN, NaT);
 *   - a blank or invalid row is status 1; hex ok values are >= 0;
 *   - timestamp parts are in range for every parsed value and for raw int64 input;
 *   - offsets accepted by bo_v2x_check_strings (read raw from the input) are safe to convert;
 *   - every row, copied alone into an exact-size buffer, gets the same status and the same bits
 *     from the fast parsers (bo_parse_hex64, bo_parse_wkt_point, bo_parse_datetime_fmt) as from
 *     the reference ones (numparse.h);
 *   - every WKT kernel this CPU runs (one per SIMD level, bo_v2x_wkt_kernel_name) gives the
 *     same statuses and bits as the scalar one, and a row of the scalar kernel those of
 *     bo_parse_wkt_point_ref. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockops/bo_v2x.h"
#include "numparse.h"

#define REQUIRE(c)            \
    do {                      \
        if (!(c))             \
            __builtin_trap(); \
    } while (0)

static int is_blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

/* fast path == reference on one row, in its own buffer (ASan sees any read past it) */
static void check_fast_vs_ref(const uint8_t *row, size_t n, const bo_csv_dtfmt *fmt)
{
    char *b = malloc(n ? n : 1);
    if (!b)
        return;
    memcpy(b, row, n);
    uint64_t h1 = 1, h2 = 2;
    const int r1 = bo_parse_hex64(b, n, &h1), r2 = bo_parse_hex64_ref(b, n, &h2);
    REQUIRE(r1 == r2 && (r1 || h1 == h2));
    double x1 = 1, y1 = 2, x2 = 3, y2 = 4;
    const int w1 = bo_parse_wkt_point(b, n, &x1, &y1), w2 = bo_parse_wkt_point_ref(b, n, &x2, &y2);
    REQUIRE(w1 == w2);
    if (w1 == 0)
        REQUIRE(!memcmp(&x1, &x2, sizeof x1) && !memcmp(&y1, &y2, sizeof y1));
    double d1 = 1, d2 = 2;
    const int q1 = bo_parse_double_trimmed(b, n, &d1), q2 = bo_parse_double_ref(b, n, &d2);
    REQUIRE(q1 == q2 && (q1 || !memcmp(&d1, &d2, sizeof d1)));
    if (fmt) {
        int64_t t1 = 1, t2 = 2;
        const int c1 = bo_parse_datetime_fmt(b, n, fmt, &t1);
        const int c2 = bo_parse_datetime_fmt_ref(b, n, fmt, &t2);
        REQUIRE(c1 == c2 && (c1 || t1 == t2));
    }
    free(b);
}

static void check_parts(const int64_t *ns, size_t n, int threads)
{
    int8_t *mo = malloc(n + 1), *d = malloc(n + 1), *h = malloc(n + 1), *mi = malloc(n + 1),
           *s = malloc(n + 1), *pm = malloc(n + 1);
    int16_t *y = malloc(2 * n + 2);
    uint8_t *st = malloc(n + 1);
    if (mo && d && h && mi && s && pm && y && st) {
        REQUIRE(bo_v2x_timestamp_parts(ns, n, mo, d, y, h, mi, s, pm, st, threads) == BO_OK);
        for (size_t i = 0; i < n; i++) {
            if (ns[i] == BO_V2X_NAT) {
                REQUIRE(st[i] == 1 && !mo[i] && !d[i] && !y[i] && !h[i] && !mi[i] && !s[i]);
                continue;
            }
            REQUIRE(st[i] == 0 && mo[i] >= 1 && mo[i] <= 12 && d[i] >= 1 && d[i] <= 31);
            REQUIRE(y[i] >= 1677 && y[i] <= 2262 && h[i] >= 0 && h[i] <= 23);
            REQUIRE(mi[i] >= 0 && mi[i] <= 59 && s[i] >= 0 && s[i] <= 59);
            REQUIRE(pm[i] == (h[i] >= 12));
        }
    }
    free(mo);
    free(d);
    free(h);
    free(mi);
    free(s);
    free(pm);
    free(y);
    free(st);
}

static void run_all(const int64_t *off, const uint8_t *data, size_t data_len, const uint8_t *valid,
                    int64_t bit_off, size_t n, const bo_csv_dtfmt *fmt, int threads, int strict)
{
    int64_t *iv = malloc(8 * n + 8);
    double *lon = malloc(8 * n + 8), *lat = malloc(8 * n + 8);
    double *lon2 = malloc(8 * n + 8), *lat2 = malloc(8 * n + 8);
    uint8_t *st = malloc(n + 1), *st2 = malloc(n + 1);
    if (!iv || !lon || !lat || !st)
        goto done;
    /* strict: the rows are our own split, so the blank/invalid rule can be checked */
#define ROW_NULL(i)                                                                        \
    ((valid && !((valid[((uint64_t)bit_off + (i)) >> 3] >> (((uint64_t)bit_off + (i)) & 7)) & 1)) || \
     is_blank(data + off[i], (size_t)(off[(i) + 1] - off[i])))
    REQUIRE(bo_v2x_parse_hex(off, data, valid, bit_off, n, iv, st, threads) == BO_OK);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(st[i] <= 2);
        REQUIRE(st[i] ? iv[i] == 0 : iv[i] >= 0);
        if (strict)
            REQUIRE((st[i] == 1) == ROW_NULL(i));
    }
    REQUIRE(bo_v2x_parse_wkt(off, data, valid, bit_off, n, lon, lat, st, threads,
                             BO_SIMD_SCALAR) == BO_OK);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(st[i] <= 2);
        if (st[i])
            REQUIRE(isnan(lon[i]) && isnan(lat[i]));
        if (strict && ROW_NULL(i))
            REQUIRE(st[i] == 1);
    }
    if (lon2 && lat2 && st2)
        for (int lvl = 1; lvl < BO_SIMD_NLEVELS; lvl++) {
            if (!bo_v2x_wkt_kernel_name((bo_simd_level)lvl))
                continue;
            REQUIRE(bo_v2x_parse_wkt(off, data, valid, bit_off, n, lon2, lat2, st2, threads,
                                     (bo_simd_level)lvl) == BO_OK);
            REQUIRE(!memcmp(st, st2, n) && !memcmp(lon, lon2, 8 * n) &&
                    !memcmp(lat, lat2, 8 * n));
        }
    REQUIRE(bo_v2x_parse_datetime(off, data, valid, bit_off, n, fmt, iv, st, threads) == BO_OK);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(st[i] <= 2);
        REQUIRE((st[i] != 0) == (iv[i] == BO_V2X_NAT));
        if (strict)
            REQUIRE((st[i] == 1) == ROW_NULL(i));
    }
    check_parts(iv, n, threads);
#undef ROW_NULL
done:
    free(iv);
    free(lon);
    free(lat);
    free(st);
    free(lon2);
    free(lat2);
    free(st2);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t opt = in[0], pattern = in[1];
    const int threads = 1 + (opt >> 6);
    const uint8_t *data = in + 2;
    size_t len = size - 2;

    bo_csv_dtfmt fmt_buf, *fmt = NULL;
    switch (opt & 3) {
    case 1:
        REQUIRE(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &fmt_buf, NULL) == BO_OK);
        fmt = &fmt_buf;
        break;
    case 2: { /* the first line is the format (any bytes; compile may refuse it) */
        const uint8_t *nl = memchr(data, '\n', len);
        size_t fl = nl ? (size_t)(nl - data) : len;
        char *f = malloc(fl + 1);
        if (!f)
            return 0;
        memcpy(f, data, fl);
        f[fl] = '\0';
        if (bo_csv_dtfmt_compile(f, &fmt_buf, NULL) == BO_OK)
            fmt = &fmt_buf;
        free(f);
        break;
    }
    case 3:
        REQUIRE(bo_csv_dtfmt_compile("%Y-%m-%d %H:%M:%S.%f", &fmt_buf, NULL) == BO_OK);
        fmt = &fmt_buf;
        break;
    }

    /* rows: split at '\n'; the separators are dropped (Arrow offsets are contiguous) and the
     * bytes copied into an exact-size buffer */
    size_t n = 1;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    const size_t clen = len - (n - 1);
    int64_t *off = malloc((n + 1) * sizeof *off);
    uint8_t *copy = malloc(clen ? clen : 1);
    const int64_t bit_off = (opt >> 3) & 7;
    const size_t vlen = ((size_t)bit_off + n + 7) / 8;
    uint8_t *valid = (opt & 4) ? malloc(vlen) : NULL;
    if (!off || !copy || ((opt & 4) && !valid))
        goto done;
    size_t w = 0, k = 0;
    off[0] = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n')
            off[++k] = (int64_t)w;
        else
            copy[w++] = data[i];
    }
    off[n] = (int64_t)w;
    REQUIRE(k == n - 1 && w == clen);
    len = clen;
    if (valid)
        for (size_t i = 0; i < vlen; i++)
            valid[i] = (uint8_t)(pattern ^ (uint8_t)(i * 37u));
    REQUIRE(bo_v2x_check_strings(off, n, len, valid, vlen, bit_off, NULL) == BO_OK);
    for (size_t i = 0; i < n; i++)
        check_fast_vs_ref(copy + off[i], (size_t)(off[i + 1] - off[i]), fmt);
    run_all(off, copy, len, valid, bit_off, n, fmt, threads, 1);

    /* raw offsets from the input: whatever check_strings accepts must be safe to convert */
    if (size >= 2 + 16) {
        size_t nr = (size - 2) / 8 - 1;
        if (nr > 64)
            nr = 64;
        int64_t *raw = malloc((nr + 1) * sizeof *raw);
        if (raw) {
            memcpy(raw, in + 2, (nr + 1) * sizeof *raw);
            if (bo_v2x_check_strings(raw, nr, len, valid, vlen, bit_off, NULL) == BO_OK)
                run_all(raw, copy, len, valid, bit_off, nr, fmt, threads, 0);
            check_parts(raw, nr + 1, threads);
            free(raw);
        }
    }
done:
    free(off);
    free(copy);
    free(valid);
    return 0;
}
