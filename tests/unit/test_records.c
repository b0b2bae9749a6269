/*
 * test_records: the records API and import through the library: add, edit,
 * get and list each kind of record; validation errors (unknown type, bad
 * dates, enums, coordinates, control characters); references by number
 * and UUID prefix, including an ambiguous prefix made with chosen UUIDs;
 * links and citations; all-or-nothing import of CSV and JSON.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vault/import.h"
#include "../../vault/records.h"
#include "../../vault/vault.h"

#define PASS "records test passphrase"
#define PATH "records.evault"

static int setup(void **state)
{
    kdf_params p;
    ev_err e;
    vault *v = NULL;

    kdf_profile("test", &p);
    unlink(PATH);
    if (vault_create(PATH, PASS, strlen(PASS), &p, "Org", NULL, NULL, &e) ||
        vault_open(&v, PATH, PASS, strlen(PASS), NULL, &e))
        return -1;
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    vault_close(*state);
    unlink(PATH);
    return 0;
}

/* One value from a JSON text, as text (via the vault's connection). */
static char *jget(vault *v, const char *json, const char *path)
{
    sqlite3_stmt *st;
    char *out = NULL;
    assert_int_equal(sqlite3_prepare_v2(vault_db(v),
                                        "SELECT json_extract(?1, ?2)", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out ? out : strdup("");
}

static void assert_json(vault *v, const char *json, const char *path,
                        const char *want)
{
    char *got = jget(v, json, path);
    if (strcmp(got, want) != 0)
        print_error("%s: got '%s', want '%s'\n", path, got, want);
    assert_string_equal(got, want);
    free(got);
}

static int64_t count(vault *v, const char *table)
{
    char sql[80];
    sqlite3_stmt *st;
    int64_t n;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    assert_int_equal(sqlite3_prepare_v2(vault_db(v), sql, -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static int64_t add_incident(vault *v, const char *title, const char *type,
                            const char *date)
{
    records_incident in;
    int64_t id = 0;
    ev_err e;
    records_incident_init(&in);
    in.title = title;
    in.type = type;
    in.date = date;
    if (records_incident_add(v, &in, &id, &e) != 0)
        print_error("%s\n", e.msg);
    assert_true(id > 0);
    return id;
}

static void test_incident_add_get(void **state)
{
    vault *v = *state;
    records_incident in;
    const char *tags[] = {"media", "arrest-wave", "media"};
    int64_t id = 0;
    char *json = NULL;
    ev_err e;

    records_incident_init(&in);
    in.title = "Editor detained";
    in.type = "detention";
    in.date = "2023-08";
    in.end_date = "2023-09-01";
    in.location = "Bishkek";
    in.coords = 1;
    in.lat = 42.87;
    in.lon = 74.59;
    in.status = "likely";
    in.confidential = 1;
    in.tags = tags;
    in.ntags = 3;
    in.description = "line one\nline two";
    assert_int_equal(records_incident_add(v, &in, &id, &e), 0);
    assert_int_equal(id, 1);
    assert_int_equal(records_incident_get(v, id, &json, &e), 0);
    assert_json(v, json, "$.title", "Editor detained");
    assert_json(v, json, "$.date_precision", "unknown-day");
    assert_json(v, json, "$.end_date_precision", "exact");
    assert_json(v, json, "$.status", "likely");
    assert_json(v, json, "$.confidential", "1");
    assert_json(v, json, "$.tags", "[\"arrest-wave\",\"media\"]");
    assert_json(v, json, "$.latitude", "42.87");
    assert_json(v, json, "$.description", "line one\nline two");
    assert_json(v, json, "$.actors", "[]");
    free(json);
    json = jget(v, "{\"u\": \"x\"}", "$.u");
    assert_string_equal(json, "x");
    free(json);
}

static void test_incident_validation(void **state)
{
    vault *v = *state;
    records_incident in;
    int64_t id = 0;
    ev_err e;

    records_incident_init(&in);
    in.title = "t";
    in.type = "no-such-type";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "unknown incident type 'no-such-type'"));
    in.type = "arrest";
    in.date = "2023-02-30";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    in.date = "2023-02";
    in.date_precision = "exact";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "does not fit precision"));
    in.date = NULL;
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    in.date_precision = NULL;
    in.date = "2023-05";
    in.end_date = "2023-04-30";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "before"));
    in.end_date = NULL;
    in.status = "certain";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    in.status = NULL;
    in.coords = 1;
    in.lat = 91;
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    in.coords = 0;
    in.title = "bad\x1b[2Jtitle";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "control character"));
    in.title = "bad \xff utf8";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    in.title = "";
    assert_int_equal(records_incident_add(v, &in, &id, &e), EV_ERR_INVALID);
    assert_int_equal(count(v, "incident"), 0);
}

static void test_incident_edit(void **state)
{
    vault *v = *state;
    records_incident in;
    const char *add[] = {"x"}, *rm[] = {"y"};
    int64_t id = add_incident(v, "Before", "arrest", "2023");
    char *json = NULL;
    ev_err e;

    records_incident_init(&in);
    in.title = "After";
    in.date = "2023-06-01";
    in.tags = add;
    in.ntags = 1;
    assert_int_equal(records_incident_edit(v, id, &in, &e), 0);
    assert_int_equal(records_incident_get(v, id, &json, &e), 0);
    assert_json(v, json, "$.title", "After");
    assert_json(v, json, "$.type", "arrest");
    assert_json(v, json, "$.date_precision", "exact");
    assert_json(v, json, "$.tags", "[\"x\"]");
    free(json);
    records_incident_init(&in);
    in.date_precision = "estimate";
    assert_int_equal(records_incident_edit(v, id, &in, &e), 0);
    in.date_precision = "unknown-day"; /* does not fit 2023-06-01 */
    assert_int_equal(records_incident_edit(v, id, &in, &e), EV_ERR_INVALID);
    records_incident_init(&in);
    in.untags = rm;
    in.nuntags = 1;
    assert_int_equal(records_incident_edit(v, id, &in, &e), EV_ERR_NOTFOUND);
    records_incident_init(&in);
    in.date = "";
    assert_int_equal(records_incident_edit(v, id, &in, &e), 0);
    assert_int_equal(records_incident_get(v, id, &json, &e), 0);
    assert_json(v, json, "$.date", "");
    assert_json(v, json, "$.date_precision", "");
    free(json);
    assert_int_equal(records_incident_edit(v, 999, &in, &e), EV_ERR_NOTFOUND);
}

static void test_list_filters(void **state)
{
    vault *v = *state;
    records_filter f = {NULL, NULL, NULL, NULL};
    const char *tag[] = {"t1"};
    records_incident in;
    char *json = NULL;
    ev_err e;

    add_incident(v, "a", "arrest", "2022");
    add_incident(v, "b", "arrest", "2023-08");
    add_incident(v, "c", "trial", "2023-09-15");
    add_incident(v, "d", "trial", NULL);
    records_incident_init(&in);
    in.tags = tag;
    in.ntags = 1;
    assert_int_equal(records_incident_edit(v, 3, &in, &e), 0);

    assert_int_equal(records_incident_list(v, NULL, &json, &e), 0);
    assert_json(v, json, "$.incidents[#]", ""); /* not a count: smoke */
    assert_json(v, json, "$.incidents[0].title", "a");
    assert_json(v, json, "$.incidents[3].title", "d");
    free(json);
    f.type = "trial";
    assert_int_equal(records_incident_list(v, &f, &json, &e), 0);
    assert_json(v, json, "$.incidents[0].title", "c");
    assert_json(v, json, "$.incidents[1].title", "d");
    free(json);
    f.type = NULL;
    f.tag = "t1";
    assert_int_equal(records_incident_list(v, &f, &json, &e), 0);
    assert_json(v, json, "$.incidents[0].title", "c");
    assert_json(v, json, "$.incidents[1].title", "");
    free(json);
    f.tag = NULL;
    f.since = "2023-08-20";
    assert_int_equal(records_incident_list(v, &f, &json, &e), 0);
    assert_json(v, json, "$.incidents[0].title", "b"); /* August overlaps */
    assert_json(v, json, "$.incidents[1].title", "c");
    assert_json(v, json, "$.incidents[2].title", "");
    free(json);
    f.since = "2022-06";
    f.until = "2023-08-01";
    assert_int_equal(records_incident_list(v, &f, &json, &e), 0);
    assert_json(v, json, "$.incidents[0].title", "a");
    assert_json(v, json, "$.incidents[1].title", "b");
    assert_json(v, json, "$.incidents[2].title", "");
    free(json);
    f.since = "2023-13";
    assert_int_equal(records_incident_list(v, &f, &json, &e), EV_ERR_INVALID);
    f.since = NULL;
    f.until = NULL;
    f.type = "nope";
    assert_int_equal(records_incident_list(v, &f, &json, &e), EV_ERR_INVALID);
}

static void test_actor_source(void **state)
{
    vault *v = *state;
    records_actor a;
    records_source s;
    const char *other[] = {"A.B.", "Ab"};
    int64_t aid = 0, sid = 0, again = 0;
    char *json = NULL;
    int created = -1;
    ev_err e;

    records_actor_init(&a);
    a.name = "Asel B";
    a.other_names = other;
    a.nother = 2;
    a.set_other = 1;
    a.category = "journalist";
    a.contact = "+996 555";
    assert_int_equal(records_actor_add(v, &a, &aid, &e), 0);
    assert_int_equal(records_actor_get(v, aid, &json, &e), 0);
    assert_json(v, json, "$.kind", "person");
    assert_json(v, json, "$.other_names", "[\"A.B.\",\"Ab\"]");
    assert_json(v, json, "$.contact", "+996 555");
    free(json);
    assert_int_equal(records_actor_list(v, &json, &e), 0);
    assert_json(v, json, "$.actors[0].contact", ""); /* not in lists */
    free(json);
    records_actor_init(&a);
    a.kind = "company";
    assert_int_equal(records_actor_edit(v, aid, &a, &e), EV_ERR_INVALID);
    a.kind = "organisation";
    a.category = "Bad Category";
    assert_int_equal(records_actor_edit(v, aid, &a, &e), EV_ERR_INVALID);
    a.category = NULL;
    assert_int_equal(records_actor_edit(v, aid, &a, &e), 0);
    assert_int_equal(records_actor_by_name(v, "Asel B", NULL, &again,
                                           &created, &e),
                     0);
    assert_int_equal(again, aid);
    assert_int_equal(created, 0);
    assert_int_equal(records_actor_by_name(v, "New One", "organisation",
                                           &again, &created, &e),
                     0);
    assert_int_equal(created, 1);

    records_source_init(&s);
    assert_int_equal(records_source_add(v, &s, &sid, &e), EV_ERR_INVALID);
    s.kind = "interview";
    s.consent = "maybe";
    assert_int_equal(records_source_add(v, &s, &sid, &e), EV_ERR_INVALID);
    s.consent = "anonymised";
    s.reliability = "high";
    s.date = "2023";
    s.url = "https://example.org/a";
    assert_int_equal(records_source_add(v, &s, &sid, &e), 0);
    assert_int_equal(records_source_get(v, sid, &json, &e), 0);
    assert_json(v, json, "$.date_precision", "unknown-month-and-day");
    assert_json(v, json, "$.consent", "anonymised");
    free(json);
    records_source_init(&s);
    s.url = "";
    s.reliability = "sometimes";
    assert_int_equal(records_source_edit(v, sid, &s, &e), EV_ERR_INVALID);
    s.reliability = NULL;
    assert_int_equal(records_source_edit(v, sid, &s, &e), 0);
    assert_int_equal(records_source_get(v, sid, &json, &e), 0);
    assert_json(v, json, "$.url", "");
    assert_json(v, json, "$.reliability", "high");
    free(json);
}

static void test_links(void **state)
{
    vault *v = *state;
    records_actor a;
    records_source s;
    int64_t inc = add_incident(v, "i", "arrest", NULL), aid, sid;
    char *json = NULL;
    ev_err e;

    records_actor_init(&a);
    a.name = "Police";
    a.kind = "organisation";
    assert_int_equal(records_actor_add(v, &a, &aid, &e), 0);
    records_source_init(&s);
    s.kind = "report";
    assert_int_equal(records_source_add(v, &s, &sid, &e), 0);
    assert_int_equal(records_link(v, inc, aid, "victim", "ordered", &e),
                     EV_ERR_INVALID);
    assert_int_equal(records_link(v, inc, aid, "boss", NULL, &e),
                     EV_ERR_INVALID);
    assert_int_equal(records_link(v, inc, 99, "victim", NULL, &e),
                     EV_ERR_NOTFOUND);
    assert_int_equal(records_link(v, inc, aid, "perpetrator", "ordered", &e),
                     0);
    assert_int_equal(records_link(v, inc, aid, "perpetrator", "suspected",
                                  &e),
                     0);
    assert_int_equal(records_link(v, inc, aid, "witness", NULL, &e), 0);
    assert_int_equal(records_cite(v, inc, sid, &e), 0);
    assert_int_equal(records_cite(v, inc, sid, &e), 0);
    assert_int_equal(records_incident_get(v, inc, &json, &e), 0);
    assert_json(v, json, "$.actors[0].role", "perpetrator");
    assert_json(v, json, "$.actors[0].degree", "suspected");
    assert_json(v, json, "$.actors[1].role", "witness");
    assert_json(v, json, "$.sources[0].kind", "report");
    free(json);
    assert_int_equal(records_unlink(v, inc, aid, "victim", &e),
                     EV_ERR_NOTFOUND);
    assert_int_equal(records_unlink(v, inc, aid, "witness", &e), 0);
    assert_int_equal(count(v, "involvement"), 1);
    assert_int_equal(records_unlink(v, inc, aid, NULL, &e), 0);
    assert_int_equal(count(v, "involvement"), 0);
    assert_int_equal(records_uncite(v, inc, sid, &e), 0);
    assert_int_equal(records_uncite(v, inc, sid, &e), EV_ERR_NOTFOUND);
}

static void test_types(void **state)
{
    vault *v = *state;
    char *json = NULL;
    ev_err e;

    assert_int_equal(records_type_add(v, "enforced-disappearance", "gone",
                                      &e),
                     0);
    assert_int_equal(records_type_add(v, "enforced-disappearance", NULL, &e),
                     EV_ERR_EXISTS);
    assert_int_equal(records_type_add(v, "Bad Name", NULL, &e),
                     EV_ERR_INVALID);
    assert_int_equal(records_type_list(v, &json, &e), 0);
    assert_json(v, json, "$.types[0].name", "arrest");
    free(json);
    add_incident(v, "x", "enforced-disappearance", NULL);
}

/* Two incidents whose UUIDs share a prefix, written by SQL. */
static void test_resolve(void **state)
{
    vault *v = *state;
    int64_t id = 0;
    ev_err e;

    assert_int_equal(
        sqlite3_exec(vault_db(v),
                     "INSERT INTO incident(uuid, title, type, created, "
                     "updated) VALUES "
                     "('abcd1111-0000-4000-8000-000000000000', 'a', 'other', "
                     "'t', 't'), "
                     "('abcd2222-0000-4000-8000-000000000000', 'b', 'other', "
                     "'t', 't')",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(records_resolve(v, "incident", "abcd", &id, &e),
                     EV_ERR_INVALID);
    assert_non_null(strstr(e.msg, "more than one"));
    assert_int_equal(records_resolve(v, "incident", "ABCD2", &id, &e), 0);
    assert_int_equal(id, 2);
    assert_int_equal(records_resolve(v, "incident", "1", &id, &e), 0);
    assert_int_equal(id, 1);
    assert_int_equal(records_resolve(v, "incident", "3", &id, &e),
                     EV_ERR_NOTFOUND);
    assert_int_equal(records_resolve(v, "incident", "abc", &id, &e),
                     EV_ERR_INVALID);
    assert_int_equal(records_resolve(v, "incident", "ffff", &id, &e),
                     EV_ERR_NOTFOUND);
}

static const char CSV_OK[] =
    "\xef\xbb\xbftitle,type,date,tags,victims,perpetrators,witnesses,"
    "latitude,longitude,confidential,description\r\n"
    "Raid,raid-or-search,2023-05-02,\"a; b\",Ann;Kloop [organisation],"
    "Police [organisation],,42.8,74.6,yes,\"one\r\ntwo \"\"q\"\"\"\r\n"
    "\r\n"
    "Second,arrest,2023,,Ann,,Bob,,,no,\n"
    "Third,trial,,,,,,,,,";

static void test_import_csv(void **state)
{
    vault *v = *state;
    import_counts n;
    char *json = NULL;
    ev_err e;

    assert_int_equal(import_buffer(v, CSV_OK, sizeof CSV_OK - 1, "csv",
                                   "t.csv", &n, &e),
                     0);
    assert_int_equal(n.incidents, 3);
    assert_int_equal(n.actors, 4); /* Ann, Kloop, Police, Bob */
    assert_int_equal(n.actors_reused, 1);
    assert_int_equal(n.involvements, 5);
    assert_int_equal(records_incident_get(v, 1, &json, &e), 0);
    assert_json(v, json, "$.description", "one\r\ntwo \"q\"");
    assert_json(v, json, "$.tags", "[\"a\",\"b\"]");
    assert_json(v, json, "$.confidential", "1");
    assert_json(v, json, "$.actors[1].kind", "organisation");
    free(json);
}

static void expect_csv_error(vault *v, const char *csv, const char *want)
{
    ev_err e;
    int64_t before = count(v, "incident"), actors = count(v, "actor");
    err_clear(&e);
    assert_int_equal(import_buffer(v, csv, strlen(csv), "csv", "t.csv", NULL,
                                   &e),
                     EV_ERR_INVALID);
    if (!strstr(e.msg, want))
        print_error("message '%s' lacks '%s'\n", e.msg, want);
    assert_non_null(strstr(e.msg, want));
    assert_int_equal(count(v, "incident"), before);
    assert_int_equal(count(v, "actor"), actors);
}

static void test_import_csv_errors(void **state)
{
    vault *v = *state;

    expect_csv_error(v, "title,type,colour\nx,arrest,red\n",
                     "line 1: unknown column 'colour'");
    expect_csv_error(v, "title\nx\n", "line 1: the header row needs");
    expect_csv_error(v, "title,type,description\na,arrest,\nb,arrest,\"x\ny\"\n"
                     "c,nope,\n",
                     "line 5: unknown incident type 'nope'");
    expect_csv_error(v, "title,type,victims\na,arrest,Ann\nb,arrest,x,y\n",
                     "line 3: the row has 4 fields");
    expect_csv_error(v, "title,type,latitude\na,arrest,10\n",
                     "line 2: give both latitude and longitude");
    expect_csv_error(v, "title,type,victims\na,arrest,Ann [robot]\n",
                     "[organisation]");
    expect_csv_error(v, "title,type\na,arrest\n\"b,arrest\n",
                     "line 3");
    expect_csv_error(v, "", "is empty");
    expect_csv_error(v, "title,type,title\n", "given twice");
}

static const char JSON_OK[] =
    "{\"format\": \"evault-import-1\","
    " \"incident_types\": [{\"name\": \"smear-campaign\"}],"
    " \"sources\": [{\"ref\": \"s1\", \"kind\": \"interview\","
    "   \"consent\": \"anonymised\"}],"
    " \"actors\": [{\"ref\": \"a1\", \"kind\": \"person\", \"name\": \"Ann\","
    "   \"other_names\": [\"A.\"]}, {\"ref\": \"a2\", \"kind\": "
    "\"organisation\", \"name\": \"Police\"}],"
    " \"incidents\": [{\"ref\": \"i1\", \"title\": \"T\", \"type\": "
    "\"smear-campaign\", \"date\": \"2023-01\", \"latitude\": 1.5, "
    "\"longitude\": -2, \"tags\": [\"x\"], \"involvements\": [{\"actor\": "
    "\"a1\", \"role\": \"victim\"}, {\"actor\": \"a2\", \"role\": "
    "\"perpetrator\", \"degree\": \"ordered\"}], \"sources\": [\"s1\"]}]}";

static void test_import_json(void **state)
{
    vault *v = *state;
    import_counts n;
    char *json = NULL;
    ev_err e;

    assert_int_equal(import_buffer(v, JSON_OK, sizeof JSON_OK - 1, "json",
                                   "t.json", &n, &e),
                     0);
    assert_int_equal(n.incidents, 1);
    assert_int_equal(n.actors, 2);
    assert_int_equal(n.sources, 1);
    assert_int_equal(n.involvements, 2);
    assert_int_equal(n.citations, 1);
    assert_int_equal(n.types, 1);
    assert_int_equal(records_incident_get(v, 1, &json, &e), 0);
    assert_json(v, json, "$.longitude", "-2.0");
    assert_json(v, json, "$.actors[1].degree", "ordered");
    free(json);
}

static void expect_json_error(vault *v, const char *doc, const char *want)
{
    ev_err e;
    int64_t before = count(v, "incident") + count(v, "actor") +
                     count(v, "source") + count(v, "incident_type");
    err_clear(&e);
    assert_int_equal(import_buffer(v, doc, strlen(doc), "json", "t.json",
                                   NULL, &e),
                     EV_ERR_INVALID);
    if (!strstr(e.msg, want))
        print_error("message '%s' lacks '%s'\n", e.msg, want);
    assert_non_null(strstr(e.msg, want));
    assert_int_equal(count(v, "incident") + count(v, "actor") +
                         count(v, "source") + count(v, "incident_type"),
                     before);
}

static void test_import_json_errors(void **state)
{
    vault *v = *state;

    expect_json_error(v, "{", "not a valid JSON object");
    expect_json_error(v, "[1]", "not a valid JSON object");
    expect_json_error(v, "{\"format\": \"other\"}", "evault-import-1");
    expect_json_error(v, "{\"format\": \"evault-import-1\", \"x\": 1}",
                      "unknown field \"x\"");
    expect_json_error(v,
                      "{\"format\": \"evault-import-1\", \"actors\": "
                      "[{\"ref\": \"a\", \"name\": \"A\"}], \"incidents\": "
                      "[{\"ref\": \"ok\", \"title\": \"t\", \"type\": "
                      "\"arrest\"}, {\"ref\": \"bad\", \"title\": \"t\", "
                      "\"type\": \"arrest\", \"involvements\": [{\"actor\": "
                      "\"zz\", \"role\": \"victim\"}]}]}",
                      "incidents[1] (ref 'bad'): no actor with ref 'zz'");
    expect_json_error(v,
                      "{\"format\": \"evault-import-1\", \"incidents\": "
                      "[{\"title\": 5, \"type\": \"arrest\"}]}",
                      "\"title\" must be a string");
    expect_json_error(v,
                      "{\"format\": \"evault-import-1\", \"actors\": "
                      "[{\"ref\": \"a\", \"name\": \"A\"}, {\"ref\": \"a\", "
                      "\"name\": \"B\"}]}",
                      "used twice");
    expect_json_error(v,
                      "{\"format\": \"evault-import-1\", \"incidents\": "
                      "[{\"title\": \"t\", \"type\": \"arrest\", "
                      "\"latitude\": 3}]}",
                      "both");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_incident_add_get, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incident_validation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incident_edit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actor_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_csv_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_import_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_json_errors, setup,
                                        teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
