/*
 * import: JSON and CSV import of case records (see import.h). Laid out as:
 * reading the file; the JSON importer, which walks the document with
 * SQLite's json_each/json_extract (the text bound as a parameter, never
 * parsed here) and maps the file's refs to new local numbers; the CSV
 * importer, which lets libcsv split records and fields and tracks the
 * physical line each record starts on; then the shared entry points. Every
 * record goes through the records API, so it is validated exactly as the
 * commands validate it, inside one outer transaction.
 */
#define _GNU_SOURCE
#include "import.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "records.h"

/* ---- reading ------------------------------------------------------------ */

static int read_all(const char *path, char **out, size_t *len, ev_err *e)
{
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc = 0;
    struct stat sb;
    char *buf = NULL;
    size_t n = 0;
    ssize_t r;

    if (fd < 0)
        return err_set(e, EV_ERR_IO, "cannot open '%s': %s", path,
                       strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        rc = err_set(e, EV_ERR_INVALID, "'%s' is not a regular file: give "
                                        "a CSV or JSON file", path);
    else if ((uint64_t)sb.st_size > IMPORT_MAXSIZE)
        rc = err_set(e, EV_ERR_INVALID,
                     "'%s' is %lld bytes: the most evault imports at once is "
                     "%zu MiB, split it into smaller files",
                     path, (long long)sb.st_size, IMPORT_MAXSIZE >> 20);
    else if (!(buf = malloc((size_t)sb.st_size + 1)))
        rc = err_set(e, EV_ERR_NOMEM, "out of memory reading '%s'", path);
    while (rc == 0 && n <= (size_t)sb.st_size) {
        r = read(fd, buf + n, (size_t)sb.st_size + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = err_set(e, EV_ERR_IO, "cannot read '%s': %s", path,
                         strerror(errno));
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    if (rc == 0 && n != (size_t)sb.st_size)
        rc = err_set(e, EV_ERR_IO, "'%s' changed while it was read: try "
                                   "again", path);
    close(fd);
    if (rc == 0) {
        buf[n] = '\0';
        *out = buf;
        *len = n;
        buf = NULL;
    }
    free(buf);
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

typedef struct refent {
    char *ref;
    int64_t id;
} refent;

typedef struct refmap {
    refent *v;
    size_t n, cap;
} refmap;

static void refmap_free(refmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].ref);
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

static int refmap_add(refmap *m, const char *ref, int64_t id, ev_err *e)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        refent *nv = realloc(m->v, cap * sizeof *nv);
        if (!nv)
            return err_set(e, EV_ERR_NOMEM, "out of memory");
        m->v = nv;
        m->cap = cap;
    }
    if (!(m->v[m->n].ref = strdup(ref)))
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    m->v[m->n++].id = id;
    return 0;
}

static int refcmp(const void *a, const void *b)
{
    return strcmp(((const refent *)a)->ref, ((const refent *)b)->ref);
}

/* Sort m; a ref given twice is an error. */
static int refmap_seal(refmap *m, const char *what, ev_err *e)
{
    if (m->n > 1)
        qsort(m->v, m->n, sizeof *m->v, refcmp);
    for (size_t i = 1; i < m->n; i++)
        if (strcmp(m->v[i - 1].ref, m->v[i].ref) == 0)
            return err_set(e, EV_ERR_INVALID,
                           "%s ref '%.100s' is used twice: give each %s its "
                           "own ref",
                           what, m->v[i].ref, what);
    return 0;
}

static int64_t refmap_find(const refmap *m, const char *ref)
{
    refent key = {(char *)ref, 0}, *hit;
    if (m->n == 0)
        return 0;
    hit = bsearch(&key, m->v, m->n, sizeof *m->v, refcmp);
    return hit ? hit->id : 0;
}

/* One object of the file being read: its text and the strings taken from
 * it (freed together when the next object starts). */
typedef struct jitem {
    vault *v;
    sqlite3_stmt *get;  /* json_type(?1, ?2), json_extract(?1, ?2) */
    sqlite3_stmt *each; /* json_each(?1, ?2) */
    const char *obj;
    char **owned;
    size_t nowned, capowned;
} jitem;

static void jitem_reset(jitem *it, const char *obj)
{
    for (size_t i = 0; i < it->nowned; i++)
        free(it->owned[i]);
    it->nowned = 0;
    it->obj = obj;
}

static int own(jitem *it, void *p, ev_err *e)
{
    if (!p)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    if (it->nowned == it->capowned) {
        size_t cap = it->capowned ? it->capowned * 2 : 32;
        char **no = realloc(it->owned, cap * sizeof *no);
        if (!no) {
            free(p);
            return err_set(e, EV_ERR_NOMEM, "out of memory");
        }
        it->owned = no;
        it->capowned = cap;
    }
    it->owned[it->nowned++] = p;
    return 0;
}

/* The JSON type of key in the item ("null" when absent) and, for text,
 * the value. OUT: type (16 bytes), *val (owned by it, may be NULL). */
static int jget(jitem *it, const char *key, char *type, char **val,
                ev_err *e)
{
    char path[80];
    const char *t, *x;
    int rc = 0;

    snprintf(path, sizeof path, "$.%s", key);
    sqlite3_reset(it->get);
    sqlite3_bind_text(it->get, 1, it->obj, -1, SQLITE_STATIC);
    sqlite3_bind_text(it->get, 2, path, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(it->get) != SQLITE_ROW)
        return vault_sqlerr(it->v, sqlite3_errcode(vault_db(it->v)),
                            "reading the import file", e);
    t = (const char *)sqlite3_column_text(it->get, 0);
    x = (const char *)sqlite3_column_text(it->get, 1);
    snprintf(type, 16, "%s", t ? t : "null");
    *val = NULL;
    if (x)
        rc = own(it, strdup(x), e);
    if (x && rc == 0)
        *val = it->owned[it->nowned - 1];
    sqlite3_reset(it->get);
    return rc;
}

/* A string field (NULL when absent or null). */
static int jstr(jitem *it, const char *key, const char **out, ev_err *e)
{
    char type[16], *val;
    int rc = jget(it, key, type, &val, e);

    *out = NULL;
    if (rc != 0)
        return rc;
    if (strcmp(type, "text") == 0)
        *out = val;
    else if (strcmp(type, "null") != 0)
        rc = err_set(e, EV_ERR_INVALID, "\"%s\" must be a string, not %s",
                     key, type);
    return rc;
}

/* A boolean field: 1, 0, or -1 when absent. */
static int jbool(jitem *it, const char *key, int *out, ev_err *e)
{
    char type[16], *val;
    int rc = jget(it, key, type, &val, e);

    *out = strcmp(type, "true") == 0 ? 1 : strcmp(type, "false") == 0 ? 0 : -1;
    if (rc == 0 && *out < 0 && strcmp(type, "null") != 0)
        rc = err_set(e, EV_ERR_INVALID, "\"%s\" must be true or false", key);
    return rc;
}

/* A number field. OUT: *out; *given 0 when absent. */
static int jnum(jitem *it, const char *key, double *out, int *given,
                ev_err *e)
{
    char type[16], *val;
    int rc = jget(it, key, type, &val, e);

    *given = 0;
    if (rc == 0 && strcmp(type, "null") == 0)
        return 0;
    if (rc == 0 && strcmp(type, "integer") != 0 && strcmp(type, "real") != 0)
        return err_set(e, EV_ERR_INVALID, "\"%s\" must be a number", key);
    if (rc == 0) {
        *out = strtod(val, NULL);
        *given = 1;
    }
    return rc;
}

/* An array of strings. OUT: *arr, *n (owned by it). */
static int jstrings(jitem *it, const char *key, const char ***arr, size_t *n,
                    ev_err *e)
{
    char type[16], *val, path[80];
    const char **a = NULL;
    size_t cap = 0;
    int rc = jget(it, key, type, &val, e), src;

    *arr = NULL;
    *n = 0;
    if (rc != 0 || strcmp(type, "null") == 0)
        return rc;
    if (strcmp(type, "array") != 0)
        return err_set(e, EV_ERR_INVALID, "\"%s\" must be an array of "
                                          "strings", key);
    snprintf(path, sizeof path, "$.%s", key);
    sqlite3_reset(it->each);
    sqlite3_bind_text(it->each, 1, it->obj, -1, SQLITE_STATIC);
    sqlite3_bind_text(it->each, 2, path, -1, SQLITE_TRANSIENT);
    while (rc == 0 && (src = sqlite3_step(it->each)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(it->each, 2);
        const char *x = (const char *)sqlite3_column_text(it->each, 1);
        if (!t || strcmp(t, "text") != 0 || !x) {
            rc = err_set(e, EV_ERR_INVALID, "\"%s\" must be an array of "
                                            "strings", key);
            break;
        }
        if (*n == cap) {
            const char **na = realloc(a, (cap = cap ? cap * 2 : 8) * sizeof *a);
            if (!na) {
                rc = err_set(e, EV_ERR_NOMEM, "out of memory");
                break;
            }
            a = na;
        }
        rc = own(it, strdup(x), e);
        if (rc == 0)
            a[(*n)++] = it->owned[it->nowned - 1];
    }
    sqlite3_reset(it->each);
    if (rc == 0 && a)
        rc = own(it, (void *)a, e);
    else
        free(a);
    if (rc == 0)
        *arr = a;
    return rc;
}

/* The item is an object whose keys are all in allowed. */
static int jkeys(jitem *it, const char *const *allowed, ev_err *e)
{
    int rc = 0, src;

    sqlite3_reset(it->each);
    sqlite3_bind_text(it->each, 1, it->obj, -1, SQLITE_STATIC);
    sqlite3_bind_text(it->each, 2, "$", -1, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(it->each)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(it->each, 0);
        const char *const *a = allowed;
        if (sqlite3_column_type(it->each, 0) != SQLITE_TEXT || !k) {
            rc = err_set(e, EV_ERR_INVALID, "this must be a JSON object");
            break;
        }
        while (*a && strcmp(*a, k) != 0)
            a++;
        if (!*a)
            rc = err_set(e, EV_ERR_INVALID,
                         "unknown field \"%.60s\": see evault(1), IMPORT "
                         "FORMATS",
                         k);
    }
    sqlite3_reset(it->each);
    return rc;
}

typedef struct jctx {
    vault *v;
    const char *name;
    const char *doc;
    size_t len;
    jitem it;
    refmap actors, sources;
    import_counts *c;
} jctx;

static int source_item(jctx *x, ev_err *e)
{
    static const char *const keys[] = {
        "ref", "kind", "title", "description", "date", "date_precision",
        "reliability", "consent", "url", "confidential", NULL};
    records_source s;
    const char *ref = NULL;
    int64_t id = 0;
    int rc = jkeys(&x->it, keys, e);

    records_source_init(&s);
    if (rc == 0)
        rc = jstr(&x->it, "ref", &ref, e);
    if (rc == 0 && !ref)
        rc = err_set(e, EV_ERR_INVALID, "a source needs a \"ref\"");
    if (rc == 0)
        rc = jstr(&x->it, "kind", &s.kind, e);
    if (rc == 0)
        rc = jstr(&x->it, "title", &s.title, e);
    if (rc == 0)
        rc = jstr(&x->it, "description", &s.description, e);
    if (rc == 0)
        rc = jstr(&x->it, "date", &s.date, e);
    if (rc == 0)
        rc = jstr(&x->it, "date_precision", &s.date_precision, e);
    if (rc == 0)
        rc = jstr(&x->it, "reliability", &s.reliability, e);
    if (rc == 0)
        rc = jstr(&x->it, "consent", &s.consent, e);
    if (rc == 0)
        rc = jstr(&x->it, "url", &s.url, e);
    if (rc == 0)
        rc = jbool(&x->it, "confidential", &s.confidential, e);
    if (rc == 0)
        rc = records_source_add(x->v, &s, &id, e);
    if (rc == 0)
        rc = refmap_add(&x->sources, ref, id, e);
    if (rc == 0)
        x->c->sources++;
    return rc;
}

static int actor_item(jctx *x, ev_err *e)
{
    static const char *const keys[] = {
        "ref", "kind", "name", "other_names", "category", "description",
        "contact", "confidential", NULL};
    records_actor a;
    const char *ref = NULL, **names = NULL;
    int64_t id = 0;
    int rc = jkeys(&x->it, keys, e);

    records_actor_init(&a);
    if (rc == 0)
        rc = jstr(&x->it, "ref", &ref, e);
    if (rc == 0 && !ref)
        rc = err_set(e, EV_ERR_INVALID, "an actor needs a \"ref\"");
    if (rc == 0)
        rc = jstr(&x->it, "kind", &a.kind, e);
    if (rc == 0)
        rc = jstr(&x->it, "name", &a.name, e);
    if (rc == 0)
        rc = jstrings(&x->it, "other_names", &names, &a.nother, e);
    a.other_names = (const char *const *)names;
    a.set_other = a.nother > 0;
    if (rc == 0)
        rc = jstr(&x->it, "category", &a.category, e);
    if (rc == 0)
        rc = jstr(&x->it, "description", &a.description, e);
    if (rc == 0)
        rc = jstr(&x->it, "contact", &a.contact, e);
    if (rc == 0)
        rc = jbool(&x->it, "confidential", &a.confidential, e);
    if (rc == 0)
        rc = records_actor_add(x->v, &a, &id, e);
    if (rc == 0)
        rc = refmap_add(&x->actors, ref, id, e);
    if (rc == 0)
        x->c->actors++;
    return rc;
}

static int type_item(jctx *x, ev_err *e)
{
    static const char *const keys[] = {"name", "description", NULL};
    const char *name = NULL, *desc = NULL;
    int rc = jkeys(&x->it, keys, e);

    if (rc == 0)
        rc = jstr(&x->it, "name", &name, e);
    if (rc == 0)
        rc = jstr(&x->it, "description", &desc, e);
    if (rc == 0 && !name)
        rc = err_set(e, EV_ERR_INVALID, "an incident type needs a \"name\"");
    if (rc == 0) {
        rc = records_type_add(x->v, name, desc, e);
        if (rc == EV_ERR_EXISTS)
            rc = 0;
        else if (rc == 0)
            x->c->types++;
    }
    return rc;
}

static int incident_fields(jctx *x, records_incident *in, ev_err *e)
{
    static const char *const keys[] = {
        "ref", "title", "type", "date", "date_precision", "end_date",
        "end_date_precision", "location", "latitude", "longitude", "status",
        "confidential", "tags", "description", "involvements", "sources",
        NULL};
    jitem *it = &x->it;
    const char **tags = NULL;
    int rc = jkeys(it, keys, e), glat = 0, glon = 0;

    if (rc == 0)
        rc = jstr(it, "title", &in->title, e);
    if (rc == 0)
        rc = jstr(it, "type", &in->type, e);
    if (rc == 0)
        rc = jstr(it, "date", &in->date, e);
    if (rc == 0)
        rc = jstr(it, "date_precision", &in->date_precision, e);
    if (rc == 0)
        rc = jstr(it, "end_date", &in->end_date, e);
    if (rc == 0)
        rc = jstr(it, "end_date_precision", &in->end_date_precision, e);
    if (rc == 0)
        rc = jstr(it, "location", &in->location, e);
    if (rc == 0)
        rc = jstr(it, "status", &in->status, e);
    if (rc == 0)
        rc = jstr(it, "description", &in->description, e);
    if (rc == 0)
        rc = jbool(it, "confidential", &in->confidential, e);
    if (rc == 0)
        rc = jstrings(it, "tags", &tags, &in->ntags, e);
    in->tags = (const char *const *)tags;
    if (rc == 0)
        rc = jnum(it, "latitude", &in->lat, &glat, e);
    if (rc == 0)
        rc = jnum(it, "longitude", &in->lon, &glon, e);
    if (rc == 0 && glat != glon)
        rc = err_set(e, EV_ERR_INVALID, "give both \"latitude\" and "
                                        "\"longitude\", or neither");
    in->coords = glat && glon;
    if (rc == 0 && in->date && !*in->date)
        rc = err_set(e, EV_ERR_INVALID, "\"date\" is empty: leave it out");
    if (rc == 0 && in->end_date && !*in->end_date)
        rc = err_set(e, EV_ERR_INVALID, "\"end_date\" is empty: leave it "
                                        "out");
    return rc;
}

/* Run the statement each over path of the item text obj, calling fn. */
static int each_value(jctx *x, const char *obj, const char *path,
                      int (*fn)(jctx *, int64_t, const char *, const char *,
                                ev_err *),
                      int64_t incident, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, src = sqlite3_prepare_v2(vault_db(x->v),
                                         "SELECT value, type FROM "
                                         "json_each(?1, ?2)",
                                         -1, &st, NULL);

    if (src != SQLITE_OK)
        return vault_sqlerr(x->v, src, "reading the import file", e);
    sqlite3_bind_text(st, 1, obj, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = fn(x, incident, (const char *)sqlite3_column_text(st, 0),
                (const char *)sqlite3_column_text(st, 1), e);
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "reading the import file", e);
    sqlite3_finalize(st);
    return rc;
}

static int involvement_one(jctx *x, int64_t incident, const char *val,
                           const char *type, ev_err *e)
{
    static const char *const keys[] = {"actor", "role", "degree", NULL};
    jitem sub = {x->v, x->it.get, x->it.each, val, NULL, 0, 0};
    const char *actor = NULL, *role = NULL, *degree = NULL;
    int64_t aid;
    int rc = strcmp(type ? type : "", "object") == 0
                 ? jkeys(&sub, keys, e)
                 : err_set(e, EV_ERR_INVALID, "each of \"involvements\" must "
                                              "be an object");

    if (rc == 0)
        rc = jstr(&sub, "actor", &actor, e);
    if (rc == 0)
        rc = jstr(&sub, "role", &role, e);
    if (rc == 0)
        rc = jstr(&sub, "degree", &degree, e);
    if (rc == 0 && !actor)
        rc = err_set(e, EV_ERR_INVALID, "an involvement needs an \"actor\"");
    if (rc == 0 && !role)
        rc = err_set(e, EV_ERR_INVALID, "involvement of '%.100s' needs a "
                                        "\"role\"", actor);
    if (rc == 0 && !(aid = refmap_find(&x->actors, actor)))
        rc = err_set(e, EV_ERR_INVALID, "no actor with ref '%.100s' in this "
                                        "file: add it to \"actors\"", actor);
    if (rc == 0)
        rc = records_link(x->v, incident, aid, role, degree, e);
    if (rc == 0)
        x->c->involvements++;
    jitem_reset(&sub, NULL);
    free(sub.owned);
    return rc;
}

static int citation_one(jctx *x, int64_t incident, const char *val,
                        const char *type, ev_err *e)
{
    int64_t sid;
    if (strcmp(type ? type : "", "text") != 0)
        return err_set(e, EV_ERR_INVALID, "\"sources\" must be an array of "
                                          "source refs");
    if (!(sid = refmap_find(&x->sources, val)))
        return err_set(e, EV_ERR_INVALID, "no source with ref '%.100s' in "
                                          "this file: add it to \"sources\"",
                       val);
    x->c->citations++;
    return records_cite(x->v, incident, sid, e);
}

static int incident_item(jctx *x, ev_err *e)
{
    records_incident in;
    char type[16], *val;
    int64_t id = 0;
    int rc;

    records_incident_init(&in);
    rc = incident_fields(x, &in, e);
    if (rc == 0)
        rc = records_incident_add(x->v, &in, &id, e);
    if (rc == 0)
        rc = jget(&x->it, "involvements", type, &val, e);
    if (rc == 0 && strcmp(type, "null") != 0 && strcmp(type, "array") != 0)
        rc = err_set(e, EV_ERR_INVALID, "\"involvements\" must be an array");
    if (rc == 0)
        rc = each_value(x, x->it.obj, "$.involvements", involvement_one, id,
                        e);
    if (rc == 0)
        rc = jget(&x->it, "sources", type, &val, e);
    if (rc == 0 && strcmp(type, "null") != 0 && strcmp(type, "array") != 0)
        rc = err_set(e, EV_ERR_INVALID, "\"sources\" must be an array");
    if (rc == 0)
        rc = each_value(x, x->it.obj, "$.sources", citation_one, id, e);
    if (rc == 0)
        x->c->incidents++;
    return rc;
}

/* Import every element of the top-level array section with fn; an error
 * is prefixed with where it happened. */
static int json_section(jctx *x, const char *section,
                        int (*fn)(jctx *, ev_err *), ev_err *e)
{
    char path[40], where[200], type[16], *val;
    sqlite3_stmt *st = NULL;
    const char *ref;
    int rc, src;
    long idx = 0;

    jitem_reset(&x->it, x->doc);
    rc = jget(&x->it, section, type, &val, e);
    if (rc != 0 || strcmp(type, "null") == 0)
        return rc;
    if (strcmp(type, "array") != 0)
        return err_set(e, EV_ERR_INVALID, "'%s': \"%s\" must be an array",
                       x->name, section);
    snprintf(path, sizeof path, "$.%s", section);
    src = sqlite3_prepare_v2(vault_db(x->v),
                             "SELECT value, type FROM json_each(?1, ?2)", -1,
                             &st, NULL);
    if (src != SQLITE_OK)
        return vault_sqlerr(x->v, src, "reading the import file", e);
    sqlite3_bind_text(st, 1, x->doc, (int)x->len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 1);
        jitem_reset(&x->it, (const char *)sqlite3_column_text(st, 0));
        snprintf(where, sizeof where, "%s[%ld]", section, idx);
        if (!t || strcmp(t, "object") != 0)
            rc = err_set(e, EV_ERR_INVALID, "must be an object");
        else
            rc = fn(x, e);
        if (rc != 0) {
            char msg[EV_ERRMAX];
            ref = NULL;
            if (t && strcmp(t, "object") == 0 &&
                jstr(&x->it, "ref", &ref, NULL) != 0)
                ref = NULL;
            snprintf(msg, sizeof msg, "%s", e ? e->msg : "");
            err_set(e, rc, "'%s': %s%s%.60s%s: %s: nothing was imported",
                    x->name, where, ref ? " (ref '" : "", ref ? ref : "",
                    ref ? "')" : "", msg);
        }
        idx++;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = vault_sqlerr(x->v, src, "reading the import file", e);
    sqlite3_finalize(st);
    jitem_reset(&x->it, NULL);
    return rc;
}

static int json_top(jctx *x, ev_err *e)
{
    static const char *const keys[] = {"format", "note", "incident_types",
                                       "sources", "actors", "incidents",
                                       NULL};
    const char *fmt = NULL;
    int rc;

    jitem_reset(&x->it, x->doc);
    rc = jkeys(&x->it, keys, e);
    if (rc == 0)
        rc = jstr(&x->it, "format", &fmt, e);
    if (rc == 0 && (!fmt || strcmp(fmt, "evault-import-1") != 0))
        rc = err_set(e, EV_ERR_INVALID,
                     "\"format\" must be \"evault-import-1\"");
    if (rc != 0) {
        char msg[EV_ERRMAX];
        snprintf(msg, sizeof msg, "%s", e ? e->msg : "");
        err_set(e, rc, "'%s' is not an evault import file: %s", x->name,
                msg);
    }
    return rc;
}

static int json_valid_doc(jctx *x, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int ok = 0,
        src = sqlite3_prepare_v2(vault_db(x->v),
                                 "SELECT json_valid(?1) AND json_type(?1) = "
                                 "'object'",
                                 -1, &st, NULL);

    if (src != SQLITE_OK)
        return vault_sqlerr(x->v, src, "reading the import file", e);
    sqlite3_bind_text(st, 1, x->doc, (int)x->len, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        ok = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (!ok || memchr(x->doc, '\0', x->len))
        return err_set(e, EV_ERR_INVALID,
                       "'%s' is not a valid JSON object: check its syntax "
                       "(or give --format csv)",
                       x->name);
    return 0;
}

static int import_json(vault *v, const char *doc, size_t len,
                       const char *name, import_counts *c, ev_err *e)
{
    jctx x = {v, name, doc, len, {v, NULL, NULL, NULL, NULL, 0, 0},
              {NULL, 0, 0}, {NULL, 0, 0}, c};
    int rc = json_valid_doc(&x, e);

    if (rc == 0 &&
        (sqlite3_prepare_v2(vault_db(v),
                            "SELECT json_type(?1, ?2), json_extract(?1, ?2)",
                            -1, &x.it.get, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(vault_db(v),
                            "SELECT key, value, type FROM json_each(?1, ?2)",
                            -1, &x.it.each, NULL) != SQLITE_OK))
        rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                          "reading the import file", e);
    if (rc == 0)
        rc = json_top(&x, e);
    if (rc == 0)
        rc = json_section(&x, "incident_types", type_item, e);
    if (rc == 0)
        rc = json_section(&x, "sources", source_item, e);
    if (rc == 0)
        rc = refmap_seal(&x.sources, "source", e);
    if (rc == 0)
        rc = json_section(&x, "actors", actor_item, e);
    if (rc == 0)
        rc = refmap_seal(&x.actors, "actor", e);
    if (rc == 0)
        rc = json_section(&x, "incidents", incident_item, e);
    jitem_reset(&x.it, NULL);
    free(x.it.owned);
    sqlite3_finalize(x.it.get);
    sqlite3_finalize(x.it.each);
    refmap_free(&x.actors);
    refmap_free(&x.sources);
    return rc;
}

/* ---- CSV ---------------------------------------------------------------- */

enum { C_TITLE, C_TYPE, C_DATE, C_DPREC, C_END, C_EPREC, C_LOC, C_LAT, C_LON,
       C_STATUS, C_CONF, C_TAGS, C_DESC, C_VICTIMS, C_PERPS, C_WITNESSES,
       C_N };

static const char *const CSV_COLUMNS[C_N] = {
    "title", "type", "date", "date_precision", "end_date",
    "end_date_precision", "location", "latitude", "longitude", "status",
    "confidential", "tags", "description", "victims", "perpetrators",
    "witnesses"};

typedef struct cctx {
    vault *v;
    const char *name;
    import_counts *c;
    char **fields; /* the record being read */
    size_t nfields, capfields;
    int col[C_N]; /* header position of each column, -1 absent */
    int ncols;    /* header width; 0 until the header is read */
    long line;    /* physical line being fed */
    long start;   /* line the current record starts on */
    int between;  /* no record in progress */
    int rc;
    ev_err *e;
} cctx;

static void fields_clear(cctx *x)
{
    for (size_t i = 0; i < x->nfields; i++)
        free(x->fields[i]);
    x->nfields = 0;
}

static void csv_field(void *data, size_t len, void *arg)
{
    cctx *x = arg;
    char *f;

    if (x->rc != 0)
        return;
    if (data && memchr(data, '\0', len)) {
        x->rc = err_set(x->e, EV_ERR_INVALID, "a field holds a NUL byte");
        return;
    }
    /* A valid header names each column once, and rows match it: refuse a
     * hostile record of millions of empty fields before storing them
     * (a row a few fields too wide still gets the clearer message from
     * csv_record). */
    if (x->nfields >= (size_t)(x->ncols ? x->ncols + 64 : 4 * C_N)) {
        x->rc = err_set(x->e, EV_ERR_INVALID,
                        "'%s' line %ld: far more fields in a record than "
                        "the header has columns: check its quotes and "
                        "commas; nothing was imported",
                        x->name, x->start);
        return;
    }
    if (x->nfields == x->capfields) {
        size_t cap = x->capfields ? x->capfields * 2 : 32;
        char **nf = realloc(x->fields, cap * sizeof *nf);
        if (!nf) {
            x->rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
            return;
        }
        x->fields = nf;
        x->capfields = cap;
    }
    if (!(f = malloc(len + 1))) {
        x->rc = err_set(x->e, EV_ERR_NOMEM, "out of memory");
        return;
    }
    if (len)
        memcpy(f, data, len);
    f[len] = '\0';
    x->fields[x->nfields++] = f;
}

static int csv_header(cctx *x)
{
    for (int i = 0; i < C_N; i++)
        x->col[i] = -1;
    for (size_t f = 0; f < x->nfields; f++) {
        int k = 0;
        while (k < C_N && strcmp(x->fields[f], CSV_COLUMNS[k]) != 0)
            k++;
        if (k == C_N)
            return err_set(x->e, EV_ERR_INVALID,
                           "unknown column '%.60s': the columns are title, "
                           "type, date, date_precision, end_date, "
                           "end_date_precision, location, latitude, "
                           "longitude, status, confidential, tags, "
                           "description, victims, perpetrators, witnesses",
                           x->fields[f]);
        if (x->col[k] >= 0)
            return err_set(x->e, EV_ERR_INVALID, "column '%s' is given twice",
                           CSV_COLUMNS[k]);
        x->col[k] = (int)f;
    }
    if (x->col[C_TITLE] < 0 || x->col[C_TYPE] < 0)
        return err_set(x->e, EV_ERR_INVALID,
                       "the header row needs the columns 'title' and 'type'");
    x->ncols = (int)x->nfields;
    return 0;
}

/* Column k of the current row, NULL when absent or empty. */
static char *cell(cctx *x, int k)
{
    char *s = x->col[k] >= 0 ? x->fields[x->col[k]] : NULL;
    return s && *s ? s : NULL;
}

/* Split s in place at ';', trimming spaces; empty pieces are dropped.
 * OUT: parts (at most max), *n. */
static int split(char *s, char **parts, size_t max, size_t *n)
{
    *n = 0;
    while (s) {
        char *semi = strchr(s, ';'), *end;
        if (semi)
            *semi = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (*s) {
            if (*n == max)
                return -1;
            parts[(*n)++] = s;
        }
        s = semi ? semi + 1 : NULL;
    }
    return 0;
}

static int csv_bool(const char *s, int *out)
{
    static const char *const yes[] = {"yes", "true", "1", "y", NULL};
    static const char *const no[] = {"no", "false", "0", "n", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
    for (int i = 0; no[i]; i++)
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    return -1;
}

#define CSV_MAXPARTS 256

/* Link the actors named in column k (role) to incident id. */
static int csv_actors(cctx *x, int k, const char *role, int64_t id)
{
    char *parts[CSV_MAXPARTS], *s = cell(x, k);
    size_t n;
    int rc = 0;

    if (!s)
        return 0;
    if (split(s, parts, CSV_MAXPARTS, &n) != 0)
        return err_set(x->e, EV_ERR_INVALID, "more than %d names in '%s'",
                       CSV_MAXPARTS, CSV_COLUMNS[k]);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *kind = NULL;
        char *name = parts[i], *br = strrchr(name, '[');
        size_t len = strlen(name);
        int64_t aid = 0;
        int created = 0;

        if (br && name[len - 1] == ']') {
            name[len - 1] = '\0';
            kind = br + 1;
            while (br > name && br[-1] == ' ')
                br--;
            *br = '\0';
            if (strcmp(kind, "person") != 0 &&
                strcmp(kind, "organisation") != 0)
                return err_set(x->e, EV_ERR_INVALID,
                               "'%.100s' in '%s': write [person] or "
                               "[organisation] after a name",
                               parts[i], CSV_COLUMNS[k]);
        }
        rc = records_actor_by_name(x->v, name, kind, &aid, &created, x->e);
        if (rc == 0)
            rc = records_link(x->v, id, aid, role, NULL, x->e);
        if (rc == 0) {
            x->c->actors += created;
            x->c->actors_reused += !created;
            x->c->involvements++;
        }
    }
    return rc;
}

static int csv_row(cctx *x)
{
    records_incident in;
    char *tags[CSV_MAXPARTS], *t;
    size_t ntags = 0;
    int64_t id = 0;
    int rc = 0;

    records_incident_init(&in);
    in.title = cell(x, C_TITLE);
    in.type = cell(x, C_TYPE);
    in.date = cell(x, C_DATE);
    in.date_precision = cell(x, C_DPREC);
    in.end_date = cell(x, C_END);
    in.end_date_precision = cell(x, C_EPREC);
    in.location = cell(x, C_LOC);
    in.status = cell(x, C_STATUS);
    in.description = cell(x, C_DESC);
    if (!in.title)
        return err_set(x->e, EV_ERR_INVALID, "the title is empty");
    if (!in.type)
        return err_set(x->e, EV_ERR_INVALID, "the type is empty");
    if (!cell(x, C_LAT) != !cell(x, C_LON))
        return err_set(x->e, EV_ERR_INVALID,
                       "give both latitude and longitude, or neither");
    if (cell(x, C_LAT)) {
        rc = records_parse_coord(cell(x, C_LAT), 1, &in.lat, x->e);
        if (rc == 0)
            rc = records_parse_coord(cell(x, C_LON), 0, &in.lon, x->e);
        in.coords = 1;
    }
    if (rc == 0 && (t = cell(x, C_CONF)) && csv_bool(t, &in.confidential))
        rc = err_set(x->e, EV_ERR_INVALID,
                     "confidential '%.20s' is not yes or no", t);
    if (rc == 0 && (t = cell(x, C_TAGS)) &&
        split(t, tags, CSV_MAXPARTS, &ntags) != 0)
        rc = err_set(x->e, EV_ERR_INVALID, "more than %d tags",
                     CSV_MAXPARTS);
    in.tags = (const char *const *)tags;
    in.ntags = ntags;
    if (rc == 0)
        rc = records_incident_add(x->v, &in, &id, x->e);
    if (rc == 0)
        rc = csv_actors(x, C_VICTIMS, "victim", id);
    if (rc == 0)
        rc = csv_actors(x, C_PERPS, "perpetrator", id);
    if (rc == 0)
        rc = csv_actors(x, C_WITNESSES, "witness", id);
    if (rc == 0)
        x->c->incidents++;
    return rc;
}

static void csv_record(int term, void *arg)
{
    cctx *x = arg;
    (void)term;

    x->between = 1;
    if (x->rc != 0)
        return;
    if (x->ncols == 0)
        x->rc = csv_header(x);
    else if (x->nfields != (size_t)x->ncols)
        x->rc = err_set(x->e, EV_ERR_INVALID,
                        "the row has %zu fields but the header has %d: "
                        "check its quotes and commas",
                        x->nfields, x->ncols);
    else
        x->rc = csv_row(x);
    if (x->rc != 0) {
        char msg[EV_ERRMAX];
        snprintf(msg, sizeof msg, "%s", x->e ? x->e->msg : "");
        err_set(x->e, x->rc, "'%s' line %ld: %s: nothing was imported",
                x->name, x->start, msg);
    }
    fields_clear(x);
}

/* Feed data to libcsv one physical line at a time, so that a record's
 * first line is known: a record starts on the first non-blank line fed
 * after the previous one ended. */
static int csv_feed(cctx *x, struct csv_parser *p, const char *data,
                    size_t len)
{
    size_t at = 0;

    while (at < len && x->rc == 0) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) + 1 : len - at;
        int blank = 1;

        for (size_t i = 0; i < n && blank; i++)
            blank = data[at + i] == '\r' || data[at + i] == '\n';
        if (x->between && !blank) {
            x->start = x->line;
            x->between = 0;
        }
        if (csv_parse(p, data + at, n, csv_field, csv_record, x) != n &&
            x->rc == 0)
            x->rc = err_set(x->e, EV_ERR_INVALID,
                            "'%s' line %ld: %s (a quote inside a field must "
                            "be doubled): nothing was imported",
                            x->name, x->line, csv_strerror(csv_error(p)));
        at += n;
        x->line++;
    }
    return x->rc;
}

static int import_csv(vault *v, const char *data, size_t len,
                      const char *name, import_counts *c, ev_err *e)
{
    struct csv_parser p;
    cctx x;
    int rc;

    memset(&x, 0, sizeof x);
    x.v = v;
    x.name = name;
    x.c = c;
    x.e = e;
    x.line = 1;
    x.start = 1;
    x.between = 1;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = csv_feed(&x, &p, data, len);
    if (rc == 0 && csv_fini(&p, csv_field, csv_record, &x) != 0 && x.rc == 0)
        x.rc = err_set(e, EV_ERR_INVALID,
                       "'%s' line %ld: %s (a quoted field is not closed): "
                       "nothing was imported",
                       name, x.start, csv_strerror(csv_error(&p)));
    rc = x.rc;
    if (rc == 0 && x.ncols == 0)
        rc = err_set(e, EV_ERR_INVALID,
                     "'%s' is empty: it needs a header row naming its "
                     "columns",
                     name);
    csv_free(&p);
    fields_clear(&x);
    free(x.fields);
    return rc;
}

/* ---- entry points ------------------------------------------------------- */

int import_buffer(vault *v, const char *data, size_t len, const char *format,
                  const char *name, import_counts *counts, ev_err *e)
{
    import_counts local;
    int own = 0, rc;

    if (!counts)
        counts = &local;
    memset(counts, 0, sizeof *counts);
    if (len > IMPORT_MAXSIZE)
        return err_set(e, EV_ERR_INVALID,
                       "'%s' is larger than %zu MiB: split it", name,
                       IMPORT_MAXSIZE >> 20);
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    if (!format || (strcmp(format, "csv") != 0 && strcmp(format, "json") != 0))
        return err_set(e, EV_ERR_INVALID,
                       "unknown import format '%s': use csv or json",
                       format ? format : "");
    rc = records_tx_begin(v, &own, e);
    if (rc != 0)
        return rc;
    if (strcmp(format, "json") == 0)
        rc = import_json(v, data, len, name, counts, e);
    else
        rc = import_csv(v, data, len, name, counts, e);
    {
        int r = records_tx_end(v, own, rc == 0, e);
        if (rc == 0)
            rc = r;
    }
    if (rc != 0)
        memset(counts, 0, sizeof *counts);
    return rc;
}

/* csv or json from the name's extension; NULL if neither. */
static const char *guess_format(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && strcasecmp(dot, ".csv") == 0)
        return "csv";
    if (dot && strcasecmp(dot, ".json") == 0)
        return "json";
    return NULL;
}

int import_file(vault *v, const char *path, const char *format,
                import_counts *counts, ev_err *e)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    if (!format && !(format = guess_format(path)))
        return err_set(e, EV_ERR_INVALID,
                       "cannot tell the format of '%s' from its name: give "
                       "--format csv or --format json",
                       path);
    rc = read_all(path, &data, &len, e);
    if (rc == 0)
        rc = import_buffer(v, data, len, format, path, counts, e);
    free(data);
    return rc;
}
