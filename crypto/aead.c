/*
 * aead: thin wrapper over libsodium's crypto_aead_xchacha20poly1305_ietf
 * detached API. Random nonces are safe with XChaCha20's 192-bit nonce space.
 */
#include "aead.h"

#include <sodium.h>
#include <string.h>

int aead_seal(uint8_t *c, uint8_t *nonce, uint8_t *tag, const uint8_t *m,
              size_t mlen, const uint8_t *ad, size_t adlen,
              const uint8_t *key)
{
    unsigned long long taglen = 0;

    randombytes_buf(nonce, AEAD_NONCEBYTES);
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
