/* cmd_info: `evault info`, describe the vault without secrets. */
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "json.h"

static void iso_time(char *buf, size_t n, uint64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm))
        strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(buf, n, "?");
}

static const char *slot_type(int type)
{
    return type == KEYSLOT_PASSPHRASE ? "passphrase"
           : type == KEYSLOT_RECOVERY ? "recovery"
                                      : "empty";
}

void cli_print_slots(const vault_info *info, json_doc *doc)
{
    if (doc) {
        json_doc *arr = json_new(1);
        for (int i = 0; arr && i < KEYSLOT_COUNT; i++) {
            const vault_slot_info *s = &info->slots[i];
            json_doc *o;
            char when[32];
            if (s->type == KEYSLOT_EMPTY)
                continue;
            o = json_new(0);
            if (!o)
                break;
            iso_time(when, sizeof when, s->created);
            json_int(o, "$.index", s->index);
            json_str(o, "$.type", slot_type(s->type));
            json_str(o, "$.label", s->label);
            json_str(o, "$.created", when);
            if (s->type == KEYSLOT_PASSPHRASE) {
                json_str(o, "$.kdf.algorithm", "argon2id");
                json_str(o, "$.kdf.profile", kdf_profile_name(&s->kdf));
                json_int(o, "$.kdf.passes", s->kdf.ops);
                json_int(o, "$.kdf.memory_kib", s->kdf.mem_kib);
            }
            json_bool(o, "$.unlocked_this_session",
                      s->index == info->unlocked_slot);
            json_doc_set(arr, "$[#]", o);
            json_free(o);
        }
        if (arr)
            json_doc_set(doc, "$.keyslots", arr);
        json_free(arr);
        return;
    }
    printf("keyslots (%d):\n", KEYSLOT_COUNT);
    for (int i = 0; i < KEYSLOT_COUNT; i++) {
        const vault_slot_info *s = &info->slots[i];
        char kdf[64] = "-";
        if (s->type == KEYSLOT_EMPTY) {
            printf("  %d  empty\n", i);
            continue;
        }
        if (s->type == KEYSLOT_PASSPHRASE)
            snprintf(kdf, sizeof kdf, "argon2id %s (%u passes, %u KiB)",
                     kdf_profile_name(&s->kdf), (unsigned)s->kdf.ops,
                     (unsigned)s->kdf.mem_kib);
        printf("  %d  %-10s  %-40s  \"%s\"%s\n", i, slot_type(s->type), kdf,
               s->label, i == info->unlocked_slot ? "  (unlocked now)" : "");
    }
}

int cmd_info(int argc, char **argv)
{
    vault *v = NULL;
    vault_info info;
    char when[32];
    ev_err e;
    int c, rc;

    while ((c = cli_getopt(argc, argv, "", NULL)) != -1)
        return cli_usage("info", 0);
    if (g_cli.help)
        return cli_usage("info", 1);
    if (optind != argc)
        return cli_usage("info", 0);
    if ((rc = cli_open_vault(&v)) != 0)
        return rc;
    err_clear(&e);
    rc = vault_get_info(v, &info, &e);
    vault_close(v);
    if (rc != 0)
        return cli_fail(&e);
    iso_time(when, sizeof when, info.created);
    if (g_cli.json) {
        json_doc *d = json_new(0);
        if (!d)
            return EXIT_ERROR;
        json_str(d, "$.vault_id", info.vault_id);
        json_str(d, "$.name", info.name);
        json_str(d, "$.created", when);
        json_int(d, "$.format_version", info.format_version);
        json_int(d, "$.schema_version", info.schema_version);
        json_int(d, "$.page_size", info.page_size);
        json_int(d, "$.file_size", (int64_t)info.file_size);
        json_int(d, "$.page_count", (int64_t)info.page_count);
        cli_print_slots(&info, d);
        rc = json_print(d);
        json_free(d);
        return rc ? EXIT_ERROR : EXIT_OK;
    }
    printf("vault id:        %s\n", info.vault_id);
    printf("name:            %s\n", info.name[0] ? info.name : "(none)");
    printf("created:         %s\n", when);
    printf("format version:  %d\n", info.format_version);
    printf("schema version:  %d\n", info.schema_version);
    printf("page size:       %u\n", (unsigned)info.page_size);
    printf("size:            %llu bytes (%llu pages)\n",
           (unsigned long long)info.file_size,
           (unsigned long long)info.page_count);
    cli_print_slots(&info, NULL);
    return EXIT_OK;
}
