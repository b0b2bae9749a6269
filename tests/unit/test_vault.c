/*
 * test_vault: the container through the library: create and unlock with
 * every keyslot type, wrong secrets, passwd, keyslot add/remove and their
 * limits, shred, schema versions, and the crash-safe keyslot protocol
 * (an interrupted change is finished on open; a slot changed outside evault
 * is reported as tampering).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../crypto/recovery.h"
#include "../../vault/schema.h"
#include "../../vault/vault.h"

#define PASS "first passphrase"
#define PASS2 "second passphrase"

static kdf_params test_kdf(void)
{
    kdf_params p;
    kdf_profile("test", &p);
    return p;
}

static void create(const char *path)
{
    kdf_params p = test_kdf();
    char id[33];
    ev_err e;
    unlink(path);
    assert_int_equal(vault_create(path, PASS, strlen(PASS), &p, "Org", NULL,
                                  id, &e),
                     0);
    assert_int_equal(strlen(id), 32);
}

static int try_open(const char *path, const char *secret, vault **v,
                    ev_err *e)
{
    *v = NULL;
    err_clear(e);
    return vault_open(v, path, secret, strlen(secret), NULL, e);
}

static vault *must_open(const char *path, const char *secret)
{
    vault *v;
    ev_err e;
    int rc = try_open(path, secret, &v, &e);
    if (rc != 0)
        print_error("vault_open: %s\n", e.msg);
    assert_int_equal(rc, 0);
    return v;
}

static int used_slots(vault *v)
{
    vault_info info;
    ev_err e;
    int n = 0;
    assert_int_equal(vault_get_info(v, &info, &e), 0);
    for (int i = 0; i < KEYSLOT_COUNT; i++)
        n += info.slots[i].type != KEYSLOT_EMPTY;
    return n;
}

static void read_region(const char *path, uint8_t *region)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, region, KEYSLOT_REGION, 0), KEYSLOT_REGION);
    close(fd);
}

static void write_region(const char *path, const uint8_t *region)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, region, KEYSLOT_REGION, 0), KEYSLOT_REGION);
    close(fd);
}

static void test_create_and_info(void **state)
{
    vault_info info;
    struct stat st;
    kdf_params p = test_kdf();
    vault *v;
    ev_err e;
    (void)state;

    create("a.evault");
    assert_int_equal(stat("a.evault", &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* never overwrites, and leaves the existing file as it was */
    assert_int_equal(vault_create("a.evault", PASS, strlen(PASS), &p, NULL,
                                  NULL, NULL, &e),
                     EV_ERR_EXISTS);
    assert_non_null(strstr(e.msg, "already exists"));
    v = must_open("a.evault", PASS);
    assert_int_equal(vault_get_info(v, &info, &e), 0);
    assert_string_equal(info.name, "Org");
    assert_int_equal(info.format_version, VAULT_FORMAT_VERSION);
    assert_int_equal(info.schema_version, schema_latest());
    assert_int_equal(info.page_size, VAULT_PAGE_SIZE);
    assert_int_equal(info.unlocked_slot, 0);
    assert_int_equal(info.slots[0].type, KEYSLOT_PASSPHRASE);
    assert_int_equal(info.slots[0].kdf.ops, p.ops);
    assert_string_equal(info.slots[0].label, "initial passphrase");
    assert_int_equal(used_slots(v), 1);
    assert_int_equal(info.file_size, 4096 + info.page_count * info.page_size);
    vault_close(v);
    /* no temporary file left behind */
    assert_int_equal(access("a.evault-journal", F_OK), -1);
}

/* Vaults of other page sizes (every vault made before evault 0.2 has 4096)
 * open, hold data across pages and check clean; a bad size is refused. */
static void test_other_page_sizes(void **state)
{
    static const uint32_t sizes[] = {1024, 4096, 65536};
    kdf_params p = test_kdf();
    vault_open_opts o = {NULL, 0};
    vault_check_result r;
    vault_info info;
    vault *v;
    ev_err e;
    (void)state;

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "ps%u.evault", (unsigned)sizes[i]);
        o.page_size = sizes[i];
        assert_int_equal(vault_create(path, PASS, strlen(PASS), &p, "Org", &o,
                                      NULL, &e),
                         0);
        v = must_open(path, PASS);
        assert_int_equal(vault_get_info(v, &info, &e), 0);
        assert_int_equal(info.page_size, sizes[i]);
        assert_int_equal(info.file_size, 4096 + info.page_count * sizes[i]);
        assert_int_equal(sqlite3_exec(vault_db(v),
                                      "CREATE TABLE t(x);"
                                      "INSERT INTO t VALUES (randomblob(300000)),"
                                      " (zeroblob(70000));",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        vault_close(v);
        v = must_open(path, PASS);
        assert_int_equal(vault_check(v, &r, NULL, NULL, &e), 0);
        assert_int_equal(r.bad_pages, 0);
        assert_true(r.integrity_ok);
        assert_true(r.pages > 370000 / sizes[i]);
        vault_close(v);
    }
    o.page_size = 3000;
    assert_int_equal(vault_create("ps3000.evault", PASS, strlen(PASS), &p,
                                  "Org", &o, NULL, &e),
                     EV_ERR_INVALID);
    assert_int_equal(access("ps3000.evault", F_OK), -1);
    o.page_size = 131072;
    assert_int_equal(vault_create("ps3000.evault", PASS, strlen(PASS), &p,
                                  "Org", &o, NULL, &e),
                     EV_ERR_INVALID);
}

static void test_wrong_secrets(void **state)
{
    vault *v;
    ev_err e;
    int fd;
    (void)state;

    create("b.evault");
    assert_int_equal(try_open("b.evault", "wrong", &v, &e), EV_ERR_UNLOCK);
    assert_null(v);
    assert_non_null(strstr(e.msg, "cannot unlock 'b.evault'"));
    assert_int_equal(try_open("b.evault", "", &v, &e), EV_ERR_UNLOCK);
    assert_int_equal(try_open("b.evault",
                              "AAAQ-EAYE-AUDA-OCAJ-BIFQ-YDIO-B4IB-CEQT", &v,
                              &e),
                     EV_ERR_UNLOCK);
    assert_int_equal(try_open("nonexistent.evault", PASS, &v, &e),
                     EV_ERR_NOTFOUND);
    fd = open("short.bin", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_int_equal(write(fd, "hello", 5), 5);
    close(fd);
    assert_int_equal(try_open("short.bin", PASS, &v, &e), EV_ERR_UNLOCK);
}

static void test_recovery_and_passwd(void **state)
{
    char code[RECOVERY_TEXTLEN + 1], lower[64];
    kdf_params p = test_kdf();
    vault_info info;
    vault *v;
    ev_err e;
    int idx = -1;
    (void)state;

    create("c.evault");
    v = must_open("c.evault", PASS);
    assert_int_equal(vault_slot_add_recovery(v, NULL, code, &idx, &e), 0);
    assert_int_equal(idx, 1);
    assert_int_equal(strlen(code), RECOVERY_TEXTLEN);
    vault_close(v);
    /* the recovery code opens it, typed loosely too */
    v = must_open("c.evault", code);
    assert_int_equal(vault_get_info(v, &info, &e), 0);
    assert_int_equal(info.unlocked_slot, 1);
    assert_int_equal(info.slots[1].type, KEYSLOT_RECOVERY);
    /* a recovery slot has no passphrase to change */
    assert_int_equal(vault_passwd(v, PASS2, strlen(PASS2), NULL, &e),
                     EV_ERR_REFUSED);
    vault_close(v);
    for (size_t i = 0, j = 0; i <= strlen(code); i++)
        if (code[i] != '-')
            lower[j++] = (char)(code[i] >= 'A' && code[i] <= 'Z'
                                    ? code[i] - 'A' + 'a'
                                    : code[i]);
    vault_close(must_open("c.evault", lower));

    v = must_open("c.evault", PASS);
    assert_int_equal(vault_passwd(v, PASS2, strlen(PASS2), &p, &e), 0);
    assert_int_equal(used_slots(v), 2);
    vault_close(v);
    assert_int_equal(try_open("c.evault", PASS, &v, &e), EV_ERR_UNLOCK);
    v = must_open("c.evault", PASS2);
    assert_int_equal(vault_get_info(v, &info, &e), 0);
    assert_int_equal(info.slots[info.unlocked_slot].type, KEYSLOT_PASSPHRASE);
    assert_string_equal(info.slots[info.unlocked_slot].label,
                        "initial passphrase");
    vault_close(v);
    vault_close(must_open("c.evault", code));
}

static void test_slot_limits(void **state)
{
    kdf_params p = test_kdf();
    char pass[32], code[RECOVERY_TEXTLEN + 1];
    vault *v;
    ev_err e;
    int idx;
    (void)state;

    create("d.evault");
    v = must_open("d.evault", PASS);
    for (int i = 1; i < KEYSLOT_COUNT; i++) {
        snprintf(pass, sizeof pass, "pass %d", i);
        assert_int_equal(vault_slot_add_passphrase(v, pass, strlen(pass), &p,
                                                   "extra", &idx, &e),
                         0);
        assert_int_equal(idx, i);
    }
    assert_int_equal(used_slots(v), 8);
    assert_int_equal(vault_slot_add_passphrase(v, "x", 1, &p, NULL, &idx, &e),
                     EV_ERR_REFUSED);
    assert_int_equal(vault_slot_add_recovery(v, NULL, code, &idx, &e),
                     EV_ERR_REFUSED);
    /* passwd needs a free slot to write the new one first */
    assert_int_equal(vault_passwd(v, "y", 1, NULL, &e), EV_ERR_REFUSED);
    assert_int_equal(vault_slot_remove(v, 8, &e), EV_ERR_INVALID);
    assert_int_equal(vault_slot_remove(v, -1, &e), EV_ERR_INVALID);
    for (int i = 0; i < KEYSLOT_COUNT - 1; i++)
        assert_int_equal(vault_slot_remove(v, i, &e), 0);
    assert_int_equal(vault_slot_remove(v, 3, &e), EV_ERR_NOTFOUND);
    /* the last slot stays */
    assert_int_equal(vault_slot_remove(v, 7, &e), EV_ERR_REFUSED);
    assert_non_null(strstr(e.msg, "last"));
    vault_close(v);
    assert_int_equal(try_open("d.evault", PASS, &v, &e), EV_ERR_UNLOCK);
    vault_close(must_open("d.evault", "pass 7"));
}

static void test_shred(void **state)
{
    uint8_t before[KEYSLOT_REGION], after[KEYSLOT_REGION];
    char code[RECOVERY_TEXTLEN + 1];
    struct stat st1, st2;
    vault *v;
    ev_err e;
    int idx;
    (void)state;

    create("e.evault");
    v = must_open("e.evault", PASS);
    assert_int_equal(vault_slot_add_recovery(v, NULL, code, &idx, &e), 0);
    vault_close(v);
    read_region("e.evault", before);
    assert_int_equal(stat("e.evault", &st1), 0);
    assert_int_equal(vault_shred("e.evault", &e), 0);
    read_region("e.evault", after);
    assert_int_equal(stat("e.evault", &st2), 0);
    assert_int_equal(st1.st_size, st2.st_size);
    for (int i = 0; i < KEYSLOT_COUNT; i++)
        assert_memory_not_equal(before + i * KEYSLOT_SIZE,
                                after + i * KEYSLOT_SIZE, KEYSLOT_SIZE);
    assert_int_equal(try_open("e.evault", PASS, &v, &e), EV_ERR_UNLOCK);
    assert_int_equal(try_open("e.evault", code, &v, &e), EV_ERR_UNLOCK);
    /* refuses what cannot be a vault */
    assert_int_equal(vault_shred("nope.evault", &e), EV_ERR_NOTFOUND);
    {
        int fd = open("small.bin", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_int_equal(write(fd, "abc", 3), 3);
        close(fd);
    }
    assert_int_equal(vault_shred("small.bin", &e), EV_ERR_INVALID);
    /* a page-aligned file that is not random (an SQLite database, text) */
    {
        uint8_t page[8192];
        int fd = open("plain.db", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        memset(page, 'a', sizeof page);
        memcpy(page, "SQLite format 3", 16);
        assert_int_equal(write(fd, page, sizeof page), (ssize_t)sizeof page);
        close(fd);
        assert_int_equal(vault_shred("plain.db", &e), EV_ERR_INVALID);
        assert_non_null(strstr(e.msg, "does not look like"));
        read_region("plain.db", after);
        assert_memory_equal(after, "SQLite format 3", 16);
    }
}

static void test_schema_newer_refused(void **state)
{
    vault *v;
    ev_err e;
    (void)state;

    create("f.evault");
    v = must_open("f.evault", PASS);
    assert_int_equal(sqlite3_exec(vault_db(v), "PRAGMA user_version=99", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    vault_close(v);
    assert_int_equal(try_open("f.evault", PASS, &v, &e), EV_ERR_REFUSED);
    assert_non_null(strstr(e.msg, "upgrade evault"));
}

/*
 * Simulate a crash inside a keyslot change: the new slot image was
 * committed as pending in the database, but the region on disk still has
 * the old bytes (or a torn mix). Opening finishes the change.
 */
static void test_interrupted_change_is_finished(void **state)
{
    uint8_t r0[KEYSLOT_REGION], r1[KEYSLOT_REGION];
    kdf_params p = test_kdf();
    sqlite3_stmt *st;
    vault *v;
    ev_err e;
    int idx;
    (void)state;

    for (int torn = 0; torn < 2; torn++) {
        create("g.evault");
        read_region("g.evault", r0);
        v = must_open("g.evault", PASS);
        assert_int_equal(vault_slot_add_passphrase(v, PASS2, strlen(PASS2),
                                                   &p, NULL, &idx, &e),
                         0);
        assert_int_equal(idx, 1);
        read_region("g.evault", r1);
        assert_int_equal(sqlite3_prepare_v2(vault_db(v),
                                            "UPDATE keyslot_state SET "
                                            "committed=?1, pending=?2 WHERE "
                                            "slot=1",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_blob(st, 1, r0 + KEYSLOT_SIZE, KEYSLOT_SIZE,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, r1 + KEYSLOT_SIZE, KEYSLOT_SIZE,
                          SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        vault_close(v);
        if (torn) /* old key box, new second half: a torn sector write */
            memcpy(r0 + KEYSLOT_SIZE + 256, r1 + KEYSLOT_SIZE + 256, 256);
        write_region("g.evault", r0);
        assert_int_equal(try_open("g.evault", PASS2, &v, &e), EV_ERR_UNLOCK);
        v = must_open("g.evault", PASS); /* finishes the change */
        vault_close(v);
        read_region("g.evault", r0);
        assert_memory_equal(r0, r1, KEYSLOT_REGION);
        vault_close(must_open("g.evault", PASS2));
    }
}

/* Any byte of the region changed outside evault is reported, even in an
 * empty slot that no passphrase uses. */
static void test_region_tamper_detected(void **state)
{
    uint8_t r[KEYSLOT_REGION];
    vault_check_result res;
    vault *v;
    ev_err e;
    (void)state;

    create("h.evault");
    read_region("h.evault", r);
    r[5 * KEYSLOT_SIZE + 100] ^= 0x01;
    write_region("h.evault", r);
    assert_int_equal(try_open("h.evault", PASS, &v, &e), EV_ERR_INTEGRITY);
    assert_non_null(strstr(e.msg, "keyslot 5"));
    r[5 * KEYSLOT_SIZE + 100] ^= 0x01;
    write_region("h.evault", r);
    v = must_open("h.evault", PASS);
    assert_int_equal(vault_check(v, &res, NULL, NULL, &e), 0);
    assert_true(res.keyslots_ok);
    assert_true(res.integrity_ok);
    assert_int_equal(res.bad_pages, 0);
    assert_true(res.pages > 0);
    /* changed while open: check reports it */
    r[7 * KEYSLOT_SIZE] ^= 0x80;
    write_region("h.evault", r);
    assert_int_equal(vault_check(v, &res, NULL, NULL, &e), 0);
    assert_false(res.keyslots_ok);
    assert_non_null(strstr(res.keyslot_msg, "keyslot 7"));
    vault_close(v);
    /* the used slot itself: cannot unlock at all */
    read_region("h.evault", r);
    r[7 * KEYSLOT_SIZE] ^= 0x80;
    r[60] ^= 0x04;
    write_region("h.evault", r);
    assert_int_equal(try_open("h.evault", PASS, &v, &e), EV_ERR_UNLOCK);
}

static void test_truncated_to_header(void **state)
{
    vault *v;
    ev_err e;
    (void)state;

    create("i.evault");
    assert_int_equal(truncate("i.evault", KEYSLOT_REGION), 0);
    assert_int_equal(try_open("i.evault", PASS, &v, &e), EV_ERR_INTEGRITY);
    assert_null(v);
}

/* Two processes adding keyslots at once each get their own slot (a
 * regression: both used to pick the same free slot and one was lost). */
static void test_concurrent_slot_adds(void **state)
{
    (void)state;
    for (int round = 0; round < 8; round++) {
        int go[2], status;
        pid_t pid[2];
        create("j.evault");
        assert_int_equal(pipe(go), 0);
        for (int c = 0; c < 2; c++) {
            pid[c] = fork();
            assert_true(pid[c] >= 0);
            if (pid[c] == 0) {
                kdf_params p = test_kdf();
                char pass[32], b;
                vault *w = NULL;
                ev_err e2;
                int idx;
                close(go[1]);
                snprintf(pass, sizeof pass, "child %d", c);
                if (vault_open(&w, "j.evault", PASS, strlen(PASS), NULL,
                               &e2) != 0)
                    _exit(2);
                if (read(go[0], &b, 1) != 0) /* wait for the start */
                    _exit(3);
                if (vault_slot_add_passphrase(w, pass, strlen(pass), &p,
                                              NULL, &idx, &e2) != 0)
                    _exit(4);
                vault_close(w);
                _exit(0);
            }
        }
        close(go[0]);
        usleep(20000);
        close(go[1]); /* both children start now */
        for (int c = 0; c < 2; c++) {
            assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        vault_close(must_open("j.evault", "child 0"));
        vault_close(must_open("j.evault", "child 1"));
        vault_close(must_open("j.evault", PASS));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_info),
        cmocka_unit_test(test_other_page_sizes),
        cmocka_unit_test(test_wrong_secrets),
        cmocka_unit_test(test_recovery_and_passwd),
        cmocka_unit_test(test_slot_limits),
        cmocka_unit_test(test_shred),
        cmocka_unit_test(test_schema_newer_refused),
        cmocka_unit_test(test_interrupted_change_is_finished),
        cmocka_unit_test(test_region_tamper_detected),
        cmocka_unit_test(test_truncated_to_header),
        cmocka_unit_test(test_concurrent_slot_adds),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
