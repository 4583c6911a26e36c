/* C unit tests of the ONE report parser (run by ctest, under ASan+UBSan in CI). */
#include "blockops/bo_report.h"
#include "bo_test.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static int key_is(const char *data, const bo_report *r, size_t i, const char *want)
{
    return r->keys[i].len == strlen(want) && memcmp(data + r->keys[i].off, want, r->keys[i].len) == 0;
}

/* Parse a NUL-terminated string; the length excludes the NUL so that a missing final newline
 * is really missing (ASan sees a read past the end). */
static bo_status parse_str(const char *s, bo_report *r, bo_error *e)
{
    bo_error_clear(e);
    return bo_report_parse(s, strlen(s), r, e);
}

static void test_real_report(void)
{
    const char *s = "Message stats for scenario TEST_EpidemicRouter_10_104_100M\n"
                    "sim_time: 604800.0999\n"
                    "created: 20503\n"
                    "delivery_prob: 0.5728\n"
                    "rtt_avg: NaN\n"
                    "rtt_med: NaN\n";
    bo_report r;
    bo_report_init(&r);
    bo_error e;
    CHECK(parse_str(s, &r, &e) == BO_OK);
    CHECK(r.n == 5);
    CHECK(r.n_lines == 6);
    CHECK(r.title.off == 0 && r.title.len == strlen("Message stats for scenario TEST_EpidemicRouter_10_104_100M"));
    CHECK(key_is(s, &r, 0, "sim_time") && r.values[0] == 604800.0999);
    CHECK(key_is(s, &r, 1, "created") && r.values[1] == 20503.0);
    CHECK(key_is(s, &r, 2, "delivery_prob") && r.values[2] == 0.5728);
    CHECK(key_is(s, &r, 3, "rtt_avg") && isnan(r.values[3]));
    CHECK(key_is(s, &r, 4, "rtt_med") && isnan(r.values[4]));
    /* parsing again replaces the content; freeing twice is safe */
    CHECK(parse_str("t\na: 1\n", &r, &e) == BO_OK);
    CHECK(r.n == 1 && r.values[0] == 1.0);
    bo_report_free(&r);
    bo_report_free(&r);
    CHECK(r.n == 0 && r.keys == NULL && r.values == NULL);
}

static void test_layout_variants(void)
{
    bo_report r;
    bo_report_init(&r);
    bo_error e;
    /* CRLF, blank lines (with blanks on them), tabs, no final newline, spaces inside the key */
    const char *s = "Title: with a colon\r\n\r\n  a :\t1.5 \r\n \t \nb c: -2\n\nd:+3e2";
    CHECK(parse_str(s, &r, &e) == BO_OK);
    CHECK(r.n == 3);
    CHECK(r.title.len == strlen("Title: with a colon"));
    CHECK(key_is(s, &r, 0, "a") && r.values[0] == 1.5);
    CHECK(key_is(s, &r, 1, "b c") && r.values[1] == -2.0);
    CHECK(key_is(s, &r, 2, "d") && r.values[2] == 300.0);
    CHECK(r.n_lines == 7);
    /* title only; title without newline; a value containing a second colon is an error */
    CHECK(parse_str("only a title\n", &r, &e) == BO_OK && r.n == 0);
    CHECK(parse_str("only a title", &r, &e) == BO_OK && r.n == 0);
    /* a blank title line is still the title */
    CHECK(parse_str("\nx: 1\n", &r, &e) == BO_OK && r.n == 1 && r.title.len == 0);
    /* duplicate keys are all kept, in order */
    const char *d = "t\nk: 1\nk: 2\n";
    CHECK(parse_str(d, &r, &e) == BO_OK && r.n == 2 && r.values[0] == 1 && r.values[1] == 2);
    /* a NUL in the title is just a byte of the title */
    const char nul_title[] = "ti\0tle\nk: 1\n";
    bo_error_clear(&e);
    CHECK(bo_report_parse(nul_title, sizeof nul_title - 1, &r, &e) == BO_OK && r.n == 1);
    /* many keys (array growth) */
    static char big[200000];
    size_t o = (size_t)snprintf(big, sizeof big, "title\n");
    for (int i = 0; i < 5000; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "key%d: %d.25\n", i, i);
    bo_error_clear(&e);
    CHECK(bo_report_parse(big, o, &r, &e) == BO_OK);
    CHECK(r.n == 5000 && r.values[4999] == 4999.25 && key_is(big, &r, 4999, "key4999"));
    bo_report_free(&r);
}

static void expect_error(const char *s, size_t len, int64_t line, int64_t col, const char *msg_part)
{
    bo_report r;
    bo_report_init(&r);
    bo_error e;
    bo_error_clear(&e);
    bo_status st = bo_report_parse(s, len, &r, &e);
    CHECKF(st == BO_ERR_PARSE, "input %.40s: status %d", s, (int)st);
    CHECKF(e.line == line, "input %.40s: line %lld, want %lld", s, (long long)e.line, (long long)line);
    CHECKF(e.column == col, "input %.40s: column %lld, want %lld", s, (long long)e.column,
           (long long)col);
    /* the byte offset points at the same place as line/column */
    int64_t off = 0, ln = 1;
    while (ln < line && off < (int64_t)len) {
        if (s[off] == '\n')
            ln++;
        off++;
    }
    CHECKF(e.byte_offset == off + col, "input %.40s: byte_offset %lld, want %lld", s,
           (long long)e.byte_offset, (long long)(off + col));
    CHECKF(strstr(e.message, msg_part) != NULL, "message '%s' lacks '%s'", e.message, msg_part);
    CHECK(r.n == 0 && r.keys == NULL);
    bo_report_free(&r);
}
#define EXPECT_ERROR(lit, line, col, part) expect_error(lit, sizeof(lit) - 1, line, col, part)

static void test_errors(void)
{
    EXPECT_ERROR("", 1, 0, "empty report");
    EXPECT_ERROR(" \r\n\t\n", 1, 0, "only blank lines");
    EXPECT_ERROR("title\na: 1\nno colon here\n", 3, 0, "missing ':'");
    EXPECT_ERROR("title\na: 1\n   indented no colon", 3, 3, "missing ':'");
    EXPECT_ERROR("title\r\na: 1\r\nb: x1\r\n", 3, 3, "non-numeric value 'x1' for key 'b'");
    EXPECT_ERROR("title\na: 1.2.3\n", 2, 3, "non-numeric value '1.2.3'");
    EXPECT_ERROR("title\na: 1:2\n", 2, 3, "non-numeric");
    EXPECT_ERROR("title\na: 1,5\n", 2, 3, "non-numeric");
    EXPECT_ERROR("title\n : 1\n", 2, 1, "empty key");
    EXPECT_ERROR("title\na:\n", 2, 2, "missing value for key 'a'");
    EXPECT_ERROR("title\na:   \t\r\n", 2, 6, "missing value");
    EXPECT_ERROR("title\na\x01" "b: 1\n", 2, 1, "control character 0x01");
    EXPECT_ERROR("title\nab\xff: 1\n", 2, 2, "not valid UTF-8");
    EXPECT_ERROR("title\n\xc3\xa9\xed\xa0\x80: 1\n", 2, 2, "not valid UTF-8"); /* surrogate */
    EXPECT_ERROR("title\n\xc0\xaf: 1\n", 2, 0, "not valid UTF-8");             /* overlong */
    EXPECT_ERROR("title\nk\xe2\x82: 1\n", 2, 1, "not valid UTF-8");            /* truncated */
    EXPECT_ERROR("title\nk: 1\0\n", 2, 3, "non-numeric value '1\\x00'");
    /* valid UTF-8 keys are fine */
    bo_report r;
    bo_report_init(&r);
    bo_error e;
    CHECK(parse_str("t\n\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80: 1\n", &r, &e) == BO_OK && r.n == 1);
    bo_report_free(&r);
    /* NULL arguments */
    CHECK(bo_report_parse(NULL, 3, &r, &e) == BO_ERR_ARG);
    CHECK(bo_report_parse("t", 1, NULL, &e) == BO_ERR_ARG);
    CHECK(bo_report_parse(NULL, 0, &r, NULL) == BO_ERR_PARSE); /* empty, err may be NULL */
    double v;
    CHECK(bo_report_parse_double(NULL, 0, &v, NULL) == BO_ERR_ARG);
}

static bo_status pd(const char *s, double *v)
{
    return bo_report_parse_double(s, strlen(s), v, NULL);
}

static void test_numbers(void)
{
    /* the compiler converts the literals with correct rounding: compare bit for bit */
    static const struct {
        const char *s;
        double want;
    } ok[] = {
        {"0", 0.0}, {"1", 1.0}, {"20503", 20503.0}, {"604800.0999", 604800.0999},
        {"0.5728", 0.5728}, {"0.1", 0.1}, {"0.30000000000000004", 0.30000000000000004},
        {".5", 0.5}, {"5.", 5.0}, {"+.5", 0.5}, {"-2.5e-3", -2.5e-3}, {"1E5", 1e5},
        {"1e+5", 1e5}, {"007", 7.0}, {"0.000123", 0.000123}, {"1e23", 1e23}, {"8.5e22", 8.5e22},
        {"9007199254740992", 9007199254740992.0}, {"9007199254740993", 9007199254740993.0},
        {"123456789012345678901234567890", 123456789012345678901234567890.0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"2.2250738585072014e-308", 2.2250738585072014e-308}, {"4.9e-324", 4.9e-324},
        {"2.4703282292062328e-324", 4.9e-324}, /* just above half the smallest denormal */
        {"1e-400", 0.0}, {"0.0000000000000000000000000001", 1e-28},
        {"3.14159265358979323846264338327950288", 3.14159265358979323846264338327950288},
        {"1.00000000000000000000000000000", 1.0}, {"100000000000000000000000e-24", 0.1},
        {"1e0000000000000000000000000000000000001", 10.0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -12345.0;
        CHECKF(pd(ok[i].s, &v) == BO_OK, "%s rejected", ok[i].s);
        CHECKF(same_bits(v, ok[i].want), "%s -> %.17g, want %.17g", ok[i].s, v, ok[i].want);
    }
    double v;
    CHECK(pd("-0", &v) == BO_OK && v == 0.0 && signbit(v));
    CHECK(pd("-0.000e5", &v) == BO_OK && v == 0.0 && signbit(v));
    CHECK(pd("1e309", &v) == BO_OK && isinf(v) && v > 0);
    CHECK(pd("-1e99999999999999999999", &v) == BO_OK && isinf(v) && v < 0);
    CHECK(pd("1e-99999999999999999999", &v) == BO_OK && v == 0.0);
    static const char *nan_words[] = {"NaN", "nan", "NAN", "+nan", "-NaN"};
    for (size_t i = 0; i < 5; i++)
        CHECKF(pd(nan_words[i], &v) == BO_OK && isnan(v), "%s", nan_words[i]);
    CHECK(pd("inf", &v) == BO_OK && isinf(v) && v > 0);
    CHECK(pd("-Infinity", &v) == BO_OK && isinf(v) && v < 0);
    CHECK(pd("+INF", &v) == BO_OK && isinf(v) && v > 0);
    static const char *bad[] = {"",     "+",     "-",    ".",     "e5",    "1e",   "1e+",
                                "1.2.3", "0x10",  "1_000", "nan(1)", "infinit", " 1",  "1 ",
                                "--1",  "+-1",   "1e5.0", "1,5",   "١",     "nanx", "infinityy",
                                "1d5",  "- 1",   "1e 5",  "0b1",   ".e1",   "n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bo_error e;
        bo_error_clear(&e);
        CHECKF(bo_report_parse_double(bad[i], strlen(bad[i]), &v, &e) == BO_ERR_PARSE,
               "'%s' accepted", bad[i]);
        CHECK(e.message[0] != '\0');
    }
}

/* Random values printed many ways must parse to exactly what strtod gives in the C locale
 * (glibc's strtod is correctly rounded): exercises both the fast path and the fallback. */
static void test_random_roundtrip(void)
{
    char buf[64];
    int mismatches = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t bits;
        double x;
        switch (i % 4) {
        case 0: /* any finite double, shortest-ish form */
            do {
                bits = ((uint64_t)(urand(0, 1) * 4294967296.0) << 32) |
                       (uint64_t)(urand(0, 1) * 4294967296.0);
                memcpy(&x, &bits, sizeof x);
            } while (!isfinite(x));
            snprintf(buf, sizeof buf, "%.17g", x);
            break;
        case 1: /* report-like fixed point with 0..6 decimals */
            snprintf(buf, sizeof buf, "%.*f", i % 7, urand(-1e7, 1e7));
            break;
        case 2: /* many digits: forces the strtod fallback */
            snprintf(buf, sizeof buf, "%.25e", urand(-1, 1) * pow(10, urand(-300, 300)));
            break;
        default: /* exponents around the fast-path edge (|e| = 22, 15-19 digits) */
            snprintf(buf, sizeof buf, "%.*fe%d", i % 19, urand(0, 10), (int)urand(-30, 30));
            break;
        }
        double want = strtod(buf, NULL), got;
        if (pd(buf, &got) != BO_OK || !same_bits(got, want)) {
            if (mismatches++ < 10)
                fprintf(stderr, "mismatch for '%s': got %.17g want %.17g\n", buf, got, want);
        }
    }
    CHECK(mismatches == 0);
}

/* A host program that switches LC_NUMERIC to a comma locale must not change the results. */
static void test_locale_independent(void)
{
    static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8"};
    const char *old = setlocale(LC_NUMERIC, NULL);
    char saved[64];
    snprintf(saved, sizeof saved, "%s", old ? old : "C");
    int switched = 0;
    for (size_t i = 0; i < 4 && !switched; i++)
        switched = setlocale(LC_NUMERIC, names[i]) != NULL;
    double v;
    CHECK(pd("3.14159265358979323846264338327950288", &v) == BO_OK && v == 3.14159265358979323846264338327950288);
    CHECK(pd("604800.0999", &v) == BO_OK && v == 604800.0999);
    CHECK(pd("1.5e-310", &v) == BO_OK && v == 1.5e-310);
    CHECK(pd("1,5", &v) == BO_ERR_PARSE);
    setlocale(LC_NUMERIC, saved);
    if (!switched)
        fprintf(stderr, "note: no comma locale installed; locale test ran in the C locale\n");
}

int main(void)
{
    test_real_report();
    test_layout_variants();
    test_errors();
    test_numbers();
    test_random_roundtrip();
    test_locale_independent();
    TEST_MAIN_END();
}
