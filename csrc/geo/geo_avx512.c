/* Geo kernels for the avx512 level; compiled with this level's flags only (see CMakeLists.txt). */
#include "simd_avx512.h"
#define ISA avx512
#include "geo_isa.inc"
