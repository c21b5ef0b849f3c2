-- Deadline reminders sent to a campaign's focal points: one row per
-- country and stage (days before the deadline, 0 for overdue), so each
-- stage is mailed once however often the sender runs.
CREATE TABLE gci_reminders (
    campaign_id TEXT NOT NULL REFERENCES gci_campaigns(id) ON DELETE CASCADE,
    country TEXT NOT NULL,
    stage BIGINT NOT NULL,
    recipients BIGINT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (campaign_id, country, stage)
);
