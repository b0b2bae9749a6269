/*
 * err: status codes and the error text that library calls fill in for the
 * CLI to print. Library functions return 0 or a negative EV_ERR_* code; only
 * cli/ prints or chooses an exit code.
 */
#ifndef EV_ERR_H
#define EV_ERR_H

enum {
    EV_OK = 0,
    EV_ERR_INTERNAL = -1, /* a bug or an unexpected library failure */
    EV_ERR_IO = -2,       /* a file could not be read or written */
    EV_ERR_NOMEM = -3,
    EV_ERR_INVALID = -4,   /* bad argument or input from the user */
    EV_ERR_EXISTS = -5,    /* would overwrite something */
    EV_ERR_NOTFOUND = -6,  /* no such object */
    EV_ERR_UNLOCK = -7,    /* wrong passphrase, no usable keyslot, not a vault */
    EV_ERR_INTEGRITY = -8, /* tampering, failed authentication, bad hash */
    EV_ERR_BUSY = -9,      /* another process holds the vault too long */
    EV_ERR_REFUSED = -10   /* the operation is not allowed in this state */
};

#define EV_ERRMAX 512

typedef struct ev_err {
    int code;
    char msg[EV_ERRMAX]; /* lowercase, no trailing full stop */
} ev_err;

/*
 * Record code and a printf-style message in e (e may be NULL). Returns code
 * so that callers can write `rc = err_set(e, EV_ERR_IO, "...")`.
 */
int err_set(ev_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reset e to no error. */
void err_clear(ev_err *e);

#endif
