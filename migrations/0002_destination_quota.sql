-- crmsync state, schema version 2: the daily API quota of each destination as crmsync counted
-- it (SPEC §4 "Limits are respected"; Marketo: limits.daily_calls, error 607), so a restart
-- does not forget what the day already used and `crmsync status` can show a pause.
--
-- One row per destination for its current quota day: the US Central date, on which Marketo's
-- quota resets at midnight (src/core/central_time.cpp). A later day replaces the row's count;
-- days never move back (store::update_quota). `calls` holds the calls every process on this
-- state counted, including the blocks they reserved ahead (sink/marketo/quota.hpp), so after a
-- crash it may run over by a block, never under.
CREATE TABLE destination_quota (
    destination    TEXT    NOT NULL PRIMARY KEY CHECK (destination <> ''),
    day            TEXT    NOT NULL
                   CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    calls          INTEGER NOT NULL CHECK (calls >= 0),
    -- Marketo answered 607, or the count reached the limit: no call until this instant (the
    -- next reset), whatever `calls` says. NULL while calls are left.
    spent_until_ms INTEGER,
    updated_ms     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
