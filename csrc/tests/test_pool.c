/* The output buffer pool: reuse, size classes, the limit, zeroing, threads, fork. */
#include "blockops/bo_pool.h"
#include "bo_test.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_small_and_null_pool(void)
{
    bo_pool pool;
    bo_pool_init(&pool, 64 * MIB);
    /* below BO_POOL_MIN: malloc, never kept */
    unsigned char *p = bo_pool_alloc(&pool, 100);
    CHECK(p && ((uintptr_t)p & 63) == 0 && bo_pool_bytes(p) >= 100);
    memset(p, 7, 100);
    bo_pool_free(&pool, p);
    bo_pool_stats s = bo_pool_get_stats(&pool);
    CHECK(s.held == 0 && s.hits == 0 && s.misses == 0);
    /* zero bytes is a valid request */
    p = bo_pool_calloc(&pool, 0);
    CHECK(p != NULL);
    bo_pool_free(&pool, p);
    bo_pool_free(&pool, NULL);
    /* no pool: large buffers are mapped and unmapped */
    p = bo_pool_calloc(NULL, 3 * MIB);
    CHECK(p && all_zero(p, 3 * MIB) && bo_pool_bytes(p) >= 3 * MIB);
    memset(p, 1, 3 * MIB);
    bo_pool_free(NULL, p);
    bo_pool_set_limit(&pool, 0);
}

static void test_reuse_and_classes(void)
{
    bo_pool pool;
    bo_pool_init(&pool, 64 * MIB);
    unsigned char *a = bo_pool_alloc(&pool, 5 * MIB);
    CHECK(a && ((uintptr_t)a & 63) == 0);
    const size_t ua = bo_pool_bytes(a);
    /* at most an eighth more than asked (with the header) */
    CHECK(ua >= 5 * MIB + 64 && ua <= (5 * MIB + 64) + (5 * MIB + 64) / 8);
    memset(a, 0xAB, 5 * MIB);
    bo_pool_free(&pool, a);
    bo_pool_stats s = bo_pool_get_stats(&pool);
    CHECK(s.held == ua && s.misses == 1);
    /* a request of the same class gets the same buffer back, with its old bytes */
    unsigned char *b = bo_pool_alloc(&pool, 5 * MIB - 1000);
    CHECK(b == a && b[0] == 0xAB && b[5 * MIB - 1001] == 0xAB);
    s = bo_pool_get_stats(&pool);
    CHECK(s.hits == 1 && s.held == 0);
    bo_pool_free(&pool, b);
    /* calloc clears a kept buffer */
    unsigned char *c = bo_pool_calloc(&pool, 5 * MIB);
    CHECK(c == a && all_zero(c, 5 * MIB));
    bo_pool_free(&pool, c);
    /* a much smaller request does not take the large buffer (it would waste most of it) */
    unsigned char *d = bo_pool_alloc(&pool, MIB);
    CHECK(d && d != a);
    bo_pool_free(&pool, d);
    /* a larger request does not fit in it */
    unsigned char *e = bo_pool_alloc(&pool, 8 * MIB);
    CHECK(e && e != a);
    memset(e, 1, 8 * MIB);
    bo_pool_free(&pool, e);
    s = bo_pool_get_stats(&pool);
    CHECK(s.held <= 64 * MIB);
    bo_pool_set_limit(&pool, 0);
    s = bo_pool_get_stats(&pool);
    CHECK(s.held == 0 && s.limit == 0);
    /* limit 0 keeps nothing */
    a = bo_pool_alloc(&pool, 2 * MIB);
    bo_pool_free(&pool, a);
    CHECK(bo_pool_get_stats(&pool).held == 0);
}

static void test_limit_evicts_lru(void)
{
    bo_pool pool;
    bo_pool_init(&pool, 10 * MIB);
    void *x = bo_pool_alloc(&pool, 4 * MIB), *y = bo_pool_alloc(&pool, 3 * MIB);
    void *z = bo_pool_alloc(&pool, 4 * MIB - 4096);
    const size_t ux = bo_pool_bytes(x), uy = bo_pool_bytes(y);
    bo_pool_free(&pool, x); /* least recently used */
    bo_pool_free(&pool, y);
    CHECK(bo_pool_get_stats(&pool).held == ux + uy);
    bo_pool_free(&pool, z); /* over 10 MiB with x: x goes */
    bo_pool_stats s = bo_pool_get_stats(&pool);
    CHECK(s.held <= 10 * MIB && s.held >= uy);
    void *y2 = bo_pool_alloc(&pool, 3 * MIB);
    CHECK(y2 == y);
    bo_pool_free(&pool, y2);
    /* a buffer over the limit is never kept */
    void *big = bo_pool_alloc(&pool, 16 * MIB);
    const size_t before = bo_pool_get_stats(&pool).held;
    bo_pool_free(&pool, big);
    CHECK(bo_pool_get_stats(&pool).held == before);
    /* more buffers than slots: the pool stays within BO_POOL_SLOTS */
    bo_pool_set_limit(&pool, (size_t)BO_POOL_SLOTS * 2 * MIB);
    void *many[BO_POOL_SLOTS + 8];
    for (int i = 0; i < BO_POOL_SLOTS + 8; i++)
        many[i] = bo_pool_alloc(&pool, BO_POOL_MIN);
    for (int i = 0; i < BO_POOL_SLOTS + 8; i++)
        bo_pool_free(&pool, many[i]);
    CHECK(bo_pool_get_stats(&pool).held <= (size_t)BO_POOL_SLOTS * 2 * MIB);
    bo_pool_set_limit(&pool, 0);
}

/* threads allocating, writing and freeing at once: every buffer is theirs alone while held
 * (a pattern written and checked before free), and nothing is lost (ASan: no leak or overlap) */
static bo_pool g_shared;

static void *worker(void *arg)
{
    const unsigned tag = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 200; i++) {
        const size_t n = BO_POOL_MIN + (size_t)((i * 7919u + tag * 104729u) % (3 * MIB));
        unsigned char *p = bo_pool_alloc(&g_shared, n);
        if (!p)
            return (void *)1;
        memset(p, (int)(tag + i) & 0xFF, n);
        for (size_t k = 0; k < n; k += 4096)
            if (p[k] != (unsigned char)((tag + i) & 0xFF))
                return (void *)1;
        bo_pool_free(&g_shared, p);
    }
    return NULL;
}

static void test_threads(void)
{
    bo_pool_init(&g_shared, 32 * MIB);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK(r == NULL);
    }
    bo_pool_stats s = bo_pool_get_stats(&g_shared);
    CHECK(s.hits + s.misses <= 800 && s.hits + s.misses + s.bypassed >= 800);
    CHECK(s.held <= 32 * MIB);
    bo_pool_set_limit(&g_shared, 0);
}

/* fork() with the pool idle: the child takes its copy of a kept buffer; with the lock held (a
 * thread inside the pool at fork()): the child's calls go around the busy pool, never block,
 * and after bo_pool_after_fork it starts empty */
static void test_fork(void)
{
    for (int held = 0; held < 2; held++) {
        bo_pool pool;
        bo_pool_init(&pool, 64 * MIB);
        void *kept = bo_pool_alloc(&pool, 2 * MIB);
        bo_pool_free(&pool, kept);
        if (held)
            pthread_mutex_lock(&pool.mu);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);
            if (held) {
                void *p = bo_pool_alloc(&pool, 2 * MIB);
                if (!p || p == kept)
                    _exit(1);
                bo_pool_free(&pool, p);
            }
            bo_pool_after_fork(&pool);
            if (held && bo_pool_get_stats(&pool).held != 0)
                _exit(2);
            void *q = bo_pool_alloc(&pool, 2 * MIB);
            _exit(!q || (q == kept) != !held ? 3 : 0);
        }
        if (held)
            pthread_mutex_unlock(&pool.mu);
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "held %d: child status %d", held,
               status);
        bo_pool_set_limit(&pool, 0);
    }
}

int main(void)
{
    test_small_and_null_pool();
    test_reuse_and_classes();
    test_limit_evicts_lru();
    test_threads();
    test_fork();
    TEST_MAIN_END();
}
