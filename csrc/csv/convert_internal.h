/* What convert.c shares with the builds of its numeric column loops (convert_num.h). */
#ifndef BO_CSV_CONVERT_INTERNAL_H
#define BO_CSV_CONVERT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "blockops/bo_csv.h"

#if defined(__GNUC__)
#define BO_CSV_HIDDEN __attribute__((visibility("hidden")))
#else
#define BO_CSV_HIDDEN
#endif

/* Per-thread scratch for unquoting. */
typedef struct {
    char *buf;
    size_t cap;
    int nomem;
} scratch_t;

/* Row states of a chunk (convert_chunk) */
enum { ROW_CONVERT = 0, ROW_PADDED = 1, ROW_SKIP = 2 };

/* The general path's context for one column of one chunk (convert.c) */
struct bo_csv_slow;

/* Field x's column of row r the general way (unquoting, missing-value strings, every
 * spelling); padded: a short row that pad_short converts. -1 when out of memory, else 0. */
BO_CSV_HIDDEN int bo_csv_convert_slow(const struct bo_csv_slow *x, int64_t r, int padded);

/* A numeric column pass (convert_num.h), as convert_chunk calls it */
typedef int (*bo_csv_num_pass_fn)(const char *buf, const bo_csv_index *ix, const bo_csv_col *c,
                                  const uint8_t *st, int64_t p0, int64_t p1,
                                  const struct bo_csv_slow *x);
#if defined(BO_HAVE_AVX2)
BO_CSV_HIDDEN int pass_int64_avx2(const char *, const bo_csv_index *, const bo_csv_col *,
                                  const uint8_t *, int64_t, int64_t, const struct bo_csv_slow *);
BO_CSV_HIDDEN int pass_float64_avx2(const char *, const bo_csv_index *, const bo_csv_col *,
                                    const uint8_t *, int64_t, int64_t,
                                    const struct bo_csv_slow *);
BO_CSV_HIDDEN int pass_float32_avx2(const char *, const bo_csv_index *, const bo_csv_col *,
                                    const uint8_t *, int64_t, int64_t,
                                    const struct bo_csv_slow *);
BO_CSV_HIDDEN int pass_datetime_iso_avx2(const char *, const bo_csv_index *,
                                         const bo_csv_col *, const uint8_t *, int64_t, int64_t,
                                         const struct bo_csv_slow *);
BO_CSV_HIDDEN int str_pass_avx2(const char *buf, const char *buf_end, const bo_csv_index *ix,
                              const bo_csv_col *c, const uint8_t *st, int64_t p0, int64_t p1,
                              char quote, char **cur, char *end, int64_t *offsets,
                              const char *data, scratch_t *sc);
#endif
#if defined(BO_HAVE_CONV_AVX512)
BO_CSV_HIDDEN int pass_int64_avx512(const char *, const bo_csv_index *, const bo_csv_col *,
                                    const uint8_t *, int64_t, int64_t,
                                    const struct bo_csv_slow *);
/* The int64 or float64 columns of long rows, row by row (convert_num.h's rows_pass), or of
 * a chunk of numbers only, eight rows at a time across the columns (its cols_pass) */
typedef int (*bo_csv_rows_fn)(const char *buf, const bo_csv_index *ix, int n, const uint32_t *f,
                              const uint32_t *ea, void *const *outs, uint8_t *const *masks,
                              const struct bo_csv_slow *const *xs, uint8_t *mode,
                              const uint8_t *st, int64_t p0, int64_t p1);
#define BO_CSV_ROWS_FN_DECL(name)                                                              \
    BO_CSV_HIDDEN int name(const char *, const bo_csv_index *, int, const uint32_t *,          \
                           const uint32_t *, void *const *, uint8_t *const *,                  \
                           const struct bo_csv_slow *const *, uint8_t *, const uint8_t *,      \
                           int64_t, int64_t);
BO_CSV_ROWS_FN_DECL(rows_int64_avx512)
BO_CSV_ROWS_FN_DECL(rows_float64_avx512)
BO_CSV_ROWS_FN_DECL(cols_int64_avx512)
BO_CSV_ROWS_FN_DECL(cols_float64_avx512)
#undef BO_CSV_ROWS_FN_DECL
BO_CSV_HIDDEN int pass_float64_avx512(const char *, const bo_csv_index *, const bo_csv_col *,
                                      const uint8_t *, int64_t, int64_t,
                                      const struct bo_csv_slow *);
#endif
#endif
