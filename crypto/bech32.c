/*
 * bech32: BIP173 Bech32 (constant 1, not Bech32m's 0x2bc830a3) and the age
 * key strings. The encoder converts 8-bit groups to 5-bit ones and feeds the
 * checksum as it writes; the decoder validates the whole string (characters,
 * case, separator, checksum, padding) before it writes any output byte.
 *
 * Identities carry secret keys through here. That is not constant time (the
 * alphabet is indexed by data values, as in every Bech32 coder), but the
 * checksum step masks instead of branching and the bit accumulator is wiped.
 * Case folding is ASCII-only, never the locale's.
 */
#include "bech32.h"

#include <sodium.h>
#include <string.h>

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, uint32_t v)
{
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                    0x3d4233dd, 0x2a1462b3};
    uint32_t top = chk >> 25;

    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (int i = 0; i < 5; i++)
        chk ^= gen[i] & (0u - ((top >> i) & 1));
    return chk;
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Checksum state after the expanded hrp (high bits, 0, low bits). */
static uint32_t hrp_polymod(const char *hrp, size_t n)
{
    uint32_t chk = 1;

    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, ascii_lower((unsigned char)hrp[i]) >> 5);
    chk = polymod_step(chk, 0);
    for (size_t i = 0; i < n; i++)
        chk = polymod_step(chk, ascii_lower((unsigned char)hrp[i]) & 31);
    return chk;
}

static int charset_value(unsigned char c)
{
    const char *p = memchr(charset, ascii_lower(c), 32);
    return p ? (int)(p - charset) : -1;
}

int bech32_encode(char *out, size_t outsize, const char *hrp,
                  const uint8_t *data, size_t datalen)
{
    size_t hrplen, pos;
    uint32_t chk, acc = 0;
    unsigned bits = 0;

    if (outsize > 0)
        out[0] = '\0';
    hrplen = strnlen(hrp, BECH32_HRP_MAX + 1);
    if (hrplen < 1 || hrplen > BECH32_HRP_MAX ||
        datalen > (SIZE_MAX - BECH32_HRP_MAX - 16) / 8 ||
        outsize <= BECH32_ENCODED_LEN(hrplen, datalen))
        return -1;
    for (size_t i = 0; i < hrplen; i++) {
        unsigned char c = (unsigned char)hrp[i];
        if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z'))
            return -1;
    }
    chk = hrp_polymod(hrp, hrplen);
    memcpy(out, hrp, hrplen);
    pos = hrplen;
    out[pos++] = '1';
    for (size_t i = 0; i < datalen; i++) {
        acc = ((acc << 8) | data[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            uint32_t v = (acc >> (bits -= 5)) & 31;
            chk = polymod_step(chk, v);
            out[pos++] = charset[v];
        }
    }
    if (bits > 0) {
        uint32_t v = (acc << (5 - bits)) & 31;
        chk = polymod_step(chk, v);
        out[pos++] = charset[v];
    }
    for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
        chk = polymod_step(chk, 0);
    chk ^= 1;
    for (int i = 0; i < BECH32_CHECKSUM_LEN; i++)
        out[pos++] = charset[(chk >> (5 * (5 - i))) & 31];
    out[pos] = '\0';
    sodium_memzero(&acc, sizeof acc);
    return 0;
}

int bech32_decode(char *hrp, size_t hrpsize, uint8_t *data, size_t datamax,
                  size_t *datalen, const char *str, size_t len)
{
    int rc = -1, lower = 0, upper = 0;
    size_t sep = 0, ndata, nbytes, pos = 0;
    uint32_t chk, acc = 0;
    unsigned bits = 0;

    if (hrpsize > 0)
        memset(hrp, 0, hrpsize);
    if (datamax > 0)
        memset(data, 0, datamax);
    *datalen = 0;
    if (len > SIZE_MAX / 5)
        goto out;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)str[i];
        if (c < 33 || c > 126)
            goto out;
        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
        if (c == '1')
            sep = i;
    }
    if ((lower && upper) || sep < 1 || sep > BECH32_HRP_MAX ||
        sep >= hrpsize || len - sep - 1 < BECH32_CHECKSUM_LEN)
        goto out;
    ndata = len - sep - 1 - BECH32_CHECKSUM_LEN;
    nbytes = ndata * 5 / 8;
    if (ndata * 5 % 8 >= 5 || nbytes > datamax)
        goto out;

    chk = hrp_polymod(str, sep);
    for (size_t i = sep + 1; i < len; i++) {
        int v = charset_value((unsigned char)str[i]);
        if (v < 0)
            goto out;
        chk = polymod_step(chk, (uint32_t)v);
    }
    if (chk != 1)
        goto out;

    for (size_t i = sep + 1; i < sep + 1 + ndata; i++) {
        acc = ((acc << 5) | (uint32_t)charset_value((unsigned char)str[i])) &
              0xfff;
        bits += 5;
        if (bits >= 8)
            data[pos++] = (uint8_t)(acc >> (bits -= 8));
    }
    if (acc & ((1u << bits) - 1))
        goto out;
    for (size_t i = 0; i < sep; i++)
        hrp[i] = (char)ascii_lower((unsigned char)str[i]);
    *datalen = nbytes;
    rc = 0;
out:
    if (rc != 0 && datamax > 0)
        sodium_memzero(data, datamax);
    sodium_memzero(&acc, sizeof acc);
    return rc;
}

void bech32_age_recipient(char out[BECH32_AGE_RECIPIENT_LEN + 1],
                          const uint8_t pk[BECH32_AGE_KEYBYTES])
{
    (void)bech32_encode(out, BECH32_AGE_RECIPIENT_LEN + 1, "age", pk,
                        BECH32_AGE_KEYBYTES);
}

void bech32_age_identity(char out[BECH32_AGE_IDENTITY_LEN + 1],
                         const uint8_t sk[BECH32_AGE_KEYBYTES])
{
    (void)bech32_encode(out, BECH32_AGE_IDENTITY_LEN + 1, "age-secret-key-",
                        sk, BECH32_AGE_KEYBYTES);
    for (char *p = out; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - ('a' - 'A') : *p);
}

/*
 * Decode s as a 32-byte key under want_hrp, refusing any letter of the case
 * age does not write (lo..hi) so that both spellings cannot circulate.
 */
static int parse_key(uint8_t key[BECH32_AGE_KEYBYTES], const char *s,
                     size_t len, const char *want_hrp, char lo, char hi)
{
    char hrp[BECH32_HRP_MAX + 1];
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (s[i] >= lo && s[i] <= hi)
            goto fail;
    if (bech32_decode(hrp, sizeof hrp, key, BECH32_AGE_KEYBYTES, &n, s,
                      len) != 0)
        goto fail;
    if (n != BECH32_AGE_KEYBYTES || strcmp(hrp, want_hrp) != 0)
        goto fail;
    return 0;
fail:
    sodium_memzero(key, BECH32_AGE_KEYBYTES);
    return -1;
}

int bech32_age_parse_recipient(uint8_t pk[BECH32_AGE_KEYBYTES], const char *s,
                               size_t len)
{
    return parse_key(pk, s, len, "age", 'A', 'Z');
}

int bech32_age_parse_identity(uint8_t sk[BECH32_AGE_KEYBYTES], const char *s,
                              size_t len)
{
    return parse_key(sk, s, len, "age-secret-key-", 'a', 'z');
}
