/* blockops: status codes, error records, SIMD levels and CPU features.
 *
 * Pure C; nothing here knows Python exists (see ../../py/ for the binding). */
#ifndef BLOCKOPS_BO_COMMON_H
#define BLOCKOPS_BO_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* restrict for the public prototypes (C only; C++ has no restrict keyword). */
#ifndef BO_RESTRICT
#ifdef __cplusplus
#define BO_RESTRICT
#else
#define BO_RESTRICT restrict
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Every library function returns a bo_status: 0 = ok, negative = error.
 * The Python binding maps these to exceptions in exactly one place
 * (python/blockops/_errors.py); keep the two lists in step. */
typedef enum bo_status {
    BO_OK = 0,
    BO_ERR_NOMEM = -1,        /* allocation failed */
    BO_ERR_ARG = -2,          /* invalid argument (length, dtype, option) */
    BO_ERR_DOMAIN = -3,       /* a value outside its domain, e.g. latitude 91 */
    BO_ERR_PARSE = -4,        /* malformed input text */
    BO_ERR_IO = -5,           /* read/write failure */
    BO_ERR_UNSUPPORTED = -6,  /* feature not compiled in / not supported by this CPU */
    BO_ERR_INTERRUPTED = -7,  /* stopped on request (Ctrl-C) */
    BO_ERR_LIMIT = -8,        /* a configured limit was exceeded (e.g. row too long) */
    BO_ERR_INTERNAL = -9      /* a bug: an invariant did not hold */
} bo_status;

/* Where an error happened. Fields that do not apply are -1 (or NaN for value). */
typedef struct bo_error {
    int64_t index;        /* element index (kernels) */
    int64_t line;         /* 1-based line number (parsers) */
    int64_t column;       /* 0-based column or argument position */
    int64_t byte_offset;  /* byte offset in the input (parsers) */
    double value;         /* the offending numeric value, when there is one */
    char message[160];    /* short human-readable detail, NUL terminated */
} bo_error;

const char *bo_status_str(bo_status st);
const char *bo_status_name(bo_status st);
void bo_error_clear(bo_error *err);
/* Fill err (if not NULL) with a formatted message and return st. */
bo_status bo_error_set(bo_error *err, bo_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Offset of the first byte of the first ill-formed UTF-8 sequence in s[0, len) (overlong
 * forms, surrogates, code points above U+10FFFF, stray continuation bytes, a sequence cut
 * short by the end), or -1 when all of it is well-formed: the position Python's
 * bytes.decode("utf-8") reports as UnicodeDecodeError.start. */
int64_t bo_utf8_check(const char *s, size_t len);
/* The same answer, with the vector check of the given bo_simd_level when it was compiled
 * (AVX2 and up; the caller passes a level the CPU supports). */
int64_t bo_utf8_check_level(const char *s, size_t len, int simd);

/* SIMD levels, lowest to highest. A level is usable when it was compiled in and
 * the CPU (and OS, for the wider register state) supports it. */
typedef enum bo_simd_level {
    BO_SIMD_SCALAR = 0,
    BO_SIMD_AVX2 = 1,    /* AVX2 + FMA */
    BO_SIMD_AVX512 = 2,  /* AVX-512F (+ FMA) */
    BO_SIMD_NLEVELS = 3
} bo_simd_level;

const char *bo_simd_name(bo_simd_level lvl);
/* -1 when the name is unknown. */
int bo_simd_from_name(const char *name);
int bo_simd_compiled(bo_simd_level lvl);
int bo_simd_cpu_supports(bo_simd_level lvl);
/* Highest level that is both compiled and supported by this CPU. */
bo_simd_level bo_simd_best(void);

/* Build information, filled in by CMake. */
const char *bo_build_compiler(void);
const char *bo_build_flags(void);
int bo_build_openmp(void);
/* Threads OpenMP would use by default (omp_get_max_threads), 1 without OpenMP. */
int bo_omp_max_threads(void);

/* Fork safety (fork.c). libgomp's thread pool does not survive fork(): the thread that forked
 * hangs in its next parallel region in the child. bo_run_fork_safe(fn, ctx) runs fn(ctx) on
 * the calling thread, or, when that thread is a fork child's forking thread that had run
 * blockops work before the fork, on a runner thread created in the child (fresh pool, all
 * threads). Call every entry point that may open a parallel region through it. Returns
 * BO_ERR_NOMEM when the runner thread cannot be created (fn did not run). */
bo_status bo_run_fork_safe(void (*fn)(void *), void *ctx);
/* Registers the fork handler (idempotent, thread-safe); bo_run_fork_safe calls it too. */
void bo_fork_init(void);
/* 1 when calls from this thread go through the runner. */
int bo_fork_stale_thread(void);

#ifdef __cplusplus
}
#endif
#endif
