/* report: see report.h. */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void report_add(report *r, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && (s = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (s && r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        char **items = realloc(r->items, cap * sizeof *items);
        if (!items) {
            free(s);
            s = NULL;
        } else {
            r->items = items;
            r->cap = cap;
        }
    }
    if (!s) {
        r->oom = 1;
        return;
    }
    r->items[r->n++] = s;
}

void report_clear(report *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->items[i]);
    free(r->items);
    r->items = NULL;
    r->n = r->cap = 0;
    r->oom = 0;
}
