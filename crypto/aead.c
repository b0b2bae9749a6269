/*
 * aead: thin wrapper over libsodium's crypto_aead_xchacha20poly1305_ietf
 * detached API. Random nonces are safe with XChaCha20's 192-bit nonce space.
 *
 * Nonces come from a page of OS randomness refilled 170 nonces at a time:
 * libsodium's randombytes_buf makes one getrandom() call per request, which
 * cost as much as a page encryption. The page is marked MADV_WIPEONFORK, so
 * a forked child finds it zeroed ("not ready") and never reuses a nonce its
 * parent also uses. Not thread-safe: evault encrypts from one thread.
 */
#define _DEFAULT_SOURCE
#include "aead.h"

#include <sodium.h>
#include <string.h>
#include <sys/mman.h>

struct nonce_pool {
    uint32_t ready; /* 0 after fork (the page is wiped) */
    uint32_t pos;
    uint8_t bytes[4096 - 8];
};

static struct nonce_pool *pool;
static int pool_failed;

static void nonce_fresh(uint8_t *nonce)
{
    if (!pool && !pool_failed) {
        void *p = mmap(NULL, sizeof *pool, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || madvise(p, sizeof *pool, MADV_WIPEONFORK)) {
            if (p != MAP_FAILED)
                munmap(p, sizeof *pool);
            pool_failed = 1; /* old kernel: one system call per nonce */
        } else {
            pool = p;
        }
    }
    if (!pool) {
        randombytes_buf(nonce, AEAD_NONCEBYTES);
        return;
    }
    if (!pool->ready || pool->pos + AEAD_NONCEBYTES > sizeof pool->bytes) {
        randombytes_buf(pool->bytes, sizeof pool->bytes);
        pool->pos = 0;
        pool->ready = 1;
    }
    memcpy(nonce, pool->bytes + pool->pos, AEAD_NONCEBYTES);
    pool->pos += AEAD_NONCEBYTES;
}

int aead_seal(uint8_t *c, uint8_t *nonce, uint8_t *tag, const uint8_t *m,
              size_t mlen, const uint8_t *ad, size_t adlen,
              const uint8_t *key)
{
    unsigned long long taglen = 0;

    nonce_fresh(nonce);
    if (crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
            c, tag, &taglen, m, mlen, ad, adlen, NULL, nonce, key) != 0)
        return -1;
    return taglen == AEAD_TAGBYTES ? 0 : -1;
}

int aead_open(uint8_t *m, const uint8_t *c, size_t clen, const uint8_t *nonce,
              const uint8_t *tag, const uint8_t *ad, size_t adlen,
              const uint8_t *key)
{
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            m, NULL, c, clen, tag, ad, adlen, nonce, key) != 0) {
        sodium_memzero(m, clen);
        return -1;
    }
    return 0;
}
