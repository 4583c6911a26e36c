/* The binding toolkit declared in bo_py.h. */
#include "bo_py.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* "func: " or "" (messages name the argument as "func: name") */
#define FUNC_FMT "%s%s"
#define FUNC_ARG(func) (func) ? (func) : "", (func) ? ": " : ""

/* ------------------------------------------------------------------ inputs */

PyArrayObject *bo_py_input(PyObject *obj, int typenum, int flags, npy_intp len, const char *func,
                           const char *name)
{
    if ((flags & BO_PY_NO_BOOL) && PyArray_Check(obj) &&
        PyArray_TYPE((PyArrayObject *)obj) == NPY_BOOL && typenum != NPY_BOOL) {
        PyArray_Descr *want = PyArray_DescrFromType(typenum);
        PyErr_Format(PyExc_TypeError, FUNC_FMT "%s must be an array of dtype %S, not bool",
                     FUNC_ARG(func), name, (PyObject *)want);
        Py_DECREF(want);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(obj, typenum, NPY_ARRAY_IN_ARRAY);
    if (!a) {
        /* NumPy's message does not say which argument: name it, keep the kind of error */
        if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyObject *type = PyErr_ExceptionMatches(PyExc_TypeError) ? PyExc_TypeError
                                                                      : PyExc_ValueError;
            PyObject *et, *ev, *tb;
            PyErr_Fetch(&et, &ev, &tb);
            PyErr_NormalizeException(&et, &ev, &tb);
            PyArray_Descr *want = PyArray_DescrFromType(typenum);
            PyErr_Format(type, FUNC_FMT "%s must be an array of dtype %S (got %.100s: %S)",
                         FUNC_ARG(func), name, (PyObject *)want, Py_TYPE(obj)->tp_name,
                         ev ? ev : Py_None);
            Py_DECREF(want);
            Py_XDECREF(et);
            Py_XDECREF(ev);
            Py_XDECREF(tb);
        }
        return NULL;
    }
    const int nd = PyArray_NDIM(a);
    if (((flags & 3) == BO_PY_1D && nd != 1) || ((flags & 3) == BO_PY_UPTO_1D && nd > 1)) {
        PyErr_Format(PyExc_ValueError, FUNC_FMT "%s must be 1-D (got %d dimensions)",
                     FUNC_ARG(func), name, nd);
        Py_DECREF(a);
        return NULL;
    }
    if (len >= 0 && PyArray_SIZE(a) != len) {
        PyErr_Format(PyExc_ValueError, FUNC_FMT "%s has %zd elements, expected %zd",
                     FUNC_ARG(func), name, (Py_ssize_t)PyArray_SIZE(a), (Py_ssize_t)len);
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

/* ------------------------------------------------------------------ outputs */

PyArrayObject *bo_py_output_fits(PyObject *obj, int typenum, int ndim, npy_intp len,
                                 int at_least)
{
    PyArrayObject *a = PyArray_Check(obj) ? (PyArrayObject *)obj : NULL;
    int ok = a && PyArray_TYPE(a) == typenum && PyArray_ISNOTSWAPPED(a) &&
             PyArray_ISALIGNED(a) && PyArray_ISWRITEABLE(a) && PyArray_NDIM(a) == ndim;
    if (ok && ndim == 1)
        ok = PyArray_IS_C_CONTIGUOUS(a);
    else if (ok)
        ok = PyArray_DIM(a, ndim - 1) <= 1 ||
             PyArray_STRIDE(a, ndim - 1) == (npy_intp)PyArray_ITEMSIZE(a);
    if (ok && len >= 0)
        ok = at_least ? PyArray_DIM(a, 0) >= len : PyArray_DIM(a, 0) == len;
    return ok ? a : NULL;
}

PyArrayObject *bo_py_output(PyObject *obj, int typenum, int ndim, npy_intp len, int at_least,
                            const char *func, const char *name)
{
    PyArrayObject *a = bo_py_output_fits(obj, typenum, ndim, len, at_least);
    if (a)
        return a;
    a = PyArray_Check(obj) ? (PyArrayObject *)obj : NULL;
    PyArray_Descr *want = PyArray_DescrFromType(typenum);
    char shape[64] = "";
    if (len >= 0)
        PyOS_snprintf(shape, sizeof shape, " with %s%zd %s", at_least ? "at least " : "",
                      (Py_ssize_t)len, ndim == 1 ? "elements" : "rows");
    PyObject *got = a ? PyUnicode_FromFormat("a %d-D array of dtype %S", PyArray_NDIM(a),
                                             (PyObject *)PyArray_DESCR(a))
                      : PyUnicode_FromString(Py_TYPE(obj)->tp_name);
    if (got)
        PyErr_Format(PyExc_ValueError,
                     FUNC_FMT "%s must be a writeable, aligned, %s %d-D array of dtype %S in "
                     "native byte order%s (got %U)",
                     FUNC_ARG(func), name, ndim == 1 ? "C-contiguous" : "row-contiguous", ndim,
                     (PyObject *)want, shape, got);
    Py_XDECREF(got);
    Py_DECREF(want);
    return NULL;
}

/* ------------------------------------------------------------------ owned arrays */

#define ADOPT_CAPSULE "blockops.malloc"
#define POOL_CAPSULE "blockops.pool"

static bo_pool g_pool;
static pthread_once_t g_pool_once = PTHREAD_ONCE_INIT;

static void pool_after_fork(void) { bo_pool_after_fork(&g_pool); }

static void pool_setup(void)
{
    bo_pool_init(&g_pool, 0);
    pthread_atfork(NULL, NULL, pool_after_fork);
}

bo_pool *bo_py_pool(void)
{
    pthread_once(&g_pool_once, pool_setup);
    return &g_pool;
}

static void adopt_capsule_free(PyObject *cap) { free(PyCapsule_GetPointer(cap, ADOPT_CAPSULE)); }
static void pool_capsule_free(PyObject *cap)
{
    bo_pool_free(&g_pool, PyCapsule_GetPointer(cap, POOL_CAPSULE));
}
static void pool_release(void *p) { bo_pool_free(&g_pool, p); }

/* descr (stolen) array of n over p, owned by a capsule named name whose destructor releases
 * p; release(p) at once when this fails */
static PyObject *adopt(void *p, npy_intp n, PyArray_Descr *descr, const char *name,
                       PyCapsule_Destructor destructor, void (*release)(void *))
{
    PyObject *arr = PyArray_NewFromDescr(&PyArray_Type, descr, 1, &n, NULL, p,
                                         NPY_ARRAY_CARRAY, NULL);
    if (!arr) {
        release(p);
        return NULL;
    }
    PyObject *cap = PyCapsule_New(p, name, destructor);
    if (!cap) {
        Py_DECREF(arr); /* does not own p */
        release(p);
        return NULL;
    }
    /* PyArray_SetBaseObject steals cap even when it fails: cap's destructor has then released
     * p already, so p must not be released here or by the caller (a double free before). */
    if (PyArray_SetBaseObject((PyArrayObject *)arr, cap) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    return arr;
}

/* bo_py_adopt and bo_py_adopt_pooled: take *data over, whatever happens */
static PyObject *adopt_taken(void **data, npy_intp n, int typenum, const char *name,
                             PyCapsule_Destructor destructor, void (*release)(void *))
{
    void *p = *data;
    *data = NULL; /* ours from here on, whatever happens */
    if (!p || n == 0) {
        release(p);
        return PyArray_ZEROS(1, &n, typenum, 0);
    }
    return adopt(p, n, PyArray_DescrFromType(typenum), name, destructor, release);
}

PyObject *bo_py_adopt(void **data, npy_intp n, int typenum)
{
    return adopt_taken(data, n, typenum, ADOPT_CAPSULE, adopt_capsule_free, free);
}

PyObject *bo_py_adopt_pooled(void **data, npy_intp n, int typenum)
{
    return adopt_taken(data, n, typenum, POOL_CAPSULE, pool_capsule_free, pool_release);
}

PyObject *bo_py_pool_empty(PyObject *self, PyObject *args)
{
    Py_ssize_t n;
    PyArray_Descr *descr = NULL;
    int zero = 0;
    if (!PyArg_ParseTuple(args, "nO&p:pool_empty", &n, PyArray_DescrConverter, &descr, &zero))
        return NULL;
    const size_t item = (size_t)PyDataType_ELSIZE(descr);
    if (n < 0 || PyDataType_REFCHK(descr) || item == 0 || (size_t)n > SIZE_MAX / 2 / item) {
        PyErr_Format(PyExc_ValueError, "pool_empty: %zd items of %R", n, (PyObject *)descr);
        Py_DECREF(descr);
        return NULL;
    }
    const size_t bytes = (size_t)n * item;
    void *p = zero ? bo_pool_calloc(&g_pool, bytes) : bo_pool_alloc(&g_pool, bytes);
    if (!p) {
        Py_DECREF(descr);
        return PyErr_NoMemory();
    }
    return adopt(p, (npy_intp)n, descr, POOL_CAPSULE, pool_capsule_free, pool_release);
}

PyObject *bo_py_pool_stats(PyObject *self, PyObject *noargs)
{
    const bo_pool_stats s = bo_pool_get_stats(&g_pool);
    return Py_BuildValue("{s:n,s:n,s:K,s:K,s:K}", "limit", (Py_ssize_t)s.limit, "held",
                         (Py_ssize_t)s.held, "hits", (unsigned long long)s.hits, "misses",
                         (unsigned long long)s.misses, "bypassed",
                         (unsigned long long)s.bypassed);
}

PyObject *bo_py_pool_set_limit(PyObject *self, PyObject *arg)
{
    const Py_ssize_t limit = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    if (limit < 0) {
        PyErr_SetString(PyExc_ValueError, "pool_set_limit: the limit must be >= 0 bytes");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    bo_pool_set_limit(&g_pool, (size_t)limit);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ errors */

PyObject *bo_py_status_exc_at(bo_status st, const bo_error *e, PyObject *where,
                              const char *argname)
{
    const char *m = (e && e->message[0]) ? e->message : bo_status_str(st);
    PyObject *msg = PyUnicode_DecodeUTF8(m, (Py_ssize_t)strlen(m), "backslashreplace");
    if (!msg)
        return NULL;
    PyObject *mod = PyImport_ImportModule("blockops._errors");
    if (!mod) {
        Py_DECREF(msg);
        return NULL;
    }
    PyObject *exc = PyObject_CallMethod(
        mod, "from_status", "isNOzLLLLd", (int)st, bo_status_name(st), msg, where, argname,
        (long long)(e ? e->index : -1), (long long)(e ? e->line : -1),
        (long long)(e ? e->column : -1), (long long)(e ? e->byte_offset : -1),
        e ? e->value : 0.0);
    Py_DECREF(mod);
    return exc;
}

PyObject *bo_py_status_exc(bo_status st, const bo_error *e, const char *func,
                           const char *argname)
{
    PyObject *where = PyUnicode_FromString(func);
    if (!where)
        return NULL;
    PyObject *exc = bo_py_status_exc_at(st, e, where, argname);
    Py_DECREF(where);
    return exc;
}

PyObject *bo_py_raise(PyObject *exc)
{
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

PyObject *bo_py_raise_status(bo_status st, const bo_error *e, const char *func,
                             const char *argname)
{
    return bo_py_raise(bo_py_status_exc(st, e, func, argname));
}
