/*
 * age: the age v1 format over libsodium 1.0.18. Layout: HKDF and the small
 * helpers (canonical base64, key wrapping, chunk nonces); the encryptor
 * (header text built in the chunk buffer, MAC, nonce, then chunks); the
 * decryptor, in three steps: collect the header bytes (scan_header, which
 * stops at the first line starting with "---" and fails early on bytes no
 * header can hold), parse them twice with the same strict iterator
 * (hdr_next: once to check every stanza, once to unwrap), then read the
 * payload chunk by chunk with one byte of look-ahead, so that a chunk is
 * known to be the last before it is opened. A full chunk is the one case
 * where the position does not settle it (a final chunk may be full); like
 * age itself, it is opened as non-final, then as final, and what follows
 * (end of input, more data) decides on the next call.
 *
 * The decryptor keeps one buffer of a sealed chunk plus one byte (the
 * header, at most AGE_HEADER_MAX bytes, is collected in it too) and one of
 * plaintext; the encryptor one of each. Those buffers are plain heap memory,
 * wiped before it is freed; keys and the passphrase sit apart in a small
 * sodium_malloc block (guarded, locked), which is also cheaper to map than
 * one holding the buffers too.
 */
#include "age.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_LINE "age-encryption.org/v1"
#define VERSION_LEN (sizeof VERSION_LINE - 1)
#define X25519_LABEL "age-encryption.org/v1/X25519"
#define SCRYPT_LABEL "age-encryption.org/v1/scrypt"
#define SCRYPT_LABEL_LEN (sizeof SCRYPT_LABEL - 1)
#define SEALED_CHUNK (AGE_CHUNKBYTES + AGE_TAGBYTES)
#define WRAPPED_BYTES (AGE_FILEKEYBYTES + AGE_TAGBYTES)
#define SALT_BYTES 16
#define MAC_BYTES crypto_auth_hmacsha256_BYTES
#define B64_32 43 /* unpadded base64 of 32 bytes */
#define B64_16 22
#define LINE_COLS 64  /* base64 characters on a full body line */
#define LINE_BYTES 48 /* the bytes they hold */
#define MAC_LINE_LEN (4 + B64_32) /* "--- " + MAC */
#define ARGS_KEPT 4   /* stanza arguments remembered, the type included */
#define AEAD_NONCE crypto_aead_chacha20poly1305_ietf_NPUBBYTES

static const uint8_t zero_nonce[AEAD_NONCE];

const char *age_strerror(int code)
{
    switch (code) {
    case AGE_OK:
        return "success";
    case AGE_ERR_INVALID:
        return "invalid argument";
    case AGE_ERR_IO:
        return "read or write error";
    case AGE_ERR_HEADER:
        return "not an age file, or a malformed age header";
    case AGE_ERR_NOMATCH:
        return "no identity matches: wrong key or wrong passphrase";
    case AGE_ERR_MAC:
        return "age header authentication failed: the file was altered";
    case AGE_ERR_PAYLOAD:
        return "age payload damaged: truncated, altered or trailed by data";
    default:
        return "internal error";
    }
}

/* ---- HKDF and helpers ---------------------------------------------------- */

int age_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm,
                    size_t ikmlen, const uint8_t *salt, size_t saltlen,
                    const uint8_t *info, size_t infolen)
{
    crypto_auth_hmacsha256_state st;
    uint8_t prk[crypto_auth_hmacsha256_BYTES], t[crypto_auth_hmacsha256_BYTES];
    uint8_t zero_salt[crypto_auth_hmacsha256_BYTES] = {0};
    uint8_t ctr = 0;
    size_t done = 0, n;

    if (outlen == 0 || outlen > 255 * sizeof t) {
        if (out && outlen > 0)
            sodium_memzero(out, outlen);
        return -1;
    }
    if (saltlen == 0) {
        salt = zero_salt;
        saltlen = sizeof zero_salt;
    }
    crypto_auth_hmacsha256_init(&st, salt, saltlen);
    crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
    crypto_auth_hmacsha256_final(&st, prk);
    while (done < outlen) {
        ctr++;
        crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
        if (ctr > 1)
            crypto_auth_hmacsha256_update(&st, t, sizeof t);
        crypto_auth_hmacsha256_update(&st, info, infolen);
        crypto_auth_hmacsha256_update(&st, &ctr, 1);
        crypto_auth_hmacsha256_final(&st, t);
        n = outlen - done < sizeof t ? outlen - done : sizeof t;
        memcpy(out + done, t, n);
        done += n;
    }
    sodium_memzero(&st, sizeof st);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(t, sizeof t);
    return 0;
}

static void hkdf_label(uint8_t out[32], const uint8_t *ikm, size_t ikmlen,
                       const uint8_t *salt, size_t saltlen, const char *info)
{
    /* outlen 32 is always valid */
    (void)age_hkdf_sha256(out, 32, ikm, ikmlen, salt, saltlen,
                          (const uint8_t *)info, strlen(info));
}

/*
 * Decode the n characters of s, canonical unpadded base64 (decode, encode
 * again, compare: the one spelling Go's strict decoder accepts) of at most
 * LINE_BYTES bytes. OUT: bin (binmax bytes of room), *binlen.
 */
static int b64_decode(uint8_t *bin, size_t binmax, size_t *binlen,
                      const char *s, size_t n)
{
    char again[sodium_base64_ENCODED_LEN(LINE_BYTES,
                                         sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

    *binlen = 0;
    if (n == 0)
        return 0;
    if (n > LINE_COLS || n % 4 == 1 ||
        sodium_base642bin(bin, binmax, s, n, NULL, binlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
        *binlen > LINE_BYTES)
        goto fail;
    sodium_bin2base64(again, sizeof again, bin, *binlen,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    if (strlen(again) != n || memcmp(again, s, n) != 0)
        goto fail;
    return 0;
fail:
    *binlen = 0;
    return -1;
}

/* Decode exactly len bytes from s[0..n). */
static int b64_exact(uint8_t *bin, size_t len, const char *s, size_t n)
{
    size_t got;

    return b64_decode(bin, len, &got, s, n) == 0 && got == len ? 0 : -1;
}

/* The file key sealed under a wrap key with a zero nonce (both stanzas). */
static void wrap_file_key(uint8_t body[WRAPPED_BYTES], const uint8_t wrap[32],
                          const uint8_t file_key[AGE_FILEKEYBYTES])
{
    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key,
                                              AGE_FILEKEYBYTES, NULL, 0, NULL,
                                              zero_nonce, wrap);
}

static int unwrap_file_key(uint8_t file_key[AGE_FILEKEYBYTES],
                           const uint8_t wrap[32],
                           const uint8_t body[WRAPPED_BYTES])
{
    return crypto_aead_chacha20poly1305_ietf_decrypt(
        file_key, NULL, NULL, body, WRAPPED_BYTES, NULL, 0, zero_nonce, wrap);
}

/* The scrypt wrap key. -1 when scrypt cannot run (memory). */
static int scrypt_key(uint8_t key[32], const uint8_t *pass, size_t passlen,
                      const uint8_t salt[SALT_BYTES], int logn)
{
    uint8_t s[SCRYPT_LABEL_LEN + SALT_BYTES];

    memcpy(s, SCRYPT_LABEL, SCRYPT_LABEL_LEN);
    memcpy(s + SCRYPT_LABEL_LEN, salt, SALT_BYTES);
    return crypto_pwhash_scryptsalsa208sha256_ll(pass, passlen, s, sizeof s,
                                                 (uint64_t)1 << logn, 8, 1,
                                                 key, 32);
}

/* AEAD nonce of chunk counter: 11 bytes big-endian, then the last flag. */
static void chunk_nonce(uint8_t nonce[AEAD_NONCE], uint64_t counter, int last)
{
    memset(nonce, 0, AEAD_NONCE);
    for (int i = 0; i < 8; i++)
        nonce[10 - i] = (uint8_t)(counter >> (8 * i));
    nonce[11] = last ? 1 : 0;
}

/* ---- encryptor ----------------------------------------------------------- */

enum { ENC_OPEN = 1, ENC_DONE = 2 };

struct age_enc {
    age_write_fn write;
    void *arg;
    int state; /* ENC_OPEN, ENC_DONE, or the failure code */
    uint64_t counter;
    size_t ptlen;
    uint8_t *payload_key; /* 32 bytes, sodium_malloc */
    uint8_t pt[AGE_CHUNKBYTES];
    uint8_t ct[SEALED_CHUNK]; /* also where the header text is built */
};

/* Header text under construction (in enc->ct; a full buffer is a bug). */
typedef struct textbuf {
    uint8_t *p;
    size_t cap, len;
    int overflow;
} textbuf;

static void tb_put(textbuf *b, const void *s, size_t n)
{
    if (b->overflow || n > b->cap - b->len) {
        b->overflow = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void tb_str(textbuf *b, const char *s)
{
    tb_put(b, s, strlen(s));
}

static void tb_b64(textbuf *b, const uint8_t *bin, size_t n)
{
    char s[sodium_base64_ENCODED_LEN(LINE_BYTES,
                                     sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

    /* every caller encodes at most 32 bytes: one body line */
    sodium_bin2base64(s, sizeof s, bin, n,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    tb_str(b, s);
}

static int enc_alloc(age_enc **enc, age_write_fn write, void *arg)
{
    age_enc *e;

    *enc = NULL;
    if (!write)
        return AGE_ERR_INVALID;
    e = calloc(1, sizeof *e);
    if (!e)
        return AGE_ERR_INTERNAL;
    e->payload_key = sodium_malloc(32);
    if (!e->payload_key) {
        free(e);
        return AGE_ERR_INTERNAL;
    }
    e->write = write;
    e->arg = arg;
    e->state = ENC_OPEN;
    *enc = e;
    return 0;
}

/* Close the header in tb with its MAC, add the nonce, derive the payload
 * key, write it all. */
static int enc_finish_header(age_enc *e, textbuf *tb,
                             const uint8_t file_key[AGE_FILEKEYBYTES])
{
    uint8_t hmac_key[32], mac[MAC_BYTES], nonce[AGE_NONCEBYTES];
    int rc = AGE_ERR_INTERNAL;

    tb_str(tb, "---");
    if (tb->overflow)
        goto out;
    hkdf_label(hmac_key, file_key, AGE_FILEKEYBYTES, NULL, 0, "header");
    crypto_auth_hmacsha256(mac, tb->p, tb->len, hmac_key);
    tb_str(tb, " ");
    tb_b64(tb, mac, sizeof mac);
    tb_str(tb, "\n");
    randombytes_buf(nonce, sizeof nonce);
    tb_put(tb, nonce, sizeof nonce);
    if (tb->overflow)
        goto out;
    hkdf_label(e->payload_key, file_key, AGE_FILEKEYBYTES, nonce,
               sizeof nonce, "payload");
    rc = e->write(e->arg, tb->p, tb->len) == 0 ? 0 : AGE_ERR_IO;
out:
    sodium_memzero(hmac_key, sizeof hmac_key);
    return rc;
}

int age_enc_new_x25519(age_enc **enc, const uint8_t *pks, size_t npk,
                       age_write_fn write, void *arg)
{
    uint8_t file_key[AGE_FILEKEYBYTES], eph[32], share[32], shared[32];
    uint8_t salt[64], wrap[32], body[WRAPPED_BYTES];
    const uint8_t *pk;
    textbuf tb;
    age_enc *e = NULL;
    int rc;

    if (enc)
        *enc = NULL;
    if (!enc || !pks || npk == 0 || npk > AGE_RECIPIENTS_MAX)
        return AGE_ERR_INVALID;
    rc = enc_alloc(&e, write, arg);
    if (rc != 0)
        return rc;
    randombytes_buf(file_key, sizeof file_key);
    tb = (textbuf){e->ct, sizeof e->ct, 0, 0};
    tb_str(&tb, VERSION_LINE "\n");
    for (size_t i = 0; i < npk; i++) {
        randombytes_buf(eph, sizeof eph);
        /* a low-order key gives an all-zero secret: libsodium refuses it */
        pk = pks + i * AGE_KEYBYTES;
        if (crypto_scalarmult_base(share, eph) != 0 ||
            crypto_scalarmult(shared, eph, pk) != 0 ||
            sodium_is_zero(shared, sizeof shared)) {
            rc = AGE_ERR_INVALID;
            goto out;
        }
        memcpy(salt, share, 32);
        memcpy(salt + 32, pk, 32);
        hkdf_label(wrap, shared, sizeof shared, salt, sizeof salt,
                   X25519_LABEL);
        wrap_file_key(body, wrap, file_key);
        tb_str(&tb, "-> X25519 ");
        tb_b64(&tb, share, sizeof share);
        tb_str(&tb, "\n");
        tb_b64(&tb, body, sizeof body);
        tb_str(&tb, "\n");
    }
    rc = enc_finish_header(e, &tb, file_key);
out:
    sodium_memzero(file_key, sizeof file_key);
    sodium_memzero(eph, sizeof eph);
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(wrap, sizeof wrap);
    if (rc != 0) {
        age_enc_free(e);
        return rc;
    }
    *enc = e;
    return 0;
}

int age_enc_new_scrypt(age_enc **enc, const char *pass, size_t passlen,
                       int logn, age_write_fn write, void *arg)
{
    uint8_t file_key[AGE_FILEKEYBYTES], salt[SALT_BYTES], wrap[32];
    uint8_t body[WRAPPED_BYTES];
    char num[16];
    textbuf tb;
    age_enc *e = NULL;
    int rc;

    if (enc)
        *enc = NULL;
    if (!enc || !pass || passlen == 0 || logn < 1 ||
        logn > AGE_SCRYPT_LOGN_MAX)
        return AGE_ERR_INVALID;
    rc = enc_alloc(&e, write, arg);
    if (rc != 0)
        return rc;
    randombytes_buf(file_key, sizeof file_key);
    randombytes_buf(salt, sizeof salt);
    if (scrypt_key(wrap, (const uint8_t *)pass, passlen, salt, logn) != 0) {
        rc = AGE_ERR_INTERNAL;
        goto out;
    }
    wrap_file_key(body, wrap, file_key);
    snprintf(num, sizeof num, "%d", logn);
    tb = (textbuf){e->ct, sizeof e->ct, 0, 0};
    tb_str(&tb, VERSION_LINE "\n-> scrypt ");
    tb_b64(&tb, salt, sizeof salt);
    tb_str(&tb, " ");
    tb_str(&tb, num);
    tb_str(&tb, "\n");
    tb_b64(&tb, body, sizeof body);
    tb_str(&tb, "\n");
    rc = enc_finish_header(e, &tb, file_key);
out:
    sodium_memzero(file_key, sizeof file_key);
    sodium_memzero(wrap, sizeof wrap);
    if (rc != 0) {
        age_enc_free(e);
        return rc;
    }
    *enc = e;
    return 0;
}

/* Seal and write the buffered plaintext as the next chunk. */
static int enc_flush(age_enc *e, int last)
{
    uint8_t nonce[AEAD_NONCE];

    if (e->counter == UINT64_MAX)
        return AGE_ERR_INVALID;
    chunk_nonce(nonce, e->counter, last);
    crypto_aead_chacha20poly1305_ietf_encrypt(e->ct, NULL, e->pt, e->ptlen,
                                              NULL, 0, NULL, nonce,
                                              e->payload_key);
    if (e->write(e->arg, e->ct, e->ptlen + AGE_TAGBYTES) != 0)
        return AGE_ERR_IO;
    e->counter++;
    e->ptlen = 0;
    return 0;
}

/* Record a failure: from now on every call returns code. */
static int enc_fail(age_enc *e, int code)
{
    e->state = code;
    sodium_memzero(e->payload_key, 32);
    sodium_memzero(e->pt, sizeof e->pt);
    return code;
}

int age_enc_update(age_enc *enc, const uint8_t *data, size_t len)
{
    size_t n;
    int rc;

    if (!enc)
        return AGE_ERR_INVALID;
    if (enc->state != ENC_OPEN)
        return enc->state < 0 ? enc->state : AGE_ERR_INVALID;
    if (len > 0 && !data)
        return enc_fail(enc, AGE_ERR_INVALID);
    while (len > 0) {
        /* a full chunk goes out only once more data proves it is not last */
        if (enc->ptlen == AGE_CHUNKBYTES && (rc = enc_flush(enc, 0)) != 0)
            return enc_fail(enc, rc);
        n = AGE_CHUNKBYTES - enc->ptlen;
        if (n > len)
            n = len;
        memcpy(enc->pt + enc->ptlen, data, n);
        enc->ptlen += n;
        data += n;
        len -= n;
    }
    return 0;
}

int age_enc_final(age_enc *enc)
{
    int rc;

    if (!enc)
        return AGE_ERR_INVALID;
    if (enc->state != ENC_OPEN)
        return enc->state < 0 ? enc->state : AGE_ERR_INVALID;
    rc = enc_flush(enc, 1);
    if (rc != 0)
        return enc_fail(enc, rc);
    enc->state = ENC_DONE;
    sodium_memzero(enc->payload_key, 32);
    sodium_memzero(enc->pt, sizeof enc->pt);
    return 0;
}

void age_enc_free(age_enc *enc)
{
    if (!enc)
        return;
    sodium_free(enc->payload_key); /* sodium_free wipes */
    sodium_memzero(enc, sizeof *enc);
    free(enc);
}

/* ---- decryptor ----------------------------------------------------------- */

enum { ID_X25519 = 1, ID_SCRYPT = 2 };

/* A decryptor's secrets, in one sodium_malloc block. */
struct dec_keys {
    uint8_t sk[AGE_KEYBYTES], pk[AGE_KEYBYTES]; /* ID_X25519 */
    uint8_t payload_key[32];
    size_t passlen;
    uint8_t pass[]; /* ID_SCRYPT: passlen bytes */
};

enum { DEC_HEADER = 1, DEC_PAYLOAD = 2, DEC_TRAILING = 3, DEC_DONE = 4 };

struct age_dec {
    age_read_fn read;
    void *arg;
    int kind;     /* ID_X25519 or ID_SCRYPT */
    int max_logn; /* ID_SCRYPT */
    int state;    /* DEC_*, or the failure code; DEC_TRAILING: the final
                     chunk was handed out but data follows it */
    int eof;      /* read has reported the end of the input */
    size_t have;  /* bytes in buf */
    uint64_t counter;
    struct dec_keys *k; /* sodium_malloc */
    char err[AGE_ERRTEXT_MAX];
    uint8_t buf[SEALED_CHUNK + 1]; /* header, then sealed chunk + 1 byte */
    uint8_t pt[AGE_CHUNKBYTES];
};

/* Record a failure (and wipe what is no longer needed): every later call
 * returns code. */
static int dec_fail(age_dec *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int dec_fail(age_dec *d, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    d->state = code;
    sodium_memzero(d->k->payload_key, sizeof d->k->payload_key);
    sodium_memzero(d->buf, sizeof d->buf);
    sodium_memzero(d->pt, sizeof d->pt);
    d->have = 0;
    return code;
}

static int dec_alloc(age_dec **dec, age_read_fn read, void *arg,
                     size_t passlen)
{
    age_dec *d;
    size_t ksize;

    *dec = NULL;
    if (!read)
        return AGE_ERR_INVALID;
    d = calloc(1, sizeof *d);
    if (!d)
        return AGE_ERR_INTERNAL;
    /* sodium_malloc ends the block at a guard page: a size that is a
     * multiple of 16 keeps the struct aligned */
    ksize = (sizeof *d->k + passlen + 15) & ~(size_t)15;
    d->k = sodium_malloc(ksize);
    if (!d->k) {
        free(d);
        return AGE_ERR_INTERNAL;
    }
    memset(d->k, 0, ksize);
    d->read = read;
    d->arg = arg;
    d->state = DEC_HEADER;
    *dec = d;
    return 0;
}

int age_dec_new_x25519(age_dec **dec, const uint8_t sk[AGE_KEYBYTES],
                       age_read_fn read, void *arg)
{
    age_dec *d = NULL;
    int rc;

    if (dec)
        *dec = NULL;
    if (!dec || !sk)
        return AGE_ERR_INVALID;
    rc = dec_alloc(&d, read, arg, 0);
    if (rc != 0)
        return rc;
    d->kind = ID_X25519;
    memcpy(d->k->sk, sk, AGE_KEYBYTES);
    if (crypto_scalarmult_base(d->k->pk, d->k->sk) != 0) {
        age_dec_free(d);
        return AGE_ERR_INVALID;
    }
    *dec = d;
    return 0;
}

int age_dec_new_scrypt(age_dec **dec, const char *pass, size_t passlen,
                       int max_logn, age_read_fn read, void *arg)
{
    age_dec *d = NULL;
    int rc;

    if (dec)
        *dec = NULL;
    if (!dec || (!pass && passlen > 0) || max_logn < 0 ||
        max_logn > AGE_SCRYPT_LOGN_MAX)
        return AGE_ERR_INVALID;
    if (passlen > SIZE_MAX / 2)
        return AGE_ERR_INVALID;
    rc = dec_alloc(&d, read, arg, passlen);
    if (rc != 0)
        return rc;
    d->kind = ID_SCRYPT;
    d->max_logn = max_logn ? max_logn : AGE_SCRYPT_LOGN_MAX;
    if (passlen > 0)
        memcpy(d->k->pass, pass, passlen);
    d->k->passlen = passlen;
    *dec = d;
    return 0;
}

void age_dec_free(age_dec *dec)
{
    if (!dec)
        return;
    sodium_free(dec->k); /* sodium_free wipes */
    sodium_memzero(dec, sizeof *dec);
    free(dec);
}

const char *age_dec_error(const age_dec *dec)
{
    return dec ? dec->err : "";
}

/* One call of the read callback, for at most want - have bytes. */
static int read_some(age_dec *d, size_t want)
{
    size_t got = 0;

    if (d->eof || d->have >= want)
        return 0;
    if (d->read(d->arg, d->buf + d->have, want - d->have, &got) != 0)
        return dec_fail(d, AGE_ERR_IO, "cannot read the age file");
    if (got > want - d->have)
        return dec_fail(d, AGE_ERR_INTERNAL, "read callback overran its buffer");
    if (got == 0)
        d->eof = 1;
    d->have += got;
    return 0;
}

/* Read until buf holds want bytes or the input ends. */
static int fill(age_dec *d, size_t want)
{
    int rc;

    while (d->have < want && !d->eof)
        if ((rc = read_some(d, want)) != 0)
            return rc;
    return 0;
}

/*
 * Read until buf holds the whole header, through the LF of the first line
 * that starts with "---" (no body or arguments line can). OUT: *hdrlen.
 * Fails as soon as the bytes cannot be an age v1 header.
 */
static int scan_header(age_dec *d, size_t *hdrlen)
{
    static const char want[] = VERSION_LINE "\n";
    size_t scan = 0, line = 0;
    int rc;

    for (;;) {
        for (; scan < d->have; scan++) {
            uint8_t c = d->buf[scan];

            if (scan < sizeof want - 1 && c != (uint8_t)want[scan]) {
                if (c == '\r' && scan == VERSION_LEN)
                    return dec_fail(d, AGE_ERR_HEADER,
                                    "age header has a CR: only LF line ends "
                                    "are allowed");
                if (d->buf[0] == '-')
                    return dec_fail(d, AGE_ERR_HEADER,
                                    "armored (PEM) age files are not "
                                    "supported: remove the armor with "
                                    "'age -d' first");
                if (scan >= sizeof "age-encryption.org/" - 1)
                    return dec_fail(d, AGE_ERR_HEADER,
                                    "unsupported age format version (only "
                                    "age-encryption.org/v1 is known)");
                return dec_fail(d, AGE_ERR_HEADER, "not an age v1 file");
            }
            if (c == '\n') {
                if (scan - line >= 3 && memcmp(d->buf + line, "---", 3) == 0) {
                    *hdrlen = scan + 1;
                    return 0;
                }
                line = scan + 1;
            } else if (c == '\r') {
                return dec_fail(d, AGE_ERR_HEADER,
                                "age header has a CR: only LF line ends "
                                "are allowed");
            } else if (c < 0x20 || c > 0x7e) {
                return dec_fail(d, AGE_ERR_HEADER,
                                "age header has a byte that is not "
                                "printable ASCII");
            }
        }
        if (d->have >= AGE_HEADER_MAX)
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header longer than %d bytes",
                            AGE_HEADER_MAX);
        if (d->eof)
            return dec_fail(d, AGE_ERR_HEADER,
                            d->have == 0 ? "empty file, not an age file"
                                         : "file ends inside the age header");
        if ((rc = read_some(d, AGE_HEADER_MAX)) != 0)
            return rc;
    }
}

/* A stanza as hdr_next yields it: pointers into the header bytes. */
typedef struct stanza {
    size_t line;                 /* header line number of its "->" line */
    size_t nargs;                /* arguments, the type included */
    const char *arg[ARGS_KEPT];  /* the first ARGS_KEPT of them */
    size_t arglen[ARGS_KEPT];
    size_t bodylen;              /* decoded body bytes */
    uint8_t body[WRAPPED_BYTES]; /* the first bytes of the body */
} stanza;

typedef struct hdr_iter {
    const char *p, *end;
    size_t lineno;
    size_t mac_at;          /* offset just past "---", once reached */
    uint8_t mac[MAC_BYTES]; /* the MAC, once reached */
} hdr_iter;

static int iter_line(hdr_iter *it, const char **line, size_t *n)
{
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));

    if (!nl)
        return -1;
    *line = it->p;
    *n = (size_t)(nl - it->p);
    it->p = nl + 1;
    it->lineno++;
    return 0;
}

static int arg_is(const stanza *st, size_t i, const char *s)
{
    return i < st->nargs && i < ARGS_KEPT && st->arglen[i] == strlen(s) &&
           memcmp(st->arg[i], s, st->arglen[i]) == 0;
}

/*
 * The next element of the header whose bytes are [base, it->end) and whose
 * version line was read: 1 and *st for a stanza, 0 for the MAC line (which
 * must end the header; it->mac and mac_at are then set), or a failure.
 */
static int hdr_next(age_dec *d, hdr_iter *it, const char *base, stanza *st)
{
    uint8_t line_bin[LINE_BYTES];
    const char *line;
    size_t n, p, start, got;

    memset(st, 0, sizeof *st);
    if (iter_line(it, &line, &n) != 0)
        return dec_fail(d, AGE_ERR_HEADER, "age header has no MAC line");
    if (n >= 3 && memcmp(line, "---", 3) == 0) {
        if (n != MAC_LINE_LEN || line[3] != ' ' ||
            b64_exact(it->mac, MAC_BYTES, line + 4, B64_32) != 0)
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header line %zu: malformed MAC line",
                            it->lineno);
        if (it->p != it->end)
            return dec_fail(d, AGE_ERR_INTERNAL, "header scan went wrong");
        it->mac_at = (size_t)(line + 3 - base);
        return 0;
    }
    if (n < 2 || memcmp(line, "->", 2) != 0)
        return dec_fail(d, AGE_ERR_HEADER,
                        "age header line %zu: expected a stanza ('-> ') or "
                        "the MAC line ('--- ')", it->lineno);
    st->line = it->lineno;
    for (p = 2; p < n;) {
        if (line[p] != ' ')
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header line %zu: stanza arguments must be "
                            "separated by one space", it->lineno);
        start = ++p;
        while (p < n && line[p] != ' ') {
            if (line[p] < 0x21 || line[p] > 0x7e)
                return dec_fail(d, AGE_ERR_HEADER,
                                "age header line %zu: invalid character in a "
                                "stanza argument", it->lineno);
            p++;
        }
        if (p == start)
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header line %zu: empty stanza argument",
                            it->lineno);
        if (st->nargs < ARGS_KEPT) {
            st->arg[st->nargs] = line + start;
            st->arglen[st->nargs] = p - start;
        }
        st->nargs++;
    }
    if (st->nargs == 0)
        return dec_fail(d, AGE_ERR_HEADER,
                        "age header line %zu: stanza without a type",
                        it->lineno);
    /* body: full lines of 64 columns, then one shorter (maybe empty) line */
    for (;;) {
        if (iter_line(it, &line, &n) != 0)
            return dec_fail(d, AGE_ERR_HEADER, "age header has no MAC line");
        if (n > LINE_COLS)
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header line %zu: stanza body line longer "
                            "than 64 columns", it->lineno);
        if (b64_decode(line_bin, sizeof line_bin, &got, line, n) != 0) {
            if (n >= 2 && (memcmp(line, "->", 2) == 0 ||
                           memcmp(line, "--", 2) == 0))
                return dec_fail(d, AGE_ERR_HEADER,
                                "age header line %zu: stanza body ends "
                                "without a short line", it->lineno);
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header line %zu: stanza body is not "
                            "canonical unpadded base64", it->lineno);
        }
        if (st->bodylen < sizeof st->body) {
            size_t room = sizeof st->body - st->bodylen;
            memcpy(st->body + st->bodylen, line_bin, got < room ? got : room);
        }
        st->bodylen += got;
        if (n < LINE_COLS)
            return 1;
    }
}

/* The share of a well-formed X25519 stanza. */
static int x25519_share(const stanza *st, uint8_t share[32])
{
    if (st->nargs != 2 || st->bodylen != WRAPPED_BYTES)
        return -1;
    return b64_exact(share, 32, st->arg[1], st->arglen[1]);
}

/* Salt and work factor of a well-formed scrypt stanza: the work factor in
 * decimal without leading zeros or sign, 1..63 (the identity's limit is
 * applied later). */
static int scrypt_params(const stanza *st, uint8_t salt[SALT_BYTES],
                         int *logn)
{
    const char *w;
    size_t wl;
    int v = 0;

    if (st->nargs != 3 || st->bodylen != WRAPPED_BYTES ||
        b64_exact(salt, SALT_BYTES, st->arg[1], st->arglen[1]) != 0)
        return -1;
    w = st->arg[2];
    wl = st->arglen[2];
    if (wl == 0 || wl > 2 || w[0] == '0')
        return -1;
    for (size_t i = 0; i < wl; i++) {
        if (w[i] < '0' || w[i] > '9')
            return -1;
        v = v * 10 + (w[i] - '0');
    }
    if (v < 1 || v > 63)
        return -1;
    *logn = v;
    return 0;
}

/* First pass: every stanza well formed, their count, scrypt alone. */
static int check_stanzas(age_dec *d, const char *hdr, size_t hdrlen,
                         int *has_scrypt)
{
    hdr_iter it = {hdr + VERSION_LEN + 1, hdr + hdrlen, 1, 0, {0}};
    uint8_t tmp[32];
    size_t count = 0, nscrypt = 0;
    stanza st;
    int r, logn;

    while ((r = hdr_next(d, &it, hdr, &st)) == 1) {
        if (++count > AGE_STANZAS_MAX)
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header has more than %d stanzas",
                            AGE_STANZAS_MAX);
        if (arg_is(&st, 0, "X25519") && x25519_share(&st, tmp) != 0)
            return dec_fail(d, AGE_ERR_HEADER,
                            "age header line %zu: malformed X25519 stanza",
                            st.line);
        if (arg_is(&st, 0, "scrypt")) {
            if (scrypt_params(&st, tmp, &logn) != 0)
                return dec_fail(d, AGE_ERR_HEADER,
                                "age header line %zu: malformed scrypt "
                                "stanza", st.line);
            nscrypt++;
        }
    }
    if (r < 0)
        return r;
    if (count == 0)
        return dec_fail(d, AGE_ERR_HEADER, "age header has no stanza");
    if (nscrypt > 0 && count != 1)
        return dec_fail(d, AGE_ERR_HEADER,
                        "a scrypt stanza must be alone in the age header");
    *has_scrypt = nscrypt > 0;
    return 0;
}

/* Try one stanza: 1 with the file key, 0 if it is not ours, or a failure. */
static int try_stanza(age_dec *d, const stanza *st,
                      uint8_t file_key[AGE_FILEKEYBYTES])
{
    uint8_t share[32], shared[32], salt[64], wrap[32];
    int rc = 0, logn;

    if (d->kind == ID_X25519 && arg_is(st, 0, "X25519")) {
        if (x25519_share(st, share) != 0)
            return dec_fail(d, AGE_ERR_INTERNAL, "stanza check went wrong");
        /* libsodium fails on an all-zero result (a low-order share) */
        if (crypto_scalarmult(shared, d->k->sk, share) != 0 ||
            sodium_is_zero(shared, sizeof shared)) {
            rc = dec_fail(d, AGE_ERR_HEADER,
                          "age header line %zu: X25519 share of low order "
                          "(all-zero shared secret)", st->line);
            goto out;
        }
        memcpy(salt, share, 32);
        memcpy(salt + 32, d->k->pk, 32);
        hkdf_label(wrap, shared, sizeof shared, salt, sizeof salt,
                   X25519_LABEL);
        rc = unwrap_file_key(file_key, wrap, st->body) == 0;
    } else if (d->kind == ID_SCRYPT && arg_is(st, 0, "scrypt")) {
        if (scrypt_params(st, salt, &logn) != 0)
            return dec_fail(d, AGE_ERR_INTERNAL, "stanza check went wrong");
        if (logn > d->max_logn)
            return dec_fail(d, AGE_ERR_HEADER,
                            "scrypt work factor %d is over the limit of %d",
                            logn, d->max_logn);
        if (scrypt_key(wrap, d->k->pass, d->k->passlen, salt, logn) != 0) {
            rc = dec_fail(d, AGE_ERR_INTERNAL,
                          "scrypt failed: out of memory");
            goto out;
        }
        rc = unwrap_file_key(file_key, wrap, st->body) == 0;
    }
out:
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(wrap, sizeof wrap);
    return rc;
}

/* The header in buf[0..hdrlen): check, unwrap, verify the MAC. OUT:
 * file_key. */
static int open_header(age_dec *d, size_t hdrlen,
                       uint8_t file_key[AGE_FILEKEYBYTES])
{
    const char *hdr = (const char *)d->buf;
    hdr_iter it = {hdr + VERSION_LEN + 1, hdr + hdrlen, 1, 0, {0}};
    uint8_t hmac_key[32], mac[MAC_BYTES];
    int rc, r = 0, found = 0, has_scrypt = 0;
    stanza st;

    /* scan_header saw the version line; the iterator starts after it */
    if ((rc = check_stanzas(d, hdr, hdrlen, &has_scrypt)) != 0)
        return rc;
    while (!found && (r = hdr_next(d, &it, hdr, &st)) == 1) {
        found = try_stanza(d, &st, file_key);
        if (found < 0)
            return found;
    }
    if (r < 0)
        return r;
    if (!found) {
        if (d->kind == ID_SCRYPT)
            return dec_fail(d, AGE_ERR_NOMATCH,
                            has_scrypt ? "wrong passphrase"
                                       : "the file is encrypted to age "
                                         "recipients, not with a passphrase");
        return dec_fail(d, AGE_ERR_NOMATCH,
                        has_scrypt ? "the file is encrypted with a "
                                     "passphrase, not to an age recipient"
                                   : "the file is not encrypted to this "
                                     "age identity");
    }
    /* the rest of the header is known good: reach its MAC line */
    while ((r = hdr_next(d, &it, hdr, &st)) == 1)
        ;
    if (r < 0)
        return r;
    hkdf_label(hmac_key, file_key, AGE_FILEKEYBYTES, NULL, 0, "header");
    crypto_auth_hmacsha256(mac, d->buf, it.mac_at, hmac_key);
    rc = sodium_memcmp(mac, it.mac, sizeof mac) == 0
             ? 0
             : dec_fail(d, AGE_ERR_MAC,
                        "age header MAC does not verify: the header was "
                        "altered");
    sodium_memzero(hmac_key, sizeof hmac_key);
    return rc;
}

int age_dec_header(age_dec *dec)
{
    uint8_t file_key[AGE_FILEKEYBYTES];
    size_t hdrlen = 0;
    int rc;

    if (!dec)
        return AGE_ERR_INVALID;
    if (dec->state < 0)
        return dec->state;
    if (dec->state != DEC_HEADER)
        return 0;
    if ((rc = scan_header(dec, &hdrlen)) != 0)
        return rc;
    rc = open_header(dec, hdrlen, file_key);
    if (rc != 0)
        goto out;
    dec->have -= hdrlen;
    memmove(dec->buf, dec->buf + hdrlen, dec->have);
    if ((rc = fill(dec, AGE_NONCEBYTES)) != 0)
        goto out;
    if (dec->have < AGE_NONCEBYTES) {
        rc = dec_fail(dec, AGE_ERR_HEADER,
                      "file ends inside the age payload nonce");
        goto out;
    }
    hkdf_label(dec->k->payload_key, file_key, AGE_FILEKEYBYTES, dec->buf,
               AGE_NONCEBYTES, "payload");
    dec->have -= AGE_NONCEBYTES;
    memmove(dec->buf, dec->buf + AGE_NONCEBYTES, dec->have);
    dec->state = DEC_PAYLOAD;
out:
    sodium_memzero(file_key, sizeof file_key);
    return rc;
}

/* Open buf[0..len) as chunk counter with the given last flag. OUT: pt. */
static int open_chunk(age_dec *d, size_t len, int last)
{
    uint8_t nonce[AEAD_NONCE];

    chunk_nonce(nonce, d->counter, last);
    return crypto_aead_chacha20poly1305_ietf_decrypt(
        d->pt, NULL, NULL, d->buf, len, NULL, 0, nonce, d->k->payload_key);
}

int age_dec_read(age_dec *dec, const uint8_t **buf, size_t *len)
{
    size_t n;
    int rc;

    if (buf)
        *buf = NULL;
    if (len)
        *len = 0;
    if (!dec || !buf || !len)
        return AGE_ERR_INVALID;
    if ((rc = age_dec_header(dec)) != 0)
        return rc;
    if (dec->state == DEC_DONE)
        return 0;
    if (dec->state == DEC_TRAILING)
        return dec_fail(dec, AGE_ERR_PAYLOAD,
                        "trailing data after the final age payload chunk");
    /* a sealed chunk and one byte more: that byte says whether it is last */
    if ((rc = fill(dec, SEALED_CHUNK + 1)) != 0)
        return rc;
    n = dec->have;
    if (n == 0)
        return dec_fail(dec, AGE_ERR_PAYLOAD,
                        "age payload truncated: no final chunk");
    if (n <= SEALED_CHUNK) {
        /* the input ended: this should be the final chunk */
        if (n < AGE_TAGBYTES)
            return dec_fail(dec, AGE_ERR_PAYLOAD,
                            "age payload truncated: chunk %llu is shorter "
                            "than its tag", (unsigned long long)dec->counter);
        if (n == AGE_TAGBYTES && dec->counter > 0)
            return dec_fail(dec, AGE_ERR_PAYLOAD,
                            "age payload has an empty final chunk after "
                            "data");
        if (open_chunk(dec, n, 1) == 0) {
            dec->state = DEC_DONE;
        } else if (n == SEALED_CHUNK && open_chunk(dec, n, 0) == 0) {
            /* authentic but not final: the next call reports truncation */
        } else {
            return dec_fail(dec, AGE_ERR_PAYLOAD,
                            "age payload chunk %llu does not verify: "
                            "altered, reordered or truncated",
                            (unsigned long long)dec->counter);
        }
        dec->have = 0;
    } else {
        if (open_chunk(dec, SEALED_CHUNK, 0) != 0) {
            if (open_chunk(dec, SEALED_CHUNK, 1) != 0)
                return dec_fail(dec, AGE_ERR_PAYLOAD,
                                "age payload chunk %llu does not verify: "
                                "altered, reordered or dropped",
                                (unsigned long long)dec->counter);
            /* authentic and final, but more follows: the next call fails */
            dec->state = DEC_TRAILING;
        }
        n = SEALED_CHUNK;
        dec->buf[0] = dec->buf[SEALED_CHUNK];
        dec->have = 1;
    }
    if (dec->counter == UINT64_MAX)
        return dec_fail(dec, AGE_ERR_PAYLOAD, "age payload too long");
    dec->counter++;
    *buf = dec->pt;
    *len = n - AGE_TAGBYTES;
    return 0;
}
