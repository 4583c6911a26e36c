/* The numeric column loops (convert_num.h) built with AVX2, BMI1/2 and POPCNT; called only on
 * CPUs that have them (pick_num_pass in convert.c). */
#include <immintrin.h>

#define NUM_PASS(name) name##_avx2
#define NUM_PASS_LINKAGE BO_CSV_HIDDEN
#include "convert_num.h"
