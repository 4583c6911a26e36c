/* Memory / CPU discovery from /proc and cgroup files. Linux-only by nature; elsewhere the
 * functions return BO_ERR_UNSUPPORTED and Python falls back to psutil. */
#define _GNU_SOURCE
#include "blockops/bo_res.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sched.h>
#include <unistd.h>
#endif

#define PATH_CAP 1024
/* v1 reports "no limit" as LONG_MAX rounded down to a page (9223372036854771712). */
#define BO_V1_UNLIMITED ((int64_t)1 << 62)

static const char *def(const char *s, const char *d) { return (s && *s) ? s : d; }

/* Read a small text file into buf (NUL terminated). 0 ok, -1 missing/unreadable. */
static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* A limit file: "max" or a byte count. Returns -1 for none/unreadable. */
static int64_t read_limit(const char *path)
{
    char buf[64];
    if (read_small(path, buf, sizeof buf) != 0)
        return -1;
    if (strncmp(buf, "max", 3) == 0)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (end == buf || errno != 0 || v <= 0 || v >= BO_V1_UNLIMITED)
        return -1;
    return (int64_t)v;
}

static int64_t min_known(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* Find this process's cgroup path for a controller in <proc>/self/cgroup.
 * v2: the "0::<path>" line (controller == NULL). v1: the line whose controller list contains
 * `controller`. Returns 0 and fills path, or -1. */
static int self_cgroup(const char *proc_root, const char *controller, char *path, size_t cap)
{
    char fn[PATH_CAP];
    snprintf(fn, sizeof fn, "%s/self/cgroup", proc_root);
    FILE *f = fopen(fn, "r");
    if (!f)
        return -1;
    char line[1024];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *c1 = strchr(line, ':');
        if (!c1)
            continue;
        char *c2 = strchr(c1 + 1, ':');
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *p = c2 + 1;
        int match = 0;
        if (!controller) {
            match = strncmp(line, "0:", 2) == 0 && *ctrls == '\0';
        } else {
            /* comma-separated list, e.g. "cpu,cpuacct" */
            size_t L = strlen(controller);
            for (const char *s = ctrls; *s;) {
                const char *e = strchr(s, ',');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len == L && strncmp(s, controller, L) == 0)
                    match = 1;
                s += len + (e ? 1 : 0);
            }
        }
        if (match) {
            snprintf(path, cap, "%s", p);
            found = 0;
            break;
        }
    }
    fclose(f);
    return found;
}

static int is_dir_with(const char *dir, const char *file)
{
    char fn[PATH_CAP];
    int len = snprintf(fn, sizeof fn, "%s/%s", dir, file);
    if (len < 0 || (size_t)len >= sizeof fn) /* a truncated path would name another file */
        return 0;
    FILE *f = fopen(fn, "r");
    if (!f)
        return 0;
    fclose(f);
    return 1;
}

/* Walk from base+rel up to base, calling visit(dir) at each level (leaf first). When the
 * process's path does not exist under the mount (cgroup namespaces show "/" or a path of the
 * host), fall back to the mount root itself. */
typedef void (*visit_fn)(const char *dir, int leaf, void *ctx);
static void walk_up(const char *base, const char *rel, const char *probe_file, visit_fn visit,
                    void *ctx)
{
    char dir[PATH_CAP];
    int len = snprintf(dir, sizeof dir, "%s%s", base, rel);
    if (len < 0 || (size_t)len >= sizeof dir)
        return; /* path too long to name: report no limit rather than read a truncated path */
    size_t blen = strlen(base);
    /* strip a trailing slash (rel == "/") */
    while (strlen(dir) > blen && dir[strlen(dir) - 1] == '/')
        dir[strlen(dir) - 1] = '\0';
    if (!is_dir_with(dir, probe_file) && strlen(dir) > blen) {
        /* namespaced: our path is not visible; the mount root is our cgroup */
        snprintf(dir, sizeof dir, "%s", base);
    }
    int leaf = 1;
    for (;;) {
        visit(dir, leaf, ctx);
        leaf = 0;
        if (strlen(dir) <= blen)
            break;
        char *slash = strrchr(dir + blen, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
}

typedef struct {
    int64_t max, high, usage;
    int v;
} mem_ctx;

static void visit_mem_v2(const char *dir, int leaf, void *vctx)
{
    mem_ctx *c = vctx;
    char fn[PATH_CAP];
    snprintf(fn, sizeof fn, "%s/memory.max", dir);
    c->max = min_known(c->max, read_limit(fn));
    snprintf(fn, sizeof fn, "%s/memory.high", dir);
    c->high = min_known(c->high, read_limit(fn));
    if (leaf) {
        snprintf(fn, sizeof fn, "%s/memory.current", dir);
        c->usage = read_limit(fn);
    }
}

static void visit_mem_v1(const char *dir, int leaf, void *vctx)
{
    mem_ctx *c = vctx;
    char fn[PATH_CAP];
    snprintf(fn, sizeof fn, "%s/memory.limit_in_bytes", dir);
    c->max = min_known(c->max, read_limit(fn));
    if (leaf) {
        snprintf(fn, sizeof fn, "%s/memory.usage_in_bytes", dir);
        c->usage = read_limit(fn);
    }
}

static int64_t meminfo_field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        return -1;
    p += strlen(key);
    while (*p == ' ' || *p == '\t' || *p == ':')
        p++;
    char *end;
    long long kb = strtoll(p, &end, 10);
    if (end == p || kb < 0)
        return -1;
    return (int64_t)kb * 1024;
}

bo_status bo_res_memory(const char *proc_root, const char *cgroup_root, bo_mem_info *out,
                        bo_error *err)
{
    proc_root = def(proc_root, "/proc");
    cgroup_root = def(cgroup_root, "/sys/fs/cgroup");
    memset(out, 0, sizeof *out);
    char fn[PATH_CAP], text[8192];
    snprintf(fn, sizeof fn, "%s/meminfo", proc_root);
    if (read_small(fn, text, sizeof text) != 0)
        return bo_error_set(err, BO_ERR_IO, "cannot read %s", fn);
    out->total = meminfo_field(text, "\nMemTotal");
    if (out->total < 0)
        out->total = meminfo_field(text, "MemTotal");
    out->available = meminfo_field(text, "\nMemAvailable");
    if (out->available < 0) { /* kernels before 3.14 */
        int64_t fr = meminfo_field(text, "\nMemFree"), bu = meminfo_field(text, "\nBuffers"),
                ca = meminfo_field(text, "\nCached");
        out->available = fr < 0 ? -1 : fr + (bu > 0 ? bu : 0) + (ca > 0 ? ca : 0);
    }
    if (out->total <= 0)
        return bo_error_set(err, BO_ERR_PARSE, "no MemTotal in %s", fn);

    mem_ctx c = {-1, -1, -1, 0};
    char rel[512];
    if (is_dir_with(cgroup_root, "cgroup.controllers")) { /* unified (v2) hierarchy */
        if (self_cgroup(proc_root, NULL, rel, sizeof rel) == 0) {
            c.v = 2;
            snprintf(out->cgroup_path, sizeof out->cgroup_path, "%s", rel);
            walk_up(cgroup_root, rel, "memory.max", visit_mem_v2, &c);
        }
    } else if (self_cgroup(proc_root, "memory", rel, sizeof rel) == 0) {
        char base[PATH_CAP];
        snprintf(base, sizeof base, "%s/memory", cgroup_root);
        c.v = 1;
        snprintf(out->cgroup_path, sizeof out->cgroup_path, "%s", rel);
        walk_up(base, rel, "memory.limit_in_bytes", visit_mem_v1, &c);
    }
    out->cgroup_version = c.v;
    out->cgroup_max = c.max;
    out->cgroup_high = c.high;
    out->cgroup_usage = c.usage;
    out->effective_limit = min_known(out->total, min_known(c.max, c.high));
    out->effective_available = out->available;
    if (out->effective_limit < out->total && c.usage >= 0) {
        int64_t room = out->effective_limit - c.usage;
        out->effective_available = min_known(out->available, room < 0 ? 0 : room);
    }
    if (out->effective_available > out->effective_limit)
        out->effective_available = out->effective_limit;
    return BO_OK;
}

typedef struct {
    double quota;
    int v;
} cpu_ctx;

static void visit_cpu_v2(const char *dir, int leaf, void *vctx)
{
    cpu_ctx *c = vctx;
    char fn[PATH_CAP], buf[128];
    snprintf(fn, sizeof fn, "%s/cpu.max", dir);
    if (read_small(fn, buf, sizeof buf) != 0 || strncmp(buf, "max", 3) == 0)
        return;
    double q, p = 100000;
    int k = sscanf(buf, "%lf %lf", &q, &p);
    if (k >= 1 && q > 0 && p > 0 && (c->quota < 0 || q / p < c->quota))
        c->quota = q / p;
}

static void visit_cpu_v1(const char *dir, int leaf, void *vctx)
{
    cpu_ctx *c = vctx;
    char fn[PATH_CAP], buf[64];
    double q, p;
    snprintf(fn, sizeof fn, "%s/cpu.cfs_quota_us", dir);
    if (read_small(fn, buf, sizeof buf) != 0 || sscanf(buf, "%lf", &q) != 1 || q <= 0)
        return; /* -1: no quota */
    snprintf(fn, sizeof fn, "%s/cpu.cfs_period_us", dir);
    if (read_small(fn, buf, sizeof buf) != 0 || sscanf(buf, "%lf", &p) != 1 || p <= 0)
        return;
    if (c->quota < 0 || q / p < c->quota)
        c->quota = q / p;
}

bo_status bo_res_cpu(const char *proc_root, const char *cgroup_root, int online, int affinity,
                     bo_cpu_info *out, bo_error *err)
{
    proc_root = def(proc_root, "/proc");
    cgroup_root = def(cgroup_root, "/sys/fs/cgroup");
    memset(out, 0, sizeof *out);
#ifdef __linux__
    if (online < 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        online = n > 0 ? (int)n : 1;
    }
    if (affinity < 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        affinity = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    }
#else
    if (online < 0)
        online = 1;
#endif
    out->online = online;
    out->affinity = affinity;
    cpu_ctx c = {-1, 0};
    char rel[512];
    if (is_dir_with(cgroup_root, "cgroup.controllers")) { /* unified (v2) hierarchy */
        if (self_cgroup(proc_root, NULL, rel, sizeof rel) == 0) {
            c.v = 2;
            walk_up(cgroup_root, rel, "cpu.max", visit_cpu_v2, &c);
        }
    } else {
        const char *names[] = {"cpu", "cpuacct"};
        for (int i = 0; i < 2 && c.v == 0; i++) {
            if (self_cgroup(proc_root, names[i], rel, sizeof rel) == 0) {
                char base[PATH_CAP];
                /* v1 mounts: cpu,cpuacct (joined) or cpu */
                snprintf(base, sizeof base, "%s/cpu,cpuacct", cgroup_root);
                struct stat sb;
                if (stat(base, &sb) != 0 || !S_ISDIR(sb.st_mode))
                    snprintf(base, sizeof base, "%s/cpu", cgroup_root);
                c.v = 1;
                walk_up(base, rel, "cpu.cfs_quota_us", visit_cpu_v1, &c);
            }
        }
    }
    out->cgroup_version = c.v;
    out->quota = c.quota;
    out->quota_cpus = c.quota > 0 ? (int)ceil(c.quota - 1e-9) : -1;
    int eff = online > 0 ? online : 1;
    if (affinity > 0 && affinity < eff)
        eff = affinity;
    if (out->quota_cpus > 0 && out->quota_cpus < eff)
        eff = out->quota_cpus;
    out->effective = eff < 1 ? 1 : eff;
    (void)err;
    return BO_OK;
}

bo_status bo_res_rss(const char *proc_root, int64_t *rss, int64_t *peak, bo_error *err)
{
    proc_root = def(proc_root, "/proc");
    char fn[PATH_CAP], text[8192];
    snprintf(fn, sizeof fn, "%s/self/status", proc_root);
    if (read_small(fn, text, sizeof text) != 0)
        return bo_error_set(err, BO_ERR_UNSUPPORTED, "cannot read %s", fn);
    *rss = meminfo_field(text, "\nVmRSS");
    *peak = meminfo_field(text, "\nVmHWM");
    if (*rss < 0)
        return bo_error_set(err, BO_ERR_PARSE, "no VmRSS in %s", fn);
    if (*peak < *rss)
        *peak = *rss;
    return BO_OK;
}
