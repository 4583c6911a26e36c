/* blockops._core CSV functions: the binding of csrc/csv/.
 *
 * The Python reader (python/blockops/io/csv.py) owns the byte buffers and the file/line
 * bookkeeping; these functions index and convert one buffer with the GIL released. The block
 * index lives in a capsule between the calls. Every C status becomes an exception through
 * bo_py_status_exc (blockops._errors.from_status, the one mapping), but the problems of the
 * input (csv_tokenize's, csv_convert's BO_ERR_PARSE) are *returned*, not raised: the Python
 * reader adds the file, line and column name (the exception's .reason is the C message,
 * .byte_offset the offset in buf, .index the row, .column the spec) and raises it, or skips
 * the bad rows. Bad arguments and out-of-memory raise here. */
#include "bo_py.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "blockops/bo_csv.h"

#define INDEX_CAPSULE "blockops.csv_index"
#define SCAN_CAPSULE "blockops.csv_scan"

static void index_capsule_free(PyObject *cap)
{
    bo_csv_index *ix = PyCapsule_GetPointer(cap, INDEX_CAPSULE);
    if (ix) {
        bo_csv_index_free(ix);
        free(ix);
    }
}

static int get_char(PyObject *o, const char *name, char *out)
{
    if (o == Py_None) {
        *out = '\0';
        return 0;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_Check(o) ? PyUnicode_AsUTF8AndSize(o, &n) : NULL;
    if (!s || n != 1 || (unsigned char)s[0] > 127) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s must be a single ASCII character", name);
        }
        return -1;
    }
    *out = s[0];
    return 0;
}

/* csv_tokenize(buf, length, delimiter, quote, n_fields, final, max_rows, max_row_bytes,
 * n_threads, simd=-1) -> (index, n_rows, n_fields, consumed, n_bad, exception_or_None); simd:
 * the structural scan's level (-1: the best this CPU has; the index is the same at every
 * level) */
PyObject *bo_py_csv_tokenize(PyObject *self, PyObject *args)
{
    Py_buffer view;
    PyObject *dobj, *qobj;
    int n_fields, final, n_threads, simd = -1;
    long long max_rows, max_row_bytes;
    Py_ssize_t length;
    if (!PyArg_ParseTuple(args, "y*nOOipLLi|i:csv_tokenize", &view, &length, &dobj, &qobj,
                          &n_fields, &final, &max_rows, &max_row_bytes, &n_threads, &simd))
        return NULL;
    PyObject *res = NULL;
    bo_csv_tok_opts o = {0};
    if (simd == -1)
        simd = (int)bo_simd_best();
    if (simd < 0 || simd >= BO_SIMD_NLEVELS || !bo_simd_compiled((bo_simd_level)simd) ||
        !bo_simd_cpu_supports((bo_simd_level)simd)) {
        PyErr_Format(PyExc_ValueError, "csv_tokenize: SIMD level %d is not available here", simd);
        goto done;
    }
    o.simd = simd;
    o.pool = bo_py_pool(); /* the index's offsets: kept for the next slice's */
    if (get_char(dobj, "delimiter", &o.delimiter) < 0 || get_char(qobj, "quotechar", &o.quote) < 0)
        goto done;
    if (length < 0 || length > view.len) {
        PyErr_Format(PyExc_ValueError, "csv_tokenize: length must be in [0, %zd], the bytes of "
                     "buf (got %zd)", view.len, length);
        goto done;
    }
    /* the index stores n_fields + 1 offsets a row, computed in int: INT_MAX would overflow */
    if (n_fields == INT_MAX) {
        PyErr_Format(PyExc_ValueError, "csv_tokenize: n_fields must be < %d", INT_MAX);
        goto done;
    }
    o.n_fields = n_fields;
    o.final = final;
    o.max_rows = max_rows;
    o.max_row_bytes = max_row_bytes > 0 ? (size_t)max_row_bytes : 0;
    o.n_threads = n_threads;
    bo_csv_index *ix = calloc(1, sizeof *ix);
    if (!ix) {
        PyErr_NoMemory();
        goto done;
    }
    bo_error err;
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bo_csv_tokenize(view.buf, (size_t)length, &o, ix, &err);
    Py_END_ALLOW_THREADS
    if (st == BO_ERR_NOMEM) {
        free(ix);
        bo_py_raise_status(st, &err, "csv_tokenize", NULL);
        goto done;
    }
    if (st != BO_OK) { /* the reader says where: returned */
        free(ix);
        PyObject *exc = bo_py_status_exc(st, &err, "csv_tokenize", NULL);
        if (exc)
            res = Py_BuildValue("(OiiniN)", Py_None, 0, 0, (Py_ssize_t)0, 0, exc);
        goto done;
    }
    PyObject *cap = PyCapsule_New(ix, INDEX_CAPSULE, index_capsule_free);
    if (!cap) {
        bo_csv_index_free(ix);
        free(ix);
        goto done;
    }
    res = Py_BuildValue("(NLinLO)", cap, (long long)ix->n_rows, (int)ix->n_fields,
                        (Py_ssize_t)ix->consumed, (long long)ix->n_bad, Py_None);
done:
    PyBuffer_Release(&view);
    return res;
}

/* The pointer in capsule cap, which must have been made by `maker` (its name: capname);
 * NULL with a TypeError naming the argument otherwise. */
static void *get_capsule(PyObject *cap, const char *capname, const char *func, const char *arg,
                         const char *maker)
{
    if (!PyCapsule_IsValid(cap, capname)) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be the %s that %s returned (got %.100s)",
                     func, arg, arg, maker, Py_TYPE(cap)->tp_name);
        return NULL;
    }
    return PyCapsule_GetPointer(cap, capname);
}

/* The index csv_tokenize returned, for rows of view (may be NULL: no buffer). The index holds
 * offsets into the buffer it was made for: a shorter buffer would be read past its end (the
 * converters read up to ix->consumed, the end of every row they index). */
static bo_csv_index *get_index(PyObject *cap, const Py_buffer *view, const char *func)
{
    bo_csv_index *ix = get_capsule(cap, INDEX_CAPSULE, func, "index", "csv_tokenize");
    if (ix && view && ix->consumed > (size_t)view->len) {
        PyErr_Format(PyExc_ValueError, "%s: index covers %zu bytes but buf has %zd: pass the "
                     "buffer the index was made from", func, ix->consumed, view->len);
        return NULL;
    }
    return ix;
}

/* One column's missing-value set, borrowed from a tuple of bytes. */
typedef struct {
    bo_csv_na na;
    const char **values;
    size_t *lens;
    double *nums; /* the values that are numbers (bo_csv_na_numbers) */
} na_holder;

static int na_from_tuple(PyObject *t, na_holder *h)
{
    memset(h, 0, sizeof *h);
    if (t == Py_None)
        return 0;
    if (!PyTuple_Check(t)) {
        PyErr_SetString(PyExc_TypeError, "na values must be a tuple of bytes");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(t);
    h->values = calloc((size_t)n + 1, sizeof *h->values);
    h->lens = calloc((size_t)n + 1, sizeof *h->lens);
    h->nums = calloc((size_t)n + 1, sizeof *h->nums);
    if (!h->values || !h->lens || !h->nums) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = PyTuple_GET_ITEM(t, i);
        if (!PyBytes_Check(b)) {
            PyErr_SetString(PyExc_TypeError, "na values must be bytes");
            return -1;
        }
        h->values[i] = PyBytes_AS_STRING(b);
        h->lens[i] = (size_t)PyBytes_GET_SIZE(b);
    }
    bo_csv_na_init(&h->na, h->values, h->lens, (int)n);
    bo_csv_na_numbers(&h->na, h->nums);
    return 0;
}

static void na_holder_free(na_holder *h)
{
    free(h->values);
    free(h->lens);
    free(h->nums);
}

/* Columns share one tuple per distinct set (the reader caches them): the set of tuple t, one
 * already built for the same tuple object (seen[0, *n_seen)), else built into *h and
 * remembered while seen has room (cap). NULL with an exception when t is not a tuple of bytes
 * or out of memory. */
#define NA_SHARED 8
typedef struct {
    PyObject *obj; /* (borrowed: the caller's specs hold it) */
    const bo_csv_na *na;
} na_seen;

static const bo_csv_na *na_shared(PyObject *t, na_seen *seen, int *n_seen, na_holder *h)
{
    for (int j = 0; j < *n_seen; j++)
        if (seen[j].obj == t)
            return seen[j].na;
    if (na_from_tuple(t, h) < 0)
        return NULL;
    if (*n_seen < NA_SHARED)
        seen[(*n_seen)++] = (na_seen){t, &h->na};
    return &h->na;
}

static int type_typenum(int t)
{
    switch (t) {
    case BO_CSV_INT8: return NPY_INT8;
    case BO_CSV_INT16: return NPY_INT16;
    case BO_CSV_INT32: return NPY_INT32;
    case BO_CSV_INT64: return NPY_INT64;
    case BO_CSV_FLOAT32: return NPY_FLOAT32;
    case BO_CSV_FLOAT64: return NPY_FLOAT64;
    case BO_CSV_BOOL: return NPY_BOOL;
    case BO_CSV_WKT_POINT: return NPY_FLOAT64;
    case BO_CSV_HEX:
    case BO_CSV_UINT64: return NPY_UINT64;
    case BO_CSV_DATETIME:
    case BO_CSV_DATETIME_ISO: return NPY_INT64;
    }
    return -1;
}

/* The element pointer of rows [off, off + n) of a caller's output array, which must pass
 * bo_py_output as a 1-D array of the given type with at least off + n elements. */
static int dest_rows(PyObject *a, int typenum, npy_intp off, npy_intp n, const char *what,
                     Py_ssize_t i, void **ptr)
{
    /* (the name only for the error: formatted for every column of every slice, it was a
     * share of converting a wide table worth saving, benchmarks/RESULTS.md) */
    PyArrayObject *arr = bo_py_output_fits(a, typenum, 1, off + n, 1);
    if (!arr) {
        char name[64];
        if (i >= 0)
            PyOS_snprintf(name, sizeof name, "dest %s of spec %zd", what, i);
        else
            PyOS_snprintf(name, sizeof name, "dest %s", what);
        bo_py_output(a, typenum, 1, off + n, 1, "csv_convert", name);
        return -1;
    }
    *ptr = PyArray_BYTES(arr) + (size_t)off * (size_t)PyArray_ITEMSIZE(arr);
    return 0;
}

/* One output of csv_convert for rows [off, off + n): the caller's dest array (checked by
 * dest_rows) or, with dest NULL, a new array of n elements (zero-filled when zero). A new
 * reference goes to *arr (also on a failed check, for the caller's cleanup). */
static int out_rows(PyObject *dest, int typenum, int zero, npy_intp off, npy_intp n,
                    const char *what, Py_ssize_t i, PyObject **arr, void **ptr)
{
    if (dest) {
        Py_INCREF(dest);
        *arr = dest;
        return dest_rows(dest, typenum, off, n, what, i, ptr);
    }
    *arr = zero ? PyArray_ZEROS(1, &n, typenum, 0) : PyArray_EMPTY(1, &n, typenum, 0);
    if (!*arr)
        return -1;
    *ptr = PyArray_DATA((PyArrayObject *)*arr);
    return 0;
}

/* csv_convert(buf, index, specs, quote, n_threads, want_bad, dest=None, row_offset=0)
 * specs: sequence of (field, type, nullable, na_tuple_or_None, datetime_format_or_None)
 * -> (outputs, bad_or_None, exception_or_None); outputs[i] is
 *    (values, mask_or_None)            for fixed-width types,
 *    ((lon, lat), None)                for wkt_point,
 *    ((offsets, data), mask)           for str.
 * dest: None (new arrays of n_rows) or (cols, bad) with cols[i] = (values, lat_values, mask)
 * (None where a type has no such output) and bad a bool array (used when want_bad): the
 * fixed-width outputs, masks and bad flags are written into rows [row_offset, row_offset +
 * n_rows) of those arrays, which are also what outputs and bad then return (whole). This lets
 * the reader convert a block slice by slice into the block's arrays without a copy. Masks and
 * bad must be zero where the caller wants zeros: only bad rows and missing values are set.
 * Strings are always new buffers. */
/* csv_convert's columns: the C column descriptions and what backs them (missing-value sets,
 * datetime formats, the NumPy arrays written into), one entry per spec. */
typedef struct conv_plan {
    Py_ssize_t k;
    bo_csv_col *cols;
    na_holder *nas;
    na_seen na_seen[NA_SHARED];
    int n_na_seen;
    bo_csv_dtfmt *fmts;
    PyObject **vals, **vals2, **masks; /* values, latitudes (WKT), masks: new references */
} conv_plan;

static void conv_plan_free(conv_plan *p)
{
    for (Py_ssize_t i = 0; i < p->k; i++) {
        if (p->cols) {
            bo_csv_str_free(&p->cols[i], bo_py_pool());
        }
        if (p->vals)
            Py_XDECREF(p->vals[i]);
        if (p->vals2)
            Py_XDECREF(p->vals2[i]);
        if (p->masks)
            Py_XDECREF(p->masks[i]);
        if (p->nas)
            na_holder_free(&p->nas[i]);
    }
    free(p->cols);
    free(p->nas);
    free(p->fmts);
    free(p->vals);
    free(p->vals2);
    free(p->masks);
}

static int conv_plan_init(conv_plan *p, Py_ssize_t k)
{
    memset(p, 0, sizeof *p);
    p->cols = calloc((size_t)k + 1, sizeof *p->cols);
    p->nas = calloc((size_t)k + 1, sizeof *p->nas);
    p->fmts = calloc((size_t)k + 1, sizeof *p->fmts);
    p->vals = calloc((size_t)k + 1, sizeof *p->vals);
    p->vals2 = calloc((size_t)k + 1, sizeof *p->vals2);
    p->masks = calloc((size_t)k + 1, sizeof *p->masks);
    p->k = k; /* after the arrays: conv_plan_free walks k entries of each one there is */
    if (!p->cols || !p->nas || !p->fmts || !p->vals || !p->vals2 || !p->masks) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* specs[i] = (field, type, nullable, na_values, datetime format) -> p->cols[i] */
static int conv_parse_spec(conv_plan *p, Py_ssize_t i, PyObject *spec, const bo_csv_index *ix)
{
    int field, type, nullable;
    PyObject *na, *fmt;
    if (!PyArg_ParseTuple(spec, "iipOO", &field, &type, &nullable, &na, &fmt))
        return -1;
    if (field < 0 || field >= ix->n_fields || type < 0 || type >= BO_CSV_NTYPES) {
        PyErr_Format(PyExc_ValueError, "csv_convert: specs[%zd]: field %d (the index has "
                     "%d) or type %d out of range", i, field, (int)ix->n_fields, type);
        return -1;
    }
    bo_csv_col *c = &p->cols[i];
    c->field = field;
    c->type = (bo_csv_type)type;
    c->nullable = nullable;
    if (!(c->na = na_shared(na, p->na_seen, &p->n_na_seen, &p->nas[i])))
        return -1;
    if (type == BO_CSV_DATETIME) {
        const char *f = fmt != Py_None ? PyUnicode_AsUTF8(fmt) : NULL;
        if (!f) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "datetime spec needs a format");
            return -1;
        }
        bo_error e;
        bo_error_clear(&e);
        bo_status fst = bo_csv_dtfmt_compile(f, &p->fmts[i], &e);
        if (fst != BO_OK) {
            bo_py_raise_status(fst, &e, "csv_convert", "specs");
            return -1;
        }
        c->fmt = &p->fmts[i];
    }
    return 0;
}

/* The arrays column i writes rows [off, off + n) of: the caller's dest (values, latitudes,
 * mask; dcol may be NULL: new arrays) */
static int conv_plan_outputs(conv_plan *p, Py_ssize_t i, PyObject *dcol, npy_intp off,
                             npy_intp n)
{
    bo_csv_col *c = &p->cols[i];
    PyObject *d[3] = {NULL, NULL, NULL};
    if (dcol && !PyArg_ParseTuple(dcol, "OOO:dest", &d[0], &d[1], &d[2]))
        return -1;
    if (c->type != BO_CSV_STR) {
        if (out_rows(d[0], type_typenum(c->type), 0, off, n, "values", i, &p->vals[i],
                     &c->out) < 0)
            return -1;
        if (c->type == BO_CSV_WKT_POINT &&
            out_rows(d[1], NPY_FLOAT64, 0, off, n, "latitudes", i, &p->vals2[i], &c->out2) < 0)
            return -1;
    }
    if (c->type == BO_CSV_STR || c->nullable) {
        void *m;
        if (out_rows(d[2], NPY_BOOL, 1, off, n, "mask", i, &p->masks[i], &m) < 0)
            return -1;
        c->mask = m;
    }
    return 0;
}

/* [(values, mask) per column]: string columns as (offsets, data, runs) arrays that own the C
 * buffers (runs: (first row, data start) of each run, flat; see bo_csv_col), WKT columns as
 * (longitudes, latitudes) */
static PyObject *conv_results(conv_plan *p, npy_intp n)
{
    PyObject *outs = PyList_New(p->k);
    if (!outs)
        return NULL;
    for (Py_ssize_t i = 0; i < p->k; i++) {
        bo_csv_col *c = &p->cols[i];
        PyObject *item;
        PyObject *mask = p->masks[i] ? p->masks[i] : Py_None;
        if (c->type == BO_CSV_STR) {
            const npy_intp n_runs = c->n_str_runs;
            PyObject *offs = bo_py_adopt_pooled((void **)&c->str_offsets, n + n_runs, NPY_INT64);
            if (!offs)
                goto fail;
            PyObject *data = bo_py_adopt_pooled((void **)&c->str_data, (npy_intp)c->str_bytes,
                                         NPY_UINT8);
            if (!data) {
                Py_DECREF(offs);
                goto fail;
            }
            PyObject *runs = bo_py_adopt_pooled((void **)&c->str_runs, 2 * n_runs, NPY_INT64);
            if (!runs) {
                Py_DECREF(offs);
                Py_DECREF(data);
                goto fail;
            }
            item = Py_BuildValue("((NNN)O)", offs, data, runs, mask);
        } else if (c->type == BO_CSV_WKT_POINT) {
            item = Py_BuildValue("((OO)O)", p->vals[i], p->vals2[i], mask);
        } else {
            item = Py_BuildValue("(OO)", p->vals[i], mask);
        }
        if (!item)
            goto fail;
        PyList_SET_ITEM(outs, i, item);
    }
    return outs;
fail:
    Py_DECREF(outs);
    return NULL;
}

/* Options and specs -> a plan, the kernel without the GIL, the plan's arrays -> results. */
PyObject *bo_py_csv_convert(PyObject *self, PyObject *args)
{
    Py_buffer view;
    PyObject *cap, *specs, *qobj, *dest = Py_None;
    int n_threads, want_bad;
    Py_ssize_t row_offset = 0;
    int pad_short = 0, simd = 0;
    if (!PyArg_ParseTuple(args, "y*OOOip|Onpi:csv_convert", &view, &cap, &specs, &qobj,
                          &n_threads, &want_bad, &dest, &row_offset, &pad_short, &simd))
        return NULL;
    PyObject *res = NULL, *seq = NULL, *outs = NULL, *bad_arr = NULL, *dcols = NULL;
    PyObject *dbad = Py_None;
    conv_plan plan = {0};
    char quote;
    bo_csv_index *ix = get_index(cap, &view, "csv_convert");
    if (!ix || get_char(qobj, "quotechar", &quote) < 0)
        goto done;
    seq = PySequence_Fast(specs, "specs must be a sequence");
    if (!seq)
        goto done;
    const Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
    const npy_intp n = (npy_intp)ix->n_rows;
    if (dest != Py_None) {
        PyObject *dc;
        if (!PyArg_ParseTuple(dest, "OO:csv_convert dest", &dc, &dbad))
            goto done;
        dcols = PySequence_Fast(dc, "dest columns must be a sequence");
        if (!dcols)
            goto done;
        if (PySequence_Fast_GET_SIZE(dcols) != k) {
            PyErr_Format(PyExc_ValueError, "csv_convert: dest has %zd columns for %zd specs",
                         PySequence_Fast_GET_SIZE(dcols), k);
            goto done;
        }
        /* rows [row_offset, row_offset + n) of dest: row_offset + n must not wrap (it did, and
         * a huge row_offset passed the length check and wrote before the arrays) */
        if (row_offset < 0 || row_offset > NPY_MAX_INTP - n) {
            PyErr_Format(PyExc_ValueError, "csv_convert: row_offset must be in [0, %zd] "
                         "(got %zd)", (Py_ssize_t)(NPY_MAX_INTP - n), row_offset);
            goto done;
        }
    }
    if (conv_plan_init(&plan, k) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < k; i++)
        if (conv_parse_spec(&plan, i, PySequence_Fast_GET_ITEM(seq, i), ix) < 0 ||
            conv_plan_outputs(&plan, i, dcols ? PySequence_Fast_GET_ITEM(dcols, i) : NULL,
                              row_offset, n) < 0)
            goto done;
    uint8_t *bad = NULL;
    if (want_bad) {
        void *p;
        if (out_rows(dcols && dbad != Py_None ? dbad : NULL, NPY_BOOL, 1, row_offset, n, "bad",
                     -1, &bad_arr, &p) < 0)
            goto done;
        bad = p;
    }
    if (simd < 0 || simd >= BO_SIMD_NLEVELS || !bo_simd_compiled((bo_simd_level)simd) ||
        !bo_simd_cpu_supports((bo_simd_level)simd)) {
        PyErr_Format(PyExc_ValueError, "csv_convert: SIMD level %d is not available here", simd);
        goto done;
    }
    bo_csv_conv_opts co = {quote, n_threads, pad_short, simd, bo_py_pool()};
    bo_error err;
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bo_csv_convert(view.buf, ix, plan.cols, (int)k, &co, bad, &err);
    Py_END_ALLOW_THREADS
    if (st != BO_OK && st != BO_ERR_PARSE) {
        bo_py_raise_status(st, &err, "csv_convert", NULL);
        goto done;
    }
    outs = conv_results(&plan, n);
    if (!outs)
        goto done;
    /* bad values: returned for the reader to place (or skip) */
    PyObject *exc =
        st == BO_OK ? Py_NewRef(Py_None) : bo_py_status_exc(st, &err, "csv_convert", NULL);
    if (!exc)
        goto done;
    res = Py_BuildValue("(OON)", outs, bad_arr ? bad_arr : Py_None, exc);
done:
    conv_plan_free(&plan);
    Py_XDECREF(outs);
    Py_XDECREF(bad_arr);
    Py_XDECREF(dcols);
    Py_XDECREF(seq);
    PyBuffer_Release(&view);
    return res;
}

/* csv_infer(buf, index, field, quote, na_tuple) -> (type, has_na) */
/* The type codes of enum bo_csv_type by name, for the Python reader (never copied there). */
PyObject *bo_py_csv_type_codes(PyObject *self, PyObject *noargs)
{
    static const struct {
        const char *name;
        int code;
    } types[] = {
#define BO_T(x) {#x, BO_CSV_##x}
        BO_T(INT8),      BO_T(INT16),         BO_T(INT32),    BO_T(INT64), BO_T(FLOAT32),
        BO_T(FLOAT64),   BO_T(BOOL),          BO_T(STR),      BO_T(WKT_POINT),
        BO_T(HEX),       BO_T(DATETIME),      BO_T(DATETIME_ISO), BO_T(UINT64), BO_T(BIGINT),
#undef BO_T
    };
    PyObject *d = PyDict_New();
    for (size_t i = 0; d && i < sizeof types / sizeof types[0]; i++) {
        PyObject *v = PyLong_FromLong(types[i].code);
        if (!v || PyDict_SetItemString(d, types[i].name, v) < 0) {
            Py_XDECREF(v);
            Py_CLEAR(d);
            break;
        }
        Py_DECREF(v);
    }
    return d;
}

PyObject *bo_py_csv_infer(PyObject *self, PyObject *args)
{
    Py_buffer view;
    PyObject *cap, *qobj, *na;
    int field;
    int pad_short = 0;
    if (!PyArg_ParseTuple(args, "y*OiOO|p:csv_infer", &view, &cap, &field, &qobj, &na,
                          &pad_short))
        return NULL;
    PyObject *res = NULL;
    na_holder h = {0};
    char quote;
    bo_csv_index *ix = get_index(cap, &view, "csv_infer");
    if (!ix || get_char(qobj, "quotechar", &quote) < 0 || na_from_tuple(na, &h) < 0)
        goto done;
    if (field < 0 || field >= ix->n_fields) {
        PyErr_Format(PyExc_ValueError, "csv_infer: field %d is outside the index's %d fields",
                     field, (int)ix->n_fields);
        goto done;
    }
    int has_na = 0;
    bo_csv_type t;
    Py_BEGIN_ALLOW_THREADS
    t = bo_csv_infer(view.buf, ix, field, quote, &h.na, pad_short, &has_na);
    Py_END_ALLOW_THREADS
    res = Py_BuildValue("(ii)", (int)t, has_na);
done:
    na_holder_free(&h);
    PyBuffer_Release(&view);
    return res;
}

/* csv_infer_fields(windows, fields, quotechar, na_values, pad_short, n_threads) ->
 * [(type, has_na)] of each field over the rows of every window, a (buf, index) pair
 * (na_values: a tuple of bytes per field), on up to n_threads threads (bo_csv_infer_fields). */
PyObject *bo_py_csv_infer_fields(PyObject *self, PyObject *args)
{
    PyObject *wobj, *fobj, *qobj, *nas_obj;
    int pad_short = 0, n_threads = 1;
    if (!PyArg_ParseTuple(args, "OOOO|pi:csv_infer_fields", &wobj, &fobj, &qobj, &nas_obj,
                          &pad_short, &n_threads))
        return NULL;
    PyObject *res = NULL, *wseq = NULL, *fseq = NULL, *nseq = NULL;
    int *fields = NULL, *has_na = NULL;
    bo_csv_type *types = NULL;
    na_holder *hs = NULL;
    const bo_csv_na **nas = NULL;
    na_seen seen[NA_SHARED];
    int n_seen = 0;
    Py_buffer *views = NULL;
    const char **bufs = NULL;
    const bo_csv_index **ixs = NULL;
    Py_ssize_t n = 0, made = 0, nw = 0, held = 0;
    char quote;
    if (get_char(qobj, "quotechar", &quote) < 0)
        return NULL;
    wseq = PySequence_Fast(wobj, "csv_infer_fields: windows must be a sequence of "
                                 "(buf, index) pairs");
    fseq = wseq ? PySequence_Fast(fobj, "csv_infer_fields: fields must be a sequence of ints")
                : NULL;
    nseq = fseq ? PySequence_Fast(nas_obj, "csv_infer_fields: na_values must be a sequence")
                : NULL;
    if (!nseq)
        goto done;
    nw = PySequence_Fast_GET_SIZE(wseq);
    n = PySequence_Fast_GET_SIZE(fseq);
    if (PySequence_Fast_GET_SIZE(nseq) != n) {
        PyErr_SetString(PyExc_ValueError, "csv_infer_fields: one na_values tuple per field");
        goto done;
    }
    views = calloc((size_t)nw + 1, sizeof *views);
    bufs = calloc((size_t)nw + 1, sizeof *bufs);
    ixs = calloc((size_t)nw + 1, sizeof *ixs);
    fields = calloc((size_t)n + 1, sizeof *fields);
    has_na = calloc((size_t)n + 1, sizeof *has_na);
    types = calloc((size_t)n + 1, sizeof *types);
    hs = calloc((size_t)n + 1, sizeof *hs);
    nas = calloc((size_t)n + 1, sizeof *nas);
    if (!views || !bufs || !ixs || !fields || !has_na || !types || !hs || !nas) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t w = 0; w < nw; w++) {
        PyObject *cap, *item = PySequence_Fast_GET_ITEM(wseq, w);
        if (!PyArg_ParseTuple(item, "y*O:csv_infer_fields window", &views[w], &cap))
            goto done;
        held = w + 1;
        if (!(ixs[w] = get_index(cap, &views[w], "csv_infer_fields")))
            goto done;
        bufs[w] = views[w].buf;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const long f = PyLong_AsLong(PySequence_Fast_GET_ITEM(fseq, i));
        if (f == -1 && PyErr_Occurred())
            goto done;
        for (Py_ssize_t w = 0; w < nw; w++)
            if (f < 0 || f >= ixs[w]->n_fields) {
                PyErr_Format(PyExc_ValueError,
                             "csv_infer_fields: field %ld is outside window %zd's %d fields", f,
                             w, (int)ixs[w]->n_fields);
                goto done;
            }
        fields[i] = (int)f;
        made = i + 1;
        if (!(nas[i] = na_shared(PySequence_Fast_GET_ITEM(nseq, i), seen, &n_seen, &hs[i])))
            goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    bo_csv_infer_fields((int)nw, bufs, ixs, (int)n, fields, quote, nas, pad_short, n_threads,
                        types, has_na);
    Py_END_ALLOW_THREADS
    res = PyList_New(n);
    for (Py_ssize_t i = 0; res && i < n; i++) {
        PyObject *item = Py_BuildValue("(ii)", (int)types[i], has_na[i]);
        if (!item) {
            Py_CLEAR(res);
            break;
        }
        PyList_SET_ITEM(res, i, item);
    }
done:
    for (Py_ssize_t i = 0; hs && i < made; i++)
        na_holder_free(&hs[i]);
    for (Py_ssize_t w = 0; w < held; w++)
        PyBuffer_Release(&views[w]);
    free(views);
    free(bufs);
    free(ixs);
    free(fields);
    free(has_na);
    free(types);
    free(hs);
    free(nas);
    Py_XDECREF(wseq);
    Py_XDECREF(fseq);
    Py_XDECREF(nseq);
    return res;
}

/* csv_index_lines(index) -> the line breaks in the bytes the index covers, or None when the
 * tokenizer did not count them (bo_csv_index.n_lines). */
PyObject *bo_py_csv_index_lines(PyObject *self, PyObject *cap)
{
    bo_csv_index *ix = get_index(cap, NULL, "csv_index_lines");
    if (!ix)
        return NULL;
    if (ix->n_lines < 0)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(ix->n_lines);
}

/* csv_rows(index, rows) -> (row_start_offsets, flags, counts) for the given row numbers. */
PyObject *bo_py_csv_rows(PyObject *self, PyObject *args)
{
    PyObject *cap, *rows_obj;
    if (!PyArg_ParseTuple(args, "OO:csv_rows", &cap, &rows_obj))
        return NULL;
    bo_csv_index *ix = get_index(cap, NULL, "csv_rows");
    if (!ix)
        return NULL;
    PyArrayObject *rows = bo_py_input(rows_obj, NPY_INT64, BO_PY_ANY_SHAPE, -1, "csv_rows", "rows");
    if (!rows)
        return NULL;
    npy_intp m = PyArray_SIZE(rows);
    PyObject *starts = PyArray_EMPTY(1, &m, NPY_INT64, 0);
    PyObject *flags = PyArray_EMPTY(1, &m, NPY_UINT8, 0);
    PyObject *counts = PyArray_EMPTY(1, &m, NPY_INT32, 0);
    if (!starts || !flags || !counts)
        goto fail;
    const int64_t *r = PyArray_DATA(rows);
    for (npy_intp i = 0; i < m; i++) {
        if (r[i] < 0 || r[i] >= ix->n_rows) {
            PyErr_Format(PyExc_ValueError, "csv_rows: rows[%zd] = %lld is outside the index's "
                         "%lld rows", (Py_ssize_t)i, (long long)r[i], (long long)ix->n_rows);
            goto fail;
        }
        ((int64_t *)PyArray_DATA((PyArrayObject *)starts))[i] = bo_csv_row_start(ix, r[i]);
        ((uint8_t *)PyArray_DATA((PyArrayObject *)flags))[i] = ix->flags[r[i]];
        ((int32_t *)PyArray_DATA((PyArrayObject *)counts))[i] = ix->counts[r[i]];
    }
    Py_DECREF(rows);
    return Py_BuildValue("(NNN)", starts, flags, counts);
fail:
    Py_DECREF(rows);
    Py_XDECREF(starts);
    Py_XDECREF(flags);
    Py_XDECREF(counts);
    return NULL;
}

/* Whether view is (a slice of a memoryview of) an mmap.mmap made with ACCESS_READ: the only
 * memory bo_csv_count_lines_par may drop (a shared read-only mapping: its pages come back as
 * they were; on anonymous or private memory MADV_DONTNEED zeroes them, and the page holding
 * buf[0] is dropped whole, so a bytes object's own header went too). 0 with no exception
 * set when it is not; -1 with one set on failure. */
static int read_only_mapping(const Py_buffer *view)
{
    if (!view->readonly || !view->obj)
        return 0;
    PyObject *base = view->obj;
    Py_INCREF(base);
    if (PyMemoryView_Check(base)) { /* the exporter behind a memoryview (and its slices) */
        PyObject *o = PyObject_GetAttrString(base, "obj");
        Py_DECREF(base);
        if (!o)
            return -1;
        base = o;
    }
    PyObject *mod = PyImport_ImportModule("mmap");
    PyObject *type = mod ? PyObject_GetAttrString(mod, "mmap") : NULL;
    Py_XDECREF(mod);
    int ok = type ? PyObject_IsInstance(base, type) : -1;
    Py_XDECREF(type);
    if (ok == 1) { /* the mapping itself must be read-only (not ACCESS_WRITE / ACCESS_COPY) */
        Py_buffer whole;
        if (PyObject_GetBuffer(base, &whole, PyBUF_SIMPLE) < 0) {
            ok = -1;
        } else {
            ok = whole.readonly;
            PyBuffer_Release(&whole);
        }
    }
    Py_DECREF(base);
    return ok;
}

/* csv_count_lines(buf, start, end, n_threads=1, drop_file_pages=False, count=True) -> line
 * breaks in buf[start:end] (0 without count: only the pages are dropped); drop_file_pages only for a view of a read-only file mapping (see
 * bo_csv_count_lines_par: on other memory it would zero the pages). */
PyObject *bo_py_csv_count_lines(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t a, b;
    int n_threads = 1, drop = 0, count = 1;
    if (!PyArg_ParseTuple(args, "y*nn|ipp:csv_count_lines", &view, &a, &b, &n_threads, &drop,
                          &count))
        return NULL;
    if (a < 0 || b < a || b > view.len) {
        PyErr_Format(PyExc_ValueError, "csv_count_lines: start=%zd, end=%zd is not a range of "
                     "buf's %zd bytes", a, b, view.len);
        PyBuffer_Release(&view);
        return NULL;
    }
    if (drop && !read_only_mapping(&view)) {
        PyBuffer_Release(&view);
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError,
                            "csv_count_lines: drop_file_pages needs buf to be a view of a "
                            "read-only mmap.mmap (MADV_DONTNEED zeroes any other memory)");
        return NULL;
    }
    int64_t k;
    Py_BEGIN_ALLOW_THREADS
    k = bo_csv_count_lines_par((const char *)view.buf + a, (size_t)(b - a), n_threads, drop, count);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(k);
}

/* csv_utf8_check(buf) -> offset of the first ill-formed UTF-8 sequence, or -1 (the kernel the
 * string converter runs on every value; exposed for the reference tests). */
PyObject *bo_py_csv_utf8_check(PyObject *self, PyObject *args)
{
    Py_buffer view;
    int simd = 0;
    if (!PyArg_ParseTuple(args, "y*|i:csv_utf8_check", &view, &simd))
        return NULL;
    if (simd < 0 || simd >= BO_SIMD_NLEVELS || !bo_simd_compiled((bo_simd_level)simd) ||
        !bo_simd_cpu_supports((bo_simd_level)simd)) {
        PyBuffer_Release(&view);
        return PyErr_Format(PyExc_ValueError, "csv_utf8_check: SIMD level %d is not available "
                            "here", simd);
    }
    int64_t k;
    Py_BEGIN_ALLOW_THREADS
    k = bo_utf8_check_level(view.buf, (size_t)view.len, simd);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(k);
}

/* ------------------------------------------------------------------ split scanner */

static void scan_capsule_free(PyObject *cap) { free(PyCapsule_GetPointer(cap, SCAN_CAPSULE)); }

static bo_csv_scan *get_scan(PyObject *cap, const char *func)
{
    return get_capsule(cap, SCAN_CAPSULE, func, "scanner", "csv_scan_new");
}

/* csv_scan_new(delimiter, quote) -> scanner */
PyObject *bo_py_csv_scan_new(PyObject *self, PyObject *args)
{
    PyObject *dobj, *qobj;
    char d, q;
    if (!PyArg_ParseTuple(args, "OO:csv_scan_new", &dobj, &qobj) ||
        get_char(dobj, "delimiter", &d) < 0 || get_char(qobj, "quotechar", &q) < 0)
        return NULL;
    bo_csv_scan *s = malloc(sizeof *s);
    if (!s)
        return PyErr_NoMemory();
    bo_csv_scan_init(s, d, q);
    PyObject *cap = PyCapsule_New(s, SCAN_CAPSULE, scan_capsule_free);
    if (!cap)
        free(s);
    return cap;
}

/* csv_scan_feed(scanner, buf, length, targets uint64, found, rows_before, lines_before) ->
 * resolved (the last three are updated in place: writable contiguous int64 arrays) */
PyObject *bo_py_csv_scan_feed(PyObject *self, PyObject *args)
{
    PyObject *cap;
    Py_buffer view;
    Py_ssize_t length;
    PyObject *t_obj, *f_obj, *b_obj, *l_obj;
    if (!PyArg_ParseTuple(args, "Oy*nOOOO:csv_scan_feed", &cap, &view, &length, &t_obj, &f_obj,
                          &b_obj, &l_obj))
        return NULL;
    static const char *const func = "csv_scan_feed";
    PyObject *res = NULL;
    PyArrayObject *targets = NULL, *found, *before, *lines;
    bo_csv_scan *s = get_scan(cap, func);
    if (!s || !(targets = bo_py_input(t_obj, NPY_UINT64, BO_PY_1D, -1, func, "targets")))
        goto done;
    npy_intp m = PyArray_DIM(targets, 0);
    if (!(found = bo_py_output(f_obj, NPY_INT64, 1, m, 0, func, "found")) ||
        !(before = bo_py_output(b_obj, NPY_INT64, 1, m, 0, func, "rows_before")) ||
        !(lines = bo_py_output(l_obj, NPY_INT64, 1, m, 0, func, "lines_before")))
        goto done;
    if (length < 0 || length > view.len) {
        PyErr_Format(PyExc_ValueError, "csv_scan_feed: length must be in [0, %zd], the bytes "
                     "of buf (got %zd)", view.len, length);
        goto done;
    }
    int64_t k;
    Py_BEGIN_ALLOW_THREADS
    k = bo_csv_scan_feed(s, view.buf, (size_t)length, PyArray_DATA(targets), PyArray_DATA(found),
                         PyArray_DATA(before), PyArray_DATA(lines), (int64_t)m);
    Py_END_ALLOW_THREADS
    res = PyLong_FromLongLong(k);
done:
    Py_XDECREF(targets);
    PyBuffer_Release(&view);
    return res;
}

/* csv_scan_finish(scanner) -> (rows, bytes fed, line breaks) */
PyObject *bo_py_csv_scan_finish(PyObject *self, PyObject *args)
{
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O:csv_scan_finish", &cap))
        return NULL;
    bo_csv_scan *s = get_scan(cap, "csv_scan_finish");
    if (!s)
        return NULL;
    return Py_BuildValue("(LKL)", (long long)bo_csv_scan_finish(s), (unsigned long long)s->pos,
                         (long long)s->lines);
}
