-- crmsync state, schema version 1. Applied by src/state/migrate.cpp in one transaction with its
-- row in schema_migrations; see migrations/README.md for the rules every migration follows.
--
-- Conventions: every time is INTEGER milliseconds since the Unix epoch, UTC (crmsync::timestamp);
-- tables are STRICT so a wrong type from a bug is an error instead of a silently coerced value;
-- CHECKs encode the invariants store.cpp relies on, so a violating write aborts its whole
-- transaction (a half-written batch is worse than a failed one).

-- Where each stream is in the CRM's change order, (SystemModstamp, Id): SPEC §4 "No change is
-- lost". record_id may be '' after `watermark set --to T`: "before every record stamped T".
CREATE TABLE watermarks (
    stream      TEXT    NOT NULL PRIMARY KEY CHECK (stream <> ''),
    modstamp_ms INTEGER NOT NULL,
    record_id   TEXT    NOT NULL,
    updated_ms  INTEGER NOT NULL
) STRICT;

-- The digest of the last payload handled per record (delivered or rejected): SPEC §4 "Only real
-- changes cost API calls". One row per record ever synced, read by primary key only, so
-- WITHOUT ROWID keeps it to one b-tree.
CREATE TABLE record_digests (
    stream     TEXT    NOT NULL CHECK (stream <> ''),
    record_id  TEXT    NOT NULL CHECK (record_id <> ''),
    digest     BLOB    NOT NULL CHECK (length(digest) = 16),
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (stream, record_id)
) STRICT, WITHOUT ROWID;

-- One row per stream run (the daemon's cycle, `crmsync once`), for `status` and audits.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    stream      TEXT    NOT NULL CHECK (stream <> ''),
    started_ms  INTEGER NOT NULL,
    finished_ms INTEGER,
    status      TEXT    NOT NULL
                CHECK (status IN ('running', 'ok', 'failed', 'paused', 'cancelled')),
    read        INTEGER NOT NULL DEFAULT 0 CHECK (read >= 0),
    created     INTEGER NOT NULL DEFAULT 0 CHECK (created >= 0),
    updated     INTEGER NOT NULL DEFAULT 0 CHECK (updated >= 0),
    unchanged   INTEGER NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
    rejected    INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0),
    error       TEXT    NOT NULL DEFAULT ''
) STRICT;
-- `status`: the last run of a stream.
CREATE INDEX runs_by_stream ON runs (stream, id);

-- The OPEN rejections: at most one row per (stream, record). A repeated rejection updates the
-- row and counts attempts; a later delivery of the record deletes it (SPEC §4 "Rejected records
-- never block a stream"). AUTOINCREMENT because operators type these ids (`errors show ID`,
-- `errors retry ID`): an id must never come back naming a different record after a delete.
CREATE TABLE error_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    stream        TEXT    NOT NULL CHECK (stream <> ''),
    record_id     TEXT    NOT NULL CHECK (record_id <> ''),
    category      TEXT    NOT NULL
                  CHECK (category IN ('duplicate', 'validation', 'access', 'not_found', 'other')),
    code          TEXT    NOT NULL,
    message       TEXT    NOT NULL,
    payload_json  TEXT    NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL CHECK (last_seen_ms >= first_seen_ms),
    attempts      INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    -- The run that last rejected it; kept (as NULL) if run history is ever pruned.
    run_id        INTEGER REFERENCES runs (id) ON DELETE SET NULL,
    UNIQUE (stream, record_id)
) STRICT;
-- `errors list --since`, `errors purge --before` and the newest-first order.
CREATE INDEX error_log_by_last_seen ON error_log (last_seen_ms);
-- `status`: open errors per stream and category; `errors list --stream S --category C`.
CREATE INDEX error_log_by_stream_category ON error_log (stream, category);

-- Running totals per stream, bumped by every commit_batch so `status` needs no scan.
CREATE TABLE stream_totals (
    stream    TEXT    NOT NULL PRIMARY KEY CHECK (stream <> ''),
    created   INTEGER NOT NULL DEFAULT 0 CHECK (created >= 0),
    updated   INTEGER NOT NULL DEFAULT 0 CHECK (updated >= 0),
    unchanged INTEGER NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
    rejected  INTEGER NOT NULL DEFAULT 0 CHECK (rejected >= 0)
) STRICT, WITHOUT ROWID;
