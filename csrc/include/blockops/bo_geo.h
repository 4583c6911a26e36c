/* blockops geo kernels: haversine distance, radius and box filters, local projection,
 * destination point. Angles in degrees, lengths in metres.
 *
 * Array arguments are contiguous; an input flagged in `bcast` (bit k for the k-th array input,
 * in the order of the parameter list) is a single value broadcast over all n elements.
 * Latitudes are checked to lie in [-90, 90] when `validate` is set: the first offending element
 * is reported in err (index, column = which latitude argument, value) with BO_ERR_DOMAIN.
 * NaN is not an error: it gives NaN distances and false masks.
 *
 * Results do not depend on n_threads or on the SIMD level beyond rounding: each element goes
 * through the same code path whatever its position (loop tails are padded, not special-cased). */
#ifndef BLOCKOPS_BO_GEO_H
#define BLOCKOPS_BO_GEO_H

#include "blockops/bo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BO_EARTH_RADIUS_M 6371008.8 /* IUGG mean radius R1 */

/* Per-ISA kernels over [0, n). They return 1 when an input latitude outside [-90, 90] was seen
 * (NaN excluded), else 0; the driver then locates it. Exposed for tests and benchmarks. */
typedef struct bo_geo_kernels {
    int (*haversine_f64)(const double *lat1, const double *lon1, const double *lat2,
                         const double *lon2, unsigned bcast, double *out, size_t n, double radius);
    int (*haversine_f32)(const float *lat1, const float *lon1, const float *lat2,
                         const float *lon2, unsigned bcast, float *out, size_t n, float radius);
    /* within: 1 where hav(center, p) <= hav_max and p inside box, computed in float64. */
    int (*within_radius_f64)(const double *lat, const double *lon, size_t n,
                             const double *params, uint8_t *out);
    /* the same on float32 points, widened in registers: the decision stays float64 */
    int (*within_radius_f32)(const float *lat, const float *lon, size_t n, const double *params,
                             uint8_t *out);
    /* float32 points on small circles, decided in float32 outside a rounding band around the
     * threshold and by within_radius_f32 inside it (bitwise its answer). Returns bit 0: a
     * latitude outside [-90, 90]; bit 1: a longitude too large to reduce in float (the caller
     * reruns the chunk with within_radius_f32). */
    int (*within_radius_f32_fast)(const float *lat, const float *lon, size_t n,
                                  const float *params32, const double *params, uint8_t *out);
    void (*within_bbox_f64)(const double *lat, const double *lon, size_t n,
                            const double *box, uint8_t *out);
    void (*within_bbox_f32)(const float *lat, const float *lon, size_t n, const float *box,
                            uint8_t *out);
} bo_geo_kernels;

/* NULL when the level was not compiled in. Does not check the CPU. */
const bo_geo_kernels *bo_geo_kernels_for(bo_simd_level lvl);

typedef struct bo_geo_opts {
    bo_simd_level simd;
    int n_threads; /* <= 0 means 1 */
    int validate;  /* check latitudes */
} bo_geo_opts;

/* Bounding box (min_lat, max_lat, min_lon, max_lon) containing every point within radius_m of
 * the centre, slightly enlarged so rounding never excludes a point that is inside. Longitudes in
 * [-180, 180]; min_lon > max_lon when the box crosses the antimeridian; (-180, 180) when the
 * circle reaches a pole. */
bo_status bo_radius_bbox(double center_lat, double center_lon, double radius_m,
                         double earth_radius_m, double box[4], bo_error *err);

bo_status bo_haversine_f64(const double *lat1, const double *lon1, const double *lat2,
                           const double *lon2, unsigned bcast, double *out, size_t n,
                           double radius_m, const bo_geo_opts *opts, bo_error *err);
bo_status bo_haversine_f32(const float *lat1, const float *lon1, const float *lat2,
                           const float *lon2, unsigned bcast, float *out, size_t n,
                           float radius_m, const bo_geo_opts *opts, bo_error *err);

bo_status bo_within_radius_f64(const double *lat, const double *lon, size_t n, double center_lat,
                               double center_lon, double radius_m, double earth_radius_m,
                               uint8_t *out, const bo_geo_opts *opts, bo_error *err);
/* float32 inputs are widened to float64 in small tiles: the boundary test needs the precision. */
bo_status bo_within_radius_f32(const float *lat, const float *lon, size_t n, double center_lat,
                               double center_lon, double radius_m, double earth_radius_m,
                               uint8_t *out, const bo_geo_opts *opts, bo_error *err);

bo_status bo_within_bbox_f64(const double *lat, const double *lon, size_t n, const double box[4],
                             uint8_t *out, const bo_geo_opts *opts, bo_error *err);
bo_status bo_within_bbox_f32(const float *lat, const float *lon, size_t n, const double box[4],
                             uint8_t *out, const bo_geo_opts *opts, bo_error *err);

/* Signed equirectangular metres about (origin_lat, origin_lon):
 * x = R * dlon * cos(origin_lat), y = R * dlat, dlon wrapped to [-180, 180). */
bo_status bo_to_local_xy_f64(const double *lat, const double *lon, size_t n, double origin_lat,
                             double origin_lon, double radius_m, double *x, double *y,
                             const bo_geo_opts *opts, bo_error *err);
bo_status bo_to_local_xy_f32(const float *lat, const float *lon, size_t n, double origin_lat,
                             double origin_lon, double radius_m, float *x, float *y,
                             const bo_geo_opts *opts, bo_error *err);

/* Great-circle destination from (lat, lon) along initial bearing (clockwise from north) for
 * distance_m. bcast bits: 0 lat, 1 lon, 2 bearing, 3 distance. lon2 in [-180, 180). */
bo_status bo_destination_f64(const double *lat, const double *lon, const double *bearing_deg,
                             const double *distance_m, unsigned bcast, size_t n, double radius_m,
                             double *lat2, double *lon2, const bo_geo_opts *opts, bo_error *err);
bo_status bo_destination_f32(const float *lat, const float *lon, const float *bearing_deg,
                             const float *distance_m, unsigned bcast, size_t n, double radius_m,
                             float *lat2, float *lon2, const bo_geo_opts *opts, bo_error *err);

#ifdef __cplusplus
}
#endif
#endif
