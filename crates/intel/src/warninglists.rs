//! Warning lists: values that are almost certainly not malicious when they
//! turn up as indicators (addresses that are not on the internet, public
//! resolvers, the largest services, the hash of an empty file), so the
//! store flags them and exports leave them out unless asked. The idea is
//! MISP's warning lists; these lists are Rampart's own and short on
//! purpose: each entry is something a block list must never carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 ranges that are not public internet addresses (RFC 6890), as
/// (network, prefix length, why). The documentation ranges of RFC 5737 are
/// left out: they are not routed, so blocking them is harmless, and
/// examples and exercises use them as stand-ins for real addresses.
const IPV4_RANGES: [(Ipv4Addr, u8, &str); 9] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, "“this network” (RFC 1122)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private address (RFC 1918)"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "carrier-grade NAT (RFC 6598)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private address (RFC 1918)"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private address (RFC 1918)"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

const RESOLVERS: [&str; 10] = [
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
];

/// Services so widely used that blocking them breaks a country's internet;
/// their subdomains count too.
const SERVICES: [&str; 24] = [
    "google.com",
    "googleapis.com",
    "gstatic.com",
    "youtube.com",
    "facebook.com",
    "whatsapp.com",
    "whatsapp.net",
    "instagram.com",
    "microsoft.com",
    "windowsupdate.com",
    "office.com",
    "live.com",
    "apple.com",
    "icloud.com",
    "amazon.com",
    "amazonaws.com",
    "cloudflare.com",
    "akamaiedge.net",
    "github.com",
    "wikipedia.org",
    "x.com",
    "twitter.com",
    "linkedin.com",
    "zoom.us",
];

/// The hashes of an empty file.
const EMPTY_FILE: [&str; 3] = [
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];

fn ipv4_warning(ip: Ipv4Addr) -> Option<&'static str> {
    IPV4_RANGES.iter().find(|(network, prefix, _)| within(u32::from(ip), u32::from(*network), *prefix)).map(|(_, _, why)| *why)
}

fn within(address: u32, network: u32, prefix: u8) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
    address & mask == network & mask
}

fn ipv6_warning(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() || ip.is_unspecified() {
        Some("loopback or unspecified")
    } else if first & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique local address (RFC 4193)")
    } else if first & 0xff00 == 0xff00 {
        Some("multicast")
    } else {
        ip.to_ipv4_mapped().and_then(ipv4_warning)
    }
}

fn ip_warning(ip: IpAddr) -> Option<&'static str> {
    if RESOLVERS.contains(&ip.to_string().as_str()) {
        return Some("public DNS resolver");
    }
    match ip {
        IpAddr::V4(ip) => ipv4_warning(ip),
        IpAddr::V6(ip) => ipv6_warning(ip),
    }
}

fn domain_warning(domain: &str) -> Option<&'static str> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    if domain == "localhost" || domain.ends_with(".localhost") || domain.ends_with(".local") || domain.ends_with(".arpa") {
        return Some("local name");
    }
    SERVICES.iter().any(|service| domain == *service || domain.ends_with(&format!(".{service}"))).then_some("widely used service")
}

/// Why `value` (of kind `kind`, in canonical form) is likely a false
/// positive, if it is.
pub fn warning(kind: &str, value: &str) -> Option<&'static str> {
    match kind {
        "ipv4" | "ipv6" => value.parse::<IpAddr>().ok().and_then(ip_warning),
        "cidr" => {
            let (address, prefix) = value.split_once('/')?;
            let prefix: u8 = prefix.parse().ok()?;
            let ip: IpAddr = address.parse().ok()?;
            match ip {
                IpAddr::V4(_) if prefix < 8 => Some("network wider than a /8"),
                IpAddr::V6(_) if prefix < 16 => Some("network wider than a /16"),
                _ => ip_warning(ip),
            }
        }
        "domain" => domain_warning(value),
        "url" => {
            let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
            let host = host.trim_start_matches('[').split(']').next().unwrap_or(host);
            match host.parse::<IpAddr>() {
                Ok(ip) => ip_warning(ip),
                Err(_) => domain_warning(host.split(':').next().unwrap_or(host)),
            }
        }
        // Attackers send from the large mail services too: no warning for e-mail.
        "md5" | "sha1" | "sha256" => EMPTY_FILE.contains(&value).then_some("hash of an empty file"),
        _ => None,
    }
}
