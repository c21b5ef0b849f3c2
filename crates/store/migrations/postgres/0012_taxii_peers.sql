-- Federation with peer TAXII servers (configured in the server's
-- configuration file): how far each peer's pull and push have got, so a
-- restart resumes where it stopped and nothing is fetched or sent twice.

CREATE TABLE taxii_peer_state (
    peer TEXT PRIMARY KEY,
    -- the peer's X-TAXII-Date-Added-Last of the last page stored here
    pulled_until TEXT,
    -- the local date_added of the last object offered to the peer
    pushed_until TEXT,
    pulled_total BIGINT NOT NULL DEFAULT 0,
    pushed_total BIGINT NOT NULL DEFAULT 0,
    last_run_at TEXT,
    -- the last run's error, NULL when it succeeded
    last_error TEXT
);

-- The peer an object version was pulled from (NULL when added here), so
-- it is not offered back to the peer it came from.
ALTER TABLE taxii_objects ADD COLUMN source TEXT;
