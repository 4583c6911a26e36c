/* String columns: the helpers the converters share (missing-value match, unquoting, padded
 * rows) and the string column pass, compiled twice (internal): in convert.c for the x86-64
 * baseline (SSE2), and in convert_avx2.c with AVX2, where the pass also checks each value for
 * UTF-8 while it copies it (see below). The includer defines STR_PASS(name) (the pass's name
 * in this build) and STR_PASS_LINKAGE. Both builds write the same bytes, offsets and masks;
 * which values check_utf8_chunk then checks may differ, never its answer. */
#ifndef BO_CSV_CONVERT_STR_H
#define BO_CSV_CONVERT_STR_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "blockops/bo_common.h"
#include "blockops/bo_csv.h"
#include "convert_internal.h"
#if defined(__AVX2__)
#include "utf8_lookup_avx2.h"
#endif

static inline int na_match(const bo_csv_na *na, const char *s, size_t len)
{
    if (!na || !na->n)
        return 0;
    if (len < 64 ? !((na->len_mask >> len) & 1) : !na->has_long)
        return 0;
    if (len) {
        unsigned char b = (unsigned char)s[len - 1];
        if (!((na->last_byte[b >> 6] >> (b & 63)) & 1))
            return 0;
        b = (unsigned char)s[0];
        if (!((na->first_byte[b >> 6] >> (b & 63)) & 1))
            return 0;
    }
    for (int i = 0; i < na->n; i++) {
        if (na->lens[i] != len)
            continue;
        size_t k = 0; /* inline: the values are a few bytes, a memcmp call cost more */
        while (k < len && na->values[i][k] == s[k])
            k++;
        if (k == len)
            return 1;
    }
    return 0;
}

#define HIGH8 0x8080808080808080ULL

/* Whether s[0, n) is all ASCII: one OR over 8-byte words (the compiler vectorizes it), about
 * 16 bytes a cycle on data still in L1/L2, tested every 256 bytes: text that is not ASCII
 * (which the UTF-8 check reads next) usually shows it early. */
static inline int all_ascii(const char *s, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        for (size_t k = 0; k < 256; k += 8) {
            uint64_t w;
            memcpy(&w, s + i + k, sizeof w);
            acc |= w;
        }
        if (acc & HIGH8)
            return 0;
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof w);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i]; /* bit 7 of the low byte */
    return !(acc & HIGH8);
}

/* bo_csv_unquote's result (src starts with the quote), with memchr for the quotes and memcpy
 * for the runs between them instead of a test per byte: quoted text fields are long (reviews,
 * addresses) and hold few quotes. */
static inline size_t unquote_memchr(const char *src, size_t len, char quote, char *dst)
{
    const char *p = src + 1, *const e = src + len;
    char *o = dst;
    for (;;) {
        const char *q = memchr(p, quote, (size_t)(e - p));
        if (!q) /* unterminated: the rest is the value */
            q = e;
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        if (q == e)
            return (size_t)(o - dst);
        if (q + 1 < e && q[1] == quote) { /* a doubled quote is one */
            *o++ = quote;
            p = q + 2;
            continue;
        }
        p = q + 1; /* the closing quote: what follows it up to the delimiter is kept */
        memcpy(o, p, (size_t)(e - p));
        return (size_t)(o - dst) + (size_t)(e - p);
    }
}

/* The same, in one pass over the bytes: 16 bytes loaded, stored and compared with the quote at
 * a time, and ORed for the ASCII test (*maybe_high: 1 when a byte >= 0x80 may be in the value;
 * never cleared). A memchr and a memcpy call per run between quotes, then a second pass for the
 * ASCII test, cost more than the copy itself on the short quoted fields of real tables (names,
 * codes), and read every byte of the long ones twice. Loads may run past the field up to src_end
 * (the rest of the block) and stores past the value up to dst_end (the chunk's region: the next
 * value overwrites them); near either end, the memchr path takes the rest. Bytes loaded past the
 * field can only turn the ASCII answer into "maybe". */
static inline size_t unquote_into(const char *src, size_t len, char quote, char *dst,
                                  const char *dst_end, const char *src_lo, const char *src_end,
                                  int *maybe_high)
{
#if defined(__SSE2__)
    const char *p = src + 1, *const e = src + len;
    char *o = dst;
    const __m128i vq = _mm_set1_epi8(quote);
    __m128i acc = _mm_setzero_si128();
    const uintptr_t lo = (uintptr_t)src_lo, hi = (uintptr_t)src_end; /* integers: src may lie
                                                                        in the scratch buffer */
    if ((uintptr_t)src >= lo && (uintptr_t)src < hi) {
        while (p < e && hi - (uintptr_t)p >= 16 && dst_end - o >= 16) {
            const __m128i v = _mm_loadu_si128((const __m128i *)p);
            _mm_storeu_si128((__m128i *)o, v);
            acc = _mm_or_si128(acc, v);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vq));
            const size_t left = (size_t)(e - p);
            if (left < 16)
                m &= (1u << left) - 1;
            if (!m) {
                const size_t k = left < 16 ? left : 16;
                p += k;
                o += k;
                continue;
            }
            const unsigned i = (unsigned)__builtin_ctz(m);
            p += i; /* at the quote, which is stored at o + i already */
            o += i;
            if (p + 1 < e && p[1] == quote) { /* a doubled quote is one */
                o++;
                p += 2;
                continue;
            }
            /* the closing quote: what follows it up to the delimiter (nothing, in well-formed
             * input) is kept */
            p++;
            const size_t rest = (size_t)(e - p);
            if (rest) {
                memmove(o, p, rest);
                *maybe_high |= !all_ascii(p, rest);
            }
            *maybe_high |= _mm_movemask_epi8(acc) != 0;
            return (size_t)(o - dst) + rest;
        }
        *maybe_high |= _mm_movemask_epi8(acc) != 0;
        if (p >= e)
            return (size_t)(o - dst);
        /* near the end of the block or the region: the rest from p, still inside the quotes
         * (src[0, p - src) held no closing quote), as a field of its own */
        *maybe_high = 1;
        return (size_t)(o - dst) + unquote_memchr(p - 1, (size_t)(e - p) + 1, quote, o);
    }
#else
    (void)dst_end;
    (void)src_lo;
    (void)src_end;
#endif
    *maybe_high = 1;
    return unquote_memchr(src, len, quote, dst);
}

/* A short row that pad_short converts: fewer fields than the index has. */
static inline int padded_row(const bo_csv_index *ix, int64_t r, int pad)
{
    return pad && ix->flags[r] == BO_CSV_ROW_FIELDS && ix->counts[r] < ix->n_fields;
}

/* Field f of a padded row: [*a, *b), or 0 when the row has no field f (a missing value). The
 * tokenizer stores a short row's missing fields as empty at its end, so its last field found
 * ends at the row's end, not before the next (absent) field's start. */
static inline int padded_span(const bo_csv_index *ix, int64_t r, int f, uint32_t *a, uint32_t *b)
{
    const uint32_t *o = ix->offs + (size_t)r * (size_t)(ix->n_fields + 1);
    const int32_t cnt = ix->counts[r];
    if (f >= cnt) {
        *a = *b = o[ix->n_fields];
        return 0;
    }
    *a = o[f];
    *b = f + 1 < cnt ? o[f + 1] - 1 : o[ix->n_fields];
    return 1;
}

/* The text of buf[a, b): raw bytes, or unquoted into the scratch buffer. */
static inline int span_text(const char *buf, uint32_t a, uint32_t b, char quote, scratch_t *sc,
                            const char **s, size_t *len)
{
    const char *p = buf + a;
    size_t n = b - a;
    if (quote && n && *p == quote) {
        if (sc->cap < n) {
            char *nb = realloc(sc->buf, n);
            if (!nb) {
                sc->nomem = 1;
                return -1;
            }
            sc->buf = nb;
            sc->cap = n;
        }
        n = bo_csv_unquote(p, n, quote, sc->buf);
        p = sc->buf;
    }
    *s = p;
    *len = n;
    return 0;
}

/* Copy a string value s[0, len) to d and tell whether it may hold a byte >= 0x80 (1: maybe,
 * 0: certainly not). Values of up to 64 bytes are copied 16 bytes at a time when both sides
 * have room for the rounded-up length (the bytes past len in d are overwritten by the next
 * value or lie in the slack of the chunk's region; those past len in s are the rest of the row,
 * inside the block), and the ASCII test ORs the vectors it copied: a libc memcpy call per
 * value (~5 ns for these lengths) and a second pass over the bytes for the UTF-8 check cost
 * more than the value's conversion. The extra bytes can only make the answer "maybe". */
static inline int copy_str(char *d, const char *d_end, const char *s, size_t len,
                           const char *s_lo, const char *s_end)
{
#if defined(__SSE2__)
    const size_t up = (len + 15) & ~(size_t)15;
    const uintptr_t a = (uintptr_t)s; /* integers: s may point into another object */
    if (len <= 64 && a >= (uintptr_t)s_lo && (uintptr_t)s_end - a >= up &&
        (size_t)(d_end - d) >= up) {
        __m128i acc = _mm_setzero_si128();
        for (size_t o = 0; o < len; o += 16) {
            const __m128i v = _mm_loadu_si128((const __m128i *)(s + o));
            _mm_storeu_si128((__m128i *)(d + o), v);
            acc = _mm_or_si128(acc, v);
        }
        return _mm_movemask_epi8(acc) != 0;
    }
#endif
    memcpy(d, s, len);
    return !all_ascii(s, len);
}

#if defined(__AVX2__)
/* ---- the AVX2 build: the UTF-8 check in the copy ----
 *
 * Each value is copied 32 bytes at a time, and each 32-byte piece of its raw field is checked
 * for UTF-8 in the same loop (the lookup method, utf8_lookup_avx2.h), while it is in a
 * register: the baseline build copies, then reads the chunk's bytes again for the check
 * (check_utf8_chunk), which read every byte of a text column twice. The check of a quoted
 * field covers its raw bytes, quotes included; the value is those bytes less some quotes,
 * which are ASCII, so a well-formed field is a well-formed value. Anything the vector loops
 * do not take (near the end of the block or of the chunk's region, a value unquoted into the
 * scratch buffer, text after a closing quote) is checked as written, by the scalar checker.
 * A value found ill-formed (or, rarely, a field whose quotes split a character) makes the
 * pass return 1, and check_utf8_chunk then finds the values and reports them as before. */

/* bo_u8_low64 + 32 - k: 32 bytes whose first k (0..32) are 0xFF */
static const uint8_t bo_u8_low64[64] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

/* the first k bytes of v, the rest ASCII NULs (the last piece of a field) */
static inline __m256i u8_first(__m256i v, size_t k)
{
    const __m256i keep = _mm256_loadu_si256((const __m256i *)(const void *)(bo_u8_low64 + 32 - k));
    return _mm256_and_si256(v, keep);
}

/* The check of a value's next piece v, of which the first n (1..32) bytes are the value's (n < 32:
 * the last piece). A last piece of ASCII is not masked: short values are mostly one piece. */
static inline void u8_piece(bo_u8_state *u, __m256i v, size_t n)
{
    if (n < 32 && !((uint32_t)_mm256_movemask_epi8(v) & ((1u << n) - 1))) {
        u->err = _mm256_or_si256(u->err, u->inc); /* (no piece follows: prev not needed) */
        u->inc = _mm256_setzero_si256();
        return;
    }
    bo_u8_block(u, n < 32 ? u8_first(v, n) : v);
}

/* 1 when the first k (0..32) bytes of v, a whole value, are not well-formed: one piece, no
 * state (most values of names, codes and IDs) */
static inline int u8_one_bad(__m256i v, size_t k)
{
    const __m256i x = k < 32 ? u8_first(v, k) : v;
    const __m256i e = _mm256_or_si256(bo_u8_block_errors(x, _mm256_setzero_si256()),
                                      bo_u8_incomplete(x));
    return !_mm256_testz_si256(e, e);
}

/* 1 when the value d[0, len), written by a path that did not check it, is not UTF-8 (the
 * scalar checker skips ASCII a word at a time itself: no separate ASCII test first) */
static inline int u8_written_bad(const char *d, size_t len)
{
    return bo_utf8_check(d, len) >= 0;
}

/* copy_str with the check: 1 when the value is not well-formed UTF-8 */
static inline int copy_u8(char *d, const char *d_end, const char *s, size_t len,
                          const char *s_lo, const char *s_end)
{
    const size_t up = (len + 31) & ~(size_t)31;
    const uintptr_t a = (uintptr_t)s; /* integers: s may point into another object */
    if (a >= (uintptr_t)s_lo && (uintptr_t)s_end - a >= 32 && (size_t)(d_end - d) >= 32 &&
        len <= 32) { /* one piece: no loop, and no check for ASCII */
        const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)s);
        _mm256_storeu_si256((__m256i *)(void *)d, v);
        return ((uint32_t)_mm256_movemask_epi8(v) & _bzhi_u32(~0u, (unsigned)len)) &&
               u8_one_bad(v, len);
    }
    if (a >= (uintptr_t)s_lo && (uintptr_t)s_end - a >= up && (size_t)(d_end - d) >= up) {
        bo_u8_state u;
        bo_u8_init(&u);
        for (size_t o = 0; o < len; o += 32) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + o));
            _mm256_storeu_si256((__m256i *)(void *)(d + o), v);
            u8_piece(&u, v, len - o < 32 ? len - o : 32);
        }
        return !bo_u8_ok(&u);
    }
    memcpy(d, s, len);
    return u8_written_bad(d, len);
}

/* unquote_into with the check (*bad |= 1 when the value may not be UTF-8), 32 bytes at a time.
 * The field is read in consecutive 32-byte pieces (the check needs them in order): a piece is
 * stored whole, then, for each doubled quote's second (which the value drops), the rest of the
 * piece again one byte lower, from a reload; a pair split by the piece's end drops the next
 * piece's first byte; the closing quote ends the value. Needs 64 bytes of room past p in the
 * block and past o in the region; else, as near the end of either, the memchr path takes the
 * rest. */
static inline size_t unquote_u8(const char *src, size_t len, char quote, char *dst,
                                const char *dst_end, const char *src_lo, const char *src_end,
                                int *bad)
{
    const char *p = src + 1, *const e = src + len;
    char *o = dst;
    const uintptr_t lo = (uintptr_t)src_lo, hi = (uintptr_t)src_end; /* integers: src may lie
                                                                        in the scratch buffer */
    if ((uintptr_t)src >= lo && (uintptr_t)src < hi && len >= 2 && len <= 33 &&
        hi - (uintptr_t)p >= 32 && dst_end - o >= 32) {
        /* one piece whose only quote is the closing one, at its end: most short values */
        const size_t n = len - 1;
        const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
        const uint32_t m =
            (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(quote)));
        if ((m & _bzhi_u32(~0u, (unsigned)n)) == 1u << (n - 1)) {
            _mm256_storeu_si256((__m256i *)(void *)o, v);
            *bad |= ((uint32_t)_mm256_movemask_epi8(v) & _bzhi_u32(~0u, (unsigned)n - 1)) &&
                    u8_one_bad(v, n - 1);
            return n - 1;
        }
    }
    if ((uintptr_t)src >= lo && (uintptr_t)src < hi) {
        const __m256i vq = _mm256_set1_epi8(quote);
        bo_u8_state u;
        bo_u8_init(&u);
        uint32_t drop0 = 0; /* the next piece's first byte is a doubled quote's second */
        /* the room tests as one bound on p: the value is never longer than the raw bytes
         * read (o - dst < p - src) */
        const uintptr_t out = (uintptr_t)(dst_end - dst), room = out < 64 ? 0 : out - 64;
        const uintptr_t lim_in = hi - 64 < (uintptr_t)src + room ? hi - 64 : (uintptr_t)src + room;
        while (p < e && (uintptr_t)p <= lim_in) {
            const size_t left = (size_t)(e - p), n = left < 32 ? left : 32;
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
            _mm256_storeu_si256((__m256i *)(void *)o, v);
            u8_piece(&u, v, n);
            uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, vq));
            if (n < 32)
                m &= (1u << n) - 1;
            if (!(m | drop0)) { /* no quote: most pieces of a long value */
                o += n;
                p += n;
                continue;
            }
            if (m == 1u << (n - 1) && !drop0 && n == left) { /* only the closing quote, at the
                                                                field's end: most last pieces */
                o += n - 1;
                p = e;
                break;
            }
            uint32_t drops = drop0;
            m &= ~drop0;
            drop0 = 0;
            size_t used = n;
            int closed = 0;
            while (m) { /* each quote left starts a doubled pair or closes the field */
                const unsigned i = (unsigned)__builtin_ctz(m);
                m &= m - 1;
                const uint32_t next = 2u << i; /* 0 for i = 31 */
                if (m & next) {
                    drops |= next;
                    m &= ~next;
                    continue;
                }
                if (i == 31 && left > 32 && p[32] == quote) {
                    drop0 = 1;
                    continue;
                }
                used = i; /* the closing quote: the value ends before it */
                closed = 1;
                break;
            }
            unsigned k = 0;
            for (uint32_t dm = drops; dm; dm &= dm - 1) {
                const unsigned at = (unsigned)__builtin_ctz(dm);
                k++;
                const __m256i tail =
                    _mm256_loadu_si256((const __m256i *)(const void *)(p + at + 1));
                _mm256_storeu_si256((__m256i *)(void *)(o + at + 1 - k), tail);
            }
            o += used - k;
            p += used + (size_t)closed;
            if (closed) {
                if (p < e) { /* text after the closing quote (not well-formed CSV): kept */
                    memmove(o, p, (size_t)(e - p));
                    o += e - p;
                    *bad |= u8_written_bad(dst, (size_t)(o - dst));
                    return (size_t)(o - dst);
                }
                break;
            }
        }
        if (p >= e) {
            *bad |= !bo_u8_ok(&u);
            return (size_t)(o - dst);
        }
        /* near the end of the block or the region: the rest from p, still inside the quotes,
         * as a field of its own */
        p += drop0;
        const size_t total =
            (size_t)(o - dst) + unquote_memchr(p - 1, (size_t)(e - p) + 1, quote, o);
        *bad |= u8_written_bad(dst, total);
        return total;
    }
    const size_t total = unquote_memchr(src, len, quote, dst);
    *bad |= u8_written_bad(dst, total);
    return total;
}
#define STR_UNQUOTE unquote_u8
#define STR_COPY copy_u8
#else
#define STR_UNQUOTE unquote_into
#define STR_COPY copy_str
#endif

/* Rows [p0, p1) of the string column c (st: their states from p0): each value's bytes to
 * *cur (advanced past them; end: the region's end), its end to offsets[r + 1] (relative to
 * data: the thread's run, see bo_csv_convert), its missing flag to the mask (see
 * convert_chunk). Out of line and with everything it reads more than
 * once in locals, as fast_num_pass: through c and cur, every byte stored into the column made
 * the compiler load the column's pointers again, row after row. Returns 1 when the rows'
 * values still need the UTF-8 check (check_utf8_chunk), 0 when not, -1 when out of memory. */
STR_PASS_LINKAGE __attribute__((noinline)) int STR_PASS(str_pass)(
    const char *buf, const char *buf_end, const bo_csv_index *ix, const bo_csv_col *c,
    const uint8_t *st, int64_t p0, int64_t p1, char quote, char **cur, char *end,
    int64_t *const offsets, const char *const data, scratch_t *sc)
{
    const size_t stride = (size_t)ix->n_fields + 1;
    const int f = c->field;
    /* the field's end: the next field's start - 1, or the row's end for the last */
    const uint32_t e_adj = f + 1 < ix->n_fields;
    const uint32_t *o = ix->offs + (size_t)p0 * stride + f;
    const bo_csv_na *const nav = c->na;
    uint8_t *const mask = c->mask;
    char *d = *cur;
    int check = 0;
    for (int64_t r = p0; r < p1; r++, o += stride) {
        const int rs = st[r - p0];
        const char *s;
        size_t len;
        int na;
        if (rs == ROW_SKIP) {
            mask[r] = 1;
            offsets[r + 1] = d - data;
            continue;
        }
        if (rs == ROW_CONVERT) {
            const uint32_t a = o[0], b = o[1] - e_adj;
            if (quote && b > a && buf[a] == quote) {
                /* unquoted straight into the column (the region has room for the raw bytes),
                 * not through the scratch buffer and a copy */
                int chk = 0;
                len = STR_UNQUOTE(buf + a, b - a, quote, d, end, buf, buf_end, &chk);
                na = na_match(nav, d, len);
                mask[r] = (uint8_t)na;
                if (!na) {
                    d += len;
                    check |= chk;
                }
                offsets[r + 1] = d - data;
                continue;
            }
            s = buf + a;
            len = b - a;
            na = na_match(nav, s, len);
        } else {
            uint32_t a, b;
            const int present = padded_span(ix, r, f, &a, &b);
            if (span_text(buf, a, b, quote, sc, &s, &len) < 0) {
                *cur = d;
                return -1;
            }
            na = !present || na_match(nav, s, len);
        }
        mask[r] = (uint8_t)na;
        if (na)
            len = 0;
        /* s is in the block, or in the scratch buffer when the value was quoted (outside
         * [buf, buf_end): the copy's bounds test sends it to memcpy) */
        check |= STR_COPY(d, end, s, len, buf, buf_end);
        d += len;
        offsets[r + 1] = d - data;
    }
    *cur = d;
    return check;
}

#undef STR_UNQUOTE
#undef STR_COPY
#endif
