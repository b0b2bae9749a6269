/*
 * chunkread: reading evidence chunk rows (table chunk, column data) straight
 * into a caller's buffer, and a helper that lets the SHA-256 pipe's hasher
 * thread read chunks through a second connection whenever it has nothing to
 * hash: verify then authenticates and decrypts pages on both cores without
 * a third thread. Internal to the evidence store (store.c).
 */
#ifndef EV_CHUNKREAD_H
#define EV_CHUNKREAD_H

#include <sqlite3.h>
#include <stdint.h>

#include "../crypto/sha256pipe.h"
#include "vault.h"

enum {
    CHUNK_OK = 0,
    CHUNK_NODATA, /* the value is not a blob (or text) */
    CHUNK_SIZE,   /* the value is not want bytes long (got says how long) */
    CHUNK_SQL     /* SQLite failed: sqlrc */
};

typedef struct chunk_in {
    sqlite3 *db;
    sqlite3_blob *bh; /* opened at the first read, moved row to row */
    int sqlrc;        /* OUT after CHUNK_SQL */
    uint64_t got;     /* OUT after CHUNK_SIZE: bytes the row holds */
    uint64_t want;    /* OUT after CHUNK_SIZE: bytes it should hold */
} chunk_in;

/* Read the chunk row id, which must be exactly want bytes, into buf. */
int chunk_read(chunk_in *in, int64_t id, uint8_t *buf, uint64_t want);

/* Close the blob handle (not the connection). */
void chunk_in_close(chunk_in *in);

typedef struct chunk_helper chunk_helper;

/*
 * Let the pipe's hasher thread read chunks while it waits for data, through
 * a connection of its own (vault_reader_open): call inside a read
 * transaction of vault_db(v). NULL when no second connection can be had
 * (the caller then reads every chunk itself).
 */
chunk_helper *chunk_helper_start(vault *v, sha256pipe *pipe);

/*
 * Offer chunk row id (sequence seq, want bytes) to the helper, to be read
 * into buf, a buffer claimed from the pipe as slot, and submitted (even if
 * the read fails: the digest is then meaningless). Returns 1 when taken, 0
 * when the helper still holds an earlier offer or has failed: the caller
 * reads that chunk itself.
 */
int chunk_helper_offer(chunk_helper *h, int64_t id, int64_t seq,
                       uint64_t want, uint8_t *buf, unsigned slot);

/* Whether a read of the helper's has failed (it then takes no offers). */
int chunk_helper_failed(chunk_helper *h);

/*
 * Wait for the helper's last read (before sha256pipe_final) and return,
 * then forget, its first failure since the last settle: CHUNK_OK or a
 * failure, with the chunk's sequence number in *seq and the details in *out.
 * The helper stays attached for the next content. Accepts NULL (CHUNK_OK).
 */
int chunk_helper_settle(chunk_helper *h, int64_t *seq, chunk_in *out);
/*
 * Settle, then detach the helper from the pipe and close its connection.
 * Returns CHUNK_OK or its first failure, with the chunk's sequence number
 * in *seq and the details in *out (sqlrc, got). Accepts NULL (CHUNK_OK).
 */
int chunk_helper_stop(chunk_helper *h, int64_t *seq, chunk_in *out);

#endif
