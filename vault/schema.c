/*
 * schema: migrations, oldest first. Never edit a shipped migration; add one.
 * migrations[] is a flat list of SQL texts; a NULL ends each migration (C
 * compilers need only accept string literals of 4095 bytes, so a long
 * migration is several texts run in one transaction).
 */
#include "schema.h"

#include <stddef.h>

static const char *const migrations[] = {
    /* 1: container bookkeeping */
    "CREATE TABLE vault_meta("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  value TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE keyslot_state("
    "  slot INTEGER PRIMARY KEY CHECK (slot BETWEEN 0 AND 7),"
    "  committed BLOB NOT NULL CHECK (length(committed) = 512),"
    "  pending BLOB CHECK (pending IS NULL OR length(pending) = 512)"
    ");",
    NULL,

    /* 2: case records (HURIDOCS Events Standard Formats in spirit), the
     * evidence store and full-text search. Dates are ISO 8601 text with a
     * precision; times are UTC "YYYY-MM-DDTHH:MM:SSZ"; uuid is the text
     * form of a random (version 4) UUID. */
    "CREATE TABLE incident_type("
    "  name TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 64"
    "    AND name NOT GLOB '*[^a-z0-9-]*'),"
    "  builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),"
    "  description TEXT NOT NULL DEFAULT ''"
    ") WITHOUT ROWID;"
    "INSERT INTO incident_type(name, builtin) VALUES"
    "  ('arrest', 1), ('detention', 1), ('criminal-charge', 1), ('trial', 1),"
    "  ('conviction', 1), ('online-threat', 1), ('harassment', 1),"
    "  ('intimidation', 1), ('surveillance', 1), ('physical-attack', 1),"
    "  ('raid-or-search', 1), ('deportation', 1), ('travel-ban', 1),"
    "  ('website-blocking', 1), ('media-closure', 1), ('ngo-restriction', 1),"
    "  ('protest-ban', 1), ('protest-dispersal', 1), ('restrictive-law', 1),"
    "  ('other', 1);",
    "CREATE TABLE incident("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),"
    "  type TEXT NOT NULL REFERENCES incident_type(name),"
    "  description TEXT NOT NULL DEFAULT '',"
    "  location TEXT NOT NULL DEFAULT '',"
    "  latitude REAL CHECK (latitude IS NULL OR latitude BETWEEN -90 AND 90),"
    "  longitude REAL CHECK (longitude IS NULL OR"
    "    longitude BETWEEN -180 AND 180),"
    "  start_date TEXT,"
    "  start_precision TEXT CHECK (start_precision IN ('exact', 'estimate',"
    "    'unknown-day', 'unknown-month-and-day')),"
    "  end_date TEXT,"
    "  end_precision TEXT CHECK (end_precision IN ('exact', 'estimate',"
    "    'unknown-day', 'unknown-month-and-day')),"
    "  status TEXT NOT NULL DEFAULT 'unverified' CHECK (status IN"
    "    ('confirmed', 'likely', 'possible', 'unverified')),"
    "  confidential INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),"
    "  created TEXT NOT NULL,"
    "  updated TEXT NOT NULL,"
    "  CHECK ((start_date IS NULL) = (start_precision IS NULL)),"
    "  CHECK ((end_date IS NULL) = (end_precision IS NULL)),"
    "  CHECK ((latitude IS NULL) = (longitude IS NULL))"
    ");"
    "CREATE INDEX incident_by_start ON incident(start_date);"
    "CREATE INDEX incident_by_type ON incident(type);",
    "CREATE TABLE incident_tag("
    "  incident_id INTEGER NOT NULL REFERENCES incident(id) ON DELETE CASCADE,"
    "  tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),"
    "  PRIMARY KEY (incident_id, tag)"
    ") WITHOUT ROWID;"
    "CREATE INDEX incident_tag_by_tag ON incident_tag(tag);",
    "CREATE TABLE actor("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  kind TEXT NOT NULL CHECK (kind IN ('person', 'organisation')),"
    "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 1000),"
    "  other_names TEXT NOT NULL DEFAULT '[]',"
    "  category TEXT NOT NULL DEFAULT 'other',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  contact TEXT NOT NULL DEFAULT '',"
    "  confidential INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),"
    "  created TEXT NOT NULL,"
    "  updated TEXT NOT NULL"
    ");"
    "CREATE INDEX actor_by_name ON actor(name);",
    "CREATE TABLE involvement("
    "  incident_id INTEGER NOT NULL REFERENCES incident(id) ON DELETE CASCADE,"
    "  actor_id INTEGER NOT NULL REFERENCES actor(id),"
    "  role TEXT NOT NULL CHECK (role IN ('victim', 'perpetrator', 'witness',"
    "    'source', 'other')),"
    "  degree TEXT CHECK (degree IS NULL OR (role = 'perpetrator' AND degree IN"
    "    ('carried-out', 'ordered', 'suspected'))),"
    "  PRIMARY KEY (incident_id, actor_id, role)"
    ") WITHOUT ROWID;"
    "CREATE INDEX involvement_by_actor ON involvement(actor_id);",
    "CREATE TABLE source("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  kind TEXT NOT NULL CHECK (kind IN ('interview', 'court-document',"
    "    'news-report', 'social-media-post', 'official-statement', 'report',"
    "    'other')),"
    "  title TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  date TEXT,"
    "  date_precision TEXT CHECK (date_precision IN ('exact', 'estimate',"
    "    'unknown-day', 'unknown-month-and-day')),"
    "  reliability TEXT NOT NULL DEFAULT 'unknown' CHECK (reliability IN"
    "    ('high', 'medium', 'low', 'unknown')),"
    "  consent TEXT NOT NULL DEFAULT 'no' CHECK (consent IN ('yes',"
    "    'anonymised', 'no')),"
    "  url TEXT,"
    "  confidential INTEGER NOT NULL DEFAULT 0 CHECK (confidential IN (0, 1)),"
    "  created TEXT NOT NULL,"
    "  updated TEXT NOT NULL,"
    "  CHECK ((date IS NULL) = (date_precision IS NULL))"
    ");",
    "CREATE TABLE citation("
    "  incident_id INTEGER NOT NULL REFERENCES incident(id) ON DELETE CASCADE,"
    "  source_id INTEGER NOT NULL REFERENCES source(id),"
    "  PRIMARY KEY (incident_id, source_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX citation_by_source ON citation(source_id);",
    /* Evidence content: one blob row per distinct SHA-256, its bytes in
     * numbered chunks; evidence rows describe an acquisition. */
    "CREATE TABLE blob("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 BLOB NOT NULL UNIQUE CHECK (length(sha256) = 32),"
    "  size INTEGER NOT NULL CHECK (size >= 0),"
    "  chunk_size INTEGER NOT NULL CHECK (chunk_size > 0),"
    "  created TEXT NOT NULL"
    ");",
    /* chunks hang off the blob's integer id: the hash is known only at the
     * end of an ingest, and then only the small blob row changes */
    "CREATE TABLE chunk("
    "  id INTEGER PRIMARY KEY,"
    "  blob_id INTEGER NOT NULL REFERENCES blob(id),"
    "  seq INTEGER NOT NULL CHECK (seq >= 0),"
    "  data BLOB NOT NULL,"
    "  UNIQUE (blob_id, seq)"
    ");",
    "CREATE TABLE evidence("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  sha256 BLOB NOT NULL REFERENCES blob(sha256),"
    "  original_name TEXT NOT NULL,"
    "  size INTEGER NOT NULL CHECK (size >= 0),"
    "  media_type TEXT NOT NULL DEFAULT 'application/octet-stream',"
    "  method TEXT NOT NULL DEFAULT 'document' CHECK (method IN ('photo',"
    "    'video', 'screenshot', 'download', 'document', 'audio',"
    "    'web-archive', 'other')),"
    "  url TEXT,"
    "  acquired_at TEXT NOT NULL,"
    "  acquired_by TEXT NOT NULL DEFAULT '',"
    "  description TEXT NOT NULL DEFAULT '',"
    "  created TEXT NOT NULL"
    ");"
    "CREATE INDEX evidence_by_sha256 ON evidence(sha256);",
    "CREATE TABLE evidence_link("
    "  evidence_id INTEGER NOT NULL REFERENCES evidence(id) ON DELETE CASCADE,"
    "  incident_id INTEGER NOT NULL REFERENCES incident(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (evidence_id, incident_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX evidence_link_by_incident ON evidence_link(incident_id);",
    /* Full-text search, kept by triggers. rowid = id * 8 + kind (1 incident,
     * 2 actor, 3 source, 4 evidence) so that updates find their row. Actor
     * contact details are never indexed. */
    "CREATE VIRTUAL TABLE search USING fts5(title, body,"
    "  tokenize = 'unicode61 remove_diacritics 2');",
    "CREATE VIEW search_incident_text(id, title, body) AS"
    "  SELECT i.id, i.title, i.description || char(10) || i.location ||"
    "    char(10) || coalesce((SELECT group_concat(tag, ' ') FROM incident_tag"
    "    WHERE incident_id = i.id), '') FROM incident i;",
    "CREATE TRIGGER incident_ai AFTER INSERT ON incident BEGIN"
    "  INSERT INTO search(rowid, title, body) SELECT id * 8 + 1, title, body"
    "    FROM search_incident_text WHERE id = NEW.id; END;",
    "CREATE TRIGGER incident_au AFTER UPDATE ON incident BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 1;"
    "  INSERT INTO search(rowid, title, body) SELECT id * 8 + 1, title, body"
    "    FROM search_incident_text WHERE id = NEW.id; END;",
    "CREATE TRIGGER incident_ad AFTER DELETE ON incident BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 1; END;",
    "CREATE TRIGGER incident_tag_ai AFTER INSERT ON incident_tag BEGIN"
    "  DELETE FROM search WHERE rowid = NEW.incident_id * 8 + 1;"
    "  INSERT INTO search(rowid, title, body) SELECT id * 8 + 1, title, body"
    "    FROM search_incident_text WHERE id = NEW.incident_id; END;",
    "CREATE TRIGGER incident_tag_ad AFTER DELETE ON incident_tag BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.incident_id * 8 + 1;"
    "  INSERT INTO search(rowid, title, body) SELECT id * 8 + 1, title, body"
    "    FROM search_incident_text WHERE id = OLD.incident_id; END;",
    "CREATE TRIGGER actor_ai AFTER INSERT ON actor BEGIN"
    "  INSERT INTO search(rowid, title, body) VALUES (NEW.id * 8 + 2,"
    "    NEW.name, NEW.other_names || char(10) || NEW.description);"
    "  END;",
    "CREATE TRIGGER actor_au AFTER UPDATE ON actor BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 2;"
    "  INSERT INTO search(rowid, title, body) VALUES (NEW.id * 8 + 2,"
    "    NEW.name, NEW.other_names || char(10) || NEW.description);"
    "  END;",
    "CREATE TRIGGER actor_ad AFTER DELETE ON actor BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 2; END;",
    "CREATE TRIGGER source_ai AFTER INSERT ON source BEGIN"
    "  INSERT INTO search(rowid, title, body) VALUES (NEW.id * 8 + 3,"
    "    NEW.title, NEW.description); END;",
    "CREATE TRIGGER source_au AFTER UPDATE ON source BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 3;"
    "  INSERT INTO search(rowid, title, body) VALUES (NEW.id * 8 + 3,"
    "    NEW.title, NEW.description); END;",
    "CREATE TRIGGER source_ad AFTER DELETE ON source BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 3; END;",
    "CREATE TRIGGER evidence_ai AFTER INSERT ON evidence BEGIN"
    "  INSERT INTO search(rowid, title, body) VALUES (NEW.id * 8 + 4,"
    "    NEW.original_name, NEW.description); END;",
    "CREATE TRIGGER evidence_au AFTER UPDATE ON evidence BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 4;"
    "  INSERT INTO search(rowid, title, body) VALUES (NEW.id * 8 + 4,"
    "    NEW.original_name, NEW.description); END;",
    "CREATE TRIGGER evidence_ad AFTER DELETE ON evidence BEGIN"
    "  DELETE FROM search WHERE rowid = OLD.id * 8 + 4; END;",
    NULL,

    /* 3: evidentiary integrity. The vault identity (one row, written once
     * by identity.c), the signed hash-chained custody log, seals, and the
     * version chain of amended incidents. Triggers make the log
     * append-only and sealed records immutable; they hold for every
     * connection, evault's own code included. */
    "CREATE TABLE identity("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  key_id BLOB NOT NULL CHECK (length(key_id) = 8),"
    "  sign_sk BLOB NOT NULL CHECK (length(sign_sk) = 64),"
    "  sign_pk BLOB NOT NULL CHECK (length(sign_pk) = 32),"
    "  box_sk BLOB NOT NULL CHECK (length(box_sk) = 32),"
    "  box_pk BLOB NOT NULL CHECK (length(box_pk) = 32),"
    "  created TEXT NOT NULL"
    ");"
    "CREATE TRIGGER identity_bu BEFORE UPDATE ON identity BEGIN"
    "  SELECT RAISE(ABORT, 'the vault identity never changes'); END;"
    "CREATE TRIGGER identity_bd BEFORE DELETE ON identity BEGIN"
    "  SELECT RAISE(ABORT, 'the vault identity never changes'); END;",
    "CREATE TABLE custody("
    "  seq INTEGER PRIMARY KEY CHECK (seq >= 1),"
    "  at TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object_type TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),"
    "  hash BLOB NOT NULL CHECK (length(hash) = 32),"
    "  signature BLOB NOT NULL CHECK (length(signature) = 64)"
    ");"
    "CREATE INDEX custody_by_object ON custody(object);"
    "CREATE TRIGGER custody_bi BEFORE INSERT ON custody WHEN NEW.seq IS NOT"
    "  coalesce((SELECT max(seq) FROM custody), 0) + 1 BEGIN"
    "  SELECT RAISE(ABORT, 'the custody log is append-only'); END;"
    "CREATE TRIGGER custody_bu BEFORE UPDATE ON custody BEGIN"
    "  SELECT RAISE(ABORT, 'the custody log is append-only'); END;"
    "CREATE TRIGGER custody_bd BEFORE DELETE ON custody BEGIN"
    "  SELECT RAISE(ABORT, 'the custody log is append-only'); END;",
    "ALTER TABLE incident ADD COLUMN supersedes INTEGER REFERENCES"
    "  incident(id);"
    "CREATE INDEX incident_by_supersedes ON incident(supersedes);"
    "CREATE TABLE seal("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  incident_id INTEGER NOT NULL UNIQUE REFERENCES incident(id),"
    "  sealed_at TEXT NOT NULL,"
    "  record BLOB NOT NULL,"
    "  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
    "  signature TEXT NOT NULL"
    ");"
    "CREATE TRIGGER seal_bu BEFORE UPDATE ON seal BEGIN"
    "  SELECT RAISE(ABORT, 'a seal never changes'); END;"
    "CREATE TRIGGER seal_bd BEFORE DELETE ON seal BEGIN"
    "  SELECT RAISE(ABORT, 'a seal never changes'); END;"
    "CREATE VIEW sealed_incident(id) AS SELECT incident_id FROM seal;",
#define SEALED_RAISE(what)                                                    \
    " BEGIN SELECT RAISE(ABORT, '" what "'); END;"
#define SEALED_INC(col) " WHEN " col " IN (SELECT id FROM sealed_incident)"
    "CREATE TRIGGER incident_seal_bu BEFORE UPDATE ON incident"
    SEALED_INC("OLD.id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER incident_seal_bd BEFORE DELETE ON incident"
    SEALED_INC("OLD.id") SEALED_RAISE("the incident is sealed: use evault incident amend"),
    "CREATE TRIGGER incident_tag_seal_bi BEFORE INSERT ON incident_tag"
    SEALED_INC("NEW.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER incident_tag_seal_bu BEFORE UPDATE ON incident_tag"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER incident_tag_seal_bd BEFORE DELETE ON incident_tag"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER involvement_seal_bi BEFORE INSERT ON involvement"
    SEALED_INC("NEW.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER involvement_seal_bu BEFORE UPDATE ON involvement"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER involvement_seal_bd BEFORE DELETE ON involvement"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend"),
    "CREATE TRIGGER citation_seal_bi BEFORE INSERT ON citation"
    SEALED_INC("NEW.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER citation_seal_bu BEFORE UPDATE ON citation"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER citation_seal_bd BEFORE DELETE ON citation"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER evidence_link_seal_bi BEFORE INSERT ON evidence_link"
    SEALED_INC("NEW.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER evidence_link_seal_bu BEFORE UPDATE ON evidence_link"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend")
    "CREATE TRIGGER evidence_link_seal_bd BEFORE DELETE ON evidence_link"
    SEALED_INC("OLD.incident_id") SEALED_RAISE("the incident is sealed: use evault incident amend"),
#define SEALED_VIA(table, col, key)                                           \
    " WHEN EXISTS (SELECT 1 FROM " table " x JOIN sealed_incident s ON "       \
    "s.id = x.incident_id WHERE x." col " = OLD." key ")"
    "CREATE TRIGGER actor_seal_bu BEFORE UPDATE ON actor"
    SEALED_VIA("involvement", "actor_id", "id")
    SEALED_RAISE("this actor is part of a sealed incident and cannot change")
    "CREATE TRIGGER actor_seal_bd BEFORE DELETE ON actor"
    SEALED_VIA("involvement", "actor_id", "id")
    SEALED_RAISE("this actor is part of a sealed incident and cannot change")
    "CREATE TRIGGER source_seal_bu BEFORE UPDATE ON source"
    SEALED_VIA("citation", "source_id", "id")
    SEALED_RAISE("this source is part of a sealed incident and cannot change")
    "CREATE TRIGGER source_seal_bd BEFORE DELETE ON source"
    SEALED_VIA("citation", "source_id", "id")
    SEALED_RAISE("this source is part of a sealed incident and cannot change"),
    "CREATE TRIGGER evidence_seal_bu BEFORE UPDATE ON evidence"
    SEALED_VIA("evidence_link", "evidence_id", "id")
    SEALED_RAISE("this evidence is part of a sealed incident and cannot change")
    "CREATE TRIGGER evidence_seal_bd BEFORE DELETE ON evidence"
    SEALED_VIA("evidence_link", "evidence_id", "id")
    SEALED_RAISE("this evidence is part of a sealed incident and cannot change"),
#define SEALED_BLOB(key)                                                      \
    " WHEN EXISTS (SELECT 1 FROM blob b JOIN evidence ev ON ev.sha256 = "      \
    "b.sha256 JOIN evidence_link l ON l.evidence_id = ev.id JOIN "           \
    "sealed_incident s ON s.id = l.incident_id WHERE b.id = OLD." key ")"
    "CREATE TRIGGER blob_seal_bu BEFORE UPDATE ON blob" SEALED_BLOB("id")
    SEALED_RAISE("this evidence file is part of a sealed incident and cannot change")
    "CREATE TRIGGER blob_seal_bd BEFORE DELETE ON blob" SEALED_BLOB("id")
    SEALED_RAISE("this evidence file is part of a sealed incident and cannot change")
    "CREATE TRIGGER chunk_seal_bu BEFORE UPDATE ON chunk"
    SEALED_BLOB("blob_id")
    SEALED_RAISE("this evidence file is part of a sealed incident and cannot change")
    "CREATE TRIGGER chunk_seal_bd BEFORE DELETE ON chunk"
    SEALED_BLOB("blob_id")
    SEALED_RAISE("this evidence file is part of a sealed incident and cannot change"),
    NULL,

    /* 4: partners, who bundles are sent to and accepted from (partner.c).
     * Keys as text in their standard forms: the minisign public key line
     * and the age recipient. */
    "CREATE TABLE partner("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),"
    "  vault_id TEXT CHECK (vault_id IS NULL OR length(vault_id) = 32),"
    "  minisign_key TEXT NOT NULL CHECK (length(minisign_key) = 56),"
    "  age_recipient TEXT NOT NULL,"
    "  fingerprint TEXT NOT NULL,"
    "  origin TEXT NOT NULL CHECK (origin IN ('card', 'keys')),"
    "  added TEXT NOT NULL"
    ");",
    NULL,

    /* 5: bundles received from partners (receive.c): one row per imported
     * bundle, the provenance of every record it brought, and the sender's
     * seals, kept byte for byte so that they stay verifiable. All three
     * are append-only. */
    "CREATE TABLE bundle_import("
    "  id INTEGER PRIMARY KEY,"
    "  uuid TEXT NOT NULL UNIQUE CHECK (length(uuid) = 36),"
    "  partner TEXT NOT NULL,"
    "  partner_key TEXT NOT NULL,"
    "  sender_vault_id TEXT,"
    "  sender_name TEXT,"
    "  bagging_date TEXT,"
    "  signature_checked INTEGER NOT NULL CHECK (signature_checked IN (0, 1)),"
    "  received TEXT NOT NULL,"
    "  bundle_bytes INTEGER NOT NULL,"
    "  custody BLOB NOT NULL"
    ");"
    "CREATE TRIGGER bundle_import_bu BEFORE UPDATE ON bundle_import BEGIN"
    "  SELECT RAISE(ABORT, 'an import record never changes'); END;"
    "CREATE TRIGGER bundle_import_bd BEFORE DELETE ON bundle_import BEGIN"
    "  SELECT RAISE(ABORT, 'an import record never changes'); END;",
    "CREATE TABLE provenance("
    "  object_type TEXT NOT NULL CHECK (object_type IN ('incident', 'actor',"
    "    'source', 'evidence')),"
    "  object TEXT NOT NULL,"
    "  bundle_id INTEGER NOT NULL REFERENCES bundle_import(id),"
    "  UNIQUE (object, bundle_id)"
    ");" /* not WITHOUT ROWID: SQLite 3.40.1's integrity_check then reports
            the NOT NULL column outside the key as NULL */
    "CREATE TRIGGER provenance_bu BEFORE UPDATE ON provenance BEGIN"
    "  SELECT RAISE(ABORT, 'provenance never changes'); END;"
    "CREATE TRIGGER provenance_bd BEFORE DELETE ON provenance BEGIN"
    "  SELECT RAISE(ABORT, 'provenance never changes'); END;",
    "CREATE TABLE received_seal("
    "  id INTEGER PRIMARY KEY,"
    "  bundle_id INTEGER NOT NULL REFERENCES bundle_import(id),"
    "  incident TEXT NOT NULL CHECK (length(incident) = 36),"
    "  seal TEXT NOT NULL,"
    "  sealed_at TEXT NOT NULL,"
    "  record BLOB NOT NULL,"
    "  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
    "  signature TEXT NOT NULL,"
    "  signer_key TEXT NOT NULL CHECK (length(signer_key) = 56),"
    "  UNIQUE (incident, sha256)"
    ");"
    "CREATE TRIGGER received_seal_bu BEFORE UPDATE ON received_seal BEGIN"
    "  SELECT RAISE(ABORT, 'a seal never changes'); END;"
    "CREATE TRIGGER received_seal_bd BEFORE DELETE ON received_seal BEGIN"
    "  SELECT RAISE(ABORT, 'a seal never changes'); END;",
    NULL,
};

#define NTEXTS (sizeof migrations / sizeof migrations[0])

int schema_latest(void)
{
    int n = 0;
    for (size_t i = 0; i < NTEXTS; i++)
        n += migrations[i] == NULL;
    return n;
}

/* Run the texts of migration number m (1-based) on db. */
static int run_migration(sqlite3 *db, int m)
{
    int at = 1;
    for (size_t i = 0; i < NTEXTS; i++) {
        if (!migrations[i]) {
            at++;
            continue;
        }
        if (at == m && sqlite3_exec(db, migrations[i], NULL, NULL, NULL) !=
                           SQLITE_OK)
            return -1;
    }
    return 0;
}

int schema_version(sqlite3 *db, int *version, ev_err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = EV_ERR_INTERNAL;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = err_set(e, EV_ERR_IO, "cannot read the schema version: %s",
                     sqlite3_errmsg(db));
        goto out;
    }
    *version = sqlite3_column_int(st, 0);
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

int schema_migrate(sqlite3 *db, ev_err *e)
{
    const int NMIGRATIONS = schema_latest();
    int v = 0, rc;

    rc = schema_version(db, &v, e);
    if (rc != 0)
        return rc;
    if (v > NMIGRATIONS)
        return err_set(e, EV_ERR_REFUSED,
                       "this vault has schema version %d but this evault "
                       "knows only up to %d: upgrade evault",
                       v, NMIGRATIONS);
    while (v < NMIGRATIONS) {
        char *sql;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return err_set(e, EV_ERR_IO, "cannot start migration: %s",
                           sqlite3_errmsg(db));
        /* Another process may have migrated while we waited for the lock. */
        rc = schema_version(db, &v, e);
        if (rc == 0 && v < NMIGRATIONS) {
            sql = sqlite3_mprintf("PRAGMA user_version=%d;", v + 1);
            if (!sql)
                rc = err_set(e, EV_ERR_NOMEM, "out of memory");
            else if (run_migration(db, v + 1) != 0 ||
                     sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
                rc = err_set(e, EV_ERR_IO, "schema migration %d failed: %s",
                             v + 1, sqlite3_errmsg(db));
            sqlite3_free(sql);
        }
        if (rc != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            rc = err_set(e, EV_ERR_IO, "cannot commit migration: %s",
                         sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        rc = schema_version(db, &v, e);
        if (rc != 0)
            return rc;
    }
    return 0;
}
