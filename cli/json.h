/*
 * json: build JSON documents with SQLite's JSON functions (json_set and
 * friends on a private in-memory connection) instead of a JSON library.
 * Paths are SQLite JSON paths ("$.a", "$.list[#]").
 */
#ifndef EV_JSON_H
#define EV_JSON_H

#include <stdint.h>

typedef struct json_doc json_doc;

/* A new document: "{}" (or "[]" when array is non-zero). NULL on failure. */
json_doc *json_new(int array);
void json_free(json_doc *d);

void json_str(json_doc *d, const char *path, const char *value);
void json_int(json_doc *d, const char *path, int64_t value);
void json_bool(json_doc *d, const char *path, int value);
/* Insert another document's text as a JSON value. */
void json_doc_set(json_doc *d, const char *path, const json_doc *value);

/* The text; valid until the next change. */
const char *json_text(const json_doc *d);

/* Print the document and a newline to stdout. Returns 0, or 1 on error. */
int json_print(const json_doc *d);

#endif
