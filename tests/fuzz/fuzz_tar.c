/*
 * fuzz_tar: libFuzzer target for the tar side of bundle import
 * (vault/tarbag.c): each input is the plaintext of a bundle, a tar that
 * libarchive reads and tarbag checks entry by entry (types, paths, the
 * bag's top, duplicates and case, sizes against Payload-Oxum) and then as
 * a bag (bagit.txt, bag-info.txt, both manifests). The input arrives in
 * pieces of varying size, as from the age decryptor; small payload files
 * are kept in memory and the others streamed to a sink that checks it is
 * given exactly the bytes of each file. Any result is fine; a crash, a
 * leak or a sanitizer report is not.
 *
 *   make fuzz (or make test, for a short run)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vault/tarbag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct src {
    const uint8_t *p;
    size_t left, step;
} src;

static int rd(void *arg, const uint8_t **buf, size_t *len, ev_err *e)
{
    src *s = arg;
    size_t n = s->left < s->step ? s->left : s->step;

    (void)e;
    *buf = s->p;
    *len = n;
    s->p += n;
    s->left -= n;
    s->step = s->step * 3 % 65536 + 1; /* uneven pieces */
    return 0;
}

typedef struct sinkstate {
    uint64_t want, got;
    int open;
} sinkstate;

static int begin(void *arg, const char *path, uint64_t size, ev_err *e)
{
    sinkstate *s = arg;
    (void)path;
    (void)e;
    if (size < 64)
        return TARBAG_KEEP;
    s->want = size;
    s->got = 0;
    s->open = 1;
    return TARBAG_STREAM;
}

static int data(void *arg, const uint8_t *buf, size_t len, ev_err *e)
{
    sinkstate *s = arg;
    (void)buf;
    (void)e;
    if (!s->open)
        abort();
    s->got += len;
    if (s->got > s->want)
        abort();
    return 0;
}

static int end(void *arg, const char *path, const uint8_t *sha,
               uint64_t size, ev_err *e)
{
    sinkstate *s = arg;
    (void)path;
    (void)sha;
    (void)e;
    if (!s->open || s->got != s->want || size != s->want)
        abort();
    s->open = 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data_, size_t size)
{
    src s = {data_, size, size % 4096 + 1};
    sinkstate st = {0, 0, 0};
    tarbag_sink sink = {begin, data, end, &st};
    tarbag tb;
    report r = {0};
    ev_err e;

    tarbag_init(&tb);
    if (tarbag_read(&tb, rd, &s, &sink, &r, &e) == 0)
        for (size_t i = 0; i < tb.nfiles; i++)
            if (tarbag_find(&tb, tb.files[i].path) != &tb.files[i])
                abort();
    tarbag_clear(&tb);
    report_clear(&r);
    return 0;
}
