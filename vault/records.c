/*
 * records: incidents, actors, sources, involvements, citations, tags and
 * incident types (see records.h). Laid out as: transactions and statement
 * helpers; validation of text, enums and dates; then per record kind a
 * "state" (the full row as strings), filled from the database for an edit,
 * overlaid with the caller's changes, validated as a whole and written;
 * then links; then the JSON reads, built entirely in SQL.
 */
#include "records.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custody.h"
#include "rec.h"
#include "seal.h"

/* ---- transactions and statements ---------------------------------------- */

int records_tx_begin(vault *v, int *own, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    int rc;

    *own = sqlite3_get_autocommit(db) != 0;
    rc = sqlite3_exec(db, *own ? "BEGIN IMMEDIATE" : "SAVEPOINT records",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return vault_sqlerr(v, rc, "starting a transaction", e);
    return 0;
}

int records_tx_end(vault *v, int own, int ok, ev_err *e)
{
    sqlite3 *db = vault_db(v);
    int rc;

    if (ok) {
        rc = sqlite3_exec(db, own ? "COMMIT" : "RELEASE records", NULL, NULL,
                          NULL);
        if (rc == SQLITE_OK)
            return 0;
        ok = vault_sqlerr(v, rc, "committing", e);
    }
    if (own)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    else
        sqlite3_exec(db, "ROLLBACK TO records; RELEASE records", NULL, NULL,
                     NULL);
    return ok ? ok : EV_ERR_INTERNAL;
}

/* End a transaction begun by records_tx_begin: commit if rc is 0. */
static int finish(vault *v, int own, int rc, ev_err *e)
{
    int r = records_tx_end(v, own, rc == 0, e);
    return rc != 0 ? rc : r;
}

/* Log the creation or change of row id of table in the custody log. */
static int log_row(vault *v, const char *table, int64_t id, int created,
                   ev_err *e)
{
    char uuid[REC_UUIDLEN + 1], detail[64];
    int rc = rec_uuid_of(vault_db(v), table, id, uuid, e);

    snprintf(detail, sizeof detail, "%s %lld %s", table, (long long)id,
             created ? "added" : "edited");
    return rc ? rc : custody_append(v, created ? "create" : "change", table,
                                    uuid, detail, e);
}

static int prep(vault *v, const char *sql, sqlite3_stmt **st, ev_err *e)
{
    int rc = sqlite3_prepare_v2(vault_db(v), sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return vault_sqlerr(v, rc, "preparing a statement", e);
    return 0;
}

/* Step st to completion (no rows expected), finalize it. */
static int run(vault *v, sqlite3_stmt *st, const char *what, ev_err *e)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return vault_sqlerr(v, rc, what, e);
    return 0;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* The text of a one-row, one-column query with ?1 = id. OUT: *out. */
static int query_text(vault *v, const char *sql, int64_t id, char **out,
                      ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(v, sql, &st, e), src;

    *out = NULL;
    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        *out = strdup((const char *)sqlite3_column_text(st, 0));
        rc = *out ? 0 : err_set(e, EV_ERR_NOMEM, "out of memory");
    } else if (src == SQLITE_ROW || src == SQLITE_DONE) {
        rc = err_set(e, EV_ERR_NOTFOUND, "no record %lld", (long long)id);
    } else {
        rc = vault_sqlerr(v, src, "reading records", e);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- validation --------------------------------------------------------- */

/* Length of the UTF-8 sequence at s, or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2
                             : (s[0] & 0xf0) == 0xe0 ? 3
                             : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
    unsigned cp;

    if (n == 0 || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3) {
        cp = ((s[0] & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6);
        if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    if (n == 4) {
        cp = ((s[0] & 0x07u) << 18) | ((s[1] & 0x3fu) << 12);
        if (cp < 0x10000 || cp > 0x10ffff)
            return 0;
    }
    return n;
}

/*
 * Text from a user or a hostile file: valid UTF-8, at most max bytes, no
 * control characters (they could rewrite a terminal that shows the record)
 * except newline and tab when multiline.
 */
static int check_text(const char *what, const char *s, size_t max,
                      int multiline, ev_err *e)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s), n;

    if (len > max)
        return err_set(e, EV_ERR_INVALID,
                       "%s is %zu bytes long: the most is %zu", what, len,
                       max);
    for (; *p; p += n) {
        n = utf8_len(p);
        if (n == 0)
            return err_set(e, EV_ERR_INVALID,
                           "%s is not valid UTF-8 text: convert it to UTF-8",
                           what);
        if (n == 1 && (*p < 0x20 || *p == 0x7f) &&
            !(multiline && (*p == '\n' || *p == '\t' || *p == '\r')))
            return err_set(e, EV_ERR_INVALID,
                           "%s contains a control character: remove it%s",
                           what, multiline ? "" : " (no line breaks here)");
        if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
            return err_set(e, EV_ERR_INVALID,
                           "%s contains a control character: remove it",
                           what);
    }
    return 0;
}

static int check_required(const char *what, const char *s, size_t max,
                          ev_err *e)
{
    if (!s || !*s)
        return err_set(e, EV_ERR_INVALID, "%s is empty: give one", what);
    return check_text(what, s, max, 0, e);
}

/* A name like an incident type or actor category: [a-z0-9-]{1,64}. */
static int check_name(const char *what, const char *s, ev_err *e)
{
    size_t n = strlen(s);
    int ok = n >= 1 && n <= 64;

    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
             s[i] == '-';
    if (!ok)
        return err_set(e, EV_ERR_INVALID,
                       "%s '%.80s' is not valid: use 1 to 64 lowercase "
                       "letters, digits and '-'",
                       what, s);
    return 0;
}

/* s must be one of the NULL-terminated list; help says which. */
static int check_enum(const char *what, const char *s,
                      const char *const *list, const char *help, ev_err *e)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 0;
    if (check_text(what, s, 80, 0, NULL) != 0)
        return err_set(e, EV_ERR_INVALID, "unknown %s: use %s", what, help);
    return err_set(e, EV_ERR_INVALID, "unknown %s '%s': use %s", what, s,
                   help);
}

static const char *const STATUSES[] = {"confirmed", "likely", "possible",
                                       "unverified", NULL};
static const char *const ROLES[] = {"victim", "perpetrator", "witness",
                                    "source", "other", NULL};
static const char *const DEGREES[] = {"carried-out", "ordered", "suspected",
                                      NULL};
static const char *const ACTOR_KINDS[] = {"person", "organisation", NULL};
static const char *const SOURCE_KINDS[] = {
    "interview", "court-document", "news-report", "social-media-post",
    "official-statement", "report", "other", NULL};
static const char *const RELIABILITIES[] = {"high", "medium", "low",
                                            "unknown", NULL};
static const char *const CONSENTS[] = {"yes", "anonymised", "no", NULL};

static int check_tag(const char *tag, ev_err *e)
{
    size_t n = strlen(tag);
    int rc = check_text("tag", tag, RECORDS_TAGMAX, 0, e);

    if (rc != 0)
        return rc;
    if (n == 0 || tag[0] == ' ' || tag[n - 1] == ' ' || strchr(tag, ';'))
        return err_set(e, EV_ERR_INVALID,
                       "tag '%s' is not valid: tags are 1 to %d bytes, "
                       "without ';' or spaces at either end",
                       tag, RECORDS_TAGMAX);
    return 0;
}

static int check_type_exists(vault *v, const char *type, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = check_text("incident type", type, 64, 0, e), src;

    if (rc == 0)
        rc = prep(v, "SELECT 1 FROM incident_type WHERE name = ?1", &st, e);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src == SQLITE_ROW)
        return 0;
    if (src != SQLITE_DONE)
        return vault_sqlerr(v, src, "reading incident types", e);
    return err_set(e, EV_ERR_INVALID,
                   "unknown incident type '%s': see 'evault type list', or "
                   "add it with 'evault type add %s'",
                   type, type);
}

int records_parse_coord(const char *text, int lat, double *out, ev_err *e)
{
    const char *what = lat ? "latitude" : "longitude";
    double max = lat ? 90 : 180, d;
    char *end;

    errno = 0;
    d = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(d) || d < -max || d > max)
        return err_set(e, EV_ERR_INVALID,
                       "%s '%.40s' is not valid: give a decimal number from "
                       "%g to %g",
                       what, text, -max, max);
    *out = d;
    return 0;
}

/* The date d (any precision) as the first or last day of its period, for
 * comparing periods as text ("2023" -> "2023-01-01" or "2023-99-99"). */
static void period(const char *d, int last, char out[11])
{
    size_t n = strlen(d);
    memcpy(out, d, n > 10 ? 10 : n);
    out[n > 10 ? 10 : n] = '\0';
    if (n == 4)
        memcpy(out + 4, last ? "-99-99" : "-01-01", 7);
    else if (n == 7)
        memcpy(out + 7, last ? "-99" : "-01", 4);
}

/* date/precision pair: both NULL, or a valid pair (precision inferred when
 * NULL). *prec may be replaced by a static string. */
static int check_date(const char *what, char **date, const char **prec,
                      ev_err *e)
{
    const char *p = NULL;
    int rc;

    if (!*date) {
        if (*prec)
            return err_set(e, EV_ERR_INVALID,
                           "a %s precision needs a %s: give both", what,
                           what);
        return 0;
    }
    rc = rec_date_check(what, *date, *prec, &p, e);
    if (rc == 0)
        *prec = p;
    return rc;
}

int records_resolve(vault *v, const char *table, const char *ref, int64_t *id,
                    ev_err *e)
{
    return rec_resolve(vault_db(v), table, ref, id, e);
}

/* Replace *slot by a copy of s (NULL stays NULL). */
static int set_str(char **slot, const char *s, ev_err *e)
{
    char *c = NULL;
    if (s && !(c = strdup(s)))
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    free(*slot);
    *slot = c;
    return 0;
}

/* Copy the text columns first..first+n-1 of st into f[0..n-1]. */
static int load_cols(sqlite3_stmt *st, int first, char **f, int n, ev_err *e)
{
    for (int i = 0; i < n; i++) {
        const char *t = (const char *)sqlite3_column_text(st, first + i);
        if (set_str(&f[i], t, e) != 0)
            return EV_ERR_NOMEM;
    }
    return 0;
}

/*
 * Fill f[0..n-1] (and the integer columns in ints) from the row of sql
 * with ?1 = id: columns 0..n-1 text, then nints integers/reals as doubles.
 */
static int load_row(vault *v, const char *sql, const char *table, int64_t id,
                    char **f, int n, double *nums, int nnums, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(v, sql, &st, e), src;

    if (rc != 0)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        rc = load_cols(st, 0, f, n, e);
        for (int i = 0; i < nnums; i++)
            nums[i] = sqlite3_column_type(st, n + i) == SQLITE_NULL
                          ? NAN
                          : sqlite3_column_double(st, n + i);
    } else if (src == SQLITE_DONE) {
        rc = err_set(e, EV_ERR_NOTFOUND, "no %s %lld", table, (long long)id);
    } else {
        rc = vault_sqlerr(v, src, "reading a record", e);
    }
    sqlite3_finalize(st);
    return rc;
}

static void free_fields(char **f, int n)
{
    for (int i = 0; i < n; i++) {
        free(f[i]);
        f[i] = NULL;
    }
}

/* ---- incidents ---------------------------------------------------------- */

enum { I_TITLE, I_TYPE, I_DESC, I_LOC, I_STATUS, I_DATE, I_DPREC, I_END,
       I_EPREC, I_N };

typedef struct inc_state {
    char *f[I_N];
    int has_coords;
    double lat, lon;
    int confidential;
} inc_state;

void records_incident_init(records_incident *in)
{
    memset(in, 0, sizeof *in);
    in->confidential = -1;
}

static int inc_load(vault *v, int64_t id, inc_state *s, ev_err *e)
{
    double nums[3];
    int rc = load_row(v,
                      "SELECT title, type, description, location, status, "
                      "start_date, start_precision, end_date, end_precision, "
                      "latitude, longitude, confidential FROM incident "
                      "WHERE id = ?1",
                      "incident", id, s->f, I_N, nums, 3, e);
    if (rc != 0)
        return rc;
    s->has_coords = !isnan(nums[0]) && !isnan(nums[1]);
    s->lat = nums[0];
    s->lon = nums[1];
    s->confidential = nums[2] != 0;
    return 0;
}

/* Overlay a date change: "" clears, a date without precision infers it. */
static int apply_date(char **date, char **prec, const char *nd,
                      const char *np, ev_err *e)
{
    int rc = 0;
    if (nd) {
        rc = set_str(date, *nd ? nd : NULL, e);
        if (rc == 0)
            rc = set_str(prec, np, e);
    } else if (np) {
        rc = set_str(prec, np, e);
    }
    return rc;
}

static int inc_apply(inc_state *s, const records_incident *in, ev_err *e)
{
    const char *plain[] = {in->title, in->type, in->description,
                           in->location, in->status};
    int rc = 0;

    for (int i = 0; i < 5 && rc == 0; i++)
        if (plain[i])
            rc = set_str(&s->f[i], plain[i], e);
    if (rc == 0)
        rc = apply_date(&s->f[I_DATE], &s->f[I_DPREC], in->date,
                        in->date_precision, e);
    if (rc == 0)
        rc = apply_date(&s->f[I_END], &s->f[I_EPREC], in->end_date,
                        in->end_date_precision, e);
    if (in->coords) {
        s->has_coords = in->coords > 0;
        s->lat = in->lat;
        s->lon = in->lon;
    }
    if (in->confidential >= 0)
        s->confidential = in->confidential != 0;
    return rc;
}

static int inc_check_dates(inc_state *s, ev_err *e)
{
    const char *p = s->f[I_DPREC], *q = s->f[I_EPREC];
    char a[11], b[11];
    int rc = check_date("date", &s->f[I_DATE], &p, e);

    if (rc == 0)
        rc = check_date("end date", &s->f[I_END], &q, e);
    if (rc == 0 && (p != s->f[I_DPREC] || q != s->f[I_EPREC])) {
        char *pc = p ? strdup(p) : NULL, *qc = q ? strdup(q) : NULL;
        if ((p && !pc) || (q && !qc)) {
            free(pc);
            free(qc);
            return err_set(e, EV_ERR_NOMEM, "out of memory");
        }
        free(s->f[I_DPREC]);
        free(s->f[I_EPREC]);
        s->f[I_DPREC] = pc;
        s->f[I_EPREC] = qc;
    }
    if (rc == 0 && s->f[I_DATE] && s->f[I_END]) {
        period(s->f[I_END], 1, b);
        period(s->f[I_DATE], 0, a);
        if (strcmp(b, a) < 0)
            rc = err_set(e, EV_ERR_INVALID,
                         "end date '%s' is before the date '%s': check both",
                         s->f[I_END], s->f[I_DATE]);
    }
    return rc;
}

static int inc_check(vault *v, inc_state *s, ev_err *e)
{
    int rc = check_required("title", s->f[I_TITLE], RECORDS_TITLEMAX, e);

    if (rc == 0 && !s->f[I_TYPE])
        rc = err_set(e, EV_ERR_INVALID, "an incident needs a type: give one "
                                        "(see 'evault type list')");
    if (rc == 0)
        rc = check_type_exists(v, s->f[I_TYPE], e);
    if (rc == 0)
        rc = check_text("description", s->f[I_DESC], RECORDS_TEXTMAX, 1, e);
    if (rc == 0)
        rc = check_text("location", s->f[I_LOC], RECORDS_FIELDMAX, 0, e);
    if (rc == 0)
        rc = check_enum("status", s->f[I_STATUS], STATUSES,
                        "confirmed, likely, possible or unverified", e);
    if (rc == 0)
        rc = inc_check_dates(s, e);
    if (rc == 0 && s->has_coords &&
        (!isfinite(s->lat) || !isfinite(s->lon) || fabs(s->lat) > 90 ||
         fabs(s->lon) > 180))
        rc = err_set(e, EV_ERR_INVALID,
                     "coordinates out of range: latitude -90 to 90, "
                     "longitude -180 to 180");
    return rc;
}

/* ?1 is the uuid (insert) or the id (update); ?2.. the fields; ?14 now. */
static void inc_bind(sqlite3_stmt *st, const inc_state *s, const char *now)
{
    for (int i = 0; i < I_N; i++)
        bind_opt(st, 2 + i, s->f[i]);
    if (s->has_coords) {
        sqlite3_bind_double(st, 11, s->lat);
        sqlite3_bind_double(st, 12, s->lon);
    }
    sqlite3_bind_int(st, 13, s->confidential);
    sqlite3_bind_text(st, 14, now, -1, SQLITE_TRANSIENT);
}

static int inc_tags(vault *v, int64_t id, const records_incident *in,
                    ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;

    for (size_t i = 0; i < in->ntags && rc == 0; i++) {
        rc = check_tag(in->tags[i], e);
        if (rc == 0)
            rc = prep(v, "INSERT OR IGNORE INTO incident_tag VALUES (?1, ?2)",
                      &st, e);
        if (rc == 0) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_text(st, 2, in->tags[i], -1, SQLITE_STATIC);
            rc = run(v, st, "adding a tag", e);
        }
    }
    for (size_t i = 0; i < in->nuntags && rc == 0; i++) {
        rc = prep(v, "DELETE FROM incident_tag WHERE incident_id = ?1 AND "
                     "tag = ?2",
                  &st, e);
        if (rc != 0)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, in->untags[i], -1, SQLITE_STATIC);
        rc = run(v, st, "removing a tag", e);
        if (rc == 0 && sqlite3_changes(vault_db(v)) == 0)
            rc = err_set(e, EV_ERR_NOTFOUND,
                         "incident %lld has no tag '%.100s': see 'evault "
                         "incident show %lld'",
                         (long long)id, in->untags[i], (long long)id);
    }
    return rc;
}

/* EV_ERR_REFUSED, pointing to amend, when incident id is sealed. */
static int refuse_sealed(vault *v, int64_t id, ev_err *e)
{
    int sealed = 0, rc = seal_is_sealed(v, id, &sealed, e);

    if (rc == 0 && sealed)
        rc = err_set(e, EV_ERR_REFUSED,
                     "incident %lld is sealed and cannot change: use "
                     "'evault incident amend %lld' to make a new version",
                     (long long)id, (long long)id);
    return rc;
}

/* Add (id 0) or update incident id from in. OUT: *out_id. */
static int inc_write(vault *v, int64_t id, const records_incident *in,
                     int64_t *out_id, ev_err *e)
{
    inc_state s = {{NULL}, 0, 0, 0, 0};
    sqlite3_stmt *st = NULL;
    char now[REC_TIMELEN + 1], uuid[REC_UUIDLEN + 1];
    int rc, own = 0, began = 0, creating = id == 0;

    rc = records_tx_begin(v, &own, e);
    began = rc == 0;
    if (rc == 0 && id)
        rc = refuse_sealed(v, id, e);
    if (rc == 0 && id)
        rc = inc_load(v, id, &s, e);
    else if (rc == 0)
        rc = set_str(&s.f[I_STATUS], "unverified", e);
    if (rc == 0 && !id)
        rc = set_str(&s.f[I_DESC], "", e);
    if (rc == 0 && !id)
        rc = set_str(&s.f[I_LOC], "", e);
    if (rc == 0)
        rc = inc_apply(&s, in, e);
    if (rc == 0)
        rc = inc_check(v, &s, e);
    if (rc == 0)
        rc = prep(v,
                  id ? "UPDATE incident SET title = ?2, type = ?3, "
                       "description = ?4, location = ?5, status = ?6, "
                       "start_date = ?7, start_precision = ?8, end_date = ?9, "
                       "end_precision = ?10, latitude = ?11, longitude = ?12, "
                       "confidential = ?13, updated = ?14 WHERE id = ?1"
                     : "INSERT INTO incident(uuid, title, type, description, "
                       "location, status, start_date, start_precision, "
                       "end_date, end_precision, latitude, longitude, "
                       "confidential, created, updated) VALUES (?1, ?2, ?3, "
                       "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
                  &st, e);
    if (rc == 0) {
        rec_now(now);
        if (in->uuid && !id)
            snprintf(uuid, sizeof uuid, "%s", in->uuid);
        else
            rec_uuid(uuid);
        if (id)
            sqlite3_bind_int64(st, 1, id);
        else
            sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
        inc_bind(st, &s, now);
        rc = run(v, st, "writing an incident", e);
    }
    if (rc == 0 && !id)
        id = sqlite3_last_insert_rowid(vault_db(v));
    if (rc == 0)
        rc = inc_tags(v, id, in, e);
    if (rc == 0)
        rc = log_row(v, "incident", id, creating, e);
    if (began)
        rc = finish(v, own, rc, e);
    if (rc == 0 && out_id)
        *out_id = id;
    free_fields(s.f, I_N);
    return rc;
}

int records_incident_add(vault *v, const records_incident *in, int64_t *id,
                         ev_err *e)
{
    if (in->nuntags)
        return err_set(e, EV_ERR_INVALID, "a new incident has no tags to "
                                          "remove");
    if (in->coords < 0)
        return err_set(e, EV_ERR_INVALID, "a new incident has no "
                                          "coordinates to clear");
    return inc_write(v, 0, in, id, e);
}

int records_incident_edit(vault *v, int64_t id, const records_incident *in,
                          ev_err *e)
{
    if (id <= 0)
        return err_set(e, EV_ERR_NOTFOUND, "no incident %lld", (long long)id);
    return inc_write(v, id, in, NULL, e);
}

int records_incident_amend(vault *v, int64_t id, const records_incident *in,
                           int64_t *new_id, ev_err *e)
{
    static const char *const copies[] = {
        "INSERT INTO incident_tag(incident_id, tag) SELECT ?2, tag FROM "
        "incident_tag WHERE incident_id = ?1",
        "INSERT INTO involvement(incident_id, actor_id, role, degree) SELECT "
        "?2, actor_id, role, degree FROM involvement WHERE incident_id = ?1",
        "INSERT INTO citation(incident_id, source_id) SELECT ?2, source_id "
        "FROM citation WHERE incident_id = ?1",
        "INSERT INTO evidence_link(evidence_id, incident_id) SELECT "
        "evidence_id, ?2 FROM evidence_link WHERE incident_id = ?1",
    };
    sqlite3_stmt *st = NULL;
    char now[REC_TIMELEN + 1], uuid[REC_UUIDLEN + 1], old[REC_UUIDLEN + 1];
    char detail[80];
    int64_t nid = 0, later = 0;
    int rc, own = 0, began, sealed = 0;

    rc = records_tx_begin(v, &own, e);
    began = rc == 0;
    if (rc == 0)
        rc = rec_uuid_of(vault_db(v), "incident", id, old, e);
    if (rc == 0)
        rc = seal_is_sealed(v, id, &sealed, e);
    if (rc == 0 && !sealed)
        rc = err_set(e, EV_ERR_REFUSED,
                     "incident %lld is not sealed: change it with 'evault "
                     "incident edit %lld'",
                     (long long)id, (long long)id);
    if (rc == 0 && (rc = prep(v, "SELECT id FROM incident WHERE supersedes "
                                 "= ?1",
                              &st, e)) == 0) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            later = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (later)
            rc = err_set(e, EV_ERR_REFUSED,
                         "incident %lld was already amended by incident "
                         "%lld: amend that one",
                         (long long)id, (long long)later);
    }
    /* the new version starts with the sealed one's tags: check the tags
     * to remove here, so that an error names the incident the user gave */
    for (size_t i = 0; rc == 0 && i < in->nuntags; i++) {
        int has = 0;
        if ((rc = prep(v, "SELECT 1 FROM incident_tag WHERE incident_id = "
                          "?1 AND tag = ?2",
                       &st, e)) != 0)
            break;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, in->untags[i], -1, SQLITE_STATIC);
        has = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        st = NULL;
        if (!has)
            rc = err_set(e, EV_ERR_NOTFOUND,
                         "incident %lld has no tag '%.100s': see 'evault "
                         "incident show %lld'",
                         (long long)id, in->untags[i], (long long)id);
    }
    if (rc == 0)
        rc = prep(v,
                  "INSERT INTO incident(uuid, title, type, description, "
                  "location, latitude, longitude, start_date, "
                  "start_precision, end_date, end_precision, status, "
                  "confidential, created, updated, supersedes) SELECT ?2, "
                  "title, type, description, location, latitude, longitude, "
                  "start_date, start_precision, end_date, end_precision, "
                  "status, confidential, ?3, ?3, id FROM incident WHERE id = "
                  "?1",
                  &st, e);
    if (rc == 0) {
        rec_uuid(uuid);
        rec_now(now);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
        rc = run(v, st, "amending an incident", e);
        nid = sqlite3_last_insert_rowid(vault_db(v));
    }
    for (size_t i = 0; rc == 0 && i < sizeof copies / sizeof copies[0]; i++)
        if ((rc = prep(v, copies[i], &st, e)) == 0) {
            sqlite3_bind_int64(st, 1, id);
            sqlite3_bind_int64(st, 2, nid);
            rc = run(v, st, "amending an incident", e);
        }
    if (rc == 0) {
        snprintf(detail, sizeof detail, "new version of incident %s", old);
        rc = custody_append(v, "amend", "incident", uuid, detail, e);
    }
    if (rc == 0)
        rc = inc_write(v, nid, in, NULL, e);
    if (began)
        rc = finish(v, own, rc, e);
    if (rc == 0 && new_id)
        *new_id = nid;
    return rc;
}

/* ---- actors ------------------------------------------------------------- */

enum { A_NAME, A_KIND, A_CAT, A_DESC, A_CONTACT, A_OTHER, A_N };

void records_actor_init(records_actor *a)
{
    memset(a, 0, sizeof *a);
    a->confidential = -1;
}

/* other names as a JSON array text, built by SQLite. OUT: *out. */
static int other_names_json(vault *v, const records_actor *a, char **out,
                            ev_err *e)
{
    sqlite3_stmt *st = NULL;
    char *arr = strdup("[]");
    int rc = arr ? 0 : err_set(e, EV_ERR_NOMEM, "out of memory");

    for (size_t i = 0; i < a->nother && rc == 0; i++) {
        rc = check_required("other name", a->other_names[i],
                            RECORDS_TITLEMAX, e);
        if (rc == 0)
            rc = prep(v, "SELECT json_insert(?1, '$[#]', ?2)", &st, e);
        if (rc != 0)
            break;
        sqlite3_bind_text(st, 1, arr, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, a->other_names[i], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            free(arr);
            arr = strdup((const char *)sqlite3_column_text(st, 0));
            if (!arr)
                rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        } else {
            rc = vault_sqlerr(v, sqlite3_errcode(vault_db(v)),
                              "listing other names", e);
        }
        sqlite3_finalize(st);
    }
    if (rc == 0)
        *out = arr;
    else
        free(arr);
    return rc;
}

static int actor_apply(vault *v, char **f, const records_actor *a, ev_err *e)
{
    const char *plain[] = {a->name, a->kind, a->category, a->description,
                           a->contact};
    char *other = NULL;
    int rc = 0;

    for (int i = 0; i < 5 && rc == 0; i++)
        if (plain[i])
            rc = set_str(&f[i], plain[i], e);
    if (rc == 0 && a->set_other)
        rc = other_names_json(v, a, &other, e);
    if (rc == 0 && a->set_other) {
        free(f[A_OTHER]);
        f[A_OTHER] = other;
    }
    return rc;
}

static int actor_check(char **f, ev_err *e)
{
    int rc = check_required("actor name", f[A_NAME], RECORDS_TITLEMAX, e);
    if (rc == 0)
        rc = check_enum("actor kind", f[A_KIND], ACTOR_KINDS,
                        "person or organisation", e);
    if (rc == 0)
        rc = check_name("actor category", f[A_CAT], e);
    if (rc == 0)
        rc = check_text("description", f[A_DESC], RECORDS_TEXTMAX, 1, e);
    if (rc == 0)
        rc = check_text("contact", f[A_CONTACT], RECORDS_FIELDMAX, 1, e);
    return rc;
}

static int actor_write(vault *v, int64_t id, const records_actor *a,
                       int64_t *out_id, ev_err *e)
{
    static const char *const defaults[A_N] = {NULL, "person", "other", "", "",
                                              "[]"};
    char *f[A_N] = {NULL};
    double conf = 0;
    sqlite3_stmt *st = NULL;
    char now[REC_TIMELEN + 1], uuid[REC_UUIDLEN + 1];
    int rc, own = 0, began, creating = id == 0;

    rc = records_tx_begin(v, &own, e);
    began = rc == 0;
    if (rc == 0 && id)
        rc = load_row(v, "SELECT name, kind, category, description, contact, "
                         "other_names, confidential FROM actor WHERE id = ?1",
                      "actor", id, f, A_N, &conf, 1, e);
    for (int i = 0; rc == 0 && !id && i < A_N; i++)
        rc = set_str(&f[i], defaults[i], e);
    if (rc == 0)
        rc = actor_apply(v, f, a, e);
    if (rc == 0)
        rc = actor_check(f, e);
    if (rc == 0)
        rc = prep(v,
                  id ? "UPDATE actor SET name = ?2, kind = ?3, category = ?4, "
                       "description = ?5, contact = ?6, other_names = ?7, "
                       "confidential = ?8, updated = ?9 WHERE id = ?1"
                     : "INSERT INTO actor(uuid, name, kind, category, "
                       "description, contact, other_names, confidential, "
                       "created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                       "?8, ?9, ?9)",
                  &st, e);
    if (rc == 0) {
        rec_now(now);
        if (a->uuid && !id)
            snprintf(uuid, sizeof uuid, "%s", a->uuid);
        else
            rec_uuid(uuid);
        if (id)
            sqlite3_bind_int64(st, 1, id);
        else
            sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
        for (int i = 0; i < A_N; i++)
            bind_opt(st, 2 + i, f[i]);
        sqlite3_bind_int(st, 8, a->confidential >= 0 ? a->confidential != 0
                                                     : conf != 0);
        sqlite3_bind_text(st, 9, now, -1, SQLITE_STATIC);
        rc = run(v, st, "writing an actor", e);
    }
    if (rc == 0 && !id)
        id = sqlite3_last_insert_rowid(vault_db(v));
    if (rc == 0)
        rc = log_row(v, "actor", id, creating, e);
    if (began)
        rc = finish(v, own, rc, e);
    if (rc == 0 && out_id)
        *out_id = id;
    free_fields(f, A_N);
    return rc;
}

int records_actor_add(vault *v, const records_actor *a, int64_t *id,
                      ev_err *e)
{
    return actor_write(v, 0, a, id, e);
}

int records_actor_edit(vault *v, int64_t id, const records_actor *a,
                       ev_err *e)
{
    if (id <= 0)
        return err_set(e, EV_ERR_NOTFOUND, "no actor %lld", (long long)id);
    return actor_write(v, id, a, NULL, e);
}

int records_actor_by_name(vault *v, const char *name, const char *kind,
                          int64_t *id, int *created, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    records_actor a;
    int rc = prep(v, "SELECT id FROM actor WHERE name = ?1 ORDER BY id "
                     "LIMIT 1",
                  &st, e),
        src;

    if (created)
        *created = 0;
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (src == SQLITE_ROW)
        return 0;
    if (src != SQLITE_DONE)
        return vault_sqlerr(v, src, "looking up an actor", e);
    records_actor_init(&a);
    a.name = name;
    a.kind = kind ? kind : "person";
    rc = records_actor_add(v, &a, id, e);
    if (rc == 0 && created)
        *created = 1;
    return rc;
}

/* ---- sources ------------------------------------------------------------ */

enum { S_KIND, S_TITLE, S_DESC, S_DATE, S_DPREC, S_REL, S_CONSENT, S_URL,
       S_N };

void records_source_init(records_source *s)
{
    memset(s, 0, sizeof *s);
    s->confidential = -1;
}

static int source_apply(char **f, const records_source *s, ev_err *e)
{
    const char *plain[] = {s->kind, s->title, s->description, NULL, NULL,
                           s->reliability, s->consent};
    int rc = 0;

    for (int i = 0; i < 7 && rc == 0; i++)
        if (plain[i])
            rc = set_str(&f[i], plain[i], e);
    if (rc == 0)
        rc = apply_date(&f[S_DATE], &f[S_DPREC], s->date, s->date_precision,
                        e);
    if (rc == 0 && s->url)
        rc = set_str(&f[S_URL], *s->url ? s->url : NULL, e);
    return rc;
}

static int source_check(char **f, ev_err *e)
{
    const char *p = f[S_DPREC];
    int rc = check_enum("source kind", f[S_KIND] ? f[S_KIND] : "",
                        SOURCE_KINDS,
                        "interview, court-document, news-report, "
                        "social-media-post, official-statement, report or "
                        "other",
                        e);
    if (rc == 0)
        rc = check_text("title", f[S_TITLE], RECORDS_TITLEMAX, 0, e);
    if (rc == 0)
        rc = check_text("description", f[S_DESC], RECORDS_TEXTMAX, 1, e);
    if (rc == 0)
        rc = check_enum("reliability", f[S_REL], RELIABILITIES,
                        "high, medium, low or unknown", e);
    if (rc == 0)
        rc = check_enum("consent", f[S_CONSENT], CONSENTS,
                        "yes, anonymised or no", e);
    if (rc == 0 && f[S_URL])
        rc = check_text("url", f[S_URL], RECORDS_FIELDMAX, 0, e);
    if (rc == 0)
        rc = check_date("date", &f[S_DATE], &p, e);
    if (rc == 0 && p != f[S_DPREC])
        rc = set_str(&f[S_DPREC], p, e);
    return rc;
}

static int source_write(vault *v, int64_t id, const records_source *s,
                        int64_t *out_id, ev_err *e)
{
    static const char *const defaults[S_N] = {NULL, "", "", NULL, NULL,
                                              "unknown", "no", NULL};
    char *f[S_N] = {NULL};
    double conf = 0;
    sqlite3_stmt *st = NULL;
    char now[REC_TIMELEN + 1], uuid[REC_UUIDLEN + 1];
    int rc, own = 0, began, creating = id == 0;

    rc = records_tx_begin(v, &own, e);
    began = rc == 0;
    if (rc == 0 && id)
        rc = load_row(v, "SELECT kind, title, description, date, "
                         "date_precision, reliability, consent, url, "
                         "confidential FROM source WHERE id = ?1",
                      "source", id, f, S_N, &conf, 1, e);
    for (int i = 0; rc == 0 && !id && i < S_N; i++)
        rc = set_str(&f[i], defaults[i], e);
    if (rc == 0)
        rc = source_apply(f, s, e);
    if (rc == 0)
        rc = source_check(f, e);
    if (rc == 0)
        rc = prep(v,
                  id ? "UPDATE source SET kind = ?2, title = ?3, "
                       "description = ?4, date = ?5, date_precision = ?6, "
                       "reliability = ?7, consent = ?8, url = ?9, "
                       "confidential = ?10, updated = ?11 WHERE id = ?1"
                     : "INSERT INTO source(uuid, kind, title, description, "
                       "date, date_precision, reliability, consent, url, "
                       "confidential, created, updated) VALUES (?1, ?2, ?3, "
                       "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                  &st, e);
    if (rc == 0) {
        rec_now(now);
        if (s->uuid && !id)
            snprintf(uuid, sizeof uuid, "%s", s->uuid);
        else
            rec_uuid(uuid);
        if (id)
            sqlite3_bind_int64(st, 1, id);
        else
            sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
        for (int i = 0; i < S_N; i++)
            bind_opt(st, 2 + i, f[i]);
        sqlite3_bind_int(st, 10, s->confidential >= 0 ? s->confidential != 0
                                                      : conf != 0);
        sqlite3_bind_text(st, 11, now, -1, SQLITE_STATIC);
        rc = run(v, st, "writing a source", e);
    }
    if (rc == 0 && !id)
        id = sqlite3_last_insert_rowid(vault_db(v));
    if (rc == 0)
        rc = log_row(v, "source", id, creating, e);
    if (began)
        rc = finish(v, own, rc, e);
    if (rc == 0 && out_id)
        *out_id = id;
    free_fields(f, S_N);
    return rc;
}

int records_source_add(vault *v, const records_source *s, int64_t *id,
                       ev_err *e)
{
    if (!s->kind)
        return err_set(e, EV_ERR_INVALID, "a source needs a kind: give one of "
                                          "interview, court-document, "
                                          "news-report, social-media-post, "
                                          "official-statement, report or "
                                          "other");
    return source_write(v, 0, s, id, e);
}

int records_source_edit(vault *v, int64_t id, const records_source *s,
                        ev_err *e)
{
    if (id <= 0)
        return err_set(e, EV_ERR_NOTFOUND, "no source %lld", (long long)id);
    return source_write(v, id, s, NULL, e);
}

/* ---- types, links, citations -------------------------------------------- */

int records_type_add(vault *v, const char *name, const char *description,
                     ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = check_name("incident type", name, e), src, own = 0;

    if (rc == 0 && description)
        rc = check_text("description", description, RECORDS_FIELDMAX, 0, e);
    if (rc == 0)
        rc = prep(v, "INSERT INTO incident_type(name, description) VALUES "
                     "(?1, ?2) ON CONFLICT DO NOTHING",
                  &st, e);
    if (rc != 0)
        return rc;
    rc = records_tx_begin(v, &own, e);
    if (rc != 0) {
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, description ? description : "", -1,
                      SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src != SQLITE_DONE)
        rc = vault_sqlerr(v, src, "adding an incident type", e);
    else if (sqlite3_changes(vault_db(v)) == 0)
        rc = err_set(e, EV_ERR_EXISTS,
                     "incident type '%s' already exists: see 'evault type "
                     "list'",
                     name);
    else
        rc = custody_append(v, "create", "incident-type", name,
                            "incident type added", e);
    return finish(v, own, rc, e);
}

/* Set incident id's updated time (a link changed it). */
static int touch(vault *v, int64_t incident, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    char now[REC_TIMELEN + 1];
    int rc = prep(v, "UPDATE incident SET updated = ?2 WHERE id = ?1", &st, e);

    if (rc != 0)
        return rc;
    rec_now(now);
    sqlite3_bind_int64(st, 1, incident);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    rc = run(v, st, "updating an incident", e);
    if (rc == 0 && sqlite3_changes(vault_db(v)) == 0)
        rc = err_set(e, EV_ERR_NOTFOUND, "no incident %lld",
                     (long long)incident);
    return rc;
}

/* Does row id exist in table? EV_ERR_NOTFOUND if not. */
static int exists(vault *v, const char *table, int64_t id, ev_err *e)
{
    char uuid[REC_UUIDLEN + 1];
    return rec_uuid_of(vault_db(v), table, id, uuid, e);
}

/* Run the link statement sql with ?1 incident, ?2 other, ?3 ?4 texts, in a
 * transaction that also touches the incident. need_change: a statement
 * that changes nothing is EV_ERR_NOTFOUND with message nf. */
static int link_exec(vault *v, const char *sql, int64_t incident,
                     int64_t other, const char *t3, const char *t4,
                     const char *nf, const char *action, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    char iu[REC_UUIDLEN + 1], ou[REC_UUIDLEN + 1], detail[160];
    const char *table = strstr(sql, "citation") ? "source" : "actor";
    int own = 0, rc = records_tx_begin(v, &own, e), began = rc == 0;

    if (rc == 0)
        rc = refuse_sealed(v, incident, e);

    if (rc == 0)
        rc = prep(v, sql, &st, e);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, incident);
        sqlite3_bind_int64(st, 2, other);
        bind_opt(st, 3, t3);
        bind_opt(st, 4, t4);
        rc = run(v, st, "linking records", e);
    }
    if (rc == 0 && nf && sqlite3_changes(vault_db(v)) == 0)
        rc = err_set(e, EV_ERR_NOTFOUND, "%s", nf);
    if (rc == 0)
        rc = touch(v, incident, e);
    if (rc == 0)
        rc = rec_uuid_of(vault_db(v), "incident", incident, iu, e);
    if (rc == 0)
        rc = rec_uuid_of(vault_db(v), table, other, ou, e);
    if (rc == 0) {
        snprintf(detail, sizeof detail, "%s %s%s%s", table, ou,
                 t3 ? " as " : "", t3 ? t3 : "");
        rc = custody_append(v, action, "incident", iu, detail, e);
    }
    if (began)
        rc = finish(v, own, rc, e);
    return rc;
}

int records_link(vault *v, int64_t incident, int64_t actor, const char *role,
                 const char *degree, ev_err *e)
{
    int rc = check_enum("role", role ? role : "", ROLES,
                        "victim, perpetrator, witness, source or other", e);

    if (rc == 0 && degree)
        rc = check_enum("degree", degree, DEGREES,
                        "carried-out, ordered or suspected", e);
    if (rc == 0 && degree && strcmp(role, "perpetrator") != 0)
        rc = err_set(e, EV_ERR_INVALID,
                     "a degree is only for the role perpetrator, not '%s'",
                     role);
    if (rc == 0)
        rc = exists(v, "incident", incident, e);
    if (rc == 0)
        rc = exists(v, "actor", actor, e);
    if (rc == 0)
        rc = link_exec(v,
                       "INSERT INTO involvement VALUES (?1, ?2, ?3, ?4) "
                       "ON CONFLICT DO UPDATE SET degree = excluded.degree",
                       incident, actor, role, degree, NULL, "link", e);
    return rc;
}

int records_unlink(vault *v, int64_t incident, int64_t actor,
                   const char *role, ev_err *e)
{
    char nf[160];
    int rc = 0;

    if (role)
        rc = check_enum("role", role, ROLES,
                        "victim, perpetrator, witness, source or other", e);
    snprintf(nf, sizeof nf, "actor %lld is not linked to incident %lld%s%s%s",
             (long long)actor, (long long)incident, role ? " as '" : "",
             role ? role : "", role ? "'" : "");
    if (rc == 0)
        rc = link_exec(v,
                       "DELETE FROM involvement WHERE incident_id = ?1 AND "
                       "actor_id = ?2 AND (?3 IS NULL OR role = ?3) AND "
                       "?4 IS NULL",
                       incident, actor, role, NULL, nf, "unlink", e);
    return rc;
}

int records_cite(vault *v, int64_t incident, int64_t source, ev_err *e)
{
    int rc = exists(v, "incident", incident, e);
    if (rc == 0)
        rc = exists(v, "source", source, e);
    if (rc == 0)
        rc = link_exec(v,
                       "INSERT OR IGNORE INTO citation SELECT ?1, ?2 WHERE "
                       "?3 IS NULL AND ?4 IS NULL",
                       incident, source, NULL, NULL, NULL, "cite", e);
    return rc;
}

int records_uncite(vault *v, int64_t incident, int64_t source, ev_err *e)
{
    char nf[160];
    snprintf(nf, sizeof nf, "incident %lld does not cite source %lld",
             (long long)incident, (long long)source);
    return link_exec(v,
                     "DELETE FROM citation WHERE incident_id = ?1 AND "
                     "source_id = ?2 AND ?3 IS NULL AND ?4 IS NULL",
                     incident, source, NULL, NULL, nf, "uncite", e);
}

/* ---- JSON reads --------------------------------------------------------- */

#define JBOOL(x) "json(CASE WHEN " x " THEN 'true' ELSE 'false' END)"

#define INCIDENT_OBJ                                                          \
    "json_object('id', i.id, 'uuid', i.uuid, 'title', i.title, 'type', "     \
    "i.type, 'status', i.status, 'date', i.start_date, 'date_precision', "   \
    "i.start_precision, 'end_date', i.end_date, 'end_date_precision', "      \
    "i.end_precision, 'location', i.location, 'latitude', i.latitude, "      \
    "'longitude', i.longitude, 'confidential', " JBOOL("i.confidential")     \
    ", 'tags', (SELECT json_group_array(tag) FROM (SELECT tag FROM "         \
    "incident_tag WHERE incident_id = i.id ORDER BY tag)), 'description', "  \
    "i.description, 'created', i.created, 'updated', i.updated)"

#define ACTOR_OBJ                                                             \
    "json_object('id', a.id, 'uuid', a.uuid, 'name', a.name, 'kind', "       \
    "a.kind, 'category', a.category, 'other_names', json(a.other_names), "   \
    "'confidential', " JBOOL("a.confidential") ", 'description', "           \
    "a.description"

#define SOURCE_OBJ                                                            \
    "json_object('id', s.id, 'uuid', s.uuid, 'kind', s.kind, 'title', "      \
    "s.title, 'date', s.date, 'date_precision', s.date_precision, "          \
    "'reliability', s.reliability, 'consent', s.consent, 'url', s.url, "     \
    "'confidential', " JBOOL("s.confidential") ", 'description', "           \
    "s.description, 'created', s.created, 'updated', s.updated)"

int records_incident_get(vault *v, int64_t id, char **json, ev_err *e)
{
    static const char sql[] =
        "SELECT json_set(" INCIDENT_OBJ ", '$.actors', (SELECT "
        "json_group_array(json_object('id', a.id, 'uuid', a.uuid, 'name', "
        "a.name, 'kind', a.kind, 'role', v.role, 'degree', v.degree)) FROM "
        "(SELECT * FROM involvement WHERE incident_id = i.id) v JOIN actor a "
        "ON a.id = v.actor_id ORDER BY CASE v.role WHEN 'victim' THEN 1 "
        "WHEN 'perpetrator' THEN 2 WHEN 'witness' THEN 3 WHEN 'source' THEN "
        "4 ELSE 5 END, a.id), '$.sources', (SELECT json_group_array("
        "json_object('id', s.id, 'uuid', s.uuid, 'kind', s.kind, 'title', "
        "s.title, 'date', s.date, 'reliability', s.reliability, 'consent', "
        "s.consent)) FROM citation c JOIN source s ON s.id = c.source_id "
        "WHERE c.incident_id = i.id ORDER BY s.id), '$.evidence', (SELECT "
        "json_group_array(json_object('id', x.id, 'uuid', x.uuid, "
        "'original_name', x.original_name, 'size', x.size, 'media_type', "
        "x.media_type, 'sha256', lower(hex(x.sha256)), 'method', x.method, "
        "'acquired_at', x.acquired_at)) FROM evidence_link l JOIN evidence x "
        "ON x.id = l.evidence_id WHERE l.incident_id = i.id ORDER BY x.id), "
        "'$.seal', json((SELECT json_object('uuid', s.uuid, 'sealed_at', "
        "s.sealed_at, 'sha256', lower(hex(s.sha256))) FROM seal s WHERE "
        "s.incident_id = i.id)), '$.versions', json((WITH RECURSIVE "
        "up(id, depth) AS (SELECT ?1, 0 UNION ALL SELECT p.supersedes, "
        "up.depth - 1 FROM incident p JOIN up ON p.id = up.id WHERE "
        "p.supersedes IS NOT NULL AND up.depth > -1000), down(id, depth) AS "
        "(SELECT ?1, 0 UNION ALL SELECT c.id, down.depth + 1 FROM incident c "
        "JOIN down ON c.supersedes = down.id WHERE down.depth < 1000) SELECT json_group_array(json_object('id', "
        "x.id, 'uuid', x.uuid, 'sealed', " JBOOL("EXISTS (SELECT 1 FROM seal "
        "WHERE incident_id = x.id)") ", 'this', " JBOOL("x.id = ?1") ")) "
        "FROM (SELECT id, depth FROM up UNION SELECT id, depth FROM down "
        "ORDER BY depth) c JOIN incident x ON x.id = c.id)), '$.received', "
        "json((SELECT json_group_array(json_object('bundle', b.uuid, "
        "'partner', b.partner, 'sender_vault_id', b.sender_vault_id, "
        "'received', b.received, 'signature_checked', "
        JBOOL("b.signature_checked") ", 'sender_seal', json((SELECT "
        "json_object('uuid', rs.seal, 'sealed_at', rs.sealed_at, 'sha256', "
        "lower(hex(rs.sha256))) FROM received_seal rs WHERE rs.incident = "
        "i.uuid AND rs.bundle_id = b.id)))) FROM provenance p JOIN "
        "bundle_import b ON b.id = p.bundle_id WHERE p.object = i.uuid "
        "ORDER BY b.id))) FROM incident i WHERE i.id = ?1";
    int rc = query_text(v, sql, id, json, e);
    if (rc == EV_ERR_NOTFOUND)
        err_set(e, rc, "no incident %lld", (long long)id);
    return rc;
}

int records_actor_get(vault *v, int64_t id, char **json, ev_err *e)
{
    static const char sql[] =
        "SELECT json_set(" ACTOR_OBJ ", 'contact', a.contact, 'created', "
        "a.created, 'updated', a.updated), '$.incidents', (SELECT "
        "json_group_array(json_object('id', i.id, 'uuid', i.uuid, 'title', "
        "i.title, 'date', i.start_date, 'role', v.role, 'degree', v.degree)) "
        "FROM involvement v JOIN incident i ON i.id = v.incident_id WHERE "
        "v.actor_id = a.id ORDER BY i.start_date, i.id)) FROM actor a WHERE "
        "a.id = ?1";
    int rc = query_text(v, sql, id, json, e);
    if (rc == EV_ERR_NOTFOUND)
        err_set(e, rc, "no actor %lld", (long long)id);
    return rc;
}

int records_source_get(vault *v, int64_t id, char **json, ev_err *e)
{
    static const char sql[] =
        "SELECT json_set(" SOURCE_OBJ ", '$.incidents', (SELECT "
        "json_group_array(json_object('id', i.id, 'uuid', i.uuid, 'title', "
        "i.title, 'date', i.start_date)) FROM citation c JOIN incident i ON "
        "i.id = c.incident_id WHERE c.source_id = s.id ORDER BY i.start_date, "
        "i.id)) FROM source s WHERE s.id = ?1";
    int rc = query_text(v, sql, id, json, e);
    if (rc == EV_ERR_NOTFOUND)
        err_set(e, rc, "no source %lld", (long long)id);
    return rc;
}

static int check_filter(vault *v, const records_filter *f, char *since,
                        char *until, ev_err *e)
{
    const char *p;
    int rc = 0;

    since[0] = until[0] = '\0';
    if (f->since && (rc = rec_date_check("--since", f->since, NULL, &p, e)))
        return rc;
    if (f->until && (rc = rec_date_check("--until", f->until, NULL, &p, e)))
        return rc;
    if (f->since)
        period(f->since, 0, since);
    if (f->until)
        period(f->until, 1, until);
    if (f->type)
        rc = check_type_exists(v, f->type, e);
    if (rc == 0 && f->tag)
        rc = check_text("tag", f->tag, RECORDS_TAGMAX, 0, e);
    return rc;
}

/* Run a list query (bound by the caller) whose one row is the document. */
static int list_doc(vault *v, sqlite3_stmt *st, char **json, ev_err *e)
{
    int src = sqlite3_step(st), rc = 0;

    if (src == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        *json = strdup((const char *)sqlite3_column_text(st, 0));
        if (!*json)
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
    } else {
        rc = vault_sqlerr(v, src == SQLITE_ROW ? SQLITE_NOMEM : src,
                          "listing records", e);
    }
    sqlite3_finalize(st);
    return rc;
}

/*
 * since: the start period must end on or after since's first day; the
 * plain comparison on substr(since, 1, 4) lets the index on start_date
 * narrow the scan. until: a start date padded with 9s compares as its
 * period's first day against until's last ("2023" <= "2023-05-99").
 */
int records_incident_list(vault *v, const records_filter *f, char **json,
                          ev_err *e)
{
    /* Only the filters given go into the WHERE clause: "(?3 IS NULL OR
     * ...)" would keep SQLite from using the index on start_date. */
    records_filter none = {NULL, NULL, NULL, NULL};
    char since[11], until[11], *sql = NULL;
    sqlite3_stmt *st = NULL;
    int rc;

    *json = NULL;
    if (!f)
        f = &none;
    rc = check_filter(v, f, since, until, e);
    if (rc != 0)
        return rc;
    sql = sqlite3_mprintf(
        "SELECT json_object('incidents', (SELECT json_group_array(json(o)) "
        "FROM (SELECT " INCIDENT_OBJ " AS o FROM incident i WHERE 1%s%s%s%s "
        "ORDER BY i.start_date IS NULL, i.start_date, i.id)))",
        f->type ? " AND i.type = ?1" : "",
        f->tag ? " AND EXISTS (SELECT 1 FROM incident_tag t WHERE "
                 "t.incident_id = i.id AND t.tag = ?2)"
               : "",
        f->since ? " AND i.start_date >= substr(?3, 1, 4) AND "
                   "(i.start_date || substr('-99-99', length(i.start_date) "
                   "- 3)) >= ?3"
                 : "",
        f->until ? " AND i.start_date <= ?4" : "");
    if (!sql)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = prep(v, sql, &st, e);
    sqlite3_free(sql);
    if (rc != 0)
        return rc;
    bind_opt(st, 1, f->type);
    bind_opt(st, 2, f->tag);
    bind_opt(st, 3, f->since ? since : NULL);
    bind_opt(st, 4, f->until ? until : NULL);
    return list_doc(v, st, json, e);
}

static int list_simple(vault *v, const char *sql, char **json, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = prep(v, sql, &st, e);

    *json = NULL;
    return rc ? rc : list_doc(v, st, json, e);
}

int records_actor_list(vault *v, char **json, ev_err *e)
{
    return list_simple(v,
                       "SELECT json_object('actors', (SELECT "
                       "json_group_array(json(o)) FROM (SELECT " ACTOR_OBJ
                       ", 'created', a.created, 'updated', a.updated, "
                       "'incidents', (SELECT count(*) FROM involvement WHERE "
                       "actor_id = a.id)) AS o FROM actor a ORDER BY a.id)))",
                       json, e);
}

int records_source_list(vault *v, char **json, ev_err *e)
{
    return list_simple(v,
                       "SELECT json_object('sources', (SELECT "
                       "json_group_array(json(o)) FROM (SELECT " SOURCE_OBJ
                       " AS o FROM source s ORDER BY s.id)))",
                       json, e);
}

int records_type_list(vault *v, char **json, ev_err *e)
{
    return list_simple(v,
                       "SELECT json_object('types', (SELECT "
                       "json_group_array(json(o)) FROM (SELECT json_object("
                       "'name', t.name, 'builtin', " JBOOL("t.builtin")
                       ", 'description', t.description, 'incidents', (SELECT "
                       "count(*) FROM incident WHERE type = t.name)) AS o "
                       "FROM incident_type t ORDER BY t.name)))",
                       json, e);
}
