/* The int64 and float64 column loops built with AVX-512 (F, BW, DQ, VL, VBMI) and BMI1/2:
 * eight fields per step (bo_b8_int64, bo_b8_float64 and bo_b8_float64_long in
 * convert_num.h). Called only on CPUs that have them (pick_passes in convert.c); the other
 * column loops of the level are the AVX2 builds. */
#include <immintrin.h>

#define BO_NUM_BATCH8 1
#define NUM_PASS(name) name##_avx512
#define NUM_PASS_LINKAGE BO_CSV_HIDDEN
#include "convert_num.h"
