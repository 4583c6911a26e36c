/* Parser for one ONE-simulator report file: a title line, then `key: value` lines.
 * Grammar and guarantees are in blockops/bo_report.h; tests/reference/one_report_ref.py is the
 * executable specification the Python tests hold this file to. */
#include "blockops/bo_report.h"
#include "report_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ numbers */

/* 10^0..10^22 are exact in binary64 (5^22 < 2^53). */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define BO_MAX_EXACT_INT (UINT64_C(1) << 53)
/* The written exponent saturates here: |e| > 400 already gives 0 or inf, so the value only
 * changes for a mantissa with ~10^15 digits, and exponent - fraction digits stays far from
 * int64_t overflow. */
#define BO_EXP_SAT 1000000000000000LL

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_blank(unsigned char c) { return c == ' ' || c == '\t'; }

static int word_eq_ci(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)word[i])
            return 0;
    }
    return 1;
}

/* Printable, truncated copy of a byte range for messages ("\xNN" for anything else). */
static void snippet(char *dst, size_t dstsz, const char *s, size_t len)
{
    size_t o = 0, limit = 32;
    for (size_t i = 0; i < len && o + 5 < dstsz; i++) {
        if (i == limit) {
            if (o + 4 < dstsz) {
                memcpy(dst + o, "...", 3);
                o += 3;
            }
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            dst[o++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
}

/* Slow path: hand strtod an integer mantissa and an exponent ("123e-7"), never a '.', so the
 * result does not depend on the C locale's decimal point (strtod reads LC_NUMERIC, which a
 * host program may have changed; locale objects/strtod_l are not portable). glibc, musl and
 * the BSDs round strtod correctly, so the value equals Python's float(). */
static bo_status strtod_mantissa_exp(const char *s, size_t len, int neg, int64_t exp_value,
                                     double *out, bo_error *err)
{
    char stackbuf[128];
    char *buf = stackbuf;
    /* sign + digits + 'e' + sign + 20 exponent digits + NUL */
    size_t need = len + 32;
    if (need > sizeof stackbuf) {
        buf = (char *)malloc(need);
        if (!buf)
            return bo_error_set(err, BO_ERR_NOMEM, "out of memory converting a value");
    }
    size_t o = 0;
    int64_t frac_digits = 0;
    int after_point = 0, seen_nonzero = 0;
    if (neg)
        buf[o++] = '-';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            after_point = 1;
            continue;
        }
        if (!is_digit(c))
            break; /* the exponent part: already parsed into exp_value */
        if (after_point)
            frac_digits++;
        if (c == '0' && !seen_nonzero)
            continue; /* leading zeros only lengthen the copy */
        seen_nonzero = 1;
        buf[o++] = (char)c;
    }
    if (!seen_nonzero)
        buf[o++] = '0';
    o += (size_t)snprintf(buf + o, need - o, "e%lld", (long long)(exp_value - frac_digits));
    char *end = NULL;
    double v = strtod(buf, &end);
    bo_status st = BO_OK;
    if (end != buf + o)
        st = bo_error_set(err, BO_ERR_INTERNAL, "strtod rejected a validated number");
    if (buf != stackbuf)
        free(buf);
    if (st == BO_OK)
        *out = v;
    return st;
}

bo_status bo_report_parse_double(const char *s, size_t len, double *out, bo_error *err)
{
    if (!s || !out)
        return bo_error_set(err, BO_ERR_ARG, "NULL argument");
    size_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (word_eq_ci(s + i, len - i, "nan")) {
        *out = neg ? -NAN : NAN;
        return BO_OK;
    }
    if (word_eq_ci(s + i, len - i, "inf") || word_eq_ci(s + i, len - i, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return BO_OK;
    }

    /* w: the first 19 significant digits (fits uint64); e10: power of ten to apply to w for
     * the digits scanned so far; exact: no nonzero digit was dropped from w. */
    uint64_t w = 0;
    int nsig = 0, exact = 1;
    int64_t e10 = 0;
    size_t ndigits = 0;
    size_t mant_start = i;
    for (; i < len && is_digit((unsigned char)s[i]); i++, ndigits++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (w == 0 && d == 0)
            continue;
        if (nsig < 19) {
            w = w * 10 + d;
            nsig++;
        } else {
            e10 += e10 < BO_EXP_SAT;
            exact &= d == 0;
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && is_digit((unsigned char)s[i]); i++, ndigits++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (w == 0 && d == 0) {
                e10 -= e10 > -BO_EXP_SAT;
                continue;
            }
            if (nsig < 19) {
                w = w * 10 + d;
                nsig++;
                e10 -= e10 > -BO_EXP_SAT;
            } else {
                exact &= d == 0;
            }
        }
    }
    if (ndigits == 0)
        return bo_error_set(err, BO_ERR_PARSE, "no digits");
    size_t mant_len = i - mant_start;
    int64_t exp_value = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        size_t estart = i;
        for (; i < len && is_digit((unsigned char)s[i]); i++)
            if (exp_value < BO_EXP_SAT)
                exp_value = exp_value * 10 + (s[i] - '0');
        if (i == estart)
            return bo_error_set(err, BO_ERR_PARSE, "no digits in exponent");
        if (eneg)
            exp_value = -exp_value;
    }
    if (i != len)
        return bo_error_set(err, BO_ERR_PARSE, "unexpected character");

    /* Clinger's fast path: w and 10^|e| are exact doubles, so one IEEE multiply or divide
     * rounds correctly. Covers every value the ONE simulator writes ("604800.0999"). */
    if (w == 0) {
        *out = neg ? -0.0 : 0.0;
        return BO_OK;
    }
    int64_t e = e10 + exp_value;
    if (exact && w <= BO_MAX_EXACT_INT && e >= -22 && e <= 22) {
        double v = (double)w;
        v = e >= 0 ? v * pow10_exact[e] : v / pow10_exact[-e];
        *out = neg ? -v : v;
        return BO_OK;
    }
    return strtod_mantissa_exp(s + mant_start, mant_len, neg, exp_value, out, err);
}

/* ------------------------------------------------------------------ lines */

static bo_status fail_at(bo_error *err, bo_status st, int64_t line, size_t line_start,
                         size_t pos)
{
    if (err) {
        err->line = line;
        err->column = (int64_t)(pos - line_start);
        err->byte_offset = (int64_t)pos;
    }
    return st;
}

static bo_status push(bo_report *rep, bo_span key, double value)
{
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 32;
        if (cap < rep->cap || cap > SIZE_MAX / sizeof(bo_span) || cap > SIZE_MAX / sizeof(double))
            return BO_ERR_NOMEM;
        bo_span *k = (bo_span *)realloc(rep->keys, cap * sizeof *k);
        if (!k)
            return BO_ERR_NOMEM;
        rep->keys = k;
        double *v = (double *)realloc(rep->values, cap * sizeof *v);
        if (!v)
            return BO_ERR_NOMEM;
        rep->values = v;
        rep->cap = cap;
    }
    rep->keys[rep->n] = key;
    rep->values[rep->n] = value;
    rep->n++;
    return BO_OK;
}

void bo_report_init(bo_report *rep)
{
    if (rep)
        memset(rep, 0, sizeof *rep);
}

void bo_report_free(bo_report *rep)
{
    if (!rep)
        return;
    free(rep->keys);
    free(rep->values);
    bo_report_init(rep);
}

/* The parser proper. rep's arrays are reused (only rep->n is reset), so a caller parsing many
 * files in a row allocates once; on failure rep->n is 0 and the arrays stay. */
static bo_status parse_into(const char *data, size_t len, bo_report *rep, bo_error *err)
{
    bo_status st = BO_OK;
    rep->n = 0;
    rep->n_lines = 0;
    rep->title.off = rep->title.len = 0;
    char shown[160];

    size_t p = 0;
    while (p < len && (is_blank((unsigned char)data[p]) || data[p] == '\r' || data[p] == '\n'))
        p++;
    if (p == len) {
        st = bo_error_set(err, BO_ERR_PARSE, len ? "report has only blank lines" : "empty report");
        st = fail_at(err, st, 1, 0, 0);
        goto fail;
    }

    int64_t line = 0;
    size_t pos = 0;
    while (pos < len) {
        line++;
        size_t ls = pos;
        const char *nl = (const char *)memchr(data + ls, '\n', len - ls);
        size_t le = nl ? (size_t)(nl - data) : len;
        pos = nl ? le + 1 : len;
        if (le > ls && data[le - 1] == '\r')
            le--;
        if (line == 1) {
            rep->title.off = ls;
            rep->title.len = le - ls;
            continue;
        }
        size_t ks = ls;
        while (ks < le && is_blank((unsigned char)data[ks]))
            ks++;
        if (ks == le)
            continue; /* blank line */
        const char *colon = (const char *)memchr(data + ks, ':', le - ks);
        if (!colon) {
            snippet(shown, sizeof shown, data + ks, le - ks);
            st = bo_error_set(err, BO_ERR_PARSE, "missing ':' (expected 'key: value'): '%s'",
                              shown);
            st = fail_at(err, st, line, ls, ks);
            goto fail;
        }
        size_t cp = (size_t)(colon - data), ke = cp;
        while (ke > ks && is_blank((unsigned char)data[ke - 1]))
            ke--;
        if (ke == ks) {
            st = bo_error_set(err, BO_ERR_PARSE, "empty key before ':'");
            st = fail_at(err, st, line, ls, cp);
            goto fail;
        }
        for (size_t k = ks; k < ke; k++) {
            unsigned char c = (unsigned char)data[k];
            if (c < 0x20 || c == 0x7f) {
                st = bo_error_set(err, BO_ERR_PARSE, "control character 0x%02x in key", c);
                st = fail_at(err, st, line, ls, k);
                goto fail;
            }
        }
        int64_t bad_at = bo_utf8_check(data + ks, ke - ks);
        if (bad_at >= 0) {
            st = bo_error_set(err, BO_ERR_PARSE, "key is not valid UTF-8");
            st = fail_at(err, st, line, ls, ks + (size_t)bad_at);
            goto fail;
        }
        size_t vs = cp + 1, ve = le;
        while (vs < ve && is_blank((unsigned char)data[vs]))
            vs++;
        while (ve > vs && is_blank((unsigned char)data[ve - 1]))
            ve--;
        snippet(shown, sizeof shown, data + ks, ke - ks);
        if (vs == ve) {
            st = bo_error_set(err, BO_ERR_PARSE, "missing value for key '%s'", shown);
            st = fail_at(err, st, line, ls, vs);
            goto fail;
        }
        double v;
        bo_error verr;
        bo_error_clear(&verr);
        st = bo_report_parse_double(data + vs, ve - vs, &v, &verr);
        if (st == BO_ERR_PARSE) {
            char vshown[160];
            snippet(vshown, sizeof vshown, data + vs, ve - vs);
            st = bo_error_set(err, BO_ERR_PARSE, "non-numeric value '%s' for key '%s'", vshown,
                              shown);
            st = fail_at(err, st, line, ls, vs);
            goto fail;
        }
        if (st != BO_OK) {
            st = bo_error_set(err, st, "%s", verr.message);
            st = fail_at(err, st, line, ls, vs);
            goto fail;
        }
        bo_span key = {ks, ke - ks};
        st = push(rep, key, v);
        if (st != BO_OK) {
            st = bo_error_set(err, st, "out of memory after %zu keys", rep->n);
            st = fail_at(err, st, line, ls, ks);
            goto fail;
        }
    }
    rep->n_lines = (size_t)line;
    return BO_OK;
fail:
    rep->n = 0;
    return st;
}

bo_status bo_report_parse(const char *data, size_t len, bo_report *rep, bo_error *err)
{
    if (!rep || (!data && len))
        return bo_error_set(err, BO_ERR_ARG, "NULL argument");
    bo_report_free(rep);
    bo_status st = parse_into(data, len, rep, err);
    if (st != BO_OK)
        bo_report_free(rep);
    return st;
}

bo_status bo_report_parse_reuse(const char *data, size_t len, bo_report *rep, bo_error *err)
{
    if (!rep || (!data && len))
        return bo_error_set(err, BO_ERR_ARG, "NULL argument");
    return parse_into(data, len, rep, err);
}
