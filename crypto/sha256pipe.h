/*
 * sha256pipe: SHA-256 (nettle, SHA-NI where the CPU has it) computed on a
 * second thread, so that a reader that decrypts pages on one core and a
 * hasher on the other run side by side: verify and extract stream evidence
 * out of the vault at the speed of the slower of the two instead of their
 * sum. Data is written by the caller straight into one of a few fixed
 * buffers (claim/submit), which blocks only when all buffers are waiting to
 * be hashed. Buffers are wiped when freed.
 */
#ifndef EV_SHA256PIPE_H
#define EV_SHA256PIPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256pipe sha256pipe;

/* Start a hasher thread with buffers of bufsize bytes. NULL on failure. */
sha256pipe *sha256pipe_new(size_t bufsize);

/*
 * Zero-copy hand-over: claim waits for a free buffer and returns it (its
 * size is the bufsize given to sha256pipe_new) with its slot number; the
 * caller, or another thread, fills it and passes it on with submit (len <=
 * bufsize). Buffers are hashed in the order they were claimed, each once
 * it is submitted; every claimed slot must be submitted before final.
 */
uint8_t *sha256pipe_claim(sha256pipe *p, unsigned *slot);
void sha256pipe_submit(sha256pipe *p, unsigned slot, size_t len);

/*
 * Work for the hasher thread while it waits for the next buffer: after a
 * kick, the waiting hasher calls fn(arg) until it returns 0. Kick after
 * giving fn something to do. set_idle(p, NULL, NULL) returns once no call
 * of the old fn is running.
 */
void sha256pipe_set_idle(sha256pipe *p, int (*fn)(void *), void *arg);
void sha256pipe_kick(sha256pipe *p);

/* Whether the hasher is asleep, waiting for data: the moment to give it
 * idle work. */
int sha256pipe_starved(sha256pipe *p);

/* Wait for everything handed over, write the digest and start a new hash.
 * OUT: digest (32 bytes). */
void sha256pipe_final(sha256pipe *p, uint8_t *digest);

/* Stop the thread, wipe and free. Accepts NULL. */
void sha256pipe_free(sha256pipe *p);

#endif
