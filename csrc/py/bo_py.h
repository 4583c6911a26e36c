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
#endif
