/* The binding toolkit (GUIDE section 8, "one binding toolkit"): the one NumPy C-API import
 * scheme, owned-array helper and status -> exception path, used by every csrc/py/ file. Include it first, instead
 * of Python.h and numpy/arrayobject.h. Defined in bo_py.c. */
#ifndef BO_PY_H
#define BO_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* One NumPy C-API table for the whole extension, filled once by import_array() in
 * PyInit__core (module.c defines BO_PY_DEFINE_NUMPY_API before including this header, which
 * makes it the table's owner); every other file refers to that table. */
#define PY_ARRAY_UNIQUE_SYMBOL blockops_ARRAY_API
#ifndef BO_PY_DEFINE_NUMPY_API
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "blockops/bo_common.h"

/* ------------------------------------------------------------------ owned arrays */

/* The one owned-array helper: a new 1-D array of n elements of typenum over the malloc'ed
 * buffer *data, which it takes over in every case: freed with free() when the array dies, or
 * at once when this fails (or when n == 0 or *data is NULL: then a new zero-filled array).
 * *data is NULL afterwards, so the caller's cleanup path never frees it again. */
PyObject *bo_py_adopt(void **data, npy_intp n, int typenum);

/* ------------------------------------------------------------------ errors */

/* Set the exception blockops._errors.from_status builds for st (the one status -> exception
 * mapping) and return NULL. e may be NULL; argname (may be NULL) names the offending
 * argument. */
PyObject *bo_py_raise_status(bo_status st, const bo_error *e, const char *func,
                             const char *argname);

#endif
