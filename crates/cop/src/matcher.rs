//! Matching against a hash list: PDQ hashes by Hamming distance through the
//! index (every dihedral variant of an image, so rotated or mirrored copies
//! match), MD5 and SHA-256 exactly.

use crate::hashlist::{Entry, HashType};
use crate::index::Index;
use crate::pdq::{self, Hash256};
use crate::{CopError, decode};
use std::collections::HashMap;

/// PDQ hashes of quality below this say too little to match on.
pub const MIN_QUALITY: u32 = 50;

/// A list entry that matched, and how far the PDQ hash was from it (0 for
/// an exact hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub entry: usize,
    pub distance: u32,
}

pub struct Matcher {
    entries: Vec<Entry>,
    pdq: Index,
    /// Entry of each PDQ hash in the index, by index id.
    pdq_entries: Vec<usize>,
    exact: HashMap<(HashType, String), Vec<usize>>,
}

impl Matcher {
    pub fn new(entries: Vec<Entry>) -> Matcher {
        let mut hashes = Vec::new();
        let mut pdq_entries = Vec::new();
        let mut exact: HashMap<(HashType, String), Vec<usize>> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            match entry.kind {
                HashType::Pdq => {
                    if let Ok(hash) = entry.hash.parse::<Hash256>() {
                        hashes.push(hash);
                        pdq_entries.push(i);
                    }
                }
                kind => exact.entry((kind, entry.hash.clone())).or_default().push(i),
            }
        }
        Matcher { entries, pdq: Index::build(hashes), pdq_entries, exact }
    }

    pub fn entry(&self, index: usize) -> Option<&Entry> {
        self.entries.get(index)
    }

    /// List entries within `radius` of any of `hashes`, each once at its
    /// smallest distance, nearest first.
    pub fn pdq(&self, hashes: &[Hash256], radius: u32) -> Vec<Hit> {
        let mut best: HashMap<usize, u32> = HashMap::new();
        for hash in hashes {
            for hit in self.pdq.search(hash, radius) {
                let entry = self.pdq_entries[hit.id as usize];
                let distance = best.entry(entry).or_insert(hit.distance);
                *distance = (*distance).min(hit.distance);
            }
        }
        let mut hits: Vec<Hit> = best.into_iter().map(|(entry, distance)| Hit { entry, distance }).collect();
        hits.sort_by_key(|h| (h.distance, h.entry));
        hits
    }

    /// List entries with exactly this MD5 or SHA-256.
    pub fn exact(&self, kind: HashType, hash: &str) -> Vec<Hit> {
        self.exact.get(&(kind, hash.to_ascii_lowercase())).into_iter().flatten().map(|&entry| Hit { entry, distance: 0 }).collect()
    }

    /// Every entry an image matches: its PDQ hashes (all eight variants,
    /// unless its quality is too low) and its file's MD5 and SHA-256, which
    /// the caller computes from the same bytes. The pixels are dropped here.
    pub fn image(&self, bytes: &[u8], md5: &str, sha256: &str, radius: u32) -> Result<(Vec<Hit>, u32), CopError> {
        let image = decode::for_hashing(bytes)?;
        let (variants, quality) = pdq::dihedral_decoded(&image)?;
        drop(image);
        let mut hits = if quality >= MIN_QUALITY { self.pdq(&variants, radius) } else { Vec::new() };
        hits.extend(self.exact(HashType::Md5, md5));
        hits.extend(self.exact(HashType::Sha256, sha256));
        Ok((hits, quality))
    }
}
