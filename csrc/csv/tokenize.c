/* CSV tokenizer: the row/field index of one block, sequential or split across threads.
 *
 * Parallel split (the speculative scheme of Ge et al., "Speculative Distributed CSV Data
 * Parsing for Big Data Analytics", SIGMOD 2019): the block is cut into one byte range per
 * thread; each thread guesses the quote state at its cut from the parity of the quotes before
 * it, starts at the first line break outside quotes, and tokenizes rows until it reaches the
 * next thread's start. The guess is then *verified*: thread t must have stopped exactly where
 * thread t+1 started. A stray quote inside an unquoted field (data for pandas and for us, but
 * it flips the parity) makes the check fail and the block is tokenized again sequentially, so
 * the index never depends on the thread count. */
#include "blockops/bo_csv.h"

#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define BO_HAVE_MADVISE 1
#endif

#include "bo_omp.h"
#include "csv_internal.h"
#include "tokenize_internal.h"

/* Below this many bytes per thread the split costs more than it saves. */
#define BO_CSV_MIN_BYTES_PER_THREAD ((size_t)1 << 20)

/* The offsets come from the pool (bo_pool_alloc), which keeps them for the next slice: fresh
 * memory cost a page fault and a zeroed page per 4 KiB of index, slice after slice, and a
 * table of short fields has nearly as many bytes of index as of text. Growing copies (the
 * pool has no realloc), so the first reservation is a guess that is rarely short
 * (rows_guess). */
int bo_csv_rowbuf_grow(rowbuf *b, int64_t want, int nf)
{
    int64_t cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap += cap / 2 + 64;
    size_t stride = (size_t)nf + 1;
    uint32_t *o = bo_pool_alloc(b->pool, ((size_t)cap * stride + ROWBUF_SLACK) * sizeof *o);
    if (!o)
        return -1;
    if (b->offs) {
        memcpy(o, b->offs, ((size_t)b->cap * stride + ROWBUF_SLACK) * sizeof *o);
        bo_pool_free(b->pool, b->offs);
    }
    b->offs = o;
    uint8_t *f = realloc(b->flags, (size_t)cap);
    if (!f)
        return -1;
    b->flags = f;
    int32_t *c = realloc(b->counts, (size_t)cap * sizeof *c);
    if (!c)
        return -1;
    b->counts = c;
    b->cap = cap;
    return 0;
}


enum { ROW_DONE, ROW_BLANK, ROW_INCOMPLETE, ROW_LIMIT };

/* First byte in [p, end) equal to the delimiter, LF or CR; end when none. */
static inline const char *find_special(const char *p, const char *end, char delim)
{
#if defined(__SSE2__)
    const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vn)),
                                 _mm_cmpeq_epi8(v, vr));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz(bits);
        p += 16;
    }
#endif
    for (; p < end; p++)
        if (*p == delim || *p == '\n' || *p == '\r')
            return p;
    return end;
}

/* Tokenize the row (or blank line) starting at buf[p]. Writes up to nf field starts and the end
 * of the last field into slot (nf + 1 entries; slot may be NULL to only count fields).
 * *next = position after the row's terminator; *count = fields found; *flag = row flag. */
static int tok_row(const char *buf, size_t p, size_t n, char delim, char quote, int final,
                   size_t max_row, int nf, uint32_t *slot, size_t *next, int32_t *count,
                   uint8_t *flag)
{
    const char *base = buf, *end = buf + n;
    /* blank or whitespace-only line; a blank that is the delimiter makes fields, not
     * whitespace (pandas: "\t\n" with sep="\t" is a row of two missing values) */
    size_t q = p;
    while (q < n && (buf[q] == ' ' || buf[q] == '\t') && buf[q] != delim)
        q++;
    if (q == n) {
        if (!final)
            return max_row && n - p > max_row ? ROW_LIMIT : ROW_INCOMPLETE;
        *next = n;
        return ROW_BLANK;
    }
    if (buf[q] == '\n' || buf[q] == '\r') {
        *next = q + 1;
        return ROW_BLANK;
    }
    int32_t f = 0;
    uint8_t fl = BO_CSV_ROW_OK;
    const char *c = buf + p;
    for (;;) {
        if (f < nf && slot)
            slot[f] = (uint32_t)(c - base);
        f++;
        if (quote && c < end && *c == quote) {
            const char *k = c + 1;
            for (;;) {
                k = memchr(k, quote, (size_t)(end - k));
                if (!k) {
                    if (!final)
                        goto incomplete;
                    /* unterminated quote at end of input: the row runs to the end */
                    fl = BO_CSV_ROW_UNTERMINATED;
                    c = end;
                    goto row_end;
                }
                if (k + 1 < end && k[1] == quote) {
                    k += 2;
                    continue;
                }
                if (k + 1 == end && !final)
                    goto incomplete; /* cannot tell a closing quote from a doubled one */
                c = k + 1;
                break;
            }
        }
        c = find_special(c, end, delim);
        if (c == end) {
            if (!final)
                goto incomplete;
            goto row_end;
        }
        if (*c == delim) {
            c++;
            continue;
        }
        goto row_end; /* LF or CR */
    }
row_end:
    if (max_row && (size_t)(c - base) - p > max_row)
        return ROW_LIMIT;
    if (slot) {
        for (int32_t g = f; g < nf; g++) /* missing fields: empty, at the end of the row */
            slot[g] = (uint32_t)(c - base);
        slot[nf] = (uint32_t)(c - base);
    }
    if (f != nf && fl == BO_CSV_ROW_OK)
        fl = BO_CSV_ROW_FIELDS;
    *count = f;
    *flag = fl;
    *next = c < end ? (size_t)(c - base) + 1 : n;
    return ROW_DONE;
incomplete:
    if (max_row && n - p > max_row)
        return ROW_LIMIT;
    return ROW_INCOMPLETE;
}


#if defined(__SSE2__)
/* The window's masks from SSE2 compares (the x86-64 baseline). */
static inline uint64_t movemask64(__m128i a, __m128i b, __m128i c, __m128i d)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(a) | (uint64_t)(unsigned)_mm_movemask_epi8(b) << 16 |
           (uint64_t)(unsigned)_mm_movemask_epi8(c) << 32 |
           (uint64_t)(unsigned)_mm_movemask_epi8(d) << 48;
}

static inline void load_masks(const char *p, const char *end, char delim, char quote,
                              tok_masks *m)
{
    char pad[64];
    const char *const src = window_bytes(p, end, pad);
    const __m128i a = _mm_loadu_si128((const __m128i *)src);
    const __m128i b = _mm_loadu_si128((const __m128i *)(src + 16));
    const __m128i c = _mm_loadu_si128((const __m128i *)(src + 32));
    const __m128i d = _mm_loadu_si128((const __m128i *)(src + 48));
    const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r');
#define BRK(x) _mm_or_si128(_mm_cmpeq_epi8(x, vn), _mm_cmpeq_epi8(x, vr))
    m->brk = movemask64(BRK(a), BRK(b), BRK(c), BRK(d));
#undef BRK
    m->delim = movemask64(_mm_cmpeq_epi8(a, vd), _mm_cmpeq_epi8(b, vd), _mm_cmpeq_epi8(c, vd),
                          _mm_cmpeq_epi8(d, vd));
    if (quote) {
        const __m128i vq = _mm_set1_epi8(quote);
        m->quote = movemask64(_mm_cmpeq_epi8(a, vq), _mm_cmpeq_epi8(b, vq),
                              _mm_cmpeq_epi8(c, vq), _mm_cmpeq_epi8(d, vq));
    } else {
        m->quote = 0; /* no quoting */
    }
}


#define SCAN_ROWS static size_t scan_rows_sse2
#include "scan_rows.h"
#undef SCAN_ROWS

/* The scan for the instruction set the caller chose (bo_csv_tok_opts.simd: a level this CPU
 * supports): the AVX-512 build for AVX-512 on CPUs that also have BW, VL and VBMI2 (its field
 * writes), else the AVX2 build (which also needs POPCNT) for AVX2 and up. The AVX-512 masks
 * alone, with the AVX2 build's field writes, were slower than the AVX2 build (session 10);
 * what the AVX-512 build gains is in the writes. */
static bo_csv_scan_rows_fn pick_scan(int simd)
{
#if defined(BO_HAVE_AVX2) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init(); /* a no-op once libgcc's constructor ran; needed before it */
#if defined(BO_HAVE_TOK_AVX512)
    if (simd >= BO_SIMD_AVX512 && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi2") &&
        __builtin_cpu_supports("popcnt"))
        return bo_csv_scan_rows_avx512;
#endif
    if (simd >= BO_SIMD_AVX2 && __builtin_cpu_supports("popcnt"))
        return bo_csv_scan_rows_avx2;
#endif
    (void)simd;
    return scan_rows_sse2;
}
#endif

/* Tokenize rows from begin until a row would start at or after stop (or the end). Returns the
 * position reached in *pos, and ROW_DONE (stopped at stop or the end), ROW_INCOMPLETE (an
 * unterminated row starts at *pos) or ROW_LIMIT (the row at *pos is too long). */
static int tok_range(const char *buf, size_t begin, size_t stop, size_t n,
                     const bo_csv_tok_opts *o, int nf, int64_t max_rows, rowbuf *rb, size_t *pos,
                     int *nomem)
{
    size_t p = begin;
#if defined(__SSE2__)
    const bo_csv_scan_rows_fn scan = pick_scan(o->simd);
#endif
    while (p < n && p < stop) {
        if (max_rows > 0 && rb->n >= max_rows)
            break;
#if defined(__SSE2__)
        if (!o->byte_path_only) {
            int need_row;
            const size_t q = scan(buf, p, stop, n, o, nf, max_rows, rb, &need_row);
            if (q == (size_t)-1) {
                *nomem = 1;
                *pos = p;
                return ROW_LIMIT;
            }
            p = q;
            if (!need_row || p >= n || p >= stop || (max_rows > 0 && rb->n >= max_rows))
                continue; /* the loop's test decides */
        }
#endif
        if (rowbuf_reserve(rb, rb->n + 1, nf) < 0) {
            *nomem = 1;
            *pos = p;
            return ROW_LIMIT;
        }
        uint32_t *slot = rb->offs + (size_t)rb->n * ((size_t)nf + 1);
        size_t next;
        int32_t cnt;
        uint8_t fl;
        int r;
#if defined(__SSE2__)
        if (!o->byte_path_only && buf[p] == '\n') {
            /* a blank line (as the LF of a CRLF is): tok_row's ROW_BLANK, next = p + 1; a line
             * of its own unless it ends a CRLF (whose CR ended the row before) */
            rb->lines += !(p > 0 && buf[p - 1] == '\r');
            p++;
            continue;
        }
#endif
        r = tok_row(buf, p, n, o->delimiter, o->quote, o->final, o->max_row_bytes, nf, slot,
                    &next, &cnt, &fl);
        if (r == ROW_INCOMPLETE || r == ROW_LIMIT) {
            *pos = p;
            return r;
        }
        rb->lines_unknown = 1; /* tok_row took bytes: the caller counts their lines */
        if (r == ROW_DONE) {
            rb->flags[rb->n] = fl;
            rb->counts[rb->n] = cnt;
            rb->n_bad += fl != BO_CSV_ROW_OK;
            rb->n++;
        }
        p = next;
    }
    *pos = p;
    return ROW_DONE;
}

/* Rows to reserve before indexing len bytes of rows of nf fields: as many as make the index's
 * offsets as large as the text (4 (nf + 1) bytes a row; a table's rows are mostly longer than
 * 4 bytes a field, so growing is rare). Pages never written cost nothing; the reservation
 * stops at 64 MiB all the same (the reader's slices are 4 MiB: a caller indexing a whole
 * large buffer at once grows past it rather than map as much as its text). */
static int64_t rows_guess(size_t len, int nf)
{
    const size_t cap = (size_t)64 << 20;
    return (int64_t)((len < cap ? len : cap) / (4 * ((size_t)nf + 1))) + 64;
}

static void index_from_rowbuf(bo_csv_index *out, rowbuf *rb)
{
    out->pool = rb->pool;
    out->offs = rb->offs;
    out->flags = rb->flags;
    out->counts = rb->counts;
    out->n_rows = rb->n;
    out->n_bad = rb->n_bad;
    out->n_lines = rb->lines_unknown ? -1 : rb->lines;
    memset(rb, 0, sizeof *rb);
}

static bo_status limit_error(const char *buf, size_t at, const bo_csv_tok_opts *o, bo_error *err)
{
    bo_error_set(err, BO_ERR_LIMIT, "row longer than max_row_bytes (%zu bytes)",
                 o->max_row_bytes);
    if (err)
        err->byte_offset = (int64_t)at;
    return BO_ERR_LIMIT;
}

static bo_status tokenize_sequential(const char *buf, size_t n, const bo_csv_tok_opts *o, int nf,
                                     bo_csv_index *out, bo_error *err)
{
    rowbuf rb = {0};
    rb.pool = o->pool;
    size_t pos;
    int nomem = 0;
    int64_t want = rows_guess(n, nf);
    if (o->max_rows > 0 && o->max_rows < want)
        want = o->max_rows;
    if (rowbuf_reserve(&rb, want, nf) < 0)
        return bo_error_set(err, BO_ERR_NOMEM, "out of memory indexing %zu bytes", n);
    int r = tok_range(buf, 0, (size_t)-1, n, o, nf, o->max_rows, &rb, &pos, &nomem);
    if (nomem) {
        rowbuf_free(&rb);
        return bo_error_set(err, BO_ERR_NOMEM, "out of memory indexing %zu bytes", n);
    }
    if (r == ROW_LIMIT) {
        rowbuf_free(&rb);
        return limit_error(buf, pos, o, err);
    }
    index_from_rowbuf(out, &rb);
    out->consumed = pos;
    return BO_OK;
}

/* Occurrences of byte c in buf[0, n) (SSE2: one byte counter per lane, summed before it wraps). */
static int64_t count_byte(const char *buf, size_t n, char c)
{
    int64_t count = 0;
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i vc = _mm_set1_epi8(c), zero = _mm_setzero_si128();
    while (i + 16 <= n) {
        __m128i acc = zero;
        for (int k = 0; k < 255 && i + 16 <= n; k++, i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(buf + i)), vc));
        __m128i sums = _mm_sad_epu8(acc, zero);
        count += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < n; i++)
        count += buf[i] == c;
    return count;
}

/* Where a range's rows start: one past the first line break at or after buf[from] outside
 * quotes, inq being the quote state before buf[from] (n: none). Speculative, as the parity a
 * stray quote breaks is not tok_row's state: the caller checks the ranges' ends. */
static size_t speculative_start(const char *buf, size_t n, size_t from, char quote, int inq)
{
    for (size_t i = from; i < n; i++) {
        const char ch = buf[i];
        if (quote && ch == quote)
            inq ^= 1;
        else if (!inq && (ch == '\n' || ch == '\r'))
            return i + 1;
    }
    return n;
}

/* The quote state (1: inside) before buf[from], read off the first run of quotes after it that
 * is followed by a byte that is neither a quote, the delimiter nor a line break: in valid CSV
 * only an opening quote (then pairs) is followed by such a byte, so an odd run opens a field
 * (outside before it) and an even run is doubled quotes inside one. The quotes between from
 * and that run give the state at from. Looks at most `window` bytes; none of them a quote:
 * outside (a quoted field longer than the window, with no quote in it, is the miss). Quotes
 * but no telling run: -1. Speculative like the parity count it spares (the tokenizing thread
 * then need not count the quotes of the whole range before the cut): the caller checks the
 * ranges' ends and tokenizes sequentially when a guess was wrong. */
static int quote_state_at(const char *buf, size_t n, size_t from, char quote, char delim,
                          size_t window)
{
    const size_t end = n - from > window ? from + window : n;
    int64_t before = 0; /* quotes from `from` up to the current run */
    for (size_t i = from; i < end;) {
        const char *q = memchr(buf + i, quote, end - i);
        if (!q)
            break;
        size_t a = (size_t)(q - buf), b = a;
        while (b < n && buf[b] == quote)
            b++;
        if (b >= end)
            break;
        const char x = buf[b];
        if (x != delim && x != '\n' && x != '\r') {
            const int outside_before_run = (int)((b - a) & 1);
            return (int)((before & 1) ^ !outside_before_run);
        }
        before += (int64_t)(b - a);
        i = b;
    }
    return before ? -1 : 0;
}

static bo_status tokenize_parallel(const char *buf, size_t n, const bo_csv_tok_opts *o, int nf,
                                   int T, bo_csv_index *out, bo_error *err, int *fallback)
{
    bo_status st = BO_OK;
    size_t *start = calloc((size_t)T + 1, sizeof *start);
    size_t *pos = calloc((size_t)T, sizeof *pos);
    int64_t *quotes = calloc((size_t)T, sizeof *quotes);
    int *res = calloc((size_t)T, sizeof *res);
    int *nomem = calloc((size_t)T, sizeof *nomem);
    rowbuf *rb = calloc((size_t)T, sizeof *rb);
    if (!start || !pos || !quotes || !res || !nomem || !rb) {
        st = bo_error_set(err, BO_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* With two threads both start tokenizing at once, the first from the start up to the
     * cut, the second from the first row start after the cut, whose quote state it reads off
     * the quotes that follow (quote_state_at; a serial count before the parallel region left
     * the other thread waiting for it at every slice, and the second thread counting the
     * first range's quotes itself cost it a sixth of tokenizing them). Halves, as the two
     * ranges then cost the same. */
    const int two = T == 2;
    const size_t cut1 = two ? n / 2 : 0;
    /* 1. quote counts of the ranges before each cut (the last range's count is never needed) */
    if (!two) {
        BO_OMP(parallel for num_threads(T - 1) schedule(static, 1))
        for (int t = 0; t < T - 1; t++) {
            size_t a = n / (size_t)T * (size_t)t, b = n / (size_t)T * (size_t)(t + 1);
            quotes[t] = o->quote ? count_byte(buf + a, b - a, o->quote) : 0;
        }
    }
    /* 2. speculative row starts */
    start[0] = 0;
    start[T] = n;
    if (!two) {
        int64_t parity = 0;
        for (int t = 1; t < T; t++) {
            parity += quotes[t - 1];
            size_t s = speculative_start(buf, n, n / (size_t)T * (size_t)t, o->quote,
                                         (int)(parity & 1));
            start[t] = s < start[t - 1] ? start[t - 1] : s;
        }
    }
    /* 3. tokenize each range */
    BO_OMP(parallel for num_threads(T) schedule(static, 1))
    for (int t = 0; t < T; t++) {
        size_t stop;
        int last = 1;
        if (two) {
            if (t == 1) {
                /* from the byte before the cut: a row starting right at the cut is the first
                 * row start range 0 reaches. The state there from the quotes that follow it
                 * (a few hundred bytes), or, when they do not tell, from the parity of every
                 * quote before it (a pass over half the slice, 3 % of a 2-thread read of
                 * quoted text). */
                int inq = o->quote ? quote_state_at(buf, n, cut1 - 1, o->quote, o->delimiter,
                                                    (size_t)64 << 10)
                                   : 0;
                if (inq < 0)
                    inq = (int)(count_byte(buf, cut1 - 1, o->quote) & 1);
                start[1] = speculative_start(buf, n, cut1 - 1, o->quote, inq);
            }
            /* range 0 stops at the first row start at or after the cut, which is start[1]
             * when the speculation holds (checked below), and at the end when there is no
             * second range; range 1 always runs to the end */
            stop = t == 0 ? cut1 : (size_t)-1;
            last = t == 1;
            if (t == 1 && start[1] >= n) {
                res[t] = -1;
                pos[t] = n;
                continue;
            }
        } else {
            if (start[t] >= n || (t > 0 && start[t] == start[t - 1])) {
                res[t] = -1; /* empty range */
                pos[t] = start[t];
                continue;
            }
            stop = start[t + 1];
            /* the last active range tokenizes to the end */
            for (int u = t + 1; u < T; u++)
                if (start[u] < n && start[u] != start[u - 1]) {
                    last = 0;
                    break;
                }
            if (last)
                stop = (size_t)-1;
        }
        bo_csv_tok_opts ot = *o;
        if (!last)
            ot.final = 0;
        /* on this thread's stack while it runs: the scan updates its row count at every row,
         * and rb[0] and rb[1] share a cache line (that ping-pong made two threads slower than
         * one, benchmarks/RESULTS.md, session 12) */
        rowbuf mine = rb[t];
        mine.pool = o->pool;
        size_t at = start[t];
        int no = 0;
        /* range 0's buffer takes every range's rows at the end (5.): room for all of them */
        const size_t span = t == 0 || stop == (size_t)-1 ? n - start[t] : stop - start[t];
        if (rowbuf_reserve(&mine, rows_guess(t == 0 ? n : span, nf), nf) < 0)
            no = 1;
        else
            res[t] = tok_range(buf, start[t], stop, n, &ot, nf, 0, &mine, &at, &no);
        rb[t] = mine;
        pos[t] = at;
        nomem[t] = no;
        if (!two && !last && res[t] == ROW_DONE && at != stop)
            res[t] = ROW_INCOMPLETE; /* reached the end before the next start */
    }
    /* two threads, no row start after the cut: range 0 stopped at the cut (or ran out of
     * bytes without the final flag); it goes on to the end, as tokenizing at once would */
    if (two && res[1] == -1 && !nomem[0] && (res[0] == ROW_DONE || res[0] == ROW_INCOMPLETE)) {
        size_t at = pos[0];
        int no = 0;
        res[0] = tok_range(buf, at, (size_t)-1, n, o, nf, 0, &rb[0], &at, &no);
        pos[0] = at;
        nomem[0] = no;
    }
    /* 4. verify: each active range must end exactly where the next active one starts */
    int ok = 1;
    size_t consumed = 0;
    int last_active = -1;
    for (int t = 0; t < T; t++) {
        if (res[t] == -1)
            continue;
        if (nomem[t]) {
            st = bo_error_set(err, BO_ERR_NOMEM, "out of memory indexing %zu bytes", n);
            goto done;
        }
        if (last_active >= 0 && (res[last_active] != ROW_DONE || pos[last_active] != start[t]))
            ok = 0;
        last_active = t;
    }
    if (!ok || last_active < 0) {
        *fallback = 1;
        goto done;
    }
    if (res[last_active] == ROW_LIMIT) {
        st = limit_error(buf, pos[last_active], o, err);
        goto done;
    }
    consumed = pos[last_active];
    /* 5. concatenate: the first range's rows stay where they are, the others are appended */
    {
        int64_t total = 0, bad = 0;
        int64_t lines = 0;
        int lines_unknown = 0;
        for (int t = 0; t < T; t++) {
            total += rb[t].n;
            bad += rb[t].n_bad;
            lines += rb[t].lines;
            lines_unknown |= rb[t].lines_unknown;
        }
        int first = 0;
        while (first < T - 1 && !rb[first].n)
            first++;
        rowbuf all = rb[first];
        memset(&rb[first], 0, sizeof rb[first]);
        if (rowbuf_reserve(&all, total > 0 ? total : 1, nf) < 0) {
            rowbuf_free(&all);
            st = bo_error_set(err, BO_ERR_NOMEM, "out of memory indexing %zu bytes", n);
            goto done;
        }
        size_t stride = (size_t)nf + 1;
        int64_t at = all.n;
        for (int t = first + 1; t < T; t++) {
            if (!rb[t].n)
                continue;
            memcpy(all.offs + (size_t)at * stride, rb[t].offs,
                   (size_t)rb[t].n * stride * sizeof *all.offs);
            memcpy(all.flags + at, rb[t].flags, (size_t)rb[t].n);
            memcpy(all.counts + at, rb[t].counts, (size_t)rb[t].n * sizeof *all.counts);
            at += rb[t].n;
        }
        all.n = total;
        all.n_bad = bad;
        all.lines = lines;
        all.lines_unknown = lines_unknown;
        index_from_rowbuf(out, &all);
        out->consumed = consumed;
        out->speculated = 1;
    }
done:
    if (rb)
        for (int t = 0; t < T; t++)
            rowbuf_free(&rb[t]);
    free(rb);
    free(nomem);
    free(res);
    free(quotes);
    free(pos);
    free(start);
    return st;
}

bo_status bo_csv_tokenize(const char *buf, size_t n, const bo_csv_tok_opts *o,
                          bo_csv_index *out, bo_error *err)
{
    bo_error_clear(err);
    memset(out, 0, sizeof *out);
    out->n_lines = -1;
    if (!o || (!buf && n))
        return bo_error_set(err, BO_ERR_ARG, "missing buffer or options");
    if (n > BO_CSV_MAX_BLOCK)
        return bo_error_set(err, BO_ERR_ARG, "block of %zu bytes is larger than the maximum",
                            n);
    if (o->delimiter == '\n' || o->delimiter == '\r' || o->quote == '\n' || o->quote == '\r' ||
        (o->quote && o->quote == o->delimiter))
        return bo_error_set(err, BO_ERR_ARG, "delimiter and quote must differ and not be line breaks");
    int nf = o->n_fields;
    if (nf <= 0) {
        /* take the field count from the first row (dry run without storing) */
        size_t p = 0;
        nf = 0;
        while (p < n) {
            size_t next;
            int32_t cnt = 0;
            uint8_t fl;
            int r = tok_row(buf, p, n, o->delimiter, o->quote, o->final, o->max_row_bytes, 0,
                            NULL, &next, &cnt, &fl);
            if (r == ROW_LIMIT)
                return limit_error(buf, p, o, err);
            if (r == ROW_INCOMPLETE)
                break;
            if (r == ROW_DONE) {
                nf = cnt;
                break;
            }
            p = next;
        }
        if (nf == 0) { /* no complete row yet: nothing to index */
            out->n_fields = 0;
            out->consumed = 0;
            /* blank lines only, at the end of input: consume them */
            if (o->final) {
                rowbuf rb = {0};
                if (rowbuf_reserve(&rb, 1, 0) < 0)
                    return bo_error_set(err, BO_ERR_NOMEM, "out of memory");
                index_from_rowbuf(out, &rb);
                out->consumed = p >= n ? n : p;
                out->n_lines = -1; /* blank lines: the caller counts them */
            }
            if (!out->offs) {
                rowbuf rb = {0};
                if (rowbuf_reserve(&rb, 1, 0) < 0)
                    return bo_error_set(err, BO_ERR_NOMEM, "out of memory");
                index_from_rowbuf(out, &rb);
            }
            return BO_OK;
        }
    }
    out->n_fields = nf;
    int T = o->n_threads > 0 ? o->n_threads : 1;
    if ((size_t)T > n / BO_CSV_MIN_BYTES_PER_THREAD)
        T = (int)(n / BO_CSV_MIN_BYTES_PER_THREAD);
#ifndef _OPENMP
    T = 1;
#endif
    if (T > 1 && o->max_rows <= 0) {
        int fallback = 0;
        bo_status st = tokenize_parallel(buf, n, o, nf, T, out, err, &fallback);
        if (st != BO_OK || !fallback) {
            if (st == BO_OK)
                out->n_fields = nf;
            return st;
        }
    }
    bo_status st = tokenize_sequential(buf, n, o, nf, out, err);
    out->n_fields = nf;
    return st;
}

void bo_csv_index_free(bo_csv_index *ix)
{
    if (!ix)
        return;
    bo_pool_free(ix->pool, ix->offs);
    free(ix->flags);
    free(ix->counts);
    memset(ix, 0, sizeof *ix);
}

int64_t bo_csv_count_lines(const char *buf, size_t n)
{
    /* LF + CR - CRLF (a lone CR ends a line too, as in pandas) */
    int64_t lines = 0;
    size_t i = 0;
#if defined(__SSE2__)
    /* 16 bytes at a time, one byte counter per lane: +1 for an LF or a CR, -1 for a CR followed
     * by an LF (the LF is read with a load one byte further on, so the pair may straddle two
     * vectors). A lane gains at most 1 per step; the counters are summed before they can wrap. */
    const __m128i vlf = _mm_set1_epi8('\n'), vcr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
    while (i + 17 <= n) {
        __m128i acc = zero;
        for (int k = 0; k < 255 && i + 17 <= n; k++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(buf + i));
            __m128i next = _mm_loadu_si128((const __m128i *)(buf + i + 1));
            __m128i cr = _mm_cmpeq_epi8(v, vcr);
            __m128i brk = _mm_or_si128(_mm_cmpeq_epi8(v, vlf), cr);
            __m128i crlf = _mm_and_si128(cr, _mm_cmpeq_epi8(next, vlf));
            acc = _mm_add_epi8(_mm_sub_epi8(acc, brk), crlf);
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        lines += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < n; i++)
        lines += buf[i] == '\n' || (buf[i] == '\r' && !(i + 1 < n && buf[i + 1] == '\n'));
    return lines;
}

/* Below this many bytes per thread a parallel line count is not worth a thread. */
#define BO_CSV_MIN_COUNT_BYTES_PER_THREAD ((size_t)4096)

/* The whole pages in [lo, hi) rounded down to page boundaries leave the process's RSS. Only
 * for a read-only file mapping (its pages stay in the page cache and are faulted in again if
 * read); on anonymous memory MADV_DONTNEED would zero them. Advisory: if it fails, the pages
 * simply stay resident. */
static void drop_file_pages(const char *lo, const char *hi)
{
#ifdef BO_HAVE_MADVISE
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t a = (uintptr_t)lo & ~(page - 1), b = (uintptr_t)hi & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, (size_t)(b - a), MADV_DONTNEED);
#else
    (void)lo;
    (void)hi;
#endif
}

int64_t bo_csv_count_lines_par(const char *buf, size_t n, int n_threads, int drop, int count)
{
    int T = n_threads > 0 ? n_threads : 1;
    if ((size_t)T > n / BO_CSV_MIN_COUNT_BYTES_PER_THREAD)
        T = n >= BO_CSV_MIN_COUNT_BYTES_PER_THREAD ? (int)(n / BO_CSV_MIN_COUNT_BYTES_PER_THREAD)
                                                   : 1;
#ifndef _OPENMP
    T = 1;
#endif
    if (!count && !drop)
        return 0;
    int64_t total = 0;
    BO_OMP(parallel for num_threads(T) schedule(static, 1) reduction(+ : total))
    for (int t = 0; t < T; t++) {
        const size_t a = n / (size_t)T * (size_t)t;
        const size_t b = t + 1 == T ? n : n / (size_t)T * (size_t)(t + 1);
        if (count) {
            int64_t k = bo_csv_count_lines(buf + a, b - a);
            /* a CRLF cut between two ranges: range t counted its CR as a lone CR */
            if (b < n && b > a && buf[b - 1] == '\r' && buf[b] == '\n')
                k--;
            total += k;
        }
        /* No barrier before dropping (one more wait): the page holding buf[a] may still be
         * read by thread t - 1, which then faults it in again from the page cache (a file
         * mapping: same bytes), at worst one page per thread staying resident. */
        if (drop)
            drop_file_pages(buf + a, buf + b);
    }
    return total;
}

/* ------------------------------------------------------------------ split planning scan */

void bo_csv_scan_init(bo_csv_scan *s, char delimiter, char quote)
{
    memset(s, 0, sizeof *s);
    s->delimiter = delimiter;
    s->quote = quote;
    s->at_row_start = 1;
    s->field_start = 1;
}

/* A row (or blank line) starts at offset `at`, after `lines` line breaks: resolve the targets
 * at or before it, reset the row state. */
static inline void scan_row_start(bo_csv_scan *s, uint64_t at, int64_t lines,
                                  const uint64_t *targets, int64_t *found, int64_t *rows_before,
                                  int64_t *lines_before, int64_t n_targets, int64_t *ti,
                                  int64_t *resolved)
{
    while (*ti < n_targets && targets[*ti] <= at) {
        found[*ti] = (int64_t)at;
        rows_before[*ti] = s->rows;
        lines_before[*ti] = lines;
        (*ti)++;
        (*resolved)++;
    }
    s->at_row_start = 0;
    s->row_has_data = 0;
    s->field_start = 1;
    s->row_begin = at;
}

/* One byte of the scan: the same state machine as tok_row. *ti is the first target not yet
 * resolved; targets the byte resolves are counted in *resolved. */
static inline void scan_byte(bo_csv_scan *s, char c, uint64_t at, const uint64_t *targets,
                             int64_t *found, int64_t *rows_before, int64_t *lines_before,
                             int64_t n_targets, int64_t *ti, int64_t *resolved)
{
    if (s->at_row_start) /* a row (or blank line) starts here */
        scan_row_start(s, at, s->lines, targets, found, rows_before, lines_before, n_targets,
                       ti, resolved);
    s->lines += c == '\r' || (c == '\n' && !s->prev_cr);
    s->prev_cr = c == '\r';
    if (s->in_quote == 1) {
        if (c == s->quote)
            s->in_quote = 2; /* closing, unless the next byte is a quote */
        return;
    }
    if (s->in_quote == 2) {
        if (c == s->quote) {
            s->in_quote = 1;
            return;
        }
        s->in_quote = 0;
    }
    if (c == '\n' || c == '\r') {
        if (s->row_has_data)
            s->rows++;
        s->at_row_start = 1;
        return;
    }
    if ((c != ' ' && c != '\t') || c == s->delimiter) /* as tok_row's blank lines */
        s->row_has_data = 1;
    if (c == s->delimiter) {
        s->field_start = 1;
        return;
    }
    if (s->field_start && s->quote && c == s->quote) {
        s->in_quote = 1;
        s->row_has_data = 1;
    }
    s->field_start = 0;
}

static int64_t first_unresolved(const int64_t *found, int64_t n_targets)
{
    int64_t ti = 0;
    while (ti < n_targets && found[ti] >= 0)
        ti++;
    return ti;
}

int64_t bo_csv_scan_feed_ref(bo_csv_scan *s, const char *buf, size_t n, const uint64_t *targets,
                             int64_t *found, int64_t *rows_before, int64_t *lines_before,
                             int64_t n_targets)
{
    int64_t resolved = 0, ti = first_unresolved(found, n_targets);
    for (size_t i = 0; i < n; i++)
        scan_byte(s, buf[i], s->pos + i, targets, found, rows_before, lines_before, n_targets,
                  &ti, &resolved);
    s->pos += n;
    return resolved;
}

#if defined(__SSE2__)
/* 64 bytes outside quotes that hold no quote character: what scan_byte would do to them, from
 * bit masks. Only the line breaks need a step each (a row start may resolve targets and needs
 * the line count before it); between them, whether a row has data is one test of the mask of
 * its non-blank bytes. */
static void scan_chunk_unquoted(bo_csv_scan *s, uint64_t at0, uint64_t lf, uint64_t cr,
                                uint64_t data, uint64_t delim, const uint64_t *targets,
                                int64_t *found, int64_t *rows_before, int64_t *lines_before,
                                int64_t n_targets, int64_t *ti, int64_t *resolved)
{
    const uint64_t eol = lf | cr;
    /* a line break: every CR, and an LF not right after a CR (CRLF counts once) */
    const uint64_t line_inc = cr | (lf & ~(cr << 1 | (uint64_t)(s->prev_cr != 0)));
    data &= ~eol; /* a break ends its row before the data test, as in scan_byte */
    const int64_t lines0 = s->lines;
    int pos = 0;
    while (pos < 64) {
        if (s->at_row_start) /* the line breaks before it: those of the bits below pos */
            scan_row_start(s, at0 + (uint64_t)pos,
                           lines0 + (pos ? __builtin_popcountll(line_inc & (~0ULL >> (64 - pos)))
                                         : 0),
                           targets, found, rows_before, lines_before, n_targets, ti, resolved);
        const uint64_t from_pos = ~0ULL << pos;
        const uint64_t next_eol = eol & from_pos;
        if (!next_eol) { /* the row goes on past this chunk */
            s->row_has_data |= (data & from_pos) != 0;
            s->field_start = (int)(delim >> 63);
            break;
        }
        const int e = __builtin_ctzll(next_eol);
        s->row_has_data |= (data & from_pos & ((1ULL << e) - 1)) != 0;
        if (e > pos) /* dead once the row ends, but kept as scan_byte leaves it */
            s->field_start = (int)((delim >> (e - 1)) & 1);
        if (s->row_has_data)
            s->rows++;
        s->at_row_start = 1;
        pos = e + 1;
    }
    s->lines = lines0 + __builtin_popcountll(line_inc);
    s->prev_cr = (int)(cr >> 63);
}
#endif

/* The planner's scan must keep up with the disk and more: on a cluster the driver scans every
 * byte of every local file alone before any task runs, so it is the one serial term of a run
 * (docs/scaling.md). Unquoted stretches go 64 bytes at a time; quotes and quoted fields take
 * the byte path (bo_csv_scan_feed_ref, whose results the C tests and fuzz_csv compare). */
int64_t bo_csv_scan_feed(bo_csv_scan *s, const char *buf, size_t n, const uint64_t *targets,
                         int64_t *found, int64_t *rows_before, int64_t *lines_before,
                         int64_t n_targets)
{
    int64_t resolved = 0, ti = first_unresolved(found, n_targets);
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'), vd = _mm_set1_epi8(s->delimiter),
                  vq = _mm_set1_epi8(s->quote), vs = _mm_set1_epi8(' '), vt = _mm_set1_epi8('\t');
    while (n - i >= 64) {
        const char *p = buf + i;
        const __m128i a = _mm_loadu_si128((const __m128i *)p);
        const __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
        const __m128i c = _mm_loadu_si128((const __m128i *)(p + 32));
        const __m128i d = _mm_loadu_si128((const __m128i *)(p + 48));
#define MASK(v) movemask64(_mm_cmpeq_epi8(a, v), _mm_cmpeq_epi8(b, v), _mm_cmpeq_epi8(c, v), \
                           _mm_cmpeq_epi8(d, v))
        const uint64_t quote = s->quote ? MASK(vq) : 0;
        if (s->in_quote == 0 && !quote) {
            const uint64_t delim = MASK(vd);
            const uint64_t data = ~(MASK(vs) | MASK(vt)) | delim; /* as scan_byte's blank test */
            scan_chunk_unquoted(s, s->pos + i, MASK(vn), MASK(vr), data, delim, targets, found,
                                rows_before, lines_before, n_targets, &ti, &resolved);
        } else if (s->in_quote == 1 && !quote) {
            /* 64 bytes of one quoted field (no row starts inside it: at_row_start is 0 in
             * quotes): only the line breaks are counted, as scan_byte counts them. A split
             * task's second hypothesis ("inside quotes", _csv_split) spends a whole range of a
             * file without quotes here, where it went byte by byte */
            const uint64_t lf = MASK(vn), cr = MASK(vr);
            s->lines += __builtin_popcountll(cr | (lf & ~(cr << 1 | (uint64_t)(s->prev_cr != 0))));
            s->prev_cr = (int)(cr >> 63);
        } else {
            for (size_t k = i; k < i + 64; k++)
                scan_byte(s, buf[k], s->pos + k, targets, found, rows_before, lines_before,
                          n_targets, &ti, &resolved);
        }
#undef MASK
        i += 64;
    }
#endif
    for (; i < n; i++)
        scan_byte(s, buf[i], s->pos + i, targets, found, rows_before, lines_before, n_targets,
                  &ti, &resolved);
    s->pos += n;
    return resolved;
}

int64_t bo_csv_scan_finish(const bo_csv_scan *s)
{
    return s->rows + (!s->at_row_start && s->row_has_data ? 1 : 0);
}
