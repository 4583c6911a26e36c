/* blockops._core keyed random numbers and v2x converters: the binding of csrc/rng/ and
 * csrc/v2x/.
 *
 * Inputs are normalized by bo_py_input (dtype allow-list, a contiguous aligned native copy
 * only when needed, never written to; integer keys and datetime64[ns] values are first mapped
 * to the int64/uint64 it is asked for), string-column buffers are validated with
 * bo_v2x_check_strings while the GIL is held, and the C kernels then run with the GIL
 * released, in blocks so that Ctrl-C is noticed between blocks. Status codes go through
 * bo_py_raise_status, the one status -> exception path. */
#include "bo_py.h"

#include <math.h>
#include <string.h>

#include "blockops/bo_csv.h"
#include "blockops/bo_rng.h"
#include "blockops/bo_v2x.h"

PyObject *bo_py_rng_u64(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_rng_uniform(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_parse_hex(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_parse_wkt(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_parse_datetime(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_timestamp_parts(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_datetime_parts(PyObject *self, PyObject *args, PyObject *kwargs);

/* Elements per GIL-released call: ~10-50 ms of work, so Ctrl-C answers promptly and the
 * re-acquire costs nothing measurable. Results do not depend on it (rows are independent). */
#define RNG_BLOCK ((npy_intp)1 << 22)
#define V2X_BLOCK ((npy_intp)1 << 20)

/* ------------------------------------------------------------------ argument helpers */

static int check_threads(int n_threads, const char *func)
{
    if (n_threads < 1) {
        PyErr_Format(PyExc_ValueError, "%s: n_threads must be >= 1 (got %d)", func, n_threads);
        return -1;
    }
    return 0;
}

static int need_kw(PyObject *o, const char *func, const char *name)
{
    if (!o) {
        PyErr_Format(PyExc_TypeError, "%s() missing required keyword-only argument: '%s'", func,
                     name);
        return -1;
    }
    return 0;
}

/* A Python integer in [0, 2**32). */
static int get_u32(PyObject *o, const char *func, const char *name, uint32_t *out)
{
    PyObject *ix = PyNumber_Index(o);
    if (!ix)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(ix, &overflow);
    Py_DECREF(ix);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < 0 || v > (long long)UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be in [0, 2**32) (got %R)", func, name, o);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* A Python integer in [-2**63, 2**64), reduced to uint64 bitwise (two's complement). */
static int get_seed(PyObject *o, const char *func, uint64_t *out)
{
    PyObject *ix = PyNumber_Index(o);
    if (!ix)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(ix, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(ix);
        return -1;
    }
    if (!overflow) {
        *out = (uint64_t)v;
        Py_DECREF(ix);
        return 0;
    }
    if (overflow > 0) {
        unsigned long long u = PyLong_AsUnsignedLongLong(ix);
        if (!(u == (unsigned long long)-1 && PyErr_Occurred())) {
            *out = (uint64_t)u;
            Py_DECREF(ix);
            return 0;
        }
        PyErr_Clear();
    }
    Py_DECREF(ix);
    PyErr_Format(PyExc_ValueError, "%s: seed must be in [-2**63, 2**64) (got %R)", func, o);
    return -1;
}

/* Integer keys of any shape as a contiguous uint64 array: signed integers are widened to int64
 * and reinterpreted (so -1 is 2**64 - 1), unsigned ones widened to uint64. */
static PyArrayObject *get_keys(PyObject *o, const char *func)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(o);
    if (!a)
        return NULL;
    int tn = PyArray_TYPE(a);
    if (!PyTypeNum_ISINTEGER(tn)) {
        PyErr_Format(PyExc_TypeError, "%s: keys must be an integer array (got dtype %R)", func,
                     (PyObject *)PyArray_DESCR(a));
        Py_DECREF(a);
        return NULL;
    }
    PyArrayObject *c = bo_py_input((PyObject *)a, PyTypeNum_ISUNSIGNED(tn) ? NPY_UINT64 : NPY_INT64,
                                   BO_PY_ANY_SHAPE, -1, func, "keys");
    Py_DECREF(a);
    return c;
}

static PyObject *new_like(PyArrayObject *shape_of, int typenum)
{
    return PyArray_SimpleNew(PyArray_NDIM(shape_of), PyArray_DIMS(shape_of), typenum);
}

/* Run the GIL-released loop body over [0, n) in blocks; on Ctrl-C between blocks return -1
 * with the exception set. BODY uses the block bounds `b0` and `bn` (length). */
#define BLOCKED(n, block, BODY)                                        \
    do {                                                               \
        for (npy_intp b0 = 0; b0 < (n); b0 += (block)) {               \
            const npy_intp bn = (n) - b0 < (block) ? (n) - b0 : (block); \
            Py_BEGIN_ALLOW_THREADS BODY; Py_END_ALLOW_THREADS          \
            if (st != BO_OK)                                           \
                break;                                                 \
            if (b0 + bn < (n) && PyErr_CheckSignals() < 0)             \
                goto interrupted;                                      \
        }                                                              \
    } while (0)

/* ------------------------------------------------------------------ rng */

/* The keyword arguments shared by rng_u64 and rng_uniform: seed and stream required, counter
 * optional (0), n_threads checked. -1 with an exception set. */
static int rng_args(const char *func, PyObject *seed_o, PyObject *stream_o, PyObject *counter_o,
                    int n_threads, uint64_t *seed, uint32_t *stream, uint32_t *counter)
{
    if (need_kw(seed_o, func, "seed") || need_kw(stream_o, func, "stream") ||
        get_seed(seed_o, func, seed) || get_u32(stream_o, func, "stream", stream) ||
        (counter_o && get_u32(counter_o, func, "counter", counter)) ||
        check_threads(n_threads, func))
        return -1;
    return 0;
}

static char *rng_u64_kw[] = {"keys", "seed", "stream", "counter", "n_threads", NULL};

PyObject *bo_py_rng_u64(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "rng_u64";
    PyObject *keys_o, *seed_o = NULL, *stream_o = NULL, *counter_o = NULL;
    int n_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OOOi:rng_u64", rng_u64_kw, &keys_o,
                                     &seed_o, &stream_o, &counter_o, &n_threads))
        return NULL;
    uint64_t seed;
    uint32_t stream, counter = 0;
    if (rng_args(func, seed_o, stream_o, counter_o, n_threads, &seed, &stream, &counter))
        return NULL;
    PyArrayObject *keys = get_keys(keys_o, func);
    if (!keys)
        return NULL;
    PyObject *out = new_like(keys, NPY_UINT64);
    if (!out) {
        Py_DECREF(keys);
        return NULL;
    }
    const uint64_t *k = (const uint64_t *)PyArray_DATA(keys);
    uint64_t *o = (uint64_t *)PyArray_DATA((PyArrayObject *)out);
    const npy_intp n = PyArray_SIZE(keys);
    bo_status st = BO_OK;
    BLOCKED(n, RNG_BLOCK,
            st = bo_rng_u64_array(k + b0, (size_t)bn, seed, stream, counter, o + b0, n_threads));
    Py_DECREF(keys);
    if (st != BO_OK) {
        Py_DECREF(out);
        return bo_py_raise_status(st, NULL, func, NULL);
    }
    return out;
interrupted:
    Py_DECREF(keys);
    Py_DECREF(out);
    return NULL;
}

static char *rng_uniform_kw[] = {"keys", "seed", "stream", "counter", "low", "high",
                                 "n_threads", NULL};

PyObject *bo_py_rng_uniform(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "rng_uniform";
    PyObject *keys_o, *seed_o = NULL, *stream_o = NULL, *counter_o = NULL;
    double low = 0.0, high = 1.0;
    int n_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$OOOddi:rng_uniform", rng_uniform_kw,
                                     &keys_o, &seed_o, &stream_o, &counter_o, &low, &high,
                                     &n_threads))
        return NULL;
    uint64_t seed;
    uint32_t stream, counter = 0;
    if (rng_args(func, seed_o, stream_o, counter_o, n_threads, &seed, &stream, &counter))
        return NULL;
    if (!isfinite(low) || !isfinite(high) || !isfinite(high - low)) {
        PyObject *lo = PyFloat_FromDouble(low), *hi = PyFloat_FromDouble(high);
        if (lo && hi)
            PyErr_Format(PyExc_ValueError, "%s: low and high must be finite with a finite "
                         "high - low (got low=%R, high=%R)", func, lo, hi);
        Py_XDECREF(lo);
        Py_XDECREF(hi);
        return NULL;
    }
    PyArrayObject *keys = get_keys(keys_o, func);
    if (!keys)
        return NULL;
    PyObject *out = new_like(keys, NPY_FLOAT64);
    if (!out) {
        Py_DECREF(keys);
        return NULL;
    }
    const uint64_t *k = (const uint64_t *)PyArray_DATA(keys);
    double *o = (double *)PyArray_DATA((PyArrayObject *)out);
    const npy_intp n = PyArray_SIZE(keys);
    bo_status st = BO_OK;
    BLOCKED(n, RNG_BLOCK,
            st = bo_rng_uniform_array(k + b0, (size_t)bn, seed, stream, counter, low, high,
                                      o + b0, n_threads));
    Py_DECREF(keys);
    if (st != BO_OK) {
        Py_DECREF(out);
        return bo_py_raise_status(st, NULL, func, NULL);
    }
    return out;
interrupted:
    Py_DECREF(keys);
    Py_DECREF(out);
    return NULL;
}

/* ------------------------------------------------------------------ v2x string columns */

typedef struct {
    PyArrayObject *offsets, *data, *valid;
    npy_intp n;
    int64_t bit_offset;
} strcol_t;

static void strcol_free(strcol_t *c)
{
    Py_CLEAR(c->offsets);
    Py_CLEAR(c->data);
    Py_CLEAR(c->valid);
}

/* Normalize and validate (offsets, data, valid_bits, bit_offset); never reads out of bounds
 * afterwards: every offset is checked against the data length and the bitmap against n. */
static int strcol_get(strcol_t *c, PyObject *off_o, PyObject *data_o, PyObject *valid_o,
                      long long bit_offset, const char *func)
{
    memset(c, 0, sizeof *c);
    if (!(c->offsets = bo_py_input(off_o, NPY_INT64, BO_PY_1D, -1, func, "offsets")) ||
        !(c->data = bo_py_input(data_o, NPY_UINT8, BO_PY_1D | BO_PY_NO_BOOL, -1, func, "data")) ||
        (valid_o != Py_None &&
         !(c->valid = bo_py_input(valid_o, NPY_UINT8, BO_PY_1D | BO_PY_NO_BOOL, -1, func,
                                  "valid_bits"))))
        goto fail;
    if (PyArray_DIM(c->offsets, 0) < 1) {
        PyErr_Format(PyExc_ValueError,
                     "%s: offsets must have n + 1 entries for n strings (got an empty array)",
                     func);
        goto fail;
    }
    if (bit_offset < 0) {
        PyErr_Format(PyExc_ValueError, "%s: bit_offset must be >= 0 (got %lld)", func,
                     bit_offset);
        goto fail;
    }
    c->n = PyArray_DIM(c->offsets, 0) - 1;
    c->bit_offset = (int64_t)bit_offset;
    bo_error err;
    bo_status st = bo_v2x_check_strings(
        (const int64_t *)PyArray_DATA(c->offsets), (size_t)c->n, (size_t)PyArray_DIM(c->data, 0),
        c->valid ? (const uint8_t *)PyArray_DATA(c->valid) : NULL,
        c->valid ? (size_t)PyArray_DIM(c->valid, 0) : 0, c->bit_offset, &err);
    if (st != BO_OK) {
        bo_py_raise_status(st, &err, func, c->valid && err.index < 0 ? "valid_bits" : "offsets");
        goto fail;
    }
    return 0;
fail:
    strcol_free(c);
    return -1;
}

#define COL_OFF(c) ((const int64_t *)PyArray_DATA((c).offsets) + b0)
#define COL_DATA(c) ((const uint8_t *)PyArray_DATA((c).data))
#define COL_VALID(c) ((c).valid ? (const uint8_t *)PyArray_DATA((c).valid) : NULL)
#define COL_BIT(c) ((c).bit_offset + (int64_t)b0)

static PyObject *new_1d(npy_intp n, int typenum)
{
    npy_intp dims[1] = {n};
    return PyArray_SimpleNew(1, dims, typenum);
}

#define A_(o, T) ((T *)PyArray_DATA((PyArrayObject *)(o)))
/* The eight output pointers of the timestamp-parts kernels (month, day, year, hour, minute,
 * second, pm, status) at row b0, in the order parts_new makes them. */
#define PARTS_OUT(out, b0)                                                                    \
    A_((out)[0], int8_t) + (b0), A_((out)[1], int8_t) + (b0), A_((out)[2], int16_t) + (b0),   \
        A_((out)[3], int8_t) + (b0), A_((out)[4], int8_t) + (b0), A_((out)[5], int8_t) + (b0), \
        A_((out)[6], int8_t) + (b0), A_((out)[7], uint8_t) + (b0)

static char *v2x_kw[] = {"offsets", "data", "valid_bits", "bit_offset", "n_threads", NULL};

PyObject *bo_py_v2x_parse_hex(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "v2x_parse_hex";
    PyObject *off_o, *data_o, *valid_o;
    long long bit_offset;
    int n_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOL|$i:v2x_parse_hex", v2x_kw, &off_o,
                                     &data_o, &valid_o, &bit_offset, &n_threads) ||
        check_threads(n_threads, func))
        return NULL;
    strcol_t c;
    if (strcol_get(&c, off_o, data_o, valid_o, bit_offset, func))
        return NULL;
    PyObject *vals = new_1d(c.n, NPY_INT64), *stat = new_1d(c.n, NPY_UINT8);
    if (!vals || !stat)
        goto interrupted;
    bo_status st = BO_OK;
    BLOCKED(c.n, V2X_BLOCK,
            st = bo_v2x_parse_hex(COL_OFF(c), COL_DATA(c), COL_VALID(c), COL_BIT(c), (size_t)bn,
                                  A_(vals, int64_t) + b0, A_(stat, uint8_t) + b0, n_threads));
    strcol_free(&c);
    if (st != BO_OK) {
        Py_DECREF(vals);
        Py_DECREF(stat);
        return bo_py_raise_status(st, NULL, func, NULL);
    }
    return Py_BuildValue("(NN)", vals, stat);
interrupted:
    strcol_free(&c);
    Py_XDECREF(vals);
    Py_XDECREF(stat);
    return NULL;
}

static char *v2x_wkt_kw[] = {"offsets", "data", "valid_bits", "bit_offset", "n_threads", "simd",
                             NULL};

PyObject *bo_py_v2x_parse_wkt(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "v2x_parse_wkt";
    PyObject *off_o, *data_o, *valid_o;
    long long bit_offset;
    int n_threads = 1, simd = BO_SIMD_SCALAR;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOL|$ii:v2x_parse_wkt", v2x_wkt_kw, &off_o,
                                     &data_o, &valid_o, &bit_offset, &n_threads, &simd) ||
        check_threads(n_threads, func))
        return NULL;
    if (simd < 0 || simd >= BO_SIMD_NLEVELS) {
        PyErr_Format(PyExc_ValueError, "%s: simd must be a SIMD level index in [0, %d) (got %d)",
                     func, (int)BO_SIMD_NLEVELS, simd);
        return NULL;
    }
    if (!bo_v2x_wkt_kernel_name((bo_simd_level)simd)) {
        PyErr_Format(PyExc_ValueError, "%s: SIMD level '%s' is not available here", func,
                     bo_simd_name((bo_simd_level)simd));
        return NULL;
    }
    strcol_t c;
    if (strcol_get(&c, off_o, data_o, valid_o, bit_offset, func))
        return NULL;
    PyObject *lon = new_1d(c.n, NPY_FLOAT64), *lat = new_1d(c.n, NPY_FLOAT64),
             *stat = new_1d(c.n, NPY_UINT8);
    if (!lon || !lat || !stat)
        goto interrupted;
    bo_status st = BO_OK;
    BLOCKED(c.n, V2X_BLOCK,
            st = bo_v2x_parse_wkt(COL_OFF(c), COL_DATA(c), COL_VALID(c), COL_BIT(c), (size_t)bn,
                                  A_(lon, double) + b0, A_(lat, double) + b0,
                                  A_(stat, uint8_t) + b0, n_threads, (bo_simd_level)simd));
    strcol_free(&c);
    if (st != BO_OK) {
        Py_DECREF(lon);
        Py_DECREF(lat);
        Py_DECREF(stat);
        return bo_py_raise_status(st, NULL, func, NULL);
    }
    return Py_BuildValue("(NNN)", lon, lat, stat);
interrupted:
    strcol_free(&c);
    Py_XDECREF(lon);
    Py_XDECREF(lat);
    Py_XDECREF(stat);
    return NULL;
}

/* fmt: None (ISO 8601, *fp = NULL) or a strptime-style str compiled into *fmt. -1 with an
 * exception set on a bad argument. */
static int get_fmt(PyObject *fmt_o, const char *func, bo_csv_dtfmt *fmt, bo_csv_dtfmt **fp)
{
    *fp = NULL;
    if (fmt_o == Py_None)
        return 0;
    if (!PyUnicode_Check(fmt_o)) {
        PyErr_Format(PyExc_TypeError, "%s: fmt must be a str or None (got %.100s)", func,
                     Py_TYPE(fmt_o)->tp_name);
        return -1;
    }
    Py_ssize_t flen;
    const char *f = PyUnicode_AsUTF8AndSize(fmt_o, &flen);
    if (!f)
        return -1;
    if ((size_t)flen != strlen(f)) {
        PyErr_Format(PyExc_ValueError, "%s: fmt contains a NUL character", func);
        return -1;
    }
    bo_error err;
    bo_error_clear(&err);
    bo_status st = bo_csv_dtfmt_compile(f, fmt, &err);
    if (st != BO_OK) {
        bo_py_raise_status(st, &err, func, "fmt");
        return -1;
    }
    *fp = fmt;
    return 0;
}

static char *v2x_dt_kw[] = {"offsets", "data", "valid_bits", "bit_offset", "fmt", "n_threads",
                            NULL};

/* The arguments of v2x_parse_datetime and v2x_datetime_parts (format: their PyArg format with
 * the function name): the string column (strcol_free it), the compiled format (*fp NULL for
 * ISO 8601) and n_threads. -1 with an exception set. */
static int dt_args(PyObject *args, PyObject *kwargs, const char *format, const char *func,
                   strcol_t *c, bo_csv_dtfmt *fmt, bo_csv_dtfmt **fp, int *n_threads)
{
    PyObject *off_o, *data_o, *valid_o, *fmt_o = Py_None;
    long long bit_offset;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, format, v2x_dt_kw, &off_o, &data_o, &valid_o,
                                     &bit_offset, &fmt_o, n_threads) ||
        check_threads(*n_threads, func) || get_fmt(fmt_o, func, fmt, fp))
        return -1;
    return strcol_get(c, off_o, data_o, valid_o, bit_offset, func) ? -1 : 0;
}

PyObject *bo_py_v2x_parse_datetime(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "v2x_parse_datetime";
    int n_threads = 1;
    bo_csv_dtfmt fmt, *fp = NULL;
    strcol_t c;
    if (dt_args(args, kwargs, "OOOL|O$i:v2x_parse_datetime", func, &c, &fmt, &fp, &n_threads))
        return NULL;
    PyObject *vals = new_1d(c.n, NPY_INT64), *stat = new_1d(c.n, NPY_UINT8);
    if (!vals || !stat)
        goto interrupted;
    bo_status st = BO_OK;
    BLOCKED(c.n, V2X_BLOCK,
            st = bo_v2x_parse_datetime(COL_OFF(c), COL_DATA(c), COL_VALID(c), COL_BIT(c),
                                       (size_t)bn, fp, A_(vals, int64_t) + b0,
                                       A_(stat, uint8_t) + b0, n_threads));
    strcol_free(&c);
    if (st != BO_OK) {
        Py_DECREF(vals);
        Py_DECREF(stat);
        return bo_py_raise_status(st, NULL, func, NULL);
    }
    return Py_BuildValue("(NN)", vals, stat);
interrupted:
    strcol_free(&c);
    Py_XDECREF(vals);
    Py_XDECREF(stat);
    return NULL;
}

/* ------------------------------------------------------------------ timestamp parts */

/* int64 (or a narrower signed/unsigned integer that fits) or datetime64[ns], any shape, as a
 * contiguous native int64 array through bo_py_input (no copy when it already is one). */
static PyArrayObject *get_ns(PyObject *o, const char *func)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_O(o);
    if (!a)
        return NULL;
    PyArrayObject *res = NULL;
    PyObject *ints = NULL; /* a's values as integers */
    if (PyArray_TYPE(a) == NPY_DATETIME) {
        PyArray_Descr *want = NULL, *native = NULL;
        PyObject *spec = PyUnicode_FromString("M8[ns]");
        if (!spec || !PyArray_DescrConverter(spec, &want)) {
            Py_XDECREF(spec);
            goto done;
        }
        Py_DECREF(spec);
        native = PyArray_DescrNewByteorder(PyArray_DESCR(a), NPY_NATIVE);
        if (!native) {
            Py_DECREF(want);
            goto done;
        }
        int ok = PyArray_EquivTypes(native, want);
        Py_DECREF(native);
        Py_DECREF(want);
        if (!ok) {
            PyErr_Format(PyExc_TypeError,
                         "%s: ns must be int64 or datetime64[ns] (got %R; convert with "
                         ".astype('datetime64[ns]'))", func, (PyObject *)PyArray_DESCR(a));
            goto done;
        }
        /* datetime64[ns] -> int64 in the same byte order: a view, no copy */
        PyArray_Descr *i8 = PyArray_DescrFromType(NPY_INT64);
        PyArray_Descr *i8_same =
            i8 ? PyArray_DescrNewByteorder(i8, PyArray_DESCR(a)->byteorder) : NULL;
        Py_XDECREF(i8);
        if (!i8_same)
            goto done;
        ints = PyArray_View(a, i8_same, NULL); /* steals i8_same */
    } else if (PyTypeNum_ISINTEGER(PyArray_TYPE(a)) && PyArray_TYPE(a) != NPY_UINT64 &&
               PyArray_TYPE(a) != NPY_ULONGLONG) {
        ints = (PyObject *)a;
        Py_INCREF(ints);
    } else {
        PyErr_Format(PyExc_TypeError, "%s: ns must be an int64 or datetime64[ns] array (got %R)",
                     func, (PyObject *)PyArray_DESCR(a));
    }
    if (ints)
        res = bo_py_input(ints, NPY_INT64, BO_PY_ANY_SHAPE, -1, func, "ns");
done:
    Py_XDECREF(ints);
    Py_DECREF(a);
    return res;
}

static char *parts_kw[] = {"ns", "n_threads", NULL};

static const char *const parts_names[8] = {"month", "day", "year", "hour", "minute", "second",
                                           "pm", "status"};
static const int parts_types[8] = {NPY_INT8, NPY_INT8, NPY_INT16, NPY_INT8,
                                   NPY_INT8, NPY_INT8, NPY_INT8, NPY_UINT8};

/* The 8 output arrays: shaped like shape_of, or 1-D of n rows when it is NULL (new references;
 * all NULL and an exception set on failure). */
static int parts_new(PyObject *out[8], PyArrayObject *shape_of, npy_intp n)
{
    for (int k = 0; k < 8; k++) {
        out[k] = shape_of ? new_like(shape_of, parts_types[k]) : new_1d(n, parts_types[k]);
        if (!out[k]) {
            for (int j = 0; j < k; j++)
                Py_CLEAR(out[j]);
            return -1;
        }
    }
    return 0;
}

/* {name: array} of the 8 outputs (the caller keeps its references). */
static PyObject *parts_dict(PyObject *out[8])
{
    PyObject *res = PyDict_New();
    if (!res)
        return NULL;
    for (int k = 0; k < 8; k++)
        if (PyDict_SetItemString(res, parts_names[k], out[k]) < 0) {
            Py_DECREF(res);
            return NULL;
        }
    return res;
}

PyObject *bo_py_v2x_timestamp_parts(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "v2x_timestamp_parts";
    PyObject *ns_o;
    int n_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$i:v2x_timestamp_parts", parts_kw, &ns_o,
                                     &n_threads) ||
        check_threads(n_threads, func))
        return NULL;
    PyArrayObject *ns = get_ns(ns_o, func);
    if (!ns)
        return NULL;
    PyObject *out[8] = {NULL};
    PyObject *res = NULL;
    if (parts_new(out, ns, 0)) {
        Py_DECREF(ns);
        return NULL;
    }
    const int64_t *t = (const int64_t *)PyArray_DATA(ns);
    const npy_intp n = PyArray_SIZE(ns);
    bo_status st = BO_OK;
    BLOCKED(n, RNG_BLOCK,
            st = bo_v2x_timestamp_parts(t + b0, (size_t)bn, PARTS_OUT(out, b0), n_threads));
    if (st != BO_OK)
        bo_py_raise_status(st, NULL, func, NULL);
    else
        res = parts_dict(out);
interrupted:
    for (int k = 0; k < 8; k++)
        Py_XDECREF(out[k]);
    Py_DECREF(ns);
    return res;
}

PyObject *bo_py_v2x_datetime_parts(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static const char *func = "v2x_datetime_parts";
    int n_threads = 1;
    bo_csv_dtfmt fmt, *fp = NULL;
    strcol_t c;
    if (dt_args(args, kwargs, "OOOL|O$i:v2x_datetime_parts", func, &c, &fmt, &fp, &n_threads))
        return NULL;
    PyObject *out[8] = {NULL};
    PyObject *res = NULL;
    if (parts_new(out, NULL, (npy_intp)c.n)) {
        strcol_free(&c);
        return NULL;
    }
    bo_status st = BO_OK;
    BLOCKED(c.n, V2X_BLOCK,
            st = bo_v2x_datetime_parts(COL_OFF(c), COL_DATA(c), COL_VALID(c), COL_BIT(c),
                                       (size_t)bn, fp, PARTS_OUT(out, b0), n_threads));
    if (st != BO_OK)
        bo_py_raise_status(st, NULL, func, NULL);
    else
        res = parts_dict(out);
interrupted:
    strcol_free(&c);
    for (int k = 0; k < 8; k++)
        Py_XDECREF(out[k]);
    return res;
}
