/*
 * test_age: unit tests for crypto/age. In order: HKDF against RFC 5869; the
 * C2SP CCTV age vectors (tests/vectors/fetch-cctv-age.sh writes them into
 * the directory EVAULT_CCTV_DIR names; without them the test fails, it does
 * not skip); round trips over the chunk boundaries, several recipients and
 * scrypt; interop with the real age tools spawned with posix_spawnp on files
 * in a mkdtemp directory (age reads passphrases only from a terminal, so
 * those runs get a pseudo-terminal); then hostile files: truncations,
 * flipped bytes, moved chunks, trailing data, crafted headers at the limits.
 *
 * Every decryption goes through decrypt(), which checks the reader's
 * contract on each call: plaintext only in whole verified chunks, nothing
 * on failure, reads never larger than one sealed chunk and a byte.
 */
#define _GNU_SOURCE /* POSIX_SPAWN_SETSID, posix_openpt */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/tmpdir.h"
#include "../../crypto/age.h"
#include "../../crypto/bech32.h"

extern char **environ;

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define SEALED (AGE_CHUNKBYTES + AGE_TAGBYTES)
/* Applicable CCTV vectors (X25519 and scrypt, no armor, no post-quantum)
 * and their expected outcomes, counted once from cctv-age@0.2.0. */
#define CCTV_TOTAL 143
#define CCTV_APPLICABLE 92
#define CCTV_SUCCESS 15
#define CCTV_HEADER 51
#define CCTV_HMAC 1
#define CCTV_NOMATCH 7
#define CCTV_PAYLOAD 18

static char g_dir[1024];

/* ---- helpers: growable buffers, callbacks, files, processes ------------- */

typedef struct dbuf {
    uint8_t *p;
    size_t len, cap;
} dbuf;

static void dbuf_put(dbuf *b, const void *data, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void dbuf_str(dbuf *b, const char *s)
{
    dbuf_put(b, s, strlen(s));
}

static void dbuf_free(dbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int wr_dbuf(void *arg, const uint8_t *buf, size_t len)
{
    dbuf_put(arg, buf, len);
    return 0;
}

/* A writer that fails on its call number fail_at (counting from 1). */
typedef struct failwriter {
    int calls, fail_at;
} failwriter;

static int wr_fail(void *arg, const uint8_t *buf, size_t len)
{
    failwriter *w = arg;
    (void)buf;
    (void)len;
    return ++w->calls == w->fail_at ? -1 : 0;
}

/*
 * A reader over memory: step bytes per call at most (0: as many as asked,
 * negative: pseudo-random 1..-step). fail_at > 0 fails the read that would
 * pass that offset. Records the largest request.
 */
typedef struct mreader {
    const uint8_t *p;
    size_t len, pos, max_ask;
    long step;
    size_t fail_at;
    uint32_t rnd;
} mreader;

static int rd_mem(void *arg, uint8_t *buf, size_t len, size_t *got)
{
    mreader *r = arg;
    size_t n = r->len - r->pos;

    if (len > r->max_ask)
        r->max_ask = len;
    if (n > len)
        n = len;
    if (r->step > 0 && n > (size_t)r->step)
        n = (size_t)r->step;
    if (r->step < 0) {
        r->rnd = r->rnd * 1103515245u + 12345u;
        size_t lim = 1 + (r->rnd >> 8) % (size_t)(-r->step);
        if (n > lim)
            n = lim;
    }
    if (r->fail_at > 0 && r->pos + n >= r->fail_at)
        return -1;
    memcpy(buf, r->p + r->pos, n);
    r->pos += n;
    *got = n;
    return 0;
}

typedef struct ident {
    int scrypt;
    uint8_t sk[AGE_KEYBYTES];
    const char *pass;
    int max_logn;
} ident;

/* The outcome of one decryption: the code, the released plaintext, how
 * many chunks, and the decryptor's message. */
typedef struct result {
    int rc;
    dbuf out;
    size_t chunks;
    char err[AGE_ERRTEXT_MAX];
} result;

/*
 * Decrypt data with id, reading step bytes at a time (see mreader), and
 * check the reader's contract on every call. OUT: res (free res->out).
 */
static void decrypt(result *res, const ident *id, const uint8_t *data,
                    size_t len, long step)
{
    mreader r = {data, len, 0, 0, step, 0, 12345};
    const uint8_t *buf;
    age_dec *d = NULL;
    size_t n;
    int rc, done = 0;

    memset(res, 0, sizeof *res);
    if (id->scrypt)
        rc = age_dec_new_scrypt(&d, id->pass, strlen(id->pass), id->max_logn,
                                rd_mem, &r);
    else
        rc = age_dec_new_x25519(&d, id->sk, rd_mem, &r);
    assert_int_equal(rc, 0);
    assert_non_null(d);
    assert_string_equal(age_dec_error(d), "");
    for (;;) {
        buf = (const uint8_t *)"x";
        n = 12345;
        rc = age_dec_read(d, &buf, &n);
        if (rc != 0) {
            assert_null(buf);
            assert_int_equal(n, 0);
            assert_true(rc < 0);
            assert_true(strlen(age_dec_error(d)) > 0);
            /* a failed decryptor stays failed */
            assert_int_equal(age_dec_read(d, &buf, &n), rc);
            assert_int_equal(age_dec_header(d), rc);
            break;
        }
        if (n == 0) {
            /* the end, and it stays the end */
            assert_int_equal(age_dec_read(d, &buf, &n), 0);
            assert_int_equal(n, 0);
            done = 1;
            break;
        }
        assert_non_null(buf);
        assert_true(n <= AGE_CHUNKBYTES);
        /* only the final chunk may be short */
        assert_int_equal(res->out.len % AGE_CHUNKBYTES, 0);
        dbuf_put(&res->out, buf, n);
        res->chunks++;
    }
    assert_true(done || rc != 0);
    res->rc = rc;
    snprintf(res->err, sizeof res->err, "%s", age_dec_error(d));
    /* memory stays bounded: never more than one sealed chunk and a byte */
    assert_true(r.max_ask <= SEALED + 1);
    age_dec_free(d);
}

static void enc_x25519(dbuf *out, const uint8_t *pks, size_t npk,
                       const uint8_t *pt, size_t len, size_t piece)
{
    age_enc *e = NULL;

    memset(out, 0, sizeof *out);
    assert_int_equal(age_enc_new_x25519(&e, pks, npk, wr_dbuf, out), 0);
    assert_non_null(e);
    for (size_t off = 0; off < len;) {
        size_t n = piece && len - off > piece ? piece : len - off;
        assert_int_equal(age_enc_update(e, pt + off, n), 0);
        off += n;
    }
    assert_int_equal(age_enc_final(e), 0);
    age_enc_free(e);
}

static void enc_scrypt(dbuf *out, const char *pass, int logn,
                       const uint8_t *pt, size_t len)
{
    age_enc *e = NULL;

    memset(out, 0, sizeof *out);
    assert_int_equal(
        age_enc_new_scrypt(&e, pass, strlen(pass), logn, wr_dbuf, out), 0);
    assert_int_equal(age_enc_update(e, pt, len), 0);
    assert_int_equal(age_enc_final(e), 0);
    age_enc_free(e);
}

static void new_key(uint8_t sk[32], uint8_t pk[32])
{
    randombytes_buf(sk, 32);
    assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
}

static ident x_ident(const uint8_t sk[32])
{
    ident id = {0, {0}, NULL, 0};

    memcpy(id.sk, sk, 32);
    return id;
}

static ident p_ident(const char *pass, int max_logn)
{
    ident id = {1, {0}, pass, max_logn};

    return id;
}

/* Length of the header (through the MAC line's LF) of an age file. */
static size_t header_len(const uint8_t *f, size_t len)
{
    for (size_t i = 0; i + 4 < len; i++)
        if (f[i] == '\n' && memcmp(f + i + 1, "---", 3) == 0) {
            const uint8_t *nl = memchr(f + i + 1, '\n', len - i - 1);
            assert_non_null(nl);
            return (size_t)(nl - f) + 1;
        }
    fail_msg("no MAC line");
    return 0;
}

static void tpath(char *out, size_t size, const char *name)
{
    assert_int_equal(test_path(out, size, g_dir, name), 0);
}

static void put_file(const char *name, const void *data, size_t len,
                     mode_t mode)
{
    assert_int_equal(test_put_file(g_dir, name, data, len, mode), 0);
}

/* A whole file into out (malloc'd). Returns -1 if it cannot be opened. */
static int slurp(const char *path, dbuf *out)
{
    uint8_t chunk[65536];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW);

    memset(out, 0, sizeof *out);
    if (fd < 0)
        return -1;
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        dbuf_put(out, chunk, (size_t)n);
    assert_int_equal(n, 0);
    close(fd);
    return 0;
}

static void get_file(const char *name, dbuf *out)
{
    char p[1200];

    tpath(p, sizeof p, name);
    assert_int_equal(slurp(p, out), 0);
}

/* Wait for pid; its exit status, or -1 if it died of a signal. */
static int reap(pid_t pid)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Run argv (argv[0] looked up in PATH) with stdin and stdout on /dev/null
 * (stderr goes to the test log). Returns the exit status, or -1 when it
 * could not run or died of a signal.
 */
static int run(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? reap(pid) : -1;
}

/*
 * Run argv in a session of its own whose controlling terminal is a fresh
 * pseudo-terminal, type input on it (age reads passphrases from /dev/tty
 * and nowhere else), and drain what it prints there. Killed after 120 s.
 * Returns the exit status, or -1.
 */
static int run_pty(char *const argv[], const char *input)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    char sink[4096], slave[256];
    int m, rc, status = -1;
    time_t start = time(NULL);
    pid_t pid;

    m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 ||
        ptsname_r(m, slave, sizeof slave) != 0) {
        if (m >= 0)
            close(m);
        return -1;
    }
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    posix_spawn_file_actions_init(&fa);
    /* opened after setsid, without O_NOCTTY: it becomes the controlling tty */
    posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0) {
        close(m);
        return -1;
    }
    /* canonical mode keeps the lines until age reads them */
    if (write(m, input, strlen(input)) != (ssize_t)strlen(input))
        fprintf(stderr, "test_age: short write to the pty\n");
    for (;;) {
        struct pollfd pfd = {m, POLLIN, 0};
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w == pid)
            break;
        if (time(NULL) - start > 120) {
            kill(pid, SIGKILL);
            reap(pid);
            status = -1;
            break;
        }
        if (poll(&pfd, 1, 100) > 0) {
            if (pfd.revents & POLLIN) {
                if (read(m, sink, sizeof sink) <= 0)
                    usleep(10000);
            } else {
                usleep(10000); /* POLLHUP until the child is reaped */
            }
        }
    }
    close(m);
    if (status == -1)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int have_age(void)
{
    if (run(ARGV("age", "--version")) == 0)
        return 1;
    fprintf(stderr, "test_age: 'age' not found: install it (apt-get install "
                    "age)\n");
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return test_tmpdir_make(g_dir, sizeof g_dir, "test_age");
}

static int group_teardown(void **state)
{
    (void)state;
    return test_tmpdir_remove(g_dir);
}

static void hex2bin_ok(uint8_t *bin, size_t binlen, const char *hex)
{
    size_t got = 0;

    assert_int_equal(sodium_hex2bin(bin, binlen, hex, strlen(hex), NULL, &got,
                                    NULL),
                     0);
    assert_int_equal(got, binlen);
}

/* ---- HKDF ----------------------------------------------------------------- */

static void test_hkdf_rfc5869(void **state)
{
    /* RFC 5869 appendix A, test cases 1 to 3 (SHA-256) */
    static const struct {
        const char *ikm, *salt, *info, *okm;
        size_t len;
    } tc[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
         "f0f1f2f3f4f5f6f7f8f9",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
         "34007208d5b887185865",
         42},
        {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
         "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
         "404142434445464748494a4b4c4d4e4f",
         "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
         "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
         "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
         "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
         "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
         "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
         "cc30c58179ec3e87c14c01d5c1f3434f1d87",
         82},
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
         "9d201395faa4b61a96c8",
         42},
    };
    uint8_t ikm[80], salt[80], info[80], want[82], got[82];
    (void)state;

    for (size_t i = 0; i < sizeof tc / sizeof tc[0]; i++) {
        size_t il = strlen(tc[i].ikm) / 2, sl = strlen(tc[i].salt) / 2,
               nl = strlen(tc[i].info) / 2;
        hex2bin_ok(ikm, il, tc[i].ikm);
        if (sl)
            hex2bin_ok(salt, sl, tc[i].salt);
        if (nl)
            hex2bin_ok(info, nl, tc[i].info);
        hex2bin_ok(want, tc[i].len, tc[i].okm);
        assert_int_equal(age_hkdf_sha256(got, tc[i].len, ikm, il, salt, sl,
                                         info, nl),
                         0);
        assert_memory_equal(got, want, tc[i].len);
    }
    /* one block short of the limit works, past it fails and zeroes */
    memset(got, 0xaa, sizeof got);
    assert_int_equal(age_hkdf_sha256(got, 0, ikm, 1, NULL, 0, NULL, 0), -1);
    {
        uint8_t big[255 * 32 + 1];
        assert_int_equal(
            age_hkdf_sha256(big, 255 * 32, ikm, 1, NULL, 0, NULL, 0), 0);
        assert_int_equal(
            age_hkdf_sha256(big, sizeof big, ikm, 1, NULL, 0, NULL, 0), -1);
        assert_true(sodium_is_zero(big, sizeof big));
    }
}

/* ---- the C2SP CCTV vectors ----------------------------------------------- */

typedef struct vector {
    char expect[32];
    char payload[65]; /* hex SHA-256, "" if none */
    uint8_t file_key[AGE_FILEKEYBYTES];
    int have_file_key, armored, post_quantum, unknown_key;
    size_t nids;
    uint8_t sk[4][AGE_KEYBYTES];
    size_t npass;
    char pass[4][128];
    const uint8_t *age; /* the age file itself */
    size_t agelen;
} vector;

/* Parse a vector file's key: value lines up to the empty line. */
static void parse_vector(vector *v, const dbuf *f, const char *name)
{
    const char *p = (const char *)f->p, *end = p + f->len;

    memset(v, 0, sizeof *v);
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        char line[1024];
        size_t n;

        if (!nl)
            fail_msg("vector '%s': no empty line", name);
        n = (size_t)(nl - p);
        if (n == 0) {
            p = nl + 1;
            break;
        }
        if (n >= sizeof line)
            fail_msg("vector '%s': header line over 1023 bytes", name);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl + 1;
        if (strncmp(line, "expect: ", 8) == 0) {
            assert_true(n - 8 < sizeof v->expect);
            memcpy(v->expect, line + 8, n - 8 + 1);
        } else if (strncmp(line, "payload: ", 9) == 0) {
            assert_int_equal(n - 9, 64);
            memcpy(v->payload, line + 9, 64 + 1);
        } else if (strncmp(line, "file key: ", 10) == 0) {
            /* informative; the *_long_file_key vectors have a longer one */
            if (n - 10 == 2 * sizeof v->file_key) {
                hex2bin_ok(v->file_key, sizeof v->file_key, line + 10);
                v->have_file_key = 1;
            }
        } else if (strncmp(line, "identity: ", 10) == 0) {
            if (strncmp(line + 10, "AGE-SECRET-KEY-1", 16) != 0) {
                v->post_quantum = 1; /* AGE-SECRET-KEY-PQ-1...: not ours */
                continue;
            }
            assert_true(v->nids < 4);
            assert_int_equal(bech32_age_parse_identity(v->sk[v->nids],
                                                       line + 10, n - 10),
                             0);
            v->nids++;
        } else if (strncmp(line, "passphrase: ", 12) == 0) {
            assert_true(v->npass < 4 && n - 12 < sizeof v->pass[0]);
            memcpy(v->pass[v->npass++], line + 12, n - 12 + 1);
        } else if (strcmp(line, "armored: yes") == 0) {
            v->armored = 1;
        } else if (strncmp(line, "comment: ", 9) != 0) {
            v->unknown_key = 1; /* e.g. "compressed": the fetch inflates */
            fprintf(stderr, "vector '%s': unknown line '%s'\n", name, line);
        }
    }
    v->age = (const uint8_t *)p;
    v->agelen = (size_t)(end - p);
}

/*
 * What a payload failure released must be whole chunks of the file that
 * verify in order, each as non-final or final: checked here on our own,
 * with the vector's file key and libsodium.
 */
static void check_released_chunks(const vector *v, const dbuf *released,
                                  const char *name)
{
    size_t h = header_len(v->age, v->agelen), pos, done = 0;
    uint8_t key[32], nonce[12], pt[AGE_CHUNKBYTES];
    unsigned long long ptlen;
    uint64_t ctr = 0;

    assert_true(v->have_file_key);
    assert_true(h + AGE_NONCEBYTES <= v->agelen);
    assert_int_equal(age_hkdf_sha256(key, 32, v->file_key, 16, v->age + h,
                                     AGE_NONCEBYTES, (const uint8_t *)"payload",
                                     7),
                     0);
    pos = h + AGE_NONCEBYTES;
    while (done < released->len) {
        size_t clen = v->agelen - pos < SEALED ? v->agelen - pos : SEALED;
        int ok = 0;

        for (int last = 0; last <= 1 && !ok; last++) {
            memset(nonce, 0, sizeof nonce);
            for (int i = 0; i < 8; i++)
                nonce[10 - i] = (uint8_t)(ctr >> (8 * i));
            nonce[11] = (uint8_t)last;
            ok = crypto_aead_chacha20poly1305_ietf_decrypt(
                     pt, &ptlen, NULL, v->age + pos, clen, NULL, 0, nonce,
                     key) == 0;
        }
        if (!ok)
            fail_msg("vector '%s': released bytes past the verified chunks",
                     name);
        assert_true(done + ptlen <= released->len);
        assert_memory_equal(released->p + done, pt, ptlen);
        done += ptlen;
        pos += clen;
        ctr++;
    }
    assert_int_equal(done, released->len);
}

static int expect_code(const char *expect)
{
    if (strcmp(expect, "success") == 0)
        return 0;
    if (strcmp(expect, "header failure") == 0)
        return AGE_ERR_HEADER;
    if (strcmp(expect, "HMAC failure") == 0)
        return AGE_ERR_MAC;
    if (strcmp(expect, "no match") == 0)
        return AGE_ERR_NOMATCH;
    if (strcmp(expect, "payload failure") == 0)
        return AGE_ERR_PAYLOAD;
    fail_msg("unknown expect '%s'", expect);
    return 1;
}

static void sha256_hex(char out[65], const dbuf *b)
{
    uint8_t h[32];

    crypto_hash_sha256(h, b->p ? b->p : (const uint8_t *)"", b->len);
    sodium_bin2hex(out, 65, h, sizeof h);
}

/* Run one applicable vector with each of its identities and read sizes. */
static void run_vector(const vector *v, const char *name)
{
    static const long steps[3] = {0, -4099, 1};
    int want = expect_code(v->expect), succeeded = 0;
    size_t nids = 0, nsteps = v->agelen < 4096 ? 3 : 2;
    ident ids[8];
    char hex[65];

    for (size_t i = 0; i < v->nids; i++)
        ids[nids++] = x_ident(v->sk[i]);
    for (size_t i = 0; i < v->npass; i++)
        ids[nids++] = p_ident(v->pass[i], 0);
    if (nids == 0) {
        /* no identity given ("empty"): any must fail the same way */
        uint8_t sk[32], pk[32];
        new_key(sk, pk);
        ids[nids++] = x_ident(sk);
    }
    for (size_t i = 0; i < nids; i++) {
        result res;

        decrypt(&res, &ids[i], v->age, v->agelen, steps[0]);
        /* read sizes change nothing */
        for (size_t s = 1; s < nsteps; s++) {
            result again;
            decrypt(&again, &ids[i], v->age, v->agelen, steps[s]);
            assert_int_equal(again.rc, res.rc);
            assert_int_equal(again.out.len, res.out.len);
            if (res.out.len)
                assert_memory_equal(again.out.p, res.out.p, res.out.len);
            dbuf_free(&again.out);
        }
        if (want == 0 && res.rc == 0) {
            sha256_hex(hex, &res.out);
            assert_string_equal(hex, v->payload);
            succeeded = 1;
        } else if (want == 0) {
            /* another identity of a success vector simply does not match */
            assert_int_equal(res.rc, AGE_ERR_NOMATCH);
        } else {
            if (res.rc != want)
                fail_msg("vector '%s': got %d (%s), expected %s", name,
                         res.rc, res.err, v->expect);
            if (want == AGE_ERR_PAYLOAD) {
                /* only verified chunks came out, and as much as age gives */
                check_released_chunks(v, &res.out, name);
                if (v->payload[0]) {
                    sha256_hex(hex, &res.out);
                    assert_string_equal(hex, v->payload);
                }
            } else {
                assert_int_equal(res.out.len, 0);
            }
        }
        dbuf_free(&res.out);
    }
    if (want == 0 && !succeeded)
        fail_msg("vector '%s': no identity decrypts it", name);
}

static void test_cctv_vectors(void **state)
{
    const char *dir = getenv("EVAULT_CCTV_DIR");
    size_t total = 0, applicable = 0, armored = 0, pq = 0;
    size_t n_success = 0, n_header = 0, n_hmac = 0, n_nomatch = 0,
           n_payload = 0;
    struct dirent *e;
    DIR *d;
    (void)state;

    if (!dir || !*dir)
        fail_msg("EVAULT_CCTV_DIR is not set: run tests/vectors/"
                 "fetch-cctv-age.sh DIR and set EVAULT_CCTV_DIR=DIR");
    d = opendir(dir);
    if (!d)
        fail_msg("cannot open EVAULT_CCTV_DIR '%s': run tests/vectors/"
                 "fetch-cctv-age.sh '%s'", dir, dir);
    while ((e = readdir(d)) != NULL) {
        char path[2048];
        vector v;
        dbuf f;
        int n;

        if (e->d_name[0] == '.')
            continue;
        n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_true(n > 0 && (size_t)n < sizeof path);
        assert_int_equal(slurp(path, &f), 0);
        total++;
        parse_vector(&v, &f, e->d_name);
        if (v.armored) {
            armored++;
        } else if (v.post_quantum) {
            pq++;
        } else {
            assert_false(v.unknown_key);
            applicable++;
            run_vector(&v, e->d_name);
            switch (expect_code(v.expect)) {
            case 0: n_success++; break;
            case AGE_ERR_HEADER: n_header++; break;
            case AGE_ERR_MAC: n_hmac++; break;
            case AGE_ERR_NOMATCH: n_nomatch++; break;
            default: n_payload++; break;
            }
        }
        dbuf_free(&f);
    }
    closedir(d);
    printf("cctv-age: %zu vectors, %zu applicable (%zu armored and %zu "
           "post-quantum skipped); passed: success %zu, header failure %zu, "
           "HMAC failure %zu, no match %zu, payload failure %zu\n",
           total, applicable, armored, pq, n_success, n_header, n_hmac,
           n_nomatch, n_payload);
    assert_int_equal(total, CCTV_TOTAL);
    assert_int_equal(applicable, CCTV_APPLICABLE);
    assert_int_equal(n_success, CCTV_SUCCESS);
    assert_int_equal(n_header, CCTV_HEADER);
    assert_int_equal(n_hmac, CCTV_HMAC);
    assert_int_equal(n_nomatch, CCTV_NOMATCH);
    assert_int_equal(n_payload, CCTV_PAYLOAD);
}

/* ---- round trips --------------------------------------------------------- */

/* Chunks a plaintext of len bytes takes: at least one. */
static size_t nchunks(size_t len)
{
    return len == 0 ? 1 : (len + AGE_CHUNKBYTES - 1) / AGE_CHUNKBYTES;
}

static void test_roundtrip_sizes(void **state)
{
    size_t sizes[] = {0, 1, 100, AGE_CHUNKBYTES - 1, AGE_CHUNKBYTES,
                      AGE_CHUNKBYTES + 1, 2 * AGE_CHUNKBYTES,
                      (1u << 20) + randombytes_uniform(AGE_CHUNKBYTES)};
    size_t pieces[] = {0, 1000, AGE_CHUNKBYTES, 7};
    uint8_t sk[32], pk[32], *pt;
    ident id;
    (void)state;

    new_key(sk, pk);
    id = x_ident(sk);
    pt = malloc(sizes[7] + 1);
    assert_non_null(pt);
    randombytes_buf(pt, sizes[7] + 1);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t j = 0; j < sizeof pieces / sizeof pieces[0]; j++) {
            long steps[] = {0, -70000, 1};
            size_t len = sizes[i];
            dbuf f;

            if (pieces[j] == 7 && len > 3 * AGE_CHUNKBYTES)
                continue;
            enc_x25519(&f, pk, 1, pt, len, pieces[j]);
            /* header 168 bytes for one recipient, nonce, tags */
            assert_int_equal(header_len(f.p, f.len), 168);
            assert_int_equal(f.len, 168 + AGE_NONCEBYTES + len +
                                        AGE_TAGBYTES * nchunks(len));
            for (size_t s = 0; s < 3; s++) {
                result res;
                if (steps[s] == 1 && (j != 0 || len > 3 * AGE_CHUNKBYTES))
                    continue;
                decrypt(&res, &id, f.p, f.len, steps[s]);
                assert_int_equal(res.rc, 0);
                assert_int_equal(res.out.len, len);
                if (len)
                    assert_memory_equal(res.out.p, pt, len);
                /* empty plaintext: one empty final chunk, handed out as the
                 * end itself */
                assert_int_equal(res.chunks, len ? nchunks(len) : 0);
                dbuf_free(&res.out);
            }
            dbuf_free(&f);
        }
    }
    free(pt);
}

static void test_roundtrip_recipients(void **state)
{
    uint8_t sk[5][32], pks[5 * 32], stranger[32], spk[32], pt[3000];
    result res;
    ident id;
    dbuf f;
    (void)state;

    for (int i = 0; i < 5; i++)
        new_key(sk[i], pks + 32 * i);
    new_key(stranger, spk);
    randombytes_buf(pt, sizeof pt);
    enc_x25519(&f, pks, 5, pt, sizeof pt, 0);
    assert_int_equal(header_len(f.p, f.len), 22 + 5 * 98 + 48);
    for (int i = 0; i < 5; i++) {
        id = x_ident(sk[i]);
        decrypt(&res, &id, f.p, f.len, 0);
        assert_int_equal(res.rc, 0);
        assert_int_equal(res.out.len, sizeof pt);
        assert_memory_equal(res.out.p, pt, sizeof pt);
        dbuf_free(&res.out);
    }
    id = x_ident(stranger);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_NOMATCH);
    assert_string_equal(res.err,
                        "the file is not encrypted to this age identity");
    id = p_ident("password", 10);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_NOMATCH);
    assert_non_null(strstr(res.err, "not with a passphrase"));
    dbuf_free(&f);

    /* the most recipients an encryptor takes still make a readable header */
    {
        uint8_t *many = malloc(AGE_RECIPIENTS_MAX * 32);
        assert_non_null(many);
        for (int i = 0; i < AGE_RECIPIENTS_MAX; i++)
            memcpy(many + 32 * i, pks + 32 * (i % 5), 32);
        memcpy(many + 32 * (AGE_RECIPIENTS_MAX - 1), spk, 32);
        enc_x25519(&f, many, AGE_RECIPIENTS_MAX, pt, 10, 0);
        id = x_ident(stranger);
        decrypt(&res, &id, f.p, f.len, 0);
        assert_int_equal(res.rc, 0);
        assert_int_equal(res.out.len, 10);
        dbuf_free(&res.out);
        dbuf_free(&f);
        free(many);
    }
}

static void test_roundtrip_scrypt(void **state)
{
    uint8_t pt[70000], sk[32], pk[32];
    result res;
    ident id;
    dbuf f;
    (void)state;

    randombytes_buf(pt, sizeof pt);
    new_key(sk, pk);
    enc_scrypt(&f, "correct horse battery staple", 10, pt, sizeof pt);
    assert_int_equal(memcmp(f.p, "age-encryption.org/v1\n-> scrypt ", 32), 0);
    assert_int_equal(memcmp(f.p + 32 + 22, " 10\n", 4), 0);
    id = p_ident("correct horse battery staple", 0);
    decrypt(&res, &id, f.p, f.len, -3000);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.out.len, sizeof pt);
    assert_memory_equal(res.out.p, pt, sizeof pt);
    dbuf_free(&res.out);
    id = p_ident("correct horse battery stapler", 0);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_NOMATCH);
    assert_string_equal(res.err, "wrong passphrase");
    /* the caller's work factor limit is a hard stop, before scrypt runs */
    id = p_ident("correct horse battery staple", 9);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_HEADER);
    assert_non_null(strstr(res.err, "work factor 10 is over the limit of 9"));
    id = x_ident(sk);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_NOMATCH);
    assert_non_null(strstr(res.err, "encrypted with a passphrase"));
    dbuf_free(&f);

    /* an empty passphrase still decrypts the file it does not open */
    enc_scrypt(&f, "x", 1, pt, 0);
    id = p_ident("", 0);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_NOMATCH);
    id = p_ident("x", 1);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.out.len, 0);
    dbuf_free(&f);
}

static void test_api_contract(void **state)
{
    uint8_t sk[32], pk[32], lowpk[32] = {0}, two[64];
    failwriter fw;
    age_enc *e = (age_enc *)1;
    age_dec *d = (age_dec *)1;
    mreader r = {(const uint8_t *)"", 0, 0, 0, 0, 0, 1};
    const uint8_t *buf;
    size_t n;
    dbuf f = {0};
    (void)state;

    new_key(sk, pk);
    /* bad arguments: nothing is made, *out is NULL */
    assert_int_equal(age_enc_new_x25519(&e, pk, 0, wr_dbuf, &f),
                     AGE_ERR_INVALID);
    assert_null(e);
    assert_int_equal(
        age_enc_new_x25519(&e, pk, AGE_RECIPIENTS_MAX + 1, wr_dbuf, &f),
        AGE_ERR_INVALID);
    assert_int_equal(age_enc_new_x25519(&e, pk, 1, NULL, &f),
                     AGE_ERR_INVALID);
    /* low-order recipients (0 and 1) have no shared secret */
    assert_int_equal(age_enc_new_x25519(&e, lowpk, 1, wr_dbuf, &f),
                     AGE_ERR_INVALID);
    lowpk[0] = 1;
    memcpy(two, pk, 32);
    memcpy(two + 32, lowpk, 32);
    assert_int_equal(age_enc_new_x25519(&e, two, 2, wr_dbuf, &f),
                     AGE_ERR_INVALID);
    assert_null(e);
    assert_int_equal(f.len, 0);
    assert_int_equal(age_enc_new_scrypt(&e, "", 0, 10, wr_dbuf, &f),
                     AGE_ERR_INVALID);
    assert_int_equal(age_enc_new_scrypt(&e, "p", 1, 0, wr_dbuf, &f),
                     AGE_ERR_INVALID);
    assert_int_equal(age_enc_new_scrypt(&e, "p", 1, 23, wr_dbuf, &f),
                     AGE_ERR_INVALID);
    assert_int_equal(age_dec_new_scrypt(&d, "p", 1, 23, rd_mem, &r),
                     AGE_ERR_INVALID);
    assert_null(d);
    assert_int_equal(age_dec_new_scrypt(&d, "p", 1, -1, rd_mem, &r),
                     AGE_ERR_INVALID);
    assert_int_equal(age_dec_new_x25519(&d, sk, NULL, &r), AGE_ERR_INVALID);
    age_enc_free(NULL);
    age_dec_free(NULL);
    assert_int_equal(age_enc_update(NULL, (const uint8_t *)"", 0),
                     AGE_ERR_INVALID);
    assert_int_equal(age_enc_final(NULL), AGE_ERR_INVALID);
    assert_int_equal(age_dec_header(NULL), AGE_ERR_INVALID);
    assert_int_equal(age_dec_read(NULL, &buf, &n), AGE_ERR_INVALID);
    assert_string_equal(age_dec_error(NULL), "");
    for (int c = 0; c >= -8; c--)
        assert_true(strlen(age_strerror(c)) > 0);

    /* write failures: in the header, in a middle chunk, in the last one */
    for (int at = 1; at <= 3; at++) {
        uint8_t big[2 * AGE_CHUNKBYTES];
        int rc;

        memset(big, 7, sizeof big);
        fw = (failwriter){0, at};
        rc = age_enc_new_x25519(&e, pk, 1, wr_fail, &fw);
        if (at == 1) {
            assert_int_equal(rc, AGE_ERR_IO);
            assert_null(e);
            continue;
        }
        assert_int_equal(rc, 0);
        rc = age_enc_update(e, big, sizeof big);
        if (at == 2) {
            assert_int_equal(rc, AGE_ERR_IO);
            /* a failed encryptor stays failed */
            assert_int_equal(age_enc_update(e, big, 1), AGE_ERR_IO);
            assert_int_equal(age_enc_final(e), AGE_ERR_IO);
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(age_enc_final(e), AGE_ERR_IO);
        }
        age_enc_free(e);
    }
    /* after final, only errors */
    assert_int_equal(age_enc_new_x25519(&e, pk, 1, wr_dbuf, &f), 0);
    assert_int_equal(age_enc_final(e), 0);
    assert_int_equal(age_enc_update(e, (const uint8_t *)"x", 1),
                     AGE_ERR_INVALID);
    assert_int_equal(age_enc_final(e), AGE_ERR_INVALID);
    age_enc_free(e);

    /* read failures, in the header and in the payload; and header() twice */
    {
        uint8_t pt[AGE_CHUNKBYTES * 2];
        int rc;

        memset(pt, 1, sizeof pt);
        dbuf_free(&f);
        enc_x25519(&f, pk, 1, pt, sizeof pt, 0);
        r = (mreader){f.p, f.len, 0, 0, 0, 50, 1};
        assert_int_equal(age_dec_new_x25519(&d, sk, rd_mem, &r), 0);
        assert_int_equal(age_dec_header(d), AGE_ERR_IO);
        assert_int_equal(age_dec_header(d), AGE_ERR_IO);
        assert_string_equal(age_dec_error(d), "cannot read the age file");
        age_dec_free(d);
        r = (mreader){f.p, f.len, 0, 0, 0, f.len - 10, 1};
        assert_int_equal(age_dec_new_x25519(&d, sk, rd_mem, &r), 0);
        assert_int_equal(age_dec_header(d), 0);
        assert_int_equal(age_dec_header(d), 0);
        for (int i = 0; i < 4 && (rc = age_dec_read(d, &buf, &n)) == 0; i++)
            assert_int_equal(n, AGE_CHUNKBYTES);
        assert_int_equal(rc, AGE_ERR_IO);
        assert_null(buf);
        age_dec_free(d);
    }
    dbuf_free(&f);
}

/* ---- interop with the age tools ------------------------------------------ */

static const size_t interop_sizes[] = {0, 5, AGE_CHUNKBYTES, 200001};

static void write_identity_file(const char *name, const uint8_t sk[32])
{
    char id[BECH32_AGE_IDENTITY_LEN + 2];

    bech32_age_identity(id, sk);
    id[BECH32_AGE_IDENTITY_LEN] = '\n';
    id[BECH32_AGE_IDENTITY_LEN + 1] = '\0';
    put_file(name, id, strlen(id), 0600);
    sodium_memzero(id, sizeof id);
}

static void test_age_decrypts_ours(void **state)
{
    char key[1200], in[1200], out[1200];
    uint8_t sk[32], pk[32], other_sk[32], pks[64], *pt;
    (void)state;

    if (!have_age())
        skip();
    new_key(sk, pk);
    new_key(other_sk, pks);
    memcpy(pks + 32, pk, 32);
    write_identity_file("ours.key", sk);
    tpath(key, sizeof key, "ours.key");
    tpath(in, sizeof in, "ours.age");
    tpath(out, sizeof out, "ours.out");
    pt = malloc(200001);
    assert_non_null(pt);
    randombytes_buf(pt, 200001);
    for (size_t i = 0; i < sizeof interop_sizes / sizeof interop_sizes[0];
         i++) {
        dbuf f, got;

        /* the second recipient is ours: age must skip the first stanza */
        enc_x25519(&f, pks, 2, pt, interop_sizes[i], 4096);
        put_file("ours.age", f.p, f.len, 0600);
        unlink(out);
        assert_int_equal(run(ARGV("age", "-d", "-i", key, "-o", out, in)), 0);
        /* age creates its output on the first write: not for no data */
        if (interop_sizes[i] == 0 && access(out, F_OK) != 0)
            memset(&got, 0, sizeof got);
        else
            get_file("ours.out", &got);
        assert_int_equal(got.len, interop_sizes[i]);
        if (got.len)
            assert_memory_equal(got.p, pt, got.len);
        dbuf_free(&got);
        /* and age refuses what we refuse: a flipped payload byte */
        f.p[f.len - 1] ^= 1;
        put_file("ours.age", f.p, f.len, 0600);
        assert_int_not_equal(run(ARGV("age", "-d", "-i", key, "-o", out, in)),
                             0);
        dbuf_free(&f);
    }
    free(pt);
    sodium_memzero(sk, sizeof sk);
}

static void test_we_decrypt_age(void **state)
{
    char rcp[BECH32_AGE_RECIPIENT_LEN + 1], rcp2[BECH32_AGE_RECIPIENT_LEN + 1];
    char in[1200], out[1200];
    uint8_t sk[32], pk[32], sk2[32], pk2[32], *pt;
    (void)state;

    if (!have_age())
        skip();
    new_key(sk, pk);
    new_key(sk2, pk2);
    bech32_age_recipient(rcp, pk);
    bech32_age_recipient(rcp2, pk2);
    tpath(in, sizeof in, "plain.in");
    tpath(out, sizeof out, "theirs.age");
    pt = malloc(200001);
    assert_non_null(pt);
    randombytes_buf(pt, 200001);
    for (size_t i = 0; i < sizeof interop_sizes / sizeof interop_sizes[0];
         i++) {
        size_t len = interop_sizes[i];
        ident id;
        result res;
        dbuf f;

        put_file("plain.in", pt, len, 0600);
        unlink(out);
        assert_int_equal(
            run(ARGV("age", "-r", rcp2, "-r", rcp, "-o", out, in)), 0);
        get_file("theirs.age", &f);
        for (int k = 0; k < 2; k++) {
            id = x_ident(k ? sk2 : sk);
            decrypt(&res, &id, f.p, f.len, k ? -5000 : 0);
            assert_int_equal(res.rc, 0);
            assert_int_equal(res.out.len, len);
            if (len)
                assert_memory_equal(res.out.p, pt, len);
            dbuf_free(&res.out);
        }
        dbuf_free(&f);
    }
    free(pt);
}

static void test_age_decrypts_our_scrypt(void **state)
{
    char in[1200], out[1200];
    uint8_t pt[100000];
    dbuf f, got;
    (void)state;

    if (!have_age())
        skip();
    randombytes_buf(pt, sizeof pt);
    /* age's own work factor, to show age accepts it from us */
    enc_scrypt(&f, "a passphrase for age", AGE_SCRYPT_LOGN_DEFAULT, pt,
               sizeof pt);
    put_file("scrypt.age", f.p, f.len, 0600);
    tpath(in, sizeof in, "scrypt.age");
    tpath(out, sizeof out, "scrypt.out");
    unlink(out);
    assert_int_equal(run_pty(ARGV("age", "-d", "-o", out, in),
                             "a passphrase for age\n"),
                     0);
    get_file("scrypt.out", &got);
    assert_int_equal(got.len, sizeof pt);
    assert_memory_equal(got.p, pt, sizeof pt);
    dbuf_free(&got);
    /* a wrong passphrase fails there too */
    unlink(out);
    assert_int_not_equal(run_pty(ARGV("age", "-d", "-o", out, in),
                                 "not the passphrase\n"),
                         0);
    dbuf_free(&f);
}

static void test_we_decrypt_age_scrypt(void **state)
{
    char in[1200], out[1200];
    uint8_t pt[70000];
    result res;
    ident id;
    dbuf f;
    (void)state;

    if (!have_age())
        skip();
    randombytes_buf(pt, sizeof pt);
    put_file("plain.in", pt, sizeof pt, 0600);
    tpath(in, sizeof in, "plain.in");
    tpath(out, sizeof out, "theirs-p.age");
    unlink(out);
    /* age asks twice: the passphrase, then its confirmation */
    assert_int_equal(run_pty(ARGV("age", "-p", "-o", out, in),
                             "typed on a terminal\ntyped on a terminal\n"),
                     0);
    get_file("theirs-p.age", &f);
    assert_non_null(memmem(f.p, f.len, " 18\n", 4));
    id = p_ident("typed on a terminal", 0);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.out.len, sizeof pt);
    assert_memory_equal(res.out.p, pt, sizeof pt);
    dbuf_free(&res.out);
    /* age's work factor is over a caller's lower limit */
    id = p_ident("typed on a terminal", 17);
    decrypt(&res, &id, f.p, f.len, 0);
    assert_int_equal(res.rc, AGE_ERR_HEADER);
    dbuf_free(&f);
}

/* ---- hostile files -------------------------------------------------------- */

/* Decrypt a copy of f[0..len) that must fail with want, having released
 * exactly the first `released` bytes of pt. */
static void expect_fail(const ident *id, const uint8_t *f, size_t len,
                        int want, const uint8_t *pt, size_t released)
{
    uint8_t *copy = malloc(len ? len : 1);
    result res;

    assert_non_null(copy);
    if (len)
        memcpy(copy, f, len);
    decrypt(&res, id, copy, len, 0);
    if (res.rc != want)
        fail_msg("got %d (%s), expected %d", res.rc, res.err, want);
    assert_int_equal(res.out.len, released);
    if (released)
        assert_memory_equal(res.out.p, pt, released);
    dbuf_free(&res.out);
    free(copy);
}

static void test_hostile_truncation(void **state)
{
    uint8_t sk[32], pks[64], other[32], *pt;
    size_t h, big = 2 * AGE_CHUNKBYTES + 1000, start;
    ident id;
    dbuf f;
    (void)state;

    new_key(sk, pks);
    new_key(other, pks + 32);
    id = x_ident(sk);
    pt = malloc(big);
    assert_non_null(pt);
    randombytes_buf(pt, big);

    /* a small file cut at every byte: in the header, the nonce, the chunk */
    enc_x25519(&f, pks, 2, pt, 100, 0);
    h = header_len(f.p, f.len);
    for (size_t cut = 0; cut < f.len; cut++) {
        result res;
        decrypt(&res, &id, f.p, cut, cut % 2 ? 1 : 0);
        assert_int_equal(res.rc, cut < h + AGE_NONCEBYTES ? AGE_ERR_HEADER
                                                          : AGE_ERR_PAYLOAD);
        assert_int_equal(res.out.len, 0);
        dbuf_free(&res.out);
    }
    dbuf_free(&f);

    /* three chunks cut around each boundary: whole chunks before the cut
     * come out (authentic), nothing else */
    enc_x25519(&f, pks, 1, pt, big, 0);
    start = header_len(f.p, f.len) + AGE_NONCEBYTES;
    for (size_t k = 0; k < 3; k++) {
        size_t offs[] = {0, 1, 15, 16, 17, 1000, SEALED - 1};
        for (size_t j = 0; j < sizeof offs / sizeof offs[0]; j++) {
            size_t cut = start + k * SEALED + offs[j];
            if (cut >= f.len)
                continue;
            expect_fail(&id, f.p, cut, AGE_ERR_PAYLOAD, pt,
                        k * AGE_CHUNKBYTES);
        }
    }
    dbuf_free(&f);
    free(pt);
}

/* Re-encode the 32-byte base64 field at f[off..off+43) with bit flipped. */
static void flip_b64_bit(uint8_t *f, size_t off, size_t bit)
{
    uint8_t bin[32];
    char s[44];
    size_t got;

    assert_int_equal(sodium_base642bin(bin, sizeof bin, (const char *)f + off,
                                       43, NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL_NO_PADDING),
                     0);
    assert_int_equal(got, 32);
    bin[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    sodium_bin2base64(s, sizeof s, bin, sizeof bin,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    memcpy(f + off, s, 43);
}

static void test_hostile_flips(void **state)
{
    uint8_t sk[32], pk[32], *pt, *c;
    size_t big = 2 * AGE_CHUNKBYTES + 1000, h, mac_off, share_off, body_off;
    ident id;
    dbuf f;
    (void)state;

    new_key(sk, pk);
    id = x_ident(sk);
    pt = malloc(big);
    assert_non_null(pt);
    randombytes_buf(pt, big);
    enc_x25519(&f, pk, 1, pt, big, 0);
    h = header_len(f.p, f.len);
    c = malloc(f.len);
    assert_non_null(c);
    /* layout of one X25519 stanza (see test_roundtrip_sizes) */
    share_off = 22 + 10;
    body_off = share_off + 44;
    mac_off = h - 44;
    assert_int_equal(memcmp(f.p + mac_off - 4, "--- ", 4), 0);

    /* every bit of the MAC, the share and the wrapped key */
    for (size_t bit = 0; bit < 256; bit++) {
        memcpy(c, f.p, f.len);
        flip_b64_bit(c, mac_off, bit);
        expect_fail(&id, c, f.len, AGE_ERR_MAC, NULL, 0);
        memcpy(c, f.p, f.len);
        flip_b64_bit(c, body_off, bit);
        expect_fail(&id, c, f.len, AGE_ERR_NOMATCH, NULL, 0);
        memcpy(c, f.p, f.len);
        flip_b64_bit(c, share_off, bit);
        expect_fail(&id, c, f.len, AGE_ERR_NOMATCH, NULL, 0);
    }
    /* any change to any header byte: refused, nothing released */
    for (size_t i = 0; i < h; i++) {
        uint8_t x[] = {0x01, 0x20, 0x80};
        for (size_t j = 0; j < sizeof x; j++) {
            result res;
            memcpy(c, f.p, f.len);
            c[i] ^= x[j];
            decrypt(&res, &id, c, f.len, 0);
            assert_true(res.rc == AGE_ERR_HEADER || res.rc == AGE_ERR_MAC ||
                        res.rc == AGE_ERR_NOMATCH);
            assert_int_equal(res.out.len, 0);
            dbuf_free(&res.out);
        }
    }
    /* the nonce: the first chunk no longer verifies */
    memcpy(c, f.p, f.len);
    c[h + 3] ^= 1;
    expect_fail(&id, c, f.len, AGE_ERR_PAYLOAD, pt, 0);
    /* each chunk: its first byte, a middle one, its tag */
    for (size_t k = 0; k < 3; k++) {
        size_t cs = h + AGE_NONCEBYTES + k * SEALED;
        size_t clen = k < 2 ? SEALED : f.len - cs;
        size_t at[] = {0, clen / 2, clen - AGE_TAGBYTES, clen - 1};
        for (size_t j = 0; j < 4; j++) {
            memcpy(c, f.p, f.len);
            c[cs + at[j]] ^= 0x40;
            expect_fail(&id, c, f.len, AGE_ERR_PAYLOAD, pt,
                        k * AGE_CHUNKBYTES);
        }
    }
    free(c);
    dbuf_free(&f);
    free(pt);
}

static void test_hostile_chunks(void **state)
{
    uint8_t sk[32], pk[32], *pt;
    size_t big = 3 * AGE_CHUNKBYTES + 1000, h, s;
    ident id;
    dbuf f, g;
    (void)state;

    new_key(sk, pk);
    id = x_ident(sk);
    pt = malloc(big);
    assert_non_null(pt);
    randombytes_buf(pt, big);
    enc_x25519(&f, pk, 1, pt, big, 0);
    h = header_len(f.p, f.len);
    s = h + AGE_NONCEBYTES; /* chunk k at s + k * SEALED */

    /* swap chunks 0 and 1 */
    memset(&g, 0, sizeof g);
    dbuf_put(&g, f.p, s);
    dbuf_put(&g, f.p + s + SEALED, SEALED);
    dbuf_put(&g, f.p + s, SEALED);
    dbuf_put(&g, f.p + s + 2 * SEALED, f.len - s - 2 * SEALED);
    expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt, 0);
    dbuf_free(&g);
    /* drop chunk 1 */
    dbuf_put(&g, f.p, s + SEALED);
    dbuf_put(&g, f.p + s + 2 * SEALED, f.len - s - 2 * SEALED);
    expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt, AGE_CHUNKBYTES);
    dbuf_free(&g);
    /* repeat chunk 0 */
    dbuf_put(&g, f.p, s + SEALED);
    dbuf_put(&g, f.p + s, f.len - s);
    expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt, AGE_CHUNKBYTES);
    dbuf_free(&g);
    /* drop the final chunk: truncated at a chunk boundary */
    expect_fail(&id, f.p, s + 3 * SEALED, AGE_ERR_PAYLOAD, pt,
                3 * AGE_CHUNKBYTES);
    /* the final chunk moved first */
    dbuf_put(&g, f.p, s);
    dbuf_put(&g, f.p + s + 3 * SEALED, f.len - s - 3 * SEALED);
    dbuf_put(&g, f.p + s, 3 * SEALED);
    expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt, 0);
    dbuf_free(&g);
    /* the header and nonce of another file to the same key */
    {
        dbuf o;
        enc_x25519(&o, pk, 1, pt, big, 0);
        dbuf_put(&g, o.p, s);
        dbuf_put(&g, f.p + s, f.len - s);
        expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt, 0);
        dbuf_free(&g);
        dbuf_free(&o);
    }

    /* trailing data after a short final chunk: it no longer verifies */
    {
        size_t extra[] = {1, 16, 17, 100000};
        uint8_t junk[100000];
        memset(junk, 0, sizeof junk);
        for (size_t j = 0; j < 4; j++) {
            dbuf_put(&g, f.p, f.len);
            dbuf_put(&g, junk, extra[j]);
            expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt,
                        3 * AGE_CHUNKBYTES);
            dbuf_free(&g);
        }
        /* the final chunk twice */
        dbuf_put(&g, f.p, f.len);
        dbuf_put(&g, f.p + s + 3 * SEALED, f.len - s - 3 * SEALED);
        expect_fail(&id, g.p, g.len, AGE_ERR_PAYLOAD, pt, 3 * AGE_CHUNKBYTES);
        dbuf_free(&g);
    }
    dbuf_free(&f);

    /* a full final chunk, then data: it verifies (and is handed out, as
     * age does), then the trailing data fails the file */
    enc_x25519(&f, pk, 1, pt, 2 * AGE_CHUNKBYTES, 0);
    for (size_t extra = 1; extra <= 3 * SEALED; extra = extra * 7 + 3) {
        uint8_t *junk = calloc(1, extra);
        result res;
        assert_non_null(junk);
        dbuf_put(&g, f.p, f.len);
        dbuf_put(&g, junk, extra);
        decrypt(&res, &id, g.p, g.len, 0);
        assert_int_equal(res.rc, AGE_ERR_PAYLOAD);
        assert_string_equal(res.err,
                            "trailing data after the final age payload chunk");
        assert_int_equal(res.out.len, 2 * AGE_CHUNKBYTES);
        assert_memory_equal(res.out.p, pt, res.out.len);
        dbuf_free(&res.out);
        dbuf_free(&g);
        free(junk);
    }
    dbuf_free(&f);
    free(pt);
}

/*
 * A file for sk's public key made by hand, with extra stanzas around the
 * X25519 one (before, after: header text, may be empty) and a correct MAC,
 * so that only the rule under test can fail. Payload: plaintext "hello".
 */
static void craft(dbuf *out, const uint8_t sk[32], const char *before,
                  const dbuf *before_big, const char *after)
{
    uint8_t pk[32], eph[32], share[32], shared[32], salt[64], wrap[32];
    uint8_t fk[16], body[32], hkey[32], mac[32], nonce[16], pkey[32];
    uint8_t cnonce[12] = {0}, chunk[5 + 16];
    char b64[64];

    memset(out, 0, sizeof *out);
    assert_int_equal(crypto_scalarmult_base(pk, sk), 0);
    randombytes_buf(fk, sizeof fk);
    randombytes_buf(eph, sizeof eph);
    assert_int_equal(crypto_scalarmult_base(share, eph), 0);
    assert_int_equal(crypto_scalarmult(shared, eph, pk), 0);
    memcpy(salt, share, 32);
    memcpy(salt + 32, pk, 32);
    assert_int_equal(age_hkdf_sha256(wrap, 32, shared, 32, salt, 64,
                                     (const uint8_t *)"age-encryption.org/v1/X25519",
                                     28),
                     0);
    crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, fk, 16, NULL, 0,
                                              NULL, cnonce, wrap);
    dbuf_str(out, "age-encryption.org/v1\n");
    dbuf_str(out, before);
    if (before_big)
        dbuf_put(out, before_big->p, before_big->len);
    dbuf_str(out, "-> X25519 ");
    sodium_bin2base64(b64, sizeof b64, share, 32,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    dbuf_str(out, b64);
    dbuf_str(out, "\n");
    sodium_bin2base64(b64, sizeof b64, body, 32,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    dbuf_str(out, b64);
    dbuf_str(out, "\n");
    dbuf_str(out, after);
    dbuf_str(out, "---");
    assert_int_equal(age_hkdf_sha256(hkey, 32, fk, 16, NULL, 0,
                                     (const uint8_t *)"header", 6),
                     0);
    crypto_auth_hmacsha256(mac, out->p, out->len, hkey);
    sodium_bin2base64(b64, sizeof b64, mac, 32,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    dbuf_str(out, " ");
    dbuf_str(out, b64);
    dbuf_str(out, "\n");
    randombytes_buf(nonce, sizeof nonce);
    dbuf_put(out, nonce, sizeof nonce);
    assert_int_equal(age_hkdf_sha256(pkey, 32, fk, 16, nonce, 16,
                                     (const uint8_t *)"payload", 7),
                     0);
    cnonce[11] = 1;
    crypto_aead_chacha20poly1305_ietf_encrypt(chunk, NULL,
                                              (const uint8_t *)"hello", 5,
                                              NULL, 0, NULL, cnonce, pkey);
    dbuf_put(out, chunk, sizeof chunk);
}

static void expect_crafted(const uint8_t sk[32], const char *before,
                           const dbuf *big, const char *after, int want,
                           const char *msg)
{
    ident id = x_ident(sk);
    result res;
    dbuf f;

    craft(&f, sk, before, big, after);
    decrypt(&res, &id, f.p, f.len, 0);
    if (res.rc != want)
        fail_msg("crafted '%s': got %d (%s), expected %d", before, res.rc,
                 res.err, want);
    if (want == 0) {
        assert_int_equal(res.out.len, 5);
        assert_memory_equal(res.out.p, "hello", 5);
    } else {
        assert_int_equal(res.out.len, 0);
    }
    if (msg)
        assert_non_null(strstr(res.err, msg));
    dbuf_free(&res.out);
    dbuf_free(&f);
}

static void test_hostile_headers(void **state)
{
    char b47[64], b48[70];
    uint8_t sk[32], pk[32], zero[32] = {0}, bin[48];
    ident id;
    dbuf big = {0};
    size_t base;
    (void)state;

    new_key(sk, pk);
    id = x_ident(sk);
    memset(bin, 0xa5, sizeof bin);
    sodium_bin2base64(b47, sizeof b47, bin, 47,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_bin2base64(b48, sizeof b48, bin, 48,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);

    /* accepted: other stanza types with bodies of every shape (grease) */
    expect_crafted(sk, "", NULL, "", 0, NULL);
    expect_crafted(sk, "-> grease\n\n", NULL, "-> a b c d e f g\n\n", 0,
                   NULL);
    {
        char s[512];
        snprintf(s, sizeof s, "-> x47\n%s\n-> x48\n%s\n\n-> x96\n%s\n%s\n\n"
                 "-> x100\n%s\n%s\nAAAA\n", b47, b48, b48, b48, b48, b48);
        expect_crafted(sk, s, NULL, "-> ~!@#$%%^&*()_+{}|:\"<>?`-=[]\\;',./ z\n\n",
                       0, NULL);
    }
    /* refused: a 48-byte body without its empty last line */
    {
        char s[128];
        snprintf(s, sizeof s, "-> x48\n%s\n", b48);
        expect_crafted(sk, s, NULL, "", AGE_ERR_HEADER,
                       "stanza body ends without a short line");
        snprintf(s, sizeof s, "-> x\n%s=\n", b47);
        expect_crafted(sk, s, NULL, "", AGE_ERR_HEADER, "base64");
    }
    expect_crafted(sk, "->\n\n", NULL, "", AGE_ERR_HEADER, "without a type");
    expect_crafted(sk, "-> a  b\n\n", NULL, "", AGE_ERR_HEADER,
                   "empty stanza argument");
    expect_crafted(sk, "-> a \n\n", NULL, "", AGE_ERR_HEADER,
                   "empty stanza argument");
    expect_crafted(sk, "->a\n\n", NULL, "", AGE_ERR_HEADER, "one space");
    expect_crafted(sk, "-> a\tb\n\n", NULL, "", AGE_ERR_HEADER,
                   "printable ASCII");
    expect_crafted(sk, "-> a\r\n\n", NULL, "", AGE_ERR_HEADER, "CR");
    expect_crafted(sk, "-> a\n\n\n", NULL, "", AGE_ERR_HEADER,
                   "expected a stanza");
    expect_crafted(sk, "", NULL, "--> a\n\n", AGE_ERR_HEADER, NULL);
    /* X25519 stanzas that are not ours must still be well formed */
    expect_crafted(sk, "-> X25519\nAAAA\n", NULL, "", AGE_ERR_HEADER,
                   "malformed X25519 stanza");
    {
        char s[256], z[64], b32[64], b16[32];
        sodium_bin2base64(z, sizeof z, zero, 32,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
        sodium_bin2base64(b32, sizeof b32, bin, 32,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
        sodium_bin2base64(b16, sizeof b16, bin, 16,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
        /* a body of 47 bytes, not 32 */
        snprintf(s, sizeof s, "-> X25519 %s\n%s\n", z, b47);
        expect_crafted(sk, s, NULL, "", AGE_ERR_HEADER,
                       "malformed X25519 stanza");
        snprintf(s, sizeof s, "-> X25519 %s %s\n%s\n", b32, b32, b32);
        expect_crafted(sk, "", NULL, s, AGE_ERR_HEADER,
                       "malformed X25519 stanza");
        /* all-zero share (a low-order point): no shared secret */
        snprintf(s, sizeof s, "-> X25519 %s\n%s\n", z, b32);
        expect_crafted(sk, s, NULL, "", AGE_ERR_HEADER, "low order");
        /* a scrypt stanza beside an X25519 one */
        snprintf(s, sizeof s, "-> scrypt %s 10\n%s\n", b16, b32);
        expect_crafted(sk, "", NULL, s, AGE_ERR_HEADER, "alone");
        snprintf(s, sizeof s, "-> scrypt %s 010\n%s\n", b16, b32);
        expect_crafted(sk, "", NULL, s, AGE_ERR_HEADER, "malformed scrypt");
    }

    /* the stanza limit: AGE_STANZAS_MAX in all pass, one more does not */
    for (int i = 0; i < AGE_STANZAS_MAX - 1; i++)
        dbuf_str(&big, "-> g\n\n");
    expect_crafted(sk, "", &big, "", 0, NULL);
    expect_crafted(sk, "-> g\n\n", &big, "", AGE_ERR_HEADER,
                   "more than 1024 stanzas");
    dbuf_free(&big);

    /* the size limit: a header of exactly AGE_HEADER_MAX bytes passes */
    base = 22 + 98 + 48; /* version, our stanza, MAC line */
    {
        size_t pad = AGE_HEADER_MAX - base, arg = pad - 5; /* "-> " "\n\n" */
        dbuf_str(&big, "-> ");
        for (size_t i = 0; i < arg; i++)
            dbuf_put(&big, "p", 1);
        dbuf_str(&big, "\n\n");
        expect_crafted(sk, "", &big, "", 0, NULL);
        expect_crafted(sk, "-> q\n\n", &big, "", AGE_ERR_HEADER,
                       "longer than 65536");
        dbuf_free(&big);
    }
    /* no line end at all: the reader stops at the limit */
    {
        uint8_t *f = malloc(3 * AGE_HEADER_MAX);
        mreader r;
        age_dec *d;
        assert_non_null(f);
        memcpy(f, "age-encryption.org/v1\n-> ", 25);
        memset(f + 25, 'z', 3 * AGE_HEADER_MAX - 25);
        r = (mreader){f, 3 * AGE_HEADER_MAX, 0, 0, 0, 0, 1};
        assert_int_equal(age_dec_new_x25519(&d, sk, rd_mem, &r), 0);
        assert_int_equal(age_dec_header(d), AGE_ERR_HEADER);
        assert_true(r.pos <= AGE_HEADER_MAX);
        age_dec_free(d);
        free(f);
    }
    /* not age at all, failing at once */
    {
        static const struct {
            const char *text, *msg;
        } cases[] = {
            {"", "empty file"},
            {"hello world\n", "not an age v1 file"},
            {"age-encryption.org/v2\n-> X25519 a\n", "unsupported"},
            {"-----BEGIN AGE ENCRYPTED FILE-----\n", "armored"},
            {"age-encryption.org/v1", "ends inside the age header"},
            {"age-encryption.org/v1\n--- ", "ends inside"},
            {"age-encryption.org/v1\n--- "
             "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
             "no stanza"},
            {"age-encryption.org/v1 \n", "unsupported"},
            {"age-encryption.org/v1\r\n", "CR"},
            {"age-encryption.org\n", "not an age v1 file"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            result res;
            decrypt(&res, &id, (const uint8_t *)cases[i].text,
                    strlen(cases[i].text), 1);
            assert_int_equal(res.rc, AGE_ERR_HEADER);
            if (!strstr(res.err, cases[i].msg))
                fail_msg("'%s': message '%s'", cases[i].text, res.err);
            dbuf_free(&res.out);
        }
        /* binary junk fails on its first byte: nothing more is read */
        {
            uint8_t junk[1000];
            mreader r = {junk, sizeof junk, 0, 0, 1, 0, 1};
            age_dec *d;
            memset(junk, 0x8f, sizeof junk);
            assert_int_equal(age_dec_new_x25519(&d, sk, rd_mem, &r), 0);
            assert_int_equal(age_dec_header(d), AGE_ERR_HEADER);
            assert_int_equal(r.pos, 1);
            age_dec_free(d);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_cctv_vectors),
        cmocka_unit_test(test_roundtrip_sizes),
        cmocka_unit_test(test_roundtrip_recipients),
        cmocka_unit_test(test_roundtrip_scrypt),
        cmocka_unit_test(test_api_contract),
        cmocka_unit_test(test_age_decrypts_ours),
        cmocka_unit_test(test_we_decrypt_age),
        cmocka_unit_test(test_age_decrypts_our_scrypt),
        cmocka_unit_test(test_we_decrypt_age_scrypt),
        cmocka_unit_test(test_hostile_truncation),
        cmocka_unit_test(test_hostile_flips),
        cmocka_unit_test(test_hostile_chunks),
        cmocka_unit_test(test_hostile_headers),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
