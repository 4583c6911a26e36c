#include "blockops/bo_common.h"
#include "bo_test.h"

#include <math.h>
#include <string.h>

int main(void)
{
    /* every status has a distinct name and a message */
    for (int st = 0; st >= BO_ERR_INTERNAL; st--) {
        CHECK(strncmp(bo_status_name((bo_status)st), "BO_", 3) == 0);
        CHECK(strlen(bo_status_str((bo_status)st)) > 0);
        for (int o = st + 1; o <= 0; o++)
            CHECK(strcmp(bo_status_name((bo_status)st), bo_status_name((bo_status)o)) != 0);
    }
    CHECK(strcmp(bo_status_name((bo_status)-100), "BO_ERR_UNKNOWN") == 0);

    bo_error e;
    bo_error_clear(&e);
    CHECK(e.index == -1 && e.line == -1 && e.column == -1 && e.byte_offset == -1);
    CHECK(isnan(e.value) && e.message[0] == '\0');
    CHECK(bo_error_set(&e, BO_ERR_PARSE, "bad value %d", 42) == BO_ERR_PARSE);
    CHECK(strcmp(e.message, "bad value 42") == 0);
    CHECK(bo_error_set(NULL, BO_ERR_ARG, "x") == BO_ERR_ARG); /* NULL err is allowed */
    /* long messages are truncated, never overflow */
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    bo_error_set(&e, BO_ERR_ARG, "%s", big);
    CHECK(strlen(e.message) == sizeof e.message - 1);

    /* SIMD level names round-trip; scalar is always there; best is compiled and supported */
    for (int i = 0; i < BO_SIMD_NLEVELS; i++)
        CHECK(bo_simd_from_name(bo_simd_name((bo_simd_level)i)) == i);
    CHECK(bo_simd_from_name("sse9") == -1);
    CHECK(bo_simd_from_name(NULL) == -1);
    CHECK(bo_simd_compiled(BO_SIMD_SCALAR) && bo_simd_cpu_supports(BO_SIMD_SCALAR));
    bo_simd_level best = bo_simd_best();
    CHECK(bo_simd_compiled(best) && bo_simd_cpu_supports(best));
    CHECK(strlen(bo_build_compiler()) > 0);
    CHECK(bo_omp_max_threads() >= 1);
    TEST_MAIN_END();
}
