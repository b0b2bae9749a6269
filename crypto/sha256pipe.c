/*
 * sha256pipe: see sha256pipe.h. A ring of NBUF buffers between one
 * producer (the caller) and one consumer (the hasher thread), under one
 * mutex and two condition variables. A "final" request travels through the
 * ring like data, so the digest covers exactly what came before it.
 */
#include "sha256pipe.h"

#include <nettle/sha2.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NBUF 8

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

sha256pipe *sha256pipe_new(size_t bufsize)
{
    sha256pipe *p = calloc(1, sizeof *p);
    int i;

    if (!p || bufsize == 0)
        goto fail;
    p->bufsize = bufsize;
    for (i = 0; i < NBUF; i++)
        if (!(p->ring[i].buf = malloc(bufsize)))
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
        for (i = 0; i < NBUF; i++)
            free(p->ring[i].buf);
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

/* Wait for a free slot and fill it. Called with the mutex held. */
static void put(sha256pipe *p, const uint8_t *data, size_t len, int final)
{
    unsigned i = claim(p);

    if (len)
        memcpy(p->ring[i].buf, data, len);
    push(p, i, len, final);
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

void sha256pipe_update(sha256pipe *p, const uint8_t *data, size_t len)
{
    pthread_mutex_lock(&p->mu);
    while (len > 0) {
        size_t n = len < p->bufsize ? len : p->bufsize;
        put(p, data, n, 0);
        data += n;
        len -= n;
    }
    pthread_mutex_unlock(&p->mu);
}

void sha256pipe_final(sha256pipe *p, uint8_t *digest)
{
    pthread_mutex_lock(&p->mu);
    p->done = 0;
    put(p, NULL, 0, 1);
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
    for (int i = 0; i < NBUF; i++) {
        sodium_memzero(p->ring[i].buf, p->bufsize);
        free(p->ring[i].buf);
    }
    sodium_memzero(&p->ctx, sizeof p->ctx);
    free(p);
}
