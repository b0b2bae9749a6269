/*
 * age: the age v1 file format (C2SP age.md), streaming and in bounded
 * memory, so that a bundle made here opens with the stock `age -d` and a file
 * made by `age -r` or `age -p` opens here. X25519 and scrypt stanzas only:
 * no armor, no plugins, no post-quantum recipients.
 *
 * A file is
 *   "age-encryption.org/v1\n"
 *   one or more stanzas "-> TYPE ARG...\n" + body (canonical base64 without
 *     padding, 64 columns per line, the last line shorter, maybe empty)
 *   "--- " b64(HMAC-SHA256(HKDF(file key, "", "header"), header up to and
 *     including "---")) "\n"
 *   a 16-byte nonce, then the payload: 64 KiB chunks sealed with
 *   ChaCha20-Poly1305-IETF under HKDF(file key, nonce, "payload"), AEAD
 *   nonce = 11-byte big-endian chunk counter || 0x01 on the last chunk else
 *   0x00. The last chunk may be full; it is empty only for empty plaintext.
 * X25519 stanza: "-> X25519 b64(ephemeral share)", body = the file key sealed
 * under HKDF(shared secret, share || recipient, "age-encryption.org/v1/X25519")
 * with a zero nonce. scrypt stanza: "-> scrypt b64(salt) logN", body sealed
 * under scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, 2^logN,
 * r=8, p=1); it must be the only stanza.
 *
 * Encrypting: age_enc_new_x25519 or age_enc_new_scrypt writes the header and
 * nonce through the caller's write callback; age_enc_update buffers at most
 * one chunk; age_enc_final writes the last chunk. Decrypting: age_dec_new_*
 * takes an identity and a read callback; age_dec_header reads the whole
 * header (at most AGE_HEADER_MAX bytes), unwraps the file key and checks the
 * MAC before any payload is touched; age_dec_read then hands out plaintext
 * one chunk at a time, each only after its tag verifies. Memory: about two
 * chunks per object, whatever the file size.
 *
 * The parser treats every byte as hostile and accepts only what the spec
 * allows (the C2SP CCTV vectors are the reference). Functions return 0 or a
 * negative AGE_ERR_* code; a decryptor's error also leaves a message in
 * age_dec_error.
 */
#ifndef EV_AGE_H
#define EV_AGE_H

#include <stddef.h>
#include <stdint.h>

#define AGE_KEYBYTES 32     /* X25519 public and secret keys */
#define AGE_FILEKEYBYTES 16
#define AGE_CHUNKBYTES 65536 /* plaintext bytes per payload chunk */
#define AGE_TAGBYTES 16
#define AGE_NONCEBYTES 16   /* the payload nonce after the header */
/* Limits on what a decryptor reads: header bytes (MAC line included) and
 * stanzas. An encryptor takes at most AGE_RECIPIENTS_MAX keys, whose header
 * (98 bytes a stanza) stays well inside AGE_HEADER_MAX. */
#define AGE_HEADER_MAX 65536
#define AGE_STANZAS_MAX 1024
#define AGE_RECIPIENTS_MAX 512
/* scrypt work factors: age's default when encrypting, and the largest one
 * accepted either way (2^22 * 1 KiB = 4 GiB of memory). */
#define AGE_SCRYPT_LOGN_DEFAULT 18
#define AGE_SCRYPT_LOGN_MAX 22
#define AGE_ERRTEXT_MAX 160

enum {
    AGE_OK = 0,
    AGE_ERR_INTERNAL = -1, /* out of memory, or a libsodium failure */
    AGE_ERR_INVALID = -2,  /* a bad argument (key, work factor, call order) */
    AGE_ERR_IO = -3,       /* the read or write callback failed */
    AGE_ERR_HEADER = -4,   /* not an age v1 file, or a malformed header */
    AGE_ERR_NOMATCH = -5,  /* no stanza opens with the identity: wrong key or
                              wrong passphrase */
    AGE_ERR_MAC = -6,      /* the header MAC does not verify: tampered */
    AGE_ERR_PAYLOAD = -7   /* payload truncated, tampered, reordered, or
                              followed by trailing data */
};

/*
 * Write all len bytes of buf. Return 0, or -1 to abort (the object then
 * fails with AGE_ERR_IO).
 */
typedef int (*age_write_fn)(void *arg, const uint8_t *buf, size_t len);

/*
 * Read up to len bytes into buf. OUT: *got, the number read, 0 only at the
 * end of the input. Return 0, or -1 on a read error (AGE_ERR_IO).
 */
typedef int (*age_read_fn)(void *arg, uint8_t *buf, size_t len, size_t *got);

typedef struct age_enc age_enc;
typedef struct age_dec age_dec;

/* A constant description of an AGE_* code, for messages. */
const char *age_strerror(int code);

/*
 * HKDF-SHA256 (RFC 5869, extract then expand) from libsodium's HMAC-SHA256.
 * An empty salt means HashLen zero bytes, as the RFC says. OUT: out (outlen
 * bytes, 1..255*32). Returns -1, out zeroed, for a bad outlen.
 */
int age_hkdf_sha256(uint8_t *out, size_t outlen, const uint8_t *ikm,
                    size_t ikmlen, const uint8_t *salt, size_t saltlen,
                    const uint8_t *info, size_t infolen);

/*
 * Start a file encrypted to npk X25519 public keys (1..AGE_RECIPIENTS_MAX)
 * laid end to end in pks (npk * AGE_KEYBYTES bytes), one stanza each, in
 * order, and write its header and nonce through write.
 * OUT: *enc (free with age_enc_free), NULL on failure. Returns
 * AGE_ERR_INVALID for a bad count or a low-order key (no shared secret),
 * AGE_ERR_IO when write fails, AGE_ERR_INTERNAL when out of memory.
 */
int age_enc_new_x25519(age_enc **enc, const uint8_t *pks, size_t npk,
                       age_write_fn write, void *arg);

/*
 * Start a file encrypted with a passphrase (passlen > 0 bytes, any content),
 * one scrypt stanza with work factor logn (1..AGE_SCRYPT_LOGN_MAX; age uses
 * AGE_SCRYPT_LOGN_DEFAULT), and write its header and nonce. The passphrase
 * is not kept. OUT: *enc, as for age_enc_new_x25519. Returns
 * AGE_ERR_INVALID for an empty passphrase or a bad logn, AGE_ERR_IO,
 * AGE_ERR_INTERNAL (also when scrypt cannot get its memory).
 */
int age_enc_new_scrypt(age_enc **enc, const char *pass, size_t passlen,
                       int logn, age_write_fn write, void *arg);

/*
 * Encrypt the next len bytes of plaintext; whole chunks are written as soon
 * as more data follows them. Returns AGE_ERR_IO when write fails; after any
 * failure, or after age_enc_final, the encryptor only returns errors
 * (AGE_ERR_INVALID once finished).
 */
int age_enc_update(age_enc *enc, const uint8_t *data, size_t len);

/*
 * Write the last chunk (flagged last; empty only if no plaintext at all) and
 * wipe the keys. The output is then a complete age file. Returns
 * AGE_ERR_IO when write fails, or the earlier failure.
 */
int age_enc_final(age_enc *enc);

/* Wipe and free. Accepts NULL. A file not finalised is left truncated,
 * which any reader rejects. */
void age_enc_free(age_enc *enc);

/*
 * A decryptor with an X25519 identity (the 32-byte secret key of an
 * "AGE-SECRET-KEY-1..." string), reading the file through read. Nothing is
 * read yet. OUT: *dec (free with age_dec_free), NULL on failure. Returns
 * AGE_ERR_INVALID for a key with no public half, AGE_ERR_INTERNAL.
 */
int age_dec_new_x25519(age_dec **dec, const uint8_t sk[AGE_KEYBYTES],
                       age_read_fn read, void *arg);

/*
 * A decryptor with a passphrase identity (copied into locked memory). Files
 * asking for a work factor above max_logn (0 for AGE_SCRYPT_LOGN_MAX,
 * otherwise 1..AGE_SCRYPT_LOGN_MAX) are refused with AGE_ERR_HEADER before
 * scrypt runs. OUT: *dec, as for age_dec_new_x25519. Returns
 * AGE_ERR_INVALID for a bad max_logn, AGE_ERR_INTERNAL.
 */
int age_dec_new_scrypt(age_dec **dec, const char *pass, size_t passlen,
                       int max_logn, age_read_fn read, void *arg);

/*
 * Read and check the header: strict syntax, at most AGE_HEADER_MAX bytes
 * and AGE_STANZAS_MAX stanzas, every X25519 and scrypt stanza well formed,
 * a scrypt stanza alone; then unwrap the file key (stanzas of other types
 * are skipped), verify the MAC and read the payload nonce. Returns
 * AGE_ERR_HEADER (also for an all-zero X25519 shared secret, a work factor
 * over the limit, or a file that ends inside the nonce), AGE_ERR_NOMATCH,
 * AGE_ERR_MAC, AGE_ERR_IO or AGE_ERR_INTERNAL, with age_dec_error telling
 * which rule failed. Calling it again returns the first result.
 */
int age_dec_header(age_dec *dec) __attribute__((warn_unused_result));

/*
 * The next chunk of verified plaintext (reading the header first if
 * age_dec_header was not called). OUT: *buf and *len, the chunk (valid until
 * the next call or age_dec_free); *len == 0 once the final chunk has been
 * handed out and the input has ended right after it. Non-final chunks are
 * AGE_CHUNKBYTES long. On failure *buf is NULL, *len 0, and nothing of the
 * failing chunk is released: the header errors above, or AGE_ERR_PAYLOAD for
 * a chunk that does not verify in its place (tampered, swapped, dropped,
 * cut short), an empty final chunk after data, no final chunk (truncated
 * at a chunk boundary) or data after the final chunk. A full chunk is handed
 * out once it verifies, as final or not; the two last failures are then
 * reported by the next call (as age does, and as the CCTV vectors expect).
 * So chunks handed out before a failure are authentic, but the file as a
 * whole is not: callers must discard them.
 */
int age_dec_read(age_dec *dec, const uint8_t **buf, size_t *len)
    __attribute__((warn_unused_result));

/* Why the last call failed (lowercase, no full stop), "" if none did. */
const char *age_dec_error(const age_dec *dec);

/* Wipe and free. Accepts NULL. */
void age_dec_free(age_dec *dec);

#endif
