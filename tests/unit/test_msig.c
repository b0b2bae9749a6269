/*
 * test_msig: unit tests for crypto/bech32 and crypto/msig. Known answers (the
 * BIP173 vectors, a key pair age-keygen made), then interop with the real
 * tools: age-keygen and minisign are spawned with posix_spawnp on files in a
 * mkdtemp directory, in both directions (they check ours, we check theirs),
 * then hostile key and signature files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/tmpdir.h"
#include "../../crypto/bech32.h"
#include "../../crypto/msig.h"

extern char **environ;

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

static char g_dir[1024];

/* ---- helpers: temp files and child processes ---------------------------- */

static void tpath(char *out, size_t size, const char *name)
{
    assert_int_equal(test_path(out, size, g_dir, name), 0);
}

static void put_file(const char *name, const void *data, size_t len,
                     mode_t mode)
{
    assert_int_equal(test_put_file(g_dir, name, data, len, mode), 0);
}

/* Read a whole (small) file into buf, NUL-terminated. Returns its length. */
static size_t get_file(const char *name, char *buf, size_t size)
{
    char p[1200];
    size_t len = 0;
    ssize_t n;
    int fd;

    tpath(p, sizeof p, name);
    fd = open(p, O_RDONLY | O_NOFOLLOW);
    assert_true(fd >= 0);
    while ((n = read(fd, buf + len, size - 1 - len)) > 0)
        len += (size_t)n;
    assert_int_equal(n, 0);
    assert_true(len < size - 1);
    buf[len] = '\0';
    close(fd);
    return len;
}

/*
 * Run argv (argv[0] looked up in PATH) with stdin from /dev/null and stdout
 * captured into out, NUL-terminated (stderr goes to the test log). Returns
 * the exit status, or -1 when it could not run or died of a signal.
 */
static int run(char *const argv[], char *out, size_t outsize)
{
    posix_spawn_file_actions_t fa;
    char sink[4096];
    size_t used = 0;
    int p[2], status = 0, rc;
    ssize_t n;
    pid_t pid;

    if (pipe(p) != 0)
        return -1;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return -1;
    }
    for (;;) {
        int keep = used + 1 < outsize;
        n = read(p[0], keep ? out + used : sink,
                 keep ? outsize - 1 - used : sizeof sink);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (keep)
            used += (size_t)n;
    }
    close(p[0]);
    if (outsize > 0)
        out[used] = '\0';
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int have_tool(const char *tool, const char *version_flag)
{
    char out[256];

    if (run(ARGV((char *)tool, (char *)version_flag), out, sizeof out) == 0)
        return 1;
    fprintf(stderr, "test_msig: '%s' not found: install it (apt-get install "
                    "minisign age)\n", tool);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return test_tmpdir_make(g_dir, sizeof g_dir, "test_msig");
}

static int group_teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(g_dir);
}

/* ---- bech32 -------------------------------------------------------------- */

/* BIP173's reference checksum, to build strings the encoder cannot make. */
static void ref_bech32(char *out, const char *hrp, const uint8_t *v, size_t n)
{
    static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
                                    0x3d4233dd, 0x2a1462b3};
    uint32_t chk = 1, vals[256];
    size_t hl = strlen(hrp), nv = 0, pos = 0;

    for (size_t i = 0; i < hl; i++)
        vals[nv++] = (uint8_t)hrp[i] >> 5;
    vals[nv++] = 0;
    for (size_t i = 0; i < hl; i++)
        vals[nv++] = (uint8_t)hrp[i] & 31;
    for (size_t i = 0; i < n; i++)
        vals[nv++] = v[i];
    for (int i = 0; i < 6; i++)
        vals[nv++] = 0;
    for (size_t i = 0; i < nv; i++) {
        uint32_t top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ vals[i];
        for (int j = 0; j < 5; j++)
            if ((top >> j) & 1)
                chk ^= gen[j];
    }
    chk ^= 1;
    memcpy(out, hrp, hl);
    pos = hl;
    out[pos++] = '1';
    for (size_t i = 0; i < n; i++)
        out[pos++] = cs[v[i]];
    for (int i = 0; i < 6; i++)
        out[pos++] = cs[(chk >> (5 * (5 - i))) & 31];
    out[pos] = '\0';
}

static int decode(const char *s, size_t len, char *hrp, uint8_t *data,
                  size_t *dlen)
{
    return bech32_decode(hrp, BECH32_HRP_MAX + 1, data, 256, dlen, s, len);
}

static void test_bech32_valid(void **state)
{
    char q82[91];
    const char *valid[] = {
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcl"
        "udedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        q82,
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    };
    (void)state;

    memcpy(q82, "11", 2);
    memset(q82 + 2, 'q', 82);
    memcpy(q82 + 84, "c8247j", 7);
    for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
        char hrp[BECH32_HRP_MAX + 1], again[128], lower[128];
        uint8_t data[256];
        size_t dlen = 0, len = strlen(valid[i]);

        assert_int_equal(decode(valid[i], len, hrp, data, &dlen), 0);
        assert_int_equal(bech32_encode(again, sizeof again, hrp, data, dlen),
                         0);
        for (size_t j = 0; j <= len; j++)
            lower[j] = (char)(valid[i][j] >= 'A' && valid[i][j] <= 'Z'
                                  ? valid[i][j] + 32
                                  : valid[i][j]);
        assert_string_equal(again, lower);
    }
    {
        /* the hrp comes back lowercased; the known data decodes */
        char hrp[BECH32_HRP_MAX + 1];
        uint8_t data[256];
        size_t dlen = 9;
        assert_int_equal(decode("A12UEL5L", 8, hrp, data, &dlen), 0);
        assert_string_equal(hrp, "a");
        assert_int_equal(dlen, 0);
        assert_int_equal(decode(q82, 90, hrp, data, &dlen), 0);
        assert_string_equal(hrp, "1");
        assert_int_equal(dlen, 51); /* 410 bits: 51 bytes and 2 zero bits */
    }
}

static void test_bech32_invalid(void **state)
{
    static const struct {
        const char *s;
        size_t len;
        const char *why;
    } bad[] = {
        {"\x20" "1nwldj5", 8, "hrp character out of range"},
        {"\x7f" "1axkwrx", 8, "hrp character out of range"},
        {"\x80" "1eym55h", 8, "hrp character out of range"},
        {"an84characterslonghumanreadablepartthatcontainsthenumber1andthe"
         "excludedcharactersbio1569pvx", 91,
         "hrp longer than 83 (BIP173's own reason: overall length)"},
        {"pzry9x0s0muk", 12, "no separator"},
        {"1pzry9x0s0muk", 13, "empty hrp"},
        {"x1b4n0q5v", 9, "invalid data character"},
        {"li1dgmt3", 8, "checksum too short"},
        {"de1lg7wt\xff", 9, "invalid character in checksum"},
        {"A1G7SGD8", 8, "checksum made with the uppercase hrp"},
        {"10a06t8", 7, "empty hrp"},
        {"1qzzfhee", 8, "empty hrp"},
        {"a12UEL5L", 8, "mixed case"},
        {"A12uel5l", 8, "mixed case"},
        {"a12uel5m", 8, "bad checksum"},
        {"a12ue l5l", 9, "space"},
        {"a1\0" "2uel5l", 9, "NUL"},
        {"", 0, "empty"},
    };
    char hrp[BECH32_HRP_MAX + 1], s[64];
    uint8_t data[256], v[4] = {0, 1, 0, 0};
    size_t dlen = 7;
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (decode(bad[i].s, bad[i].len, hrp, data, &dlen) != -1)
            fail_msg("accepted '%s' (%s)", bad[i].s, bad[i].why);
        assert_int_equal(dlen, 0);
        assert_string_equal(hrp, "");
    }
    /* padding: fewer than 5 bits, all zero */
    ref_bech32(s, "a", v, 2); /* 10 bits: 0x00 and 2 zero bits */
    assert_int_equal(decode(s, strlen(s), hrp, data, &dlen), -1);
    v[1] = 0;
    ref_bech32(s, "a", v, 2);
    assert_int_equal(decode(s, strlen(s), hrp, data, &dlen), 0);
    assert_int_equal(dlen, 1);
    ref_bech32(s, "a", v, 1); /* 5 bits: a whole group of padding */
    assert_int_equal(decode(s, strlen(s), hrp, data, &dlen), -1);
    ref_bech32(s, "a", v, 4); /* 20 bits: 2 bytes and 4 zero bits */
    assert_int_equal(decode(s, strlen(s), hrp, data, &dlen), 0);
    assert_int_equal(dlen, 2);
    ref_bech32(s, "a", v, 3); /* 15 bits: 1 byte and 7 bits of padding */
    assert_int_equal(decode(s, strlen(s), hrp, data, &dlen), -1);
}

static void test_bech32_bounds(void **state)
{
    char out[2200], hrp[BECH32_HRP_MAX + 1], h84[85];
    uint8_t data[1000], back[1000];
    size_t dlen = 0, need = BECH32_ENCODED_LEN(1, sizeof data);
    (void)state;

    /* no 90-character limit */
    randombytes_buf(data, sizeof data);
    assert_int_equal(bech32_encode(out, sizeof out, "x", data, sizeof data),
                     0);
    assert_int_equal(strlen(out), need);
    assert_int_equal(bech32_decode(hrp, sizeof hrp, back, sizeof back, &dlen,
                                   out, need),
                     0);
    assert_int_equal(dlen, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    /* outputs that do not fit */
    assert_int_equal(bech32_encode(out, need, "x", data, sizeof data), -1);
    assert_string_equal(out, "");
    assert_int_equal(bech32_encode(out, need + 1, "x", data, sizeof data), 0);
    assert_int_equal(bech32_decode(hrp, sizeof hrp, back, sizeof back - 1,
                                   &dlen, out, need),
                     -1);
    assert_int_equal(bech32_decode(hrp, 1, back, sizeof back, &dlen, out,
                                   need),
                     -1);
    /* hrp rules for the encoder */
    memset(h84, 'h', 84);
    h84[84] = '\0';
    assert_int_equal(bech32_encode(out, sizeof out, "", data, 1), -1);
    assert_int_equal(bech32_encode(out, sizeof out, h84, data, 1), -1);
    assert_int_equal(bech32_encode(out, sizeof out, h84 + 1, data, 1), 0);
    assert_int_equal(bech32_encode(out, sizeof out, "Age", data, 1), -1);
    assert_int_equal(bech32_encode(out, sizeof out, "a b", data, 1), -1);
    assert_int_equal(bech32_encode(out, sizeof out, "a\x7f", data, 1), -1);
}

/* ---- age keys ------------------------------------------------------------ */

/* A key pair made by age-keygen 1.1.1 for this test. */
static const char kat_identity[] =
    "AGE-SECRET-KEY-16V8ZYV3KAGDFJ2TX2HDVG8UWU8ZR32DRU3GVNV4K4FNG3HDE4H5SEMGQT3";
static const char kat_recipient[] =
    "age109vgayjen5qxjkkw3p40pdtewraxslv3xkcjhftykwuq2lw3lywsfnxdhw";

static void test_age_keys(void **state)
{
    uint8_t sk[32], pk[32], got[32], k33[33];
    char id[BECH32_AGE_IDENTITY_LEN + 1], rcp[BECH32_AGE_RECIPIENT_LEN + 1];
    char s[128];
    (void)state;

    assert_int_equal(bech32_age_parse_identity(sk, kat_identity,
                                               strlen(kat_identity)),
                     0);
    assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
    bech32_age_recipient(rcp, pk);
    assert_string_equal(rcp, kat_recipient);
    bech32_age_identity(id, sk);
    assert_string_equal(id, kat_identity);
    assert_int_equal(strlen(id), BECH32_AGE_IDENTITY_LEN);
    assert_int_equal(strlen(rcp), BECH32_AGE_RECIPIENT_LEN);
    assert_int_equal(bech32_age_parse_recipient(got, rcp, strlen(rcp)), 0);
    assert_memory_equal(got, pk, 32);

    /* case: age writes and reads only AGE-SECRET-KEY-1... and age1... */
    for (size_t i = 0; i <= strlen(id); i++)
        s[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
    assert_int_equal(bech32_age_parse_identity(got, s, strlen(s)), -1);
    for (int i = 0; i < 32; i++)
        assert_int_equal(got[i], 0);
    for (size_t i = 0; i <= strlen(rcp); i++)
        s[i] = (char)(rcp[i] >= 'a' && rcp[i] <= 'z' ? rcp[i] - 32 : rcp[i]);
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(s)), -1);
    memcpy(s, rcp, sizeof rcp);
    s[10] = (char)(s[10] - 32);
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(s)), -1);

    /* wrong hrp, either way round */
    assert_int_equal(bech32_age_parse_identity(got, rcp, strlen(rcp)), -1);
    assert_int_equal(bech32_age_parse_recipient(got, id, strlen(id)), -1);
    assert_int_equal(bech32_encode(s, sizeof s, "agf", pk, 32), 0);
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(s)), -1);
    /* wrong length */
    assert_int_equal(bech32_encode(s, sizeof s, "age", pk, 31), 0);
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(s)), -1);
    memcpy(k33, pk, 32);
    k33[32] = 0;
    assert_int_equal(bech32_encode(s, sizeof s, "age", k33, 33), 0);
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(s)), -1);
    /* bad checksum, truncation, trailing byte */
    memcpy(s, rcp, sizeof rcp);
    s[20] = s[20] == 'q' ? 'p' : 'q';
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(s)), -1);
    assert_int_equal(bech32_age_parse_recipient(got, rcp, strlen(rcp) - 1),
                     -1);
    memcpy(s, rcp, sizeof rcp);
    s[strlen(rcp)] = '\n';
    assert_int_equal(bech32_age_parse_recipient(got, s, strlen(rcp) + 1), -1);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(id, sizeof id);
}

static void test_age_keygen_reads_ours(void **state)
{
    char p[1200], out[256], want[BECH32_AGE_RECIPIENT_LEN + 2];
    char id[BECH32_AGE_IDENTITY_LEN + 2], file[512];
    uint8_t sk[32], pk[32];
    int n;
    (void)state;

    if (!have_tool("age-keygen", "--version"))
        skip();
    tpath(p, sizeof p, "ours.agekey");
    for (int round = 0; round < 4; round++) {
        randombytes_buf(sk, sizeof sk);
        assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
        bech32_age_identity(id, sk);
        bech32_age_recipient(want, pk);
        /* the first file as age-keygen writes it, the others a bare line */
        if (round == 0)
            n = snprintf(file, sizeof file,
                         "# created: 2024-01-01T00:00:00Z\n"
                         "# public key: %s\n%s\n", want, id);
        else
            n = snprintf(file, sizeof file, "%s\n", id);
        assert_true(n > 0 && (size_t)n < sizeof file);
        put_file("ours.agekey", file, (size_t)n, 0600);
        assert_int_equal(run(ARGV("age-keygen", "-y", p), out, sizeof out), 0);
        n = (int)strlen(want);
        want[n] = '\n';
        want[n + 1] = '\0';
        assert_string_equal(out, want);
    }
    /* age refuses the lowercase spelling of an identity, as we do */
    for (char *c = id; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    n = snprintf(file, sizeof file, "%s\n", id);
    put_file("ours.agekey", file, (size_t)n, 0600);
    assert_int_not_equal(run(ARGV("age-keygen", "-y", p), out, sizeof out), 0);
    assert_int_equal(bech32_age_parse_identity(sk, id, strlen(id)), -1);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(id, sizeof id);
    sodium_memzero(file, sizeof file);
}

static void test_we_read_age_keygen(void **state)
{
    char p[1200], out[256], text[1024], rcp[BECH32_AGE_RECIPIENT_LEN + 1];
    const char *publine = NULL, *idline = NULL;
    size_t publen = 0, idlen = 0;
    uint8_t sk[32], pk[32], pk2[32];
    (void)state;

    if (!have_tool("age-keygen", "--version"))
        skip();
    tpath(p, sizeof p, "theirs.agekey");
    assert_int_equal(run(ARGV("age-keygen", "-o", p), out, sizeof out), 0);
    get_file("theirs.agekey", text, sizeof text);
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        if (strncmp(line, "# public key: ", 14) == 0) {
            publine = line + 14;
            publen = (size_t)(nl - publine);
        } else if (strncmp(line, "AGE-SECRET-KEY-1", 16) == 0) {
            idline = line;
            idlen = (size_t)(nl - line);
        }
    }
    assert_non_null(publine);
    assert_non_null(idline);
    assert_int_equal(bech32_age_parse_identity(sk, idline, idlen), 0);
    assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
    bech32_age_recipient(rcp, pk);
    assert_int_equal(publen, strlen(rcp));
    assert_memory_equal(publine, rcp, publen);
    assert_int_equal(bech32_age_parse_recipient(pk2, publine, publen), 0);
    assert_memory_equal(pk2, pk, 32);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(text, sizeof text);
}

/* ---- minisign ------------------------------------------------------------ */

static uint8_t g_msg[100000];

/*
 * XOR byte i of the base64 on line number line (from 0) of text with x,
 * writing it back canonically at the same length.
 */
static void patch_b64(char *text, int line, size_t i, uint8_t x)
{
    char *p = text, *nl, again[300];
    uint8_t bin[200];
    size_t binlen = 0;

    for (int k = 0; k < line; k++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    nl = strchr(p, '\n');
    assert_non_null(nl);
    assert_int_equal(sodium_base642bin(bin, sizeof bin, p, (size_t)(nl - p),
                                       NULL, &binlen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_true(i < binlen);
    bin[i] ^= x;
    sodium_bin2base64(again, sizeof again, bin, binlen,
                      sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(strlen(again), (size_t)(nl - p));
    memcpy(p, again, strlen(again));
}

/* The trusted comment's first byte in a signature file's text. */
static char *trusted_at(char *text)
{
    char *p = strstr(text, "\ntrusted comment: ");
    assert_non_null(p);
    return p + 18;
}

/* Parse from a heap copy of exactly n bytes, so ASan sees any overread. */
static int sig_parse_copy(msig_sig *sig, const char *text, size_t n)
{
    char *c = malloc(n ? n : 1);
    int rc;

    assert_non_null(c);
    memcpy(c, text, n);
    rc = msig_sig_parse(sig, c, n);
    free(c);
    return rc;
}

static int pub_parse_copy(msig_pubkey *pub, const char *text, size_t n)
{
    char *c = malloc(n ? n : 1);
    int rc;

    assert_non_null(c);
    memcpy(c, text, n);
    rc = msig_pubkey_parse_file(pub, c, n);
    free(c);
    return rc;
}

/* Streaming verify of m in uneven pieces. */
static int verify_stream(char *tc, size_t tcsize, const msig_pubkey *pub,
                         const msig_sig *sig, const uint8_t *m, size_t mlen)
{
    msig_verify_ctx vc;

    if (msig_verify_init(&vc, pub, sig) != 0)
        return -1;
    for (size_t off = 0; off < mlen; off += 7919)
        msig_verify_update(&vc, m + off, mlen - off < 7919 ? mlen - off : 7919);
    return msig_verify_final(&vc, tc, tcsize);
}

static void test_msig_roundtrip(void **state)
{
    static char text[MSIG_SIGFILE_MAX], text2[MSIG_SIGFILE_MAX];
    static char big_u[MSIG_UNTRUSTED_MAX + 2], big_t[MSIG_TRUSTED_MAX + 2];
    static msig_sig sig;
    char tc[MSIG_TRUSTED_MAX + 1], b64[MSIG_PUBKEY_B64LEN + 1];
    char pubfile[MSIG_PUBFILE_MAX], want[64], want2[128];
    msig_keypair *kp = msig_keypair_new(), *kp2 = msig_keypair_new(), *kp3;
    msig_sign_ctx sc;
    msig_verify_ctx vc;
    msig_pubkey pub;
    uint8_t sk[MSIG_SECRETKEYBYTES];
    uint64_t id = 0;
    (void)state;

    assert_non_null(kp);
    assert_non_null(kp2);
    randombytes_buf(g_msg, sizeof g_msg);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, sizeof g_msg,
                               "evault", "t c\twith tab"),
                     0);
    /* streaming gives the same bytes (Ed25519 is deterministic) */
    msig_sign_init(&sc);
    for (size_t off = 0; off < sizeof g_msg; off += 4096)
        msig_sign_update(&sc, g_msg + off,
                         sizeof g_msg - off < 4096 ? sizeof g_msg - off : 4096);
    assert_int_equal(msig_sign_final(&sc, text2, sizeof text2, kp, "evault",
                                     "t c\twith tab"),
                     0);
    assert_string_equal(text, text2);
    assert_int_equal(strncmp(text, "untrusted comment: evault\nRU", 28), 0);

    /* public key line and file */
    msig_pubkey_base64(b64, &kp->pub);
    assert_int_equal(strlen(b64), MSIG_PUBKEY_B64LEN);
    assert_int_equal(strncmp(b64, "RW", 2), 0); /* "Ed" */
    assert_int_equal(msig_pubkey_parse(&pub, b64, strlen(b64)), 0);
    assert_memory_equal(&pub, &kp->pub, sizeof pub);
    msig_pubkey_file(pubfile, &kp->pub);
    /* minisign prints the little-endian key id in hex without zero padding */
    for (int i = 7; i >= 0; i--)
        id = id << 8 | kp->pub.keyid[i];
    snprintf(want, sizeof want, "untrusted comment: minisign public key %" PRIX64,
             id);
    snprintf(want2, sizeof want2, "%s\n%s\n", want, b64);
    assert_string_equal(pubfile, want2);
    memset(&pub, 0, sizeof pub);
    assert_int_equal(msig_pubkey_parse_file(&pub, pubfile, strlen(pubfile)),
                     0);
    assert_memory_equal(&pub, &kp->pub, sizeof pub);

    /* verify, one-shot and streaming */
    assert_int_equal(msig_sig_parse(&sig, text, strlen(text)), 0);
    assert_int_equal(sig.prehashed, 1);
    assert_int_equal(msig_verify(tc, sizeof tc, &kp->pub, &sig, g_msg,
                                 sizeof g_msg),
                     0);
    assert_string_equal(tc, "t c\twith tab");
    memset(tc, 'x', sizeof tc);
    assert_int_equal(verify_stream(tc, sizeof tc, &kp->pub, &sig, g_msg,
                                   sizeof g_msg),
                     0);
    assert_string_equal(tc, "t c\twith tab");
    assert_int_equal(msig_verify(NULL, 0, &kp->pub, &sig, g_msg, sizeof g_msg),
                     0);
    /* a buffer too small for the comment fails, and releases nothing */
    assert_int_equal(msig_verify(tc, 12, &kp->pub, &sig, g_msg, sizeof g_msg),
                     -1);
    assert_int_equal(tc[0], 0);

    /* another message, another key, the same key id on another key */
    g_msg[sizeof g_msg - 1] ^= 1;
    assert_int_equal(msig_verify(tc, sizeof tc, &kp->pub, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    assert_string_equal(tc, "");
    assert_int_equal(verify_stream(tc, sizeof tc, &kp->pub, &sig, g_msg,
                                   sizeof g_msg),
                     -1);
    assert_string_equal(tc, "");
    g_msg[sizeof g_msg - 1] ^= 1;
    assert_int_equal(msig_verify(tc, sizeof tc, &kp2->pub, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    memcpy(kp2->pub.keyid, kp->pub.keyid, MSIG_KEYIDBYTES);
    assert_int_equal(msig_verify(tc, sizeof tc, &kp2->pub, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    assert_int_equal(verify_stream(tc, sizeof tc, &kp2->pub, &sig, g_msg,
                                   sizeof g_msg),
                     -1);
    /* a failed init leaves a context that never verifies */
    assert_int_equal(msig_verify_init(&vc, &kp2->pub, &sig), -1);
    msig_verify_update(&vc, g_msg, sizeof g_msg);
    assert_int_equal(msig_verify_final(&vc, tc, sizeof tc), -1);

    /* empty message and empty comments */
    assert_int_equal(msig_sign(text, sizeof text, kp, NULL, 0, "", ""), 0);
    assert_int_equal(msig_sig_parse(&sig, text, strlen(text)), 0);
    assert_int_equal(msig_verify(tc, sizeof tc, &kp->pub, &sig, NULL, 0), 0);
    assert_string_equal(tc, "");
    assert_int_equal(verify_stream(tc, sizeof tc, &kp->pub, &sig, NULL, 0), 0);

    /* comments: no CR or LF, bounded; a short output buffer */
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, "a\nb", "t"),
                     -1);
    assert_string_equal(text, "");
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, "u", "t\r"),
                     -1);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, "u", "\nt"),
                     -1);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, NULL, "t"),
                     -1);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, "u", NULL),
                     -1);
    memset(big_u, 'u', MSIG_UNTRUSTED_MAX + 1);
    memset(big_t, 't', MSIG_TRUSTED_MAX + 1);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, big_u, "t"),
                     -1);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, "u", big_t),
                     -1);
    big_u[MSIG_UNTRUSTED_MAX] = '\0';
    big_t[MSIG_TRUSTED_MAX] = '\0';
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, 10, big_u, big_t),
                     0);
    assert_int_equal(strlen(text), MSIG_SIGFILE_MAX - 1);
    assert_int_equal(msig_sig_parse(&sig, text, strlen(text)), 0);
    assert_int_equal(msig_verify(tc, sizeof tc, &kp->pub, &sig, g_msg, 10), 0);
    assert_string_equal(tc, big_t);
    assert_int_equal(msig_sign(text2, strlen(text), kp, g_msg, 10, big_u,
                               big_t),
                     -1);
    assert_string_equal(text2, "");

    /* a key pair from an existing secret key must be consistent */
    memcpy(sk, kp->sk, sizeof sk);
    kp3 = msig_keypair_from_secret(sk, kp->pub.keyid);
    assert_non_null(kp3);
    assert_memory_equal(&kp3->pub, &kp->pub, sizeof kp->pub);
    msig_keypair_free(kp3);
    sk[63] ^= 1;
    assert_null(msig_keypair_from_secret(sk, kp->pub.keyid));
    sodium_memzero(sk, sizeof sk);
    msig_keypair_free(kp);
    msig_keypair_free(kp2);
    msig_keypair_free(NULL);
}

static void test_minisign_verifies_ours(void **state)
{
    static char text[MSIG_SIGFILE_MAX], out[MSIG_SIGFILE_MAX + 256];
    static char big_u[MSIG_UNTRUSTED_MAX + 1], big_t[MSIG_TRUSTED_MAX + 1];
    char pub[1200], msg[1200], sigp[1200], pubfile[MSIG_PUBFILE_MAX];
    char b64[MSIG_PUBKEY_B64LEN + 1], want[MSIG_TRUSTED_MAX + 32];
    const char *tc = "evault signed this\tfile:ours.msg";
    msig_keypair *kp = msig_keypair_new();
    size_t len;
    (void)state;

    if (!have_tool("minisign", "-v"))
        skip();
    assert_non_null(kp);
    tpath(pub, sizeof pub, "ours.pub");
    tpath(msg, sizeof msg, "ours.msg");
    tpath(sigp, sizeof sigp, "ours.sig");
    randombytes_buf(g_msg, sizeof g_msg);
    put_file("ours.msg", g_msg, sizeof g_msg, 0600);
    msig_pubkey_file(pubfile, &kp->pub);
    put_file("ours.pub", pubfile, strlen(pubfile), 0600);
    msig_pubkey_base64(b64, &kp->pub);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, sizeof g_msg,
                               "evault test", tc),
                     0);
    len = strlen(text);
    put_file("ours.msg.minisig", text, len, 0600);
    put_file("ours.sig", text, len, 0600);
    snprintf(want, sizeof want, "Trusted comment: %s\n", tc);

    assert_int_equal(run(ARGV("minisign", "-V", "-p", pub, "-m", msg), out,
                         sizeof out),
                     0);
    assert_non_null(strstr(out, want));
    assert_int_equal(run(ARGV("minisign", "-V", "-P", b64, "-m", msg, "-x",
                              sigp),
                         out, sizeof out),
                     0);
    assert_non_null(strstr(out, want));
    /* -H: minisign also takes it as prehashed */
    assert_int_equal(run(ARGV("minisign", "-V", "-H", "-p", pub, "-m", msg,
                              "-x", sigp),
                         out, sizeof out),
                     0);

    /* one byte of the file */
    g_msg[12345] ^= 0x40;
    put_file("ours.msg", g_msg, sizeof g_msg, 0600);
    assert_int_not_equal(run(ARGV("minisign", "-V", "-p", pub, "-m", msg,
                                  "-x", sigp),
                             out, sizeof out),
                         0);
    g_msg[12345] ^= 0x40;
    put_file("ours.msg", g_msg, sizeof g_msg, 0600);
    /* one byte of the trusted comment */
    trusted_at(text)[3] ^= 0x01;
    put_file("ours.sig", text, len, 0600);
    assert_int_not_equal(run(ARGV("minisign", "-V", "-p", pub, "-m", msg,
                                  "-x", sigp),
                             out, sizeof out),
                         0);
    trusted_at(text)[3] ^= 0x01;
    /* the key id, the signature, the global signature */
    for (int k = 0; k < 3; k++) {
        static const int line[3] = {1, 1, 3};
        static const size_t at[3] = {2, 40, 10};
        patch_b64(text, line[k], at[k], 0x01);
        put_file("ours.sig", text, len, 0600);
        assert_int_not_equal(run(ARGV("minisign", "-V", "-p", pub, "-m", msg,
                                      "-x", sigp),
                                 out, sizeof out),
                             0);
        patch_b64(text, line[k], at[k], 0x01);
    }
    put_file("ours.sig", text, len, 0600);
    assert_int_equal(run(ARGV("minisign", "-V", "-p", pub, "-m", msg, "-x",
                              sigp),
                         out, sizeof out),
                     0);

    /* the longest comments we write fit what minisign reads */
    memset(big_u, 'u', MSIG_UNTRUSTED_MAX);
    memset(big_t, 't', MSIG_TRUSTED_MAX);
    assert_int_equal(msig_sign(text, sizeof text, kp, g_msg, sizeof g_msg,
                               big_u, big_t),
                     0);
    put_file("ours.sig", text, strlen(text), 0600);
    assert_int_equal(run(ARGV("minisign", "-V", "-p", pub, "-m", msg, "-x",
                              sigp),
                         out, sizeof out),
                     0);
    snprintf(want, sizeof want, "Trusted comment: %s\n", big_t);
    assert_non_null(strstr(out, want));
    msig_keypair_free(kp);
}

static void test_we_verify_minisign(void **state)
{
    static char text[MSIG_SIGFILE_MAX], ours[MSIG_SIGFILE_MAX];
    static msig_sig sig;
    char pub[1200], sec[1200], msg[1200], leg[1200], out[1024];
    char pubtext[512], sectext[1024], mypub[MSIG_PUBFILE_MAX];
    char tc[MSIG_TRUSTED_MAX + 1], *line;
    uint8_t skbin[158];
    size_t len, sklen = 0;
    msig_pubkey pk, other;
    msig_keypair *kp;
    (void)state;

    if (!have_tool("minisign", "-v"))
        skip();
    tpath(pub, sizeof pub, "ms.pub");
    tpath(sec, sizeof sec, "ms.key");
    tpath(msg, sizeof msg, "ms.msg");
    tpath(leg, sizeof leg, "ms.legacy");
    assert_int_equal(run(ARGV("minisign", "-G", "-W", "-f", "-p", pub, "-s",
                              sec),
                         out, sizeof out),
                     0);
    randombytes_buf(g_msg, sizeof g_msg);
    put_file("ms.msg", g_msg, sizeof g_msg, 0600);
    assert_int_equal(run(ARGV("minisign", "-S", "-s", sec, "-m", msg, "-t",
                              "trusted text from minisign"),
                         out, sizeof out),
                     0);

    len = get_file("ms.pub", pubtext, sizeof pubtext);
    assert_int_equal(msig_pubkey_parse_file(&pk, pubtext, len), 0);
    len = get_file("ms.msg.minisig", text, sizeof text);
    assert_int_equal(msig_sig_parse(&sig, text, len), 0);
    assert_int_equal(sig.prehashed, 1);
    assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                 sizeof g_msg),
                     0);
    assert_string_equal(tc, "trusted text from minisign");
    memset(tc, 0, sizeof tc);
    assert_int_equal(verify_stream(tc, sizeof tc, &pk, &sig, g_msg,
                                   sizeof g_msg),
                     0);
    assert_string_equal(tc, "trusted text from minisign");

    /*
     * Its unencrypted secret key ("Ed", KDF "\0\0", "B2", salt, limits, then
     * key id, secret key, checksum in clear): with it we write the same .pub
     * file and the same signature file, byte for byte.
     */
    get_file("ms.key", sectext, sizeof sectext);
    line = strchr(sectext, '\n');
    assert_non_null(line);
    line++;
    assert_non_null(strchr(line, '\n'));
    assert_int_equal(sodium_base642bin(skbin, sizeof skbin, line,
                                       (size_t)(strchr(line, '\n') - line),
                                       NULL, &sklen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(sklen, sizeof skbin);
    assert_memory_equal(skbin, "Ed\0\0B2", 6);
    kp = msig_keypair_from_secret(skbin + 62, skbin + 54);
    assert_non_null(kp);
    msig_pubkey_file(mypub, &kp->pub);
    assert_string_equal(mypub, pubtext);
    assert_int_equal(msig_sign(ours, sizeof ours, kp, g_msg, sizeof g_msg,
                               "signature from minisign secret key",
                               "trusted text from minisign"),
                     0);
    assert_string_equal(ours, text);
    msig_keypair_free(kp);
    sodium_memzero(skbin, sizeof skbin);
    sodium_memzero(sectext, sizeof sectext);

    /* tampering: the message, the comment, the key id, both signatures */
    g_msg[99] ^= 1;
    assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    assert_int_equal(verify_stream(tc, sizeof tc, &pk, &sig, g_msg,
                                   sizeof g_msg),
                     -1);
    g_msg[99] ^= 1;
    trusted_at(text)[0] ^= 0x20;
    assert_int_equal(msig_sig_parse(&sig, text, len), 0);
    assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    assert_int_equal(verify_stream(tc, sizeof tc, &pk, &sig, g_msg,
                                   sizeof g_msg),
                     -1);
    trusted_at(text)[0] ^= 0x20;
    for (int k = 0; k < 3; k++) {
        static const int nline[3] = {1, 1, 3};
        static const size_t at[3] = {5, 70, 63};
        patch_b64(text, nline[k], at[k], 0x80);
        assert_int_equal(msig_sig_parse(&sig, text, len), 0);
        assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                     sizeof g_msg),
                         -1);
        assert_string_equal(tc, "");
        assert_int_equal(verify_stream(tc, sizeof tc, &pk, &sig, g_msg,
                                       sizeof g_msg),
                         -1);
        patch_b64(text, nline[k], at[k], 0x80);
    }
    assert_int_equal(msig_sig_parse(&sig, text, len), 0);
    other = pk;
    other.keyid[7] ^= 1;
    assert_int_equal(msig_verify(tc, sizeof tc, &other, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                 sizeof g_msg),
                     0);

    /* legacy "Ed": a signature over the raw file, one-shot only */
    assert_int_equal(run(ARGV("minisign", "-S", "-l", "-s", sec, "-m", msg,
                              "-x", leg, "-t", "legacy text"),
                         out, sizeof out),
                     0);
    len = get_file("ms.legacy", text, sizeof text);
    assert_int_equal(msig_sig_parse(&sig, text, len), 0);
    assert_int_equal(sig.prehashed, 0);
    assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                 sizeof g_msg),
                     0);
    assert_string_equal(tc, "legacy text");
    assert_int_equal(verify_stream(tc, sizeof tc, &pk, &sig, g_msg,
                                   sizeof g_msg),
                     -1);
    g_msg[0] ^= 1;
    assert_int_equal(msig_verify(tc, sizeof tc, &pk, &sig, g_msg,
                                 sizeof g_msg),
                     -1);
    g_msg[0] ^= 1;
}

static void test_hostile_sig(void **state)
{
    static char text[MSIG_SIGFILE_MAX], buf[2 * MSIG_SIGFILE_MAX];
    static msig_sig sig;
    static const uint8_t m[] = "hostile";
    char tc[MSIG_TRUSTED_MAX + 1], *p;
    msig_keypair *kp = msig_keypair_new();
    size_t len, nl1, n;
    (void)state;

    assert_non_null(kp);
    assert_int_equal(msig_sign(text, sizeof text, kp, m, sizeof m, "untrusted",
                               "trusted"),
                     0);
    len = strlen(text);
    assert_int_equal(sig_parse_copy(&sig, text, len), 0);
    assert_int_equal(msig_verify(tc, sizeof tc, &kp->pub, &sig, m, sizeof m),
                     0);

    /* every truncation, nothing, NULL */
    for (n = 0; n < len; n++)
        assert_int_equal(sig_parse_copy(&sig, text, n), -1);
    assert_int_equal(msig_sig_parse(&sig, NULL, 0), -1);
    assert_int_equal(msig_sig_parse(&sig, NULL, 10), -1);

    /* anything after the fourth line */
    static const char *const tails[] = {"\n", "x", "x\n",
                                        "untrusted comment: x\n"};
    for (size_t i = 0; i < sizeof tails / sizeof *tails; i++) {
        n = (size_t)snprintf(buf, sizeof buf, "%s%s", text, tails[i]);
        assert_int_equal(sig_parse_copy(&sig, buf, n), -1);
    }
    /* CRLF line ends; a CR at the end of the trusted comment; a NUL */
    n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            buf[n++] = '\r';
        buf[n++] = text[i];
    }
    assert_int_equal(sig_parse_copy(&sig, buf, n), -1);
    memcpy(buf, text, len);
    p = strchr(trusted_at(buf), '\n');
    *p = '\r';
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);
    memcpy(buf, text, len);
    buf[21] = '\0';
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);

    /* prefixes */
    memcpy(buf, text, len);
    buf[0] = 'U';
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);
    memcpy(buf, text, len);
    trusted_at(buf)[-1] = '_';
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);
    memcpy(buf, text, len);
    trusted_at(buf)[-18] = 'x'; /* the line end before "trusted comment" */
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);

    /* base64: a character short or long, padding missing, not canonical */
    nl1 = (size_t)(strchr(text, '\n') - text);
    n = (size_t)snprintf(buf, sizeof buf, "%.*s%s", (int)(nl1 + 1 + 5), text,
                         text + nl1 + 1 + 6);
    assert_int_equal(sig_parse_copy(&sig, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "%.*sA%s", (int)(nl1 + 1), text,
                         text + nl1 + 1);
    assert_int_equal(sig_parse_copy(&sig, buf, n), -1);
    memcpy(buf, text, len);
    assert_int_equal(memcmp(buf + len - 3, "==\n", 3), 0);
    memcpy(buf + len - 3, "AA\n", 3);
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);
    {
        /* 64 bytes leave 4 zero bits in the last character before "==":
         * setting one of them decodes to the same bytes, and is refused */
        static const char alpha[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char *c;
        memcpy(buf, text, len);
        c = buf + len - 4;
        assert_int_equal((strchr(alpha, *c) - alpha) & 15, 0);
        *c = alpha[(strchr(alpha, *c) - alpha) + 1];
        assert_int_equal(sig_parse_copy(&sig, buf, len), -1);
    }

    /* algorithms: unknown, and "Ed" over a prehashed signature */
    memcpy(buf, text, len + 1);
    patch_b64(buf, 1, 0, 'E' ^ 'X');
    assert_int_equal(sig_parse_copy(&sig, buf, len), -1);
    memcpy(buf, text, len + 1);
    patch_b64(buf, 1, 1, 'D' ^ 'd');
    assert_int_equal(sig_parse_copy(&sig, buf, len), 0);
    assert_int_equal(sig.prehashed, 0);
    assert_int_equal(msig_verify(tc, sizeof tc, &kp->pub, &sig, m, sizeof m),
                     -1);

    /* three lines, garbage in the right shape */
    p = strchr(trusted_at(text), '\n');
    assert_int_equal(sig_parse_copy(&sig, text, (size_t)(p + 1 - text)), -1);
    n = (size_t)snprintf(buf, sizeof buf, "untrusted comment: \n\n"
                                          "trusted comment: \n\n");
    assert_int_equal(sig_parse_copy(&sig, buf, n), -1);

    /* every byte flipped: refused, except inside the untrusted comment */
    for (size_t i = 0; i < len; i++) {
        int inside = i >= 19 && i < nl1;
        memcpy(buf, text, len);
        buf[i] ^= 0x01;
        if (sig_parse_copy(&sig, buf, len) == 0 &&
            msig_verify(tc, sizeof tc, &kp->pub, &sig, m, sizeof m) == 0) {
            if (!inside)
                fail_msg("flipping byte %zu went unnoticed", i);
            assert_string_equal(tc, "trusted");
        } else if (inside) {
            fail_msg("flipping untrusted byte %zu was refused", i);
        }
    }
    msig_keypair_free(kp);
}

static void test_hostile_lengths(void **state)
{
    static char text[MSIG_SIGFILE_MAX], buf[MSIG_SIGFILE_MAX + 16];
    static char u[MSIG_UNTRUSTED_MAX + 1], t[MSIG_TRUSTED_MAX + 1];
    static msig_sig sig;
    char *huge, *nl;
    size_t len, n, hugelen = (size_t)1 << 20;
    msig_keypair *kp = msig_keypair_new();
    (void)state;

    assert_non_null(kp);
    memset(u, 'u', MSIG_UNTRUSTED_MAX);
    memset(t, 't', MSIG_TRUSTED_MAX);
    assert_int_equal(msig_sign(text, sizeof text, kp, NULL, 0, u, t), 0);
    len = strlen(text);
    assert_int_equal(sig_parse_copy(&sig, text, len), 0);
    assert_int_equal(sig.trusted_len, MSIG_TRUSTED_MAX);
    /* one byte more in either comment */
    n = (size_t)snprintf(buf, sizeof buf, "u%s", text);
    assert_int_equal(sig_parse_copy(&sig, buf, n), -1);
    nl = trusted_at(text);
    n = (size_t)snprintf(buf, sizeof buf, "%.*st%s", (int)(nl - text), text,
                         nl);
    assert_int_equal(sig_parse_copy(&sig, buf, n), -1);

    /* a 1 MiB line, in each position */
    huge = malloc(hugelen + 200);
    assert_non_null(huge);
    memcpy(huge, "untrusted comment: ", 19);
    memset(huge + 19, 'A', hugelen);
    huge[19 + hugelen] = '\n';
    assert_int_equal(sig_parse_copy(&sig, huge, 20 + hugelen), -1);
    memcpy(huge + 20 + hugelen, "x\n", 2);
    assert_int_equal(sig_parse_copy(&sig, huge, 22 + hugelen), -1);
    memset(huge, 'A', hugelen);
    huge[hugelen] = '\n';
    assert_int_equal(sig_parse_copy(&sig, huge, hugelen + 1), -1);
    {
        msig_pubkey pub;
        assert_int_equal(pub_parse_copy(&pub, huge, hugelen + 1), -1);
        assert_int_equal(msig_pubkey_parse(&pub, huge, hugelen), -1);
    }
    free(huge);
    msig_keypair_free(kp);
}

static void test_hostile_pub(void **state)
{
    char file[MSIG_PUBFILE_MAX], buf[512], b64[MSIG_PUBKEY_B64LEN + 1];
    uint8_t bin[42];
    msig_keypair *kp = msig_keypair_new();
    msig_pubkey pub;
    size_t len, n;
    (void)state;

    assert_non_null(kp);
    msig_pubkey_file(file, &kp->pub);
    msig_pubkey_base64(b64, &kp->pub);
    len = strlen(file);
    assert_int_equal(pub_parse_copy(&pub, file, len), 0);
    for (n = 0; n < len; n++)
        assert_int_equal(pub_parse_copy(&pub, file, n), -1);
    assert_int_equal(msig_pubkey_parse_file(&pub, NULL, 0), -1);
    assert_int_equal(msig_pubkey_parse(&pub, NULL, 0), -1);

    n = (size_t)snprintf(buf, sizeof buf, "%s\n", file);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "%sRW\n", file);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "untrusted comment: x\r\n%s\r\n",
                         b64);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "comment: x\n%s\n", b64);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "untrusted comment: x\n%s\n", b64);
    assert_int_equal(pub_parse_copy(&pub, buf, n), 0);
    assert_memory_equal(&pub, &kp->pub, sizeof pub);
    n = (size_t)snprintf(buf, sizeof buf, "untrusted comment: x\n%sA\n", b64);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "untrusted comment: x\n%.55s\n",
                         b64);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);
    n = (size_t)snprintf(buf, sizeof buf, "untrusted comment: x\n %s\n", b64);
    assert_int_equal(pub_parse_copy(&pub, buf, n), -1);

    /* any untrusted comment up to the bound */
    for (size_t c = MSIG_UNTRUSTED_MAX; c <= MSIG_UNTRUSTED_MAX + 1; c++) {
        static char big[19 + MSIG_UNTRUSTED_MAX + 1 + MSIG_PUBKEY_B64LEN + 3];
        memcpy(big, "untrusted comment: ", 19);
        memset(big + 19, 'c', c);
        n = 19 + c + (size_t)snprintf(big + 19 + c, sizeof big - 19 - c,
                                      "\n%s\n", b64);
        assert_int_equal(pub_parse_copy(&pub, big, n),
                         c == MSIG_UNTRUSTED_MAX ? 0 : -1);
    }

    /* the line alone: exact, nothing around it */
    assert_int_equal(msig_pubkey_parse(&pub, b64, strlen(b64)), 0);
    memcpy(buf, b64, sizeof b64);
    buf[56] = '\n';
    assert_int_equal(msig_pubkey_parse(&pub, buf, 57), -1);
    assert_int_equal(msig_pubkey_parse(&pub, b64, 55), -1);
    assert_int_equal(msig_pubkey_parse(&pub, "", 0), -1);
    for (int i = 0; i < 32; i++)
        assert_int_equal(pub.pk[i], 0);

    /* "ED" is a signature algorithm, never a key's */
    memcpy(bin, "ED", 2);
    memcpy(bin + 2, kp->pub.keyid, 8);
    memcpy(bin + 10, kp->pub.pk, 32);
    sodium_bin2base64(buf, sizeof buf, bin, sizeof bin,
                      sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(msig_pubkey_parse(&pub, buf, strlen(buf)), -1);
    /* a 41- or 43-byte blob */
    sodium_bin2base64(buf, sizeof buf, bin, 41,
                      sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(msig_pubkey_parse(&pub, buf, strlen(buf)), -1);
    msig_keypair_free(kp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bech32_valid),
        cmocka_unit_test(test_bech32_invalid),
        cmocka_unit_test(test_bech32_bounds),
        cmocka_unit_test(test_age_keys),
        cmocka_unit_test(test_age_keygen_reads_ours),
        cmocka_unit_test(test_we_read_age_keygen),
        cmocka_unit_test(test_msig_roundtrip),
        cmocka_unit_test(test_minisign_verifies_ours),
        cmocka_unit_test(test_we_verify_minisign),
        cmocka_unit_test(test_hostile_sig),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_hostile_pub),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
