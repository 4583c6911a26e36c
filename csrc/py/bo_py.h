/* The binding toolkit (GUIDE section 8, "one binding toolkit"): the one NumPy C-API import
 * scheme, input normaliser, output check, owned-array helper and status -> exception path, used
 * by every csrc/py/ file. Include it first, instead
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
#include "blockops/bo_pool.h"

/* ------------------------------------------------------------------ inputs */

/* bo_py_input flags */
#define BO_PY_ANY_SHAPE 0 /* any number of dimensions */
#define BO_PY_1D 1        /* exactly one dimension */
#define BO_PY_UPTO_1D 2   /* a scalar (0-d) or one dimension */
#define BO_PY_NO_BOOL 4   /* refuse bool arrays (NumPy counts bool -> number as a safe cast) */

/* The one input normaliser: obj as an aligned, C-contiguous, native-order array of typenum,
 * PyArray_FROM_OTF(obj, typenum, NPY_ARRAY_IN_ARRAY): obj itself (a new reference, no copy)
 * when it already is one, else a copy; arrays are only cast safely (the dtype allow-list:
 * e.g. int32 -> int64 yes, float64 -> int64 no). The result is never written to (pandas and
 * Ray hand out read-only arrays). len >= 0: it must have exactly len elements. NULL with
 * TypeError (dtype) or ValueError (shape, length) naming "func: name" (func may be NULL). */
PyArrayObject *bo_py_input(PyObject *obj, int typenum, int flags, npy_intp len, const char *func,
                           const char *name);

/* ------------------------------------------------------------------ outputs */

/* The one check of an output array the caller passes in to be written: a NumPy array of
 * exactly typenum in native byte order, aligned, writeable, with ndim dimensions (1 or 2) whose
 * last axis is contiguous (ndim 1: the whole array), and a first dimension of exactly len
 * elements (at_least: len or more; len < 0: any). The array (borrowed), or NULL with
 * ValueError naming "func: name" (func may be NULL). */
PyArrayObject *bo_py_output(PyObject *obj, int typenum, int ndim, npy_intp len, int at_least,
                            const char *func, const char *name);
/* bo_py_output's check alone: the array (borrowed), or NULL with no exception set (a caller
 * that names the output per call builds the name only when the check fails). */
PyArrayObject *bo_py_output_fits(PyObject *obj, int typenum, int ndim, npy_intp len,
                                 int at_least);

/* ------------------------------------------------------------------ owned arrays */

/* The one owned-array helper: a new 1-D array of n elements of typenum over the malloc'ed
 * buffer *data, which it takes over in every case: freed with free() when the array dies, or
 * at once when this fails (or when n == 0 or *data is NULL: then a new zero-filled array).
 * *data is NULL afterwards, so the caller's cleanup path never frees it again. */
PyObject *bo_py_adopt(void **data, npy_intp n, int typenum);

/* The process's output buffer pool (bo_pool.h): readers allocate their outputs from it, and
 * an array over one of its buffers gives the buffer back when the array dies. Its limit is
 * set from Python (blockops._config); it keeps nothing until then. */
bo_pool *bo_py_pool(void);
/* bo_py_adopt for a buffer of bo_py_pool() (bo_pool_alloc): back to the pool when the array
 * dies, or at once when this fails. */
PyObject *bo_py_adopt_pooled(void **data, npy_intp n, int typenum);
/* pool_empty(n, dtype, zero) -> a new 1-D array over a pool buffer; pool_stats() -> dict;
 * pool_set_limit(bytes) */
PyObject *bo_py_pool_empty(PyObject *self, PyObject *args);
PyObject *bo_py_pool_stats(PyObject *self, PyObject *noargs);
PyObject *bo_py_pool_set_limit(PyObject *self, PyObject *arg);

/* ------------------------------------------------------------------ errors */

/* The one status -> exception path: the exception blockops._errors.from_status (the only
 * status -> exception mapping) builds for st, as a new reference, not raised (NULL with an
 * exception set if building it failed). e may be NULL; the message leads with func; argname
 * (may be NULL) names the offending argument. The C message may quote input bytes that are
 * not UTF-8 (a CSV value): they are backslash-escaped, never a UnicodeDecodeError. */
PyObject *bo_py_status_exc(bo_status st, const bo_error *e, const char *func,
                           const char *argname);

/* The same with a str object leading the message instead of func (e.g. a path that need not
 * be encodable as UTF-8). */
PyObject *bo_py_status_exc_at(bo_status st, const bo_error *e, PyObject *where,
                              const char *argname);

/* Raise exc (an exception instance; the reference is stolen) and return NULL; exc NULL: an
 * exception is set already (from building exc). */
PyObject *bo_py_raise(PyObject *exc);

/* Raise bo_py_status_exc(st, e, func, argname) and return NULL. */
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
