/* blockops CSV core: tokenizer (row/field index of a block) and typed field converters.
 *
 * The caller (the Python reader, the fuzz target, the C tests) owns the bytes. A block is any
 * buffer that starts at a row boundary; bo_csv_tokenize indexes the complete rows in it and
 * reports how many bytes it consumed, so the caller carries the incomplete tail into the next
 * block. Nothing here allocates more than O(block) and nothing keeps global state.
 *
 * Dialect (RFC 4180 plus pandas' C-engine conventions):
 *   - rows end at LF, CRLF or a lone CR, outside quotes; blank (or spaces/tabs-only) lines are
 *     skipped and are not rows;
 *   - a field that starts with the quote character is quoted: delimiters and line breaks inside
 *     are data, a doubled quote is one quote; characters after the closing quote up to the next
 *     delimiter are appended (pandas does the same); a quote inside an unquoted field is data.
 */
#ifndef BLOCKOPS_BO_CSV_H
#define BLOCKOPS_BO_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "blockops/bo_common.h"
#include "blockops/bo_pool.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks are indexed with 32-bit offsets: one block must be smaller than this. */
#define BO_CSV_MAX_BLOCK ((size_t)UINT32_MAX - 1)

/* Row flags (bo_csv_index.flags). */
enum {
    BO_CSV_ROW_OK = 0,
    BO_CSV_ROW_FIELDS = 1,      /* wrong number of fields */
    BO_CSV_ROW_UNTERMINATED = 2 /* quote still open at end of input */
};

typedef struct bo_csv_tok_opts {
    char delimiter;
    char quote;           /* '\0': no quoting */
    int n_fields;         /* expected fields per row; <= 0: taken from the first row */
    int final;            /* no more input after this buffer: the last row needs no newline */
    int64_t max_rows;     /* stop after this many rows (<= 0: no limit); e.g. 1 for a header */
    size_t max_row_bytes; /* a longer row is BO_ERR_LIMIT (0: no limit) */
    int n_threads;
    int byte_path_only;   /* tests: no structural scan (scan_rows), tok_row for every row */
    int simd;             /* bo_simd_level of the structural scan (one this CPU supports; 0:
                           * the SSE2 baseline); the index is the same at every level */
    struct bo_pool *pool; /* where the index's offsets come from and go back to (bo_pool.h;
                           * NULL: malloc) */
} bo_csv_tok_opts;

/* The index of the complete rows of one buffer. Field f of row r spans
 * [bo_csv_field_start, bo_csv_field_end) in the buffer (raw bytes, quotes included). Only the
 * row start and end of a flagged row are meaningful (its fields are never converted). */
typedef struct bo_csv_index {
    int64_t n_rows;
    int32_t n_fields;
    uint32_t *offs;   /* n_rows * (n_fields + 1): field starts, then the end of the last field */
    uint8_t *flags;   /* n_rows: BO_CSV_ROW_* */
    int32_t *counts;  /* n_rows: fields actually found (differs from n_fields when flagged) */
    size_t consumed;  /* bytes of the buffer covered by these rows (and trailing blank lines) */
    int64_t n_bad;    /* rows with a non-zero flag */
    int64_t n_lines;  /* line breaks in buf[0, consumed) as bo_csv_count_lines counts them, or
                       * -1 when the tokenizer could not tell cheaply (a row it took byte by
                       * byte, a line break inside quotes, blank lines at the end) */
    int speculated;   /* 1 when the parallel split was used and verified (diagnostics) */
    struct bo_pool *pool; /* the pool offs came from (bo_csv_index_free gives it back) */
} bo_csv_index;

static inline uint32_t bo_csv_field_start(const bo_csv_index *ix, int64_t r, int f)
{
    return ix->offs[(size_t)r * (size_t)(ix->n_fields + 1) + (size_t)f];
}
static inline uint32_t bo_csv_field_end(const bo_csv_index *ix, int64_t r, int f)
{
    const uint32_t *o = ix->offs + (size_t)r * (size_t)(ix->n_fields + 1);
    return f + 1 < ix->n_fields ? o[f + 1] - 1 : o[ix->n_fields];
}
static inline uint32_t bo_csv_row_start(const bo_csv_index *ix, int64_t r)
{
    return ix->offs[(size_t)r * (size_t)(ix->n_fields + 1)];
}

/* Index the complete rows of buf[0, n). With opts->final == 0 a row that is not terminated
 * is left unconsumed (consumed < n); BO_ERR_LIMIT when that tail (or any row) is longer than
 * max_row_bytes. On error err->byte_offset is the start of the offending row. */
bo_status bo_csv_tokenize(const char *buf, size_t n, const bo_csv_tok_opts *opts,
                          bo_csv_index *out, bo_error *err);
void bo_csv_index_free(bo_csv_index *ix);

/* Line breaks (LF, CRLF counted once, lone CR) in buf[0, n): the caller's line counter. */
int64_t bo_csv_count_lines(const char *buf, size_t n);
/* The same count by n_threads threads. With drop != 0 the caller is done with these bytes and
 * they lie in a read-only FILE mapping: the threads then also take the pages of buf[0, n)
 * (rounded down to whole pages: the page holding buf[n] stays, the one holding buf[0] goes)
 * out of the process's RSS with MADV_DONTNEED (they stay in the page cache). The reader does
 * this after each slice of a mapped block: counting its lines and dropping its pages were
 * two serial steps of about 0.5 ms per 8 MB each, during which the other OpenMP thread spun
 * (libgomp's wait), 12% of the reader's CPU time with 8 MiB slices. Never pass drop for
 * anonymous memory: MADV_DONTNEED would zero it. */
/* count == 0: only drop the pages (the tokenizer already counted the lines: bo_csv_index.n_lines)
 * and return 0. */
int64_t bo_csv_count_lines_par(const char *buf, size_t n, int n_threads, int drop, int count);

/* Streaming row counter for split planning: feed consecutive pieces of one file, in order.
 * Tracks quote state across pieces and records the byte offset (from the start of the feed)
 * of every row start at or after each requested split position. */
typedef struct bo_csv_scan {
    char delimiter, quote;
    int in_quote;      /* inside a quoted field */
    int at_row_start;  /* the next byte starts a row (or a blank line) */
    int field_start;   /* the next byte starts a field */
    int after_cr;      /* previous byte was a CR ending a row */
    int row_has_data;  /* current row has a non-blank byte */
    int64_t rows;      /* rows completed (blank lines not counted) */
    int64_t lines;     /* line breaks seen (LF, CRLF once, lone CR) */
    int prev_cr;       /* previous byte was a CR */
    uint64_t pos;      /* bytes fed so far */
    uint64_t row_begin;/* offset of the current row's first byte */
} bo_csv_scan;
void bo_csv_scan_init(bo_csv_scan *s, char delimiter, char quote);
/* Feed buf[0, n). For each target t in targets[0, n_targets) (ascending offsets) that has
 * not been resolved yet (found[i] < 0), when the first row start >= t is seen, found[i] gets
 * its offset, rows_before[i] the number of rows and lines_before[i] the number of line breaks
 * before it. Returns the number resolved. */
int64_t bo_csv_scan_feed(bo_csv_scan *s, const char *buf, size_t n, const uint64_t *targets,
                         int64_t *found, int64_t *rows_before, int64_t *lines_before,
                         int64_t n_targets);
/* bo_csv_scan_feed one byte at a time (the reference the C tests and fuzz_csv hold the
 * 64-byte path to: the same state and results for any pieces). */
int64_t bo_csv_scan_feed_ref(bo_csv_scan *s, const char *buf, size_t n, const uint64_t *targets,
                             int64_t *found, int64_t *rows_before, int64_t *lines_before,
                             int64_t n_targets);
/* Rows in the file after the last byte was fed (counts an unterminated last row). */
int64_t bo_csv_scan_finish(const bo_csv_scan *s);

/* ------------------------------------------------------------------ converters */

typedef enum bo_csv_type {
    BO_CSV_INT8 = 0,
    BO_CSV_INT16,
    BO_CSV_INT32,
    BO_CSV_INT64,
    BO_CSV_FLOAT32,
    BO_CSV_FLOAT64,
    BO_CSV_BOOL,      /* uint8 0/1 */
    BO_CSV_STR,       /* int64 offsets + bytes (Arrow large_string layout) */
    BO_CSV_WKT_POINT, /* two float64 outputs: lon, lat */
    BO_CSV_HEX,       /* uint64 */
    BO_CSV_DATETIME,  /* int64 ns since epoch, strftime-style format */
    BO_CSV_DATETIME_ISO,
    BO_CSV_UINT64,    /* [+]digits up to 2**64 - 1 (spaces around allowed, as for ints) */
    BO_CSV_NTYPES,
    /* Inference only (bo_csv_infer, never a column type of bo_csv_convert): integers beyond
     * int64 that uint64 cannot hold either (or uint64 ones with missing values). pandas gives
     * them as exact Python integers; the reader converts such a column as BO_CSV_STR and makes
     * the integers from the text, never a rounded float. */
    BO_CSV_BIGINT = BO_CSV_NTYPES
} bo_csv_type;

/* A compiled datetime format (see bo_csv_dtfmt_compile). */
#define BO_CSV_DTFMT_MAX 64
typedef struct bo_csv_dtfmt {
    int n;
    char op[BO_CSV_DTFMT_MAX];    /* directive letter, ' ' for whitespace, 'L' for a literal */
    char lit[BO_CSV_DTFMT_MAX];   /* the literal byte for 'L' */
} bo_csv_dtfmt;
/* Compile a strptime-style format (%Y %y %m %d %H %I %M %S %f %p %b %%). */
bo_status bo_csv_dtfmt_compile(const char *fmt, bo_csv_dtfmt *out, bo_error *err);

/* Missing-value strings, matched after unquoting. */
typedef struct bo_csv_na {
    int n;
    const char *const *values; /* NUL-terminated */
    const size_t *lens;
    uint64_t len_mask;          /* bit L set when some value has length L (L < 64) */
    int has_long;               /* some value is 64 bytes or longer */
    uint64_t last_byte[4];      /* bit b set when a non-empty value ends with byte b: a field
                                   ending in any other byte (every number, unless a number is
                                   itself a missing-value string) is rejected in two tests */
    const double *nums;         /* the values that are numbers (bo_csv_na_numbers), or NULL */
    int n_nums;
    uint64_t first_byte[4];     /* the same for the first byte: short text columns (codes such
                                   as "UA" or "EWR") share lengths and last bytes with "NA",
                                   "NaN", "N/A" but rarely both ends */
} bo_csv_na;
void bo_csv_na_init(bo_csv_na *na, const char *const *values, const size_t *lens, int n);
/* Also match the missing values that are numbers numerically in float columns, as pandas does
 * (na_values=["-999"] makes -999.0 and -9.99e2 missing there): buf (room for na->n doubles,
 * alive as long as na) gets them. Other column types match the text only, as in pandas. */
void bo_csv_na_numbers(bo_csv_na *na, double *buf);

typedef struct bo_csv_col {
    int field;               /* input field index */
    bo_csv_type type;
    int nullable;            /* NA allowed: mask[r] = 1 (otherwise NA is a bad value) */
    const bo_csv_na *na;     /* may be NULL: nothing is NA */
    const bo_csv_dtfmt *fmt; /* BO_CSV_DATETIME */
    void *out;               /* n_rows values (ignored for STR) */
    void *out2;              /* BO_CSV_WKT_POINT: latitudes */
    uint8_t *mask;           /* n_rows, 1 = NA; may be NULL when !nullable and not STR */
    /* BO_CSV_STR results (allocated by the converter from opts->pool, free with
     * bo_csv_str_free or each with bo_pool_free). The values come in
     * n_str_runs runs (one per converting thread, in row order): run j holds rows
     * [str_runs[2j], str_runs[2j + 2]) (the last one up to n_rows), its bytes start at
     * str_data + str_runs[2j + 1], and its offsets (relative to that start, the first 0), one
     * more than its rows, from str_offsets + str_runs[2j] + j. Between runs lie unused bytes.
     * bo_csv_str_value reads value r. */
    int64_t *str_offsets;    /* n_rows + n_str_runs */
    char *str_data;
    size_t str_bytes;        /* the bytes of str_data up to the end of the last run */
    int64_t *str_runs;       /* 2 * n_str_runs: (first row, data start) of each run */
    int n_str_runs;
} bo_csv_col;

/* Free a string column's results into the pool they came from (and forget them). */
static inline void bo_csv_str_free(bo_csv_col *c, bo_pool *pool)
{
    bo_pool_free(pool, c->str_offsets);
    bo_pool_free(pool, c->str_data);
    bo_pool_free(pool, c->str_runs);
    c->str_offsets = NULL;
    c->str_data = NULL;
    c->str_runs = NULL;
}

/* Value r of a converted string column: its bytes, its length in *len. */
static inline const char *bo_csv_str_value(const bo_csv_col *c, int64_t r, size_t *len)
{
    int j = c->n_str_runs - 1;
    while (j > 0 && c->str_runs[2 * j] > r)
        j--;
    const int64_t *o = c->str_offsets + j + r;
    *len = (size_t)(o[1] - o[0]);
    return c->str_data + c->str_runs[2 * j + 1] + o[0];
}

typedef struct bo_csv_conv_opts {
    char quote;
    int n_threads;
    /* Convert a row with fewer fields than the index's n_fields (BO_CSV_ROW_FIELDS with
     * counts[r] < n_fields) as if its missing trailing fields were missing values, as pandas
     * pads short rows; 0: it is a bad row like any flagged one. Rows with too many fields stay
     * bad either way. */
    int pad_short;
    int simd; /* bo_simd_level for the string columns' UTF-8 check (0: scalar) */
    bo_pool *pool; /* where the string results come from (NULL: no pool) */
} bo_csv_conv_opts;

/* Convert the selected fields of every row. A row flagged by the tokenizer is not converted
 * (its outputs are zero), but for a short row with pad_short. A value that does not convert sets bad[r] = 1 (bad may be NULL only
 * when the caller wants BO_ERR_PARSE at the first bad value); the first bad value in row order
 * (then column order) is described in err (index = row, column = position in cols, byte_offset
 * = field start, message with the value) and BO_ERR_PARSE is returned after all rows were
 * converted. A BO_CSV_STR value that is not well-formed UTF-8 is a bad value too, so every
 * string value of a row that is not bad is valid UTF-8 (Arrow's full validation need not run
 * again). Results do not depend on n_threads. */
bo_status bo_csv_convert(const char *buf, const bo_csv_index *ix, bo_csv_col *cols, int n_cols,
                         const bo_csv_conv_opts *opts, uint8_t *bad, bo_error *err);

/* Type inference as pandas does it, over every row of the index for one field:
 * returns BO_CSV_INT64, BO_CSV_UINT64 (integers, some beyond int64, none negative or
 * missing), BO_CSV_BIGINT (integers, some beyond int64 and uint64), BO_CSV_FLOAT64,
 * BO_CSV_BOOL or BO_CSV_STR; *has_na is 1 when a missing value was seen (an int column with NA
 * becomes float64, as in pandas), 2 when no value but missing ones was (the type is then
 * float64 and says nothing: a later value of any type decides), else 0; always 1 for
 * BO_CSV_STR (the scan of a column stops at the value that makes it text, so the answer must
 * not depend on where it is). pad_short: short rows count as bo_csv_convert with pad_short
 * reads them (their missing fields are missing values); else flagged rows are skipped. */
bo_csv_type bo_csv_infer(const char *buf, const bo_csv_index *ix, int field, char quote,
                         const bo_csv_na *na, int pad_short, int *has_na);
/* bo_csv_infer of n fields (nas[i]: field i's missing values, may be NULL) over the rows of
 * n_windows buffers and their indexes, as if they were one: types[i] and has_na[i] as
 * bo_csv_infer gives them for all the rows (which asks each type's parser of every value,
 * where this tells the commonest shapes of numbers itself). On up to n_threads threads, each a
 * part of the rows, every field of a row at once; the same answer at any thread count. */
void bo_csv_infer_fields(int n_windows, const char *const *bufs, const bo_csv_index *const *ixs,
                         int n, const int *fields, char quote, const bo_csv_na *const *nas,
                         int pad_short, int n_threads, bo_csv_type *types, int *has_na);

/* Field helpers shared with the binding and the tests. */
/* Unquote a raw field into dst (capacity >= len); returns the unquoted length. */
size_t bo_csv_unquote(const char *src, size_t len, char quote, char *dst);
/* Parse a whole field as a double, correctly rounded (same result as Python's float()).
 * Leading/trailing spaces and tabs allowed. Returns 0 on success. */
int bo_csv_parse_double(const char *s, size_t len, double *out);
/* 1 when s[0, len) is [+-]digits[.digits] (which bo_csv_parse_double always takes), else 0:
 * inference's test of a float value without converting it (exposed for the tests). */
int bo_csv_plain_decimal(const char *s, size_t len);

#ifdef __cplusplus
}
#endif
#endif
