/* Shared by the per-ISA geo files. */
#ifndef BO_GEO_ISA_COMMON_H
#define BO_GEO_ISA_COMMON_H
#include <stdint.h>
#include <string.h>
#include "poly_coeffs.h"

/* pi/180 and pi/2 as a rounded value plus its remainder, for each precision. */
#define BO_D2R_HI_D 0.017453292519943295
#define BO_D2R_LO_D 2.9486522708701687e-19
#define BO_PIO2_HI_D 1.5707963267948966
#define BO_PIO2_LO_D 6.123233995736766e-17
#define BO_D2R_HI_F 0.017453292f
#define BO_D2R_LO_F 1.351996e-10f
#define BO_PIO2_HI_F 1.5707964f
#define BO_PIO2_LO_F -4.371139e-08f

/* Spread 8 mask bits into 8 bytes of 0/1 (bit i -> byte i). */
static inline uint64_t bo_spread_bits(unsigned b)
{
    uint64_t x = ((uint64_t)b * 0x0101010101010101ULL) & 0x8040201008040201ULL;
    return ((x + 0x7F7F7F7F7F7F7F7FULL) >> 7) & 0x0101010101010101ULL;
}
#endif
