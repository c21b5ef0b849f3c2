//! Integration tests of the feed pipeline on both databases: a
//! Shadowserver report from file to attributed, deduplicated events, bad
//! rows in quarantine, replay of the journal after a crash, and
//! idempotent re-ingest; reports polled over HTTP and events delivered
//! to a webhook, against a real HTTP peer on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http;
mod maildir;
mod pipeline;
