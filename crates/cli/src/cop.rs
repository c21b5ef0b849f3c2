//! `rampart cop match`: bulk lookups of images (and PDQ hashes) against a
//! hash list, with a progress bar on the terminal. Images are hashed in
//! memory and dropped; only the matches are printed, as CSV.

use crate::error::CliError;
use rampart_cop::Hash256;
use rampart_cop::hashlist::{self, Entry};
use rampart_cop::matcher::{Hit, Matcher};
use std::path::{Path, PathBuf};

/// A hash list stored in Rampart, by id or name (the only list of that
/// name; otherwise the id is needed).
pub async fn load_stored(store: &rampart_store::Store, wanted: &str) -> Result<Vec<Entry>, CliError> {
    let lists = store.hash_lists().await?;
    let matching: Vec<_> = lists.iter().filter(|l| l.id == wanted || l.name == wanted).collect();
    let list = match matching.as_slice() {
        [one] => *one,
        [] => return Err(CliError::Invalid(format!("no stored hash list `{wanted}`"))),
        _ => return Err(CliError::Invalid(format!("{} lists are named `{wanted}`; give the id", matching.len()))),
    };
    let rows = store.hash_entries_of(&list.id).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Entry {
                kind: hashlist::HashType::parse(&r.kind)?,
                hash: r.hash,
                tags: r.tags.split(';').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            })
        })
        .collect())
}

pub fn load_list(path: &Path) -> Result<Vec<Entry>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|err| CliError::Invalid(format!("{}: {err}", path.display())))?;
    let parsed = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        hashlist::parse_json(&text)
    } else {
        hashlist::parse_csv(&text)
    };
    parsed.map_err(|errors| {
        let lines: Vec<String> = errors.iter().take(20).map(|e| format!("{}: {} {}", path.display(), e.at, e.message)).collect();
        CliError::Invalid(format!("{} bad row(s), nothing loaded:\n{}", errors.len(), lines.join("\n")))
    })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_owned() }
}

/// Matches every image in `images` and every PDQ hash in `hashes_file`
/// against the list's entries; prints `input,hash,type,distance,tags` per
/// match and a summary on stderr.
pub fn match_command(entries: Vec<Entry>, images: &[PathBuf], hashes_file: Option<&Path>, radius: u32) -> Result<(), CliError> {
    let matcher = Matcher::new(entries);
    let queries: Vec<(String, Hash256)> = match hashes_file {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|err| CliError::Invalid(format!("{}: {err}", path.display())))?;
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(i, line)| {
                    let hex = line.split([',', '\t', ' ']).next().unwrap_or("");
                    hex.parse::<Hash256>()
                        .map(|h| (hex.to_owned(), h))
                        .map_err(|err| CliError::Invalid(format!("{} line {}: {err}", path.display(), i + 1)))
                })
                .collect::<Result<_, _>>()?
        }
    };
    let total = images.len() + queries.len();
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    println!("input,hash,type,distance,tags");
    let (mut matched, mut failed) = (0usize, 0usize);
    let print = |input: &str, hits: &[Hit]| {
        for hit in hits {
            if let Some(entry) = matcher.entry(hit.entry) {
                let line = format!(
                    "{},{},{},{},{}",
                    csv_field(input),
                    entry.hash,
                    entry.kind.as_str(),
                    hit.distance,
                    csv_field(&entry.tags.join(";"))
                );
                bar.suspend(|| println!("{line}"));
            }
        }
        usize::from(!hits.is_empty())
    };
    for path in images {
        let label = path.display().to_string();
        let outcome = std::fs::read(path).map_err(|err| err.to_string()).and_then(|bytes| {
            use sha2::Digest as _;
            let md5 = data_encoding::HEXLOWER.encode(&md5::Md5::digest(&bytes));
            let sha256 = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(&bytes));
            matcher.image(&bytes, &md5, &sha256, radius).map_err(|err| err.to_string())
        });
        match outcome {
            Ok((hits, _quality)) => matched += print(&label, &hits),
            Err(err) => {
                failed += 1;
                bar.suspend(|| eprintln!("{label}: {err}"));
            }
        }
        bar.inc(1);
    }
    for (hex, hash) in &queries {
        matched += print(hex, &matcher.pdq(std::slice::from_ref(hash), radius));
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("{total} checked, {matched} matched, {failed} could not be read");
    Ok(())
}
