/*
 * report: a list of findings (one line of text each) that checks collect
 * for the CLI to print, e.g. "evidence 3 (4f0c...): SHA-256 mismatch".
 */
#ifndef EV_REPORT_H
#define EV_REPORT_H

#include <stddef.h>

typedef struct report {
    char **items;
    size_t n, cap;
    int oom; /* a finding was lost for want of memory */
} report;

/* Append a printf-style finding. Out of memory sets r->oom. */
void report_add(report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Free every finding; r is empty again. */
void report_clear(report *r);

#endif
