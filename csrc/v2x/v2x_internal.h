/* v2x internals: the WKT row kernels behind bo_v2x_parse_wkt, one per instruction set.
 *
 * A kernel converts rows [begin, end) of a string column (the buffers of bo_v2x.h, already
 * validated) into lon, lat and status, exactly as bo_v2x_wkt_row does row by row: the same
 * status and the same bits for every row, whatever the kernel (test_v2x and fuzz_v2x compare
 * them). Every result is a pure function of its row, so neither the thread count nor the
 * chunking nor the kernel's scratch state can change it. */
#ifndef BO_V2X_INTERNAL_H
#define BO_V2X_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "blockops/bo_common.h"

/* Per-thread scratch a kernel may keep between the chunks of one call (the AVX-512 kernel's
 * layout cache, ~12 KiB); `ready` is 0 before the first chunk. */
#define BO_WKT_SCRATCH_BYTES 12800
typedef struct bo_wkt_scratch {
    _Alignas(64) unsigned char bytes[BO_WKT_SCRATCH_BYTES];
    int ready;
} bo_wkt_scratch;

typedef void (*bo_wkt_rows_fn)(bo_wkt_scratch *scratch, const int64_t *offsets,
                               const uint8_t *data, const uint8_t *valid_bits,
                               int64_t bit_offset, size_t begin, size_t end, double *lon,
                               double *lat, uint8_t *status);

/* The general rule for one row (valid, untrimmed text): trims, then bo_parse_wkt_point. Returns
 * the status (BO_V2X_OK / NULL / INVALID) and sets *lon, *lat (NaN unless OK). */
uint8_t bo_v2x_wkt_row(const char *s, size_t len, double *lon, double *lat);

/* The baseline kernel (SSE2 on x86-64, SWAR elsewhere): every level without its own kernel. */
void bo_v2x_wkt_rows_scalar(bo_wkt_scratch *scratch, const int64_t *offsets,
                            const uint8_t *data, const uint8_t *valid_bits, int64_t bit_offset,
                            size_t begin, size_t end, double *lon, double *lat,
                            uint8_t *status);

#ifdef BO_HAVE_WKT_AVX512
/* AVX-512 F/BW/DQ/CD/VBMI + BMI1/2 (Ice Lake, Zen 4 and later): wkt_avx512.c. */
void bo_v2x_wkt_rows_avx512(bo_wkt_scratch *scratch, const int64_t *offsets,
                            const uint8_t *data, const uint8_t *valid_bits, int64_t bit_offset,
                            size_t begin, size_t end, double *lon, double *lat,
                            uint8_t *status);
/* The vector Eisel-Lemire of that kernel on its own, for the tests: bits[j] = the IEEE bits
 * of (-1)^neg[j] * w[j] * 10^-kf[j] for j < 8 (w[j] < 2^64, 0 <= kf[j] <= 19). */
void bo_v2x_el8_avx512(const uint64_t *w, const uint8_t *kf, const uint8_t *neg,
                       uint64_t *bits);
#endif

/* The kernel for a SIMD level, or NULL when that level is not available here (not compiled or
 * not supported by this CPU). `name` (may be NULL) gets the kernel's name. */
bo_wkt_rows_fn bo_v2x_wkt_kernel(bo_simd_level lvl, const char **name);

#endif
