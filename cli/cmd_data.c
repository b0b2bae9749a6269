/*
 * cmd_data: the data commands: `evault search` (full-text search over the
 * records, vault/search.c) and `evault sql` (one read-only SQL statement on
 * the unlocked vault). Text from the vault is shown with its control
 * characters escaped, so that a file name or description holding terminal
 * escape sequences cannot act on the user's terminal. The command table is
 * at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vault/search.h"
#include "cli.h"
#include "json.h"

/* Snippet highlight markers in human output: control characters that the
 * printer turns into bold or brackets (and that it escapes anywhere else
 * would be harmless: at worst some text shows in bold). */
#define HL_OPEN "\x01"
#define HL_CLOSE "\x02"

/* ---- output helpers ----------------------------------------------------- */

/* 1 if human output may use ANSI bold: stdout is a terminal and NO_COLOR
 * (https://no-color.org) is unset or empty. */
static int use_bold(void)
{
    const char *nc = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(nc && *nc);
}

enum { CLEAN_FLAT = 1, CLEAN_HL = 2, CLEAN_BOLD = 4, CLEAN_TSV = 8 };

/*
 * Print s with control characters made visible. CLEAN_FLAT: tabs and
 * newlines become spaces (snippets, labels). CLEAN_TSV: backslash, tab, CR
 * and newline become \\ \t \r \n (a table cell). CLEAN_HL: the HL_ markers
 * become "[" "]" or, with CLEAN_BOLD, ANSI bold. Any other control byte
 * (and DEL) is \xNN.
 */
static void print_clean(const char *s, int flags)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        unsigned char c = *p;
        if ((flags & CLEAN_HL) && (c == HL_OPEN[0] || c == HL_CLOSE[0])) {
            if (flags & CLEAN_BOLD)
                fputs(c == HL_OPEN[0] ? "\033[1m" : "\033[0m", stdout);
            else
                putchar(c == HL_OPEN[0] ? '[' : ']');
        } else if ((flags & CLEAN_TSV) &&
                   (c == '\\' || c == '\t' || c == '\n' || c == '\r')) {
            putchar('\\');
            putchar(c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
        } else if ((flags & CLEAN_FLAT) &&
                   (c == '\t' || c == '\n' || c == '\r')) {
            putchar(' ');
        } else if (c < 0x20 || c == 0x7f) {
            printf("\\x%02x", c);
        } else {
            putchar(c);
        }
    }
}

/* Parse a positive decimal number no larger than max. */
static int parse_count(const char *s, long max, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(s, &end, 10);
    return errno || end == s || *end || *out < 1 || *out > max ? -1 : 0;
}

/* Join argv[from..argc) with single spaces. NULL when out of memory. */
static char *join_args(int argc, char **argv, int from)
{
    sqlite3_str *s = sqlite3_str_new(NULL);
    for (int i = from; i < argc; i++) {
        if (i > from)
            sqlite3_str_appendchar(s, 1, ' ');
        sqlite3_str_appendall(s, argv[i]);
    }
    return sqlite3_str_finish(s);
}

/* ---- search ------------------------------------------------------------- */

struct search_out {
    json_doc *doc; /* --json: the array being filled */
    int bold;
    long count;
};

static int search_print(void *arg, const search_hit *h)
{
    struct search_out *o = arg;

    o->count++;
    if (o->doc) {
        json_doc *hit = json_new(0);
        if (!hit)
            return EV_ERR_NOMEM;
        json_str(hit, "$.kind", search_kind_name(h->kind));
        json_int(hit, "$.id", h->id);
        json_str(hit, "$.uuid", h->uuid);
        json_str(hit, "$.label", h->label);
        json_str(hit, "$.snippet", h->snippet);
        json_doc_set(o->doc, "$[#]", hit);
        json_free(hit);
        return 0;
    }
    printf("%-8s %-5lld ", search_kind_name(h->kind), (long long)h->id);
    print_clean(h->label, CLEAN_FLAT);
    fputs("\n    ", stdout);
    print_clean(h->snippet,
                CLEAN_FLAT | CLEAN_HL | (o->bold ? CLEAN_BOLD : 0));
    putchar('\n');
    return 0;
}

static int cmd_search(int argc, char **argv)
{
    static const struct option opts[] = {
        {"raw", no_argument, NULL, 'r'},
        {"limit", required_argument, NULL, 'n'},
        {"kind", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    search_opts so = {SEARCH_ANY, SEARCH_LIMIT_DEFAULT, NULL, NULL, 0};
    struct search_out out = {NULL, 0, 0};
    char *text = NULL, *fts = NULL;
    int raw = 0, c, rc;
    vault *v = NULL;
    ev_err e;
    long n;

    err_clear(&e);
    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'r':
            raw = 1;
            break;
        case 'n':
            if (parse_count(optarg, SEARCH_LIMIT_MAX, &n) != 0) {
                cli_error("--limit needs a number from 1 to %d, not '%s'",
                          SEARCH_LIMIT_MAX, optarg);
                return EXIT_USAGE;
            }
            so.limit = (int)n;
            break;
        case 'k':
            so.kind = search_kind_parse(optarg);
            if (so.kind < 0) {
                cli_error("no record kind '%s': use incident, actor, source "
                          "or evidence",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        default:
            return cli_usage("search", 0);
        }
    }
    if (g_cli.help)
        return cli_usage("search", 1);
    if (optind >= argc)
        return cli_usage("search", 0);
    if (!(text = join_args(argc, argv, optind))) {
        cli_error("out of memory");
        return EXIT_ERROR;
    }
    if (raw) {
        fts = text;
        text = NULL;
    } else if (search_query_plain(text, &fts, &e) != 0) {
        rc = e.code == EV_ERR_INVALID ? EXIT_USAGE : EXIT_ERROR;
        cli_error("%s: give at least one word", e.msg);
        goto out;
    }
    if ((rc = cli_open_vault(&v)) != 0)
        goto out;
    if (g_cli.json) {
        if (!(out.doc = json_new(1))) {
            rc = EXIT_ERROR;
            goto out;
        }
    } else {
        out.bold = use_bold();
        so.hl_open = HL_OPEN;
        so.hl_close = HL_CLOSE;
    }
    rc = search_run(v, fts, &so, search_print, &out, &e);
    if (rc == EV_ERR_INVALID && raw) {
        /* FTS5 rejected what the user wrote: a usage error. */
        cli_error("%s (see FTS5 query syntax in evault(1), or leave out "
                  "--raw to search for the words as they are)",
                  e.msg);
        rc = EXIT_USAGE;
    } else if (rc != 0) {
        rc = cli_fail(&e);
    } else if (out.doc) {
        rc = json_print(out.doc) ? EXIT_ERROR : EXIT_OK;
    } else {
        if (out.count == 0)
            fprintf(stderr, "evault: no matches\n");
        rc = EXIT_OK;
    }
out:
    json_free(out.doc);
    vault_close(v);
    sqlite3_free(fts);
    sqlite3_free(text);
    return rc;
}

/* ---- sql ---------------------------------------------------------------- */

/* Pragmas that only read, whatever their argument (a table or index name,
 * or a row limit). */
static const char *const pragmas_with_arg[] = {
    "table_info",   "table_xinfo",       "index_info",      "index_xinfo",
    "index_list",   "foreign_key_list",  "foreign_key_check",
    "integrity_check", "quick_check",    NULL,
};

/* Pragmas that only read when given no argument (with one, they set). */
static const char *const pragmas_no_arg[] = {
    "user_version",  "schema_version", "application_id", "page_count",
    "page_size",     "freelist_count", "data_version",   "encoding",
    "foreign_keys",  "database_list",  "table_list",     "compile_options",
    "collation_list", "function_list", "module_list",    "pragma_list",
    NULL,
};

static int in_list(const char *const *list, const char *name)
{
    for (; name && *list; list++)
        if (sqlite3_stricmp(*list, name) == 0)
            return 1;
    return 0;
}

/*
 * The authorizer for `evault sql`: reading only. It replaces vault.c's
 * (sqlite3_set_authorizer keeps one per connection) and is stricter than
 * it: every ATTACH and DETACH is refused, named file or not (the VACUUM
 * that vault.c's empty-name exception is for is refused here anyway).
 * vault.c's policy is not restored afterwards: the process ends when the
 * command does. FTS5 reads its shadow tables and runs PRAGMA data_version
 * through this same authorizer, hence those are allowed.
 *
 * Three layers keep `sql` read-only: PRAGMA query_only=1 (set first, as
 * this authorizer would refuse it), this authorizer (refuses at prepare
 * time, with a clear message), and sqlite3_stmt_readonly() on the prepared
 * statement.
 */
static int ro_authorize(void *arg, int action, const char *a1, const char *a2,
                        const char *a3, const char *a4)
{
    (void)arg, (void)a3, (void)a4;
    switch (action) {
    case SQLITE_READ:
        /* The identity's secret keys read as NULL: a query result pasted
         * into a report must never carry the vault's signing key. */
        if (a1 && sqlite3_stricmp(a1, "identity") == 0 && a2 &&
            (sqlite3_stricmp(a2, "sign_sk") == 0 ||
             sqlite3_stricmp(a2, "box_sk") == 0))
            return SQLITE_IGNORE;
        return SQLITE_OK;
    case SQLITE_SELECT:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_PRAGMA:
        if (in_list(pragmas_with_arg, a1) ||
            (a2 == NULL && in_list(pragmas_no_arg, a1)))
            return SQLITE_OK;
        return SQLITE_DENY;
    case SQLITE_UPDATE:
        /* SQLite itself asks this, for each column of the schema table,
         * whenever a statement connects a virtual table (FTS5's `search`,
         * pragma_table_info()...): refusing it would refuse every read of
         * one. A real UPDATE of the schema table still fails three times
         * over: the table is read-only under SQLITE_DBCONFIG_DEFENSIVE,
         * the connection is query_only, and run_sql() refuses statements
         * that sqlite3_stmt_readonly() says may write. */
        return a1 && (sqlite3_stricmp(a1, "sqlite_master") == 0 ||
                      sqlite3_stricmp(a1, "sqlite_schema") == 0)
                   ? SQLITE_OK
                   : SQLITE_DENY;
    default:
        return SQLITE_DENY;
    }
}

/* 1 if the SQL text s holds nothing but white space and comments. */
static int only_comments(sqlite3 *db, const char *s)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == ';')
        s++;
    if (!*s)
        return 1;
    rc = sqlite3_prepare_v2(db, s, -1, &st, &tail);
    sqlite3_finalize(st);
    return rc == SQLITE_OK && st == NULL;
}

static const char hexdigits[] = "0123456789abcdef";

/* Append the blob's bytes in lowercase hex. */
static void append_hex(sqlite3_str *s, const unsigned char *b, int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3_str_appendchar(s, 1, hexdigits[b[i] >> 4]);
        sqlite3_str_appendchar(s, 1, hexdigits[b[i] & 15]);
    }
}

/*
 * JSON values come from SQLite's json_quote() on a private in-memory
 * connection (the same engine cli/json.c uses), so that every string is
 * escaped by SQLite's JSON code and numbers stay numbers. Rows are joined
 * into the array here, in one pass: json.h's path API would copy the whole
 * document once per row.
 */
struct jrow {
    sqlite3 *db;
    sqlite3_stmt *quote; /* SELECT json_quote(?1) */
};

static int jrow_open(struct jrow *j)
{
    j->db = NULL;
    j->quote = NULL;
    if (sqlite3_open_v2(":memory:", &j->db, SQLITE_OPEN_READWRITE, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(j->db, "SELECT json_quote(?1)", -1, &j->quote,
                           NULL) != SQLITE_OK)
        return -1;
    return 0;
}

static void jrow_close(struct jrow *j)
{
    sqlite3_finalize(j->quote);
    sqlite3_close(j->db);
}

/* Append json_quote(value) to s. value NULL: append the text t instead. */
static int jrow_append(struct jrow *j, sqlite3_str *s, sqlite3_value *value,
                       const char *t)
{
    int rc = 0;

    if (value)
        sqlite3_bind_value(j->quote, 1, value);
    else
        sqlite3_bind_text(j->quote, 1, t, -1, SQLITE_STATIC);
    if (sqlite3_step(j->quote) == SQLITE_ROW &&
        sqlite3_column_text(j->quote, 0))
        sqlite3_str_appendall(s,
                              (const char *)sqlite3_column_text(j->quote, 0));
    else
        rc = -1;
    sqlite3_reset(j->quote);
    sqlite3_clear_bindings(j->quote);
    return rc;
}

/* Append row st as a JSON object to s (blobs as hex strings). */
static int json_row(struct jrow *j, sqlite3_stmt *st, sqlite3_str *s)
{
    int n = sqlite3_column_count(st);

    sqlite3_str_appendchar(s, 1, '{');
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i)
            sqlite3_str_appendchar(s, 1, ',');
        if (jrow_append(j, s, NULL, name ? name : "") != 0)
            return -1;
        sqlite3_str_appendchar(s, 1, ':');
        if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
            sqlite3_str *h = sqlite3_str_new(NULL);
            char *hex;
            int rc;
            append_hex(h, sqlite3_column_blob(st, i),
                       sqlite3_column_bytes(st, i));
            hex = sqlite3_str_finish(h);
            rc = jrow_append(j, s, NULL, hex ? hex : "");
            sqlite3_free(hex);
            if (rc != 0)
                return -1;
        } else if (jrow_append(j, s, sqlite3_column_value(st, i), NULL) !=
                   0) {
            return -1;
        }
    }
    sqlite3_str_appendchar(s, 1, '}');
    return sqlite3_str_errcode(s) == SQLITE_OK ? 0 : -1;
}

/* Print one table cell of human output (see the usage text). */
static void print_cell(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        break;
    case SQLITE_BLOB: {
        const unsigned char *b = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        for (int k = 0; k < n; k++) {
            putchar(hexdigits[b[k] >> 4]);
            putchar(hexdigits[b[k] & 15]);
        }
        break;
    }
    default:
        print_clean((const char *)sqlite3_column_text(st, i), CLEAN_TSV);
    }
}

static int sql_fail(vault *v, int sqlrc, const char *what)
{
    ev_err e;
    char msg[EV_ERRMAX];
    int rc;

    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(vault_db(v)));
    err_clear(&e);
    rc = vault_sqlerr(v, sqlrc, what, &e);
    if (rc == EV_ERR_INTEGRITY || rc == EV_ERR_BUSY || rc == EV_ERR_NOMEM)
        return cli_fail(&e);
    if ((sqlrc & 0xff) == SQLITE_AUTH)
        cli_error("sql: %s: evault sql only reads (one SELECT, or a "
                  "read-only PRAGMA)",
                  msg);
    else
        cli_error("sql: %s", msg);
    return EXIT_ERROR;
}

static int run_sql(vault *v, const char *query)
{
    sqlite3 *db = vault_db(v);
    sqlite3_stmt *st = NULL;
    sqlite3_str *js = NULL;
    struct jrow j = {NULL, NULL};
    const char *tail = NULL;
    int rc = EXIT_ERROR, sqlrc, ncol, rows = 0;

    /* query_only first: the stricter authorizer would refuse this pragma. */
    if ((sqlrc = sqlite3_exec(db, "PRAGMA query_only=1", NULL, NULL, NULL)) !=
        SQLITE_OK)
        return sql_fail(v, sqlrc, "making the connection read-only");
    sqlite3_set_authorizer(db, ro_authorize, NULL);

    sqlrc = sqlite3_prepare_v2(db, query, -1, &st, &tail);
    if (sqlrc != SQLITE_OK) {
        rc = sql_fail(v, sqlrc, "preparing the statement");
        goto out;
    }
    if (!st) {
        cli_error("sql: no SQL statement given");
        rc = EXIT_USAGE;
        goto out;
    }
    if (tail && !only_comments(db, tail)) {
        cli_error("sql: give one statement only (found more after '%.60s')",
                  sqlite3_sql(st));
        rc = EXIT_USAGE;
        goto out;
    }
    if (!sqlite3_stmt_readonly(st)) {
        cli_error("sql: not authorized: evault sql only reads (one SELECT, "
                  "or a read-only PRAGMA)");
        goto out;
    }
    ncol = sqlite3_column_count(st);
    /* The first step comes before any output, so that a statement that
     * fails at once (a refused function, say) prints nothing. */
    sqlrc = sqlite3_step(st);
    if (sqlrc != SQLITE_ROW && sqlrc != SQLITE_DONE) {
        rc = sql_fail(v, sqlrc, "running the statement");
        goto out;
    }
    if (g_cli.json) {
        if (jrow_open(&j) != 0 || !(js = sqlite3_str_new(NULL))) {
            cli_error("out of memory");
            goto out;
        }
        sqlite3_str_appendchar(js, 1, '[');
    } else {
        for (int i = 0; i < ncol; i++) {
            if (i)
                putchar('\t');
            print_clean(sqlite3_column_name(st, i), CLEAN_TSV);
        }
        if (ncol)
            putchar('\n');
    }
    for (; sqlrc == SQLITE_ROW; sqlrc = sqlite3_step(st)) {
        if (js) {
            if (rows)
                sqlite3_str_appendchar(js, 1, ',');
            if (json_row(&j, st, js) != 0) {
                cli_error("out of memory");
                goto out;
            }
        } else {
            for (int i = 0; i < ncol; i++) {
                if (i)
                    putchar('\t');
                print_cell(st, i);
            }
            putchar('\n');
        }
        rows++;
    }
    if (sqlrc != SQLITE_DONE) {
        rc = sql_fail(v, sqlrc, "running the statement");
        goto out;
    }
    if (js) {
        char *text;
        sqlite3_str_appendall(js, "]");
        text = sqlite3_str_finish(js);
        js = NULL;
        if (!text) {
            cli_error("out of memory");
            goto out;
        }
        /* The document is complete before any of it is printed: an error
         * half way never leaves half a document on stdout. */
        rc = printf("%s\n", text) < 0 ? EXIT_ERROR : EXIT_OK;
        sqlite3_free(text);
        goto out;
    }
    rc = EXIT_OK;
out:
    sqlite3_free(sqlite3_str_finish(js));
    jrow_close(&j);
    sqlite3_finalize(st);
    return rc;
}

static int cmd_sql(int argc, char **argv)
{
    static const struct option opts[] = {{NULL, 0, NULL, 0}};
    vault *v = NULL;
    int c, rc;

    if ((c = cli_getopt(argc, argv, "", opts)) != -1)
        return cli_usage("sql", 0);
    if (g_cli.help)
        return cli_usage("sql", 1);
    if (optind + 1 != argc)
        return cli_usage("sql", 0);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    rc = run_sql(v, argv[optind]);
    vault_close(v);
    return rc;
}

/* ---- the table ---------------------------------------------------------- */

const struct command data_commands[] = {
    {"search", cmd_search, "full-text search over the records",
     "usage: evault [-f FILE] search QUERY... [--raw] [--limit N]\n"
     "                 [--kind incident|actor|source|evidence] [--json]\n"
     "\n"
     "Find incidents (title, description, location, tags), actors (name,\n"
     "other names, description; never contact details), sources (title,\n"
     "description) and evidence (file name, description) that contain every\n"
     "word of QUERY, whatever its case and accents. Best matches first: a\n"
     "match in a title, name or file name counts ten times one elsewhere.\n"
     "Prints kind, local id and label, then the text around the match with\n"
     "the matching words in [brackets] (bold on a terminal unless NO_COLOR\n"
     "is set). --json: an array of {kind, id, uuid, label, snippet}.\n"
     "\n"
     "  --raw       QUERY is SQLite FTS5 syntax: AND, OR, NOT, NEAR(a b),\n"
     "              \"exact phrase\", prefix*, title:word; a query FTS5\n"
     "              rejects exits 2\n"
     "  --limit N   at most N results (default 20, at most 10000)\n"
     "  --kind K    only records of kind K\n"},
    {"sql", cmd_sql, "run one read-only SQL query on the vault",
     "usage: evault [-f FILE] sql QUERY [--json]\n"
     "\n"
     "Run one SQL statement on the unlocked vault, read-only: a SELECT (or\n"
     "WITH, VALUES, EXPLAIN) or a PRAGMA that only reads (table_info,\n"
     "index_list, user_version without a value...). Writes, schema changes,\n"
     "ATTACH, DETACH, VACUUM, transactions and more than one statement are\n"
     "refused. Prints a header row, then one line per row, columns separated\n"
     "by a tab; NULL is an empty cell, a blob is lowercase hex, and a\n"
     "backslash, tab, newline or CR in text is \\\\, \\t, \\n or \\r (other\n"
     "control characters \\xNN). --json: an array of objects, column name\n"
     "to value (blobs as hex strings). SQLite's errors exit 1.\n"},
    {NULL, NULL, NULL, NULL},
};
