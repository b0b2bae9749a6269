/*
 * chunkread: see chunkread.h. The helper holds at most one offered request
 * (a one-place mailbox under a mutex), taken by the hasher thread when it
 * waits for data.
 */
#include "chunkread.h"

#include <pthread.h>
#include <stdlib.h>

int chunk_read(chunk_in *in, int64_t id, uint8_t *buf, uint64_t want)
{
    int rc = in->bh ? sqlite3_blob_reopen(in->bh, id)
                    : sqlite3_blob_open(in->db, "main", "chunk", "data", id,
                                        0, &in->bh);

    if (rc == SQLITE_ERROR) /* no such row, or not a blob or text */
        return CHUNK_NODATA;
    if (rc != SQLITE_OK) {
        in->sqlrc = rc;
        return CHUNK_SQL;
    }
    in->got = (uint64_t)sqlite3_blob_bytes(in->bh);
    in->want = want;
    if (in->got != want)
        return CHUNK_SIZE;
    /* SQLite copies the chunk out of its page cache into buf (3.40.1
     * makes no direct overflow reads); the VFS decrypted each page
     * straight into that cache */
    if (want > 0 &&
        (rc = sqlite3_blob_read(in->bh, buf, (int)want, 0)) != SQLITE_OK) {
        in->sqlrc = rc;
        return CHUNK_SQL;
    }
    return CHUNK_OK;
}

void chunk_in_close(chunk_in *in)
{
    sqlite3_blob_close(in->bh);
    in->bh = NULL;
}

struct req {
    int64_t id, seq;
    uint64_t want;
    uint8_t *buf;
    unsigned slot;
};

struct chunk_helper {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sha256pipe *pipe;
    chunk_in in;
    struct req next; /* the offered request, when has_next */
    int has_next, busy;
    int fail; /* first failure (CHUNK_*), 0 while none */
    int64_t fail_seq;
    chunk_in fail_in;
};

/* The pipe's idle work, on the hasher thread: read the offered chunk and
 * submit it (even when the read fails, so that nothing waits on it). */
static int helper_idle(void *arg)
{
    chunk_helper *h = arg;
    struct req r;
    int rc;

    pthread_mutex_lock(&h->mu);
    if (!h->has_next) {
        pthread_mutex_unlock(&h->mu);
        return 0;
    }
    r = h->next;
    h->has_next = 0;
    h->busy = 1;
    pthread_mutex_unlock(&h->mu);
    rc = chunk_read(&h->in, r.id, r.buf, r.want);
    sha256pipe_submit(h->pipe, r.slot, rc == CHUNK_OK ? r.want : 0);
    pthread_mutex_lock(&h->mu);
    if (rc != CHUNK_OK && !h->fail) {
        h->fail = rc;
        h->fail_seq = r.seq;
        h->fail_in = h->in;
    }
    h->busy = 0;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return 1;
}

chunk_helper *chunk_helper_start(vault *v, sha256pipe *pipe)
{
    chunk_helper *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    h->pipe = pipe;
    if (vault_reader_open(v, &h->in.db) != SQLITE_OK) {
        free(h);
        return NULL;
    }
    if (pthread_mutex_init(&h->mu, NULL) != 0)
        goto fail_db;
    if (pthread_cond_init(&h->cv, NULL) != 0) {
        pthread_mutex_destroy(&h->mu);
        goto fail_db;
    }
    sha256pipe_set_idle(pipe, helper_idle, h);
    return h;
fail_db:
    vault_reader_close(h->in.db);
    free(h);
    return NULL;
}

int chunk_helper_offer(chunk_helper *h, int64_t id, int64_t seq,
                       uint64_t want, uint8_t *buf, unsigned slot)
{
    pthread_mutex_lock(&h->mu);
    if (h->has_next || h->fail) {
        pthread_mutex_unlock(&h->mu);
        return 0;
    }
    h->next = (struct req){id, seq, want, buf, slot};
    h->has_next = 1;
    pthread_mutex_unlock(&h->mu);
    sha256pipe_kick(h->pipe);
    return 1;
}

int chunk_helper_failed(chunk_helper *h)
{
    int f;

    pthread_mutex_lock(&h->mu);
    f = h->fail != 0;
    pthread_mutex_unlock(&h->mu);
    return f;
}

int chunk_helper_settle(chunk_helper *h, int64_t *seq, chunk_in *out)
{
    int rc;

    if (!h)
        return CHUNK_OK;
    /* the hasher takes the offered chunk when it reaches it: every slot
     * before it has been submitted */
    pthread_mutex_lock(&h->mu);
    while (h->has_next || h->busy)
        pthread_cond_wait(&h->cv, &h->mu);
    rc = h->fail;
    if (rc) {
        *seq = h->fail_seq;
        *out = h->fail_in;
        h->fail = 0;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

int chunk_helper_stop(chunk_helper *h, int64_t *seq, chunk_in *out)
{
    int rc;

    if (!h)
        return CHUNK_OK;
    rc = chunk_helper_settle(h, seq, out);
    sha256pipe_set_idle(h->pipe, NULL, NULL);
    chunk_in_close(&h->in);
    vault_reader_close(h->in.db);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return rc;
}
