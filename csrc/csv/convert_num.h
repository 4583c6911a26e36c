/* The loops of the int64, float64, float32 and ISO 8601 datetime columns that the fast parsers
 * take (internal).
 *
 * Compiled twice: in convert.c for the x86-64 baseline (SSE2) and in convert_avx2.c with AVX2,
 * BMI1/2 and POPCNT, where the same intrinsics become three-operand VEX instructions (no
 * register copies), the first digit-combining step one pmaddubsw and the variable shifts
 * shlx/shrx. The includer defines NUM_PASS(name) (the function's name in this build) and
 * NUM_PASS_LINKAGE; the builds give the same bits (each parser's comment says why; test_csv
 * and the Python tests compare the levels). */
#include "convert_internal.h"
#include "numparse_fast.h"

#if defined(__SSE2__)
/* A float field of the shapes the fast parsers take: a decimal (bo_float_field_fast) or an
 * integer of up to 16 digits, whose int64 -> double conversion rounds to nearest as the
 * general parser does ("-0" is -0.0). 0 when parsed, else the general path decides. The two
 * shapes are disjoint (a dot or none), so the order of the tests changes no value; *int_first
 * tries the one that took the previous field first: a float column of integers (ints with
 * missing values, inferred as float64 as pandas does) failed the decimal test on every field,
 * which costs as much as a parse. */
static inline int float_fast(const char *lo, const char *s, size_t len, double *v, int *int_first)
{
    int64_t iv;
    if (!*int_first) {
        if (!bo_float_field_fast(lo, s, len, v))
            return 0;
        if (bo_int_field_fast(lo, s, len, &iv))
            return 1;
        *int_first = 1;
    } else if (bo_int_field_fast(lo, s, len, &iv)) {
        if (bo_float_field_fast(lo, s, len, v))
            return 1;
        *int_first = 0;
        return 0;
    }
    *v = iv == 0 && s[0] == '-' ? -0.0 : (double)iv;
    return 0;
}

/* Rows [p0, p1) of the int64, float64, float32 or ISO datetime column c (type: a constant in
 * each build of it below) whose fields the fast parsers may take without the missing-value match (fast[] of
 * convert_chunk); st: the rows' states from p0 (NULL: every row is ROW_CONVERT); x: what the
 * general path needs for the other fields. Everything the loop reads more than once is in a
 * local: through c and ix, every store into the column (a uint8_t mask may alias anything)
 * made the compiler load the field number, the type, the output pointers and the stride
 * again, row after row; and the general path's arguments, one by one, kept the loop's own
 * values on the stack. Returns -1 when out of memory, else 0. */
static inline __attribute__((always_inline)) int
fast_num_pass(const char *buf, const bo_csv_index *ix, const bo_csv_col *c, const uint8_t *st,
              int64_t p0, int64_t p1, const bo_csv_type type, const struct bo_csv_slow *x)
{
    const size_t stride = (size_t)ix->n_fields + 1;
    /* field f ends one byte before field f + 1 starts, the last field where the row ends
     * (offs[n_fields], the next slot too) */
    const uint32_t e_adj = c->field + 1 < ix->n_fields;
    const uint32_t *o = ix->offs + (size_t)p0 * stride + c->field;
    void *const out = c->out;
    uint8_t *const mask = c->mask;
    int int_first = 0;
    for (int64_t r = p0; r < p1; r++, o += stride) {
        /* (st is NULL, known before the loop, in most chunks: the compiler makes two loops) */
        const int rs = st ? st[r - p0] : ROW_CONVERT;
        if (__builtin_expect(rs == ROW_CONVERT, 1)) {
            const uint32_t a = o[0];
            const char *const s = buf + a;
            const size_t len = o[1] - e_adj - a;
            int ok;
            if (type == BO_CSV_DATETIME_ISO) {
                int64_t v;
                if ((ok = !bo_iso_fast(s, len, &v)))
                    ((int64_t *)out)[r] = v;
            } else if (type == BO_CSV_INT64) {
                int64_t v;
                if ((ok = !bo_int_field_fast(buf, s, len, &v)))
                    ((int64_t *)out)[r] = v;
            } else {
                double v;
                if ((ok = !float_fast(buf, s, len, &v, &int_first))) {
                    if (type == BO_CSV_FLOAT32)
                        ((float *)out)[r] = (float)v;
                    else
                        ((double *)out)[r] = v;
                }
            }
            if (ok) {
                if (mask)
                    mask[r] = 0;
                continue;
            }
        }
        if (rs != ROW_SKIP && bo_csv_convert_slow(x, r, rs == ROW_PADDED) < 0)
            return -1;
    }
    return 0;
}

/* One function per type, the type a constant, out of line: inlined into convert_chunk (many
 * values live across its loops) the loop kept its locals on the stack. */
#define FAST_NUM_PASS(name, type)                                                              \
    NUM_PASS_LINKAGE __attribute__((noinline)) int NUM_PASS(name)(                            \
        const char *buf, const bo_csv_index *ix, const bo_csv_col *c, const uint8_t *st,       \
        int64_t p0, int64_t p1, const struct bo_csv_slow *x)                                   \
    {                                                                                         \
        return fast_num_pass(buf, ix, c, st, p0, p1, type, x);                                 \
    }
FAST_NUM_PASS(pass_int64, BO_CSV_INT64)
FAST_NUM_PASS(pass_float64, BO_CSV_FLOAT64)
FAST_NUM_PASS(pass_float32, BO_CSV_FLOAT32)
FAST_NUM_PASS(pass_datetime_iso, BO_CSV_DATETIME_ISO)
#undef FAST_NUM_PASS
#endif
