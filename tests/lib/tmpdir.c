/* tmpdir: see tmpdir.h. */
#include "tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int test_tmpdir_make(char *dir, size_t size, const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(dir, size, "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp",
                     prefix);

    if (n < 0 || (size_t)n >= size || !mkdtemp(dir))
        return -1;
    return 0;
}

int test_tmpdir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    return rmdir(dir);
}

int test_path(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int test_put_file(const char *dir, const char *name, const void *data,
                  size_t len, mode_t mode)
{
    char p[4096];
    int fd, rc = 0;

    if (test_path(p, sizeof p, dir, name) != 0 ||
        (unlink(p) != 0 && errno != ENOENT))
        return -1;
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    if (fd < 0)
        return -1;
    if (write(fd, data, len) != (ssize_t)len)
        rc = -1;
    if (close(fd) != 0)
        rc = -1;
    return rc;
}
