/*
 * cmd_bag: `evault bag check DIR`, RFC 8493 validation of an extracted
 * BagIt bag (vault/bag.c does the work). Needs no vault: the bag is checked
 * on its own, e.g. an archived handover bundle on air-gapped storage.
 */
#include <stdio.h>
#include <string.h>

#include "../vault/bag.h"
#include "../vault/report.h"
#include "cli.h"
#include "json.h"

static void check_json(const bag_check_result *res, const report *r)
{
    json_doc *d = json_new(0), *fails = json_new(1), *mans = json_new(1);

    if (d && fails && mans) {
        json_bool(d, "$.valid", res->valid);
        json_int(d, "$.files", (int64_t)res->files);
        json_int(d, "$.bytes", (int64_t)res->bytes);
        for (unsigned i = 0; i < res->manifests + res->tagmanifests; i++)
            json_str(mans, "$[#]", res->manifest_names[i]);
        json_doc_set(d, "$.manifests", mans);
        for (size_t i = 0; i < r->n; i++)
            json_str(fails, "$[#]", r->items[i]);
        if (r->oom)
            json_str(fails, "$[#]", "some findings were lost for want of "
                                    "memory");
        json_doc_set(d, "$.failures", fails);
        json_print(d);
    }
    json_free(mans);
    json_free(fails);
    json_free(d);
}

static int bag_check_cmd(const char *dir)
{
    bag_check_result res;
    report r = {NULL, 0, 0, 0};
    ev_err e;
    int rc;

    err_clear(&e);
    rc = bag_check(dir, &res, &r, cli_progress, "checking the bag", &e);
    cli_progress_done();
    if (rc != 0) {
        report_clear(&r);
        return cli_fail(&e);
    }
    if (g_cli.json) {
        check_json(&res, &r);
    } else {
        fputs("bag:       ", stdout);
        cli_put_clean(stdout, dir);
        printf("\npayload:   %llu files, %llu bytes\n",
               (unsigned long long)res.files, (unsigned long long)res.bytes);
        printf("tag files: %llu\n", (unsigned long long)res.tagfiles);
        fputs("manifests:", stdout);
        for (unsigned i = 0; i < res.manifests + res.tagmanifests; i++)
            printf("%s %s", i ? "," : "", res.manifest_names[i]);
        printf("%s\n", res.manifests + res.tagmanifests ? "" : " none");
        printf("hashed:    %llu bytes\n",
               (unsigned long long)res.hashed_bytes);
        if (res.valid)
            puts("bag: valid");
        else
            printf("bag: INVALID (%zu finding%s)\n", r.n, r.n == 1 ? "" : "s");
    }
    if (!res.valid) {
        for (size_t i = 0; i < r.n; i++)
            cli_error("%s", r.items[i]);
        if (r.oom)
            cli_error("some findings were lost for want of memory");
    }
    rc = res.valid ? EXIT_OK : EXIT_INTEGRITY;
    report_clear(&r);
    bag_check_result_clear(&res);
    return rc;
}

static int cmd_bag(int argc, char **argv)
{
    const char *sub;
    int c;

    while ((c = cli_getopt(argc, argv, "", NULL)) != -1)
        return cli_usage("bag", 0);
    if (g_cli.help)
        return cli_usage("bag", 1);
    if (optind >= argc)
        return cli_usage("bag", 0);
    sub = argv[optind++];
    if (strcmp(sub, "check") != 0) {
        cli_error("no bag command '%s': use check", sub);
        return EXIT_USAGE;
    }
    if (optind + 1 != argc)
        return cli_usage("bag", 0);
    return bag_check_cmd(argv[optind]);
}

const struct command bag_commands[] = {
    {"bag", cmd_bag, "check a BagIt bag (RFC 8493); needs no vault",
     "usage: evault bag check DIR [--json]\n"
     "\n"
     "Check the BagIt 1.0 bag (RFC 8493) in the directory DIR, e.g. an\n"
     "extracted handover bundle: bagit.txt, bag-info.txt (Payload-Oxum),\n"
     "that manifest-sha256.txt lists every file under data/ and nothing\n"
     "else, every SHA-256 (and SHA-512, when there is such a manifest),\n"
     "the tag manifests, and that the bag holds only regular files and\n"
     "directories with safe names (no symbolic links, devices, FIFOs,\n"
     "'..' or absolute paths, no names differing only by case). Opens no\n"
     "vault. Exit 0 when the bag is valid, 4 naming each problem on\n"
     "standard error otherwise, 1 when DIR cannot be read.\n"},
    {NULL, NULL, NULL, NULL},
};
