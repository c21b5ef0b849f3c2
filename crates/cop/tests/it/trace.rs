//! Tracing with MaxMind DB files: the published test databases give
//! countries, networks and AS numbers; corrupt files are refused with an
//! error, never a panic.

use crate::support::{corpora, mmdb};
use rampart_cop::trace::Tracer;
use std::net::IpAddr;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

#[test]
fn test_databases_place_addresses_in_countries_and_autonomous_systems() {
    let tracer = Tracer::open(Some(&mmdb("GeoIP2-City-Test.mmdb")), Some(&mmdb("GeoLite2-ASN-Test.mmdb"))).expect("open");
    let swedish = tracer.trace(ip("89.160.20.112")).expect("trace");
    assert_eq!(swedish.country.as_deref(), Some("SE"));
    assert_eq!(swedish.asn, Some(29518));
    let british = tracer.trace(ip("81.2.69.160")).expect("trace");
    assert_eq!(british.country.as_deref(), Some("GB"));
    assert!(british.network.as_deref().is_some_and(|n| n.starts_with("81.2.69.")), "{:?}", british.network);
    let v6 = tracer.trace(ip("2001:218::1")).expect("IPv6");
    assert_eq!(v6.country.as_deref(), Some("JP"));
    let nowhere = tracer.trace(ip("10.0.0.1")).expect("private address");
    assert_eq!((nowhere.country, nowhere.asn), (None, None));
    assert!(Tracer::open(None, None).expect("none").is_empty());
    assert!(Tracer::open(Some(std::path::Path::new("/no/such/file.mmdb")), None).is_err());
}

fn files_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn corrupt_databases_are_refused_without_panicking() {
    let mut files = Vec::new();
    files_under(&corpora().join("mmdb/bad-data"), &mut files);
    files.push(mmdb("GeoIP2-City-Test-Broken-Double-Format.mmdb"));
    files.push(mmdb("GeoIP2-City-Test-Invalid-Node-Count.mmdb"));
    files.push(mmdb("MaxMind-DB-test-broken-pointers-24.mmdb"));
    files.push(mmdb("MaxMind-DB-test-broken-search-tree-24.mmdb"));
    assert!(files.len() > 8, "{files:?}");
    let mut refused = 0;
    for file in &files {
        let outcome = std::panic::catch_unwind(|| match Tracer::open(Some(file), Some(file)) {
            Err(err) => {
                assert!(err.to_string().contains(&*file.to_string_lossy()), "the error names the file: {err}");
                true
            }
            // A file that passes verification must still answer without panicking.
            Ok(tracer) => {
                for address in ["1.1.1.1", "89.160.20.112", "::1", "2001:218::1"] {
                    let _ = tracer.trace(ip(address));
                }
                false
            }
        });
        match outcome {
            Ok(was_refused) => refused += usize::from(was_refused),
            Err(_) => panic!("{} made the reader panic", file.display()),
        }
    }
    assert!(refused >= 4, "the broken test databases are refused: {refused} of {}", files.len());
}
