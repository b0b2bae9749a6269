/*
 * fuzz_age: libFuzzer target for the age v1 reader in crypto/age.c (header
 * scan and parse, stanza checks, unwrapping, MAC, STREAM). Each input is
 * taken as a whole age file and decrypted twice: with a fixed X25519
 * identity, read in one go, and with a fixed passphrase, read a few bytes
 * at a time (so that every buffer boundary gets crossed). The identity and
 * passphrase are those of the C2SP CCTV vectors ("AGE-SECRET-KEY-1EGTZVF..."
 * and "password"), so the age part of any CCTV vector is a useful seed; the
 * seeds in tests/fuzz/corpus/age are made for them. The work factor limit
 * is 4, so that scrypt never stalls a run: files at 2^10 (the CCTV scrypt
 * vectors', and one seed's) exercise the limit check instead.
 *
 * Besides what ASan and UBSan catch, it traps when the reader breaks its
 * contract: plaintext other than whole 64 KiB chunks before the last, more
 * plaintext than input, output on failure, a code outside the AGE_ERR_* set.
 *
 * Build and run (see the report that came with it, or `make fuzz`):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *     -D_POSIX_C_SOURCE=200809L tests/fuzz/fuzz_age.c crypto/age.c \
 *     -o build/fuzz/fuzz_age $(pkg-config --cflags --libs libsodium)
 *   build/fuzz/fuzz_age -max_total_time=60 NEWDIR tests/fuzz/corpus/age
 */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/age.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0 */
static const uint8_t fuzz_sk[AGE_KEYBYTES] = {
    0xca, 0x16, 0x26, 0x25, 0x2c, 0x53, 0xcf, 0x1a, 0x4d, 0xc4, 0x66,
    0x95, 0xe7, 0xfc, 0xc4, 0x65, 0x94, 0xcb, 0x4c, 0xca, 0xde, 0xdb,
    0x67, 0x12, 0xdf, 0xda, 0x07, 0x53, 0xf3, 0xae, 0x35, 0x5e};
static const char fuzz_pass[] = "password";
#define FUZZ_MAX_LOGN 4

static volatile uint8_t sink;

typedef struct memreader {
    const uint8_t *p;
    size_t len, pos, step;
} memreader;

static int rd(void *arg, uint8_t *buf, size_t len, size_t *got)
{
    memreader *r = arg;
    size_t n = r->len - r->pos;

    if (n > len)
        n = len;
    if (r->step && n > r->step)
        n = r->step;
    memcpy(buf, r->p + r->pos, n);
    r->pos += n;
    *got = n;
    return 0;
}

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void run(const uint8_t *data, size_t size, int scrypt, size_t step)
{
    memreader r = {data, size, 0, step};
    const uint8_t *buf;
    age_dec *d = NULL;
    size_t n, total = 0;
    int rc;

    rc = scrypt ? age_dec_new_scrypt(&d, fuzz_pass, sizeof fuzz_pass - 1,
                                     FUZZ_MAX_LOGN, rd, &r)
                : age_dec_new_x25519(&d, fuzz_sk, rd, &r);
    check(rc == 0 && d != NULL);
    for (;;) {
        rc = age_dec_read(d, &buf, &n);
        if (rc != 0) {
            check(rc >= AGE_ERR_PAYLOAD && rc <= AGE_ERR_INTERNAL);
            check(buf == NULL && n == 0);
            check(age_dec_error(d)[0] != '\0');
            break;
        }
        if (n == 0)
            break;
        check(total % AGE_CHUNKBYTES == 0 && n <= AGE_CHUNKBYTES);
        /* read every byte handed out, for ASan */
        for (size_t i = 0; i < n; i++)
            sink ^= buf[i];
        total += n;
        check(total <= size);
    }
    age_dec_free(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, 0, 0);
    run(data, size, 1, 1 + size % 97);
    return 0;
}
