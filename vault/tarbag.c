/*
 * tarbag: see tarbag.h. Laid out as: the libarchive read callback, entry
 * rules (path, type, place in the bag), reading one entry (tag file into
 * memory, payload file hashed and handed to the sink), then the checks
 * that need the whole bag (bagit.txt, bag-info.txt, the two manifests).
 */
#include "tarbag.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <locale.h>
#include <nettle/sha2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../crypto/msig.h"

#define DATA_BUF 65536

static const struct {
    const char *name;
    size_t max;
} tags[TARBAG_NTAGS] = {
    [TARBAG_BAGIT] = {"bagit.txt", 1024},
    [TARBAG_BAGINFO] = {"bag-info.txt", BAG_MAX_BAGINFO},
    [TARBAG_MANIFEST] = {"manifest-sha256.txt", BAG_MAX_MANIFEST},
    [TARBAG_TAGMANIFEST] = {"tagmanifest-sha256.txt", 1u << 20},
    [TARBAG_TAGSIG] = {"tagmanifest-sha256.txt.minisig", MSIG_SIGFILE_MAX},
    [TARBAG_README] = {"README.txt", 1u << 20},
};

const char *tarbag_tag_name(int i)
{
    return i >= 0 && i < TARBAG_NTAGS ? tags[i].name : "";
}

void tarbag_init(tarbag *tb)
{
    memset(tb, 0, sizeof *tb);
    bag_manifest_init(&tb->names, BAG_MANIFEST_PAYLOAD);
}

void tarbag_clear(tarbag *tb)
{
    if (!tb)
        return;
    free(tb->root);
    for (size_t i = 0; i < tb->nfiles; i++) {
        free(tb->files[i].path);
        if (tb->files[i].data) {
            sodium_memzero(tb->files[i].data, tb->files[i].size);
            free(tb->files[i].data);
        }
    }
    free(tb->files);
    for (int i = 0; i < TARBAG_NTAGS; i++)
        free(tb->tag[i]);
    bag_info_clear(&tb->info);
    bag_manifest_clear(&tb->names);
    tarbag_init(tb);
}

/* ---- reading ------------------------------------------------------------- */

typedef struct rctx {
    tarbag *tb;
    tarbag_read_fn rd;
    void *rarg;
    const tarbag_sink *sink;
    report *r;
    ev_err *e;
    int rd_failed; /* rd's error is in e */
    int ended;     /* rd said the end */
    uint8_t *buf;  /* DATA_BUF bytes for entry data */
} rctx;

static la_ssize_t read_cb(struct archive *a, void *arg, const void **buf)
{
    rctx *c = arg;
    const uint8_t *p = NULL;
    size_t len = 0;

    if (c->ended || c->rd_failed)
        return 0;
    if (c->rd(c->rarg, &p, &len, c->e) != 0) {
        c->rd_failed = 1;
        archive_set_error(a, -1, "read failed");
        return -1;
    }
    if (len == 0)
        c->ended = 1;
    c->tb->tar_bytes += len;
    *buf = p;
    return (la_ssize_t)len;
}

/* An error about entry path (q quoted); stops the read. */
#define ENTRY_ERR(c, q, ...)                                                  \
    err_set((c)->e, EV_ERR_INTEGRITY, __VA_ARGS__)

static int tag_index(const char *p)
{
    for (int i = 0; i < TARBAG_NTAGS; i++)
        if (strcmp(p, tags[i].name) == 0)
            return i;
    return -1;
}

/*
 * Where entry name lies in the bag. Strips one leading "./" and the top
 * directory (fixed by the first entry) and trailing slashes. OUT: *rel
 * (points into name, "" for the top directory itself). Returns 0 or an
 * error naming the entry.
 */
static int place(rctx *c, char *name, int is_dir, const char **rel)
{
    tarbag *tb = c->tb;
    char q[BAG_QMAX];
    size_t n = strlen(name);
    const char *p = name;

    if (name[0] == '/')
        return ENTRY_ERR(c, q, "tar entry '%s' has an absolute path: refused",
                         bag_quote(q, name, n));
    while (n > 0 && name[n - 1] == '/')
        name[--n] = '\0';
    if (strncmp(p, "./", 2) == 0)
        p += 2;
    else if (strcmp(p, ".") == 0)
        p += 1;
    if (!tb->root) {
        /* the first entry: a directory holding the bag, or the bag's own
         * top ("./", or a tag file at the top) */
        const char *slash = strchr(p, '/');
        size_t k = slash ? (size_t)(slash - p) : strlen(p);
        int top = *p == '\0' || (!slash && !is_dir) ||
                  (slash && k == 4 && memcmp(p, "data", 4) == 0) ||
                  (!slash && strcmp(p, "data") == 0);
        tb->root = top ? strdup("") : strndup(p, k);
        if (!tb->root)
            return err_set(c->e, EV_ERR_NOMEM, "out of memory");
        if (*tb->root && (strcmp(tb->root, ".") == 0 ||
                          strcmp(tb->root, "..") == 0 ||
                          bag_path_check(tb->root, c->e) != 0))
            return ENTRY_ERR(c, q, "tar entry '%s': the top directory is not "
                             "a safe name: refused", bag_quote(q, name, n));
    }
    if (*tb->root) {
        size_t k = strlen(tb->root);
        if (strncmp(p, tb->root, k) != 0 || (p[k] != '\0' && p[k] != '/'))
            return ENTRY_ERR(c, q, "tar entry '%s' is not under the bag's "
                             "top directory '%s': a bundle holds one bag",
                             bag_quote(q, name, n), tb->root);
        p += k + (p[k] == '/');
    }
    *rel = p;
    return 0;
}

static int depth_ok(const char *p)
{
    int d = 0;
    for (; *p; p++)
        d += *p == '/';
    return d < BAG_MAX_DEPTH;
}

/* Read the entry's data (declared size bytes) into tag slot i. */
static int read_tag(rctx *c, struct archive *ar, int i, int64_t size)
{
    tarbag *tb = c->tb;
    la_ssize_t k;
    size_t got = 0;

    if (tb->tag[i])
        return err_set(c->e, EV_ERR_INTEGRITY, "'%s' appears twice in the "
                       "bundle: refused", tags[i].name);
    if (size < 0 || (uint64_t)size > tags[i].max)
        return err_set(c->e, EV_ERR_INTEGRITY, "'%s' is larger than %zu "
                       "bytes: refused", tags[i].name, tags[i].max);
    if (!(tb->tag[i] = malloc((size_t)size + 1)))
        return err_set(c->e, EV_ERR_NOMEM, "out of memory");
    while ((k = archive_read_data(ar, tb->tag[i] + got,
                                  (size_t)size - got + 1)) > 0)
        got += (size_t)k;
    if (k < 0 || got != (size_t)size)
        return c->rd_failed ? c->e->code
                            : err_set(c->e, EV_ERR_INTEGRITY, "cannot read "
                                      "'%s' from the bundle: %s",
                                      tags[i].name,
                                      k < 0 ? archive_error_string(ar)
                                            : "its size is wrong");
    tb->tag[i][got] = '\0';
    tb->taglen[i] = got;
    {
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, got, (const uint8_t *)tb->tag[i]);
        sha256_digest(&h, BAG_SHA256_LEN, tb->tagsha[i]);
    }
    if (i == TARBAG_BAGINFO) {
        const char *ox;
        char *end = NULL;
        report tmp = {0};
        if (bag_info_parse(tb->tag[i], got, &tb->info, &tmp, c->e) != 0)
            return EV_ERR_NOMEM;
        report_clear(&tmp); /* reported again, with the rest, at the end */
        ox = bag_info_get(&tb->info, BAG_LABEL_PAYLOAD_OXUM);
        if (ox && ox[0] >= '0' && ox[0] <= '9') {
            unsigned long long b, f;
            errno = 0;
            b = strtoull(ox, &end, 10);
            if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
                f = strtoull(end + 1, &end, 10);
                if (*end == '\0' && errno == 0) {
                    tb->oxum_bytes = b;
                    tb->oxum_files = f;
                    tb->have_oxum = 1;
                }
            }
        }
        if (tb->have_oxum && (tb->payload_bytes > tb->oxum_bytes ||
                              tb->nfiles > tb->oxum_files))
            return err_set(c->e, EV_ERR_INTEGRITY, "the payload read so far "
                           "(%llu bytes in %zu files) already exceeds "
                           "Payload-Oxum %s: refused",
                           (unsigned long long)tb->payload_bytes, tb->nfiles,
                           ox);
    }
    return 0;
}

static int add_file(tarbag *tb, const char *path, uint64_t size, ev_err *e)
{
    tarbag_file *f;

    if (tb->nfiles == tb->cap) {
        size_t cap = tb->cap ? tb->cap * 2 : 64;
        tarbag_file *n = realloc(tb->files, cap * sizeof *n);
        if (!n)
            return err_set(e, EV_ERR_NOMEM, "out of memory");
        tb->files = n;
        tb->cap = cap;
    }
    f = &tb->files[tb->nfiles];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path)))
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    f->size = size;
    tb->nfiles++;
    return 0;
}

/* A payload file: hash it and hand it to the sink. */
static int read_payload(rctx *c, struct archive *ar, const char *path,
                        int64_t size)
{
    static const uint8_t zero[BAG_SHA256_LEN];
    tarbag *tb = c->tb;
    const tarbag_sink *s = c->sink;
    tarbag_file *f;
    struct sha256_ctx h;
    char q[BAG_QMAX];
    uint64_t got = 0;
    la_ssize_t k;
    int mode = TARBAG_HASH, rc;

    if (size < 0)
        return ENTRY_ERR(c, q, "'%s' has no size: refused",
                         bag_quote(q, path, strlen(path)));
    if (tb->have_oxum && (tb->nfiles + 1 > tb->oxum_files ||
                          (uint64_t)size > tb->oxum_bytes - tb->payload_bytes))
        return ENTRY_ERR(c, q, "'%s' (%lld bytes) goes beyond the payload "
                         "that Payload-Oxum announces (%llu bytes in %llu "
                         "files): refused",
                         bag_quote(q, path, strlen(path)), (long long)size,
                         (unsigned long long)tb->oxum_bytes,
                         (unsigned long long)tb->oxum_files);
    if ((rc = bag_manifest_add(&tb->names, path, zero, c->e)) != 0) {
        char why[EV_ERRMAX];
        snprintf(why, sizeof why, "%s", c->e->msg);
        return rc == EV_ERR_NOMEM ? rc
                                  : err_set(c->e, EV_ERR_INTEGRITY,
                                            "tar entry refused: %s", why);
    }
    if ((rc = add_file(tb, path, (uint64_t)size, c->e)) != 0)
        return rc;
    f = &tb->files[tb->nfiles - 1];
    tb->payload_bytes += (uint64_t)size;
    if (s && s->begin && (mode = s->begin(s->arg, path, (uint64_t)size,
                                          c->e)) < 0)
        return mode;
    if (mode == TARBAG_KEEP) {
        if ((uint64_t)size > TARBAG_KEEP_MAX)
            return ENTRY_ERR(c, q, "'%s' is larger than %u bytes: refused",
                             bag_quote(q, path, strlen(path)),
                             TARBAG_KEEP_MAX);
        if (tb->kept_bytes + (uint64_t)size > TARBAG_KEPT_MAX)
            return ENTRY_ERR(c, q, "'%s': the records, custody log and seals "
                             "of the bundle are larger than %u bytes in all: "
                             "refused", bag_quote(q, path, strlen(path)),
                             TARBAG_KEPT_MAX);
        if (!(f->data = malloc((size_t)size + 1)))
            return err_set(c->e, EV_ERR_NOMEM, "out of memory");
        tb->kept_bytes += (uint64_t)size;
    }
    sha256_init(&h);
    for (;;) {
        uint8_t *dst = mode == TARBAG_KEEP ? f->data + got : c->buf;
        size_t room = mode == TARBAG_KEEP ? (size_t)((uint64_t)size - got) + 1
                                          : DATA_BUF;
        k = archive_read_data(ar, dst, room);
        if (k <= 0)
            break;
        if (got + (uint64_t)k > (uint64_t)size)
            return ENTRY_ERR(c, q, "'%s' holds more than its %lld bytes",
                             bag_quote(q, path, strlen(path)),
                             (long long)size);
        sha256_update(&h, (size_t)k, dst);
        if (mode == TARBAG_STREAM && s->data &&
            (rc = s->data(s->arg, dst, (size_t)k, c->e)) != 0)
            return rc;
        got += (uint64_t)k;
    }
    if (k < 0 || got != (uint64_t)size)
        return c->rd_failed ? c->e->code
                            : ENTRY_ERR(c, q, "cannot read '%s' from the "
                                        "bundle: %s",
                                        bag_quote(q, path, strlen(path)),
                                        k < 0 ? archive_error_string(ar)
                                              : "the tar ends inside it");
    sha256_digest(&h, BAG_SHA256_LEN, f->sha256);
    if (s && s->end && mode == TARBAG_STREAM &&
        (rc = s->end(s->arg, path, f->sha256, got, c->e)) != 0)
        return rc;
    return 0;
}

static int entry(rctx *c, struct archive *ar, struct archive_entry *en)
{
    const char *raw = archive_entry_pathname(en), *rel = "";
    mode_t type = archive_entry_filetype(en);
    char q[BAG_QMAX], *name = NULL;
    int rc, ti;

    if (!raw || !*raw)
        return err_set(c->e, EV_ERR_INTEGRITY, "a tar entry has no name: "
                       "refused");
    if (archive_entry_hardlink(en))
        return ENTRY_ERR(c, q, "tar entry '%s' is a hard link: refused (a "
                         "bag holds only regular files and directories)",
                         bag_quote(q, raw, strlen(raw)));
    if (type != AE_IFREG && type != AE_IFDIR)
        return ENTRY_ERR(c, q, "tar entry '%s' is a %s: refused (a bag holds "
                         "only regular files and directories)",
                         bag_quote(q, raw, strlen(raw)),
                         type == AE_IFLNK    ? "symbolic link"
                         : type == AE_IFCHR  ? "character device"
                         : type == AE_IFBLK  ? "block device"
                         : type == AE_IFIFO  ? "FIFO"
                         : type == AE_IFSOCK ? "socket"
                                             : "special file");
    if (archive_entry_sparse_count(en) > 0)
        return ENTRY_ERR(c, q, "tar entry '%s' is a sparse file: refused",
                         bag_quote(q, raw, strlen(raw)));
    if (!(name = strdup(raw)))
        return err_set(c->e, EV_ERR_NOMEM, "out of memory");
    if ((rc = place(c, name, type == AE_IFDIR, &rel)) != 0)
        goto out;
    if (*rel && bag_path_check(rel, c->e) != 0) {
        char why[EV_ERRMAX];
        snprintf(why, sizeof why, "%s", c->e->msg);
        rc = ENTRY_ERR(c, q, "tar entry '%s': %s: refused",
                       bag_quote(q, raw, strlen(raw)), why);
        goto out;
    }
    if (!depth_ok(rel)) {
        rc = ENTRY_ERR(c, q, "tar entry '%s' lies more than %d levels deep: "
                       "refused", bag_quote(q, raw, strlen(raw)),
                       BAG_MAX_DEPTH);
        goto out;
    }
    if (type == AE_IFDIR) {
        rc = *rel == '\0' || strcmp(rel, "data") == 0 ||
                     strncmp(rel, "data/", 5) == 0
                 ? 0
                 : ENTRY_ERR(c, q, "tar entry '%s': a directory '%s' at the "
                             "bag's top (only data/ belongs there): refused",
                             bag_quote(q, raw, strlen(raw)), rel);
        goto out;
    }
    if (strncmp(rel, "data/", 5) == 0) {
        rc = read_payload(c, ar, rel, archive_entry_size_is_set(en)
                                          ? archive_entry_size(en)
                                          : -1);
        goto out;
    }
    if ((ti = tag_index(rel)) < 0) {
        rc = ENTRY_ERR(c, q, "tar entry '%s': '%s' is not part of a bundle's "
                       "bag (at the top: bagit.txt, bag-info.txt, "
                       "manifest-sha256.txt, tagmanifest-sha256.txt and its "
                       ".minisig, README.txt, data/): refused",
                       bag_quote(q, raw, strlen(raw)), rel);
        goto out;
    }
    rc = read_tag(c, ar, ti, archive_entry_size_is_set(en)
                                 ? archive_entry_size(en)
                                 : -1);
out:
    free(name);
    return rc;
}

/* ---- checks of the whole bag -------------------------------------------- */

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const tarbag_file *)a)->path,
                  ((const tarbag_file *)b)->path);
}

const tarbag_file *tarbag_find(const tarbag *tb, const char *path)
{
    tarbag_file key;

    if (!tb->nfiles)
        return NULL;
    key.path = (char *)path;
    return bsearch(&key, tb->files, tb->nfiles, sizeof key, cmp_file);
}

typedef struct mctx {
    tarbag *tb;
    report *r;
    int tagseen[TARBAG_NTAGS];
} mctx;

static int payload_line(void *arg, const char *path, const uint8_t *sha,
                        unsigned long line)
{
    mctx *m = arg;
    tarbag_file *f = (tarbag_file *)tarbag_find(m->tb, path);
    char q[BAG_QMAX];

    if (!f)
        report_add(m->r, "manifest-sha256.txt line %lu: '%s' is not in the "
                   "bundle", line, bag_quote(q, path, strlen(path)));
    else if (f->listed)
        report_add(m->r, "manifest-sha256.txt line %lu: '%s' is listed "
                   "twice", line, bag_quote(q, path, strlen(path)));
    else if (f->listed = 1, sodium_memcmp(f->sha256, sha, BAG_SHA256_LEN))
        report_add(m->r, "'%s': SHA-256 does not match manifest-sha256.txt "
                   "(line %lu): the file was changed",
                   bag_quote(q, path, strlen(path)), line);
    return 0;
}

static int tag_line(void *arg, const char *path, const uint8_t *sha,
                    unsigned long line)
{
    mctx *m = arg;
    char q[BAG_QMAX];
    int i = tag_index(path);

    if (i < 0 || i == TARBAG_TAGMANIFEST || i == TARBAG_TAGSIG ||
        !m->tb->tag[i])
        report_add(m->r, "tagmanifest-sha256.txt line %lu: '%s' is not a tag "
                   "file in the bundle", line,
                   bag_quote(q, path, strlen(path)));
    else if (m->tagseen[i]++)
        report_add(m->r, "tagmanifest-sha256.txt line %lu: '%s' is listed "
                   "twice", line, path);
    else if (sodium_memcmp(m->tb->tagsha[i], sha, BAG_SHA256_LEN))
        report_add(m->r, "'%s': SHA-256 does not match "
                   "tagmanifest-sha256.txt (line %lu): the file was changed",
                   path, line);
    return 0;
}

static int check_bag(tarbag *tb, report *r, ev_err *e)
{
    static const int required[] = {TARBAG_BAGIT, TARBAG_BAGINFO,
                                   TARBAG_MANIFEST, TARBAG_TAGMANIFEST};
    mctx m;
    const char *id, *ox;
    char want[BAG_OXUM_MAX];
    int rc = 0;

    memset(&m, 0, sizeof m);
    m.tb = tb;
    m.r = r;
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!tb->tag[required[i]])
            report_add(r, "'%s' is missing from the bag",
                       tags[required[i]].name);
    if (tb->tag[TARBAG_BAGIT])
        (void)bag_bagit_check(tb->tag[TARBAG_BAGIT],
                              tb->taglen[TARBAG_BAGIT], r);
    if (tb->tag[TARBAG_BAGINFO]) {
        bag_info again = {0};
        rc = bag_info_parse(tb->tag[TARBAG_BAGINFO],
                            tb->taglen[TARBAG_BAGINFO], &again, r, e);
        bag_info_clear(&again);
        if (rc)
            return rc;
        id = bag_info_get(&tb->info, BAG_LABEL_EXTERNAL_ID);
        ox = bag_info_get(&tb->info, BAG_LABEL_PAYLOAD_OXUM);
        bag_oxum_format(want, tb->payload_bytes, tb->nfiles);
        if (!id)
            report_add(r, "bag-info.txt has no External-Identifier (the "
                       "bundle's UUID)");
        if (!ox)
            report_add(r, "bag-info.txt has no Payload-Oxum");
        else if (!tb->have_oxum || tb->oxum_bytes != tb->payload_bytes ||
                 tb->oxum_files != tb->nfiles)
            report_add(r, "bag-info.txt: Payload-Oxum is '%s' but the payload "
                       "is %s (bytes.files)", ox, want);
    }
    if (tb->tag[TARBAG_MANIFEST] &&
        (rc = bag_manifest_parse(tb->tag[TARBAG_MANIFEST],
                                 tb->taglen[TARBAG_MANIFEST],
                                 "manifest-sha256.txt", BAG_MANIFEST_PAYLOAD,
                                 payload_line, &m, r, e)) != 0)
        return rc;
    for (size_t i = 0; tb->tag[TARBAG_MANIFEST] && i < tb->nfiles; i++)
        if (!tb->files[i].listed) {
            char q[BAG_QMAX];
            report_add(r, "'%s' is not listed in manifest-sha256.txt",
                       bag_quote(q, tb->files[i].path,
                                 strlen(tb->files[i].path)));
        }
    if (tb->tag[TARBAG_TAGMANIFEST]) {
        if ((rc = bag_manifest_parse(tb->tag[TARBAG_TAGMANIFEST],
                                     tb->taglen[TARBAG_TAGMANIFEST],
                                     "tagmanifest-sha256.txt",
                                     BAG_MANIFEST_TAG, tag_line, &m, r, e)))
            return rc;
        for (int i = 0; i < TARBAG_NTAGS; i++)
            if (tb->tag[i] && i != TARBAG_TAGMANIFEST && i != TARBAG_TAGSIG &&
                !m.tagseen[i])
                report_add(r, "'%s' is not listed in tagmanifest-sha256.txt",
                           tags[i].name);
    }
    return 0;
}

int tarbag_read(tarbag *tb, tarbag_read_fn rd, void *rarg,
                const tarbag_sink *sink, report *r, ev_err *e)
{
    struct archive *ar = NULL;
    struct archive_entry *en;
    locale_t utf8, prev = (locale_t)0;
    rctx c;
    size_t before = r->n;
    int rc = 0, arc;

    memset(&c, 0, sizeof c);
    c.tb = tb;
    c.rd = rd;
    c.rarg = rarg;
    c.sink = sink;
    c.r = r;
    c.e = e;
    if (!(c.buf = malloc(DATA_BUF)))
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    /* names in pax headers are UTF-8: read them in a UTF-8 locale so that
     * libarchive hands them over unchanged */
    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8)
        prev = uselocale(utf8);
    ar = archive_read_new();
    if (!ar || archive_read_support_format_tar(ar) != ARCHIVE_OK ||
        archive_read_open(ar, &c, NULL, read_cb, NULL) != ARCHIVE_OK) {
        rc = c.rd_failed ? e->code
                         : err_set(e, EV_ERR_INTEGRITY, "the bundle's content "
                                   "is not a tar archive: %s",
                                   ar ? archive_error_string(ar) : "no memory");
        goto out;
    }
    while ((arc = archive_read_next_header(ar, &en)) == ARCHIVE_OK) {
        if ((rc = entry(&c, ar, en)) != 0)
            goto out;
    }
    if (arc != ARCHIVE_EOF) {
        rc = c.rd_failed ? e->code
                         : err_set(e, EV_ERR_INTEGRITY, "the bundle's tar "
                                   "archive is damaged: %s",
                                   archive_error_string(ar)
                                       ? archive_error_string(ar)
                                       : "unreadable header");
        goto out;
    }
    if (!tb->root) {
        rc = err_set(e, EV_ERR_INTEGRITY, "the bundle's tar archive is "
                     "empty");
        goto out;
    }
    /* read the stream to its end: the age checks for truncation and
     * trailing data run on the last chunk */
    while (!c.ended) {
        const uint8_t *p;
        size_t len;
        if ((rc = rd(rarg, &p, &len, e)) != 0)
            goto out;
        c.ended = len == 0;
        tb->tar_bytes += len;
    }
    if (tb->nfiles)
        qsort(tb->files, tb->nfiles, sizeof *tb->files, cmp_file);
    if ((rc = check_bag(tb, r, e)) != 0)
        goto out;
    if (r->n > before)
        rc = err_set(e, EV_ERR_INTEGRITY, "%s%s", r->items[before],
                     r->n - before > 1 ? " (and more problems, below)" : "");
out:
    if (ar)
        archive_read_free(ar);
    if (utf8) {
        uselocale(prev);
        freelocale(utf8);
    }
    free(c.buf);
    return rc;
}
