/* Internal to the CSV tokenizer: the row buffer, and the structural scan that tokenize.c and
 * its AVX2 and AVX-512 builds (tokenize_avx2.c, tokenize_avx512.c) share (scan_rows.h). */
#ifndef BO_CSV_TOKENIZE_INTERNAL_H
#define BO_CSV_TOKENIZE_INTERNAL_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blockops/bo_csv.h"

typedef struct rowbuf {
    bo_pool *pool; /* offs comes from it (bo_pool_alloc, NULL: malloc'ed through it) */
    uint32_t *offs;
    uint8_t *flags;
    int32_t *counts;
    int64_t n, cap;
    int64_t n_bad;
    /* line breaks in the bytes these rows cover (the reader's line numbers): each row the
     * structural scan ends is one (a CRLF once), a blank LF line one more; lines_unknown when
     * a row went through tok_row or a line break lay inside quotes, where the caller counts
     * them itself (bo_csv_count_lines) */
    int64_t lines;
    int lines_unknown;
} rowbuf;

static inline void rowbuf_free(rowbuf *b)
{
    bo_pool_free(b->pool, b->offs);
    free(b->flags);
    free(b->counts);
    memset(b, 0, sizeof *b);
}

#if defined(__GNUC__)
__attribute__((visibility("hidden")))
#endif
int bo_csv_rowbuf_grow(rowbuf *b, int64_t want, int nf);

/* Offsets allocated past the last row's slots: the scan's field writes, 8 or 16 at a time,
 * may run 15 past the row (scan_rows.h). */
#define ROWBUF_SLACK 16

/* Room for want rows of nf fields: 0, or -1 when out of memory. */
static inline int rowbuf_reserve(rowbuf *b, int64_t want, int nf)
{
    return want <= b->cap ? 0 : bo_csv_rowbuf_grow(b, want, nf);
}

/* Bitmasks of one 64-byte window (bit i = byte i): the delimiters, the line breaks (LF and CR)
 * and the quote characters; past the end of the buffer the bytes read as NULs (never
 * structural). */
typedef struct {
    uint64_t delim, brk, quote;
} tok_masks;

/* The 64 bytes of a window from p: p itself, or, within 64 bytes of the end, its bytes copied
 * into pad followed by NULs (never structural), so that no load reads past the buffer. */
static inline const char *window_bytes(const char *p, const char *end, char pad[64])
{
    if (end - p >= 64)
        return p;
    memset(pad, 0, 64);
    memcpy(pad, p, (size_t)(end - p));
    return pad;
}

/* Bit i: the parity of the bits 0..i of x (a prefix XOR: the quote state after byte i). */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/* The lines the line breaks at bits of qbrk (inside quotes) of the window at w add: a CR and a
 * lone LF one each, the LF of a CRLF none (as bo_csv_count_lines counts). Bit i is byte w + i,
 * and a byte inside quotes has the opening quote before it, so buf[w + i - 1] exists. */
static inline int64_t quoted_lines(const char *buf, size_t w, uint64_t qbrk)
{
    int64_t k = 0;
    for (; qbrk; qbrk &= qbrk - 1) {
        const size_t at = w + (size_t)__builtin_ctzll(qbrk);
        k += buf[at] == '\r' || buf[at - 1] != '\r';
    }
    return k;
}

/* The structural scan of scan_rows.h, one build per instruction set: rows from p (see there).
 * The AVX2 and AVX-512 builds differ from the SSE2 one in how a window's masks are made and in
 * how a row's fields are stored (groups from a POPCNT; 16 at a time from a byte compress), and
 * are called only on CPUs that have what they use (tok_range, from bo_csv_tok_opts.simd). */
typedef size_t (*bo_csv_scan_rows_fn)(const char *buf, size_t p, size_t stop, size_t n,
                                      const bo_csv_tok_opts *o, int nf, int64_t max_rows,
                                      rowbuf *rb, int *need_row);
#if defined(__GNUC__)
#define BO_CSV_HIDDEN __attribute__((visibility("hidden")))
#else
#define BO_CSV_HIDDEN
#endif
BO_CSV_HIDDEN size_t bo_csv_scan_rows_avx2(const char *buf, size_t p, size_t stop, size_t n,
                                           const bo_csv_tok_opts *o, int nf, int64_t max_rows,
                                           rowbuf *rb, int *need_row);
/* The AVX-512 build (tokenize_avx512.c): BW masks, VBMI2 field writes. */
BO_CSV_HIDDEN size_t bo_csv_scan_rows_avx512(const char *buf, size_t p, size_t stop, size_t n,
                                             const bo_csv_tok_opts *o, int nf, int64_t max_rows,
                                             rowbuf *rb, int *need_row);
#endif
