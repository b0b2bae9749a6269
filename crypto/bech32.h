/*
 * bech32: BIP173 Bech32 (not Bech32m) encoding of 8-bit data under a
 * human-readable part (hrp), and the age key strings built on it: recipients
 * "age1..." and identities "AGE-SECRET-KEY-1...".
 *
 * age drops BIP173's 90-character limit, so neither direction here has one;
 * the decoder is bounded by the caller's output buffers instead. The hrp keeps
 * BIP173's 1..83 characters of ASCII 33..126. Returns 0 on success, -1 on
 * failure.
 */
#ifndef EV_BECH32_H
#define EV_BECH32_H

#include <stddef.h>
#include <stdint.h>

#define BECH32_HRP_MAX 83
#define BECH32_CHECKSUM_LEN 6

/* Characters of the encoding of datalen bytes under an hrp of hrplen. */
#define BECH32_ENCODED_LEN(hrplen, datalen) \
    ((hrplen) + 1 + ((datalen) * 8 + 4) / 5 + BECH32_CHECKSUM_LEN)

#define BECH32_AGE_KEYBYTES 32
/* "age1" + 52 data + 6 checksum characters */
#define BECH32_AGE_RECIPIENT_LEN BECH32_ENCODED_LEN(3, BECH32_AGE_KEYBYTES)
/* "AGE-SECRET-KEY-1" + 52 data + 6 checksum characters */
#define BECH32_AGE_IDENTITY_LEN BECH32_ENCODED_LEN(15, BECH32_AGE_KEYBYTES)

/*
 * Encode datalen bytes of data under hrp, in lowercase. hrp must be 1..83
 * characters of ASCII 33..126 with no uppercase letter (BIP173 computes the
 * checksum over the lowercase form). OUT: out, a NUL-terminated string of
 * BECH32_ENCODED_LEN(strlen(hrp), datalen) characters; outsize must leave
 * room for the NUL. Returns -1 (out untouched but for a NUL at out[0] when
 * outsize > 0) on a bad hrp or a short buffer.
 */
int bech32_encode(char *out, size_t outsize, const char *hrp,
                  const uint8_t *data, size_t datalen);

/*
 * Decode the len characters of str (not necessarily NUL-terminated). Rejects
 * mixed case, characters outside ASCII 33..126 (NUL included), an hrp that is
 * empty or longer than 83, a data part shorter than the checksum, characters
 * outside the Bech32 alphabet, a bad checksum, and padding that is not a
 * run of fewer than five zero bits. OUT: hrp, the hrp lowercased and
 * NUL-terminated (hrpsize bytes of room); data, at most datamax bytes;
 * datalen, the number of bytes decoded. On failure the outputs are zeroed
 * and -1 returned, also when the hrp or the data do not fit.
 */
int bech32_decode(char *hrp, size_t hrpsize, uint8_t *data, size_t datamax,
                  size_t *datalen, const char *str, size_t len)
    __attribute__((warn_unused_result));

/*
 * The age recipient of an X25519 public key: "age1..." in lowercase.
 * OUT: out (BECH32_AGE_RECIPIENT_LEN characters and a NUL).
 */
void bech32_age_recipient(char out[BECH32_AGE_RECIPIENT_LEN + 1],
                          const uint8_t pk[BECH32_AGE_KEYBYTES]);

/*
 * The age identity of an X25519 secret key: "AGE-SECRET-KEY-1..." in
 * uppercase, as age-keygen writes it. The caller wipes out when done.
 * OUT: out (BECH32_AGE_IDENTITY_LEN characters and a NUL).
 */
void bech32_age_identity(char out[BECH32_AGE_IDENTITY_LEN + 1],
                         const uint8_t sk[BECH32_AGE_KEYBYTES]);

/*
 * Parse the len characters of s as an age recipient: hrp "age", all
 * lowercase (age itself refuses "AGE1..."), exactly 32 bytes of key.
 * OUT: pk. On failure pk is zeroed and -1 returned.
 */
int bech32_age_parse_recipient(uint8_t pk[BECH32_AGE_KEYBYTES], const char *s,
                               size_t len) __attribute__((warn_unused_result));

/*
 * Parse the len characters of s as an age identity: hrp "age-secret-key-",
 * all uppercase (age itself refuses the lowercase form), exactly 32 bytes of
 * key. OUT: sk. On failure sk is zeroed and -1 returned.
 */
int bech32_age_parse_identity(uint8_t sk[BECH32_AGE_KEYBYTES], const char *s,
                              size_t len) __attribute__((warn_unused_result));

#endif
