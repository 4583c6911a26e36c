/* Number parsers shared by the CSV converters and tests (internal). All return 0 on success,
 * -1 for malformed text and -2 for a value out of range. */
#ifndef BO_CSV_NUMPARSE_H
#define BO_CSV_NUMPARSE_H
#include <stddef.h>
#include <stdint.h>
/* Hidden: internal to the library, so the column loops call them directly and not through the
 * PLT of the Python extension (an indirect jump per value; ~1% of a BSM read in perf). */
#if defined(__GNUC__)
#define BO_HIDDEN __attribute__((visibility("hidden")))
#else
#define BO_HIDDEN
#endif
/* No surrounding spaces expected. */
BO_HIDDEN int bo_parse_double_trimmed(const char *s, size_t len, double *out);
/* Spaces/tabs around the value are allowed. */
BO_HIDDEN int bo_parse_int64(const char *s, size_t len, int64_t *out);
/* [+]digits up to 2**64 - 1, spaces/tabs around allowed; a '-' sign is malformed (-1), so
 * "-0" is not a uint64 (pandas then gives the column as text). */
BO_HIDDEN int bo_parse_uint64(const char *s, size_t len, uint64_t *out);
int bo_parse_hex64(const char *s, size_t len, uint64_t *out);
/* Datetimes: nanoseconds since the epoch; 0 ok, -1 malformed, -2 out of range. */
struct bo_csv_dtfmt;
int bo_parse_datetime_fmt(const char *s, size_t len, const struct bo_csv_dtfmt *f, int64_t *ns);
int bo_parse_datetime_iso(const char *s, size_t len, int64_t *ns);
/* WKT point: "POINT (lon lat)" (case-insensitive keyword, spaces/tabs around the value, between
 * the keyword and "(" optional, one or more between the coordinates, numbers as
 * bo_parse_double_trimmed). 0 ok, 1 for "POINT EMPTY" (lon = lat = NaN), -1 malformed. */
int bo_parse_wkt_point(const char *s, size_t len, double *lon, double *lat);

/* References: the general byte-at-a-time parsers (bo_parse_double_ref is also the fallback of
 * bo_parse_double_trimmed's fast path, bo_parse_datetime_fmt_ref the general strptime
 * interpreter). The functions above give the same status and the same bits for every input;
 * the C tests and fuzz_v2x check that. Not for other callers: they are slower. */
int bo_parse_double_ref(const char *s, size_t len, double *out);
int bo_parse_hex64_ref(const char *s, size_t len, uint64_t *out);
int bo_parse_wkt_point_ref(const char *s, size_t len, double *lon, double *lat);
int bo_parse_datetime_fmt_ref(const char *s, size_t len, const struct bo_csv_dtfmt *f,
                              int64_t *ns);
#endif
