/* cmd_verify: `evault verify`, full check of the container. */
#include <stdio.h>

#include "cli.h"
#include "json.h"

int cmd_verify(int argc, char **argv)
{
    vault_check_result r;
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
    err_clear(&e);
    rc = vault_check(v, &r, cli_progress, "verifying pages", &e);
    cli_progress_done();
    vault_close(v);
    if (rc != 0)
        return cli_fail(&e);
    ok = r.bad_pages == 0 && r.integrity_ok && r.keyslots_ok;
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_bool(d, "$.ok", ok);
        json_int(d, "$.pages.checked", (int64_t)r.pages);
        json_int(d, "$.pages.failed", (int64_t)r.bad_pages);
        if (r.first_bad_page)
            json_int(d, "$.pages.first_failed", r.first_bad_page);
        json_bool(d, "$.integrity_check.ok", r.integrity_ok);
        if (!r.integrity_ok)
            json_str(d, "$.integrity_check.message", r.integrity_msg);
        json_bool(d, "$.keyslots.ok", r.keyslots_ok);
        if (!r.keyslots_ok)
            json_str(d, "$.keyslots.message", r.keyslot_msg);
        json_print(d);
        json_free(d);
    } else {
        printf("pages:           %llu read, %llu failed authentication\n",
               (unsigned long long)r.pages, (unsigned long long)r.bad_pages);
        printf("integrity_check: %s\n", r.integrity_ok ? "ok"
                                                       : r.integrity_msg);
        printf("keyslots:        %s\n",
               r.keyslots_ok ? "as last written by evault" : r.keyslot_msg);
        printf("verify:          %s\n", ok ? "ok" : "FAILED");
    }
    if (!ok) {
        if (r.bad_pages)
            cli_error("page %u of the vault failed authentication (%llu of "
                      "%llu pages failed): the vault is damaged or was "
                      "tampered with",
                      (unsigned)r.first_bad_page,
                      (unsigned long long)r.bad_pages,
                      (unsigned long long)r.pages);
        if (!r.integrity_ok)
            cli_error("integrity_check failed: %s", r.integrity_msg);
        if (!r.keyslots_ok)
            cli_error("%s", r.keyslot_msg);
        return EXIT_INTEGRITY;
    }
    return EXIT_OK;
}
