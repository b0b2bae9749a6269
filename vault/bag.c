/*
 * bag: see bag.h. Laid out as
 *
 *   text helpers   UTF-8 decoding, quoting hostile names for findings,
 *                  the path rules, percent-encoding, case folding;
 *   names          a table of paths (exact and case-folded hash indexes)
 *                  shared by the manifest builder (duplicates, case and
 *                  file/directory conflicts) and the validator (what each
 *                  manifest lists, what the walk found);
 *   builders       bag-info.txt, payload and tag manifests;
 *   validator      bagit.txt, bag-info.txt, the manifests, a walk of the
 *                  whole tree with fstatat(AT_SYMLINK_NOFOLLOW), then the
 *                  cross-checks, then hashing.
 *
 * The validator never opens a path taken from a manifest: manifest paths
 * are only looked up in the table that the walk of the directory fills, and
 * files are opened again component by component with O_NOFOLLOW from the
 * bag's directory descriptor (and must still be the inode the walk saw).
 */
#include "bag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define QMAX BAG_QMAX      /* a quoted name in a finding */
#define READ_CHUNK 65536   /* bytes per read when hashing or parsing */
#define BAGIT_TXT_MAX 1024 /* bagit.txt is two short lines */
#define LABEL_MAX 128
#define NSLOTS 4 /* (sha256, sha512) x (payload, tag) manifests */

/* ---- text helpers ------------------------------------------------------- */

/* Decode one UTF-8 sequence (strict: no overlong forms, no surrogates, at
 * most U+10FFFF). OUT: *cp. Returns its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xc2 || c > 0xf4)
        return 0;
    if (c < 0xe0) {
        if (n < 2 || (s[1] & 0xc0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x1f) << 6) | (s[1] & 0x3f);
        return 2;
    }
    if (c < 0xf0) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(s[1] & 0x3f) << 6) |
              (s[2] & 0x3f);
        if (*cp < 0x800 || (*cp >= 0xd800 && *cp <= 0xdfff))
            return 0;
        return 3;
    }
    if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
        (s[3] & 0xc0) != 0x80)
        return 0;
    *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3f) << 12) |
          ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
    if (*cp < 0x10000 || *cp > 0x10ffff)
        return 0;
    return 4;
}

static int is_control(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

static int utf8_valid(const char *s, size_t n)
{
    uint32_t cp;
    for (size_t i = 0, k; i < n; i += k)
        if ((k = utf8_decode((const unsigned char *)s + i, n - i, &cp)) == 0)
            return 0;
    return 1;
}

/* Unicode's bidirectional formatting characters, which can make a name
 * read as another on a terminal. */
static int is_bidi(uint32_t cp)
{
    return cp == 0x200e || cp == 0x200f || cp == 0x061c ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * A name from a bag, fit to quote in a finding: valid UTF-8 other than
 * control characters is kept, a backslash doubled, bidirectional
 * formatting characters written as \uNNNN and every other byte as \xNN;
 * cut with "..." beyond QMAX bytes. OUT: buf (QMAX bytes).
 */
static const char *qname(char *buf, const char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        char tmp[8];
        uint32_t cp = 0;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp),
               tl;
        if (k && cp == '\\') {
            memcpy(tmp, "\\\\", 2);
            tl = 2;
        } else if (k && is_bidi(cp)) {
            snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp);
            tl = 6;
        } else if (k && !is_control(cp)) {
            memcpy(tmp, s + i, k);
            tl = k;
        } else {
            snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned char)s[i]);
            tl = 4;
            k = 1;
        }
        if (o + tl > QMAX - 4) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, tmp, tl);
        o += tl;
        i += k;
    }
    buf[o] = '\0';
    return buf;
}

#define Q(buf, s) qname(buf, s, strlen(s))

/* What is wrong with path p of n bytes as a bag path, or NULL. */
static const char *path_problem(const char *p, size_t n)
{
    size_t comp = 0;

    if (n == 0)
        return "is empty";
    if (n > BAG_PATH_MAX)
        return "is longer than 4095 bytes";
    if (p[0] == '/')
        return "is absolute (escapes the bag)";
    for (size_t i = 0, k; i < n; i += k) {
        unsigned char ch = (unsigned char)p[i];
        uint32_t cp;
        if (ch == '\0')
            return "holds a NUL byte";
        if (ch == '\\')
            return "holds a backslash";
        if ((k = utf8_decode((const unsigned char *)p + i, n - i, &cp)) == 0)
            return "is not valid UTF-8";
        if (is_control(cp))
            return "holds a control character";
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        if (i == comp)
            return "has an empty component";
        if (i - comp == 1 && p[comp] == '.')
            return "has a '.' component";
        if (i - comp == 2 && p[comp] == '.' && p[comp + 1] == '.')
            return "has a '..' component (escapes the bag)";
        if (i - comp > BAG_NAME_MAX)
            return "has a component longer than 255 bytes";
        comp = i + 1;
    }
    return NULL;
}

int bag_path_check(const char *path, ev_err *e)
{
    char q[QMAX];
    const char *why = path_problem(path, strlen(path));

    if (why)
        return err_set(e, EV_ERR_INVALID, "path '%s' %s", Q(q, path), why);
    return 0;
}

int bag_path_encode(const char *path, char **out, ev_err *e)
{
    size_t n = strlen(path), extra = 0, o = 0;
    char *s;

    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '%' || path[i] == '\r' || path[i] == '\n')
            extra += 2;
    if ((s = malloc(n + extra + 1)) == NULL)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *rep = path[i] == '%'    ? "%25"
                          : path[i] == '\r' ? "%0D"
                          : path[i] == '\n' ? "%0A"
                                            : NULL;
        if (rep) {
            memcpy(s + o, rep, 3);
            o += 3;
        } else {
            s[o++] = path[i];
        }
    }
    s[o] = '\0';
    *out = s;
    return 0;
}

int bag_path_decode(const char *enc, size_t len, char **out, size_t *outlen,
                    ev_err *e)
{
    char *s, q[QMAX];
    size_t o = 0;

    *out = NULL;
    *outlen = 0;
    if ((s = malloc(len + 1)) == NULL)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < len; i++) {
        if (enc[i] != '%') {
            s[o++] = enc[i];
            continue;
        }
        if (i + 2 < len) {
            char a = enc[i + 1], b = (char)(enc[i + 2] | 0x20);
            if (a == '2' && b == '5') {
                s[o++] = '%';
                i += 2;
                continue;
            }
            if (a == '0' && (b == 'a' || b == 'd')) {
                s[o++] = b == 'a' ? '\n' : '\r';
                i += 2;
                continue;
            }
        }
        free(s);
        return err_set(e, EV_ERR_INVALID,
                       "'%s': a '%%' that is not %%25, %%0D or %%0A "
                       "(RFC 8493 percent-encoding)",
                       qname(q, enc, len));
    }
    s[o] = '\0';
    *out = s;
    *outlen = o;
    return 0;
}

/* Case folding that keeps byte lengths (see bag.h for what it covers). */
static uint32_t fold_cp(uint32_t c)
{
    if ((c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3a9) ||
        (c >= 0x410 && c <= 0x42f))
        return c + 0x20;
    if ((c >= 0x100 && c <= 0x12f) || (c >= 0x132 && c <= 0x137) ||
        (c >= 0x14a && c <= 0x177))
        return c | 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return (c & 1) ? c + 1 : c;
    if (c == 0x178)
        return 0xff;
    if (c >= 0x400 && c <= 0x40f)
        return c + 0x50;
    if (c == 0x386)
        return 0x3ac;
    if (c >= 0x388 && c <= 0x38a)
        return c + 0x25;
    if (c == 0x38c)
        return 0x3cc;
    if (c == 0x38e || c == 0x38f)
        return c + 0x3f;
    if (c == 0x3c2) /* final sigma */
        return 0x3c3;
    return c;
}

/* OUT: out (n bytes, not terminated): in with case folded. */
static void fold(const char *in, size_t n, char *out)
{
    const unsigned char *s = (const unsigned char *)in;

    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
            i++;
        } else if ((s[i] & 0xe0) == 0xc0 && i + 1 < n &&
                   (s[i + 1] & 0xc0) == 0x80) {
            uint32_t c = fold_cp(((uint32_t)(s[i] & 0x1f) << 6) |
                                 (s[i + 1] & 0x3f));
            out[i] = (char)(0xc0 | (c >> 6));
            out[i + 1] = (char)(0x80 | (c & 0x3f));
            i += 2;
        } else {
            out[i] = (char)s[i];
            i++;
        }
    }
}

/* ---- names ------------------------------------------------------------------ */

enum { K_NONE = 0, K_FILE, K_DIR, K_OTHER };

typedef struct bent {
    size_t off;    /* path in the pool, NUL-terminated */
    uint32_t len;
    uint8_t kind;  /* K_*: K_NONE for a path only listed, never found */
    uint64_t h, fh; /* hashes of the path and of its folded form */
    uint64_t size, dev, ino;
    int32_t slot[NSLOTS]; /* index in each manifest's entries, or -1 */
} bent;

struct bag_names {
    bent *e;
    size_t n, cap;
    char *pool;
    size_t plen, pcap;
    uint32_t *ix; /* exact: entry + 1, 0 empty; size ixcap (power of 2) */
    size_t ixcap;
    uint32_t *fx; /* case-folded, the same way, fn entries */
    size_t fxcap, fn;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static const char *ent_path(const struct bag_names *t, size_t i)
{
    return t->pool + t->e[i].off;
}

static void names_free(struct bag_names *t)
{
    if (!t)
        return;
    free(t->e);
    free(t->pool);
    free(t->ix);
    free(t->fx);
    free(t);
}

/* A table of size cap (power of 2) holding the entries of old, re-inserted
 * by hash (folded hash when folded). Returns NULL on OOM. */
static uint32_t *rehash(const struct bag_names *t, const uint32_t *old,
                        size_t oldcap, size_t cap, int folded)
{
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix)
        return NULL;
    for (size_t j = 0; j < oldcap; j++) {
        if (!old[j])
            continue;
        const bent *b = &t->e[old[j] - 1];
        size_t k = (size_t)(folded ? b->fh : b->h) & (cap - 1);
        while (ix[k])
            k = (k + 1) & (cap - 1);
        ix[k] = old[j];
    }
    return ix;
}

/* Make room for `entries` more entries of `bytes` more path bytes, in the
 * entries, the pool and both indexes, so that inserting them cannot fail.
 * Returns 0, -1 out of memory, -2 beyond BAG_MAX_NAMEBYTES. */
static int names_reserve(struct bag_names *t, size_t entries, size_t bytes)
{
    size_t need = t->n + entries;

    if (t->plen + bytes > BAG_MAX_NAMEBYTES || need >= UINT32_MAX / 4)
        return -2;
    if (need > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        bent *e;
        while (cap < need)
            cap *= 2;
        if ((e = realloc(t->e, cap * sizeof *e)) == NULL)
            return -1;
        t->e = e;
        t->cap = cap;
    }
    if (t->plen + bytes > t->pcap) {
        size_t cap = t->pcap ? t->pcap * 2 : 4096;
        char *p;
        while (cap < t->plen + bytes)
            cap *= 2;
        if ((p = realloc(t->pool, cap)) == NULL)
            return -1;
        t->pool = p;
        t->pcap = cap;
    }
    if (need * 2 > t->ixcap) {
        size_t cap = t->ixcap ? t->ixcap : 64;
        uint32_t *ix;
        while (cap < need * 2)
            cap *= 2;
        if ((ix = rehash(t, t->ix, t->ixcap, cap, 0)) == NULL)
            return -1;
        free(t->ix);
        t->ix = ix;
        t->ixcap = cap;
    }
    if ((t->fn + entries) * 2 > t->fxcap) {
        size_t cap = t->fxcap ? t->fxcap : 64;
        uint32_t *fx;
        while (cap < (t->fn + entries) * 2)
            cap *= 2;
        if ((fx = rehash(t, t->fx, t->fxcap, cap, 1)) == NULL)
            return -1;
        free(t->fx);
        t->fx = fx;
        t->fxcap = cap;
    }
    return 0;
}

/* The entry for path p (n bytes), or -1. */
static long names_find(const struct bag_names *t, const char *p, size_t n)
{
    uint64_t h = hash_bytes(p, n);

    if (!t || !t->ixcap)
        return -1;
    for (size_t k = (size_t)h & (t->ixcap - 1); t->ix[k];
         k = (k + 1) & (t->ixcap - 1)) {
        const bent *b = &t->e[t->ix[k] - 1];
        if (b->h == h && b->len == n && memcmp(ent_path(t, t->ix[k] - 1), p,
                                               n) == 0)
            return (long)t->ix[k] - 1;
    }
    return -1;
}

/* Add path p (n bytes, not present yet). Returns its index, -1 out of
 * memory, -2 beyond the bound. */
static long names_add(struct bag_names *t, const char *p, size_t n)
{
    bent *b;
    size_t k;
    int rc = names_reserve(t, 1, n + 1);

    if (rc < 0)
        return rc;
    b = &t->e[t->n];
    memset(b, 0, sizeof *b);
    b->off = t->plen;
    b->len = (uint32_t)n;
    b->h = hash_bytes(p, n);
    for (int s = 0; s < NSLOTS; s++)
        b->slot[s] = -1;
    memcpy(t->pool + t->plen, p, n);
    t->pool[t->plen + n] = '\0';
    t->plen += n + 1;
    for (k = (size_t)b->h & (t->ixcap - 1); t->ix[k];
         k = (k + 1) & (t->ixcap - 1))
        ;
    t->ix[k] = (uint32_t)(t->n + 1);
    return (long)t->n++;
}

/* An entry in the folded index equal to p (n <= BAG_PATH_MAX bytes) after
 * case folding, or -1. */
static long names_fold_find(const struct bag_names *t, const char *p,
                            size_t n)
{
    char a[BAG_PATH_MAX], b[BAG_PATH_MAX];
    uint64_t fh;

    if (!t || !t->fxcap || n > BAG_PATH_MAX)
        return -1;
    fold(p, n, a);
    fh = hash_bytes(a, n);
    for (size_t k = (size_t)fh & (t->fxcap - 1); t->fx[k];
         k = (k + 1) & (t->fxcap - 1)) {
        size_t i = t->fx[k] - 1;
        if (t->e[i].fh != fh || t->e[i].len != n)
            continue;
        fold(ent_path(t, i), n, b);
        if (memcmp(a, b, n) == 0)
            return (long)i;
    }
    return -1;
}

/* Put entry i in the folded index (growing only that index, so that it
 * cannot fail after names_reserve made room). Returns 0 or -1 out of
 * memory. */
static int names_fold_add(struct bag_names *t, size_t i)
{
    char a[BAG_PATH_MAX];
    size_t n = t->e[i].len, k;

    if (n > BAG_PATH_MAX)
        return -1;
    if ((t->fn + 1) * 2 > t->fxcap) {
        size_t cap = t->fxcap ? t->fxcap * 2 : 64;
        uint32_t *fx = rehash(t, t->fx, t->fxcap, cap, 1);
        if (!fx)
            return -1;
        free(t->fx);
        t->fx = fx;
        t->fxcap = cap;
    }
    fold(ent_path(t, i), n, a);
    t->e[i].fh = hash_bytes(a, n);
    for (k = (size_t)t->e[i].fh & (t->fxcap - 1); t->fx[k];
         k = (k + 1) & (t->fxcap - 1))
        ;
    t->fx[k] = (uint32_t)(i + 1);
    t->fn++;
    return 0;
}

/* ---- builders --------------------------------------------------------------- */

void bag_oxum_format(char out[BAG_OXUM_MAX], uint64_t bytes, uint64_t count)
{
    snprintf(out, BAG_OXUM_MAX, "%llu.%llu", (unsigned long long)bytes,
             (unsigned long long)count);
}

/* "digits.digits" with no overflow. OUT: bytes, count. Returns 0 or -1. */
static int oxum_parse(const char *s, uint64_t *bytes, uint64_t *count)
{
    uint64_t v[2] = {0, 0};
    int part = 0, digits = 0;

    for (; *s; s++) {
        if (*s == '.' && part == 0 && digits) {
            part = 1;
            digits = 0;
        } else if (*s >= '0' && *s <= '9' && digits < 19) {
            v[part] = v[part] * 10 + (uint64_t)(*s - '0');
            digits++;
        } else {
            return -1;
        }
    }
    if (part != 1 || !digits)
        return -1;
    *bytes = v[0];
    *count = v[1];
    return 0;
}

static int date_ok(const char *s)
{
    int m, d;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return 0;
    if (s[10] != '\0')
        return 0;
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* What is wrong with a label, or NULL. */
static const char *label_problem(const char *l)
{
    size_t n = strlen(l);
    if (n == 0)
        return "is empty";
    if (n > LABEL_MAX)
        return "is longer than 128 bytes";
    if (l[0] == ' ' || l[n - 1] == ' ')
        return "begins or ends with a space";
    for (size_t i = 0; i < n; i++) {
        if (l[i] == ':')
            return "holds a ':'";
        if (l[i] < 0x20 || l[i] > 0x7e)
            return "is not printable ASCII";
    }
    return NULL;
}

static const char *value_problem(const char *v)
{
    size_t n = strlen(v);
    if (n > BAG_MAX_LINE - 200)
        return "is too long";
    if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
              v[n - 1] == '\t'))
        return "begins or ends with whitespace";
    for (size_t i = 0, k; i < n; i += k) {
        uint32_t cp;
        if ((k = utf8_decode((const unsigned char *)v + i, n - i, &cp)) == 0)
            return "is not valid UTF-8";
        if (cp == '\r' || cp == '\n')
            return "holds a line break";
        if (cp != '\t' && is_control(cp))
            return "holds a control character";
    }
    return NULL;
}

int bag_info_build(const bag_info_item *items, size_t n, char **out,
                   size_t *len, ev_err *e)
{
    size_t total = 1, o = 0;
    char *s, q[QMAX];
    const char *why;
    uint64_t a, b;

    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *l = items[i].label, *v = items[i].value;
        if (!l || !v)
            return err_set(e, EV_ERR_INVALID, "bag-info.txt: item %zu has "
                           "no label or no value", i + 1);
        if ((why = label_problem(l)) != NULL)
            return err_set(e, EV_ERR_INVALID, "bag-info.txt: the label "
                           "'%s' %s", Q(q, l), why);
        if ((why = value_problem(v)) != NULL)
            return err_set(e, EV_ERR_INVALID, "bag-info.txt: the value of "
                           "'%s' %s", l, why);
        for (size_t j = 0; j < i; j++)
            if (strcasecmp(items[j].label, l) == 0)
                return err_set(e, EV_ERR_INVALID, "bag-info.txt: the label "
                               "'%s' is given twice", l);
        if (strcasecmp(l, BAG_LABEL_PAYLOAD_OXUM) == 0 &&
            oxum_parse(v, &a, &b) != 0)
            return err_set(e, EV_ERR_INVALID, "bag-info.txt: Payload-Oxum "
                           "'%s' is not BYTES.FILES", Q(q, v));
        if (strcasecmp(l, BAG_LABEL_BAGGING_DATE) == 0 && !date_ok(v))
            return err_set(e, EV_ERR_INVALID, "bag-info.txt: Bagging-Date "
                           "'%s' is not YYYY-MM-DD", Q(q, v));
        total += strlen(l) + 2 + strlen(v) + 1;
    }
    if ((s = malloc(total)) == NULL)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    s[0] = '\0';
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, total - o, "%s: %s\n", items[i].label,
                              items[i].value);
    *out = s;
    *len = o;
    return 0;
}

void bag_manifest_init(bag_manifest *m, int kind)
{
    memset(m, 0, sizeof *m);
    m->kind = kind;
}

void bag_manifest_clear(bag_manifest *m)
{
    if (!m)
        return;
    free(m->text);
    names_free(m->names);
    bag_manifest_init(m, m->kind);
}

/* 1 if the first component of p (n bytes) is "data" in any case. */
static int first_is_data(const char *p, size_t n)
{
    return n >= 4 && strncasecmp(p, "data", 4) == 0 && (n == 4 || p[4] == '/');
}

int bag_manifest_add(bag_manifest *m, const char *path,
                     const uint8_t sha256[BAG_SHA256_LEN], ev_err *e)
{
    struct bag_names *t;
    size_t n = strlen(path), line, newdirs = 0;
    char *enc = NULL, q[QMAX], q2[QMAX];
    int rc;
    long i;

    if ((rc = bag_path_check(path, e)) != 0)
        return rc;
    if (m->kind == BAG_MANIFEST_PAYLOAD
            ? !(n > 5 && memcmp(path, "data/", 5) == 0)
            : first_is_data(path, n))
        return err_set(e, EV_ERR_INVALID, m->kind == BAG_MANIFEST_PAYLOAD
                       ? "path '%s' is not under data/ (payload files are)"
                       : "path '%s' is under data/ (tag files are not)",
                       Q(q, path));
    if (m->count >= BAG_MAX_FILES)
        return err_set(e, EV_ERR_INVALID, "a manifest lists at most %d files",
                       BAG_MAX_FILES);
    if (!m->names && (m->names = calloc(1, sizeof *m->names)) == NULL)
        return err_set(e, EV_ERR_NOMEM, "out of memory");
    t = m->names;
    /* Check everything first, so that a refusal changes nothing. */
    for (size_t k = 0; k < n; k++) {
        if (path[k] != '/')
            continue;
        if ((i = names_find(t, path, k)) >= 0) {
            if (t->e[i].kind == K_FILE)
                return err_set(e, EV_ERR_INVALID, "path '%s': '%s' is "
                               "listed as a file already",
                               Q(q, path), Q(q2, ent_path(t, (size_t)i)));
        } else if ((i = names_fold_find(t, path, k)) >= 0) {
            return err_set(e, EV_ERR_INVALID, "path '%s' differs only by "
                           "case from '%s', listed already",
                           Q(q, path), Q(q2, ent_path(t, (size_t)i)));
        } else {
            newdirs++;
        }
    }
    if ((i = names_find(t, path, n)) >= 0)
        return err_set(e, EV_ERR_INVALID, t->e[i].kind == K_FILE
                       ? "path '%s' is listed twice"
                       : "path '%s' is a directory of a file listed already",
                       Q(q, path));
    if ((i = names_fold_find(t, path, n)) >= 0)
        return err_set(e, EV_ERR_INVALID, "path '%s' differs only by case "
                       "from '%s', listed already",
                       Q(q, path), Q(q2, ent_path(t, (size_t)i)));
    if ((rc = bag_path_encode(path, &enc, e)) != 0)
        return rc;
    line = 2 * BAG_SHA256_LEN + 2 + strlen(enc) + 1;
    if (m->len + line > BAG_MAX_MANIFEST) {
        rc = err_set(e, EV_ERR_INVALID, "a manifest holds at most %u bytes",
                     BAG_MAX_MANIFEST);
        goto out;
    }
    if (m->len + line + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        char *s;
        while (cap < m->len + line + 1)
            cap *= 2;
        if ((s = realloc(m->text, cap)) == NULL) {
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
            goto out;
        }
        m->text = s;
        m->cap = cap;
    }
    switch (names_reserve(t, newdirs + 1, n * (newdirs + 1) + newdirs + 1)) {
    case 0:
        break;
    case -1:
        rc = err_set(e, EV_ERR_NOMEM, "out of memory");
        goto out;
    default:
        rc = err_set(e, EV_ERR_INVALID, "a manifest holds at most %u bytes "
                     "of names", BAG_MAX_NAMEBYTES);
        goto out;
    }
    /* Room is reserved (names_reserve sized the folded index too): from
     * here nothing fails. */
    for (size_t k = 0; k <= n; k++) {
        if (k < n && path[k] != '/')
            continue;
        if (k < n && names_find(t, path, k) >= 0)
            continue;
        i = names_add(t, path, k);
        t->e[i].kind = k < n ? K_DIR : K_FILE;
        names_fold_add(t, (size_t)i);
    }
    for (size_t k = 0; k < BAG_SHA256_LEN; k++)
        snprintf(m->text + m->len + 2 * k, 3, "%02x", sha256[k]);
    snprintf(m->text + m->len + 2 * BAG_SHA256_LEN, line - 2 * BAG_SHA256_LEN
             + 1, "  %s\n", enc);
    m->len += line;
    m->count++;
    rc = 0;
out:
    free(enc);
    return rc;
}

int bag_tagmanifest_add(bag_manifest *m, const bag_tagfile *files, size_t n,
                        ev_err *e)
{
    if (m->kind != BAG_MANIFEST_TAG)
        return err_set(e, EV_ERR_INTERNAL, "bag_tagmanifest_add needs a tag "
                       "manifest");
    for (size_t i = 0; i < n; i++) {
        struct sha256_ctx h;
        uint8_t d[BAG_SHA256_LEN];
        int rc;
        sha256_init(&h);
        sha256_update(&h, files[i].len, files[i].data);
        sha256_digest(&h, sizeof d, d);
        if ((rc = bag_manifest_add(m, files[i].name, d, e)) != 0)
            return rc;
    }
    return 0;
}

/* ---- bag-info.txt ------------------------------------------------------------ */

const char *bag_info_get(const bag_info *bi, const char *label)
{
    for (size_t i = 0; bi && i < bi->n; i++)
        if (strcasecmp(bi->labels[i], label) == 0)
            return bi->values[i];
    return NULL;
}

void bag_info_clear(bag_info *bi)
{
    if (!bi)
        return;
    for (size_t i = 0; i < bi->n; i++) {
        free(bi->labels[i]);
        free(bi->values[i]);
    }
    free(bi->labels);
    free(bi->values);
    memset(bi, 0, sizeof *bi);
}

/* The next line of t[0, n) from *pos (LF, CRLF or CR ends it). OUT: *start,
 * *len. Returns 0 at the end. */
static int next_line(const char *t, size_t n, size_t *pos, size_t *start,
                     size_t *len)
{
    size_t i = *pos;

    if (i >= n)
        return 0;
    *start = i;
    while (i < n && t[i] != '\n' && t[i] != '\r')
        i++;
    *len = i - *start;
    if (i + 1 < n && t[i] == '\r' && t[i + 1] == '\n')
        i += 2;
    else if (i < n)
        i++;
    *pos = i;
    return 1;
}

static char *strndup_(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int bag_info_parse(const char *text, size_t len, bag_info *bi, report *r,
                   ev_err *e)
{
    size_t pos = 0, start, n, lineno = 0, cap = 0, oxums = 0;
    long cur = -1;
    int rc = EV_ERR_NOMEM;

    memset(bi, 0, sizeof *bi);
    while (next_line(text, len, &pos, &start, &n)) {
        const char *l = text + start, *colon;
        size_t ln, v;
        lineno++;
        if (n == 0)
            continue;
        if (n > BAG_MAX_LINE) {
            report_add(r, "bag-info.txt line %zu: longer than %d bytes",
                       lineno, BAG_MAX_LINE);
            cur = -1;
            continue;
        }
        if (memchr(l, '\0', n) || !utf8_valid(l, n)) {
            report_add(r, "bag-info.txt line %zu: not valid UTF-8 text",
                       lineno);
            cur = -1;
            continue;
        }
        if (l[0] == ' ' || l[0] == '\t') {
            char *joined;
            size_t old;
            if (cur < 0) {
                report_add(r, "bag-info.txt line %zu: a continuation line "
                           "with nothing to continue", lineno);
                continue;
            }
            while (n && (*l == ' ' || *l == '\t')) {
                l++;
                n--;
            }
            old = strlen(bi->values[cur]);
            if ((joined = realloc(bi->values[cur], old + 1 + n + 1)) == NULL)
                goto oom;
            joined[old] = ' ';
            memcpy(joined + old + 1, l, n);
            joined[old + 1 + n] = '\0';
            bi->values[cur] = joined;
            continue;
        }
        cur = -1;
        if ((colon = memchr(l, ':', n)) == NULL) {
            report_add(r, "bag-info.txt line %zu: no ':' (expected "
                       "'Label: value')", lineno);
            continue;
        }
        ln = (size_t)(colon - l);
        while (ln && (l[ln - 1] == ' ' || l[ln - 1] == '\t'))
            ln--;
        if (ln == 0) {
            report_add(r, "bag-info.txt line %zu: empty label", lineno);
            continue;
        }
        for (v = (size_t)(colon - l) + 1; v < n && (l[v] == ' ' || l[v] == '\t');
             v++)
            ;
        if (bi->n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **a = realloc(bi->labels, nc * sizeof *a), **b;
            if (!a)
                goto oom;
            bi->labels = a;
            if ((b = realloc(bi->values, nc * sizeof *b)) == NULL)
                goto oom;
            bi->values = b;
            cap = nc;
        }
        bi->labels[bi->n] = strndup_(l, ln);
        bi->values[bi->n] = strndup_(l + v, n - v);
        if (!bi->labels[bi->n] || !bi->values[bi->n]) {
            free(bi->labels[bi->n]);
            free(bi->values[bi->n]);
            goto oom;
        }
        if (strcasecmp(bi->labels[bi->n], BAG_LABEL_PAYLOAD_OXUM) == 0)
            oxums++;
        cur = (long)bi->n++;
    }
    if (oxums > 1)
        report_add(r, "bag-info.txt: Payload-Oxum is given %zu times", oxums);
    return 0;
oom:
    bag_info_clear(bi);
    return err_set(e, rc, "out of memory");
}

/* ---- validator ------------------------------------------------------------------ */

static const struct alg {
    const char *name, *label;
    const struct nettle_hash *h;
} algs[] = {
    {"sha256", "SHA-256", &nettle_sha256},
    {"sha512", "SHA-512", &nettle_sha512},
};
#define NALGS (sizeof algs / sizeof algs[0])

typedef union hash_ctx {
    struct sha256_ctx s256;
    struct sha512_ctx s512;
} hash_ctx;

/* One manifest: slot = alg * 2 + tag. */
typedef struct mslot {
    int present;
    char name[32];
    uint32_t *ent, *line;
    uint8_t *dig; /* n digests of the algorithm's size */
    size_t n, cap;
} mslot;

typedef struct ctx {
    int dfd;
    report *r;
    bag_check_result *res;
    struct bag_names t;
    mslot s[NSLOTS];
    uint32_t *files; /* regular files in walk order */
    size_t nfiles, fcap;
    uint64_t nwalk;
    int stop; /* a bound was hit: stop walking */
    int oom;
    bag_progress_fn progress;
    void *parg;
} ctx;

static int slot_alg(int s) { return s / 2; }
static int slot_tag(int s) { return s % 2; }

/* A regular file at the top of the bag, opened without following links.
 * Returns the descriptor, -1 with errno (ENOENT: none; EINVAL: not a
 * regular file). */
static int open_top(ctx *c, const char *name, struct stat *st)
{
    struct stat l;
    int fd, err;

    if (fstatat(c->dfd, name, &l, AT_SYMLINK_NOFOLLOW) != 0)
        return -1;
    if (!S_ISREG(l.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    fd = openat(c->dfd, name,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0) {
        err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if (!S_ISREG(st->st_mode) || st->st_ino != l.st_ino ||
        st->st_dev != l.st_dev) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    return fd;
}

/* Read the whole of fd, at most max bytes. OUT: *buf (malloc'd, one spare
 * NUL), *len. Returns 0, 1 if longer than max, -1 with errno. */
static int read_all(int fd, size_t max, char **buf, size_t *len)
{
    size_t n = 0, cap = max + 2;
    char *b = malloc(cap);

    *buf = NULL;
    *len = 0;
    if (!b) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        ssize_t k = read(fd, b + n, cap - 1 - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int err = errno;
            free(b);
            errno = err;
            return -1;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > max) {
            free(b);
            return 1;
        }
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* If line l (n bytes) is "label: value" (any spaces or tabs after the
 * colon), point *val at the value. Returns 1 if the label matched. */
static int tag_value(const char *l, size_t n, const char *label,
                     const char **val, size_t *vlen)
{
    size_t ll = strlen(label), v;

    if (n <= ll || memcmp(l, label, ll) != 0 || l[ll] != ':')
        return 0;
    for (v = ll + 1; v < n && (l[v] == ' ' || l[v] == '\t'); v++)
        ;
    *val = l + v;
    *vlen = n - v;
    return 1;
}

/* bagit.txt: exactly "BagIt-Version: 1.0" and
 * "Tag-File-Character-Encoding: UTF-8" (the value in any case). */
int bag_bagit_check(const char *text, size_t len, report *r)
{
    char q[QMAX];
    const char *val;
    size_t pos = 0, start, n, vlen, lines = 0, before = r->n;

    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        report_add(r, "'bagit.txt' begins with a byte order mark");
        pos = 3;
    }
    while (next_line(text, len, &pos, &start, &n)) {
        const char *l = text + start;
        if (++lines > 2) {
            report_add(r, "'bagit.txt' has more than two lines");
            break;
        }
        if (lines == 1 && tag_value(l, n, "BagIt-Version", &val, &vlen)) {
            if (vlen != 3 || memcmp(val, "1.0", 3) != 0)
                report_add(r, "'bagit.txt': BagIt version '%s' is not "
                           "supported (only 1.0)", qname(q, val, vlen));
        } else if (lines == 1) {
            report_add(r, "'bagit.txt' line 1 is '%s', not "
                       "'BagIt-Version: 1.0'", qname(q, l, n));
        } else if (tag_value(l, n, "Tag-File-Character-Encoding", &val,
                             &vlen)) {
            if (vlen != 5 || strncasecmp(val, "UTF-8", 5) != 0)
                report_add(r, "'bagit.txt': tag file encoding '%s' is not "
                           "supported (only UTF-8)", qname(q, val, vlen));
        } else {
            report_add(r, "'bagit.txt' line 2 is '%s', not "
                       "'Tag-File-Character-Encoding: UTF-8'",
                       qname(q, l, n));
        }
    }
    if (lines < 2)
        report_add(r, "'bagit.txt' has %zu line%s, not two (BagIt-Version "
                   "and Tag-File-Character-Encoding)", lines,
                   lines == 1 ? "" : "s");
    return r->n > before ? -1 : 0;
}

static void check_bagit(ctx *c)
{
    struct stat st;
    char *text = NULL;
    size_t len;
    int fd = open_top(c, "bagit.txt", &st), rc;

    if (fd < 0) {
        if (errno == ENOENT)
            report_add(c->r, "'bagit.txt' is missing: this is not a bag, or "
                       "not its top directory");
        else if (errno != EINVAL) /* not a regular file: the walk says so */
            report_add(c->r, "cannot read 'bagit.txt': %s", strerror(errno));
        return;
    }
    rc = read_all(fd, BAGIT_TXT_MAX, &text, &len);
    close(fd);
    if (rc != 0) {
        if (rc > 0)
            report_add(c->r, "'bagit.txt' is longer than %d bytes",
                       BAGIT_TXT_MAX);
        else if (errno == ENOMEM)
            c->oom = 1;
        else
            report_add(c->r, "cannot read 'bagit.txt': %s", strerror(errno));
        return;
    }
    (void)bag_bagit_check(text, len, c->r);
    free(text);
}

static void check_baginfo(ctx *c, ev_err *e)
{
    struct stat st;
    char *text = NULL;
    size_t len;
    int fd = open_top(c, "bag-info.txt", &st), rc;

    if (fd < 0) {
        if (errno != ENOENT && errno != EINVAL)
            report_add(c->r, "cannot read 'bag-info.txt': %s",
                       strerror(errno));
        return;
    }
    rc = read_all(fd, BAG_MAX_BAGINFO, &text, &len);
    close(fd);
    if (rc != 0) {
        if (rc > 0)
            report_add(c->r, "'bag-info.txt' is longer than %u bytes: not "
                       "read", BAG_MAX_BAGINFO);
        else if (errno == ENOMEM)
            c->oom = 1;
        else
            report_add(c->r, "cannot read 'bag-info.txt': %s",
                       strerror(errno));
        return;
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        report_add(c->r, "'bag-info.txt' begins with a byte order mark");
    if (bag_info_parse(text, len, &c->res->info, c->r, e) != 0)
        c->oom = 1;
    free(text);
}

/* A line reader over a file descriptor: LF, CRLF or CR end a line; lines
 * longer than BAG_MAX_LINE are cut (and flagged); at most limit bytes. */
typedef struct lread {
    int fd;
    unsigned char *rb;
    size_t rpos, rlen;
    char *line;
    size_t len;
    uint64_t total, limit;
    unsigned long no;
    int cr, toolong, over;
} lread;

/* 1: a line in l->line (l->len bytes, NUL-terminated); 0: the end; -1: a
 * read error (errno) or more than limit bytes (l->over). */
static int lread_next(lread *l)
{
    int have = 0;

    l->len = 0;
    l->toolong = 0;
    for (;;) {
        unsigned char ch;
        if (l->rpos == l->rlen) {
            ssize_t k = read(l->fd, l->rb, READ_CHUNK);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0)
                return -1;
            if (k == 0)
                break;
            l->total += (uint64_t)k;
            if (l->total > l->limit) {
                l->over = 1;
                return -1;
            }
            l->rpos = 0;
            l->rlen = (size_t)k;
        }
        ch = l->rb[l->rpos++];
        if (l->cr) {
            l->cr = 0;
            if (ch == '\n')
                continue;
        }
        if (ch == '\n' || ch == '\r') {
            l->cr = ch == '\r';
            have = 1;
            break;
        }
        have = 1;
        if (l->len < BAG_MAX_LINE)
            l->line[l->len++] = (char)ch;
        else
            l->toolong = 1;
    }
    l->line[l->len] = '\0';
    if (have)
        l->no++;
    return have;
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    h = (char)(h | 0x20);
    return h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
}

/* Record entry i at line `line` with digest dig in slot s. Returns 0 or -1
 * (out of memory). */
static int slot_push(ctx *c, int s, size_t i, unsigned long line,
                     const uint8_t *dig)
{
    mslot *m = &c->s[s];
    size_t dl = algs[slot_alg(s)].h->digest_size;

    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        uint32_t *a, *b;
        uint8_t *d;
        if ((a = realloc(m->ent, cap * sizeof *a)) == NULL)
            return -1;
        m->ent = a;
        if ((b = realloc(m->line, cap * sizeof *b)) == NULL)
            return -1;
        m->line = b;
        if ((d = realloc(m->dig, cap * dl)) == NULL)
            return -1;
        m->dig = d;
        m->cap = cap;
    }
    m->ent[m->n] = (uint32_t)i;
    m->line[m->n] = (uint32_t)(line > UINT32_MAX ? UINT32_MAX : line);
    memcpy(m->dig + m->n * dl, dig, dl);
    c->t.e[i].slot[s] = (int32_t)m->n++;
    return 0;
}

/* Parse one manifest line (already read) into slot s. */
static void manifest_line(ctx *c, int s, const char *name, lread *l)
{
    const struct alg *a = &algs[slot_alg(s)];
    size_t dl = a->h->digest_size, hl = 0, p;
    uint8_t dig[64];
    char *path = NULL, q[QMAX];
    const char *why;
    size_t plen;
    long i;
    ev_err e;

    while (hl < l->len && l->line[hl] != ' ' && l->line[hl] != '\t')
        hl++;
    for (p = hl; p < l->len && (l->line[p] == ' ' || l->line[p] == '\t'); p++)
        ;
    if (hl == 0 || p == hl || p == l->len) {
        report_add(c->r, "'%s' line %lu: not 'CHECKSUM  PATH'", name, l->no);
        return;
    }
    if (hl != 2 * dl) {
        report_add(c->r, "'%s' line %lu: '%s' is not a %s digest (%zu hex "
                   "digits)", name, l->no, qname(q, l->line, hl), a->label,
                   2 * dl);
        return;
    }
    for (size_t k = 0; k < dl; k++) {
        int hi = hexval(l->line[2 * k]), lo = hexval(l->line[2 * k + 1]);
        if (hi < 0 || lo < 0) {
            report_add(c->r, "'%s' line %lu: '%s' is not a %s digest (%zu "
                       "hex digits)", name, l->no, qname(q, l->line, hl),
                       a->label, 2 * dl);
            return;
        }
        dig[k] = (uint8_t)(hi << 4 | lo);
    }
    if (bag_path_decode(l->line + p, l->len - p, &path, &plen, &e) != 0) {
        if (e.code == EV_ERR_NOMEM)
            c->oom = 1;
        else
            report_add(c->r, "'%s' line %lu: %s", name, l->no, e.msg);
        return;
    }
    if ((why = path_problem(path, plen)) != NULL) {
        report_add(c->r, "'%s' line %lu: path '%s' %s", name, l->no,
                   qname(q, path, plen), why);
        goto out;
    }
    if (!slot_tag(s) && !(plen > 5 && memcmp(path, "data/", 5) == 0)) {
        report_add(c->r, "'%s' line %lu: path '%s' is not under data/ (a "
                   "payload manifest lists payload files)", name, l->no,
                   qname(q, path, plen));
        goto out;
    }
    if (slot_tag(s) && plen >= 4 && memcmp(path, "data", 4) == 0 &&
        (plen == 4 || path[4] == '/')) {
        report_add(c->r, "'%s' line %lu: path '%s' is under data/ (a tag "
                   "manifest lists tag files)", name, l->no,
                   qname(q, path, plen));
        goto out;
    }
    if (c->s[s].n >= BAG_MAX_FILES) {
        report_add(c->r, "'%s' lists more than %d files: not checked further",
                   name, BAG_MAX_FILES);
        c->stop = 1;
        goto out;
    }
    if ((i = names_find(&c->t, path, plen)) < 0 &&
        (i = names_add(&c->t, path, plen)) < 0) {
        if (i == -1) {
            c->oom = 1;
        } else {
            report_add(c->r, "the manifests name more than %u bytes of paths: "
                       "not checked further", BAG_MAX_NAMEBYTES);
            c->stop = 1;
        }
        goto out;
    }
    if (c->t.e[i].slot[s] >= 0) {
        report_add(c->r, "'%s' is listed twice in '%s' (lines %u and %lu)",
                   qname(q, path, plen), name,
                   (unsigned)c->s[s].line[c->t.e[i].slot[s]], l->no);
        goto out;
    }
    if (slot_push(c, s, (size_t)i, l->no, dig) != 0)
        c->oom = 1;
out:
    free(path);
}

int bag_manifest_parse(const char *text, size_t len, const char *name,
                       int kind, bag_manifest_fn fn, void *arg, report *r,
                       ev_err *e)
{
    size_t pos = 0, start, n, before = r->n, entries = 0;
    unsigned long no = 0;
    char q[QMAX];
    int rc = 0;

    while (rc == 0 && next_line(text, len, &pos, &start, &n)) {
        if (r->n - before >= BAG_MAX_FINDINGS) {
            report_add(r, "'%s': more than %d bad lines: not checked further",
                       name, BAG_MAX_FINDINGS);
            break;
        }
        const char *l = text + start;
        uint8_t dig[BAG_SHA256_LEN];
        size_t hl = 0, p, plen;
        char *path = NULL;
        const char *why;
        int bad = 0;

        no++;
        if (n == 0)
            continue;
        if (n > BAG_MAX_LINE) {
            report_add(r, "'%s' line %lu: longer than %d bytes", name, no,
                       BAG_MAX_LINE);
            continue;
        }
        while (hl < n && l[hl] != ' ' && l[hl] != '\t')
            hl++;
        for (p = hl; p < n && (l[p] == ' ' || l[p] == '\t'); p++)
            ;
        if (hl == 0 || p == hl || p == n) {
            report_add(r, "'%s' line %lu: not 'CHECKSUM  PATH'", name, no);
            continue;
        }
        for (size_t k = 0; hl == 2 * BAG_SHA256_LEN && k < BAG_SHA256_LEN;
             k++) {
            int hi = hexval(l[2 * k]), lo = hexval(l[2 * k + 1]);
            bad |= hi < 0 || lo < 0;
            dig[k] = (uint8_t)((hi & 15) << 4 | (lo & 15));
        }
        if (hl != 2 * BAG_SHA256_LEN || bad) {
            report_add(r, "'%s' line %lu: '%s' is not a SHA-256 digest (64 "
                       "hex digits)", name, no, qname(q, l, hl));
            continue;
        }
        if (bag_path_decode(l + p, n - p, &path, &plen, e) != 0) {
            if (e->code == EV_ERR_NOMEM)
                return EV_ERR_NOMEM;
            report_add(r, "'%s' line %lu: %s", name, no, e->msg);
            continue;
        }
        if ((why = path_problem(path, plen)) != NULL)
            report_add(r, "'%s' line %lu: path '%s' %s", name, no,
                       qname(q, path, plen), why);
        else if (kind == BAG_MANIFEST_PAYLOAD &&
                 !(plen > 5 && memcmp(path, "data/", 5) == 0))
            report_add(r, "'%s' line %lu: path '%s' is not under data/ (a "
                       "payload manifest lists payload files)", name, no,
                       qname(q, path, plen));
        else if (kind == BAG_MANIFEST_TAG && plen >= 4 &&
                 memcmp(path, "data", 4) == 0 &&
                 (plen == 4 || path[4] == '/'))
            report_add(r, "'%s' line %lu: path '%s' is under data/ (a tag "
                       "manifest lists tag files)", name, no,
                       qname(q, path, plen));
        else if (++entries > BAG_MAX_FILES) {
            report_add(r, "'%s' lists more than %d files: not checked "
                       "further", name, BAG_MAX_FILES);
            free(path);
            break;
        } else
            rc = fn(arg, path, dig, no);
        free(path);
    }
    return rc;
}

const char *bag_quote(char buf[BAG_QMAX], const char *s, size_t n)
{
    return qname(buf, s, n);
}

static void parse_manifest(ctx *c, int s, const char *name)
{
    struct stat st;
    lread l;
    int fd = open_top(c, name, &st), rc;

    if (fd < 0) {
        if (errno != EINVAL) /* not a regular file: the walk says so */
            report_add(c->r, "cannot read '%s': %s", name, strerror(errno));
        return;
    }
    if ((uint64_t)st.st_size > BAG_MAX_MANIFEST) {
        report_add(c->r, "'%s' is larger than %u bytes: not checked", name,
                   BAG_MAX_MANIFEST);
        c->stop = 1;
        close(fd);
        return;
    }
    memset(&l, 0, sizeof l);
    l.fd = fd;
    l.limit = BAG_MAX_MANIFEST;
    l.rb = malloc(READ_CHUNK);
    l.line = malloc(BAG_MAX_LINE + 1);
    if (!l.rb || !l.line) {
        c->oom = 1;
        goto out;
    }
    c->s[s].present = 1;
    snprintf(c->s[s].name, sizeof c->s[s].name, "%s", name);
    while (!c->oom && !c->stop && (rc = lread_next(&l)) != 0) {
        if (rc < 0) {
            if (l.over) {
                report_add(c->r, "'%s' is larger than %u bytes: not checked "
                           "further", name, BAG_MAX_MANIFEST);
                c->stop = 1;
            } else {
                report_add(c->r, "cannot read '%s': %s", name,
                           strerror(errno));
            }
            break;
        }
        if (l.toolong) {
            report_add(c->r, "'%s' line %lu: longer than %d bytes", name,
                       l.no, BAG_MAX_LINE);
            continue;
        }
        if (l.len == 0)
            continue;
        manifest_line(c, s, name, &l);
    }
out:
    free(l.rb);
    free(l.line);
    close(fd);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The names in directory fd (not "." and ".."), sorted; at most max of
 * them and BAG_MAX_NAMEBYTES bytes (*more set when there were more). OUT:
 * *names, *n. Returns 0 or an errno. */
static int list_dir(int fd, size_t max, char ***names, size_t *n, int *more)
{
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;
    DIR *d;
    struct dirent *de;
    char **v = NULL;
    size_t cnt = 0, cap = 0, bytes = 0;

    *names = NULL;
    *n = 0;
    *more = 0;
    if (dfd < 0)
        return errno;
    if ((d = fdopendir(dfd)) == NULL) {
        err = errno;
        close(dfd);
        return err;
    }
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL) {
            err = errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        bytes += strlen(de->d_name) + 1;
        if (cnt >= max || bytes > BAG_MAX_NAMEBYTES) {
            *more = 1;
            break;
        }
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **nv = realloc(v, nc * sizeof *nv);
            if (!nv) {
                err = ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if ((v[cnt] = strndup_(de->d_name, strlen(de->d_name))) == NULL) {
            err = ENOMEM;
            break;
        }
        cnt++;
    }
    closedir(d);
    if (err) {
        free_names(v, cnt);
        return err;
    }
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *names = v;
    *n = cnt;
    return 0;
}

static const char *kind_name(mode_t m)
{
    return S_ISLNK(m)    ? "a symbolic link"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
                         : "a special file";
}

/* Walk directory fd, whose path in the bag is path[0, plen) ("" at the
 * top), depth levels below the bag. */
static void walk(ctx *c, int fd, char *path, size_t plen, int depth)
{
    char **names = NULL, q[QMAX], q2[QMAX];
    size_t n = 0;
    int more = 0, err;

    err = list_dir(fd, BAG_MAX_FILES - (size_t)c->nwalk + 1, &names, &n,
                   &more);
    if (err) {
        if (err == ENOMEM)
            c->oom = 1;
        else
            report_add(c->r, "cannot read the directory '%s': %s",
                       plen ? Q(q, path) : ".", strerror(err));
        c->res->complete = 0;
        return;
    }
    for (size_t j = 0; j < n && !c->stop && !c->oom; j++) {
        const char *name = names[j], *why;
        size_t nl = strlen(name), len = plen ? plen + 1 + nl : nl;
        struct stat st;
        long i, f;

        if (++c->nwalk > BAG_MAX_FILES) {
            report_add(c->r, "the bag holds more than %d files and "
                       "directories: not checked further", BAG_MAX_FILES);
            c->stop = 1;
            break;
        }
        if (len > BAG_PATH_MAX) {
            report_add(c->r, "'%s/%s': path longer than %d bytes",
                       Q(q, path), Q(q2, name), BAG_PATH_MAX);
            continue;
        }
        if (plen)
            path[plen] = '/';
        memcpy(path + (plen ? plen + 1 : 0), name, nl);
        path[len] = '\0';
        if ((why = path_problem(name, nl)) != NULL) {
            report_add(c->r, "'%s': the name %s", qname(q, path, len), why);
            path[plen] = '\0';
            continue;
        }
        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            report_add(c->r, "cannot examine '%s': %s", Q(q, path),
                       strerror(errno));
            path[plen] = '\0';
            continue;
        }
        if ((i = names_find(&c->t, path, len)) < 0 &&
            (i = names_add(&c->t, path, len)) < 0) {
            if (i == -1) {
                c->oom = 1;
            } else {
                report_add(c->r, "the bag's paths take more than %u bytes: "
                           "not checked further", BAG_MAX_NAMEBYTES);
                c->stop = 1;
            }
            break;
        }
        c->t.e[i].kind = S_ISREG(st.st_mode)   ? K_FILE
                         : S_ISDIR(st.st_mode) ? K_DIR
                                               : K_OTHER;
        c->t.e[i].size = (uint64_t)st.st_size;
        c->t.e[i].dev = (uint64_t)st.st_dev;
        c->t.e[i].ino = (uint64_t)st.st_ino;
        if ((f = names_fold_find(&c->t, path, len)) >= 0)
            report_add(c->r, "'%s' and '%s': names that differ only by case",
                       Q(q, ent_path(&c->t, (size_t)f)), Q(q2, path));
        else if (names_fold_add(&c->t, (size_t)i) != 0)
            c->oom = 1;
        if (S_ISDIR(st.st_mode)) {
            int sub;
            struct stat s2;
            if (depth + 1 > BAG_MAX_DEPTH) {
                report_add(c->r, "'%s': more than %d directory levels: not "
                           "checked further", Q(q, path), BAG_MAX_DEPTH);
                c->res->complete = 0;
            } else if ((sub = openat(fd, name, O_RDONLY | O_DIRECTORY |
                                                   O_NOFOLLOW | O_CLOEXEC)) <
                       0) {
                report_add(c->r, "cannot open the directory '%s': %s",
                           Q(q, path), strerror(errno));
                c->res->complete = 0;
            } else {
                if (fstat(sub, &s2) != 0 || s2.st_ino != st.st_ino ||
                    s2.st_dev != st.st_dev) {
                    report_add(c->r, "'%s' changed while being checked",
                               Q(q, path));
                    c->res->complete = 0;
                } else {
                    walk(c, sub, path, len, depth + 1);
                }
                close(sub);
            }
        } else if (S_ISREG(st.st_mode)) {
            if (len > 5 && memcmp(path, "data/", 5) == 0) {
                c->res->files++;
                c->res->bytes += (uint64_t)st.st_size;
            } else {
                c->res->tagfiles++;
            }
            if (c->nfiles == c->fcap) {
                size_t cap = c->fcap ? c->fcap * 2 : 256;
                uint32_t *v = realloc(c->files, cap * sizeof *v);
                if (!v) {
                    c->oom = 1;
                    break;
                }
                c->files = v;
                c->fcap = cap;
            }
            c->files[c->nfiles++] = (uint32_t)i;
        } else {
            report_add(c->r, "'%s' is %s: a bag may hold only regular files "
                       "and directories", Q(q, path), kind_name(st.st_mode));
        }
        path[plen] = '\0';
    }
    if (more && !c->stop) {
        report_add(c->r, "the directory '%s' holds more than %d names (or "
                   "%u bytes of them): not checked further",
                   plen ? Q(q, path) : ".", BAG_MAX_FILES, BAG_MAX_NAMEBYTES);
        c->stop = 1;
    }
    free_names(names, n);
}

/* Open path (relative to the bag) component by component, never following
 * a symbolic link. Returns a descriptor or -1 with errno. */
static int open_beneath(int dfd, const char *path)
{
    char buf[BAG_PATH_MAX + 1], *p = buf, *slash;
    int cur = dfd, fd, err;

    snprintf(buf, sizeof buf, "%s", path);
    while ((slash = strchr(p, '/')) != NULL) {
        int next;
        *slash = '\0';
        next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        err = errno;
        if (cur != dfd)
            close(cur);
        if (next < 0) {
            errno = err;
            return -1;
        }
        cur = next;
        p = slash + 1;
    }
    fd = openat(cur, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                            O_CLOEXEC);
    err = errno;
    if (cur != dfd)
        close(cur);
    errno = err;
    return fd;
}

/* Hash regular file i with every algorithm that lists it and compare. */
static void hash_file(ctx *c, size_t i, unsigned char *buf, uint64_t *done,
                      uint64_t total)
{
    const bent *b = &c->t.e[i];
    const char *path = ent_path(&c->t, i);
    hash_ctx hc[NALGS];
    uint8_t dig[NALGS][64];
    int need[NALGS] = {0};
    struct stat st;
    char q[QMAX];
    int fd;

    for (int s = 0; s < NSLOTS; s++)
        if (b->slot[s] >= 0)
            need[slot_alg(s)] = 1;
    if ((fd = open_beneath(c->dfd, path)) < 0) {
        report_add(c->r, "cannot open '%s': %s", Q(q, path), strerror(errno));
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_ino != b->ino || (uint64_t)st.st_dev != b->dev) {
        report_add(c->r, "'%s' changed while being checked", Q(q, path));
        close(fd);
        return;
    }
    for (size_t a = 0; a < NALGS; a++)
        if (need[a])
            algs[a].h->init(&hc[a]);
    for (;;) {
        ssize_t k = read(fd, buf, READ_CHUNK);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            report_add(c->r, "cannot read '%s': %s", Q(q, path),
                       strerror(errno));
            close(fd);
            return;
        }
        if (k == 0)
            break;
        for (size_t a = 0; a < NALGS; a++)
            if (need[a])
                algs[a].h->update(&hc[a], (size_t)k, buf);
        c->res->hashed_bytes += (uint64_t)k;
        *done += (uint64_t)k;
        if (c->progress)
            c->progress(c->parg, *done < total ? *done : total, total);
    }
    close(fd);
    for (size_t a = 0; a < NALGS; a++)
        if (need[a])
            algs[a].h->digest(&hc[a], algs[a].h->digest_size, dig[a]);
    for (int s = 0; s < NSLOTS; s++) {
        const struct alg *a = &algs[slot_alg(s)];
        const mslot *m = &c->s[s];
        if (b->slot[s] < 0)
            continue;
        if (memcmp(dig[slot_alg(s)],
                   m->dig + (size_t)b->slot[s] * a->h->digest_size,
                   a->h->digest_size) != 0)
            report_add(c->r, "'%s': %s mismatch ('%s' line %u)", Q(q, path),
                       a->label, m->name, (unsigned)m->line[b->slot[s]]);
    }
}

/* 1 for the tag files no tag manifest needs to list: the tag manifests
 * and their detached minisign signatures, at the top of the bag. */
static int tag_exempt(const char *p)
{
    size_t n = strlen(p);
    if (strncmp(p, "tagmanifest-", 12) != 0 || strchr(p, '/'))
        return 0;
    return (n > 16 && strcmp(p + n - 4, ".txt") == 0) ||
           (n > 24 && strcmp(p + n - 12, ".txt.minisig") == 0);
}

/* The algorithm of "PREFIXalg.txt", or -1 for an unsupported one, -2 if
 * name is not such a name. OUT: alg (32 bytes). */
static int manifest_alg(const char *name, const char *prefix, char *alg)
{
    size_t pl = strlen(prefix), n = strlen(name);

    if (n <= pl + 4 || strncmp(name, prefix, pl) != 0 ||
        strcmp(name + n - 4, ".txt") != 0)
        return -2;
    snprintf(alg, 32, "%.*s", (int)(n - pl - 4), name + pl);
    for (size_t a = 0; a < NALGS; a++)
        if (strcmp(alg, algs[a].name) == 0)
            return (int)a;
    return -1;
}

/* Parse the manifests at the top of the bag. Returns 0, or the errno of a
 * failure to read the bag's directory. */
static int find_manifests(ctx *c)
{
    char **names = NULL, alg[32], q[QMAX], q2[QMAX];
    size_t n = 0;
    int more = 0, err = list_dir(c->dfd, BAG_MAX_FILES, &names, &n, &more);

    if (err) {
        if (err == ENOMEM)
            c->oom = 1;
        return err == ENOMEM ? 0 : err;
    }
    if (more) {
        report_add(c->r, "the bag's directory holds more than %d names: not "
                   "checked", BAG_MAX_FILES);
        c->stop = 1;
    }
    for (size_t j = 0; j < n && !c->oom && !c->stop; j++) {
        for (int tag = 0; tag < 2; tag++) {
            int a = manifest_alg(names[j], tag ? "tagmanifest-" : "manifest-",
                                 alg);
            if (a == -2)
                continue;
            if (a == -1) {
                report_add(c->r, "'%s': checksum algorithm '%s' is not "
                           "supported (only sha256 and sha512)",
                           Q(q, names[j]), Q(q2, alg));
                continue;
            }
            parse_manifest(c, a * 2 + tag, names[j]);
            if (c->s[a * 2 + tag].present) {
                unsigned k = c->res->manifests + c->res->tagmanifests;
                snprintf(c->res->manifest_names[k],
                         sizeof c->res->manifest_names[k], "%s", names[j]);
                if (tag)
                    c->res->tagmanifests++;
                else
                    c->res->manifests++;
            }
        }
    }
    free_names(names, n);
    if (!c->s[0].present && !c->oom)
        report_add(c->r, "'manifest-sha256.txt' is missing (evault needs a "
                   "SHA-256 payload manifest)");
    return 0;
}

/* After the walk: what the manifests list against what is there. */
static void cross_check(ctx *c)
{
    char q[QMAX];
    long i;

    if ((i = names_find(&c->t, "data", 4)) < 0 || c->t.e[i].kind == K_NONE)
        report_add(c->r, "the payload directory 'data' is missing");
    else if (c->t.e[i].kind != K_DIR)
        report_add(c->r, "'data' is not a directory");
    if ((i = names_find(&c->t, "fetch.txt", 9)) >= 0 &&
        c->t.e[i].kind != K_NONE)
        report_add(c->r, "'fetch.txt': bags that fetch files from elsewhere "
                   "are not supported (this one is not complete)");
    for (int s = 0; s < NSLOTS; s++) {
        const mslot *m = &c->s[s];
        for (size_t j = 0; j < m->n; j++) {
            const bent *b = &c->t.e[m->ent[j]];
            if (b->kind == K_FILE)
                continue;
            if (b->kind == K_NONE && !c->res->complete)
                continue; /* maybe in what was not walked */
            report_add(c->r, b->kind == K_NONE
                           ? "'%s': listed in '%s' (line %u) but missing"
                           : "'%s': listed in '%s' (line %u) but not a "
                             "regular file",
                       Q(q, ent_path(&c->t, m->ent[j])), m->name,
                       (unsigned)m->line[j]);
        }
    }
    for (size_t j = 0; j < c->nfiles; j++) {
        const bent *b = &c->t.e[c->files[j]];
        const char *p = ent_path(&c->t, c->files[j]);
        int payload = b->len > 5 && memcmp(p, "data/", 5) == 0;
        if (!payload && tag_exempt(p))
            continue;
        for (int s = 0; s < NSLOTS; s++)
            if (c->s[s].present && slot_tag(s) == !payload && b->slot[s] < 0)
                report_add(c->r, payload ? "'%s': payload file not listed "
                                           "in '%s'"
                                         : "'%s': tag file not listed in "
                                           "'%s'",
                           Q(q, p), c->s[s].name);
    }
}

static void check_oxum(ctx *c)
{
    const char *v = bag_info_get(&c->res->info, BAG_LABEL_PAYLOAD_OXUM);
    uint64_t bytes, count;
    char q[QMAX];

    if (!v)
        return;
    if (oxum_parse(v, &bytes, &count) != 0) {
        report_add(c->r, "'bag-info.txt': Payload-Oxum '%s' is not "
                   "BYTES.FILES", Q(q, v));
        return;
    }
    if (c->res->complete &&
        (bytes != c->res->bytes || count != c->res->files))
        report_add(c->r, "'bag-info.txt': Payload-Oxum is %s but the payload "
                   "holds %llu bytes in %llu files", Q(q, v),
                   (unsigned long long)c->res->bytes,
                   (unsigned long long)c->res->files);
}

void bag_check_result_clear(bag_check_result *res)
{
    if (!res)
        return;
    bag_info_clear(&res->info);
    memset(res, 0, sizeof *res);
}

int bag_check_at(int dirfd, bag_check_result *res, report *r,
                 bag_progress_fn progress, void *progress_arg, ev_err *e)
{
    ctx c;
    struct stat st;
    size_t before = r->n;
    unsigned char *buf = NULL;
    char path[BAG_PATH_MAX + 1] = "";
    uint64_t total = 0, done = 0;
    int rc = EV_ERR_INTERNAL, err;

    memset(res, 0, sizeof *res);
    res->complete = 1;
    memset(&c, 0, sizeof c);
    c.dfd = dirfd;
    c.r = r;
    c.res = res;
    c.progress = progress;
    c.parg = progress_arg;
    if (fstat(dirfd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = err_set(e, EV_ERR_IO, "the bag is not a directory");
        goto out;
    }
    check_bagit(&c);
    check_baginfo(&c, e);
    if (!c.oom && (err = find_manifests(&c)) != 0) {
        rc = err_set(e, EV_ERR_IO, "cannot read the bag's directory: %s",
                     strerror(err));
        goto out;
    }
    if (!c.oom && !c.stop)
        walk(&c, dirfd, path, 0, 0);
    if (c.stop)
        res->complete = 0;
    if (c.oom) {
        rc = err_set(e, EV_ERR_NOMEM, "out of memory checking the bag");
        goto out;
    }
    if (!c.stop) {
        cross_check(&c);
        check_oxum(&c);
        if ((buf = malloc(READ_CHUNK)) == NULL) {
            rc = err_set(e, EV_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t j = 0; j < c.nfiles; j++)
            for (int s = 0; s < NSLOTS; s++)
                if (c.t.e[c.files[j]].slot[s] >= 0) {
                    total += c.t.e[c.files[j]].size;
                    break;
                }
        for (size_t j = 0; j < c.nfiles; j++)
            for (int s = 0; s < NSLOTS; s++)
                if (c.t.e[c.files[j]].slot[s] >= 0) {
                    hash_file(&c, c.files[j], buf, &done, total);
                    break;
                }
    }
    res->valid = r->n == before && !r->oom && res->complete;
    rc = 0;
out:
    free(buf);
    free(c.t.e);
    free(c.t.pool);
    free(c.t.ix);
    free(c.t.fx);
    for (int s = 0; s < NSLOTS; s++) {
        free(c.s[s].ent);
        free(c.s[s].line);
        free(c.s[s].dig);
    }
    free(c.files);
    if (rc != 0)
        bag_check_result_clear(res);
    return rc;
}

int bag_check(const char *dir, bag_check_result *res, report *r,
              bag_progress_fn progress, void *progress_arg, ev_err *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
    char q[QMAX];

    memset(res, 0, sizeof *res);
    if (fd < 0)
        return err_set(e, EV_ERR_IO, "cannot open the bag directory '%s': %s",
                       Q(q, dir), strerror(errno));
    rc = bag_check_at(fd, res, r, progress, progress_arg, e);
    close(fd);
    return rc;
}
