/*
 * cmd_bundle: `evault export` and `evault import-bundle`, handover bundles
 * for and from partners (vault/bundle.h, vault/receive.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vault/bundle.h"
#include "../vault/rec.h"
#include "../vault/receive.h"
#include "cli.h"
#include "json.h"

#define MAXLIST 256

static int cmd_export(int argc, char **argv)
{
    enum { O_TO = 0x100, O_TOPASS, O_PASSFILE, O_INC, O_TAG, O_SINCE,
           O_UNTIL, O_QUERY, O_ALL, O_REDACT };
    static const struct option opts[] = {
        {"to", required_argument, NULL, O_TO},
        {"to-passphrase", no_argument, NULL, O_TOPASS},
        {"bundle-passphrase-file", required_argument, NULL, O_PASSFILE},
        {"incident", required_argument, NULL, O_INC},
        {"tag", required_argument, NULL, O_TAG},
        {"since", required_argument, NULL, O_SINCE},
        {"until", required_argument, NULL, O_UNTIL},
        {"query", required_argument, NULL, O_QUERY},
        {"all", no_argument, NULL, O_ALL},
        {"redact", no_argument, NULL, O_REDACT},
        {"output", required_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    const char *to[MAXLIST], *refs[MAXLIST], *passfile = NULL;
    int64_t ids[MAXLIST];
    size_t nto = 0, nrefs = 0;
    int topass = 0, c, rc;
    bundle_export_opts o;
    bundle_export_result res;
    secret pass = {NULL, 0};
    vault *v = NULL;
    ev_err e;

    memset(&o, 0, sizeof o);
    while ((c = cli_getopt(argc, argv, "o:", opts)) != -1) {
        switch (c) {
        case O_TO:
            if (nto == MAXLIST)
                return cli_usage("export", 0);
            to[nto++] = optarg;
            break;
        case O_TOPASS: topass = 1; break;
        case O_PASSFILE: passfile = optarg; break;
        case O_INC:
            if (nrefs == MAXLIST)
                return cli_usage("export", 0);
            refs[nrefs++] = optarg;
            break;
        case O_TAG: o.tag = optarg; break;
        case O_SINCE: o.since = optarg; break;
        case O_UNTIL: o.until = optarg; break;
        case O_QUERY: o.query = optarg; break;
        case O_ALL: o.all = 1; break;
        case O_REDACT: o.redact = 1; break;
        case 'o': o.out_path = optarg; break;
        default: return cli_usage("export", 0);
        }
    }
    if (g_cli.help)
        return cli_usage("export", 1);
    if (optind != argc || !o.out_path || (nto > 0) == (topass != 0) ||
        (passfile && !topass) ||
        (!nrefs && !o.tag && !o.since && !o.until && !o.query && !o.all)) {
        cli_error("give -o FILE, the recipients (--to PARTNER... or "
                  "--to-passphrase) and what to export (--incident, --tag, "
                  "--since/--until, --query or --all)");
        return EXIT_USAGE;
    }
    if ((o.since != NULL) != (o.until != NULL)) {
        cli_error("give --since and --until together");
        return EXIT_USAGE;
    }
    err_clear(&e);
    if (o.since) {
        const char *prec;
        if (rec_date_check("--since", o.since, NULL, &prec, &e) ||
            rec_date_check("--until", o.until, NULL, &prec, &e))
            return cli_fail(&e);
    }
    if (topass) {
        /* the bundle's own passphrase, never the vault's sources */
        const char *saved = g_cli.new_pass_file;
        g_cli.new_pass_file = passfile;
        rc = cli_read_new_secret(&pass, 0);
        g_cli.new_pass_file = saved;
        if (rc != 0)
            return rc;
        if (memchr(pass.buf, '\0', pass.len)) {
            cli_error("the bundle passphrase holds a NUL byte: use text");
            secret_free(&pass);
            return EXIT_ERROR;
        }
        o.passphrase = pass.buf;
        o.passphrase_len = pass.len;
    }
    o.partners = to;
    o.npartners = nto;
    o.progress = cli_progress;
    o.progress_arg = "exporting";
    if ((rc = cli_open_vault(&v)) != 0) {
        secret_free(&pass);
        return rc;
    }
    for (size_t i = 0; i < nrefs; i++)
        if (rec_resolve(vault_db(v), "incident", refs[i], &ids[i], &e) != 0) {
            vault_close(v);
            secret_free(&pass);
            return cli_fail(&e);
        }
    o.incidents = ids;
    o.nincidents = nrefs;
    rc = bundle_export(v, &o, &res, &e);
    cli_progress_done();
    vault_close(v);
    secret_free(&pass);
    if (rc != 0)
        return cli_fail(&e);
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_str(d, "$.bundle", res.uuid);
        json_str(d, "$.file", o.out_path);
        json_int(d, "$.incidents", (int64_t)res.incidents);
        json_int(d, "$.actors", (int64_t)res.actors);
        json_int(d, "$.sources", (int64_t)res.sources);
        json_int(d, "$.evidence", (int64_t)res.evidence);
        json_int(d, "$.seals", (int64_t)res.seals);
        json_int(d, "$.custody_entries", (int64_t)res.log_entries);
        json_int(d, "$.payload_bytes", (int64_t)res.payload_bytes);
        json_int(d, "$.bundle_bytes", (int64_t)res.bundle_bytes);
        json_bool(d, "$.redacted", o.redact);
        json_print(d);
        json_free(d);
    } else {
        puts(res.uuid);
        fprintf(stderr,
                "evault: wrote '%s' (%llu bytes) and '%s.minisig': %llu "
                "incidents, %llu actors, %llu sources, %llu evidence files, "
                "%llu seals%s\n",
                o.out_path, (unsigned long long)res.bundle_bytes, o.out_path,
                (unsigned long long)res.incidents,
                (unsigned long long)res.actors,
                (unsigned long long)res.sources,
                (unsigned long long)res.evidence,
                (unsigned long long)res.seals, o.redact ? ", redacted" : "");
    }
    return EXIT_OK;
}

/* The findings about a refused bag, the first 100 of them. */
static void print_findings(const report *r)
{
    for (size_t i = 0; i < r->n && i < 100; i++)
        cli_error("  %s", r->items[i]);
    if (r->n > 100)
        cli_error("  ... and %zu more", r->n - 100);
}

static int cmd_import_bundle(int argc, char **argv)
{
    enum { O_FROM = 0x100, O_NOSIG, O_PASSFILE };
    static const struct option opts[] = {
        {"from", required_argument, NULL, O_FROM},
        {"no-signature", no_argument, NULL, O_NOSIG},
        {"bundle-passphrase-file", required_argument, NULL, O_PASSFILE},
        {NULL, 0, NULL, 0},
    };
    const char *passfile = NULL;
    receive_opts o;
    receive_result res;
    secret pass = {NULL, 0};
    report r = {0};
    vault *v = NULL;
    ev_err e;
    int c, rc;

    memset(&o, 0, sizeof o);
    while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
        switch (c) {
        case O_FROM: o.partner = optarg; break;
        case O_NOSIG: o.no_signature = 1; break;
        case O_PASSFILE: passfile = optarg; break;
        default: return cli_usage("import-bundle", 0);
        }
    }
    if (g_cli.help)
        return cli_usage("import-bundle", 1);
    if (optind + 1 != argc || !o.partner) {
        cli_error("give the bundle FILE and --from PARTNER (the sender, as "
                  "in 'evault partner list')");
        return EXIT_USAGE;
    }
    o.path = argv[optind];
    if (passfile) {
        /* the bundle's own passphrase, never the vault's sources */
        const char *saved = g_cli.new_pass_file;
        g_cli.new_pass_file = passfile;
        rc = cli_read_new_secret(&pass, 0);
        g_cli.new_pass_file = saved;
        if (rc != 0)
            return rc;
        o.passphrase = pass.buf;
        o.passphrase_len = pass.len;
    }
    o.progress = cli_progress;
    o.progress_arg = "importing";
    if ((rc = cli_open_vault(&v)) != 0) {
        secret_free(&pass);
        return rc;
    }
    err_clear(&e);
    rc = receive_bundle(v, &o, &res, &r, &e);
    cli_progress_done();
    vault_close(v);
    secret_free(&pass);
    if (rc != 0) {
        rc = cli_fail(&e);
        if (r.n > 1)
            print_findings(&r);
        if (e.code == EV_ERR_INTEGRITY)
            cli_error("the bundle was refused: nothing was imported");
        report_clear(&r);
        return rc;
    }
    report_clear(&r);
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_str(d, "$.bundle", res.uuid);
        json_str(d, "$.partner", o.partner);
        json_str(d, "$.sender_vault_id", res.sender_vault_id);
        json_str(d, "$.sender_name", res.sender_name);
        json_bool(d, "$.already_imported", res.already);
        json_str(d, "$.received", res.received);
        json_bool(d, "$.signature_checked", res.signature_checked);
        json_int(d, "$.incidents", (int64_t)res.incidents);
        json_int(d, "$.actors", (int64_t)res.actors);
        json_int(d, "$.sources", (int64_t)res.sources);
        json_int(d, "$.evidence", (int64_t)res.evidence);
        json_int(d, "$.new_contents", (int64_t)res.new_contents);
        json_int(d, "$.seals", (int64_t)res.seals);
        json_int(d, "$.already_present", (int64_t)res.present);
        json_int(d, "$.ignored_files", (int64_t)res.ignored);
        json_int(d, "$.bundle_bytes", (int64_t)res.bytes);
        json_print(d);
        json_free(d);
        return EXIT_OK;
    }
    puts(res.uuid);
    if (res.already) {
        fprintf(stderr, "evault: bundle %s was already imported on %s: "
                "nothing changed\n", res.uuid, res.received);
        return EXIT_OK;
    }
    fprintf(stderr,
            "evault: imported bundle %s from '%s': %llu incidents, %llu "
            "actors, %llu sources, %llu evidence files (%llu new contents), "
            "%llu seals; %llu records were here already\n",
            res.uuid, o.partner, (unsigned long long)res.incidents,
            (unsigned long long)res.actors, (unsigned long long)res.sources,
            (unsigned long long)res.evidence,
            (unsigned long long)res.new_contents,
            (unsigned long long)res.seals, (unsigned long long)res.present);
    if (res.ignored)
        fprintf(stderr, "evault: %llu payload file(s) that no record refers "
                "to were checked but not imported\n",
                (unsigned long long)res.ignored);
    if (!res.signature_checked)
        fprintf(stderr, "evault: warning: the signatures were NOT checked "
                "(--no-signature); the log says so\n");
    return EXIT_OK;
}

const struct command bundle_commands[] = {
    {"export", cmd_export, "write a signed, encrypted bundle for partners",
     "usage: evault [-f FILE] export (--to PARTNER... | --to-passphrase\n"
     "                 [--bundle-passphrase-file F]) WHAT [--redact] -o FILE\n"
     "  WHAT: --incident ID... | --tag T | --since D --until D |\n"
     "        --query Q | --all (several are joined)\n"
     "\n"
     "Write FILE, an age v1 file encrypted to the partners' age keys (or\n"
     "to a passphrase, asked twice on the terminal or read from F; never\n"
     "the vault's), holding a tar of one BagIt bag: records.json,\n"
     "records.csv, the evidence files, the custody entries and seals of\n"
     "what is exported, manifests and a signed tag manifest; and\n"
     "FILE.minisig, the vault identity's minisign signature of FILE.\n"
     "--redact leaves out confidential actors and sources, sources without\n"
     "consent (consent 'anonymised': a pseudonym instead of the title),\n"
     "seals that cover them, and confidential incidents unless named with\n"
     "--incident. Contact details are never exported. Prints the bundle id.\n"
     "A partner checks it with minisign, age, tar and sha256sum alone (see\n"
     "README.txt inside). Logged.\n"},
    {"import-bundle", cmd_import_bundle, "check and import a partner's bundle",
     "usage: evault [-f FILE] import-bundle BUNDLE --from PARTNER\n"
     "                 [--no-signature] [--bundle-passphrase-file F]\n"
     "\n"
     "Check BUNDLE.minisig against PARTNER's key before decrypting anything,\n"
     "decrypt BUNDLE (to this vault's identity, or with the passphrase in\n"
     "F), read the bag in it entry by entry (only regular files and\n"
     "directories at safe relative paths, sizes against Payload-Oxum, every\n"
     "SHA-256 against the manifests, the tag manifest signed by PARTNER)\n"
     "and import its records, evidence and the sender's seals in one\n"
     "transaction, with the bundle as their provenance. Any problem: exit 4,\n"
     "nothing imported. A bundle imported before changes nothing. Records\n"
     "already in the vault (same UUID) are kept as they are.\n"
     "--no-signature imports a bundle without (or with a bad) signature;\n"
     "the custody log records that. Prints the bundle id.\n"},
    {NULL, NULL, NULL, NULL},
};
