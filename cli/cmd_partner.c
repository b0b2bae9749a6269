/*
 * cmd_partner: `evault partner add|list|remove`, the partners bundles go to
 * and come from (vault/partner.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../vault/partner.h"
#include "cli.h"
#include "json.h"

/* Read a small regular file (a card or a key) of at most max bytes.
 * OUT: buf (max + 1 bytes, NUL-terminated), *len. */
static int read_small(const char *path, char *buf, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat sb;
    ssize_t r = 0;
    size_t n = 0;

    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        cli_error("cannot read '%s': %s", path,
                  fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return EXIT_ERROR;
    }
    while (n <= max && ((r = read(fd, buf + n, max + 1 - n)) > 0 ||
                        (r < 0 && errno == EINTR)))
        n += r > 0 ? (size_t)r : 0;
    close(fd);
    if (r < 0 || n > max) {
        cli_error(r < 0 ? "cannot read '%s'" : "'%s' is too large for a "
                                               "card or key",
                  path);
        return EXIT_ERROR;
    }
    buf[n] = '\0';
    *len = n;
    return 0;
}

static void print_partner(const partner *p)
{
    fputs("name:                ", stdout);
    cli_put_clean(stdout, p->name);
    printf("\nvault id:            %s\n", p->vault_id[0] ? p->vault_id
                                                        : "(not an evault "
                                                          "card)");
    printf("minisign public key: %s\n", p->minisign_key);
    printf("age recipient:       %s\n", p->age_recipient);
    printf("fingerprint:         %s\n", p->fingerprint);
    printf("added:               %s from %s\n", p->added, p->origin);
}

static int partner_add_cmd(const char *name, const char *card,
                           const char *recipient, const char *mkey, int yes)
{
    identity_card_info info;
    char buf[IDENTITY_CARD_MAX + 1];
    size_t len = 0;
    vault *v = NULL;
    partner p;
    ev_err e;
    int rc;

    memset(&info, 0, sizeof info);
    err_clear(&e);
    if (partner_name_check(name, &e) != 0)
        return cli_fail(&e);
    if (card) {
        if ((rc = read_small(card, buf, IDENTITY_CARD_MAX, &len)) != 0)
            return rc;
        if (identity_card_parse(&info, buf, len, &e) != 0)
            return cli_fail(&e);
    } else {
        const char *key = mkey;
        size_t klen = strlen(mkey);
        if (strlen(mkey) != MSIG_PUBKEY_B64LEN) { /* a .pub file */
            if ((rc = read_small(mkey, buf, IDENTITY_CARD_MAX, &len)) != 0)
                return rc;
            key = buf;
            klen = len;
        }
        if (partner_parse_minisign(&info.sign, key, klen, &e) != 0)
            return cli_fail(&e);
        if (bech32_age_parse_recipient(info.box_pk, recipient,
                                       strlen(recipient)) != 0) {
            cli_error("'%s' is not an age recipient: give the 'age1...' "
                      "line that 'age-keygen' prints as the public key",
                      recipient);
            return EXIT_ERROR;
        }
    }
    identity_fingerprint(info.fingerprint, info.sign.pk, info.box_pk);
    if (!yes) {
        char q[400];
        if (!cli_has_tty()) {
            cli_error("refusing to add partner '%s' without --yes when not "
                      "on a terminal: compare the fingerprint %s with them "
                      "first",
                      name, info.fingerprint);
            return EXIT_USAGE;
        }
        fprintf(stderr, "evault: partner '%s'%s%s\n  fingerprint %s\n", name,
                card ? ", card of " : "", card ? info.name : "",
                info.fingerprint);
        snprintf(q, sizeof q,
                 "Is this the fingerprint your partner reads to you (by "
                 "phone or in person)?");
        if (!cli_confirm(q)) {
            cli_error("partner not added");
            return EXIT_ERROR;
        }
    }
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    rc = partner_add(v, name, &info, card != NULL, &p, &e);
    vault_close(v);
    if (rc != 0)
        return cli_fail(&e);
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_str(d, "$.name", p.name);
        json_str(d, "$.uuid", p.uuid);
        json_str(d, "$.fingerprint", p.fingerprint);
        json_print(d);
        json_free(d);
    } else {
        print_partner(&p);
    }
    return EXIT_OK;
}

static int cmd_partner(int argc, char **argv)
{
    static const struct option opts[] = {
        {"card", required_argument, NULL, 'c'},
        {"age-recipient", required_argument, NULL, 'r'},
        {"minisign-key", required_argument, NULL, 'm'},
        {"yes", no_argument, NULL, 'y'},
        {NULL, 0, NULL, 0},
    };
    const char *card = NULL, *recipient = NULL, *mkey = NULL, *sub;
    int yes = 0, c, rc;
    vault *v = NULL;
    char *json = NULL;
    ev_err e;

    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        if (c == 'c')
            card = optarg;
        else if (c == 'r')
            recipient = optarg;
        else if (c == 'm')
            mkey = optarg;
        else if (c == 'y')
            yes = 1;
        else
            return cli_usage("partner", 0);
    }
    if (g_cli.help)
        return cli_usage("partner", 1);
    if (optind >= argc)
        return cli_usage("partner", 0);
    sub = argv[optind];
    err_clear(&e);
    if (strcmp(sub, "add") == 0) {
        if (optind + 2 != argc ||
            (card ? (recipient || mkey) : !(recipient && mkey))) {
            cli_error("give 'partner add NAME --card FILE', or 'partner add "
                      "NAME --age-recipient age1... --minisign-key KEY'");
            return EXIT_USAGE;
        }
        return partner_add_cmd(argv[optind + 1], card, recipient, mkey, yes);
    }
    if (card || recipient || mkey || yes) {
        cli_error("these options are for 'partner add'");
        return EXIT_USAGE;
    }
    if (strcmp(sub, "list") == 0 && optind + 1 == argc) {
        if ((rc = cli_open_vault(&v)) != 0)
            return rc;
        rc = partner_list(v, &json, &e);
        if (rc != 0) {
            vault_close(v);
            return cli_fail(&e);
        }
        if (g_cli.json) {
            puts(json);
        } else {
            sqlite3_stmt *st = NULL;
            int n = 0;
            if (sqlite3_prepare_v2(vault_db(v),
                                   "SELECT json_extract(value, '$.name'), "
                                   "json_extract(value, '$.fingerprint'), "
                                   "json_extract(value, '$.origin') FROM "
                                   "json_each(?1, '$.partners')",
                                   -1, &st, NULL) == SQLITE_OK) {
                sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
                while (sqlite3_step(st) == SQLITE_ROW) {
                    if (n++ == 0)
                        printf("%-47s  %-5s  %s\n", "FINGERPRINT", "FROM",
                               "NAME");
                    printf("%-47s  %-5s  ", sqlite3_column_text(st, 1),
                           sqlite3_column_text(st, 2));
                    cli_put_clean(stdout,
                                  (const char *)sqlite3_column_text(st, 0));
                    putchar('\n');
                }
            }
            sqlite3_finalize(st);
            if (n == 0)
                printf("no partners: see 'evault partner add'\n");
        }
        free(json);
        vault_close(v);
        return EXIT_OK;
    }
    if (strcmp(sub, "remove") == 0 && optind + 2 == argc) {
        if ((rc = cli_open_vault(&v)) != 0)
            return rc;
        rc = partner_remove(v, argv[optind + 1], &e);
        vault_close(v);
        if (rc != 0)
            return cli_fail(&e);
        fprintf(stderr, "evault: partner '%s' removed\n", argv[optind + 1]);
        return EXIT_OK;
    }
    return cli_usage("partner", 0);
}

const struct command partner_commands[] = {
    {"partner", cmd_partner, "add, list or remove partners",
     "usage: evault [-f FILE] partner add NAME --card FILE [--yes]\n"
     "       evault [-f FILE] partner add NAME --age-recipient age1... "
     "--minisign-key KEY [--yes]\n"
     "       evault [-f FILE] partner list [--json]\n"
     "       evault [-f FILE] partner remove NAME\n"
     "\n"
     "A partner is who bundles go to and come from. 'add --card' reads a\n"
     "partner card ('evault identity --card' on their side), checks its\n"
     "signature and shows its fingerprint; for partners who use the\n"
     "standard tools, give the age recipient 'age-keygen' printed and the\n"
     "minisign public key (the key line, or the .pub file 'minisign -G'\n"
     "wrote). On a terminal evault asks you to confirm the fingerprint,\n"
     "which you compare with your partner by phone or in person; --yes\n"
     "skips the question (needed without a terminal). Adding and removing\n"
     "are recorded in the custody log.\n"},
    {NULL, NULL, NULL, NULL},
};
