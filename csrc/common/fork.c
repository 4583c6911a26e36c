/* Fork safety for the OpenMP thread pool.
 *
 * libgomp keeps one thread pool per thread that has started a parallel region (its "master"),
 * in that thread's TLS. fork() copies the calling thread only, so in the child that thread's
 * pool points at workers that do not exist and its next parallel region with more than one
 * thread waits for them forever (GCC PR 52303 / 60035; numexpr hit the same with its own pool
 * and rebuilds it when the pid changes). libgomp has no call that forgets a pool, but a thread
 * created in the child has no pool yet and gets a fresh one. So in a fork child the one thread
 * that can be stale, the one that called fork(), hands its calls to a runner thread created in
 * the child; every other thread of the child was born there and calls directly. A process that
 * never forked, or whose forking thread never called blockops, pays one TLS read per call.
 *
 * The runner is process state by nature (it is this process's thread); it is rebuilt, not
 * inherited, in every child, including a child of a child. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "blockops/bo_common.h"

/* this thread has run blockops work, so it may own a libgomp pool */
static _Thread_local int tls_used;
/* this thread called fork() after it had run blockops work: its pool is stale */
static _Thread_local int tls_stale;

typedef struct runner {
    pthread_mutex_t call;  /* one call at a time (only the stale thread calls, but be safe) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;
    int pending;           /* a job is waiting for the runner */
    int done;              /* the runner finished the job */
    void (*fn)(void *);
    void *ctx;
} runner;

static runner g_runner = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                          PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL};
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void reset_runner(runner *r)
{
    /* The child inherits the parent's bytes of these objects, possibly locked by a thread
     * that does not exist here; start from fresh ones. */
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->call, NULL);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
}

static void at_fork_child(void)
{
    /* runs in the child, on the thread that called fork() */
    tls_stale |= tls_used;
    reset_runner(&g_runner);
}

static void register_atfork(void) { pthread_atfork(NULL, NULL, at_fork_child); }

void bo_fork_init(void) { pthread_once(&g_once, register_atfork); }

int bo_fork_stale_thread(void) { return tls_stale; }

static void *runner_main(void *arg)
{
    runner *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->pending) pthread_cond_wait(&r->cv, &r->mu);
        void (*fn)(void *) = r->fn;
        void *ctx = r->ctx;
        pthread_mutex_unlock(&r->mu);
        fn(ctx);
        pthread_mutex_lock(&r->mu);
        r->pending = 0;
        r->done = 1;
        pthread_cond_broadcast(&r->cv);
    }
    return NULL;
}

static bo_status start_runner(runner *r)
{
    pthread_attr_t attr;
    sigset_t all, old;
    pthread_t t;
    int rc;
    if (pthread_attr_init(&attr) != 0) return BO_ERR_NOMEM;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* signals stay with the threads the application made (Python handles them on its main
     * thread); the runner inherits this mask */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&t, &attr, runner_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) return BO_ERR_NOMEM;
    r->started = 1;
    return BO_OK;
}

bo_status bo_run_fork_safe(void (*fn)(void *), void *ctx)
{
    if (!tls_stale) {
        if (!tls_used) {
            bo_fork_init();  /* the handler must be in place before this thread can fork */
            tls_used = 1;
        }
        fn(ctx);
        return BO_OK;
    }
    runner *r = &g_runner;
    bo_status st = BO_OK;
    pthread_mutex_lock(&r->call);
    pthread_mutex_lock(&r->mu);
    if (!r->started) st = start_runner(r);
    if (st == BO_OK) {
        r->fn = fn;
        r->ctx = ctx;
        r->done = 0;
        r->pending = 1;
        pthread_cond_broadcast(&r->cv);
        while (!r->done) pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    pthread_mutex_unlock(&r->call);
    return st;
}
