/* CSV field converters: typed columns from a block's row index.
 *
 * Rows are split into fixed chunks (independent of the thread count) and every output element
 * is written by exactly one chunk, so results are identical for any number of threads; the
 * first bad value is chosen by (row, column) order, not by which thread saw it first. */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "blockops/bo_csv.h"
#include "bo_omp.h"
#include "csv_internal.h"
#include "numparse.h"
#include "numparse_fast.h"

/* Rows per work item (a unit of the thread split; chunks are fixed, so results do not depend on
 * the thread count). */
#define CHUNK_ROWS 1024

void bo_csv_na_init(bo_csv_na *na, const char *const *values, const size_t *lens, int n)
{
    na->n = n;
    na->values = values;
    na->lens = lens;
    na->len_mask = 0;
    na->has_long = 0;
    na->nums = NULL;
    na->n_nums = 0;
    memset(na->last_byte, 0, sizeof na->last_byte);
    memset(na->first_byte, 0, sizeof na->first_byte);
    for (int i = 0; i < n; i++) {
        if (lens[i]) {
            unsigned char b = (unsigned char)values[i][lens[i] - 1];
            na->last_byte[b >> 6] |= (uint64_t)1 << (b & 63);
            b = (unsigned char)values[i][0];
            na->first_byte[b >> 6] |= (uint64_t)1 << (b & 63);
        }
        if (lens[i] < 64)
            na->len_mask |= (uint64_t)1 << lens[i];
        else
            na->has_long = 1;
    }
}

void bo_csv_na_numbers(bo_csv_na *na, double *buf)
{
    int k = 0;
    for (int i = 0; i < na->n; i++) {
        double d;
        if (bo_csv_parse_double(na->values[i], na->lens[i], &d) == 0 && d == d)
            buf[k++] = d;
    }
    na->nums = buf;
    na->n_nums = k;
}

/* A parsed float that is a missing value given as a number (-999.0 for "-999"). */
static inline int na_number(const bo_csv_na *na, double v)
{
    if (!na)
        return 0;
    for (int i = 0; i < na->n_nums; i++)
        if (na->nums[i] == v)
            return 1;
    return 0;
}

#define STR_PASS(name) name
#define STR_PASS_LINKAGE static
#include "convert_str.h"

size_t bo_csv_unquote(const char *src, size_t len, char quote, char *dst)
{
    /* src starts with the quote: quoted part (doubled quotes collapse), then the rest verbatim */
    size_t i = 1, k = 0;
    while (i < len) {
        char c = src[i];
        if (c == quote) {
            if (i + 1 < len && src[i + 1] == quote) {
                dst[k++] = quote;
                i += 2;
                continue;
            }
            i++;
            break;
        }
        dst[k++] = c;
        i++;
    }
    for (; i < len; i++)
        dst[k++] = src[i];
    return k;
}

/* The text of field f of row r (an unflagged row). */
static inline int field_text(const char *buf, const bo_csv_index *ix, int64_t r, int f, char quote,
                             scratch_t *sc, const char **s, size_t *len)
{
    return span_text(buf, bo_csv_field_start(ix, r, f), bo_csv_field_end(ix, r, f), quote, sc, s,
                     len);
}

static const char *type_name(bo_csv_type t)
{
    static const char *const names[BO_CSV_NTYPES] = {
        "int8", "int16", "int32", "int64", "float32", "float64", "bool", "str",
        "wkt_point", "hex", "datetime", "datetime (ISO 8601)", "uint64"};
    return (unsigned)t < BO_CSV_NTYPES ? names[t] : "?";
}

/* Exactly pandas' default spellings: it keeps ' TRUE' (padded) as text, so no trimming. */
static int parse_bool(const char *s, size_t len, uint8_t *v)
{
    if ((len == 4 && (!memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4) || !memcmp(s, "true", 4)))) {
        *v = 1;
        return 0;
    }
    if ((len == 5 &&
         (!memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5) || !memcmp(s, "false", 5)))) {
        *v = 0;
        return 0;
    }
    return -1;
}

/* lo: where the readable bytes before s start (the block, or s for an unquoted copy) */
static inline int parse_double_field(const char *lo, const char *s, size_t len, double *v)
{
#if defined(__SSE2__)
    if (bo_float_field_fast(lo, s, len, v) == 0)
        return 0;
#endif
    /* the rare rest (exponents, inf, > 19 digits, blanks): with pandas' rules for words */
    return bo_csv_parse_double(s, len, v);
}

typedef struct {
    int64_t row;  /* -1: none */
    int col;
    uint32_t offset;
    char text[48];
    int len;
    int code; /* -1 malformed, -2 out of range, -3 NA not allowed, -4 not UTF-8 */
} first_bad;

static void note_bad(first_bad *fb, int64_t r, int c, uint32_t off, const char *s, size_t len,
                     int code)
{
    if (fb->row >= 0 && (fb->row < r || (fb->row == r && fb->col <= c)))
        return;
    fb->row = r;
    fb->col = c;
    fb->offset = off;
    fb->code = code;
    fb->len = (int)(len < sizeof fb->text ? len : sizeof fb->text);
    memcpy(fb->text, s, (size_t)fb->len);
}

/* Convert one field (text s[0, len), missing-value matching done: na) of row r into the
 * non-string column c. Returns 0, or the bad-value code of note_bad. */
static inline int convert_field(const bo_csv_col *c, int64_t r, const char *lo, const char *s,
                                size_t len, int na)
{
    int rc = 0;
    switch (c->type) {
    case BO_CSV_FLOAT64: {
        double v = __builtin_nan("");
        if (!na)
            rc = parse_double_field(lo, s, len, &v);
        if (__builtin_expect(c->na && c->na->n_nums, 0) && !rc && na_number(c->na, v))
            v = __builtin_nan("");
        ((double *)c->out)[r] = v;
        break;
    }
    case BO_CSV_FLOAT32: {
        double v = __builtin_nan("");
        if (!na)
            rc = parse_double_field(lo, s, len, &v);
        if (__builtin_expect(c->na && c->na->n_nums, 0) && !rc && na_number(c->na, v))
            v = __builtin_nan("");
        ((float *)c->out)[r] = (float)v;
        break;
    }
    case BO_CSV_INT8:
    case BO_CSV_INT16:
    case BO_CSV_INT32:
    case BO_CSV_INT64: {
        int64_t v = 0;
        if (na) {
            rc = c->nullable ? 0 : -3;
        } else {
            rc = bo_int_shape_fast(lo, s, len, &v) ? bo_parse_int64(s, len, &v) : 0;
            if (!rc && c->type == BO_CSV_INT8 && (v < INT8_MIN || v > INT8_MAX))
                rc = -2;
            if (!rc && c->type == BO_CSV_INT16 && (v < INT16_MIN || v > INT16_MAX))
                rc = -2;
            if (!rc && c->type == BO_CSV_INT32 && (v < INT32_MIN || v > INT32_MAX))
                rc = -2;
        }
        if (rc)
            v = 0;
        switch (c->type) {
        case BO_CSV_INT8: ((int8_t *)c->out)[r] = (int8_t)v; break;
        case BO_CSV_INT16: ((int16_t *)c->out)[r] = (int16_t)v; break;
        case BO_CSV_INT32: ((int32_t *)c->out)[r] = (int32_t)v; break;
        default: ((int64_t *)c->out)[r] = v; break;
        }
        break;
    }
    case BO_CSV_BOOL: {
        uint8_t v = 0;
        rc = na ? (c->nullable ? 0 : -3) : parse_bool(s, len, &v);
        ((uint8_t *)c->out)[r] = rc ? 0 : v;
        break;
    }
    case BO_CSV_HEX: {
        uint64_t v = 0;
        rc = na ? (c->nullable ? 0 : -3) : bo_parse_hex64(s, len, &v);
        ((uint64_t *)c->out)[r] = rc ? 0 : v;
        break;
    }
    case BO_CSV_UINT64: {
        uint64_t v = 0;
        rc = na ? (c->nullable ? 0 : -3) : bo_parse_uint64(s, len, &v);
        ((uint64_t *)c->out)[r] = rc ? 0 : v;
        break;
    }
    case BO_CSV_WKT_POINT: {
        double lon = __builtin_nan(""), lat = __builtin_nan("");
        if (!na)
            rc = bo_parse_wkt_point(s, len, &lon, &lat);
        if (rc == 1) /* POINT EMPTY: NaN coordinates, not a bad value */
            rc = 0;
        else if (rc)
            lon = lat = __builtin_nan("");
        ((double *)c->out)[r] = lon;
        ((double *)c->out2)[r] = lat;
        break;
    }
    case BO_CSV_DATETIME:
    case BO_CSV_DATETIME_ISO: {
        int64_t v = INT64_MIN; /* NaT */
        if (!na)
            rc = c->type == BO_CSV_DATETIME ? bo_parse_datetime_fmt(s, len, c->fmt, &v)
                                            : bo_parse_datetime_iso(s, len, &v);
        ((int64_t *)c->out)[r] = rc ? INT64_MIN : v;
        break;
    }
    default:
        return -1;
    }
    if (c->mask)
        c->mask[r] = (uint8_t)na;
    return rc;
}


/* Whether a missing-value string could be taken for a number by the fast parsers of the
 * column loops (non-empty text of only [+-.0-9]), or the column matches numbers numerically:
 * then every field of a numeric column is matched against the strings before it is parsed.
 * Otherwise a field that a fast parser accepts cannot be missing, and the match is skipped
 * (the default strings, "nan", "NULL", "#N/A", ..., are all words). */
static int na_numberlike(const bo_csv_na *na)
{
    if (!na)
        return 0;
    if (na->n_nums)
        return 1;
    for (int i = 0; i < na->n; i++) {
        size_t k = 0;
        while (k < na->lens[i] && strchr("+-.0123456789", na->values[i][k]) && na->values[i][k])
            k++;
        if (na->lens[i] && k == na->lens[i])
            return 1;
    }
    return 0;
}

/* The same for ISO datetime columns: a missing-value string of 19 or 20 bytes could have the
 * shape bo_iso_fast takes (no default one has). */
static int na_isolike(const bo_csv_na *na)
{
    if (!na)
        return 0;
    for (int i = 0; i < na->n; i++)
        if (na->lens[i] == 19 || na->lens[i] == 20)
            return 1;
    return 0;
}


/* Field c->field of row r of a non-string column, the general way (unquoting, missing-value
 * strings, every spelling the parsers take); padded: a short row that pad_short converts.
 * Returns -1 when out of memory (the scratch buffer), else 0. */
static inline int convert_generic(const char *buf, const char *buf_end, const bo_csv_index *ix,
                                  const bo_csv_col *c, int ci, int64_t r, char quote, int padded,
                                  uint8_t *bad, scratch_t *sc, first_bad *fb)
{
    const char *s;
    size_t len;
    int na;
    if (!padded) {
        if (field_text(buf, ix, r, c->field, quote, sc, &s, &len) < 0)
            return -1;
        na = na_match(c->na, s, len);
    } else {
        uint32_t a, b;
        const int present = padded_span(ix, r, c->field, &a, &b);
        if (span_text(buf, a, b, quote, sc, &s, &len) < 0)
            return -1;
        na = !present || na_match(c->na, s, len); /* a padded field is missing */
    }
    /* s is in the block (whose bytes before s the fast parsers may read), or in the scratch
     * buffer when the value was quoted */
    const char *lo = (uintptr_t)s - (uintptr_t)buf < (uintptr_t)(buf_end - buf) ? buf : s;
    const int rc = convert_field(c, r, lo, s, len, na);
    if (rc) {
        if (bad)
            bad[r] = 1;
        note_bad(fb, r, ci, bo_csv_field_start(ix, r, c->field), s, len, rc);
    }
    return 0;
}

/* The general path's context (convert_internal.h): one column of one chunk */
struct bo_csv_slow {
    const char *buf, *buf_end;
    const bo_csv_index *ix;
    const bo_csv_col *c;
    int ci;
    char quote;
    uint8_t *bad;
    scratch_t *sc;
    first_bad *fb;
};

/* convert_generic out of line, for the fields the fast loops do not take (missing, quoted,
 * exponents, ...): inlined, its code and live values crowded the loops' registers. */
__attribute__((noinline)) int bo_csv_convert_slow(const struct bo_csv_slow *x, int64_t r,
                                                  int padded)
{
    return convert_generic(x->buf, x->buf_end, x->ix, x->c, x->ci, r, x->quote, padded, x->bad,
                           x->sc, x->fb);
}

#define NUM_PASS(name) name
#define NUM_PASS_LINKAGE static
#include "convert_num.h"

/* The column passes of a SIMD level: the AVX2 builds where the CPU has what they were compiled
 * for (the level's AVX2 and FMA, and BMI1/2 and POPCNT, checked here), else SSE2; at the
 * AVX-512 level the int64 and float64 passes' AVX-512 builds where the CPU has BW, DQ, VL and
 * VBMI. */
typedef int (*str_pass_fn)(const char *, const char *, const bo_csv_index *, const bo_csv_col *,
                           const uint8_t *, int64_t, int64_t, char, char **, char *, int64_t *,
                           const char *, scratch_t *);
typedef struct {
    bo_csv_num_pass_fn int64, float64, float32, datetime_iso;
    str_pass_fn str;
    bo_csv_rows_fn rows_int64, rows_float64; /* NULL below the AVX-512 level */
    bo_csv_rows_fn cols_int64, cols_float64;
} col_passes;

#if defined(__SSE2__)
static col_passes pick_passes(int simd)
{
#if defined(BO_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (simd >= BO_SIMD_AVX2 && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
        __builtin_cpu_supports("popcnt")) {
        col_passes p = {pass_int64_avx2, pass_float64_avx2, pass_float32_avx2,
                        pass_datetime_iso_avx2, str_pass_avx2, NULL, NULL, NULL, NULL};
#if defined(BO_HAVE_CONV_AVX512)
        if (simd >= BO_SIMD_AVX512 && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("avx512vbmi")) {
            p.int64 = pass_int64_avx512;
            p.float64 = pass_float64_avx512;
            p.rows_int64 = rows_int64_avx512;
            p.rows_float64 = rows_float64_avx512;
            p.cols_int64 = cols_int64_avx512;
            p.cols_float64 = cols_float64_avx512;
        }
#endif
        return p;
    }
#endif
    (void)simd;
    return (col_passes){pass_int64, pass_float64, pass_float32, pass_datetime_iso, str_pass,
                        NULL, NULL, NULL, NULL};
}
#endif

/* Passes of fewer rows than this take their int64 and float64 columns row by row
 * (rows_pass in convert_num.h), when a type has at least eight: the column batches need 16
 * rows, and their rows are far apart. */
#define ROWWISE_MAX_ROWS 64

/* What rows_pass (passes of long rows, at least eight columns of the type) or cols_pass
 * (passes of short rows, every column of the chunk an int64 or float64 one, at least two of
 * the type) needs for the columns of one type of a chunk, taken out of the column loop
 * (taken[ci]); n = 0 when neither applies or the level has neither. One allocation. */
typedef struct {
    int n;
    bo_csv_rows_fn fn;
    uint32_t *f, *ea;
    void **outs;
    uint8_t **masks;
    struct bo_csv_slow *x;
    const struct bo_csv_slow **xp;
    uint8_t *mode, *taken;
    void *mem;
} row_cols;

static void row_cols_free(row_cols *rc)
{
    free(rc->mem);
    rc->mem = NULL;
    rc->n = 0;
}

static int row_cols_init(row_cols *rc, bo_csv_type type, bo_csv_rows_fn fn, bo_csv_rows_fn cfn,
                         const char *buf, const char *buf_end, const bo_csv_index *ix,
                         const bo_csv_col *cols,
                         int n_cols, const uint8_t *fast, char quote, uint8_t *bad,
                         scratch_t *sc, first_bad *fb, int64_t pass)
{
    memset(rc, 0, sizeof *rc);
    if (!fn)
        return 0;
    int n = 0;
    for (int ci = 0; ci < n_cols; ci++)
        n += fast[ci] && cols[ci].type == type;
    if (pass >= ROWWISE_MAX_ROWS) {
        if (!cfn || n < 2)
            return 0;
        fn = cfn;
    } else if (n < 8)
        return 0;
    const size_t k = (size_t)n;
    rc->mem = malloc(k * (sizeof(struct bo_csv_slow) + 3 * sizeof(void *) + 2 * sizeof(uint32_t)) +
                     k + (size_t)n_cols);
    if (!rc->mem)
        return -1;
    /* the structs and pointers first (their alignment), the uint32 and byte arrays after */
    rc->x = (struct bo_csv_slow *)rc->mem;
    rc->xp = (const struct bo_csv_slow **)(rc->x + k);
    rc->outs = (void **)(rc->xp + k);
    rc->masks = (uint8_t **)(rc->outs + k);
    rc->f = (uint32_t *)(rc->masks + k);
    rc->ea = rc->f + k;
    rc->mode = (uint8_t *)(rc->ea + k);
    rc->taken = rc->mode + k;
    rc->fn = fn;
    for (int ci = 0; ci < n_cols; ci++) {
        const bo_csv_col *c = &cols[ci];
        rc->taken[ci] = fast[ci] && c->type == type;
        if (!rc->taken[ci])
            continue;
        const int j = rc->n++;
        rc->x[j] = (struct bo_csv_slow){buf, buf_end, ix, c, ci, quote, bad, sc, fb};
        rc->xp[j] = &rc->x[j];
        rc->outs[j] = c->out;
        rc->masks[j] = c->mask;
        rc->f[j] = (uint32_t)c->field;
        rc->ea[j] = c->field + 1 < ix->n_fields;
    }
    return 0;
}

/* Rows [p0, p1) of the columns rc took (st as for the column passes) */
static int row_cols_pass(const row_cols *rc, const char *buf, const bo_csv_index *ix,
                         const uint8_t *st, int64_t p0, int64_t p1)
{
    return rc->n ? rc->fn(buf, ix, rc->n, rc->f, rc->ea, (void *const *)rc->outs, rc->masks,
                          rc->xp, rc->mode, st, p0, p1)
                 : 0;
}

/* Rows a column pass of convert_chunk covers: about 64 KB of text and index, so that the
 * next column's pass finds them in L2 (a BSM row is ~300 bytes, a row of 320 numbers ~4 KB
 * with its index). */
#define PASS_BYTES ((int64_t)64 << 10)

/* Convert rows [r0, r1) of every column. The rows are taken in passes of a few dozen to a
 * thousand rows (PASS_BYTES), and each pass column by column: a column's loop is specialised
 * for its type (int and float columns parse each field with the fast parsers of
 * numparse_fast.h and fall back to the general path only for the fields they do not take:
 * quoted, missing, blanks, exponents, ...), where a loop over the fields of a row dispatched
 * on the type and matched the missing-value strings for every field (~20 ns a number). The
 * pass's bytes stay in cache from one column to the next, so the block is still read from
 * memory once. String bytes are copied to str_cur[ci] (where this chunk's values start in the
 * column's buffer; advanced past what was written; str_end[ci]: the end of its region),
 * str_offs[ci][r + 1] gets the value's end relative to str_base[ci] (the start of the
 * thread's run, see bo_csv_convert). A row flagged by the tokenizer is bad and not
 * converted (its strings count as missing, with length 0). fast[ci]: column ci may skip the
 * missing-value match for fields its fast parser takes (na_numberlike, na_isolike).
 * check[ci]: set to 1 when string column ci's values need check_utf8_chunk (the pass's
 * answer, per column: a column of ASCII codes is not read again for a text column beside it).
 * Returns -1 when out of memory, else 0. */
static int convert_chunk(const char *buf, const bo_csv_index *ix, const bo_csv_col *cols,
                         int n_cols, const uint8_t *fast, char quote, int pad, int64_t r0,
                         int64_t r1, uint8_t *bad, char **str_cur, char *const *str_end,
                         int64_t *const *str_offs, char *const *str_base, scratch_t *sc,
                         first_bad *fb, const col_passes *np, uint8_t *check)
{
    const char *const buf_end = buf + ix->consumed; /* every field lies before it */
    const size_t stride = (size_t)ix->n_fields + 1;
    uint8_t st[CHUNK_ROWS];
    int any_flagged = 0;
    for (int64_t r = r0; r < r1; r++) {
        const int flagged = ix->flags[r] != BO_CSV_ROW_OK;
        any_flagged |= flagged;
        st[r - r0] = !flagged ? ROW_CONVERT : padded_row(ix, r, pad) ? ROW_PADDED : ROW_SKIP;
        if (st[r - r0] == ROW_SKIP && bad)
            bad[r] = 1;
    }
    const int64_t row_bytes = (int64_t)(bo_csv_row_start(ix, r1 - 1) - bo_csv_row_start(ix, r0)) /
                                  (r1 - r0 > 1 ? r1 - r0 - 1 : 1) +
                              (int64_t)stride * 4 + 1;
    int64_t pass = PASS_BYTES / row_bytes;
    pass = pass < 8 ? 8 : pass;
    row_cols rc[2]; /* int64, float64 */
    memset(rc, 0, sizeof rc);
    /* Every column an int64 or float64 one the batches may take (a table of numbers, or
     * the numbers of one): short rows take them eight rows at a time across the columns
     * (cols_pass), in the order of the text and without the pass's prefetch, where one
     * column at a time over a pass read the whole pass's text once per column. With any other
     * column the prefetch brings the pass in for it anyway, and the column loops stay. */
    int n_num = 0;
    for (int ci = 0; ci < n_cols; ci++)
        n_num += fast[ci] && (cols[ci].type == BO_CSV_INT64 || cols[ci].type == BO_CSV_FLOAT64);
    const int all_num = n_num == n_cols;
    int status =
        row_cols_init(&rc[0], BO_CSV_INT64, np->rows_int64, all_num ? np->cols_int64 : NULL,
                      buf, buf_end, ix, cols, n_cols, fast, quote, bad, sc, fb, pass) < 0 ||
        row_cols_init(&rc[1], BO_CSV_FLOAT64, np->rows_float64, all_num ? np->cols_float64 : NULL,
                      buf, buf_end, ix, cols, n_cols, fast, quote, bad, sc, fb, pass) < 0
            ? -1
            : 0;
    for (int64_t p0 = r0; p0 < r1 && !status; p0 += pass) {
        const int64_t p1 = p0 + pass < r1 ? p0 + pass : r1;
        /* The pass's text and index into cache before its first column walks them: one
         * prefetch per line, all in flight at once, where the first column's loop otherwise
         * waited for each row's line in turn (the rows are ~100 bytes apart, a stride the
         * hardware prefetcher follows only slowly). Not when rows_pass or cols_pass takes
         * every column: they read the rows' text and index in order, a stream the prefetcher
         * follows (the column loops of the others, strings in particular, would still want
         * it). */
        if (rc[0].n + rc[1].n < n_cols) {
            const char *a = buf + bo_csv_row_start(ix, p0);
            const char *b = p1 < ix->n_rows ? buf + bo_csv_row_start(ix, p1) : buf_end;
            for (; a < b; a += 64)
                __builtin_prefetch(a);
            const char *ia = (const char *)(ix->offs + (size_t)p0 * stride);
            const char *ib = (const char *)(ix->offs + (size_t)p1 * stride);
            for (; ia < ib; ia += 64)
                __builtin_prefetch(ia);
        }
        for (int t = 0; t < 2 && !status; t++)
            status = row_cols_pass(&rc[t], buf, ix, any_flagged ? st + (p0 - r0) : NULL, p0, p1);
        for (int ci = 0; ci < n_cols && !status; ci++) {
            const bo_csv_col *c = &cols[ci];
            if ((rc[0].n && rc[0].taken[ci]) || (rc[1].n && rc[1].taken[ci]))
                continue;
            if (c->type == BO_CSV_STR) {
                const int r = np->str(buf, buf_end, ix, c, st + (p0 - r0), p0, p1, quote,
                                      &str_cur[ci], str_end[ci], str_offs[ci], str_base[ci], sc);
                if (r < 0)
                    status = -1;
                check[ci] |= (uint8_t)(r > 0);
                continue;
            }
#if defined(__SSE2__)
            if (fast[ci] && (c->type == BO_CSV_INT64 || c->type == BO_CSV_FLOAT64 ||
                             c->type == BO_CSV_FLOAT32 || c->type == BO_CSV_DATETIME_ISO)) {
                const struct bo_csv_slow x = {buf, buf_end, ix, c, ci, quote, bad, sc, fb};
                if ((c->type == BO_CSV_INT64     ? np->int64
                     : c->type == BO_CSV_FLOAT64 ? np->float64
                     : c->type == BO_CSV_FLOAT32 ? np->float32
                                                 : np->datetime_iso)(
                        buf, ix, c, any_flagged ? st + (p0 - r0) : NULL, p0, p1, &x) < 0)
                    status = -1;
                continue;
            }
#endif
            for (int64_t r = p0; r < p1 && !status; r++)
                if (st[r - r0] != ROW_SKIP &&
                    convert_generic(buf, buf_end, ix, c, ci, r, quote, st[r - r0] == ROW_PADDED,
                                    bad, sc, fb) < 0)
                    status = -1;
        }
    }
    row_cols_free(&rc[0]);
    row_cols_free(&rc[1]);
    return status;
}

/* UTF-8 check of the string values chunk [r0, r1) of column ci wrote, [start, end) (offs[r + 1]
 * holds each value's end relative to data): one ASCII test over the whole region while it is
 * in cache (the usual case: nothing else to do), else every value on its own (a
 * character split between two values would pass a test of their concatenation). An ill-formed
 * value makes its row bad, like a number that does not parse. */
static void check_utf8_chunk(const bo_csv_index *ix, const bo_csv_col *c, int ci,
                             const char *start, const char *end, const int64_t *offs,
                             const char *data, int64_t r0, int64_t r1, int simd, uint8_t *bad,
                             first_bad *fb)
{
    if (all_ascii(start, (size_t)(end - start)))
        return;
    const int64_t at0 = start - data; /* (offs[r0] is another chunk's to write) */
    if (bo_utf8_check_level(start, (size_t)(end - start), simd) < 0) {
        /* The region is well-formed, so its characters start exactly at its bytes that are
         * not continuation bytes (10xxxxxx): when every value starts at one, every value is
         * a run of whole characters, hence well-formed (one pass instead of a call per
         * value). */
        int split = 0;
        int64_t at = at0;
        for (int64_t r = r0; r < r1 && !split; r++) {
            const int64_t next = offs[r + 1];
            split = next > at && ((unsigned char)data[at] & 0xC0) == 0x80;
            at = next;
        }
        if (!split)
            return;
    }
    int64_t at = at0;
    for (int64_t r = r0; r < r1; r++) {
        const char *p = data + at;
        const size_t len = (size_t)(offs[r + 1] - at);
        if (len && bo_utf8_check(p, len) >= 0) {
            if (bad)
                bad[r] = 1;
            note_bad(fb, r, ci, bo_csv_field_start(ix, r, c->field), p, len, -4);
        }
        at = offs[r + 1];
    }
}

/* Raw bytes of every string column's field over rows [r0, r1) (quotes included, flagged rows
 * excluded) into sums[ci * stride]: upper bounds of what convert_chunk writes for them
 * (unquoting and missing values only shrink). One walk of the index for all string columns: a
 * walk per column read the whole index (4 bytes per field of every row) once per column, 4%
 * of the conversion of a BSM block with its 6 string columns. */
static void raw_str_bytes(const bo_csv_index *ix, const bo_csv_col *cols, const int *str_cols,
                          int n_str, int pad, int64_t r0, int64_t r1, int64_t *sums,
                          size_t stride)
{
    for (int j = 0; j < n_str; j++)
        sums[(size_t)str_cols[j] * stride] = 0;
    for (int64_t r = r0; r < r1; r++)
        if (ix->flags[r] == BO_CSV_ROW_OK) {
            for (int j = 0; j < n_str; j++) {
                const int f = cols[str_cols[j]].field;
                sums[(size_t)str_cols[j] * stride] +=
                    bo_csv_field_end(ix, r, f) - bo_csv_field_start(ix, r, f);
            }
        } else if (padded_row(ix, r, pad)) {
            for (int j = 0; j < n_str; j++) {
                uint32_t a, b;
                padded_span(ix, r, cols[str_cols[j]].field, &a, &b);
                sums[(size_t)str_cols[j] * stride] += b - a;
            }
        }
}

bo_status bo_csv_convert(const char *buf, const bo_csv_index *ix, bo_csv_col *cols, int n_cols,
                         const bo_csv_conv_opts *opts, uint8_t *bad, bo_error *err)
{
    bo_error_clear(err);
    const int64_t n = ix->n_rows;
    const char quote = opts ? opts->quote : '"';
    const int pad = opts ? opts->pad_short : 0;
    const int simd = opts ? opts->simd : 0;
#if defined(__SSE2__)
    const col_passes np = pick_passes(simd);
#else
    const col_passes np = {0, 0, 0, 0, str_pass, NULL, NULL, NULL, NULL};
#endif
    int T = opts && opts->n_threads > 0 ? opts->n_threads : 1;
    const int64_t n_chunks = (n + CHUNK_ROWS - 1) / CHUNK_ROWS;
    if (T > n_chunks)
        T = n_chunks > 0 ? (int)n_chunks : 1;
    for (int ci = 0; ci < n_cols; ci++) {
        const bo_csv_col *c = &cols[ci];
        if (c->field < 0 || c->field >= ix->n_fields || (unsigned)c->type >= BO_CSV_NTYPES)
            return bo_error_set(err, BO_ERR_ARG, "column %d: bad field index or type", ci);
        if (c->type == BO_CSV_STR ? !c->mask
                                  : (!c->out || (c->type == BO_CSV_WKT_POINT && !c->out2) ||
                                     (c->nullable && !c->mask)))
            return bo_error_set(err, BO_ERR_ARG, "column %d: missing output buffer", ci);
        if (c->type == BO_CSV_DATETIME && !c->fmt)
            return bo_error_set(err, BO_ERR_ARG, "column %d: missing datetime format", ci);
    }
    first_bad *fbs = malloc(sizeof *fbs * (size_t)(n_chunks > 0 ? n_chunks : 1));
    uint8_t *fast = malloc((size_t)(n_cols > 0 ? n_cols : 1));
    if (!fbs || !fast) {
        free(fbs);
        free(fast);
        return bo_error_set(err, BO_ERR_NOMEM, "out of memory");
    }
    /* (columns share their set: each kind's answer for the last set it looked at) */
    const bo_csv_na *seen[2] = {NULL, NULL};
    uint8_t answer[2] = {0, 0};
    for (int ci = 0; ci < n_cols; ci++) {
        const int iso = cols[ci].type == BO_CSV_DATETIME_ISO;
        if (!seen[iso] || seen[iso] != cols[ci].na) {
            seen[iso] = cols[ci].na;
            answer[iso] = (uint8_t)(iso ? !na_isolike(cols[ci].na) : !na_numberlike(cols[ci].na));
        }
        fast[ci] = answer[iso];
    }
    for (int64_t k = 0; k < n_chunks; k++)
        fbs[k].row = -1;
    int nomem = 0;

    /* String columns: each chunk writes its values into its own region of the column's buffer,
     * sized by the raw field bytes (an upper bound); base[ci * (n_chunks + 1) + k] is where
     * chunk k's region of column ci starts. Thread t converts one run of consecutive chunks,
     * and a chunk's values start where the previous chunk's ended, so a run has no gaps; the
     * runs stay where they are, each an Arrow chunk of its own (bo_csv_col.str_runs), where
     * closing the gaps between them moved every string byte once more. */
    const size_t stride = (size_t)n_chunks + 1;
    int64_t *base = calloc((size_t)n_cols * stride, sizeof *base);
    int *str_cols = malloc(sizeof *str_cols * (size_t)(n_cols > 0 ? n_cols : 1));
    int n_str = 0;
    if (!base || !str_cols)
        nomem = 1;
    for (int ci = 0; ci < n_cols && !nomem; ci++)
        if (cols[ci].type == BO_CSV_STR)
            str_cols[n_str++] = ci;
    /* Every string column's region sizes in one walk of the index, on one thread unless there
     * are many rows: the walk reads two index entries per value (about 30 us for the two string
     * columns of an 8 MB slice), while the end of a parallel region is a wait in which the
     * other thread spins (libgomp) or, on a busy machine, sits descheduled: the reader
     * converts a block in slices, and every region per slice cost CPU time. */
    const int T_size = (int64_t)n_str * n >= ((int64_t)1 << 20) ? T : 1;
    (void)T_size; /* without OpenMP */
    if (n_str && !nomem) {
        BO_OMP(parallel for num_threads(T_size) schedule(static))
        for (int64_t k = 0; k < n_chunks; k++) {
            int64_t r0 = k * CHUNK_ROWS, r1 = r0 + CHUNK_ROWS < n ? r0 + CHUNK_ROWS : n;
            raw_str_bytes(ix, cols, str_cols, n_str, pad, r0, r1, base + k + 1, stride);
        }
    }
    free(str_cols);
    for (int ci = 0; ci < n_cols && !nomem; ci++) {
        bo_csv_col *c = &cols[ci];
        if (c->type != BO_CSV_STR)
            continue;
        /* run t's offsets: entries [row0_t + t, row1_t + t] */
        c->str_offsets = bo_pool_alloc(opts->pool, sizeof *c->str_offsets * (size_t)(n + T));
        c->str_runs = bo_pool_alloc(opts->pool, sizeof *c->str_runs * 2 * (size_t)T);
        c->n_str_runs = T;
        if (!c->str_offsets || !c->str_runs) {
            nomem = 1;
            break;
        }
        int64_t *b = base + (size_t)ci * stride;
        for (int64_t k = 0; k < n_chunks; k++)
            b[k + 1] += b[k];
        c->str_data = bo_pool_alloc(opts->pool, (size_t)b[n_chunks]);
        if (!c->str_data) {
            nomem = 1;
            break;
        }
        for (int t = 0; t < T; t++) {
            const int64_t k0 = n_chunks * t / T;
            c->str_runs[2 * t] = k0 * CHUNK_ROWS;
            c->str_runs[2 * t + 1] = b[k0];
            c->str_offsets[k0 * CHUNK_ROWS + t] = 0;
        }
    }
    if (!nomem) {
        /* thread t: chunks [n_chunks * t / T, n_chunks * (t + 1) / T), whichever thread runs
         * it (the runs, hence the Arrow chunks, depend on T; no value does) */
        BO_OMP(parallel for num_threads(T) schedule(static, 1) reduction(| : nomem))
        for (int t = 0; t < T; t++) {
            scratch_t sc = {0};
            /* per column: where the next value goes, the chunk's region end, the run's start,
             * the chunk's first value */
            const size_t nc = n_cols > 0 ? (size_t)n_cols : 1;
            char **cur = malloc(sizeof *cur * 4 * nc);
            int64_t **offs = malloc(sizeof *offs * nc);
            uint8_t *check = malloc(nc);
            char **cur_end = cur + n_cols, **run = cur + 2 * n_cols, **first = cur + 3 * n_cols;
            const int64_t k0 = n_chunks * t / T, k1 = n_chunks * (t + 1) / T;
            if (!cur || !offs || !check)
                sc.nomem = 1;
            for (int ci = 0; ci < n_cols && !sc.nomem; ci++) {
                const bo_csv_col *c = &cols[ci];
                cur[ci] = cur_end[ci] = run[ci] = NULL;
                offs[ci] = NULL;
                if (c->type == BO_CSV_STR) {
                    cur[ci] = run[ci] = c->str_data + c->str_runs[2 * t + 1];
                    offs[ci] = c->str_offsets + t;
                }
            }
            for (int64_t k = k0; k < k1 && !sc.nomem; k++) {
                const int64_t r0 = k * CHUNK_ROWS, r1 = r0 + CHUNK_ROWS < n ? r0 + CHUNK_ROWS : n;
                for (int ci = 0; ci < n_cols; ci++) {
                    first[ci] = cur[ci];
                    check[ci] = 0;
                    if (cur[ci])
                        cur_end[ci] = cols[ci].str_data + base[(size_t)ci * stride + (size_t)k + 1];
                }
                if (convert_chunk(buf, ix, cols, n_cols, fast, quote, pad, r0, r1, bad, cur,
                                  cur_end, offs, run, &sc, &fbs[k], &np, check) < 0)
                    sc.nomem = 1;
                else
                    for (int ci = 0; ci < n_cols; ci++)
                        if (cur[ci] && check[ci])
                            check_utf8_chunk(ix, &cols[ci], ci, first[ci], cur[ci], offs[ci],
                                             run[ci], r0, r1, simd, bad, &fbs[k]);
            }
            nomem |= sc.nomem;
            free(sc.buf);
            free(cur);
            free(offs);
            free(check);
        }
    }
    for (int ci = 0; ci < n_cols && !nomem; ci++) {
        bo_csv_col *c = &cols[ci];
        if (c->type != BO_CSV_STR)
            continue;
        const int64_t end = c->str_runs[2 * (T - 1) + 1] + c->str_offsets[n + T - 1];
        /* the slack (missing values, quotes) stays: pages never written are not resident */
        c->str_bytes = (size_t)end;
    }
    free(base);
    free(fast);
    if (nomem) {
        for (int ci = 0; ci < n_cols; ci++) {
            bo_csv_str_free(&cols[ci], opts->pool);
        }
        free(fbs);
        return bo_error_set(err, BO_ERR_NOMEM, "out of memory converting %lld rows",
                            (long long)n);
    }
    first_bad best = {.row = -1};
    for (int64_t k = 0; k < n_chunks; k++)
        if (fbs[k].row >= 0) {
            best = fbs[k];
            break; /* chunks are in row order */
        }
    free(fbs);
    if (best.row >= 0) {
        const bo_csv_col *c = &cols[best.col];
        if (best.code == -3)
            bo_error_set(err, BO_ERR_PARSE, "missing value not allowed in a %s column (use a "
                         "nullable dtype such as \"Int64\")", type_name(c->type));
        else if (best.code == -4)
            bo_error_set(err, BO_ERR_PARSE, "value \"%.*s%s\" is not valid UTF-8", best.len,
                         best.text, best.len == (int)sizeof best.text ? "..." : "");
        else
            bo_error_set(err, BO_ERR_PARSE, "value \"%.*s%s\" %s %s", best.len, best.text,
                         best.len == (int)sizeof best.text ? "..." : "",
                         best.code == -2 ? "is out of range for" : "cannot be parsed as",
                         type_name(c->type));
        if (err) {
            err->index = best.row;
            err->column = best.col;
            err->byte_offset = best.offset;
        }
        return BO_ERR_PARSE;
    }
    return BO_OK;
}

/* Whether s[0, len) is [+-]digits[.digits]: text bo_csv_parse_double takes whatever its value
 * (no exponent, no blanks, no words), told without converting it. Inference needs only whether
 * a float column's values parse, and converting each one cost most of its time. */
static int plain_decimal(const char *s, size_t len)
{
    size_t i = len && (s[0] == '+' || s[0] == '-');
    const size_t d0 = i;
    while (i < len && bo_is_digit(s[i]))
        i++;
    if (i == d0)
        return 0;
    if (i == len)
        return 1;
    if (s[i] != '.')
        return 0;
    const size_t d1 = ++i;
    while (i < len && bo_is_digit(s[i]))
        i++;
    return i == len && i > d1;
}

int bo_csv_plain_decimal(const char *s, size_t len) { return plain_decimal(s, len); }

/* What inference knows of one column from the values seen so far. Each all_ flag is whether
 * every value seen is one: the final answer is their AND over all values, whatever the order,
 * so parts of the rows can be seen apart (on threads) and joined. */
typedef struct {
    uint8_t all_int;     /* int64 */
    uint8_t all_u64;     /* uint64 (asked only while all_intlike) */
    uint8_t all_intlike; /* an integer, whatever its size */
    uint8_t all_num;     /* a number (asked only once a value is not an int64) */
    uint8_t all_bool;
    uint8_t any;         /* a value that is not missing */
    uint8_t any_na;
    uint8_t failed;      /* out of memory unquoting: nothing can be said (text) */
} infer_acc;

static void infer_start(infer_acc *a)
{
    *a = (infer_acc){1, 1, 1, 1, 1, 0, 0, 0};
}

/* Whether a value can still change the answer: once no number or bool is possible, it is text */
static inline int infer_live(const infer_acc *a)
{
    return !a->failed && (a->all_int | a->all_num | a->all_bool);
}

/* The reference classification of one value: each type's own parser asked. */
static inline void infer_value(infer_acc *a, const char *s, size_t len)
{
    int64_t iv;
    uint64_t uv;
    double dv;
    uint8_t bv;
    if (a->all_intlike) {
        const int rc = bo_parse_int64(s, len, &iv);
        a->all_int &= rc == 0;
        a->all_intlike &= rc == 0 || rc == -2; /* -2: an integer beyond int64 */
        /* a positive int64 is a uint64 (the same text, sign and blanks); "-0" is not */
        if (a->all_u64 && !(rc == 0 && iv > 0) && bo_parse_uint64(s, len, &uv) != 0)
            a->all_u64 = 0;
    }
    if (a->all_num && !a->all_int && !plain_decimal(s, len) &&
        bo_csv_parse_double(s, len, &dv) != 0)
        a->all_num = 0;
    if (a->all_bool && parse_bool(s, len, &bv) != 0)
        a->all_bool = 0;
}

/* How many bytes of s[0, len) lead as ASCII digits, 8 at a time while the avail readable bytes
 * from s (avail >= len) allow a whole word. */
static inline size_t digit_run(const char *s, size_t len, size_t avail)
{
    size_t i = 0;
    while (i < len) {
        if (avail - i < 8) {
            while (i < len && bo_is_digit(s[i]))
                i++;
            return i;
        }
        uint64_t nd = bo_nondigit_bits(bo_load8(s + i) ^ (0x30 * BO_ONES8));
        if (len - i < 8)
            nd |= BO_HIGH8 << (8 * (len - i)); /* bytes past the value */
        if (nd)
            return i + (size_t)(__builtin_ctzll(nd) >> 3);
        i += 8;
    }
    return i;
}

enum { SHAPE_OTHER, SHAPE_INT, SHAPE_NEG_INT, SHAPE_DECIMAL };

/* The two shapes most numeric columns are made of, told in one pass over the value: an
 * optional sign and 1-18 digits (an int64, never out of range), or [+-]digits.digits (a
 * float). Anything else (blanks, exponents, words, 19+ digits) is SHAPE_OTHER: the parsers
 * decide. */
static inline int value_shape(const char *s, size_t len, size_t avail)
{
    size_t i = len && (s[0] == '+' || s[0] == '-');
    const int neg = i && s[0] == '-';
    const size_t d = digit_run(s + i, len - i, avail - i);
    if (!d)
        return SHAPE_OTHER;
    i += d;
    if (i == len)
        return d <= 18 ? (neg ? SHAPE_NEG_INT : SHAPE_INT) : SHAPE_OTHER;
    if (s[i] != '.')
        return SHAPE_OTHER;
    i++;
    const size_t f = digit_run(s + i, len - i, avail - i);
    return f && i + f == len ? SHAPE_DECIMAL : SHAPE_OTHER;
}

/* infer_value, with the commonest shapes told without the parsers: the same flags (what each
 * parser answers for such text is certain), about a third of the time on numeric columns. */
static inline void infer_value_fast(infer_acc *a, const char *s, size_t len, size_t avail)
{
    switch (value_shape(s, len, avail)) {
    case SHAPE_NEG_INT: /* "-0" is an int64 but not a uint64 */
        a->all_u64 = 0;
        /* fall through */
    case SHAPE_INT:
        a->all_bool = 0;
        return;
    case SHAPE_DECIMAL:
        a->all_int = a->all_intlike = a->all_u64 = a->all_bool = 0;
        return;
    default:
        infer_value(a, s, len);
    }
}

static void infer_join(infer_acc *a, const infer_acc *b)
{
    a->all_int &= b->all_int;
    a->all_u64 &= b->all_u64;
    a->all_intlike &= b->all_intlike;
    a->all_num &= b->all_num;
    a->all_bool &= b->all_bool;
    a->any |= b->any;
    a->any_na |= b->any_na;
    a->failed |= b->failed;
}

static bo_csv_type infer_result(const infer_acc *a, int *has_na)
{
    if (has_na)
        *has_na = a->any ? a->any_na : 2;
    /* text stops the scan of its column at the value that makes it text, so whether a missing
     * value comes later is not known, and which values a thread saw first must not show:
     * text is always said to have some (it is nullable anyway) */
    if (a->failed || !infer_live(a)) {
        if (has_na)
            *has_na = 1;
        return BO_CSV_STR;
    }
    if (!a->any)
        return BO_CSV_FLOAT64; /* all missing (or no rows): pandas gives float64 */
    if (a->all_int)
        return BO_CSV_INT64;
    if (a->all_intlike) /* some beyond int64 */
        return a->all_u64 && !a->any_na ? BO_CSV_UINT64 : BO_CSV_BIGINT;
    if (a->all_num)
        return BO_CSV_FLOAT64;
    if (a->all_bool)
        return BO_CSV_BOOL;
    return BO_CSV_STR;
}

/* Rows [r0, r1) into acc[0, n): row by row, every field of a row before the next row, so the
 * rows and their index are read once in order. Field by field, each value of a wide row was a
 * new cache line of the data and of the index, and the classification waited on them. */
static void infer_rows(const char *buf, const bo_csv_index *ix, int64_t r0, int64_t r1, int n,
                       const int *fields, char quote, const bo_csv_na *const *nas, int pad_short,
                       int fast, infer_acc *acc)
{
    scratch_t sc = {0};
    const int nf = ix->n_fields;
    int live = 0;
    for (int i = 0; i < n; i++)
        live += infer_live(&acc[i]);
    for (int64_t r = r0; r < r1 && live; r++) {
        const int ok = ix->flags[r] == BO_CSV_ROW_OK;
        if (!ok && !padded_row(ix, r, pad_short))
            continue;
        const uint32_t *o = ix->offs + (size_t)r * (size_t)(nf + 1);
        for (int i = 0; i < n; i++) {
            infer_acc *a = &acc[i];
            if (!infer_live(a))
                continue;
            const int f = fields[i];
            uint32_t lo, hi;
            int missing = 0;
            if (ok) {
                lo = o[f];
                hi = f + 1 < nf ? o[f + 1] - 1 : o[nf];
            } else { /* as bo_csv_convert with pad_short reads it */
                missing = !padded_span(ix, r, f, &lo, &hi);
            }
            const char *s;
            size_t len;
            if (span_text(buf, lo, hi, quote, &sc, &s, &len) < 0) {
                a->failed = 1;
            } else if (missing || na_match(nas ? nas[i] : NULL, s, len)) {
                a->any_na = 1;
                continue;
            } else {
                a->any = 1;
                if (fast) /* an unquoted value is followed by the rest of the rows */
                    infer_value_fast(a, s, len, s == buf + lo ? ix->consumed - lo : len);
                else
                    infer_value(a, s, len);
            }
            live -= !infer_live(a);
        }
    }
    free(sc.buf);
}

bo_csv_type bo_csv_infer(const char *buf, const bo_csv_index *ix, int field, char quote,
                         const bo_csv_na *na, int pad_short, int *has_na)
{
    infer_acc a;
    infer_start(&a);
    infer_rows(buf, ix, 0, ix->n_rows, 1, &field, quote, &na, pad_short, 0, &a);
    return infer_result(&a, has_na);
}

void bo_csv_infer_fields(int n_windows, const char *const *bufs, const bo_csv_index *const *ixs,
                         int n, const int *fields, char quote, const bo_csv_na *const *nas,
                         int pad_short, int n_threads, bo_csv_type *types, int *has_na)
{
    int T = n_threads > 0 ? n_threads : 1;
    int64_t rows = 0;
    for (int w = 0; w < n_windows; w++)
        rows += ixs[w]->n_rows;
    /* none for a small sample: starting the team costs more than inferring a few thousand
     * values */
    if (rows * n < 20000)
        T = 1;
    infer_acc *acc = malloc(sizeof(infer_acc) * (size_t)(n > 0 ? n : 1) * (size_t)T);
    if (!acc) { /* nothing can be said: text, as a failed unquote gives */
        for (int i = 0; i < n; i++) {
            infer_acc a = {.failed = 1};
            types[i] = infer_result(&a, &has_na[i]);
        }
        return;
    }
    for (int64_t k = 0; k < (int64_t)n * T; k++)
        infer_start(&acc[k]);
    /* every window cut into T parts of its rows, in one team (one window at a time left a
     * thread idle for the small ones); each thread joins what it sees into its own flags, and
     * the flags are joined after: the same answer at any thread count */
    BO_OMP(parallel for num_threads(T) schedule(dynamic, 1))
    for (int64_t k = 0; k < (int64_t)n_windows * T; k++) {
        const bo_csv_index *ix = ixs[k / T];
        const int64_t t = k % T;
        infer_rows(bufs[k / T], ix, ix->n_rows * t / T, ix->n_rows * (t + 1) / T, n, fields,
                   quote, nas, pad_short, 1, acc + (size_t)omp_get_thread_num() * (size_t)n);
    }
    for (int i = 0; i < n; i++) {
        for (int t = 1; t < T; t++)
            infer_join(&acc[i], &acc[(size_t)t * (size_t)n + (size_t)i]);
        types[i] = infer_result(&acc[i], &has_na[i]);
    }
    free(acc);
}
