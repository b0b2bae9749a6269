/*
 * test_integrity: the evidentiary integrity layer through the library
 * (issue 4). The canonical record of a sealed incident (seal_canonical):
 * byte-stable across calls and across close and reopen, keys in byte order
 * at every level, sorted arrays (tags, actors, sources, evidence,
 * involvements) whatever the insertion order, strings escaped as
 * docs/FORMAT.md says (", \ and control characters escaped, other UTF-8 as
 * is); a seal's stored hash (checked with nettle) and minisign signature
 * (checked with msig_verify under the identity's public key); the custody
 * log's chain and signatures, custody_verify on a clean and on a tampered
 * log, entries only with the change they record; the triggers that make
 * the log, seals, the identity and everything a seal covers immutable; the
 * identity's public forms and the partner card round trip, with every
 * one-byte change of the card refused.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../crypto/bech32.h"
#include "../../crypto/msig.h"
#include "../../vault/custody.h"
#include "../../vault/identity.h"
#include "../../vault/records.h"
#include "../../vault/report.h"
#include "../../vault/seal.h"
#include "../../vault/store.h"
#include "../../vault/vault.h"

#define PASS "integrity test passphrase"
#define PATH "integrity.evault"

/* Chosen UUIDs, so that the sorted order is known and differs from the
 * order of insertion (which is the reverse). */
#define ACTOR_LO "11111111-1111-4111-8111-111111111111"
#define ACTOR_MID "55555555-5555-4555-8555-555555555555"
#define ACTOR_HI "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"
#define SOURCE_LO "22222222-2222-4222-8222-222222222222"
#define SOURCE_HI "dddddddd-dddd-4ddd-8ddd-dddddddddddd"

typedef struct fx {
    vault *v;
    int64_t inc;          /* the incident with everything linked */
    int64_t actor[3];     /* inserted HI, MID, LO */
    int64_t source[2];    /* inserted HI, LO */
    int64_t evidence[2];  /* two files */
    int64_t other_actor;  /* in no incident */
    int64_t other_source; /* cited by no incident */
    int64_t other_inc;    /* an unsealed incident */
} fx;

static vault *open_vault(void)
{
    vault *v = NULL;
    ev_err e;
    if (vault_open(&v, PATH, PASS, strlen(PASS), NULL, &e) != 0) {
        print_error("vault_open: %s\n", e.msg);
        return NULL;
    }
    return v;
}

static int setup(void **state)
{
    kdf_params p;
    ev_err e;
    fx *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    kdf_profile("test", &p);
    unlink(PATH);
    if (vault_create(PATH, PASS, strlen(PASS), &p, "Integrity Org", NULL,
                     NULL, &e) != 0 ||
        !(f->v = open_vault())) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    vault_close(f->v);
    free(f);
    unlink(PATH);
    unlink("ev-a.txt");
    unlink("ev-b.bin");
    return 0;
}

static void exec_ok(vault *v, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(vault_db(v), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_error("%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
}

/* One text value of a query with one optional text parameter. */
static char *query_text(vault *v, const char *sql, const char *p1,
                        size_t p1len)
{
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(v), sql, -1, &st, NULL),
                     SQLITE_OK);
    if (p1)
        sqlite3_bind_text(st, 1, p1, (int)p1len, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out ? out : strdup("");
}

static int64_t query_int(vault *v, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    assert_int_equal(sqlite3_prepare_v2(vault_db(v), sql, -1, &st, NULL),
                     SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static int64_t add_actor(vault *v, const char *name, const char *uuid)
{
    records_actor a;
    int64_t id = 0;
    char sql[200];
    ev_err e;
    records_actor_init(&a);
    a.name = name;
    if (records_actor_add(v, &a, &id, &e) != 0)
        print_error("%s\n", e.msg);
    assert_true(id > 0);
    if (uuid) {
        snprintf(sql, sizeof sql, "UPDATE actor SET uuid = '%s' WHERE id = "
                                  "%lld",
                 uuid, (long long)id);
        exec_ok(v, sql);
    }
    return id;
}

static int64_t add_source(vault *v, const char *title, const char *uuid)
{
    records_source s;
    int64_t id = 0;
    char sql[200];
    ev_err e;
    records_source_init(&s);
    s.kind = "report";
    s.title = title;
    if (records_source_add(v, &s, &id, &e) != 0)
        print_error("%s\n", e.msg);
    assert_true(id > 0);
    snprintf(sql, sizeof sql, "UPDATE source SET uuid = '%s' WHERE id = %lld",
             uuid, (long long)id);
    exec_ok(v, sql);
    return id;
}

static int64_t add_evidence(vault *v, int64_t inc, const char *path,
                            const char *text)
{
    store_added a;
    ev_err e;
    write_file(path, text);
    if (store_evidence_add(v, inc, path, NULL, NULL, NULL, &a, &e) != 0)
        print_error("%s\n", e.msg);
    assert_true(a.evidence_id > 0);
    return a.evidence_id;
}

/* The fixture: an incident with three actors (one in two roles), two
 * sources, two evidence files and three tags, each added in the reverse
 * of its sorted order. */
static void build(fx *f)
{
    records_incident in;
    const char *tags[] = {"zeta", "alpha", "mid"};
    ev_err e;

    records_incident_init(&in);
    in.title = "Canonical case";
    in.type = "arrest";
    in.date = "2023-05-04";
    in.location = "Osh";
    in.coords = 1;
    in.lat = 40.5;
    in.lon = 72.8125;
    in.tags = tags;
    in.ntags = 3;
    in.description = "line one\nline two";
    assert_int_equal(records_incident_add(f->v, &in, &f->inc, &e), 0);
    records_incident_init(&in);
    in.title = "Other case";
    in.type = "trial";
    assert_int_equal(records_incident_add(f->v, &in, &f->other_inc, &e), 0);

    f->actor[0] = add_actor(f->v, "Actor Hi", ACTOR_HI);
    f->actor[1] = add_actor(f->v, "Actor Mid", ACTOR_MID);
    f->actor[2] = add_actor(f->v, "Actor Lo", ACTOR_LO);
    f->other_actor = add_actor(f->v, "Nobody", NULL);
    f->source[0] = add_source(f->v, "Source Hi", SOURCE_HI);
    f->source[1] = add_source(f->v, "Source Lo", SOURCE_LO);
    f->other_source = add_source(f->v, "Uncited",
                                 "99999999-9999-4999-8999-999999999999");
    assert_int_equal(records_link(f->v, f->inc, f->actor[0], "perpetrator",
                                  "ordered", &e),
                     0);
    assert_int_equal(
        records_link(f->v, f->inc, f->actor[1], "witness", NULL, &e), 0);
    assert_int_equal(
        records_link(f->v, f->inc, f->actor[1], "victim", NULL, &e), 0);
    assert_int_equal(
        records_link(f->v, f->inc, f->actor[2], "victim", NULL, &e), 0);
    assert_int_equal(records_cite(f->v, f->inc, f->source[0], &e), 0);
    assert_int_equal(records_cite(f->v, f->inc, f->source[1], &e), 0);
    f->evidence[0] = add_evidence(f->v, f->inc, "ev-a.txt", "first file\n");
    f->evidence[1] = add_evidence(f->v, f->inc, "ev-b.bin", "second\001\n");
    /* evidence UUIDs: the second sorts first */
    exec_ok(f->v, "UPDATE evidence SET uuid = 'ffffffff-ffff-4fff-8fff-"
                  "ffffffffffff' WHERE original_name = 'ev-a.txt'");
    exec_ok(f->v, "UPDATE evidence SET uuid = '00000000-0000-4000-8000-"
                  "000000000000' WHERE original_name = 'ev-b.bin'");
}

static void canonical(vault *v, int64_t id, char **out, size_t *len)
{
    ev_err e;
    int rc = seal_canonical(v, id, "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                            "2024-01-02T03:04:05Z", "0123456789ABCDEF",
                            "00112233445566778899aabbccddeeff", out, len, &e);
    if (rc != 0)
        print_error("seal_canonical: %s\n", e.msg);
    assert_int_equal(rc, 0);
    assert_non_null(*out);
    assert_true(*len > 0);
}

/* ---- canonical serialisation ------------------------------------------ */

static void test_canonical_stable(void **state)
{
    fx *f = *state;
    char *a = NULL, *b = NULL, *c = NULL;
    size_t al, bl, cl;

    build(f);
    canonical(f->v, f->inc, &a, &al);
    canonical(f->v, f->inc, &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    assert_int_equal(strlen(a), al); /* NUL-terminated, no NUL inside */
    vault_close(f->v);
    f->v = open_vault();
    assert_non_null(f->v);
    canonical(f->v, f->inc, &c, &cl);
    assert_int_equal(al, cl);
    assert_memory_equal(a, c, al);
    /* no white space outside strings: the record has no space, tab or
     * newline at all here except inside the title and description */
    {
        char *j = query_text(f->v, "SELECT json(?1)", a, al);
        assert_string_equal(j, a); /* json() minifies: already minimal */
        free(j);
    }
    free(a);
    free(b);
    free(c);
}

static void test_canonical_unknown(void **state)
{
    fx *f = *state;
    char *out = (char *)1;
    size_t len = 1;
    ev_err e;
    assert_int_equal(seal_canonical(f->v, 999, "u", "t", "s", "v", &out, &len,
                                    &e),
                     EV_ERR_NOTFOUND);
    assert_null(out);
    assert_int_equal(len, 0);
}

/* The keys of the object at path in doc, in document order, joined by ','. */
static char *keys_of(vault *v, const char *doc, const char *path)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT group_concat(key, ',') FROM (SELECT key FROM "
             "json_each(?1, '%s') ORDER BY id)",
             path);
    return query_text(v, sql, doc, strlen(doc));
}

/* Every key list of the object at path is strictly increasing (memcmp). */
static void assert_sorted_keys(vault *v, const char *doc, const char *path,
                               const char *want)
{
    char *k = keys_of(v, doc, path);
    const char *prev = NULL;
    size_t prevlen = 0;
    if (strcmp(k, want) != 0)
        print_error("keys of %s: '%s', want '%s'\n", path, k, want);
    assert_string_equal(k, want);
    /* and the expected list is itself in byte order */
    for (const char *t = k; *t;) {
        size_t n = strcspn(t, ",");
        if (prev) {
            int c = memcmp(prev, t, prevlen < n ? prevlen : n);
            assert_true(c < 0 || (c == 0 && prevlen < n));
        }
        prev = t;
        prevlen = n;
        t += n + (t[n] == ',');
    }
    free(k);
}

static void test_canonical_key_order(void **state)
{
    fx *f = *state;
    char *r = NULL;
    size_t len;
    char path[40];

    build(f);
    canonical(f->v, f->inc, &r, &len);
    assert_sorted_keys(f->v, r, "$",
                       "actors,evidence,format,incident,involvements,seal,"
                       "sources");
    assert_sorted_keys(f->v, r, "$.incident",
                       "confidential,created,date,date_precision,"
                       "description,end_date,end_date_precision,latitude,"
                       "location,longitude,status,supersedes,tags,title,"
                       "type,updated,uuid");
    assert_sorted_keys(f->v, r, "$.seal", "sealed_at,signer,uuid,vault_id");
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "$.actors[%d]", i);
        assert_sorted_keys(f->v, r, path,
                           "category,confidential,description,kind,name,"
                           "other_names,uuid");
    }
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "$.sources[%d]", i);
        assert_sorted_keys(f->v, r, path,
                           "confidential,consent,date,date_precision,"
                           "description,kind,reliability,title,url,uuid");
        snprintf(path, sizeof path, "$.evidence[%d]", i);
        assert_sorted_keys(f->v, r, path,
                           "acquired_at,acquired_by,description,media_type,"
                           "method,original_name,sha256,size,url,uuid");
    }
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "$.involvements[%d]", i);
        assert_sorted_keys(f->v, r, path, "actor,degree,role");
    }
    /* the literal head of the text: no white space, keys in order */
    assert_true(strncmp(r, "{\"actors\":[{\"category\":", 23) == 0);
    assert_non_null(strstr(r, "\"format\":\"evault-sealed-record-1\""));
    assert_non_null(strstr(r, "\"seal\":{\"sealed_at\":\"2024-01-02T03:04:05Z"
                              "\",\"signer\":\"0123456789ABCDEF\",\"uuid\":"
                              "\"aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa\","
                              "\"vault_id\":\"00112233445566778899aabbccdd"
                              "eeff\"}"));
    free(r);
}

static void test_canonical_arrays_sorted(void **state)
{
    fx *f = *state;
    char *r = NULL, *s;
    size_t len;

    build(f);
    canonical(f->v, f->inc, &r, &len);
    s = query_text(f->v, "SELECT json_extract(?1, '$.incident.tags')", r, len);
    assert_string_equal(s, "[\"alpha\",\"mid\",\"zeta\"]");
    free(s);
    s = query_text(f->v,
                   "SELECT group_concat(json_extract(value, '$.uuid'), ' ') "
                   "FROM (SELECT value FROM json_each(?1, '$.actors') ORDER "
                   "BY id)",
                   r, len);
    assert_string_equal(s, ACTOR_LO " " ACTOR_MID " " ACTOR_HI);
    free(s);
    s = query_text(f->v,
                   "SELECT group_concat(json_extract(value, '$.name'), ',') "
                   "FROM (SELECT value FROM json_each(?1, '$.actors') ORDER "
                   "BY id)",
                   r, len);
    assert_string_equal(s, "Actor Lo,Actor Mid,Actor Hi");
    free(s);
    s = query_text(f->v,
                   "SELECT group_concat(json_extract(value, '$.uuid'), ' ') "
                   "FROM (SELECT value FROM json_each(?1, '$.sources') ORDER "
                   "BY id)",
                   r, len);
    assert_string_equal(s, SOURCE_LO " " SOURCE_HI);
    free(s);
    s = query_text(f->v,
                   "SELECT group_concat(json_extract(value, '$.original_name'"
                   "), ',') FROM (SELECT value FROM json_each(?1, "
                   "'$.evidence') ORDER BY id)",
                   r, len);
    assert_string_equal(s, "ev-b.bin,ev-a.txt");
    free(s);
    /* involvements by actor uuid, then role */
    s = query_text(f->v,
                   "SELECT group_concat(json_extract(value, '$.actor') || '/'"
                   " || json_extract(value, '$.role') || '/' || "
                   "ifnull(json_extract(value, '$.degree'), '-'), ' ') FROM "
                   "(SELECT value FROM json_each(?1, '$.involvements') ORDER "
                   "BY id)",
                   r, len);
    assert_string_equal(s, ACTOR_LO "/victim/- " ACTOR_MID "/victim/- " ACTOR_MID
                           "/witness/- " ACTOR_HI "/perpetrator/ordered");
    free(s);
    /* the evidence hashes are those of the files */
    {
        struct sha256_ctx h;
        uint8_t d[32];
        char hex[65], want[200];
        sha256_init(&h);
        sha256_update(&h, 11, (const uint8_t *)"first file\n");
        sha256_digest(&h, 32, d);
        sodium_bin2hex(hex, sizeof hex, d, 32);
        snprintf(want, sizeof want, "%s", hex);
        s = query_text(f->v, "SELECT json_extract(?1, '$.evidence[1].sha256')",
                       r, len);
        assert_string_equal(s, want);
        free(s);
        s = query_text(f->v, "SELECT json_extract(?1, '$.evidence[1].size')",
                       r, len);
        assert_string_equal(s, "11");
        free(s);
    }
    /* numbers and absent values */
    assert_non_null(strstr(r, "\"latitude\":40.5,"));
    assert_non_null(strstr(r, "\"longitude\":72.8125,"));
    assert_non_null(strstr(r, "\"end_date\":null,"));
    assert_non_null(strstr(r, "\"supersedes\":null,"));
    assert_non_null(strstr(r, "\"confidential\":false,"));
    /* contact details are never in a record */
    assert_null(strstr(r, "\"contact\""));
    free(r);
}

/* A title with every kind of character: it must come out escaped as
 * docs/FORMAT.md 12.3 says and read back as the same bytes. */
static void test_canonical_unicode(void **state)
{
    fx *f = *state;
    /* e-acute, two CJK characters, an emoji (4 bytes), a quote, a
     * backslash, U+0001, U+001F, a tab, a newline, and DEL (not a control
     * character for JSON) */
    static const char title[] = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
                                "\xf0\x9f\x98\x80 q\"b\\c \x01|\x1f|\t|\n|\x7f";
    static const char want[] = "\"title\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c"
                               "\xac \xf0\x9f\x98\x80 q\\\"b\\\\c \\u0001|"
                               "\\u001f|\\t|\\n|\x7f\"";
    sqlite3_stmt *st = NULL;
    char *r = NULL, *back;
    size_t len;

    build(f);
    assert_int_equal(sqlite3_prepare_v2(vault_db(f->v),
                                        "UPDATE incident SET title = ?1 "
                                        "WHERE id = ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, title, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->inc);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    canonical(f->v, f->inc, &r, &len);
    if (!strstr(r, want))
        print_error("record: %s\n", r);
    assert_non_null(strstr(r, want));
    /* raw UTF-8, never \u escapes for non-ASCII */
    assert_null(strstr(r, "\\u00e9"));
    assert_null(strstr(r, "\\u00E9"));
    assert_null(strstr(r, "\\ud83d"));
    /* the description's newline */
    assert_non_null(strstr(r, "\"description\":\"line one\\nline two\""));
    /* valid JSON that reads back to the same bytes */
    back = query_text(f->v, "SELECT json_extract(?1, '$.incident.title')", r,
                      len);
    assert_string_equal(back, title);
    free(back);
    /* no raw control character anywhere in the record */
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)r[i] >= 0x20);
    free(r);
}

static void test_canonical_changes(void **state)
{
    fx *f = *state;
    char *a = NULL, *b = NULL;
    size_t al, bl;
    records_actor act;
    ev_err e;

    build(f);
    canonical(f->v, f->inc, &a, &al);
    /* an actor in no incident of this one: no change */
    records_actor_init(&act);
    act.description = "changed";
    assert_int_equal(records_actor_edit(f->v, f->other_actor, &act, &e), 0);
    canonical(f->v, f->inc, &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(b);
    /* a linked actor's name: the record changes */
    records_actor_init(&act);
    act.name = "Actor Lo renamed";
    assert_int_equal(records_actor_edit(f->v, f->actor[2], &act, &e), 0);
    canonical(f->v, f->inc, &b, &bl);
    assert_true(al != bl || memcmp(a, b, al) != 0);
    assert_non_null(strstr(b, "Actor Lo renamed"));
    free(a);
    free(b);
}

/* ---- seals ---------------------------------------------------------------- */

static void test_seal_hash_and_signature(void **state)
{
    fx *f = *state;
    char seal_uuid[37], trusted[MSIG_TRUSTED_MAX + 1], want[400];
    char inc_uuid[37], *now = NULL;
    size_t nowlen;
    identity_public pub;
    msig_pubkey pk;
    msig_sig sig;
    seal_info si;
    report r = {0};
    uint64_t seals, bad;
    uint8_t d[32];
    struct sha256_ctx h;
    ev_err e;
    char *u;

    build(f);
    assert_int_equal(seal_incident(f->v, f->inc, seal_uuid, &e), 0);
    assert_int_equal(strlen(seal_uuid), 36);
    assert_int_equal(seal_get(f->v, f->inc, &si, &e), 0);
    assert_string_equal(si.uuid, seal_uuid);
    u = query_text(f->v, "SELECT uuid FROM incident WHERE id = 1", NULL, 0);
    snprintf(inc_uuid, sizeof inc_uuid, "%s", u);
    free(u);
    assert_string_equal(si.incident_uuid, inc_uuid);
    /* the stored hash is nettle's SHA-256 of the record */
    sha256_init(&h);
    sha256_update(&h, si.record_len, (const uint8_t *)si.record);
    sha256_digest(&h, 32, d);
    assert_memory_equal(d, si.sha256, 32);
    /* the record is the canonical record under the seal's fields */
    assert_int_equal(identity_get_public(f->v, &pub, &e), 0);
    assert_int_equal(seal_canonical(f->v, f->inc, si.uuid, si.sealed_at,
                                    pub.key_id, pub.vault_id, &now, &nowlen,
                                    &e),
                     0);
    assert_int_equal(nowlen, si.record_len);
    assert_memory_equal(now, si.record, nowlen);
    free(now);
    /* the signature verifies under the identity's minisign key */
    assert_int_equal(msig_pubkey_parse(&pk, pub.minisign_pubkey,
                                       strlen(pub.minisign_pubkey)),
                     0);
    assert_int_equal(msig_sig_parse(&sig, si.signature, strlen(si.signature)),
                     0);
    assert_int_equal(sig.prehashed, 1);
    assert_int_equal(msig_verify(trusted, sizeof trusted, &pk, &sig,
                                 (const uint8_t *)si.record, si.record_len),
                     0);
    snprintf(want, sizeof want,
             "evault seal %s incident %s sealed_at %s vault %s", si.uuid,
             inc_uuid, si.sealed_at, pub.vault_id);
    assert_string_equal(trusted, want);
    /* a changed byte anywhere in the record fails */
    for (size_t i = 0; i < si.record_len; i += 7) {
        si.record[i] ^= 0x01;
        assert_int_not_equal(msig_verify(NULL, 0, &pk, &sig,
                                         (const uint8_t *)si.record,
                                         si.record_len),
                             0);
        si.record[i] ^= 0x01;
    }
    /* another vault's key does not verify it */
    {
        msig_keypair *other = msig_keypair_new();
        assert_non_null(other);
        assert_int_not_equal(msig_verify(NULL, 0, &other->pub, &sig,
                                         (const uint8_t *)si.record,
                                         si.record_len),
                             0);
        msig_keypair_free(other);
    }
    seal_info_clear(&si);
    /* sealing twice: EV_ERR_EXISTS, and no second seal */
    assert_int_equal(seal_incident(f->v, f->inc, NULL, &e), EV_ERR_EXISTS);
    assert_int_equal(query_int(f->v, "SELECT count(*) FROM seal"), 1);
    /* a clean vault verifies */
    assert_int_equal(seal_verify_all(f->v, &r, &seals, &bad, &e), 0);
    assert_int_equal(seals, 1);
    assert_int_equal(bad, 0);
    assert_int_equal(r.n, 0);
    report_clear(&r);
    /* seal_get of an unsealed incident */
    assert_int_equal(seal_get(f->v, f->other_inc, &si, &e), EV_ERR_NOTFOUND);
}

static void test_seal_amend(void **state)
{
    fx *f = *state;
    records_incident in;
    int64_t nid = 0, again = 0;
    char *r = NULL, *old_uuid;
    size_t len;
    int sealed = 1;
    ev_err e;

    build(f);
    records_incident_init(&in);
    in.title = "Amended";
    assert_int_equal(records_incident_amend(f->v, f->inc, &in, &nid, &e),
                     EV_ERR_REFUSED); /* not sealed yet */
    assert_int_equal(seal_incident(f->v, f->inc, NULL, &e), 0);
    assert_int_equal(records_incident_edit(f->v, f->inc, &in, &e),
                     EV_ERR_REFUSED);
    assert_non_null(strstr(e.msg, "amend"));
    assert_int_equal(records_incident_amend(f->v, f->inc, &in, &nid, &e), 0);
    assert_true(nid > 0 && nid != f->inc);
    assert_int_equal(seal_is_sealed(f->v, nid, &sealed, &e), 0);
    assert_int_equal(sealed, 0);
    canonical(f->v, nid, &r, &len);
    old_uuid = query_text(f->v, "SELECT uuid FROM incident WHERE id = 1",
                          NULL, 0);
    {
        char *s = query_text(f->v,
                             "SELECT json_extract(?1, '$.incident.supersedes')"
                             " || '|' || json_extract(?1, '$.incident.title') "
                             "|| '|' || json_array_length(?1, '$.actors') || "
                             "json_array_length(?1, '$.sources') || "
                             "json_array_length(?1, '$.evidence') || "
                             "json_array_length(?1, '$.involvements')",
                             r, len);
        char want[100];
        snprintf(want, sizeof want, "%s|Amended|3224", old_uuid);
        assert_string_equal(s, want);
        free(s);
    }
    free(r);
    free(old_uuid);
    /* amended once: again is refused */
    assert_int_equal(records_incident_amend(f->v, f->inc, &in, &again, &e),
                     EV_ERR_REFUSED);
    assert_non_null(strstr(e.msg, "already amended"));
    /* the new version seals, and both seals verify */
    assert_int_equal(seal_incident(f->v, nid, NULL, &e), 0);
    {
        report rep = {0};
        uint64_t n, bad;
        assert_int_equal(seal_verify_all(f->v, &rep, &n, &bad, &e), 0);
        assert_int_equal(n, 2);
        assert_int_equal(bad, 0);
        report_clear(&rep);
    }
}

/* ---- custody log ------------------------------------------------------- */

static void test_custody_chain(void **state)
{
    fx *f = *state;
    identity_public pub;
    msig_pubkey pk;
    sqlite3_stmt *st = NULL;
    uint8_t prev[32] = {0};
    int64_t n = 0;
    report r = {0};
    uint64_t entries, bad;
    ev_err e;

    build(f);
    assert_int_equal(seal_incident(f->v, f->inc, NULL, &e), 0);
    assert_int_equal(identity_get_public(f->v, &pub, &e), 0);
    assert_int_equal(msig_pubkey_parse(&pk, pub.minisign_pubkey,
                                       strlen(pub.minisign_pubkey)),
                     0);
    assert_int_equal(sqlite3_prepare_v2(vault_db(f->v),
                                        "SELECT seq, prev_hash, hash, "
                                        "signature, action, object_type, "
                                        "object FROM custody ORDER BY seq",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint8_t m[18 + 32];
        n++;
        assert_int_equal(sqlite3_column_int64(st, 0), n);
        assert_int_equal(sqlite3_column_bytes(st, 1), 32);
        assert_int_equal(sqlite3_column_bytes(st, 2), 32);
        assert_int_equal(sqlite3_column_bytes(st, 3), 64);
        assert_memory_equal(sqlite3_column_blob(st, 1), prev, 32);
        memcpy(prev, sqlite3_column_blob(st, 2), 32);
        /* Ed25519 over "evault-custody-v1\n" || hash */
        memcpy(m, "evault-custody-v1\n", 18);
        memcpy(m + 18, prev, 32);
        assert_int_equal(crypto_sign_verify_detached(
                             sqlite3_column_blob(st, 3), m, sizeof m, pk.pk),
                         0);
        if (n == 1) {
            assert_string_equal(sqlite3_column_text(st, 4), "create");
            assert_string_equal(sqlite3_column_text(st, 5), "vault");
            assert_string_equal(sqlite3_column_text(st, 6), pub.vault_id);
        }
        if (n == 2)
            assert_string_equal(sqlite3_column_text(st, 5), "identity");
    }
    sqlite3_finalize(st);
    /* vault, identity, 2 incidents, 4 actors, 3 sources, 4 links, 2
     * citations, 2 attachments, 1 seal (the raw uuid updates log nothing) */
    assert_int_equal(n, 2 + 2 + 4 + 3 + 4 + 2 + 2 + 1);
    /* the canonical text of entry 1, written out here */
    {
        sqlite3_stmt *q = NULL;
        char text[600];
        struct sha256_ctx h;
        uint8_t d[32];
        assert_int_equal(sqlite3_prepare_v2(vault_db(f->v),
                                            "SELECT at, hash FROM custody "
                                            "WHERE seq = 1",
                                            -1, &q, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        snprintf(text, sizeof text,
                 "{\"seq\":1,\"at\":\"%s\",\"action\":\"create\","
                 "\"object_type\":\"vault\",\"object\":\"%s\",\"detail\":"
                 "\"vault created\",\"prev\":\"%064d\"}",
                 sqlite3_column_text(q, 0), pub.vault_id, 0);
        sha256_init(&h);
        sha256_update(&h, strlen(text), (const uint8_t *)text);
        sha256_digest(&h, 32, d);
        assert_memory_equal(d, sqlite3_column_blob(q, 1), 32);
        sqlite3_finalize(q);
    }
    assert_int_equal(custody_verify(f->v, &r, &entries, &bad, &e), 0);
    assert_int_equal(entries, (uint64_t)n);
    assert_int_equal(bad, 0);
    assert_int_equal(r.n, 0);
    report_clear(&r);
}

/* Turn the connection's triggers on or off. */
static void triggers(vault *v, int on)
{
    int now = -1;
    sqlite3_db_config(vault_db(v), SQLITE_DBCONFIG_ENABLE_TRIGGER, on, &now);
    assert_int_equal(now, on);
}

static int report_has(const report *r, const char *text)
{
    for (size_t i = 0; i < r->n; i++)
        if (strstr(r->items[i], text))
            return 1;
    return 0;
}

static void test_custody_tampered(void **state)
{
    fx *f = *state;
    report r = {0};
    uint64_t entries, bad;
    ev_err e;

    build(f);
    triggers(f->v, 0);
    exec_ok(f->v, "UPDATE custody SET detail = 'x' WHERE seq = 5");
    triggers(f->v, 1);
    assert_int_equal(custody_verify(f->v, &r, &entries, &bad, &e), 0);
    assert_true(bad >= 1);
    assert_true(report_has(&r, "entry 5 "));
    report_clear(&r);

    /* a deleted entry in the middle */
    triggers(f->v, 0);
    exec_ok(f->v, "DELETE FROM custody WHERE seq = 8");
    triggers(f->v, 1);
    assert_int_equal(custody_verify(f->v, &r, &entries, &bad, &e), 0);
    assert_true(bad >= 2);
    assert_true(report_has(&r, "entry 9 "));
    report_clear(&r);
}

static void test_custody_signature_swapped(void **state)
{
    fx *f = *state;
    report r = {0};
    uint64_t entries, bad;
    ev_err e;

    build(f);
    triggers(f->v, 0);
    exec_ok(f->v, "UPDATE custody SET signature = (SELECT signature FROM "
                  "custody WHERE seq = 3) WHERE seq = 4");
    triggers(f->v, 1);
    assert_int_equal(custody_verify(f->v, &r, &entries, &bad, &e), 0);
    assert_int_equal(bad, 1);
    assert_true(report_has(&r, "entry 4 has a bad signature"));
    report_clear(&r);
}

static void test_custody_with_change(void **state)
{
    fx *f = *state;
    records_incident in;
    int64_t before, id = 0;
    char *big, *d;
    ev_err e;

    build(f);
    before = query_int(f->v, "SELECT count(*) FROM custody");
    /* a failing write logs nothing */
    records_incident_init(&in);
    in.title = "x";
    in.type = "no-such-type";
    assert_int_not_equal(records_incident_add(f->v, &in, &id, &e), 0);
    assert_int_equal(query_int(f->v, "SELECT count(*) FROM custody"), before);
    assert_int_not_equal(records_link(f->v, f->inc, 999, "victim", NULL, &e),
                         0);
    assert_int_equal(query_int(f->v, "SELECT count(*) FROM custody"), before);
    /* outside a transaction custody_append refuses */
    assert_int_equal(custody_append(f->v, "test", "vault", "x", "d", &e),
                     EV_ERR_INTERNAL);
    assert_int_equal(query_int(f->v, "SELECT count(*) FROM custody"), before);
    /* an entry rolled back with its transaction */
    exec_ok(f->v, "BEGIN IMMEDIATE");
    assert_int_equal(custody_append(f->v, "test", "vault", "x", "d", &e), 0);
    exec_ok(f->v, "ROLLBACK");
    assert_int_equal(query_int(f->v, "SELECT count(*) FROM custody"), before);
    /* custody_record commits one of its own */
    assert_int_equal(custody_record(f->v, "test", "vault", "obj-1", "d", &e),
                     0);
    assert_int_equal(query_int(f->v, "SELECT count(*) FROM custody"),
                     before + 1);
    /* detail cut to 1000 bytes at a character boundary: 2-byte and 3-byte
     * characters */
    big = malloc(3001);
    assert_non_null(big);
    for (int i = 0; i < 750; i++)
        memcpy(big + 2 * i, "\xc3\xa9", 2);
    big[1500] = '\0';
    assert_int_equal(custody_record(f->v, "test", "vault", "obj-2", big, &e),
                     0);
    assert_int_equal(query_int(f->v, "SELECT length(CAST(detail AS BLOB)) "
                                     "FROM custody ORDER BY seq DESC LIMIT 1"),
                     1000);
    for (int i = 0; i < 1000; i++)
        memcpy(big + 3 * i, "\xe6\x97\xa5", 3);
    big[3000] = '\0';
    assert_int_equal(custody_record(f->v, "test", "vault", "obj-3", big, &e),
                     0);
    assert_int_equal(query_int(f->v, "SELECT length(CAST(detail AS BLOB)) "
                                     "FROM custody ORDER BY seq DESC LIMIT 1"),
                     999);
    free(big);
    /* the list filters */
    assert_int_equal(custody_list(f->v, "obj-", NULL, &d, &e), 0);
    {
        char *n = query_text(f->v, "SELECT json_array_length(?1, '$.entries')",
                             d, strlen(d));
        assert_string_equal(n, "3");
        free(n);
    }
    free(d);
    assert_int_equal(custody_list(f->v, NULL, "9999-01-01", &d, &e), 0);
    assert_string_equal(d, "{\"entries\":[]}");
    free(d);
    assert_int_equal(custody_list(f->v, NULL, "yesterday", &d, &e),
                     EV_ERR_INVALID);
    {
        report r = {0};
        uint64_t entries, bad;
        assert_int_equal(custody_verify(f->v, &r, &entries, &bad, &e), 0);
        assert_int_equal(bad, 0);
        report_clear(&r);
    }
}

/* ---- triggers ----------------------------------------------------------- */

/* sql must fail with a constraint (a trigger's RAISE) and change nothing. */
static void refused(vault *v, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(vault_db(v), sql, NULL, NULL, &msg);
    if ((rc & 0xff) != SQLITE_CONSTRAINT)
        print_error("'%s' gave %d (%s), expected SQLITE_CONSTRAINT\n", sql,
                    rc, msg ? msg : "ok");
    sqlite3_free(msg);
    assert_int_equal(rc & 0xff, SQLITE_CONSTRAINT);
    assert_int_equal(sqlite3_get_autocommit(vault_db(v)), 1);
}

static void test_triggers(void **state)
{
    fx *f = *state;
    char sql[400];
    report r = {0};
    uint64_t n, bad;
    int64_t blob;
    ev_err e;

    build(f);
    assert_int_equal(seal_incident(f->v, f->inc, NULL, &e), 0);
    blob = query_int(f->v, "SELECT b.id FROM blob b JOIN evidence ev ON "
                           "ev.sha256 = b.sha256 WHERE ev.original_name = "
                           "'ev-a.txt'");
    assert_true(blob > 0);
    refused(f->v, "UPDATE custody SET detail = 'x' WHERE seq = 3");
    refused(f->v, "UPDATE custody SET seq = seq + 1000");
    refused(f->v, "DELETE FROM custody WHERE seq = 3");
    refused(f->v, "DELETE FROM custody");
    refused(f->v, "INSERT INTO custody SELECT (SELECT max(seq) + 2 FROM "
                  "custody), at, action, object_type, object, detail, "
                  "prev_hash, hash, signature FROM custody WHERE seq = 1");
    refused(f->v, "INSERT INTO custody SELECT (SELECT max(seq) FROM custody), "
                  "at, action, object_type, object, detail, prev_hash, hash, "
                  "signature FROM custody WHERE seq = 1");
    refused(f->v, "INSERT INTO custody(seq, at, action, object_type, object, "
                  "detail, prev_hash, hash, signature) VALUES (0, 'x', 'x', "
                  "'x', 'x', 'x', zeroblob(32), zeroblob(32), zeroblob(64))");
    refused(f->v, "UPDATE seal SET sealed_at = '2000-01-01T00:00:00Z'");
    refused(f->v, "UPDATE seal SET signature = ''");
    refused(f->v, "DELETE FROM seal");
    refused(f->v, "UPDATE identity SET created = 'x'");
    refused(f->v, "DELETE FROM identity");
#define R(fmt, ...)                                                          \
    do {                                                                     \
        snprintf(sql, sizeof sql, fmt, __VA_ARGS__);                         \
        refused(f->v, sql);                                                  \
    } while (0)
    R("UPDATE incident SET title = 'forged' WHERE id = %lld",
      (long long)f->inc);
    R("UPDATE incident SET updated = '2000-01-01T00:00:00Z' WHERE id = %lld",
      (long long)f->inc);
    R("DELETE FROM incident WHERE id = %lld", (long long)f->inc);
    R("INSERT INTO incident_tag(incident_id, tag) VALUES (%lld, 'new')",
      (long long)f->inc);
    R("UPDATE incident_tag SET tag = 'other' WHERE incident_id = %lld",
      (long long)f->inc);
    R("DELETE FROM incident_tag WHERE incident_id = %lld", (long long)f->inc);
    R("INSERT INTO involvement(incident_id, actor_id, role) VALUES (%lld, "
      "%lld, 'witness')",
      (long long)f->inc, (long long)f->other_actor);
    R("UPDATE involvement SET role = 'other' WHERE incident_id = %lld",
      (long long)f->inc);
    R("DELETE FROM involvement WHERE incident_id = %lld", (long long)f->inc);
    R("INSERT INTO citation(incident_id, source_id) VALUES (%lld, %lld)",
      (long long)f->inc, (long long)f->other_source);
    R("UPDATE citation SET source_id = source_id WHERE incident_id = %lld",
      (long long)f->inc);
    R("DELETE FROM citation WHERE incident_id = %lld", (long long)f->inc);
    R("INSERT INTO evidence_link(evidence_id, incident_id) SELECT id, %lld "
      "FROM evidence WHERE id = %lld",
      (long long)f->inc, (long long)f->evidence[0]);
    R("UPDATE evidence_link SET incident_id = %lld WHERE incident_id = %lld",
      (long long)f->other_inc, (long long)f->inc);
    R("DELETE FROM evidence_link WHERE incident_id = %lld",
      (long long)f->inc);
    for (int i = 0; i < 3; i++) {
        R("UPDATE actor SET name = 'forged' WHERE id = %lld",
          (long long)f->actor[i]);
        R("UPDATE actor SET contact = 'forged' WHERE id = %lld",
          (long long)f->actor[i]);
        R("DELETE FROM actor WHERE id = %lld", (long long)f->actor[i]);
    }
    for (int i = 0; i < 2; i++) {
        R("UPDATE source SET title = 'forged' WHERE id = %lld",
          (long long)f->source[i]);
        R("DELETE FROM source WHERE id = %lld", (long long)f->source[i]);
        R("UPDATE evidence SET description = 'forged' WHERE id = %lld",
          (long long)f->evidence[i]);
        R("DELETE FROM evidence WHERE id = %lld", (long long)f->evidence[i]);
    }
    R("UPDATE blob SET size = size + 1 WHERE id = %lld", (long long)blob);
    R("DELETE FROM blob WHERE id = %lld", (long long)blob);
    R("UPDATE chunk SET data = x'00' WHERE blob_id = %lld", (long long)blob);
    R("DELETE FROM chunk WHERE blob_id = %lld", (long long)blob);
#undef R
    /* controls: what no seal covers can still change */
    snprintf(sql, sizeof sql,
             "UPDATE incident SET title = 'free' WHERE id = %lld; UPDATE "
             "actor SET name = 'free' WHERE id = %lld; INSERT INTO "
             "involvement(incident_id, actor_id, role) VALUES (%lld, %lld, "
             "'witness'); INSERT INTO citation(incident_id, source_id) "
             "VALUES (%lld, %lld); INSERT INTO evidence_link(evidence_id, "
             "incident_id) VALUES (%lld, %lld)",
             (long long)f->other_inc, (long long)f->other_actor,
             (long long)f->other_inc, (long long)f->actor[0],
             (long long)f->other_inc, (long long)f->source[0],
             (long long)f->evidence[0], (long long)f->other_inc);
    exec_ok(f->v, sql);
    /* nothing sealed changed, and the log is whole */
    assert_int_equal(seal_verify_all(f->v, &r, &n, &bad, &e), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(custody_verify(f->v, &r, &n, &bad, &e), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(r.n, 0);
    report_clear(&r);
}

/* With the triggers off (as a bug or someone with the key could), the
 * seal check notices every kind of change to what a seal covers. */
static void test_seal_verify_tampered(void **state)
{
    static const char *const changes[] = {
        "UPDATE incident SET title = 'forged' WHERE id = 1",
        "DELETE FROM incident_tag WHERE incident_id = 1 AND tag = 'mid'",
        "INSERT INTO incident_tag(incident_id, tag) VALUES (1, 'added')",
        "UPDATE involvement SET degree = 'suspected' WHERE role = "
        "'perpetrator'",
        "DELETE FROM citation WHERE incident_id = 1 AND source_id = (SELECT "
        "id FROM source WHERE title = 'Source Lo')",
        "UPDATE actor SET other_names = '[\"x\"]' WHERE name = 'Actor Hi'",
        "UPDATE source SET url = 'https://example.org' WHERE title = "
        "'Source Lo'",
        "UPDATE evidence SET size = size + 1 WHERE original_name = "
        "'ev-a.txt'",
        "UPDATE evidence SET method = 'photo' WHERE original_name = "
        "'ev-b.bin'",
        "DELETE FROM evidence_link WHERE incident_id = 1 AND evidence_id = "
        "(SELECT id FROM evidence WHERE original_name = 'ev-b.bin')",
        "UPDATE seal SET record = CAST(replace(CAST(record AS TEXT), "
        "'Canonical', 'Kanonical') AS BLOB)",
        "UPDATE seal SET sha256 = zeroblob(32)",
        "UPDATE seal SET signature = replace(signature, 'trusted comment: "
        "evault', 'trusted comment: Evault')",
    };
    fx *f = *state;
    ev_err e;

    build(f);
    assert_int_equal(seal_incident(f->v, f->inc, NULL, &e), 0);
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        report r = {0};
        uint64_t n, bad;
        exec_ok(f->v, "SAVEPOINT t");
        triggers(f->v, 0);
        exec_ok(f->v, changes[i]);
        triggers(f->v, 1);
        assert_int_equal(seal_verify_all(f->v, &r, &n, &bad, &e), 0);
        if (bad != 1)
            print_error("not caught: %s\n", changes[i]);
        assert_int_equal(bad, 1);
        assert_true(r.n >= 1);
        report_clear(&r);
        exec_ok(f->v, "ROLLBACK TO t; RELEASE t");
    }
}

/* ---- identity and partner card --------------------------------------------- */

static void test_identity_public(void **state)
{
    fx *f = *state;
    identity_public pub, again;
    identity *id = vault_identity(f->v);
    msig_pubkey pk;
    uint8_t box[32], d[32], fromsk[32];
    char fpr[IDENTITY_FPRLEN + 1];
    size_t at = 0;
    struct sha256_ctx h;
    ev_err e;

    assert_non_null(id);
    assert_int_equal(identity_get_public(f->v, &pub, &e), 0);
    assert_string_equal(pub.name, "Integrity Org");
    assert_int_equal(strlen(pub.vault_id), 32);
    assert_int_equal(strlen(pub.key_id), 16);
    assert_int_equal(msig_pubkey_parse(&pk, pub.minisign_pubkey,
                                       strlen(pub.minisign_pubkey)),
                     0);
    assert_memory_equal(pk.pk, id->sign->pub.pk, 32);
    assert_memory_equal(pk.keyid, id->sign->pub.keyid, 8);
    /* the age recipient is the X25519 public key of the stored secret */
    assert_int_equal(strncmp(pub.age_recipient, "age1", 4), 0);
    assert_int_equal(bech32_age_parse_recipient(box, pub.age_recipient,
                                                strlen(pub.age_recipient)),
                     0);
    crypto_scalarmult_base(fromsk, id->box_sk);
    assert_memory_equal(box, fromsk, 32);
    /* the fingerprint, computed here from docs/FORMAT.md 12.1 */
    sha256_init(&h);
    sha256_update(&h, 18, (const uint8_t *)"evault-identity-v1");
    sha256_update(&h, 32, pk.pk);
    sha256_update(&h, 32, box);
    sha256_digest(&h, 32, d);
    for (int i = 0; i < 8; i++)
        at += (size_t)snprintf(fpr + at, sizeof fpr - at, "%s%05u",
                               i ? " " : "",
                               (unsigned)(d[2 * i] << 8 | d[2 * i + 1]));
    assert_string_equal(pub.fingerprint, fpr);
    /* the same after close and reopen */
    vault_close(f->v);
    f->v = open_vault();
    assert_non_null(f->v);
    assert_int_equal(identity_get_public(f->v, &again, &e), 0);
    assert_memory_equal(&pub, &again, sizeof pub);
    /* the identity's secrets are never readable through UPDATE: triggers */
    refused(f->v, "UPDATE identity SET sign_sk = sign_sk");
}

static void test_card_round_trip(void **state)
{
    fx *f = *state;
    identity_public pub;
    identity_card_info info;
    char *card = NULL, *copy;
    size_t len;
    ev_err e;
    int accepted = 0;
    static const uint8_t flips[] = {0x01, 0x02, 0x20, 0x80};

    assert_int_equal(identity_get_public(f->v, &pub, &e), 0);
    assert_int_equal(identity_card(f->v, &card, &e), 0);
    len = strlen(card);
    assert_true(len <= IDENTITY_CARD_MAX);
    {
        static const char head[] = "evault-partner-card-v1\nname: Integrity "
                                   "Org\nvault-id: ";
        assert_int_equal(strncmp(card, head, sizeof head - 1), 0);
    }
    assert_int_equal(identity_card_parse(&info, card, len, &e), 0);
    assert_string_equal(info.name, pub.name);
    assert_string_equal(info.vault_id, pub.vault_id);
    assert_string_equal(info.age_recipient, pub.age_recipient);
    assert_string_equal(info.fingerprint, pub.fingerprint);
    assert_string_equal(info.created, pub.created);
    {
        char b64[MSIG_PUBKEY_B64LEN + 1];
        msig_pubkey_base64(b64, &info.sign);
        assert_string_equal(b64, pub.minisign_pubkey);
    }
    /* every one-byte change of the card is refused (but a '/' of the
     * signature turned into a byte >= 0x80: a known bug, left to
     * test_card_signature_base64_alias below so that this test does not
     * fail only on the 74% of cards whose signature has a '/') */
    copy = malloc(len + 2);
    assert_non_null(copy);
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof flips; k++) {
            if (card[i] == '/' && flips[k] == 0x80 &&
                i > (size_t)(strstr(card, "\nsignature: ") - card))
                continue;
            memcpy(copy, card, len + 1);
            copy[i] = (char)(copy[i] ^ flips[k]);
            if (identity_card_parse(&info, copy, len, &e) == 0) {
                print_error("byte %zu ^ 0x%02x accepted\n", i, flips[k]);
                accepted++;
            }
            /* and nothing of it is left in info */
            if (info.name[0] || info.vault_id[0])
                accepted++;
        }
    }
    if (accepted) {
        free(copy);
        free(card);
    }
    assert_int_equal(accepted, 0);
    /* one byte short, one byte more */
    assert_int_not_equal(identity_card_parse(&info, card, len - 1, &e), 0);
    memcpy(copy, card, len);
    copy[len] = '\n';
    copy[len + 1] = '\0';
    assert_int_not_equal(identity_card_parse(&info, copy, len + 1, &e), 0);
    free(copy);
    /* a card from another vault parses, with its own keys */
    {
        kdf_params p;
        vault *w = NULL;
        char *other = NULL;
        identity_card_info oi;
        kdf_profile("test", &p);
        unlink("other.evault");
        assert_int_equal(vault_create("other.evault", PASS, strlen(PASS), &p,
                                      "Other Org", NULL, NULL, &e),
                         0);
        assert_int_equal(vault_open(&w, "other.evault", PASS, strlen(PASS),
                                    NULL, &e),
                         0);
        assert_int_equal(identity_card(w, &other, &e), 0);
        assert_int_equal(identity_card_parse(&oi, other, strlen(other), &e),
                         0);
        assert_string_equal(oi.name, "Other Org");
        assert_string_not_equal(oi.fingerprint, pub.fingerprint);
        free(other);
        vault_close(w);
        unlink("other.evault");
    }
    free(card);
}

/*
 * FAILS (implementation bug, reported): identity_card_parse decodes the
 * signature line with sodium_base642bin alone. Its constant-time character
 * test works on a sign-extended char and compares only low bits, so every
 * byte from 0x80 to 0xff reads as '/'. A card with such a byte in place of
 * a '/' of its signature is a different file that parses as the same card:
 * the card is malleable and not "exactly this shape" (docs/FORMAT.md
 * 12.2). msig.c avoids this by re-encoding and comparing (b64_exact).
 * Deterministic: makes vaults until a card's signature holds a '/'.
 */
static void test_card_signature_base64_alias(void **state)
{
    static const uint8_t aliases[] = {0x80, 0xaf, 0xff};
    fx *f = *state;
    char *card = NULL, *sigline, *hit = NULL;
    identity_card_info info;
    ev_err e;
    kdf_params p;
    vault *w = f->v;
    int accepted = 0;

    kdf_profile("test", &p);
    for (int tries = 0; tries < 60 && !hit; tries++) {
        if (tries > 0) {
            vault_close(w);
            f->v = w = NULL;
            unlink(PATH);
            assert_int_equal(vault_create(PATH, PASS, strlen(PASS), &p,
                                          "Integrity Org", NULL, NULL, &e),
                             0);
            f->v = w = open_vault();
            assert_non_null(w);
        }
        free(card);
        assert_int_equal(identity_card(w, &card, &e), 0);
        sigline = strstr(card, "\nsignature: ");
        assert_non_null(sigline);
        hit = strchr(sigline + 12, '/');
    }
    assert_non_null(hit);
    assert_int_equal(identity_card_parse(&info, card, strlen(card), &e), 0);
    for (size_t k = 0; k < sizeof aliases; k++) {
        *hit = (char)aliases[k];
        if (identity_card_parse(&info, card, strlen(card), &e) == 0) {
            print_error("a card with byte 0x%02x for a '/' of its signature "
                        "was accepted\n",
                        aliases[k]);
            accepted++;
        }
    }
    free(card); /* before the assertion: a failing test leaks nothing */
    assert_int_equal(accepted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_canonical_stable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canonical_unknown, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canonical_key_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canonical_arrays_sorted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canonical_unicode, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_canonical_changes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seal_hash_and_signature, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seal_amend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custody_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custody_tampered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_custody_signature_swapped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_custody_with_change, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_triggers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_verify_tampered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_identity_public, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_card_round_trip, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_card_signature_base64_alias,
                                        setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
