/* libFuzzer target for the ONE report parser (bo_report_parse, bo_report_parse_double).
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBLOCKOPS_FUZZ=ON && \
 *   cmake --build build-fuzz --target fuzz_one_report && \
 *   ./build-fuzz/fuzz_one_report -max_total_time=60 corpus/ /path/to/one-reports
 *
 * Besides crashes and sanitizer reports it checks the parser's contract: spans stay inside the
 * input, keys are non-empty, and an error always carries a consistent location. A broken
 * contract aborts (__builtin_trap) so libFuzzer records the input. */
#include "blockops/bo_report.h"

#include <stdint.h>
#include <string.h>

#define REQUIRE(c)             \
    do {                       \
        if (!(c))              \
            __builtin_trap();  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    bo_report rep;
    bo_report_init(&rep);
    bo_error err;
    bo_error_clear(&err);
    bo_status st = bo_report_parse(s, size, &rep, &err);
    if (st == BO_OK) {
        REQUIRE(rep.title.off + rep.title.len <= size);
        REQUIRE(rep.n <= rep.cap);
        for (size_t i = 0; i < rep.n; i++) {
            REQUIRE(rep.keys[i].len > 0);
            REQUIRE(rep.keys[i].off + rep.keys[i].len <= size);
            REQUIRE(memchr(s + rep.keys[i].off, ':', rep.keys[i].len) == NULL);
        }
    } else {
        REQUIRE(st == BO_ERR_PARSE || st == BO_ERR_NOMEM);
        REQUIRE(rep.n == 0 && rep.keys == NULL && rep.values == NULL);
        REQUIRE(err.line >= 1 && err.column >= 0);
        REQUIRE(err.byte_offset >= err.column && (size_t)err.byte_offset <= size);
        REQUIRE(err.message[0] != '\0');
    }
    bo_report_free(&rep);

    /* the number grammar on its own: the whole input as one token */
    double v;
    bo_error_clear(&err);
    st = bo_report_parse_double(s, size, &v, &err);
    REQUIRE(st == BO_OK || st == BO_ERR_PARSE || st == BO_ERR_NOMEM);
    return 0;
}
