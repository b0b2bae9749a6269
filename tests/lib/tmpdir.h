/*
 * tmpdir: a scratch directory for a unit test group, under $TMPDIR (run.sh
 * points it at the test's own directory), and its removal.
 */
#ifndef EV_TEST_TMPDIR_H
#define EV_TEST_TMPDIR_H

#include <stddef.h>

/* mkdtemp "$TMPDIR/<prefix>.XXXXXX" (or /tmp). OUT: dir. 0 or -1. */
int test_tmpdir_make(char *dir, size_t size, const char *prefix);

/* Remove the files directly in dir, then dir. 0 or -1. */
int test_tmpdir_remove(const char *dir);

#endif
