/* The output buffer pool (bo_pool.h). */
#include "blockops/bo_pool.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__) || defined(__APPLE__)
#include <sys/mman.h>
#define BO_POOL_MMAP 1
#endif

/* Every buffer starts 64 bytes into its allocation, after this header: bo_pool_free needs no
 * size from the caller, and the data stays aligned for any vector load. */
typedef struct hdr {
    uint64_t magic;
    size_t bytes;  /* the mapping's length; 0: the buffer came from malloc */
    void *base;    /* the mapping, or malloc's pointer */
    size_t size;   /* bytes of memory behind the buffer, header included */
} hdr;
#define HDR 64
#define MAGIC 0x626f706f6f6c3031ull /* "bopool01" */
#define HUGE ((size_t)2 << 20)

/* Under AddressSanitizer a kept buffer, and the bytes past what was asked for, are poisoned:
 * a read after free or past the end stays a report, as it was with malloc'ed outputs. */
#if defined(__SANITIZE_ADDRESS__)
#define BO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BO_ASAN 1
#endif
#endif
#ifdef BO_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Mappings come in classes an eighth of an octave apart (at most 12.5 % more than asked), so
 * that the blocks of a stream, whose row counts differ a little, ask for the same sizes. */
static size_t class_of(size_t m)
{
    int k = 63 - __builtin_clzll((unsigned long long)m);
    size_t step = (size_t)1 << (k - 3);
    return (m + step - 1) & ~(step - 1);
}

static void *with_header(void *base, size_t bytes, size_t size)
{
    hdr *h = base;
    h->magic = MAGIC;
    h->bytes = bytes;
    h->base = base;
    h->size = size;
    return (char *)base + HDR;
}

static hdr *header_of(const void *p) { return (hdr *)((char *)p - HDR); }

#ifdef BO_POOL_MMAP
/* A new mapping of `bytes`. From 2 MiB up it starts on a 2 MiB boundary and asks for
 * transparent huge pages over the whole 2 MiB pages it spans: one fault per 2 MiB instead of
 * 512 at its first write (NumPy asks the same for its large arrays). Advisory: where THP is
 * off, only the alignment changes. */
static void *map_new(size_t bytes)
{
    size_t extra = bytes >= HUGE ? HUGE : 0;
    char *m = mmap(NULL, bytes + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (extra) {
        char *a = (char *)(((uintptr_t)m + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
        if (a > m)
            munmap(m, (size_t)(a - m));
        if (a + bytes < m + bytes + extra)
            munmap(a + bytes, (size_t)(m + bytes + extra - (a + bytes)));
        m = a;
#ifdef MADV_HUGEPAGE
        (void)madvise(m, bytes & ~(HUGE - 1), MADV_HUGEPAGE);
#endif
    }
    return m;
}
static void unmap(void *m, size_t bytes)
{
    UNPOISON(m, bytes); /* the next mapping here starts clean */
    munmap(m, bytes);
}
#else
static void *map_new(size_t bytes)
{
    void *m = NULL;
    return posix_memalign(&m, 4096, bytes) == 0 ? m : NULL;
}
static void unmap(void *m, size_t bytes)
{
    UNPOISON(m, bytes);
    free(m);
}
#endif

void bo_pool_init(bo_pool *pool, size_t limit)
{
    memset(pool, 0, sizeof *pool);
    pthread_mutex_init(&pool->mu, NULL);
    pool->limit = limit;
}

void bo_pool_after_fork(bo_pool *pool)
{
    if (pthread_mutex_trylock(&pool->mu) == 0) { /* nobody was inside at fork() */
        pthread_mutex_unlock(&pool->mu);
        return;
    }
    /* a thread that does not exist here was inside: its update of the slots may be half done,
     * so they are forgotten (the child's copies of those buffers leak instead of being
     * reused), and the lock it held starts afresh */
    pool->n = 0;
    pool->held = 0;
    pthread_mutex_init(&pool->mu, NULL);
}

/* Unmaps slots, least recently used first, until `bytes` more fit under the limit and a slot
 * is free. Called with the lock held; the mappings to unmap are moved to out (unmapped after
 * the lock is released). Returns how many. */
static int make_room(bo_pool *pool, size_t bytes, int need_slot, bo_pool_slot *out)
{
    int k = 0;
    while (pool->n > 0 &&
           (pool->held + bytes > pool->limit || (need_slot && pool->n == BO_POOL_SLOTS))) {
        int lru = 0;
        for (int i = 1; i < pool->n; i++)
            if (pool->slot[i].used < pool->slot[lru].used)
                lru = i;
        out[k++] = pool->slot[lru];
        pool->held -= pool->slot[lru].bytes;
        pool->slot[lru] = pool->slot[--pool->n];
    }
    return k;
}

static void unmap_all(bo_pool_slot *s, int k)
{
    for (int i = 0; i < k; i++)
        unmap(s[i].map, s[i].bytes);
}

void bo_pool_set_limit(bo_pool *pool, size_t limit)
{
    bo_pool_slot out[BO_POOL_SLOTS];
    pthread_mutex_lock(&pool->mu);
    pool->limit = limit;
    int k = make_room(pool, 0, 0, out);
    pthread_mutex_unlock(&pool->mu);
    unmap_all(out, k);
}

bo_pool_stats bo_pool_get_stats(bo_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    bo_pool_stats s = pool->st;
    s.bypassed = __atomic_load_n(&pool->st.bypassed, __ATOMIC_RELAXED); /* counted unlocked */
    s.limit = pool->limit;
    s.held = pool->held;
    pthread_mutex_unlock(&pool->mu);
    return s;
}

/* *fresh: the buffer is a new mapping (all zero) */
static void *pool_get(bo_pool *pool, size_t n, int *fresh)
{
    *fresh = 0;
    if (n > SIZE_MAX - HUGE - HDR)
        return NULL;
    if (!pool || n + HDR < BO_POOL_MIN) {
        /* no pool, or small: malloc (glibc's heap keeps small buffers' pages itself) */
        void *b = NULL;
        if (posix_memalign(&b, HDR, n + HDR) != 0)
            return NULL;
        return with_header(b, 0, n + HDR);
    }
    const size_t want = class_of(n + HDR);
    void *m = NULL;
    size_t bytes = want;
    if (pthread_mutex_trylock(&pool->mu) == 0) {
        /* the smallest kept mapping that fits and wastes at most a quarter; the most recently
         * used among equals (its pages are likelier in cache) */
        int best = -1;
        for (int i = 0; i < pool->n; i++) {
            const bo_pool_slot *s = &pool->slot[i];
            if (s->bytes < want || s->bytes > want + want / 4)
                continue;
            if (best < 0 || s->bytes < pool->slot[best].bytes ||
                (s->bytes == pool->slot[best].bytes && s->used > pool->slot[best].used))
                best = i;
        }
        if (best >= 0) {
            m = pool->slot[best].map;
            bytes = pool->slot[best].bytes;
            pool->held -= bytes;
            pool->slot[best] = pool->slot[--pool->n];
            pool->st.hits++;
        } else {
            pool->st.misses++;
        }
        pthread_mutex_unlock(&pool->mu);
    } else {
        __atomic_add_fetch(&pool->st.bypassed, 1, __ATOMIC_RELAXED);
    }
    if (!m) {
        if (!(m = map_new(bytes)))
            return NULL;
        *fresh = 1;
    }
    UNPOISON(m, HDR + n);
    POISON((char *)m + HDR + n, bytes - HDR - n);
    return with_header(m, bytes, bytes);
}

void *bo_pool_alloc(bo_pool *pool, size_t n)
{
    int fresh;
    return pool_get(pool, n, &fresh);
}

void *bo_pool_calloc(bo_pool *pool, size_t n)
{
    int fresh;
    void *p = pool_get(pool, n, &fresh);
    if (p && !fresh)
        memset(p, 0, n);
    return p;
}

size_t bo_pool_bytes(const void *p) { return header_of(p)->size; }

void bo_pool_free(bo_pool *pool, void *p)
{
    if (!p)
        return;
    hdr h = *header_of(p);
    assert(h.magic == MAGIC); /* else p is not a pool buffer (as free() of a wild pointer) */
    if (h.bytes == 0) {
        free(h.base);
        return;
    }
    bo_pool_slot out[BO_POOL_SLOTS];
    int k = 0, kept = 0;
    if (pool && pthread_mutex_trylock(&pool->mu) == 0) {
        if (h.bytes <= pool->limit) {
            k = make_room(pool, h.bytes, 1, out);
            POISON((char *)h.base + HDR, h.bytes - HDR);
            pool->slot[pool->n++] = (bo_pool_slot){h.base, h.bytes, ++pool->tick};
            pool->held += h.bytes;
            kept = 1;
        }
        pthread_mutex_unlock(&pool->mu);
    } else if (pool) {
        __atomic_add_fetch(&pool->st.bypassed, 1, __ATOMIC_RELAXED);
    }
    unmap_all(out, k);
    if (!kept)
        unmap(h.base, h.bytes);
}
