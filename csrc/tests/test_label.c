/* Label kernel against a direct per-bar scan of the rules in bo_label.h, on random walks on
 * the tick grid (with roll jumps), for several horizons, thread counts and partial ranges;
 * plus validation errors, roll statistics and the calendar month. */
#include "blockops/bo_label.h"
#include "bo_test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { N = 5000, NM = 6 };
static int64_t ts[N];
static double op[N], hi[N], lo[N], cl[N], vol[N];
static const bo_label_mode MODES[NM] = {{1, 6, 12}, {1, 8, 16}, {1, 10, 20},
                                        {-1, 6, 12}, {-1, 8, 16}, {-1, 10, 20}};

static void make_walk(size_t n, double step_ticks, int rolls)
{
    double p = 4000.0;
    int64_t t = (int64_t)1700000000 * 1000000000LL;
    for (size_t i = 0; i < n; i++) {
        double o = p;
        double c = o + 0.25 * floor(urand(-step_ticks, step_ticks + 1));
        if (rolls && urand(0, 1) < 0.003)
            c += urand(0, 1) < 0.5 ? 30.0 : -30.0;
        if (c < 1)
            c = 1;
        double h = (o > c ? o : c) + 0.25 * floor(urand(0, 3));
        double l = (o < c ? o : c) - 0.25 * floor(urand(0, 3));
        if (l < 0.25)
            l = 0.25;
        op[i] = o;
        hi[i] = h;
        lo[i] = l;
        cl[i] = c;
        vol[i] = floor(urand(0, 100));
        t += (int64_t)(urand(0, 1) < 0.05 ? 60 : 1) * 1000000000LL; /* gaps */
        ts[i] = t;
        p = c;
    }
}

/* Direct scan, straight from the rules. */
static void ref_labels(size_t n, int64_t H, double tick, double thr, int64_t refm, int8_t *lab,
                       float *w, const bo_label_mode *md)
{
    int64_t last = (int64_t)n - 1;
    unsigned char *aff = calloc(n, 1);
    for (int64_t e = 1; e <= last; e++)
        if (fabs(cl[e] - cl[e - 1]) > thr)
            for (int64_t g = e - 1; g <= e + 5 && g <= last; g++)
                aff[g] = 1;
    for (int64_t i = 0; i <= last; i++) {
        double decay = exp(-0.05 * (double)(refm - bo_label_month_index(ts[i], 1000000000)));
        lab[i] = 0;
        w[i] = (float)decay;
        if (i == last)
            continue;
        double P = op[i + 1];
        double T = md->direction > 0 ? P + md->target_ticks * tick : P - md->target_ticks * tick;
        double S = md->direction > 0 ? P - md->stop_ticks * tick : P + md->stop_ticks * tick;
        int64_t end = i + H < last ? i + H : last;
        double worst = 0;
        if (aff[i])
            continue;
        for (int64_t j = i + 1; j <= end; j++) {
            if (aff[j])
                break;
            int th = md->direction > 0 ? hi[j] >= T : lo[j] <= T;
            int sh = md->direction > 0 ? lo[j] <= S : hi[j] >= S;
            double adv = md->direction > 0 ? P - lo[j] : hi[j] - P;
            if (adv > worst)
                worst = adv;
            if (sh)
                break;
            if (th) {
                double mae = worst / tick;
                double secs = (double)(ts[j] - ts[i + 1]) / 1e9;
                double q = 2.0 - 1.5 * mae / md->stop_ticks;
                q = q < 0.5 ? 0.5 : q > 2 ? 2 : q;
                double v = 2.0 - 1.5 * (secs - 300.0) / 600.0;
                v = v < 0.5 ? 0.5 : v > 2 ? 2 : v;
                lab[i] = 1;
                w[i] = (float)(q * v * decay);
                break;
            }
        }
    }
    free(aff);
}

static int8_t lab_store[NM][N];
static float w_store[NM][N], mae_store[NM][N], sec_store[NM][N];
static int8_t rlab[N];
static float rw[N];

static bo_status run(size_t n, size_t b, size_t e, int at_end, int64_t H, int nt, size_t off,
                     bo_roll_stats *stats, bo_error *err)
{
    int8_t *lp[NM];
    float *wp[NM], *mp[NM], *sp[NM];
    for (int m = 0; m < NM; m++) {
        lp[m] = lab_store[m] + off;
        wp[m] = w_store[m] + off;
        mp[m] = mae_store[m] + off;
        sp[m] = sec_store[m] + off;
    }
    bo_label_out out = {lp, wp, mp, sp};
    bo_label_opts o = {0.25, H, 0.05, 20.0, bo_label_month_index(ts[n - 1], 1000000000),
                       1000000000, nt};
    bo_error_clear(err);
    return bo_barrier_labels(ts, op, hi, lo, cl, vol, n, b, e, at_end, MODES, NM, &o, &out,
                             stats, err);
}

static void test_against_ref(void)
{
    static const int64_t horizons[] = {1, 2, 7, 64, 900, 20000};
    static const double steps[] = {1, 4};
    for (int si = 0; si < 2; si++) {
        make_walk(N, steps[si], 1);
        for (size_t hi_ = 0; hi_ < sizeof horizons / sizeof *horizons; hi_++) {
            int64_t H = horizons[hi_];
            for (int nt = 1; nt <= 3; nt++) {
                bo_error err;
                bo_status st = run(N, 0, N, 1, H, nt, 0, NULL, &err);
                CHECKF(st == BO_OK, "status %d %s", st, err.message);
                for (int m = 0; m < NM; m++) {
                    ref_labels(N, H, 0.25, 20.0, bo_label_month_index(ts[N - 1], 1000000000),
                               rlab, rw, &MODES[m]);
                    int bad = 0;
                    for (size_t i = 0; i < N && bad < 3; i++) {
                        if (lab_store[m][i] != rlab[i] || w_store[m][i] != rw[i]) {
                            bad++;
                            CHECKF(0, "H=%lld nt=%d mode %d bar %zu: got %d %g want %d %g",
                                   (long long)H, nt, m, i, lab_store[m][i], w_store[m][i],
                                   rlab[i], rw[i]);
                        }
                        if (lab_store[m][i] == 1)
                            CHECK(mae_store[m][i] >= 0 && sec_store[m][i] >= 0);
                        else
                            CHECK(isnan(mae_store[m][i]) && isnan(sec_store[m][i]));
                    }
                }
            }
        }
    }
}

/* Outputs of pieces with context equal the one-pass outputs. */
static void test_partial(void)
{
    make_walk(N, 2, 1);
    int64_t H = 50;
    bo_error err;
    CHECK(run(N, 0, N, 1, H, 2, 0, NULL, &err) == BO_OK);
    static int8_t full[NM][N];
    static float fullw[NM][N];
    memcpy(full, lab_store, sizeof full);
    memcpy(fullw, w_store, sizeof fullw);
    memset(lab_store, 7, sizeof lab_store);
    size_t cuts[] = {0, 1, 7, 1000, 1003, 2500, N};
    for (size_t k = 0; k + 1 < sizeof cuts / sizeof *cuts; k++) {
        size_t b = cuts[k], e = cuts[k + 1];
        size_t lo_ = b >= BO_LABEL_CONTEXT_BEFORE ? b - BO_LABEL_CONTEXT_BEFORE : 0;
        int at_end = e + (size_t)H + 1 > N;
        size_t hi_ = at_end ? N : e + (size_t)H + 1;
        /* shift the arrays so that the piece starts at its context */
        int8_t *lp[NM];
        float *wp[NM];
        for (int m = 0; m < NM; m++) {
            lp[m] = lab_store[m] + b;
            wp[m] = w_store[m] + b;
        }
        bo_label_out out = {lp, wp, NULL, NULL};
        bo_label_opts o = {0.25, H, 0.05, 20.0, bo_label_month_index(ts[N - 1], 1000000000),
                           1000000000, 1};
        bo_error_clear(&err);
        bo_status st = bo_barrier_labels(ts + lo_, op + lo_, hi + lo_, lo + lo_, cl + lo_, NULL,
                                         hi_ - lo_, b - lo_, e - lo_, at_end, MODES, NM, &o,
                                         &out, NULL, &err);
        CHECKF(st == BO_OK, "piece %zu: %s", k, err.message);
    }
    CHECK(memcmp(full, lab_store, sizeof full) == 0);
    CHECK(memcmp(fullw, w_store, sizeof fullw) == 0);

    /* too little look-ahead without at_end is an argument error */
    bo_roll_stats rs;
    CHECK(run(100, 0, 60, 0, H, 1, 0, &rs, &err) == BO_ERR_ARG);
    CHECK(run(100, 0, 49, 0, H, 1, 0, &rs, &err) == BO_OK);
}

static void test_roll_stats(void)
{
    make_walk(N, 1, 0);
    /* events at 100 (+25), 101 (back) and 3000 (-40.5, the rest of the walk shifted) */
    op[100] = hi[100] = lo[100] = cl[100] = cl[99] + 25;
    op[101] = hi[101] = lo[101] = cl[101] = cl[99];
    for (size_t i = 3000; i < N; i++) {
        op[i] -= 40.5;
        hi[i] -= 40.5;
        lo[i] -= 40.5;
        cl[i] -= 40.5;
    }
    bo_roll_stats s, a, b;
    bo_error err;
    bo_error_clear(&err);
    CHECK(bo_label_roll_stats(cl, N, 0, N, 20.0, &s, &err) == BO_OK);
    /* events 100, 101, 3000 (the walk itself moves at most 1 tick) */
    CHECKF(s.events == 3, "events %lld", (long long)s.events);
    CHECK(s.bars_affected == 8 + 7); /* 99..106 and 2999..3005 */
    double d3000 = fabs(cl[3000] - cl[2999]);
    CHECK(s.max_change == d3000 && d3000 >= 40.0);
    CHECK(fabs(s.sum_change - (25.0 + 25.0 + d3000)) < 1e-9);
    /* split anywhere: counts add up */
    for (size_t cut = 95; cut < 110; cut++) {
        CHECK(bo_label_roll_stats(cl, N, 0, cut, 20.0, &a, &err) == BO_OK);
        CHECK(bo_label_roll_stats(cl, N, cut, N, 20.0, &b, &err) == BO_OK);
        CHECK(a.events + b.events == s.events);
        CHECKF(a.bars_affected + b.bars_affected == s.bars_affected, "cut %zu", cut);
    }
    /* an affected signal bar is never a winner */
    bo_roll_stats st2;
    CHECK(run(N, 0, N, 1, 900, 1, 0, &st2, &err) == BO_OK);
    CHECK(st2.events == 3);
    for (int m = 0; m < NM; m++)
        for (size_t g = 99; g <= 106; g++)
            CHECK(lab_store[m][g] == 0);
}

static void test_validation(void)
{
    struct {
        int what;
        int col;
    } cases[] = {{0, 2}, {1, 2}, {2, 3}, {3, 1}, {4, 4}, {5, 0}, {6, 5}, {7, 0}, {8, 2}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        make_walk(300, 1, 0);
        size_t row = 137;
        switch (cases[k].what) {
        case 0: hi[row] = NAN; break;
        case 1: hi[row] = lo[row] - 0.25; break;
        case 2: lo[row] = fmax(op[row], cl[row]) + 0.25; hi[row] = lo[row] + 1; break;
        case 3: op[row] = -1; break;
        case 4: cl[row] = 0; break;
        case 5: ts[row] = ts[row - 1] - 1; break;
        case 6: vol[row] = -3; break;
        case 7: ts[row] = INT64_MIN; break;
        case 8: hi[row] = INFINITY; break;
        }
        for (int nt = 1; nt <= 2; nt++) {
            bo_error err;
            bo_status st = run(300, 0, 300, 1, 20, nt, 0, NULL, &err);
            CHECKF(st == BO_ERR_DOMAIN && err.index == (int64_t)row && err.column == cases[k].col,
                   "case %zu: st %d index %lld column %lld (%s)", k, st, (long long)err.index,
                   (long long)err.column, err.message);
        }
    }
    /* the first bad row wins across blocks and threads */
    static int64_t t2[40000];
    static double o2[40000];
    for (size_t i = 0; i < 40000; i++) {
        t2[i] = (int64_t)i;
        o2[i] = 10.0;
    }
    o2[39000] = NAN;
    o2[17000] = -1;
    int8_t *lp[1];
    float *wp[1];
    static int8_t l1[40000];
    static float w1[40000];
    lp[0] = l1;
    wp[0] = w1;
    bo_label_out out = {lp, wp, NULL, NULL};
    bo_label_opts o = {0.25, 900, 0.05, 20.0, 0, 1, 2};
    bo_error err;
    bo_error_clear(&err);
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 40000, 0, 40000, 1, MODES, 1, &o, &out,
                            NULL, &err) == BO_ERR_DOMAIN);
    CHECK(err.index == 17000 && err.column == 1);

    /* bad options */
    o.tick_size = 0;
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 10, 0, 10, 1, MODES, 1, &o, &out, NULL,
                            &err) == BO_ERR_ARG);
    o.tick_size = 0.25;
    o.horizon = 0;
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 10, 0, 10, 1, MODES, 1, &o, &out, NULL,
                            &err) == BO_ERR_ARG);
    o.horizon = 5;
    o.ts_per_second = 7;
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 10, 0, 10, 1, MODES, 1, &o, &out, NULL,
                            &err) == BO_ERR_ARG);
    o.ts_per_second = 1;
    bo_label_mode badm = {2, 6, 12};
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 10, 0, 10, 1, &badm, 1, &o, &out, NULL,
                            &err) == BO_ERR_ARG);
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 10, 3, 11, 1, MODES, 1, &o, &out, NULL,
                            &err) == BO_ERR_ARG);
    /* empty range and a single bar */
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 10, 4, 4, 1, MODES, 1, &o, &out, NULL,
                            &err) == BO_OK);
    l1[0] = 5;
    o.ref_month = bo_label_month_index(0, 1);
    CHECK(bo_barrier_labels(t2, o2, o2, o2, o2, NULL, 1, 0, 1, 1, MODES, 1, &o, &out, NULL,
                            &err) == BO_OK);
    CHECK(l1[0] == 0 && w1[0] == 1.0f);
}

static void test_month(void)
{
    CHECK(bo_label_month_index(0, 1) == 1970 * 12);
    CHECK(bo_label_month_index(-1, 1) == 1969 * 12 + 11);
    /* 2024-02-29T23:59:59Z = 1709251199 s; the next second is March */
    CHECK(bo_label_month_index(1709251199, 1) == 2024 * 12 + 1);
    CHECK(bo_label_month_index(1709251200LL * 1000000, 1000000) == 2024 * 12 + 2);
    /* 1900-03-01 = -2203891200 s */
    CHECK(bo_label_month_index(-2203891200LL * 1000, 1000) == 1900 * 12 + 2);
    CHECK(bo_label_month_index(-2203891201LL, 1) == 1900 * 12 + 1);
}

int main(void)
{
    test_month();
    test_against_ref();
    test_partial();
    test_roll_stats();
    test_validation();
    TEST_MAIN_END();
}
