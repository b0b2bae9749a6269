/*
 * recovery: generate, print and parse recovery codes (base32, grouped).
 * libsodium and nettle offer hex and base64 but not base32, so the few lines
 * of base32 live here.
 */
#include "recovery.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void recovery_generate(uint8_t *code)
{
    randombytes_buf(code, RECOVERY_BYTES);
}

void recovery_format(char *text, const uint8_t *code)
{
    size_t o = 0, nchars = 0;
    unsigned int acc = 0, bits = 0;

    for (size_t i = 0; i < RECOVERY_BYTES; i++) {
        acc = (acc << 8) | code[i];
        bits += 8;
        while (bits >= 5) {
            if (nchars > 0 && nchars % 4 == 0)
                text[o++] = '-';
            text[o++] = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
            nchars++;
        }
    }
    text[o] = '\0';
    acc = 0;
}

static int b32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == '0')
        c = 'O';
    else if (c == '1')
        c = 'I';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int recovery_parse(uint8_t *code, const char *text, size_t len)
{
    size_t n = 0;
    unsigned int acc = 0, bits = 0;
    int rc = -1;

    memset(code, 0, RECOVERY_BYTES);
    for (size_t i = 0; i < len; i++) {
        int v;
        if (text[i] == '-' || text[i] == ' ')
            continue;
        v = b32_value(text[i]);
        if (v < 0)
            goto out;
        acc = (acc << 5) | (unsigned int)v;
        bits += 5;
        if (bits >= 8) {
            if (n == RECOVERY_BYTES)
                goto out;
            code[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* 32 characters carry exactly 160 bits: nothing may be left over. */
    if (n == RECOVERY_BYTES && bits == 0)
        rc = 0;
out:
    if (rc != 0)
        sodium_memzero(code, RECOVERY_BYTES);
    acc = 0;
    return rc;
}
