//! Longest-prefix match over IP networks, for the constituency registry
//! and a full routing table alike.
//!
//! IPv4 uses the DIR-24-8 layout: one entry per /24 (16 Mi entries, 64 MiB,
//! zero pages untouched until painted) and, for the /24s that hold longer
//! prefixes, a chunk of 256 entries per address. A lookup is one or two
//! array reads whatever the table's size, which is what lets one core
//! attribute tens of millions of addresses a second. IPv6 tables are
//! small in practice: one hash map per prefix length present, longest
//! first.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The entry points to a chunk of 256 rather than holding a value.
const CHUNK: u32 = 1 << 31;
const LEVEL1: usize = 1 << 24;

/// A longest-prefix-match table from networks to values of `T`.
pub struct PrefixTable<T> {
    values: Vec<T>,
    /// 0 = no match; `n` = value `n - 1`; `CHUNK | c` = chunk `c`.
    level1: Vec<u32>,
    level2: Vec<u32>,
    v6: Vec<(u8, HashMap<u128, u32>)>,
    v4_prefixes: usize,
}

impl<T> std::fmt::Debug for PrefixTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefixTable").field("v4_prefixes", &self.v4_prefixes).field("v6_lengths", &self.v6.len()).finish()
    }
}

/// Networks and their values, gathered before the table is built.
pub struct Builder<T> {
    v4: Vec<(u32, u8, T)>,
    v6: Vec<(u128, u8, T)>,
}

impl<T> Default for Builder<T> {
    fn default() -> Self {
        Builder { v4: Vec::new(), v6: Vec::new() }
    }
}

fn mask4(len: u8) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) }
}

fn mask6(len: u8) -> u128 {
    if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) }
}

impl<T> Builder<T> {
    pub fn new() -> Builder<T> {
        Builder::default()
    }

    pub fn insert_v4(&mut self, network: Ipv4Addr, len: u8, value: T) {
        let len = len.min(32);
        self.v4.push((u32::from(network) & mask4(len), len, value));
    }

    pub fn insert_v6(&mut self, network: Ipv6Addr, len: u8, value: T) {
        let len = len.min(128);
        self.v6.push((u128::from(network) & mask6(len), len, value));
    }

    pub fn insert(&mut self, network: ipnet::IpNet, value: T) {
        match network {
            ipnet::IpNet::V4(v4) => self.insert_v4(v4.network(), v4.prefix_len(), value),
            ipnet::IpNet::V6(v6) => self.insert_v6(v6.network(), v6.prefix_len(), value),
        }
    }

    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Builds the table. Where the same network is given twice, the later
    /// value wins.
    pub fn build(mut self) -> PrefixTable<T> {
        let mut values = Vec::with_capacity(self.len());
        // Shorter prefixes first, so a longer one paints over them; the
        // sort is stable, so of two equal networks the later wins.
        self.v4.sort_by_key(|(_, len, _)| *len);
        let v4_prefixes = self.v4.len();
        let mut level1 = if self.v4.is_empty() { Vec::new() } else { vec![0u32; LEVEL1] };
        let mut level2: Vec<u32> = Vec::new();
        for (network, len, value) in self.v4 {
            values.push(value);
            let entry = u32::try_from(values.len()).unwrap_or(CHUNK - 1).min(CHUNK - 1);
            if len <= 24 {
                let first = (network >> 8) as usize;
                let count = 1usize << (24 - len);
                // No chunk exists yet: every prefix longer than /24 sorts after.
                level1[first..first + count].fill(entry);
            } else {
                let slot = (network >> 8) as usize;
                let chunk = if level1[slot] & CHUNK != 0 {
                    (level1[slot] & !CHUNK) as usize
                } else {
                    let chunk = level2.len() / 256;
                    level2.extend(std::iter::repeat_n(level1[slot], 256));
                    level1[slot] = CHUNK | u32::try_from(chunk).unwrap_or(0);
                    chunk
                };
                let first = chunk * 256 + (network & 0xff) as usize;
                let count = 1usize << (32 - len);
                level2[first..first + count].fill(entry);
            }
        }
        let mut by_length: HashMap<u8, HashMap<u128, u32>> = HashMap::new();
        for (network, len, value) in self.v6 {
            values.push(value);
            let entry = u32::try_from(values.len() - 1).unwrap_or(u32::MAX);
            by_length.entry(len).or_default().insert(network, entry);
        }
        let mut v6: Vec<(u8, HashMap<u128, u32>)> = by_length.into_iter().collect();
        v6.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        PrefixTable { values, level1, level2, v6, v4_prefixes }
    }
}

impl<T> PrefixTable<T> {
    pub fn lookup(&self, address: IpAddr) -> Option<&T> {
        match address {
            IpAddr::V4(v4) => self.lookup_v4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.lookup_v4(u32::from(v4)),
                None => self.lookup_v6(u128::from(v6)),
            },
        }
    }

    #[inline]
    pub fn lookup_v4(&self, address: u32) -> Option<&T> {
        let entry = *self.level1.get((address >> 8) as usize)?;
        let entry = if entry & CHUNK != 0 {
            let chunk = (entry & !CHUNK) as usize;
            *self.level2.get(chunk * 256 + (address & 0xff) as usize)?
        } else {
            entry
        };
        if entry == 0 { None } else { self.values.get(entry as usize - 1) }
    }

    pub fn lookup_v6(&self, address: u128) -> Option<&T> {
        self.v6.iter().find_map(|(len, map)| map.get(&(address & mask6(*len)))).and_then(|i| self.values.get(*i as usize))
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> ipnet::IpNet {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_most_specific_network_wins_in_any_insertion_order() {
        let mut builder = Builder::new();
        builder.insert(net("198.51.100.128/25"), "b");
        builder.insert(net("198.51.100.200/32"), "c");
        builder.insert(net("198.51.0.0/16"), "a");
        builder.insert(net("10.0.0.0/8"), "ten");
        builder.insert(net("2001:db8::/32"), "v6");
        builder.insert(net("2001:db8:1::/48"), "v6-more");
        let table = builder.build();
        assert_eq!(table.lookup(ip("198.51.100.1")), Some(&"a"));
        assert_eq!(table.lookup(ip("198.51.100.129")), Some(&"b"));
        assert_eq!(table.lookup(ip("198.51.100.200")), Some(&"c"));
        assert_eq!(table.lookup(ip("198.51.100.201")), Some(&"b"));
        assert_eq!(table.lookup(ip("198.51.7.7")), Some(&"a"));
        assert_eq!(table.lookup(ip("198.52.0.1")), None);
        assert_eq!(table.lookup(ip("10.255.255.255")), Some(&"ten"));
        assert_eq!(table.lookup(ip("::ffff:10.1.2.3")), Some(&"ten"));
        assert_eq!(table.lookup(ip("2001:db8:1::5")), Some(&"v6-more"));
        assert_eq!(table.lookup(ip("2001:db8:2::5")), Some(&"v6"));
        assert_eq!(table.lookup(ip("2001:db9::1")), None);
    }

    #[test]
    fn agrees_with_a_linear_scan_on_random_tables() {
        // A small deterministic generator: the table is checked against the
        // obvious definition of longest-prefix match.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut prefixes = Vec::new();
        let mut builder = Builder::new();
        for i in 0..2000u32 {
            // Cluster the networks so that they nest.
            let address = 0xc633_0000 | (next() as u32 & 0x0000_ffff);
            let len = 16 + (next() % 17) as u8;
            let network = address & mask4(len);
            prefixes.push((network, len, i));
            builder.insert_v4(Ipv4Addr::from(network), len, i);
        }
        let table = builder.build();
        for _ in 0..20_000 {
            let address = 0xc633_0000 | (next() as u32 & 0x0000_ffff);
            let expected =
                prefixes.iter().filter(|(n, len, _)| address & mask4(*len) == *n).max_by_key(|(_, len, i)| (*len, *i)).map(|(_, _, i)| *i);
            assert_eq!(table.lookup_v4(address).copied(), expected, "{}", Ipv4Addr::from(address));
        }
    }

    #[test]
    fn an_empty_table_matches_nothing() {
        let table: PrefixTable<u8> = Builder::new().build();
        assert_eq!(table.lookup(ip("192.0.2.1")), None);
        assert_eq!(table.lookup(ip("2001:db8::1")), None);
        assert!(table.is_empty());
    }
}
