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

/// Creates a bench CIRT, its manager and a reader, a collection and
/// `objects` indicators in it (envelopes of 5,000), and prints the
/// collection id and the reader's token.
pub async fn taxii_load(auth: &rampart_auth::AuthService, objects: usize) -> Result<(), CliError> {
    use rampart_auth::service::{Actor, NewUserRequest};
    use rampart_core::Role;
    let operator = rampart_auth::Principal::cli("bench");
    let actor = Actor { principal: &operator, ip: None };
    let org = auth
        .create_org(
            &actor,
            &rampart_store::NewOrg {
                name: format!("Bench CIRT {}", uuid_like()),
                short_name: None,
                kind: "national_cirt".into(),
                sector: None,
                country: Some("KE".into()),
                parent_id: None,
                website: None,
                mfa_required: false,
            },
        )
        .await?;
    let mut principals = Vec::new();
    for (local, role) in [("manager", Role::CirtManager), ("reader", Role::CirtAnalyst)] {
        let request = NewUserRequest {
            org_id: org.id.clone(),
            email: format!("{local}-{}@bench.rampart.test", org.id),
            display_name: local.into(),
            password: format!("bench password {}", uuid_like()),
            language: "en".into(),
            must_change_password: false,
        };
        let id = auth.create_user(&actor, &request).await?;
        auth.grant_role(&actor, &id, role, rampart_auth::Scope::Org(org.id.clone())).await?;
        let user = auth.store().user_get(&id).await?;
        principals.push(auth.principal_for(&user, rampart_auth::Via::Cli, None).await?);
    }
    let taxii = rampart_intel::taxii::Taxii::new(auth.store().clone(), auth.clock());
    let manager = Actor { principal: &principals[0], ip: None };
    let collection = taxii.create_collection(&manager, "Bench indicators", "", &[], &[]).await?;
    let (token, _) = auth.create_token(&Actor { principal: &principals[1], ip: None }, "bench", &[Role::CirtAnalyst], None).await?;
    let started = Instant::now();
    let markings = ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"];
    let mut n = 0usize;
    while n < objects {
        let batch: Vec<serde_json::Value> = (n..objects.min(n + 5_000))
            .flat_map(|i| {
                let object = |modified: &str| {
                    serde_json::json!({
                        "type": "indicator", "spec_version": "2.1", "id": format!("indicator--00000000-0000-4000-8000-{i:012}"),
                        "created": "2026-01-01T00:00:00.000Z", "modified": modified, "object_marking_refs": [markings[i % 2]],
                        "pattern": format!("[ipv4-addr:value = '10.{}.{}.{}']", (i >> 16) & 255, (i >> 8) & 255, i & 255),
                        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"
                    })
                };
                let mut versions = vec![object("2026-01-01T00:00:00.000Z")];
                if i % 10 == 0 {
                    versions.push(object("2026-02-01T00:00:00.000Z"));
                }
                versions
            })
            .collect();
        let status = taxii.add(&manager, &collection.id, &serde_json::json!({ "objects": batch }).to_string()).await?;
        if status["failure_count"].as_u64() != Some(0) {
            return Err(CliError::Other(format!("bench objects refused: {}", status["failures"])));
        }
        n += 5_000;
    }
    println!(
        "{}",
        serde_json::json!({"collection": collection.id, "token": token, "objects": objects, "load_seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}

/// Twelve random hex digits, to keep runs against one database apart.
pub(crate) fn uuid_like() -> String {
    let token = rampart_auth::secret::random_token().unwrap_or_default();
    data_encoding::HEXLOWER.encode(token.as_bytes()).chars().take(12).collect()
}

/// A load run against a TAXII collection.
pub struct Drive {
    pub api_root: String,
    pub collection: String,
    pub credentials: rampart_intel::client::Credentials,
    pub concurrency: usize,
    pub seconds: f64,
    pub post: Option<usize>,
    pub page: usize,
    pub timeout: f64,
}

/// `concurrency` clients, each sending its next request as soon as the
/// last is answered, for `seconds`: paged GETs that follow `next` (from the
/// start again at the end), or POSTs of envelopes of new objects.
pub async fn taxii_drive(drive: &Drive) -> Result<(), CliError> {
    let client = rampart_intel::client::TaxiiClient::new(&drive.api_root, &drive.credentials)?
        .with_timeout(std::time::Duration::from_secs_f64(drive.timeout));
    let deadline = Instant::now() + std::time::Duration::from_secs_f64(drive.seconds);
    let run = uuid_like();
    let mut tasks = Vec::new();
    for worker in 0..drive.concurrency.max(1) {
        let client = client.clone();
        let collection = drive.collection.clone();
        let (post, page, run) = (drive.post, drive.page, run.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut errors: Vec<String> = Vec::new();
            let mut next: Option<String> = None;
            let mut sent = 0usize;
            while Instant::now() < deadline {
                let started = Instant::now();
                let outcome = match post {
                    Some(size) => {
                        let objects: Vec<serde_json::Value> = (0..size)
                            .map(|k| {
                                serde_json::json!({
                                    "type": "indicator", "spec_version": "2.1",
                                    "id": format!("indicator--{}-{worker:04x}-4000-8000-{:012x}", &run[..8], sent * size + k),
                                    "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
                                    "pattern": format!("[domain-name:value = 'w{worker}-{sent}-{k}.example']"),
                                    "pattern_type": "stix", "valid_from": "2026-03-01T00:00:00Z"
                                })
                            })
                            .collect();
                        sent += 1;
                        client.add(&collection, &objects).await.and_then(|status| {
                            if status["success_count"].as_u64() == Some(size as u64) {
                                Ok(())
                            } else {
                                Err(rampart_intel::IntelError::Invalid { path: "status".into(), message: status.to_string() })
                            }
                        })
                    }
                    // Counted, not kept: the load generator shares the cores
                    // with the server it measures.
                    None => client.objects_count(&collection, next.as_deref(), page).await.map(|(_, after)| {
                        next = after;
                    }),
                };
                match outcome {
                    Ok(()) => latencies.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX)),
                    Err(err) => errors.push(err.to_string()),
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (l, e) = task.await.map_err(|err| CliError::Other(err.to_string()))?;
        latencies.extend(l);
        errors.extend(e);
    }
    // Requests still in flight at the deadline are waited for and counted.
    let elapsed = drive.seconds.max(started.elapsed().as_secs_f64()).max(0.001);
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(latencies[index.min(latencies.len() - 1)]) / 1000.0
    };
    let mut sample: Vec<String> = errors.iter().take(3).cloned().collect();
    sample.dedup();
    println!(
        "{}",
        serde_json::json!({
            "concurrency": drive.concurrency, "mode": if drive.post.is_some() { "post" } else { "get" },
            "ok": latencies.len(), "errors": errors.len(), "seconds": elapsed,
            "requests_per_second": latencies.len() as f64 / elapsed,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99), "error_sample": sample,
        })
    );
    Ok(())
}

/// Parses and checks one STIX bundle `repeat` times on this thread.
pub fn stix_validate(file: &std::path::Path, repeat: usize) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file).map_err(|err| CliError::Invalid(format!("{}: {err}", file.display())))?;
    let started = Instant::now();
    let mut objects = 0usize;
    let mut errors = 0usize;
    for _ in 0..repeat.max(1) {
        let content = rampart_intel::stix::parse(&text)?;
        objects += content.objects().len();
        errors += rampart_intel::stix::validate(&content).iter().filter(|p| p.severity == rampart_intel::stix::Severity::Error).count();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"objects": objects, "errors": errors, "seconds": seconds, "objects_per_second": objects as f64 / seconds})
    );
    Ok(())
}

/// Longest-prefix match over `prefixes` random IPv4 networks (lengths
/// spread as in a full routing table: most /24, then /16 to /23, a few
/// longer), `lookups` addresses on one thread. The baseline in the same
/// run is the straightforward structure: one hash map per prefix length,
/// longest first.
pub fn feed_lpm(prefixes: usize, lookups: usize) -> Result<(), CliError> {
    use rampart_feeds::lpm::Builder;
    use std::collections::HashMap;
    use std::net::Ipv4Addr;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut networks = Vec::with_capacity(prefixes);
    for _ in 0..prefixes {
        let roll = next() % 100;
        let len: u8 = match roll {
            0..=59 => 24,
            60..=89 => 16 + (next() % 8) as u8,
            90..=96 => 8 + (next() % 8) as u8,
            _ => 25 + (next() % 8) as u8,
        };
        let address = next() as u32;
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
        networks.push((address & mask, len));
    }
    let built = Instant::now();
    let mut builder = Builder::new();
    for (i, (network, len)) in networks.iter().enumerate() {
        builder.insert_v4(Ipv4Addr::from(*network), *len, i as u32);
    }
    let table = builder.build();
    let build_seconds = built.elapsed().as_secs_f64();
    let addresses: Vec<u32> = (0..lookups.min(1 << 24)).map(|_| next() as u32).collect();
    let rounds = lookups.div_ceil(addresses.len().max(1));
    let started = Instant::now();
    let mut found = 0u64;
    for _ in 0..rounds {
        for address in &addresses {
            if let Some(value) = table.lookup_v4(*address) {
                found = found.wrapping_add(u64::from(*value));
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let done = (rounds * addresses.len()) as f64;
    // The baseline: per-length hash maps.
    let mut by_length: HashMap<u8, HashMap<u32, u32>> = HashMap::new();
    for (i, (network, len)) in networks.iter().enumerate() {
        by_length.entry(*len).or_default().insert(*network, i as u32);
    }
    let mut lengths: Vec<(u8, HashMap<u32, u32>)> = by_length.into_iter().collect();
    lengths.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let sample = &addresses[..addresses.len().min(2_000_000)];
    let baseline_started = Instant::now();
    let mut baseline_found = 0u64;
    let mut agree = true;
    for address in sample {
        let hit = lengths.iter().find_map(|(len, map)| {
            let mask = if *len == 0 { 0 } else { u32::MAX << (32 - u32::from(*len)) };
            map.get(&(address & mask)).copied()
        });
        if let Some(value) = hit {
            baseline_found = baseline_found.wrapping_add(u64::from(value));
        }
        agree &= hit == table.lookup_v4(*address).copied();
    }
    let baseline_seconds = baseline_started.elapsed().as_secs_f64();
    let rate = done / seconds;
    let baseline_rate = sample.len() as f64 / baseline_seconds;
    println!(
        "{}",
        serde_json::json!({
            "bench": "feed-lpm",
            "prefixes": prefixes,
            "lookups": done,
            "build_seconds": build_seconds,
            "lookups_per_second": rate,
            "baseline_lookups_per_second": baseline_rate,
            "ratio": rate / baseline_rate,
            "answers_agree": agree,
            "checksum": found ^ baseline_found,
        })
    );
    if !agree {
        return Err(CliError::Other("the table and the baseline disagree".into()));
    }
    Ok(())
}
