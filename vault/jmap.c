/* jmap: sorted, non-overlapping segment array for the journal log. */
#include "jmap.h"

#include <stdlib.h>
#include <string.h>

void jmap_init(jmap *m)
{
    m->segs = NULL;
    m->n = m->cap = 0;
}

void jmap_clear(jmap *m)
{
    free(m->segs);
    jmap_init(m);
}

size_t jmap_find(const jmap *m, uint64_t pos)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->segs[mid].end > pos)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t jmap_size(const jmap *m)
{
    return m->n ? m->segs[m->n - 1].end : 0;
}

static int reserve(jmap *m, size_t extra)
{
    if (m->n + extra > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        jmap_seg *s;
        while (cap < m->n + extra)
            cap *= 2;
        s = realloc(m->segs, cap * sizeof *s);
        if (!s)
            return -1;
        m->segs = s;
        m->cap = cap;
    }
    return 0;
}

int jmap_put(jmap *m, uint64_t start, uint32_t len, uint32_t rec)
{
    uint64_t end = start + len;
    size_t i, k, nrep = 0, nnew = 0;
    jmap_seg repl[3];

    if (len == 0)
        return 0;
    if (reserve(m, 3) != 0)
        return -1;
    i = jmap_find(m, start);
    /* Segments i..k-1 overlap [start, end). */
    for (k = i; k < m->n && m->segs[k].start < end; k++)
        ;
    if (i < k && m->segs[i].start < start) {
        repl[nnew] = m->segs[i];
        repl[nnew].end = start;
        nnew++;
    }
    repl[nnew].start = start;
    repl[nnew].end = end;
    repl[nnew].rec = rec;
    repl[nnew].roff = 0;
    nnew++;
    if (i < k && m->segs[k - 1].end > end) {
        repl[nnew] = m->segs[k - 1];
        repl[nnew].roff += (uint32_t)(end - repl[nnew].start);
        repl[nnew].start = end;
        nnew++;
    }
    nrep = k - i;
    memmove(m->segs + i + nnew, m->segs + k, (m->n - k) * sizeof *m->segs);
    memcpy(m->segs + i, repl, nnew * sizeof *repl);
    m->n = m->n - nrep + nnew;
    return 0;
}
