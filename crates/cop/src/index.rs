//! An exact index of 256-bit hashes for Hamming-radius queries, by
//! multi-index hashing (Norouzi, Punjani and Fleet): the hash is cut into
//! `m` disjoint chunks, each with its own table. If chunk `i` is searched
//! within radius `rᵢ` and Σ(rᵢ + 1) > r, then by the pigeonhole principle
//! every hash within distance r of the query agrees with it within rᵢ on at
//! least one chunk; so probing every chunk value within rᵢ finds all
//! candidates, and checking each candidate's full distance makes the answer
//! exact — the same as a linear scan, which the tests check.
//!
//! Tables are compressed-row arrays addressed directly by the chunk value
//! (offsets, then the ids in chunk-value order), so a probe is two array
//! reads and the candidates of one probe lie together in memory.

use crate::pdq::Hash256;

/// One chunk: which bits of the hash, and its table.
struct Chunk {
    /// First bit (0–255) and width (at most 24 bits).
    start: usize,
    bits: usize,
    /// `offsets[v]..offsets[v + 1]` are the positions in `ids` of the hashes
    /// whose chunk equals `v`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

/// The value of `bits` bits of `hash` from bit `start`.
fn chunk_value(hash: &Hash256, start: usize, bits: usize) -> usize {
    let mut value = 0usize;
    let mut taken = 0;
    while taken < bits {
        let bit = start + taken;
        let word = hash.0[bit / 64] >> (bit % 64);
        let here = (64 - bit % 64).min(bits - taken);
        let mask = if here == 64 { u64::MAX } else { (1u64 << here) - 1 };
        value |= ((word & mask) as usize) << taken;
        taken += here;
    }
    value
}

/// A match: the position of the hash as added, and its distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    pub distance: u32,
    pub id: u32,
}

pub struct Index {
    hashes: Vec<Hash256>,
    chunks: Vec<Chunk>,
}

impl Index {
    /// Indexes `hashes` (their positions are their ids). The chunk width
    /// follows the collection's size: about log₂ n bits, so a probe finds
    /// about one random hash, between 8 and 22 bits (wider chunks' offset
    /// tables would outweigh the hashes).
    pub fn build(hashes: Vec<Hash256>) -> Index {
        let n = hashes.len().max(2);
        let bits = (usize::BITS - (n - 1).leading_zeros()) as usize;
        Index::with_chunk_bits(hashes, bits.clamp(8, 22))
    }

    /// Indexes with chunks of about `chunk_bits` bits (8 to 24).
    pub fn with_chunk_bits(hashes: Vec<Hash256>, chunk_bits: usize) -> Index {
        let chunk_bits = chunk_bits.clamp(8, 24);
        let count = 256usize.div_ceil(chunk_bits);
        let mut chunks = Vec::with_capacity(count);
        let mut start = 0;
        for i in 0..count {
            // Spread the 256 bits as evenly as possible.
            let bits = 256 / count + usize::from(i < 256 % count);
            let size = 1usize << bits;
            let mut offsets = vec![0u32; size + 1];
            for hash in &hashes {
                offsets[chunk_value(hash, start, bits) + 1] += 1;
            }
            for v in 0..size {
                offsets[v + 1] += offsets[v];
            }
            let mut next: Vec<u32> = offsets[..size].to_vec();
            let mut ids = vec![0u32; hashes.len()];
            for (id, hash) in hashes.iter().enumerate() {
                let v = chunk_value(hash, start, bits);
                ids[next[v] as usize] = u32::try_from(id).unwrap_or(u32::MAX);
                next[v] += 1;
            }
            chunks.push(Chunk { start, bits, offsets, ids });
            start += bits;
        }
        Index { hashes, chunks }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn hash(&self, id: u32) -> Option<&Hash256> {
        self.hashes.get(id as usize)
    }

    /// Every hash within `radius` of `query`, nearest first (ties by id).
    pub fn search(&self, query: &Hash256, radius: u32) -> Vec<Match> {
        let mut found = Vec::new();
        let radius_usize = radius as usize;
        let m = self.chunks.len();
        // Σ(rᵢ + 1) = radius + 1 over the chunks: the first
        // (radius + 1) mod m chunks get one more.
        for (i, chunk) in self.chunks.iter().enumerate() {
            let plus_one = (radius_usize + 1) / m + usize::from(i < (radius_usize + 1) % m);
            let Some(chunk_radius) = plus_one.checked_sub(1) else { continue };
            let value = chunk_value(query, chunk.start, chunk.bits);
            for_each_within(value, chunk.bits, chunk_radius.min(chunk.bits), &mut |probe| {
                let (from, to) = (chunk.offsets[probe] as usize, chunk.offsets[probe + 1] as usize);
                for &id in &chunk.ids[from..to] {
                    let distance = self.hashes[id as usize].distance(query);
                    if distance <= radius {
                        found.push(Match { distance, id });
                    }
                }
            });
        }
        // A near hash can agree on several chunks: keep it once. (Cheaper
        // than remembering what was seen, since true matches are few.)
        found.sort_unstable();
        found.dedup();
        found
    }

    /// Bytes the index holds: hashes, offsets and ids.
    pub fn memory_bytes(&self) -> usize {
        let tables: usize = self.chunks.iter().map(|c| c.offsets.len() * 4 + c.ids.len() * 4).sum();
        self.hashes.len() * std::mem::size_of::<Hash256>() + tables
    }

    /// The same answer by scanning every hash, for tests and benchmarks.
    pub fn scan(&self, query: &Hash256, radius: u32) -> Vec<Match> {
        let mut found: Vec<Match> = self
            .hashes
            .iter()
            .enumerate()
            .filter_map(|(id, hash)| {
                let distance = hash.distance(query);
                (distance <= radius).then(|| Match { distance, id: u32::try_from(id).unwrap_or(u32::MAX) })
            })
            .collect();
        found.sort_unstable();
        found
    }
}

/// Calls `visit` with every `bits`-bit value within Hamming distance
/// `radius` of `value`.
fn for_each_within(value: usize, bits: usize, radius: usize, visit: &mut dyn FnMut(usize)) {
    fn flip(value: usize, from: usize, bits: usize, left: usize, visit: &mut dyn FnMut(usize)) {
        if left == 0 {
            return;
        }
        for bit in from..bits {
            let flipped = value ^ (1 << bit);
            visit(flipped);
            flip(flipped, bit + 1, bits, left - 1, visit);
        }
    }
    visit(value);
    flip(value, 0, bits, radius, visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_the_right_bits_across_words() {
        let mut hash = Hash256::default();
        hash.0[0] = 0xF000_0000_0000_0000;
        hash.0[1] = 0b101;
        assert_eq!(chunk_value(&hash, 60, 8), 0b0101_1111);
        assert_eq!(chunk_value(&hash, 0, 24), 0);
    }

    #[test]
    fn probes_cover_exactly_the_ball() {
        let mut seen = Vec::new();
        for_each_within(0b1010, 4, 2, &mut |v| seen.push(v));
        seen.sort_unstable();
        let expected: Vec<usize> = (0..16).filter(|v: &usize| (v ^ 0b1010).count_ones() <= 2).collect();
        assert_eq!(seen, expected, "each value once");
    }
}
