/* blockops._core report functions: the binding of csrc/report/.
 *
 * parse_one_report(data, path): the bytes of one report (only `bytes`: it is immutable, so the
 * GIL can be released while C reads it without another thread changing it underneath) and the
 * path (used only in messages and set as the exception's .path). Errors go through
 * bo_py_status_exc_at, the one status -> exception path.
 *
 * read_one_reports(paths, n_threads, max_file_bytes, files_per_task): the batch reader
 * (bo_report_read_files), see bo_py_read_one_reports below. */
#include "bo_py.h"

#include <stdlib.h>
#include <string.h>

#include "blockops/bo_report.h"

PyObject *bo_py_parse_one_report(PyObject *self, PyObject *args);
PyObject *bo_py_read_one_reports(PyObject *self, PyObject *args);

/* Raise the from_status exception for st, with "<path>, line L, column C (byte B)" in front of
 * the C message and .path set on the exception. Always returns NULL. */
static PyObject *raise_report_status(bo_status st, const bo_error *e, PyObject *path)
{
    PyObject *where;
    if (e->line >= 0)
        where = PyUnicode_FromFormat("%S, line %lld, column %lld (byte %lld)", path,
                                     (long long)e->line, (long long)e->column + 1,
                                     (long long)e->byte_offset);
    else
        where = PyObject_Str(path);
    if (!where)
        return NULL;
    PyObject *exc = bo_py_status_exc_at(st, e, where, NULL);
    Py_DECREF(where);
    if (exc && PyObject_SetAttrString(exc, "path", path) < 0)
        Py_CLEAR(exc);
    return bo_py_raise(exc);
}

PyObject *bo_py_parse_one_report(PyObject *self, PyObject *args)
{
    PyObject *data, *path;
    if (!PyArg_ParseTuple(args, "O!O:parse_one_report", &PyBytes_Type, &data, &path))
        return NULL;
    const char *buf = PyBytes_AS_STRING(data);
    size_t len = (size_t)PyBytes_GET_SIZE(data);

    bo_report rep;
    bo_report_init(&rep);
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bo_report_parse(buf, len, &rep, &err);
    Py_END_ALLOW_THREADS
    if (st != BO_OK)
        return raise_report_status(st, &err, path);

    PyObject *title = NULL, *keys = NULL, *values = NULL;
    /* the title is free text: never fail on its encoding */
    title = PyUnicode_DecodeUTF8(buf + rep.title.off, (Py_ssize_t)rep.title.len, "replace");
    keys = PyList_New((Py_ssize_t)rep.n);
    values = PyList_New((Py_ssize_t)rep.n);
    if (!title || !keys || !values)
        goto fail;
    for (size_t i = 0; i < rep.n; i++) {
        /* the C parser has validated the key as UTF-8 */
        PyObject *k = PyUnicode_DecodeUTF8(buf + rep.keys[i].off, (Py_ssize_t)rep.keys[i].len,
                                           "strict");
        if (!k)
            goto fail;
        /* every file repeats the same few keys: share one string object per key */
        PyUnicode_InternInPlace(&k);
        PyList_SET_ITEM(keys, (Py_ssize_t)i, k);
        PyObject *v = PyFloat_FromDouble(rep.values[i]);
        if (!v)
            goto fail;
        PyList_SET_ITEM(values, (Py_ssize_t)i, v);
    }
    bo_report_free(&rep);
    return Py_BuildValue("(NNN)", title, keys, values);
fail:
    bo_report_free(&rep);
    Py_XDECREF(title);
    Py_XDECREF(keys);
    Py_XDECREF(values);
    return NULL;
}

/* ------------------------------------------------------------------ many files */

/* Files per GIL-released call: ~10-100 ms of work, so Ctrl-C is noticed promptly. The batch
 * is the same however the files are split into calls (see bo_report.h). */
#define REPORT_BLOCK 8192

static int get_size_arg(PyObject *o, const char *name, size_t *out)
{
    Py_ssize_t v = PyNumber_AsSsize_t(o, PyExc_OverflowError);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 0) {
        PyErr_Format(PyExc_ValueError, "read_one_reports: %s must be >= 0 (got %zd)", name, v);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* read_one_reports(paths, n_threads, max_file_bytes, files_per_task, progress=None, /) -> dict
 *
 * paths: list of bytes (os.fsencode'd by the caller). progress: None or a callable, called
 * with the number of files just read after each block of REPORT_BLOCK files, with the GIL held
 * between two GIL-released calls (where Ctrl-C is checked too), never from inside the C
 * reader: a progress bar for batches that take seconds; an exception it raises stops the read
 * and propagates. Returns
 *   pair_start  uint64[n + 1]   file i has pairs [pair_start[i], pair_start[i + 1])
 *   key_id      uint32[pairs]   index into keys
 *   value       float64[pairs]
 *   keys        list of str     distinct keys, in order of first appearance
 *   errors      list of (file index, status name, errno, line, column, byte offset, message);
 *               line/column/byte offset are -1 when they do not apply, column is 0-based
 *   n_dup_pairs int             pairs whose key occurred earlier in the same file
 * Bad files are entries of errors, never exceptions; the call raises only for bad arguments,
 * out of memory and Ctrl-C. */
PyObject *bo_py_read_one_reports(PyObject *self, PyObject *args)
{
    PyObject *list, *o_threads, *o_max, *o_per, *progress = Py_None;
    if (!PyArg_ParseTuple(args, "O!OOO|O:read_one_reports", &PyList_Type, &list, &o_threads,
                          &o_max, &o_per, &progress))
        return NULL;
    if (progress != Py_None && !PyCallable_Check(progress)) {
        PyErr_Format(PyExc_TypeError, "read_one_reports: progress must be callable or None, "
                     "not %.100s", Py_TYPE(progress)->tp_name);
        return NULL;
    }
    long n_threads = PyLong_AsLong(o_threads);
    if (n_threads == -1 && PyErr_Occurred())
        return NULL;
    if (n_threads < 1 || n_threads > 4096) {
        PyErr_Format(PyExc_ValueError, "read_one_reports: n_threads must be in [1, 4096] (got %ld)",
                     n_threads);
        return NULL;
    }
    bo_report_read_opts opts = {(int)n_threads, 0, 0};
    if (get_size_arg(o_max, "max_file_bytes", &opts.max_file_bytes) < 0 ||
        get_size_arg(o_per, "files_per_task", &opts.files_per_task) < 0)
        return NULL;
    if (opts.max_file_bytes == 0) {
        PyErr_SetString(PyExc_ValueError, "read_one_reports: max_file_bytes must be >= 1");
        return NULL;
    }

    /* A tuple holds the bytes objects for as long as C reads their buffers: the caller's list
     * could be changed by another thread while the GIL is released. */
    PyObject *paths = PyList_AsTuple(list);
    if (!paths)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(paths);
    const char **cpaths = (const char **)malloc((size_t)(n ? n : 1) * sizeof *cpaths);
    PyObject *result = NULL, *keys = NULL, *errors = NULL;
    PyObject *a_start = NULL, *a_kid = NULL, *a_val = NULL;
    bo_report_batch batch;
    bo_report_batch_init(&batch);
    if (!cpaths) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *p = PyTuple_GET_ITEM(paths, i);
        if (!PyBytes_Check(p)) {
            PyErr_Format(PyExc_TypeError, "read_one_reports: paths[%zd] must be bytes, not %.100s",
                         i, Py_TYPE(p)->tp_name);
            goto done;
        }
        cpaths[i] = PyBytes_AS_STRING(p);
        if (strlen(cpaths[i]) != (size_t)PyBytes_GET_SIZE(p)) {
            PyErr_Format(PyExc_ValueError, "read_one_reports: paths[%zd] contains a NUL byte: %R",
                         i, p);
            goto done;
        }
    }

    for (Py_ssize_t b = 0; b < n || b == 0; b += REPORT_BLOCK) {
        size_t m = (size_t)(n - b < REPORT_BLOCK ? n - b : REPORT_BLOCK);
        bo_error err;
        bo_error_clear(&err);
        bo_status st;
        Py_BEGIN_ALLOW_THREADS
        st = bo_report_read_files(cpaths + b, m, &opts, &batch, &err);
        Py_END_ALLOW_THREADS
        if (st != BO_OK) {
            bo_py_raise_status(st, &err, "read_one_reports", NULL);
            goto done;
        }
        if (PyErr_CheckSignals() < 0)
            goto done;
        if (progress != Py_None && m > 0) {
            PyObject *r = PyObject_CallFunction(progress, "n", (Py_ssize_t)m);
            if (!r)
                goto done;
            Py_DECREF(r);
        }
        if (n == 0)
            break;
    }

    keys = PyList_New((Py_ssize_t)batch.n_keys);
    errors = PyList_New((Py_ssize_t)batch.n_errors);
    if (!keys || !errors)
        goto done;
    for (size_t k = 0; k < batch.n_keys; k++) {
        /* the parser validated every key as UTF-8 */
        PyObject *s = PyUnicode_DecodeUTF8(batch.key_text + batch.key_start[k],
                                           (Py_ssize_t)(batch.key_start[k + 1] - batch.key_start[k]),
                                           "strict");
        if (!s)
            goto done;
        PyUnicode_InternInPlace(&s);
        PyList_SET_ITEM(keys, (Py_ssize_t)k, s);
    }
    for (size_t e = 0; e < batch.n_errors; e++) {
        const bo_report_file_error *fe = &batch.errors[e];
        PyObject *t = Py_BuildValue("(nsiLLLs)", (Py_ssize_t)fe->file, bo_status_name(fe->status),
                                    fe->sys_errno, (long long)fe->err.line,
                                    (long long)fe->err.column, (long long)fe->err.byte_offset,
                                    fe->err.message[0] ? fe->err.message : bo_status_str(fe->status));
        if (!t)
            goto done;
        PyList_SET_ITEM(errors, (Py_ssize_t)e, t);
    }
    Py_BUILD_ASSERT(sizeof(size_t) == sizeof(npy_uintp));
    a_start = bo_py_adopt((void **)&batch.pair_start, (npy_intp)batch.n_files + 1, NPY_UINTP);
    if (!a_start)
        goto done;
    a_kid = bo_py_adopt((void **)&batch.key_id, (npy_intp)batch.n_pairs, NPY_UINT32);
    if (!a_kid)
        goto done;
    a_val = bo_py_adopt((void **)&batch.value, (npy_intp)batch.n_pairs, NPY_FLOAT64);
    if (!a_val)
        goto done;
    result = Py_BuildValue("{s:O,s:O,s:O,s:O,s:O,s:n}", "pair_start", a_start, "key_id", a_kid,
                           "value", a_val, "keys", keys, "errors", errors, "n_dup_pairs",
                           (Py_ssize_t)batch.n_dup_pairs);
done:
    bo_report_batch_free(&batch);
    free(cpaths);
    Py_DECREF(paths);
    Py_XDECREF(keys);
    Py_XDECREF(errors);
    Py_XDECREF(a_start);
    Py_XDECREF(a_kid);
    Py_XDECREF(a_val);
    return result;
}
