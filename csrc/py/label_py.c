/* blockops._core.barrier_labels: the binding of csrc/label/label.c.
 *
 * python/blockops/labels.py does the pandas work (datetime units, column lookup, output
 * layout) and passes contiguous arrays: int64 timestamps in units of ts_per_second, float64
 * prices, an (m, 3) float64 array of modes (direction, stop_ticks, target_ticks) and
 * preallocated (m, n_out) outputs whose rows are contiguous (slices of bigger arrays are fine).
 * Inputs (bo_py_input) are never written to; outputs pass bo_py_output. Errors go through
 * bo_py_raise_status, the one status -> exception path. */
#include "bo_py.h"

#include "blockops/bo_label.h"

PyObject *bo_py_barrier_labels(PyObject *self, PyObject *args);

static const char *const func = "barrier_labels";

/* An (m, n_out) output through bo_py_output (exact dtype, writeable, aligned, rows
 * contiguous) with n_out columns (n_out < 0: any). */
static int check_output(PyObject *obj, int typenum, const char *name, npy_intp m, npy_intp n_out)
{
    PyArrayObject *a = bo_py_output(obj, typenum, 2, m, 0, func, name);
    if (!a)
        return -1;
    if (n_out >= 0 && PyArray_DIM(a, 1) != n_out) {
        PyErr_Format(PyExc_ValueError, "%s: %s has %zd columns, labels has %zd", func, name,
                     (Py_ssize_t)PyArray_DIM(a, 1), (Py_ssize_t)n_out);
        return -1;
    }
    return 0;
}

#define BO_LABEL_PY_MAX_MODES 64

PyObject *bo_py_barrier_labels(PyObject *self, PyObject *args)
{
    PyObject *ts_o, *op_o, *hi_o, *lo_o, *cl_o, *vol_o, *modes_o, *lab_o, *w_o, *mae_o, *sec_o;
    Py_ssize_t out_begin;
    int at_end, n_threads;
    double tick, decay, roll;
    long long horizon, ref_month, tps;
    if (!PyArg_ParseTuple(args, "OOOOOOOOOOOnpdLddLLi:barrier_labels", &ts_o, &op_o, &hi_o, &lo_o,
                          &cl_o, &vol_o, &modes_o, &lab_o, &w_o, &mae_o, &sec_o, &out_begin,
                          &at_end, &tick, &horizon, &decay, &roll, &ref_month, &tps, &n_threads))
        return NULL;
    PyArrayObject *in[6] = {NULL, NULL, NULL, NULL, NULL, NULL}, *modes = NULL;
    PyObject *result = NULL;
    in[0] = bo_py_input(ts_o, NPY_INT64, BO_PY_1D, -1, func, "timestamp");
    if (!in[0])
        goto done;
    npy_intp n = PyArray_DIM(in[0], 0);
    PyObject *objs[5] = {op_o, hi_o, lo_o, cl_o, vol_o};
    static const char *const names[5] = {"open", "high", "low", "close", "volume"};
    for (int k = 0; k < 5; k++) {
        if (k == 4 && vol_o == Py_None)
            break;
        if (!(in[k + 1] = bo_py_input(objs[k], NPY_FLOAT64, BO_PY_1D, n, func, names[k])))
            goto done;
    }
    modes = bo_py_input(modes_o, NPY_FLOAT64, BO_PY_ANY_SHAPE, -1, func, "modes");
    if (!modes)
        goto done;
    if (PyArray_NDIM(modes) != 2 || PyArray_DIM(modes, 1) != 3 || PyArray_DIM(modes, 0) < 1 ||
        PyArray_DIM(modes, 0) > BO_LABEL_PY_MAX_MODES) {
        PyErr_Format(PyExc_ValueError,
                     "modes must be an (m, 3) array (direction, stop_ticks, target_ticks) with "
                     "1 <= m <= %d",
                     BO_LABEL_PY_MAX_MODES);
        goto done;
    }
    npy_intp m = PyArray_DIM(modes, 0);
    if (check_output(lab_o, NPY_INT8, "labels", m, -1))
        goto done;
    npy_intp n_out = PyArray_DIM((PyArrayObject *)lab_o, 1);
    if (check_output(w_o, NPY_FLOAT32, "weights", m, n_out) ||
        (mae_o != Py_None && check_output(mae_o, NPY_FLOAT32, "mae_ticks", m, n_out)) ||
        (sec_o != Py_None && check_output(sec_o, NPY_FLOAT32, "seconds", m, n_out)))
        goto done;
    if (out_begin < 0 || out_begin > n || n_out > n - out_begin) {
        PyErr_Format(PyExc_ValueError, "out_begin %zd + %zd outputs exceed the %zd rows",
                     (Py_ssize_t)out_begin, (Py_ssize_t)n_out, (Py_ssize_t)n);
        goto done;
    }

    bo_label_mode md[BO_LABEL_PY_MAX_MODES];
    int8_t *lp[BO_LABEL_PY_MAX_MODES];
    float *wp[BO_LABEL_PY_MAX_MODES], *mp[BO_LABEL_PY_MAX_MODES], *sp[BO_LABEL_PY_MAX_MODES];
    const double *mv = (const double *)PyArray_DATA(modes);
    for (npy_intp k = 0; k < m; k++) {
        double dir = mv[3 * k];
        md[k].direction = dir == 1.0 ? 1 : (dir == -1.0 ? -1 : 0);
        md[k].stop_ticks = mv[3 * k + 1];
        md[k].target_ticks = mv[3 * k + 2];
        lp[k] = (int8_t *)((char *)PyArray_DATA((PyArrayObject *)lab_o) +
                           k * PyArray_STRIDE((PyArrayObject *)lab_o, 0));
        wp[k] = (float *)((char *)PyArray_DATA((PyArrayObject *)w_o) +
                          k * PyArray_STRIDE((PyArrayObject *)w_o, 0));
        if (mae_o != Py_None)
            mp[k] = (float *)((char *)PyArray_DATA((PyArrayObject *)mae_o) +
                              k * PyArray_STRIDE((PyArrayObject *)mae_o, 0));
        if (sec_o != Py_None)
            sp[k] = (float *)((char *)PyArray_DATA((PyArrayObject *)sec_o) +
                              k * PyArray_STRIDE((PyArrayObject *)sec_o, 0));
    }
    bo_label_out out = {lp, wp, mae_o != Py_None ? mp : NULL, sec_o != Py_None ? sp : NULL};
    bo_label_opts o = {tick, (int64_t)horizon, decay, roll, (int64_t)ref_month, (int64_t)tps,
                       n_threads};
    bo_roll_stats rs;
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    const double *vol = in[5] ? (const double *)PyArray_DATA(in[5]) : NULL;
    Py_BEGIN_ALLOW_THREADS
    st = bo_barrier_labels((const int64_t *)PyArray_DATA(in[0]), (const double *)PyArray_DATA(in[1]),
                           (const double *)PyArray_DATA(in[2]), (const double *)PyArray_DATA(in[3]),
                           (const double *)PyArray_DATA(in[4]), vol, (size_t)n, (size_t)out_begin,
                           (size_t)(out_begin + n_out), at_end, md, (size_t)m, &o, &out, &rs, &err);
    Py_END_ALLOW_THREADS
    if (st != BO_OK) {
        bo_py_raise_status(st, &err, func, NULL);
        goto done;
    }
    result = Py_BuildValue("(LLdd)", (long long)rs.events, (long long)rs.bars_affected,
                           rs.max_change, rs.sum_change);
done:
    for (int k = 0; k < 6; k++)
        Py_XDECREF(in[k]);
    Py_XDECREF(modes);
    return result;
}
