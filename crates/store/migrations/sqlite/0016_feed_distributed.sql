-- The feed pipeline's distributed mode: stages pass JetStream messages, a
-- redelivered message must change nothing, and a run's chunks may commit
-- in any order.

-- Each message the store stage committed, by its message id, written in
-- the same transaction as the message's events: a redelivery finds it here.
CREATE TABLE feed_applied (
    message_id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL
);

-- How many rows the source had, once the collector has read it all; the
-- run is finished when that many rows have been counted, whatever the
-- order its chunks arrived in.
ALTER TABLE feed_runs ADD COLUMN rows_total BIGINT;
