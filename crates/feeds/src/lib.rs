//! The feed pipeline: collect, parse, enrich, deduplicate and store the
//! automated incident feeds a national CIRT receives (Shadowserver's
//! reports above all), with IntelMQ's field names so its users' rules and
//! exports carry over.
//!
//! - [`event`]: the harmonised event, its fields, checks and identity;
//! - [`shadowserver`]: the report mapping file and its conversions;
//! - [`parse`]: parsers bound to a source (Shadowserver, CSV, JSON lines,
//!   X-ARF);
//! - [`experts`]: taxonomy, constituency, MaxMind geolocation, filter
//!   rules, deduplication;
//! - [`lpm`]: the longest-prefix-match table behind constituency lookups;
//! - [`journal`]: the embedded mode's durable queue;
//! - [`record`]: what collectors put on the queue;
//! - [`config`]: pipelines declared in TOML, checked with line numbers;
//! - [`pipeline`]: the embedded runner;
//! - [`distributed`]: the stages as workers joined by NATS JetStream;
//! - [`intake`]: pushed bodies, collector folders and polled URLs, for
//!   either mode;
//! - [`http`]: polling reports and delivering to webhooks.
//!
//! Architecture invariant: an event's id is a hash of its parsed content
//! and feed, taken before enrichment, and the store inserts by id; every
//! path that can deliver a row twice (journal replay, a resumed ingest, a
//! redelivered queue message) therefore stores it once.

mod collect;
pub mod config;
pub mod distributed;
mod error;
pub mod event;
pub mod experts;
pub mod http;
pub mod intake;
pub mod journal;
pub mod lpm;
pub mod parse;
pub mod pipeline;
pub mod record;
pub mod shadowserver;
mod xarf;

pub use error::FeedError;
pub use event::Event;
pub use pipeline::{Pipeline, Progress, Summary};
