/* C unit tests of the CSV tokenizer, scanner and converters (run under ASan+UBSan in CI). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "blockops/bo_csv.h"
#include "bo_test.h"
#include "numparse.h"
#include "numparse_fast.h"

static uint64_t rng_state = 12345;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static bo_csv_tok_opts topts(int nf, int final, int threads)
{
    bo_csv_tok_opts o = {',', '"', nf, final, 0, 0, threads, 0, 0};
    return o;
}

/* fields of row r as one "a|b|c" string, unquoted */
static void row_text(const char *buf, const bo_csv_index *ix, int64_t r, char *out, size_t cap)
{
    size_t k = 0;
    for (int f = 0; f < ix->n_fields; f++) {
        uint32_t a = bo_csv_field_start(ix, r, f), b = bo_csv_field_end(ix, r, f);
        char tmp[256];
        size_t n = b - a;
        const char *s = buf + a;
        if (n && *s == '"') {
            n = bo_csv_unquote(s, n, '"', tmp);
            s = tmp;
        }
        if (f && k + 1 < cap)
            out[k++] = '|';
        for (size_t i = 0; i < n && k + 1 < cap; i++)
            out[k++] = s[i];
    }
    out[k] = '\0';
}

static void test_tokenize_basic(void)
{
    const char *in = "a,b,c\r\n1,\"x,\"\"y\"\"\nz\",3\n\n  \n4,5\n6,7,8";
    bo_csv_index ix;
    bo_error err;
    bo_csv_tok_opts o = topts(0, 1, 1);
    CHECK(bo_csv_tokenize(in, strlen(in), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_fields == 3);
    CHECKF(ix.n_rows == 4, "rows %lld", (long long)ix.n_rows);
    char t[256];
    row_text(in, &ix, 0, t, sizeof t);
    CHECKF(!strcmp(t, "a|b|c"), "%s", t);
    row_text(in, &ix, 1, t, sizeof t);
    CHECKF(!strcmp(t, "1|x,\"y\"\nz|3"), "%s", t);
    CHECK(ix.flags[2] == BO_CSV_ROW_FIELDS && ix.counts[2] == 2);
    row_text(in, &ix, 3, t, sizeof t);
    CHECKF(!strcmp(t, "6|7|8"), "%s", t);
    CHECK(ix.consumed == strlen(in));
    CHECK(ix.n_bad == 1);
    bo_csv_index_free(&ix);

    /* not final: the unterminated last row stays unconsumed */
    o = topts(3, 0, 1);
    CHECK(bo_csv_tokenize(in, strlen(in), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 3);
    CHECK(ix.consumed == strlen(in) - strlen("6,7,8"));
    bo_csv_index_free(&ix);

    /* a quote open at the end: incomplete, or flagged when final */
    const char *uq = "a,b\n1,\"abc\n";
    o = topts(2, 0, 1);
    CHECK(bo_csv_tokenize(uq, strlen(uq), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 1 && ix.consumed == 4);
    bo_csv_index_free(&ix);
    o = topts(2, 1, 1);
    CHECK(bo_csv_tokenize(uq, strlen(uq), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 2 && ix.flags[1] == BO_CSV_ROW_UNTERMINATED);
    bo_csv_index_free(&ix);

    /* a quote inside an unquoted field is data; text after a closing quote is appended */
    const char *lit = "a\"b,\"c\"d,e\n";
    o = topts(0, 1, 1);
    CHECK(bo_csv_tokenize(lit, strlen(lit), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 1 && ix.n_fields == 3);
    row_text(lit, &ix, 0, t, sizeof t);
    CHECKF(!strcmp(t, "a\"b|cd|e"), "%s", t);
    bo_csv_index_free(&ix);

    /* max_row_bytes */
    const char *lng = "aaaaaaaaaaaaaaaaaaaa,b\nc,d\n";
    o = topts(2, 1, 1);
    o.max_row_bytes = 10;
    CHECK(bo_csv_tokenize(lng, strlen(lng), &o, &ix, &err) == BO_ERR_LIMIT);
    CHECK(err.byte_offset == 0);
    /* an unterminated tail longer than the limit is an error too (the caller would grow forever) */
    o.final = 0;
    const char *tail = "a,b\nccccccccccccccccccccccc";
    CHECK(bo_csv_tokenize(tail, strlen(tail), &o, &ix, &err) == BO_ERR_LIMIT);
    CHECK(err.byte_offset == 4);

    /* blank input */
    o = topts(0, 1, 1);
    CHECK(bo_csv_tokenize("\n\n  \r\n", 6, &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 0 && ix.consumed == 6);
    bo_csv_index_free(&ix);
    CHECK(bo_csv_tokenize("", 0, &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 0);
    bo_csv_index_free(&ix);
    CHECK(bo_csv_count_lines("a\r\nb\rc\n", 7) == 3);

    /* a blank that is the delimiter makes fields: "\t\n" with a tab delimiter is a row of two
     * empty fields (pandas), "  \n" still a blank line; the scanner counts the same rows */
    const char *tabs = "a\tb\n\t\n  \n \t\n1\t2\n";
    o = topts(0, 1, 1);
    o.delimiter = '\t';
    CHECK(bo_csv_tokenize(tabs, strlen(tabs), &o, &ix, &err) == BO_OK);
    CHECKF(ix.n_rows == 4 && ix.n_fields == 2, "rows %lld", (long long)ix.n_rows);
    CHECK(ix.n_bad == 0);
    CHECK(ix.n_rows < 2 || bo_csv_field_start(&ix, 1, 0) == bo_csv_field_end(&ix, 1, 0));
    bo_csv_index_free(&ix);
    bo_csv_scan sc;
    bo_csv_scan_init(&sc, '\t', '"');
    uint64_t tg = 0;
    int64_t fo = -1, rb, lb;
    bo_csv_scan_feed(&sc, tabs, strlen(tabs), &tg, &fo, &rb, &lb, 1);
    CHECKF(bo_csv_scan_finish(&sc) == 4, "scan %lld", (long long)bo_csv_scan_finish(&sc));
    const char *spaces = "a b\n \nx\ty\n";
    o.delimiter = ' ';
    CHECK(bo_csv_tokenize(spaces, strlen(spaces), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 3 && ix.n_bad == 1); /* " " is a row of 2 fields, "x\ty" of 1 */
    bo_csv_index_free(&ix);
}

/* A random CSV with quoted fields, embedded newlines, CRLF, blank lines. */
static char *random_csv(size_t rows, int nf, size_t *len, int stray_quotes)
{
    size_t cap = rows * (size_t)nf * 40 + 64, k = 0;
    char *b = malloc(cap);
    for (size_t r = 0; r < rows; r++) {
        if (rnd() % 50 == 0)
            b[k++] = '\n';
        for (int f = 0; f < nf; f++) {
            if (f)
                b[k++] = ',';
            int kind = (int)(rnd() % 6);
            if (kind == 0) {
                b[k++] = '"';
                int n = (int)(rnd() % 8);
                for (int i = 0; i < n; i++) {
                    int c = (int)(rnd() % 6);
                    if (c == 0) { b[k++] = '"'; b[k++] = '"'; }
                    else if (c == 1) b[k++] = '\n';
                    else if (c == 2) b[k++] = ',';
                    else b[k++] = (char)('a' + rnd() % 26);
                }
                b[k++] = '"';
            } else if (kind == 1 && stray_quotes) {
                b[k++] = 'x';
                b[k++] = '"';
            } else {
                k += (size_t)sprintf(b + k, "%llu", (unsigned long long)(rnd() % 100000));
            }
        }
        if (rnd() % 3 == 0)
            b[k++] = '\r';
        b[k++] = '\n';
    }
    *len = k;
    return b;
}

/* The index's offsets from a pool (what the binding passes): the same index, sequential and
 * split, a second read served by the buffers the first gave back; and rows of empty fields,
 * whose index outgrows the first guess (rows_guess) and grows through the pool. */
static void test_index_in_pool(void)
{
    bo_pool pool;
    bo_pool_init(&pool, (size_t)256 << 20);
    size_t len;
    char *b = random_csv(120000, 5, &len, 0);
    const size_t empty_len = (size_t)3 << 20;
    char *e = malloc(empty_len);
    CHECK(e != NULL);
    for (size_t i = 0; e && i < empty_len; i++)
        e[i] = i % 5 == 4 ? '\n' : ',';
    for (int k = 0; b && e && k < 2; k++) {
        const char *in = k ? e : b;
        const size_t n = k ? empty_len : len;
        bo_csv_index s, p;
        bo_error err;
        bo_csv_tok_opts o = topts(5, 1, 1);
        CHECK(bo_csv_tokenize(in, n, &o, &s, &err) == BO_OK);
        for (int rep = 0; rep < 2; rep++)
            for (int T = 1; T <= 2; T++) {
                o = topts(5, 1, T);
                o.pool = &pool;
                CHECK(bo_csv_tokenize(in, n, &o, &p, &err) == BO_OK);
                CHECKF(p.n_rows == s.n_rows && p.consumed == s.consumed && p.pool == &pool,
                       "input %d T=%d rows %lld vs %lld", k, T, (long long)p.n_rows,
                       (long long)s.n_rows);
                if (p.n_rows == s.n_rows) {
                    CHECK(!memcmp(p.offs, s.offs, (size_t)s.n_rows * 6 * sizeof *s.offs));
                    CHECK(!memcmp(p.flags, s.flags, (size_t)s.n_rows));
                    CHECK(!memcmp(p.counts, s.counts, (size_t)s.n_rows * sizeof *s.counts));
                }
                bo_csv_index_free(&p);
            }
        if (k == 1)
            CHECK(s.n_rows == (int64_t)((empty_len + 4) / 5)); /* (the last row unterminated) */
        bo_csv_index_free(&s);
    }
    const bo_pool_stats st = bo_pool_get_stats(&pool);
    CHECKF(st.hits > 0, "hits %llu misses %llu", (unsigned long long)st.hits,
           (unsigned long long)st.misses);
    free(b);
    free(e);
    bo_pool_set_limit(&pool, 0);
}

static void test_parallel_equals_sequential(void)
{
    for (int stray = 0; stray < 2; stray++) {
        size_t len;
        char *b = random_csv(120000, 5, &len, stray);
        bo_csv_index s, p;
        bo_error err;
        bo_csv_tok_opts o = topts(5, 1, 1);
        CHECK(bo_csv_tokenize(b, len, &o, &s, &err) == BO_OK);
        for (int lv = 1; lv < BO_SIMD_NLEVELS; lv++) { /* every scan build, one thread */
            if (!bo_simd_compiled((bo_simd_level)lv) || !bo_simd_cpu_supports((bo_simd_level)lv))
                continue;
            o = topts(5, 1, 1);
            o.simd = lv;
            CHECK(bo_csv_tokenize(b, len, &o, &p, &err) == BO_OK);
            CHECKF(p.n_rows == s.n_rows && p.consumed == s.consumed && p.n_lines == s.n_lines,
                   "simd %d", lv);
            if (p.n_rows == s.n_rows) {
                CHECK(!memcmp(p.offs, s.offs, (size_t)s.n_rows * 6 * sizeof *s.offs));
                CHECK(!memcmp(p.flags, s.flags, (size_t)s.n_rows));
                CHECK(!memcmp(p.counts, s.counts, (size_t)s.n_rows * sizeof *s.counts));
            }
            bo_csv_index_free(&p);
        }
        for (int T = 2; T <= 4; T++) {
            o = topts(5, 1, T);
            o.simd = (T - 2) % BO_SIMD_NLEVELS;
            if (!bo_simd_compiled((bo_simd_level)o.simd) ||
                !bo_simd_cpu_supports((bo_simd_level)o.simd))
                o.simd = 0;
            CHECK(bo_csv_tokenize(b, len, &o, &p, &err) == BO_OK);
            CHECKF(p.n_rows == s.n_rows, "T=%d rows %lld vs %lld", T, (long long)p.n_rows,
                   (long long)s.n_rows);
            CHECK(p.consumed == s.consumed);
            if (p.n_rows == s.n_rows) {
                CHECK(!memcmp(p.offs, s.offs, (size_t)s.n_rows * 6 * sizeof *s.offs));
                CHECK(!memcmp(p.flags, s.flags, (size_t)s.n_rows));
            }
            if (!stray)
                CHECKF(p.speculated == 1 || len < ((size_t)T << 20), "T=%d not split", T);
            bo_csv_index_free(&p);
        }
        /* scanner agrees with the tokenizer on row count and row starts */
        bo_csv_scan sc;
        bo_csv_scan_init(&sc, ',', '"');
        /* the last target is the last row's own start: always found, whatever that row's length */
        uint64_t targets[3] = {len / 4, len / 2, bo_csv_row_start(&s, s.n_rows - 1)};
        int64_t found[3] = {-1, -1, -1}, before[3], lines[3];
        for (size_t at = 0; at < len; at += 4093) {
            size_t n = len - at < 4093 ? len - at : 4093;
            bo_csv_scan_feed(&sc, b + at, n, targets, found, before, lines, 3);
        }
        CHECKF(bo_csv_scan_finish(&sc) == s.n_rows, "scan %lld vs %lld",
               (long long)bo_csv_scan_finish(&sc), (long long)s.n_rows);
        for (int i = 0; i < 3; i++) {
            CHECK(found[i] >= 0);
            if (found[i] < 0 || found[i] >= (int64_t)len)
                continue;
            CHECK(lines[i] == bo_csv_count_lines(b, (size_t)found[i]));
            /* the row after `before[i]` rows starts at or after found (blank lines may precede) */
            if (before[i] < s.n_rows)
                CHECKF(bo_csv_row_start(&s, before[i]) >= (uint32_t)found[i] &&
                           (before[i] == 0 || bo_csv_row_start(&s, before[i] - 1) < (uint32_t)found[i]),
                       "target %d", i);
        }
        bo_csv_index_free(&s);
        free(b);
    }
}

/* Two threads cut a slice in half, and the second one guesses the quote state there from
 * the quotes that follow the cut (quote_state_at in tokenize.c), or counts every quote before
 * it when they do not tell. Each case puts the cut at many bytes of one region: inside a long
 * quoted field with no quote for more than the 64 KiB the guess looks at (guessed wrong: the
 * ends do not meet and the slice is tokenized sequentially), before doubled quotes in a
 * quoted field, among fields that are only "" (no telling run: the count), among rows
 * with no quotes at all, and at each of 400 bytes of random valid CSV. Always the sequential
 * index. */
static void test_parallel_cut_in_quotes(void)
{
    const size_t tail = (size_t)1 << 20; /* after the region: the slice stays over 2 MiB */
    for (int kind = 0; kind < 5; kind++) {
        /* the region, and where in it the cut lands */
        size_t cap = 300000, S = 0;
        char *reg = kind == 4 ? random_csv(3000, 3, &S, 0) : malloc(cap);
        if (kind == 4) {
            /* valid CSV with quoted commas, line breaks and doubled quotes: the cut at each
             * of its first 400 bytes (below) */
        } else if (kind == 0) {
            S += (size_t)sprintf(reg + S, "1,\"");
            while (S < 100000)
                S += (size_t)sprintf(reg + S, "lorem ipsum, dolor\n");
            S += (size_t)sprintf(reg + S, "\",z\n");
        } else if (kind == 1) {
            S += (size_t)sprintf(reg + S, "2,\"");
            for (int i = 0; i < 300; i++)
                reg[S++] = 'q';
            S += (size_t)sprintf(reg + S, "\"\"inner\"\" text, more\n\",z\n");
        } else if (kind == 2) {
            while (S < 100000)
                S += (size_t)sprintf(reg + S, "\"\",\"\",\"\"\n");
        } else {
            while (S < 100000)
                S += (size_t)sprintf(reg + S, "12345,abcdef,ghij\n");
        }
        const size_t ds[] = {1, 2, 3, 4, 5, 40, 301, 302, 303, 304, 5000};
        const size_t nd = kind == 4 ? 400 : sizeof ds / sizeof ds[0];
        for (size_t k = 0; k < nd; k++) {
            const size_t d = kind == 4 ? k + 1 : ds[k];
            if (d >= S)
                continue;
            /* the prefix length P that puts the cut (n / 2) at byte d of the region */
            size_t P = 0;
            const size_t est = S + tail - 2 * d;
            for (size_t p = est - 400; p < est + 400; p++)
                if ((p + S + tail) / 2 == p + d) {
                    P = p;
                    break;
                }
            CHECKF(P > 0, "kind %d d %zu: no prefix", kind, d);
            if (!P)
                continue;
            const size_t n = P + S + tail;
            char *b = malloc(n);
            size_t at = 0;
            while (at + 40 <= P) /* rows of 20 bytes, one padded row to end at P */
                at += (size_t)sprintf(b + at, "aaaaaa,\"bb,bb\",cccc\n");
            memcpy(b + at, "a,b,", 4);
            memset(b + at + 4, 'z', P - at - 5);
            b[P - 1] = '\n';
            memcpy(b + P, reg, S);
            for (at = P + S; at + 20 <= n;)
                at += (size_t)sprintf(b + at, "dddddd,eeeeee,ffff\n");
            memset(b + at, '\n', n - at);
            bo_csv_index s, p;
            bo_error err;
            bo_csv_tok_opts o = topts(3, 1, 1);
            CHECK(bo_csv_tokenize(b, n, &o, &s, &err) == BO_OK);
            o = topts(3, 1, 2);
            CHECK(bo_csv_tokenize(b, n, &o, &p, &err) == BO_OK);
            CHECKF(p.n_rows == s.n_rows && p.consumed == s.consumed, "kind %d d %zu", kind, d);
            if (p.n_rows == s.n_rows) {
                CHECKF(!memcmp(p.offs, s.offs, (size_t)s.n_rows * 4 * sizeof *s.offs) &&
                           !memcmp(p.flags, s.flags, (size_t)s.n_rows),
                       "kind %d d %zu", kind, d);
            }
            /* a guess is wrong only inside the long quoted field */
            CHECKF(kind == 0 || p.speculated == 1, "kind %d d %zu: not split", kind, d);
            bo_csv_index_free(&s);
            bo_csv_index_free(&p);
            free(b);
        }
        free(reg);
    }
}

static void check_double(const char *s)
{
    double a, b = strtod(s, NULL);
    int rc = bo_csv_parse_double(s, strlen(s), &a);
    CHECKF(rc == 0, "%s not parsed", s);
    CHECKF(rc != 0 || memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)),
           "%s: %.17g vs strtod %.17g", s, a, b);
}

static void test_doubles(void)
{
    const char *fixed[] = {"0", "-0", "1", "1.5", ".5", "5.", "1e308", "1.7976931348623157e308",
                           "1.7976931348623159e308", "2.2250738585072011e-308",
                           "2.2250738585072014e-308", "4.9406564584124654e-324", "2e-324",
                           "3e-324", "1e-400", "1e400", "-105.93000172903601",
                           "41.2499985590967", "9007199254740993", "0.1", "0.30000000000000004",
                           "123456789012345678901234567890", "1.00000000000000011102230246251565404236316680908203125",
                           "1.00000000000000011102230246251565404236316680908203124",
                           "1.00000000000000011102230246251565404236316680908203126",
                           "7.3177701707893310e+15", "inf", "-Infinity", "INF", "+iNfInItY", "1E5", "1e+05",
                           "000000000000000000000000000001.5", "0.000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        check_double(fixed[i]);
    /* as pandas' C parser: no NaN spelling is a number (NaN comes from the NA strings only), and
     * infinity only as the whole field, without blanks around it */
    const char *badv[] = {"", ".", "e5", "1e", "1e+", "--1", "1.2.3", "0x10", "1_000", "abc", "1 2",
                          "nan", "NaN", "NAN", "-nan", "+nan", " nan", " inf", "inf ", "\t-inf",
                          "infinit", "infx"};
    for (size_t i = 0; i < sizeof badv / sizeof *badv; i++) {
        double d;
        CHECKF(bo_csv_parse_double(badv[i], strlen(badv[i]), &d) != 0, "'%s' accepted", badv[i]);
    }
    double d;
    CHECK(bo_csv_parse_double("  2.5\t", 6, &d) == 0 && d == 2.5);
    CHECK(bo_csv_parse_double(" 1e400 ", 7, &d) == 0 && isinf(d)); /* a number, overflowing */
    /* pandas skips every C isspace blank around a number (\v, \f; \r, \n inside quotes) */
    CHECK(bo_csv_parse_double("\v1.5\f", 5, &d) == 0 && d == 1.5);
    CHECK(bo_csv_parse_double("\n2.5\r", 5, &d) == 0 && d == 2.5);
    CHECK(bo_csv_parse_double("\vinf", 4, &d) != 0);
    int64_t i64;
    CHECK(bo_parse_int64("\v17\f", 4, &i64) == 0 && i64 == 17);
    CHECK(bo_parse_int64("\r-3\n", 4, &i64) == 0 && i64 == -3);
    /* random: shortest repr round trips and random digit strings */
    char s[64];
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = rnd();
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x))
            continue;
        snprintf(s, sizeof s, "%.17g", x);
        check_double(s);
        snprintf(s, sizeof s, "%.*e", (int)(rnd() % 25), x);
        check_double(s);
    }
    for (int i = 0; i < 100000; i++) {
        int nd = 1 + (int)(rnd() % 24), k = 0;
        for (int j = 0; j < nd; j++)
            s[k++] = (char)('0' + rnd() % 10);
        if (rnd() % 2) {
            int at = (int)(rnd() % (unsigned)nd);
            memmove(s + at + 1, s + at, (size_t)(k - at));
            s[at] = '.';
            k++;
        }
        k += sprintf(s + k, "e%d", (int)(rnd() % 700) - 350);
        s[k] = '\0';
        check_double(s);
    }
}

static void test_ints_hex_dates(void)
{
    int64_t v;
    CHECK(bo_parse_int64("9223372036854775807", 19, &v) == 0 && v == INT64_MAX);
    CHECK(bo_parse_int64("-9223372036854775808", 20, &v) == 0 && v == INT64_MIN);
    CHECK(bo_parse_int64("9223372036854775808", 19, &v) == -2);
    /* too large, but not an integer: not out of range (inference took it for a big int) */
    CHECK(bo_parse_int64("11111111111111111111.5", 22, &v) == -1);
    CHECK(bo_parse_int64("-99999999999999999999x", 22, &v) == -1);
    CHECK(bo_parse_int64("99999999999999999999 ", 21, &v) == -2);
    uint64_t u;
    CHECK(bo_parse_uint64("99999999999999999999", 20, &u) == -2);
    CHECK(bo_parse_uint64("99999999999999999999e3", 22, &u) == -1);
    CHECK(bo_parse_int64(" +12 ", 5, &v) == 0 && v == 12);
    CHECK(bo_parse_int64("1.0", 3, &v) == -1);
    CHECK(bo_parse_int64("-", 1, &v) == -1);
    uint64_t h;
    CHECK(bo_parse_hex64("CB950124", 8, &h) == 0 && h == 0xCB950124ULL);
    CHECK(bo_parse_hex64("cb950124.0", 10, &h) == 0 && h == 0xCB950124ULL);
    CHECK(bo_parse_hex64("0xFFFFFFFFFFFFFFFF", 18, &h) == 0 && h == UINT64_MAX);
    CHECK(bo_parse_hex64("1FFFFFFFFFFFFFFFF", 17, &h) == -2);
    CHECK(bo_parse_hex64("G1", 2, &h) == -1);
    bo_csv_dtfmt f;
    bo_error err;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &f, &err) == BO_OK);
    int64_t ns;
    CHECK(bo_parse_datetime_fmt("07/31/2019 12:41:59 PM", 22, &f, &ns) == 0);
    CHECK(ns == 1564576919LL * 1000000000LL);
    CHECK(bo_parse_datetime_fmt("07/31/2019 12:41:59 AM", 22, &f, &ns) == 0);
    CHECK(ns == (1564576919LL - 12 * 3600) * 1000000000LL);
    CHECK(bo_parse_datetime_fmt("02/30/2019 12:41:59 AM", 22, &f, &ns) == -1);
    CHECK(bo_parse_datetime_fmt("07/31/2019 13:41:59 PM", 22, &f, &ns) == -1);
    CHECK(bo_csv_dtfmt_compile("%Q", &f, &err) == BO_ERR_ARG);
    CHECK(bo_parse_datetime_iso("2019-07-31T12:41:59.5Z", 22, &ns) == 0);
    CHECK(ns == 1564576919LL * 1000000000LL + 500000000LL);
    CHECK(bo_parse_datetime_iso("2019-07-31 14:41:59+02:00", 25, &ns) == 0);
    CHECK(ns == 1564576919LL * 1000000000LL);
    CHECK(bo_parse_datetime_iso("2019-07-31", 10, &ns) == 0 && ns == 1564531200LL * 1000000000LL);
    CHECK(bo_parse_datetime_iso("1500-01-01", 10, &ns) == -2);
    CHECK(bo_parse_datetime_iso("2019-7-31", 9, &ns) == -1);
}

/* inference: an all-missing field says has_na 2 (no type seen); padded booleans stay text */
static void test_infer_states(void)
{
    const char *in = "NA, TRUE,1,true\n,FALSE,NA,FALSE\n";
    bo_csv_index ix;
    bo_error err;
    bo_csv_tok_opts o = topts(4, 1, 1);
    CHECK(bo_csv_tokenize(in, strlen(in), &o, &ix, &err) == BO_OK && ix.n_rows == 2);
    const char *nav[] = {"", "NA"};
    size_t nal[] = {0, 2};
    bo_csv_na na;
    bo_csv_na_init(&na, nav, nal, 2);
    int has_na = -1;
    CHECK(bo_csv_infer(in, &ix, 0, '"', &na, 0, &has_na) == BO_CSV_FLOAT64 && has_na == 2);
    CHECK(bo_csv_infer(in, &ix, 1, '"', &na, 0, &has_na) == BO_CSV_STR && has_na == 1);
    CHECK(bo_csv_infer(in, &ix, 2, '"', &na, 0, &has_na) == BO_CSV_INT64 && has_na == 1);
    CHECK(bo_csv_infer(in, &ix, 3, '"', &na, 0, &has_na) == BO_CSV_BOOL && has_na == 0);
    bo_csv_index_free(&ix);

    /* numeric missing values: "-999" also makes -999.0 and -9.99e2 missing in a float column
     * (pandas), not NaN spellings; an int column matches the text only */
    {
        const char *numv[] = {"", "NA", "-999", "nan"};
        size_t numl[] = {0, 2, 4, 3};
        double buf[4];
        bo_csv_na nn;
        bo_csv_na_init(&nn, numv, numl, 4);
        CHECK(nn.n_nums == 0);
        bo_csv_na_numbers(&nn, buf);
        CHECK(nn.n_nums == 1 && buf[0] == -999.0);
        const char *fl = "-999.0\n-9.99e2\n2.5\n-999\n";
        bo_csv_tok_opts fo = topts(1, 1, 1);
        CHECK(bo_csv_tokenize(fl, strlen(fl), &fo, &ix, &err) == BO_OK && ix.n_rows == 4);
        double f[4];
        uint8_t fbad[4] = {0};
        bo_csv_col fc = {.field = 0, .type = BO_CSV_FLOAT64, .na = &nn, .out = f};
        bo_csv_conv_opts fco = {'"', 1, 0, BO_SIMD_SCALAR, NULL};
        CHECK(bo_csv_convert(fl, &ix, &fc, 1, &fco, fbad, &err) == BO_OK);
        CHECK(isnan(f[0]) && isnan(f[1]) && f[2] == 2.5 && isnan(f[3]));
        bo_csv_index_free(&ix);
    }

    /* integers beyond int64: uint64 when all fit and none is negative or missing, else
     * BIGINT (exact integers), float64 with a fraction */
    const char *big = "18446744073709551615,18446744073709551616,9223372036854775808,1,9223372036854775808,99999999999999999999\n"
                      "+1,1,-1,2.5,NA,7\n";
    o = topts(6, 1, 1);
    CHECK(bo_csv_tokenize(big, strlen(big), &o, &ix, &err) == BO_OK && ix.n_rows == 2);
    CHECK(bo_csv_infer(big, &ix, 0, '"', &na, 0, &has_na) == BO_CSV_UINT64 && has_na == 0);
    CHECK(bo_csv_infer(big, &ix, 1, '"', &na, 0, &has_na) == BO_CSV_BIGINT);
    CHECK(bo_csv_infer(big, &ix, 2, '"', &na, 0, &has_na) == BO_CSV_BIGINT);
    CHECK(bo_csv_infer(big, &ix, 3, '"', &na, 0, &has_na) == BO_CSV_FLOAT64);
    CHECK(bo_csv_infer(big, &ix, 4, '"', &na, 0, &has_na) == BO_CSV_BIGINT && has_na == 1);
    CHECK(bo_csv_infer(big, &ix, 5, '"', &na, 0, &has_na) == BO_CSV_BIGINT);
    uint64_t u64[2];
    uint8_t bad[2] = {0};
    bo_csv_col c = {.field = 0, .type = BO_CSV_UINT64, .na = &na, .out = u64};
    bo_csv_conv_opts co = {'"', 1, 0, BO_SIMD_SCALAR, NULL};
    CHECK(bo_csv_convert(big, &ix, &c, 1, &co, bad, &err) == BO_OK);
    CHECK(u64[0] == UINT64_MAX && u64[1] == 1 && !bad[0] && !bad[1]);
    c.field = 1;
    CHECK(bo_csv_convert(big, &ix, &c, 1, &co, bad, &err) == BO_ERR_PARSE && bad[0] && !bad[1]);
    c.field = 2;
    bad[0] = 0;
    CHECK(bo_csv_convert(big, &ix, &c, 1, &co, bad, &err) == BO_ERR_PARSE && !bad[0] && bad[1]);
    c.type = BO_CSV_BIGINT;
    CHECK(bo_csv_convert(big, &ix, &c, 1, &co, bad, &err) == BO_ERR_ARG);
    bo_csv_index_free(&ix);
}

/* pad_short: a short row's missing trailing fields are missing values (both tokenizer paths,
 * a quoted last field, string sizing with padded rows); a long row stays bad */
static void test_pad_short(void)
{
    const char *in = "1,ab,2.5\n3\n4,\"q,\"\"r\"\n5,x,6,7\n8,,\n9,NA\n";
    for (int bp = 0; bp < 2; bp++)
        for (int pad = 0; pad < 2; pad++) {
            bo_csv_index ix;
            bo_error err;
            bo_csv_tok_opts o = topts(3, 1, 1);
            o.byte_path_only = bp;
            CHECK(bo_csv_tokenize(in, strlen(in), &o, &ix, &err) == BO_OK && ix.n_rows == 6);
            const char *nav[] = {"", "NA"};
            size_t nal[] = {0, 2};
            bo_csv_na na;
            bo_csv_na_init(&na, nav, nal, 2);
            int64_t i64[6];
            double f64[6];
            uint8_t m0[6], m1[6], m2[6], bad[6] = {0};
            bo_csv_col cols[3] = {
                {.field = 0, .type = BO_CSV_INT64, .nullable = 1, .na = &na, .out = i64, .mask = m0},
                {.field = 1, .type = BO_CSV_STR, .na = &na, .mask = m1},
                {.field = 2, .type = BO_CSV_FLOAT64, .nullable = 1, .na = &na, .out = f64,
                 .mask = m2}};
            bo_csv_conv_opts co = {'"', 2, pad, BO_SIMD_SCALAR, NULL};
            bo_status st = bo_csv_convert(in, &ix, cols, 3, &co, bad, &err);
            CHECK(st == BO_OK);
            CHECK(!bad[0] && bad[3] && !bad[4]);
            CHECK(bad[1] == !pad && bad[2] == !pad && bad[5] == !pad);
            CHECK(i64[0] == 1 && f64[0] == 2.5 && !m2[0]);
            if (pad) {
                CHECK(i64[1] == 3 && !m0[1] && m1[1] && m2[1]);
                CHECK(i64[2] == 4 && !m1[2] && m2[2]);
                size_t len;
                const char *v = bo_csv_str_value(&cols[1], 2, &len);
                CHECKF(len == 4 && !memcmp(v, "q,\"r", 4), "padded quoted field: %.*s",
                       (int)len, v);
                CHECK(i64[5] == 9 && m1[5] && m2[5]);
            }
            CHECK(i64[4] == 8 && m1[4] && m2[4]);
            int has_na = -1; /* padded rows: field 2 is missing in rows 1, 2 and 5 */
            CHECK(bo_csv_infer(in, &ix, 2, '"', &na, pad, &has_na) == BO_CSV_FLOAT64);
            CHECK(has_na == 1);
            CHECK(bo_csv_infer(in, &ix, 0, '"', &na, pad, &has_na) == BO_CSV_INT64 && !has_na);
            bo_csv_str_free(&cols[1], NULL);
            bo_csv_index_free(&ix);
        }
}

static void test_convert(void)
{
    const char *in = "1,2.5,POINT (-105.9 41.25),CB950124,\"x\"\"y\",07/31/2019 12:41:59 PM\n"
                     "NA,,POINT(1 2),ff.0,,01/01/2020 01:00:00 AM\n"
                     "3,abc,POINT (1),zz,s,bad\n";
    bo_csv_index ix;
    bo_error err;
    bo_csv_tok_opts o = topts(6, 1, 1);
    CHECK(bo_csv_tokenize(in, strlen(in), &o, &ix, &err) == BO_OK);
    CHECK(ix.n_rows == 3);
    const char *nav[] = {"", "NA"};
    size_t nal[] = {0, 2};
    bo_csv_na na;
    bo_csv_na_init(&na, nav, nal, 2);
    int64_t i64[3];
    uint8_t m0[3], m4[3], bad[3] = {0};
    double f64[3], lon[3], lat[3];
    uint64_t hx[3];
    int64_t dt[3];
    bo_csv_dtfmt fmt;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &fmt, &err) == BO_OK);
    bo_csv_col cols[6] = {
        {.field = 0, .type = BO_CSV_INT64, .nullable = 1, .na = &na, .out = i64, .mask = m0},
        {.field = 1, .type = BO_CSV_FLOAT64, .na = &na, .out = f64},
        {.field = 2, .type = BO_CSV_WKT_POINT, .na = &na, .out = lon, .out2 = lat},
        {.field = 3, .type = BO_CSV_HEX, .na = &na, .out = hx},
        {.field = 4, .type = BO_CSV_STR, .na = &na, .mask = m4},
        {.field = 5, .type = BO_CSV_DATETIME, .na = &na, .fmt = &fmt, .out = dt}};
    bo_csv_conv_opts co = {'"', 2, 0, BO_SIMD_SCALAR, NULL};
    bo_status st = bo_csv_convert(in, &ix, cols, 6, &co, bad, &err);
    CHECK(st == BO_ERR_PARSE);
    CHECKF(err.index == 2 && err.column == 1, "first bad %lld/%lld: %s", (long long)err.index,
           (long long)err.column, err.message);
    CHECK(strstr(err.message, "abc") != NULL);
    CHECK(!bad[0] && !bad[1] && bad[2]);
    CHECK(i64[0] == 1 && !m0[0] && m0[1] && i64[2] == 3);
    CHECK(f64[0] == 2.5 && isnan(f64[1]));
    CHECK(lon[0] == -105.9 && lat[0] == 41.25 && lon[1] == 1 && lat[1] == 2 && isnan(lon[2]));
    CHECK(hx[0] == 0xCB950124ULL && hx[1] == 0xff);
    size_t len4;
    const char *v4 = bo_csv_str_value(&cols[4], 0, &len4);
    CHECK(len4 == 3 && !memcmp(v4, "x\"y", 3) && m4[1] == 1 && !m4[2]);
    v4 = bo_csv_str_value(&cols[4], 2, &len4);
    CHECK(len4 == 1 && v4[0] == 's');
    CHECK(dt[0] == 1564576919LL * 1000000000LL && dt[2] == INT64_MIN);
    bo_csv_str_free(&cols[4], NULL);
    int has_na;
    CHECK(bo_csv_infer(in, &ix, 0, '"', &na, 0, &has_na) == BO_CSV_INT64 && has_na);
    CHECK(bo_csv_infer(in, &ix, 1, '"', &na, 0, &has_na) == BO_CSV_STR);
    CHECK(bo_csv_infer(in, &ix, 4, '"', &na, 0, &has_na) == BO_CSV_STR);
    bo_csv_index_free(&ix);
}

/* ---- fast paths against the reference parsers (numparse.h) ----
 * Every string is copied into a heap buffer of exactly its length, so ASan reports any read
 * past it (the fast paths load 8 bytes at a time). */
static char *exact_copy(const char *s, size_t n)
{
    char *b = malloc(n ? n : 1);
    if (!b) {
        CHECK(0);
        exit(1);
    }
    memcpy(b, s, n);
    return b;
}

static const char hostile[] = " \t.)(-+eExX0g/:@`\x80\xb0\xff";

/* one random byte replaced by a hostile one, sometimes */
static size_t mutate(char *s, size_t n, unsigned pct)
{
    if (n && rnd() % 100 < pct)
        s[rnd() % n] = hostile[rnd() % (sizeof hostile - 1)];
    return n;
}

static int gen_digits(char *o, int n)
{
    for (int i = 0; i < n; i++)
        o[i] = (char)('0' + rnd() % 10);
    return n;
}

static int gen_number(char *o)
{
    int k = 0;
    unsigned r = (unsigned)(rnd() % 10);
    if (r < 4)
        o[k++] = '-';
    else if (r == 4)
        o[k++] = '+';
    int ni = rnd() % 4 ? (int)(rnd() % 4) : (int)(rnd() % 22);
    if (rnd() % 8 == 0)
        for (int z = (int)(rnd() % 4); z > 0; z--)
            o[k++] = '0';
    k += gen_digits(o + k, ni);
    if (rnd() % 10) {
        o[k++] = '.';
        int nf = rnd() % 3 ? 10 + (int)(rnd() % 8) : (int)(rnd() % 22);
        k += gen_digits(o + k, nf);
    }
    if (rnd() % 10 == 0)
        k += sprintf(o + k, "e%d", (int)(rnd() % 40) - 20);
    return k;
}

static void test_fast_double(void)
{
    char s[96];
    int bad = 0;
    for (int i = 0; i < 300000 && bad < 5; i++) {
        size_t n = (size_t)gen_number(s);
        n = mutate(s, n, 5);
        char *b = exact_copy(s, n);
        double x = 1, y = 2;
        int rx = bo_parse_double_trimmed(b, n, &x), ry = bo_parse_double_ref(b, n, &y);
        if (rx != ry || (rx == 0 && memcmp(&x, &y, sizeof x))) {
            CHECKF(0, "double '%.*s': %d %.17g vs reference %d %.17g", (int)n, s, rx, x, ry, y);
            bad++;
        }
        free(b);
    }
}

/* Inference's shortcut for float values: whatever bo_csv_plain_decimal takes,
 * bo_csv_parse_double takes too (so the inferred type is the same without converting), on the
 * number generator's texts and their mutations, and on a few chosen ones. */
static void test_plain_decimal(void)
{
    char s[96];
    int bad = 0, plain = 0;
    for (int i = 0; i < 300000 && bad < 5; i++) {
        size_t n = (size_t)gen_number(s);
        n = mutate(s, n, 5);
        char *b = exact_copy(s, n);
        double x;
        if (bo_csv_plain_decimal(b, n)) {
            plain++;
            if (bo_csv_parse_double(b, n, &x) != 0) {
                CHECKF(0, "plain decimal '%.*s' does not parse", (int)n, s);
                bad++;
            }
        }
        free(b);
    }
    CHECKF(plain > 10000, "only %d plain decimals generated", plain);
    static const char *const yes[] = {"0", "-0", "+5.25", "7", "123456789012345678901234567890.5",
                                      "-0.000000000000000000000000000001"};
    static const char *const no[] = {"", "+", "-", "1.", ".5", "-.5", "1e5", " 1", "1 ", "1.2.3",
                                     "inf", "nan", "0x10", "1,5"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        double x;
        CHECKF(bo_csv_plain_decimal(yes[i], strlen(yes[i])) &&
                   bo_csv_parse_double(yes[i], strlen(yes[i]), &x) == 0,
               "'%s'", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        CHECKF(!bo_csv_plain_decimal(no[i], strlen(no[i])), "'%s'", no[i]);
    char big[401]; /* 1e400: inf, still a number */
    memset(big, '9', 400);
    big[400] = 0;
    double x;
    CHECK(bo_csv_plain_decimal(big, 400) && bo_csv_parse_double(big, 400, &x) == 0);
}

static void test_fast_hex(void)
{
    static const char alpha[] = "0123456789abcdefABCDEF0123456789";
    char s[64];
    int bad = 0;
    for (int i = 0; i < 300000 && bad < 5; i++) {
        size_t n = 0;
        if (rnd() % 8 == 0)
            s[n++] = ' ';
        if (rnd() % 6 == 0) {
            s[n++] = '0';
            s[n++] = rnd() % 2 ? 'x' : 'X';
        }
        size_t nd = rnd() % 3 ? 8 : rnd() % 24;
        for (size_t j = 0; j < nd; j++)
            s[n++] = alpha[rnd() % (sizeof alpha - 1)];
        if (rnd() % 6 == 0) {
            s[n++] = '.';
            s[n++] = '0';
        }
        if (rnd() % 8 == 0)
            s[n++] = '\t';
        n = mutate(s, n, 15);
        char *b = exact_copy(s, n);
        uint64_t x = 1, y = 2;
        int rx = bo_parse_hex64(b, n, &x), ry = bo_parse_hex64_ref(b, n, &y);
        if (rx != ry || (rx == 0 && x != y)) {
            CHECKF(0, "hex '%.*s': %d %llx vs reference %d %llx", (int)n, s, rx,
                   (unsigned long long)x, ry, (unsigned long long)y);
            bad++;
        }
        free(b);
    }
    uint64_t h;
    CHECK(bo_parse_hex64("00000000", 8, &h) == 0 && h == 0);
    CHECK(bo_parse_hex64("fFfFfFfF", 8, &h) == 0 && h == 0xFFFFFFFFULL);
    CHECK(bo_parse_hex64("0x123456", 8, &h) == 0 && h == 0x123456);
    CHECK(bo_parse_hex64("123456.0", 8, &h) == 0 && h == 0x123456);
    CHECK(bo_parse_hex64("1234567\xb0", 8, &h) == -1); /* 0xB0 & 0x7F is '0' */
    CHECK(bo_parse_hex64("1234567G", 8, &h) == -1);
    CHECK(bo_parse_hex64("0000000000000000000000001", 25, &h) == 0 && h == 1);
    /* the first offending byte decides: the 17th digit overflows before the G is seen */
    CHECK(bo_parse_hex64("1FFFFFFFFFFFFFFFFG", 18, &h) == -2);
    CHECK(bo_parse_hex64_ref("1FFFFFFFFFFFFFFFFG", 18, &h) == -2);
    CHECK(bo_parse_hex64("1FFFFFFFFFFFFFFFG", 17, &h) == -1);
    CHECK(bo_parse_hex64("G1FFFFFFFFFFFFFFF", 17, &h) == -1);
}

static void test_fast_wkt(void)
{
    static const char *const pre[] = {"POINT (", "point (", "PoInT (", "POINT(", "POINT  (",
                                      "POINT\t(", "POINT ( ", "POINX (", "POINT [", " POINT (",
                                      "POINT (\t"};
    static const char *const sep[] = {" ", " ", " ", "  ", "\t", "", ",", " ) "};
    static const char *const post[] = {")", ")", ")", " )", "", "))", ") ", ")x", "\t)"};
    char s[160];
    int bad = 0;
    for (int i = 0; i < 300000 && bad < 5; i++) {
        int k = 0;
        const int common = rnd() % 2;
        k += sprintf(s + k, "%s", common ? "POINT (" : pre[rnd() % (sizeof pre / sizeof *pre)]);
        k += gen_number(s + k);
        k += sprintf(s + k, "%s", common ? " " : sep[rnd() % (sizeof sep / sizeof *sep)]);
        k += gen_number(s + k);
        k += sprintf(s + k, "%s", common ? ")" : post[rnd() % (sizeof post / sizeof *post)]);
        size_t n = mutate(s, (size_t)k, common ? 5 : 20);
        char *b = exact_copy(s, n);
        double x1 = 1, y1 = 2, x2 = 3, y2 = 4;
        int rx = bo_parse_wkt_point(b, n, &x1, &y1), ry = bo_parse_wkt_point_ref(b, n, &x2, &y2);
        if (rx != ry || (rx == 0 && (memcmp(&x1, &x2, 8) || memcmp(&y1, &y2, 8)))) {
            CHECKF(0, "wkt '%.*s': %d (%.17g %.17g) vs reference %d (%.17g %.17g)", (int)n, s,
                   rx, x1, y1, ry, x2, y2);
            bad++;
        }
        free(b);
    }
    double x, y;
    CHECK(bo_parse_wkt_point("POINT (-105.93000172903601 41.2499985590967)", 44, &x, &y) == 0 &&
          x == -105.93000172903601 && y == 41.2499985590967);
    CHECK(bo_parse_wkt_point("POINT (1.5 2.5) ", 16, &x, &y) == 0 && x == 1.5 && y == 2.5);
}

/* "%m/%d/%Y %I:%M:%S %p": the fixed-width fast path against the general interpreter */
static void test_fast_datetime(void)
{
    bo_csv_dtfmt f;
    CHECK(bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &f, NULL) == BO_OK);
    static const char *const ampm[] = {"AM", "PM", "am", "pm", "Am", "pM", "XM", "AX", "A", "PMM"};
    char s[64];
    int bad = 0;
    /* every day of the datetime64[ns] years, at the edges of the day */
    for (int y = 1676; y <= 2263 && bad < 5; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 31; d++) {
                int n = snprintf(s, sizeof s, "%02d/%02d/%04d %02d:%02d:%02d %s", m, d, y,
                                 (d % 12) + 1, (int)(rnd() % 60), (int)(rnd() % 60),
                                 d % 2 ? "PM" : "AM");
                int64_t a = 1, b = 2;
                int ra = bo_parse_datetime_fmt(s, (size_t)n, &f, &a);
                int rb = bo_parse_datetime_fmt_ref(s, (size_t)n, &f, &b);
                if (ra != rb || (ra == 0 && a != b)) {
                    CHECKF(0, "'%s': %d %lld vs reference %d %lld", s, ra, (long long)a, rb,
                           (long long)b);
                    bad++;
                }
            }
    for (int i = 0; i < 300000 && bad < 5; i++) {
        int yr = rnd() % 4 ? 1677 + (int)(rnd() % 586) : (int)(rnd() % 10000);
        int w = rnd() % 10 ? 2 : 1; /* 1-digit fields: the general interpreter */
        int n = snprintf(s, sizeof s, "%s%0*d/%0*d/%04d%s%0*d:%02d:%02d%s%s%s",
                         rnd() % 10 ? "" : " ", w, (int)(rnd() % 14), w, (int)(rnd() % 33), yr,
                         rnd() % 10 ? " " : (rnd() % 2 ? "\t" : "  "), w, (int)(rnd() % 14),
                         (int)(rnd() % 62), (int)(rnd() % 62), rnd() % 10 ? " " : "\t",
                         rnd() % 4 ? ampm[rnd() % 2] : ampm[rnd() % (sizeof ampm / sizeof *ampm)],
                         rnd() % 10 ? "" : " ");
        size_t len = mutate(s, (size_t)n, 10);
        char *b = exact_copy(s, len);
        int64_t x = 1, y = 2;
        int rx = bo_parse_datetime_fmt(b, len, &f, &x);
        int ry = bo_parse_datetime_fmt_ref(b, len, &f, &y);
        if (rx != ry || (rx == 0 && x != y)) {
            CHECKF(0, "'%.*s': %d %lld vs reference %d %lld", (int)len, s, rx, (long long)x, ry,
                   (long long)y);
            bad++;
        }
        free(b);
    }
    int64_t ns;
    /* civil_to_ns keeps one second inside the datetime64[ns] range at both ends (so that a
     * fraction of a second cannot overflow): the last whole seconds are -2 */
    CHECK(bo_parse_datetime_fmt("09/21/1677 12:12:45 AM", 22, &f, &ns) == 0);
    CHECK(bo_parse_datetime_fmt("09/21/1677 12:12:44 AM", 22, &f, &ns) == -2);
    CHECK(bo_parse_datetime_fmt("04/11/2262 11:47:15 PM", 22, &f, &ns) == 0);
    CHECK(bo_parse_datetime_fmt("04/11/2262 11:47:16 PM", 22, &f, &ns) == -2);
    CHECK(bo_parse_datetime_fmt("02/29/2000 01:00:00 AM", 22, &f, &ns) == 0);
    CHECK(bo_parse_datetime_fmt("02/29/1900 01:00:00 AM", 22, &f, &ns) == -1);
    CHECK(bo_parse_datetime_fmt("02/30/3000 01:00:00 AM", 22, &f, &ns) == -1); /* -1 before -2 */
    CHECK(bo_parse_datetime_fmt("12/31/3000 00:00:00 AM", 22, &f, &ns) == -1); /* %I 00 */
}

/* Line counter (64-byte SIMD chunks + tail) against a byte-by-byte reference, on buffers dense in
 * CR/LF so that CRLF pairs straddle every chunk boundary, at every length and start offset. */
static void test_count_lines(void)
{
    static const char alphabet[] = "\r\n\r\nx,\"";
    char b[300];
    for (int trial = 0; trial < 400; trial++) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = alphabet[rnd() % (sizeof alphabet - 1)];
        size_t start = (size_t)(rnd() % 8), n = (size_t)(rnd() % (sizeof b - start + 1));
        int64_t ref = 0;
        for (size_t i = start; i < start + n; i++)
            ref += b[i] == '\n' ? !(i > start && b[i - 1] == '\r') : b[i] == '\r';
        CHECKF(bo_csv_count_lines(b + start, n) == ref, "trial %d n %zu", trial, n);
    }
    /* a CR at byte 63 and an LF at byte 64: one line */
    memset(b, 'x', sizeof b);
    b[63] = '\r';
    b[64] = '\n';
    CHECK(bo_csv_count_lines(b, 128) == 1);
    CHECK(bo_csv_count_lines(b, 64) == 1);
    CHECK(bo_csv_count_lines(b + 1, 64) == 1);
    /* long buffers: the per-lane counters are flushed before they wrap (all LF = worst case) */
    size_t big = 100003;
    char *lf = malloc(big);
    memset(lf, '\n', big);
    CHECK(bo_csv_count_lines(lf, big) == (int64_t)big);
    for (size_t i = 0; i < big; i++)
        lf[i] = alphabet[rnd() % (sizeof alphabet - 1)];
    int64_t ref = 0;
    for (size_t i = 0; i < big; i++)
        ref += lf[i] == '\n' ? !(i && lf[i - 1] == '\r') : lf[i] == '\r';
    CHECK(bo_csv_count_lines(lf, big) == ref);
    /* the threaded count: the same at every thread count, CRLFs cut between two ranges too
     * (dense CR/LF, so a pair straddles some range boundary in most trials) */
    for (int trial = 0; trial < 60; trial++) {
        size_t n = big - (size_t)(rnd() % 5000);
        int64_t want = bo_csv_count_lines(lf, n);
        for (int t = 1; t <= 9; t++)
            CHECKF(bo_csv_count_lines_par(lf, n, t, 0, 1) == want, "trial %d n %zu threads %d",
                   trial, n, t);
    }
    /* a CRLF exactly on the boundary of a 2-way split */
    memset(lf, 'x', big);
    lf[big / 2 - 1] = '\r';
    lf[big / 2] = '\n';
    CHECK(bo_csv_count_lines_par(lf, big - big % 2, 2, 0, 1) == 1);
    free(lf);
}

#if defined(__linux__)
/* drop != 0 on a read-only file mapping: the count is the same, and the bytes read afterwards
 * are still the file's (faulted in again from the page cache). That the pages leave RSS is
 * checked from Python through /proc/self/smaps (tests/test_csv_slices.py). */
static void test_count_lines_drop(void)
{
    char path[] = "/tmp/bo_test_csv_dropXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    unlink(path);
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), n = 64 * page;
    char *src = malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = "ab\r\n,\n"[rnd() % 6];
    CHECK(write(fd, src, n) == (ssize_t)n);
    const char *m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        int64_t want = bo_csv_count_lines(src, n);
        CHECK(bo_csv_count_lines(m, n) == want); /* every page resident now */
        size_t cut = 40 * page + 17;             /* drop [0, 40 pages): the 41st stays */
        CHECK(bo_csv_count_lines_par(m, cut, 3, 1, 1) == bo_csv_count_lines(src, cut));
        CHECK(memcmp(m, src, n) == 0);
        CHECK(bo_csv_count_lines_par(m, n, 2, 1, 1) == want);
        CHECK(memcmp(m, src, n) == 0);
        CHECK(bo_csv_count_lines_par(m, n, 2, 1, 0) == 0); /* drop only */
        CHECK(memcmp(m, src, n) == 0);
        munmap((void *)m, n);
    }
    free(src);
    close(fd);
}
#endif

/* String columns over many chunks, with quoted (doubled-quote) and missing values, so chunk
 * regions shrink and are compacted: every value and mask equals a per-row unquote, for 1 and 3
 * threads; flagged rows (stray quotes give some) are missing. */
static void test_convert_strings(void)
{
    size_t len;
    char *b = random_csv(40000, 5, &len, 1); /* offsets of 320 KB: pool buffers */
    bo_csv_index ix;
    bo_error err;
    bo_csv_tok_opts o = topts(5, 1, 1);
    CHECK(bo_csv_tokenize(b, len, &o, &ix, &err) == BO_OK);
    const char *nav[] = {"", "7"};
    size_t nal[] = {0, 1};
    bo_csv_na na;
    bo_csv_na_init(&na, nav, nal, 2);
    int64_t n = ix.n_rows;
    char *ref = malloc(len + 1);
    /* without a pool, then with one twice: the second time the results are written over the
     * first's buffers, and nothing of them may show through */
    bo_pool pool;
    bo_pool_init(&pool, (size_t)256 << 20);
    for (int round = 0; round < 6; round++) {
        const int T = round % 2 ? 3 : 1;
        bo_pool *pl = round < 2 ? NULL : &pool;
        uint8_t *m0 = malloc((size_t)n), *m3 = malloc((size_t)n), *bad = calloc((size_t)n, 1);
        bo_csv_col cols[2] = {{.field = 0, .type = BO_CSV_STR, .na = &na, .mask = m0},
                              {.field = 3, .type = BO_CSV_STR, .na = &na, .mask = m3}};
        bo_csv_conv_opts co = {'"', T, 0, (int)bo_simd_best(), pl};
        CHECK(bo_csv_convert(b, &ix, cols, 2, &co, bad, &err) == BO_OK);
        int64_t mismatches = 0;
        for (int k = 0; k < 2; k++) {
            bo_csv_col *c = &cols[k];
            CHECK(c->n_str_runs == T && c->str_runs[0] == 0); /* 40,000 rows: one run a thread */
            for (int j = 0; j < c->n_str_runs; j++) { /* each run's offsets start at 0 */
                CHECK(c->str_offsets[c->str_runs[2 * j] + j] == 0);
                CHECK(j == 0 || c->str_runs[2 * j + 1] >= c->str_runs[2 * j - 1] +
                                    c->str_offsets[c->str_runs[2 * j] + j - 1]);
            }
            CHECK(c->str_runs[2 * (T - 1) + 1] + c->str_offsets[n + T - 1] ==
                  (int64_t)c->str_bytes);
            for (int64_t r = 0; r < n; r++) {
                size_t got_len;
                const char *got = bo_csv_str_value(c, r, &got_len);
                uint32_t a = bo_csv_field_start(&ix, r, c->field), e = bo_csv_field_end(&ix, r, c->field);
                size_t want_len;
                const char *want = ref;
                if (ix.flags[r] != BO_CSV_ROW_OK) {
                    mismatches += !c->mask[r] || got_len;
                    continue;
                }
                if (e > a && b[a] == '"')
                    want_len = bo_csv_unquote(b + a, e - a, '"', ref);
                else {
                    want = b + a;
                    want_len = e - a;
                }
                int is_na = want_len == 0 || (want_len == 1 && want[0] == '7');
                mismatches += c->mask[r] != is_na;
                if (is_na)
                    mismatches += got_len != 0;
                else
                    mismatches += got_len != want_len || memcmp(got, want, want_len);
            }
            bo_csv_str_free(c, pl);
        }
        CHECKF(mismatches == 0, "T=%d, round %d: %lld mismatches", T, round,
               (long long)mismatches);
        free(m0);
        free(m3);
        free(bad);
    }
    CHECK(bo_pool_get_stats(&pool).hits > 0);
    bo_pool_set_limit(&pool, 0);
    free(ref);
    bo_csv_index_free(&ix);
    free(b);
}

/* The structural scan (scan_rows) against the byte-at-a-time path, on random CSV with quotes,
 * CRLF, blank lines and stray quotes (so rows switch between the paths), with rows of every
 * field count around n_fields, at every end position and with a row-length limit. */
static void test_plain_row_fast_path(void)
{
    for (int stray = 0; stray < 2; stray++) {
        size_t len;
        char *b = random_csv(20000, 5, &len, stray);
        for (int k = 0; k < 40; k++) { /* a few rows with a field too many or too few */
            size_t at = (size_t)(rnd() % len);
            if (b[at] == ',' && rnd() % 2)
                b[at] = 'x';
            else if (b[at] >= 'a' && b[at] <= 'z')
                b[at] = ',';
        }
        for (int final = 0; final < 2; final++)
            for (size_t max_row = 0; max_row < 100; max_row += 33) {
                size_t n = final ? len : len - (size_t)(rnd() % 200);
              for (int lv = 0; lv < BO_SIMD_NLEVELS; lv++) { /* every scan build */
                if (!bo_simd_compiled((bo_simd_level)lv) ||
                    !bo_simd_cpu_supports((bo_simd_level)lv))
                    continue;
                bo_csv_tok_opts o = topts(5, final, 1);
                o.max_row_bytes = max_row;
                o.simd = lv;
                bo_csv_index fast, slow;
                bo_error e1, e2;
                bo_status s1 = bo_csv_tokenize(b, n, &o, &fast, &e1);
                o.byte_path_only = 1;
                bo_status s2 = bo_csv_tokenize(b, n, &o, &slow, &e2);
                CHECKF(s1 == s2, "status %d vs %d", (int)s1, (int)s2);
                if (s1 == BO_OK && s2 == BO_OK) {
                    CHECK(fast.n_rows == slow.n_rows && fast.consumed == slow.consumed);
                    CHECK(fast.n_lines < 0 || fast.n_lines == bo_csv_count_lines(b, fast.consumed));
                    if (fast.n_rows == slow.n_rows) {
                        CHECK(!memcmp(fast.offs, slow.offs, (size_t)fast.n_rows * 6 * sizeof *fast.offs));
                        CHECK(!memcmp(fast.flags, slow.flags, (size_t)fast.n_rows));
                        CHECK(!memcmp(fast.counts, slow.counts, (size_t)fast.n_rows * sizeof *fast.counts));
                    }
                    bo_csv_index_free(&fast);
                    bo_csv_index_free(&slow);
                } else {
                    CHECK(e1.byte_offset == e2.byte_offset);
                    if (s1 == BO_OK)
                        bo_csv_index_free(&fast);
                    if (s2 == BO_OK)
                        bo_csv_index_free(&slow);
                }
              }
            }
        free(b);
    }
}

/* UTF-8: the table-3-7 cases of bo_utf8_check at every offset to an 8-byte word, and a string
 * column with ill-formed values spread over several chunks: exactly those rows are bad, the
 * first one is the error, for 1 and 3 threads. */
static void test_utf8(void)
{
    static const struct {
        const char *s;
        int64_t at; /* -1: well-formed */
    } cases[] = {{"", -1}, {"abc", -1}, {"\xc2\x80", -1}, {"\xe2\x82\xac", -1},
                 {"\xf0\x9f\x98\x80", -1}, {"\xf4\x8f\xbf\xbf", -1}, {"\xed\x9f\xbf", -1},
                 {"\x80", 0}, {"\xc0\x80", 0}, {"\xc1\xbf", 0}, {"\xe0\x9f\xbf", 0},
                 {"\xed\xa0\x80", 0}, {"\xf0\x8f\xbf\xbf", 0}, {"\xf4\x90\x80\x80", 0},
                 {"\xf5\x80\x80\x80", 0}, {"\xff", 0}, {"a\xe2\x82", 1}, {"ab\xc2", 2},
                 {"\xe2\x28\xa1", 0}, {"\xc3\xa9\xc3", 2}};
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int pad = 0; pad < 17; pad++) {
            size_t n = strlen(cases[i].s);
            memset(buf, 'x', (size_t)pad);
            memcpy(buf + pad, cases[i].s, n);
            int64_t got = bo_utf8_check(buf, (size_t)pad + n);
            int64_t want = cases[i].at < 0 ? -1 : cases[i].at + pad;
            CHECKF(got == want, "case %zu pad %d: %lld, want %lld", i, pad, (long long)got,
                   (long long)want);
        }
    /* rows "i,<value>\n": value i % 500 == 7 is ill-formed (an overlong '/') */
    const int64_t rows = 3000;
    char *b = malloc((size_t)rows * 24), *p = b;
    for (int64_t i = 0; i < rows; i++)
        p += sprintf(p, i % 500 == 7 ? "%lld,ab\xc0\xaf\n" : "%lld,\xc3\xa9t\xc3\xa9\n",
                     (long long)i);
    bo_csv_index ix;
    bo_error err;
    bo_csv_tok_opts o = topts(2, 1, 1);
    CHECK(bo_csv_tokenize(b, (size_t)(p - b), &o, &ix, &err) == BO_OK);
    for (int T = 1; T <= 3; T += 2) {
        uint8_t *m = malloc((size_t)rows), *bad = calloc((size_t)rows, 1);
        bo_csv_col col = {.field = 1, .type = BO_CSV_STR, .mask = m};
        bo_csv_conv_opts co = {'"', T, 0, (int)bo_simd_best(), NULL};
        CHECK(bo_csv_convert(b, &ix, &col, 1, &co, bad, &err) == BO_ERR_PARSE);
        CHECK(err.index == 7 && err.column == 0);
        CHECK(strstr(err.message, "not valid UTF-8") != NULL);
        int64_t wrong = 0;
        for (int64_t i = 0; i < rows; i++)
            wrong += bad[i] != (i % 500 == 7);
        CHECKF(wrong == 0, "T=%d: %lld rows flagged wrongly", T, (long long)wrong);
        bo_csv_str_free(&col, NULL);
        free(m);
        free(bad);
    }
    bo_csv_index_free(&ix);
    free(b);
}

/* A fast int parser's answer (rf, a) for s[0, len) against bo_parse_int64: counted in *fast
 * when it answered; 1 (reported) when the general parser gives another status or value. */
static int int_fast_differs(int rf, int64_t a, const char *s, size_t len, int *fast)
{
    int64_t b = 67890;
    const int rg = bo_parse_int64(s, len, &b);
    if (rf != 0)
        return 0;
    (*fast)++;
    if (rg == 0 && a == b)
        return 0;
    CHECKF(0, "int '%.*s': fast %lld, general %d %lld", (int)len, s, (long long)a, rg,
           (long long)b);
    return 1;
}

/* s[0, len) is 1..max_digits digits, or a sign and 1..max_signed digits */
static int plain_int(const char *s, size_t len, size_t max_digits, size_t max_signed)
{
    const size_t sg = len && (s[0] == '-' || s[0] == '+');
    int plain = len > sg && len - sg <= (sg ? max_signed : max_digits);
    for (size_t k = sg; k < len && plain; k++)
        plain = s[k] >= '0' && s[k] <= '9';
    return plain;
}

/* bo_int_shape_fast against bo_parse_int64 on random short texts over digits, signs, blanks
 * and other bytes, with 0..8 readable bytes before them: whenever the fast path answers, the
 * general parser gives the same value; it answers for every plain [+-]1..8-digit text. */
static void test_fast_int(void)
{
    static const char alpha[] = "0123456789012345678901234567890123456789+- \t.xe\x80";
    char area[32];
    int bad = 0, fast = 0;
    for (int i = 0; i < 300000 && bad < 5; i++) {
        const size_t pre = (size_t)(rnd() % 9), len = (size_t)(rnd() % 12);
        for (size_t k = 0; k < sizeof area; k++)
            area[k] = alpha[rnd() % (sizeof alpha - 1)];
        const char *s = area + pre;
        int64_t a = 12345;
        const int rf = bo_int_shape_fast(area, s, len, &a);
        bad += int_fast_differs(rf, a, s, len, &fast);
        if (plain_int(s, len, 8, 8) && pre + len >= 8 && rf != 0) {
            CHECKF(0, "int '%.*s': plain text not taken by the fast path", (int)len, s);
            bad++;
        }
    }
    CHECKF(fast > 10000, "fast path taken only %d times", fast);
}

/* bo_int_field_fast against bo_parse_int64 on random texts of 0..18 bytes over digits, signs,
 * blanks and other bytes, after 16 readable bytes: whenever the fast path answers, the general
 * parser gives the same value; it answers for every [+-]1..15-digit and 1..16-digit text. */
static void test_int_field_fast(void)
{
#if defined(__SSE2__)
    static const char alpha[] = "01234567890123456789012345678901234567890123456789+-+- \t.x\x80";
    char area[40];
    int bad = 0, fast = 0;
    for (int i = 0; i < 400000 && bad < 5; i++) {
        const size_t len = (size_t)(rnd() % 19);
        for (size_t k = 0; k < sizeof area; k++)
            area[k] = alpha[rnd() % (sizeof alpha - 1)];
        const char *s = area + 16;
        if (rnd() % 2) /* mostly digits after an optional sign */
            for (size_t k = 1; k < len; k++)
                area[16 + k] = (char)('0' + rnd() % 10);
        int64_t a = 12345;
        const int rf = bo_int_field_fast(area, s, len, &a);
        bad += int_fast_differs(rf, a, s, len, &fast);
        if (plain_int(s, len, 16, 15) && rf != 0) {
            CHECKF(0, "int '%.*s': plain text not taken by the fast path", (int)len, s);
            bad++;
        }
    }
    CHECKF(fast > 50000, "fast path taken only %d times", fast);
#endif
}

/* bo_float_field_fast against the reference parser: random numbers (every digit count, signs,
 * exponents, mutated bytes) placed after 0..40 random readable bytes; whenever the fast path
 * answers, the reference gives the same status and bits, and it answers for the plain shapes. */
static void test_float_field_fast(void)
{
#if defined(__SSE2__)
    char area[160], num[96];
    int bad = 0, fast = 0;
    for (int i = 0; i < 400000 && bad < 5; i++) {
        size_t n = (size_t)gen_number(num);
        n = mutate(num, n, 5);
        if (n > 100)
            continue;
        const size_t pre = (size_t)(rnd() % 41);
        for (size_t k = 0; k < pre; k++)
            area[k] = (char)(rnd() % 256);
        memcpy(area + pre, num, n);
        const char *s = area + pre;
        double x = 1, y = 2;
        const int rx = bo_float_field_fast(area, s, n, &x);
        if (rx != 0)
            continue;
        fast++;
        const int ry = bo_parse_double_ref(s, n, &y);
        if (ry != 0 || memcmp(&x, &y, sizeof x)) {
            CHECKF(0, "float '%.*s': fast %.17g, reference %d %.17g", (int)n, s, x, ry, y);
            bad++;
        }
    }
    CHECKF(fast > 50000, "fast path taken only %d times", fast);
    /* every plain shape is taken when 32 bytes are readable */
    const char *plain[] = {"0.5", "-1.25", "+12.5", "41.270993597745154", "-105.84292704295603",
                           "0.1899524350410769", "12345678.12345678901", "1.0000000000000000",
                           "0.18995243504107695", "-9.99999999999999999", "12.12345678901234567"};
    for (size_t k = 0; k < sizeof plain / sizeof plain[0]; k++) {
        const size_t n = strlen(plain[k]);
        memset(area, 'x', 40);
        memcpy(area + 40, plain[k], n);
        double x = 0, y = 1;
        CHECKF(bo_float_field_fast(area, area + 40, n, &x) == 0 &&
                   bo_parse_double_ref(plain[k], n, &y) == 0 && !memcmp(&x, &y, sizeof x),
               "plain '%s'", plain[k]);
    }
#endif
}

/* The planner's scan takes 64 unquoted bytes at a time: the same state and results as the byte
 * reference for any text and any pieces. Texts are mostly plain (so the 64-byte path runs),
 * with line-break kinds, blanks, blank lines and blank-only lines, the delimiter, and now and
 * then a quote or a quoted field with breaks inside; fed in random pieces, with many targets. */
static void test_scan_fast_equals_ref(void)
{
    const char delims[] = {',', '\t', ' ', ';'};
    for (int round = 0; round < 400; round++) {
        const size_t len = 1 + (size_t)urand(0, 3000);
        char *t = malloc(len);
        /* rare quotes: quoted stretches of many 64-byte windows (the in-quote fast path) */
        const double quote_rate = round % 3 == 0 ? 0.0 : round % 3 == 1 ? urand(0, 0.003)
                                                                         : urand(0, 0.02);
        const char delim = delims[round % 4];
        const char quote = round % 7 == 6 ? 0 : '"';
        for (size_t i = 0; i < len; i++) {
            double u = urand(0, 1);
            t[i] = u < 0.03 ? '\n' : u < 0.04 ? '\r' : u < 0.07 ? ' ' : u < 0.08 ? '\t'
                 : u < 0.2 ? delim : u < 0.2 + quote_rate ? '"' : (char)('a' + (int)urand(0, 26));
            if (u < 0.03 && urand(0, 1) < 0.5 && i + 1 < len) { /* CRLF */
                t[i] = '\r';
                t[++i] = '\n';
            }
        }
        uint64_t targets[40];
        int64_t nt = (int64_t)urand(0, 40);
        for (int64_t k = 0; k < nt; k++)
            targets[k] = (uint64_t)urand(0, (double)len + 2);
        for (int64_t k = 1; k < nt; k++) /* ascending */
            for (int64_t j = k; j > 0 && targets[j - 1] > targets[j]; j--) {
                uint64_t x = targets[j];
                targets[j] = targets[j - 1];
                targets[j - 1] = x;
            }
        int64_t f1[40], f2[40], r1[40], r2[40], l1[40], l2[40];
        for (int k = 0; k < 40; k++)
            f1[k] = f2[k] = -1, r1[k] = r2[k] = l1[k] = l2[k] = 0;
        bo_csv_scan a, b;
        bo_csv_scan_init(&a, delim, quote);
        bo_csv_scan_init(&b, delim, quote);
        for (size_t at = 0; at < len;) {
            size_t n = 1 + (size_t)urand(0, round % 2 ? 200 : 1500);
            if (n > len - at)
                n = len - at;
            int64_t x = bo_csv_scan_feed(&a, t + at, n, targets, f1, r1, l1, nt);
            int64_t y = bo_csv_scan_feed_ref(&b, t + at, n, targets, f2, r2, l2, nt);
            CHECKF(x == y, "round %d at %zu: resolved %lld vs %lld", round, at, (long long)x,
                   (long long)y);
            at += n;
            CHECKF(a.in_quote == b.in_quote && a.at_row_start == b.at_row_start &&
                       a.field_start == b.field_start && a.row_has_data == b.row_has_data &&
                       a.rows == b.rows && a.lines == b.lines && a.prev_cr == b.prev_cr &&
                       a.pos == b.pos && a.row_begin == b.row_begin,
                   "round %d: state differs after %zu bytes", round, at);
        }
        CHECK(bo_csv_scan_finish(&a) == bo_csv_scan_finish(&b));
        for (int64_t k = 0; k < nt; k++)
            CHECKF(f1[k] == f2[k] && r1[k] == r2[k] && l1[k] == l2[k], "round %d target %lld",
                   round, (long long)k);
        free(t);
    }
}

/* The tokenizer's line count (bo_csv_index.n_lines): when it gives one, it is
 * bo_csv_count_lines of the bytes consumed, for any text, cut, thread count and path; and it
 * gives one for text whose rows the structural scan ends (LF, CRLF, lone CR, blank LF lines,
 * quotes, line breaks inside quotes, across the scan's 64-byte windows too), so the reader's
 * own count is the rare case. Texts are generated with each hard feature switched on or off:
 * blank CR lines, rows with leading blanks, stray quotes. */
static void test_index_lines(void)
{
    for (int trial = 0; trial < 300; trial++) {
        const int hard = trial % 2; /* odd trials: features the scan leaves to tok_row */
        const size_t rows = 1 + (size_t)(rnd() % 3000);
        char *b = malloc(rows * 300 + 64);
        size_t k = 0;
        for (size_t r = 0; r < rows; r++) {
            if (rnd() % 40 == 0)
                b[k++] = '\n'; /* a blank LF line */
            if (hard && rnd() % 60 == 0)
                k += (size_t)sprintf(b + k, rnd() % 2 ? "\r" : "  \n");
            for (int f = 0; f < 4; f++) {
                if (f)
                    b[k++] = ',';
                const int kind = (int)(rnd() % 8);
                if (kind == 0)
                    k += (size_t)sprintf(b + k, "\"a,\"\"b\"");
                else if (kind == 1) { /* line breaks inside quotes, some 64 bytes apart */
                    static const char *const qb[] = {"x\r\ny", "x\ny", "x\ry", "\n\r\n\r", "\r"};
                    k += (size_t)sprintf(b + k, "\"%s", qb[rnd() % 5]);
                    if (rnd() % 3 == 0) {
                        memset(b + k, 'p', 60);
                        k += 60;
                        k += (size_t)sprintf(b + k, "%s", qb[rnd() % 5]);
                    }
                    b[k++] = '"';
                }
                else if (kind == 2 && hard)
                    k += (size_t)sprintf(b + k, "x\"y");
                else if (kind == 3 && rnd() % 4 == 0)
                    continue; /* empty field */
                else
                    k += (size_t)sprintf(b + k, "%llu", (unsigned long long)(rnd() % 1000000));
            }
            const int end = (int)(rnd() % 5);
            k += (size_t)sprintf(b + k, end == 0 ? "\r\n" : end == 1 ? "\r" : "\n");
        }
        const size_t len = k;
        for (int cut = 0; cut < 4; cut++) {
            const size_t n = cut == 0 ? len : (size_t)(rnd() % (len + 1));
            const int final = (int)(rnd() % 2);
            for (int T = 1; T <= 3; T++) {
                bo_csv_tok_opts o = topts(4, final, T);
                o.simd = (int)(rnd() % BO_SIMD_NLEVELS);
                if (!bo_simd_compiled((bo_simd_level)o.simd) ||
                    !bo_simd_cpu_supports((bo_simd_level)o.simd))
                    o.simd = 0;
                bo_csv_index ix;
                bo_error err;
                if (bo_csv_tokenize(b, n, &o, &ix, &err) != BO_OK)
                    continue;
                const int64_t want = bo_csv_count_lines(b, ix.consumed);
                CHECKF(ix.n_lines < 0 || ix.n_lines == want,
                       "trial %d n %zu T %d: %lld lines, counted %lld", trial, n, T,
                       (long long)ix.n_lines, (long long)want);
                /* an unterminated last row (final, cut inside a row) goes through tok_row */
                if (!hard && (cut == 0 || !final))
                    CHECKF(ix.n_lines == want, "trial %d T %d: not counted", trial, T);
                bo_csv_index_free(&ix);
            }
        }
        free(b);
    }
}

int main(void)
{
    test_index_lines();
    test_scan_fast_equals_ref();
    test_float_field_fast();
    test_fast_int();
    test_int_field_fast();
    test_utf8();
    test_plain_row_fast_path();
    test_convert_strings();
    test_tokenize_basic();
    test_count_lines();
#if defined(__linux__)
    test_count_lines_drop();
#endif
    test_parallel_equals_sequential();
    test_index_in_pool();
    test_parallel_cut_in_quotes();
    test_doubles();
    test_ints_hex_dates();
    test_convert();
    test_infer_states();
    test_pad_short();
    test_fast_double();
    test_plain_decimal();
    test_fast_hex();
    test_fast_wkt();
    test_fast_datetime();
    TEST_MAIN_END();
}
