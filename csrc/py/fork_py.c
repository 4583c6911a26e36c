/* Every _core function that can open a parallel region is called through bo_py_fork_safe, so
 * that in a fork child the thread that forked (whose libgomp pool is stale, see
 * csrc/common/fork.c) runs it on the child's runner thread with all its threads. The whole
 * method runs there, argument parsing included: it needs the GIL, which the runner takes while
 * the caller waits with the GIL released. An exception raised on the runner is moved to the
 * caller's thread state. */
#include "bo_py.h"

typedef struct py_call {
    PyCFunction fn;          /* METH_VARARGS */
    PyCFunctionWithKeywords fn_kw;  /* METH_VARARGS | METH_KEYWORDS */
    PyObject *self, *args, *kwargs, *result;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc;
#else
    PyObject *type, *value, *tb;
#endif
} py_call;

static PyObject *call_here(py_call *c)
{
    return c->fn_kw ? c->fn_kw(c->self, c->args, c->kwargs) : c->fn(c->self, c->args);
}

static void call_direct(void *p)
{
    py_call *c = p;
    c->result = call_here(c);
}

static void call_on_runner(void *p)
{
    py_call *c = p;
    PyGILState_STATE g = PyGILState_Ensure();
    c->result = call_here(c);
    if (!c->result) {
#if PY_VERSION_HEX >= 0x030C0000
        c->exc = PyErr_GetRaisedException();
#else
        PyErr_Fetch(&c->type, &c->value, &c->tb);
#endif
    }
    PyGILState_Release(g);
}

PyObject *bo_py_fork_safe(PyCFunction fn, PyCFunctionWithKeywords fn_kw, PyObject *self,
                          PyObject *args, PyObject *kwargs)
{
    py_call c = {fn, fn_kw, self, args, kwargs, NULL};
    if (!bo_fork_stale_thread()) {
        /* the common case: on this thread, GIL held (bo_run_fork_safe also notes that this
         * thread ran blockops work, for a later fork) */
        bo_run_fork_safe(call_direct, &c);
        return c.result;
    }
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    st = bo_run_fork_safe(call_on_runner, &c);
    Py_END_ALLOW_THREADS
    if (st != BO_OK) return bo_py_raise_status(st, NULL, "fork-safe call (runner thread)", NULL);
    if (!c.result) {
#if PY_VERSION_HEX >= 0x030C0000
        PyErr_SetRaisedException(c.exc);
#else
        PyErr_Restore(c.type, c.value, c.tb);
#endif
    }
    return c.result;
}
