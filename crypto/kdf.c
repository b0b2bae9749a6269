/*
 * kdf: Argon2id presets, recovery-code keys and master-key subkeys, all
 * from libsodium.
 */
#include "kdf.h"

#include <sodium.h>
#include <string.h>

#define KDF_CONTEXT "evault01"
#define RECOVERY_DOMAIN "evault/recovery/v1"

static const struct {
    const char *name;
    unsigned long long ops;
    size_t mem;
} profiles[] = {
    {"interactive", crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
     crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE},
    {"moderate", crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
     crypto_pwhash_argon2id_MEMLIMIT_MODERATE},
    {"sensitive", crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE,
     crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE},
    {"test", 1, 64 * 1024},
};

int kdf_profile(const char *name, kdf_params *p)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        if (strcmp(name, profiles[i].name) == 0) {
            p->ops = (uint32_t)profiles[i].ops;
            p->mem_kib = (uint32_t)(profiles[i].mem / 1024);
            return 0;
        }
    }
    return -1;
}

const char *kdf_profile_name(const kdf_params *p)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (p->ops == profiles[i].ops && p->mem_kib == profiles[i].mem / 1024)
            return profiles[i].name;
    return "custom";
}

int kdf_params_valid(const kdf_params *p)
{
    return p->ops >= 1 && p->ops <= 16 && p->mem_kib >= 8 &&
           p->mem_kib <= 4u * 1024 * 1024;
}

int kdf_passphrase(uint8_t *out, const char *pass, size_t passlen,
                   const uint8_t *salt, const kdf_params *p)
{
    if (!kdf_params_valid(p))
        return -1;
    return crypto_pwhash(out, KDF_KEYBYTES, pass, passlen, salt, p->ops,
                         (size_t)p->mem_kib * 1024,
                         crypto_pwhash_ALG_ARGON2ID13);
}

void kdf_recovery(uint8_t *out, const uint8_t *code, size_t codelen,
                  const uint8_t *salt)
{
    crypto_generichash_state st;

    crypto_generichash_init(&st, code, codelen, KDF_KEYBYTES);
    crypto_generichash_update(&st, (const uint8_t *)RECOVERY_DOMAIN,
                              sizeof RECOVERY_DOMAIN - 1);
    crypto_generichash_update(&st, salt, KDF_SALTBYTES);
    crypto_generichash_final(&st, out, KDF_KEYBYTES);
    sodium_memzero(&st, sizeof st);
}

void kdf_subkey(uint8_t *out, uint64_t id, const uint8_t *mk)
{
    crypto_kdf_derive_from_key(out, KDF_KEYBYTES, id, KDF_CONTEXT, mk);
}
