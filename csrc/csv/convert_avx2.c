/* The column loops built with AVX2, BMI1/2 and POPCNT: the numeric ones (convert_num.h) and the
 * string pass (convert_str.h, with the UTF-8 check in the copy); called only on CPUs that have
 * them (pick_passes in convert.c). */
#include <immintrin.h>

#define NUM_PASS(name) name##_avx2
#define NUM_PASS_LINKAGE BO_CSV_HIDDEN
#include "convert_num.h"

#define STR_PASS(name) name##_avx2
#define STR_PASS_LINKAGE BO_CSV_HIDDEN
#include "convert_str.h"
