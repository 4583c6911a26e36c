/* libFuzzer target for the CSV chunker + tokenizer + converters.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DBLOCKOPS_FUZZ=ON && \
 *   cmake --build build-fuzz --target fuzz_csv && \
 *   ./build-fuzz/fuzz_csv -max_total_time=60 csrc/fuzz/corpus/csv
 *
 * The first input byte picks options (thread count, a split point for carrying a tail into a
 * second buffer, the number of fields); the rest is the CSV. Besides sanitizer reports it
 * checks the contracts the Python reader relies on:
 *   - offsets are inside the buffer and ordered, consumed <= size;
 *   - the parallel split gives exactly the sequential index;
 *   - tokenizing in two pieces (the reader's carry-over) gives the same rows as one piece;
 *   - the split scanner counts the same rows as the tokenizer;
 *   - every converter runs on every field without reading outside it;
 *   - the AVX2 UTF-8 check (when the CPU has it) answers as the scalar one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockops/bo_csv.h"

#define REQUIRE(c)            \
    do {                      \
        if (!(c))             \
            __builtin_trap(); \
    } while (0)

/* the tokenizer's line count, when it gives one, is bo_csv_count_lines of what it consumed */
static void check_lines(const bo_csv_index *ix, const char *buf)
{
    REQUIRE(ix->n_lines < 0 || ix->n_lines == bo_csv_count_lines(buf, ix->consumed));
}

static void check_index(const bo_csv_index *ix, size_t n)
{
    REQUIRE(ix->consumed <= n);
    size_t stride = (size_t)ix->n_fields + 1;
    uint32_t prev = 0;
    for (int64_t r = 0; r < ix->n_rows; r++) {
        const uint32_t *o = ix->offs + (size_t)r * stride;
        REQUIRE(o[0] >= prev && o[0] <= n && o[ix->n_fields] <= n);
        if (ix->flags[r] != BO_CSV_ROW_OK) { /* field spans of a flagged row are not used */
            prev = o[ix->n_fields];
            continue;
        }
        for (int f = 0; f < ix->n_fields; f++) {
            REQUIRE(bo_csv_field_start(ix, r, f) <= bo_csv_field_end(ix, r, f));
            REQUIRE(bo_csv_field_end(ix, r, f) <= n);
        }
        prev = o[ix->n_fields];
    }
}

static int same_index(const bo_csv_index *a, const bo_csv_index *b)
{
    if (a->n_rows != b->n_rows || a->n_fields != b->n_fields || a->consumed != b->consumed)
        return 0;
    size_t k = (size_t)a->n_rows * ((size_t)a->n_fields + 1);
    return (!k || !memcmp(a->offs, b->offs, k * sizeof *a->offs)) &&
           (!a->n_rows || !memcmp(a->flags, b->flags, (size_t)a->n_rows));
}

static void convert_all(const char *s, const bo_csv_index *ix)
{
    if (ix->n_rows == 0 || ix->n_fields > 64)
        return;
    static const char *const nav[] = {"", "NA", "nan"};
    static const size_t nal[] = {0, 2, 3};
    bo_csv_na na;
    bo_csv_na_init(&na, nav, nal, 3);
    bo_csv_dtfmt fmt;
    bo_error err;
    if (bo_csv_dtfmt_compile("%m/%d/%Y %I:%M:%S %p", &fmt, &err) != BO_OK)
        __builtin_trap();
    size_t n = (size_t)ix->n_rows;
    void *out = malloc(n * 8), *out2 = malloc(n * 8);
    uint8_t *mask = malloc(n), *bad = malloc(n);
    if (!out || !out2 || !mask || !bad)
        goto done;
    for (int f = 0; f < ix->n_fields; f++) {
        for (int t = 0; t < BO_CSV_NTYPES; t++) {
            bo_csv_col c = {.field = f, .type = (bo_csv_type)t, .nullable = 1, .na = &na,
                            .fmt = &fmt, .out = out, .out2 = out2, .mask = mask};
            /* pad short rows or not */
            bo_csv_conv_opts co = {'"', 1 + (f & 1), (t + f) & 1, 0, NULL};
            memset(bad, 0, n);
            bo_status st = bo_csv_convert(s, ix, &c, 1, &co, bad, &err);
            REQUIRE(st == BO_OK || st == BO_ERR_PARSE || st == BO_ERR_NOMEM);
            if (st == BO_ERR_PARSE)
                REQUIRE(err.index >= 0 && err.index < ix->n_rows && bad[err.index]);
            if ((t == BO_CSV_INT64 || t == BO_CSV_FLOAT64 || t == BO_CSV_FLOAT32 ||
                 t == BO_CSV_DATETIME_ISO) &&
                st != BO_ERR_NOMEM)
              for (int lv = BO_SIMD_AVX2; lv < BO_SIMD_NLEVELS; lv++) {
                if (!bo_simd_compiled((bo_simd_level)lv) ||
                    !bo_simd_cpu_supports((bo_simd_level)lv))
                    continue;
                /* the AVX2 and AVX-512 builds of the numeric column loops: the same values,
                 * missing flags, bad rows and first error as the baseline build (rows
                 * converted: every unflagged row; flagged rows' outputs are not written) */
                void *out_b = malloc(n * 8);
                uint8_t *mask_b = malloc(n), *bad_b = calloc(n, 1);
                if (out_b && mask_b && bad_b) {
                    /* (not a copy of out: a row the build forgot would still match) */
                    memset(out_b, 0xA5, n * 8);
                    memset(mask_b, 0xA5, n);
                    bo_csv_col cb = c;
                    cb.out = out_b;
                    cb.mask = mask_b;
                    bo_csv_conv_opts cob = co;
                    cob.simd = lv;
                    bo_error err_b;
                    const bo_status st_b = bo_csv_convert(s, ix, &cb, 1, &cob, bad_b, &err_b);
                    REQUIRE(st_b == st || st_b == BO_ERR_NOMEM);
                    if (st_b == st) {
                        REQUIRE(!memcmp(bad, bad_b, n));
                        REQUIRE(st != BO_ERR_PARSE || err_b.index == err.index);
                        const size_t w = t == BO_CSV_FLOAT32 ? 4 : 8;
                        for (size_t r = 0; r < n; r++)
                            if (!bad[r])
                                REQUIRE(!memcmp((char *)out + r * w, (char *)out_b + r * w, w) &&
                                        mask[r] == mask_b[r]);
                    }
                }
                free(out_b);
                free(mask_b);
                free(bad_b);
            }
            if (t == BO_CSV_STR && st != BO_ERR_NOMEM) {
                /* runs in row order, each with offsets from 0, rising, inside str_bytes; and
                 * the same values as one thread converts (one run) */
                const int R = c.n_str_runs;
                REQUIRE(R >= 1 && R <= co.n_threads && c.str_runs[0] == 0);
                for (int j = 0; j < R; j++) {
                    const int64_t r0 = c.str_runs[2 * j];
                    const int64_t r1 = j + 1 < R ? c.str_runs[2 * j + 2] : (int64_t)n;
                    REQUIRE(r1 > r0);
                    const int64_t *o = c.str_offsets + r0 + j;
                    REQUIRE(o[0] == 0);
                    for (int64_t r = 0; r < r1 - r0; r++)
                        REQUIRE(o[r + 1] >= o[r]);
                    REQUIRE((size_t)(c.str_runs[2 * j + 1] + o[r1 - r0]) <= c.str_bytes);
                }
                if (R > 1) {
                    bo_csv_col c1 = c;
                    uint8_t *mask1 = malloc(n), *bad1 = calloc(n, 1);
                    bo_csv_conv_opts co1 = co;
                    co1.n_threads = 1;
                    c1.mask = mask1;
                    c1.str_offsets = NULL;
                    c1.str_data = NULL;
                    c1.str_runs = NULL;
                    if (mask1 && bad1 && bo_csv_convert(s, ix, &c1, 1, &co1, bad1, &err) == st) {
                        REQUIRE(c1.n_str_runs == 1 && !memcmp(bad, bad1, n));
                        for (size_t r = 0; r < n; r++) {
                            size_t la, lb;
                            const char *va = bo_csv_str_value(&c, (int64_t)r, &la);
                            const char *vb = bo_csv_str_value(&c1, (int64_t)r, &lb);
                            REQUIRE(mask[r] == mask1[r] && la == lb && !memcmp(va, vb, la));
                        }
                    }
                    bo_csv_str_free(&c1, NULL);
                    free(mask1);
                    free(bad1);
                }
            }
            bo_csv_str_free(&c, NULL);
        }
        int has_na;
        bo_csv_type it = bo_csv_infer(s, ix, f, '"', &na, 0, &has_na);
        REQUIRE(it == BO_CSV_INT64 || it == BO_CSV_UINT64 || it == BO_CSV_BIGINT ||
                it == BO_CSV_FLOAT64 || it == BO_CSV_BOOL || it == BO_CSV_STR);
        /* every field at once, rows cut over 1 and 3 threads, the number shapes told without
         * the parsers: bo_csv_infer's answer (the reference) for each field */
        for (int T = 1; T <= 3; T += 2) {
            int fields[2] = {f, f}, hn[2];
            const bo_csv_na *nas[2] = {&na, &na};
            bo_csv_type ts[2];
            bo_csv_infer_fields(1, &s, &ix, 2, fields, '"', nas, 0, T, ts, hn);
            REQUIRE(ts[0] == it && hn[0] == has_na && ts[1] == it && hn[1] == has_na);
        }
    }
done:
    free(out);
    free(out2);
    free(mask);
    free(bad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t ctl = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    bo_error err;
    bo_csv_tok_opts o = {',', '"', 0, 1, 0, 1 << 16, 1, 0, 0};

    /* the vector UTF-8 check (when built and the CPU has it) agrees with the scalar one */
    if (bo_simd_compiled(BO_SIMD_AVX2) && bo_simd_cpu_supports(BO_SIMD_AVX2))
        REQUIRE(bo_utf8_check_level(s, n, BO_SIMD_AVX2) == bo_utf8_check(s, n));

    bo_csv_index seq;
    bo_status st = bo_csv_tokenize(s, n, &o, &seq, &err);
    REQUIRE(st == BO_OK || st == BO_ERR_LIMIT);
    if (st != BO_OK)
        return 0;
    check_index(&seq, n);
    check_lines(&seq, s);
    REQUIRE(seq.consumed == n || seq.n_rows == 0); /* final: everything is consumed */
    int nf = seq.n_fields;

    /* the structural scan gives the byte-at-a-time path's index */
    bo_csv_tok_opts ob = o;
    ob.byte_path_only = 1;
    bo_csv_index byte;
    REQUIRE(bo_csv_tokenize(s, n, &ob, &byte, &err) == BO_OK);
    REQUIRE(same_index(&seq, &byte));
    bo_csv_index_free(&byte);
    /* and so does every other build of the scan this CPU has (seq is the SSE2 one) */
    for (int lv = 1; lv < BO_SIMD_NLEVELS; lv++) {
        if (!bo_simd_compiled((bo_simd_level)lv) || !bo_simd_cpu_supports((bo_simd_level)lv))
            continue;
        bo_csv_tok_opts ov = o;
        ov.simd = lv;
        bo_csv_index vx;
        REQUIRE(bo_csv_tokenize(s, n, &ov, &vx, &err) == BO_OK);
        REQUIRE(same_index(&seq, &vx));
        REQUIRE(vx.n_lines == seq.n_lines);
        bo_csv_index_free(&vx);
    }

    /* parallel split (forced small by the fuzzer's inputs: the split needs 1 MiB per thread,
     * so this mostly checks the fallback; the C unit tests cover large inputs) */
    bo_csv_tok_opts op = o;
    op.n_fields = nf;
    op.n_threads = 1 + (ctl & 3);
    bo_csv_index par;
    if (nf > 0 && bo_csv_tokenize(s, n, &op, &par, &err) == BO_OK) {
        REQUIRE(same_index(&seq, &par));
        check_lines(&par, s);
        bo_csv_index_free(&par);
    }

    /* two pieces: the first not final, its unconsumed tail carried into the second */
    if (nf > 0) {
        size_t cut = n ? (size_t)(ctl >> 2) * n / 63 : 0;
        if (cut > n)
            cut = n;
        bo_csv_tok_opts o1 = o;
        o1.n_fields = nf;
        o1.final = 0;
        bo_csv_index a, b;
        if (bo_csv_tokenize(s, cut, &o1, &a, &err) == BO_OK) {
            check_index(&a, cut);
            check_lines(&a, s);
            o1.final = 1;
            if (bo_csv_tokenize(s + a.consumed, n - a.consumed, &o1, &b, &err) == BO_OK) {
                REQUIRE(a.n_rows + b.n_rows == seq.n_rows);
                check_lines(&b, s + a.consumed);
                for (int64_t r = 0; r < b.n_rows; r++)
                    REQUIRE(bo_csv_row_start(&b, r) + a.consumed ==
                            bo_csv_row_start(&seq, a.n_rows + r));
                bo_csv_index_free(&b);
            }
            bo_csv_index_free(&a);
        }
    }

    /* split scanner agrees on the row count; its 64-byte path with its byte reference on
     * every target and the whole state */
    bo_csv_scan sc, sr;
    bo_csv_scan_init(&sc, ',', '"');
    bo_csv_scan_init(&sr, ',', '"');
    uint64_t targets[3] = {n / 5, n / 2, n - n / 7};
    int64_t found[3] = {-1, -1, -1}, before[3] = {0}, lines[3] = {0};
    int64_t found_r[3] = {-1, -1, -1}, before_r[3] = {0}, lines_r[3] = {0};
    bo_csv_scan_feed(&sc, s, n / 3, targets, found, before, lines, 3);
    bo_csv_scan_feed(&sc, s + n / 3, n - n / 3, targets, found, before, lines, 3);
    bo_csv_scan_feed_ref(&sr, s, n / 3, targets, found_r, before_r, lines_r, 3);
    bo_csv_scan_feed_ref(&sr, s + n / 3, n - n / 3, targets, found_r, before_r, lines_r, 3);
    REQUIRE(bo_csv_scan_finish(&sc) == seq.n_rows);
    REQUIRE(sc.rows == sr.rows && sc.lines == sr.lines && sc.in_quote == sr.in_quote &&
            sc.at_row_start == sr.at_row_start && sc.row_has_data == sr.row_has_data &&
            sc.field_start == sr.field_start && sc.prev_cr == sr.prev_cr &&
            sc.row_begin == sr.row_begin);
    for (int i = 0; i < 3; i++)
        REQUIRE(found[i] == found_r[i] && before[i] == before_r[i] && lines[i] == lines_r[i]);

    convert_all(s, &seq);
    bo_csv_index_free(&seq);
    return 0;
}
