/*
 * crashvfs: power-loss simulation for crash tests, after SQLite's test6.c.
 *
 * Layout of this file:
 *   1. per-file state: the writes made since the file's last sync, kept in
 *      order. State belongs to a path, not to a handle, so several handles
 *      on one file share it and unsynced writes survive a close (as in a
 *      page cache); a delete discards it;
 *   2. the crash: every pending write applied, dropped or torn, then
 *      _exit(0);
 *   3. file methods (reads overlay pending writes) and the VFS methods,
 *      which delegate to "unix".
 */
#include "crashvfs.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512

struct pw {
    struct pw *next;
    sqlite3_int64 off;
    int n;
    unsigned char data[];
};

struct cstate {
    struct cstate *next;
    char *name;  /* NULL when deleted or nameless: never written at a crash */
    int journal; /* name ends in "-journal" */
    int refs;    /* open handles */
    struct pw *head, *tail;
};

typedef struct cfile {
    sqlite3_file base;
    struct cstate *st;
    sqlite3_file *real;
} cfile;

static struct {
    sqlite3_vfs vfs;
    sqlite3_vfs *base;
    struct cstate *states;
    long events, armed;
    uint64_t rng;
    void (*report)(const crashvfs_stats *, void *);
    void *report_arg;
} g;

/* ---- per-file state ----------------------------------------------------- */

static uint64_t rnd(void)
{
    uint64_t z = (g.rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void pending_free(struct cstate *s)
{
    struct pw *p = s->head;
    while (p) {
        struct pw *next = p->next;
        free(p);
        p = next;
    }
    s->head = s->tail = NULL;
}

/* Unlink and free s if nothing refers to it and it holds nothing. */
static void state_release(struct cstate *s)
{
    struct cstate **pp;

    if (s->refs > 0 || (s->name && s->head))
        return;
    for (pp = &g.states; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pending_free(s);
    free(s->name);
    free(s);
}

static struct cstate *state_find(const char *name)
{
    for (struct cstate *s = g.states; s; s = s->next)
        if (s->name && strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

static struct cstate *state_get(const char *name)
{
    struct cstate *s = name ? state_find(name) : NULL;
    size_t len;

    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (name) {
        s->name = strdup(name);
        if (!s->name) {
            free(s);
            return NULL;
        }
        len = strlen(name);
        s->journal = len >= 8 && strcmp(name + len - 8, "-journal") == 0;
    }
    s->next = g.states;
    g.states = s;
    return s;
}

static sqlite3_int64 pending_end(const struct cstate *s, sqlite3_int64 size)
{
    for (const struct pw *p = s->head; p; p = p->next)
        if (p->off + p->n > size)
            size = p->off + p->n;
    return size;
}

static int pwrite_all(int fd, const unsigned char *buf, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, buf, n, off);
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

/* ---- the crash ---------------------------------------------------------- */

/* Apply part of write p to fd as a power loss may leave it. */
static void crash_one(int fd, const struct pw *p, int j, crashvfs_stats *cs)
{
    sqlite3_int64 end = p->off + p->n;
    sqlite3_int64 s0 = p->off / SECTOR, s1 = (end - 1) / SECTOR;
    sqlite3_int64 k, cut, g0, g1;
    unsigned char junk[SECTOR];

    switch (rnd() % 3) {
    case 0:
        (void)pwrite_all(fd, p->data, (size_t)p->n, (off_t)p->off);
        cs->applied[j]++;
        return;
    case 1:
        cs->dropped[j]++;
        return;
    default:
        break;
    }
    /* Torn: only the first k sectors (k < all of them) reached the disk. */
    cs->torn[j]++;
    k = (sqlite3_int64)(rnd() % (uint64_t)(s1 - s0 + 1));
    cut = (s0 + k) * SECTOR;
    if (cut > p->off)
        (void)pwrite_all(fd, p->data, (size_t)(cut - p->off), (off_t)p->off);
    if (rnd() % 2) {
        /* The next sector was being written when the power went. */
        g0 = cut > p->off ? cut : p->off;
        g1 = cut + SECTOR < end ? cut + SECTOR : end;
        for (size_t i = 0; i < sizeof junk; i += 8) {
            uint64_t r = rnd();
            memcpy(junk + i, &r, 8);
        }
        (void)pwrite_all(fd, junk, (size_t)(g1 - g0), (off_t)g0);
        cs->garbage[j]++;
    }
}

static void crash(const struct cstate *at, int at_sync)
{
    crashvfs_stats cs;

    memset(&cs, 0, sizeof cs);
    cs.event = g.events;
    cs.at_sync = at_sync;
    cs.in_journal = at->journal;
    for (struct cstate *s = g.states; s; s = s->next) {
        int fd;
        if (!s->name || !s->head)
            continue;
        fd = open(s->name, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        for (const struct pw *p = s->head; p; p = p->next)
            crash_one(fd, p, s->journal, &cs);
        close(fd);
    }
    if (g.report)
        g.report(&cs, g.report_arg);
    _exit(0);
}

/* ---- file methods ------------------------------------------------------- */

static int cf_close(sqlite3_file *pf)
{
    cfile *f = (cfile *)pf;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real)
                               : SQLITE_OK;
    f->st->refs--;
    state_release(f->st);
    f->st = NULL;
    return rc;
}

static int cf_read(sqlite3_file *pf, void *buf, int amt, sqlite3_int64 off)
{
    cfile *f = (cfile *)pf;
    sqlite3_int64 size = 0, end = off + amt;
    int rc;

    rc = f->real->pMethods->xRead(f->real, buf, amt, off);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
        return rc;
    rc = f->real->pMethods->xFileSize(f->real, &size);
    if (rc != SQLITE_OK)
        return rc;
    for (const struct pw *p = f->st->head; p; p = p->next) {
        sqlite3_int64 a = p->off > off ? p->off : off;
        sqlite3_int64 b = p->off + p->n < end ? p->off + p->n : end;
        if (a < b)
            memcpy((unsigned char *)buf + (a - off), p->data + (a - p->off),
                   (size_t)(b - a));
    }
    return end > pending_end(f->st, size) ? SQLITE_IOERR_SHORT_READ
                                          : SQLITE_OK;
}

static int cf_write(sqlite3_file *pf, const void *buf, int amt,
                    sqlite3_int64 off)
{
    cfile *f = (cfile *)pf;
    struct pw *p;

    if (amt <= 0)
        return SQLITE_OK;
    p = malloc(sizeof *p + (size_t)amt);
    if (!p)
        return SQLITE_IOERR_NOMEM;
    p->next = NULL;
    p->off = off;
    p->n = amt;
    memcpy(p->data, buf, (size_t)amt);
    if (f->st->tail)
        f->st->tail->next = p;
    else
        f->st->head = p;
    f->st->tail = p;
    if (++g.events == g.armed)
        crash(f->st, 0);
    return SQLITE_OK;
}

static int cf_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
    cfile *f = (cfile *)pf;
    struct pw **pp = &f->st->head;
    int rc = f->real->pMethods->xTruncate(f->real, size);

    if (rc != SQLITE_OK)
        return rc;
    f->st->tail = NULL;
    while (*pp) {
        struct pw *p = *pp;
        if (p->off >= size) {
            *pp = p->next;
            free(p);
            continue;
        }
        if (p->off + p->n > size)
            p->n = (int)(size - p->off);
        f->st->tail = p;
        pp = &p->next;
    }
    return SQLITE_OK;
}

static int cf_sync(sqlite3_file *pf, int flags)
{
    cfile *f = (cfile *)pf;
    int rc = SQLITE_OK;

    (void)flags;
    if (++g.events == g.armed)
        crash(f->st, 1);
    /* The simulation is what matters: no real fsync. */
    for (const struct pw *p = f->st->head; p && rc == SQLITE_OK; p = p->next)
        rc = f->real->pMethods->xWrite(f->real, p->data, p->n, p->off);
    pending_free(f->st);
    return rc;
}

static int cf_size(sqlite3_file *pf, sqlite3_int64 *size)
{
    cfile *f = (cfile *)pf;
    int rc = f->real->pMethods->xFileSize(f->real, size);
    if (rc == SQLITE_OK)
        *size = pending_end(f->st, *size);
    return rc;
}

static int cf_lock(sqlite3_file *pf, int level)
{
    cfile *f = (cfile *)pf;
    return f->real->pMethods->xLock(f->real, level);
}

static int cf_unlock(sqlite3_file *pf, int level)
{
    cfile *f = (cfile *)pf;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int cf_reserved(sqlite3_file *pf, int *out)
{
    cfile *f = (cfile *)pf;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int cf_fcntl(sqlite3_file *pf, int op, void *arg)
{
    cfile *f = (cfile *)pf;
    /* A size hint could grow the real file behind the pending writes. */
    if (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_MMAP_SIZE)
        return SQLITE_NOTFOUND;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int cf_sector(sqlite3_file *pf)
{
    cfile *f = (cfile *)pf;
    return f->real->pMethods->xSectorSize(f->real);
}

static int cf_devchar(sqlite3_file *pf)
{
    cfile *f = (cfile *)pf;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static const sqlite3_io_methods cf_methods = {
    1,          cf_close,  cf_read,   cf_write,    cf_truncate,
    cf_sync,    cf_size,   cf_lock,   cf_unlock,   cf_reserved,
    cf_fcntl,   cf_sector, cf_devchar, NULL,       NULL,
    NULL,       NULL,      NULL,      NULL,
};

/* ---- the VFS ------------------------------------------------------------ */

#define REAL_OFFSET ((sizeof(cfile) + 7) & ~(size_t)7)

static int cv_open(sqlite3_vfs *v, const char *name, sqlite3_file *pf,
                   int flags, int *out_flags)
{
    cfile *f = (cfile *)pf;
    int rc;

    (void)v;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)pf + REAL_OFFSET);
    rc = g.base->xOpen(g.base, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK)
        return rc;
    f->st = state_get(flags & SQLITE_OPEN_DELETEONCLOSE ? NULL : name);
    if (!f->st) {
        f->real->pMethods->xClose(f->real);
        return SQLITE_NOMEM;
    }
    f->st->refs++;
    f->base.pMethods = &cf_methods;
    return SQLITE_OK;
}

static int cv_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
    struct cstate *s = state_find(name);

    (void)v;
    if (s) {
        /* Writes still pending on a deleted file go nowhere. */
        pending_free(s);
        free(s->name);
        s->name = NULL;
        state_release(s);
    }
    return g.base->xDelete(g.base, name, sync_dir);
}

static int cv_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
    (void)v;
    return g.base->xAccess(g.base, name, flags, out);
}

static int cv_fullpath(sqlite3_vfs *v, const char *name, int n, char *out)
{
    (void)v;
    return g.base->xFullPathname(g.base, name, n, out);
}

static void *cv_dlopen(sqlite3_vfs *v, const char *name)
{
    (void)v;
    return g.base->xDlOpen(g.base, name);
}

static void cv_dlerror(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    g.base->xDlError(g.base, n, msg);
}

static void (*cv_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
    (void)v;
    return g.base->xDlSym(g.base, h, sym);
}

static void cv_dlclose(sqlite3_vfs *v, void *h)
{
    (void)v;
    g.base->xDlClose(g.base, h);
}

static int cv_random(sqlite3_vfs *v, int n, char *out)
{
    (void)v;
    return g.base->xRandomness(g.base, n, out);
}

static int cv_sleep(sqlite3_vfs *v, int us)
{
    (void)v;
    return g.base->xSleep(g.base, us);
}

static int cv_time(sqlite3_vfs *v, double *t)
{
    (void)v;
    return g.base->xCurrentTime(g.base, t);
}

static int cv_lasterr(sqlite3_vfs *v, int n, char *msg)
{
    (void)v;
    return g.base->xGetLastError ? g.base->xGetLastError(g.base, n, msg) : 0;
}

static int cv_time64(sqlite3_vfs *v, sqlite3_int64 *t)
{
    (void)v;
    return g.base->xCurrentTimeInt64(g.base, t);
}

int crashvfs_register(void)
{
    if (g.base)
        return SQLITE_OK;
    g.base = sqlite3_vfs_find("unix");
    if (!g.base || g.base->iVersion < 2 || !g.base->xCurrentTimeInt64) {
        g.base = NULL;
        return SQLITE_ERROR;
    }
    g.vfs.iVersion = 2;
    g.vfs.szOsFile = (int)(REAL_OFFSET + (size_t)g.base->szOsFile);
    g.vfs.mxPathname = g.base->mxPathname;
    g.vfs.zName = "crashvfs";
    g.vfs.xOpen = cv_open;
    g.vfs.xDelete = cv_delete;
    g.vfs.xAccess = cv_access;
    g.vfs.xFullPathname = cv_fullpath;
    g.vfs.xDlOpen = cv_dlopen;
    g.vfs.xDlError = cv_dlerror;
    g.vfs.xDlSym = cv_dlsym;
    g.vfs.xDlClose = cv_dlclose;
    g.vfs.xRandomness = cv_random;
    g.vfs.xSleep = cv_sleep;
    g.vfs.xCurrentTime = cv_time;
    g.vfs.xGetLastError = cv_lasterr;
    g.vfs.xCurrentTimeInt64 = cv_time64;
    return sqlite3_vfs_register(&g.vfs, 0);
}

void crashvfs_arm(long event, uint64_t seed)
{
    g.events = 0;
    g.armed = event;
    g.rng = seed;
}

long crashvfs_events(void)
{
    return g.events;
}

void crashvfs_on_crash(void (*fn)(const crashvfs_stats *, void *), void *arg)
{
    g.report = fn;
    g.report_arg = arg;
}

int crashvfs_flush(void)
{
    int rc = 0;
    struct cstate *s = g.states;

    while (s) {
        struct cstate *next = s->next;
        if (s->name && s->head) {
            int fd = open(s->name, O_WRONLY | O_CLOEXEC);
            if (fd < 0)
                rc = -1;
            for (const struct pw *p = s->head; fd >= 0 && p; p = p->next)
                if (pwrite_all(fd, p->data, (size_t)p->n, (off_t)p->off) != 0)
                    rc = -1;
            if (fd >= 0)
                close(fd);
        }
        pending_free(s);
        state_release(s);
        s = next;
    }
    return rc;
}
