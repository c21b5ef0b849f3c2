//! `rampart bench …`: Rampart's side of the benchmarks in `benchmarks/`,
//! which run the peer tool on the same input and print the ratio. Figures go
//! to stdout as JSON lines so the scripts can read them.

use crate::error::CliError;
use rampart_cop::index::Index;
use rampart_cop::{Hash256, decode, pdq};
use std::path::PathBuf;
use std::time::Instant;

/// Decodes and hashes every image `repeat` times on all cores; prints the
/// throughput and each image's hash (for the script to compare with the
/// reference). `exact` takes the RGB path the conformance test checks
/// instead of the luma-plane path matching uses.
pub fn pdq_throughput(paths: &[PathBuf], repeat: usize, decode_only: bool, exact: bool) -> Result<(), CliError> {
    let images: Vec<(PathBuf, Vec<u8>)> = paths
        .iter()
        .map(|path| {
            std::fs::read(path).map(|bytes| (path.clone(), bytes)).map_err(|err| CliError::Invalid(format!("{}: {err}", path.display())))
        })
        .collect::<Result<_, _>>()?;
    if images.is_empty() {
        return Err(CliError::Invalid("give at least one image".into()));
    }
    let work: Vec<&(PathBuf, Vec<u8>)> = (0..repeat.max(1)).flat_map(|_| images.iter()).collect();
    let threads = std::thread::available_parallelism().map(usize::from).unwrap_or(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let hashes_out: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut failures = Vec::new();
                    let mut hashes = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((path, bytes)) = work.get(i) else { break };
                        let result = if exact {
                            decode::rgb(bytes).and_then(|image| {
                                if decode_only { Ok(None) } else { pdq::hash_rgb(&image.pixels, image.width, image.height).map(Some) }
                            })
                        } else {
                            decode::for_hashing(bytes)
                                .and_then(|image| if decode_only { Ok(None) } else { pdq::hash_decoded(&image).map(Some) })
                        };
                        match result {
                            Ok(Some(hash)) if i < images.len() => hashes.push((path.display().to_string(), hash.hash.to_string())),
                            Ok(_) => {}
                            Err(err) => failures.push(format!("{}: {err}", path.display())),
                        }
                    }
                    (failures, hashes)
                })
            })
            .collect();
        let mut failures = Vec::new();
        for handle in handles {
            match handle.join() {
                Ok((failed, hashed)) => {
                    failures.extend(failed);
                    hashes_out.lock().map(|mut all| all.extend(hashed)).unwrap_or(());
                }
                Err(_) => failures.push("a worker panicked".into()),
            }
        }
        failures
    });
    let seconds = started.elapsed().as_secs_f64();
    if let Some(first) = failures.first() {
        return Err(CliError::Invalid(first.clone()));
    }
    let hashes: std::collections::BTreeMap<String, String> = hashes_out.into_inner().unwrap_or_default().into_iter().collect();
    println!(
        "{}",
        serde_json::json!({"benchmark": if decode_only { "decode" } else { "pdq" }, "path": if exact { "rgb" } else { "luma-plane" },
            "images": work.len(), "threads": threads, "seconds": seconds, "images_per_second": work.len() as f64 / seconds, "hashes": hashes})
    );
    Ok(())
}

/// A small, fast, seeded generator (splitmix64) so runs are repeatable.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn hash(&mut self) -> Hash256 {
        Hash256([self.next(), self.next(), self.next(), self.next()])
    }
}

/// Random hashes with planted near matches for half the queries; compares
/// the index with a linear scan (popcount over packed hashes) on the same
/// queries, checks they agree, and prints both.
pub fn index(size: usize, queries: usize, radius: u32) -> Result<(), CliError> {
    let mut rng = SplitMix(0x5EED);
    let mut hashes: Vec<Hash256> = (0..size).map(|_| rng.hash()).collect();
    let queries: Vec<Hash256> = (0..queries).map(|_| rng.hash()).collect();
    // Plant a near match (within the radius) for every other query.
    for (i, query) in queries.iter().enumerate().step_by(2) {
        let mut near = *query;
        for _ in 0..(rng.next() % u64::from(radius.max(1))) {
            let bit = (rng.next() % 256) as usize;
            near.0[bit / 64] ^= 1 << (bit % 64);
        }
        if !hashes.is_empty() {
            let slot = (i * 7919) % hashes.len();
            hashes[slot] = near;
        }
    }
    let started = Instant::now();
    let index = Index::build(hashes);
    let build_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let answers: Vec<usize> = queries.iter().map(|q| index.search(q, radius).len()).collect();
    let index_seconds = started.elapsed().as_secs_f64();
    // The baseline scans a sample of the queries (a full scan per query is slow).
    let sample = queries.len().min(200);
    let started = Instant::now();
    for (query, expected) in queries.iter().zip(&answers).take(sample) {
        let scanned = index.scan(query, radius);
        if scanned.len() != *expected || scanned != index.search(query, radius) {
            return Err(CliError::Other("the index and the scan disagree".into()));
        }
    }
    let scan_seconds = started.elapsed().as_secs_f64();
    let per_query_index = index_seconds / queries.len().max(1) as f64;
    // The verification above also ran one index search per sampled query.
    let per_query_scan = (scan_seconds - per_query_index * sample as f64).max(0.0) / sample.max(1) as f64;
    println!(
        "{}",
        serde_json::json!({
            "benchmark": "index", "hashes": index.len(), "queries": queries.len(), "radius": radius,
            "build_seconds": build_seconds, "memory_bytes": index.memory_bytes(),
            "index_ms_per_query": per_query_index * 1000.0, "scan_ms_per_query": per_query_scan * 1000.0,
            "speedup": per_query_scan / per_query_index.max(f64::MIN_POSITIVE),
            "matches": answers.iter().sum::<usize>(), "scan_checked_queries": sample,
        })
    );
    Ok(())
}

/// The GCI uncertainty analysis at full size: `countries` synthetic
/// countries answering every question of `edition`, `draws` Monte Carlo
/// draws (uniform ±25% weights, half the draws geometric), on one thread.
/// Writes the input (leaf values, tree, weights) to `data` so the baseline
/// script computes the same thing, and prints the time and each country's
/// median rank as JSON.
pub fn gci(edition: &str, countries: usize, draws: usize, data: Option<PathBuf>) -> Result<(), CliError> {
    use rampart_gci::framework;
    use rampart_gci::score::Compiled;
    use rampart_gci::uncertainty::{Input, Settings, analyse};
    let framework = framework::shipped(edition).map_err(|err| CliError::Invalid(err.to_string()))?;
    let compiled = Compiled::new(&framework);
    let leaves = compiled.leaves.len();
    let mut rng = SplitMix(0x6C1);
    let mut values = Vec::with_capacity(countries * leaves);
    for _ in 0..countries {
        // Each country's level, then answers around it on the edition's scale.
        let level = (rng.next() % 1000) as f64 / 1000.0;
        for _ in 0..leaves {
            let noise = (rng.next() % 1000) as f64 / 1000.0 - 0.5;
            let share = (level + noise * 0.6).clamp(0.0, 1.0);
            values.push(if framework.questions().all(|q| q.answer == Some(framework::AnswerType::YesNo)) {
                share.round()
            } else {
                (share * 2.0).round() / 2.0
            });
        }
    }
    let names: Vec<String> = (0..countries).map(|i| format!("C{i:03}")).collect();
    if let Some(path) = data {
        let tree = serde_json::json!({
            "parents": compiled.parents.iter().map(|p| if *p == rampart_gci::score::ROOT { -1 } else { *p as i64 }).collect::<Vec<_>>(),
            "levels": compiled.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            "weights": compiled.weights,
            "leaves": compiled.leaves,
            "values": values,
            "countries": countries,
            "scale": framework.max_overall(),
            "precision": framework.precision,
            "draws": draws,
        });
        std::fs::write(&path, tree.to_string()).map_err(|err| CliError::Invalid(format!("{}: {err}", path.display())))?;
    }
    let input = Input::new(&framework, compiled, names, values);
    let start = Instant::now();
    let analysis = analyse(&input, Settings { draws, seed: 1, ..Settings::default() });
    let seconds = start.elapsed().as_secs_f64();
    let medians: Vec<f64> = analysis.countries.iter().map(|c| c.median_rank).collect();
    let nominal: Vec<u32> = analysis.countries.iter().map(|c| c.nominal_rank).collect();
    println!(
        "{}",
        serde_json::json!({"edition": edition, "countries": countries, "draws": draws, "seconds": seconds,
            "mean_rank_shift": analysis.mean_rank_shift, "median_ranks": medians, "nominal_ranks": nominal})
    );
    Ok(())
}
