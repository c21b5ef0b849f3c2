//! Record identifiers: UUIDv7 whose timestamp comes from the injected clock,
//! so ids sort by creation time and tests are reproducible in order.

use chrono::{DateTime, Utc};
use uuid::{Timestamp, Uuid};

pub fn new_id(now: DateTime<Utc>) -> Uuid {
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    let ts = Timestamp::from_unix(uuid::NoContext, seconds, now.timestamp_subsec_nanos());
    Uuid::new_v7(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_sort_by_time() {
        let early = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap();
        let late = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 1).single().unwrap();
        let a = new_id(early);
        let b = new_id(late);
        assert_eq!(a.get_version_num(), 7);
        assert!(a.to_string() < b.to_string());
    }
}
