/*
 * jmap: which record of the encrypted journal holds each logical byte.
 *
 * The journal is stored as an append-only log of records; a later record
 * overrides the bytes of earlier ones it overlaps. jmap keeps a sorted array
 * of non-overlapping segments [start, end), each pointing into one record's
 * body, so a read finds its bytes with a binary search. Writes at the end
 * (the usual case) cost O(log n); overlapping writes split segments.
 */
#ifndef EV_JMAP_H
#define EV_JMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct jmap_seg {
    uint64_t start, end; /* logical byte range */
    uint32_t rec;        /* record index */
    uint32_t roff;       /* offset of start inside the record's body */
} jmap_seg;

typedef struct jmap {
    jmap_seg *segs;
    size_t n, cap;
} jmap;

/* Empty map. */
void jmap_init(jmap *m);
/* Free the map's memory and leave it empty. */
void jmap_clear(jmap *m);

/* Map [start, start+len) to the body of record rec. Returns 0 or -1 (nomem). */
int jmap_put(jmap *m, uint64_t start, uint32_t len, uint32_t rec);

/* Index of the first segment whose end is beyond pos (m->n if none). */
size_t jmap_find(const jmap *m, uint64_t pos);

/* End of the last segment (the logical size), 0 when empty. */
uint64_t jmap_size(const jmap *m);

#endif
