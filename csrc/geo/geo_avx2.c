/* Geo kernels for the avx2 level; compiled with this level's flags only (see CMakeLists.txt). */
#include "simd_avx2.h"
#define ISA avx2
#include "geo_isa.inc"
