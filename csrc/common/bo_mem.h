/* Large buffers that are written whole right after they are allocated. */
#ifndef BLOCKOPS_BO_MEM_H
#define BLOCKOPS_BO_MEM_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* malloc(n) (free with free()) for a buffer about to be written from start to end: from 2 MiB
 * up it starts on a 2 MiB boundary and asks for transparent huge pages over the whole 2 MiB
 * pages it spans (not past its end: a huge page is resident as a whole once touched). A fresh
 * buffer otherwise takes a page fault every 4 KiB as it is first written: for a block's string
 * bytes, written once each, those faults cost more than the copy (NumPy asks the same for its
 * large arrays). Advisory: where THP is off, only the alignment changes. */
static inline void *bo_malloc_written(size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const size_t huge = (size_t)2 << 20;
    if (n >= huge) {
        void *p = NULL;
        if (posix_memalign(&p, huge, n) != 0)
            return NULL;
        (void)madvise(p, n & ~(huge - 1), MADV_HUGEPAGE);
        return p;
    }
#endif
    return malloc(n ? n : 1);
}
#endif
