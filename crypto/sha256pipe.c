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

#define NBUF 3

struct slot {
    uint8_t *buf;
    size_t len;
    int final; /* a digest request, not data */
};

struct sha256pipe {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled, drained;
    struct slot ring[NBUF];
    size_t bufsize;
    unsigned head, tail, count; /* head: next to fill; tail: next to hash */
    int stop, done;             /* done: a final request was hashed */
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
};

static void *hasher(void *arg)
{
    sha256pipe *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct slot *s;
        while (p->count == 0 && !p->stop)
            pthread_cond_wait(&p->filled, &p->mu);
        if (p->count == 0 && p->stop)
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

/* Wait for a free slot and fill it. Called with the mutex held. */
static void put(sha256pipe *p, const uint8_t *data, size_t len, int final)
{
    struct slot *s;

    while (p->count == NBUF)
        pthread_cond_wait(&p->drained, &p->mu);
    s = &p->ring[p->head];
    if (len)
        memcpy(s->buf, data, len);
    s->len = len;
    s->final = final;
    p->head = (p->head + 1) % NBUF;
    p->count++;
    pthread_cond_signal(&p->filled);
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
