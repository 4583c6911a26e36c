/* Fork safety: a parallel kernel run in the parent, then the same kernel with two threads in a
 * fork child, a grandchild and a child forked from a non-main thread. Each child runs under an
 * alarm, so a hang (libgomp's stale pool) fails the test instead of blocking it. */
#include "blockops/bo_common.h"
#include "blockops/bo_rng.h"
#include "bo_test.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N (1u << 16)
static uint64_t keys[N], expect[N];

typedef struct job {
    uint64_t *out;
    int nt;
    bo_status st;
} job;

static void run_rng(void *p)
{
    job *j = p;
    j->st = bo_rng_u64_array(keys, N, 42, 7, 0, j->out, j->nt);
}

static int rng_ok(int nt)
{
    static uint64_t out[N];
    job j = {out, nt, BO_ERR_INTERNAL};
    memset(out, 0, sizeof out);
    if (bo_run_fork_safe(run_rng, &j) != BO_OK || j.st != BO_OK) return 0;
    return memcmp(out, expect, sizeof out) == 0;
}

static int n_tasks(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void *born_here(void *p)
{
    *(int *)p = bo_fork_stale_thread();
    return NULL;
}

/* exit code of a child: 0 ok, 1..99 a failed step; killed by SIGALRM = hang */
static int child_body(int depth)
{
    alarm(20);
    if (!bo_fork_stale_thread()) return 1; /* this thread forked after running a kernel */
    int other = -1;
    pthread_t t;
    pthread_create(&t, NULL, born_here, &other);
    pthread_join(t, NULL);
    if (other != 0) return 2;  /* a thread born in the child calls directly */
    if (!rng_ok(2)) return 3;
#ifdef _OPENMP
    if (n_tasks() < 3) return 4;  /* main + runner + an OpenMP worker: both threads really ran */
#endif
    if (!rng_ok(1)) return 5;
    if (depth > 0) {
        pid_t g = fork();
        if (g == 0) _exit(child_body(depth - 1));
        int ws = 0;
        waitpid(g, &ws, 0);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) return 10 + (WIFEXITED(ws) ? WEXITSTATUS(ws) : 50);
    }
    return 0;
}

static int wait_ok(pid_t p, const char *what)
{
    int ws = 0;
    waitpid(p, &ws, 0);
    int ok = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    if (!ok)
        fprintf(stderr, "%s: %s %d\n", what, WIFEXITED(ws) ? "exit" : "signal",
                WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
    return ok;
}

static void *fork_from_thread(void *p)
{
    /* this thread runs a kernel, then forks: in the child it is the stale one */
    int *ok = p;
    *ok = rng_ok(2);
    pid_t c = fork();
    if (c == 0) _exit(child_body(0));
    *ok = *ok && wait_ok(c, "child of a non-main thread");
    return NULL;
}

int main(void)
{
    for (uint32_t i = 0; i < N; i++) keys[i] = (uint64_t)i * 0x9E3779B97F4A7C15ULL;
    CHECK(bo_rng_u64_array(keys, N, 42, 7, 0, expect, 1) == BO_OK);

    CHECK(!bo_fork_stale_thread());
    CHECK(rng_ok(2)); /* the parent's pool now exists */
    CHECK(!bo_fork_stale_thread());

    pid_t c = fork();
    if (c == 0) _exit(child_body(2)); /* child, grandchild, great-grandchild */
    CHECK(wait_ok(c, "fork child"));

    int ok = 0;
    pthread_t t;
    pthread_create(&t, NULL, fork_from_thread, &ok);
    pthread_join(t, NULL);
    CHECK(ok);

    /* a thread that never called blockops is not stale in its child: no runner needed */
    c = fork();
    if (c == 0) {
        int stale = -1;
        pthread_t u;
        pthread_create(&u, NULL, born_here, &stale);
        pthread_join(u, NULL);
        _exit(stale == 0 && bo_fork_stale_thread() == 1 ? 0 : 1);
    }
    CHECK(wait_ok(c, "fresh-thread child"));
    CHECK(rng_ok(2)); /* the parent is unaffected */
    TEST_MAIN_END();
}
