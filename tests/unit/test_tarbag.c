/*
 * test_tarbag: the tar/bag reader of bundle import (vault/tarbag.h), on
 * tars built in memory with libarchive's writer (so that entries GNU tar
 * would refuse to make can be made): a good bag in pax, GNU and ustar
 * form, with and without a top directory, reads clean, with the sink given
 * exactly each streamed file's bytes and digest; then one tar per rule,
 * each refused with EV_ERR_INTEGRITY and a message naming the entry or the
 * check: links, devices, unsafe paths, duplicates, case-only duplicates,
 * entries outside the bag's top or its allowed names, a payload beyond
 * Payload-Oxum (stopped before a byte of it reaches the sink), manifest and
 * tag manifest mismatches, missing tag files, truncation, not a tar, and a
 * failing reader (its error passed through).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vault/tarbag.h"

#define MAXE 24
#define TARMAX (4u << 20)
#define UUID "0f8fad5b-d9cb-469f-a165-70867728950e"
#define EVSIZE 100000

typedef struct ent {
    char path[300];
    int type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO, AE_IFCHR; 'h' link */
    uint8_t *data;
    size_t len;
    char link[300];
} ent;

typedef struct spec {
    ent e[MAXE];
    size_t n;
} spec;

static void add(spec *s, const char *path, int type, const void *data,
                size_t len, const char *link)
{
    ent *e = &s->e[s->n++];
    assert_true(s->n <= MAXE);
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    e->type = type;
    if (len) {
        e->data = malloc(len);
        assert_non_null(e->data);
        memcpy(e->data, data, len);
    }
    e->len = len;
    if (link)
        snprintf(e->link, sizeof e->link, "%s", link);
}

static void spec_free(spec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->e[i].data);
    s->n = 0;
}

static ent *find(spec *s, const char *suffix)
{
    size_t k = strlen(suffix);
    for (size_t i = 0; i < s->n; i++) {
        size_t n = strlen(s->e[i].path);
        if (n >= k && strcmp(s->e[i].path + n - k, suffix) == 0)
            return &s->e[i];
    }
    return NULL;
}

static uint8_t evidence[EVSIZE];

/* A good bag under root ("" for none): records.json and one evidence file,
 * bagit.txt, bag-info.txt (oxum overrides Payload-Oxum), both manifests.
 * info_first puts the tag files before the payload. */
static void good(spec *s, const char *root, const char *oxum, int info_first)
{
    static const char records[] = "{\"format\":\"x\"}";
    char p[300], ox[BAG_OXUM_MAX], *info = NULL;
    const char *pre = *root ? "/" : "";
    uint8_t d1[32], d2[32];
    bag_manifest m, t;
    bag_tagfile tf[3];
    size_t infolen;
    ev_err e;
    struct sha256_ctx h;

    for (size_t i = 0; i < EVSIZE; i++)
        evidence[i] = (uint8_t)(i * 7 + i / 251);
    s->n = 0;
    if (*root) {
        add(s, root, AE_IFDIR, NULL, 0, NULL);
        snprintf(p, sizeof p, "%s/data", root);
        add(s, p, AE_IFDIR, NULL, 0, NULL);
    }
    sha256_init(&h);
    sha256_update(&h, sizeof records - 1, (const uint8_t *)records);
    sha256_digest(&h, 32, d1);
    sha256_init(&h);
    sha256_update(&h, EVSIZE, evidence);
    sha256_digest(&h, 32, d2);
    bag_manifest_init(&m, BAG_MANIFEST_PAYLOAD);
    assert_int_equal(bag_manifest_add(&m, "data/records.json", d1, &e), 0);
    assert_int_equal(bag_manifest_add(&m, "data/evidence/a.bin", d2, &e), 0);
    bag_oxum_format(ox, sizeof records - 1 + EVSIZE, 2);
    {
        bag_info_item items[] = {{"Source-Organization", "Test"},
                                 {"External-Identifier", UUID},
                                 {"Payload-Oxum", oxum ? oxum : ox}};
        assert_int_equal(bag_info_build(items, 3, &info, &infolen, &e), 0);
    }
    bag_manifest_init(&t, BAG_MANIFEST_TAG);
    tf[0] = (bag_tagfile){"bagit.txt", BAG_BAGIT_TXT, strlen(BAG_BAGIT_TXT)};
    tf[1] = (bag_tagfile){"bag-info.txt", info, infolen};
    tf[2] = (bag_tagfile){"manifest-sha256.txt", m.text, m.len};
    assert_int_equal(bag_tagmanifest_add(&t, tf, 3, &e), 0);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == (info_first ? 0 : 1)) {
            snprintf(p, sizeof p, "%s%sbagit.txt", root, pre);
            add(s, p, AE_IFREG, BAG_BAGIT_TXT, strlen(BAG_BAGIT_TXT), NULL);
            snprintf(p, sizeof p, "%s%sbag-info.txt", root, pre);
            add(s, p, AE_IFREG, info, infolen, NULL);
            snprintf(p, sizeof p, "%s%smanifest-sha256.txt", root, pre);
            add(s, p, AE_IFREG, m.text, m.len, NULL);
            snprintf(p, sizeof p, "%s%stagmanifest-sha256.txt", root, pre);
            add(s, p, AE_IFREG, t.text, t.len, NULL);
        } else {
            snprintf(p, sizeof p, "%s%sdata/records.json", root, pre);
            add(s, p, AE_IFREG, records, sizeof records - 1, NULL);
            snprintf(p, sizeof p, "%s%sdata/evidence/a.bin", root, pre);
            add(s, p, AE_IFREG, evidence, EVSIZE, NULL);
        }
    }
    bag_manifest_clear(&m);
    bag_manifest_clear(&t);
    free(info);
}

/* The tar of s in format (ARCHIVE_FORMAT_TAR_*). OUT: *len. */
static uint8_t *mktar(const spec *s, int format, size_t *len)
{
    struct archive *a = archive_write_new();
    uint8_t *buf = malloc(TARMAX);
    size_t used = 0;

    assert_non_null(a);
    assert_non_null(buf);
    assert_int_equal(archive_write_set_format(a, format), ARCHIVE_OK);
    assert_int_equal(archive_write_open_memory(a, buf, TARMAX, &used),
                     ARCHIVE_OK);
    for (size_t i = 0; i < s->n; i++) {
        const ent *e = &s->e[i];
        struct archive_entry *en = archive_entry_new();
        archive_entry_set_pathname(en, e->path);
        archive_entry_set_perm(en, 0644);
        if (e->type == 'h') {
            archive_entry_set_filetype(en, AE_IFREG);
            archive_entry_set_hardlink(en, e->link);
        } else {
            archive_entry_set_filetype(en, (unsigned)e->type);
        }
        if (e->type == AE_IFLNK)
            archive_entry_set_symlink(en, e->link);
        if (e->type == AE_IFREG)
            archive_entry_set_size(en, (la_int64_t)e->len);
        assert_int_equal(archive_write_header(a, en), ARCHIVE_OK);
        if (e->type == AE_IFREG && e->len)
            assert_int_equal(archive_write_data(a, e->data, e->len),
                             (la_ssize_t)e->len);
        archive_entry_free(en);
    }
    assert_int_equal(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
    *len = used;
    return buf;
}

/* ---- reading --------------------------------------------------------------- */

typedef struct src {
    const uint8_t *p;
    size_t left, step;
    size_t fail_after; /* 0: never */
    size_t given;
} src;

static int rd(void *arg, const uint8_t **buf, size_t *len, ev_err *e)
{
    src *s = arg;
    size_t n = s->left < s->step ? s->left : s->step;

    if (s->fail_after && s->given >= s->fail_after)
        return err_set(e, EV_ERR_IO, "the reader failed");
    *buf = s->p;
    *len = n;
    s->p += n;
    s->left -= n;
    s->given += n;
    return 0;
}

typedef struct sinkst {
    int open, files;
    uint64_t want, got, total;
    struct sha256_ctx h;
    uint8_t last[32];
} sinkst;

static int s_begin(void *arg, const char *path, uint64_t size, ev_err *e)
{
    sinkst *s = arg;
    (void)e;
    if (strcmp(path, "data/records.json") == 0)
        return TARBAG_KEEP;
    assert_false(s->open);
    s->open = 1;
    s->want = size;
    s->got = 0;
    sha256_init(&s->h);
    return TARBAG_STREAM;
}

static int s_data(void *arg, const uint8_t *buf, size_t len, ev_err *e)
{
    sinkst *s = arg;
    (void)e;
    assert_true(s->open);
    s->got += len;
    s->total += len;
    assert_true(s->got <= s->want);
    sha256_update(&s->h, len, buf);
    return 0;
}

static int s_end(void *arg, const char *path, const uint8_t *sha,
                 uint64_t size, ev_err *e)
{
    sinkst *s = arg;
    (void)path;
    (void)e;
    assert_true(s->open);
    assert_int_equal(size, s->want);
    assert_int_equal(s->got, s->want);
    sha256_digest(&s->h, 32, s->last);
    assert_memory_equal(s->last, sha, 32);
    s->open = 0;
    s->files++;
    return 0;
}

typedef struct outcome {
    int rc;
    ev_err e;
    report r;
    sinkst sink;
    tarbag tb;
} outcome;

static void read_bytes(outcome *o, const uint8_t *tar, size_t len,
                       size_t fail_after)
{
    src s = {tar, len, 1000, fail_after, 0};
    tarbag_sink sk = {s_begin, s_data, s_end, &o->sink};

    memset(o, 0, sizeof *o);
    err_clear(&o->e);
    tarbag_init(&o->tb);
    o->rc = tarbag_read(&o->tb, rd, &s, &sk, &o->r, &o->e);
}

static void read_spec(outcome *o, spec *s, int format)
{
    size_t len;
    uint8_t *tar = mktar(s, format, &len);
    read_bytes(o, tar, len, 0);
    free(tar);
    spec_free(s);
}

static void outcome_clear(outcome *o)
{
    tarbag_clear(&o->tb);
    report_clear(&o->r);
}

/* Refused, with text in the message or in one of the findings. */
static void refused(outcome *o, const char *text)
{
    int found = strstr(o->e.msg, text) != NULL;
    for (size_t i = 0; i < o->r.n; i++)
        found |= strstr(o->r.items[i], text) != NULL;
    if (o->rc != EV_ERR_INTEGRITY || !found)
        print_error("rc %d, message '%s', wanted '%s'\n", o->rc, o->e.msg,
                    text);
    assert_int_equal(o->rc, EV_ERR_INTEGRITY);
    assert_true(found);
    outcome_clear(o);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_good_bags(void **state)
{
    static const int formats[] = {ARCHIVE_FORMAT_TAR_PAX_RESTRICTED,
                                  ARCHIVE_FORMAT_TAR_GNUTAR,
                                  ARCHIVE_FORMAT_TAR_USTAR};
    static const char *const roots[] = {"bundle-" UUID, "", "./bag"};
    (void)state;
    for (size_t f = 0; f < 3; f++)
        for (size_t r = 0; r < 3; r++)
            for (int first = 0; first < 2; first++) {
                spec s;
                outcome o;
                const tarbag_file *rec;
                good(&s, roots[r], NULL, first);
                read_spec(&o, &s, formats[f]);
                if (o.rc)
                    print_error("format %zu root '%s': %s\n", f, roots[r],
                                o.e.msg);
                assert_int_equal(o.rc, 0);
                assert_int_equal(o.r.n, 0);
                assert_int_equal(o.tb.nfiles, 2);
                assert_int_equal(o.tb.payload_bytes, EVSIZE + 14);
                assert_int_equal(o.sink.files, 1);
                assert_int_equal(o.sink.total, EVSIZE);
                rec = tarbag_find(&o.tb, "data/records.json");
                assert_non_null(rec);
                assert_non_null(rec->data);
                assert_memory_equal(rec->data, "{\"format\":\"x\"}", 14);
                assert_non_null(tarbag_find(&o.tb, "data/evidence/a.bin"));
                assert_null(tarbag_find(&o.tb, "data/evidence/b.bin"));
                assert_non_null(o.tb.tag[TARBAG_BAGINFO]);
                assert_string_equal(bag_info_get(&o.tb.info,
                                                 "External-Identifier"),
                                    UUID);
                outcome_clear(&o);
            }
}

/* A good bag with one more entry, after the payload and before the tag
 * files (so that Payload-Oxum is not yet known). */
static void extra_entry(const char *path, int type, const char *link,
                        const char *want)
{
    spec s;
    outcome o;
    ent tmp;
    good(&s, "b", NULL, 0);
    add(&s, path, type, "x", type == AE_IFREG ? 1 : 0, link);
    tmp = s.e[s.n - 1];
    memmove(&s.e[5], &s.e[4], (s.n - 5) * sizeof s.e[0]);
    s.e[4] = tmp;
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, want);
}

static void test_entry_types(void **state)
{
    (void)state;
    extra_entry("b/data/evidence/l", AE_IFLNK, "/etc/passwd",
                "symbolic link");
    extra_entry("b/data/evidence/h", 'h', "b/data/evidence/a.bin",
                "hard link");
    extra_entry("b/data/evidence/f", AE_IFIFO, NULL, "FIFO");
    extra_entry("b/data/evidence/c", AE_IFCHR, NULL, "character device");
}

static void test_paths(void **state)
{
    (void)state;
    extra_entry("/etc/cron.d/x", AE_IFREG, NULL, "absolute path");
    extra_entry("b/data/../../x", AE_IFREG, NULL, "'..'");
    extra_entry("b/data/./x", AE_IFREG, NULL, "'.'");
    extra_entry("b/data/a\\b", AE_IFREG, NULL, "backslash");
    extra_entry("b/data/\x1b[31mred", AE_IFREG, NULL, "control character");
    extra_entry("other/bagit.txt", AE_IFREG, NULL, "top directory");
    extra_entry("b/extra.txt", AE_IFREG, NULL, "not part of a bundle");
    extra_entry("b/DATA/x", AE_IFREG, NULL, "not part of a bundle");
    extra_entry("b/tags", AE_IFDIR, NULL, "only data/ belongs there");
    extra_entry("b/data/evidence/a.bin", AE_IFREG, NULL, "a.bin");
    extra_entry("b/data/evidence/A.BIN", AE_IFREG, NULL, "case");
    extra_entry("b/bagit.txt", AE_IFREG, NULL, "appears twice");
    extra_entry("b/data/evidence/a.bin/x", AE_IFREG, NULL, "a.bin");
}

static void test_oxum_bomb(void **state)
{
    spec s;
    outcome o;
    (void)state;
    /* bag-info.txt first, announcing 20 bytes: the evidence file is
     * refused at its header, before any of it reaches the sink */
    good(&s, "b", "20.2", 1);
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    assert_int_equal(o.sink.total, 0);
    refused(&o, "Payload-Oxum");
    /* announced after the payload: found when bag-info.txt arrives */
    good(&s, "b", "20.2", 0);
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "already exceeds Payload-Oxum 20.2");
    /* announcing more than arrives: found at the end */
    good(&s, "b", "200000.2", 0);
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "Payload-Oxum is '200000.2' but the payload is 100014.2");
}

static void test_manifests(void **state)
{
    spec s;
    outcome o;
    ent *x;
    (void)state;
    good(&s, "b", NULL, 0);
    x = find(&s, "a.bin");
    x->data[500] ^= 1;
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "'data/evidence/a.bin': SHA-256 does not match");

    good(&s, "b", NULL, 0);
    x = find(&s, "bag-info.txt");
    x->data[0] = 's';
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "'bag-info.txt': SHA-256 does not match tagmanifest");

    good(&s, "b", NULL, 0);
    snprintf(find(&s, "records.json")->path, sizeof x->path,
             "b/data/other.json");
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "'data/records.json' is not in the bundle");

    good(&s, "b", NULL, 0);
    snprintf(find(&s, "/bag-info.txt")->path, sizeof x->path, "b/README.txt");
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "'bag-info.txt' is missing");

    good(&s, "b", NULL, 0);
    snprintf(find(&s, "/manifest-sha256.txt")->path, sizeof x->path,
             "b/README.txt");
    read_spec(&o, &s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    refused(&o, "'manifest-sha256.txt' is missing");
}

static void test_stream_damage(void **state)
{
    spec s;
    outcome o;
    uint8_t *tar, junk[4096];
    size_t len;
    (void)state;

    good(&s, "b", NULL, 0);
    tar = mktar(&s, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, &len);
    spec_free(&s);
    read_bytes(&o, tar, 30000, 0); /* inside the evidence file */
    assert_int_equal(o.rc, EV_ERR_INTEGRITY);
    outcome_clear(&o);
    read_bytes(&o, tar, len, 20000); /* the reader fails */
    assert_int_equal(o.rc, EV_ERR_IO);
    assert_string_equal(o.e.msg, "the reader failed");
    outcome_clear(&o);
    free(tar);

    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 31 + 7);
    read_bytes(&o, junk, sizeof junk, 0);
    assert_int_equal(o.rc, EV_ERR_INTEGRITY);
    outcome_clear(&o);
    memset(junk, 0, sizeof junk); /* an empty tar */
    read_bytes(&o, junk, sizeof junk, 0);
    refused(&o, "empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_bags),
        cmocka_unit_test(test_entry_types),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_oxum_bomb),
        cmocka_unit_test(test_manifests),
        cmocka_unit_test(test_stream_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
