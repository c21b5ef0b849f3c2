//! The one time representation used at the edges and in both databases:
//! RFC 3339 UTC with milliseconds and a `Z`, fixed width, so text order is
//! time order in SQLite and PostgreSQL alike.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn fixed_width_and_round_trip() {
        let at = Utc.with_ymd_and_hms(2026, 11, 28, 9, 5, 7).single().unwrap();
        let text = format(at);
        assert_eq!(text, "2026-11-28T09:05:07.000Z");
        assert_eq!(parse(&text), Some(at));
        assert_eq!(parse("yesterday"), None);
    }
}
