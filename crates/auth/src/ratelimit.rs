//! A keyed fixed-window rate limiter for login, flag submission and public
//! forms. It is per process: behind a load balancer each node limits on its
//! own, and per-account lockout (stored in the database) covers the rest.
//! Hand-written rather than taken from a crate because it must run on the
//! injected clock, so tests can move time instead of sleeping.

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct RateLimiter {
    limit: u32,
    window: Duration,
    buckets: Mutex<HashMap<String, (DateTime<Utc>, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter { limit, window, buckets: Mutex::new(HashMap::new()) }
    }

    /// Counts an attempt; returns false when the key is over its limit.
    pub fn check(&self, key: &str, now: DateTime<Utc>) -> bool {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Keep memory bounded under a flood of distinct keys.
        if buckets.len() > 100_000 {
            let window = self.window;
            buckets.retain(|_, (start, _)| now - *start < window);
        }
        let entry = buckets.entry(key.to_owned()).or_insert((now, 0));
        if now - entry.0 >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn limits_per_key_and_resets_after_the_window() {
        let limiter = RateLimiter::new(3, Duration::minutes(1));
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
        assert!(limiter.check("a", t));
        assert!(limiter.check("a", t));
        assert!(limiter.check("a", t));
        assert!(!limiter.check("a", t));
        assert!(limiter.check("b", t), "other keys unaffected");
        assert!(limiter.check("a", t + Duration::seconds(61)));
    }
}
