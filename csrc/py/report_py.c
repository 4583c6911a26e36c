/* blockops._core.parse_one_report: the binding of csrc/report/one_report.c.
 *
 * Takes the bytes of one report (only `bytes`: it is immutable, so the GIL can be released
 * while C reads it without another thread changing it underneath) and the path (used only in
 * messages and set as the exception's .path). Errors go through blockops._errors.from_status,
 * the one status -> exception mapping, like module.c's raise_status. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "blockops/bo_common.h"
#include "blockops/bo_report.h"

PyObject *bo_py_parse_one_report(PyObject *self, PyObject *args);

/* Raise the from_status exception for st, with "<path>, line L, column C (byte B)" in front of
 * the C message and .path set on the exception. Always returns NULL. */
static PyObject *raise_report_status(bo_status st, const bo_error *e, PyObject *path)
{
    PyObject *mod = NULL, *where = NULL, *exc = NULL;
    PyObject *path_str = PyObject_Str(path);
    if (!path_str)
        goto done;
    if (e->line >= 0)
        where = PyUnicode_FromFormat("%U, line %lld, column %lld (byte %lld)", path_str,
                                     (long long)e->line, (long long)e->column + 1,
                                     (long long)e->byte_offset);
    else
        where = PyUnicode_FromFormat("%U", path_str);
    if (!where)
        goto done;
    const char *where_c = PyUnicode_AsUTF8(where);
    if (!where_c)
        goto done;
    mod = PyImport_ImportModule("blockops._errors");
    if (!mod)
        goto done;
    exc = PyObject_CallMethod(mod, "from_status", "issszLLLLd", (int)st, bo_status_name(st),
                              e->message[0] ? e->message : bo_status_str(st), where_c, NULL,
                              (long long)e->index, (long long)e->line, (long long)e->column,
                              (long long)e->byte_offset, e->value);
    if (!exc)
        goto done;
    if (PyObject_SetAttrString(exc, "path", path) < 0)
        goto done;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
done:
    Py_XDECREF(exc);
    Py_XDECREF(mod);
    Py_XDECREF(where);
    Py_XDECREF(path_str);
    return NULL;
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
