-- TAXII 2.1 collections of STIX objects: every version of every object
-- kept with the time it was added, and the status of each POST.

CREATE TABLE taxii_collections (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    -- JSON arrays of organisation ids; ["*"] for every member of the community
    readers TEXT NOT NULL,
    writers TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE taxii_objects (
    collection_id TEXT NOT NULL REFERENCES taxii_collections(id) ON DELETE CASCADE,
    object_id TEXT NOT NULL,
    -- the object's modified (or created) time; date_added for observables
    version TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    object_type TEXT NOT NULL,
    -- CLEAR, GREEN, AMBER, AMBER+STRICT, RED from its markings; NULL when unmarked
    tlp TEXT,
    -- microsecond precision, strictly increasing within a collection
    date_added TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection_id, object_id, version)
);
CREATE INDEX taxii_objects_added ON taxii_objects(collection_id, date_added);

CREATE TABLE taxii_status (
    id TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES taxii_collections(id) ON DELETE CASCADE,
    -- JSON: the status resource's counts and per-object details
    body TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
