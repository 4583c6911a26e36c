/* Resource discovery against fixture /proc and cgroup trees (v1, v2, nested, "max", 0,
 * missing files, namespaced paths), plus a sanity check on the real machine. */
#define _GNU_SOURCE
#include "blockops/bo_res.h"
#include "bo_test.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static void put(const char *rel, const char *fmt, ...)
{
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    CHECK(system(cmd) == 0);
    *slash = '/';
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static void fresh(void)
{
    char cmd[300];
    if (root[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        CHECK(system(cmd) == 0);
    }
    snprintf(root, sizeof root, "/tmp/bo_res_XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    put("proc/meminfo", "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
                        "MemAvailable:    8000000 kB\nBuffers: 1 kB\n");
    put("proc/self/status", "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n");
}

static char proc[300], cg[300];
static void paths(void)
{
    snprintf(proc, sizeof proc, "%s/proc", root);
    snprintf(cg, sizeof cg, "%s/cg", root);
}

int main(void)
{
    bo_mem_info m;
    bo_cpu_info c;
    bo_error err;
    const int64_t K = 1024, G = 1024 * 1024 * 1024LL;

    /* no cgroup information at all: machine totals */
    fresh();
    paths();
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_OK);
    CHECK(m.total == 16000000 * K && m.available == 8000000 * K);
    CHECK(m.cgroup_version == 0 && m.cgroup_max == -1 && m.effective_limit == m.total);
    CHECK(m.effective_available == m.available);
    CHECK(bo_res_cpu(proc, cg, 8, 6, &c, &err) == BO_OK);
    CHECK(c.effective == 6 && c.quota_cpus == -1);

    /* v2, nested: the parent's memory.max is the tighter one; memory.high counts too */
    fresh();
    paths();
    put("proc/self/cgroup", "0::/a/b\n");
    put("cg/cgroup.controllers", "cpu memory\n");
    put("cg/a/memory.max", "%lld\n", (long long)(4 * G));
    put("cg/a/memory.high", "max\n");
    put("cg/a/b/memory.max", "max\n");
    put("cg/a/b/memory.high", "%lld\n", (long long)(6 * G));
    put("cg/a/b/memory.current", "%lld\n", (long long)(1 * G));
    put("cg/a/cpu.max", "150000 100000\n");
    put("cg/a/b/cpu.max", "max 100000\n");
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_OK);
    CHECK(m.cgroup_version == 2 && strcmp(m.cgroup_path, "/a/b") == 0);
    CHECK(m.cgroup_max == 4 * G && m.cgroup_high == 6 * G && m.cgroup_usage == 1 * G);
    CHECK(m.effective_limit == 4 * G);
    CHECK(m.effective_available == 3 * G); /* limit - usage < MemAvailable */
    CHECK(bo_res_cpu(proc, cg, 8, 8, &c, &err) == BO_OK);
    CHECK(c.cgroup_version == 2 && c.quota > 1.49 && c.quota < 1.51 && c.quota_cpus == 2);
    CHECK(c.effective == 2);

    /* v2 with "0" (impossible, ignored) and a missing memory.max: no limit */
    fresh();
    paths();
    put("proc/self/cgroup", "0::/x\n");
    put("cg/cgroup.controllers", "memory\n");
    put("cg/x/memory.max", "0\n");
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_OK);
    CHECK(m.cgroup_version == 2 && m.cgroup_max == -1 && m.effective_limit == m.total);

    /* v2 namespaced: /proc says "/", the limit sits at the mount root */
    fresh();
    paths();
    put("proc/self/cgroup", "0::/\n");
    put("cg/cgroup.controllers", "memory cpu\n");
    put("cg/memory.max", "%lld\n", (long long)(2 * G));
    put("cg/cpu.max", "50000 100000\n");
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_OK);
    CHECK(m.effective_limit == 2 * G);
    CHECK(bo_res_cpu(proc, cg, 4, 4, &c, &err) == BO_OK);
    CHECK(c.quota_cpus == 1 && c.effective == 1); /* 0.5 CPU rounds up to 1 */

    /* v2 path not visible under the mount (host path inside a container) -> mount root */
    fresh();
    paths();
    put("proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
    put("cg/cgroup.controllers", "memory\n");
    put("cg/memory.max", "%lld\n", (long long)(3 * G));
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_OK);
    CHECK(m.effective_limit == 3 * G);

    /* v1: the huge "unlimited" sentinel at the leaf, a real limit at the parent */
    fresh();
    paths();
    put("proc/self/cgroup", "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n");
    put("cg/memory/docker/memory.limit_in_bytes", "%lld\n", (long long)(5 * G));
    put("cg/memory/docker/abc/memory.limit_in_bytes", "9223372036854771712\n");
    put("cg/memory/docker/abc/memory.usage_in_bytes", "%lld\n", (long long)(G / 2));
    put("cg/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
    put("cg/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    put("cg/cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n");
    put("cg/cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n");
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_OK);
    CHECK(m.cgroup_version == 1 && m.cgroup_max == 5 * G && m.cgroup_high == -1);
    CHECK(m.effective_available == 4 * G + G / 2);
    CHECK(bo_res_cpu(proc, cg, 16, 16, &c, &err) == BO_OK);
    CHECK(c.cgroup_version == 1 && c.quota_cpus == 3 && c.effective == 3);
    /* never more than the machine / affinity */
    CHECK(bo_res_cpu(proc, cg, 2, 2, &c, &err) == BO_OK);
    CHECK(c.effective == 2);

    /* rss from status; missing meminfo is an error, not a crash */
    int64_t rss, peak;
    CHECK(bo_res_rss(proc, &rss, &peak, &err) == BO_OK);
    CHECK(rss == 1024 * K && peak == 2048 * K);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -f '%s/proc/meminfo'", root);
    CHECK(system(cmd) == 0);
    bo_error_clear(&err);
    CHECK(bo_res_memory(proc, cg, &m, &err) == BO_ERR_IO);
    CHECK(strstr(err.message, "meminfo") != NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);

    /* the real machine */
    CHECK(bo_res_memory(NULL, NULL, &m, &err) == BO_OK);
    CHECK(m.total > 0 && m.available > 0 && m.effective_limit <= m.total);
    CHECK(m.effective_available <= m.effective_limit);
    CHECK(bo_res_cpu(NULL, NULL, -1, -1, &c, &err) == BO_OK);
    CHECK(c.effective >= 1 && c.effective <= c.online);
    CHECK(bo_res_rss(NULL, &rss, &peak, &err) == BO_OK);
    CHECK(rss > 0 && peak >= rss);
    printf("real machine: total %lld avail %lld limit %lld cgroup v%d, cpus %d\n",
           (long long)m.total, (long long)m.available, (long long)m.effective_limit,
           m.cgroup_version, c.effective);
    TEST_MAIN_END();
}
