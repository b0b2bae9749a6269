/*
 * sha256pipe: SHA-256 (nettle, SHA-NI where the CPU has it) computed on a
 * second thread, so that a reader that decrypts pages on one core and a
 * hasher on the other run side by side: verify and extract stream evidence
 * out of the vault at the speed of the slower of the two instead of their
 * sum. Data handed over is copied into one of a few fixed buffers (the
 * caller's buffer may be reused at once); update blocks only when all are
 * waiting to be hashed. Buffers are wiped when freed.
 */
#ifndef EV_SHA256PIPE_H
#define EV_SHA256PIPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256pipe sha256pipe;

/* Start a hasher thread with buffers of bufsize bytes. NULL on failure. */
sha256pipe *sha256pipe_new(size_t bufsize);

/* Hash the next len bytes of data (any length; split as needed). */
void sha256pipe_update(sha256pipe *p, const uint8_t *data, size_t len);

/* Wait for everything handed over, write the digest and start a new hash.
 * OUT: digest (32 bytes). */
void sha256pipe_final(sha256pipe *p, uint8_t *digest);

/* Stop the thread, wipe and free. Accepts NULL. */
void sha256pipe_free(sha256pipe *p);

#endif
