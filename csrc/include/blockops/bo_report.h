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

#ifdef __cplusplus
}
#endif
#endif
