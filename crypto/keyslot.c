/*
 * keyslot: encode and decode one keyslot. Two AEAD boxes: the secret box
 * (master key, vault id, format version) under the slot's wrap key, and the
 * meta box (type, label, time) under a subkey of the master key, so that a
 * holder of any slot can list every slot without knowing its passphrase.
 */
#include "keyslot.h"

#include <sodium.h>
#include <string.h>

#include "aead.h"
#include "le.h"

#define OFF_SALT 0
#define OFF_OPS 16
#define OFF_MEM 20
#define OFF_SNONCE 24
#define OFF_SCT 48
#define SECRET_LEN 64
#define OFF_STAG 112
#define OFF_MNONCE 128
#define OFF_MCT 152
#define META_LEN 128
#define OFF_MTAG 280

static const char secret_domain[] = "evault/keyslot/v1";
static const char meta_domain[] = "evault/slotmeta/v1";

void keyslot_clear(uint8_t *slot)
{
    randombytes_buf(slot, KEYSLOT_SIZE);
}

void keyslot_kdf(const uint8_t *slot, uint8_t *salt, kdf_params *p)
{
    memcpy(salt, slot + OFF_SALT, KDF_SALTBYTES);
    p->ops = le32_get(slot + OFF_OPS);
    p->mem_kib = le32_get(slot + OFF_MEM);
}

/* AD of the secret box: domain || salt || ops || mem. OUT: ad. */
static size_t secret_ad(uint8_t *ad, const uint8_t *slot)
{
    memcpy(ad, secret_domain, sizeof secret_domain - 1);
    memcpy(ad + sizeof secret_domain - 1, slot, OFF_SNONCE);
    return sizeof secret_domain - 1 + OFF_SNONCE;
}

/* AD of the meta box: domain || index || bytes 0..127. OUT: ad. */
static size_t meta_ad(uint8_t *ad, const uint8_t *slot, int index)
{
    size_t n = sizeof meta_domain - 1;
    memcpy(ad, meta_domain, n);
    ad[n++] = (uint8_t)index;
    memcpy(ad + n, slot, OFF_MNONCE);
    return n + OFF_MNONCE;
}

int keyslot_seal(uint8_t *slot, int index, const uint8_t *wrap_key,
                 const uint8_t *salt, const kdf_params *p,
                 const keyslot_secret *s, const keyslot_meta *m,
                 const uint8_t *meta_key)
{
    uint8_t plain[META_LEN > SECRET_LEN ? META_LEN : SECRET_LEN];
    uint8_t ad[sizeof meta_domain + OFF_MNONCE + 1];
    size_t adlen, lablen;
    int rc = -1;

    if (index < 0 || index >= KEYSLOT_COUNT)
        return -1;
    keyslot_clear(slot); /* random fill, and random params for recovery */
    memcpy(slot + OFF_SALT, salt, KDF_SALTBYTES);
    if (p) {
        le32_put(slot + OFF_OPS, p->ops);
        le32_put(slot + OFF_MEM, p->mem_kib);
    }

    memset(plain, 0, sizeof plain);
    plain[0] = (uint8_t)s->version;
    plain[1] = (uint8_t)(s->version >> 8);
    plain[2] = (uint8_t)s->flags;
    plain[3] = (uint8_t)(s->flags >> 8);
    le32_put(plain + 4, s->page_size);
    memcpy(plain + 8, s->vault_id, VAULT_IDBYTES);
    memcpy(plain + 24, s->master_key, MASTER_KEYBYTES);
    le64_put(plain + 56, s->created);
    adlen = secret_ad(ad, slot);
    if (aead_seal(slot + OFF_SCT, slot + OFF_SNONCE, slot + OFF_STAG, plain,
                  SECRET_LEN, ad, adlen, wrap_key) != 0)
        goto out;

    memset(plain, 0, sizeof plain);
    lablen = strnlen(m->label, KEYSLOT_LABELMAX);
    plain[0] = (uint8_t)m->type;
    plain[1] = (uint8_t)lablen;
    le64_put(plain + 8, m->created);
    memcpy(plain + 16, m->label, lablen);
    adlen = meta_ad(ad, slot, index);
    if (aead_seal(slot + OFF_MCT, slot + OFF_MNONCE, slot + OFF_MTAG, plain,
                  META_LEN, ad, adlen, meta_key) != 0)
        goto out;
    rc = 0;
out:
    sodium_memzero(plain, sizeof plain);
    if (rc != 0)
        keyslot_clear(slot);
    return rc;
}

int keyslot_open(keyslot_secret *s, const uint8_t *slot,
                 const uint8_t *wrap_key)
{
    uint8_t plain[SECRET_LEN];
    uint8_t ad[sizeof secret_domain + OFF_SNONCE];
    size_t adlen = secret_ad(ad, slot);
    int rc = -1;

    memset(s, 0, sizeof *s);
    if (aead_open(plain, slot + OFF_SCT, SECRET_LEN, slot + OFF_SNONCE,
                  slot + OFF_STAG, ad, adlen, wrap_key) != 0)
        goto out;
    s->version = (uint16_t)(plain[0] | plain[1] << 8);
    s->flags = (uint16_t)(plain[2] | plain[3] << 8);
    s->page_size = le32_get(plain + 4);
    memcpy(s->vault_id, plain + 8, VAULT_IDBYTES);
    memcpy(s->master_key, plain + 24, MASTER_KEYBYTES);
    s->created = le64_get(plain + 56);
    rc = 0;
out:
    sodium_memzero(plain, sizeof plain);
    return rc;
}

int keyslot_meta_read(keyslot_meta *m, const uint8_t *slot, int index,
                      const uint8_t *meta_key)
{
    uint8_t plain[META_LEN];
    uint8_t ad[sizeof meta_domain + OFF_MNONCE + 1];
    size_t adlen = meta_ad(ad, slot, index);
    int rc = -1;

    memset(m, 0, sizeof *m);
    if (aead_open(plain, slot + OFF_MCT, META_LEN, slot + OFF_MNONCE,
                  slot + OFF_MTAG, ad, adlen, meta_key) != 0)
        goto out;
    if ((plain[0] != KEYSLOT_PASSPHRASE && plain[0] != KEYSLOT_RECOVERY) ||
        plain[1] > KEYSLOT_LABELMAX)
        goto out;
    m->type = plain[0];
    m->created = le64_get(plain + 8);
    memcpy(m->label, plain + 16, plain[1]);
    m->label[plain[1]] = '\0';
    rc = 0;
out:
    if (rc != 0)
        m->type = KEYSLOT_EMPTY;
    sodium_memzero(plain, sizeof plain);
    return rc;
}
