-- The indicator store: indicators and observables gathered from incidents,
-- TAXII collections and imports, one row per owning CIRT, kind and value,
-- with every sighting kept.

CREATE TABLE indicators (
    id TEXT PRIMARY KEY,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    -- ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256
    kind TEXT NOT NULL,
    -- the canonical form (lower-case domains and hashes, refanged)
    value TEXT NOT NULL,
    -- the strictest label any source gave it
    tlp TEXT NOT NULL,
    -- 0 to 100, the highest any source gave
    confidence INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    sightings BIGINT NOT NULL,
    -- NULL: it decays but never expires outright
    expires_at TEXT,
    description TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_org_id, kind, value)
);
CREATE INDEX indicators_seen ON indicators(owner_org_id, last_seen);

CREATE TABLE indicator_sightings (
    indicator_id TEXT NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,
    seen_at TEXT NOT NULL,
    -- incident:<reference>, taxii:<collection id>, misp:<event uuid>, manual
    source TEXT NOT NULL,
    PRIMARY KEY (indicator_id, seen_at, source)
);
