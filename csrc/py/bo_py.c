/* The binding toolkit declared in bo_py.h. */
#include "bo_py.h"

#include <stdlib.h>

/* ------------------------------------------------------------------ owned arrays */

#define ADOPT_CAPSULE "blockops.malloc"

static void adopt_capsule_free(PyObject *cap) { free(PyCapsule_GetPointer(cap, ADOPT_CAPSULE)); }

PyObject *bo_py_adopt(void **data, npy_intp n, int typenum)
{
    void *p = *data;
    *data = NULL; /* ours from here on, whatever happens */
    if (!p || n == 0) {
        free(p);
        return PyArray_ZEROS(1, &n, typenum, 0);
    }
    PyObject *arr = PyArray_SimpleNewFromData(1, &n, typenum, p);
    if (!arr) {
        free(p);
        return NULL;
    }
    PyObject *cap = PyCapsule_New(p, ADOPT_CAPSULE, adopt_capsule_free);
    if (!cap) {
        Py_DECREF(arr); /* does not own p */
        free(p);
        return NULL;
    }
    /* PyArray_SetBaseObject steals cap even when it fails: cap's destructor has then freed p
     * already, so p must not be freed here or by the caller (a double free before). */
    if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* ------------------------------------------------------------------ errors */

PyObject *bo_py_raise_status(bo_status st, const bo_error *e, const char *func,
                             const char *argname)
{
    PyObject *mod = PyImport_ImportModule("blockops._errors");
    if (!mod)
        return NULL;
    PyObject *exc = PyObject_CallMethod(
        mod, "from_status", "issszLLLLd", (int)st, bo_status_name(st),
        (e && e->message[0]) ? e->message : bo_status_str(st), func, argname,
        (long long)(e ? e->index : -1), (long long)(e ? e->line : -1),
        (long long)(e ? e->column : -1), (long long)(e ? e->byte_offset : -1),
        e ? e->value : 0.0);
    Py_DECREF(mod);
    if (!exc)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}
