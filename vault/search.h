/*
 * search: full-text search over the vault's records through the FTS5 table
 * `search` that schema migration 2 keeps by triggers (rowid = id * 8 +
 * kind). A query is ranked by bm25 with the title column (incident title,
 * actor name, source title, evidence file name) weighted above the body;
 * each hit comes back as (kind, local id, UUID, label, snippet).
 *
 * User input is turned into a safe FTS5 query by search_query_plain(): every
 * word becomes a quoted phrase, so FTS5 operators and punctuation in what a
 * user types are searched for as text and can never be a syntax error. The
 * raw mode passes FTS5 syntax (AND, OR, NOT, NEAR, prefix*, "phrases")
 * through, and a syntax error there is EV_ERR_INVALID.
 */
#ifndef EV_SEARCH_H
#define EV_SEARCH_H

#include <sqlite3.h>
#include <stdint.h>

#include "err.h"
#include "vault.h"

/* Record kinds: the low three bits of a `search` rowid. */
enum {
    SEARCH_ANY = 0,
    SEARCH_INCIDENT = 1,
    SEARCH_ACTOR = 2,
    SEARCH_SOURCE = 3,
    SEARCH_EVIDENCE = 4
};

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 10000

/* bm25 weights of the title and body columns. */
#define SEARCH_TITLE_WEIGHT 10.0
#define SEARCH_BODY_WEIGHT 1.0

typedef struct search_opts {
    int kind;            /* SEARCH_ANY or one SEARCH_* kind */
    int limit;           /* 1..SEARCH_LIMIT_MAX; 0: SEARCH_LIMIT_DEFAULT */
    const char *hl_open; /* put before each match in snippets; NULL: "[" */
    const char *hl_close; /* and after it; NULL: "]" */
    int snippet_tokens;   /* tokens of context per snippet; 0: 12 */
} search_opts;

/* One result. Strings are valid only during the callback. */
typedef struct search_hit {
    int kind;                /* SEARCH_INCIDENT ... SEARCH_EVIDENCE */
    int64_t id;              /* the record's local number */
    char uuid[37];           /* the record's UUID */
    const char *label;       /* title, name or file name ("" if none) */
    const char *snippet;     /* text around the best match, highlighted */
    double rank;             /* bm25 score: lower is a better match */
} search_hit;

/* Called once per hit, best first; a non-zero return stops the search and
 * search_run returns that value. */
typedef int (*search_fn)(void *arg, const search_hit *hit);

/*
 * Make an FTS5 query that matches records containing all of the words in
 * text (split on white space; case and diacritics do not matter). Each word
 * becomes a quoted phrase with its double quotes doubled, so nothing in
 * text is FTS5 syntax. OUT: *out, a sqlite3_malloc'd string the caller
 * frees with sqlite3_free. EV_ERR_INVALID when text holds no word.
 */
int search_query_plain(const char *text, char **out, ev_err *e);

/*
 * Run the FTS5 query fts (see search_query_plain, or FTS5 syntax from a
 * user who asked for it) on v's index and call fn for each hit, best first,
 * at most o->limit times. Returns 0, the callback's non-zero value,
 * EV_ERR_INVALID for a query FTS5 rejects (the message carries FTS5's), or
 * another EV_ERR_* code (EV_ERR_INTEGRITY for a page that fails
 * authentication).
 */
int search_run(vault *v, const char *fts, const search_opts *o, search_fn fn,
               void *arg, ev_err *e);

/* "incident", "actor", "source", "evidence" (NULL for another kind). */
const char *search_kind_name(int kind);

/* The SEARCH_* kind named name, or -1. */
int search_kind_parse(const char *name);

#endif
