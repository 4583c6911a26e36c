#include "blockops/bo_common.h"
#include "bo_build_info.h"
#include "bo_omp.h"

#include <string.h>

static const char *const level_names[BO_SIMD_NLEVELS] = {"scalar", "avx2", "avx512"};

const char *bo_simd_name(bo_simd_level lvl)
{
    if ((int)lvl < 0 || lvl >= BO_SIMD_NLEVELS)
        return "unknown";
    return level_names[lvl];
}

int bo_simd_from_name(const char *name)
{
    for (int i = 0; i < BO_SIMD_NLEVELS; i++)
        if (name && strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

int bo_simd_compiled(bo_simd_level lvl)
{
    switch (lvl) {
    case BO_SIMD_SCALAR: return 1;
    case BO_SIMD_AVX2:
#ifdef BO_HAVE_AVX2
        return 1;
#else
        return 0;
#endif
    case BO_SIMD_AVX512:
#ifdef BO_HAVE_AVX512
        return 1;
#else
        return 0;
#endif
    default: return 0;
    }
}

int bo_simd_cpu_supports(bo_simd_level lvl)
{
    if (lvl == BO_SIMD_SCALAR)
        return 1;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    /* libgcc's feature probe also checks XCR0, i.e. that the OS saves the YMM/ZMM state,
     * so a level reported here is safe to execute. */
    __builtin_cpu_init();
    switch (lvl) {
    case BO_SIMD_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case BO_SIMD_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    default:
        return 0;
    }
#else
    return 0;
#endif
}

bo_simd_level bo_simd_best(void)
{
    for (int i = BO_SIMD_NLEVELS - 1; i > 0; i--)
        if (bo_simd_compiled((bo_simd_level)i) && bo_simd_cpu_supports((bo_simd_level)i))
            return (bo_simd_level)i;
    return BO_SIMD_SCALAR;
}

const char *bo_build_compiler(void) { return BO_BUILD_COMPILER; }
const char *bo_build_flags(void) { return BO_BUILD_FLAGS; }

int bo_build_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int bo_omp_max_threads(void) { return omp_get_max_threads(); }
