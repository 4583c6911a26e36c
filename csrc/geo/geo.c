/* Geo drivers: argument checks, threading, the latitude check and the non-SIMD kernels
 * (bounding box, local projection, destination). The SIMD bodies live in geo_kernels.inc. */
#include "blockops/bo_geo.h"
#include "bo_omp.h"

#include <float.h>
#include <math.h>
#include <string.h>

extern const bo_geo_kernels bo_geo_kernels_scalar;
#ifdef BO_HAVE_AVX2
extern const bo_geo_kernels bo_geo_kernels_avx2;
#endif
#ifdef BO_HAVE_AVX512
extern const bo_geo_kernels bo_geo_kernels_avx512;
#endif

const bo_geo_kernels *bo_geo_kernels_for(bo_simd_level lvl)
{
    switch (lvl) {
    case BO_SIMD_SCALAR: return &bo_geo_kernels_scalar;
#ifdef BO_HAVE_AVX2
    case BO_SIMD_AVX2: return &bo_geo_kernels_avx2;
#endif
#ifdef BO_HAVE_AVX512
    case BO_SIMD_AVX512: return &bo_geo_kernels_avx512;
#endif
    default: return NULL;
    }
}

/* Work is split into fixed chunks, so which thread runs a chunk never changes its result.
 * 16 Ki elements: a multiple of every vector width, ~256 KiB of float64 inputs per chunk
 * (L2-sized), and enough chunks at 1 M points to balance 2-16 threads. */
#define BO_GEO_CHUNK ((size_t)16384)
#define BO_PI 3.14159265358979323846
#define BO_D2R (BO_PI / 180.0)

static size_t n_chunks(size_t n) { return (n + BO_GEO_CHUNK - 1) / BO_GEO_CHUNK; }

/* One past the last element of chunk c. */
static size_t chunk_end(size_t c, size_t n)
{
    size_t e = (c + 1) * BO_GEO_CHUNK;
    return e < n ? e : n;
}

/* Threads only for whole chunks: each thread gets at least one full chunk, so arrays below
 * 2 chunks (32 Ki elements) run on the calling thread and never enter OpenMP. Measured on the
 * 2-vCPU Zen 4 box (float64 haversine, regional data, best of 15 x 20 calls): 16,385 points
 * took 65 us on 1 thread and 76 us on 2 (one chunk plus one element: all overhead); 32,768
 * points 111 us on 1 and 71 us on 2; within_bbox 39 vs 31 us there. Below 16 Ki elements
 * there was never more than one chunk anyway (1,000 points: 16.2 vs 16.3 us, the call). */
static int threads_for(size_t n, const bo_geo_opts *o)
{
    size_t full = n / BO_GEO_CHUNK;
    int nt = (o && o->n_threads > 0) ? o->n_threads : 1;
    if ((size_t)nt > full)
        nt = (int)full;
    return nt < 1 ? 1 : nt;
}

static const bo_geo_kernels *kernels_for_opts(const bo_geo_opts *o, bo_error *err,
                                              bo_status *st)
{
    bo_simd_level lvl = o ? o->simd : BO_SIMD_SCALAR;
    const bo_geo_kernels *k = bo_geo_kernels_for(lvl);
    *st = BO_OK;
    if (!k || !bo_simd_cpu_supports(lvl))
        *st = bo_error_set(err, BO_ERR_UNSUPPORTED, "SIMD level '%s' is not available here",
                           bo_simd_name(lvl));
    return k;
}

/* cos/sin of an angle in degrees, folded in degrees first (90 - |a| is exact for |a| in
 * [45, 180]) so they stay accurate near 90, where radians would round first. */
static double cosd(double a)
{
    double ax = fabs(a);
    return ax > 45.0 ? sin((90.0 - ax) * BO_D2R) : cos(ax * BO_D2R);
}

static double sind(double a)
{
    double ax = fabs(a);
    double r = ax > 45.0 ? cos((90.0 - ax) * BO_D2R) : sin(ax * BO_D2R);
    return copysign(r, a);
}

/* Exact reduction of a longitude to [-180, 180] (the identity there; NaN for infinities).
 * fmod is exact for every finite double, so 1e17 or 1e300 degrees give the point those exact
 * values name rather than a silently wrong one (the old floor-based wrap lost everything
 * above ~1e15). */
static double reduce_lon(double x)
{
    if (!(fabs(x) > 180.0))
        return x;
    double r = fmod(x, 360.0);
    if (r > 180.0)
        r -= 360.0; /* exact: r and 360 are within a factor 2 */
    else if (r < -180.0)
        r += 360.0;
    return r;
}

/* lon - lon0 in [-180, 180), exact across the antimeridian (see geo_kernels.inc). */
static double wrap_dlon(double lon, double lon0)
{
    lon = reduce_lon(lon);
    lon0 = reduce_lon(lon0);
    double k = floor((lon - lon0 + 180.0) / 360.0);
    double d = (lon - k * 360.0) - lon0;
    if (d >= 180.0)
        d -= 360.0;
    else if (d < -180.0)
        d += 360.0;
    return d;
}

static double wrap_lon(double lon) { return wrap_dlon(lon, 0.0); }

/* First element with |lat| > 90 among up to two latitude arrays; fills err, returns DOMAIN. */
#define DEFINE_LOCATE(SUF, TT)                                                                 \
    static bo_status locate_bad_##SUF(const TT *a, int a_bc, int a_col, const TT *b, int b_bc, \
                                      int b_col, size_t n, bo_error *err)                      \
    {                                                                                          \
        for (size_t i = 0; i < n; i++) {                                                       \
            const TT *arrs[2] = {a, b};                                                        \
            int bcs[2] = {a_bc, b_bc}, cols[2] = {a_col, b_col};                               \
            for (int j = 0; j < 2; j++) {                                                      \
                if (!arrs[j])                                                                  \
                    continue;                                                                  \
                double v = (double)arrs[j][bcs[j] ? 0 : i];                                    \
                if (fabs(v) > 90.0) {                                                          \
                    if (err) {                                                                 \
                        err->index = bcs[j] ? 0 : (int64_t)i;                                  \
                        err->column = cols[j];                                                 \
                        err->value = v;                                                        \
                    }                                                                          \
                    return bo_error_set(err, BO_ERR_DOMAIN, "latitude outside [-90, 90]");     \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        return bo_error_set(err, BO_ERR_INTERNAL, "kernel flagged a latitude but none found"); \
    }
DEFINE_LOCATE(f64, double)
DEFINE_LOCATE(f32, float)

#define PTR(p, bit, off) ((bcast & (bit)) ? (p) : (p) + (off))

#define DEFINE_HAVERSINE(SUF, TT)                                                              \
    bo_status bo_haversine_##SUF(const TT *lat1, const TT *lon1, const TT *lat2,               \
                                 const TT *lon2, unsigned bcast, TT *out, size_t n,            \
                                 TT radius_m, const bo_geo_opts *opts, bo_error *err)          \
    {                                                                                          \
        bo_status st;                                                                          \
        const bo_geo_kernels *k = kernels_for_opts(opts, err, &st);                            \
        if (st != BO_OK)                                                                       \
            return st;                                                                         \
        if (n == 0)                                                                            \
            return BO_OK;                                                                      \
        if (!lat1 || !lon1 || !lat2 || !lon2 || !out)                                          \
            return bo_error_set(err, BO_ERR_ARG, "NULL array");                                \
        size_t nch = n_chunks(n);                                    \
        int nt = threads_for(n, opts), bad = 0;                                                \
        long long c;                                                                           \
        BO_OMP(parallel for num_threads(nt) schedule(static) reduction(| : bad) if (nt > 1))   \
        for (c = 0; c < (long long)nch; c++) {                                                 \
            size_t b = (size_t)c * BO_GEO_CHUNK;                                               \
            size_t e = chunk_end((size_t)c, n);                                                \
            bad |= k->haversine_##SUF(PTR(lat1, 1u, b), PTR(lon1, 2u, b), PTR(lat2, 4u, b),    \
                                      PTR(lon2, 8u, b), bcast, out + b, e - b, radius_m);      \
        }                                                                                      \
        if (bad && opts && opts->validate)                                                     \
            return locate_bad_##SUF(lat1, bcast & 1u, 0, lat2, (bcast & 4u) != 0, 2, n, err);  \
        return BO_OK;                                                                          \
    }
DEFINE_HAVERSINE(f64, double)
DEFINE_HAVERSINE(f32, float)

static int finite4(double a, double b, double c, double d)
{
    return isfinite(a) && isfinite(b) && isfinite(c) && isfinite(d);
}

bo_status bo_radius_bbox(double center_lat, double center_lon, double radius_m,
                         double earth_radius_m, double box[4], bo_error *err)
{
    if (!finite4(center_lat, center_lon, radius_m, earth_radius_m) || radius_m < 0 ||
        earth_radius_m <= 0)
        return bo_error_set(err, BO_ERR_ARG,
                            "center, radius_m and earth_radius_m must be finite, radius_m >= 0 "
                            "and earth_radius_m > 0");
    if (fabs(center_lat) > 90.0) {
        if (err) {
            err->index = 0;
            err->column = 0;
            err->value = center_lat;
        }
        return bo_error_set(err, BO_ERR_DOMAIN, "latitude outside [-90, 90]");
    }
    double ang = radius_m / earth_radius_m; /* radians of arc */
    /* Enlarge by 1e-9 relative (+1e-12 degrees) so that rounding in this box never rejects a
     * point the exact test would accept; the exact test decides the rest. */
    double angd = ang / BO_D2R;
    double pad = angd * 1e-9 + 1e-12;
    box[0] = center_lat - angd - pad;
    box[1] = center_lat + angd + pad;
    if (ang >= BO_PI || box[1] >= 90.0 || box[0] <= -90.0) {
        /* the circle reaches a pole: every longitude */
        box[0] = box[0] < -90.0 ? -90.0 : box[0];
        box[1] = box[1] > 90.0 ? 90.0 : box[1];
        box[2] = -180.0;
        box[3] = 180.0;
        return BO_OK;
    }
    double q = sin(ang) / cosd(center_lat);
    double dlon = asin(q > 1.0 ? 1.0 : q) / BO_D2R;
    dlon += dlon * 1e-9 + 1e-12;
    if (dlon >= 180.0) {
        box[2] = -180.0;
        box[3] = 180.0;
        return BO_OK;
    }
    center_lon = reduce_lon(center_lon);
    box[2] = wrap_lon(center_lon - dlon);
    box[3] = wrap_lon(center_lon + dlon);
    if (box[3] == -180.0 && box[2] > 0)
        box[3] = 180.0; /* the box ends exactly on the antimeridian: keep it unwrapped */
    return BO_OK;
}

static bo_status within_params(double clat, double clon, double radius_m, double earth_r,
                               double params[10], bo_error *err)
{
    bo_status st = bo_radius_bbox(clat, clon, radius_m, earth_r, params + 4, err);
    if (st != BO_OK) {
        if (st == BO_ERR_DOMAIN && err)
            err->column = 2; /* center_lat */
        return st;
    }
    double half = radius_m / (2.0 * earth_r);
    double s = sin(half);
    params[0] = clat;
    params[1] = reduce_lon(clon); /* the kernels' dlon is exact for |lon| <= 180 */
    params[2] = cosd(clat);
    /* h <= sin^2(r / 2R) is d <= r without an asin per point; past half the globe every
     * finite point qualifies (h never exceeds 1). */
    params[3] = half >= BO_PI / 2 ? 2.0 : s * s;
    params[8] = sind(clat);
    /* small-circle fast path (see within_block_small): short arc, narrow box, no pole */
    double lon_half = params[6] <= params[7] ? params[7] - params[6] : params[7] - params[6] + 360.0;
    lon_half *= 0.5 * BO_D2R;
    params[9] = (radius_m / earth_r <= 0.05 && lon_half <= 0.1 && params[0 + 4] > -90.0 &&
                 params[1 + 4] < 90.0)
                    ? 1.0
                    : 0.0;
    return BO_OK;
}

/* Smallest float >= x (up) or largest float <= x (down): comparing a float against these is
 * the same as comparing its exact value against x. */
static float float_up(double x)
{
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

static float float_down(double x)
{
    float f = (float)x;
    return (double)f > x ? nextafterf(f, -INFINITY) : f;
}

/* Parameters of the float32 small-circle kernel (within_radius_fast in geo_kernels.inc, which
 * derives the band); returns 0 when that path must not be used. */
static int within_params_f32(const double p[10], float q[12])
{
    if (p[9] == 0.0)
        return 0; /* not a small circle: the float64 kernel's general path */
    double cmin = cosd(fmax(fabs(p[4]), fabs(p[5]))); /* smallest cos(lat) in the box */
    /* the band grows as 1/cmin; below 1/64 it would catch too many points to pay off, and
     * the threshold must stay far above float32 underflow (squares of ~1e-19) */
    if (!(cmin >= 1.0 / 64.0) || !(p[3] >= 1e-20))
        return 0;
    double band = 64.0 * 0x1p-24 / cmin;
    float chi = (float)p[0], lhi = (float)p[1];
    q[0] = chi;
    q[1] = (float)(p[0] - (double)chi); /* exact difference, then rounded: 48 bits in all */
    q[2] = lhi;
    q[3] = (float)(p[1] - (double)lhi);
    q[4] = (float)p[2];
    q[5] = (float)p[8];
    q[6] = float_down(p[3] * (1.0 - band));
    q[7] = float_up(p[3] * (1.0 + band));
    q[8] = float_down(p[4]);
    q[9] = float_up(p[5]);
    q[10] = float_down(p[6]);
    q[11] = float_up(p[7]);
    return 1;
}

/* within_radius on float64 points, or float32 ones (f32 = 1); the two public functions below. */
static bo_status within_radius_any(const void *lat_, const void *lon_, int f32, size_t n,
                                   double center_lat, double center_lon, double radius_m,
                                   double earth_radius_m, uint8_t *out, const bo_geo_opts *opts,
                                   bo_error *err)
{
    bo_status st;
    const bo_geo_kernels *k = kernels_for_opts(opts, err, &st);
    double params[10];
    float p32[12];
    if (st != BO_OK)
        return st;
    if ((st = within_params(center_lat, center_lon, radius_m, earth_radius_m, params, err)))
        return st;
    if (n == 0)
        return BO_OK;
    const double *lat = (const double *)lat_, *lon = (const double *)lon_;
    const float *latf = (const float *)lat_, *lonf = (const float *)lon_;
    const int fast = f32 && within_params_f32(params, p32);
    size_t nch = n_chunks(n);
    int nt = threads_for(n, opts), bad = 0;
    long long c;
    BO_OMP(parallel for num_threads(nt) schedule(static) reduction(| : bad) if (nt > 1))
    for (c = 0; c < (long long)nch; c++) {
        size_t b = (size_t)c * BO_GEO_CHUNK;
        size_t e = chunk_end((size_t)c, n);
        if (!f32) {
            bad |= k->within_radius_f64(lat + b, lon + b, e - b, params, out + b);
            continue;
        }
        /* float32, small circles: float32 lanes, float64 only inside the rounding band.
         * Otherwise float points widened in registers: the boundary decision needs float64
         * (issue 2: exact except within 1e-9 x radius), and the widening is exact, so the
         * answer is the float64 kernel's on the same values, at half the bytes read. Both
         * paths give that answer. */
        int r = fast ? k->within_radius_f32_fast(latf + b, lonf + b, e - b, p32, params, out + b)
                     : 2;
        if (r & 2)
            r = k->within_radius_f32(latf + b, lonf + b, e - b, params, out + b);
        bad |= r & 1;
    }
    if (bad && opts && opts->validate)
        return f32 ? locate_bad_f32(latf, 0, 0, NULL, 0, 0, n, err)
                   : locate_bad_f64(lat, 0, 0, NULL, 0, 0, n, err);
    return BO_OK;
}

bo_status bo_within_radius_f64(const double *lat, const double *lon, size_t n, double center_lat,
                               double center_lon, double radius_m, double earth_radius_m,
                               uint8_t *out, const bo_geo_opts *opts, bo_error *err)
{
    return within_radius_any(lat, lon, 0, n, center_lat, center_lon, radius_m, earth_radius_m,
                             out, opts, err);
}

bo_status bo_within_radius_f32(const float *lat, const float *lon, size_t n, double center_lat,
                               double center_lon, double radius_m, double earth_radius_m,
                               uint8_t *out, const bo_geo_opts *opts, bo_error *err)
{
    return within_radius_any(lat, lon, 1, n, center_lat, center_lon, radius_m, earth_radius_m,
                             out, opts, err);
}

static bo_status check_box(const double box[4], bo_error *err)
{
    if (isnan(box[0]) || isnan(box[1]) || isnan(box[2]) || isnan(box[3]))
        return bo_error_set(err, BO_ERR_ARG, "box bounds must not be NaN");
    if (box[0] > box[1])
        return bo_error_set(err, BO_ERR_ARG, "min_lat (%.17g) > max_lat (%.17g)", box[0], box[1]);
    return BO_OK;
}

bo_status bo_within_bbox_f64(const double *lat, const double *lon, size_t n, const double box[4],
                             uint8_t *out, const bo_geo_opts *opts, bo_error *err)
{
    bo_status st;
    const bo_geo_kernels *k = kernels_for_opts(opts, err, &st);
    if (st != BO_OK || (st = check_box(box, err)) != BO_OK || n == 0)
        return st;
    size_t nch = n_chunks(n);
    int nt = threads_for(n, opts);
    long long c;
    BO_OMP(parallel for num_threads(nt) schedule(static) if (nt > 1))
    for (c = 0; c < (long long)nch; c++) {
        size_t b = (size_t)c * BO_GEO_CHUNK;
        size_t e = chunk_end((size_t)c, n);
        k->within_bbox_f64(lat + b, lon + b, e - b, box, out + b);
    }
    return BO_OK;
}

bo_status bo_within_bbox_f32(const float *lat, const float *lon, size_t n, const double box[4],
                             uint8_t *out, const bo_geo_opts *opts, bo_error *err)
{
    bo_status st;
    const bo_geo_kernels *k = kernels_for_opts(opts, err, &st);
    if (st != BO_OK || (st = check_box(box, err)) != BO_OK || n == 0)
        return st;
    float fbox[4] = {float_up(box[0]), float_down(box[1]), float_up(box[2]), float_down(box[3])};
    if (box[2] <= box[3] && fbox[2] > fbox[3]) {
        /* no float longitude lies in [min_lon, max_lon]: an empty range, not a wrapped one */
        fbox[2] = INFINITY;
        fbox[3] = -INFINITY;
    }
    size_t nch = n_chunks(n);
    int nt = threads_for(n, opts);
    long long c;
    BO_OMP(parallel for num_threads(nt) schedule(static) if (nt > 1))
    for (c = 0; c < (long long)nch; c++) {
        size_t b = (size_t)c * BO_GEO_CHUNK;
        size_t e = chunk_end((size_t)c, n);
        k->within_bbox_f32(lat + b, lon + b, e - b, fbox, out + b);
    }
    return BO_OK;
}

static bo_status check_origin(double lat, double lon, double radius_m, int lat_col, bo_error *err)
{
    if (!isfinite(lat) || !isfinite(lon) || !isfinite(radius_m) || radius_m <= 0)
        return bo_error_set(err, BO_ERR_ARG, "origin must be finite and radius_m > 0");
    if (fabs(lat) > 90.0) {
        if (err) {
            err->index = 0;
            err->column = lat_col;
            err->value = lat;
        }
        return bo_error_set(err, BO_ERR_DOMAIN, "latitude outside [-90, 90]");
    }
    return BO_OK;
}

#define DEFINE_LOCAL_XY(SUF, TT)                                                               \
    bo_status bo_to_local_xy_##SUF(const TT *lat, const TT *lon, size_t n, double origin_lat,  \
                                   double origin_lon, double radius_m, TT *x, TT *y,           \
                                   const bo_geo_opts *opts, bo_error *err)                     \
    {                                                                                          \
        bo_status st = check_origin(origin_lat, origin_lon, radius_m, 2, err);                 \
        if (st != BO_OK || n == 0)                                                             \
            return st;                                                                         \
        const double kx = radius_m * BO_D2R * cosd(origin_lat), ky = radius_m * BO_D2R;        \
        size_t nch = n_chunks(n);                                    \
        int nt = threads_for(n, opts), bad = 0;                                                \
        long long c;                                                                           \
        BO_OMP(parallel for num_threads(nt) schedule(static) reduction(| : bad) if (nt > 1))   \
        for (c = 0; c < (long long)nch; c++) {                                                 \
            size_t b = (size_t)c * BO_GEO_CHUNK;                                               \
            size_t e = chunk_end((size_t)c, n);                                                \
            for (size_t i = b; i < e; i++) {                                                   \
                double la = (double)lat[i];                                                    \
                bad |= fabs(la) > 90.0;                                                        \
                x[i] = (TT)(kx * wrap_dlon((double)lon[i], origin_lon));                       \
                y[i] = (TT)(ky * (la - origin_lat));                                           \
            }                                                                                  \
        }                                                                                      \
        if (bad && opts && opts->validate)                                                     \
            return locate_bad_##SUF(lat, 0, 0, NULL, 0, 0, n, err);                            \
        return BO_OK;                                                                          \
    }
DEFINE_LOCAL_XY(f64, double)
DEFINE_LOCAL_XY(f32, float)

/* Spherical direct problem, in vector form: with p the start point, n and e its local north
 * and east unit vectors, the destination is cos(d) p + sin(d) (cos(b) n + sin(b) e). Reading
 * latitude and longitude back with atan2 keeps full precision for metre-scale steps and near
 * the poles, where the textbook asin(sin lat2) form loses ~1e-7 relative. */
static void destination1(double lat, double lon, double brg, double dist, double R,
                         double *lat2, double *lon2)
{
    double d = dist / R;
    double sp = sind(lat), cp = cosd(lat);
    double b = remainder(brg, 360.0); /* exact; sind/cosd fold |b| <= 180 exactly */
    double sb = sind(b), cb = cosd(b);
    double sd = sin(d), cd = cos(d);
    double px = cd * cp - sd * cb * sp;
    double py = sd * sb;
    double pz = cd * sp + sd * cb * cp;
    *lat2 = atan2(pz, hypot(px, py)) / BO_D2R;
    *lon2 = wrap_lon(reduce_lon(lon) + atan2(py, px) / BO_D2R);
}

#define DEFINE_DESTINATION(SUF, TT)                                                            \
    bo_status bo_destination_##SUF(const TT *lat, const TT *lon, const TT *bearing_deg,        \
                                   const TT *distance_m, unsigned bcast, size_t n,             \
                                   double radius_m, TT *lat2, TT *lon2,                        \
                                   const bo_geo_opts *opts, bo_error *err)                     \
    {                                                                                          \
        if (!isfinite(radius_m) || radius_m <= 0)                                              \
            return bo_error_set(err, BO_ERR_ARG, "radius_m must be finite and > 0");           \
        if (n == 0)                                                                            \
            return BO_OK;                                                                      \
        size_t nch = n_chunks(n);                                    \
        int nt = threads_for(n, opts), bad = 0;                                                \
        long long c;                                                                           \
        BO_OMP(parallel for num_threads(nt) schedule(static) reduction(| : bad) if (nt > 1))   \
        for (c = 0; c < (long long)nch; c++) {                                                 \
            size_t b = (size_t)c * BO_GEO_CHUNK;                                               \
            size_t e = chunk_end((size_t)c, n);                                                \
            for (size_t i = b; i < e; i++) {                                                   \
                double la = (double)lat[(bcast & 1u) ? 0 : i];                                 \
                double r1, r2;                                                                 \
                bad |= fabs(la) > 90.0;                                                        \
                destination1(la, (double)lon[(bcast & 2u) ? 0 : i],                            \
                             (double)bearing_deg[(bcast & 4u) ? 0 : i],                        \
                             (double)distance_m[(bcast & 8u) ? 0 : i], radius_m, &r1, &r2);    \
                lat2[i] = (TT)r1;                                                              \
                /* rounding to TT may land on 180: keep [-180, 180) */                         \
                lon2[i] = (TT)r2 >= (TT)180 ? (TT)-180 : (TT)r2;                               \
            }                                                                                  \
        }                                                                                      \
        if (bad && opts && opts->validate)                                                     \
            return locate_bad_##SUF(lat, bcast & 1u, 0, NULL, 0, 0, n, err);                   \
        return BO_OK;                                                                          \
    }
DEFINE_DESTINATION(f64, double)
DEFINE_DESTINATION(f32, float)
