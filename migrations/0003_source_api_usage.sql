-- crmsync state, schema version 3: each Salesforce source's daily API use as the org last
-- reported it (SPEC §4 "the source's Sforce-Limit-Info usage is tracked and the api_budget is
-- never exceeded"; api-reference §1.1, §1.8), so `crmsync status`, a separate process, can show
-- how close a source runs to its api_budget and why a stream is paused on it.
--
-- One row per source and origin: `sforce_limit_info` is the api-usage=N/M header of the last
-- API response a run saw, `limits` the DailyApiRequests {Max, Remaining} read from /limits at
-- the start (stored as used = Max - Remaining). The allocation is a rolling 24 h window, so the
-- numbers are a reading at read_ms, not a counter: a newer reading replaces an older one, and a
-- reading older than the stored one changes nothing (two processes may share one state).
CREATE TABLE source_api_usage (
    source   TEXT    NOT NULL CHECK (source <> ''),
    origin   TEXT    NOT NULL CHECK (origin IN ('sforce_limit_info', 'limits')),
    used     INTEGER NOT NULL CHECK (used >= 0),
    max      INTEGER NOT NULL CHECK (max >= 0),
    read_ms  INTEGER NOT NULL,
    PRIMARY KEY (source, origin)
) STRICT, WITHOUT ROWID;
