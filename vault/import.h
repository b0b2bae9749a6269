/*
 * import: bulk import of case records into a vault from a JSON file in the
 * evault-import-1 format (examples/kyrgyzstan-2023.json) or an RFC 4180
 * CSV file of incidents (columns: docs/man/records.roff). All or nothing:
 * the whole file is imported in one transaction; the first bad record
 * stops it with a message naming where (CSV: the physical line the record
 * starts on; JSON: the array index and ref) and why, and the vault is left
 * as it was. The input is treated as hostile: size-limited, UTF-8 checked,
 * every field validated as the records API does.
 */
#ifndef EV_IMPORT_H
#define EV_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vault.h"

#define IMPORT_MAXSIZE ((size_t)64 * 1024 * 1024)

typedef struct import_counts {
    int64_t incidents, actors, actors_reused, sources, involvements,
        citations, types;
} import_counts;

/*
 * Import the file at path. format: "csv", "json", or NULL to guess from
 * the file name's extension. OUT: *counts (may be NULL).
 */
int import_file(vault *v, const char *path, const char *format,
                import_counts *counts, ev_err *e);

/*
 * Import len bytes at data (a UTF-8 BOM is skipped). name is used in
 * messages. format: "csv" or "json". OUT: *counts (may be NULL).
 */
int import_buffer(vault *v, const char *data, size_t len, const char *format,
                  const char *name, import_counts *counts, ev_err *e);

#endif
