/*
 * kdf: key derivation. Argon2id for passphrases (libsodium presets), a keyed
 * BLAKE2b for high-entropy recovery codes, and libsodium's crypto_kdf
 * (BLAKE2b) for the subkeys evault derives from a vault's master key.
 */
#ifndef EV_KDF_H
#define EV_KDF_H

#include <stddef.h>
#include <stdint.h>

#define KDF_SALTBYTES 16
#define KDF_KEYBYTES 32

/* Argon2id cost: iterations and memory in KiB (as stored in a keyslot). */
typedef struct kdf_params {
    uint32_t ops;
    uint32_t mem_kib;
} kdf_params;

/* Subkey ids under the master key (see docs/FORMAT.md). */
enum {
    KDF_SUB_PAGE = 1,    /* database pages */
    KDF_SUB_JOURNAL = 2, /* rollback journal records */
    KDF_SUB_SLOTMETA = 3 /* keyslot metadata (type, label) */
};

/*
 * Look up a named profile: "interactive", "moderate", "sensitive" (libsodium's
 * Argon2id presets) or "test" (minimal cost; only for test suites, the caller
 * decides when to allow it). OUT: p. Returns 0, or -1 for an unknown name.
 */
int kdf_profile(const char *name, kdf_params *p);

/* Name of the profile p matches, or "custom". */
const char *kdf_profile_name(const kdf_params *p);

/*
 * 1 if p is within the bounds evault accepts from a file (1..16 passes,
 * 8 KiB..4 GiB memory), else 0. Bounds keep a hostile header from asking for
 * absurd work and let random (empty) slots be told apart cheaply.
 */
int kdf_params_valid(const kdf_params *p);

/* Argon2id(pass, salt, p) -> 32 bytes. OUT: out. 0, or -1 (out of memory). */
int kdf_passphrase(uint8_t *out, const char *pass, size_t passlen,
                   const uint8_t *salt, const kdf_params *p)
    __attribute__((warn_unused_result));

/*
 * Wrapping key for a recovery slot: BLAKE2b-256 keyed by the code's bytes
 * over a domain string and the slot salt. OUT: out.
 */
void kdf_recovery(uint8_t *out, const uint8_t *code, size_t codelen,
                  const uint8_t *salt);

/* Subkey number id of the master key mk. OUT: out (32 bytes). */
void kdf_subkey(uint8_t *out, uint64_t id, const uint8_t *mk);

#endif
