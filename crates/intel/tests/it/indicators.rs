//! The indicator store: sightings merge (strictest TLP, highest
//! confidence, first and last seen), values are canonical, warning lists
//! flag likely false positives, scores decay, others see only what TLP
//! allows, incidents and TAXII collections feed it, and the exports carry
//! what the reader may see.

use crate::taxii::env;
use chrono::{Duration, TimeZone, Utc};
use rampart_auth::service::Actor;
use rampart_cirt::observables::{Kind, Observable};
use rampart_cirt::{Desk, Level, NewIncident};
use rampart_core::{Clock, Tlp};
use rampart_intel::IntelError;
use rampart_intel::indicators::{Indicators, Query, Sighting, blocklist, csv, stix_bundle};
use rampart_intel::stix::{self, Severity};
use rampart_testkit::stores::each_store;
use serde_json::json;
use std::sync::Arc;

fn sighting(kind: Kind, value: &str, tlp: Tlp, confidence: u8, days_ago: i64, source: &str) -> Sighting {
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    Sighting {
        kind,
        value: value.into(),
        tlp,
        confidence,
        seen_at: t0 - Duration::days(days_ago),
        source: source.into(),
        expires_at: None,
        description: String::new(),
    }
}

fn values(views: &[rampart_intel::indicators::IndicatorView]) -> Vec<String> {
    let mut values: Vec<String> = views.iter().map(|v| v.row.value.clone()).collect();
    values.sort();
    values
}

#[tokio::test]
async fn sightings_merge_decay_and_reach_only_whom_tlp_allows() {
    each_store(|store| async move {
        let e = env(store.clone()).await;
        let indicators = Indicators::new(store.clone(), Arc::new(e.clock.clone()));
        let analyst = Actor { principal: &e.analyst, ip: None };
        let recorded = indicators
            .record(
                &analyst,
                &e.ke_org,
                &[
                    sighting(Kind::Ipv4, "203.0.113.9", Tlp::Green, 60, 1, "manual"),
                    sighting(Kind::Ipv4, "203[.]0.113.9", Tlp::Amber, 80, 0, "misp:5f9c2b1e"),
                    sighting(Kind::Ipv4, "203.0.113.9", Tlp::Amber, 80, 0, "misp:5f9c2b1e"),
                    sighting(Kind::Domain, "Login-Bank.example", Tlp::Green, 50, 0, "manual"),
                    sighting(Kind::Domain, "www.google.com", Tlp::Green, 90, 0, "manual"),
                    sighting(Kind::Ipv4, "10.1.2.3", Tlp::Green, 90, 0, "manual"),
                    sighting(Kind::Md5, "D41D8CD98F00B204E9800998ECF8427E", Tlp::Green, 90, 0, "manual"),
                    sighting(Kind::Ipv4, "not an address", Tlp::Green, 90, 0, "manual"),
                ],
            )
            .await
            .unwrap();
        assert_eq!((recorded.new_indicators, recorded.new_sightings), (5, 6), "{recorded:?}");
        assert_eq!(recorded.refused.len(), 1);
        assert!(recorded.refused[0].starts_with("ipv4 not an address"), "{:?}", recorded.refused);

        // The owner sees the merged row; warned values only on request.
        let mine = indicators.list(&e.analyst, &Query::default()).await.unwrap();
        assert_eq!(values(&mine), ["203.0.113.9", "login-bank.example"]);
        let ip = mine.iter().find(|v| v.row.kind == "ipv4").unwrap();
        assert_eq!((ip.row.tlp.as_str(), ip.row.confidence, ip.row.sightings), ("AMBER", 80, 2));
        assert!(ip.row.first_seen < ip.row.last_seen);
        let all = indicators.list(&e.analyst, &Query { include_warned: true, ..Query::default() }).await.unwrap();
        let warned: Vec<(&str, &str)> = all.iter().filter_map(|v| v.warning.map(|w| (v.row.value.as_str(), w))).collect::<Vec<_>>();
        assert_eq!(warned.len(), 3, "{warned:?}");
        assert!(warned.contains(&("10.1.2.3", "private address (RFC 1918)")));
        assert!(warned.contains(&("www.google.com", "widely used service")));
        assert!(warned.contains(&("d41d8cd98f00b204e9800998ecf8427e", "hash of an empty file")));

        // Another CIRT sees the GREEN domain, not the AMBER address.
        assert_eq!(values(&indicators.list(&e.partner, &Query::default()).await.unwrap()), ["login-bank.example"]);
        let (_, sightings) = indicators.get(&e.analyst, &ip.row.id).await.unwrap();
        assert_eq!(sightings.len(), 2);
        assert!(matches!(indicators.get(&e.partner, &ip.row.id).await, Err(IntelError::NotFound(_))));
        // Only KE-CIRT's own people write its store.
        assert!(matches!(indicators.record(&Actor { principal: &e.outsider, ip: None }, &e.ke_org, &[]).await, Err(IntelError::Forbidden)));

        // Exports carry what is listed: CSV, block lists, a valid STIX bundle.
        let text = csv(&mine);
        assert!(text.starts_with("kind,value,tlp,confidence,score,") && text.lines().count() == 3, "{text}");
        let now = e.clock.now();
        let ips = blocklist(&mine, "ip", now).unwrap();
        assert_eq!(ips.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>(), ["203.0.113.9"]);
        assert!(blocklist(&mine, "hash", now).is_err());
        let bundle = stix_bundle(&mine, now);
        let content = stix::parse(&bundle.to_string()).unwrap();
        let errors: Vec<_> = stix::validate(&content).into_iter().filter(|p| p.severity == Severity::Error).collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(content.objects().iter().filter(|o| o.kind == "indicator").count(), 2);

        // 120 days later the address (half-life 30 days) has faded to 5: expired.
        e.clock.advance(Duration::days(120));
        let later = indicators.list(&e.analyst, &Query::default()).await.unwrap();
        assert_eq!(values(&later), ["login-bank.example"]);
        let with_expired = indicators.list(&e.analyst, &Query { include_expired: true, ..Query::default() }).await.unwrap();
        let faded = with_expired.iter().find(|v| v.row.kind == "ipv4").unwrap();
        assert!(faded.expired && (faded.score - 5.0).abs() < 0.1, "{}", faded.score);
    })
    .await;
}

#[tokio::test]
async fn incidents_and_taxii_collections_feed_the_store() {
    each_store(|store| async move {
        let e = env(store.clone()).await;
        let indicators = Indicators::new(store.clone(), Arc::new(e.clock.clone()));
        let analyst = Actor { principal: &e.analyst, ip: None };
        let desk = Desk::new(store.clone(), Arc::new(e.clock.clone()));
        let incident = desk
            .create_incident(
                &analyst,
                &NewIncident {
                    owner_org_id: e.ke_org.clone(),
                    title: "Phishing against a bank".into(),
                    description: String::new(),
                    rsit_class: "fraud".into(),
                    rsit_type: "phishing".into(),
                    tlp: Tlp::Amber,
                    pap: Tlp::Amber,
                    impact: Level::Medium,
                    urgency: Level::Medium,
                    constituents: Vec::new(),
                    observables: vec![
                        Observable { kind: Kind::Domain, value: "login-bank.example".into() },
                        Observable { kind: Kind::Cve, value: "CVE-2024-3400".into() },
                    ],
                },
            )
            .await
            .unwrap();
        let gathered = indicators.gather_incidents(&analyst, &e.ke_org).await.unwrap();
        assert_eq!((gathered.new_indicators, gathered.new_sightings), (1, 1), "CVE ids are not indicators");
        let again = indicators.gather_incidents(&analyst, &e.ke_org).await.unwrap();
        assert_eq!(again.new_sightings, 0, "gathering twice adds nothing");
        let list = indicators.list(&e.analyst, &Query::default()).await.unwrap();
        let (_, sightings) = indicators.get(&e.analyst, &list[0].row.id).await.unwrap();
        assert_eq!(sightings[0].source, format!("incident:{}", incident.reference));
        assert_eq!(list[0].row.tlp, "AMBER");

        // A collection's indicators come in with their TLP, confidence and expiry.
        let manager = Actor { principal: &e.manager, ip: None };
        let collection = e.taxii.create_collection(&manager, "Shared", "", &[], &[]).await.unwrap();
        let envelope = json!({"objects": [{
            "type": "indicator", "spec_version": "2.1", "id": "indicator--1d6a4b2c-3e5f-4a7b-8c9d-0e1f2a3b4c5d",
            "created": "2026-02-20T00:00:00.000Z", "modified": "2026-02-20T00:00:00.000Z", "name": "C2",
            "pattern": "[ipv4-addr:value = '198.51.100.44']", "pattern_type": "stix", "valid_from": "2026-02-20T00:00:00Z",
            "valid_until": "2026-06-01T00:00:00Z", "confidence": 85,
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
        }]});
        e.taxii.add(&analyst, &collection.id, &envelope.to_string()).await.unwrap();
        let from_taxii = indicators.gather_collection(&analyst, &e.taxii, &collection.id).await.unwrap();
        assert_eq!(from_taxii.new_indicators, 1);
        let list = indicators.list(&e.analyst, &Query { kind: Some("ipv4".into()), ..Query::default() }).await.unwrap();
        assert_eq!(
            (list[0].row.value.as_str(), list[0].row.tlp.as_str(), list[0].row.confidence, list[0].row.expires_at.is_some()),
            ("198.51.100.44", "GREEN", 85, true)
        );
        // Whoever may not read the collection gathers nothing from it.
        let outsider = Actor { principal: &e.outsider, ip: None };
        assert!(indicators.gather_collection(&outsider, &e.taxii, &collection.id).await.is_err());
    })
    .await;
}
