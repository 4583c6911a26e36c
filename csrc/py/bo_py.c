/* The binding toolkit declared in bo_py.h. */
#include "bo_py.h"

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
