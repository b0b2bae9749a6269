/*
 * keyslot: the byte format of one 512-byte keyslot, which wraps a vault's
 * master key under a key derived from a passphrase or a recovery code.
 *
 * Layout (all integers little-endian; see docs/FORMAT.md):
 *   0   16  salt
 *   16   4  Argon2id passes       (random in recovery and empty slots)
 *   20   4  Argon2id memory, KiB  (random in recovery and empty slots)
 *   24  24  secret nonce
 *   48  64  secret ciphertext     XChaCha20-Poly1305(wrap key)
 *   112 16  secret tag            AD = "evault/keyslot/v1" || bytes 0..23
 *   128 24  meta nonce
 *   152 128 meta ciphertext       XChaCha20-Poly1305(meta subkey of master)
 *   280 16  meta tag              AD = "evault/slotmeta/v1" || index || 0..127
 *   296 216 random fill
 * An empty slot is 512 random bytes. Nothing here touches files.
 */
#ifndef EV_KEYSLOT_H
#define EV_KEYSLOT_H

#include <stddef.h>
#include <stdint.h>

#include "kdf.h"

#define KEYSLOT_SIZE 512
#define KEYSLOT_COUNT 8
#define KEYSLOT_REGION (KEYSLOT_SIZE * KEYSLOT_COUNT)
#define KEYSLOT_LABELMAX 112
#define VAULT_IDBYTES 16
#define MASTER_KEYBYTES 32

enum { KEYSLOT_EMPTY = 0, KEYSLOT_PASSPHRASE = 1, KEYSLOT_RECOVERY = 2 };

/* What a keyslot wraps. Keep it in sodium_malloc'd memory. */
typedef struct keyslot_secret {
    uint16_t version;   /* container format version */
    uint16_t flags;     /* reserved, 0 */
    uint32_t page_size; /* SQLite page size, fixed at creation */
    uint8_t vault_id[VAULT_IDBYTES];
    uint8_t master_key[MASTER_KEYBYTES];
    uint64_t created; /* unix seconds */
} keyslot_secret;

/* Who a keyslot is for; readable with the master key alone. */
typedef struct keyslot_meta {
    int type; /* KEYSLOT_* */
    uint64_t created;
    char label[KEYSLOT_LABELMAX + 1];
} keyslot_meta;

/* Fill slot with random bytes: an empty slot. OUT: slot. */
void keyslot_clear(uint8_t *slot);

/* Read the salt and Argon2id parameters of slot. OUT: salt, p. */
void keyslot_kdf(const uint8_t *slot, uint8_t *salt, kdf_params *p);

/*
 * Build slot number index. salt is the salt the wrap key was derived with;
 * p the Argon2id parameters (NULL for a recovery slot: random bytes are
 * stored instead). meta_key is the master key's slot-meta subkey.
 * OUT: slot. Returns 0 or -1.
 */
int keyslot_seal(uint8_t *slot, int index, const uint8_t *wrap_key,
                 const uint8_t *salt, const kdf_params *p,
                 const keyslot_secret *s, const keyslot_meta *m,
                 const uint8_t *meta_key);

/*
 * Unwrap slot with wrap_key. OUT: s. Returns 0, or -1 if the key is wrong or
 * the slot damaged (s is then zeroed).
 */
int keyslot_open(keyslot_secret *s, const uint8_t *slot,
                 const uint8_t *wrap_key) __attribute__((warn_unused_result));

/*
 * Read the metadata of slot number index with the meta subkey. OUT: m.
 * Returns 0, or -1 for an empty (or damaged) slot, with m->type EMPTY.
 */
int keyslot_meta_read(keyslot_meta *m, const uint8_t *slot, int index,
                      const uint8_t *meta_key)
    __attribute__((warn_unused_result));

#endif
