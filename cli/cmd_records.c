/*
 * cmd_records: the case records commands: incident, actor, source, link,
 * unlink, cite, uncite, type and import (the table at the end holds their
 * usage texts). The library returns every record and list as one JSON
 * document; --json prints it as is, and the human tables are read out of
 * that same document with SQLite's JSON functions, so both views always
 * show the same data. Text from the vault is printed with control
 * characters replaced, whatever wrote it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vault/import.h"
#include "../vault/records.h"
#include "cli.h"

#define MAXTAGS 64

/* ---- output helpers ----------------------------------------------------- */

/* json_extract(json, path) as malloc'd text ("" for null, "1"/"0" for
 * booleans). */
static char *jx(sqlite3 *db, const char *json, const char *path)
{
    sqlite3_stmt *st = NULL;
    char *out = NULL;

    if (sqlite3_prepare_v2(db, "SELECT json_extract(?1, ?2)", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            out = strdup(sqlite3_column_text(st, 0)
                             ? (const char *)sqlite3_column_text(st, 0)
                             : "");
    }
    sqlite3_finalize(st);
    return out;
}

/* Print s with control characters (but newlines when multiline) replaced
 * by '?', padded to width columns (bytes; 0: no padding). */
static void put(const char *s, int width, int multiline)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        int c = *p;
        if ((c < 0x20 && !(multiline && c == '\n')) || c == 0x7f)
            c = '?';
        putchar(c);
        if (multiline && c == '\n')
            fputs("  ", stdout);
    }
    for (; n < width; n++)
        putchar(' ');
}

typedef struct col {
    const char *head, *path;
    int width;
} col;

/* A table of the array at path in json: a heading, then one line per
 * element. Returns the number of rows. */
static int print_rows(sqlite3 *db, const char *json, const char *path,
                      const col *cols, int ncols, const char *indent)
{
    sqlite3_stmt *st = NULL, *cell = NULL;
    int rows = 0;

    /* One prepared extractor for every cell: preparing a statement per
     * cell cost more than the query itself on long lists. */
    if (sqlite3_prepare_v2(db, "SELECT value FROM json_each(?1, ?2)", -1,
                           &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT json_extract(?1, ?2)", -1, &cell,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *obj = (const char *)sqlite3_column_text(st, 0);
        if (rows++ == 0) {
            fputs(indent, stdout);
            for (int i = 0; i < ncols; i++)
                put(cols[i].head, i + 1 < ncols ? cols[i].width + 1 : 0, 0);
            putchar('\n');
        }
        fputs(indent, stdout);
        for (int i = 0; i < ncols; i++) {
            const char *v = NULL;
            sqlite3_reset(cell);
            sqlite3_bind_text(cell, 1, obj, -1, SQLITE_STATIC);
            sqlite3_bind_text(cell, 2, cols[i].path, -1, SQLITE_STATIC);
            if (obj && sqlite3_step(cell) == SQLITE_ROW)
                v = (const char *)sqlite3_column_text(cell, 0);
            put(v ? v : "", i + 1 < ncols ? cols[i].width : 0, 0);
            if (i + 1 < ncols)
                putchar(' ');
        }
        putchar('\n');
    }
    sqlite3_finalize(cell);
    sqlite3_finalize(st);
    return rows;
}

typedef struct field {
    const char *label, *path;
} field;

/* "label: value" lines for the non-empty fields of json. */
static void print_fields(sqlite3 *db, const char *json, const field *f,
                         int n)
{
    for (int i = 0; i < n; i++) {
        char *v = jx(db, json, f[i].path);
        if (v && *v) {
            printf("%-14s ", f[i].label);
            put(v, 0, 0);
            putchar('\n');
        }
        free(v);
    }
}

/* An array of strings at path, joined with ", ". */
static void print_joined(sqlite3 *db, const char *json, const char *label,
                         const char *path)
{
    sqlite3_stmt *st = NULL;
    int n = 0;

    if (sqlite3_prepare_v2(db, "SELECT value FROM json_each(?1, ?2)", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *s = (const char *)sqlite3_column_text(st, 0);
        if (n++ == 0)
            printf("%-14s ", label);
        else
            fputs(", ", stdout);
        put(s ? s : "", 0, 0);
    }
    if (n)
        putchar('\n');
    sqlite3_finalize(st);
}

static void print_bool(sqlite3 *db, const char *json, const char *label,
                       const char *path)
{
    char *v = jx(db, json, path);
    printf("%-14s %s\n", label, v && strcmp(v, "1") == 0 ? "yes" : "no");
    free(v);
}

static void print_text(sqlite3 *db, const char *json, const char *label,
                       const char *path)
{
    char *v = jx(db, json, path);
    if (v && *v) {
        printf("\n%s:\n  ", label);
        put(v, 0, 1);
        putchar('\n');
    }
    free(v);
}

/* ---- shared steps ------------------------------------------------------- */

/* Resolve ref in table; prints the error. OUT: *id. */
static int resolve(vault *v, const char *table, const char *ref, int64_t *id)
{
    ev_err e;
    int rc;

    err_clear(&e);
    rc = records_resolve(v, table, ref, id, &e);
    if (rc == EV_ERR_NOTFOUND) {
        cli_error("%s: see 'evault %s list'", e.msg, table);
        return EXIT_ERROR;
    }
    return rc ? cli_fail(&e) : 0;
}

/* Print a document from the library (--json) or hand it to human(). */
static int show_doc(vault *v, int rc, char *json, const ev_err *e,
                    void (*human)(sqlite3 *, const char *))
{
    if (rc != 0)
        return cli_fail(e);
    if (g_cli.json)
        rc = printf("%s\n", json) < 0;
    else
        human(vault_db(v), json);
    free(json);
    return rc ? EXIT_ERROR : EXIT_OK;
}

/* Read a description from path ("-": standard input), at most
 * RECORDS_TEXTMAX bytes; one trailing newline is dropped. OUT: *out. */
static int read_text_file(const char *path, char **out)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO
                                    : open(path, O_RDONLY | O_CLOEXEC);
    size_t cap = RECORDS_TEXTMAX + 2, n = 0;
    char *buf = fd < 0 ? NULL : malloc(cap);
    ssize_t r = 0;

    if (fd < 0 || !buf) {
        cli_error("cannot read '%s': %s", path, strerror(errno));
        free(buf);
        return EXIT_ERROR;
    }
    while (n < cap - 1 && ((r = read(fd, buf + n, cap - 1 - n)) > 0 ||
                           (r < 0 && errno == EINTR)))
        n += r > 0 ? (size_t)r : 0;
    if (fd != STDIN_FILENO)
        close(fd);
    if (r < 0 || n > RECORDS_TEXTMAX) {
        cli_error(r < 0 ? "cannot read '%s'"
                        : "'%s' is longer than 1 MiB: shorten the "
                          "description",
                  path);
        free(buf);
        return EXIT_ERROR;
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    *out = buf;
    return 0;
}

/* Is sub one of list? Else say which subcommands exist. */
static int check_sub(const char *cmd, const char *sub, const char *list)
{
    char buf[80];
    const char *p;
    size_t n = strlen(sub);

    snprintf(buf, sizeof buf, " %s ", list);
    for (p = strstr(buf, sub); p; p = strstr(p + 1, sub))
        if (p[-1] == ' ' && p[n] == ' ')
            return 0;
    cli_error("no %s command '%s': use %s", cmd, sub, list);
    return EXIT_USAGE;
}

/* ---- incident ----------------------------------------------------------- */

/* The seal, where the incident came from (bundles) and its version
 * chain. */
static void print_versions(sqlite3 *db, const char *json)
{
    sqlite3_stmt *st = NULL;
    int multi = 0;

    if (sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.seal.uuid'), "
                               "json_extract(?1, '$.seal.sealed_at'), "
                               "json_extract(?1, '$.seal.sha256'), "
                               "json_array_length(?1, '$.versions')",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) != SQLITE_NULL)
            printf("\nsealed:          %s at %s\n                 sha256 %s\n"
                   "                 (changes: 'evault incident amend')\n",
                   sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                   sqlite3_column_text(st, 2));
        multi = sqlite3_column_int(st, 3) > 1;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT value ->> '$.bundle', value ->> "
                           "'$.partner', value ->> '$.received', value ->> "
                           "'$.signature_checked', value ->> "
                           "'$.sender_seal.uuid', value ->> "
                           "'$.sender_seal.sealed_at', value ->> "
                           "'$.sender_seal.sha256' FROM json_each(?1, "
                           "'$.received')",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            printf("\nreceived:        bundle %s on %s\n"
                   "                 from partner ",
                   sqlite3_column_text(st, 0), sqlite3_column_text(st, 2));
            cli_put_clean(stdout, (const char *)sqlite3_column_text(st, 1));
            printf(" (signatures %s)\n", sqlite3_column_int(st, 3)
                                             ? "checked"
                                             : "NOT checked");
            if (sqlite3_column_type(st, 4) != SQLITE_NULL)
                printf("sender's seal:   %s at %s\n                 sha256 "
                       "%s (checked by 'evault verify')\n",
                       sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
                       sqlite3_column_text(st, 6));
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    if (!multi || sqlite3_prepare_v2(db,
                                     "SELECT json_extract(value, '$.id'), "
                                     "json_extract(value, '$.uuid'), "
                                     "json_extract(value, '$.sealed'), "
                                     "json_extract(value, '$.this') FROM "
                                     "json_each(?1, '$.versions')",
                                     -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    printf("\nversions (oldest first):\n");
    while (sqlite3_step(st) == SQLITE_ROW)
        printf("  %-6lld %s  %-7s%s\n", sqlite3_column_int64(st, 0),
               sqlite3_column_text(st, 1),
               sqlite3_column_int(st, 2) ? "sealed" : "",
               sqlite3_column_int(st, 3) ? "  <- this one" : "");
    sqlite3_finalize(st);
}

static void incident_human(sqlite3 *db, const char *json)
{
    static const field f[] = {
        {"id:", "$.id"},           {"uuid:", "$.uuid"},
        {"title:", "$.title"},     {"type:", "$.type"},
        {"status:", "$.status"},   {"date:", "$.date"},
        {"precision:", "$.date_precision"},
        {"end date:", "$.end_date"},
        {"end precision:", "$.end_date_precision"},
        {"location:", "$.location"}, {"latitude:", "$.latitude"},
        {"longitude:", "$.longitude"},
    };
    static const col actors[] = {{"ID", "$.id", 6},
                                 {"ROLE", "$.role", 12},
                                 {"DEGREE", "$.degree", 12},
                                 {"KIND", "$.kind", 12},
                                 {"NAME", "$.name", 0}};
    static const col sources[] = {{"ID", "$.id", 6},
                                  {"KIND", "$.kind", 18},
                                  {"RELIABILITY", "$.reliability", 11},
                                  {"TITLE", "$.title", 0}};
    static const col evidence[] = {{"ID", "$.id", 6},
                                   {"SIZE", "$.size", 12},
                                   {"METHOD", "$.method", 10},
                                   {"NAME", "$.original_name", 0}};

    print_fields(db, json, f, (int)(sizeof f / sizeof f[0]));
    print_bool(db, json, "confidential:", "$.confidential");
    print_joined(db, json, "tags:", "$.tags");
    print_fields(db, json,
                 (const field[]){{"created:", "$.created"},
                                 {"updated:", "$.updated"}},
                 2);
    print_text(db, json, "description", "$.description");
    print_versions(db, json);
    printf("\nactors:\n");
    if (!print_rows(db, json, "$.actors", actors, 5, "  "))
        printf("  (none: see 'evault link')\n");
    printf("\nsources:\n");
    if (!print_rows(db, json, "$.sources", sources, 4, "  "))
        printf("  (none: see 'evault cite')\n");
    printf("\nevidence:\n");
    if (!print_rows(db, json, "$.evidence", evidence, 4, "  "))
        printf("  (none: see 'evault evidence add')\n");
}

static void incident_list_human(sqlite3 *db, const char *json)
{
    static const col c[] = {{"ID", "$.id", 6},
                            {"DATE", "$.date", 10},
                            {"TYPE", "$.type", 17},
                            {"STATUS", "$.status", 10},
                            {"TITLE", "$.title", 0}};
    if (!print_rows(db, json, "$.incidents", c, 5, ""))
        printf("no incidents\n");
}

enum {
    O_TITLE = 0x100, O_TYPE, O_DATE, O_DPREC, O_END, O_EPREC, O_LOC, O_LAT,
    O_LON, O_DESC, O_DESCFILE, O_STATUS, O_TAG, O_UNTAG, O_CONF, O_NOCONF,
    O_NOCOORDS, O_SINCE, O_UNTIL, O_NAME, O_KIND, O_OTHER, O_CAT,
    O_CONTACT, O_REL, O_CONSENT, O_URL, O_ROLE, O_DEGREE, O_FORMAT
};

typedef struct inc_opts {
    records_incident in;
    records_filter f;
    const char *tags[MAXTAGS], *untags[MAXTAGS], *lat, *lon, *descfile;
    int nchanges; /* options that only add/edit take */
} inc_opts;

static int inc_opt(inc_opts *o, int c)
{
    records_incident *in = &o->in;
    const char **slot[] = {&in->title, &in->type, &in->date,
                           &in->date_precision, &in->end_date,
                           &in->end_date_precision, &in->location, &o->lat,
                           &o->lon, &in->description, &o->descfile,
                           &in->status};
    if (c >= O_TITLE && c <= O_STATUS) {
        *slot[c - O_TITLE] = optarg;
        o->nchanges += c != O_TYPE;
    } else if (c == O_TAG || c == O_UNTAG) {
        size_t *n = c == O_TAG ? &in->ntags : &in->nuntags;
        if (*n == MAXTAGS) {
            cli_error("more than %d tags in one command", MAXTAGS);
            return EXIT_USAGE;
        }
        (c == O_TAG ? o->tags : o->untags)[(*n)++] = optarg;
        o->nchanges += c == O_UNTAG;
    } else if (c == O_CONF || c == O_NOCONF) {
        in->confidential = c == O_CONF;
        o->nchanges++;
    } else if (c == O_NOCOORDS) {
        in->coords = -1;
        o->nchanges++;
    } else if (c == O_SINCE || c == O_UNTIL) {
        *(c == O_SINCE ? &o->f.since : &o->f.until) = optarg;
    } else {
        return cli_usage("incident", 0);
    }
    return 0;
}

/* Turn the parsed options into a records_incident (coordinates, the
 * description file). */
static int inc_finish(inc_opts *o, char **desc)
{
    ev_err e;

    err_clear(&e);
    o->in.tags = o->tags;
    o->in.untags = o->untags;
    if (!o->lat != !o->lon) {
        cli_error("give --lat and --lon together");
        return EXIT_USAGE;
    }
    if (o->lat && o->in.coords < 0) {
        cli_error("--no-coordinates and --lat/--lon contradict each other");
        return EXIT_USAGE;
    }
    if (o->lat) {
        if (records_parse_coord(o->lat, 1, &o->in.lat, &e) != 0 ||
            records_parse_coord(o->lon, 0, &o->in.lon, &e) != 0)
            return cli_fail(&e);
        o->in.coords = 1;
    }
    if (o->descfile && o->in.description) {
        cli_error("give --description or --description-file, not both");
        return EXIT_USAGE;
    }
    if (o->descfile) {
        int rc = read_text_file(o->descfile, desc);
        if (rc)
            return rc;
        o->in.description = *desc;
    }
    return 0;
}

static int incident_run(vault *v, const char *sub, const char *ref,
                        inc_opts *o)
{
    int64_t id = 0;
    char *json = NULL;
    ev_err e;
    int rc;

    err_clear(&e);
    if (strcmp(sub, "add") == 0) {
        if (records_incident_add(v, &o->in, &id, &e) != 0)
            return cli_fail(&e);
        printf("%lld\n", (long long)id);
        return EXIT_OK;
    }
    if (strcmp(sub, "list") == 0) {
        rc = records_incident_list(v, &o->f, &json, &e);
        return show_doc(v, rc, json, &e, incident_list_human);
    }
    if ((rc = resolve(v, "incident", ref, &id)) != 0)
        return rc;
    if (strcmp(sub, "show") == 0) {
        rc = records_incident_get(v, id, &json, &e);
        return show_doc(v, rc, json, &e, incident_human);
    }
    if (strcmp(sub, "amend") == 0) {
        int64_t nid = 0;
        if (records_incident_amend(v, id, &o->in, &nid, &e) != 0)
            return cli_fail(&e);
        printf("%lld\n", (long long)nid);
        return EXIT_OK;
    }
    if (records_incident_edit(v, id, &o->in, &e) != 0)
        return cli_fail(&e);
    fprintf(stderr, "evault: incident %lld updated\n", (long long)id);
    return EXIT_OK;
}

/* Which options the subcommand takes; nargs: its operands. */
static int inc_check_use(const char *sub, const inc_opts *o, int nargs)
{
    const records_incident *in = &o->in;
    int is_list = strcmp(sub, "list") == 0, is_show = strcmp(sub, "show") == 0;
    int is_add = strcmp(sub, "add") == 0;
    int writes = o->nchanges || in->ntags || (in->type && !is_list);

    if (nargs != (is_list || is_add ? 0 : 1))
        return cli_usage("incident", 0);
    if ((is_list && (o->nchanges || in->ntags > 1)) || (is_show && writes) ||
        (!is_list && (o->f.since || o->f.until))) {
        cli_error("these options do not go with 'incident %s': see "
                  "'evault help incident'",
                  sub);
        return EXIT_USAGE;
    }
    if (is_add && (in->nuntags || in->coords < 0)) {
        cli_error("--remove-tag and --no-coordinates are for 'incident "
                  "edit'");
        return EXIT_USAGE;
    }
    if ((strcmp(sub, "edit") == 0 || strcmp(sub, "amend") == 0) &&
        !writes) {
        cli_error("nothing to change: give the options to change (see "
                  "'evault help incident')");
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_incident(int argc, char **argv)
{
    static const struct option opts[] = {
        {"title", required_argument, NULL, O_TITLE},
        {"type", required_argument, NULL, O_TYPE},
        {"date", required_argument, NULL, O_DATE},
        {"date-precision", required_argument, NULL, O_DPREC},
        {"end-date", required_argument, NULL, O_END},
        {"end-date-precision", required_argument, NULL, O_EPREC},
        {"location", required_argument, NULL, O_LOC},
        {"lat", required_argument, NULL, O_LAT},
        {"lon", required_argument, NULL, O_LON},
        {"description", required_argument, NULL, O_DESC},
        {"description-file", required_argument, NULL, O_DESCFILE},
        {"status", required_argument, NULL, O_STATUS},
        {"tag", required_argument, NULL, O_TAG},
        {"add-tag", required_argument, NULL, O_TAG},
        {"remove-tag", required_argument, NULL, O_UNTAG},
        {"confidential", no_argument, NULL, O_CONF},
        {"no-confidential", no_argument, NULL, O_NOCONF},
        {"no-coordinates", no_argument, NULL, O_NOCOORDS},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {NULL, 0, NULL, 0},
    };
    inc_opts o;
    char *desc = NULL;
    const char *sub;
    vault *v = NULL;
    int c, rc;

    memset(&o, 0, sizeof o);
    records_incident_init(&o.in);
    while ((c = cli_getopt(argc, argv, "", opts)) != -1)
        if (c == '?' || (rc = inc_opt(&o, c)) != 0)
            return c == '?' ? cli_usage("incident", 0) : rc;
    if (g_cli.help || optind >= argc)
        return cli_usage("incident", g_cli.help);
    sub = argv[optind++];
    if ((rc = check_sub("incident", sub, "add list show edit amend")) != 0 ||
        (rc = inc_check_use(sub, &o, argc - optind)) != 0)
        return rc;
    o.f.type = strcmp(sub, "list") == 0 ? o.in.type : NULL;
    o.f.tag = strcmp(sub, "list") == 0 && o.in.ntags ? o.tags[0] : NULL;
    if ((rc = inc_finish(&o, &desc)) != 0)
        return rc;
    if ((rc = cli_open_vault(&v)) == 0) {
        rc = incident_run(v, sub, optind < argc ? argv[optind] : NULL, &o);
        vault_close(v);
    }
    free(desc);
    return rc;
}

/* ---- actor -------------------------------------------------------------- */

static void actor_human(sqlite3 *db, const char *json)
{
    static const field f[] = {
        {"id:", "$.id"},       {"uuid:", "$.uuid"},
        {"name:", "$.name"},   {"kind:", "$.kind"},
        {"category:", "$.category"},
    };
    static const col inc[] = {{"ID", "$.id", 6},
                              {"ROLE", "$.role", 12},
                              {"DATE", "$.date", 10},
                              {"TITLE", "$.title", 0}};
    char *contact = jx(db, json, "$.contact");

    print_fields(db, json, f, (int)(sizeof f / sizeof f[0]));
    print_joined(db, json, "other names:", "$.other_names");
    print_bool(db, json, "confidential:", "$.confidential");
    if (contact && *contact) {
        printf("%-14s ", "contact:");
        put(contact, 0, 1);
        printf("   (sensitive)\n");
    }
    free(contact);
    print_fields(db, json,
                 (const field[]){{"created:", "$.created"},
                                 {"updated:", "$.updated"}},
                 2);
    print_text(db, json, "description", "$.description");
    printf("\nincidents:\n");
    if (!print_rows(db, json, "$.incidents", inc, 4, "  "))
        printf("  (none)\n");
}

static void actor_list_human(sqlite3 *db, const char *json)
{
    static const col c[] = {{"ID", "$.id", 6},
                            {"KIND", "$.kind", 12},
                            {"CATEGORY", "$.category", 16},
                            {"INCIDENTS", "$.incidents", 9},
                            {"NAME", "$.name", 0}};
    if (!print_rows(db, json, "$.actors", c, 5, ""))
        printf("no actors\n");
}

typedef struct actor_opts {
    records_actor a;
    const char *other[MAXTAGS], *descfile;
    int nchanges;
} actor_opts;

static int actor_opt(actor_opts *o, int c)
{
    records_actor *a = &o->a;
    switch (c) {
    case O_NAME: a->name = optarg; break;
    case O_KIND: a->kind = optarg; break;
    case O_CAT: a->category = optarg; break;
    case O_DESC: a->description = optarg; break;
    case O_DESCFILE: o->descfile = optarg; break;
    case O_CONTACT: a->contact = optarg; break;
    case O_CONF: a->confidential = 1; break;
    case O_NOCONF: a->confidential = 0; break;
    case O_OTHER:
        if (a->nother == MAXTAGS) {
            cli_error("more than %d other names in one command", MAXTAGS);
            return EXIT_USAGE;
        }
        o->other[a->nother++] = optarg;
        a->set_other = 1;
        break;
    default:
        return cli_usage("actor", 0);
    }
    o->nchanges++;
    return 0;
}

/* The generic tail of actor and source: check the operands, open, run. */
static int record_cmd(const char *cmd, const char *sub, int nargs,
                      int nchanges, const char *descfile, const char **desc,
                      char **descbuf)
{
    int is_list = strcmp(sub, "list") == 0, is_add = strcmp(sub, "add") == 0;
    int rc = check_sub(cmd, sub, "add list show edit");

    if (rc)
        return rc;
    if (nargs != (is_list || is_add ? 0 : 1))
        return cli_usage(cmd, 0);
    if ((is_list || strcmp(sub, "show") == 0) && nchanges) {
        cli_error("these options do not go with '%s %s': see 'evault help "
                  "%s'",
                  cmd, sub, cmd);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "edit") == 0 && !nchanges) {
        cli_error("nothing to change: give the options to change (see "
                  "'evault help %s')",
                  cmd);
        return EXIT_USAGE;
    }
    if (descfile && *desc) {
        cli_error("give --description or --description-file, not both");
        return EXIT_USAGE;
    }
    if (descfile && (rc = read_text_file(descfile, descbuf)) == 0)
        *desc = *descbuf;
    return rc;
}

static int actor_run(vault *v, const char *sub, const char *ref,
                     const records_actor *a)
{
    int64_t id = 0;
    char *json = NULL;
    ev_err e;
    int rc;

    err_clear(&e);
    if (strcmp(sub, "add") == 0) {
        if (records_actor_add(v, a, &id, &e) != 0)
            return cli_fail(&e);
        printf("%lld\n", (long long)id);
        return EXIT_OK;
    }
    if (strcmp(sub, "list") == 0) {
        rc = records_actor_list(v, &json, &e);
        return show_doc(v, rc, json, &e, actor_list_human);
    }
    if ((rc = resolve(v, "actor", ref, &id)) != 0)
        return rc;
    if (strcmp(sub, "show") == 0) {
        rc = records_actor_get(v, id, &json, &e);
        return show_doc(v, rc, json, &e, actor_human);
    }
    if (records_actor_edit(v, id, a, &e) != 0)
        return cli_fail(&e);
    fprintf(stderr, "evault: actor %lld updated\n", (long long)id);
    return EXIT_OK;
}

static int cmd_actor(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, O_NAME},
        {"kind", required_argument, NULL, O_KIND},
        {"other-name", required_argument, NULL, O_OTHER},
        {"category", required_argument, NULL, O_CAT},
        {"description", required_argument, NULL, O_DESC},
        {"description-file", required_argument, NULL, O_DESCFILE},
        {"contact", required_argument, NULL, O_CONTACT},
        {"confidential", no_argument, NULL, O_CONF},
        {"no-confidential", no_argument, NULL, O_NOCONF},
        {NULL, 0, NULL, 0},
    };
    actor_opts o;
    char *desc = NULL;
    const char *sub;
    vault *v = NULL;
    int c, rc;

    memset(&o, 0, sizeof o);
    records_actor_init(&o.a);
    while ((c = cli_getopt(argc, argv, "", opts)) != -1)
        if (c == '?' || (rc = actor_opt(&o, c)) != 0)
            return c == '?' ? cli_usage("actor", 0) : rc;
    if (g_cli.help || optind >= argc)
        return cli_usage("actor", g_cli.help);
    sub = argv[optind++];
    o.a.other_names = o.other;
    rc = record_cmd("actor", sub, argc - optind, o.nchanges, o.descfile,
                    &o.a.description, &desc);
    if (rc == 0 && strcmp(sub, "add") == 0 && !o.a.name) {
        cli_error("an actor needs a name: give --name NAME");
        rc = EXIT_USAGE;
    }
    if (rc == 0 && (rc = cli_open_vault(&v)) == 0) {
        rc = actor_run(v, sub, optind < argc ? argv[optind] : NULL, &o.a);
        vault_close(v);
    }
    free(desc);
    return rc;
}

/* ---- source ------------------------------------------------------------- */

static void source_human(sqlite3 *db, const char *json)
{
    static const field f[] = {
        {"id:", "$.id"},
        {"uuid:", "$.uuid"},
        {"kind:", "$.kind"},
        {"title:", "$.title"},
        {"date:", "$.date"},
        {"precision:", "$.date_precision"},
        {"reliability:", "$.reliability"},
        {"consent:", "$.consent"},
        {"url:", "$.url"},
    };
    static const col inc[] = {{"ID", "$.id", 6},
                              {"DATE", "$.date", 10},
                              {"TITLE", "$.title", 0}};

    print_fields(db, json, f, (int)(sizeof f / sizeof f[0]));
    print_bool(db, json, "confidential:", "$.confidential");
    print_fields(db, json,
                 (const field[]){{"created:", "$.created"},
                                 {"updated:", "$.updated"}},
                 2);
    print_text(db, json, "description", "$.description");
    printf("\nincidents citing it:\n");
    if (!print_rows(db, json, "$.incidents", inc, 3, "  "))
        printf("  (none: see 'evault cite')\n");
}

static void source_list_human(sqlite3 *db, const char *json)
{
    static const col c[] = {{"ID", "$.id", 6},
                            {"KIND", "$.kind", 18},
                            {"DATE", "$.date", 10},
                            {"RELIABILITY", "$.reliability", 11},
                            {"CONSENT", "$.consent", 10},
                            {"TITLE", "$.title", 0}};
    if (!print_rows(db, json, "$.sources", c, 6, ""))
        printf("no sources\n");
}

static int source_opt(records_source *s, const char **descfile, int c)
{
    switch (c) {
    case O_KIND: s->kind = optarg; break;
    case O_TITLE: s->title = optarg; break;
    case O_DESC: s->description = optarg; break;
    case O_DESCFILE: *descfile = optarg; break;
    case O_DATE: s->date = optarg; break;
    case O_DPREC: s->date_precision = optarg; break;
    case O_REL: s->reliability = optarg; break;
    case O_CONSENT: s->consent = optarg; break;
    case O_URL: s->url = optarg; break;
    case O_CONF: s->confidential = 1; break;
    case O_NOCONF: s->confidential = 0; break;
    default: return cli_usage("source", 0);
    }
    return 0;
}

static int source_run(vault *v, const char *sub, const char *ref,
                      const records_source *s)
{
    int64_t id = 0;
    char *json = NULL;
    ev_err e;
    int rc;

    err_clear(&e);
    if (strcmp(sub, "add") == 0) {
        if (records_source_add(v, s, &id, &e) != 0)
            return cli_fail(&e);
        printf("%lld\n", (long long)id);
        return EXIT_OK;
    }
    if (strcmp(sub, "list") == 0) {
        rc = records_source_list(v, &json, &e);
        return show_doc(v, rc, json, &e, source_list_human);
    }
    if ((rc = resolve(v, "source", ref, &id)) != 0)
        return rc;
    if (strcmp(sub, "show") == 0) {
        rc = records_source_get(v, id, &json, &e);
        return show_doc(v, rc, json, &e, source_human);
    }
    if (records_source_edit(v, id, s, &e) != 0)
        return cli_fail(&e);
    fprintf(stderr, "evault: source %lld updated\n", (long long)id);
    return EXIT_OK;
}

static int cmd_source(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kind", required_argument, NULL, O_KIND},
        {"title", required_argument, NULL, O_TITLE},
        {"description", required_argument, NULL, O_DESC},
        {"description-file", required_argument, NULL, O_DESCFILE},
        {"date", required_argument, NULL, O_DATE},
        {"date-precision", required_argument, NULL, O_DPREC},
        {"reliability", required_argument, NULL, O_REL},
        {"consent", required_argument, NULL, O_CONSENT},
        {"url", required_argument, NULL, O_URL},
        {"confidential", no_argument, NULL, O_CONF},
        {"no-confidential", no_argument, NULL, O_NOCONF},
        {NULL, 0, NULL, 0},
    };
    records_source s;
    const char *sub, *descfile = NULL;
    char *desc = NULL;
    vault *v = NULL;
    int c, rc, n = 0;

    records_source_init(&s);
    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c == '?' || (rc = source_opt(&s, &descfile, c)) != 0)
            return c == '?' ? cli_usage("source", 0) : rc;
        n++;
    }
    if (g_cli.help || optind >= argc)
        return cli_usage("source", g_cli.help);
    sub = argv[optind++];
    rc = record_cmd("source", sub, argc - optind, n, descfile,
                    &s.description, &desc);
    if (rc == 0 && strcmp(sub, "add") == 0 && !s.kind) {
        cli_error("a source needs a kind: give --kind KIND");
        rc = EXIT_USAGE;
    }
    if (rc == 0 && (rc = cli_open_vault(&v)) == 0) {
        rc = source_run(v, sub, optind < argc ? argv[optind] : NULL, &s);
        vault_close(v);
    }
    free(desc);
    return rc;
}

/* ---- link, unlink, cite, uncite ----------------------------------------- */

/* INCIDENT OTHER [--role R] [--degree D] for the four link commands. */
static int link_cmd(int argc, char **argv, const char *cmd)
{
    static const struct option opts[] = {
        {"role", required_argument, NULL, O_ROLE},
        {"degree", required_argument, NULL, O_DEGREE},
        {NULL, 0, NULL, 0},
    };
    int is_cite = strstr(cmd, "cite") != NULL;
    const char *role = NULL, *degree = NULL, *other;
    int64_t inc = 0, oid = 0;
    vault *v = NULL;
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c == O_ROLE && !is_cite)
            role = optarg;
        else if (c == O_DEGREE && strcmp(cmd, "link") == 0)
            degree = optarg;
        else
            return cli_usage(cmd, 0);
    }
    if (g_cli.help)
        return cli_usage(cmd, 1);
    if (argc - optind != 2)
        return cli_usage(cmd, 0);
    if (strcmp(cmd, "link") == 0 && !role) {
        cli_error("give the actor's role with --role: victim, perpetrator, "
                  "witness, source or other");
        return EXIT_USAGE;
    }
    other = is_cite ? "source" : "actor";
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    rc = resolve(v, "incident", argv[optind], &inc);
    if (rc == 0)
        rc = resolve(v, other, argv[optind + 1], &oid);
    if (rc == 0) {
        if (strcmp(cmd, "link") == 0)
            rc = records_link(v, inc, oid, role, degree, &e);
        else if (strcmp(cmd, "unlink") == 0)
            rc = records_unlink(v, inc, oid, role, &e);
        else if (strcmp(cmd, "cite") == 0)
            rc = records_cite(v, inc, oid, &e);
        else
            rc = records_uncite(v, inc, oid, &e);
        rc = rc ? cli_fail(&e) : EXIT_OK;
    }
    if (rc == EXIT_OK)
        fprintf(stderr, "evault: %s %lld %s incident %lld\n", other,
                (long long)oid,
                strcmp(cmd, "link") == 0     ? "linked to"
                : strcmp(cmd, "cite") == 0   ? "cited for"
                : strcmp(cmd, "unlink") == 0 ? "unlinked from"
                                             : "no longer cited for",
                (long long)inc);
    vault_close(v);
    return rc;
}

static int cmd_link(int argc, char **argv)
{
    return link_cmd(argc, argv, "link");
}

static int cmd_unlink(int argc, char **argv)
{
    return link_cmd(argc, argv, "unlink");
}

static int cmd_cite(int argc, char **argv)
{
    return link_cmd(argc, argv, "cite");
}

static int cmd_uncite(int argc, char **argv)
{
    return link_cmd(argc, argv, "uncite");
}

/* ---- type --------------------------------------------------------------- */

static void type_list_human(sqlite3 *db, const char *json)
{
    static const col c[] = {{"NAME", "$.name", 18},
                            {"BUILTIN", "$.builtin", 7},
                            {"INCIDENTS", "$.incidents", 9},
                            {"DESCRIPTION", "$.description", 0}};
    print_rows(db, json, "$.types", c, 4, "");
}

static int cmd_type(int argc, char **argv)
{
    static const struct option opts[] = {
        {"description", required_argument, NULL, O_DESC},
        {NULL, 0, NULL, 0},
    };
    const char *desc = NULL, *sub;
    char *json = NULL;
    vault *v = NULL;
    ev_err e;
    int c, rc, is_add;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c != O_DESC)
            return cli_usage("type", 0);
        desc = optarg;
    }
    if (g_cli.help || optind >= argc)
        return cli_usage("type", g_cli.help);
    sub = argv[optind++];
    if ((rc = check_sub("type", sub, "list add")) != 0)
        return rc;
    is_add = strcmp(sub, "add") == 0;
    if (argc - optind != is_add || (!is_add && desc))
        return cli_usage("type", 0);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    if (is_add) {
        rc = records_type_add(v, argv[optind], desc, &e);
        if (rc == 0)
            printf("%s\n", argv[optind]);
        rc = rc ? cli_fail(&e) : EXIT_OK;
    } else {
        rc = records_type_list(v, &json, &e);
        rc = show_doc(v, rc, json, &e, type_list_human);
    }
    vault_close(v);
    return rc;
}

/* ---- import ------------------------------------------------------------- */

static int print_counts(const import_counts *n)
{
    json_doc *d;
    int rc;

    if (!g_cli.json) {
        printf("imported %lld incidents, %lld sources, %lld actors "
               "(%lld existing reused), %lld involvements, %lld citations, "
               "%lld incident types\n",
               (long long)n->incidents, (long long)n->sources,
               (long long)n->actors, (long long)n->actors_reused,
               (long long)n->involvements, (long long)n->citations,
               (long long)n->types);
        return EXIT_OK;
    }
    if (!(d = json_new(0)))
        return EXIT_ERROR;
    json_int(d, "$.incidents", n->incidents);
    json_int(d, "$.sources", n->sources);
    json_int(d, "$.actors", n->actors);
    json_int(d, "$.actors_reused", n->actors_reused);
    json_int(d, "$.involvements", n->involvements);
    json_int(d, "$.citations", n->citations);
    json_int(d, "$.incident_types", n->types);
    rc = json_print(d);
    json_free(d);
    return rc ? EXIT_ERROR : EXIT_OK;
}

static int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL;
    import_counts n;
    vault *v = NULL;
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c != O_FORMAT)
            return cli_usage("import", 0);
        format = optarg;
    }
    if (g_cli.help)
        return cli_usage("import", 1);
    if (argc - optind != 1)
        return cli_usage("import", 0);
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        cli_error("unknown import format '%s': use csv or json", format);
        return EXIT_USAGE;
    }
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    rc = import_file(v, argv[optind], format, &n, &e);
    rc = rc ? cli_fail(&e) : print_counts(&n);
    vault_close(v);
    return rc;
}

/* ---- the table ---------------------------------------------------------- */

#define INCIDENT_OPTS                                                         \
    "  --title T                 a short title (required for add)\n"         \
    "  --type TYPE               an incident type (see 'evault type list')\n" \
    "  --date D                  start date: YYYY-MM-DD, YYYY-MM or YYYY\n"   \
    "  --date-precision P        exact, estimate, unknown-day or\n"          \
    "                            unknown-month-and-day (default: from D)\n"  \
    "  --end-date D, --end-date-precision P   the same for the end\n"        \
    "  --location L              where, in words\n"                          \
    "  --lat X --lon Y           coordinates in decimal degrees (both)\n"    \
    "  --description TEXT | --description-file F   (F may be -)\n"          \
    "  --status S                confirmed, likely, possible or unverified\n" \
    "                            (default unverified)\n"                     \
    "  --tag T, --add-tag T      add a tag (repeatable)\n"                   \
    "  --confidential, --no-confidential   set or clear the flag\n"          \
    "edit only:\n"                                                            \
    "  --remove-tag T            remove a tag (repeatable)\n"                \
    "  --no-coordinates          clear latitude and longitude\n"             \
    "  --date '' / --end-date '' clear a date\n"

const struct command records_commands[] = {
    {"incident", cmd_incident, "add, list, show or edit incidents",
     "usage: evault [-f FILE] incident add --title T --type TYPE [OPTIONS]\n"
     "       evault [-f FILE] incident list [--type T] [--tag T] "
     "[--since D] [--until D] [--json]\n"
     "       evault [-f FILE] incident show ID [--json]\n"
     "       evault [-f FILE] incident edit ID [OPTIONS]\n"
     "       evault [-f FILE] incident amend ID [OPTIONS]\n"
     "\n"
     "An incident is something that happened: what, when, where, to whom\n"
     "and by whom. 'add' prints the new incident's number. 'list' filters\n"
     "by type, tag and start date (--since and --until take YYYY, YYYY-MM\n"
     "or YYYY-MM-DD and match incidents whose start period overlaps).\n"
     "'show' includes its actors, sources and evidence. 'edit' changes\n"
     "only the fields given; a sealed incident cannot be edited: 'amend'\n"
     "makes a new version of it (a copy with the changes, linked to the\n"
     "same actors, sources and evidence) and prints its number; the sealed\n"
     "one stays as it was, and 'show' lists the versions. ID is a local\n"
     "number or a UUID prefix of at least 4 characters.\n"
     "\n" INCIDENT_OPTS},
    {"actor", cmd_actor, "add, list, show or edit actors",
     "usage: evault [-f FILE] actor add --name NAME [OPTIONS]\n"
     "       evault [-f FILE] actor list [--json]\n"
     "       evault [-f FILE] actor show ID [--json]\n"
     "       evault [-f FILE] actor edit ID [OPTIONS]\n"
     "\n"
     "An actor is a person or an organisation involved in incidents.\n"
     "\n"
     "  --name NAME               the name (required for add)\n"
     "  --kind K                  person (default) or organisation\n"
     "  --other-name N            another name (repeatable; in edit, the\n"
     "                            names given replace the list)\n"
     "  --category C              journalist, blogger, lawyer, ngo,\n"
     "                            state-body, court, police... (lowercase\n"
     "                            letters, digits, '-'; default other)\n"
     "  --description TEXT | --description-file F\n"
     "  --contact TEXT            contact details (sensitive: shown only by\n"
     "                            'actor show', never indexed for search)\n"
     "  --confidential, --no-confidential\n"},
    {"source", cmd_source, "add, list, show or edit sources",
     "usage: evault [-f FILE] source add --kind KIND [OPTIONS]\n"
     "       evault [-f FILE] source list [--json]\n"
     "       evault [-f FILE] source show ID [--json]\n"
     "       evault [-f FILE] source edit ID [OPTIONS]\n"
     "\n"
     "A source is where information came from.\n"
     "\n"
     "  --kind K                  interview, court-document, news-report,\n"
     "                            social-media-post, official-statement,\n"
     "                            report or other\n"
     "  --title T, --description TEXT | --description-file F\n"
     "  --date D [--date-precision P]   as for incidents\n"
     "  --reliability R           high, medium, low or unknown (default)\n"
     "  --consent C               consent to share: yes, anonymised or no\n"
     "                            (default no)\n"
     "  --url URL                 (edit: --url '' removes it)\n"
     "  --confidential, --no-confidential\n"},
    {"link", cmd_link, "link an actor to an incident in a role",
     "usage: evault [-f FILE] link INCIDENT ACTOR --role ROLE "
     "[--degree D]\n"
     "\n"
     "ROLE: victim, perpetrator, witness, source or other. --degree is for\n"
     "perpetrators only: carried-out, ordered or suspected. Linking again\n"
     "in the same role sets the degree.\n"},
    {"unlink", cmd_unlink, "remove an actor from an incident",
     "usage: evault [-f FILE] unlink INCIDENT ACTOR [--role ROLE]\n"
     "\n"
     "Without --role, the actor is removed from the incident in every\n"
     "role.\n"},
    {"cite", cmd_cite, "cite a source for an incident",
     "usage: evault [-f FILE] cite INCIDENT SOURCE\n"},
    {"uncite", cmd_uncite, "stop citing a source for an incident",
     "usage: evault [-f FILE] uncite INCIDENT SOURCE\n"},
    {"type", cmd_type, "list or add incident types",
     "usage: evault [-f FILE] type list [--json]\n"
     "       evault [-f FILE] type add NAME [--description D]\n"
     "\n"
     "NAME: 1 to 64 lowercase letters, digits and '-'. 'add' prints NAME.\n"},
    {"import", cmd_import, "import incidents from CSV or JSON",
     "usage: evault [-f FILE] import FILE [--format csv|json] [--json]\n"
     "\n"
     "Import incidents, with their actors, sources and tags, from a CSV\n"
     "file (RFC 4180, UTF-8, header row) or an evault-import-1 JSON file.\n"
     "The format comes from the file name's extension unless --format is\n"
     "given. All or nothing: the first bad record stops the import with\n"
     "its line (CSV) or index and ref (JSON), and nothing is imported.\n"
     "Files over 64 MiB are refused. CSV columns: title, type (required),\n"
     "date, date_precision, end_date, end_date_precision, location,\n"
     "latitude, longitude, status, confidential (yes/no), tags, description,\n"
     "victims, perpetrators, witnesses; tags and names are separated by ';'.\n"
     "A name is reused if an actor has it, else a person is created, or\n"
     "an organisation when written 'Name [organisation]'. See evault(1).\n"},
    {NULL, NULL, NULL, NULL},
};
