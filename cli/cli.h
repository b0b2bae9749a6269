/*
 * cli: shared declarations for the evault command-line tool. Each command is
 * `int cmd_<name>(int argc, char **argv)` in cli/cmd_<name>.c and returns a
 * process exit status (see EXIT_* below and docs/evault.1).
 */
#ifndef EV_CLI_H
#define EV_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "../vault/err.h"
#include "../vault/vault.h"
#include "json.h"

enum {
    EXIT_OK = 0,
    EXIT_ERROR = 1,
    EXIT_USAGE = 2,
    EXIT_UNLOCK = 3,
    EXIT_INTEGRITY = 4
};

/* Options every command accepts (before or after the command name). */
typedef struct cli_globals {
    const char *vault;         /* --vault/-f, else $EVAULT_FILE */
    const char *pass_file;     /* --passphrase-file */
    int pass_fd;               /* --passphrase-fd, -1 if unset */
    const char *new_pass_file; /* --new-passphrase-file */
    int json;                  /* --json */
    int help;                  /* --help */
} cli_globals;

extern cli_globals g_cli;

/* A passphrase or code in guarded memory. */
typedef struct secret {
    char *buf; /* sodium_malloc'd, NUL-terminated */
    size_t len;
} secret;

void secret_free(secret *s);

/*
 * Parse a command's options. longopts is the command's own table (ending in
 * a zero entry); the common options are added. Returns getopt_long's value
 * for command options, -1 at the end, '?' on a usage error; handles the
 * common ones itself.
 */
int cli_getopt(int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/*
 * Write s to out with control characters (C0, DEL, C1) escaped as \xNN or
 * \u00NN: stored text comes from hostile files and must never drive the
 * terminal.
 */
void cli_put_clean(FILE *out, const char *s);

/* Print "evault: <message>" to stderr, control characters escaped. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print e's message and return the exit status for e->code. */
int cli_fail(const ev_err *e);

/* Exit status for an EV_ERR_* code. */
int cli_exit_code(int code);

/* Print a command's usage (to stdout if to_stdout, else stderr). */
int cli_usage(const char *cmd, int to_stdout);

/* The vault path from the globals or $EVAULT_FILE; prints an error if none. */
const char *cli_vault_path(void);

/*
 * Read the passphrase (or recovery code) to unlock with, from the first
 * source given: --passphrase-file, --passphrase-fd, $EVAULT_PASSPHRASE_FILE,
 * else a no-echo prompt on /dev/tty. OUT: s. Returns 0 or an exit status.
 */
int cli_read_secret(secret *s, const char *prompt);

/*
 * Read a new passphrase: --new-passphrase-file, else asked twice on
 * /dev/tty (fallback_unlock_sources: also accept the unlock sources, for
 * init which has no old passphrase). OUT: s. Returns 0 or an exit status.
 */
int cli_read_new_secret(secret *s, int fallback_unlock_sources);

/* Unlock the vault named by the globals. OUT: *v. Returns 0 or exit status. */
int cli_open_vault(vault **v);

/*
 * Give the complete file (or directory) tmp the name final, never replacing
 * anything: rename without replace where the file system has it, else a
 * hard link (then the caller removes tmp). vfat and exfat, common on USB
 * sticks, have no hard links. Returns 0 or -1 with errno.
 */
int cli_publish(const char *tmp, const char *final);

/* 1 if stderr is a terminal (progress bars, confirmations). */
int cli_stderr_tty(void);

/* 1 if there is a controlling terminal to ask questions on. */
int cli_has_tty(void);

/* Ask a yes/no question on /dev/tty; 1 for yes. */
int cli_confirm(const char *question);

/* Progress bar on stderr when it is a terminal; usable as vfs_progress_fn. */
int cli_progress(void *label, uint64_t done, uint64_t total);
void cli_progress_done(void);

/*
 * Resolve a --kdf name. The "test" profile (minimal cost) is for test suites
 * only and needs EVAULT_TESTING=1 in the environment. OUT: p. Returns 0 or
 * an exit status.
 */
int cli_kdf_profile(const char *name, kdf_params *p);

/* Print the keyslot table of info (human), or add "keyslots" to doc. */
void cli_print_slots(const vault_info *info, json_doc *doc);

/*
 * A command: its name, function, one-line summary and usage text (printed
 * by `evault help NAME` and `evault NAME --help`). Each group of commands
 * is a table ending in a zero entry, defined in its own cli/cmd_*.c file.
 */
struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
    const char *usage;
};

extern const struct command records_commands[];  /* cli/cmd_records.c */
extern const struct command evidence_commands[]; /* cli/cmd_evidence.c */
extern const struct command data_commands[];     /* cli/cmd_data.c */
extern const struct command integrity_commands[]; /* cli/cmd_integrity.c */
extern const struct command partner_commands[];  /* cli/cmd_partner.c */
extern const struct command bundle_commands[];   /* cli/cmd_bundle.c */
extern const struct command bag_commands[];      /* cli/cmd_bag.c */

int cmd_init(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_passwd(int argc, char **argv);
int cmd_keyslot(int argc, char **argv);
int cmd_shred(int argc, char **argv);
int cmd_help(int argc, char **argv);

#endif
