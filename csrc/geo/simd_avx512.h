/* AVX-512F vocabulary: 8 doubles / 16 floats; masks live in k registers. */
#ifndef BO_SIMD_AVX512_H
#define BO_SIMD_AVX512_H
#include <immintrin.h>

#define BO_RN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

#define VD_W 8
typedef __m512d VD_T;
typedef __mmask8 VD_M;
static inline VD_T VD_set1(double x) { return _mm512_set1_pd(x); }
static inline VD_T VD_loadu(const double *p) { return _mm512_loadu_pd(p); }
/* VD_W floats widened (exactly) to doubles */
static inline VD_T VD_loadf(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
static inline void VD_storeu(double *p, VD_T v) { _mm512_storeu_pd(p, v); }
static inline VD_T VD_add(VD_T a, VD_T b) { return _mm512_add_pd(a, b); }
static inline VD_T VD_sub(VD_T a, VD_T b) { return _mm512_sub_pd(a, b); }
static inline VD_T VD_mul(VD_T a, VD_T b) { return _mm512_mul_pd(a, b); }
static inline VD_T VD_fma(VD_T a, VD_T b, VD_T c) { return _mm512_fmadd_pd(a, b, c); }
static inline VD_T VD_sqrt(VD_T a) { return _mm512_sqrt_pd(a); }
static inline VD_T VD_abs(VD_T a) { return _mm512_abs_pd(a); }
static inline VD_T VD_min(VD_T a, VD_T b) { return _mm512_min_pd(a, b); }
static inline VD_T VD_max(VD_T a, VD_T b) { return _mm512_max_pd(a, b); }
static inline VD_T VD_round(VD_T a) { return _mm512_roundscale_pd(a, BO_RN); }
static inline VD_T VD_xorsign(VD_T x, VD_T s)
{
    __m512i sign = _mm512_and_si512(_mm512_castpd_si512(s), _mm512_set1_epi64((long long)0x8000000000000000ULL));
    return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), sign));
}
static inline VD_M VD_gt(VD_T a, VD_T b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
static inline VD_M VD_ge(VD_T a, VD_T b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
static inline VD_M VD_le(VD_T a, VD_T b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
static inline VD_M VD_mand(VD_M a, VD_M b) { return (VD_M)(a & b); }
static inline VD_M VD_mor(VD_M a, VD_M b) { return (VD_M)(a | b); }
static inline int VD_many(VD_M m) { return m != 0; }
static inline int VD_mall(VD_M m) { return m == 0xFF; }
static inline unsigned VD_mbits(VD_M m) { return (unsigned)m; }
static inline VD_T VD_sel(VD_M m, VD_T t, VD_T f) { return _mm512_mask_blend_pd(m, f, t); }

#define VF_W 16
typedef __m512 VF_T;
typedef __mmask16 VF_M;
static inline VF_T VF_set1(float x) { return _mm512_set1_ps(x); }
static inline VF_T VF_loadu(const float *p) { return _mm512_loadu_ps(p); }
static inline void VF_storeu(float *p, VF_T v) { _mm512_storeu_ps(p, v); }
static inline VF_T VF_add(VF_T a, VF_T b) { return _mm512_add_ps(a, b); }
static inline VF_T VF_sub(VF_T a, VF_T b) { return _mm512_sub_ps(a, b); }
static inline VF_T VF_mul(VF_T a, VF_T b) { return _mm512_mul_ps(a, b); }
static inline VF_T VF_fma(VF_T a, VF_T b, VF_T c) { return _mm512_fmadd_ps(a, b, c); }
static inline VF_T VF_sqrt(VF_T a) { return _mm512_sqrt_ps(a); }
static inline VF_T VF_abs(VF_T a) { return _mm512_abs_ps(a); }
static inline VF_T VF_min(VF_T a, VF_T b) { return _mm512_min_ps(a, b); }
static inline VF_T VF_max(VF_T a, VF_T b) { return _mm512_max_ps(a, b); }
static inline VF_T VF_round(VF_T a) { return _mm512_roundscale_ps(a, BO_RN); }
static inline VF_T VF_xorsign(VF_T x, VF_T s)
{
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(s), _mm512_set1_epi32((int)0x80000000U));
    return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), sign));
}
static inline VF_M VF_gt(VF_T a, VF_T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline VF_M VF_ge(VF_T a, VF_T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
static inline VF_M VF_le(VF_T a, VF_T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
static inline VF_M VF_mand(VF_M a, VF_M b) { return (VF_M)(a & b); }
static inline VF_M VF_mor(VF_M a, VF_M b) { return (VF_M)(a | b); }
static inline int VF_many(VF_M m) { return m != 0; }
static inline int VF_mall(VF_M m) { return m == 0xFFFF; }
static inline unsigned VF_mbits(VF_M m) { return (unsigned)m; }
static inline VF_T VF_sel(VF_M m, VF_T t, VF_T f) { return _mm512_mask_blend_ps(m, f, t); }
#endif
