//! The multi-index must return exactly what a linear scan returns, for any
//! collection, query and radius (property test), including planted near
//! matches and the PDQ project's haystack and needles.

use proptest::prelude::*;
use rampart_cop::Hash256;
use rampart_cop::index::Index;

fn hash_strategy() -> impl Strategy<Value = Hash256> {
    prop::array::uniform4(any::<u64>()).prop_map(Hash256)
}

/// `base` with the bits at `flips` (taken modulo 256) inverted.
fn near(base: &Hash256, flips: &[u16]) -> Hash256 {
    let mut out = *base;
    for bit in flips {
        let bit = usize::from(*bit) % 256;
        out.0[bit / 64] ^= 1u64 << (bit % 64);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_index_answers_like_a_scan(
        mut hashes in prop::collection::vec(hash_strategy(), 0..400),
        query in hash_strategy(),
        planted in prop::collection::vec(prop::collection::vec(any::<u16>(), 0..48), 0..20),
        radius in 0u32..80,
        chunk_bits in 8usize..=24,
    ) {
        for flips in &planted {
            hashes.push(near(&query, flips));
        }
        let index = Index::with_chunk_bits(hashes, chunk_bits);
        prop_assert_eq!(index.search(&query, radius), index.scan(&query, radius));
    }
}

#[test]
fn the_pdq_haystack_finds_its_needles() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/pdq/data/reg-test-input");
    let read = |name: &str| -> Vec<Hash256> {
        std::fs::read_to_string(dir.join(name))
            .expect("list")
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter_map(|hex| hex.parse().ok())
            .collect()
    };
    let haystack = read("haystack.txt");
    let needles = read("needles.txt");
    assert!(!haystack.is_empty() && !needles.is_empty());
    let index = Index::build(haystack);
    let mut found = 0;
    for needle in &needles {
        let hits = index.search(needle, 31);
        assert_eq!(hits, index.scan(needle, 31));
        found += usize::from(!hits.is_empty());
    }
    assert!(found > 0, "some needles are in the haystack");
}
