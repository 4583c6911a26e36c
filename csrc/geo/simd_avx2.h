/* AVX2 + FMA vocabulary: 4 doubles / 8 floats; masks are all-ones lanes. */
#ifndef BO_SIMD_AVX2_H
#define BO_SIMD_AVX2_H
#include <immintrin.h>

#define BO_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

#define VD_W 4
typedef __m256d VD_T;
typedef __m256d VD_M;
static inline VD_T VD_set1(double x) { return _mm256_set1_pd(x); }
static inline VD_T VD_loadu(const double *p) { return _mm256_loadu_pd(p); }
/* VD_W floats widened (exactly) to doubles */
static inline VD_T VD_loadf(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
static inline void VD_storeu(double *p, VD_T v) { _mm256_storeu_pd(p, v); }
static inline VD_T VD_add(VD_T a, VD_T b) { return _mm256_add_pd(a, b); }
static inline VD_T VD_sub(VD_T a, VD_T b) { return _mm256_sub_pd(a, b); }
static inline VD_T VD_mul(VD_T a, VD_T b) { return _mm256_mul_pd(a, b); }
static inline VD_T VD_fma(VD_T a, VD_T b, VD_T c) { return _mm256_fmadd_pd(a, b, c); }
static inline VD_T VD_sqrt(VD_T a) { return _mm256_sqrt_pd(a); }
static inline VD_T VD_abs(VD_T a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
static inline VD_T VD_min(VD_T a, VD_T b) { return _mm256_min_pd(a, b); }
static inline VD_T VD_max(VD_T a, VD_T b) { return _mm256_max_pd(a, b); }
static inline VD_T VD_round(VD_T a) { return _mm256_round_pd(a, BO_RN); }
static inline VD_T VD_xorsign(VD_T x, VD_T s)
{
    return _mm256_xor_pd(x, _mm256_and_pd(s, _mm256_set1_pd(-0.0)));
}
static inline VD_M VD_gt(VD_T a, VD_T b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
static inline VD_M VD_ge(VD_T a, VD_T b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
static inline VD_M VD_le(VD_T a, VD_T b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
static inline VD_M VD_mand(VD_M a, VD_M b) { return _mm256_and_pd(a, b); }
static inline VD_M VD_mor(VD_M a, VD_M b) { return _mm256_or_pd(a, b); }
static inline int VD_many(VD_M m) { return _mm256_movemask_pd(m) != 0; }
static inline int VD_mall(VD_M m) { return _mm256_movemask_pd(m) == 0xF; }
static inline unsigned VD_mbits(VD_M m) { return (unsigned)_mm256_movemask_pd(m); }
static inline VD_T VD_sel(VD_M m, VD_T t, VD_T f) { return _mm256_blendv_pd(f, t, m); }

#define VF_W 8
typedef __m256 VF_T;
typedef __m256 VF_M;
static inline VF_T VF_set1(float x) { return _mm256_set1_ps(x); }
static inline VF_T VF_loadu(const float *p) { return _mm256_loadu_ps(p); }
static inline void VF_storeu(float *p, VF_T v) { _mm256_storeu_ps(p, v); }
static inline VF_T VF_add(VF_T a, VF_T b) { return _mm256_add_ps(a, b); }
static inline VF_T VF_sub(VF_T a, VF_T b) { return _mm256_sub_ps(a, b); }
static inline VF_T VF_mul(VF_T a, VF_T b) { return _mm256_mul_ps(a, b); }
static inline VF_T VF_fma(VF_T a, VF_T b, VF_T c) { return _mm256_fmadd_ps(a, b, c); }
static inline VF_T VF_sqrt(VF_T a) { return _mm256_sqrt_ps(a); }
static inline VF_T VF_abs(VF_T a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline VF_T VF_min(VF_T a, VF_T b) { return _mm256_min_ps(a, b); }
static inline VF_T VF_max(VF_T a, VF_T b) { return _mm256_max_ps(a, b); }
static inline VF_T VF_round(VF_T a) { return _mm256_round_ps(a, BO_RN); }
static inline VF_T VF_xorsign(VF_T x, VF_T s)
{
    return _mm256_xor_ps(x, _mm256_and_ps(s, _mm256_set1_ps(-0.0f)));
}
static inline VF_M VF_gt(VF_T a, VF_T b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline VF_M VF_ge(VF_T a, VF_T b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline VF_M VF_le(VF_T a, VF_T b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
static inline VF_M VF_mand(VF_M a, VF_M b) { return _mm256_and_ps(a, b); }
static inline VF_M VF_mor(VF_M a, VF_M b) { return _mm256_or_ps(a, b); }
static inline int VF_many(VF_M m) { return _mm256_movemask_ps(m) != 0; }
static inline int VF_mall(VF_M m) { return _mm256_movemask_ps(m) == 0xFF; }
static inline unsigned VF_mbits(VF_M m) { return (unsigned)_mm256_movemask_ps(m); }
static inline VF_T VF_sel(VF_M m, VF_T t, VF_T f) { return _mm256_blendv_ps(f, t, m); }
#endif
