/* Barrier labels and weights for several modes in one pass (see bo_label.h for the rules).
 *
 * First passages: "first j >= e with high[j] >= x" is answered by a binary descent over a
 * sparse table of window maxima (M_k[p] = max high[p .. p + 2^k - 1]): from level K (2^(K+1) >
 * horizon) down to 0, skip the block of 2^k bars at p when its maximum is below x. That is
 * K + 1 steps per query whatever the market does (a plain scan costs up to horizon steps per
 * bar on quiet days: 900 x 6 modes x 10 M bars). The same tables give the excursion of a
 * winner as an O(1) range minimum/maximum, so mae needs no scan either.
 *
 * Memory: the tables are built per block of BO_LABEL_BLOCK signal bars over the block plus the
 * horizon (K levels x (block + horizon) doubles, for highs and lows, per thread: ~2.5 MiB at
 * horizon 900), never for the whole series. All modes are answered from the same tables in
 * one pass: the descents of all modes of a bar run in lockstep (independent loads overlap).
 *
 * Threads take whole blocks; every bar is computed from the same data by the same code
 * whichever thread runs it, so results do not depend on n_threads. */
#include "blockops/bo_label.h"
#include "bo_omp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 16 Ki signal bars per block: the tables of one block (~2.5 MiB at horizon 900) stay near
 * L2, the rebuild overhead is horizon / block (~5 %) and 10 M bars give ~600 blocks to share. */
#define BO_LABEL_BLOCK ((int64_t)16384)
#define BO_LABEL_MAX_MODES 64
#define NONE INT64_MAX

typedef struct {
    int64_t row; /* -1: no bad row in the block */
    int kind;
    int column;
    double value;
} bad_row;

enum {
    V_NAT = 1,
    V_ORDER,
    V_NAN,
    V_INF,
    V_NONPOS,
    V_HL,
    V_HO,
    V_HC,
    V_LO,
    V_LC,
    V_VNAN,
    V_VNEG,
    V_VINF
};

static const char *const col_names[] = {"timestamp", "open", "high", "low", "close", "volume"};

typedef struct {
    const int64_t *ts;
    const double *open, *high, *low, *close, *volume;
    int64_t n, out_begin, horizon; /* horizon clamped to n */
    int K;                         /* top level of the descent */
    const bo_label_mode *modes;
    int n_modes;
    const bo_label_opts *o;
    const bo_label_out *out;
} ctx_t;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

int64_t bo_label_month_index(int64_t t, int64_t tps)
{
    /* days -> civil date: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" */
    int64_t z = floor_div(t, 86400 * tps) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);
    return y * 12 + (m - 1);
}

static int floor_log2(int64_t v) { return 63 - __builtin_clzll((unsigned long long)v); }

static double clip(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

/* ------------------------------------------------------------------ validation */

static int set_bad(bad_row *b, int64_t row, int kind, int col, double v)
{
    b->row = row;
    b->kind = kind;
    b->column = col;
    b->value = v;
    return 1;
}

static int check_rows(const ctx_t *c, int64_t b0, int64_t b1, bad_row *bad)
{
    const double *cols[4] = {c->open, c->high, c->low, c->close};
    for (int64_t i = b0; i < b1; i++) {
        int64_t t = c->ts[i];
        if (t == INT64_MIN)
            return set_bad(bad, i, V_NAT, 0, NAN);
        if (i > 0 && c->ts[i - 1] != INT64_MIN && t < c->ts[i - 1])
            return set_bad(bad, i, V_ORDER, 0, (double)t);
        for (int k = 0; k < 4; k++) {
            double v = cols[k][i];
            if (isnan(v))
                return set_bad(bad, i, V_NAN, k + 1, v);
            if (isinf(v))
                return set_bad(bad, i, V_INF, k + 1, v);
            if (!(v > 0.0))
                return set_bad(bad, i, V_NONPOS, k + 1, v);
        }
        double o = c->open[i], h = c->high[i], l = c->low[i], cl = c->close[i];
        if (h < l)
            return set_bad(bad, i, V_HL, 2, h);
        if (h < o)
            return set_bad(bad, i, V_HO, 2, h);
        if (h < cl)
            return set_bad(bad, i, V_HC, 2, h);
        if (l > o)
            return set_bad(bad, i, V_LO, 3, l);
        if (l > cl)
            return set_bad(bad, i, V_LC, 3, l);
        if (c->volume) {
            double v = c->volume[i];
            if (isnan(v))
                return set_bad(bad, i, V_VNAN, 5, v);
            if (v < 0)
                return set_bad(bad, i, V_VNEG, 5, v);
            if (isinf(v))
                return set_bad(bad, i, V_VINF, 5, v);
        }
    }
    return 0;
}

static bo_status report_bad(const ctx_t *c, const bad_row *b, bo_error *err)
{
    int64_t i = b->row;
    const char *name = col_names[b->column];
    if (err) {
        err->index = i;
        err->column = b->column;
        err->value = b->value;
    }
    switch (b->kind) {
    case V_NAT: return bo_error_set(err, BO_ERR_DOMAIN, "timestamp is NaT");
    case V_ORDER:
        return bo_error_set(err, BO_ERR_DOMAIN,
                            "timestamp is earlier than the previous row's (rows must be in "
                            "time order)");
    case V_NAN: return bo_error_set(err, BO_ERR_DOMAIN, "%s is NaN", name);
    case V_INF: return bo_error_set(err, BO_ERR_DOMAIN, "%s is infinite (%g)", name, b->value);
    case V_NONPOS:
        return bo_error_set(err, BO_ERR_DOMAIN, "%s is not positive (%.10g)", name, b->value);
    case V_HL:
        return bo_error_set(err, BO_ERR_DOMAIN, "high (%.10g) is below low (%.10g)", c->high[i],
                            c->low[i]);
    case V_HO:
        return bo_error_set(err, BO_ERR_DOMAIN, "high (%.10g) is below open (%.10g)", c->high[i],
                            c->open[i]);
    case V_HC:
        return bo_error_set(err, BO_ERR_DOMAIN, "high (%.10g) is below close (%.10g)",
                            c->high[i], c->close[i]);
    case V_LO:
        return bo_error_set(err, BO_ERR_DOMAIN, "low (%.10g) is above open (%.10g)", c->low[i],
                            c->open[i]);
    case V_LC:
        return bo_error_set(err, BO_ERR_DOMAIN, "low (%.10g) is above close (%.10g)", c->low[i],
                            c->close[i]);
    case V_VNAN: return bo_error_set(err, BO_ERR_DOMAIN, "volume is NaN");
    case V_VNEG: return bo_error_set(err, BO_ERR_DOMAIN, "volume is negative (%.10g)", b->value);
    case V_VINF: return bo_error_set(err, BO_ERR_DOMAIN, "volume is infinite");
    }
    return bo_error_set(err, BO_ERR_INTERNAL, "unknown validation failure");
}

/* ------------------------------------------------------------------ roll-overs */

static int is_event(const double *close, int64_t e, double thr)
{
    return fabs(close[e] - close[e - 1]) > thr;
}

bo_status bo_label_roll_stats(const double *close, size_t n, size_t begin, size_t end,
                              double threshold, bo_roll_stats *stats, bo_error *err)
{
    if (!stats || (n && !close))
        return bo_error_set(err, BO_ERR_ARG, "NULL argument");
    if (begin > end || end > n)
        return bo_error_set(err, BO_ERR_ARG, "range [%zu, %zu) outside the %zu rows", begin,
                            end, n);
    if (isnan(threshold) || threshold < 0)
        return bo_error_set(err, BO_ERR_ARG, "roll_threshold must be >= 0");
    memset(stats, 0, sizeof *stats);
    if (begin == end)
        return BO_OK;
    int64_t b = (int64_t)begin, e_end = (int64_t)end, last = (int64_t)n - 1;
    int64_t covered = b; /* bars [b, covered) already counted as affected */
    int64_t lo_e = b - 5 > 1 ? b - 5 : 1, hi_e = e_end < last ? e_end : last;
    for (int64_t e = lo_e; e <= hi_e; e++) {
        if (!is_event(close, e, threshold))
            continue;
        if (e >= b && e < e_end) {
            double d = fabs(close[e] - close[e - 1]);
            stats->events++;
            stats->sum_change += d;
            if (d > stats->max_change)
                stats->max_change = d;
        }
        int64_t lo = e - 1 > covered ? e - 1 : covered, hi = e + 5 < e_end - 1 ? e + 5 : e_end - 1;
        if (hi >= lo) {
            stats->bars_affected += hi - lo + 1;
            covered = hi + 1;
        }
    }
    return BO_OK;
}

/* nxt[g - g0] = first roll-affected bar >= g (NONE if none up to g1), for g in [g0, g1]. */
static void next_affected(const ctx_t *c, int64_t g0, int64_t g1, int64_t *nxt)
{
    int64_t cnt = g1 - g0 + 1, last = c->n - 1;
    double thr = c->o->roll_threshold;
    memset(nxt, 0, (size_t)cnt * sizeof *nxt);
    int64_t lo_e = g0 - 5 > 1 ? g0 - 5 : 1, hi_e = g1 + 1 < last ? g1 + 1 : last;
    for (int64_t e = lo_e; e <= hi_e; e++) {
        if (!is_event(c->close, e, thr))
            continue;
        int64_t lo = e - 1 > g0 ? e - 1 : g0, hi = e + 5 < g1 ? e + 5 : g1;
        for (int64_t g = lo; g <= hi; g++)
            nxt[g - g0] = 1;
    }
    int64_t next = NONE;
    for (int64_t p = cnt - 1; p >= 0; p--) {
        if (nxt[p])
            next = g0 + p;
        nxt[p] = next;
    }
}

/* ------------------------------------------------------------------ one block */

/* Scratch of one thread: levels 1..K of the max (highs) and min (lows) tables, each of
 * lmax doubles, then lmax + 1 int64 for next_affected. */
static size_t scratch_doubles(int K, int64_t lmax) { return 2 * (size_t)K * (size_t)lmax; }

static void label_block(const ctx_t *c, int64_t b0, int64_t b1, double *scratch, int64_t lmax,
                        bad_row *bad)
{
    if (check_rows(c, b0, b1, bad))
        return; /* the caller reports the first bad row of all blocks */
    const int64_t last = c->n - 1, H = c->horizon;
    const double tick = c->o->tick_size;
    const int nm = c->n_modes;
    const int64_t r0 = b0 + 1;
    const int64_t r1 = b1 - 1 + H < last ? b1 - 1 + H : last;
    const int64_t L = r1 - r0 + 1; /* rows of the tables; <= 0 only for a lone last bar */

    const double *hk[64], *lk[64];
    int Kb = -1;
    double *hmax = scratch, *lmin = scratch + (size_t)c->K * (size_t)lmax;
    int64_t *nxt = (int64_t *)(scratch + scratch_doubles(c->K, lmax));
    if (L > 0) {
        hk[0] = c->high + r0;
        lk[0] = c->low + r0;
        Kb = floor_log2(L);
        if (Kb > c->K)
            Kb = c->K;
        for (int k = 1; k <= Kb; k++) {
            double *hm = hmax + (size_t)(k - 1) * (size_t)lmax;
            double *lm = lmin + (size_t)(k - 1) * (size_t)lmax;
            const double *hp = hk[k - 1], *lp = lk[k - 1];
            int64_t half = (int64_t)1 << (k - 1), cnt = L - ((int64_t)1 << k) + 1;
            for (int64_t p = 0; p < cnt; p++) {
                double a = hp[p], b = hp[p + half];
                hm[p] = a > b ? a : b;
                double x = lp[p], y = lp[p + half];
                lm[p] = x < y ? x : y;
            }
            hk[k] = hm;
            lk[k] = lm;
        }
    }
    next_affected(c, b0, r1 > b0 ? r1 : b0, nxt);

    const bo_label_out *out = c->out;
    const double dr = c->o->decay_rate, tps = (double)c->o->ts_per_second;
    const int64_t ref = c->o->ref_month;
    int64_t cached_month = INT64_MIN;
    double decay = 1.0;
    double xh[BO_LABEL_MAX_MODES], xl[BO_LABEL_MAX_MODES];
    int64_t ph[BO_LABEL_MAX_MODES], pl[BO_LABEL_MAX_MODES];

    for (int64_t i = b0; i < b1; i++) {
        const int64_t oi = i - c->out_begin;
        int64_t mi = bo_label_month_index(c->ts[i], c->o->ts_per_second);
        if (mi != cached_month) {
            cached_month = mi;
            decay = exp(-dr * (double)(ref - mi));
        }
        const float fdecay = (float)decay;
        if (i == last) { /* no next bar to enter on */
            for (int m = 0; m < nm; m++) {
                out->label[m][oi] = 0;
                out->weight[m][oi] = fdecay;
                if (out->mae_ticks)
                    out->mae_ticks[m][oi] = NAN;
                if (out->seconds)
                    out->seconds[m][oi] = NAN;
            }
            continue;
        }
        const int64_t e = i + 1, end = i + H < last ? i + H : last;
        const double P = c->open[e];
        for (int m = 0; m < nm; m++) {
            const bo_label_mode *md = &c->modes[m];
            if (md->direction > 0) {
                xh[m] = P + md->target_ticks * tick;
                xl[m] = P - md->stop_ticks * tick;
            } else {
                xl[m] = P - md->target_ticks * tick;
                xh[m] = P + md->stop_ticks * tick;
            }
            ph[m] = e;
            pl[m] = e;
        }
        /* Descent: after level k the first passage lies in [p, p + 2^k). Branch-free
         * updates so the modes' independent chains overlap. */
        for (int k = Kb; k >= 0; k--) {
            const int64_t len = (int64_t)1 << k;
            const double *hm = hk[k], *lm = lk[k];
            for (int m = 0; m < nm; m++) {
                int64_t p = ph[m];
                int skip = (p + len - 1 <= end) && (hm[p - r0] < xh[m]);
                ph[m] = p + (skip ? len : 0);
            }
            for (int m = 0; m < nm; m++) {
                int64_t p = pl[m];
                int skip = (p + len - 1 <= end) && (lm[p - r0] > xl[m]);
                pl[m] = p + (skip ? len : 0);
            }
        }
        const int64_t aff = nxt[i - b0];
        for (int m = 0; m < nm; m++) {
            const bo_label_mode *md = &c->modes[m];
            int64_t jh = ph[m] <= end ? ph[m] : NONE, jl = pl[m] <= end ? pl[m] : NONE;
            int64_t jt = md->direction > 0 ? jh : jl, js = md->direction > 0 ? jl : jh;
            if (jt != NONE && jt < js && aff > jt) {
                int64_t len = jt - e + 1;
                int k = floor_log2(len);
                int64_t a = e - r0, b = jt - ((int64_t)1 << k) + 1 - r0;
                double adverse;
                if (md->direction > 0) {
                    double x = lk[k][a], y = lk[k][b];
                    adverse = P - (x < y ? x : y);
                } else {
                    double x = hk[k][a], y = hk[k][b];
                    adverse = (x > y ? x : y) - P;
                }
                double mae = (adverse > 0 ? adverse : 0.0) / tick;
                double secs = (double)(c->ts[jt] - c->ts[e]) / tps;
                double q = clip(2.0 - 1.5 * mae / md->stop_ticks, 0.5, 2.0);
                double v = clip(2.0 - 1.5 * (secs - 300.0) / 600.0, 0.5, 2.0);
                out->label[m][oi] = 1;
                out->weight[m][oi] = (float)(q * v * decay);
                if (out->mae_ticks)
                    out->mae_ticks[m][oi] = (float)mae;
                if (out->seconds)
                    out->seconds[m][oi] = (float)secs;
            } else {
                out->label[m][oi] = 0;
                out->weight[m][oi] = fdecay;
                if (out->mae_ticks)
                    out->mae_ticks[m][oi] = NAN;
                if (out->seconds)
                    out->seconds[m][oi] = NAN;
            }
        }
    }
}

/* ------------------------------------------------------------------ driver */

static bo_status check_args(const int64_t *ts, const double *open, const double *high,
                            const double *low, const double *close, size_t n, size_t out_begin,
                            size_t out_end, int at_end, const bo_label_mode *modes,
                            size_t n_modes, const bo_label_opts *o, const bo_label_out *out,
                            bo_error *err)
{
    if (!o || !modes || !out || !out->label || !out->weight)
        return bo_error_set(err, BO_ERR_ARG, "NULL argument");
    if (n && (!ts || !open || !high || !low || !close))
        return bo_error_set(err, BO_ERR_ARG, "NULL input array");
    if (n_modes < 1 || n_modes > BO_LABEL_MAX_MODES)
        return bo_error_set(err, BO_ERR_ARG, "between 1 and %d modes are supported, got %zu",
                            BO_LABEL_MAX_MODES, n_modes);
    for (size_t m = 0; m < n_modes; m++) {
        const bo_label_mode *md = &modes[m];
        if ((md->direction != 1 && md->direction != -1) || !isfinite(md->stop_ticks) ||
            !isfinite(md->target_ticks) || md->stop_ticks <= 0 || md->target_ticks <= 0) {
            if (err)
                err->index = (int64_t)m;
            return bo_error_set(err, BO_ERR_ARG,
                                "mode %zu: direction must be +1 or -1 and stop_ticks, "
                                "target_ticks finite and > 0",
                                m);
        }
        if (!out->label[m] || !out->weight[m] || (out->mae_ticks && !out->mae_ticks[m]) ||
            (out->seconds && !out->seconds[m]))
            return bo_error_set(err, BO_ERR_ARG, "NULL output array for mode %zu", m);
    }
    if (!isfinite(o->tick_size) || o->tick_size <= 0)
        return bo_error_set(err, BO_ERR_ARG, "tick_size must be finite and > 0");
    if (o->horizon < 1)
        return bo_error_set(err, BO_ERR_ARG, "horizon must be >= 1");
    if (!isfinite(o->decay_rate))
        return bo_error_set(err, BO_ERR_ARG, "decay_rate must be finite");
    if (isnan(o->roll_threshold) || o->roll_threshold < 0)
        return bo_error_set(err, BO_ERR_ARG, "roll_threshold must be >= 0");
    if (o->ts_per_second != 1 && o->ts_per_second != 1000 && o->ts_per_second != 1000000 &&
        o->ts_per_second != 1000000000)
        return bo_error_set(err, BO_ERR_ARG, "ts_per_second must be 1, 1e3, 1e6 or 1e9");
    if (out_begin > out_end || out_end > n)
        return bo_error_set(err, BO_ERR_ARG, "output range [%zu, %zu) outside the %zu rows",
                            out_begin, out_end, n);
    if (!at_end && out_end > out_begin &&
        ((uint64_t)o->horizon >= (uint64_t)n || n - (size_t)o->horizon - 1 < out_end))
        return bo_error_set(err, BO_ERR_ARG,
                            "without the end of the data, rows up to out_end + horizon are "
                            "needed (%zu rows, out_end %zu, horizon %lld)",
                            n, out_end, (long long)o->horizon);
    return BO_OK;
}

bo_status bo_barrier_labels(const int64_t *ts, const double *open, const double *high,
                            const double *low, const double *close, const double *volume,
                            size_t n, size_t out_begin, size_t out_end, int at_end,
                            const bo_label_mode *modes, size_t n_modes, const bo_label_opts *opts,
                            const bo_label_out *out, bo_roll_stats *stats, bo_error *err)
{
    double *scratch = NULL;
    bad_row *bad = NULL;
    bo_status st = check_args(ts, open, high, low, close, n, out_begin, out_end, at_end, modes,
                              n_modes, opts, out, err);
    if (st != BO_OK)
        return st;
    if (stats && (st = bo_label_roll_stats(close, n, out_begin, out_end, opts->roll_threshold,
                                           stats, err)) != BO_OK)
        return st;
    if (out_end == out_begin)
        return BO_OK;

    ctx_t c;
    c.ts = ts;
    c.open = open;
    c.high = high;
    c.low = low;
    c.close = close;
    c.volume = volume;
    c.n = (int64_t)n;
    c.out_begin = (int64_t)out_begin;
    c.horizon = opts->horizon < (int64_t)n ? opts->horizon : (int64_t)n;
    c.modes = modes;
    c.n_modes = (int)n_modes;
    c.o = opts;
    c.out = out;

    const int64_t nbar = (int64_t)(out_end - out_begin);
    const int64_t nblk = (nbar + BO_LABEL_BLOCK - 1) / BO_LABEL_BLOCK;
    int64_t lmax = BO_LABEL_BLOCK + c.horizon;
    if (lmax > c.n)
        lmax = c.n;
    /* a window holds at most min(horizon, lmax) bars: 2^(K+1) must exceed that */
    c.K = floor_log2(c.horizon < lmax ? c.horizon : lmax);
    int nt = opts->n_threads > 0 ? opts->n_threads : 1;
    if ((int64_t)nt > nblk)
        nt = (int)nblk;

    /* per thread: the tables, then lmax + 1 int64 (next_affected), rounded to 8 doubles */
    size_t per = scratch_doubles(c.K, lmax) + (size_t)lmax + 1;
    per = (per + 7) & ~(size_t)7;
    scratch = malloc((size_t)nt * per * sizeof(double));
    bad = malloc((size_t)nblk * sizeof *bad);
    if (!scratch || !bad) {
        st = bo_error_set(err, BO_ERR_NOMEM, "cannot allocate %zu bytes of label scratch",
                          (size_t)nt * per * sizeof(double));
        goto fail;
    }
    for (int64_t b = 0; b < nblk; b++)
        bad[b].row = -1;

    long long blk;
    BO_OMP(parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1))
    for (blk = 0; blk < (long long)nblk; blk++) {
        int64_t b0 = c.out_begin + (int64_t)blk * BO_LABEL_BLOCK;
        int64_t b1 = b0 + BO_LABEL_BLOCK < (int64_t)out_end ? b0 + BO_LABEL_BLOCK : (int64_t)out_end;
        label_block(&c, b0, b1, scratch + (size_t)omp_get_thread_num() * per, lmax, &bad[blk]);
    }
    for (int64_t b = 0; b < nblk; b++) {
        if (bad[b].row >= 0) {
            st = report_bad(&c, &bad[b], err);
            goto fail;
        }
    }
    st = BO_OK;
fail:
    free(scratch);
    free(bad);
    return st;
}
