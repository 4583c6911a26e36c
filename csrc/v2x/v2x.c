/* v2x string-column converters and timestamp parts (see bo_v2x.h for the contract).
 *
 * The converters reuse the CSV reader's field parsers (numparse.h, datetime.c) so a column
 * read by blockops.io.csv and the same column converted from an Arrow string array accept
 * exactly the same text. Rows are independent: each output element is written by exactly one
 * iteration, so any thread count gives the same bytes. */
#include <math.h>
#include <string.h>

#include "blockops/bo_v2x.h"
#include "bo_omp.h"
#include "csv_internal.h"
#include "numparse.h"
#include "numparse_fast.h"
#include "v2x_internal.h"

/* Below this many rows a parallel region costs more than it saves (a row is 10-50 ns, a
 * fork/join a few microseconds). */
#define V2X_PAR_MIN 8192
/* Rows per dynamically scheduled work item: string lengths vary, so static splits can be
 * uneven; 4096 rows keep the scheduling overhead under 1%. */
#define V2X_CHUNK 4096

static inline int v2x_threads(size_t n, int n_threads)
{
    return (n_threads < 1 || n < V2X_PAR_MIN) ? 1 : n_threads;
}

bo_status bo_v2x_check_strings(const int64_t *offsets, size_t n, size_t data_len,
                               const uint8_t *valid_bits, size_t valid_len, int64_t bit_offset,
                               bo_error *err)
{
    bo_error_clear(err);
    if (!offsets)
        return bo_error_set(err, BO_ERR_ARG, "offsets is NULL");
    if (offsets[0] < 0 || (uint64_t)offsets[0] > data_len) {
        if (err)
            err->index = 0;
        return bo_error_set(err, BO_ERR_ARG, "offsets[0] = %lld is outside the %zu data bytes",
                            (long long)offsets[0], data_len);
    }
    /* The common case in one branch-free pass (SSE2 vectorizes it; with a test per entry this
     * took 0.7 ms a million rows, 3-4 % of a whole POINT conversion): every value >= 0 (no
     * sign bit anywhere), then b - a >= 0 cannot wrap and its sign bit says b < a; ordered, the
     * last one bounds them all. Anything else is found and named by the loop after it. */
    uint64_t sign = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t a = (uint64_t)offsets[i], b = (uint64_t)offsets[i + 1];
        sign |= b | (b - a);
    }
    const size_t scan = !(sign >> 63) && (uint64_t)offsets[n] <= data_len ? 0 : n;
    for (size_t i = 0; i < scan; i++) {
        const int64_t a = offsets[i], b = offsets[i + 1];
        if (b >= a && (uint64_t)b <= data_len)
            continue;
        if (err)
            err->index = (int64_t)(i + 1);
        if (b < a)
            return bo_error_set(err, BO_ERR_ARG, "offsets[%zu] = %lld is smaller than "
                                "offsets[%zu] = %lld", i + 1, (long long)b, i, (long long)a);
        return bo_error_set(err, BO_ERR_ARG, "offsets[%zu] = %lld is past the end of the %zu "
                            "data bytes", i + 1, (long long)b, data_len);
    }
    if (valid_bits) {
        if (bit_offset < 0)
            return bo_error_set(err, BO_ERR_ARG, "bit_offset = %lld is negative",
                                (long long)bit_offset);
        /* bit_offset + n <= 8 * valid_len, without overflow */
        const uint64_t bits = (uint64_t)valid_len > UINT64_MAX / 8 ? UINT64_MAX
                                                                     : 8 * (uint64_t)valid_len;
        if ((uint64_t)bit_offset > bits || (uint64_t)n > bits - (uint64_t)bit_offset)
            return bo_error_set(err, BO_ERR_ARG,
                                "validity bitmap of %zu bytes is too short for bit_offset %lld "
                                "+ %zu rows",
                                valid_len, (long long)bit_offset, n);
    }
    return BO_OK;
}

/* The trimmed text of row i; 1 when the row is missing (invalid bit or blank text). */
static inline int row_text(const int64_t *offsets, const uint8_t *data, const uint8_t *valid,
                           int64_t bit_offset, size_t i, const char **s, size_t *len)
{
    if (valid) {
        const uint64_t b = (uint64_t)bit_offset + i;
        if (!((valid[b >> 3] >> (b & 7)) & 1))
            return 1;
    }
    const char *p = (const char *)data + offsets[i];
    size_t n = (size_t)(offsets[i + 1] - offsets[i]);
    bo_trim(&p, &n);
    *s = p;
    *len = n;
    return n == 0;
}

bo_status bo_v2x_parse_hex(const int64_t *offsets, const uint8_t *data, const uint8_t *valid_bits,
                           int64_t bit_offset, size_t n, int64_t *restrict out,
                           uint8_t *restrict status, int n_threads)
{
    if (n && (!offsets || !data || !out || !status))
        return BO_ERR_ARG;
    const int T = v2x_threads(n, n_threads);
    const int64_t m = (int64_t)n;
    (void)T;
    BO_OMP(parallel for num_threads(T) schedule(dynamic, V2X_CHUNK) if(T > 1))
    for (int64_t i = 0; i < m; i++) {
        const char *s = NULL;
        size_t len = 0;
        uint8_t st = BO_V2X_NULL;
        int64_t v = 0;
        if (!row_text(offsets, data, valid_bits, bit_offset, (size_t)i, &s, &len)) {
            uint64_t u;
            /* the fast paths (numparse_fast.h) first, inlined; the full parser otherwise */
            const int rc = (len == 8 && bo_hex8(s, &u) == 0) ? 0 : bo_parse_hex64(s, len, &u);
            if (rc == 0 && u <= (uint64_t)INT64_MAX) {
                v = (int64_t)u;
                st = BO_V2X_OK;
            } else {
                st = BO_V2X_INVALID;
            }
        }
        out[i] = v;
        status[i] = st;
    }
    return BO_OK;
}

/* ------------------------------------------------------------------ WKT points */

/* One row's rule (the text trimmed here): the fixed-shape fast path, else the general parser.
 * Forced inline: as a call (GCC's choice, two callers) the row loop measured 8 % slower. */
static inline __attribute__((always_inline)) uint8_t wkt_row(const char *s, size_t len,
                                                             double *lon, double *lat)
{
    bo_trim(&s, &len);
    if (len == 0)
        return BO_V2X_NULL;
    double a, b;
    const int rc = (len >= 16 && len <= 63 && bo_wkt_point_fast(s, len, &a, &b) == 0)
                       ? 0
                       : bo_parse_wkt_point(s, len, &a, &b);
    if (rc == 0) {
        *lon = a;
        *lat = b;
        return BO_V2X_OK;
    }
    *lon = *lat = NAN;
    /* POINT EMPTY is a missing point, not a point with NaN coordinates */
    return rc == 1 ? BO_V2X_NULL : BO_V2X_INVALID;
}

uint8_t bo_v2x_wkt_row(const char *s, size_t len, double *lon, double *lat)
{
    return wkt_row(s, len, lon, lat);
}

void bo_v2x_wkt_rows_scalar(bo_wkt_scratch *scratch, const int64_t *offsets,
                            const uint8_t *data, const uint8_t *valid_bits, int64_t bit_offset,
                            size_t begin, size_t end, double *lon, double *lat, uint8_t *status)
{
    (void)scratch;
    for (size_t i = begin; i < end; i++) {
        double x = NAN, y = NAN;
        uint8_t st = BO_V2X_NULL;
        const uint64_t b = (uint64_t)bit_offset + i;
        if (!valid_bits || ((valid_bits[b >> 3] >> (b & 7)) & 1))
            st = wkt_row((const char *)data + offsets[i], (size_t)(offsets[i + 1] - offsets[i]),
                         &x, &y);
        lon[i] = x;
        lat[i] = y;
        status[i] = st;
    }
}

/* The AVX-512 kernel needs more than the avx512 level's AVX-512F: without these (Skylake-X,
 * Cascade Lake: no VBMI) that level uses the baseline kernel. */
static int wkt_avx512_cpu(void)
{
#if defined(BO_HAVE_WKT_AVX512) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
#else
    return 0;
#endif
}

bo_wkt_rows_fn bo_v2x_wkt_kernel(bo_simd_level lvl, const char **name)
{
    if ((int)lvl < 0 || lvl >= BO_SIMD_NLEVELS || !bo_simd_compiled(lvl) ||
        !bo_simd_cpu_supports(lvl))
        return NULL;
#ifdef BO_HAVE_WKT_AVX512
    if (lvl == BO_SIMD_AVX512 && wkt_avx512_cpu()) {
        if (name)
            *name = "avx512";
        return bo_v2x_wkt_rows_avx512;
    }
#endif
    if (name)
        *name = "scalar";
    return bo_v2x_wkt_rows_scalar;
}

const char *bo_v2x_wkt_kernel_name(bo_simd_level lvl)
{
    const char *name = NULL;
    return bo_v2x_wkt_kernel(lvl, &name) ? name : NULL;
}

bo_status bo_v2x_parse_wkt(const int64_t *offsets, const uint8_t *data, const uint8_t *valid_bits,
                           int64_t bit_offset, size_t n, double *restrict lon,
                           double *restrict lat, uint8_t *restrict status, int n_threads,
                           bo_simd_level simd)
{
    if (n && (!offsets || !data || !lon || !lat || !status))
        return BO_ERR_ARG;
    const bo_wkt_rows_fn kernel = bo_v2x_wkt_kernel(simd, NULL);
    if (!kernel)
        return BO_ERR_UNSUPPORTED;
    const int T = v2x_threads(n, n_threads);
    const int64_t chunks = (int64_t)((n + V2X_CHUNK - 1) / V2X_CHUNK);
    (void)T;
    BO_OMP(parallel num_threads(T) if(T > 1))
    {
        /* per thread, kept across its chunks (the AVX-512 kernel's layout cache) */
        bo_wkt_scratch scratch;
        scratch.ready = 0;
        BO_OMP(for schedule(dynamic, 1))
        for (int64_t c = 0; c < chunks; c++) {
            const size_t b = (size_t)c * V2X_CHUNK, e = b + V2X_CHUNK < n ? b + V2X_CHUNK : n;
            kernel(&scratch, offsets, data, valid_bits, bit_offset, b, e, lon, lat, status);
        }
    }
    return BO_OK;
}

/* One datetime text to ns: the full-width BSM fast path when bsm, else the format's parser
 * (fmt NULL: ISO 8601). 1 when parsed to a value other than NaT. t == NaT cannot come out of
 * the parsers (civil_to_ns keeps to the ns range); the check keeps "status 0 implies not NaT"
 * true whatever they do. */
static inline int parse_one(const char *s, size_t len, const bo_csv_dtfmt *fmt, int bsm,
                            int64_t *t)
{
    int rc = 1;
    if (bsm && len == 22) /* "%m/%d/%Y %I:%M:%S %p" at full width: 0, -1, -2 or 1 */
        rc = bo_datetime_bsm_fast(s, t);
    if (rc > 0)
        rc = fmt ? bo_parse_datetime_fmt(s, len, fmt, t) : bo_parse_datetime_iso(s, len, t);
    return rc == 0 && *t != BO_V2X_NAT;
}

bo_status bo_v2x_parse_datetime(const int64_t *offsets, const uint8_t *data,
                                const uint8_t *valid_bits, int64_t bit_offset, size_t n,
                                const bo_csv_dtfmt *fmt, int64_t *restrict ns,
                                uint8_t *restrict status, int n_threads)
{
    if (n && (!offsets || !data || !ns || !status))
        return BO_ERR_ARG;
    const int T = v2x_threads(n, n_threads);
    const int64_t m = (int64_t)n;
    const int bsm = fmt && bo_dtfmt_is_bsm(fmt);
    (void)T;
    BO_OMP(parallel for num_threads(T) schedule(dynamic, V2X_CHUNK) if(T > 1))
    for (int64_t i = 0; i < m; i++) {
        const char *s = NULL;
        size_t len = 0;
        uint8_t st = BO_V2X_NULL;
        int64_t v = BO_V2X_NAT;
        if (!row_text(offsets, data, valid_bits, bit_offset, (size_t)i, &s, &len)) {
            int64_t t;
            if (parse_one(s, len, fmt, bsm, &t)) {
                v = t;
                st = BO_V2X_OK;
            } else {
                st = BO_V2X_INVALID;
            }
        }
        ns[i] = v;
        status[i] = st;
    }
    return BO_OK;
}

/* ------------------------------------------------------------------ timestamp parts */

#define NS_PER_DAY 86400000000000LL
#define NS_PER_S 1000000000ULL

/* The parts of one datetime64[ns] value t (not NaT) into row i of the outputs. */
static inline void parts_of_ns(int64_t t, size_t i, int8_t *month, int8_t *day, int16_t *year,
                               int8_t *hour, int8_t *minute, int8_t *second, int8_t *pm)
{
    /* floor division by a constant: the compiler turns both into multiplies */
    int64_t days = t / NS_PER_DAY, rem = t % NS_PER_DAY;
    if (rem < 0) {
        rem += NS_PER_DAY;
        days--;
    }
    const uint32_t sod = (uint32_t)((uint64_t)rem / NS_PER_S);
    /* H. Hinnant's civil_from_days ("chrono-Compatible Low-Level Date Algorithms"). Any
     * int64 ns is within [-106752, 106751] days, so z = days + 719468 is always positive
     * and the era arithmetic fits in unsigned 32 bits: no negative-division fix-up. */
    const uint32_t z = (uint32_t)(days + 719468);
    const uint32_t era = z / 146097;
    const uint32_t doe = z - era * 146097;                                  /* [0, 146096] */
    const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);           /* [0, 365] */
    const uint32_t mp = (5 * doy + 2) / 153;                                 /* [0, 11] */
    const uint32_t d = doy - (153 * mp + 2) / 5 + 1;                         /* [1, 31] */
    const uint32_t mo = mp < 10 ? mp + 3 : mp - 9;                           /* [1, 12] */
    const uint32_t y = yoe + era * 400 + (mo <= 2);
    const uint32_t h = sod / 3600, rs = sod - h * 3600;
    const uint32_t mi = rs / 60;
    month[i] = (int8_t)mo;
    day[i] = (int8_t)d;
    year[i] = (int16_t)y;
    hour[i] = (int8_t)h;
    minute[i] = (int8_t)mi;
    second[i] = (int8_t)(rs - mi * 60);
    pm[i] = (int8_t)(h >= 12);
}

static inline void parts_zero(size_t i, int8_t *month, int8_t *day, int16_t *year,
                              int8_t *hour, int8_t *minute, int8_t *second, int8_t *pm)
{
    month[i] = day[i] = hour[i] = minute[i] = second[i] = pm[i] = 0;
    year[i] = 0;
}

bo_status bo_v2x_timestamp_parts(const int64_t *ns, size_t n, int8_t *month, int8_t *day,
                                 int16_t *year, int8_t *hour, int8_t *minute, int8_t *second,
                                 int8_t *pm, uint8_t *status, int n_threads)
{
    if (n && (!ns || !month || !day || !year || !hour || !minute || !second || !pm || !status))
        return BO_ERR_ARG;
    /* this kernel is ~5 ns a row: threads pay off later than for the parsers */
    const int T = (n_threads < 1 || n < 4 * V2X_PAR_MIN) ? 1 : n_threads;
    const int64_t m = (int64_t)n;
    (void)T;
    BO_OMP(parallel for num_threads(T) schedule(static) if(T > 1))
    for (int64_t i = 0; i < m; i++) {
        const int64_t t = ns[i];
        if (t == BO_V2X_NAT) {
            parts_zero((size_t)i, month, day, year, hour, minute, second, pm);
            status[i] = BO_V2X_NULL;
        } else {
            parts_of_ns(t, (size_t)i, month, day, year, hour, minute, second, pm);
            status[i] = BO_V2X_OK;
        }
    }
    return BO_OK;
}

bo_status bo_v2x_datetime_parts(const int64_t *offsets, const uint8_t *data,
                                const uint8_t *valid_bits, int64_t bit_offset, size_t n,
                                const bo_csv_dtfmt *fmt, int8_t *month, int8_t *day,
                                int16_t *year, int8_t *hour, int8_t *minute, int8_t *second,
                                int8_t *pm, uint8_t *status, int n_threads)
{
    if (n && (!offsets || !data || !month || !day || !year || !hour || !minute || !second ||
              !pm || !status))
        return BO_ERR_ARG;
    const int T = v2x_threads(n, n_threads);
    const int64_t m = (int64_t)n;
    const int bsm = fmt && bo_dtfmt_is_bsm(fmt);
    (void)T;
    BO_OMP(parallel for num_threads(T) schedule(dynamic, V2X_CHUNK) if(T > 1))
    for (int64_t i = 0; i < m; i++) {
        const size_t r = (size_t)i;
        const char *s = NULL;
        size_t len = 0;
        if (row_text(offsets, data, valid_bits, bit_offset, r, &s, &len)) {
            parts_zero(r, month, day, year, hour, minute, second, pm);
            status[i] = BO_V2X_NULL;
            continue;
        }
        bo_bsm_fields f;
        /* the full-width BSM text in years wholly inside the datetime64[ns] range: the parts
         * are the text's own fields (what the round trip through ns gives back) */
        if (bsm && len == 22 && bo_bsm_fields_parse(s, &f) == 0 && f.year > 1677 &&
            f.year < 2262) {
            month[i] = (int8_t)f.month;
            day[i] = (int8_t)f.day;
            year[i] = (int16_t)f.year;
            hour[i] = (int8_t)f.hour;
            minute[i] = (int8_t)f.minute;
            second[i] = (int8_t)f.second;
            pm[i] = (int8_t)(f.hour >= 12);
            status[i] = BO_V2X_OK;
            continue;
        }
        int64_t t;
        if (parse_one(s, len, fmt, bsm, &t)) {
            parts_of_ns(t, r, month, day, year, hour, minute, second, pm);
            status[i] = BO_V2X_OK;
        } else {
            parts_zero(r, month, day, year, hour, minute, second, pm);
            status[i] = BO_V2X_INVALID;
        }
    }
    return BO_OK;
}
