/*
 * msig: minisign formats over libsodium. Layout: key pairs, public key
 * encoding and parsing, signing, signature parsing, verifying. Text is cut
 * into LF-terminated lines by next_line; every field is then checked for its
 * prefix and exact length before anything is decoded or copied, and base64 is
 * accepted only in the one canonical spelling (decode, re-encode, compare).
 */
#include "msig.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "le.h"

#define ALG_LEN 2
#define PUBKEY_BYTES (ALG_LEN + MSIG_KEYIDBYTES + MSIG_PUBLICKEYBYTES)
#define SIGBLOB_BYTES (ALG_LEN + MSIG_KEYIDBYTES + MSIG_SIGBYTES)
#define HASH_BYTES crypto_generichash_BYTES_MAX
/* a .pub file may carry any untrusted comment, not only minisign's */
#define PUBFILE_LEN_MAX (19 + MSIG_UNTRUSTED_MAX + 1 + MSIG_PUBKEY_B64LEN + 1)

static const char untrusted_prefix[] = "untrusted comment: ";
static const char trusted_prefix[] = "trusted comment: ";

msig_keypair *msig_keypair_new(void)
{
    msig_keypair *kp = sodium_malloc(sizeof *kp);

    if (!kp)
        return NULL;
    crypto_sign_keypair(kp->pub.pk, kp->sk);
    randombytes_buf(kp->pub.keyid, sizeof kp->pub.keyid);
    return kp;
}

msig_keypair *msig_keypair_from_secret(const uint8_t sk[MSIG_SECRETKEYBYTES],
                                       const uint8_t keyid[MSIG_KEYIDBYTES])
{
    msig_keypair *kp = sodium_malloc(sizeof *kp);

    if (!kp)
        return NULL;
    /* libsodium's secret key is seed || public key: rebuild both halves */
    crypto_sign_seed_keypair(kp->pub.pk, kp->sk, sk);
    if (sodium_memcmp(kp->sk, sk, MSIG_SECRETKEYBYTES) != 0) {
        sodium_free(kp);
        return NULL;
    }
    memcpy(kp->pub.keyid, keyid, MSIG_KEYIDBYTES);
    return kp;
}

void msig_keypair_free(msig_keypair *kp)
{
    if (kp)
        sodium_free(kp);
}

/* The next LF-terminated line of [*p, end), without its LF; -1 if none. */
static int next_line(const char **p, const char *end, const char **line,
                     size_t *n)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    if (!nl)
        return -1;
    *line = *p;
    *n = (size_t)(nl - *p);
    *p = nl + 1;
    return 0;
}

/* Drop prefix from the line; -1 if the line does not start with it. */
static int strip_prefix(const char **line, size_t *n, const char *prefix)
{
    size_t plen = strlen(prefix);

    if (*n < plen || memcmp(*line, prefix, plen) != 0)
        return -1;
    *line += plen;
    *n -= plen;
    return 0;
}

/* Decode exactly binlen bytes from b64 characters spelled canonically. */
static int b64_exact(uint8_t *bin, size_t binlen, const char *s, size_t n,
                     size_t b64len)
{
    char again[MSIG_SIG_B64LEN + 1];
    size_t got = 0;

    if (n != b64len || b64len >= sizeof again ||
        sodium_base642bin(bin, binlen, s, n, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        got != binlen)
        return -1;
    sodium_bin2base64(again, sizeof again, bin, binlen,
                      sodium_base64_VARIANT_ORIGINAL);
    return memcmp(again, s, n) == 0 ? 0 : -1;
}

/* A comment is up to max bytes with no CR or LF. OUT: len. */
static int comment_ok(const char *c, size_t max, size_t *len)
{
    if (!c)
        return -1;
    *len = strnlen(c, max + 1);
    if (*len > max || memchr(c, '\r', *len) || memchr(c, '\n', *len))
        return -1;
    return 0;
}

void msig_pubkey_base64(char out[MSIG_PUBKEY_B64LEN + 1],
                        const msig_pubkey *pub)
{
    uint8_t bin[PUBKEY_BYTES];

    memcpy(bin, "Ed", ALG_LEN);
    memcpy(bin + ALG_LEN, pub->keyid, MSIG_KEYIDBYTES);
    memcpy(bin + ALG_LEN + MSIG_KEYIDBYTES, pub->pk, MSIG_PUBLICKEYBYTES);
    sodium_bin2base64(out, MSIG_PUBKEY_B64LEN + 1, bin, sizeof bin,
                      sodium_base64_VARIANT_ORIGINAL);
}

void msig_pubkey_file(char out[MSIG_PUBFILE_MAX], const msig_pubkey *pub)
{
    char b64[MSIG_PUBKEY_B64LEN + 1];

    msig_pubkey_base64(b64, pub);
    snprintf(out, MSIG_PUBFILE_MAX,
             "%sminisign public key %" PRIX64 "\n%s\n", untrusted_prefix,
             le64_get(pub->keyid), b64);
}

int msig_pubkey_parse(msig_pubkey *pub, const char *b64, size_t len)
{
    uint8_t bin[PUBKEY_BYTES];

    memset(pub, 0, sizeof *pub);
    if (b64_exact(bin, sizeof bin, b64, len, MSIG_PUBKEY_B64LEN) != 0 ||
        memcmp(bin, "Ed", ALG_LEN) != 0)
        return -1;
    memcpy(pub->keyid, bin + ALG_LEN, MSIG_KEYIDBYTES);
    memcpy(pub->pk, bin + ALG_LEN + MSIG_KEYIDBYTES, MSIG_PUBLICKEYBYTES);
    return 0;
}

int msig_pubkey_parse_file(msig_pubkey *pub, const char *text, size_t len)
{
    const char *p = text, *end, *line;
    size_t n;

    memset(pub, 0, sizeof *pub);
    if (!text || len == 0 || len > PUBFILE_LEN_MAX ||
        memchr(text, '\0', len) || memchr(text, '\r', len))
        return -1;
    end = text + len;
    if (next_line(&p, end, &line, &n) != 0 ||
        strip_prefix(&line, &n, untrusted_prefix) != 0 ||
        n > MSIG_UNTRUSTED_MAX || next_line(&p, end, &line, &n) != 0 ||
        p != end)
        return -1;
    return msig_pubkey_parse(pub, line, n);
}

void msig_sign_init(msig_sign_ctx *ctx)
{
    crypto_generichash_init(&ctx->h, NULL, 0, HASH_BYTES);
}

void msig_sign_update(msig_sign_ctx *ctx, const uint8_t *m, size_t mlen)
{
    crypto_generichash_update(&ctx->h, m, mlen);
}

int msig_sign_final(msig_sign_ctx *ctx, char *out, size_t outsize,
                    const msig_keypair *kp, const char *untrusted,
                    const char *trusted)
{
    uint8_t hash[HASH_BYTES], blob[SIGBLOB_BYTES], global[MSIG_SIGBYTES];
    uint8_t signed_comment[MSIG_SIGBYTES + MSIG_TRUSTED_MAX];
    char blob_b64[MSIG_SIG_B64LEN + 1], global_b64[MSIG_GLOBAL_B64LEN + 1];
    size_t ulen, tlen;
    int rc = -1, n;

    crypto_generichash_final(&ctx->h, hash, sizeof hash);
    if (outsize > 0)
        out[0] = '\0';
    if (comment_ok(untrusted, MSIG_UNTRUSTED_MAX, &ulen) != 0 ||
        comment_ok(trusted, MSIG_TRUSTED_MAX, &tlen) != 0)
        goto out;
    memcpy(blob, "ED", ALG_LEN);
    memcpy(blob + ALG_LEN, kp->pub.keyid, MSIG_KEYIDBYTES);
    crypto_sign_detached(blob + ALG_LEN + MSIG_KEYIDBYTES, NULL, hash,
                         sizeof hash, kp->sk);
    memcpy(signed_comment, blob + ALG_LEN + MSIG_KEYIDBYTES, MSIG_SIGBYTES);
    memcpy(signed_comment + MSIG_SIGBYTES, trusted, tlen);
    crypto_sign_detached(global, NULL, signed_comment, MSIG_SIGBYTES + tlen,
                         kp->sk);
    sodium_bin2base64(blob_b64, sizeof blob_b64, blob, sizeof blob,
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(global_b64, sizeof global_b64, global, sizeof global,
                      sodium_base64_VARIANT_ORIGINAL);
    n = snprintf(out, outsize, "%s%s\n%s\n%s%s\n%s\n", untrusted_prefix,
                 untrusted, blob_b64, trusted_prefix, trusted, global_b64);
    if (n < 0 || (size_t)n >= outsize) {
        if (outsize > 0)
            memset(out, 0, outsize);
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(ctx, sizeof *ctx);
    return rc;
}

int msig_sign(char *out, size_t outsize, const msig_keypair *kp,
              const uint8_t *m, size_t mlen, const char *untrusted,
              const char *trusted)
{
    msig_sign_ctx ctx;

    msig_sign_init(&ctx);
    msig_sign_update(&ctx, m, mlen);
    return msig_sign_final(&ctx, out, outsize, kp, untrusted, trusted);
}

int msig_sig_parse(msig_sig *sig, const char *text, size_t len)
{
    const char *p = text, *end, *line;
    uint8_t blob[SIGBLOB_BYTES];
    size_t n;

    memset(sig, 0, sizeof *sig);
    if (!text || len == 0 || len > MSIG_SIGFILE_MAX - 1 ||
        memchr(text, '\0', len) || memchr(text, '\r', len))
        goto fail;
    end = text + len;
    if (next_line(&p, end, &line, &n) != 0 ||
        strip_prefix(&line, &n, untrusted_prefix) != 0 ||
        n > MSIG_UNTRUSTED_MAX)
        goto fail;
    if (next_line(&p, end, &line, &n) != 0 ||
        b64_exact(blob, sizeof blob, line, n, MSIG_SIG_B64LEN) != 0)
        goto fail;
    if (memcmp(blob, "ED", ALG_LEN) == 0)
        sig->prehashed = 1;
    else if (memcmp(blob, "Ed", ALG_LEN) != 0)
        goto fail;
    memcpy(sig->keyid, blob + ALG_LEN, MSIG_KEYIDBYTES);
    memcpy(sig->sig, blob + ALG_LEN + MSIG_KEYIDBYTES, MSIG_SIGBYTES);
    if (next_line(&p, end, &line, &n) != 0 ||
        strip_prefix(&line, &n, trusted_prefix) != 0 || n > MSIG_TRUSTED_MAX)
        goto fail;
    memcpy(sig->trusted, line, n);
    sig->trusted_len = n;
    if (next_line(&p, end, &line, &n) != 0 ||
        b64_exact(sig->global_sig, MSIG_SIGBYTES, line, n,
                  MSIG_GLOBAL_B64LEN) != 0 ||
        p != end)
        goto fail;
    return 0;
fail:
    memset(sig, 0, sizeof *sig);
    return -1;
}

/* Key id and global signature: everything that does not need the message. */
static int check_sig_header(const msig_pubkey *pub, const msig_sig *sig)
{
    uint8_t signed_comment[MSIG_SIGBYTES + MSIG_TRUSTED_MAX];

    if (sig->trusted_len > MSIG_TRUSTED_MAX ||
        memcmp(sig->keyid, pub->keyid, MSIG_KEYIDBYTES) != 0)
        return -1;
    memcpy(signed_comment, sig->sig, MSIG_SIGBYTES);
    memcpy(signed_comment + MSIG_SIGBYTES, sig->trusted, sig->trusted_len);
    return crypto_sign_verify_detached(sig->global_sig, signed_comment,
                                       MSIG_SIGBYTES + sig->trusted_len,
                                       pub->pk);
}

/* Release the now authenticated trusted comment. */
static int give_trusted(char *trusted, size_t trustedsize, const msig_sig *sig)
{
    if (trustedsize == 0)
        return 0;
    if (sig->trusted_len >= trustedsize)
        return -1;
    memcpy(trusted, sig->trusted, sig->trusted_len);
    trusted[sig->trusted_len] = '\0';
    return 0;
}

int msig_verify(char *trusted, size_t trustedsize, const msig_pubkey *pub,
                const msig_sig *sig, const uint8_t *m, size_t mlen)
{
    uint8_t hash[HASH_BYTES];
    int rc = -1;

    if (trustedsize > 0)
        memset(trusted, 0, trustedsize);
    if (check_sig_header(pub, sig) != 0)
        goto out;
    if (sig->prehashed) {
        crypto_generichash(hash, sizeof hash, m, mlen, NULL, 0);
        if (crypto_sign_verify_detached(sig->sig, hash, sizeof hash,
                                        pub->pk) != 0)
            goto out;
    } else if (crypto_sign_verify_detached(sig->sig, m, mlen, pub->pk) != 0) {
        goto out;
    }
    rc = give_trusted(trusted, trustedsize, sig);
out:
    return rc;
}

int msig_verify_init(msig_verify_ctx *ctx, const msig_pubkey *pub,
                     const msig_sig *sig)
{
    memset(ctx, 0, sizeof *ctx);
    if (!sig->prehashed || check_sig_header(pub, sig) != 0)
        return -1;
    ctx->pub = *pub;
    ctx->sig = *sig;
    crypto_generichash_init(&ctx->h, NULL, 0, HASH_BYTES);
    ctx->ready = 1;
    return 0;
}

void msig_verify_update(msig_verify_ctx *ctx, const uint8_t *m, size_t mlen)
{
    if (ctx->ready)
        crypto_generichash_update(&ctx->h, m, mlen);
}

int msig_verify_final(msig_verify_ctx *ctx, char *trusted, size_t trustedsize)
{
    uint8_t hash[HASH_BYTES];
    int rc = -1;

    if (trustedsize > 0)
        memset(trusted, 0, trustedsize);
    if (!ctx->ready)
        goto out;
    crypto_generichash_final(&ctx->h, hash, sizeof hash);
    if (crypto_sign_verify_detached(ctx->sig.sig, hash, sizeof hash,
                                    ctx->pub.pk) != 0)
        goto out;
    rc = give_trusted(trusted, trustedsize, &ctx->sig);
out:
    sodium_memzero(ctx, sizeof *ctx);
    return rc;
}
