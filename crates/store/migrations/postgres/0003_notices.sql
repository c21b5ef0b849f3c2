-- Notices to constituents about incidents: one row per incident and
-- recipient, batched per recipient when sent, with delivery status.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    format TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    message_id TEXT
);
CREATE INDEX notices_due ON notices(status, due_at);
CREATE INDEX notices_incident ON notices(incident_id);
