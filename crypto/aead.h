/*
 * aead: XChaCha20-Poly1305 (IETF) with detached tags, the one AEAD evault
 * uses for pages, journal records and keyslots.
 *
 * Every call takes associated data so that callers bind what a ciphertext
 * belongs to (vault id, file kind, page number...). Keys are 32 bytes,
 * nonces 24 bytes, tags 16 bytes. Returns 0 on success, -1 on failure.
 */
#ifndef EV_AEAD_H
#define EV_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define AEAD_KEYBYTES 32
#define AEAD_NONCEBYTES 24
#define AEAD_TAGBYTES 16

/*
 * Encrypt mlen bytes of m into c (c may equal m) under key with a fresh
 * random nonce. OUT: c (mlen bytes), nonce (24 bytes), tag (16 bytes).
 */
int aead_seal(uint8_t *c, uint8_t *nonce, uint8_t *tag, const uint8_t *m,
              size_t mlen, const uint8_t *ad, size_t adlen,
              const uint8_t *key);

/*
 * Verify tag over c and ad, then decrypt clen bytes into m (m may equal c).
 * On failure m is zeroed and -1 returned: no unauthenticated byte is ever
 * released. OUT: m (clen bytes).
 */
int aead_open(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *nonce,
              const uint8_t *tag, const uint8_t *ad, size_t adlen,
              const uint8_t *key) __attribute__((warn_unused_result));

#endif
