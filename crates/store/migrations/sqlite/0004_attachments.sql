-- Files attached to incidents, kept in the database so every web node
-- serves them; identified by SHA-256 for the chain of custody.
CREATE TABLE incident_attachments (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX incident_attachments_incident ON incident_attachments(incident_id);
