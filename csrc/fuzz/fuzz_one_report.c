/* libFuzzer target for the ONE report parser (bo_report_parse, bo_report_parse_double) and the
 * many-file reader (bo_report_read_files, through one temporary file per input).
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBLOCKOPS_FUZZ=ON && \
 *   cmake --build build-fuzz --target fuzz_one_report && \
 *   ./build-fuzz/fuzz_one_report -max_total_time=60 corpus/ /path/to/one-reports
 *
 * Besides crashes and sanitizer reports it checks the parser's contract: spans stay inside the
 * input, keys are non-empty, and an error always carries a consistent location. A broken
 * contract aborts (__builtin_trap) so libFuzzer records the input. The file reader must give
 * exactly what bo_report_parse gives on the same bytes (a few syscalls per input: cheap next to
 * the sanitizers). */
#include "blockops/bo_report.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(c)             \
    do {                       \
        if (!(c))              \
            __builtin_trap();  \
    } while (0)

static char path[64];
static void remove_path(void) { unlink(path); }

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

    /* the same bytes through a file and bo_report_read_files (twice, so that the second file
     * reuses the thread buffer and the key table of the first) */
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/fuzz_one_report_%ld.txt", (long)getpid());
        atexit(remove_path);
    }
    FILE *f = fopen(path, "wb");
    if (f) {
        int written = fwrite(data, 1, size, f) == size;
        fclose(f);
        const char *paths[2] = {path, path};
        bo_report_batch b;
        bo_report_batch_init(&b);
        bo_report_read_opts opts = {1, 1 << 20, 2}; /* one task: the key fast path */
        bo_error berr;
        bo_error_clear(&berr);
        bo_status bst = bo_report_read_files(paths, 2, &opts, &b, &berr);
        if (written && size <= (1 << 20)) {
            REQUIRE(bst == BO_OK || bst == BO_ERR_NOMEM);
            if (bst == BO_OK) {
                REQUIRE(b.n_files == 2);
                for (size_t k = 0; k < 2; k++) {
                    size_t p0 = b.pair_start[k], p1 = b.pair_start[k + 1];
                    if (st == BO_OK) {
                        REQUIRE(b.n_errors == 0 && p1 - p0 == rep.n);
                        for (size_t i = 0; i < rep.n; i++) {
                            uint32_t id = b.key_id[p0 + i];
                            REQUIRE(id < b.n_keys);
                            size_t kl = b.key_start[id + 1] - b.key_start[id];
                            REQUIRE(kl == rep.keys[i].len);
                            REQUIRE(memcmp(b.key_text + b.key_start[id], s + rep.keys[i].off, kl) == 0);
                            REQUIRE(memcmp(&b.value[p0 + i], &rep.values[i], sizeof(double)) == 0);
                        }
                    } else if (st == BO_ERR_PARSE) {
                        REQUIRE(b.n_errors == 2 && p0 == p1 && b.errors[k].file == k);
                        REQUIRE(b.errors[k].status == BO_ERR_PARSE);
                        REQUIRE(b.errors[k].err.line == err.line && b.errors[k].err.column == err.column);
                        REQUIRE(b.errors[k].err.byte_offset == err.byte_offset);
                        REQUIRE(strcmp(b.errors[k].err.message, err.message) == 0);
                    }
                }
            }
        }
        bo_report_batch_free(&b);
    }
    bo_report_free(&rep);

    /* the number grammar on its own: the whole input as one token */
    double v;
    bo_error_clear(&err);
    st = bo_report_parse_double(s, size, &v, &err);
    REQUIRE(st == BO_OK || st == BO_ERR_PARSE || st == BO_ERR_NOMEM);
    return 0;
}
