/* The structural scan, included once per instruction set (tokenize.c: SSE2; tokenize_avx2.c;
 * tokenize_avx512.c): the includer defines SCAN_ROWS (the function's name and linkage),
 * load_masks(p, end, delim, quote, tok_masks *) for its instruction set, and SCAN_POPCNT or
 * SCAN_STORE16(dst, d, base, cnt) for how a row's fields are stored; everything else is
 * this one text, so every build writes the same index (the C tests and fuzz_csv compare each
 * with the byte path). */
/* Structural scan (simdjson / simdcsv style): rows from p, 64 bytes at a time. Quote state by
 * prefix XOR of the quote bits, delimiters and line breaks outside quotes from bit masks, one
 * count-trailing-zeros per field. That state is pandas' only when every quote that opens a
 * quoted part stands at the start of a field or right after a closing quote (a doubled quote);
 * a quote anywhere else is data for pandas (and for tok_row) but would flip the parity here,
 * so the scan stops at the row holding it, as it does at a row it cannot finish in the buffer,
 * a row longer than max_row, a blank or whitespace-only line with no delimiter (tok_row says
 * what those are) and the row limit. Rows are written exactly as tok_row writes them.
 * Returns where the scan stopped: at a row start at or after stop, or at a row tok_row must
 * take (*need_row = 1), or -1 (as (size_t)-1) when out of memory. */
SCAN_ROWS(const char *buf, size_t p, size_t stop, size_t n, const bo_csv_tok_opts *o,
                        int nf, int64_t max_rows, rowbuf *rb, int *need_row)
{
    const char delim = o->delimiter, quote = o->quote;
    const char *const end = buf + n;
    *need_row = 0;
    while (p < n && p < stop) {
        /* a row that tok_row must look at first: a blank line, blanks at its start */
        const char c0 = buf[p];
        if (c0 == '\n' || c0 == '\r' || ((c0 == ' ' || c0 == '\t') && c0 != delim)) {
            *need_row = 1;
            return p;
        }
        size_t rs = p;     /* the current row's start */
        size_t w = p;      /* the window's start */
        uint64_t inq = 0;  /* the quote state before the window (all ones: inside) */
        uint64_t prev_struct = 1, prev_close = 0; /* byte w - 1 was structural / a closing quote */
        int64_t row_qlines = 0; /* line breaks inside quotes of the current row, so far */
        int32_t f = 1;
        if (max_rows > 0 && rb->n >= max_rows)
            return p;
        if (rowbuf_reserve(rb, rb->n + 1, nf) < 0)
            return (size_t)-1;
        uint32_t *slot = rb->offs + (size_t)rb->n * ((size_t)nf + 1);
        slot[0] = (uint32_t)rs;
        for (;;) {
            if (w >= n) { /* no line break before the end: tok_row decides (final, limits) */
                *need_row = 1;
                return rs;
            }
            tok_masks m;
            load_masks(buf + w, end, delim, quote, &m);
            const uint64_t q = m.quote;
            const uint64_t in = q ? prefix_xor(q) ^ inq : inq; /* inside after byte i */
            const uint64_t st = (m.delim | m.brk) & ~in;
            /* line breaks inside quotes: counted for their row when it ends (a row the scan
             * leaves to tok_row, or leaves unfinished, counts none here), so that text with
             * line breaks in its values needs no second pass to count lines */
            uint64_t qbrk = m.brk & in;
            const uint64_t open = q & in, close = q & ~in;
            /* a quote opens at a field start (after a structural byte) or after a closing one */
            const uint64_t ok_open = (st << 1) | prev_struct | (close << 1) | prev_close;
            const uint64_t bad = open & ~ok_open;
            const uint64_t lim = bad ? (uint64_t)__builtin_ctzll(bad) : 64;
            const uint64_t keep = lim == 64 ? ~0ULL : ((1ULL << lim) - 1);
            uint64_t dl = m.delim & st & keep, br = m.brk & st & keep;
            for (;;) {
                /* the delimiters before the next line break belong to the current row */
                const uint64_t below = br ? (br & (0 - br)) - 1 : ~0ULL;
                uint64_t d = dl & below;
                dl &= ~below;
#if defined(SCAN_STORE16)
                /* the row's fields in this window, 16 slots per store (SCAN_STORE16, the
                 * includer's): a constant cost for any count up to 16, where one store per
                 * field and the loop around it were most of the scan's work on rows of short
                 * fields. Stores past slot[f + cnt) land on slots written later, or in the
                 * rowbuf's slack (ROWBUF_SLACK), as the groups below. */
                const int cnt = (int)__builtin_popcountll(d);
                if (f + cnt <= nf) {
                    SCAN_STORE16(slot + f, d, (uint32_t)w + 1, cnt);
                    f += cnt;
                } else {
                    for (; d; d &= d - 1, f++)
                        slot[f < nf ? f : nf] = (uint32_t)(w + (size_t)__builtin_ctzll(d) + 1);
                }
#elif defined(SCAN_POPCNT)
#define SCAN_GROUP 8 /* 4 mispredicted nearly as often as one at a time */
                /* the row's fields in this window: up to two (long text fields) with two
                 * stores, else in groups of 8 written whether or not there are 8 (the loop then
                 * runs once for up to 8 fields, and its exit does not mispredict at every
                 * count, which cost short fields more than the scan's other work). Stores
                 * past slot[f + cnt) land on slots written later (this row's missing fields
                 * and end, the next row's) or in the rowbuf's slack (ROWBUF_SLACK). */
                const int cnt = (int)__builtin_popcountll(d);
                if (cnt <= 2 && f + cnt <= nf) { /* up to two (text: long fields): two stores */
                    const uint32_t base = (uint32_t)w + 1;
                    slot[f] = base + (uint32_t)__builtin_ctzll(d | (1ULL << 63));
                    d &= d - 1;
                    slot[f + 1] = base + (uint32_t)__builtin_ctzll(d | (1ULL << 63));
                    f += cnt;
                } else if (f + cnt <= nf) {
                    uint32_t *dst = slot + f;
                    const uint32_t base = (uint32_t)w + 1;
                    f += cnt;
                    do {
                        for (int i = 0; i < SCAN_GROUP; i++) {
                            dst[i] = base + (uint32_t)__builtin_ctzll(d | (1ULL << 63));
                            d &= d - 1;
                        }
                        dst += SCAN_GROUP;
                    } while (d);
                } else {
                    for (; d; d &= d - 1, f++)
                        slot[f < nf ? f : nf] = (uint32_t)(w + (size_t)__builtin_ctzll(d) + 1);
                }
#else
                /* a field past the nf-th (a bad row) is counted but lands on slot[nf], which
                 * the row's end overwrites: a select, where a popcount test of d was a libgcc
                 * call on the x86-64 baseline (no POPCNT) */
                for (; d; d &= d - 1, f++)
                    slot[f < nf ? f : nf] = (uint32_t)(w + (size_t)__builtin_ctzll(d) + 1);
#endif
                if (!br)
                    break;
                const unsigned b = (unsigned)__builtin_ctzll(br);
                br &= br - 1;
                const size_t at = w + b;
                if (qbrk) {
                    const uint64_t before = qbrk & ((1ULL << b) - 1);
                    row_qlines += quoted_lines(buf, w, before);
                    qbrk &= ~before;
                }
                /* the row ends at this line break */
                if (o->max_row_bytes && at - rs > o->max_row_bytes) {
                    *need_row = 1;
                    return rs;
                }
                if (f == 1) { /* one field: a blank line when it is all spaces and tabs */
                    size_t k = rs;
                    while (k < at && (buf[k] == ' ' || buf[k] == '\t'))
                        k++;
                    if (k == at) {
                        *need_row = 1;
                        return rs;
                    }
                }
                for (int32_t g = f; g < nf; g++) /* missing fields: empty, at the row's end */
                    slot[g] = (uint32_t)at;
                slot[nf] = (uint32_t)at;
                rb->flags[rb->n] = f == nf ? BO_CSV_ROW_OK : BO_CSV_ROW_FIELDS;
                rb->counts[rb->n] = f;
                rb->n_bad += f != nf;
                rb->n++;
                rb->lines += 1 + row_qlines;
                row_qlines = 0;
                p = at + 1;
                if (p >= stop || p >= n || (max_rows > 0 && rb->n >= max_rows))
                    return p;
                if (buf[p] == '\n' && b < 63) {
                    /* the LF of a CRLF, or a blank line after an LF (tok_range skips both):
                     * the next line break bit of this window */
                    rb->lines += buf[at] == '\n';
                    br &= ~(1ULL << (b + 1));
                    if (++p >= stop || p >= n)
                        return p;
                }
                /* the next row, in the same window while it has no blank start */
                const char c1 = buf[p];
                if (c1 == '\n' || c1 == '\r' || ((c1 == ' ' || c1 == '\t') && c1 != delim)) {
                    *need_row = 1;
                    return p;
                }
                if (rowbuf_reserve(rb, rb->n + 1, nf) < 0)
                    return (size_t)-1;
                slot = rb->offs + (size_t)rb->n * ((size_t)nf + 1);
                rs = p;
                slot[0] = (uint32_t)rs;
                f = 1;
            }
            if (lim < 64) { /* a quote pandas reads as data: tok_row takes this row */
                *need_row = 1;
                return rs;
            }
            if (o->max_row_bytes && w + 64 - rs > o->max_row_bytes + 64) {
                *need_row = 1;
                return rs;
            }
            row_qlines += quoted_lines(buf, w, qbrk); /* the row goes on past this window */
            inq = (uint64_t)0 - (in >> 63);
            prev_struct = st >> 63;
            prev_close = close >> 63;
            w += 64;
        }
    }
    return p;
}
