/*
 * common: what every command shares: the common options, passphrase
 * sources and prompts, unlocking, error reporting and exit codes,
 * confirmation and progress on the terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

#define SECRET_MAX 1024

cli_globals g_cli = {NULL, NULL, -1, NULL, 0, 0};

enum {
    OPT_PASSFILE = 0x1000,
    OPT_PASSFD,
    OPT_NEWPASSFILE,
    OPT_JSON,
    OPT_HELP,
    OPT_VAULT
};

static const struct option common_opts[] = {
    {"vault", required_argument, NULL, OPT_VAULT},
    {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
    {"passphrase-fd", required_argument, NULL, OPT_PASSFD},
    {"new-passphrase-file", required_argument, NULL, OPT_NEWPASSFILE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

void cli_put_clean(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; p && *p; p++) {
        /* C0 controls, DEL, and C1 controls (UTF-8 C2 80..C2 9F) */
        if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\x%02x", *p);
        } else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            fprintf(out, "\\u%04x", p[1]);
            p++;
        } else {
            fputc(*p, out);
        }
    }
}

void cli_error(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;

    /* Messages quote text from hostile files: never let it reach the
     * terminal as escape sequences. */
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fputs("evault: ", stderr);
    cli_put_clean(stderr, msg);
    fputc('\n', stderr);
}

int cli_exit_code(int code)
{
    switch (code) {
    case 0:
        return EXIT_OK;
    case EV_ERR_UNLOCK:
        return EXIT_UNLOCK;
    case EV_ERR_INTEGRITY:
        return EXIT_INTEGRITY;
    default:
        return EXIT_ERROR;
    }
}

int cli_fail(const ev_err *e)
{
    cli_error("%s", e->msg[0] ? e->msg : "unknown error");
    return cli_exit_code(e->code);
}

int cli_getopt(int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    struct option all[32];
    char shorts[64];
    size_t n = 0;
    int c;

    for (; longopts && longopts[n].name && n < 24; n++)
        all[n] = longopts[n];
    for (size_t i = 0; common_opts[i].name; i++)
        all[n++] = common_opts[i];
    memset(&all[n], 0, sizeof all[n]);
    snprintf(shorts, sizeof shorts, "%sf:h", shortopts ? shortopts : "");

    for (;;) {
        long fd;
        char *end;
        c = getopt_long(argc, argv, shorts, all, NULL);
        switch (c) {
        case 'f':
        case OPT_VAULT:
            g_cli.vault = optarg;
            break;
        case OPT_PASSFILE:
            g_cli.pass_file = optarg;
            break;
        case OPT_PASSFD:
            errno = 0;
            fd = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || fd < 0 || fd > 65535) {
                cli_error("--passphrase-fd needs a file descriptor number, "
                          "not '%s'",
                          optarg);
                return '?';
            }
            g_cli.pass_fd = (int)fd;
            break;
        case OPT_NEWPASSFILE:
            g_cli.new_pass_file = optarg;
            break;
        case OPT_JSON:
            g_cli.json = 1;
            break;
        case 'h':
        case OPT_HELP:
            g_cli.help = 1;
            break;
        default:
            return c;
        }
    }
}

const char *cli_vault_path(void)
{
    const char *p = g_cli.vault;
    if (!p || !*p)
        p = getenv("EVAULT_FILE");
    if (!p || !*p) {
        cli_error("no vault given: use --vault FILE (or -f FILE), or set "
                  "EVAULT_FILE");
        return NULL;
    }
    return p;
}

void secret_free(secret *s)
{
    if (!s)
        return;
    sodium_free(s->buf); /* sodium_free wipes */
    s->buf = NULL;
    s->len = 0;
}

static int secret_alloc(secret *s)
{
    s->buf = sodium_malloc(SECRET_MAX + 2);
    s->len = 0;
    if (!s->buf) {
        cli_error("out of memory");
        return EXIT_ERROR;
    }
    sodium_memzero(s->buf, SECRET_MAX + 2);
    return 0;
}

/* Read the first line from fd into s (no newline, no CR). */
static int secret_from_fd(secret *s, int fd, const char *what)
{
    size_t n = 0;
    int rc = secret_alloc(s);

    if (rc)
        return rc;
    while (n <= SECRET_MAX) {
        ssize_t r = read(fd, s->buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cli_error("cannot read the passphrase from %s: %s", what,
                      strerror(errno));
            secret_free(s);
            return EXIT_ERROR;
        }
        if (r == 0 || s->buf[n] == '\n')
            break;
        n++;
    }
    if (n > SECRET_MAX) {
        cli_error("the passphrase from %s is longer than %d bytes", what,
                  SECRET_MAX);
        secret_free(s);
        return EXIT_ERROR;
    }
    s->buf[n] = '\0';
    if (n > 0 && s->buf[n - 1] == '\r')
        s->buf[--n] = '\0';
    s->len = n;
    return 0;
}

static int secret_from_file(secret *s, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
    if (fd < 0) {
        cli_error("cannot open passphrase file '%s': %s", path,
                  strerror(errno));
        return EXIT_ERROR;
    }
    {
        char what[PATH_MAX + 8];
        snprintf(what, sizeof what, "'%s'", path);
        rc = secret_from_fd(s, fd, what);
    }
    close(fd);
    return rc;
}

/* Prompt on /dev/tty without echo. */
static int secret_prompt(secret *s, const char *prompt)
{
    struct termios old, quiet;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), rc, echo_off;

    if (fd < 0) {
        cli_error("no passphrase given and no terminal to ask on: use "
                  "--passphrase-file FILE, --passphrase-fd N or "
                  "EVAULT_PASSPHRASE_FILE");
        return EXIT_USAGE;
    }
    echo_off = tcgetattr(fd, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* the prompt is a courtesy; reading still works */
    }
    rc = secret_from_fd(s, fd, "the terminal");
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* as above */
    }
    close(fd);
    return rc;
}

int cli_read_secret(secret *s, const char *prompt)
{
    const char *env = getenv("EVAULT_PASSPHRASE_FILE");

    if (g_cli.pass_file)
        return secret_from_file(s, g_cli.pass_file);
    if (g_cli.pass_fd >= 0)
        return secret_from_fd(s, g_cli.pass_fd, "the passphrase descriptor");
    if (env && *env)
        return secret_from_file(s, env);
    return secret_prompt(s, prompt);
}

int cli_read_new_secret(secret *s, int fallback_unlock_sources)
{
    secret again = {NULL, 0};
    int rc;

    if (g_cli.new_pass_file)
        rc = secret_from_file(s, g_cli.new_pass_file);
    else if (fallback_unlock_sources &&
             (g_cli.pass_file || g_cli.pass_fd >= 0 ||
              (getenv("EVAULT_PASSPHRASE_FILE") &&
               *getenv("EVAULT_PASSPHRASE_FILE"))))
        rc = cli_read_secret(s, "");
    else {
        rc = secret_prompt(s, "New passphrase: ");
        if (rc == 0)
            rc = secret_prompt(&again, "Repeat new passphrase: ");
        if (rc == 0 && (again.len != s->len ||
                        sodium_memcmp(again.buf, s->buf, s->len) != 0)) {
            cli_error("the two passphrases differ: nothing was changed");
            rc = EXIT_ERROR;
        }
        secret_free(&again);
    }
    if (rc == 0 && s->len == 0) {
        cli_error("the new passphrase is empty: nothing was changed");
        rc = EXIT_ERROR;
    }
    if (rc != 0)
        secret_free(s);
    return rc;
}

int cli_open_vault(vault **v)
{
    const char *path = cli_vault_path();
    secret s = {NULL, 0};
    ev_err e;
    int rc;

    *v = NULL;
    if (!path)
        return EXIT_USAGE;
    if (access(path, F_OK) != 0) {
        cli_error("cannot open '%s': %s", path, strerror(errno));
        return EXIT_ERROR;
    }
    rc = cli_read_secret(&s, "Passphrase: ");
    if (rc != 0)
        return rc;
    err_clear(&e);
    rc = vault_open(v, path, s.buf, s.len, NULL, &e);
    secret_free(&s);
    return rc == 0 ? 0 : cli_fail(&e);
}

int cli_stderr_tty(void)
{
    return isatty(STDERR_FILENO);
}

int cli_has_tty(void)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

int cli_confirm(const char *question)
{
    char answer[16] = "";
    FILE *tty = fopen("/dev/tty", "r+");
    int yes = 0;

    if (!tty)
        return 0;
    fprintf(tty, "%s [y/N] ", question);
    fflush(tty);
    if (fgets(answer, sizeof answer, tty))
        yes = answer[0] == 'y' || answer[0] == 'Y';
    fclose(tty);
    return yes;
}

static int progress_shown;

int cli_progress(void *label, uint64_t done, uint64_t total)
{
    int width = 30, filled;

    if (!cli_stderr_tty() || total == 0)
        return 0;
    filled = (int)((done * (uint64_t)width) / total);
    fprintf(stderr, "\r%s [%.*s%*s] %3d%%", (const char *)label, filled,
            "##############################", width - filled, "",
            (int)(done * 100 / total));
    fflush(stderr);
    progress_shown = 1;
    return 0;
}

void cli_progress_done(void)
{
    if (progress_shown)
        fputs("\r\033[K", stderr);
    progress_shown = 0;
}

int cli_publish(const char *tmp, const char *final)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
    return link(tmp, final); /* the caller removes tmp */
}
