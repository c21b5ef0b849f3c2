//! Security advisories as CSAF 2.0 documents: writing one from structured
//! input, editing its parts, releasing a revision, and the names and labels
//! the trusted-provider layout needs. Pure functions over `serde_json`
//! values; storage and permissions live in `advisories.rs`.
//!
//! The document itself is the record. Structured edits touch only the parts
//! they own, so a document imported from elsewhere keeps everything Rampart
//! does not model and round-trips unchanged.

use crate::CirtError;
use crate::csaf::{self, Problem};
use chrono::{DateTime, Datelike, Utc};
use rampart_core::{Tlp, time};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::str::FromStr;

fn invalid(path: impl Into<String>, message: impl Into<String>) -> CirtError {
    CirtError::Field { path: path.into(), message: message.into() }
}

/// Who publishes: the CIRT, named as CSAF wants it.
#[derive(Debug, Clone)]
pub struct Publisher {
    pub name: String,
    /// The publisher's namespace: the public address of this Rampart.
    pub namespace: String,
    pub contact_details: Option<String>,
}

/// The document-level parts an author sets.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct General {
    pub title: String,
    pub tlp: Tlp,
    /// What the advisory is about, for the summary note.
    pub summary: String,
    #[serde(default = "english")]
    pub lang: String,
    #[serde(default)]
    pub references: Vec<Reference>,
}

fn english() -> String {
    "en".into()
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Reference {
    pub url: String,
    pub summary: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewProduct {
    pub vendor: String,
    pub product: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewVulnerability {
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub cve: Option<String>,
    /// `CWE-79`; the official name is filled in from the catalogue.
    #[serde(default)]
    pub cwe: Option<String>,
    #[serde(default)]
    pub cvss_v3: Option<String>,
    #[serde(default)]
    pub cvss_v4: Option<String>,
    /// Product ids (`CSAFPID-0001`) affected.
    pub known_affected: Vec<String>,
    #[serde(default)]
    pub fixed: Vec<String>,
    #[serde(default)]
    pub remediation: Option<NewRemediation>,
    #[serde(default)]
    pub references: Vec<Reference>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct NewRemediation {
    /// `vendor_fix`, `mitigation`, `workaround`, `none_available` or `no_fix_planned`.
    pub category: String,
    pub details: String,
    #[serde(default)]
    pub url: Option<String>,
}

const REMEDIATION_CATEGORIES: [&str; 5] = ["vendor_fix", "mitigation", "workaround", "none_available", "no_fix_planned"];

/// The CSAF 2.0 label of a TLP 2.0 label (CSAF 2.0 speaks TLP 1.0).
pub fn csaf_label(tlp: Tlp) -> &'static str {
    tlp.as_tlp1()
}

/// The TLP 2.0 label for a CSAF (TLP 1.0) label.
pub fn tlp_from_csaf(label: &str) -> Option<Tlp> {
    match label {
        "WHITE" => Some(Tlp::Clear),
        "GREEN" => Some(Tlp::Green),
        "AMBER" => Some(Tlp::Amber),
        "RED" => Some(Tlp::Red),
        _ => None,
    }
}

/// The document's TLP, if it carries one.
pub fn tlp_of(document: &Value) -> Option<Tlp> {
    document.pointer("/document/distribution/tlp/label").and_then(Value::as_str).and_then(tlp_from_csaf)
}

/// The folder of the provider layout a label is published in (`white`, …).
pub fn tlp_folder(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "white",
        Tlp::Green => "green",
        Tlp::Amber | Tlp::AmberStrict => "amber",
        Tlp::Red => "red",
    }
}

/// CSAF 2.0 section 5.1: the tracking id, lower-cased, with every character
/// outside `+`, `-`, `a-z` and `0-9` replaced by `_`, then `.json`.
pub fn file_name(tracking_id: &str) -> String {
    let stem: String = tracking_id
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '+' || c == '-' { c } else { '_' })
        .collect();
    format!("{stem}.json")
}

/// The CVSS object CSAF carries for a vector, with the score and severity
/// the `cvss` crate computes: `cvss_v3` for 3.0/3.1, `cvss_v4` for 4.0.
pub fn cvss_object(vector: &str) -> Result<(&'static str, Value), String> {
    let score = csaf::cvss_base(vector)?;
    let key = if score.version == "4.0" { "cvss_v4" } else { "cvss_v3" };
    Ok((
        key,
        json!({
            "version": score.version,
            "vectorString": score.vector,
            "baseScore": score.score,
            "baseSeverity": score.severity,
        }),
    ))
}

/// A new draft: the document part, an empty product tree and no
/// vulnerabilities yet. Its one revision-history entry is the draft itself;
/// [`release`] replaces it when the advisory is first published.
pub fn new_document(publisher: &Publisher, tracking_id: &str, general: &General, now: DateTime<Utc>) -> Result<Value, CirtError> {
    let now = time::format(now);
    let mut publisher_json = json!({"category": "coordinator", "name": publisher.name, "namespace": publisher.namespace});
    if let Some(contact) = &publisher.contact_details {
        publisher_json["contact_details"] = json!(contact);
    }
    let mut document = json!({
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "publisher": publisher_json,
            "title": "",
            "tracking": {
                "id": tracking_id,
                "status": "draft",
                "version": "1",
                "initial_release_date": now,
                "current_release_date": now,
                "revision_history": [{"number": "1", "date": now, "summary": "Draft."}],
                "generator": {"engine": {"name": "Rampart", "version": env!("CARGO_PKG_VERSION")}},
            },
        },
    });
    set_general(&mut document, general)?;
    Ok(document)
}

fn check_url(path: &str, url: &str) -> Result<(), CirtError> {
    let ok = (url.starts_with("https://") || url.starts_with("http://")) && url.len() > 8 && !url.chars().any(char::is_whitespace);
    if ok { Ok(()) } else { Err(invalid(path, format!("`{url}` is not an http(s) address"))) }
}

fn references_json(path: &str, references: &[Reference]) -> Result<Value, CirtError> {
    let mut out = Vec::new();
    for (index, reference) in references.iter().enumerate() {
        check_url(&format!("{path}[{index}].url"), reference.url.trim())?;
        if reference.summary.trim().is_empty() {
            return Err(invalid(format!("{path}[{index}].summary"), "say what the reference is"));
        }
        out.push(json!({"category": "external", "url": reference.url.trim(), "summary": reference.summary.trim()}));
    }
    Ok(Value::Array(out))
}

/// Sets the title, TLP, language, summary note and references, keeping any
/// other notes and references the document has.
pub fn set_general(document: &mut Value, general: &General) -> Result<(), CirtError> {
    let title = general.title.trim();
    if title.is_empty() {
        return Err(invalid("title", "an advisory needs a title"));
    }
    if general.summary.trim().is_empty() {
        return Err(invalid("summary", "say in a few sentences what the advisory is about"));
    }
    if !csaf::valid_language_tag(&general.lang) {
        return Err(invalid("lang", format!("`{}` is not a language tag", general.lang)));
    }
    let references = references_json("references", &general.references)?;
    let doc = object_at(document, "document")?;
    doc.insert("title".into(), json!(title));
    doc.insert("lang".into(), json!(general.lang));
    doc.insert("distribution".into(), json!({"tlp": {"label": csaf_label(general.tlp), "url": "https://www.first.org/tlp/"}}));
    let notes = doc.entry("notes").or_insert_with(|| json!([]));
    let notes = notes.as_array_mut().ok_or_else(|| invalid("document.notes", "is not a list"))?;
    notes.retain(|note| note.get("category").and_then(Value::as_str) != Some("summary"));
    notes.insert(0, json!({"category": "summary", "title": "Summary", "text": general.summary.trim()}));
    let mut kept: Vec<Value> = doc
        .get("references")
        .and_then(Value::as_array)
        .map(|refs| refs.iter().filter(|r| r.get("category").and_then(Value::as_str) == Some("self")).cloned().collect())
        .unwrap_or_default();
    kept.extend(references.as_array().cloned().unwrap_or_default());
    if kept.is_empty() {
        doc.remove("references");
    } else {
        doc.insert("references".into(), Value::Array(kept));
    }
    Ok(())
}

fn object_at<'a>(document: &'a mut Value, key: &str) -> Result<&'a mut Map<String, Value>, CirtError> {
    document
        .as_object_mut()
        .ok_or_else(|| invalid("document", "is not a JSON object"))?
        .entry(key)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| invalid(key, "is not a JSON object"))
}

/// Every product id the product tree defines, with its name.
pub fn products(document: &Value) -> Vec<(String, String)> {
    fn walk(node: &Value, out: &mut Vec<(String, String)>) {
        match node {
            Value::Object(map) => {
                if let (Some(Value::String(id)), Some(Value::String(name))) = (map.get("product_id"), map.get("name")) {
                    out.push((id.clone(), name.clone()));
                }
                for (key, value) in map {
                    if key != "product_id" {
                        walk(value, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(tree) = document.get("product_tree") {
        walk(tree, &mut out);
    }
    out
}

/// Adds vendor → product → version branches (reusing the vendor and product
/// branches that exist) and returns the new product's id.
pub fn add_product(document: &mut Value, product: &NewProduct) -> Result<String, CirtError> {
    let (vendor, name, version) = (product.vendor.trim(), product.product.trim(), product.version.trim());
    for (field, value) in [("vendor", vendor), ("product", name), ("version", version)] {
        if value.is_empty() {
            return Err(invalid(field, "must not be empty"));
        }
    }
    let full_name = format!("{vendor} {name} {version}");
    let existing = products(document);
    if existing.iter().any(|(_, n)| *n == full_name) {
        return Err(invalid("version", format!("{full_name} is already in the product tree")));
    }
    let next = existing.iter().filter_map(|(id, _)| id.strip_prefix("CSAFPID-")?.parse::<u32>().ok()).max().unwrap_or(0) + 1;
    let id = format!("CSAFPID-{next:04}");
    let tree = object_at(document, "product_tree")?;
    let branches = tree.entry("branches").or_insert_with(|| json!([]));
    let vendor_branch = child_branch(branches, "vendor", vendor)?;
    let product_branch = child_branch(vendor_branch, "product_name", name)?;
    product_branch
        .as_array_mut()
        .ok_or_else(|| invalid("product_tree.branches", "is not a list"))?
        .push(json!({"category": "product_version", "name": version, "product": {"name": full_name, "product_id": id}}));
    Ok(id)
}

/// The `branches` list under the branch of `category` named `name` in
/// `branches`, created if missing.
fn child_branch<'a>(branches: &'a mut Value, category: &str, name: &str) -> Result<&'a mut Value, CirtError> {
    let list = branches.as_array_mut().ok_or_else(|| invalid("product_tree.branches", "is not a list"))?;
    let position = list
        .iter()
        .position(|b| b.get("category").and_then(Value::as_str) == Some(category) && b.get("name").and_then(Value::as_str) == Some(name));
    let index = match position {
        Some(index) => index,
        None => {
            list.push(json!({"category": category, "name": name, "branches": []}));
            list.len() - 1
        }
    };
    let branch = list[index].as_object_mut().ok_or_else(|| invalid("product_tree.branches", "is not an object"))?;
    Ok(branch.entry("branches").or_insert_with(|| json!([])))
}

/// Removes a product version from the tree; refused while a vulnerability
/// refers to it.
pub fn remove_product(document: &mut Value, product_id: &str) -> Result<(), CirtError> {
    let used = document.get("vulnerabilities").map(|v| v.to_string().contains(&format!("\"{product_id}\""))).unwrap_or(false);
    if used {
        return Err(invalid("product_id", format!("{product_id} is used by a vulnerability; remove it there first")));
    }
    fn prune(branches: &mut Value, product_id: &str) -> bool {
        let Some(list) = branches.as_array_mut() else { return false };
        let before = list.len();
        list.retain(|b| b.pointer("/product/product_id").and_then(Value::as_str) != Some(product_id));
        let mut removed = list.len() != before;
        for branch in list.iter_mut() {
            if let Some(children) = branch.get_mut("branches") {
                removed |= prune(children, product_id);
            }
        }
        // Drop vendor and product branches left empty.
        list.retain(|b| b.get("product").is_some() || b.get("branches").and_then(Value::as_array).is_none_or(|c| !c.is_empty()));
        removed
    }
    let removed = document.pointer_mut("/product_tree/branches").map(|b| prune(b, product_id)).unwrap_or(false);
    if document.pointer("/product_tree/branches").and_then(Value::as_array).is_some_and(Vec::is_empty)
        && let Some(tree) = document.get_mut("product_tree").and_then(Value::as_object_mut)
    {
        tree.remove("branches");
        if tree.is_empty()
            && let Some(root) = document.as_object_mut()
        {
            root.remove("product_tree");
        }
    }
    if removed { Ok(()) } else { Err(invalid("product_id", format!("{product_id} is not a product version of this advisory"))) }
}

/// Adds a vulnerability; returns its index.
pub fn add_vulnerability(document: &mut Value, input: &NewVulnerability) -> Result<usize, CirtError> {
    let known: Vec<String> = products(document).into_iter().map(|(id, _)| id).collect();
    let title = input.title.trim();
    if title.is_empty() {
        return Err(invalid("title", "a vulnerability needs a title"));
    }
    if input.description.trim().is_empty() {
        return Err(invalid("description", "describe the vulnerability"));
    }
    if input.known_affected.is_empty() {
        return Err(invalid("known_affected", "choose at least one affected product"));
    }
    for (field, ids) in [("known_affected", &input.known_affected), ("fixed", &input.fixed)] {
        if let Some(unknown) = ids.iter().find(|id| !known.contains(id)) {
            return Err(invalid(field, format!("{unknown} is not in the product tree")));
        }
    }
    if let Some(both) = input.known_affected.iter().find(|id| input.fixed.contains(id)) {
        return Err(invalid("fixed", format!("{both} cannot be both affected and fixed")));
    }
    let mut vulnerability = json!({
        "title": title,
        "notes": [{"category": "description", "title": "Description", "text": input.description.trim()}],
    });
    if let Some(cve) = input.cve.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        let cve = cve.to_ascii_uppercase();
        let well_formed = cve.strip_prefix("CVE-").and_then(|rest| rest.split_once('-')).is_some_and(|(year, number)| {
            year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) && number.len() >= 4 && number.chars().all(|c| c.is_ascii_digit())
        });
        if !well_formed {
            return Err(invalid("cve", format!("`{cve}` is not a CVE id (CVE-2026-12345)")));
        }
        let repeated = document
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().any(|v| v.get("cve").and_then(Value::as_str) == Some(cve.as_str())));
        if repeated {
            return Err(invalid("cve", format!("{cve} is already in this advisory")));
        }
        vulnerability["cve"] = json!(cve);
    }
    if let Some(cwe) = input.cwe.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        let id = if cwe.to_ascii_uppercase().starts_with("CWE-") { cwe.to_ascii_uppercase() } else { format!("CWE-{cwe}") };
        let name = csaf::cwe_name(&id).ok_or_else(|| invalid("cwe", format!("{id} is not a CWE weakness")))?;
        vulnerability["cwe"] = json!({"id": id, "name": name});
    }
    let mut status = Map::new();
    status.insert("known_affected".into(), json!(input.known_affected));
    if !input.fixed.is_empty() {
        status.insert("fixed".into(), json!(input.fixed));
    }
    vulnerability["product_status"] = Value::Object(status);
    let mut score = Map::new();
    for (field, vector) in [("cvss_v3", &input.cvss_v3), ("cvss_v4", &input.cvss_v4)] {
        if let Some(vector) = vector.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let (key, object) = cvss_object(vector).map_err(|message| invalid(field, message))?;
            if key != field {
                return Err(invalid(field, format!("`{vector}` is not a CVSS {} vector", &field[6..])));
            }
            score.insert(key.into(), object);
        }
    }
    if !score.is_empty() {
        score.insert("products".into(), json!(input.known_affected));
        vulnerability["scores"] = json!([score]);
    }
    if let Some(remediation) = &input.remediation {
        if !REMEDIATION_CATEGORIES.contains(&remediation.category.as_str()) {
            return Err(invalid("remediation.category", format!("one of {}", REMEDIATION_CATEGORIES.join(", "))));
        }
        if remediation.details.trim().is_empty() {
            return Err(invalid("remediation.details", "say what to do"));
        }
        let mut object =
            json!({"category": remediation.category, "details": remediation.details.trim(), "product_ids": input.known_affected});
        if let Some(url) = remediation.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            check_url("remediation.url", url)?;
            object["url"] = json!(url);
        }
        vulnerability["remediations"] = json!([object]);
    }
    let references = references_json("references", &input.references)?;
    if references.as_array().is_some_and(|r| !r.is_empty()) {
        vulnerability["references"] = references;
    }
    let list = document
        .as_object_mut()
        .ok_or_else(|| invalid("document", "is not a JSON object"))?
        .entry("vulnerabilities")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or_else(|| invalid("vulnerabilities", "is not a list"))?;
    list.push(vulnerability);
    Ok(list.len() - 1)
}

pub fn remove_vulnerability(document: &mut Value, index: usize) -> Result<(), CirtError> {
    let list = document.get_mut("vulnerabilities").and_then(Value::as_array_mut);
    match list {
        Some(list) if index < list.len() => {
            list.remove(index);
            if list.is_empty()
                && let Some(root) = document.as_object_mut()
            {
                root.remove("vulnerabilities");
            }
            Ok(())
        }
        _ => Err(invalid("vulnerability", format!("there is no vulnerability {}", index + 1))),
    }
}

/// The next version after `version` in the document's versioning scheme.
fn next_version(version: Option<&str>) -> String {
    match version {
        None => "1".into(),
        Some(v) => {
            if let Ok(n) = v.parse::<u64>() {
                return (n + 1).to_string();
            }
            // Semantic versioning: a release bumps the major number.
            let major = v.split(['.', '-', '+']).next().and_then(|m| m.parse::<u64>().ok()).unwrap_or(0);
            format!("{}.0.0", major + 1)
        }
    }
}

/// Sorts versions the way CSAF does: integers numerically, semantic
/// versions by their numeric parts.
fn version_key(version: &str) -> Vec<u64> {
    version.split(['-', '+']).next().unwrap_or("").split('.').map(|part| part.parse().unwrap_or(0)).collect()
}

/// The document as released at `now`: status final, the next version, a
/// revision-history entry with `summary`, release dates set. A draft's own
/// provisional history entry is replaced, not kept. Fails with every problem
/// the CSAF checks find, so nothing invalid is ever published.
pub fn release(document: &Value, summary: &str, now: DateTime<Utc>) -> Result<Value, Vec<Problem>> {
    let summary = summary.trim();
    if summary.is_empty() {
        return Err(vec![Problem { test: "input".into(), path: "summary".into(), message: "say what changed in this revision".into() }]);
    }
    let mut out = document.clone();
    let now_text = time::format(now);
    let tracking = out.pointer("/document/tracking").cloned().unwrap_or(Value::Null);
    let status = tracking.get("status").and_then(Value::as_str).unwrap_or("draft");
    let current = tracking.get("version").and_then(Value::as_str);
    let mut history: Vec<Value> = tracking.get("revision_history").and_then(Value::as_array).cloned().unwrap_or_default();
    if status == "draft" {
        history.retain(|entry| entry.get("number").and_then(Value::as_str) != current);
    }
    let released_before = !history.is_empty();
    let latest = history.iter().filter_map(|e| e.get("number").and_then(Value::as_str)).max_by_key(|v| version_key(v)).map(str::to_owned);
    let version = next_version(latest.as_deref());
    history.push(json!({"number": version, "date": now_text, "summary": summary}));
    if let Some(tracking) = out.pointer_mut("/document/tracking").and_then(Value::as_object_mut) {
        tracking.insert("status".into(), json!("final"));
        tracking.insert("version".into(), json!(version));
        tracking.insert("current_release_date".into(), json!(now_text));
        if !released_before {
            tracking.insert("initial_release_date".into(), json!(now_text));
        }
        tracking.insert("revision_history".into(), Value::Array(history));
    }
    let problems = csaf::check(&out);
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// What lists and pages show of an advisory.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Digest {
    pub tracking_id: String,
    pub title: String,
    pub version: String,
    pub status: String,
    pub tlp: Option<Tlp>,
    pub initial_release_date: String,
    pub current_release_date: String,
    pub cves: Vec<String>,
    /// The highest base score in the document and its severity.
    pub max_score: Option<f64>,
    pub severity: Option<String>,
    /// The year folder of the provider layout (of the initial release).
    pub year: i32,
}

pub fn digest(document: &Value) -> Digest {
    let text = |pointer: &str| document.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_owned();
    let vulnerabilities = document.get("vulnerabilities").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut best: Option<(f64, String)> = None;
    for vulnerability in &vulnerabilities {
        for score in vulnerability.get("scores").and_then(Value::as_array).into_iter().flatten() {
            for key in ["cvss_v4", "cvss_v3", "cvss_v2"] {
                if let Some(value) = score.pointer(&format!("/{key}/baseScore")).and_then(Value::as_f64)
                    && best.as_ref().is_none_or(|(b, _)| value > *b)
                {
                    let severity = score.pointer(&format!("/{key}/baseSeverity")).and_then(Value::as_str).unwrap_or("").to_owned();
                    best = Some((value, severity));
                }
            }
        }
    }
    let initial = text("/document/tracking/initial_release_date");
    let year = time::parse(&initial)
        .map(|t| t.year())
        .or_else(|| DateTime::<Utc>::from_str(&initial).ok().map(|t| t.year()))
        .or_else(|| DateTime::parse_from_rfc3339(&initial).ok().map(|t| t.with_timezone(&Utc).year()))
        .unwrap_or(1970);
    Digest {
        tracking_id: text("/document/tracking/id"),
        title: text("/document/title"),
        version: text("/document/tracking/version"),
        status: text("/document/tracking/status"),
        tlp: tlp_of(document),
        initial_release_date: initial,
        current_release_date: text("/document/tracking/current_release_date"),
        cves: vulnerabilities.iter().filter_map(|v| v.get("cve").and_then(Value::as_str).map(str::to_owned)).collect(),
        max_score: best.as_ref().map(|(score, _)| *score),
        severity: best.map(|(_, severity)| severity),
        year,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        time::parse("2026-11-28T10:00:00.000Z").expect("time")
    }

    fn publisher() -> Publisher {
        Publisher { name: "CIRT Kenya".into(), namespace: "https://cirt.example".into(), contact_details: None }
    }

    fn general() -> General {
        General {
            title: "Remote code execution in Example Router".into(),
            tlp: Tlp::Clear,
            summary: "An attacker on the network can run code on the router.".into(),
            lang: "en".into(),
            references: vec![],
        }
    }

    fn vulnerability(affected: &str) -> NewVulnerability {
        NewVulnerability {
            title: "Command injection in the web interface".into(),
            description: "The diagnostics page passes input to a shell.".into(),
            cve: Some("cve-2026-12345".into()),
            cwe: Some("78".into()),
            cvss_v3: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()),
            cvss_v4: Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".into()),
            known_affected: vec![affected.into()],
            fixed: vec![],
            remediation: Some(NewRemediation {
                category: "vendor_fix".into(),
                details: "Update to 2.1.".into(),
                url: Some("https://vendor.example/fw".into()),
            }),
            references: vec![],
        }
    }

    #[test]
    fn a_written_advisory_releases_as_a_valid_csaf_document() {
        let mut doc = new_document(&publisher(), "CIRT-KE-2026-0001", &general(), now()).expect("new");
        let id =
            add_product(&mut doc, &NewProduct { vendor: "Example".into(), product: "Router".into(), version: "2.0".into() }).expect("add");
        assert_eq!(id, "CSAFPID-0001");
        let second =
            add_product(&mut doc, &NewProduct { vendor: "Example".into(), product: "Router".into(), version: "2.1".into() }).expect("add");
        assert_eq!(second, "CSAFPID-0002");
        assert_eq!(doc["product_tree"]["branches"].as_array().map(Vec::len), Some(1), "vendor branch reused");
        let mut input = vulnerability(&id);
        input.fixed = vec![second.clone()];
        add_vulnerability(&mut doc, &input).expect("vulnerability");
        let vuln = &doc["vulnerabilities"][0];
        assert_eq!(vuln["cve"], "CVE-2026-12345");
        assert_eq!(vuln["cwe"]["name"], "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')");
        assert_eq!(vuln["scores"][0]["cvss_v3"]["baseScore"], 9.8);
        assert_eq!(vuln["scores"][0]["cvss_v4"]["baseScore"], 9.3);
        assert_eq!(vuln["scores"][0]["cvss_v4"]["baseSeverity"], "CRITICAL");

        let released = release(&doc, "Initial public release.", now()).expect("valid");
        assert_eq!(released["document"]["tracking"]["status"], "final");
        assert_eq!(released["document"]["tracking"]["version"], "1");
        assert_eq!(released["document"]["tracking"]["revision_history"].as_array().map(Vec::len), Some(1));
        let later = now() + chrono::Duration::days(2);
        let again = release(&released, "Fixed version added.", later).expect("valid");
        assert_eq!(again["document"]["tracking"]["version"], "2");
        assert_eq!(again["document"]["tracking"]["initial_release_date"], "2026-11-28T10:00:00.000Z");
        assert_eq!(again["document"]["tracking"]["current_release_date"], time::format(later));
        let digest = digest(&again);
        assert_eq!((digest.max_score, digest.severity.as_deref(), digest.year), (Some(9.8), Some("CRITICAL"), 2026));
        assert_eq!(digest.cves, vec!["CVE-2026-12345".to_owned()]);
    }

    #[test]
    fn bad_input_is_refused_by_field() {
        let mut doc = new_document(&publisher(), "X-1", &general(), now()).expect("new");
        let id = add_product(&mut doc, &NewProduct { vendor: "V".into(), product: "P".into(), version: "1".into() }).expect("add");
        type Change = Box<dyn Fn(&mut NewVulnerability)>;
        let cases: Vec<(&str, Change)> = vec![
            ("cve", Box::new(|v| v.cve = Some("CVE-26-1".into()))),
            ("cwe", Box::new(|v| v.cwe = Some("CWE-1".into()))),
            ("cvss_v3", Box::new(|v| v.cvss_v3 = Some("CVSS:3.1/AV:N".into()))),
            ("cvss_v4", Box::new(|v| v.cvss_v4 = Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into()))),
            ("known_affected", Box::new(|v| v.known_affected = vec!["CSAFPID-9999".into()])),
            ("known_affected", Box::new(|v| v.known_affected.clear())),
            ("remediation.category", Box::new(|v| v.remediation.as_mut().expect("r").category = "pray".into())),
        ];
        for (field, change) in cases {
            let mut input = vulnerability(&id);
            change(&mut input);
            let before = doc.clone();
            match add_vulnerability(&mut doc, &input) {
                Err(CirtError::Field { path, .. }) => assert_eq!(path, field),
                other => panic!("{field}: {other:?}"),
            }
            assert_eq!(doc, before, "{field}: nothing changed");
        }
        assert!(matches!(set_general(&mut doc, &General { title: " ".into(), ..general() }), Err(CirtError::Field { .. })));
        // A release without vulnerabilities is not a security advisory.
        let problems = release(&new_document(&publisher(), "X-2", &general(), now()).expect("new"), "First.", now()).expect_err("invalid");
        assert!(problems.iter().any(|p| p.test.starts_with("6.1.27")), "{problems:#?}");
    }

    #[test]
    fn products_in_use_stay_and_empty_branches_go() {
        let mut doc = new_document(&publisher(), "X-1", &general(), now()).expect("new");
        let a = add_product(&mut doc, &NewProduct { vendor: "V".into(), product: "P".into(), version: "1".into() }).expect("add");
        let b = add_product(&mut doc, &NewProduct { vendor: "W".into(), product: "Q".into(), version: "2".into() }).expect("add");
        add_vulnerability(&mut doc, &vulnerability(&a)).expect("vulnerability");
        assert!(remove_product(&mut doc, &a).is_err());
        remove_product(&mut doc, &b).expect("unused product removed");
        assert_eq!(doc["product_tree"]["branches"].as_array().map(Vec::len), Some(1), "vendor W gone");
        remove_vulnerability(&mut doc, 0).expect("removed");
        remove_product(&mut doc, &a).expect("now unused");
        assert_eq!(products(&doc), vec![]);
    }

    #[test]
    fn file_names_follow_section_5_1() {
        assert_eq!(file_name("RHSA-2019:1862"), "rhsa-2019_1862.json");
        assert_eq!(file_name("CIRT KE/2026#1"), "cirt_ke_2026_1.json");
        assert_eq!(tlp_folder(Tlp::AmberStrict), "amber");
        assert_eq!(tlp_from_csaf(csaf_label(Tlp::Green)), Some(Tlp::Green));
    }
}
