/*
 * crashvfs: a test-only SQLite VFS named "crashvfs" that wraps "unix" and
 * simulates a power loss, after SQLite's own src/test6.c.
 *
 * Every write is kept in memory, per file, until that file is synced; reads
 * and sizes see the pending writes as if they were on disk. A sync applies
 * them to the real file. Truncate and delete are immediate. xWrite and xSync
 * calls are counted; when the count reaches the armed event, the power goes:
 * each pending write of every file is independently applied whole, dropped,
 * or torn (a random prefix of its 512-byte sectors applied, the next sector
 * sometimes filled with garbage), and the process leaves with _exit(0) at
 * once. A crash at a sync happens before that sync's writes are applied.
 *
 * Torn writes damage only the bytes the write covered: the unix VFS claims
 * SQLITE_IOCAP_POWERSAFE_OVERWRITE, and so does this one.
 *
 * Single-threaded use only (the crash tests fork one process per crash).
 */
#ifndef EV_TEST_CRASHVFS_H
#define EV_TEST_CRASHVFS_H

#include <stdint.h>

/* What the simulated power loss did. Index [1]: files whose name ends in
 * "-journal"; [0]: every other file (the vault). */
typedef struct crashvfs_stats {
    long event;     /* the event (1-based) that crashed */
    int at_sync;    /* 1: the crash happened at an xSync, 0: at an xWrite */
    int in_journal; /* the crashing call was on a journal */
    int applied[2]; /* pending writes that reached the disk whole */
    int dropped[2]; /* pending writes lost entirely */
    int torn[2];    /* pending writes of which only a prefix (or nothing)
                       reached the disk, maybe with a garbage sector */
    int garbage[2]; /* torn writes that left a sector of garbage */
} crashvfs_stats;

/* Register "crashvfs" (not as the default). Returns an SQLite code. */
int crashvfs_register(void);

/*
 * Reset the event counter and arm a crash at event number `event` (1-based
 * count of xWrite and xSync calls from now on; 0 = never). seed drives every
 * random choice of the crash, so a crash point replays exactly.
 */
void crashvfs_arm(long event, uint64_t seed);

/* Number of xWrite and xSync calls since the last crashvfs_arm. */
long crashvfs_events(void);

/*
 * Call fn(stats, arg) at the crash, after the disk is in its final state
 * and just before _exit(0); fn may write to a pipe but must not touch the
 * simulated files. NULL: no report.
 */
void crashvfs_on_crash(void (*fn)(const crashvfs_stats *, void *), void *arg);

/*
 * Apply every pending write, as an orderly shutdown would. Call after every
 * connection using crashvfs is closed. Returns 0, or -1 on an I/O error.
 */
int crashvfs_flush(void);

#endif
