/* err: filling ev_err. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int err_set(ev_err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(ev_err *e)
{
    if (!e)
        return;
    e->code = 0;
    e->msg[0] = '\0';
}
