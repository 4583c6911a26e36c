/* blockops._core: the module (geo, resources, config functions and the method table).
 *
 * Functions here take already-normalized arguments from python/blockops (which does the
 * pandas/scalar/broadcast handling and builds friendly messages); this layer re-checks dtypes
 * and lengths, never writes into inputs, releases the GIL around the pure-C call and maps
 * bo_status to exceptions through blockops._errors.from_status (the one mapping). The
 * toolkit every binding file shares is bo_py.h. */
/* this file owns the NumPy C-API table (see bo_py.h) */
#define BO_PY_DEFINE_NUMPY_API
#include "bo_py.h"

#include "blockops/bo_geo.h"
#include "blockops/bo_res.h"
#include "blockops/bo_v2x.h"

/* ------------------------------------------------------------------ errors */

static PyObject *raise_status(bo_status st, const bo_error *e, const char *func,
                              const char *const *argnames, int nargnames)
{
    const char *argname = NULL;
    if (e && e->column >= 0 && e->column < nargnames && argnames)
        argname = argnames[e->column];
    return bo_py_raise_status(st, e, func, argname);
}

/* ------------------------------------------------------------------ inputs */

typedef struct {
    PyArrayObject *arr[4];
    int n_in;
    npy_intp n;
    unsigned bcast;
} inputs_t;

static void inputs_free(inputs_t *in)
{
    for (int i = 0; i < 4; i++)
        Py_CLEAR(in->arr[i]);
}

/* Up to 4 inputs through bo_py_input (contiguous, aligned arrays of typenum, a copy only when
 * needed, never written to), each of length n or 1; length-1 inputs are flagged for
 * broadcasting. */
static int inputs_get(inputs_t *in, PyObject *const *objs, const char *const *names, int k,
                      int typenum, int allow_bcast)
{
    memset(in, 0, sizeof *in);
    in->n_in = k;
    in->n = -1;
    for (int i = 0; i < k; i++) {
        in->arr[i] = bo_py_input(objs[i], typenum, BO_PY_UPTO_1D, -1, NULL, names[i]);
        if (!in->arr[i])
            goto fail;
        npy_intp len = PyArray_SIZE(in->arr[i]);
        if (len != 1 || !allow_bcast)
            in->n = in->n < 0 ? len : in->n;
    }
    if (in->n < 0)
        in->n = 1;
    for (int i = 0; i < k; i++) {
        npy_intp len = PyArray_SIZE(in->arr[i]);
        if (len == in->n)
            continue;
        if (len == 1 && allow_bcast) {
            in->bcast |= 1u << i;
            continue;
        }
        PyErr_Format(PyExc_ValueError, "%s has length %zd but %s has length %zd", names[0],
                     (Py_ssize_t)PyArray_SIZE(in->arr[0]), names[i], (Py_ssize_t)len);
        goto fail;
    }
    return 0;
fail:
    inputs_free(in);
    return -1;
}

static int typenum_of(PyObject *obj)
{
    if (PyArray_Check(obj) && PyArray_TYPE((PyArrayObject *)obj) == NPY_FLOAT32)
        return NPY_FLOAT32;
    return NPY_FLOAT64;
}

static int parse_simd(int simd, bo_geo_opts *o, int n_threads, int validate)
{
    if (simd < 0 || simd >= BO_SIMD_NLEVELS) {
        PyErr_Format(PyExc_ValueError, "invalid SIMD level %d", simd);
        return -1;
    }
    o->simd = (bo_simd_level)simd;
    o->n_threads = n_threads;
    o->validate = validate;
    return 0;
}

#define DATA(a) PyArray_DATA(a)

/* ------------------------------------------------------------------ geo */

static const char *const hav_names[] = {"lat1", "lon1", "lat2", "lon2"};

static PyObject *py_haversine(PyObject *self, PyObject *args)
{
    PyObject *objs[4], *out_obj;
    double radius;
    int simd, n_threads, validate;
    if (!PyArg_ParseTuple(args, "OOOOdOiip", &objs[0], &objs[1], &objs[2], &objs[3], &radius,
                          &out_obj, &simd, &n_threads, &validate))
        return NULL;
    bo_geo_opts o;
    if (parse_simd(simd, &o, n_threads, validate))
        return NULL;
    int tn = typenum_of(objs[0]);
    inputs_t in;
    if (inputs_get(&in, objs, hav_names, 4, tn, 1))
        return NULL;
    PyArrayObject *out;
    if (out_obj == Py_None) {
        npy_intp dims[1] = {in.n};
        out = (PyArrayObject *)PyArray_SimpleNew(1, dims, tn);
        if (!out)
            goto fail;
    } else {
        if (!(out = bo_py_output(out_obj, tn, 1, in.n, 0, "haversine", "out")))
            goto fail;
        Py_INCREF(out);
    }
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    if (tn == NPY_FLOAT32)
        st = bo_haversine_f32(DATA(in.arr[0]), DATA(in.arr[1]), DATA(in.arr[2]), DATA(in.arr[3]),
                              in.bcast, DATA(out), (size_t)in.n, (float)radius, &o, &err);
    else
        st = bo_haversine_f64(DATA(in.arr[0]), DATA(in.arr[1]), DATA(in.arr[2]), DATA(in.arr[3]),
                              in.bcast, DATA(out), (size_t)in.n, radius, &o, &err);
    Py_END_ALLOW_THREADS
    inputs_free(&in);
    if (st != BO_OK) {
        Py_DECREF(out);
        return raise_status(st, &err, "haversine", hav_names, 4);
    }
    return (PyObject *)out;
fail:
    inputs_free(&in);
    return NULL;
}

static PyObject *new_bool(npy_intp n)
{
    npy_intp dims[1] = {n};
    return PyArray_SimpleNew(1, dims, NPY_BOOL);
}

static const char *const within_names[] = {"lat", "lon", "center_lat", "center_lon"};

static PyObject *py_within_radius(PyObject *self, PyObject *args)
{
    PyObject *objs[2];
    double clat, clon, r, er;
    int simd, n_threads, validate;
    if (!PyArg_ParseTuple(args, "OOddddiip", &objs[0], &objs[1], &clat, &clon, &r, &er, &simd,
                          &n_threads, &validate))
        return NULL;
    bo_geo_opts o;
    if (parse_simd(simd, &o, n_threads, validate))
        return NULL;
    int tn = typenum_of(objs[0]);
    inputs_t in;
    if (inputs_get(&in, objs, within_names, 2, tn, 0))
        return NULL;
    PyArrayObject *out = (PyArrayObject *)new_bool(in.n);
    if (!out) {
        inputs_free(&in);
        return NULL;
    }
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    if (tn == NPY_FLOAT32)
        st = bo_within_radius_f32(DATA(in.arr[0]), DATA(in.arr[1]), (size_t)in.n, clat, clon, r,
                                  er, DATA(out), &o, &err);
    else
        st = bo_within_radius_f64(DATA(in.arr[0]), DATA(in.arr[1]), (size_t)in.n, clat, clon, r,
                                  er, DATA(out), &o, &err);
    Py_END_ALLOW_THREADS
    inputs_free(&in);
    if (st != BO_OK) {
        Py_DECREF(out);
        return raise_status(st, &err, "within_radius", within_names, 4);
    }
    return (PyObject *)out;
}

static PyObject *py_within_bbox(PyObject *self, PyObject *args)
{
    PyObject *objs[2];
    double box[4];
    int simd, n_threads;
    if (!PyArg_ParseTuple(args, "OOddddii", &objs[0], &objs[1], &box[0], &box[1], &box[2],
                          &box[3], &simd, &n_threads))
        return NULL;
    bo_geo_opts o;
    if (parse_simd(simd, &o, n_threads, 0))
        return NULL;
    int tn = typenum_of(objs[0]);
    inputs_t in;
    if (inputs_get(&in, objs, within_names, 2, tn, 0))
        return NULL;
    PyArrayObject *out = (PyArrayObject *)new_bool(in.n);
    if (!out) {
        inputs_free(&in);
        return NULL;
    }
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    if (tn == NPY_FLOAT32)
        st = bo_within_bbox_f32(DATA(in.arr[0]), DATA(in.arr[1]), (size_t)in.n, box, DATA(out),
                                &o, &err);
    else
        st = bo_within_bbox_f64(DATA(in.arr[0]), DATA(in.arr[1]), (size_t)in.n, box, DATA(out),
                                &o, &err);
    Py_END_ALLOW_THREADS
    inputs_free(&in);
    if (st != BO_OK) {
        Py_DECREF(out);
        return raise_status(st, &err, "within_bbox", NULL, 0);
    }
    return (PyObject *)out;
}

static PyObject *py_radius_bbox(PyObject *self, PyObject *args)
{
    double clat, clon, r, er, box[4];
    if (!PyArg_ParseTuple(args, "dddd", &clat, &clon, &r, &er))
        return NULL;
    bo_error err;
    bo_error_clear(&err);
    bo_status st = bo_radius_bbox(clat, clon, r, er, box, &err);
    if (st != BO_OK) {
        static const char *const names[] = {"center_lat"};
        return raise_status(st, &err, "radius_bbox", names, 1);
    }
    return Py_BuildValue("(dddd)", box[0], box[1], box[2], box[3]);
}

static const char *const xy_names[] = {"lat", "lon", "origin_lat", "origin_lon"};

static PyObject *py_to_local_xy(PyObject *self, PyObject *args)
{
    PyObject *objs[2];
    double olat, olon, R;
    int n_threads, validate;
    if (!PyArg_ParseTuple(args, "OOdddip", &objs[0], &objs[1], &olat, &olon, &R, &n_threads,
                          &validate))
        return NULL;
    bo_geo_opts o = {BO_SIMD_SCALAR, n_threads, validate};
    int tn = typenum_of(objs[0]);
    inputs_t in;
    if (inputs_get(&in, objs, xy_names, 2, tn, 0))
        return NULL;
    npy_intp dims[1] = {in.n};
    PyObject *x = PyArray_SimpleNew(1, dims, tn), *y = PyArray_SimpleNew(1, dims, tn);
    if (!x || !y)
        goto fail;
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    if (tn == NPY_FLOAT32)
        st = bo_to_local_xy_f32(DATA(in.arr[0]), DATA(in.arr[1]), (size_t)in.n, olat, olon, R,
                                DATA((PyArrayObject *)x), DATA((PyArrayObject *)y), &o, &err);
    else
        st = bo_to_local_xy_f64(DATA(in.arr[0]), DATA(in.arr[1]), (size_t)in.n, olat, olon, R,
                                DATA((PyArrayObject *)x), DATA((PyArrayObject *)y), &o, &err);
    Py_END_ALLOW_THREADS
    inputs_free(&in);
    if (st != BO_OK) {
        Py_DECREF(x);
        Py_DECREF(y);
        return raise_status(st, &err, "to_local_xy", xy_names, 4);
    }
    return Py_BuildValue("(NN)", x, y);
fail:
    Py_XDECREF(x);
    Py_XDECREF(y);
    inputs_free(&in);
    return NULL;
}

static const char *const dest_names[] = {"lat", "lon", "bearing_deg", "distance_m"};

static PyObject *py_destination(PyObject *self, PyObject *args)
{
    PyObject *objs[4];
    double R;
    int n_threads, validate;
    if (!PyArg_ParseTuple(args, "OOOOdip", &objs[0], &objs[1], &objs[2], &objs[3], &R,
                          &n_threads, &validate))
        return NULL;
    bo_geo_opts o = {BO_SIMD_SCALAR, n_threads, validate};
    int tn = typenum_of(objs[0]);
    inputs_t in;
    if (inputs_get(&in, objs, dest_names, 4, tn, 1))
        return NULL;
    npy_intp dims[1] = {in.n};
    PyObject *a = PyArray_SimpleNew(1, dims, tn), *b = PyArray_SimpleNew(1, dims, tn);
    if (!a || !b)
        goto fail;
    bo_error err;
    bo_error_clear(&err);
    bo_status st;
    Py_BEGIN_ALLOW_THREADS
    if (tn == NPY_FLOAT32)
        st = bo_destination_f32(DATA(in.arr[0]), DATA(in.arr[1]), DATA(in.arr[2]),
                                DATA(in.arr[3]), in.bcast, (size_t)in.n, R,
                                DATA((PyArrayObject *)a), DATA((PyArrayObject *)b), &o, &err);
    else
        st = bo_destination_f64(DATA(in.arr[0]), DATA(in.arr[1]), DATA(in.arr[2]),
                                DATA(in.arr[3]), in.bcast, (size_t)in.n, R,
                                DATA((PyArrayObject *)a), DATA((PyArrayObject *)b), &o, &err);
    Py_END_ALLOW_THREADS
    inputs_free(&in);
    if (st != BO_OK) {
        Py_DECREF(a);
        Py_DECREF(b);
        return raise_status(st, &err, "destination", dest_names, 4);
    }
    return Py_BuildValue("(NN)", a, b);
fail:
    Py_XDECREF(a);
    Py_XDECREF(b);
    inputs_free(&in);
    return NULL;
}

/* ------------------------------------------------------------------ resources */

static PyObject *py_system_memory(PyObject *self, PyObject *args)
{
    const char *proc = NULL, *cg = NULL;
    if (!PyArg_ParseTuple(args, "|zz", &proc, &cg))
        return NULL;
    bo_mem_info m;
    bo_error err;
    bo_error_clear(&err);
    bo_status st = bo_res_memory(proc, cg, &m, &err);
    if (st != BO_OK)
        return raise_status(st, &err, "system_memory", NULL, 0);
    return Py_BuildValue("{s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:i,s:s}", "total", (long long)m.total,
                         "available", (long long)m.available, "cgroup_max",
                         (long long)m.cgroup_max, "cgroup_high", (long long)m.cgroup_high,
                         "cgroup_usage", (long long)m.cgroup_usage, "effective_limit",
                         (long long)m.effective_limit, "effective_available",
                         (long long)m.effective_available, "cgroup_version", m.cgroup_version,
                         "cgroup_path", m.cgroup_path);
}

static PyObject *py_cpu_info(PyObject *self, PyObject *args)
{
    const char *proc = NULL, *cg = NULL;
    int online = -1, affinity = -1;
    if (!PyArg_ParseTuple(args, "|zzii", &proc, &cg, &online, &affinity))
        return NULL;
    bo_cpu_info c;
    bo_error err;
    bo_error_clear(&err);
    bo_status st = bo_res_cpu(proc, cg, online, affinity, &c, &err);
    if (st != BO_OK)
        return raise_status(st, &err, "cpu_count", NULL, 0);
    return Py_BuildValue("{s:i,s:i,s:d,s:i,s:i,s:i}", "online", c.online, "affinity", c.affinity,
                         "quota", c.quota, "quota_cpus", c.quota_cpus, "effective", c.effective,
                         "cgroup_version", c.cgroup_version);
}

static PyObject *py_rss(PyObject *self, PyObject *args)
{
    const char *proc = NULL;
    if (!PyArg_ParseTuple(args, "|z", &proc))
        return NULL;
    int64_t rss = -1, peak = -1;
    bo_error err;
    bo_error_clear(&err);
    bo_status st = bo_res_rss(proc, &rss, &peak, &err);
    if (st != BO_OK)
        return raise_status(st, &err, "rss", NULL, 0);
    return Py_BuildValue("(LL)", (long long)rss, (long long)peak);
}

/* ------------------------------------------------------------------ config */

static PyObject *py_build_info(PyObject *self, PyObject *noargs)
{
    PyObject *compiled = PyList_New(0), *supported = PyList_New(0), *wkt = PyDict_New();
    if (!compiled || !supported || !wkt)
        goto fail;
    for (int i = 0; i < BO_SIMD_NLEVELS; i++) {
        PyObject *name = PyUnicode_FromString(bo_simd_name((bo_simd_level)i));
        if (!name)
            goto fail;
        if (bo_simd_compiled((bo_simd_level)i) && PyList_Append(compiled, name) < 0) {
            Py_DECREF(name);
            goto fail;
        }
        if (bo_simd_compiled((bo_simd_level)i) && bo_simd_cpu_supports((bo_simd_level)i) &&
            PyList_Append(supported, name) < 0) {
            Py_DECREF(name);
            goto fail;
        }
        /* the WKT point kernel each available level runs (a level may share the baseline) */
        const char *k = bo_v2x_wkt_kernel_name((bo_simd_level)i);
        PyObject *kn = k ? PyUnicode_FromString(k) : NULL;
        if (k && (!kn || PyDict_SetItem(wkt, name, kn) < 0)) {
            Py_XDECREF(kn);
            Py_DECREF(name);
            goto fail;
        }
        Py_XDECREF(kn);
        Py_DECREF(name);
    }
    return Py_BuildValue("{s:s,s:s,s:O,s:N,s:N,s:s,s:i,s:N}", "compiler", bo_build_compiler(),
                         "c_flags", bo_build_flags(), "openmp",
                         bo_build_openmp() ? Py_True : Py_False, "simd_compiled", compiled,
                         "simd_supported", supported, "simd_best",
                         bo_simd_name(bo_simd_best()), "omp_max_threads", bo_omp_max_threads(),
                         "v2x_wkt_kernels", wkt);
fail:
    Py_XDECREF(compiled);
    Py_XDECREF(supported);
    Py_XDECREF(wkt);
    return NULL;
}

static PyObject *py_status_codes(PyObject *self, PyObject *noargs)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    for (int st = 0; st >= BO_ERR_INTERNAL; st--) {
        PyObject *v = PyLong_FromLong(st);
        if (!v || PyDict_SetItemString(d, bo_status_name((bo_status)st), v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

PyObject *bo_py_parse_one_report(PyObject *self, PyObject *args); /* report_py.c */
PyObject *bo_py_read_one_reports(PyObject *self, PyObject *args); /* report_py.c */
/* csv_py.c */
PyObject *bo_py_csv_tokenize(PyObject *self, PyObject *args);
PyObject *bo_py_csv_convert(PyObject *self, PyObject *args);
PyObject *bo_py_csv_type_codes(PyObject *self, PyObject *noargs);
PyObject *bo_py_csv_infer(PyObject *self, PyObject *args);
PyObject *bo_py_csv_infer_fields(PyObject *self, PyObject *args);
PyObject *bo_py_csv_rows(PyObject *self, PyObject *args);
PyObject *bo_py_csv_index_lines(PyObject *self, PyObject *cap);
PyObject *bo_py_csv_count_lines(PyObject *self, PyObject *args);
PyObject *bo_py_csv_utf8_check(PyObject *self, PyObject *args);
PyObject *bo_py_csv_scan_new(PyObject *self, PyObject *args);
PyObject *bo_py_csv_scan_feed(PyObject *self, PyObject *args);
PyObject *bo_py_csv_scan_finish(PyObject *self, PyObject *args);
PyObject *bo_py_barrier_labels(PyObject *self, PyObject *args);   /* label_py.c */
/* v2x_py.c */
PyObject *bo_py_rng_u64(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_rng_uniform(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_parse_hex(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_parse_wkt(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_parse_datetime(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_timestamp_parts(PyObject *self, PyObject *args, PyObject *kwargs);
PyObject *bo_py_v2x_datetime_parts(PyObject *self, PyObject *args, PyObject *kwargs);
#define BO_KW(f) ((PyCFunction)(void (*)(void))(f))

/* Every method that takes arguments goes through the fork-safe call (fork_py.c): a kernel
 * added later cannot forget it, and the cost is one thread-local read per call. */
BO_PY_FORK_SAFE(py_haversine)
BO_PY_FORK_SAFE(py_within_radius)
BO_PY_FORK_SAFE(py_within_bbox)
BO_PY_FORK_SAFE(py_radius_bbox)
BO_PY_FORK_SAFE(py_to_local_xy)
BO_PY_FORK_SAFE(py_destination)
BO_PY_FORK_SAFE(py_system_memory)
BO_PY_FORK_SAFE(py_cpu_info)
BO_PY_FORK_SAFE(py_rss)
BO_PY_FORK_SAFE(bo_py_parse_one_report)
BO_PY_FORK_SAFE(bo_py_read_one_reports)
BO_PY_FORK_SAFE(bo_py_csv_tokenize)
BO_PY_FORK_SAFE(bo_py_csv_convert)
BO_PY_FORK_SAFE(bo_py_csv_infer)
BO_PY_FORK_SAFE(bo_py_csv_infer_fields)
BO_PY_FORK_SAFE(bo_py_csv_rows)
BO_PY_FORK_SAFE(bo_py_csv_count_lines)
BO_PY_FORK_SAFE(bo_py_csv_utf8_check)
BO_PY_FORK_SAFE(bo_py_csv_scan_new)
BO_PY_FORK_SAFE(bo_py_csv_scan_feed)
BO_PY_FORK_SAFE(bo_py_csv_scan_finish)
BO_PY_FORK_SAFE(bo_py_barrier_labels)
BO_PY_FORK_SAFE_KW(bo_py_rng_u64)
BO_PY_FORK_SAFE_KW(bo_py_rng_uniform)
BO_PY_FORK_SAFE_KW(bo_py_v2x_parse_hex)
BO_PY_FORK_SAFE_KW(bo_py_v2x_parse_wkt)
BO_PY_FORK_SAFE_KW(bo_py_v2x_parse_datetime)
BO_PY_FORK_SAFE_KW(bo_py_v2x_datetime_parts)
BO_PY_FORK_SAFE_KW(bo_py_v2x_timestamp_parts)

static PyMethodDef methods[] = {
    {"haversine", py_haversine_fs, METH_VARARGS,
     "haversine($module, lat1, lon1, lat2, lon2, radius_m, out, simd, n_threads, validate, /)\n--\n\n"
     "Great-circle distance in metres (internal; use blockops.geo.haversine)."},
    {"within_radius", py_within_radius_fs, METH_VARARGS,
     "within_radius($module, lat, lon, center_lat, center_lon, radius_m, earth_radius_m, simd, "
     "n_threads, validate, /)\n--\n\nBool mask of points within radius_m (internal)."},
    {"within_bbox", py_within_bbox_fs, METH_VARARGS,
     "within_bbox($module, lat, lon, min_lat, max_lat, min_lon, max_lon, simd, n_threads, /)\n"
     "--\n\nBool mask of points inside the box (internal)."},
    {"radius_bbox", py_radius_bbox_fs, METH_VARARGS,
     "radius_bbox($module, center_lat, center_lon, radius_m, earth_radius_m, /)\n--\n\n"
     "Conservative bounding box of a circle (internal)."},
    {"to_local_xy", py_to_local_xy_fs, METH_VARARGS,
     "to_local_xy($module, lat, lon, origin_lat, origin_lon, radius_m, n_threads, validate, /)\n"
     "--\n\nEquirectangular metres (internal)."},
    {"destination", py_destination_fs, METH_VARARGS,
     "destination($module, lat, lon, bearing_deg, distance_m, radius_m, n_threads, validate, /)\n"
     "--\n\nDestination point on the sphere (internal)."},
    {"system_memory", py_system_memory_fs, METH_VARARGS,
     "system_memory($module, proc_root=None, cgroup_root=None, /)\n--\n\n"
     "Memory totals and cgroup limits in bytes (internal; use blockops.resources)."},
    {"cpu_info", py_cpu_info_fs, METH_VARARGS,
     "cpu_info($module, proc_root=None, cgroup_root=None, online=-1, affinity=-1, /)\n--\n\n"
     "Online, affinity, cgroup quota and effective CPUs (internal)."},
    {"rss", py_rss_fs, METH_VARARGS,
     "rss($module, proc_root=None, /)\n--\n\n(VmRSS, VmHWM) of this process in bytes (internal)."},
    {"pool_empty", bo_py_pool_empty, METH_VARARGS,
     "pool_empty($module, n, dtype, zero, /)\n--\n\nA new 1-D array of n items over a buffer "
     "of the output pool (all zero when zero is true), which goes back to the pool when the "
     "array dies."},
    {"pool_stats", bo_py_pool_stats, METH_NOARGS,
     "pool_stats($module, /)\n--\n\nThe output pool's limit, bytes held, hits, misses and "
     "bypassed calls."},
    {"pool_set_limit", bo_py_pool_set_limit, METH_O,
     "pool_set_limit($module, limit, /)\n--\n\nThe bytes the output pool may keep (0: none; "
     "what it holds over the limit is returned to the system)."},
    {"build_info", py_build_info, METH_NOARGS,
     "build_info($module, /)\n--\n\nCompiler, flags, OpenMP and SIMD levels of this build."},
    {"status_codes", py_status_codes, METH_NOARGS,
     "status_codes($module, /)\n--\n\nMapping of C status names to codes."},
    {"parse_one_report", bo_py_parse_one_report_fs, METH_VARARGS,
     "parse_one_report($module, data, path, /)\n--\n\n"
     "Parse one ONE report's bytes -> (title, keys, values) (internal; see blockops.io)."},
    {"read_one_reports", bo_py_read_one_reports_fs, METH_VARARGS,
     "read_one_reports($module, paths, n_threads, max_file_bytes, files_per_task, "
     "progress=None, /)\n--\n\n"
     "Read and parse many ONE report files in C, GIL released -> dict of arrays, keys and "
     "per-file errors (internal; see blockops.io.read_one_reports)."},
    {"csv_tokenize", bo_py_csv_tokenize_fs, METH_VARARGS,
     "csv_tokenize($module, buf, length, delimiter, quotechar, n_fields, final, max_rows, "
     "max_row_bytes, n_threads, simd=-1, /)\n--\n\n"
     "Index the complete rows of buf[:length] -> (index, n_rows, n_fields, consumed, n_bad, "
     "error); simd: the structural scan's level (-1: the best here) (internal; see "
     "blockops.io.CsvBlockReader)."},
    {"csv_convert", bo_py_csv_convert_fs, METH_VARARGS,
     "csv_convert($module, buf, index, specs, quotechar, n_threads, want_bad, dest=None, "
     "row_offset=0, pad_short=False, /)\n--\n\n"
     "Typed columns from an index -> (outputs, bad, error), optionally written into the "
     "caller's arrays at row_offset; pad_short: short rows get missing values for their "
     "missing trailing fields (internal)."},
    {"csv_type_codes", bo_py_csv_type_codes, METH_NOARGS,
     "csv_type_codes($module, /)\n--\n\nThe CSV converter's type codes by name (internal)."},
    {"csv_infer", bo_py_csv_infer_fs, METH_VARARGS,
     "csv_infer($module, buf, index, field, quotechar, na_values, pad_short=False, /)\n--\n\n"
     "pandas-style type inference of one field -> (type, has_na) (internal)."},
    {"csv_infer_fields", bo_py_csv_infer_fields_fs, METH_VARARGS,
     "csv_infer_fields($module, windows, fields, quotechar, na_values, pad_short=False, "
     "n_threads=1, /)\n--\n\n"
     "csv_infer of several fields over the rows of every (buf, index) window, on up to "
     "n_threads threads -> [(type, has_na)] (internal)."},
    {"csv_rows", bo_py_csv_rows_fs, METH_VARARGS,
     "csv_rows($module, index, rows, /)\n--\n\n(row starts, flags, field counts) (internal)."},
    {"csv_index_lines", bo_py_csv_index_lines, METH_O,
     "csv_index_lines($module, index, /)\n--\n\nLine breaks in the bytes the index covers, or "
     "None when the tokenizer did not count them (internal)."},
    {"csv_count_lines", bo_py_csv_count_lines_fs, METH_VARARGS,
     "csv_count_lines($module, buf, start, end, n_threads=1, drop_file_pages=False, count=True, "
     "/)\n--\n\nLine breaks in buf[start:end] (0 without count); drop_file_pages (a read-only "
     "file mapping only) also takes those pages out of RSS (internal)."},
    {"csv_utf8_check", bo_py_csv_utf8_check_fs, METH_VARARGS,
     "csv_utf8_check($module, buf, /)\n--\n\nOffset of the first ill-formed UTF-8 sequence in "
     "buf, or -1 (internal)."},
    {"csv_scan_new", bo_py_csv_scan_new_fs, METH_VARARGS,
     "csv_scan_new($module, delimiter, quotechar, /)\n--\n\nRow-boundary scanner (internal)."},
    {"csv_scan_feed", bo_py_csv_scan_feed_fs, METH_VARARGS,
     "csv_scan_feed($module, scanner, buf, length, targets, found, rows_before, lines_before, /)\n--\n\n"
     "Feed bytes; resolve split targets to row starts (internal)."},
    {"csv_scan_finish", bo_py_csv_scan_finish_fs, METH_VARARGS,
     "csv_scan_finish($module, scanner, /)\n--\n\n(rows, bytes) after the last feed (internal)."},
    {"barrier_labels", bo_py_barrier_labels_fs, METH_VARARGS,
     "barrier_labels($module, timestamp, open, high, low, close, volume, modes, labels, weights, "
     "mae_ticks, seconds, out_begin, at_end, tick_size, horizon, decay_rate, roll_threshold, "
     "ref_month, ts_per_second, n_threads, /)\n--\n\n"
     "Barrier labels and weights into preallocated (modes, n) outputs -> (roll events, bars "
     "affected, max change, summed change) (internal; see blockops.labels)."},
    {"rng_u64", BO_KW(bo_py_rng_u64_fs), METH_VARARGS | METH_KEYWORDS,
     "rng_u64($module, keys, *, seed, stream, counter=0, n_threads=1)\n--\n\n"
     "Keyed Philox4x32-10 draws: out[i] = u64(seed, stream, keys[i], counter) as uint64, same "
     "shape as keys (signed keys are reinterpreted bitwise; see bo_rng.h) (internal)."},
    {"rng_uniform", BO_KW(bo_py_rng_uniform_fs), METH_VARARGS | METH_KEYWORDS,
     "rng_uniform($module, keys, *, seed, stream, counter=0, low=0.0, high=1.0, n_threads=1)\n"
     "--\n\nKeyed uniforms low + (high - low) * ((u64 >> 11) * 2**-53) as float64 (internal)."},
    {"v2x_parse_hex", BO_KW(bo_py_v2x_parse_hex_fs), METH_VARARGS | METH_KEYWORDS,
     "v2x_parse_hex($module, offsets, data, valid_bits, bit_offset, *, n_threads=1)\n--\n\n"
     "Hex IDs of an Arrow large_string column -> (int64 values, uint8 status: 0 ok, 1 null, "
     "2 invalid) (internal)."},
    {"v2x_parse_wkt", BO_KW(bo_py_v2x_parse_wkt_fs), METH_VARARGS | METH_KEYWORDS,
     "v2x_parse_wkt($module, offsets, data, valid_bits, bit_offset, *, n_threads=1, simd=0)\n"
     "--\n\n"
     "WKT POINT (lon lat) of an Arrow large_string column -> (lon, lat, uint8 status); simd is "
     "the SIMD level index (internal)."},
    {"v2x_parse_datetime", BO_KW(bo_py_v2x_parse_datetime_fs), METH_VARARGS | METH_KEYWORDS,
     "v2x_parse_datetime($module, offsets, data, valid_bits, bit_offset, fmt=None, *, "
     "n_threads=1)\n--\n\n"
     "Datetimes (strptime-style fmt, None = ISO 8601) of an Arrow large_string column -> "
     "(int64 ns, uint8 status) (internal)."},
    {"v2x_datetime_parts", BO_KW(bo_py_v2x_datetime_parts_fs), METH_VARARGS | METH_KEYWORDS,
     "v2x_datetime_parts($module, offsets, data, valid_bits, bit_offset, fmt=None, *, "
     "n_threads=1)\n--\n\n"
     "Timestamp strings straight to {month, day, year, hour, minute, second, pm, status} "
     "(status 0 ok, 1 null, 2 invalid; internal, see blockops.v2x.timestamp_parts)."},
    {"v2x_timestamp_parts", BO_KW(bo_py_v2x_timestamp_parts_fs), METH_VARARGS | METH_KEYWORDS,
     "v2x_timestamp_parts($module, ns, *, n_threads=1)\n--\n\n"
     "Civil parts of int64 / datetime64[ns] values -> dict of month, day, year, hour, minute, "
     "second, pm, status arrays (internal)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_core",
                                       "blockops C core (internal).", -1, methods};

PyMODINIT_FUNC PyInit__core(void)
{
    import_array();
    bo_fork_init();
    (void)bo_py_pool(); /* set up before any thread can ask for it */
    return PyModule_Create(&moduledef);
}
