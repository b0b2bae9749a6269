/*
 * cmd_evidence: `evault evidence add|list|show|extract` over the evidence
 * store (vault/store.h). add checks every file before asking for the
 * passphrase and adds them all in one transaction (all or nothing); ids are
 * printed once it commits. extract never overwrites and removes a partial
 * file on failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <signal.h>
#include <limits.h>
#include <libgen.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vault/rec.h"
#include "../vault/store.h"
#include "cli.h"
#include "json.h"

#define PROGRESS_MIN (4 * 1024 * 1024) /* bar only for files over 4 MiB */

struct ev_opts {
    store_meta meta;
    const char *output;
};

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* ---- add -------------------------------------------------------------- */

static int evidence_add(int nfiles, char **files, const char *incident,
                        const store_meta *m)
{
    vault *v = NULL;
    sqlite3 *db;
    int64_t inc = 0, *ids = NULL;
    ev_err e;
    int rc = EXIT_ERROR;

    err_clear(&e);
    if (store_meta_check(m, &e) != 0)
        return cli_fail(&e);
    /* Refuse what cannot be added before asking for the passphrase. */
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        int fd = -1;
        if (store_open_source(files[i], &fd, &st, &e) != 0)
            return cli_fail(&e);
        close(fd);
    }
    ids = calloc((size_t)nfiles, sizeof *ids);
    if (!ids) {
        cli_error("out of memory");
        return EXIT_ERROR;
    }
    if ((rc = cli_open_vault(&v)) != 0)
        goto out;
    db = vault_db(v);
    if (rec_resolve(db, "incident", incident, &inc, &e) != 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        vault_sqlerr(v, sqlite3_errcode(db), "starting to add evidence", &e);
        rc = cli_fail(&e);
        goto out;
    }
    for (int i = 0; i < nfiles; i++) {
        store_added a;
        struct stat st;
        int big = stat(files[i], &st) == 0 && st.st_size > PROGRESS_MIN;
        char label[80];

        snprintf(label, sizeof label, "adding %.60s", files[i]);
        rc = store_evidence_add(v, inc, files[i], m,
                                big ? cli_progress : NULL, label, &a, &e);
        cli_progress_done();
        if (rc != 0) {
            rc = cli_fail(&e);
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            if (i > 0)
                cli_error("nothing was added (%d file%s before '%s' "
                          "were rolled back)",
                          i, i == 1 ? "" : "s", files[i]);
            goto out;
        }
        ids[i] = a.evidence_id;
        if (a.linked_existing)
            fprintf(stderr,
                    "evault: '%s' has the same content as evidence %" PRId64
                    ": linked that record to incident %s; nothing new was "
                    "stored and the new details were not used\n",
                    files[i], a.evidence_id, incident);
        else if (a.content_existed)
            fprintf(stderr,
                    "evault: the content of '%s' was already stored: it is "
                    "kept once\n",
                    files[i]);
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        vault_sqlerr(v, sqlite3_errcode(db), "committing evidence", &e);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        rc = cli_fail(&e);
        goto out;
    }
    for (int i = 0; i < nfiles; i++)
        printf("%" PRId64 "\n", ids[i]);
    rc = EXIT_OK;
out:
    free(ids);
    vault_close(v);
    return rc;
}

/* ---- list and show ---------------------------------------------------- */

static json_doc *evidence_json(const store_evidence *ev)
{
    json_doc *o = json_new(0);
    if (!o)
        return NULL;
    json_int(o, "$.id", ev->id);
    json_str(o, "$.uuid", ev->uuid);
    json_str(o, "$.original_name", ev->original_name);
    json_int(o, "$.size", (int64_t)ev->size);
    json_str(o, "$.media_type", ev->media_type);
    json_str(o, "$.sha256", ev->sha256_hex);
    json_str(o, "$.method", ev->method);
    if (ev->url)
        json_str(o, "$.url", ev->url);
    json_str(o, "$.acquired_at", ev->acquired_at);
    json_str(o, "$.acquired_by", ev->acquired_by);
    json_str(o, "$.description", ev->description);
    json_str(o, "$.created", ev->created);
    return o;
}

struct list_ctx {
    json_doc *arr;
    int n;
};

static int list_row(void *arg, const store_evidence *ev)
{
    struct list_ctx *c = arg;
    if (c->arr) {
        json_doc *o = evidence_json(ev);
        if (!o)
            return EV_ERR_NOMEM;
        json_doc_set(c->arr, "$[#]", o);
        json_free(o);
    } else {
        if (c->n == 0)
            printf("%-6s %-8s %12s  %-24s %s\n", "ID", "UUID", "SIZE",
                   "MEDIA TYPE", "NAME");
        printf("%-6" PRId64 " %.8s %12" PRIu64 "  %-24s ", ev->id, ev->uuid,
               ev->size, ev->media_type);
        cli_put_clean(stdout, ev->original_name);
        putchar('\n');
    }
    c->n++;
    return 0;
}

static int evidence_list(const char *incident)
{
    struct list_ctx c = {NULL, 0};
    vault *v = NULL;
    int64_t inc = 0;
    ev_err e;
    int rc;

    err_clear(&e);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    if (incident && rec_resolve(vault_db(v), "incident", incident, &inc, &e)) {
        rc = cli_fail(&e);
        goto out;
    }
    if (g_cli.json && !(c.arr = json_new(1))) {
        rc = EXIT_ERROR;
        goto out;
    }
    if (store_evidence_list(v, inc, list_row, &c, &e) != 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (c.arr) {
        json_doc *d = json_new(0);
        if (!d) {
            rc = EXIT_ERROR;
            goto out;
        }
        if (incident)
            json_int(d, "$.incident", inc);
        json_doc_set(d, "$.evidence", c.arr);
        rc = json_print(d) ? EXIT_ERROR : EXIT_OK;
        json_free(d);
    } else {
        if (c.n == 0)
            fprintf(stderr, "evault: no evidence%s\n",
                    incident ? " for this incident" : "");
        rc = EXIT_OK;
    }
out:
    json_free(c.arr);
    vault_close(v);
    return rc;
}

static int show_incident(void *arg, int64_t id, const char *uuid,
                         const char *title)
{
    json_doc *arr = arg;
    if (arr) {
        json_doc *o = json_new(0);
        if (!o)
            return EV_ERR_NOMEM;
        json_int(o, "$.id", id);
        json_str(o, "$.uuid", uuid);
        json_str(o, "$.title", title);
        json_doc_set(arr, "$[#]", o);
        json_free(o);
    } else {
        printf("  %-6" PRId64 " %s  %s\n", id, or_empty(uuid),
               or_empty(title));
    }
    return 0;
}

static int evidence_show(const char *ref)
{
    store_evidence ev;
    vault *v = NULL;
    json_doc *d = NULL, *arr = NULL;
    int64_t id;
    ev_err e;
    int rc;

    memset(&ev, 0, sizeof ev);
    err_clear(&e);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    if (rec_resolve(vault_db(v), "evidence", ref, &id, &e) != 0 ||
        store_evidence_get(v, id, &ev, &e) != 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (g_cli.json) {
        if (!(d = evidence_json(&ev)) || !(arr = json_new(1))) {
            rc = EXIT_ERROR;
            goto out;
        }
        if (store_evidence_incidents(v, id, show_incident, arr, &e) != 0) {
            rc = cli_fail(&e);
            goto out;
        }
        json_doc_set(d, "$.incidents", arr);
        rc = json_print(d) ? EXIT_ERROR : EXIT_OK;
        goto out;
    }
    printf("id:           %" PRId64 "\n", ev.id);
    printf("uuid:         %s\n", ev.uuid);
    fputs("name:         ", stdout);
    cli_put_clean(stdout, ev.original_name);
    putchar('\n');
    printf("size:         %" PRIu64 " bytes\n", ev.size);
    printf("media type:   %s\n", ev.media_type);
    printf("sha256:       %s\n", ev.sha256_hex);
    printf("method:       %s\n", ev.method);
    fputs("url:          ", stdout);
    cli_put_clean(stdout, or_empty(ev.url));
    putchar('\n');
    printf("acquired at:  %s\n", ev.acquired_at);
    fputs("acquired by:  ", stdout);
    cli_put_clean(stdout, ev.acquired_by);
    putchar('\n');
    fputs("description:  ", stdout);
    cli_put_clean(stdout, ev.description);
    putchar('\n');
    printf("added:        %s\n", ev.created);
    printf("incidents:\n");
    if (store_evidence_incidents(v, id, show_incident, NULL, &e) != 0) {
        rc = cli_fail(&e);
        goto out;
    }
    rc = EXIT_OK;
out:
    json_free(arr);
    json_free(d);
    store_evidence_clear(&ev);
    vault_close(v);
    return rc;
}

/* ---- extract ---------------------------------------------------------- */

/*
 * The copy is written under a hidden temporary name beside the output and
 * linked to the output name only once its SHA-256 has verified and it is on
 * disk: an interrupted or failed extract never leaves a partial or
 * unverified file under the name asked for. SIGINT, SIGTERM and SIGHUP
 * remove the temporary file; SIGKILL or a power cut can leave it (named
 * ".NAME.evault-partial-XXXXXXXXXXXXXXXX").
 */
static char partial_path[PATH_MAX];

static void remove_partial(int sig)
{
    if (partial_path[0])
        unlink(partial_path); /* async-signal-safe */
    _exit(128 + sig);
}

static int partial_open(const char *output)
{
    char *dir = strdup(output), *base = strdup(output);
    uint8_t rnd[8];
    char hex[17];
    struct sigaction sa;
    int fd = -1;

    if (dir && base) {
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
        if (snprintf(partial_path, sizeof partial_path,
                     "%s/.%s.evault-partial-%s", dirname(dir), basename(base),
                     hex) < (int)sizeof partial_path) {
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = remove_partial;
            sigemptyset(&sa.sa_mask);
            sigaction(SIGINT, &sa, NULL);
            sigaction(SIGTERM, &sa, NULL);
            sigaction(SIGHUP, &sa, NULL);
            fd = open(partial_path,
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600);
            if (fd < 0)
                partial_path[0] = '\0';
        } else {
            errno = ENAMETOOLONG;
        }
    }
    free(dir);
    free(base);
    return fd;
}

/* Give the verified, synced copy its final name (never replacing one). */
static int partial_publish(const char *output)
{
    char *dir = strdup(output);
    int rc = cli_publish(partial_path, output), err = errno, dfd;

    unlink(partial_path);
    partial_path[0] = '\0';
    if (rc != 0) {
        free(dir);
        errno = err;
        return -1;
    }
    if (dir && (dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY |
                                             O_CLOEXEC)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}

static void partial_discard(void)
{
    if (partial_path[0])
        unlink(partial_path);
    partial_path[0] = '\0';
}

static int evidence_extract(const char *ref, const char *output)
{
    int to_stdout = strcmp(output, "-") == 0, fd = -1, created = 0;
    store_evidence ev;
    vault *v = NULL;
    uint64_t written = 0;
    int64_t id;
    ev_err e;
    int rc;
    char label[80];

    memset(&ev, 0, sizeof ev);
    err_clear(&e);
    /* Say so before asking for a passphrase. */
    if (!to_stdout && access(output, F_OK) == 0) {
        cli_error("'%s' exists: evault never overwrites a file; choose "
                  "another name",
                  output);
        return EXIT_ERROR;
    }
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    if (rec_resolve(vault_db(v), "evidence", ref, &id, &e) != 0 ||
        store_evidence_get(v, id, &ev, &e) != 0) {
        rc = cli_fail(&e);
        goto out;
    }
    if (to_stdout) {
        fd = STDOUT_FILENO;
        fflush(stdout);
    } else {
        fd = partial_open(output);
        if (fd < 0) {
            cli_error("cannot create a file beside '%s': %s", output,
                      strerror(errno));
            rc = EXIT_ERROR;
            goto out;
        }
        created = 1;
    }
    snprintf(label, sizeof label, "extracting %.50s", ev.original_name);
    rc = store_evidence_extract(v, id, fd,
                                ev.size > PROGRESS_MIN ? cli_progress : NULL,
                                label, &written, &e);
    cli_progress_done();
    if (rc == 0 && created && (fsync(fd) != 0 || close(fd) != 0)) {
        fd = -1;
        rc = err_set(&e, EV_ERR_IO, "cannot write '%s': %s", output,
                     strerror(errno));
    }
    if (rc == 0 && created) {
        fd = -1;
        if (partial_publish(output) != 0)
            rc = err_set(&e, errno == EEXIST ? EV_ERR_EXISTS : EV_ERR_IO,
                         errno == EEXIST
                             ? "'%s' appeared while extracting: evault never "
                               "overwrites a file; choose another name"
                             : "cannot create '%s'",
                         output);
    }
    if (rc != 0) {
        rc = cli_fail(&e);
        if (created) {
            /* Never leave a partial or unverified copy behind. */
            partial_discard();
            cli_error("nothing was written to '%s'", output);
        } else if (rc == EXIT_INTEGRITY) {
            cli_error("the bytes already written to standard output are "
                      "not the evidence: discard them");
        }
        goto out;
    }
    rc = EXIT_OK;
    if (!to_stdout)
        fprintf(stderr, "evault: extracted evidence %" PRId64 " (%" PRIu64
                        " bytes, sha256 %s) to '%s'\n",
                id, written, ev.sha256_hex, output);
out:
    if (created && fd >= 0)
        close(fd);
    partial_discard();
    store_evidence_clear(&ev);
    vault_close(v);
    return rc;
}

/* ---- dispatch --------------------------------------------------------- */

static int cmd_evidence(int argc, char **argv)
{
    static const struct option opts[] = {
        {"method", required_argument, NULL, 'm'},
        {"url", required_argument, NULL, 'u'},
        {"acquired-at", required_argument, NULL, 'a'},
        {"acquired-by", required_argument, NULL, 'b'},
        {"description", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    struct ev_opts o;
    const char *sub;
    int c, meta_given = 0, nargs;
    ev_err e;

    memset(&o, 0, sizeof o);
    while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
        switch (c) {
        case 'm':
            o.meta.method = optarg;
            break;
        case 'u':
            o.meta.url = optarg;
            break;
        case 'a':
            o.meta.acquired_at = optarg;
            break;
        case 'b':
            o.meta.acquired_by = optarg;
            break;
        case 'd':
            o.meta.description = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        default:
            return cli_usage("evidence", 0);
        }
        meta_given |= c != 'o';
    }
    if (g_cli.help)
        return cli_usage("evidence", 1);
    if (optind >= argc)
        return cli_usage("evidence", 0);
    sub = argv[optind++];
    nargs = argc - optind;
    if (strcmp(sub, "add") == 0) {
        if (nargs < 2 || o.output)
            return cli_usage("evidence", 0);
        err_clear(&e);
        if (store_meta_check(&o.meta, &e) != 0) {
            cli_error("%s", e.msg);
            return EXIT_USAGE;
        }
        return evidence_add(nargs - 1, argv + optind + 1, argv[optind],
                            &o.meta);
    }
    if (meta_given) {
        cli_error("--method, --url, --acquired-at, --acquired-by and "
                  "--description go with 'evidence add'");
        return EXIT_USAGE;
    }
    if (strcmp(sub, "list") == 0) {
        if (nargs > 1 || o.output)
            return cli_usage("evidence", 0);
        return evidence_list(nargs ? argv[optind] : NULL);
    }
    if (strcmp(sub, "show") == 0) {
        if (nargs != 1 || o.output)
            return cli_usage("evidence", 0);
        return evidence_show(argv[optind]);
    }
    if (strcmp(sub, "extract") == 0) {
        if (nargs != 1)
            return cli_usage("evidence", 0);
        if (!o.output) {
            cli_error("say where to extract to: -o FILE, or -o - for "
                      "standard output");
            return EXIT_USAGE;
        }
        return evidence_extract(argv[optind], o.output);
    }
    cli_error("no evidence command '%s': use add, list, show or extract",
              sub);
    return EXIT_USAGE;
}

const struct command evidence_commands[] = {
    {"evidence", cmd_evidence, "attach, list, show and extract evidence files",
     "usage: evault [-f FILE] evidence add INCIDENT FILE... [--method M]\n"
     "                 [--url URL] [--acquired-at T] [--acquired-by NAME]\n"
     "                 [--description TEXT]\n"
     "       evault [-f FILE] evidence list [INCIDENT] [--json]\n"
     "       evault [-f FILE] evidence show ID [--json]\n"
     "       evault [-f FILE] evidence extract ID (-o FILE | -o -)\n"
     "\n"
     "'add' stores each FILE in the vault (read once, SHA-256 computed on\n"
     "the way, any size in bounded memory) and attaches it to INCIDENT (a\n"
     "local number or a UUID prefix); it prints each evidence id alone on a\n"
     "line. All files are added or none. The same content is stored once:\n"
     "content already attached to INCIDENT is an error naming the evidence;\n"
     "content attached to another incident links that evidence record.\n"
     "Directories, devices, FIFOs, sockets, symbolic links, unreadable files\n"
     "and files that change while being read are refused.\n"
     "  --method M           photo, video, screenshot, download, document\n"
     "                       (default), audio, web-archive or other\n"
     "  --url URL            where it was found\n"
     "  --acquired-at T      UTC time YYYY-MM-DDTHH:MM:SSZ or a date\n"
     "                       YYYY-MM-DD (default: now)\n"
     "  --acquired-by NAME   who acquired it\n"
     "  --description TEXT   what it shows\n"
     "\n"
     "'list' shows all evidence, or INCIDENT's. 'show' shows one record with\n"
     "its SHA-256 and incidents. 'extract' writes the original bytes to a\n"
     "new FILE (mode 0600; never overwrites) or to standard output (-o -),\n"
     "checking the SHA-256 on the way: exit 4 if it does not match (a partial\n"
     "FILE is removed; bytes already on standard output must be discarded).\n"},
    {NULL, NULL, NULL, NULL},
};
