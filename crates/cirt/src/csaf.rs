//! CSAF 2.0 advisories: validation against the OASIS JSON schema (shipped in
//! `data/csaf/` with the FIRST CVSS schemas it references, so no network is
//! needed) and every mandatory test of section 6.1, each checked against the
//! OASIS conformance cases.

use jsonschema::{Retrieve, Uri, Validator};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::OnceLock;

/// The mandatory tests this module implements (CSAF 2.0, section 6.1).
pub const MANDATORY_TESTS: [&str; 43] = [
    "6.1.1",
    "6.1.2",
    "6.1.3",
    "6.1.4",
    "6.1.5",
    "6.1.6",
    "6.1.7",
    "6.1.8",
    "6.1.9",
    "6.1.10",
    "6.1.11",
    "6.1.12",
    "6.1.13",
    "6.1.14",
    "6.1.15",
    "6.1.16",
    "6.1.17",
    "6.1.18",
    "6.1.19",
    "6.1.20",
    "6.1.21",
    "6.1.22",
    "6.1.23",
    "6.1.24",
    "6.1.25",
    "6.1.26",
    "6.1.28",
    "6.1.27.1",
    "6.1.27.2",
    "6.1.27.3",
    "6.1.27.4",
    "6.1.27.5",
    "6.1.27.6",
    "6.1.27.7",
    "6.1.27.8",
    "6.1.27.9",
    "6.1.27.10",
    "6.1.27.11",
    "6.1.29",
    "6.1.30",
    "6.1.31",
    "6.1.32",
    "6.1.33",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `schema`, or the number of the mandatory test, e.g. `6.1.1`.
    pub test: String,
    /// JSON pointer of the offending value.
    pub path: String,
    pub message: String,
}

/// Serves the schemas CSAF's schemas refer to from the copies in `data/csaf`.
pub struct LocalSchemas;

impl Retrieve for LocalSchemas {
    fn retrieve(&self, uri: &Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let text = match uri.as_str().split('?').next().unwrap_or("") {
            "https://www.first.org/cvss/cvss-v2.0.json" => include_str!("../data/csaf/cvss-v2.0.json"),
            "https://www.first.org/cvss/cvss-v3.0.json" => include_str!("../data/csaf/cvss-v3.0.json"),
            "https://www.first.org/cvss/cvss-v3.1.json" => include_str!("../data/csaf/cvss-v3.1.json"),
            "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json" => include_str!("../data/csaf/csaf_json_schema.json"),
            other => return Err(format!("no local copy of {other}").into()),
        };
        Ok(serde_json::from_str(text)?)
    }
}

fn validator() -> Option<&'static Validator> {
    static VALIDATOR: OnceLock<Option<Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(include_str!("../data/csaf/csaf_json_schema.json")).ok()?;
            jsonschema::options().with_retriever(LocalSchemas).should_validate_formats(true).build(&schema).ok()
        })
        .as_ref()
}

/// Every problem found in a document: schema violations, then the failures
/// of the implemented mandatory tests.
pub fn check(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    match validator() {
        Some(validator) => {
            for error in validator.iter_errors(document) {
                problems.push(Problem { test: "schema".into(), path: error.instance_path().to_string(), message: error.to_string() });
            }
        }
        None => {
            problems.push(Problem { test: "schema".into(), path: String::new(), message: "the CSAF schema could not be loaded".into() })
        }
    }
    problems.extend(product_ids(document));
    problems.extend(cvss_scores(document));
    problems.extend(product_groups(document));
    problems.extend(contradicting_status(document));
    problems.extend(repeated_cves(document));
    problems.extend(unreferenced_items(document));
    problems.extend(circular_relationships(document));
    problems.extend(repeated_score_versions(document));
    problems.extend(repeated_revisions(document));
    problems.extend(repeated_involvements(document));
    problems.extend(repeated_hash_algorithms(document));
    problems.extend(profiles(document));
    problems.extend(strict_cvss(document));
    problems.extend(inconsistent_cvss(document));
    problems.extend(translation(document));
    problems.extend(repeated_vex_flags(document));
    problems.extend(versions(document));
    problems.extend(category_name(document));
    problems.extend(translator(document));
    problems.extend(mixed_versioning(document));
    problems.extend(version_ranges(document));
    problems.extend(missing_revisions(document));
    problems.extend(languages(document));
    problems.extend(cwes(document));
    problems.extend(purls(document));
    problems
}

fn known_language(code: &str) -> bool {
    static CODES: OnceLock<BTreeSet<&'static str>> = OnceLock::new();
    CODES
        .get_or_init(|| include_str!("../data/csaf/languages.txt").lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect())
        .contains(code)
}

/// Whether a BCP 47 tag is well formed and its language subtag registered
/// (ISO 639); private-use (`x-…`) and grandfathered (`i-…`) tags pass.
pub fn valid_language_tag(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    let mut subtags = lower.split('-');
    let Some(primary) = subtags.next() else { return false };
    if primary == "x" || primary == "i" {
        return subtags.clone().count() > 0
            && subtags.all(|s| !s.is_empty() && s.len() <= 8 && s.chars().all(|c| c.is_ascii_alphanumeric()));
    }
    let primary_ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_lowercase()) && known_language(primary);
    primary_ok && subtags.all(|s| !s.is_empty() && s.len() <= 8 && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The official name of a CWE weakness (`CWE-79`), from the catalogue in
/// `data/cwe.tsv` (see `scripts/gen-cwe`).
pub fn cwe_name(id: &str) -> Option<&'static str> {
    static CATALOGUE: OnceLock<BTreeMap<u32, &'static str>> = OnceLock::new();
    let number: u32 = id.strip_prefix("CWE-")?.parse().ok()?;
    CATALOGUE
        .get_or_init(|| {
            include_str!("../data/cwe.tsv")
                .lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| {
                    let mut fields = line.splitn(3, '\t');
                    let number = fields.next()?.parse().ok()?;
                    let _status = fields.next()?;
                    Some((number, fields.next()?))
                })
                .collect()
        })
        .get(&number)
        .copied()
}

/// 6.1.11: each vulnerability's CWE exists and carries its official name.
fn cwes(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (index, vulnerability) in document.get("vulnerabilities").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(cwe) = vulnerability.get("cwe") else { continue };
        let (Some(id), Some(name)) = (cwe.get("id").and_then(Value::as_str), cwe.get("name").and_then(Value::as_str)) else {
            continue; // the schema reports the missing part
        };
        let path = format!("/vulnerabilities/{index}/cwe");
        match cwe_name(id) {
            None => {
                problems.push(Problem { test: "6.1.11".into(), path: format!("{path}/id"), message: format!("{id} is not a CWE weakness") })
            }
            Some(official) if official != name => problems.push(Problem {
                test: "6.1.11".into(),
                path: format!("{path}/name"),
                message: format!("the name of {id} is `{official}`, not `{name}`"),
            }),
            Some(_) => {}
        }
    }
    problems
}

/// 6.1.12: the document's languages are valid language tags.
fn languages(document: &Value) -> Vec<Problem> {
    ["lang", "source_lang"]
        .iter()
        .filter_map(|key| {
            let tag = document.pointer(&format!("/document/{key}")).and_then(Value::as_str)?;
            (!valid_language_tag(tag)).then(|| Problem {
                test: "6.1.12".into(),
                path: format!("/document/{key}"),
                message: format!("`{tag}` is not a registered language tag"),
            })
        })
        .collect()
}

/// Whether a package URL has the parts the PURL specification requires: the
/// `pkg:` scheme, a type, and a name.
fn valid_purl(purl: &str) -> bool {
    let Some(rest) = purl.strip_prefix("pkg:") else { return false };
    let rest = rest.split('#').next().unwrap_or("");
    let rest = rest.split('?').next().unwrap_or("");
    let path = match rest.rsplit_once('@') {
        Some((path, version)) if !version.is_empty() => path,
        Some(_) => return false,
        None => rest,
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (Some(kind), Some(name)) = (segments.first(), segments.last()) else { return false };
    let kind_ok = kind.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && kind.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'));
    kind_ok && segments.len() >= 2 && !name.is_empty()
}

/// 6.1.13: every package URL in the product tree is valid.
fn purls(document: &Value) -> Vec<Problem> {
    fn walk(node: &Value, path: &str, problems: &mut Vec<Problem>) {
        match node {
            Value::Object(map) => {
                for (key, value) in map {
                    let here = format!("{path}/{key}");
                    if key == "purl"
                        && let Some(purl) = value.as_str()
                        && !valid_purl(purl)
                    {
                        problems.push(Problem {
                            test: "6.1.13".into(),
                            path: here.clone(),
                            message: format!("`{purl}` is not a valid package URL"),
                        });
                    }
                    walk(value, &here, problems);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}/{index}"), problems);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    if let Some(tree) = document.get("product_tree") {
        walk(tree, "/product_tree", &mut problems);
    }
    problems
}

/// 6.1.21: sorted by number, the revision history starts at 0 or 1 and
/// skips no (major) version.
fn missing_revisions(document: &Value) -> Vec<Problem> {
    let history = document.pointer("/document/tracking/revision_history").and_then(Value::as_array);
    let mut majors: Vec<u64> = history
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("number").and_then(Value::as_str))
        .filter_map(Version::parse)
        .filter_map(|version| version.numbers.first().copied())
        .collect();
    majors.sort_unstable();
    majors.dedup();
    let mut problems = Vec::new();
    if let Some(first) = majors.first()
        && *first > 1
    {
        problems.push(Problem {
            test: "6.1.21".into(),
            path: "/document/tracking/revision_history".into(),
            message: format!("the history starts at version {first}, not 0 or 1"),
        });
    }
    for pair in majors.windows(2) {
        if pair[1] > pair[0] + 1 {
            problems.push(Problem {
                test: "6.1.21".into(),
                path: "/document/tracking/revision_history".into(),
                message: format!("versions between {} and {} are missing", pair[0], pair[1]),
            });
        }
    }
    problems
}

/// 6.1.15: a translation names the language it was translated from.
fn translator(document: &Value) -> Vec<Problem> {
    let translator = document.pointer("/document/publisher/category").and_then(Value::as_str) == Some("translator");
    if translator && document.pointer("/document/source_lang").is_none() {
        vec![Problem {
            test: "6.1.15".into(),
            path: "/document/source_lang".into(),
            message: "a translator's document needs source_lang".into(),
        }]
    } else {
        Vec::new()
    }
}

/// 6.1.30: the document uses integer or semantic versioning, not both.
fn mixed_versioning(document: &Value) -> Vec<Problem> {
    let tracking = document.pointer("/document/tracking");
    let mut numbers: Vec<(String, &str)> = Vec::new();
    if let Some(version) = tracking.and_then(|t| t.get("version")).and_then(Value::as_str) {
        numbers.push(("/document/tracking/version".into(), version));
    }
    for (index, item) in tracking.and_then(|t| t.get("revision_history")).and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(number) = item.get("number").and_then(Value::as_str) {
            numbers.push((format!("/document/tracking/revision_history/{index}/number"), number));
        }
    }
    let integer = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    let first_is_integer = numbers.first().map(|(_, n)| integer(n));
    numbers
        .iter()
        .filter(|(_, number)| Some(integer(number)) != first_is_integer)
        .map(|(path, number)| Problem {
            test: "6.1.30".into(),
            path: path.clone(),
            message: format!("`{number}` mixes integer and semantic versioning"),
        })
        .collect()
}

/// 6.1.31: a product version names one version, not a range.
fn version_ranges(document: &Value) -> Vec<Problem> {
    const RANGE_WORDS: [&str; 8] = ["after", "all", "before", "earlier", "later", "prior", "versions", "version"];
    fn walk(node: &Value, path: &str, problems: &mut Vec<Problem>) {
        if let Some(branches) = node.get("branches").and_then(Value::as_array) {
            for (index, branch) in branches.iter().enumerate() {
                let here = format!("{path}/branches/{index}");
                if branch.get("category").and_then(Value::as_str) == Some("product_version")
                    && let Some(name) = branch.get("name").and_then(Value::as_str)
                {
                    let lower = name.to_lowercase();
                    let symbol = ['<', '>'].iter().any(|c| lower.contains(*c));
                    let word = lower.split_whitespace().any(|w| RANGE_WORDS.contains(&w));
                    if symbol || word {
                        problems.push(Problem {
                            test: "6.1.31".into(),
                            path: format!("{here}/name"),
                            message: format!("`{name}` is a version range; use product_version_range"),
                        });
                    }
                }
                walk(branch, &here, problems);
            }
        }
    }
    let mut problems = Vec::new();
    if let Some(tree) = document.get("product_tree") {
        walk(tree, "/product_tree", &mut problems);
    }
    problems
}

/// A document or revision version: integer versioning or semantic
/// versioning, compared as CSAF section 3.1.11 defines (build metadata
/// ignored, a pre-release before its release).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    numbers: Vec<u64>,
    pre_release: Option<String>,
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let without_build = text.split('+').next().unwrap_or("");
        let (core, pre) = match without_build.split_once('-') {
            Some((core, pre)) => (core, Some(pre.to_owned())),
            None => (without_build, None),
        };
        let numbers = core.split('.').map(|n| n.parse::<u64>().ok()).collect::<Option<Vec<_>>>()?;
        (numbers.len() == 1 || numbers.len() == 3).then_some(Version { numbers, pre_release: pre })
    }

    fn is_zero_major(&self) -> bool {
        self.numbers.first() == Some(&0)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| match (&self.pre_release, &other.pre_release) {
            (None, None) => std::cmp::Ordering::Equal,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        })
    }
}

/// 6.1.14, 6.1.16 to 6.1.20: the revision history and the document version
/// and status agree.
fn versions(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |test: &str, path: &str, message: String| problems.push(Problem { test: test.into(), path: path.into(), message });
    let tracking = document.pointer("/document/tracking");
    let status = tracking.and_then(|t| t.get("status")).and_then(Value::as_str).unwrap_or("");
    let version_text = tracking.and_then(|t| t.get("version")).and_then(Value::as_str).unwrap_or("");
    let version = Version::parse(version_text);
    let history: Vec<(usize, String, Option<Version>, String)> = tracking
        .and_then(|t| t.get("revision_history"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, item)| {
            let number = item.get("number").and_then(Value::as_str).unwrap_or("").to_owned();
            let date = item.get("date").and_then(Value::as_str).unwrap_or("").to_owned();
            (index, date, Version::parse(&number), number)
        })
        .collect();
    // 6.1.14: sorted by date, the numbers ascend.
    let mut by_date: Vec<_> = history.iter().filter(|(_, _, v, _)| v.is_some()).collect();
    by_date.sort_by(|a, b| {
        let (da, db) = (rampart_core::time::parse(&a.1), rampart_core::time::parse(&b.1));
        // Entries of the same moment are in number order.
        da.cmp(&db).then_with(|| a.2.cmp(&b.2))
    });
    for pair in by_date.windows(2) {
        if pair[0].2 > pair[1].2 {
            problem(
                "6.1.14",
                &format!("/document/tracking/revision_history/{}/number", pair[1].0),
                format!("revision {} is dated after revision {} but numbered lower", pair[1].3, pair[0].3),
            );
        }
    }
    // 6.1.16: the document version is the latest revision's number (build
    // metadata aside), unless the document is a draft.
    if let (Some(version), Some(latest)) = (&version, by_date.last())
        && status != "draft"
        && latest.2.as_ref() != Some(version)
    {
        problem("6.1.16", "/document/tracking/version", format!("version {version_text} is not the latest revision {}", latest.3));
    }
    if let Some(version) = &version {
        // 6.1.17: versions 0.x.y and pre-releases are drafts.
        if (version.is_zero_major() || version.pre_release.is_some()) && status != "draft" {
            problem("6.1.17", "/document/tracking/status", format!("version {version_text} must have the status draft"));
        }
        // 6.1.20: a final or interim document has no pre-release version.
        if version.pre_release.is_some() && matches!(status, "final" | "interim") {
            problem(
                "6.1.20",
                "/document/tracking/version",
                format!("a {status} document cannot have the pre-release version {version_text}"),
            );
        }
    }
    for (index, _, number, text) in &history {
        let Some(number) = number else { continue };
        // 6.1.18: a released document has no revision 0 or 0.y.z.
        if number.is_zero_major() && matches!(status, "final" | "interim") {
            problem(
                "6.1.18",
                &format!("/document/tracking/revision_history/{index}/number"),
                format!("a {status} document lists the unreleased revision {text}"),
            );
        }
        // 6.1.19: the history lists no pre-release.
        if number.pre_release.is_some() {
            problem("6.1.19", &format!("/document/tracking/revision_history/{index}/number"), format!("revision {text} is a pre-release"));
        }
    }
    problems
}

/// 6.1.26: a document of the base profile may not use a profile's name or
/// title, in any case or spelling of `_`, `-` and spaces, as its category;
/// only the exact profile names are those profiles.
fn category_name(document: &Value) -> Vec<Problem> {
    const PROFILES: [(&str, &str); 5] = [
        ("csaf_base", "CSAF Base"),
        ("csaf_security_incident_response", "Security Incident Response"),
        ("csaf_informational_advisory", "Informational Advisory"),
        ("csaf_security_advisory", "Security Advisory"),
        ("csaf_vex", "VEX"),
    ];
    let Some(category) = document.pointer("/document/category").and_then(Value::as_str) else { return Vec::new() };
    if PROFILES.iter().any(|(name, _)| *name == category) {
        return Vec::new();
    }
    let normalise = |text: &str| text.to_lowercase().replace(['_', '-', ' '], "");
    let normalised = normalise(category);
    let clash = PROFILES.iter().find(|(name, title)| {
        let bare = name.trim_start_matches("csaf_");
        normalised == normalise(name) || normalised == normalise(title) || (*name != "csaf_base" && normalised == normalise(bare))
    });
    match clash {
        Some((name, _)) => vec![Problem {
            test: "6.1.26".into(),
            path: "/document/category".into(),
            message: format!("`{category}` is too close to the profile {name}; use that profile or another name"),
        }],
        None => Vec::new(),
    }
}

/// The FIRST CVSS schemas in their strict form, by CVSS version.
fn strict_validator(version: &str) -> Option<&'static Validator> {
    static V2: OnceLock<Option<Validator>> = OnceLock::new();
    static V30: OnceLock<Option<Validator>> = OnceLock::new();
    static V31: OnceLock<Option<Validator>> = OnceLock::new();
    let (cell, text) = match version {
        "2.0" => (&V2, include_str!("../data/csaf/cvss-v2.0_strict.json")),
        "3.0" => (&V30, include_str!("../data/csaf/cvss-v3.0_strict.json")),
        "3.1" => (&V31, include_str!("../data/csaf/cvss-v3.1_strict.json")),
        _ => return None,
    };
    cell.get_or_init(|| serde_json::from_str::<Value>(text).ok().and_then(|schema| jsonschema::validator_for(&schema).ok())).as_ref()
}

/// 6.1.8: every CVSS object is valid against FIRST's strict schema.
fn strict_cvss(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        for (s, score) in vulnerability.get("scores").and_then(Value::as_array).into_iter().flatten().enumerate() {
            for kind in ["cvss_v2", "cvss_v3"] {
                let Some(cvss) = score.get(kind) else { continue };
                // Without a usable version, judge by the kind of object and
                // the vector's own prefix, so a missing version is reported.
                let from_vector =
                    cvss.get("vectorString").and_then(Value::as_str).and_then(|v| v.strip_prefix("CVSS:")).and_then(|v| v.get(..3));
                let fallback = if kind == "cvss_v2" { Some("2.0") } else { from_vector.or(Some("3.1")) };
                let version =
                    cvss.get("version").and_then(Value::as_str).filter(|v| strict_validator(v).is_some()).or(fallback).unwrap_or("");
                let Some(validator) = strict_validator(version) else { continue };
                for error in validator.iter_errors(cvss) {
                    problems.push(Problem {
                        test: "6.1.8".into(),
                        path: format!("/vulnerabilities/{v}/scores/{s}/{kind}{}", error.instance_path()),
                        message: error.to_string(),
                    });
                }
            }
        }
    }
    problems
}

/// The vector abbreviation of each CVSS property, by CVSS major version.
const CVSS3_METRICS: [(&str, &str); 22] = [
    ("attackVector", "AV"),
    ("attackComplexity", "AC"),
    ("privilegesRequired", "PR"),
    ("userInteraction", "UI"),
    ("scope", "S"),
    ("confidentialityImpact", "C"),
    ("integrityImpact", "I"),
    ("availabilityImpact", "A"),
    ("exploitCodeMaturity", "E"),
    ("remediationLevel", "RL"),
    ("reportConfidence", "RC"),
    ("confidentialityRequirement", "CR"),
    ("integrityRequirement", "IR"),
    ("availabilityRequirement", "AR"),
    ("modifiedAttackVector", "MAV"),
    ("modifiedAttackComplexity", "MAC"),
    ("modifiedPrivilegesRequired", "MPR"),
    ("modifiedUserInteraction", "MUI"),
    ("modifiedScope", "MS"),
    ("modifiedConfidentialityImpact", "MC"),
    ("modifiedIntegrityImpact", "MI"),
    ("modifiedAvailabilityImpact", "MA"),
];

/// A CVSS v3 property value as it is written in a vector.
fn cvss3_letter(value: &str) -> String {
    if value == "NOT_DEFINED" { "X".into() } else { value.chars().next().map(String::from).unwrap_or_default() }
}

/// (property, vector abbreviation, value names and their vector letters)
type Cvss2Metric = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

const CVSS2_METRICS: [Cvss2Metric; 6] = [
    ("accessVector", "AV", &[("NETWORK", "N"), ("ADJACENT_NETWORK", "A"), ("LOCAL", "L")]),
    ("accessComplexity", "AC", &[("HIGH", "H"), ("MEDIUM", "M"), ("LOW", "L")]),
    ("authentication", "Au", &[("MULTIPLE", "M"), ("SINGLE", "S"), ("NONE", "N")]),
    ("confidentialityImpact", "C", &[("NONE", "N"), ("PARTIAL", "P"), ("COMPLETE", "C")]),
    ("integrityImpact", "I", &[("NONE", "N"), ("PARTIAL", "P"), ("COMPLETE", "C")]),
    ("availabilityImpact", "A", &[("NONE", "N"), ("PARTIAL", "P"), ("COMPLETE", "C")]),
];

/// 6.1.10: properties given beside the vector say what the vector says.
fn inconsistent_cvss(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let parts = |vector: &str| -> BTreeMap<String, String> {
        vector.split('/').filter_map(|part| part.split_once(':')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    };
    for (v, vulnerability) in vulnerabilities(document) {
        for (s, score) in vulnerability.get("scores").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(cvss) = score.get("cvss_v3")
                && let Some(vector) = cvss.get("vectorString").and_then(Value::as_str)
            {
                let in_vector = parts(vector);
                for (property, abbreviation) in CVSS3_METRICS {
                    if let (Some(value), Some(letter)) = (cvss.get(property).and_then(Value::as_str), in_vector.get(abbreviation))
                        && cvss3_letter(value) != *letter
                    {
                        problems.push(Problem {
                            test: "6.1.10".into(),
                            path: format!("/vulnerabilities/{v}/scores/{s}/cvss_v3/{property}"),
                            message: format!("{property} is {value} but the vector says {abbreviation}:{letter}"),
                        });
                    }
                }
            }
            if let Some(cvss) = score.get("cvss_v2")
                && let Some(vector) = cvss.get("vectorString").and_then(Value::as_str)
            {
                let in_vector = parts(vector);
                for (property, abbreviation, values) in CVSS2_METRICS {
                    let expected =
                        cvss.get(property).and_then(Value::as_str).and_then(|value| values.iter().find(|(name, _)| *name == value));
                    if let (Some((value, letter)), Some(found)) = (expected, in_vector.get(abbreviation))
                        && letter != found
                    {
                        problems.push(Problem {
                            test: "6.1.10".into(),
                            path: format!("/vulnerabilities/{v}/scores/{s}/cvss_v2/{property}"),
                            message: format!("{property} is {value} but the vector says {abbreviation}:{found}"),
                        });
                    }
                }
            }
        }
    }
    problems
}

/// 6.1.28: a translation's language differs from its source language.
fn translation(document: &Value) -> Vec<Problem> {
    let lang = document.pointer("/document/lang").and_then(Value::as_str);
    let source = document.pointer("/document/source_lang").and_then(Value::as_str);
    match (lang, source) {
        (Some(lang), Some(source)) if lang.eq_ignore_ascii_case(source) => vec![Problem {
            test: "6.1.28".into(),
            path: "/document/source_lang".into(),
            message: format!("the document language {lang} is the same as its source language"),
        }],
        _ => Vec::new(),
    }
}

/// 6.1.33: at most one VEX justification flag per product and vulnerability.
fn repeated_vex_flags(document: &Value) -> Vec<Problem> {
    let groups = group_members(document);
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        let mut flagged = BTreeSet::new();
        for (f, flag) in vulnerability.get("flags").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let mut products: BTreeSet<&str> =
                flag.get("product_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            for group in flag.get("group_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                products.extend(groups.get(group).into_iter().flatten().copied());
            }
            for product in products {
                if !flagged.insert(product) {
                    problems.push(Problem {
                        test: "6.1.33".into(),
                        path: format!("/vulnerabilities/{v}/flags/{f}"),
                        message: format!("product `{product}` has more than one VEX justification"),
                    });
                }
            }
        }
    }
    problems
}

/// 6.1.27.1 to 6.1.27.11: what each document category (profile) requires.
fn profiles(document: &Value) -> Vec<Problem> {
    let category = document.pointer("/document/category").and_then(Value::as_str).unwrap_or("");
    let informational = category == "csaf_informational_advisory";
    let incident = category == "csaf_security_incident_response";
    let advisory = category == "csaf_security_advisory";
    let vex = category == "csaf_vex";
    let mut problems = Vec::new();
    let mut problem = |test: &str, path: String, message: &str| problems.push(Problem { test: test.into(), path, message: message.into() });
    if informational || incident {
        let notes = document.pointer("/document/notes").and_then(Value::as_array);
        let has_note = notes
            .into_iter()
            .flatten()
            .any(|n| matches!(n.get("category").and_then(Value::as_str), Some("description" | "details" | "general" | "summary")));
        if !has_note {
            problem("6.1.27.1", "/document/notes".into(), "the profile needs a note of category description, details, general or summary");
        }
        let references = document.pointer("/document/references").and_then(Value::as_array);
        if !references.into_iter().flatten().any(|r| r.get("category").and_then(Value::as_str) == Some("external")) {
            problem("6.1.27.2", "/document/references".into(), "the profile needs an external reference");
        }
    }
    if informational && document.get("vulnerabilities").is_some() {
        problem("6.1.27.3", "/vulnerabilities".into(), "an informational advisory has no vulnerabilities");
    }
    if advisory || vex {
        if document.get("product_tree").is_none() {
            problem("6.1.27.4", "/product_tree".into(), "the profile needs a product tree");
        }
        if document.get("vulnerabilities").is_none() {
            problem("6.1.27.11", "/vulnerabilities".into(), "the profile needs vulnerabilities");
        }
        for (v, vulnerability) in vulnerabilities(document) {
            if vulnerability.get("notes").is_none() {
                problem("6.1.27.5", format!("/vulnerabilities/{v}/notes"), "each vulnerability needs notes");
            }
            if vulnerability.get("product_status").is_none() {
                problem("6.1.27.6", format!("/vulnerabilities/{v}/product_status"), "each vulnerability needs a product status");
            }
        }
    }
    if vex {
        let groups = group_members(document);
        for (v, vulnerability) in vulnerabilities(document) {
            let status = vulnerability.get("product_status");
            let has_vex_status = ["fixed", "known_affected", "known_not_affected", "under_investigation"]
                .iter()
                .any(|key| status.and_then(|s| s.get(*key)).is_some());
            if !has_vex_status {
                problem(
                    "6.1.27.7",
                    format!("/vulnerabilities/{v}/product_status"),
                    "a VEX product status needs fixed, known_affected, known_not_affected or under_investigation",
                );
            }
            if vulnerability.get("cve").is_none() && vulnerability.get("ids").is_none() {
                problem("6.1.27.8", format!("/vulnerabilities/{v}"), "a VEX vulnerability needs a cve or ids");
            }
            // Products an item covers, directly or through its groups.
            let covered = |items: Option<&Value>, only: &dyn Fn(&Value) -> bool| -> BTreeSet<String> {
                let mut out = BTreeSet::new();
                for item in items.and_then(Value::as_array).into_iter().flatten().filter(|i| only(i)) {
                    for id in item.get("product_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                        out.insert(id.to_owned());
                    }
                    for group in item.get("group_ids").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                        for id in groups.get(group).into_iter().flatten() {
                            out.insert((*id).to_owned());
                        }
                    }
                }
                out
            };
            let mut explained = covered(vulnerability.get("flags"), &|_| true);
            explained.extend(covered(vulnerability.get("threats"), &|t| t.get("category").and_then(Value::as_str) == Some("impact")));
            let status_list = |key: &str| -> Vec<(usize, String)> {
                status
                    .and_then(|s| s.get(key))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter_map(|(i, id)| id.as_str().map(|id| (i, id.to_owned())))
                    .collect()
            };
            for (index, id) in status_list("known_not_affected") {
                if !explained.contains(&id) {
                    problem(
                        "6.1.27.9",
                        format!("/vulnerabilities/{v}/product_status/known_not_affected/{index}"),
                        "a product known not to be affected needs an impact statement",
                    );
                }
            }
            let remedied = covered(vulnerability.get("remediations"), &|_| true);
            for (index, id) in status_list("known_affected") {
                if !remedied.contains(&id) {
                    problem(
                        "6.1.27.10",
                        format!("/vulnerabilities/{v}/product_status/known_affected/{index}"),
                        "an affected product needs an action statement (remediation)",
                    );
                }
            }
        }
    }
    problems
}

/// 6.1.3: a relationship may not define a product id from itself.
fn circular_relationships(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let relationships = document.pointer("/product_tree/relationships").and_then(Value::as_array);
    for (index, relationship) in relationships.into_iter().flatten().enumerate() {
        let Some(id) = relationship.pointer("/full_product_name/product_id").and_then(Value::as_str) else { continue };
        for key in ["product_reference", "relates_to_product_reference"] {
            if relationship.get(key).and_then(Value::as_str) == Some(id) {
                problems.push(Problem {
                    test: "6.1.3".into(),
                    path: format!("/product_tree/relationships/{index}/{key}"),
                    message: format!("product `{id}` is defined from itself"),
                });
            }
        }
    }
    problems
}

/// 6.1.7: at most one score of each CVSS version per product.
fn repeated_score_versions(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for (s, score) in vulnerability.get("scores").and_then(Value::as_array).into_iter().flatten().enumerate() {
            for kind in ["cvss_v2", "cvss_v3"] {
                let Some(version) = score.pointer(&format!("/{kind}/version")).and_then(Value::as_str) else { continue };
                for product in score.get("products").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
                    if !seen.insert((product.to_owned(), version.to_owned())) {
                        problems.push(Problem {
                            test: "6.1.7".into(),
                            path: format!("/vulnerabilities/{v}/scores/{s}"),
                            message: format!("product `{product}` has more than one CVSS {version} score"),
                        });
                    }
                }
            }
        }
    }
    problems
}

/// 6.1.22: each revision number appears once in the revision history.
fn repeated_revisions(document: &Value) -> Vec<Problem> {
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    let history = document.pointer("/document/tracking/revision_history").and_then(Value::as_array);
    for (index, revision) in history.into_iter().flatten().enumerate() {
        if let Some(number) = revision.get("number").and_then(Value::as_str)
            && !seen.insert(number)
        {
            problems.push(Problem {
                test: "6.1.22".into(),
                path: format!("/document/tracking/revision_history/{index}/number"),
                message: format!("revision {number} appears more than once"),
            });
        }
    }
    problems
}

/// 6.1.24: the same party and date appear once in a vulnerability's involvements.
fn repeated_involvements(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        let mut seen = BTreeSet::new();
        for (index, involvement) in vulnerability.get("involvements").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let party = involvement.get("party").and_then(Value::as_str).unwrap_or("");
            let date = involvement.get("date").and_then(Value::as_str).unwrap_or("");
            if involvement.get("date").is_some() && !seen.insert((party, date)) {
                problems.push(Problem {
                    test: "6.1.24".into(),
                    path: format!("/vulnerabilities/{v}/involvements/{index}"),
                    message: format!("party {party} at {date} is listed more than once"),
                });
            }
        }
    }
    problems
}

/// 6.1.25: within one file's hashes, each algorithm is used once.
fn repeated_hash_algorithms(document: &Value) -> Vec<Problem> {
    fn walk(node: &Value, path: &str, problems: &mut Vec<Problem>) {
        match node {
            Value::Object(map) => {
                if let Some(hashes) = map.get("hashes").and_then(Value::as_array) {
                    for (h, hash) in hashes.iter().enumerate() {
                        let mut seen = BTreeSet::new();
                        for (f, file_hash) in hash.get("file_hashes").and_then(Value::as_array).into_iter().flatten().enumerate() {
                            if let Some(algorithm) = file_hash.get("algorithm").and_then(Value::as_str)
                                && !seen.insert(algorithm)
                            {
                                problems.push(Problem {
                                    test: "6.1.25".into(),
                                    path: format!("{path}/hashes/{h}/file_hashes/{f}"),
                                    message: format!("the {algorithm} hash is given more than once"),
                                });
                            }
                        }
                    }
                }
                for (key, value) in map {
                    walk(value, &format!("{path}/{key}"), problems);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}/{index}"), problems);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    if let Some(tree) = document.get("product_tree") {
        walk(tree, "/product_tree", &mut problems);
    }
    problems
}

/// Product group id → the product ids it names.
fn group_members(document: &Value) -> BTreeMap<&str, Vec<&str>> {
    document
        .pointer("/product_tree/product_groups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|g| Some((g.get("group_id")?.as_str()?, g.get("product_ids")?.as_array()?.iter().filter_map(Value::as_str).collect())))
        .collect()
}

fn vulnerabilities(document: &Value) -> impl Iterator<Item = (usize, &Value)> {
    document.get("vulnerabilities").and_then(Value::as_array).into_iter().flatten().enumerate()
}

/// 6.1.4 (every group id used is defined) and 6.1.5 (defined once).
fn product_groups(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut defined: BTreeMap<String, String> = BTreeMap::new();
    let groups = document.pointer("/product_tree/product_groups").and_then(Value::as_array);
    for (index, group) in groups.into_iter().flatten().enumerate() {
        if let Some(id) = group.get("group_id").and_then(Value::as_str) {
            let path = format!("/product_tree/product_groups/{index}/group_id");
            if let Some(first) = defined.insert(id.to_owned(), path.clone()) {
                problems.push(Problem {
                    test: "6.1.5".into(),
                    path,
                    message: format!("group id `{id}` is defined again (first at {first})"),
                });
            }
        }
    }
    for (v, vulnerability) in vulnerabilities(document) {
        for list in ["remediations", "threats", "flags"] {
            for (index, item) in vulnerability.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
                for (g, id) in item.get("group_ids").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    if let Some(id) = id.as_str()
                        && !defined.contains_key(id)
                    {
                        problems.push(Problem {
                            test: "6.1.4".into(),
                            path: format!("/vulnerabilities/{v}/{list}/{index}/group_ids/{g}"),
                            message: format!("group id `{id}` is used but never defined"),
                        });
                    }
                }
            }
        }
    }
    problems
}

/// 6.1.6: a product cannot be affected, not affected, fixed and under
/// investigation in more than one of these groups at once.
fn contradicting_status(document: &Value) -> Vec<Problem> {
    const GROUPS: [(&str, &[&str]); 4] = [
        ("affected", &["first_affected", "known_affected", "last_affected"]),
        ("not affected", &["known_not_affected"]),
        ("fixed", &["first_fixed", "fixed"]),
        ("under investigation", &["under_investigation"]),
    ];
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        let mut group_of: BTreeMap<&str, &str> = BTreeMap::new();
        for (group, keys) in GROUPS {
            for key in keys {
                for (index, id) in
                    vulnerability.pointer(&format!("/product_status/{key}")).and_then(Value::as_array).into_iter().flatten().enumerate()
                {
                    let Some(id) = id.as_str() else { continue };
                    match group_of.get(id) {
                        Some(other) if *other != group => problems.push(Problem {
                            test: "6.1.6".into(),
                            path: format!("/vulnerabilities/{v}/product_status/{key}/{index}"),
                            message: format!("product `{id}` is both {other} and {group}"),
                        }),
                        _ => {
                            group_of.insert(id, group);
                        }
                    }
                }
            }
        }
    }
    problems
}

/// 6.1.23: a CVE id appears in one vulnerability only.
fn repeated_cves(document: &Value) -> Vec<Problem> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        if let Some(cve) = vulnerability.get("cve").and_then(Value::as_str)
            && let Some(first) = seen.insert(cve, v)
        {
            problems.push(Problem {
                test: "6.1.23".into(),
                path: format!("/vulnerabilities/{v}/cve"),
                message: format!("{cve} is already used by vulnerability {first}"),
            });
        }
    }
    problems
}

/// 6.1.29 and 6.1.32: every remediation and every flag names the products
/// (or product groups) it applies to.
fn unreferenced_items(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (v, vulnerability) in vulnerabilities(document) {
        for (list, test) in [("remediations", "6.1.29"), ("flags", "6.1.32")] {
            for (index, item) in vulnerability.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
                if item.get("product_ids").is_none() && item.get("group_ids").is_none() {
                    problems.push(Problem {
                        test: test.into(),
                        path: format!("/vulnerabilities/{v}/{list}/{index}"),
                        message: "names neither product_ids nor group_ids".into(),
                    });
                }
            }
        }
    }
    problems
}

/// Where product ids are defined: full product names in the tree, in its
/// branches and in relationships.
fn definitions(document: &Value) -> Vec<(String, String)> {
    fn branches(node: &Value, path: &str, out: &mut Vec<(String, String)>) {
        if let Some(items) = node.get("branches").and_then(Value::as_array) {
            for (index, branch) in items.iter().enumerate() {
                let here = format!("{path}/branches/{index}");
                if let Some(id) = branch.pointer("/product/product_id").and_then(Value::as_str) {
                    out.push((id.to_owned(), format!("{here}/product/product_id")));
                }
                branches(branch, &here, out);
            }
        }
    }
    let mut out = Vec::new();
    let Some(tree) = document.get("product_tree") else { return out };
    branches(tree, "/product_tree", &mut out);
    for (index, product) in tree.get("full_product_names").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(id) = product.get("product_id").and_then(Value::as_str) {
            out.push((id.to_owned(), format!("/product_tree/full_product_names/{index}/product_id")));
        }
    }
    for (index, relationship) in tree.get("relationships").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(id) = relationship.pointer("/full_product_name/product_id").and_then(Value::as_str) {
            out.push((id.to_owned(), format!("/product_tree/relationships/{index}/full_product_name/product_id")));
        }
    }
    out
}

/// Where product ids are used.
fn references(document: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push_all = |value: Option<&Value>, path: String| {
        for (index, id) in value.and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(id) = id.as_str() {
                out.push((id.to_owned(), format!("{path}/{index}")));
            }
        }
    };
    if let Some(tree) = document.get("product_tree") {
        for (index, group) in tree.get("product_groups").and_then(Value::as_array).into_iter().flatten().enumerate() {
            push_all(group.get("product_ids"), format!("/product_tree/product_groups/{index}/product_ids"));
        }
    }
    let mut single = Vec::new();
    if let Some(tree) = document.get("product_tree") {
        for (index, relationship) in tree.get("relationships").and_then(Value::as_array).into_iter().flatten().enumerate() {
            for key in ["product_reference", "relates_to_product_reference"] {
                if let Some(id) = relationship.get(key).and_then(Value::as_str) {
                    single.push((id.to_owned(), format!("/product_tree/relationships/{index}/{key}")));
                }
            }
        }
    }
    for (v, vulnerability) in document.get("vulnerabilities").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let base = format!("/vulnerabilities/{v}");
        if let Some(status) = vulnerability.get("product_status").and_then(Value::as_object) {
            for (key, ids) in status {
                push_all(Some(ids), format!("{base}/product_status/{key}"));
            }
        }
        for (list, field) in [("remediations", "product_ids"), ("scores", "products"), ("threats", "product_ids"), ("flags", "product_ids")]
        {
            for (index, item) in vulnerability.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
                push_all(item.get(field), format!("{base}/{list}/{index}/{field}"));
            }
        }
    }
    out.extend(single);
    out
}

/// 6.1.1 (every product id used is defined) and 6.1.2 (defined once).
fn product_ids(document: &Value) -> Vec<Problem> {
    let defined = definitions(document);
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for (id, path) in &defined {
        if let Some(first) = seen.insert(id, path) {
            problems.push(Problem {
                test: "6.1.2".into(),
                path: path.clone(),
                message: format!("product id `{id}` is defined again (first at {first})"),
            });
        }
    }
    let known: BTreeSet<&str> = defined.iter().map(|(id, _)| id.as_str()).collect();
    for (id, path) in references(document) {
        if !known.contains(id.as_str()) {
            problems.push(Problem { test: "6.1.1".into(), path, message: format!("product id `{id}` is used but never defined") });
        }
    }
    problems
}

/// 6.1.9: the base score and severity of a CVSS v3 entry must be what its
/// vector computes to (computed by the `cvss` crate).
fn cvss_scores(document: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (v, vulnerability) in document.get("vulnerabilities").and_then(Value::as_array).into_iter().flatten().enumerate() {
        for (s, score) in vulnerability.get("scores").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(cvss) = score.get("cvss_v2")
                && let Some(vector) = cvss.get("vectorString").and_then(Value::as_str)
            {
                let path = format!("/vulnerabilities/{v}/scores/{s}/cvss_v2");
                match cvss::v2::Vector::from_str(vector) {
                    Ok(parsed) => {
                        let computed = parsed.score().value();
                        if let Some(stated) = cvss.get("baseScore").and_then(Value::as_f64)
                            && (stated - computed).abs() > 0.05
                        {
                            problems.push(Problem {
                                test: "6.1.9".into(),
                                path: format!("{path}/baseScore"),
                                message: format!("base score {stated} but the vector computes to {computed}"),
                            });
                        }
                    }
                    Err(_) => problems.push(Problem {
                        test: "6.1.9".into(),
                        path: format!("{path}/vectorString"),
                        message: format!("`{vector}` is not a CVSS v2 vector"),
                    }),
                }
            }
            let Some(cvss) = score.get("cvss_v3") else { continue };
            let path = format!("/vulnerabilities/{v}/scores/{s}/cvss_v3");
            let Some(vector) = cvss.get("vectorString").and_then(Value::as_str) else { continue };
            let Ok(parsed) = cvss::v3::Vector::from_str(vector) else {
                problems.push(Problem {
                    test: "6.1.9".into(),
                    path: format!("{path}/vectorString"),
                    message: format!("`{vector}` is not a CVSS v3 vector"),
                });
                continue;
            };
            let computed = parsed.base_score().value();
            if let Some(stated) = cvss.get("baseScore").and_then(Value::as_f64)
                && (stated - computed).abs() > 0.05
            {
                problems.push(Problem {
                    test: "6.1.9".into(),
                    path: format!("{path}/baseScore"),
                    message: format!("base score {stated} but the vector computes to {computed}"),
                });
            }
            let severity = parsed.base_score().severity().to_string().to_ascii_uppercase();
            if let Some(stated) = cvss.get("baseSeverity").and_then(Value::as_str)
                && !stated.eq_ignore_ascii_case(&severity)
            {
                problems.push(Problem {
                    test: "6.1.9".into(),
                    path: format!("{path}/baseSeverity"),
                    message: format!("severity {stated} but the vector computes to {severity}"),
                });
            }
        }
    }
    problems
}

/// A CVSS base score as computed by the `cvss` crate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvssScore {
    /// `3.0`, `3.1` or `4.0`.
    pub version: &'static str,
    pub vector: String,
    pub score: f64,
    /// `NONE`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`.
    pub severity: String,
}

/// The base score and severity of a CVSS v3.0, v3.1 or v4.0 vector.
pub fn cvss_base(vector: &str) -> Result<CvssScore, String> {
    let vector = vector.trim();
    // The parser accepts a vector with base metrics missing; a score needs them all.
    let required: &[&str] = if vector.starts_with("CVSS:4.0/") {
        &["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"]
    } else {
        &["AV", "AC", "PR", "UI", "S", "C", "I", "A"]
    };
    let present: Vec<&str> = vector.split('/').skip(1).filter_map(|part| part.split(':').next()).collect();
    let missing: Vec<&str> = required.iter().copied().filter(|metric| !present.contains(metric)).collect();
    if vector.starts_with("CVSS:") && !missing.is_empty() {
        return Err(format!("base metric(s) missing: {}", missing.join(", ")));
    }
    if vector.starts_with("CVSS:4.0/") {
        let parsed = cvss::v4::Vector::from_str(vector).map_err(|err| format!("not a valid CVSS v4.0 vector: {err}"))?;
        let score = parsed.score();
        let value = score.clone().value();
        let severity = score.severity().to_string().to_ascii_uppercase();
        return Ok(CvssScore { version: "4.0", vector: parsed.to_string(), score: value, severity });
    }
    let version = match vector.get(..9) {
        Some("CVSS:3.1/") => "3.1",
        Some("CVSS:3.0/") => "3.0",
        _ => return Err("a vector starts with CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/".into()),
    };
    let parsed = cvss::v3::Vector::from_str(vector).map_err(|err| format!("not a valid CVSS v{version} vector: {err}"))?;
    let score = parsed.base_score();
    Ok(CvssScore { version, vector: parsed.to_string(), score: score.value(), severity: score.severity().to_string().to_ascii_uppercase() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_and_package_urls() {
        for good in ["en", "en-US", "de-CH-1996", "ar", "zh-Hant-TW", "x-private", "kln"] {
            assert!(valid_language_tag(good), "{good}");
        }
        for bad in ["EZ", "", "english", "e", "en--US", "xx"] {
            assert!(!valid_language_tag(bad), "{bad}");
        }
        for good in ["pkg:maven/org.apache/commons@1.3.4", "pkg:npm/left-pad", "pkg:deb/debian/curl@7.50.3-1?arch=i386#sub/path"] {
            assert!(valid_purl(good), "{good}");
        }
        for bad in ["pkg:maven/@1.3.4", "maven/x@1", "pkg:", "pkg:npm/", "pkg:1npm/x", "pkg:npm/x@"] {
            assert!(!valid_purl(bad), "{bad}");
        }
    }

    #[test]
    fn cwe_catalogue() {
        assert_eq!(cwe_name("CWE-79"), Some("Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"));
        assert_eq!(cwe_name("CWE-20"), Some("Improper Input Validation"));
        for unknown in ["CWE-0", "CWE-1", "CWE-x", "79", "CWE-99999999999"] {
            assert_eq!(cwe_name(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn cvss_calculator() {
        let base = |v: &str| cvss_base(v).map(|s| (s.version, s.score, s.severity));
        assert_eq!(base("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Ok(("3.1", 9.8, "CRITICAL".into())));
        assert_eq!(base("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"), Ok(("3.1", 1.8, "LOW".into())));
        assert_eq!(base("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N"), Ok(("3.0", 6.4, "MEDIUM".into())));
        // The same scores as the `cvss` package from PyPI (Red Hat's) gives.
        assert_eq!(base("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"), Ok(("4.0", 9.3, "CRITICAL".into())));
        assert_eq!(base("CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"), Ok(("4.0", 1.0, "LOW".into())));
        for bad in [
            "CVSS:3.1/AV:X",
            "CVSS:3.1/AV:N",
            "AV:N/AC:L",
            "CVSS:4.0/AV:N",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "",
        ] {
            assert!(cvss_base(bad).is_err(), "{bad}");
        }
    }
}
