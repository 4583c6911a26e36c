/* blockops: parser for one ONE-simulator report file (MessageStatsReport and friends).
 *
 * Format (what the ONE simulator writes, e.g. MessageStatsReport):
 *
 *     Message stats for scenario TEST_EpidemicRouter_10_104_100M     <- title line (any text)
 *     sim_time: 604800.0999                                          <- key: value lines
 *     rtt_avg: NaN
 *
 * - The first line is the title, whatever it contains (it is never parsed as data).
 * - Every later line is blank (spaces/tabs only; skipped) or `key: value`: the key is the text
 *   before the first ':' with spaces/tabs trimmed (non-empty, no control characters, valid
 *   UTF-8); the value, trimmed, is a decimal number
 *       [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
 *   or NaN / inf / infinity in any case, with an optional sign.
 * - Lines end in LF or CRLF; the last line may lack its newline.
 * - An input that is empty or whitespace only is an error (a truncated write, not a report).
 * - Duplicate keys are all returned, in file order (the Python layer keeps the last, as the
 *   original averager's dict did).
 *
 * Values are correctly rounded (the same double Python's float() gives), independent of the
 * C locale. Pure C; nothing here knows Python exists. */
#ifndef BLOCKOPS_BO_REPORT_H
#define BLOCKOPS_BO_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "blockops/bo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A byte range [off, off + len) of the parsed input. */
typedef struct bo_span {
    size_t off;
    size_t len;
} bo_span;

/* Result of bo_report_parse. Keys and the title point into the caller's input buffer (no
 * copies), so the input must outlive the result. */
typedef struct bo_report {
    bo_span title;   /* first line, without its line ending */
    size_t n;        /* number of key/value pairs */
    size_t cap;      /* allocated entries in keys/values */
    bo_span *keys;   /* n keys, in file order */
    double *values;  /* n values (NaN for NaN) */
    size_t n_lines;  /* lines seen, title included */
} bo_report;

/* Zero a report so that bo_report_free is always safe on it. */
void bo_report_init(bo_report *rep);
/* Release the arrays of a report (safe on an initialized or already freed report). */
void bo_report_free(bo_report *rep);

/* Parse len bytes of one report. On success rep holds the pairs (any previous content is
 * replaced). On failure rep is left empty and err (if not NULL) has the 1-based line, the
 * 0-based byte column within that line, the byte offset in data and a short message.
 * Returns BO_OK, BO_ERR_PARSE, BO_ERR_NOMEM or BO_ERR_ARG (NULL pointers). Thread-safe:
 * no global state is read or written. */
bo_status bo_report_parse(const char *data, size_t len, bo_report *rep, bo_error *err);

/* Parse one value token (exactly len bytes, no surrounding blanks) with the grammar above.
 * Returns BO_OK or BO_ERR_PARSE (err->message set, location fields untouched). */
bo_status bo_report_parse_double(const char *s, size_t len, double *out, bo_error *err);

/* ------------------------------------------------------------------ many files
 *
 * bo_report_read_files opens, reads and parses many report files (a few hundred bytes each in
 * practice) with no Python involved, so a caller can run it with the GIL released: per file,
 * the open/read/close costs more than the parse, and doing it in Python serialized the workers.
 *
 * Each thread reads a file into one reusable buffer that grows to at most max_file_bytes + 1
 * bytes; a larger file is an error for that file (BO_ERR_LIMIT), never a larger allocation.
 * The pairs are stored batch-wide: every distinct key once in a key table (in order of first
 * appearance, files in input order, lines in file order) and per pair its key id and value.
 * Everything in a batch (key ids, key order, pair order, errors) depends only on the paths and
 * the file contents, never on the thread count or files_per_task. */

/* Default of bo_report_read_opts.max_file_bytes: ~150000 times a real report. */
#define BO_REPORT_DEFAULT_MAX_FILE_BYTES ((size_t)64 << 20)

typedef struct bo_report_read_opts {
    int n_threads;          /* threads reading and parsing; <= 0 means 1 */
    size_t max_file_bytes;  /* larger files are BO_ERR_LIMIT errors; 0: the default above */
    size_t files_per_task;  /* files a thread takes at a time (load balance); 0: automatic */
} bo_report_read_opts;

/* The problem with one file of a batch. A file with an error has no pairs. */
typedef struct bo_report_file_error {
    size_t file;       /* index of the file in the batch (all calls counted) */
    bo_status status;  /* BO_ERR_IO (open/read failed), BO_ERR_LIMIT (too large), BO_ERR_PARSE */
    int sys_errno;     /* errno of the failed open/read for BO_ERR_IO, else 0 */
    bo_error err;      /* BO_ERR_PARSE: line, column, byte offset as bo_report_parse sets them;
                        * other errors: line/column/byte_offset -1 */
} bo_report_file_error;

typedef struct bo_report_batch {
    size_t n_files;            /* files read by all calls so far */
    size_t *pair_start;        /* n_files + 1 entries: file i has pairs [pair_start[i],
                                * pair_start[i + 1]) (empty for a file with an error) */
    size_t n_pairs;
    uint32_t *key_id;          /* n_pairs: index of the pair's key in the key table */
    double *value;             /* n_pairs: the values, as bo_report_parse gives them */
    size_t n_dup_pairs;        /* pairs whose key already occurred earlier in the same file */
    size_t n_keys;             /* distinct keys */
    size_t *key_start;         /* n_keys + 1 offsets: key k is key_text[key_start[k] ..
                                * key_start[k + 1]) (valid UTF-8, not NUL terminated);
                                * NULL while n_keys is 0 */
    char *key_text;
    size_t n_errors;
    bo_report_file_error *errors; /* n_errors, in file order */
    /* private: allocation sizes, and the key table that key_start/key_text belong to */
    size_t files_cap, pairs_cap, errors_cap;
    void *key_index;
} bo_report_batch;

/* Zero a batch so that bo_report_batch_free is always safe on it. */
void bo_report_batch_init(bo_report_batch *batch);
/* Release everything a batch holds and zero it (safe on an initialized or freed batch). */
void bo_report_batch_free(bo_report_batch *batch);

/* Read and parse the n files named by paths (NUL-terminated, as the OS takes them) and append
 * them to batch, as files batch->n_files .. batch->n_files + n - 1. A file that cannot be
 * opened or read, is larger than opts->max_file_bytes or does not parse is recorded in
 * batch->errors and the call goes on: that is not a failure of the call.
 *
 * Returns BO_OK; BO_ERR_ARG (NULL pointers, bad options); BO_ERR_NOMEM; BO_ERR_LIMIT (more than
 * 2^32 - 2 distinct keys). After a failure err says why and the batch may only be freed.
 * Thread-safe for distinct batches; opens files read-only and writes nothing but the batch. */
bo_status bo_report_read_files(const char *const *paths, size_t n,
                               const bo_report_read_opts *opts, bo_report_batch *batch,
                               bo_error *err);

#ifdef __cplusplus
}
#endif
#endif
