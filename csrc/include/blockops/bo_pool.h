/* A bounded pool of large output buffers, kept for the next read instead of being returned to
 * the system.
 *
 * Why: a reader's outputs (a block's column arrays, string bytes and offsets) are written
 * whole right after they are allocated. Fresh memory from the system costs a page fault and a
 * zeroed page per 4 KiB at its first write, and the system takes the pages back at free, so
 * every read paid it again: 29 % of the CPU samples of repeated reads of a 30 MB table
 * (benchmarks/RESULTS.md, session 16). Buffers freed into the pool keep their pages, and the
 * next read writes over them.
 *
 * The pool is an object the caller owns and passes in (the C core keeps no hidden state); the
 * binding keeps one for the process, as Arrow keeps a default memory pool. It is thread-safe,
 * and taking and giving back buffers never blocks: a call that finds the pool busy (another
 * thread in it, or a lock held by a thread a fork() left behind) maps or unmaps memory itself.
 *
 * A buffer's contents are unspecified when it comes back from the pool: callers that need
 * zeros clear it. Requests below BO_POOL_MIN bytes are plain malloc (glibc's heap keeps those
 * pages already). */
#ifndef BLOCKOPS_BO_POOL_H
#define BLOCKOPS_BO_POOL_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define BO_POOL_MIN ((size_t)256 << 10)
#define BO_POOL_SLOTS 512

typedef struct bo_pool_slot {
    void *map;      /* the mapping (its first bytes are the buffer's header) */
    size_t bytes;   /* the mapping's length */
    uint64_t used;  /* when it was last put back (the pool's tick) */
} bo_pool_slot;

typedef struct bo_pool_stats {
    size_t limit;      /* bytes the pool may keep */
    size_t held;       /* bytes it keeps now */
    uint64_t hits;     /* large requests served from the pool */
    uint64_t misses;   /* large requests that mapped new memory */
    uint64_t bypassed; /* requests and releases made without the pool (it was busy) */
} bo_pool_stats;

typedef struct bo_pool {
    pthread_mutex_t mu;
    size_t limit;
    size_t held;
    uint64_t tick;
    int n;
    bo_pool_slot slot[BO_POOL_SLOTS];
    bo_pool_stats st;
} bo_pool;

/* An empty pool that keeps at most limit bytes (0: keeps nothing). */
void bo_pool_init(bo_pool *pool, size_t limit);
/* After fork(), in the child: the buffers kept are the child's own copies and stay usable,
 * unless a thread (which does not exist there) was inside the pool at fork(): then the pool
 * starts empty, with a fresh lock. */
void bo_pool_after_fork(bo_pool *pool);
/* Change the limit; buffers over it are unmapped (0 empties the pool). */
void bo_pool_set_limit(bo_pool *pool, size_t limit);
bo_pool_stats bo_pool_get_stats(bo_pool *pool);

/* At least n bytes, 64-byte aligned, or NULL when out of memory. pool may be NULL: then
 * every buffer is malloc'ed (what the C tests and fuzzers use, so AddressSanitizer sees its
 * exact end). */
void *bo_pool_alloc(bo_pool *pool, size_t n);
/* bo_pool_alloc, all zero (a new mapping is zero already: only a kept one is cleared). */
void *bo_pool_calloc(bo_pool *pool, size_t n);
/* Gives p (from bo_pool_alloc or bo_pool_calloc of the same pool, or NULL) back. */
void bo_pool_free(bo_pool *pool, void *p);
/* The bytes of memory behind p (its mapping, or malloc's block): what the pool counts. */
size_t bo_pool_bytes(const void *p);

#endif
