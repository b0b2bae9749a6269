/*
 * test_crypto: unit tests for crypto/: aead (with the XChaCha20-Poly1305
 * vector of draft-irtf-cfrg-xchacha-03 A.3.1), kdf, recovery codes and the
 * keyslot format, including regression vectors that pin the derivations
 * docs/FORMAT.md specifies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "../../crypto/aead.h"
#include "../../crypto/kdf.h"
#include "../../crypto/keyslot.h"
#include "../../crypto/recovery.h"

static void hex(uint8_t *out, size_t n, const char *h)
{
    size_t len = 0;
    assert_int_equal(sodium_hex2bin(out, n, h, strlen(h), " ", &len, NULL), 0);
    assert_int_equal(len, n);
}

static void test_aead_vector(void **state)
{
    static const char pt[] =
        "Ladies and Gentlemen of the class of '99: If I could offer you "
        "only one tip for the future, sunscreen would be it.";
    uint8_t key[32], nonce[24], ad[12], ct[sizeof pt - 1], tag[16],
        out[sizeof pt - 1];
    (void)state;

    hex(key, 32, "808182838485868788898a8b8c8d8e8f"
                 "909192939495969798999a9b9c9d9e9f");
    hex(nonce, 24, "404142434445464748494a4b4c4d4e4f5051525354555657");
    hex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
    hex(ct, sizeof ct,
        "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
        "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
        "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
        "21f9664c97637da9768812f615c68b13b52e");
    hex(tag, 16, "c0875924c1c7987947deafd8780acf49");
    assert_int_equal(aead_open(out, ct, sizeof ct, nonce, tag, ad, sizeof ad,
                               key),
                     0);
    assert_memory_equal(out, pt, sizeof pt - 1);
    /* One flipped bit anywhere fails, and nothing is released. */
    ct[17] ^= 1;
    assert_int_equal(aead_open(out, ct, sizeof ct, nonce, tag, ad, sizeof ad,
                               key),
                     -1);
    for (size_t i = 0; i < sizeof out; i++)
        assert_int_equal(out[i], 0);
    ct[17] ^= 1;
    ad[0] ^= 1;
    assert_int_equal(aead_open(out, ct, sizeof ct, nonce, tag, ad, sizeof ad,
                               key),
                     -1);
}

static void test_aead_roundtrip(void **state)
{
    uint8_t key[32], key2[32], n1[24], n2[24], t1[16], t2[16];
    uint8_t m[1000], c1[1000], c2[1000], out[1000];
    (void)state;

    randombytes_buf(key, sizeof key);
    randombytes_buf(key2, sizeof key2);
    randombytes_buf(m, sizeof m);
    assert_int_equal(aead_seal(c1, n1, t1, m, sizeof m, (const uint8_t *)"x",
                               1, key),
                     0);
    assert_int_equal(aead_seal(c2, n2, t2, m, sizeof m, (const uint8_t *)"x",
                               1, key),
                     0);
    /* fresh nonce each time, so equal plaintexts differ on disk */
    assert_memory_not_equal(n1, n2, 24);
    assert_memory_not_equal(c1, c2, sizeof c1);
    assert_memory_not_equal(c1, m, sizeof m);
    assert_int_equal(aead_open(out, c1, sizeof c1, n1, t1,
                               (const uint8_t *)"x", 1, key),
                     0);
    assert_memory_equal(out, m, sizeof m);
    assert_int_equal(aead_open(out, c1, sizeof c1, n1, t1,
                               (const uint8_t *)"x", 1, key2),
                     -1);
    assert_int_equal(aead_open(out, c1, sizeof c1, n1, t1,
                               (const uint8_t *)"y", 1, key),
                     -1);
    /* in place */
    memcpy(out, c1, sizeof c1);
    assert_int_equal(aead_open(out, out, sizeof out, n1, t1,
                               (const uint8_t *)"x", 1, key),
                     0);
    assert_memory_equal(out, m, sizeof m);
}

static void test_kdf_profiles(void **state)
{
    kdf_params p;
    (void)state;

    assert_int_equal(kdf_profile("moderate", &p), 0);
    assert_int_equal(p.ops, crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
    assert_int_equal(p.mem_kib, crypto_pwhash_argon2id_MEMLIMIT_MODERATE / 1024);
    assert_string_equal(kdf_profile_name(&p), "moderate");
    assert_true(kdf_params_valid(&p));
    assert_int_equal(kdf_profile("interactive", &p), 0);
    assert_string_equal(kdf_profile_name(&p), "interactive");
    assert_int_equal(kdf_profile("sensitive", &p), 0);
    assert_int_equal(p.mem_kib, 1024 * 1024);
    assert_int_equal(kdf_profile("nope", &p), -1);
    p.ops = 0;
    p.mem_kib = 64;
    assert_false(kdf_params_valid(&p));
    p.ops = 17;
    assert_false(kdf_params_valid(&p));
    p.ops = 2;
    p.mem_kib = 5u * 1024 * 1024;
    assert_false(kdf_params_valid(&p));
    assert_string_equal(kdf_profile_name(&p), "custom");
}

static void test_kdf_passphrase(void **state)
{
    uint8_t salt[16], salt2[16], k1[32], k2[32], k3[32], k4[32];
    kdf_params p, bad = {0, 0};
    (void)state;

    assert_int_equal(kdf_profile("test", &p), 0);
    memset(salt, 0x11, sizeof salt);
    memset(salt2, 0x22, sizeof salt2);
    assert_int_equal(kdf_passphrase(k1, "pass", 4, salt, &p), 0);
    assert_int_equal(kdf_passphrase(k2, "pass", 4, salt, &p), 0);
    assert_int_equal(kdf_passphrase(k3, "pasS", 4, salt, &p), 0);
    assert_int_equal(kdf_passphrase(k4, "pass", 4, salt2, &p), 0);
    assert_memory_equal(k1, k2, 32);
    assert_memory_not_equal(k1, k3, 32);
    assert_memory_not_equal(k1, k4, 32);
    assert_int_equal(kdf_passphrase(k1, "pass", 4, salt, &bad), -1);
    /* kdf_passphrase is Argon2id v1.3 with the stored cost, as documented */
    assert_int_equal(crypto_pwhash(k3, 32, "pass", 4, salt, 1, 64 * 1024,
                                   crypto_pwhash_ALG_ARGON2ID13),
                     0);
    assert_memory_equal(k2, k3, 32);
}

static void test_kdf_recovery_and_subkeys(void **state)
{
    uint8_t code[20], salt[16], k[32], k2[32], mk[32], s1[32], s2[32],
        want[32];
    crypto_generichash_state st;
    (void)state;

    for (int i = 0; i < 20; i++)
        code[i] = (uint8_t)i;
    for (int i = 0; i < 16; i++)
        salt[i] = (uint8_t)(0xa0 + i);
    kdf_recovery(k, code, 20, salt);
    /* The documented construction, recomputed independently. */
    crypto_generichash_init(&st, code, 20, 32);
    crypto_generichash_update(&st, (const uint8_t *)"evault/recovery/v1", 18);
    crypto_generichash_update(&st, salt, 16);
    crypto_generichash_final(&st, want, 32);
    assert_memory_equal(k, want, 32);
    salt[0] ^= 1;
    kdf_recovery(k2, code, 20, salt);
    assert_memory_not_equal(k, k2, 32);

    memset(mk, 0x42, sizeof mk);
    kdf_subkey(s1, KDF_SUB_PAGE, mk);
    kdf_subkey(s2, KDF_SUB_JOURNAL, mk);
    assert_memory_not_equal(s1, s2, 32);
    assert_int_equal(crypto_kdf_derive_from_key(want, 32, 1, "evault01", mk),
                     0);
    assert_memory_equal(s1, want, 32);
}

static void test_recovery_codec(void **state)
{
    uint8_t code[20], back[20];
    char text[RECOVERY_TEXTLEN + 1], loose[64];
    (void)state;

    for (int i = 0; i < 20; i++)
        code[i] = (uint8_t)i;
    recovery_format(text, code);
    /* RFC 4648 base32 of 00..13, grouped by four */
    assert_string_equal(text, "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT");
    assert_int_equal(strlen(text), RECOVERY_TEXTLEN);
    assert_int_equal(recovery_parse(back, text, strlen(text)), 0);
    assert_memory_equal(back, code, 20);
    /* lowercase, spaces, no dashes; 0 and 1 read as O and I */
    snprintf(loose, sizeof loose, "aaaq eayeaudaocaj bifqyd1ob4ibceqt");
    assert_int_equal(recovery_parse(back, loose, strlen(loose)), 0);
    assert_memory_equal(back, code, 20);
    memset(code, 0xff, sizeof code);
    recovery_format(text, code);
    assert_string_equal(text, "7777-7777-7777-7777-7777-7777-7777-7777");
    for (int t = 0; t < 200; t++) {
        recovery_generate(code);
        recovery_format(text, code);
        assert_int_equal(recovery_parse(back, text, strlen(text)), 0);
        assert_memory_equal(back, code, 20);
    }
    /* too short, too long, bad characters, a passphrase */
    assert_int_equal(recovery_parse(back, text, strlen(text) - 1), -1);
    snprintf(loose, sizeof loose, "%sA", text);
    assert_int_equal(recovery_parse(back, loose, strlen(loose)), -1);
    snprintf(loose, sizeof loose, "%s", text);
    loose[5] = '8';
    assert_int_equal(recovery_parse(back, loose, strlen(loose)), -1);
    assert_int_equal(recovery_parse(back, "correct horse", 13), -1);
    assert_int_equal(recovery_parse(back, "", 0), -1);
}

static void fill_secret(keyslot_secret *s)
{
    memset(s, 0, sizeof *s);
    s->version = 1;
    s->page_size = 4096;
    randombytes_buf(s->vault_id, sizeof s->vault_id);
    randombytes_buf(s->master_key, sizeof s->master_key);
    s->created = 1700000000;
}

static void test_keyslot_roundtrip(void **state)
{
    uint8_t slot[KEYSLOT_SIZE], wrap[32], meta_key[32], salt[16], salt2[16];
    keyslot_secret s, got;
    keyslot_meta m, mg;
    kdf_params p = {2, 65536}, pg;
    (void)state;

    fill_secret(&s);
    randombytes_buf(wrap, sizeof wrap);
    randombytes_buf(meta_key, sizeof meta_key);
    randombytes_buf(salt, sizeof salt);
    memset(&m, 0, sizeof m);
    m.type = KEYSLOT_PASSPHRASE;
    m.created = 1234;
    snprintf(m.label, sizeof m.label, "laptop");
    assert_int_equal(keyslot_seal(slot, 3, wrap, salt, &p, &s, &m, meta_key),
                     0);
    keyslot_kdf(slot, salt2, &pg);
    assert_memory_equal(salt, salt2, 16);
    assert_int_equal(pg.ops, 2);
    assert_int_equal(pg.mem_kib, 65536);
    assert_int_equal(keyslot_open(&got, slot, wrap), 0);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.page_size, 4096);
    assert_memory_equal(got.vault_id, s.vault_id, 16);
    assert_memory_equal(got.master_key, s.master_key, 32);
    assert_int_equal(got.created, s.created);
    assert_int_equal(keyslot_meta_read(&mg, slot, 3, meta_key), 0);
    assert_int_equal(mg.type, KEYSLOT_PASSPHRASE);
    assert_string_equal(mg.label, "laptop");
    assert_int_equal(mg.created, 1234);
    /* meta is bound to its index and to the slot's key box */
    assert_int_equal(keyslot_meta_read(&mg, slot, 2, meta_key), -1);
    assert_int_equal(mg.type, KEYSLOT_EMPTY);
    wrap[0] ^= 1;
    assert_int_equal(keyslot_open(&got, slot, wrap), -1);
    wrap[0] ^= 1;
    /* every byte that carries meaning is authenticated */
    for (int i = 0; i < 296; i++) {
        int ok_key, ok_meta;
        slot[i] ^= 0x20;
        ok_key = keyslot_open(&got, slot, wrap) == 0;
        ok_meta = keyslot_meta_read(&mg, slot, 3, meta_key) == 0;
        slot[i] ^= 0x20;
        assert_false(ok_key && ok_meta);
        if (i < 128)
            assert_false(ok_meta); /* meta AD covers bytes 0..127 */
    }
    assert_int_equal(keyslot_open(&got, slot, wrap), 0);
}

static void test_keyslot_recovery_and_empty(void **state)
{
    uint8_t slot[KEYSLOT_SIZE], slot2[KEYSLOT_SIZE], wrap[32], mk[32],
        salt[16], s16[16];
    keyslot_secret s, got;
    keyslot_meta m, mg;
    kdf_params pg;
    (void)state;

    fill_secret(&s);
    randombytes_buf(wrap, 32);
    randombytes_buf(mk, 32);
    randombytes_buf(salt, 16);
    memset(&m, 0, sizeof m);
    m.type = KEYSLOT_RECOVERY;
    assert_int_equal(keyslot_seal(slot, 0, wrap, salt, NULL, &s, &m, mk), 0);
    assert_int_equal(keyslot_seal(slot2, 0, wrap, salt, NULL, &s, &m, mk), 0);
    /* the KDF field of a recovery slot is random, like an empty slot */
    keyslot_kdf(slot, s16, &pg);
    assert_memory_not_equal(slot + 16, slot2 + 16, 8);
    assert_int_equal(keyslot_open(&got, slot, wrap), 0);
    assert_memory_equal(got.master_key, s.master_key, 32);
    assert_int_equal(keyslot_meta_read(&mg, slot, 0, mk), 0);
    assert_int_equal(mg.type, KEYSLOT_RECOVERY);
    keyslot_clear(slot);
    assert_int_equal(keyslot_open(&got, slot, wrap), -1);
    assert_int_equal(keyslot_meta_read(&mg, slot, 0, mk), -1);
    /* out-of-range index is refused */
    assert_int_equal(keyslot_seal(slot, 8, wrap, salt, NULL, &s, &m, mk), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aead_vector),
        cmocka_unit_test(test_aead_roundtrip),
        cmocka_unit_test(test_kdf_profiles),
        cmocka_unit_test(test_kdf_passphrase),
        cmocka_unit_test(test_kdf_recovery_and_subkeys),
        cmocka_unit_test(test_recovery_codec),
        cmocka_unit_test(test_keyslot_roundtrip),
        cmocka_unit_test(test_keyslot_recovery_and_empty),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
