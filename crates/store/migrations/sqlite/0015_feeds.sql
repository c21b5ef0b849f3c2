-- The feed pipeline: harmonised events (IntelMQ field names, kept whole as
-- JSON in `body`, with the columns lists and searches need), rows that
-- could not be parsed, per-source counters, and the journal mark that
-- makes a replay after a crash skip what was already committed.

CREATE TABLE feed_events (
    seq INTEGER PRIMARY KEY,
    -- a hash of the normalised content and feed: storing is idempotent
    id TEXT NOT NULL UNIQUE,
    feed TEXT NOT NULL,
    -- time.source, else time.observation (fixed-width UTC text)
    event_time TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    taxonomy TEXT NOT NULL,
    type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    source_ip TEXT,
    source_asn BIGINT,
    source_cc TEXT,
    -- the constituent the event was attributed to
    org_id TEXT,
    tlp TEXT NOT NULL,
    -- the deduplication key (signed 64-bit), to rebuild the window on start
    dedup_key BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX feed_events_feed_time ON feed_events(feed, event_time);
CREATE INDEX feed_events_org ON feed_events(org_id, seq);

CREATE TABLE feed_quarantine (
    seq INTEGER PRIMARY KEY,
    feed TEXT NOT NULL,
    -- the run (source) the row came from, and its line there
    run_id TEXT NOT NULL,
    source_name TEXT NOT NULL,
    line BIGINT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (run_id, line)
);

CREATE TABLE feed_runs (
    id TEXT PRIMARY KEY,
    feed TEXT NOT NULL,
    source_name TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finished_at TEXT,
    read_count BIGINT NOT NULL,
    parsed BIGINT NOT NULL,
    quarantined BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    filtered BIGINT NOT NULL,
    stored BIGINT NOT NULL,
    incidents BIGINT NOT NULL
);
CREATE INDEX feed_runs_recent ON feed_runs(updated_at);

CREATE TABLE feed_marks (
    journal_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

-- One incident per constituent, classification type and time window.
CREATE TABLE feed_incidents (
    org_id TEXT NOT NULL,
    type TEXT NOT NULL,
    window_start TEXT NOT NULL,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    events BIGINT NOT NULL,
    PRIMARY KEY (org_id, type, window_start)
);
