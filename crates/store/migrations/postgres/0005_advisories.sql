-- Security advisories. The working copy is the CSAF document being edited;
-- each publication is an immutable release whose exact bytes (and their
-- hashes) are what the CSAF provider layout serves.
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    tracking_id TEXT NOT NULL,
    title TEXT NOT NULL,
    tlp TEXT NOT NULL,
    document TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    released_version TEXT,
    released_at TEXT,
    -- Bumped by every save; an edit based on an older revision is refused.
    revision BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX advisories_tracking ON advisories(org_id, tracking_id);

CREATE TABLE advisory_releases (
    advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    released_at TEXT NOT NULL,
    released_by TEXT NOT NULL,
    tlp TEXT NOT NULL,
    year BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    sha512 TEXT NOT NULL,
    -- Detached armoured OpenPGP signature of content, when a key was configured.
    signature TEXT,
    PRIMARY KEY (advisory_id, version)
);
CREATE INDEX advisory_releases_time ON advisory_releases(released_at);
