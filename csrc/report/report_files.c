/* bo_report_read_files: open, read and parse many ONE report files in C (see bo_report.h).
 *
 * Why it exists: a real report is ~420 bytes. Reading one in Python (open, read, close under
 * the GIL) took ~40 us of the ~44 us per file, the C parse ~4 us, so threads calling the C
 * parser could not beat one Python process. Here the whole per-file path runs without Python.
 *
 * Shape of the work:
 *   1. The files are cut into tasks of files_per_task consecutive files. Threads take tasks
 *      dynamically; each task reads its files through the thread's reusable buffer, parses them
 *      (bo_report_parse_reuse) and stores the pairs with task-local key ids (a small hash table
 *      per task; the id of the key at the same position of the previous file is tried first, as
 *      consecutive reports nearly always list the same keys in the same order).
 *   2. Serially, in task order, the task key tables are merged into the batch's table. Task
 *      ranges are consecutive and in input order, and a task numbers its keys in order of first
 *      appearance, so the merged order is "first appearance in input order" whatever the task
 *      size or thread count.
 *   3. In parallel, every task copies its pairs into the batch with the ids remapped.
 * Nothing in the result depends on which thread did what. */
#include "blockops/bo_report.h"
#include "report_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bo_omp.h"

#if defined(__unix__) || defined(__APPLE__)
#define BO_HAVE_POSIX_IO 1
#include <fcntl.h>
#include <unistd.h>
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#endif

/* First size of a thread's read buffer: 150 real reports; grows by doubling up to the limit. */
#define READ_BUF_INITIAL ((size_t)64 << 10)
/* Automatic tasks: ~4 per thread for balance, at most this many files (a task's pairs are held
 * until the merge, so smaller tasks also mean less memory held twice). */
#define FILES_PER_TASK_MAX 64

/* ------------------------------------------------------------------ key table */

/* Distinct keys with ids 0..n-1 in insertion order, text stored back to back, found through
 * an open-addressing hash table. mark[] is scratch for the duplicate-key check of a task. */
typedef struct key_table {
    size_t n, cap;
    size_t *start;     /* cap + 1 offsets into text */
    uint64_t *hash;    /* cap: hash of each key (kept for rehashing) */
    size_t *mark;      /* cap: last file (task-local index + 1) the key was seen in */
    char *text;
    size_t text_len, text_cap;
    uint32_t *slot;    /* nslot entries: key id + 1, 0 = empty; nslot a power of two */
    size_t nslot;
} key_table;

static void kt_free(key_table *kt)
{
    free(kt->start);
    free(kt->hash);
    free(kt->mark);
    free(kt->text);
    free(kt->slot);
    memset(kt, 0, sizeof *kt);
}

/* FNV-1a: keys are short ASCII words; this is plenty and has no alignment requirements. */
static uint64_t key_hash(const char *s, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static int kt_equal(const key_table *kt, size_t id, const char *s, size_t len)
{
    return kt->start[id + 1] - kt->start[id] == len && memcmp(kt->text + kt->start[id], s, len) == 0;
}

/* Id of the key, or -1 when absent. */
static int64_t kt_find(const key_table *kt, const char *s, size_t len, uint64_t h)
{
    if (!kt->nslot)
        return -1;
    size_t mask = kt->nslot - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint32_t v = kt->slot[i];
        if (!v)
            return -1;
        if (kt->hash[v - 1] == h && kt_equal(kt, v - 1, s, len))
            return (int64_t)(v - 1);
    }
}

static bo_status kt_rehash(key_table *kt, size_t nslot)
{
    uint32_t *slot = (uint32_t *)calloc(nslot, sizeof *slot);
    if (!slot)
        return BO_ERR_NOMEM;
    for (size_t id = 0; id < kt->n; id++) {
        size_t i = (size_t)kt->hash[id] & (nslot - 1);
        while (slot[i])
            i = (i + 1) & (nslot - 1);
        slot[i] = (uint32_t)(id + 1);
    }
    free(kt->slot);
    kt->slot = slot;
    kt->nslot = nslot;
    return BO_OK;
}

/* Id of the key, added at the end when new. BO_ERR_LIMIT past UINT32_MAX - 1 keys (slot
 * values are id + 1 in a uint32_t). */
static bo_status kt_intern(key_table *kt, const char *s, size_t len, uint32_t *id)
{
    uint64_t h = key_hash(s, len);
    int64_t found = kt_find(kt, s, len, h);
    if (found >= 0) {
        *id = (uint32_t)found;
        return BO_OK;
    }
    if (kt->n >= (size_t)UINT32_MAX - 1)
        return BO_ERR_LIMIT;
    if (kt->n == kt->cap) {
        size_t cap = kt->cap ? kt->cap * 2 : 32;
        if (cap > SIZE_MAX / sizeof(size_t) - 1)
            return BO_ERR_NOMEM;
        size_t *start = (size_t *)realloc(kt->start, (cap + 1) * sizeof *start);
        if (!start)
            return BO_ERR_NOMEM;
        kt->start = start;
        if (kt->cap == 0)
            kt->start[0] = 0;
        uint64_t *hash = (uint64_t *)realloc(kt->hash, cap * sizeof *hash);
        if (!hash)
            return BO_ERR_NOMEM;
        kt->hash = hash;
        size_t *mark = (size_t *)realloc(kt->mark, cap * sizeof *mark);
        if (!mark)
            return BO_ERR_NOMEM;
        kt->mark = mark;
        kt->cap = cap;
    }
    if (len > kt->text_cap - kt->text_len) {
        size_t need = kt->text_len + len;
        if (need < len)
            return BO_ERR_NOMEM;
        size_t cap = kt->text_cap ? kt->text_cap : 1024;
        while (cap < need) {
            if (cap > SIZE_MAX / 2)
                return BO_ERR_NOMEM;
            cap *= 2;
        }
        char *text = (char *)realloc(kt->text, cap);
        if (!text)
            return BO_ERR_NOMEM;
        kt->text = text;
        kt->text_cap = cap;
    }
    /* keep the load factor <= 1/2 */
    if ((kt->n + 1) * 2 > kt->nslot) {
        bo_status st = kt_rehash(kt, kt->nslot ? kt->nslot * 2 : 64);
        if (st != BO_OK)
            return st;
    }
    size_t k = kt->n;
    if (len)
        memcpy(kt->text + kt->text_len, s, len);
    kt->text_len += len;
    kt->start[k + 1] = kt->text_len;
    kt->hash[k] = h;
    kt->mark[k] = 0;
    size_t i = (size_t)h & (kt->nslot - 1);
    while (kt->slot[i])
        i = (i + 1) & (kt->nslot - 1);
    kt->slot[i] = (uint32_t)(k + 1);
    kt->n++;
    *id = (uint32_t)k;
    return BO_OK;
}

/* ------------------------------------------------------------------ tasks and threads */

typedef struct task {
    size_t first, count;   /* files [first, first + count) of this call */
    key_table keys;        /* task-local ids */
    size_t *npairs;        /* count: pairs of each file */
    uint32_t *kid;
    double *val;
    size_t n_pairs, pairs_cap, n_dup;
    bo_report_file_error *errors;
    size_t n_errors, errors_cap;
    uint32_t *remap;       /* local id -> batch id (merge) */
    size_t pair_base;      /* first pair of this task in the batch (merge) */
    bo_status status;      /* BO_OK, or why the whole call fails */
    bo_error err;
} task;

typedef struct thread_buf {
    char *buf;
    size_t cap;
    bo_report rep;
} thread_buf;

static void task_free(task *t)
{
    kt_free(&t->keys);
    free(t->npairs);
    free(t->kid);
    free(t->val);
    free(t->errors);
    free(t->remap);
}

/* Read the whole file into tb->buf. BO_ERR_IO (with *sys_errno), BO_ERR_LIMIT, BO_ERR_NOMEM. */
static bo_status read_whole(const char *path, thread_buf *tb, size_t max_bytes, size_t *out_len,
                            int *sys_errno, bo_error *err)
{
    bo_status st = BO_OK;
    size_t len = 0;
#ifdef BO_HAVE_POSIX_IO
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        *sys_errno = errno;
        return bo_error_set(err, BO_ERR_IO, "cannot open the file (errno %d)", *sys_errno);
    }
#else
    FILE *f = fopen(path, "rb");
    if (!f) {
        *sys_errno = errno;
        return bo_error_set(err, BO_ERR_IO, "cannot open the file (errno %d)", *sys_errno);
    }
#endif
    for (;;) {
        if (len == tb->cap) {
            /* the buffer never exceeds max_bytes + 1: filling that much proves "too large" */
            if (tb->cap > max_bytes) {
                st = bo_error_set(err, BO_ERR_LIMIT,
                                  "file is larger than max_file_bytes (%zu bytes)", max_bytes);
                break;
            }
            size_t cap = tb->cap ? tb->cap * 2 : READ_BUF_INITIAL;
            if (cap > max_bytes + 1 || cap < tb->cap)
                cap = max_bytes + 1;
            char *b = (char *)realloc(tb->buf, cap);
            if (!b) {
                st = bo_error_set(err, BO_ERR_NOMEM, "cannot allocate a %zu-byte read buffer", cap);
                break;
            }
            tb->buf = b;
            tb->cap = cap;
        }
#ifdef BO_HAVE_POSIX_IO
        ssize_t r = read(fd, tb->buf + len, tb->cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *sys_errno = errno;
            st = bo_error_set(err, BO_ERR_IO, "cannot read the file (errno %d)", *sys_errno);
            break;
        }
#else
        size_t r = fread(tb->buf + len, 1, tb->cap - len, f);
        if (r == 0 && ferror(f)) {
            *sys_errno = errno ? errno : EIO;
            st = bo_error_set(err, BO_ERR_IO, "cannot read the file (errno %d)", *sys_errno);
            break;
        }
#endif
        if (r == 0)
            break;
        len += (size_t)r;
    }
#ifdef BO_HAVE_POSIX_IO
    close(fd); /* read-only: a failing close loses nothing */
#else
    fclose(f);
#endif
    *out_len = len;
    return st;
}

static bo_status task_add_error(task *t, size_t j, bo_status st, int sys_errno, const bo_error *e)
{
    if (t->n_errors == t->errors_cap) {
        size_t cap = t->errors_cap ? t->errors_cap * 2 : 4;
        bo_report_file_error *p =
            (bo_report_file_error *)realloc(t->errors, cap * sizeof *p);
        if (!p)
            return BO_ERR_NOMEM;
        t->errors = p;
        t->errors_cap = cap;
    }
    bo_report_file_error *fe = &t->errors[t->n_errors++];
    fe->file = t->first + j; /* made batch-wide in the merge */
    fe->status = st;
    fe->sys_errno = sys_errno;
    fe->err = *e;
    return BO_OK;
}

static bo_status task_reserve_pairs(task *t, size_t more)
{
    if (more <= t->pairs_cap - t->n_pairs)
        return BO_OK;
    size_t cap = t->pairs_cap ? t->pairs_cap : 256;
    while (cap - t->n_pairs < more) {
        if (cap > SIZE_MAX / 2 / sizeof(double))
            return BO_ERR_NOMEM;
        cap *= 2;
    }
    uint32_t *kid = (uint32_t *)realloc(t->kid, cap * sizeof *kid);
    if (!kid)
        return BO_ERR_NOMEM;
    t->kid = kid;
    double *val = (double *)realloc(t->val, cap * sizeof *val);
    if (!val)
        return BO_ERR_NOMEM;
    t->val = val;
    t->pairs_cap = cap;
    return BO_OK;
}

/* One file of a task: read, parse, store. A bad file becomes an entry of t->errors; only
 * what must stop the whole call (out of memory, too many keys, a parser bug) is returned. */
static bo_status task_file(task *t, size_t j, const char *path, thread_buf *tb, size_t max_bytes,
                           size_t *prev_start, size_t *prev_n)
{
    bo_error fe;
    bo_error_clear(&fe);
    int sys_errno = 0;
    size_t len = 0;
    t->npairs[j] = 0;
    bo_status st = read_whole(path, tb, max_bytes, &len, &sys_errno, &fe);
    if (st == BO_OK)
        st = bo_report_parse_reuse(tb->buf, len, &tb->rep, &fe);
    if (st == BO_ERR_IO || st == BO_ERR_LIMIT || st == BO_ERR_PARSE) {
        if (st != BO_ERR_PARSE) {
            fe.line = fe.column = fe.byte_offset = -1;
        }
        if (task_add_error(t, j, st, sys_errno, &fe) != BO_OK)
            return bo_error_set(&t->err, BO_ERR_NOMEM, "out of memory recording a file error");
        return BO_OK;
    }
    if (st != BO_OK) {
        t->err = fe;
        return st;
    }

    const bo_report *rep = &tb->rep;
    if (task_reserve_pairs(t, rep->n) != BO_OK)
        return bo_error_set(&t->err, BO_ERR_NOMEM, "out of memory storing %zu values", rep->n);
    size_t base = t->n_pairs;
    const size_t token = j + 1;
    for (size_t i = 0; i < rep->n; i++) {
        const char *k = tb->buf + rep->keys[i].off;
        size_t klen = rep->keys[i].len;
        uint32_t id;
        /* consecutive reports list the same keys in the same order: try that first */
        if (i < *prev_n && kt_equal(&t->keys, t->kid[*prev_start + i], k, klen)) {
            id = t->kid[*prev_start + i];
        } else {
            st = kt_intern(&t->keys, k, klen, &id);
            if (st != BO_OK)
                return bo_error_set(&t->err, st, st == BO_ERR_LIMIT ? "more than 2^32 - 2 distinct keys"
                                                                    : "out of memory storing keys");
        }
        if (t->keys.mark[id] == token)
            t->n_dup++;
        t->keys.mark[id] = token;
        t->kid[base + i] = id;
        t->val[base + i] = rep->values[i];
    }
    t->n_pairs += rep->n;
    t->npairs[j] = rep->n;
    *prev_start = base;
    *prev_n = rep->n;
    return BO_OK;
}

static void run_task(task *t, const char *const *paths, thread_buf *tb, size_t max_bytes)
{
    t->npairs = (size_t *)malloc((t->count ? t->count : 1) * sizeof *t->npairs);
    if (!t->npairs) {
        t->status = bo_error_set(&t->err, BO_ERR_NOMEM, "out of memory");
        return;
    }
    size_t prev_start = 0, prev_n = 0;
    for (size_t j = 0; j < t->count; j++) {
        bo_status st = task_file(t, j, paths[t->first + j], tb, max_bytes, &prev_start, &prev_n);
        if (st != BO_OK) {
            t->status = st;
            return;
        }
    }
}

/* ------------------------------------------------------------------ batch */

void bo_report_batch_init(bo_report_batch *batch)
{
    if (batch)
        memset(batch, 0, sizeof *batch);
}

void bo_report_batch_free(bo_report_batch *batch)
{
    if (!batch)
        return;
    free(batch->pair_start);
    free(batch->key_id);
    free(batch->value);
    free(batch->errors);
    if (batch->key_index) {
        kt_free((key_table *)batch->key_index);
        free(batch->key_index);
    }
    bo_report_batch_init(batch);
}

static bo_status batch_reserve(bo_report_batch *b, size_t files, size_t pairs, size_t errors)
{
    if (files > SIZE_MAX / sizeof(size_t) - 1 || pairs > SIZE_MAX / sizeof(double))
        return BO_ERR_NOMEM;
    if (files + 1 > b->files_cap) {
        size_t cap = files + 1 > 2 * b->files_cap ? files + 1 : 2 * b->files_cap;
        size_t *p = (size_t *)realloc(b->pair_start, cap * sizeof *p);
        if (!p)
            return BO_ERR_NOMEM;
        if (!b->pair_start)
            p[0] = 0;
        b->pair_start = p;
        b->files_cap = cap;
    }
    if (pairs > b->pairs_cap) {
        size_t cap = pairs > 2 * b->pairs_cap ? pairs : 2 * b->pairs_cap;
        uint32_t *k = (uint32_t *)realloc(b->key_id, cap * sizeof *k);
        if (!k)
            return BO_ERR_NOMEM;
        b->key_id = k;
        double *v = (double *)realloc(b->value, cap * sizeof *v);
        if (!v)
            return BO_ERR_NOMEM;
        b->value = v;
        b->pairs_cap = cap;
    }
    if (errors > b->errors_cap) {
        size_t cap = errors > 2 * b->errors_cap ? errors : 2 * b->errors_cap;
        bo_report_file_error *e = (bo_report_file_error *)realloc(b->errors, cap * sizeof *e);
        if (!e)
            return BO_ERR_NOMEM;
        b->errors = e;
        b->errors_cap = cap;
    }
    return BO_OK;
}

bo_status bo_report_read_files(const char *const *paths, size_t n,
                               const bo_report_read_opts *opts, bo_report_batch *batch,
                               bo_error *err)
{
    if (!batch || (!paths && n))
        return bo_error_set(err, BO_ERR_ARG, "NULL argument");
    for (size_t i = 0; i < n; i++)
        if (!paths[i])
            return bo_error_set(err, BO_ERR_ARG, "paths[%zu] is NULL", i);
    int nt = opts && opts->n_threads > 0 ? opts->n_threads : 1;
    size_t max_bytes = opts && opts->max_file_bytes ? opts->max_file_bytes
                                                    : BO_REPORT_DEFAULT_MAX_FILE_BYTES;
    if (max_bytes > SIZE_MAX / 4)
        max_bytes = SIZE_MAX / 4; /* max_bytes + 1 and the doubling must not overflow */
    size_t per = opts && opts->files_per_task ? opts->files_per_task : 0;
    if (!per) {
        per = (n + 4 * (size_t)nt - 1) / (4 * (size_t)nt);
        per = per < 1 ? 1 : per > FILES_PER_TASK_MAX ? FILES_PER_TASK_MAX : per;
    }
    if (!batch->key_index) {
        batch->key_index = calloc(1, sizeof(key_table));
        if (!batch->key_index)
            return bo_error_set(err, BO_ERR_NOMEM, "out of memory");
    }
    key_table *keys = (key_table *)batch->key_index;
    if (batch_reserve(batch, batch->n_files, 0, 0) != BO_OK)
        return bo_error_set(err, BO_ERR_NOMEM, "out of memory");
    if (n == 0)
        return BO_OK;

    bo_status st = BO_OK;
    size_t ntask = (n - 1) / per + 1;
    if ((size_t)nt > ntask)
        nt = (int)ntask;
    task *tasks = (task *)calloc(ntask, sizeof *tasks);
    if (!tasks)
        return bo_error_set(err, BO_ERR_NOMEM, "out of memory for %zu tasks", ntask);
    for (size_t t = 0; t < ntask; t++) {
        tasks[t].first = t * per;
        tasks[t].count = t + 1 < ntask ? per : n - t * per;
        bo_error_clear(&tasks[t].err);
    }

    /* 1. read and parse; each thread owns one read buffer and one parse result */
    BO_OMP(parallel num_threads(nt) if (nt > 1))
    {
        thread_buf tb;
        memset(&tb, 0, sizeof tb);
        bo_report_init(&tb.rep);
        long long t;
        BO_OMP(for schedule(dynamic, 1))
        for (t = 0; t < (long long)ntask; t++)
            run_task(&tasks[t], paths, &tb, max_bytes);
        free(tb.buf);
        bo_report_free(&tb.rep);
    }
    for (size_t t = 0; t < ntask; t++) {
        if (tasks[t].status != BO_OK) {
            st = tasks[t].status;
            if (err)
                *err = tasks[t].err;
            goto fail;
        }
    }

    /* 2. merge the key tables in task order, place pairs and errors */
    size_t pairs = batch->n_pairs, errors = batch->n_errors;
    for (size_t t = 0; t < ntask; t++) {
        task *tk = &tasks[t];
        tk->pair_base = pairs;
        pairs += tk->n_pairs;
        errors += tk->n_errors;
        tk->remap = (uint32_t *)malloc((tk->keys.n ? tk->keys.n : 1) * sizeof *tk->remap);
        if (!tk->remap) {
            st = bo_error_set(err, BO_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < tk->keys.n; k++) {
            st = kt_intern(keys, tk->keys.text + tk->keys.start[k],
                           tk->keys.start[k + 1] - tk->keys.start[k], &tk->remap[k]);
            if (st != BO_OK) {
                bo_error_set(err, st, st == BO_ERR_LIMIT ? "more than 2^32 - 2 distinct keys"
                                                         : "out of memory storing keys");
                goto fail;
            }
        }
    }
    if (batch_reserve(batch, batch->n_files + n, pairs, errors) != BO_OK) {
        st = bo_error_set(err, BO_ERR_NOMEM, "out of memory for %zu values", pairs);
        goto fail;
    }
    size_t file0 = batch->n_files;
    for (size_t t = 0; t < ntask; t++) {
        const task *tk = &tasks[t];
        for (size_t j = 0; j < tk->count; j++) {
            size_t g = file0 + tk->first + j;
            batch->pair_start[g + 1] = batch->pair_start[g] + tk->npairs[j];
        }
        for (size_t e = 0; e < tk->n_errors; e++) {
            batch->errors[batch->n_errors] = tk->errors[e];
            batch->errors[batch->n_errors].file += file0;
            batch->n_errors++;
        }
        batch->n_dup_pairs += tk->n_dup;
    }

    /* 3. copy the pairs with batch-wide key ids */
    long long t;
    BO_OMP(parallel for num_threads(nt) schedule(static) if (nt > 1))
    for (t = 0; t < (long long)ntask; t++) {
        const task *tk = &tasks[t];
        /* a batch without pairs has key_id == NULL, and NULL + 0 is undefined (fuzz_one_report,
         * empty input; test_read_files_no_pairs) */
        if (!tk->n_pairs)
            continue;
        uint32_t *kid = batch->key_id + tk->pair_base;
        for (size_t i = 0; i < tk->n_pairs; i++)
            kid[i] = tk->remap[tk->kid[i]];
        memcpy(batch->value + tk->pair_base, tk->val, tk->n_pairs * sizeof(double));
    }
    batch->n_files += n;
    batch->n_pairs = pairs;
    st = BO_OK;
fail:
    /* the public view of the key table (also after a failure, so that it stays consistent) */
    batch->n_keys = keys->n;
    batch->key_start = keys->start;
    batch->key_text = keys->text;
    for (size_t k = 0; k < ntask; k++)
        task_free(&tasks[k]);
    free(tasks);
    return st;
}
