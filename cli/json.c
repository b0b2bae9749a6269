/* json: JSON output through SQLite's json_set() on a ":memory:" database. */
#include "json.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct json_doc {
    sqlite3 *db;
    char *text;
    int failed;
};

json_doc *json_new(int array)
{
    json_doc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    if (sqlite3_open_v2(":memory:", &d->db, SQLITE_OPEN_READWRITE, NULL) !=
            SQLITE_OK ||
        !(d->text = strdup(array ? "[]" : "{}"))) {
        json_free(d);
        return NULL;
    }
    return d;
}

void json_free(json_doc *d)
{
    if (!d)
        return;
    sqlite3_close(d->db);
    free(d->text);
    free(d);
}

/* doc = json_set(doc, path, value) where value is bound by bind(). */
static void set(json_doc *d, const char *path, const char *valexpr,
                void (*bind)(sqlite3_stmt *, const void *), const void *arg)
{
    char sql[128];
    sqlite3_stmt *st = NULL;

    if (d->failed)
        return;
    snprintf(sql, sizeof sql, "SELECT json_set(?1, ?2, %s)", valexpr);
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, d->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    bind(st, arg);
    if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 0))
        goto fail;
    {
        char *t = strdup((const char *)sqlite3_column_text(st, 0));
        if (!t)
            goto fail;
        free(d->text);
        d->text = t;
    }
    sqlite3_finalize(st);
    return;
fail:
    sqlite3_finalize(st);
    d->failed = 1;
}

static void bind_text(sqlite3_stmt *st, const void *v)
{
    sqlite3_bind_text(st, 3, v, -1, SQLITE_TRANSIENT);
}

static void bind_int(sqlite3_stmt *st, const void *v)
{
    sqlite3_bind_int64(st, 3, *(const int64_t *)v);
}

void json_str(json_doc *d, const char *path, const char *value)
{
    set(d, path, "?3", bind_text, value ? value : "");
}

void json_int(json_doc *d, const char *path, int64_t value)
{
    set(d, path, "?3", bind_int, &value);
}

void json_bool(json_doc *d, const char *path, int value)
{
    set(d, path, value ? "json('true')" : "json('false')", bind_int,
        &(int64_t){0});
}

void json_doc_set(json_doc *d, const char *path, const json_doc *value)
{
    set(d, path, "json(?3)", bind_text, value->text);
}

const char *json_text(const json_doc *d)
{
    return d->text;
}

int json_print(const json_doc *d)
{
    if (d->failed)
        return 1;
    return printf("%s\n", d->text) < 0 ? 1 : 0;
}
