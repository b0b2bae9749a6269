/*
 * evault_mktar: a test-only tool that writes a tar archive from a list of
 * entry specs with libarchive's writer, so the CLI tests can craft the
 * hostile archives (links, devices, absolute and ".." paths, duplicates,
 * huge or lying sizes) that GNU tar will not make. The archive goes to
 * stdout, or to FILE with -o.
 *
 *   evault_mktar [-o FILE] [--format pax|paxfull|ustar|gnutar] SPEC...
 *
 * Formats: pax is libarchive's "restricted pax" (ustar headers, pax
 * extended headers only where needed; what `evault export` writes and the
 * default), paxfull a pax header before every entry, ustar plain POSIX
 * ustar, gnutar GNU tar (base-256 sizes, ././@LongLink names).
 *
 * SPECs, written in order; PATH is taken byte for byte (nothing is
 * stripped or checked) and ends at the first '=':
 *   f:PATH=SRCFILE  regular file holding SRCFILE's bytes
 *   t:PATH=TEXT     regular file holding TEXT (no newline added)
 *   z:PATH=SIZE     regular file of SIZE zero bytes, streamed (may be huge)
 *   d:PATH          directory
 *   r:PATH=DIR      DIR as directory PATH, then everything under it in
 *                   name order (regular files and directories only)
 *   s:PATH=TARGET   symbolic link to TARGET
 *   h:PATH=TARGET   hard link to TARGET
 *   c:PATH, b:PATH  character / block device (1,3)
 *   p:PATH          FIFO
 *   lie:PATH=SIZE   a regular file whose header declares SIZE bytes, after
 *                   which the archive simply ends: min(4096, SIZE - 1)
 *                   bytes of 'A' follow, then nothing (no padding, no end
 *                   of archive). Must be the last SPEC.
 * Files are mode 0644, directories 0755, owner 0:0, mtime 1700000000.
 * Every SPEC is checked before anything is written. Sizes the format
 * cannot hold are libarchive's errors (ustar: 8 GiB and more).
 *
 * Layout: spec parsing and one writer per kind; output goes through our
 * own write callback with libarchive's blocking off, so every byte the
 * writer produces is out before a "lie" entry stops the stream (the
 * callback then refuses all further writes, which makes libarchive give up
 * padding the lie instead of writing SIZE zero bytes).
 *
 * Exit status: 0 written, 1 error (with a message), 2 usage. Never
 * installed; built only for the test suite.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MKTAR_MTIME 1700000000
#define MKTAR_LIE_BYTES 4096
#define MKTAR_BUF (64 * 1024)
#define MKTAR_MAX_DEPTH 64

typedef struct out {
    int fd;
    int stopped; /* after a lie: refuse everything */
} out;

static unsigned char zeros[MKTAR_BUF];

static la_ssize_t out_write(struct archive *a, void *arg, const void *buf,
                            size_t len)
{
    out *o = arg;
    const unsigned char *p = buf;
    size_t done = 0;

    if (o->stopped) {
        archive_set_error(a, EPIPE, "archive stopped after a lying entry");
        return -1;
    }
    while (done < len) {
        ssize_t n = write(o->fd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            archive_set_error(a, errno, "write: %s", strerror(errno));
            return -1;
        }
        done += (size_t)n;
    }
    return (la_ssize_t)len;
}

static int parse_size(const char *s, int64_t *out_size)
{
    char *end = NULL;
    unsigned long long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > (unsigned long long)INT64_MAX)
        return -1;
    *out_size = (int64_t)v;
    return 0;
}

static struct archive_entry *new_entry(const char *path, mode_t type,
                                       mode_t perm, int64_t size)
{
    struct archive_entry *e = archive_entry_new();

    if (!e)
        return NULL;
    archive_entry_copy_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, MKTAR_MTIME, 0);
    archive_entry_set_size(e, size);
    return e;
}

static int put_header(struct archive *a, struct archive_entry *e)
{
    int r = archive_write_header(a, e);

    if (r < ARCHIVE_OK)
        fprintf(stderr, "evault_mktar: '%s': %s\n", archive_entry_pathname(e),
                archive_error_string(a));
    archive_entry_free(e);
    return r < ARCHIVE_WARN ? -1 : 0;
}

static int put_data(struct archive *a, const void *buf, size_t len,
                    const char *path)
{
    const unsigned char *p = buf;

    while (len > 0) {
        la_ssize_t n = archive_write_data(a, p, len);
        if (n <= 0) {
            fprintf(stderr, "evault_mktar: '%s': %s\n", path,
                    archive_error_string(a) ? archive_error_string(a)
                                            : "short write");
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int put_file(struct archive *a, const char *path, const char *src)
{
    unsigned char *buf = NULL;
    struct stat st;
    int fd, rc = -1;
    struct archive_entry *e;

    if ((fd = open(src, O_RDONLY)) < 0 || fstat(fd, &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        fprintf(stderr, "evault_mktar: cannot read regular file '%s'\n", src);
        goto out;
    }
    if (!(e = new_entry(path, AE_IFREG, 0644, (int64_t)st.st_size)) ||
        put_header(a, e) != 0)
        goto out;
    if (!(buf = malloc(MKTAR_BUF)))
        goto out;
    for (;;) {
        ssize_t n = read(fd, buf, MKTAR_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "evault_mktar: cannot read '%s'\n", src);
            goto out;
        }
        if (n == 0)
            break;
        if (put_data(a, buf, (size_t)n, path) != 0)
            goto out;
    }
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int put_text(struct archive *a, const char *path, const char *text)
{
    size_t len = strlen(text);
    struct archive_entry *e = new_entry(path, AE_IFREG, 0644, (int64_t)len);

    if (!e || put_header(a, e) != 0)
        return -1;
    return put_data(a, text, len, path);
}

static int put_zeros(struct archive *a, const char *path, int64_t size)
{
    struct archive_entry *e = new_entry(path, AE_IFREG, 0644, size);

    if (!e || put_header(a, e) != 0)
        return -1;
    while (size > 0) {
        size_t n = size > MKTAR_BUF ? MKTAR_BUF : (size_t)size;
        if (put_data(a, zeros, n, path) != 0)
            return -1;
        size -= (int64_t)n;
    }
    return 0;
}

static int put_special(struct archive *a, const char *path, mode_t type,
                       const char *target)
{
    struct archive_entry *e =
        new_entry(path, type, type == AE_IFLNK ? 0777 : 0644, 0);

    if (!e)
        return -1;
    if (type == AE_IFLNK)
        archive_entry_copy_symlink(e, target);
    else if (type == AE_IFCHR || type == AE_IFBLK)
    {
        archive_entry_set_rdevmajor(e, 1);
        archive_entry_set_rdevminor(e, 3);
    }
    return put_header(a, e);
}

static int put_hardlink(struct archive *a, const char *path,
                        const char *target)
{
    struct archive_entry *e = new_entry(path, AE_IFREG, 0644, 0);

    if (!e)
        return -1;
    archive_entry_copy_hardlink(e, target);
    return put_header(a, e);
}

static int put_dir(struct archive *a, const char *path)
{
    struct archive_entry *e = new_entry(path, AE_IFDIR, 0755, 0);

    return e ? put_header(a, e) : -1;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* DIR as directory PATH and, in name order, what lies under it. */
static int put_tree(struct archive *a, const char *path, const char *dir,
                    int depth)
{
    DIR *d = NULL;
    struct dirent *de;
    char **names = NULL, sub[4096], subpath[4096];
    size_t n = 0, cap = 0, i;
    int rc = -1;

    if (depth > MKTAR_MAX_DEPTH) {
        fprintf(stderr, "evault_mktar: '%s' is too deep\n", dir);
        return -1;
    }
    if (put_dir(a, path) != 0)
        return -1;
    if (!(d = opendir(dir))) {
        fprintf(stderr, "evault_mktar: cannot open directory '%s'\n", dir);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **t = realloc(names, (cap = cap * 2 + 16) * sizeof *names);
            if (!t)
                goto out;
            names = t;
        }
        if (!(names[n] = strdup(de->d_name)))
            goto out;
        n++;
    }
    if (n > 0)
        qsort(names, n, sizeof *names, by_name);
    for (i = 0; i < n; i++) {
        struct stat st;
        int l1 = snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
        int l2 = snprintf(subpath, sizeof subpath, "%s/%s", path, names[i]);

        if (l1 < 0 || (size_t)l1 >= sizeof sub || l2 < 0 ||
            (size_t)l2 >= sizeof subpath) {
            fprintf(stderr, "evault_mktar: path too long under '%s'\n", dir);
            goto out;
        }
        if (lstat(sub, &st) != 0) {
            fprintf(stderr, "evault_mktar: cannot stat '%s'\n", sub);
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            if (put_tree(a, subpath, sub, depth + 1) != 0)
                goto out;
        } else if (S_ISREG(st.st_mode)) {
            if (put_file(a, subpath, sub) != 0)
                goto out;
        } else {
            fprintf(stderr,
                    "evault_mktar: '%s' is neither a file nor a directory "
                    "(use an s:, h:, c:, b: or p: spec)\n",
                    sub);
            goto out;
        }
    }
    rc = 0;
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

/* The lie: a header for size bytes, a little data, then the end. */
static int put_lie(struct archive *a, out *o, const char *path, int64_t size)
{
    unsigned char buf[MKTAR_LIE_BYTES];
    size_t n = size - 1 > MKTAR_LIE_BYTES ? MKTAR_LIE_BYTES
                                          : (size_t)(size - 1);
    struct archive_entry *e;

    if (!(e = new_entry(path, AE_IFREG, 0644, size)) || put_header(a, e) != 0)
        return -1;
    memset(buf, 'A', sizeof buf);
    if (put_data(a, buf, n, path) != 0)
        return -1;
    o->stopped = 1;
    return 0;
}

/*
 * One SPEC: checked only when a is NULL (all of them are, before anything
 * is written, so a typo never leaves half an archive), else written.
 */
static int put_spec(struct archive *a, out *o, const char *spec, int last)
{
    static const char *const kinds[] = {"f", "t", "z", "r", "s", "h", "lie",
                                        "d", "c", "b", "p"};
    const size_t nvalued = 7; /* the first seven take "=VALUE" */
    const char *colon = strchr(spec, ':');
    char *kind = NULL, *path, *eq;
    const char *val = NULL;
    size_t k;
    int64_t size = 0;
    int rc = -1;

    if (!colon || colon == spec || !(kind = strdup(spec))) {
        fprintf(stderr, "evault_mktar: bad spec '%s'\n", spec);
        return -1;
    }
    kind[colon - spec] = '\0';
    path = kind + (colon - spec) + 1;
    if ((eq = strchr(path, '=')) != NULL) {
        *eq = '\0';
        val = eq + 1;
    }
    for (k = 0; k < sizeof kinds / sizeof *kinds; k++)
        if (strcmp(kind, kinds[k]) == 0)
            break;
    if (k == sizeof kinds / sizeof *kinds || *path == '\0' ||
        (k < nvalued) != (val != NULL)) {
        fprintf(stderr, "evault_mktar: bad spec '%s'\n", spec);
        goto out;
    }
    if ((strcmp(kind, "z") == 0 || strcmp(kind, "lie") == 0) &&
        parse_size(val, &size) != 0) {
        fprintf(stderr, "evault_mktar: bad size in '%s'\n", spec);
        goto out;
    }
    if (strcmp(kind, "lie") == 0 && (!last || size < 2)) {
        fprintf(stderr, "evault_mktar: '%s' must be the last spec, with a "
                        "SIZE of 2 or more\n", spec);
        goto out;
    }
    if (!a) {
        rc = 0;
        goto out;
    }
    if (strcmp(kind, "f") == 0)
        rc = put_file(a, path, val);
    else if (strcmp(kind, "t") == 0)
        rc = put_text(a, path, val);
    else if (strcmp(kind, "z") == 0)
        rc = put_zeros(a, path, size);
    else if (strcmp(kind, "lie") == 0)
        rc = put_lie(a, o, path, size);
    else if (strcmp(kind, "r") == 0)
        rc = put_tree(a, path, val, 0);
    else if (strcmp(kind, "s") == 0)
        rc = put_special(a, path, AE_IFLNK, val);
    else if (strcmp(kind, "h") == 0)
        rc = put_hardlink(a, path, val);
    else if (strcmp(kind, "d") == 0)
        rc = put_dir(a, path);
    else if (strcmp(kind, "c") == 0)
        rc = put_special(a, path, AE_IFCHR, NULL);
    else if (strcmp(kind, "b") == 0)
        rc = put_special(a, path, AE_IFBLK, NULL);
    else
        rc = put_special(a, path, AE_IFIFO, NULL);
out:
    free(kind);
    return rc;
}

static int set_format(struct archive *a, const char *name)
{
    if (strcmp(name, "pax") == 0)
        return archive_write_set_format_pax_restricted(a);
    if (strcmp(name, "paxfull") == 0)
        return archive_write_set_format_pax(a);
    if (strcmp(name, "ustar") == 0)
        return archive_write_set_format_ustar(a);
    if (strcmp(name, "gnutar") == 0)
        return archive_write_set_format_gnutar(a);
    return ARCHIVE_FATAL;
}

static void usage(void)
{
    fprintf(stderr, "usage: evault_mktar [-o FILE] "
                    "[--format pax|paxfull|ustar|gnutar] SPEC...\n"
                    "  (see the comment at the top of "
                    "tests/tools/evault_mktar.c)\n");
}

int main(int argc, char **argv)
{
    struct archive *a = NULL;
    const char *file = NULL, *format = "pax";
    out o = {1, 0};
    int i = 1, j, rc = 1;

    for (; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            format = argv[++i];
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-') {
            usage();
            return 2;
        } else
            break;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    for (j = i; j < argc; j++)
        if (put_spec(NULL, &o, argv[j], j == argc - 1) != 0)
            return 2;
    if (file &&
        (o.fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644)) <
            0) {
        fprintf(stderr, "evault_mktar: cannot create '%s': %s\n", file,
                strerror(errno));
        return 1;
    }
    if (!(a = archive_write_new()))
        goto out;
    if (set_format(a, format) != ARCHIVE_OK) {
        fprintf(stderr, "evault_mktar: unknown format '%s'\n", format);
        rc = 2;
        goto out;
    }
    /* no blocking: every byte is with us as soon as libarchive writes it */
    if (archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open(a, &o, NULL, out_write, NULL) != ARCHIVE_OK) {
        fprintf(stderr, "evault_mktar: %s\n", archive_error_string(a));
        goto out;
    }
    for (; i < argc; i++)
        if (put_spec(a, &o, argv[i], i == argc - 1) != 0)
            goto out;
    /* after a lie, closing fails by design: nothing more is written */
    if (archive_write_close(a) != ARCHIVE_OK && !o.stopped) {
        fprintf(stderr, "evault_mktar: %s\n", archive_error_string(a));
        goto out;
    }
    rc = 0;
out:
    if (a && rc != 0) {
        /* libarchive frees its output state on close only; nothing more
         * reaches the output after a failure */
        o.stopped = 1;
        (void)archive_write_close(a);
    }
    archive_write_free(a);
    if (file && o.fd >= 0 && close(o.fd) != 0 && rc == 0) {
        fprintf(stderr, "evault_mktar: cannot write '%s'\n", file);
        rc = 1;
    }
    return rc;
}
