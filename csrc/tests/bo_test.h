/* Minimal test harness for the C unit tests (run by ctest under ASan+UBSan). */
#ifndef BO_TEST_H
#define BO_TEST_H
#include <stdio.h>
#include <stdlib.h>

static int bo_test_failures = 0;
#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            bo_test_failures++;                                                       \
        }                                                                             \
    } while (0)
#define CHECKF(cond, ...)                                                             \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
            bo_test_failures++;                                                       \
        }                                                                             \
    } while (0)
#define TEST_MAIN_END()                                                              \
    do {                                                                              \
        if (bo_test_failures) {                                                       \
            fprintf(stderr, "%d check(s) failed\n", bo_test_failures);               \
            return 1;                                                                 \
        }                                                                             \
        printf("all checks passed\n");                                                \
        return 0;                                                                     \
    } while (0)

/* splitmix64: deterministic test data without libc rand() */
static unsigned long long bo_test_rng = 0x9E3779B97F4A7C15ULL;
static double urand(double lo, double hi)
{
    unsigned long long z = (bo_test_rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return lo + (hi - lo) * ((double)(z >> 11) * (1.0 / 9007199254740992.0));
}
#endif
