/* Shared by the binding files (csrc/py/ only). */
#ifndef BO_PY_H
#define BO_PY_H
#include <Python.h>
#include "blockops/bo_common.h"

/* Set the exception blockops._errors.from_status builds for st (the one status -> exception
 * mapping) and return NULL. e may be NULL; argname (may be NULL) names the offending
 * argument. Defined in module.c. */
PyObject *bo_py_raise_status(bo_status st, const bo_error *e, const char *func,
                             const char *argname);

/* Call a METH_VARARGS (fn) or METH_VARARGS | METH_KEYWORDS (fn_kw, fn NULL) method so that it
 * also works with all its threads in a fork child (fork_py.c). */
PyObject *bo_py_fork_safe(PyCFunction fn, PyCFunctionWithKeywords fn_kw, PyObject *self,
                          PyObject *args, PyObject *kwargs);
/* Define name##_fs, the fork-safe wrapper of a METH_VARARGS / keyword method, for the table. */
#define BO_PY_FORK_SAFE(name)                                          \
    static PyObject *name##_fs(PyObject *self, PyObject *args)         \
    {                                                                  \
        return bo_py_fork_safe(name, NULL, self, args, NULL);          \
    }
#define BO_PY_FORK_SAFE_KW(name)                                                     \
    static PyObject *name##_fs(PyObject *self, PyObject *args, PyObject *kwargs)     \
    {                                                                                \
        return bo_py_fork_safe(NULL, name, self, args, kwargs);                      \
    }
#endif
