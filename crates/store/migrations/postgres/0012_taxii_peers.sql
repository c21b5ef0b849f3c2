-- TAXII at scale and federation with peer TAXII servers.
--
-- Each version is flagged as its object's first and latest, so the
-- default `match[version]=last` is a filter the database applies while
-- paging instead of a pass over the whole collection. Federation (peers
-- are configured in the server's configuration file) records how far each
-- peer's pull and push have got, so a restart resumes where it stopped and
-- nothing is fetched or sent twice.

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

-- 1 when this is the object's latest (first) version in the collection;
-- kept by the store whenever a version is added or deleted.
ALTER TABLE taxii_objects ADD COLUMN is_latest INTEGER NOT NULL DEFAULT 0;
ALTER TABLE taxii_objects ADD COLUMN is_first INTEGER NOT NULL DEFAULT 0;
UPDATE taxii_objects SET
    is_latest = CASE WHEN version = (SELECT MAX(o.version) FROM taxii_objects o
        WHERE o.collection_id = taxii_objects.collection_id AND o.object_id = taxii_objects.object_id) THEN 1 ELSE 0 END,
    is_first = CASE WHEN version = (SELECT MIN(o.version) FROM taxii_objects o
        WHERE o.collection_id = taxii_objects.collection_id AND o.object_id = taxii_objects.object_id) THEN 1 ELSE 0 END;
CREATE INDEX taxii_objects_latest ON taxii_objects(collection_id, is_latest, date_added);
