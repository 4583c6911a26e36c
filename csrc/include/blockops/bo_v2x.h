/* blockops v2x: string-column converters and timestamp parts for connected-vehicle (BSM) data.
 *
 * Inputs are Arrow large_string columns, passed as their buffers:
 *   offsets     n + 1 int64 entries; value i is data[offsets[i], offsets[i + 1]). The caller
 *               has already applied the array's logical offset (offsets[0] need not be 0).
 *   data        the UTF-8 bytes (only bytes between offsets[0] and offsets[n] are read).
 *   valid_bits  the Arrow validity bitmap (LSB bit order, 1 = valid) or NULL = all valid;
 *   bit_offset  the bitmap position of row 0 (the array's logical offset).
 * The kernels trust these buffers: bo_v2x_check_strings validates them (the binding calls it
 * before releasing the GIL; the fuzz target too).
 *
 * Every converter writes one status byte per row:
 *   BO_V2X_OK (0)       parsed;
 *   BO_V2X_NULL (1)     missing: the validity bit is 0, or the text is empty after trimming
 *                       spaces and tabs (a blank cell is missing data, as an empty CSV field
 *                       is NA in the CSV reader and in pandas), or "POINT EMPTY" for WKT;
 *   BO_V2X_INVALID (2)  not parseable (or out of range).
 * For status != 0 the value is 0 (int64), NaN (float64) or INT64_MIN = NaT (datetimes).
 * Rows are independent, so the output is identical for every n_threads (<= 0 means 1). */
#ifndef BLOCKOPS_BO_V2X_H
#define BLOCKOPS_BO_V2X_H

#include <stddef.h>
#include <stdint.h>

#include "blockops/bo_common.h"
#include "blockops/bo_csv.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { BO_V2X_OK = 0, BO_V2X_NULL = 1, BO_V2X_INVALID = 2 };

/* The NaT sentinel of datetime64[ns]. */
#define BO_V2X_NAT INT64_MIN

/* Validate a string column's buffers: 0 <= offsets[0] <= ... <= offsets[n] <= data_len and,
 * when valid_bits is not NULL, bit_offset >= 0 and bit_offset + n <= 8 * valid_len.
 * BO_ERR_ARG otherwise, with err->index the first offending offset entry (or -1) and a
 * message naming it. */
bo_status bo_v2x_check_strings(const int64_t *offsets, size_t n, size_t data_len,
                               const uint8_t *valid_bits, size_t valid_len, int64_t bit_offset,
                               bo_error *err);

/* Hexadecimal IDs -> int64. Accepted text is the CSV reader's (bo_parse_hex64): spaces/tabs
 * around, an optional "0x"/"0X" prefix, 1+ hex digits of either case, an optional trailing
 * ".0" (IDs that once went through a float column). A value above INT64_MAX is invalid. */
bo_status bo_v2x_parse_hex(const int64_t *offsets, const uint8_t *data, const uint8_t *valid_bits,
                           int64_t bit_offset, size_t n, int64_t *BO_RESTRICT out,
                           uint8_t *BO_RESTRICT status, int n_threads);

/* WKT "POINT (lon lat)" -> lon[], lat[] with the CSV reader's parser (bo_parse_wkt_point):
 * case-insensitive keyword, "(" may follow it directly, spaces/tabs between the numbers.
 * Coordinates are not range-checked ("POINT (nan 1)" is status 0 with lon NaN). simd picks the
 * kernel (bo_v2x_wkt_kernel_name); every kernel gives the same bits. BO_ERR_UNSUPPORTED when
 * that level is not compiled in or not supported by this CPU. */
bo_status bo_v2x_parse_wkt(const int64_t *offsets, const uint8_t *data, const uint8_t *valid_bits,
                           int64_t bit_offset, size_t n, double *BO_RESTRICT lon,
                           double *BO_RESTRICT lat, uint8_t *BO_RESTRICT status, int n_threads,
                           bo_simd_level simd);

/* The WKT kernel a SIMD level runs: "avx512" (the avx512 level on a CPU with AVX-512
 * BW/DQ/CD/VL/VBMI and BMI2) or "scalar" (the baseline: SSE2 on x86-64); NULL when the level is
 * not available here. */
const char *bo_v2x_wkt_kernel_name(bo_simd_level simd);

/* Datetimes -> ns since the epoch (naive; ISO offsets converted to UTC) with the CSV reader's
 * parsers: fmt compiled by bo_csv_dtfmt_compile (e.g. "%m/%d/%Y %I:%M:%S %p"), or NULL for
 * ISO 8601 (bo_parse_datetime_iso). Outside the datetime64[ns] range is invalid (status 2). */
bo_status bo_v2x_parse_datetime(const int64_t *offsets, const uint8_t *data,
                                const uint8_t *valid_bits, int64_t bit_offset, size_t n,
                                const bo_csv_dtfmt *fmt, int64_t *BO_RESTRICT ns,
                                uint8_t *BO_RESTRICT status, int n_threads);

/* Civil (proleptic Gregorian, UTC / naive) parts of datetime64[ns] values: month 1..12,
 * day 1..31, year (1677..2262 for the whole int64 range), hour 0..23, minute, second, and
 * pm = hour >= 12. NaT (INT64_MIN) gives status 1 and zeros in every part; other rows are
 * status 0. Negative times floor toward the past (-1 ns is 1969-12-31 23:59:59). All output
 * pointers are required (BO_ERR_ARG when one is NULL and n > 0). */
bo_status bo_v2x_timestamp_parts(const int64_t *ns, size_t n, int8_t *month, int8_t *day,
                                 int16_t *year, int8_t *hour, int8_t *minute, int8_t *second,
                                 int8_t *pm, uint8_t *status, int n_threads);

/* Strings straight to the parts of bo_v2x_timestamp_parts (what bo_v2x_parse_datetime then
 * bo_v2x_timestamp_parts give, without the ns array): status 0 ok, 1 null, 2 invalid (zeros in
 * every part for 1 and 2). Full-width BSM text ("%m/%d/%Y %I:%M:%S %p") takes its fields from
 * the text itself. */
bo_status bo_v2x_datetime_parts(const int64_t *offsets, const uint8_t *data,
                                const uint8_t *valid_bits, int64_t bit_offset, size_t n,
                                const bo_csv_dtfmt *fmt, int8_t *month, int8_t *day,
                                int16_t *year, int8_t *hour, int8_t *minute, int8_t *second,
                                int8_t *pm, uint8_t *status, int n_threads);

#ifdef __cplusplus
}
#endif
#endif
