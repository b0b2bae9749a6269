/*
 * cmd_integrity: evidentiary integrity. `evault identity` (the vault's keys
 * and partner card), `evault log` (the custody log), `evault seal` (seal an
 * incident, or export a sealed record for minisign and sha256sum), and
 * `evault verify` (everything, with a summary).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vault/custody.h"
#include "../vault/identity.h"
#include "../vault/rec.h"
#include "../vault/report.h"
#include "../vault/receive.h"
#include "../vault/seal.h"
#include "../vault/store.h"
#include "cli.h"
#include "json.h"

/* Write len bytes to a new file path (O_EXCL, mode 0644 for public
 * material, 0600 otherwise). Returns 0 or prints and returns an exit code. */
static int write_new(const char *path, const void *buf, size_t len, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
    const char *p = buf;
    int rc = EXIT_OK;

    if (fd < 0) {
        cli_error("cannot create '%s': %s%s", path, strerror(errno),
                  errno == EEXIST ? " (evault never overwrites a file)" : "");
        return EXIT_ERROR;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            cli_error("cannot write '%s': %s", path, strerror(errno));
            rc = EXIT_ERROR;
            break;
        }
        p += n;
        len -= (size_t)n;
    }
    if (rc == EXIT_OK && fsync(fd) != 0) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        rc = EXIT_ERROR;
    }
    if (close(fd) != 0 && rc == EXIT_OK) {
        cli_error("cannot write '%s': %s", path, strerror(errno));
        rc = EXIT_ERROR;
    }
    if (rc != EXIT_OK)
        unlink(path);
    return rc;
}

/* ---- identity ----------------------------------------------------------- */

static int cmd_identity(int argc, char **argv)
{
    static const struct option opts[] = {
        {"card", required_argument, NULL, 'c'},
        {"minisign-pubkey", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *card_path = NULL, *pub_path = NULL;
    identity_public pub;
    vault *v = NULL;
    char *card = NULL;
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c == 'c')
            card_path = optarg;
        else if (c == 'm')
            pub_path = optarg;
        else
            return cli_usage("identity", 0);
    }
    if (g_cli.help)
        return cli_usage("identity", 1);
    if (optind != argc)
        return cli_usage("identity", 0);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    rc = identity_get_public(v, &pub, &e);
    if (rc == 0 && card_path)
        rc = identity_card(v, &card, &e);
    vault_close(v);
    if (rc != 0)
        return cli_fail(&e);
    if (card_path && (rc = write_new(card_path, card, strlen(card), 0644))) {
        free(card);
        return rc;
    }
    free(card);
    if (pub_path) {
        msig_pubkey pk;
        char text[MSIG_PUBFILE_MAX];
        if (msig_pubkey_parse(&pk, pub.minisign_pubkey,
                              strlen(pub.minisign_pubkey)) != 0)
            return EXIT_ERROR;
        msig_pubkey_file(text, &pk);
        if ((rc = write_new(pub_path, text, strlen(text), 0644)))
            return rc;
    }
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_str(d, "$.name", pub.name);
        json_str(d, "$.vault_id", pub.vault_id);
        json_str(d, "$.created", pub.created);
        json_str(d, "$.minisign_key_id", pub.key_id);
        json_str(d, "$.minisign_public_key", pub.minisign_pubkey);
        json_str(d, "$.age_recipient", pub.age_recipient);
        json_str(d, "$.fingerprint", pub.fingerprint);
        rc = json_print(d);
        json_free(d);
        return rc ? EXIT_ERROR : EXIT_OK;
    }
    fputs("name:                ", stdout);
    cli_put_clean(stdout, pub.name[0] ? pub.name : "(none)");
    printf("\nvault id:            %s\n", pub.vault_id);
    printf("created:             %s\n", pub.created);
    printf("minisign public key: %s\n", pub.minisign_pubkey);
    printf("minisign key id:     %s\n", pub.key_id);
    printf("age recipient:       %s\n", pub.age_recipient);
    printf("fingerprint:         %s\n", pub.fingerprint);
    return EXIT_OK;
}

/* ---- log ------------------------------------------------------------------ */

static int cmd_log(int argc, char **argv)
{
    static const struct option opts[] = {
        {"object", required_argument, NULL, 'o'},
        {"since", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    const char *object = NULL, *since = NULL;
    vault *v = NULL;
    char *json = NULL;
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c == 'o')
            object = optarg;
        else if (c == 's')
            since = optarg;
        else
            return cli_usage("log", 0);
    }
    if (g_cli.help)
        return cli_usage("log", 1);
    if (optind != argc)
        return cli_usage("log", 0);
    if (object && strlen(object) < 4) {
        cli_error("--object takes a UUID, a vault id or a prefix of at least "
                  "4 characters of one");
        return EXIT_USAGE;
    }
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    rc = custody_list(v, object, since, &json, &e);
    if (rc != 0) {
        vault_close(v);
        return cli_fail(&e);
    }
    if (g_cli.json) {
        rc = puts(json) < 0 ? EXIT_ERROR : EXIT_OK;
    } else {
        sqlite3_stmt *st = NULL;
        /* the document's rows, printed one per line */
        if (sqlite3_prepare_v2(vault_db(v),
                               "SELECT json_extract(value, '$.seq'), "
                               "json_extract(value, '$.at'), "
                               "json_extract(value, '$.action'), "
                               "json_extract(value, '$.object_type'), "
                               "json_extract(value, '$.object'), "
                               "json_extract(value, '$.detail') FROM "
                               "json_each(?1, '$.entries')",
                               -1, &st, NULL) == SQLITE_OK) {
            sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
            while (sqlite3_step(st) == SQLITE_ROW) {
                printf("%6lld  %s  %-8s %-9s ", sqlite3_column_int64(st, 0),
                       sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
                       sqlite3_column_text(st, 3));
                cli_put_clean(stdout, (const char *)sqlite3_column_text(st, 4));
                fputs("  ", stdout);
                cli_put_clean(stdout, (const char *)sqlite3_column_text(st, 5));
                putchar('\n');
            }
        }
        sqlite3_finalize(st);
        rc = EXIT_OK;
    }
    free(json);
    vault_close(v);
    return rc;
}

/* ---- seal ----------------------------------------------------------------- */

/* A file name from stored text: no '/', no control characters, not hidden,
 * at most 100 bytes. OUT: out (128 bytes). */
static void safe_name(char *out, const char *name)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name;
         *p && n < 100; p++)
        out[n++] = (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
                       ? '_'
                       : (char)*p;
    out[n] = '\0';
    if (n == 0 || out[0] == '.')
        out[0] = '_';
    if (n == 0)
        out[1] = '\0';
}

/* SIGINT, SIGTERM and SIGHUP during a seal export: stop at the next chunk
 * and remove the hidden directory (plaintext evidence must not stay). */
static volatile sig_atomic_t export_stop;

static void export_signal(int sig)
{
    (void)sig;
    export_stop = 1;
}

static int export_progress(void *label, uint64_t done, uint64_t total)
{
    cli_progress(label, done, total);
    return export_stop;
}

typedef struct export_ctx {
    vault *v;
    const char *dir;
    char *sums; /* SHA256SUMS text */
    size_t sums_len;
    int rc;
} export_ctx;

static int export_evidence(export_ctx *x, int64_t ev_id)
{
    store_evidence ev;
    char name[128], rel[200], path[4500], hex[65];
    ev_err e;
    int fd, rc;

    err_clear(&e);
    if ((rc = store_evidence_get(x->v, ev_id, &ev, &e)) != 0)
        return cli_fail(&e);
    safe_name(name, ev.original_name);
    snprintf(rel, sizeof rel, "evidence/%.8s-%s", ev.uuid, name);
    snprintf(path, sizeof path, "%s/%s", x->dir, rel);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0600);
    if (fd < 0) {
        cli_error("cannot create '%s': %s", path, strerror(errno));
        store_evidence_clear(&ev);
        return EXIT_ERROR;
    }
    rc = store_evidence_extract(x->v, ev_id, fd, export_progress,
                                "exporting evidence", NULL, &e);
    cli_progress_done();
    if (rc == 0 && fsync(fd) != 0)
        rc = err_set(&e, EV_ERR_IO, "cannot write '%s': %s", path,
                     strerror(errno));
    close(fd);
    if (rc != 0) {
        unlink(path);
        store_evidence_clear(&ev);
        return cli_fail(&e);
    }
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", ev.sha256[i]);
    {
        size_t add = strlen(hex) + 2 + strlen(rel) + 1;
        char *s = realloc(x->sums, x->sums_len + add + 1);
        if (!s) {
            store_evidence_clear(&ev);
            return EXIT_ERROR;
        }
        x->sums = s;
        snprintf(s + x->sums_len, add + 1, "%s  %s\n", hex, rel);
        x->sums_len += add;
    }
    store_evidence_clear(&ev);
    return EXIT_OK;
}

/* Remove the hidden export directory and what it holds (two levels). */
static void remove_tree(const char *dir)
{
    char sub[4300];
    DIR *d;
    struct dirent *de;

    snprintf(sub, sizeof sub, "%s/evidence", dir);
    if ((d = opendir(sub)) != NULL) {
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    rmdir(sub);
    if ((d = opendir(dir)) != NULL) {
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

/* Move the finished hidden directory tmp to dir, never over anything. */
static int publish_dir(const char *tmp, const char *dir)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    /* no RENAME_NOREPLACE here: claim the name with an empty directory,
     * which rename() then replaces as a whole */
    if (mkdir(dir, 0700) != 0)
        return -1;
    if (rename(tmp, dir) != 0) {
        int err = errno;
        rmdir(dir);
        errno = err;
        return -1;
    }
    return 0;
}

/*
 * Write the export into a hidden directory beside dir and move it into
 * place only when complete: an interrupted or failed export never leaves
 * plaintext evidence, or a part of the export, under the name asked for.
 */
static int seal_export(vault *v, int64_t id, const char *dir)
{
    seal_info si;
    identity_public pub;
    msig_pubkey pk;
    char path[4300], pubtext[MSIG_PUBFILE_MAX], detail[4200], tmp[4200];
    export_ctx x = {v, tmp, NULL, 0, 0};
    sqlite3_stmt *st = NULL;
    struct sigaction sa, old_int, old_term, old_hup;
    struct stat sb;
    ev_err e;
    int rc;

    err_clear(&e);
    if ((rc = seal_get(v, id, &si, &e)) != 0 ||
        (rc = identity_get_public(v, &pub, &e)) != 0)
        return cli_fail(&e);
    if (lstat(dir, &sb) == 0) {
        cli_error("cannot create the directory '%s': it exists (give a new "
                  "directory name)",
                  dir);
        seal_info_clear(&si);
        return EXIT_ERROR;
    }
    {
        char *d = strdup(dir), *b = strdup(dir);
        int n = d && b ? snprintf(tmp, sizeof tmp,
                                  "%s/.%s.evault-partial-XXXXXX", dirname(d),
                                  basename(b))
                       : -1;
        free(d);
        free(b);
        if (n < 0 || (size_t)n >= sizeof tmp || !mkdtemp(tmp)) {
            cli_error("cannot create a directory beside '%s': %s", dir,
                      strerror(errno));
            seal_info_clear(&si);
            return EXIT_ERROR;
        }
    }
    export_stop = 0;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = export_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    snprintf(path, sizeof path, "%s/evidence", tmp);
    if (mkdir(path, 0700) != 0) {
        cli_error("cannot create '%s': %s", path, strerror(errno));
        rc = EXIT_ERROR;
    }
    snprintf(path, sizeof path, "%s/record.json", tmp);
    if (rc == 0)
        rc = write_new(path, si.record, si.record_len, 0600);
    snprintf(path, sizeof path, "%s/record.json.minisig", tmp);
    if (rc == 0)
        rc = write_new(path, si.signature, strlen(si.signature), 0644);
    if (msig_pubkey_parse(&pk, pub.minisign_pubkey,
                          strlen(pub.minisign_pubkey)) != 0)
        rc = EXIT_ERROR;
    msig_pubkey_file(pubtext, &pk);
    snprintf(path, sizeof path, "%s/minisign.pub", tmp);
    if (rc == 0)
        rc = write_new(path, pubtext, strlen(pubtext), 0644);
    if (rc == 0 &&
        sqlite3_prepare_v2(vault_db(v),
                           "SELECT evidence_id FROM evidence_link l JOIN "
                           "evidence ev ON ev.id = l.evidence_id WHERE "
                           "l.incident_id = ?1 ORDER BY ev.uuid",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        while (rc == 0 && !export_stop && sqlite3_step(st) == SQLITE_ROW)
            rc = export_evidence(&x, sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
    snprintf(path, sizeof path, "%s/SHA256SUMS", tmp);
    if (rc == 0 && !export_stop)
        rc = write_new(path, x.sums ? x.sums : "", x.sums_len, 0644);
    free(x.sums);
    if (rc == 0 && export_stop) {
        cli_error("interrupted: nothing was exported");
        rc = EXIT_ERROR;
    }
    if (rc == 0 && publish_dir(tmp, dir) != 0) {
        cli_error("cannot create the directory '%s': %s%s", dir,
                  strerror(errno),
                  errno == EEXIST || errno == ENOTEMPTY
                      ? " (give a new directory name)"
                      : "");
        rc = EXIT_ERROR;
    }
    if (rc != 0)
        remove_tree(tmp);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (rc == 0) {
        snprintf(detail, sizeof detail, "seal %s exported to a directory",
                 si.uuid);
        if (custody_record(v, "export", "incident", si.incident_uuid, detail,
                           &e) != 0)
            rc = cli_fail(&e);
    }
    seal_info_clear(&si);
    if (rc == 0 && !g_cli.json)
        fprintf(stderr,
                "evault: check it with: cd '%s' && minisign -Vm record.json "
                "-p minisign.pub && sha256sum -c SHA256SUMS\n",
                dir);
    return rc;
}

static int cmd_seal(int argc, char **argv)
{
    static const struct option opts[] = {
        {"export", no_argument, NULL, 'x'},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    int export = 0, c, rc;
    int64_t id = 0;
    vault *v = NULL;
    char uuid[REC_UUIDLEN + 1];
    ev_err e;

    while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
        if (c == 'x')
            export = 1;
        else if (c == 'o')
            out = optarg;
        else
            return cli_usage("seal", 0);
    }
    if (g_cli.help)
        return cli_usage("seal", 1);
    if (optind + 1 != argc || (export && !out) || (!export && out))
        return cli_usage("seal", 0);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    rc = rec_resolve(vault_db(v), "incident", argv[optind], &id, &e);
    if (rc != 0) {
        vault_close(v);
        return cli_fail(&e);
    }
    if (export) {
        rc = seal_export(v, id, out);
        vault_close(v);
        return rc;
    }
    rc = seal_incident(v, id, uuid, &e);
    vault_close(v);
    if (rc != 0)
        return cli_fail(&e);
    puts(uuid);
    return EXIT_OK;
}

/* ---- verify --------------------------------------------------------------- */

typedef struct verify_all {
    vault_check_result c;
    report r;
    uint64_t files, bytes, files_bad, seals, seals_bad, entries, entries_bad;
    uint64_t received, received_bad; /* seals received in bundles */
} verify_all;

static void verify_json(const verify_all *a, int ok)
{
    json_doc *d = json_new(0), *fails = json_new(1);
    if (!d || !fails) {
        json_free(d);
        json_free(fails);
        return;
    }
    json_bool(d, "$.ok", ok);
    json_int(d, "$.pages.checked", (int64_t)a->c.pages);
    json_int(d, "$.pages.failed", (int64_t)a->c.bad_pages);
    if (a->c.first_bad_page)
        json_int(d, "$.pages.first_failed", a->c.first_bad_page);
    json_bool(d, "$.integrity_check.ok", a->c.integrity_ok);
    if (!a->c.integrity_ok)
        json_str(d, "$.integrity_check.message", a->c.integrity_msg);
    json_bool(d, "$.keyslots.ok", a->c.keyslots_ok);
    if (!a->c.keyslots_ok)
        json_str(d, "$.keyslots.message", a->c.keyslot_msg);
    json_int(d, "$.evidence.checked", (int64_t)a->files);
    json_int(d, "$.evidence.bytes", (int64_t)a->bytes);
    json_int(d, "$.evidence.failed", (int64_t)a->files_bad);
    json_int(d, "$.seals.checked", (int64_t)a->seals);
    json_int(d, "$.seals.failed", (int64_t)a->seals_bad);
    json_int(d, "$.received_seals.checked", (int64_t)a->received);
    json_int(d, "$.received_seals.failed", (int64_t)a->received_bad);
    json_int(d, "$.custody_log.checked", (int64_t)a->entries);
    json_int(d, "$.custody_log.failed", (int64_t)a->entries_bad);
    for (size_t i = 0; i < a->r.n; i++)
        json_str(fails, "$[#]", a->r.items[i]);
    json_doc_set(d, "$.failures", fails);
    json_print(d);
    json_free(fails);
    json_free(d);
}

/* Everything stored, checked inside vault_check_ex's read transaction:
 * evidence first (it reads nearly every page, once), then seals and the
 * custody log. */
static int verify_content(vault *v, void *arg, ev_err *e)
{
    verify_all *a = arg;
    int rc = store_verify_all(v, &a->r, cli_progress, "re-hashing evidence",
                              &a->files, &a->bytes, &a->files_bad, e);
    cli_progress_done();
    if (rc == 0)
        rc = seal_verify_all(v, &a->r, &a->seals, &a->seals_bad, e);
    if (rc == 0)
        rc = receive_verify_seals(v, &a->r, &a->received, &a->received_bad,
                                  e);
    if (rc == 0)
        rc = custody_verify(v, &a->r, &a->entries, &a->entries_bad, e);
    return rc;
}

static int cmd_verify(int argc, char **argv)
{
    verify_all a;
    vault *v = NULL;
    ev_err e;
    int c, rc, ok;

    while ((c = cli_getopt(argc, argv, "", NULL)) != -1)
        return cli_usage("verify", 0);
    if (g_cli.help)
        return cli_usage("verify", 1);
    if (optind != argc)
        return cli_usage("verify", 0);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    memset(&a, 0, sizeof a);
    err_clear(&e);
    {
        vault_check_opts o = {cli_progress, "verifying pages", verify_content,
                              &a, "chunk"};
        rc = vault_check_ex(v, &a.c, &o, &e);
    }
    cli_progress_done();
    vault_close(v);
    if (rc != 0) {
        report_clear(&a.r);
        return cli_fail(&e);
    }
    ok = a.c.bad_pages == 0 && a.c.integrity_ok && a.c.keyslots_ok &&
         a.files_bad == 0 && a.seals_bad == 0 && a.entries_bad == 0 &&
         a.received_bad == 0 && a.r.n == 0 && !a.r.oom;
    if (g_cli.json) {
        verify_json(&a, ok);
    } else {
        printf("pages:           %llu read, %llu failed authentication\n",
               (unsigned long long)a.c.pages,
               (unsigned long long)a.c.bad_pages);
        printf("integrity_check: %s\n",
               a.c.integrity_ok ? "ok" : a.c.integrity_msg);
        printf("keyslots:        %s\n",
               a.c.keyslots_ok ? "as last written by evault" : a.c.keyslot_msg);
        printf("evidence:        %llu files (%llu bytes) re-hashed, %llu "
               "failed\n",
               (unsigned long long)a.files, (unsigned long long)a.bytes,
               (unsigned long long)a.files_bad);
        printf("seals:           %llu checked, %llu failed\n",
               (unsigned long long)a.seals, (unsigned long long)a.seals_bad);
        if (a.received)
            printf("received seals:  %llu checked, %llu failed\n",
                   (unsigned long long)a.received,
                   (unsigned long long)a.received_bad);
        printf("custody log:     %llu entries checked, %llu failed\n",
               (unsigned long long)a.entries,
               (unsigned long long)a.entries_bad);
        printf("verify:          %s\n", ok ? "ok" : "FAILED");
    }
    if (!ok) {
        if (a.c.bad_pages)
            cli_error("page %u of the vault failed authentication (%llu of "
                      "%llu pages failed): the vault is damaged or was "
                      "tampered with",
                      (unsigned)a.c.first_bad_page,
                      (unsigned long long)a.c.bad_pages,
                      (unsigned long long)a.c.pages);
        if (!a.c.integrity_ok)
            cli_error("integrity_check failed: %s", a.c.integrity_msg);
        if (!a.c.keyslots_ok)
            cli_error("%s", a.c.keyslot_msg);
        for (size_t i = 0; i < a.r.n; i++)
            cli_error("%s", a.r.items[i]);
        report_clear(&a.r);
        return EXIT_INTEGRITY;
    }
    report_clear(&a.r);
    return EXIT_OK;
}

const struct command integrity_commands[] = {
    {"identity", cmd_identity, "show the vault's keys; write a partner card",
     "usage: evault [-f FILE] identity [--card FILE] [--minisign-pubkey FILE]"
     " [--json]\n"
     "\n"
     "Show the vault's name, id, minisign public key, age recipient and\n"
     "fingerprint (eight groups of five digits to compare by phone).\n"
     "  --card FILE             write a partner card, signed by the vault\n"
     "  --minisign-pubkey FILE  write the public key in minisign's .pub\n"
     "                          format (minisign -V -p FILE accepts it)\n"
     "Neither file may exist already.\n"},
    {"log", cmd_log, "show the custody log",
     "usage: evault [-f FILE] log [--object ID] [--since T] [--json]\n"
     "\n"
     "The custody log: every action that created, changed, attached,\n"
     "extracted, sealed, exported, imported or removed something, oldest\n"
     "first, each entry hash-chained and signed by the vault identity.\n"
     "  --object ID   only entries about this UUID or vault id (or a prefix\n"
     "                of at least 4 characters)\n"
     "  --since T     only entries at or after T (YYYY-MM-DD or\n"
     "                YYYY-MM-DDTHH:MM:SSZ, UTC)\n"},
    {"seal", cmd_seal, "seal an incident, or export a sealed record",
     "usage: evault [-f FILE] seal INCIDENT\n"
     "       evault [-f FILE] seal --export INCIDENT -o DIR\n"
     "\n"
     "Seal an incident: its canonical record (the incident, its actors,\n"
     "involvements, sources and the SHA-256 of every evidence file) is\n"
     "hashed and signed by the vault identity, and from then on the\n"
     "incident and everything the seal covers cannot change; use\n"
     "'evault incident amend' to make a new version. Prints the seal's id.\n"
     "\n"
     "--export writes into the new directory DIR: record.json (the signed\n"
     "record), record.json.minisig, minisign.pub, evidence/ (the files)\n"
     "and SHA256SUMS, checkable without evault:\n"
     "  minisign -Vm record.json -p minisign.pub && sha256sum -c SHA256SUMS\n"},
    {"verify", cmd_verify, "check pages, database, evidence, seals and log",
     "usage: evault [-f FILE] verify [--json]\n"
     "\n"
     "Check everything and say what was checked: read and authenticate\n"
     "every page, run SQLite's integrity_check, check the keyslots against\n"
     "the vault's own record of them, re-hash every evidence file, check\n"
     "every seal's hash and signature and that nothing it covers changed,\n"
     "and check the custody log's hash chain and every signature. Exit 0\n"
     "when all holds, 4 naming each failing object otherwise.\n"},
    {NULL, NULL, NULL, NULL},
};
