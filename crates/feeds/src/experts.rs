//! Experts: the stages that add to or judge an event after parsing.
//!
//! Each is plain synchronous code over one event, so the pipeline can run
//! a chain of them on a batch without a queue between each; the queue
//! (journal or JetStream) sits where a crash could lose work.

use crate::FeedError;
use crate::event::{Event, format_time, parse_time};
use crate::lpm::{Builder, PrefixTable};
use serde_json::Value;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

/// Sets `classification.taxonomy` from `classification.type` (RSIT), and
/// both when a feed gave neither: `other` / `undetermined`.
pub fn taxonomy(event: &mut Event) -> Result<(), FeedError> {
    let kind = event.get_str("classification.type").map(str::to_owned);
    match kind {
        Some(kind) => {
            let classification =
                rampart_cirt::rsit::classify("", &kind).map_err(|err| FeedError::field("classification.type", err.to_string()))?;
            if !event.contains("classification.taxonomy") {
                event.add_text("classification.taxonomy", &classification.class)?;
            }
        }
        None => {
            event.add_text("classification.type", "undetermined")?;
            if !event.contains("classification.taxonomy") {
                event.add_text("classification.taxonomy", "other")?;
            }
        }
    }
    Ok(())
}

/// One organisation of the constituency registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constituent {
    pub org_id: String,
    pub name: String,
}

/// What the registry holds, as loaded from the store.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub orgs: Vec<Constituent>,
    /// (network, index into `orgs`)
    pub networks: Vec<(ipnet::IpNet, u32)>,
    pub asns: Vec<(u32, u32)>,
    pub domains: Vec<(String, u32)>,
}

/// Which constituent an event concerns: the most specific registry
/// network holding `source.ip`, else the AS number, else the longest
/// registered parent domain of `source.fqdn`. An optional routing table
/// fills `source.asn` and `source.network` for addresses a feed gave
/// without them, so AS-level entries match too.
pub struct ConstituencyExpert {
    orgs: Vec<Constituent>,
    networks: PrefixTable<u32>,
    asns: HashMap<u32, u32>,
    domains: HashMap<String, u32>,
    routing: Option<PrefixTable<(u32, ipnet::IpNet)>>,
}

impl std::fmt::Debug for ConstituencyExpert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConstituencyExpert").field("orgs", &self.orgs.len()).field("networks", &self.networks.len()).finish()
    }
}

impl ConstituencyExpert {
    pub fn new(registry: Registry, routing: Option<PrefixTable<(u32, ipnet::IpNet)>>) -> ConstituencyExpert {
        let mut builder = Builder::new();
        for (network, org) in registry.networks {
            builder.insert(network, org);
        }
        ConstituencyExpert {
            orgs: registry.orgs,
            networks: builder.build(),
            asns: registry.asns.into_iter().collect(),
            domains: registry.domains.into_iter().collect(),
            routing,
        }
    }

    /// The constituent an event belongs to, after routing enrichment.
    pub fn apply(&self, event: &mut Event) -> Result<Option<&Constituent>, FeedError> {
        let address = event.get_str("source.ip").and_then(|ip| ip.parse::<IpAddr>().ok());
        if let (Some(routing), Some(address)) = (&self.routing, address)
            && let Some((asn, network)) = routing.lookup(address)
        {
            if !event.contains("source.asn") {
                event.add("source.asn", Value::from(*asn))?;
            }
            if !event.contains("source.network") {
                event.add_text("source.network", &network.to_string())?;
            }
        }
        let mut found = address.and_then(|a| self.networks.lookup(a)).copied();
        if found.is_none()
            && let Some(asn) = event.get("source.asn").and_then(Value::as_u64).and_then(|a| u32::try_from(a).ok())
        {
            found = self.asns.get(&asn).copied();
        }
        if found.is_none()
            && let Some(fqdn) = event.get_str("source.fqdn")
        {
            let labels: Vec<&str> = fqdn.split('.').collect();
            found = (0..labels.len().saturating_sub(1)).find_map(|i| self.domains.get(&labels[i..].join(".")).copied());
        }
        let constituent = found.and_then(|i| self.orgs.get(i as usize));
        if let Some(constituent) = constituent {
            event.add_text("extra.constituent", &constituent.org_id)?;
        }
        Ok(constituent)
    }

    pub fn lookup_ip(&self, address: IpAddr) -> Option<&Constituent> {
        self.networks.lookup(address).and_then(|i| self.orgs.get(*i as usize))
    }
}

/// Reads a routing table: one `network asn` pair a line (the form a
/// routing-table dump reduces to; `#` starts a comment). Errors name the line.
pub fn parse_routing_table(text: &str, source_name: &str) -> Result<PrefixTable<(u32, ipnet::IpNet)>, FeedError> {
    let mut builder = Builder::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(network), Some(asn), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(FeedError::line(source_name, number as u64 + 1, "expected `network asn`"));
        };
        let network: ipnet::IpNet =
            network.parse().map_err(|_| FeedError::line(source_name, number as u64 + 1, format!("`{network}` is not an IP network")))?;
        let digits = asn.strip_prefix("AS").unwrap_or(asn);
        let asn: u32 = digits
            .parse()
            .ok()
            .filter(|a| *a > 0)
            .ok_or_else(|| FeedError::line(source_name, number as u64 + 1, format!("`{asn}` is not an AS number")))?;
        builder.insert(network.trunc(), (asn, network.trunc()));
    }
    Ok(builder.build())
}

/// Geolocation and AS from MaxMind DB files (GeoIP2 / GeoLite2 City or
/// Country, and ASN), read into memory and verified when opened, so a
/// damaged file is refused at start and never at the thousandth event.
pub struct GeoExpert {
    city: Option<maxminddb::Reader<Vec<u8>>>,
    asn: Option<maxminddb::Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoExpert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoExpert").field("city", &self.city.is_some()).field("asn", &self.asn.is_some()).finish()
    }
}

#[derive(serde::Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    country: Option<Named<'a>>,
    #[serde(borrow, default)]
    registered_country: Option<Named<'a>>,
    #[serde(borrow, default)]
    city: Option<Named<'a>>,
    #[serde(borrow, default)]
    subdivisions: Option<Vec<Named<'a>>>,
    #[serde(default)]
    location: Option<Location>,
}

#[derive(serde::Deserialize)]
struct Named<'a> {
    #[serde(default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Option<English<'a>>,
}

/// Only the English name is read: decoding every language into a map
/// would allocate on every lookup.
#[derive(serde::Deserialize)]
struct English<'a> {
    #[serde(default)]
    en: Option<&'a str>,
}

impl Named<'_> {
    fn english(&self) -> Option<&str> {
        self.names.as_ref().and_then(|n| n.en)
    }
}

#[derive(serde::Deserialize)]
struct Location {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

#[derive(serde::Deserialize)]
struct AsRecord<'a> {
    #[serde(default)]
    autonomous_system_number: Option<u32>,
    #[serde(default)]
    autonomous_system_organization: Option<&'a str>,
}

fn open_mmdb(path: &Path) -> Result<maxminddb::Reader<Vec<u8>>, FeedError> {
    let reader = maxminddb::Reader::open_readfile(path).map_err(|err| FeedError::Geo(format!("{}: {err}", path.display())))?;
    reader.verify().map_err(|err| FeedError::Geo(format!("{}: {err}", path.display())))?;
    Ok(reader)
}

impl GeoExpert {
    pub fn open(city: Option<&Path>, asn: Option<&Path>) -> Result<GeoExpert, FeedError> {
        Ok(GeoExpert { city: city.map(open_mmdb).transpose()?, asn: asn.map(open_mmdb).transpose()? })
    }

    /// Fills `source.geolocation.*` and `source.asn` / `source.as_name`
    /// where the feed left them out (a feed's own value is kept: it saw
    /// the address when it happened). Does the same for `destination.*`.
    pub fn apply(&self, event: &mut Event) -> Result<(), FeedError> {
        for side in ["source", "destination"] {
            let Some(address) = event.get_str(&format!("{side}.ip")).and_then(|ip| ip.parse::<IpAddr>().ok()) else {
                continue;
            };
            self.apply_side(event, side, address)?;
        }
        Ok(())
    }

    fn apply_side(&self, event: &mut Event, side: &str, address: IpAddr) -> Result<(), FeedError> {
        let bad = |err: maxminddb::MaxMindDbError| FeedError::Geo(err.to_string());
        if let Some(reader) = &self.city {
            let found = reader.lookup(address).map_err(bad)?;
            if let Some(record) = found.decode::<CityRecord<'_>>().map_err(bad)? {
                let country = record.country.as_ref().or(record.registered_country.as_ref());
                let mut set = |field: &str, value: Option<Value>| -> Result<(), FeedError> {
                    let name = format!("{side}.geolocation.{field}");
                    match value {
                        Some(value) if !event.contains(&name) => event.add(&name, value),
                        _ => Ok(()),
                    }
                };
                set("cc", country.and_then(|c| c.iso_code).map(|c| Value::String(c.to_owned())))?;
                set("country", country.and_then(Named::english).map(|c| Value::String(c.to_owned())))?;
                set("city", record.city.as_ref().and_then(Named::english).map(|c| Value::String(c.to_owned())))?;
                let region = record.subdivisions.as_ref().and_then(|s| s.first()).and_then(Named::english);
                set("region", region.map(|r| Value::String(r.to_owned())))?;
                if let Some(location) = &record.location {
                    set("latitude", location.latitude.map(Value::from))?;
                    set("longitude", location.longitude.map(Value::from))?;
                }
            }
        }
        if let Some(reader) = &self.asn {
            let found = reader.lookup(address).map_err(bad)?;
            if let Some(record) = found.decode::<AsRecord<'_>>().map_err(bad)? {
                if let Some(asn) = record.autonomous_system_number
                    && !event.contains(&format!("{side}.asn"))
                {
                    event.add(&format!("{side}.asn"), Value::from(asn))?;
                }
                if let Some(name) = record.autonomous_system_organization
                    && !event.contains(&format!("{side}.as_name"))
                {
                    event.add_text(&format!("{side}.as_name"), name)?;
                }
            }
        }
        Ok(())
    }
}

/// Drops an event when an earlier one agreed on the key fields within the
/// window. Time is the event's own (`time.source`, else
/// `time.observation`), not the clock's, so replaying a journal after a
/// crash decides exactly as the first pass did.
#[derive(Debug)]
pub struct Deduplicator {
    fields: Vec<String>,
    window_seconds: i64,
    seen: HashMap<u64, i64>,
    /// The newest event time seen; entries older than a window behind it
    /// are pruned now and then so memory stays bounded.
    newest: i64,
    since_prune: usize,
}

/// The fields IntelMQ's deduplicator would compare for a Shadowserver
/// report, less the time: the same host, the same service, the same finding.
pub const DEFAULT_DEDUP_FIELDS: [&str; 5] = ["feed.name", "classification.identifier", "source.ip", "source.port", "destination.ip"];

impl Deduplicator {
    pub fn new(fields: Vec<String>, window_seconds: i64) -> Deduplicator {
        Deduplicator { fields, window_seconds, seen: HashMap::new(), newest: i64::MIN, since_prune: 0 }
    }

    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    pub fn window_seconds(&self) -> i64 {
        self.window_seconds
    }

    pub fn key(&self, event: &Event) -> u64 {
        event.key_over(&self.fields)
    }

    /// The event's time in seconds, for the window.
    pub fn time_of(event: &Event) -> Option<i64> {
        event.get_str("time.source").or_else(|| event.get_str("time.observation")).and_then(parse_time).map(|t| t.timestamp())
    }

    /// Remembers a key seen at a time (warming up from stored events).
    pub fn remember(&mut self, key: u64, at: i64) {
        let entry = self.seen.entry(key).or_insert(at);
        *entry = (*entry).max(at);
        self.newest = self.newest.max(at);
    }

    /// True when the event repeats one inside the window; otherwise it is
    /// remembered and false.
    pub fn is_duplicate(&mut self, key: u64, at: i64) -> bool {
        if let Some(previous) = self.seen.get(&key)
            && (at - previous).abs() <= self.window_seconds
        {
            return true;
        }
        self.remember(key, at);
        self.since_prune += 1;
        if self.since_prune >= 1 << 16 {
            self.since_prune = 0;
            let horizon = self.newest.saturating_sub(self.window_seconds.saturating_mul(2));
            self.seen.retain(|_, at| *at >= horizon);
        }
        false
    }
}

/// A filter rule: when `field` meets the condition, the event is kept or
/// dropped; the first rule that matches decides and an event no rule
/// matches is kept.
#[derive(Debug, Clone)]
pub struct Rule {
    pub field: String,
    pub condition: Condition,
    pub keep: bool,
}

#[derive(Debug, Clone)]
pub enum Condition {
    Equals(String),
    In(Vec<String>),
    Matches(regex::Regex),
    Exists(bool),
}

impl Rule {
    fn matches(&self, event: &Event) -> bool {
        let value = event.get(&self.field).map(|v| match v {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        });
        match (&self.condition, value) {
            (Condition::Exists(wanted), value) => value.is_some() == *wanted,
            (Condition::Equals(expected), Some(value)) => value.eq_ignore_ascii_case(expected),
            (Condition::In(list), Some(value)) => list.iter().any(|e| e.eq_ignore_ascii_case(&value)),
            (Condition::Matches(pattern), Some(value)) => pattern.is_match(&value),
            (_, None) => false,
        }
    }
}

/// True when the rules keep the event.
pub fn keep(rules: &[Rule], event: &Event) -> bool {
    rules.iter().find(|rule| rule.matches(event)).is_none_or(|rule| rule.keep)
}

/// The observation time, set by the pipeline when it first sees an event.
pub fn observe(event: &mut Event, at: chrono::DateTime<chrono::Utc>) -> Result<(), FeedError> {
    if !event.contains("time.observation") {
        event.add_text("time.observation", &format_time(at))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(pairs: &[(&str, &str)]) -> Event {
        let mut event = Event::new();
        for (field, value) in pairs {
            event.add_text(field, value).unwrap();
        }
        event
    }

    #[test]
    fn taxonomy_follows_the_type() {
        let mut e = event(&[("classification.type", "infected-system")]);
        taxonomy(&mut e).unwrap();
        assert_eq!(e.get_str("classification.taxonomy"), Some("malicious-code"));
        let mut bare = Event::new();
        taxonomy(&mut bare).unwrap();
        assert_eq!(bare.get_str("classification.type"), Some("undetermined"));
        assert_eq!(bare.get_str("classification.taxonomy"), Some("other"));
    }

    #[test]
    fn constituency_prefers_the_most_specific_network_then_asn_then_domain() {
        let registry = Registry {
            orgs: vec![
                Constituent { org_id: "isp".into(), name: "ISP".into() },
                Constituent { org_id: "bank".into(), name: "Bank".into() },
                Constituent { org_id: "uni".into(), name: "University".into() },
            ],
            networks: vec![("198.51.0.0/16".parse().unwrap(), 0), ("198.51.100.0/24".parse().unwrap(), 1)],
            asns: vec![(64500, 2)],
            domains: vec![("uni.example".into(), 2)],
        };
        let routing = parse_routing_table("# table\n203.0.113.0/24 64500\n", "routes").unwrap();
        let expert = ConstituencyExpert::new(registry, Some(routing));
        let mut e = event(&[("source.ip", "198.51.100.9")]);
        assert_eq!(expert.apply(&mut e).unwrap().map(|c| c.org_id.as_str()), Some("bank"));
        let mut e = event(&[("source.ip", "198.51.7.9")]);
        assert_eq!(expert.apply(&mut e).unwrap().map(|c| c.org_id.as_str()), Some("isp"));
        let mut e = event(&[("source.ip", "203.0.113.5")]);
        assert_eq!(expert.apply(&mut e).unwrap().map(|c| c.org_id.as_str()), Some("uni"), "by the routed AS");
        assert_eq!(e.get_str("source.network"), Some("203.0.113.0/24"));
        let mut e = event(&[("source.fqdn", "www.cs.uni.example")]);
        assert_eq!(expert.apply(&mut e).unwrap().map(|c| c.org_id.as_str()), Some("uni"));
        assert_eq!(e.get_str("extra.constituent"), Some("uni"));
        let mut e = event(&[("source.ip", "192.0.2.1")]);
        assert!(expert.apply(&mut e).unwrap().is_none());
    }

    #[test]
    fn routing_table_errors_name_the_line() {
        let err = parse_routing_table("192.0.2.0/24 64500\n192.0.2.0/33 1\n", "routes.txt").err().unwrap();
        assert_eq!(err.to_string(), "routes.txt line 2: `192.0.2.0/33` is not an IP network");
        let err = parse_routing_table("192.0.2.0/24 AS0\n", "routes.txt").err().unwrap();
        assert!(err.to_string().starts_with("routes.txt line 1:"));
    }

    #[test]
    fn duplicates_are_judged_on_event_time_within_the_window() {
        let mut dedup = Deduplicator::new(vec!["source.ip".into()], 3600);
        let a = event(&[("source.ip", "192.0.2.1"), ("time.source", "2026-11-29 10:00:00")]);
        let b = event(&[("source.ip", "192.0.2.1"), ("time.source", "2026-11-29 10:30:00")]);
        let c = event(&[("source.ip", "192.0.2.1"), ("time.source", "2026-11-29 12:00:00")]);
        let other = event(&[("source.ip", "192.0.2.2"), ("time.source", "2026-11-29 10:30:00")]);
        let judge = |d: &mut Deduplicator, e: &Event| {
            let key = d.key(e);
            d.is_duplicate(key, Deduplicator::time_of(e).unwrap())
        };
        assert!(!judge(&mut dedup, &a));
        assert!(judge(&mut dedup, &b));
        assert!(!judge(&mut dedup, &other));
        assert!(!judge(&mut dedup, &c), "outside the window");
    }

    #[test]
    fn rules_keep_or_drop_in_order() {
        let rules = vec![
            Rule { field: "source.geolocation.cc".into(), condition: Condition::Equals("ke".into()), keep: true },
            Rule { field: "source.geolocation.cc".into(), condition: Condition::Exists(true), keep: false },
        ];
        assert!(keep(&rules, &event(&[("source.geolocation.cc", "KE")])));
        assert!(!keep(&rules, &event(&[("source.geolocation.cc", "GH")])));
        assert!(keep(&rules, &event(&[("source.ip", "192.0.2.1")])));
    }

    #[test]
    fn maxmind_files_fill_geolocation_and_bad_files_are_refused() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/mmdb");
        let expert =
            GeoExpert::open(Some(&corpus.join("test-data/GeoIP2-City-Test.mmdb")), Some(&corpus.join("test-data/GeoLite2-ASN-Test.mmdb")))
                .unwrap();
        // The City test database places 81.2.69.142 in London, GB.
        let mut e = event(&[("source.ip", "81.2.69.142")]);
        expert.apply(&mut e).unwrap();
        assert_eq!(e.get_str("source.geolocation.cc"), Some("GB"));
        assert_eq!(e.get_str("source.geolocation.city"), Some("London"));
        // The ASN test database holds 1.128.0.0/11 as AS1221.
        let mut e = event(&[("source.ip", "1.128.0.1")]);
        expert.apply(&mut e).unwrap();
        assert_eq!(e.get("source.asn"), Some(&Value::from(1221)));
        let mut kept = event(&[("source.ip", "81.2.69.142"), ("source.geolocation.cc", "FR")]);
        expert.apply(&mut kept).unwrap();
        assert_eq!(kept.get_str("source.geolocation.cc"), Some("FR"), "the feed's own value is kept");
        for bad in ["test-data/GeoIP2-City-Test-Broken-Double-Format.mmdb", "test-data/MaxMind-DB-test-broken-search-tree-24.mmdb"] {
            let path = corpus.join(bad);
            assert!(matches!(GeoExpert::open(Some(&path), None), Err(FeedError::Geo(_))), "{bad}");
        }
        let mut count = 0;
        for entry in std::fs::read_dir(corpus.join("bad-data")).unwrap().flatten() {
            for file in walk(&entry.path()) {
                // Opening must fail cleanly or, for a file whose damage only
                // shows in lookups, succeed: it must never panic.
                let _ = GeoExpert::open(Some(&file), None);
                count += 1;
            }
        }
        assert!(count > 0);
    }

    fn walk(path: &Path) -> Vec<std::path::PathBuf> {
        if path.is_dir() {
            std::fs::read_dir(path).map(|d| d.flatten().flat_map(|e| walk(&e.path())).collect()).unwrap_or_default()
        } else if path.extension().is_some_and(|e| e == "mmdb") {
            vec![path.to_path_buf()]
        } else {
            Vec::new()
        }
    }
}
