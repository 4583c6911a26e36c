/* Shared by the per-ISA geo files. */
#ifndef BO_GEO_ISA_COMMON_H
#define BO_GEO_ISA_COMMON_H
#include <stdint.h>
#include <math.h>
#include <string.h>
#include "poly_coeffs.h"

/* Most coefficients of any polynomial in poly_coeffs.h (bo_asin_d). */
#define BO_POLY_MAXN 16

/* pi/180 and pi/2 rounded to each precision (their ~1e-16 / 6e-8 relative error is far inside
 * the 1e-12 / 2e-6 accuracy budgets). */
#define BO_D2R_D 0.017453292519943295
#define BO_PIO2_D 1.5707963267948966
#define BO_D2R_F 0.017453292f
#define BO_PIO2_F 1.5707964f

/* Largest |longitude| for which x - 360 * round(x / 360) is exact with a rounded 1/360 and a
 * rounded product (k is then within 0.5 + 2^-8 of x/360, 360k and the difference are exact).
 * float: 360k must fit 24 bits too. Larger magnitudes go through fmod, which is exact. */
#define BO_LON_EXACT_MAX_D 17592186044416.0 /* 2^44 */
#define BO_LON_EXACT_MAX_F 16777216.0f      /* 2^24 */

/* Spread 8 mask bits into 8 bytes of 0/1 (bit i -> byte i). */
static inline uint64_t bo_spread_bits(unsigned b)
{
    uint64_t x = ((uint64_t)b * 0x0101010101010101ULL) & 0x8040201008040201ULL;
    return ((x + 0x7F7F7F7F7F7F7F7FULL) >> 7) & 0x0101010101010101ULL;
}
#endif
