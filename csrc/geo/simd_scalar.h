/* Scalar "vector" vocabulary: one lane. The reference the SIMD levels are checked against.
 * min/max follow the x86 rule (second operand when either is NaN) so NaN flows the same way
 * at every level. */
#ifndef BO_SIMD_SCALAR_H
#define BO_SIMD_SCALAR_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#define VD_W 1
typedef double VD_T;
typedef int VD_M;
static inline VD_T VD_set1(double x) { return x; }
static inline VD_T VD_loadu(const double *p) { return *p; }
/* VD_W floats widened (exactly) to doubles */
static inline VD_T VD_loadf(const float *p) { return (double)*p; }
static inline void VD_storeu(double *p, VD_T v) { *p = v; }
static inline VD_T VD_add(VD_T a, VD_T b) { return a + b; }
static inline VD_T VD_sub(VD_T a, VD_T b) { return a - b; }
static inline VD_T VD_mul(VD_T a, VD_T b) { return a * b; }
static inline VD_T VD_fma(VD_T a, VD_T b, VD_T c) { return a * b + c; }
static inline VD_T VD_sqrt(VD_T a) { return sqrt(a); }
static inline VD_T VD_abs(VD_T a) { return fabs(a); }
static inline VD_T VD_min(VD_T a, VD_T b) { return a < b ? a : b; }
static inline VD_T VD_max(VD_T a, VD_T b) { return a > b ? a : b; }
static inline VD_T VD_round(VD_T a) { return nearbyint(a); }
static inline VD_T VD_xorsign(VD_T x, VD_T s)
{
    uint64_t xi, si;
    memcpy(&xi, &x, 8);
    memcpy(&si, &s, 8);
    xi ^= si & 0x8000000000000000ULL;
    memcpy(&x, &xi, 8);
    return x;
}
static inline VD_M VD_gt(VD_T a, VD_T b) { return a > b; }
static inline VD_M VD_ge(VD_T a, VD_T b) { return a >= b; }
static inline VD_M VD_le(VD_T a, VD_T b) { return a <= b; }
static inline VD_M VD_mand(VD_M a, VD_M b) { return a & b; }
static inline VD_M VD_mor(VD_M a, VD_M b) { return a | b; }
static inline int VD_many(VD_M m) { return m != 0; }
static inline int VD_mall(VD_M m) { return m != 0; }
static inline unsigned VD_mbits(VD_M m) { return (unsigned)(m != 0); }
static inline VD_T VD_sel(VD_M m, VD_T t, VD_T f) { return m ? t : f; }

#define VF_W 1
typedef float VF_T;
typedef int VF_M;
static inline VF_T VF_set1(float x) { return x; }
static inline VF_T VF_loadu(const float *p) { return *p; }
static inline void VF_storeu(float *p, VF_T v) { *p = v; }
static inline VF_T VF_add(VF_T a, VF_T b) { return a + b; }
static inline VF_T VF_sub(VF_T a, VF_T b) { return a - b; }
static inline VF_T VF_mul(VF_T a, VF_T b) { return a * b; }
static inline VF_T VF_fma(VF_T a, VF_T b, VF_T c) { return a * b + c; }
static inline VF_T VF_sqrt(VF_T a) { return sqrtf(a); }
static inline VF_T VF_abs(VF_T a) { return fabsf(a); }
static inline VF_T VF_min(VF_T a, VF_T b) { return a < b ? a : b; }
static inline VF_T VF_max(VF_T a, VF_T b) { return a > b ? a : b; }
static inline VF_T VF_round(VF_T a) { return nearbyintf(a); }
static inline VF_T VF_xorsign(VF_T x, VF_T s)
{
    uint32_t xi, si;
    memcpy(&xi, &x, 4);
    memcpy(&si, &s, 4);
    xi ^= si & 0x80000000U;
    memcpy(&x, &xi, 4);
    return x;
}
static inline VF_M VF_gt(VF_T a, VF_T b) { return a > b; }
static inline VF_M VF_ge(VF_T a, VF_T b) { return a >= b; }
static inline VF_M VF_le(VF_T a, VF_T b) { return a <= b; }
static inline VF_M VF_mand(VF_M a, VF_M b) { return a & b; }
static inline VF_M VF_mor(VF_M a, VF_M b) { return a | b; }
static inline int VF_many(VF_M m) { return m != 0; }
static inline int VF_mall(VF_M m) { return m != 0; }
static inline unsigned VF_mbits(VF_M m) { return (unsigned)(m != 0); }
static inline VF_T VF_sel(VF_M m, VF_T t, VF_T f) { return m ? t : f; }
#endif
