/*
 * tmpdir: a scratch directory for a unit test group, under $TMPDIR (run.sh
 * points it at the test's own directory), and its removal.
 */
#ifndef EV_TEST_TMPDIR_H
#define EV_TEST_TMPDIR_H

#include <stddef.h>
#include <sys/types.h>

/* mkdtemp "$TMPDIR/<prefix>.XXXXXX" (or /tmp). OUT: dir. 0 or -1. */
int test_tmpdir_make(char *dir, size_t size, const char *prefix);

/* "dir/name" into out. 0, or -1 when it does not fit. */
int test_path(char *out, size_t size, const char *dir, const char *name);

/* Write len bytes of data to dir/name, created afresh (an old file of that
 * name is removed first) with mode. 0 or -1. */
int test_put_file(const char *dir, const char *name, const void *data,
                  size_t len, mode_t mode);

/* Remove the files directly in dir, then dir. 0 or -1. */
int test_tmpdir_remove(const char *dir);

#endif
