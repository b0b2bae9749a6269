/*
 * cmd_bundle: `evault export`, handover bundles for partners
 * (vault/bundle.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../vault/bundle.h"
#include "../vault/rec.h"
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
    {NULL, NULL, NULL, NULL},
};
