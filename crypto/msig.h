/*
 * msig: minisign key pairs, public key files and signature files, so that
 * anyone holding a bundle can check it with the stock `minisign -V`.
 *
 * Formats (minisign 0.11, base64 with padding, LF line ends):
 *   public key  b64("Ed" || key id[8] || Ed25519 public key[32]), and as a
 *               file "untrusted comment: minisign public key <ID>\n<b64>\n"
 *               where ID is the key id read as a little-endian uint64 and
 *               printed "%" PRIX64 (no zero padding: what minisign writes);
 *   signature   "untrusted comment: <text>\n"
 *               b64("ED" || key id || Ed25519(BLAKE2b-512(message))) "\n"
 *               "trusted comment: <text>\n"
 *               b64(Ed25519(signature[64] || trusted comment)) "\n".
 * Signing always writes "ED" (prehashed). Verifying also accepts the legacy
 * "Ed" algorithm, a signature over the raw message, but only through the
 * one-shot msig_verify: the streaming verifier refuses it, since it would
 * need the whole message at once.
 *
 * Parsers take (text, length), treat every byte as hostile and accept only
 * what minisign writes: exact line count and base64 lengths, canonical
 * base64, no CR, no NUL, comments within the bounds below. Returns 0 on
 * success, -1 on failure.
 */
#ifndef EV_MSIG_H
#define EV_MSIG_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define MSIG_KEYIDBYTES 8
#define MSIG_PUBLICKEYBYTES 32
#define MSIG_SECRETKEYBYTES 64
#define MSIG_SIGBYTES 64
#define MSIG_PUBKEY_B64LEN 56  /* b64 of 2 + 8 + 32 bytes */
#define MSIG_SIG_B64LEN 100    /* b64 of 2 + 8 + 64 bytes */
#define MSIG_GLOBAL_B64LEN 88  /* b64 of 64 bytes */
/* Comment bounds, in bytes; both fit minisign's line buffers. */
#define MSIG_UNTRUSTED_MAX 1000
#define MSIG_TRUSTED_MAX 8000
/* Room for a .pub file's text and for a signature file's text, NUL included */
#define MSIG_PUBFILE_MAX (39 + 16 + 1 + MSIG_PUBKEY_B64LEN + 1 + 1)
#define MSIG_SIGFILE_MAX                                                    \
    (19 + MSIG_UNTRUSTED_MAX + 1 + MSIG_SIG_B64LEN + 1 + 17 +              \
     MSIG_TRUSTED_MAX + 1 + MSIG_GLOBAL_B64LEN + 1 + 1)

typedef struct msig_pubkey {
    uint8_t keyid[MSIG_KEYIDBYTES];
    uint8_t pk[MSIG_PUBLICKEYBYTES];
} msig_pubkey;

/* Lives in sodium_malloc memory: make with msig_keypair_new/_from_secret. */
typedef struct msig_keypair {
    msig_pubkey pub;
    uint8_t sk[MSIG_SECRETKEYBYTES]; /* libsodium form: seed || public key */
} msig_keypair;

/* A parsed signature file. */
typedef struct msig_sig {
    int prehashed; /* 1 for "ED", 0 for legacy "Ed" */
    uint8_t keyid[MSIG_KEYIDBYTES];
    uint8_t sig[MSIG_SIGBYTES];
    uint8_t global_sig[MSIG_SIGBYTES];
    /* NOT authenticated: take the trusted comment from a verify call. */
    size_t trusted_len;
    char trusted[MSIG_TRUSTED_MAX + 1];
} msig_sig;

typedef struct msig_sign_ctx {
    crypto_generichash_state h;
} msig_sign_ctx;

typedef struct msig_verify_ctx {
    crypto_generichash_state h;
    msig_pubkey pub;
    msig_sig sig;
    int ready;
} msig_verify_ctx;

/*
 * A fresh Ed25519 key pair with a random key id. Returns NULL when out of
 * memory. Release with msig_keypair_free.
 */
msig_keypair *msig_keypair_new(void);

/*
 * A key pair from an existing libsodium Ed25519 secret key (seed || public
 * key) and key id. Returns NULL when out of memory or when the public half
 * of sk does not belong to its seed.
 */
msig_keypair *msig_keypair_from_secret(const uint8_t sk[MSIG_SECRETKEYBYTES],
                                       const uint8_t keyid[MSIG_KEYIDBYTES]);

/* Wipe and free kp (sodium_free zeroes). Accepts NULL. */
void msig_keypair_free(msig_keypair *kp);

/* The public key line. OUT: out (56 characters and a NUL). */
void msig_pubkey_base64(char out[MSIG_PUBKEY_B64LEN + 1],
                        const msig_pubkey *pub);

/* The .pub file text, two LF-terminated lines. OUT: out (NUL-terminated). */
void msig_pubkey_file(char out[MSIG_PUBFILE_MAX], const msig_pubkey *pub);

/*
 * Parse a public key line: exactly 56 base64 characters (no line end)
 * decoding to "Ed" || key id || key. OUT: pub. On failure pub is zeroed and
 * -1 returned.
 */
int msig_pubkey_parse(msig_pubkey *pub, const char *b64, size_t len)
    __attribute__((warn_unused_result));

/*
 * Parse a .pub file's text: an "untrusted comment: " line, then the key line
 * (as msig_pubkey_parse), each ending in LF, nothing after. The comment is
 * not checked against the key. OUT: pub. On failure pub is zeroed and -1
 * returned.
 */
int msig_pubkey_parse_file(msig_pubkey *pub, const char *text, size_t len)
    __attribute__((warn_unused_result));

/* Start a streaming signature (BLAKE2b-512 of the message). OUT: ctx. */
void msig_sign_init(msig_sign_ctx *ctx);

/* Hash the next mlen bytes of the message. */
void msig_sign_update(msig_sign_ctx *ctx, const uint8_t *m, size_t mlen);

/*
 * Sign what was hashed with kp and write the four-line signature file.
 * untrusted and trusted are NUL-terminated comments without CR or LF, of at
 * most MSIG_UNTRUSTED_MAX and MSIG_TRUSTED_MAX bytes (empty is allowed).
 * ctx is wiped either way. OUT: out (outsize bytes of room; MSIG_SIGFILE_MAX
 * always suffices), NUL-terminated. Returns -1, with out empty, on a bad
 * comment or a short buffer.
 */
int msig_sign_final(msig_sign_ctx *ctx, char *out, size_t outsize,
                    const msig_keypair *kp, const char *untrusted,
                    const char *trusted);

/* msig_sign_init, _update and _final over m in one call. OUT: out. */
int msig_sign(char *out, size_t outsize, const msig_keypair *kp,
              const uint8_t *m, size_t mlen, const char *untrusted,
              const char *trusted);

/*
 * Parse a signature file's text: four LF-terminated lines and nothing after,
 * with the prefixes, base64 lengths and algorithms above. Proves nothing:
 * the fields are to be checked by a verify call. OUT: sig. On failure sig is
 * zeroed and -1 returned.
 */
int msig_sig_parse(msig_sig *sig, const char *text, size_t len)
    __attribute__((warn_unused_result));

/*
 * Verify sig over the whole message m (prehashed or legacy): the key id
 * must be pub's, the signature must verify, and the global signature must
 * cover it and the trusted comment. OUT: trusted (NUL-terminated, trustedsize
 * bytes of room, MSIG_TRUSTED_MAX + 1 always suffices; may be NULL when
 * trustedsize is 0). On any failure, a short buffer included, trusted is
 * zeroed and -1 returned.
 */
int msig_verify(char *trusted, size_t trustedsize, const msig_pubkey *pub,
                const msig_sig *sig, const uint8_t *m, size_t mlen)
    __attribute__((warn_unused_result));

/*
 * Start verifying sig by pub over a message fed in pieces. Checks at once
 * what does not need the message (prehashed algorithm, key id, the global
 * signature over the trusted comment), so a mismatch fails before a large
 * file is read. OUT: ctx. Returns -1 for a legacy "Ed" signature (use
 * msig_verify), another key's signature or a bad global signature; ctx is
 * then unusable.
 */
int msig_verify_init(msig_verify_ctx *ctx, const msig_pubkey *pub,
                     const msig_sig *sig) __attribute__((warn_unused_result));

/* Hash the next mlen bytes of the message. */
void msig_verify_update(msig_verify_ctx *ctx, const uint8_t *m, size_t mlen);

/*
 * Finish: the signature must verify over what was hashed. ctx is wiped
 * either way. OUT: trusted, as for msig_verify. Returns -1 (trusted zeroed)
 * when the signature does not verify or init had failed.
 */
int msig_verify_final(msig_verify_ctx *ctx, char *trusted, size_t trustedsize)
    __attribute__((warn_unused_result));

#endif
