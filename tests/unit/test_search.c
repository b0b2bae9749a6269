/*
 * test_search: full-text search through the library. Records are inserted
 * with direct SQL on vault_db() (the schema's triggers keep the index), then
 * searched with search_run: ranking (title above body), snippets, case and
 * diacritics, tags, actor other names (and never contact details), sources
 * and evidence, updates and deletes, the kind filter and limit, plain
 * queries full of FTS5 syntax, and raw queries good and bad.
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

#include "../../vault/search.h"
#include "../../vault/vault.h"

#define PASS "search test passphrase"
#define PATH "search.evault"
#define MAXHITS 64

struct hits {
    int n;
    int kind[MAXHITS];
    int64_t id[MAXHITS];
    char uuid[MAXHITS][37];
    char label[MAXHITS][128];
    char snippet[MAXHITS][256];
};

static int collect(void *arg, const search_hit *h)
{
    struct hits *r = arg;
    if (r->n >= MAXHITS)
        return 1;
    r->kind[r->n] = h->kind;
    r->id[r->n] = h->id;
    snprintf(r->uuid[r->n], sizeof r->uuid[0], "%s", h->uuid);
    snprintf(r->label[r->n], sizeof r->label[0], "%s", h->label);
    snprintf(r->snippet[r->n], sizeof r->snippet[0], "%s", h->snippet);
    r->n++;
    return 0;
}

static void sql(vault *v, const char *fmt, ...)
{
    char *q;
    va_list ap;
    char *err = NULL;

    va_start(ap, fmt);
    q = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    assert_non_null(q);
    if (sqlite3_exec(vault_db(v), q, NULL, NULL, &err) != SQLITE_OK)
        print_error("%s: %s\n", q, err ? err : "?");
    assert_null(err);
    sqlite3_free(q);
}

/* A UUID that names its record: 0000000k-0000-4000-8000-00000000000n. */
static const char *uuid_of(int kind, int n)
{
    static char buf[8][37];
    static int i;
    char *b = buf[i++ % 8];
    snprintf(b, 37, "0000000%d-0000-4000-8000-%012d", kind, n);
    return b;
}

static void add_incident(vault *v, int id, const char *title,
                         const char *description, const char *location)
{
    sql(v,
        "INSERT INTO incident(id, uuid, title, type, description, location,"
        " created, updated) VALUES (%d, %Q, %Q, 'arrest', %Q, %Q,"
        " '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
        id, uuid_of(1, id), title, description, location);
}

static void add_actor(vault *v, int id, const char *name,
                      const char *other_names, const char *description,
                      const char *contact)
{
    sql(v,
        "INSERT INTO actor(id, uuid, kind, name, other_names, description,"
        " contact, created, updated) VALUES (%d, %Q, 'person', %Q, %Q, %Q,"
        " %Q, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
        id, uuid_of(2, id), name, other_names, description, contact);
}

static void add_source(vault *v, int id, const char *title,
                       const char *description)
{
    sql(v,
        "INSERT INTO source(id, uuid, kind, title, description, created,"
        " updated) VALUES (%d, %Q, 'news-report', %Q, %Q,"
        " '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
        id, uuid_of(3, id), title, description);
}

static void add_evidence(vault *v, int id, const char *name,
                         const char *description)
{
    sql(v,
        "INSERT OR IGNORE INTO blob(sha256, size, chunk_size, created)"
        " VALUES (zeroblob(32), 0, 65536, '2024-01-01T00:00:00Z');"
        "INSERT INTO evidence(id, uuid, sha256, original_name, size,"
        " acquired_at, description, created) VALUES (%d, %Q, zeroblob(32),"
        " %Q, 0, '2024-01-01T00:00:00Z', %Q, '2024-01-01T00:00:00Z')",
        id, uuid_of(4, id), name, description);
}

/* Search with fts (raw FTS5 syntax) or, if plain, with words. */
static int find(vault *v, const char *query, int plain, int kind, int limit,
                struct hits *r, ev_err *e)
{
    search_opts o = {kind, limit, NULL, NULL, 0};
    char *fts = NULL;
    int rc;

    memset(r, 0, sizeof *r);
    err_clear(e);
    if (plain) {
        rc = search_query_plain(query, &fts, e);
        if (rc != 0)
            return rc;
        query = fts;
    }
    rc = search_run(v, query, &o, collect, r, e);
    sqlite3_free(fts);
    return rc;
}

/* Plain search that must succeed; returns the number of hits. */
static int count(vault *v, const char *words, struct hits *r)
{
    ev_err e;
    int rc = find(v, words, 1, SEARCH_ANY, 0, r, &e);
    if (rc != 0)
        print_error("search '%s': %s\n", words, e.msg);
    assert_int_equal(rc, 0);
    return r->n;
}

static int setup(void **state)
{
    kdf_params p;
    vault *v = NULL;
    ev_err e;

    kdf_profile("test", &p);
    unlink(PATH);
    if (vault_create(PATH, PASS, strlen(PASS), &p, "Search", NULL, NULL,
                     &e) != 0 ||
        vault_open(&v, PATH, PASS, strlen(PASS), NULL, &e) != 0) {
        print_error("vault: %s\n", e.msg);
        return -1;
    }
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    vault_close(*state);
    unlink(PATH);
    return 0;
}

static void test_plain_query(void **state)
{
    char *q = NULL;
    ev_err e;

    (void)state;
    assert_int_equal(search_query_plain("  arrest\tBishkek \n", &q, &e), 0);
    assert_string_equal(q, "\"arrest\" \"Bishkek\"");
    sqlite3_free(q);
    assert_int_equal(search_query_plain("say \"no\" NEAR(a*", &q, &e), 0);
    assert_string_equal(q, "\"say\" \"\"\"no\"\"\" \"NEAR(a*\"");
    sqlite3_free(q);
    err_clear(&e);
    assert_int_equal(search_query_plain(" \t\n", &q, &e), EV_ERR_INVALID);
    assert_null(q);
    assert_int_equal(e.code, EV_ERR_INVALID);
    assert_int_equal(search_query_plain("", &q, &e), EV_ERR_INVALID);
    assert_int_equal(search_query_plain(NULL, &q, &e), EV_ERR_INVALID);
    assert_int_equal(search_kind_parse("actor"), SEARCH_ACTOR);
    assert_int_equal(search_kind_parse("incidents"), -1);
    assert_string_equal(search_kind_name(SEARCH_EVIDENCE), "evidence");
    assert_null(search_kind_name(7));
}

static void test_ranking_and_snippets(void **state)
{
    vault *v = *state;
    struct hits r;

    add_incident(v, 1, "Court hearing postponed again",
                 "The lawyer said the reservoir protest case was moved; "
                 "relatives waited outside the court in the rain.",
                 "Osh");
    add_incident(v, 2, "Reservoir protest dispersed",
                 "Police dispersed a crowd near the border.", "Batken");
    add_incident(v, 3, "Website blocked",
                 "An independent news site became unreachable.", "Bishkek");

    assert_int_equal(count(v, "reservoir", &r), 2);
    /* The title match ranks first, though the body match is longer. */
    assert_int_equal(r.kind[0], SEARCH_INCIDENT);
    assert_int_equal(r.id[0], 2);
    assert_int_equal(r.id[1], 1);
    assert_string_equal(r.label[0], "Reservoir protest dispersed");
    assert_string_equal(r.uuid[0], uuid_of(1, 2));
    assert_string_equal(r.uuid[1], uuid_of(1, 1));
    /* Snippets mark the match (default markers: brackets). */
    assert_non_null(strstr(r.snippet[0], "[Reservoir]"));
    assert_non_null(strstr(r.snippet[1], "[reservoir]"));
    assert_null(strstr(r.snippet[1], "rain"));

    /* Every word must match (implicit AND), in any column. */
    assert_int_equal(count(v, "reservoir osh", &r), 1);
    assert_int_equal(r.id[0], 1);
    assert_int_equal(count(v, "reservoir bishkek", &r), 0);
    /* Location is searchable. */
    assert_int_equal(count(v, "batken", &r), 1);
}

static void test_case_and_diacritics(void **state)
{
    vault *v = *state;
    struct hits r;

    add_incident(v, 1, "Journalist detained in Bishkék", "", "");
    add_incident(v, 2, "Blogger charged", "Hearing in Bishkek city court", "");
    add_incident(v, 3, "Заблокирован сайт", "Новости недоступны", "Бишкек");

    assert_int_equal(count(v, "bishkek", &r), 2);
    assert_int_equal(r.id[0], 1); /* title */
    assert_int_equal(count(v, "BÍSHKÉK", &r), 2);
    assert_int_equal(count(v, "Bishkék", &r), 2);
    assert_int_equal(count(v, "бишкек", &r), 1);
    assert_int_equal(r.id[0], 3);
    assert_int_equal(count(v, "САЙТ", &r), 1);
}

static void test_tags(void **state)
{
    vault *v = *state;
    struct hits r;

    add_incident(v, 1, "Arrest at the airport", "", "");
    add_incident(v, 2, "Travel ban", "", "");
    assert_int_equal(count(v, "press-freedom", &r), 0);
    sql(v, "INSERT INTO incident_tag VALUES (1, 'press-freedom'),"
           " (1, 'airport'), (2, 'exile')");
    assert_int_equal(count(v, "press-freedom", &r), 1);
    assert_int_equal(r.id[0], 1);
    assert_int_equal(count(v, "exile", &r), 1);
    assert_int_equal(r.id[0], 2);
    /* A tag matches as body text: the title match still ranks first. */
    sql(v, "INSERT INTO incident_tag VALUES (2, 'airport')");
    assert_int_equal(count(v, "airport", &r), 2);
    assert_int_equal(r.id[0], 1);
    sql(v, "DELETE FROM incident_tag WHERE incident_id = 1 AND"
           " tag = 'press-freedom'");
    assert_int_equal(count(v, "press-freedom", &r), 0);
    assert_int_equal(count(v, "airport", &r), 2);
}

static void test_actors_not_contacts(void **state)
{
    vault *v = *state;
    struct hits r;

    add_actor(v, 1, "Aigul Example", "[\"A. Example\", \"Aigul Primer\"]",
              "Investigative journalist", "+996 555 123456, aigul@example.org"
              " Signal: secretive-handle");
    add_incident(v, 1, "Primer case", "", "");

    assert_int_equal(count(v, "aigul", &r), 1);
    assert_int_equal(r.kind[0], SEARCH_ACTOR);
    assert_int_equal(r.id[0], 1);
    assert_string_equal(r.label[0], "Aigul Example");
    assert_string_equal(r.uuid[0], uuid_of(2, 1));
    /* Other names are searchable... */
    assert_int_equal(count(v, "primer", &r), 2);
    assert_int_equal(r.kind[0], SEARCH_INCIDENT); /* title beats body */
    assert_int_equal(r.kind[1], SEARCH_ACTOR);
    assert_int_equal(count(v, "investigative", &r), 1);
    /* ...contact details never are. */
    assert_int_equal(count(v, "secretive-handle", &r), 0);
    assert_int_equal(count(v, "aigul@example.org", &r), 0);
    assert_int_equal(count(v, "123456", &r), 0);
    assert_int_equal(count(v, "signal", &r), 0);
    sql(v, "UPDATE actor SET contact = 'new-contact-word' WHERE id = 1");
    assert_int_equal(count(v, "new-contact-word", &r), 0);
    assert_int_equal(count(v, "aigul", &r), 1);
}

static void test_sources_and_evidence(void **state)
{
    vault *v = *state;
    struct hits r;

    add_source(v, 1, "Annual press freedom report",
               "Published by a monitoring group");
    add_evidence(v, 1, "court-photo-0042.jpg", "Photo of the courtroom door");
    add_evidence(v, 2, "statement.pdf", "Official statement on the report");

    assert_int_equal(count(v, "monitoring", &r), 1);
    assert_int_equal(r.kind[0], SEARCH_SOURCE);
    assert_string_equal(r.label[0], "Annual press freedom report");
    assert_string_equal(r.uuid[0], uuid_of(3, 1));
    assert_int_equal(count(v, "courtroom", &r), 1);
    assert_int_equal(r.kind[0], SEARCH_EVIDENCE);
    assert_int_equal(r.id[0], 1);
    assert_string_equal(r.label[0], "court-photo-0042.jpg");
    assert_string_equal(r.uuid[0], uuid_of(4, 1));
    /* File names are tokenized: a part of the name finds it. */
    assert_int_equal(count(v, "0042", &r), 1);
    assert_int_equal(count(v, "court-photo-0042.jpg", &r), 1);
    assert_int_equal(count(v, "report", &r), 2);
    assert_int_equal(r.kind[0], SEARCH_SOURCE); /* title */
    assert_int_equal(r.kind[1], SEARCH_EVIDENCE);
}

static void test_updates_and_deletes(void **state)
{
    vault *v = *state;
    struct hits r;

    add_incident(v, 1, "Raid on the office", "Computers seized", "");
    add_actor(v, 1, "Media outlet Foo", "[]", "", "");
    add_source(v, 1, "Interview with witness", "");
    add_evidence(v, 1, "raid-video.mp4", "");
    assert_int_equal(count(v, "raid", &r), 2);

    sql(v, "UPDATE incident SET title = 'Search of the office' WHERE id = 1");
    assert_int_equal(count(v, "raid", &r), 1);
    assert_int_equal(r.kind[0], SEARCH_EVIDENCE);
    assert_int_equal(count(v, "search office", &r), 1);
    assert_string_equal(r.label[0], "Search of the office");
    sql(v, "UPDATE incident SET description = 'Phones taken' WHERE id = 1");
    assert_int_equal(count(v, "computers", &r), 0);
    assert_int_equal(count(v, "phones", &r), 1);

    sql(v, "UPDATE actor SET name = 'Media outlet Bar' WHERE id = 1");
    assert_int_equal(count(v, "foo", &r), 0);
    assert_int_equal(count(v, "bar", &r), 1);
    sql(v, "UPDATE source SET description = 'anonymous' WHERE id = 1");
    assert_int_equal(count(v, "anonymous", &r), 1);
    sql(v, "UPDATE evidence SET description = 'shaky footage' WHERE id = 1");
    assert_int_equal(count(v, "footage", &r), 1);

    sql(v, "DELETE FROM incident WHERE id = 1");
    assert_int_equal(count(v, "phones", &r), 0);
    sql(v, "DELETE FROM actor WHERE id = 1");
    assert_int_equal(count(v, "bar", &r), 0);
    sql(v, "DELETE FROM source WHERE id = 1");
    assert_int_equal(count(v, "witness", &r), 0);
    sql(v, "DELETE FROM evidence WHERE id = 1");
    assert_int_equal(count(v, "footage", &r), 0);
    assert_int_equal(count(v, "raid", &r), 0);
}

static void test_kind_and_limit(void **state)
{
    vault *v = *state;
    struct hits r;
    ev_err e;

    for (int i = 1; i <= 30; i++)
        add_incident(v, i, "Harassment case", "", "");
    add_actor(v, 1, "Harassment monitor", "[]", "", "");
    add_source(v, 1, "Harassment report", "");

    assert_int_equal(count(v, "harassment", &r), SEARCH_LIMIT_DEFAULT);
    assert_int_equal(find(v, "harassment", 1, SEARCH_ANY, 50, &r, &e), 0);
    assert_int_equal(r.n, 32);
    assert_int_equal(find(v, "harassment", 1, SEARCH_ANY, 3, &r, &e), 0);
    assert_int_equal(r.n, 3);
    assert_int_equal(find(v, "harassment", 1, SEARCH_ACTOR, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.kind[0], SEARCH_ACTOR);
    assert_int_equal(find(v, "harassment", 1, SEARCH_SOURCE, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.kind[0], SEARCH_SOURCE);
    assert_int_equal(find(v, "harassment", 1, SEARCH_EVIDENCE, 0, &r, &e), 0);
    assert_int_equal(r.n, 0);
    assert_int_equal(find(v, "harassment", 1, SEARCH_INCIDENT, 40, &r, &e),
                     0);
    assert_int_equal(r.n, 30);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.kind[i], SEARCH_INCIDENT);
    /* Bad options. */
    assert_int_equal(find(v, "harassment", 1, 9, 0, &r, &e), EV_ERR_INVALID);
    assert_int_equal(find(v, "harassment", 1, SEARCH_ANY,
                          SEARCH_LIMIT_MAX + 1, &r, &e),
                     EV_ERR_INVALID);
    assert_int_equal(find(v, "harassment", 1, SEARCH_ANY, -1, &r, &e),
                     EV_ERR_INVALID);
}

static int stop_at_two(void *arg, const search_hit *h)
{
    int *n = arg;
    (void)h;
    return ++*n == 2 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    vault *v = *state;
    search_opts o = {SEARCH_ANY, 0, NULL, NULL, 0};
    ev_err e;
    int n = 0;

    for (int i = 1; i <= 5; i++)
        add_incident(v, i, "Intimidation", "", "");
    assert_int_equal(search_run(v, "intimidation", &o, stop_at_two, &n, &e),
                     42);
    assert_int_equal(n, 2);
}

static void test_plain_mode_syntax_is_text(void **state)
{
    static const char *const inputs[] = {
        "\"",       "\"\"",        "AND",          "OR",     "NOT",
        "NEAR(",    "a AND",       "(",            ")",      "*",
        "arrest*",  "title:x",     "-arrest",      "^start", "+",
        "a OR OR",  "{title}: x",  "\"unbalanced", "NEAR(a b, 2)",
        "'; DROP TABLE incident; --", "\\", "%", "_", "arrest \"'",
    };
    vault *v = *state;
    struct hits r;

    add_incident(v, 1, "Arrest AND detention", "Near the title: station",
                 "");
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        count(v, inputs[i], &r); /* must not fail */
    /* Operators are words here. */
    assert_int_equal(count(v, "AND", &r), 1);
    assert_int_equal(count(v, "and detention", &r), 1);
    assert_int_equal(count(v, "NEAR", &r), 1);
    assert_int_equal(count(v, "title:", &r), 1);
    /* A prefix star is punctuation: no prefix search in plain mode. */
    assert_int_equal(count(v, "arr*", &r), 0);
    assert_int_equal(count(v, "arrest*", &r), 1);
    /* Punctuation inside a word splits it like the indexed text, into a
     * phrase: its parts must be adjacent. */
    assert_int_equal(count(v, "arrest,and", &r), 1);
    assert_int_equal(count(v, "arrest,detention", &r), 0);
    assert_int_equal(count(v, "'; DROP TABLE incident; --", &r), 0);
    assert_int_equal(count(v, "arrest", &r), 1);
}

static void test_raw_queries(void **state)
{
    static const char *const bad[] = {
        "arrest AND", "\"unbalanced", "NEAR(", "(arrest", "nosuchcol: x",
        "AND", "arrest OR OR detention", "*",
    };
    vault *v = *state;
    struct hits r;
    ev_err e;

    add_incident(v, 1, "Arrest of a blogger", "Detention for two days", "");
    add_incident(v, 2, "Arrested at a protest", "", "");
    add_actor(v, 1, "Blogger X", "[]", "", "");

    assert_int_equal(find(v, "arrest*", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(find(v, "arrest", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(find(v, "protest OR detention", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(find(v, "blogger NOT arrest", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.kind[0], SEARCH_ACTOR);
    assert_int_equal(find(v, "title: blogger", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 2);
    assert_int_equal(find(v, "body: detention", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(find(v, "NEAR(arrest blogger, 3)", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(find(v, "\"arrest of a\"", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 1);

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = find(v, bad[i], 0, 0, 0, &r, &e);
        if (rc != EV_ERR_INVALID)
            print_error("raw query '%s': %d (%s)\n", bad[i], rc, e.msg);
        assert_int_equal(rc, EV_ERR_INVALID);
        assert_int_equal(e.code, EV_ERR_INVALID);
        assert_non_null(strstr(e.msg, "bad search query"));
    }
    assert_int_equal(find(v, "", 0, 0, 0, &r, &e), EV_ERR_INVALID);
    /* The connection still works after a bad query. */
    assert_int_equal(find(v, "blogger", 0, 0, 0, &r, &e), 0);
    assert_int_equal(r.n, 2);
}

static void test_markers(void **state)
{
    vault *v = *state;
    search_opts o = {SEARCH_ANY, 0, "<<", ">>", 3};
    struct hits r;
    ev_err e;

    memset(&r, 0, sizeof r);
    add_incident(v, 1, "Title", "one two three four five six seven eight "
                 "deportation nine ten eleven twelve thirteen", "");
    assert_int_equal(search_run(v, "deportation", &o, collect, &r, &e), 0);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.snippet[0], "<<deportation>>"));
    assert_non_null(strstr(r.snippet[0], "..."));
    assert_null(strstr(r.snippet[0], "one"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_query),
        cmocka_unit_test_setup_teardown(test_ranking_and_snippets, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_case_and_diacritics, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_actors_not_contacts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sources_and_evidence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_updates_and_deletes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kind_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_mode_syntax_is_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_raw_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_markers, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
