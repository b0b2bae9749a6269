/*
 * search: FTS5 queries over the `search` index (see search.h). Laid out as:
 * the kind names, the plain-query builder, then search_run, which ranks
 * with bm25 inside FTS5 ("ORDER BY rank" with a rank function, so that
 * snippets are made only for the rows returned, not for every match) and
 * looks up each hit's UUID and label in its own table.
 */
#include "search.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {NULL, "incident", "actor", "source",
                                         "evidence"};

/* Per kind: the table and the column that labels a record. */
static const char *const label_sql[] = {
    NULL,
    "SELECT uuid, title FROM incident WHERE id = ?1",
    "SELECT uuid, name FROM actor WHERE id = ?1",
    "SELECT uuid, title FROM source WHERE id = ?1",
    "SELECT uuid, original_name FROM evidence WHERE id = ?1",
};

#define NKINDS 5

const char *search_kind_name(int kind)
{
    return kind > 0 && kind < NKINDS ? kind_names[kind] : NULL;
}

int search_kind_parse(const char *name)
{
    for (int k = 1; name && k < NKINDS; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

int search_query_plain(const char *text, char **out, ev_err *e)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    const char *p = text ? text : "";
    int words = 0, rc = EV_ERR_INTERNAL;
    char *q;

    *out = NULL;
    while (*p) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        if (words++)
            sqlite3_str_appendchar(s, 1, ' ');
        sqlite3_str_appendchar(s, 1, '"');
        for (; *p && !is_space(*p); p++) {
            if (*p == '"')
                sqlite3_str_appendchar(s, 1, '"');
            sqlite3_str_appendchar(s, 1, *p);
        }
        sqlite3_str_appendchar(s, 1, '"');
    }
    if (sqlite3_str_errcode(s) != SQLITE_OK) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (words == 0) {
        rc = err_set(e, EV_ERR_INVALID, "nothing to search for");
        goto out;
    }
    q = sqlite3_str_finish(s);
    s = NULL;
    if (!q)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    *out = q;
    rc = 0;
out:
    sqlite3_free(sqlite3_str_finish(s));
    return rc;
}

/* Map a failed step or prepare to an error; FTS5's complaints about the
 * query (a plain SQLITE_ERROR) become EV_ERR_INVALID naming the query. */
static int query_error(vault *v, int sqlrc, const char *fts, ev_err *e)
{
    char msg[EV_ERRMAX];
    int rc;

    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(vault_db(v)));
    rc = vault_sqlerr(v, sqlrc, "searching", e);
    if (rc == EV_ERR_INVALID && sqlrc == SQLITE_ERROR)
        rc = err_set(e, EV_ERR_INVALID, "bad search query '%.200s': %s", fts,
                     msg);
    return rc;
}

int search_run(vault *v, const char *fts, const search_opts *o, search_fn fn,
               void *arg, ev_err *e)
{
    static const search_opts defaults = {0, 0, NULL, NULL, 0};
    sqlite3 *db = vault_db(v);
    sqlite3_stmt *st = NULL, *lab[NKINDS] = {NULL};
    char sql[512];
    int rc = EV_ERR_INTERNAL, sqlrc, limit, tokens;

    if (!o)
        o = &defaults;
    limit = o->limit ? o->limit : SEARCH_LIMIT_DEFAULT;
    tokens = o->snippet_tokens ? o->snippet_tokens : 12;
    if (limit < 1 || limit > SEARCH_LIMIT_MAX || tokens < 1 || tokens > 64 ||
        (o->kind != SEARCH_ANY && !search_kind_name(o->kind)))
        return err_set(e, EV_ERR_INVALID, "bad search options");
    if (!fts || !*fts)
        return err_set(e, EV_ERR_INVALID, "nothing to search for");

    snprintf(sql, sizeof sql,
             "SELECT rowid, snippet(search, -1, ?2, ?3, '...', ?4), rank"
             " FROM search WHERE search MATCH ?1"
             " AND rank MATCH 'bm25(%.1f, %.1f)'%s"
             " ORDER BY rank LIMIT ?6",
             SEARCH_TITLE_WEIGHT, SEARCH_BODY_WEIGHT,
             o->kind ? " AND (rowid & 7) = ?5" : "");
    sqlrc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (sqlrc != SQLITE_OK) {
        rc = vault_sqlerr(v, sqlrc, "preparing the search", e);
        goto out;
    }
    sqlite3_bind_text(st, 1, fts, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->hl_open ? o->hl_open : "[", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->hl_close ? o->hl_close : "]", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(st, 4, tokens);
    if (o->kind)
        sqlite3_bind_int(st, 5, o->kind);
    sqlite3_bind_int(st, 6, limit);

    while ((sqlrc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 rowid = sqlite3_column_int64(st, 0);
        search_hit hit;
        sqlite3_stmt *l;
        const char *uuid;
        int r;

        memset(&hit, 0, sizeof hit);
        hit.kind = (int)(rowid & 7);
        hit.id = rowid >> 3;
        if (!search_kind_name(hit.kind))
            continue; /* not a kind this version knows */
        if (!lab[hit.kind]) {
            r = sqlite3_prepare_v2(db, label_sql[hit.kind], -1,
                                   &lab[hit.kind], NULL);
            if (r != SQLITE_OK) {
                rc = vault_sqlerr(v, r, "looking up a search result", e);
                goto out;
            }
        }
        l = lab[hit.kind];
        sqlite3_bind_int64(l, 1, hit.id);
        r = sqlite3_step(l);
        if (r == SQLITE_DONE) {
            /* The triggers keep the index in step with the records, so
             * this is a stale entry: skip it rather than show a ghost. */
            sqlite3_reset(l);
            continue;
        }
        if (r != SQLITE_ROW) {
            rc = vault_sqlerr(v, r, "looking up a search result", e);
            goto out;
        }
        uuid = (const char *)sqlite3_column_text(l, 0);
        snprintf(hit.uuid, sizeof hit.uuid, "%s", uuid ? uuid : "");
        hit.label = (const char *)sqlite3_column_text(l, 1);
        if (!hit.label)
            hit.label = "";
        hit.snippet = (const char *)sqlite3_column_text(st, 1);
        if (!hit.snippet)
            hit.snippet = "";
        hit.rank = sqlite3_column_double(st, 2);
        r = fn(arg, &hit);
        sqlite3_reset(l);
        if (r != 0) {
            rc = r;
            goto out;
        }
    }
    if (sqlrc != SQLITE_DONE) {
        rc = query_error(v, sqlrc, fts, e);
        goto out;
    }
    rc = 0;
out:
    for (int k = 0; k < NKINDS; k++)
        sqlite3_finalize(lab[k]);
    sqlite3_finalize(st);
    return rc;
}
