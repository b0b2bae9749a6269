/*
 * sha256pipe: see sha256pipe.h. A ring of NBUF buffers between one
 * producer (the caller) and one consumer (the hasher thread), under one
 * mutex and two condition variables. A "final" request travels through the
 * ring like data, so the digest covers exactly what came before it.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_DONTDUMP, MADV_HUGEPAGE */
#include "sha256pipe.h"

#include <nettle/sha2.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NBUF 8
#define HUGE_PAGE ((size_t)2 << 20)

struct slot {
    uint8_t *buf;
    size_t len;
    int final; /* a digest request, not data */
    int ready; /* filled: the hasher may take it */
};

struct sha256pipe {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled, drained;
    struct slot ring[NBUF];
    size_t bufsize;
    uint8_t *map; /* the mapping that holds every buffer */
    size_t maplen;
    unsigned used; /* slots claimed at least once (from 0 up): to wipe */
    /* head: next to claim; tail: next to hash; count: claimed, not yet
     * hashed (slots are claimed in order but may be filled out of order) */
    unsigned head, tail, count;
    int stop, done;             /* done: a final request was hashed */
    /* work to do while waiting for data (sha256pipe_set_idle) */
    int (*idle)(void *);
    void *idle_arg;
    int kicks, in_idle;
    int waiting; /* the hasher sleeps until data comes */
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
};

static void *hasher(void *arg)
{
    sha256pipe *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct slot *s;
        while (!p->ring[p->tail].ready && !p->stop) {
            if (p->idle && p->kicks) {
                int (*fn)(void *) = p->idle;
                void *fa = p->idle_arg;
                p->kicks = 0;
                p->in_idle = 1;
                pthread_mutex_unlock(&p->mu);
                while (fn(fa))
                    ;
                pthread_mutex_lock(&p->mu);
                p->in_idle = 0;
                pthread_cond_broadcast(&p->drained);
                continue;
            }
            p->waiting = 1;
            pthread_cond_wait(&p->filled, &p->mu);
            p->waiting = 0;
        }
        if (!p->ring[p->tail].ready)
            break;
        s = &p->ring[p->tail];
        pthread_mutex_unlock(&p->mu);
        if (s->final) {
            sha256_digest(&p->ctx, SHA256_DIGEST_SIZE, p->digest);
        } else {
            sha256_update(&p->ctx, s->len, s->buf);
        }
        pthread_mutex_lock(&p->mu);
        if (s->final)
            p->done = 1;
        s->ready = 0;
        p->tail = (p->tail + 1) % NBUF;
        p->count--;
        pthread_cond_broadcast(&p->drained);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/*
 * All NBUF buffers in one anonymous mapping, kept out of core dumps (they
 * hold evidence in the clear) and, where the kernel offers transparent huge
 * pages on request, aligned on them: the first touch of 8 MiB of buffers
 * then costs a few page faults instead of 2048, which in a virtual machine
 * is a measurable part of a verify.
 */
static int bufs_map(sha256pipe *p)
{
    size_t len, slack;
    uint8_t *a;

    if (p->bufsize > (SIZE_MAX - HUGE_PAGE) / NBUF)
        return -1;
    len = NBUF * p->bufsize;
    slack = len >= HUGE_PAGE ? HUGE_PAGE : 0;
    p->maplen = len + slack;
    p->map = mmap(NULL, p->maplen, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->map == MAP_FAILED) {
        p->map = NULL;
        return -1;
    }
    (void)madvise(p->map, p->maplen, MADV_DONTDUMP);
    a = p->map;
    if (slack) {
        a += (HUGE_PAGE - (uintptr_t)a % HUGE_PAGE) % HUGE_PAGE;
        (void)madvise(a, len - len % HUGE_PAGE, MADV_HUGEPAGE);
    }
    for (int i = 0; i < NBUF; i++)
        p->ring[i].buf = a + (size_t)i * p->bufsize;
    return 0;
}

static void bufs_unmap(sha256pipe *p)
{
    if (!p->map)
        return;
    /* only slots ever claimed were written: wiping the others would
     * touch, and so allocate, their pages for nothing */
    sodium_memzero(p->ring[0].buf, (size_t)p->used * p->bufsize);
    munmap(p->map, p->maplen);
    p->map = NULL;
}

sha256pipe *sha256pipe_new(size_t bufsize)
{
    sha256pipe *p = calloc(1, sizeof *p);

    if (!p || bufsize == 0)
        goto fail;
    p->bufsize = bufsize;
    if (bufs_map(p) != 0)
        goto fail;
    sha256_init(&p->ctx);
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&p->filled, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    if (pthread_cond_init(&p->drained, NULL) != 0) {
        pthread_cond_destroy(&p->filled);
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    if (pthread_create(&p->thread, NULL, hasher, p) != 0) {
        pthread_cond_destroy(&p->drained);
        pthread_cond_destroy(&p->filled);
        pthread_mutex_destroy(&p->mu);
        goto fail;
    }
    return p;
fail:
    if (p)
        bufs_unmap(p);
    free(p);
    return NULL;
}

/* Wait for a free slot and claim it. Called with the mutex held. */
static unsigned claim(sha256pipe *p)
{
    unsigned i;

    while (p->count == NBUF)
        pthread_cond_wait(&p->drained, &p->mu);
    i = p->head;
    p->head = (p->head + 1) % NBUF;
    p->count++;
    if (i >= p->used)
        p->used = i + 1;
    return i;
}

/* Mark claimed slot i filled. Called with the mutex held. */
static void push(sha256pipe *p, unsigned i, size_t len, int final)
{
    struct slot *s = &p->ring[i];

    s->len = len;
    s->final = final;
    s->ready = 1;
    pthread_cond_signal(&p->filled);
}

uint8_t *sha256pipe_claim(sha256pipe *p, unsigned *slot)
{
    pthread_mutex_lock(&p->mu);
    *slot = claim(p);
    pthread_mutex_unlock(&p->mu);
    return p->ring[*slot].buf;
}

void sha256pipe_submit(sha256pipe *p, unsigned slot, size_t len)
{
    pthread_mutex_lock(&p->mu);
    push(p, slot % NBUF, len < p->bufsize ? len : p->bufsize, 0);
    pthread_mutex_unlock(&p->mu);
}

void sha256pipe_set_idle(sha256pipe *p, int (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&p->mu);
    while (p->in_idle)
        pthread_cond_wait(&p->drained, &p->mu);
    p->idle = fn;
    p->idle_arg = arg;
    p->kicks = 0;
    pthread_mutex_unlock(&p->mu);
}

int sha256pipe_starved(sha256pipe *p)
{
    int w;

    pthread_mutex_lock(&p->mu);
    w = p->waiting;
    pthread_mutex_unlock(&p->mu);
    return w;
}

void sha256pipe_kick(sha256pipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->kicks++;
    pthread_cond_signal(&p->filled);
    pthread_mutex_unlock(&p->mu);
}

void sha256pipe_final(sha256pipe *p, uint8_t *digest)
{
    pthread_mutex_lock(&p->mu);
    p->done = 0;
    push(p, claim(p), 0, 1);
    while (!p->done)
        pthread_cond_wait(&p->drained, &p->mu);
    memcpy(digest, p->digest, SHA256_DIGEST_SIZE);
    sha256_init(&p->ctx);
    pthread_mutex_unlock(&p->mu);
}

void sha256pipe_free(sha256pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->filled);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->drained);
    pthread_cond_destroy(&p->filled);
    pthread_mutex_destroy(&p->mu);
    bufs_unmap(p);
    sodium_memzero(&p->ctx, sizeof p->ctx);
    free(p);
}
