/* blockops label kernels: triple-barrier labels (int8) and weights (float32) for several
 * trading modes at once, over time-ordered OHLC bars.
 *
 * Rules (the one definition; python/blockops/labels.py and tests/reference/labels_ref.py say
 * the same). For signal bar i: entry e = i + 1 at price P = open[e]; the scan covers bars
 * j = e .. min(i + horizon, n_data - 1). Long: target T = P + target_ticks * tick, stop
 * S = P - stop_ticks * tick, target hit when high[j] >= T, stop hit when low[j] <= S. Short
 * mirrors it (T = P - target_ticks * tick hit by low[j] <= T, S = P + stop_ticks * tick hit by
 * high[j] >= S). Label 1 when the first target bar jt comes strictly before the first stop bar
 * (or there is no stop hit) and no roll-affected bar lies in [i, jt]; else 0. The last bar of
 * the data is 0. Thresholds are computed in float64 exactly as written above (no fused
 * multiply-add: label.c is compiled with -ffp-contract=off) and compared with >= / <=, so a
 * reference written in plain Python float arithmetic gives the same labels bit for bit.
 *
 * Winners: mae_ticks = max(0, P - min low[e..jt]) / tick (short: max(0, max high[e..jt] - P) /
 * tick), seconds = (ts[jt] - ts[e]) / ts_per_second; weight = quality * velocity * decay with
 * quality = clip(2 - 1.5 * mae_ticks / stop_ticks, 0.5, 2), velocity = clip(2 - 1.5 * (seconds
 * - 300) / 600, 0.5, 2), decay = exp(-decay_rate * months_ago), months_ago = ref_month -
 * (12 * year(ts[i]) + month(ts[i]) - 1) in UTC. Losers: weight = decay, mae and seconds NaN.
 *
 * Roll-overs: an event at e (e >= 1 in the arrays) is |close[e] - close[e - 1]| > threshold;
 * bars e - 1 .. e + 5 are affected.
 *
 * Partial evaluation (streaming, Dask): outputs are produced for bars [out_begin, out_end) of
 * arrays of length n. Rows before out_begin are context: pass at least 6 of them unless the
 * arrays start at the start of the data (roll events at array index 0 are never counted).
 * When `at_end` is 0 the arrays do not reach the end of the data and n must be at least
 * out_end + horizon + 1, so every scan and every roll check is complete. */
#ifndef BLOCKOPS_BO_LABEL_H
#define BLOCKOPS_BO_LABEL_H

#include "blockops/bo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Context rows a partial evaluation needs before out_begin (roll events reach 5 bars back
 * and an event needs the previous close). */
#define BO_LABEL_CONTEXT_BEFORE 6

typedef struct bo_label_mode {
    int direction;       /* +1 long, -1 short */
    double stop_ticks;   /* > 0 */
    double target_ticks; /* > 0 */
} bo_label_mode;

/* Per-mode outputs, each an array of out_end - out_begin elements. mae_ticks and seconds may
 * be NULL (not computed); the pointer arrays themselves hold n_modes entries. */
typedef struct bo_label_out {
    int8_t **label;
    float **weight;
    float **mae_ticks; /* NULL or n_modes pointers */
    float **seconds;   /* NULL or n_modes pointers */
} bo_label_out;

typedef struct bo_label_opts {
    double tick_size;      /* > 0 */
    int64_t horizon;       /* bars scanned after the signal bar, >= 1 */
    double decay_rate;     /* finite */
    double roll_threshold; /* >= 0; +inf disables roll detection */
    int64_t ref_month;     /* 12 * year + month - 1 of the reference time (UTC) */
    int64_t ts_per_second; /* timestamp units per second: 1, 1000, 1e6 or 1e9 */
    int n_threads;         /* <= 0 means 1 */
} bo_label_opts;

/* Roll-over statistics over bars [begin, end) of the arrays (events at e in [begin, end);
 * affected bars counted once each, over the bars in [begin, end)). */
typedef struct bo_roll_stats {
    int64_t events;
    int64_t bars_affected;
    double max_change; /* 0 when there is no event */
    double sum_change; /* summed in index order */
} bo_roll_stats;

/* Validation of rows [out_begin, out_end): NaT (INT64_MIN) or decreasing timestamps (against
 * the previous row when there is one), NaN/inf or non-positive prices, high < low, high below
 * open/close, low above open/close, NaN or negative volume (volume may be NULL). The first bad
 * row gives BO_ERR_DOMAIN with err->index = its array index, err->column = 0 timestamp,
 * 1 open, 2 high, 3 low, 4 close, 5 volume, err->value = the value and the condition in
 * err->message. Results do not depend on n_threads. */
bo_status bo_barrier_labels(const int64_t *ts, const double *open, const double *high,
                            const double *low, const double *close, const double *volume,
                            size_t n, size_t out_begin, size_t out_end, int at_end,
                            const bo_label_mode *modes, size_t n_modes, const bo_label_opts *opts,
                            const bo_label_out *out, bo_roll_stats *stats, bo_error *err);

/* Only the roll statistics of bars [begin, end) (same context rules as above). */
bo_status bo_label_roll_stats(const double *close, size_t n, size_t begin, size_t end,
                              double threshold, bo_roll_stats *stats, bo_error *err);

/* 12 * year + month - 1 (proleptic Gregorian, UTC) of t in units of ts_per_second since the
 * Unix epoch. */
int64_t bo_label_month_index(int64_t t, int64_t ts_per_second);

#ifdef __cplusplus
}
#endif
#endif
