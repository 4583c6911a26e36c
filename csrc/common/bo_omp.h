/* OpenMP shim: the core builds and gives identical results without OpenMP.
 * Parallel kernels take their thread count as an argument: OMP_NUM_THREADS read once at start-up
 * cannot be trusted (Dask and Ray set it to 1 in their workers after we may have started). */
#ifndef BLOCKOPS_BO_OMP_H
#define BLOCKOPS_BO_OMP_H
#ifdef _OPENMP
#include <omp.h>
#define BO_PRAGMA(x) _Pragma(#x)
#define BO_OMP(x) BO_PRAGMA(omp x)
#else
#define BO_OMP(x)
static inline int omp_get_max_threads(void) { return 1; }
static inline int omp_get_thread_num(void) { return 0; }
#endif
#endif
