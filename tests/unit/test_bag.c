/*
 * test_bag: BagIt 1.0 (RFC 8493) through vault/bag.h. The builders:
 * bagit.txt, bag-info.txt (labels, values on one line, CR/LF and other
 * refusals), Payload-Oxum, percent-encoding both ways, the path rules (a
 * table), payload and tag manifests (exact lines, duplicates, names that
 * differ only by case, file/directory conflicts, unchanged after a refusal),
 * bag-info.txt parsing (continuation lines, line ends). The validator: a
 * bag made by the builders is valid (and `sha256sum -c` agrees), then one
 * bag per kind of damage, each reported by name: missing, extra and changed
 * files, Payload-Oxum, bagit.txt, symbolic links, FIFOs, sockets, unsafe
 * and escaping manifest paths, duplicates, case-only names, tag manifest
 * gaps and mismatches, unsupported algorithms, fetch.txt, bounds.
 *
 * Bags are written under ./bag in the test's working directory (tests/
 * run.sh gives each test binary an empty one).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../vault/bag.h"
#include "../../vault/report.h"

#define BAG "bag"

/* ---- helpers ----------------------------------------------------------------- */

static void sha256_of(const void *data, size_t len, uint8_t out[32])
{
    struct sha256_ctx h;
    sha256_init(&h);
    sha256_update(&h, len, data);
    sha256_digest(&h, 32, out);
}

static void hex_of(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Write len bytes to BAG/rel, creating directories on the way. */
static void put(const char *rel, const void *data, size_t len)
{
    char path[4200];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", BAG, rel);
    for (char *p = path + strlen(BAG) + 1; (p = strchr(p, '/')) != NULL;
         p++) {
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            fail_msg("mkdir %s: %s", path, strerror(errno));
        *p = '/';
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void puts_(const char *rel, const char *text)
{
    put(rel, text, strlen(text));
}

/* A file in the working directory, beside the bag. */
static void put_cwd(const char *name, const char *text)
{
    FILE *f = fopen(name, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* BAG/rel's content (NUL-terminated). OUT: *len. */
static char *slurp(const char *rel, size_t *len)
{
    char path[4200], *buf;
    FILE *f;
    long n;

    snprintf(path, sizeof path, "%s/%s", BAG, rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static void append(const char *rel, const char *text)
{
    size_t n;
    char *old = slurp(rel, &n), *both = malloc(n + strlen(text) + 1);
    assert_non_null(both);
    memcpy(both, old, n);
    memcpy(both + n, text, strlen(text) + 1);
    puts_(rel, both);
    free(old);
    free(both);
}

static void rm_bag(void)
{
    assert_int_equal(system("chmod -R u+rwx " BAG " 2>/dev/null; rm -rf " BAG),
                     0);
}

/* The payload of the good bag. */
static const struct {
    const char *path, *data;
} payload[] = {
    {"data/a.txt", "hello\n"},
    {"data/sub/b.bin", "0123456789abcdef0123456789abcdef0123456789"},
    {"data/sub/deeper/c d.txt", "a name with a space\n"},
    {"data/empty", ""},
    {"data/caf\xc3\xa9.txt", "utf-8 name\n"},
};
#define NPAYLOAD (sizeof payload / sizeof payload[0])

/* Rewrite tagmanifest-sha256.txt over the tag files as they are now. */
static void retag(void)
{
    static const char *names[] = {"bagit.txt", "bag-info.txt",
                                  "manifest-sha256.txt"};
    bag_tagfile tf[3];
    char *data[3];
    bag_manifest m;
    ev_err e;

    for (int i = 0; i < 3; i++) {
        data[i] = slurp(names[i], &tf[i].len);
        tf[i].name = names[i];
        tf[i].data = data[i];
    }
    bag_manifest_init(&m, BAG_MANIFEST_TAG);
    assert_int_equal(bag_tagmanifest_add(&m, tf, 3, &e), 0);
    put("tagmanifest-sha256.txt", m.text, m.len);
    bag_manifest_clear(&m);
    for (int i = 0; i < 3; i++)
        free(data[i]);
}

/* bag-info.txt with the given Payload-Oxum (NULL: computed). */
static void write_baginfo(const char *oxum)
{
    char ox[BAG_OXUM_MAX], *text;
    uint64_t bytes = 0;
    size_t len;
    ev_err e;

    for (size_t i = 0; i < NPAYLOAD; i++)
        bytes += strlen(payload[i].data);
    bag_oxum_format(ox, bytes, NPAYLOAD);
    {
        bag_info_item it[] = {
            {BAG_LABEL_SOURCE_ORG, "Test Org"},
            {BAG_LABEL_BAGGING_DATE, "2024-05-01"},
            {BAG_LABEL_EXTERNAL_ID, "0f0e0d0c-0b0a-4908-8706-050403020100"},
            {BAG_LABEL_PAYLOAD_OXUM, oxum ? oxum : ox},
            {BAG_LABEL_SENDER_VAULT, "5bd3b1f1-5d7e-4a44-9e35-7f4b0f3c2a10"},
        };
        assert_int_equal(bag_info_build(it, 5, &text, &len, &e), 0);
    }
    put("bag-info.txt", text, len);
    free(text);
}

/* The good bag, made with the builders. */
static void make_bag(void)
{
    bag_manifest m;
    ev_err e;

    rm_bag();
    assert_int_equal(mkdir(BAG, 0755), 0);
    puts_("bagit.txt", BAG_BAGIT_TXT);
    bag_manifest_init(&m, BAG_MANIFEST_PAYLOAD);
    for (size_t i = 0; i < NPAYLOAD; i++) {
        uint8_t d[32];
        puts_(payload[i].path, payload[i].data);
        sha256_of(payload[i].data, strlen(payload[i].data), d);
        assert_int_equal(bag_manifest_add(&m, payload[i].path, d, &e), 0);
    }
    put("manifest-sha256.txt", m.text, m.len);
    bag_manifest_clear(&m);
    write_baginfo(NULL);
    retag();
}

/* Add a manifest line (hex of data, then path as given) and retag. */
static void add_manifest_line(const char *path, const char *data)
{
    uint8_t d[32];
    char hex[65], line[4300];

    sha256_of(data, strlen(data), d);
    hex_of(d, 32, hex);
    snprintf(line, sizeof line, "%s  %s\n", hex, path);
    append("manifest-sha256.txt", line);
    retag();
}

typedef struct checked {
    bag_check_result res;
    report r;
} checked;

/* Check ./bag; print the findings when verbose. */
static void check_bag(checked *c)
{
    ev_err e;
    memset(c, 0, sizeof *c);
    err_clear(&e);
    assert_int_equal(bag_check(BAG, &c->res, &c->r, NULL, NULL, &e), 0);
    for (size_t i = 0; i < c->r.n; i++)
        print_message("  finding: %s\n", c->r.items[i]);
}

static void checked_clear(checked *c)
{
    bag_check_result_clear(&c->res);
    report_clear(&c->r);
}

/* 1 if some finding holds every one of the NULL-terminated needles. */
static int found(const report *r, ...)
{
    for (size_t i = 0; i < r->n; i++) {
        va_list ap;
        const char *needle;
        int all = 1;
        va_start(ap, r);
        while ((needle = va_arg(ap, const char *)) != NULL)
            if (!strstr(r->items[i], needle))
                all = 0;
        va_end(ap);
        if (all)
            return 1;
    }
    return 0;
}

/* The bag is invalid with a finding holding both needles. */
#define expect_invalid(a, b)                                                  \
    do {                                                                      \
        checked c_;                                                           \
        check_bag(&c_);                                                       \
        assert_false(c_.res.valid);                                           \
        if (!found(&c_.r, (a), (b), (const char *)NULL))                      \
            fail_msg("no finding with '%s' and '%s'", (a), (b));              \
        checked_clear(&c_);                                                   \
    } while (0)

static void expect_valid(void)
{
    checked c;
    check_bag(&c);
    assert_int_equal(c.r.n, 0);
    assert_true(c.res.valid);
    assert_true(c.res.complete);
    checked_clear(&c);
}

/* ---- builders -------------------------------------------------------------- */

static void test_bagit_txt(void **state)
{
    (void)state;
    assert_string_equal(BAG_BAGIT_TXT, "BagIt-Version: 1.0\n"
                                       "Tag-File-Character-Encoding: UTF-8\n");
}

static void test_oxum_format(void **state)
{
    char ox[BAG_OXUM_MAX];
    (void)state;
    bag_oxum_format(ox, 0, 0);
    assert_string_equal(ox, "0.0");
    bag_oxum_format(ox, 1073741824, 3);
    assert_string_equal(ox, "1073741824.3");
    bag_oxum_format(ox, UINT64_MAX, UINT64_MAX);
    assert_string_equal(ox, "18446744073709551615.18446744073709551615");
}

static void test_info_build(void **state)
{
    bag_info_item ok[] = {
        {BAG_LABEL_SOURCE_ORG, "Human Rights Documentation Centre"},
        {BAG_LABEL_BAGGING_DATE, "2024-05-01"},
        {BAG_LABEL_EXTERNAL_ID, "urn:uuid:1234"},
        {BAG_LABEL_PAYLOAD_OXUM, "12345.6"},
        {BAG_LABEL_SENDER_VAULT, "v-1"},
        {"Internal-Sender-Description", "tab\tinside, caf\xc3\xa9 ok"},
    };
    static const struct {
        const char *label, *value, *why;
    } bad[] = {
        {"Source-Organization", "two\nlines", "line break"},
        {"Source-Organization", "carriage\rreturn", "line break"},
        {"Source-Organization", "crlf\r\n", "line break"},
        {"Source-Organization", "bell\a", "control character"},
        {"Source-Organization", "c1 \xc2\x85", "control character"},
        {"Source-Organization", "bad \xff utf-8", "UTF-8"},
        {"Source-Organization", " leading", "whitespace"},
        {"Source-Organization", "trailing ", "whitespace"},
        {"Bad:Label", "x", "':'"},
        {"", "x", "empty"},
        {" Padded", "x", "space"},
        {"Caf\xc3\xa9", "x", "printable ASCII"},
        {"Payload-Oxum", "12", "BYTES.FILES"},
        {"Payload-Oxum", "1.2.3", "BYTES.FILES"},
        {"Payload-Oxum", "-1.2", "BYTES.FILES"},
        {"Bagging-Date", "2024-13-01", "YYYY-MM-DD"},
        {"Bagging-Date", "24-05-01", "YYYY-MM-DD"},
    };
    char *text = NULL;
    size_t len;
    ev_err e;
    (void)state;

    assert_int_equal(bag_info_build(ok, 6, &text, &len, &e), 0);
    assert_string_equal(text,
                        "Source-Organization: Human Rights Documentation "
                        "Centre\n"
                        "Bagging-Date: 2024-05-01\n"
                        "External-Identifier: urn:uuid:1234\n"
                        "Payload-Oxum: 12345.6\n"
                        "Evault-Sender-Vault-Id: v-1\n"
                        "Internal-Sender-Description: tab\tinside, "
                        "caf\xc3\xa9 ok\n");
    assert_int_equal(len, strlen(text));
    free(text);
    assert_int_equal(bag_info_build(NULL, 0, &text, &len, &e), 0);
    assert_string_equal(text, "");
    free(text);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bag_info_item it = {bad[i].label, bad[i].value};
        text = (char *)1;
        err_clear(&e);
        assert_int_equal(bag_info_build(&it, 1, &text, &len, &e),
                         EV_ERR_INVALID);
        assert_null(text);
        if (!strstr(e.msg, bad[i].why))
            fail_msg("item %zu: '%s' does not say '%s'", i, e.msg,
                     bad[i].why);
    }
    {
        bag_info_item twice[] = {{"Source-Organization", "a"},
                                 {"source-organization", "b"}};
        assert_int_equal(bag_info_build(twice, 2, &text, &len, &e),
                         EV_ERR_INVALID);
        assert_non_null(strstr(e.msg, "twice"));
    }
}

static void test_path_rules(void **state)
{
    static const struct {
        const char *path, *why; /* why NULL: accepted */
    } t[] = {
        {"data/a.txt", NULL},
        {"data/sub/dir/file", NULL},
        {"data/with space", NULL},
        {"data/100%.txt", NULL},
        {"data/caf\xc3\xa9", NULL},
        {"data/\xe6\x97\xa5\xe6\x9c\xac", NULL},
        {"data/.hidden", NULL},
        {"data/..dots", NULL},
        {"data/a..b", NULL},
        {"bagit.txt", NULL},
        {"", "empty"},
        {"/etc/passwd", "absolute"},
        {"/data/a", "absolute"},
        {"data/../x", "'..'"},
        {"..", "'..'"},
        {"data/..", "'..'"},
        {"../data/x", "'..'"},
        {"data/./x", "'.'"},
        {".", "'.'"},
        {"data//x", "empty component"},
        {"data/x/", "empty component"},
        {"data\\x", "backslash"},
        {"data/a\nb", "control"},
        {"data/a\rb", "control"},
        {"data/a\tb", "control"},
        {"data/a\x1b[31m", "control"},
        {"data/a\x7f", "control"},
        {"data/\xc2\x9b", "control"},
        {"data/\xff", "UTF-8"},
        {"data/\xc0\xaf", "UTF-8"},         /* overlong '/' */
        {"data/\xed\xa0\x80", "UTF-8"},     /* surrogate */
        {"data/\xf4\x90\x80\x80", "UTF-8"}, /* beyond U+10FFFF */
        {"data/\xe6\x97", "UTF-8"},         /* cut short */
    };
    char longname[300], longpath[4200];
    ev_err e;
    (void)state;

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int rc;
        err_clear(&e);
        rc = bag_path_check(t[i].path, &e);
        if (!t[i].why) {
            if (rc != 0)
                fail_msg("'%s' refused: %s", t[i].path, e.msg);
            continue;
        }
        if (rc != EV_ERR_INVALID)
            fail_msg("entry %zu accepted", i);
        if (!strstr(e.msg, t[i].why))
            fail_msg("entry %zu: '%s' does not say '%s'", i, e.msg, t[i].why);
        /* the message never carries the raw control characters */
        for (const char *p = e.msg; *p; p++)
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    }
    memset(longname, 'n', 256);
    longname[256] = '\0';
    snprintf(longpath, sizeof longpath, "data/%s", longname);
    assert_int_equal(bag_path_check(longpath, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "255"));
    longname[255] = '\0';
    snprintf(longpath, sizeof longpath, "data/%s", longname);
    assert_int_equal(bag_path_check(longpath, &e), 0);
    memset(longpath, 'a', 4096);
    for (int i = 100; i < 4096; i += 100)
        longpath[i] = '/';
    longpath[4096] = '\0';
    assert_int_equal(bag_path_check(longpath, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "longer than 4095"));
    longpath[4095] = '\0';
    assert_int_equal(bag_path_check(longpath, &e), 0);
}

static void test_percent(void **state)
{
    char *s;
    size_t n;
    ev_err e;
    (void)state;

    assert_int_equal(bag_path_encode("data/100%\r\n%x.txt", &s, &e), 0);
    assert_string_equal(s, "data/100%25%0D%0A%25x.txt");
    free(s);
    assert_int_equal(bag_path_encode("plain/name", &s, &e), 0);
    assert_string_equal(s, "plain/name");
    free(s);

    assert_int_equal(bag_path_decode("a%25b%0D%0A%0d%0a", 17, &s, &n, &e), 0);
    assert_int_equal(n, 7);
    assert_memory_equal(s, "a%b\r\n\r\n", 7);
    free(s);
    /* round trip */
    assert_int_equal(bag_path_encode("x%25y", &s, &e), 0);
    assert_string_equal(s, "x%2525y");
    {
        char *d;
        assert_int_equal(bag_path_decode(s, strlen(s), &d, &n, &e), 0);
        assert_string_equal(d, "x%25y");
        free(d);
    }
    free(s);
    /* only %25, %0D and %0A exist in a 1.0 manifest */
    {
        static const char *bad[] = {"a%41", "a%", "a%2", "%0", "%20x",
                                    "%%", "%0B"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            s = (char *)1;
            assert_int_equal(bag_path_decode(bad[i], strlen(bad[i]), &s, &n,
                                             &e),
                             EV_ERR_INVALID);
            assert_null(s);
            assert_non_null(strstr(e.msg, "percent"));
        }
    }
}

static void test_manifest_builder(void **state)
{
    bag_manifest m;
    uint8_t d[32];
    char hex[65], want[600];
    size_t len;
    ev_err e;
    (void)state;

    for (int i = 0; i < 32; i++)
        d[i] = (uint8_t)(i * 7 + 1);
    hex_of(d, 32, hex);
    bag_manifest_init(&m, BAG_MANIFEST_PAYLOAD);
    assert_int_equal(bag_manifest_add(&m, "data/a.txt", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/dir/100%.txt", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/dir/sub/x", d, &e), 0);
    snprintf(want, sizeof want,
             "%s  data/a.txt\n%s  data/dir/100%%25.txt\n%s  data/dir/sub/x\n",
             hex, hex, hex);
    assert_int_equal(m.count, 3);
    assert_int_equal(m.len, strlen(want));
    assert_memory_equal(m.text, want, m.len);
    len = m.len;

    /* every refusal leaves the manifest as it was */
    {
        static const struct {
            const char *path, *why;
        } bad[] = {
            {"data/a.txt", "twice"},
            {"data/A.txt", "only by case"},
            {"DATA/b.txt", "not under data/"},
            {"data/DIR/new", "only by case"},
            {"data/dir", "directory of a file"},
            {"data/a.txt/x", "as a file already"},
            {"data/dir/sub/X", "only by case"},
            {"data/\xc3\x89t\xc3\xa9", NULL}, /* accepted: see below */
            {"data/../x", "'..'"},
            {"/data/x", "absolute"},
            {"bagit.txt", "not under data/"},
            {"data", "not under data/"},
            {"data/", "empty component"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int rc;
            err_clear(&e);
            rc = bag_manifest_add(&m, bad[i].path, d, &e);
            if (!bad[i].why) {
                assert_int_equal(rc, 0);
                len = m.len;
                continue;
            }
            if (rc != EV_ERR_INVALID)
                fail_msg("entry %zu accepted (rc %d)", i, rc);
            if (!strstr(e.msg, bad[i].why))
                fail_msg("entry %zu: '%s' does not say '%s'", i, e.msg,
                         bad[i].why);
            assert_int_equal(m.len, len);
        }
    }
    /* Latin-1, Greek and Cyrillic case pairs fold together */
    assert_int_equal(bag_manifest_add(&m, "data/\xc3\xa9t\xc3\xa9", d, &e),
                     EV_ERR_INVALID); /* étÉ vs ÉtÉ */
    assert_int_equal(bag_manifest_add(&m, "data/\xce\xa3", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/\xcf\x83", d, &e),
                     EV_ERR_INVALID); /* σ vs Σ */
    assert_int_equal(bag_manifest_add(&m, "data/\xcf\x82", d, &e),
                     EV_ERR_INVALID); /* ς vs Σ */
    assert_int_equal(bag_manifest_add(&m, "data/\xd0\x96", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/\xd0\xb6", d, &e),
                     EV_ERR_INVALID); /* ж vs Ж */
    assert_int_equal(bag_manifest_add(&m, "data/\xd0\x81", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/\xd1\x91", d, &e),
                     EV_ERR_INVALID); /* ё vs Ё */
    /* but not letters that are merely similar */
    assert_int_equal(bag_manifest_add(&m, "data/e", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/\xc3\xa8", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/\xc3\x97", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/\xc3\xb7", d, &e), 0);
    bag_manifest_clear(&m);
    bag_manifest_clear(NULL);

    bag_manifest_init(&m, BAG_MANIFEST_TAG);
    assert_int_equal(bag_manifest_add(&m, "data/a", d, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "under data/"));
    assert_int_equal(bag_manifest_add(&m, "Data/a", d, &e), EV_ERR_INVALID);
    assert_int_equal(bag_manifest_add(&m, "bag-info.txt", d, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "meta/notes.txt", d, &e), 0);
    assert_int_equal(m.count, 2);
    bag_manifest_clear(&m);
}

/* Many entries: the hash tables grow and still find everything. */
static void test_manifest_many(void **state)
{
    bag_manifest m;
    uint8_t d[32] = {0};
    char p[64];
    ev_err e;
    (void)state;

    bag_manifest_init(&m, BAG_MANIFEST_PAYLOAD);
    for (int i = 0; i < 20000; i++) {
        snprintf(p, sizeof p, "data/d%d/File-%d", i % 97, i);
        assert_int_equal(bag_manifest_add(&m, p, d, &e), 0);
    }
    for (int i = 0; i < 20000; i += 1999) {
        snprintf(p, sizeof p, "data/D%d/file-%d", i % 97, i);
        assert_int_equal(bag_manifest_add(&m, p, d, &e), EV_ERR_INVALID);
        snprintf(p, sizeof p, "data/d%d/File-%d", i % 97, i);
        assert_int_equal(bag_manifest_add(&m, p, d, &e), EV_ERR_INVALID);
    }
    assert_int_equal(m.count, 20000);
    bag_manifest_clear(&m);
}

static void test_tagmanifest(void **state)
{
    const char *info = "Source-Organization: X\n";
    bag_tagfile tf[] = {{"bagit.txt", BAG_BAGIT_TXT, strlen(BAG_BAGIT_TXT)},
                        {"bag-info.txt", info, strlen(info)}};
    bag_manifest m;
    uint8_t d[32];
    char hex[65], want[300];
    ev_err e;
    (void)state;

    bag_manifest_init(&m, BAG_MANIFEST_TAG);
    assert_int_equal(bag_tagmanifest_add(&m, tf, 2, &e), 0);
    sha256_of(BAG_BAGIT_TXT, strlen(BAG_BAGIT_TXT), d);
    hex_of(d, 32, hex);
    /* known answer: sha256 of the two-line bagit.txt */
    assert_string_equal(hex, "1712ecfb074bf29c4188ad3421032509159a09739fd604f8"
                             "fe57038b4ddefcc9");
    snprintf(want, sizeof want, "%s  bagit.txt\n", hex);
    sha256_of(info, strlen(info), d);
    hex_of(d, 32, hex);
    snprintf(want + strlen(want), sizeof want - strlen(want),
             "%s  bag-info.txt\n", hex);
    assert_int_equal(m.len, strlen(want));
    assert_memory_equal(m.text, want, m.len);
    bag_manifest_clear(&m);
    /* a payload manifest is not a tag manifest */
    bag_manifest_init(&m, BAG_MANIFEST_PAYLOAD);
    assert_int_equal(bag_tagmanifest_add(&m, tf, 2, &e), EV_ERR_INTERNAL);
    bag_manifest_clear(&m);
}

static void test_info_parse(void **state)
{
    const char *text = "Source-Organization: Org\r\n"
                       "External-Description: a long value\n"
                       "  continued here\r"
                       "\tand here\n"
                       "Payload-Oxum:12.3\n"
                       "\n"
                       "Empty-Value:\n"
                       "Contact-Name:    Spaced Name\n";
    bag_info bi;
    report r = {0};
    ev_err e;
    (void)state;

    assert_int_equal(bag_info_parse(text, strlen(text), &bi, &r, &e), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(bi.n, 5);
    assert_string_equal(bag_info_get(&bi, "source-organization"), "Org");
    assert_string_equal(bag_info_get(&bi, "External-Description"),
                        "a long value continued here and here");
    assert_string_equal(bag_info_get(&bi, "Payload-Oxum"), "12.3");
    assert_string_equal(bag_info_get(&bi, "Empty-Value"), "");
    assert_string_equal(bag_info_get(&bi, "Contact-Name"), "Spaced Name");
    assert_null(bag_info_get(&bi, "Bagging-Date"));
    bag_info_clear(&bi);

    {
        const char *bad = " leading continuation\n"
                          "No colon here\n"
                          ": no label\n"
                          "Bad-UTF8: \xff\n"
                          "Payload-Oxum: 1.1\n"
                          "payload-oxum: 2.2\n";
        assert_int_equal(bag_info_parse(bad, strlen(bad), &bi, &r, &e), 0);
        assert_true(found(&r, "line 1", "continuation", (char *)NULL));
        assert_true(found(&r, "line 2", "no ':'", (char *)NULL));
        assert_true(found(&r, "line 3", "empty label", (char *)NULL));
        assert_true(found(&r, "line 4", "UTF-8", (char *)NULL));
        assert_true(found(&r, "Payload-Oxum is given 2 times", (char *)NULL));
        assert_int_equal(r.n, 5);
        bag_info_clear(&bi);
        report_clear(&r);
    }
    {
        char *huge = malloc(BAG_MAX_LINE + 20);
        assert_non_null(huge);
        memcpy(huge, "Label: ", 7);
        memset(huge + 7, 'v', BAG_MAX_LINE + 10);
        huge[BAG_MAX_LINE + 17] = '\n';
        assert_int_equal(bag_info_parse(huge, BAG_MAX_LINE + 18, &bi, &r, &e),
                         0);
        assert_true(found(&r, "longer than", (char *)NULL));
        assert_int_equal(bi.n, 0);
        bag_info_clear(&bi);
        report_clear(&r);
        free(huge);
    }
}

/* ---- validator: good bags ---------------------------------------------------- */

static void test_good_bag(void **state)
{
    checked c;
    (void)state;

    make_bag();
    check_bag(&c);
    assert_int_equal(c.r.n, 0);
    assert_true(c.res.valid);
    assert_int_equal(c.res.files, NPAYLOAD);
    assert_int_equal(c.res.manifests, 1);
    assert_int_equal(c.res.tagmanifests, 1);
    assert_string_equal(c.res.manifest_names[0], "manifest-sha256.txt");
    assert_string_equal(c.res.manifest_names[1], "tagmanifest-sha256.txt");
    assert_string_equal(bag_info_get(&c.res.info, "Source-Organization"),
                        "Test Org");
    assert_int_equal(c.res.tagfiles, 4);
    {
        uint64_t bytes = 0;
        for (size_t i = 0; i < NPAYLOAD; i++)
            bytes += strlen(payload[i].data);
        assert_int_equal(c.res.bytes, bytes);
    }
    checked_clear(&c);
}

/* The builders' manifests are what `sha256sum -c` reads. */
static void test_good_bag_sha256sum(void **state)
{
    (void)state;
    if (system("command -v sha256sum >/dev/null 2>&1") != 0)
        skip();
    make_bag();
    assert_int_equal(system("cd " BAG " && sha256sum --quiet -c "
                            "manifest-sha256.txt && sha256sum --quiet -c "
                            "tagmanifest-sha256.txt"),
                     0);
}

/*
 * The Library of Congress's bagit-python validates a bag made by the
 * builders, when it is installed. Debian 12 has no python3-bagit package
 * (and PyPI is not reachable from these machines), so this usually skips.
 */
static void test_good_bag_bagit_python(void **state)
{
    (void)state;
    if (system("python3 -c 'import bagit' >/dev/null 2>&1") != 0)
        skip();
    make_bag();
    assert_int_equal(system("python3 -m bagit --validate " BAG), 0);
}

static void test_good_variants(void **state)
{
    (void)state;
    /* CRLF and CR line ends, upper-case hex, tabs as separators */
    make_bag();
    {
        size_t n, k = 0, lines = 0;
        char *m = slurp("manifest-sha256.txt", &n), *o = malloc(2 * n + 1);
        assert_non_null(o);
        for (char *l = m, *eol; (eol = strchr(l, '\n')) != NULL; l = eol + 1) {
            for (size_t j = 0; j < 64; j++) /* the digest, upper case */
                o[k++] = (char)(l[j] >= 'a' && l[j] <= 'f' ? l[j] - 32 : l[j]);
            o[k++] = '\t'; /* instead of the two spaces */
            memcpy(o + k, l + 66, (size_t)(eol - (l + 66)));
            k += (size_t)(eol - (l + 66));
            if (lines++ == 0) { /* CRLF on the first line, CR after */
                o[k++] = '\r';
                o[k++] = '\n';
            } else {
                o[k++] = '\r';
            }
        }
        put("manifest-sha256.txt", o, k);
        free(m);
        free(o);
    }
    puts_("bagit.txt", "BagIt-Version: 1.0\r\nTag-File-Character-Encoding: "
                       "utf-8\r\n");
    retag();
    expect_valid();

    /* a percent-encoded name */
    make_bag();
    puts_("data/100%.txt", "percent\n");
    add_manifest_line("data/100%25.txt", "percent\n");
    {
        uint64_t bytes = 8;
        char ox[BAG_OXUM_MAX];
        for (size_t i = 0; i < NPAYLOAD; i++)
            bytes += strlen(payload[i].data);
        bag_oxum_format(ox, bytes, NPAYLOAD + 1);
        write_baginfo(ox);
    }
    retag();
    expect_valid();

    /* a sha512 manifest beside the sha256 one; no bag-info.txt; tag files in
     * a tag directory; the tag manifest's minisign signature, unlisted */
    make_bag();
    {
        char line[300], *all = calloc(1, 8192);
        size_t used = 0;
        assert_non_null(all);
        for (size_t i = 0; i < NPAYLOAD; i++) {
            struct sha512_ctx h;
            uint8_t d[64];
            char hex[129];
            sha512_init(&h);
            sha512_update(&h, strlen(payload[i].data),
                          (const uint8_t *)payload[i].data);
            sha512_digest(&h, 64, d);
            hex_of(d, 64, hex);
            snprintf(line, sizeof line, "%s  %s\n", hex, payload[i].path);
            used += (size_t)snprintf(all + used, 8192 - used, "%s", line);
        }
        puts_("manifest-sha512.txt", all);
        free(all);
    }
    unlink(BAG "/bag-info.txt");
    puts_("meta/notes.txt", "tag directory\n");
    {
        bag_tagfile tf[4];
        static const char *names[] = {"bagit.txt", "manifest-sha256.txt",
                                      "manifest-sha512.txt", "meta/notes.txt"};
        char *data[4];
        bag_manifest m;
        ev_err e;
        for (int i = 0; i < 4; i++) {
            data[i] = slurp(names[i], &tf[i].len);
            tf[i].name = names[i];
            tf[i].data = data[i];
        }
        bag_manifest_init(&m, BAG_MANIFEST_TAG);
        assert_int_equal(bag_tagmanifest_add(&m, tf, 4, &e), 0);
        put("tagmanifest-sha256.txt", m.text, m.len);
        bag_manifest_clear(&m);
        for (int i = 0; i < 4; i++)
            free(data[i]);
    }
    puts_("tagmanifest-sha256.txt.minisig", "untrusted comment: x\n");
    {
        checked c;
        check_bag(&c);
        assert_true(c.res.valid);
        assert_int_equal(c.res.manifests, 2);
        assert_int_equal(c.res.tagmanifests, 1);
        assert_int_equal(c.res.info.n, 0);
        checked_clear(&c);
    }
    /* an empty payload */
    rm_bag();
    assert_int_equal(mkdir(BAG, 0755), 0);
    assert_int_equal(mkdir(BAG "/data", 0755), 0);
    puts_("bagit.txt", BAG_BAGIT_TXT);
    puts_("manifest-sha256.txt", "");
    puts_("bag-info.txt", "Payload-Oxum: 0.0\n");
    expect_valid();
}

/* ---- validator: one kind of damage each --------------------------------- */

static void test_missing_and_extra(void **state)
{
    (void)state;
    make_bag();
    unlink(BAG "/data/a.txt");
    expect_invalid("'data/a.txt'", "but missing");
    make_bag();
    puts_("data/extra.txt", "x");
    expect_invalid("'data/extra.txt'", "not listed in 'manifest-sha256.txt'");
    make_bag();
    puts_("README.txt", "read me");
    expect_invalid("'README.txt'", "tag file not listed");
    make_bag();
    assert_int_equal(system("rm -rf " BAG "/data"), 0);
    expect_invalid("payload directory 'data'", "missing");
    make_bag();
    unlink(BAG "/manifest-sha256.txt");
    expect_invalid("'manifest-sha256.txt'", "missing");
}

static void test_changed_byte(void **state)
{
    size_t n;
    char *b;
    (void)state;
    make_bag();
    b = slurp("data/sub/b.bin", &n);
    b[10] ^= 1;
    put("data/sub/b.bin", b, n);
    free(b);
    expect_invalid("'data/sub/b.bin'", "SHA-256 mismatch");
    /* changing a tag file breaks the tag manifest */
    make_bag();
    append("bag-info.txt", "Contact-Name: Someone\n");
    expect_invalid("'bag-info.txt'", "SHA-256 mismatch ('tagmanifest-sha256");
}

static void test_oxum(void **state)
{
    (void)state;
    make_bag();
    write_baginfo("1.5");
    retag();
    expect_invalid("Payload-Oxum is 1.5", "bytes in 5 files");
    make_bag();
    write_baginfo(NULL);
    {
        size_t n;
        char *t = slurp("bag-info.txt", &n), *p = strstr(t, "Payload-Oxum: ");
        assert_non_null(p);
        p[14] = 'x';
        put("bag-info.txt", t, n);
        free(t);
    }
    retag();
    expect_invalid("Payload-Oxum", "not BYTES.FILES");
}

static void test_bad_bagit_txt(void **state)
{
    static const struct {
        const char *text, *a, *b;
    } t[] = {
        {"BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n",
         "'bagit.txt'", "version '0.97'"},
        {"BagIt-Version: 1.0\nTag-File-Character-Encoding: ISO-8859-1\n",
         "'bagit.txt'", "encoding 'ISO-8859-1'"},
        {"BagIt-Version: 1.0\n", "'bagit.txt'", "1 line"},
        {"", "'bagit.txt'", "0 lines"},
        {"Tag-File-Character-Encoding: UTF-8\nBagIt-Version: 1.0\n",
         "'bagit.txt' line 1", "not 'BagIt-Version: 1.0'"},
        {"\xef\xbb\xbf" BAG_BAGIT_TXT, "'bagit.txt'", "byte order mark"},
        {BAG_BAGIT_TXT "Extra: line\n", "'bagit.txt'", "more than two"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        make_bag();
        puts_("bagit.txt", t[i].text);
        retag();
        expect_invalid(t[i].a, t[i].b);
    }
    make_bag();
    unlink(BAG "/bagit.txt");
    expect_invalid("'bagit.txt'", "not a bag");
}

static void test_special_files(void **state)
{
    (void)state;
    make_bag();
    assert_int_equal(symlink("a.txt", BAG "/data/link"), 0);
    expect_invalid("'data/link'", "symbolic link");
    /* a listed file replaced by a link to a file with the same content */
    make_bag();
    put_cwd("outside.txt", "hello\n");
    unlink(BAG "/data/a.txt");
    assert_int_equal(symlink("../../outside.txt", BAG "/data/a.txt"), 0);
    expect_invalid("'data/a.txt'", "not a regular file");
    unlink("outside.txt");
    /* a directory link: nothing behind it is read */
    make_bag();
    assert_int_equal(system("rm -rf " BAG "/data/sub elsewhere && mkdir "
                            "elsewhere && echo x > elsewhere/b.bin"),
                     0);
    assert_int_equal(symlink("../../elsewhere", BAG "/data/sub"), 0);
    expect_invalid("'data/sub'", "symbolic link");
    assert_int_equal(system("rm -rf elsewhere"), 0);
    make_bag();
    assert_int_equal(mkfifo(BAG "/data/fifo", 0644), 0);
    expect_invalid("'data/fifo'", "FIFO");
    make_bag();
    assert_int_equal(mkfifo(BAG "/bag-info.txt.fifo", 0644), 0);
    expect_invalid("'bag-info.txt.fifo'", "FIFO");
    make_bag();
    /* a socket file, made without opening any socket */
    assert_int_equal(mknod(BAG "/data/sock", S_IFSOCK | 0600, 0), 0);
    expect_invalid("'data/sock'", "socket");
    /* a manifest that is a link is not read */
    make_bag();
    assert_int_equal(rename(BAG "/manifest-sha256.txt", "m.txt"), 0);
    assert_int_equal(symlink("../m.txt", BAG "/manifest-sha256.txt"), 0);
    expect_invalid("'manifest-sha256.txt'", "symbolic link");
    unlink("m.txt");
}

static void test_manifest_paths(void **state)
{
    static const struct {
        const char *path, *a, *b;
    } t[] = {
        {"data/../../outside", "'data/../../outside'", "escapes the bag"},
        {"../outside", "'../outside'", "escapes the bag"},
        {"/etc/passwd", "'/etc/passwd'", "absolute"},
        {"data/./a.txt", "'data/./a.txt'", "'.' component"},
        {"data//a.txt", "'data//a.txt'", "empty component"},
        {"data\\a.txt", "'data\\\\a.txt'", "backslash"},
        {"data/%41", "%41", "percent-encoding"},
        {"data/a%0Ab", "'data/a\\x0ab'", "control character"},
        {"bagit.txt", "'bagit.txt'", "not under data/"},
        {"data/\xff", "'data/\\xff'", "UTF-8"},
    };
    (void)state;
    put_cwd("outside", "hello\n");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        make_bag();
        add_manifest_line(t[i].path, "hello\n");
        expect_invalid(t[i].a, t[i].b);
    }
    unlink("outside");
    /* a malformed line, a bad digest */
    make_bag();
    append("manifest-sha256.txt", "nodigest\n");
    retag();
    expect_invalid("'manifest-sha256.txt' line 6", "CHECKSUM  PATH");
    make_bag();
    append("manifest-sha256.txt", "abcd  data/a.txt\n");
    retag();
    expect_invalid("'manifest-sha256.txt' line 6", "not a SHA-256 digest");
    /* a tag manifest that lists a payload file */
    make_bag();
    append("tagmanifest-sha256.txt",
           "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
           "  data/a.txt\n");
    expect_invalid("'tagmanifest-sha256.txt' line 4", "under data/");
}

static void test_duplicates(void **state)
{
    (void)state;
    make_bag();
    add_manifest_line("data/a.txt", "hello\n");
    expect_invalid("'data/a.txt' is listed twice", "lines 1 and 6");
    /* the same file spelt with %-encoding is still the same file */
    make_bag();
    puts_("data/p%.txt", "p");
    add_manifest_line("data/p%25.txt", "p");
    add_manifest_line("data/p%25.txt", "p");
    expect_invalid("'data/p%.txt' is listed twice", "manifest-sha256.txt");
    /* names that differ only by case */
    make_bag();
    puts_("data/A.txt", "hello\n");
    add_manifest_line("data/A.txt", "hello\n");
    expect_invalid("'data/A.txt' and 'data/a.txt'", "differ only by case");
    make_bag();
    puts_("data/SUB/other", "o");
    add_manifest_line("data/SUB/other", "o");
    expect_invalid("'data/SUB' and 'data/sub'", "differ only by case");
    make_bag();
    puts_("data/CAF\xc3\x89.txt", "utf-8 name\n");
    add_manifest_line("data/CAF\xc3\x89.txt", "utf-8 name\n");
    expect_invalid("'data/CAF\xc3\x89.txt' and 'data/caf\xc3\xa9.txt'",
                   "differ only by case");
}

static void test_tag_manifest(void **state)
{
    size_t n;
    char *t, *p, *eol;
    (void)state;
    /* an entry missing from the tag manifest */
    make_bag();
    t = slurp("tagmanifest-sha256.txt", &n);
    p = strstr(t, "  bag-info.txt\n");
    assert_non_null(p);
    while (p > t && p[-1] != '\n')
        p--;
    eol = strchr(p, '\n') + 1;
    memmove(p, eol, strlen(eol) + 1);
    puts_("tagmanifest-sha256.txt", t);
    free(t);
    expect_invalid("'bag-info.txt'", "not listed in 'tagmanifest-sha256.txt'");
    /* a tag manifest entry whose file is gone */
    make_bag();
    unlink(BAG "/bag-info.txt");
    expect_invalid("'bag-info.txt'", "listed in 'tagmanifest-sha256.txt'");
    /* a tag manifest mismatch */
    make_bag();
    t = slurp("manifest-sha256.txt", &n);
    t[0] = t[0] == '0' ? '1' : '0';
    put("manifest-sha256.txt", t, n);
    free(t);
    expect_invalid("'manifest-sha256.txt'", "SHA-256 mismatch");
}

static void test_unsupported(void **state)
{
    (void)state;
    make_bag();
    puts_("manifest-md5.txt", "b1946ac92492d2347c6235b4d2611184  "
                              "data/a.txt\n");
    retag();
    expect_invalid("'manifest-md5.txt'", "'md5' is not supported");
    make_bag();
    puts_("tagmanifest-sha1.txt", "");
    expect_invalid("'tagmanifest-sha1.txt'", "'sha1' is not supported");
    make_bag();
    puts_("fetch.txt", "http://example.org/x 1 data/x\n");
    retag();
    expect_invalid("'fetch.txt'", "not supported");
}

static void test_unsafe_names_on_disk(void **state)
{
    (void)state;
    make_bag();
    puts_("data/esc\x1b[2J", "x");
    expect_invalid("'data/esc\\x1b[2J'", "control character");
    make_bag();
    puts_("data/nl\nname", "x");
    expect_invalid("'data/nl\\x0aname'", "control character");
    make_bag();
    puts_("data/latin1-\xe9", "x");
    expect_invalid("'data/latin1-\\xe9'", "UTF-8");
    make_bag();
    puts_("data/back\\slash", "x");
    expect_invalid("'data/back\\\\slash'", "backslash");
    /* a right-to-left override is shown escaped, never as is */
    make_bag();
    puts_("data/rlo\xe2\x80\xaetxt.exe", "x");
    expect_invalid("'data/rlo\\u202etxt.exe'", "not listed");
}

static void test_bounds(void **state)
{
    char path[600];
    size_t n = 0;
    (void)state;
    /* deeper than BAG_MAX_DEPTH */
    make_bag();
    n = (size_t)snprintf(path, sizeof path, "%s/data", BAG);
    for (int i = 0; i < BAG_MAX_DEPTH + 2; i++) {
        n += (size_t)snprintf(path + n, sizeof path - n, "/d");
        assert_int_equal(mkdir(path, 0755), 0);
    }
    {
        checked c;
        check_bag(&c);
        assert_false(c.res.valid);
        assert_false(c.res.complete);
        assert_true(found(&c.r, "directory levels", (char *)NULL));
        checked_clear(&c);
    }
    /* an over-long manifest line */
    make_bag();
    {
        char *line = malloc(BAG_MAX_LINE + 100);
        assert_non_null(line);
        memset(line, 'a', BAG_MAX_LINE + 98);
        line[BAG_MAX_LINE + 98] = '\n';
        line[BAG_MAX_LINE + 99] = '\0';
        append("manifest-sha256.txt", line);
        free(line);
    }
    retag();
    expect_invalid("'manifest-sha256.txt' line 6", "longer than");
}

static void test_not_a_dir(void **state)
{
    bag_check_result res;
    report r = {0};
    ev_err e;
    (void)state;
    rm_bag();
    assert_int_equal(bag_check("no-such-bag", &res, &r, NULL, NULL, &e),
                     EV_ERR_IO);
    assert_non_null(strstr(e.msg, "no-such-bag"));
    put_cwd("plainfile", "x");
    assert_int_equal(bag_check("plainfile", &res, &r, NULL, NULL, &e),
                     EV_ERR_IO);
    unlink("plainfile");
    assert_int_equal(r.n, 0);
}

/* Progress reaches the total of the bytes hashed. */
static uint64_t last_done, last_total;
static int progress_cb(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    assert_true(done <= total);
    assert_true(done >= last_done);
    last_done = done;
    last_total = total;
    return 0;
}

static void test_progress(void **state)
{
    bag_check_result res;
    report r = {0};
    ev_err e;
    (void)state;
    make_bag();
    last_done = last_total = 0;
    assert_int_equal(bag_check(BAG, &res, &r, progress_cb, NULL, &e), 0);
    assert_true(res.valid);
    assert_true(last_total > 0);
    assert_int_equal(last_done, last_total);
    assert_int_equal(res.hashed_bytes, last_total);
    bag_check_result_clear(&res);
    report_clear(&r);
}

static int teardown_group(void **state)
{
    (void)state;
    rm_bag();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bagit_txt),
        cmocka_unit_test(test_oxum_format),
        cmocka_unit_test(test_info_build),
        cmocka_unit_test(test_path_rules),
        cmocka_unit_test(test_percent),
        cmocka_unit_test(test_manifest_builder),
        cmocka_unit_test(test_manifest_many),
        cmocka_unit_test(test_tagmanifest),
        cmocka_unit_test(test_info_parse),
        cmocka_unit_test(test_good_bag),
        cmocka_unit_test(test_good_bag_sha256sum),
        cmocka_unit_test(test_good_bag_bagit_python),
        cmocka_unit_test(test_good_variants),
        cmocka_unit_test(test_missing_and_extra),
        cmocka_unit_test(test_changed_byte),
        cmocka_unit_test(test_oxum),
        cmocka_unit_test(test_bad_bagit_txt),
        cmocka_unit_test(test_special_files),
        cmocka_unit_test(test_manifest_paths),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_tag_manifest),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_unsafe_names_on_disk),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_not_a_dir),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_group);
}
