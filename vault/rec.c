/* rec: UUIDs, references, timestamps and dates shared by all records. */
#define _DEFAULT_SOURCE
#include "rec.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void rec_uuid(char *out)
{
    uint8_t b[16];
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    randombytes_buf(b, sizeof b);
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void rec_now(char *out)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, REC_TIMELEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Parse exactly n digits at s. Returns the value or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* 3: YYYY-MM-DD, 2: YYYY-MM, 1: YYYY, 0: invalid. */
static int date_form(const char *d)
{
    size_t n = strlen(d);
    int y = n >= 4 ? digits(d, 4) : -1, m, day;

    if (y < 1 || (n != 4 && n != 7 && n != 10))
        return 0;
    if (n == 4)
        return 1;
    m = d[4] == '-' ? digits(d + 5, 2) : -1;
    if (m < 1 || m > 12)
        return 0;
    if (n == 7)
        return 2;
    day = d[7] == '-' ? digits(d + 8, 2) : -1;
    if (day < 1 || day > days_in(y, m))
        return 0;
    return 3;
}

int rec_date_check(const char *what, const char *date, const char *precision,
                   const char **precision_out, ev_err *e)
{
    static const char *const names[] = {"exact", "estimate", "unknown-day",
                                        "unknown-month-and-day"};
    static const int forms[] = {3, 3, 2, 1};
    int form = date_form(date);

    if (!form)
        return err_set(e, EV_ERR_INVALID,
                       "%s '%s' is not a date: use YYYY-MM-DD, YYYY-MM or "
                       "YYYY",
                       what, date);
    if (!precision) {
        *precision_out = form == 3 ? names[0] : form == 2 ? names[2] : names[3];
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        if (strcmp(precision, names[i]) != 0)
            continue;
        if (forms[i] != form)
            return err_set(e, EV_ERR_INVALID,
                           "%s '%s' does not fit precision '%s' (%s)", what,
                           date, precision,
                           forms[i] == 3   ? "needs YYYY-MM-DD"
                           : forms[i] == 2 ? "needs YYYY-MM"
                                           : "needs YYYY");
        *precision_out = names[i];
        return 0;
    }
    return err_set(e, EV_ERR_INVALID,
                   "unknown date precision '%s': use exact, estimate, "
                   "unknown-day or unknown-month-and-day",
                   precision);
}

int rec_time_check(const char *what, const char *t, ev_err *e)
{
    size_t n = strlen(t);
    char day[11];
    int h, mi, s;

    if (n == 10 && date_form(t) == 3)
        return 0;
    if (n == 20) {
        memcpy(day, t, 10);
        day[10] = '\0';
        if (date_form(day) == 3 && t[10] == 'T' && t[13] == ':' &&
            t[16] == ':' && t[19] == 'Z' && (h = digits(t + 11, 2)) >= 0 &&
            h <= 23 && (mi = digits(t + 14, 2)) >= 0 && mi <= 59 &&
            (s = digits(t + 17, 2)) >= 0 && s <= 60)
            return 0;
    }
    return err_set(e, EV_ERR_INVALID,
                   "%s '%s' is not a UTC time: use YYYY-MM-DDTHH:MM:SSZ or "
                   "YYYY-MM-DD",
                   what, t);
}

static int valid_table(const char *t)
{
    return strcmp(t, "incident") == 0 || strcmp(t, "actor") == 0 ||
           strcmp(t, "source") == 0 || strcmp(t, "evidence") == 0;
}

int rec_resolve(sqlite3 *db, const char *table, const char *ref, int64_t *id,
                ev_err *e)
{
    sqlite3_stmt *st = NULL;
    size_t n = strlen(ref);
    int is_number = n > 0 && n <= 9 && ref[0] != '0', rc, count = 0;
    char *sql;

    if (!valid_table(table))
        return err_set(e, EV_ERR_INTERNAL, "no record kind '%s'", table);
    for (size_t i = 0; i < n && is_number; i++)
        is_number = isdigit((unsigned char)ref[i]) != 0;
    if (is_number) {
        sql = sqlite3_mprintf("SELECT id FROM %s WHERE id = ?1", table);
    } else {
        for (size_t i = 0; i < n; i++)
            if (!isxdigit((unsigned char)ref[i]) && ref[i] != '-')
                return err_set(e, EV_ERR_INVALID,
                               "'%s' is not a %s number or UUID prefix", ref,
                               table);
        if (n < 4)
            return err_set(e, EV_ERR_INVALID,
                           "UUID prefix '%s' is too short: give at least 4 "
                           "characters",
                           ref);
        sql = sqlite3_mprintf("SELECT id FROM %s WHERE uuid >= lower(?1) AND "
                              "uuid < lower(?1) || 'g' LIMIT 2",
                              table);
    }
    if (!sql)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return err_set(e, EV_ERR_IO, "cannot look up %s '%s': %s", table, ref,
                       sqlite3_errmsg(db));
    if (is_number)
        sqlite3_bind_int64(st, 1, (sqlite3_int64)strtoll(ref, NULL, 10));
    else
        sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        count++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return err_set(e, EV_ERR_IO, "cannot look up %s '%s': %s", table, ref,
                       sqlite3_errmsg(db));
    if (count == 0)
        return err_set(e, EV_ERR_NOTFOUND, "no %s '%s'", table, ref);
    if (count > 1)
        return err_set(e, EV_ERR_INVALID,
                       "'%s' matches more than one %s: give more of the "
                       "UUID",
                       ref, table);
    return 0;
}

int rec_uuid_of(sqlite3 *db, const char *table, int64_t id, char *out,
                ev_err *e)
{
    sqlite3_stmt *st = NULL;
    char *sql;
    int rc;

    if (!valid_table(table))
        return err_set(e, EV_ERR_INTERNAL, "no record kind '%s'", table);
    sql = sqlite3_mprintf("SELECT uuid FROM %s WHERE id = ?1", table);
    if (!sql)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW)
        snprintf(out, REC_UUIDLEN + 1, "%s",
                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        return err_set(e, EV_ERR_NOTFOUND, "no %s %lld", table,
                       (long long)id);
    return err_set(e, EV_ERR_IO, "cannot read %s %lld: %s", table,
                   (long long)id, sqlite3_errmsg(db));
}
