/* Geo kernels that are not (yet) in the public bo_geo_kernels table of bo_geo.h: filled per
 * ISA by geo_isa.inc next to it, picked by geo.c with bo_geo_kernels_ext_for(). */
#ifndef BO_GEO_EXT_H
#define BO_GEO_EXT_H
#include <stddef.h>
#include <stdint.h>
#include "blockops/bo_common.h"

typedef struct bo_geo_kernels_ext {
    /* within_radius on float32 points, decided in float64 (params as within_radius_f64) */
    int (*within_radius_f32)(const float *lat, const float *lon, size_t n, const double *params,
                             uint8_t *out);
} bo_geo_kernels_ext;

/* NULL when the level was not compiled in. */
const bo_geo_kernels_ext *bo_geo_kernels_ext_for(bo_simd_level lvl);
#endif
