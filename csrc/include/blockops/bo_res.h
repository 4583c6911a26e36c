/* blockops resource discovery: memory and CPU limits as the kernel enforces them, containers
 * included (cgroup v1 and v2), and this process's resident set.
 *
 * Every function takes the /proc and cgroup mount roots as arguments (NULL = "/proc" and
 * "/sys/fs/cgroup") so tests can point them at fixture trees. Values are bytes; -1 = unknown
 * or no limit. A limit file reading "max", v1's "no limit" sentinel (>= 2^62) or 0 (which no
 * running process could live under, so it is treated as unreadable) means no limit. */
#ifndef BLOCKOPS_BO_RES_H
#define BLOCKOPS_BO_RES_H

#include "blockops/bo_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bo_mem_info {
    int64_t total;               /* MemTotal */
    int64_t available;           /* MemAvailable (or MemFree + Buffers + Cached on old kernels) */
    int64_t cgroup_max;          /* smallest memory.max / limit_in_bytes on the path, -1 none */
    int64_t cgroup_high;         /* smallest v2 memory.high on the path, -1 none */
    int64_t cgroup_usage;        /* memory.current / usage_in_bytes of the leaf, -1 unknown */
    int64_t effective_limit;     /* min(total, cgroup_max, cgroup_high) */
    int64_t effective_available; /* min(available, effective_limit - cgroup_usage) */
    int cgroup_version;          /* 0 none found, 1 or 2 */
    char cgroup_path[512];       /* the process's cgroup (memory controller), "" if none */
} bo_mem_info;

typedef struct bo_cpu_info {
    int online;          /* sysconf(_SC_NPROCESSORS_ONLN), or the argument override */
    int affinity;        /* CPUs in this process's affinity mask, -1 unknown */
    double quota;        /* smallest quota/period on the cgroup path, -1 none */
    int quota_cpus;      /* ceil(quota), -1 none */
    int effective;       /* min of the above that are known, >= 1 */
    int cgroup_version;
} bo_cpu_info;

bo_status bo_res_memory(const char *proc_root, const char *cgroup_root, bo_mem_info *out,
                        bo_error *err);
/* online/affinity < 0: read them from this machine; >= 0: use the given values (tests). */
bo_status bo_res_cpu(const char *proc_root, const char *cgroup_root, int online, int affinity,
                     bo_cpu_info *out, bo_error *err);
/* VmRSS and VmHWM of this process from <proc_root>/self/status. */
bo_status bo_res_rss(const char *proc_root, int64_t *rss, int64_t *peak, bo_error *err);

#ifdef __cplusplus
}
#endif
#endif
