/* Geo kernels for the scalar level; compiled with this level's flags only (see CMakeLists.txt). */
#include "simd_scalar.h"
#define ISA scalar
#include "geo_isa.inc"
